#!/bin/sh
# install.sh DESTDIR PREFIX BUILD - install what etc/correo-files lists.
# As root the owners, groups and modes are set as listed (the users and
# groups must exist: see INSTALL); as anyone else (a DESTDIR for a
# package or a test) the modes are set and the owners are written to
# DESTDIR/.correo-owners for whoever packs the tree.
set -eu
destdir=$1
prefix=${2:-/usr}
build=${3:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
root=0
[ "$(id -u)" = 0 ] && root=1
owners=
if [ -n "$destdir" ]; then
	mkdir -p "$destdir"
	owners="$destdir/.correo-owners"
	: >"$owners"
fi

grep -v '^#' etc/correo-files | grep . | while IFS=: read -r path type owner group mode source; do
	path=$(printf '%s' "$path" | sed "s|@PREFIX@|$prefix|g")
	source=$(printf '%s' "${source:-}" | sed -e "s|@PREFIX@|$prefix|g" -e "s|^build/|$build/|")
	dst=$destdir$path
	case $type in
	d)	mkdir -p "$dst" ;;
	f)	mkdir -p "$(dirname "$dst")"
		[ -f "$source" ] || { echo "install: missing $source (make first)" >&2; exit 1; }
		case $source in
		etc/*)	# text: units and the like name programs under PREFIX
			sed "s|@PREFIX@|$prefix|g" "$source" >"$dst.new" ;;
		*)	cp "$source" "$dst.new" ;;
		esac && mv -f "$dst.new" "$dst" ;;
	c)	mkdir -p "$(dirname "$dst")"
		if [ -e "$dst" ]; then
			echo "install: keeping existing $path"
			continue
		fi
		sed "s|@PREFIX@|$prefix|g" "$source" >"$dst" ;;
	l)	mkdir -p "$(dirname "$dst")"
		ln -sfn "$source" "$dst"
		continue ;;
	*)	echo "install: bad type $type for $path" >&2; exit 1 ;;
	esac
	if [ $root = 1 ] && chown "$owner:$group" "$dst" 2>/dev/null; then
		:
	elif [ -n "$destdir" ]; then
		echo "$path:$owner:$group" >>"$owners"
	else
		echo "install: cannot give $path to $owner:$group: create" \
		    "the user and groups first (INSTALL)" >&2
		exit 1
	fi
	chmod "$mode" "$dst"
done
echo "installed into ${destdir:-/} (PREFIX=$prefix)"
