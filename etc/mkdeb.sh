#!/bin/sh
# mkdeb.sh [BUILD [OUTDIR]] - Debian's correo package from etc/correo-files:
# OUTDIR/correo_VERSION_ARCH.deb (OUTDIR defaults to BUILD, BUILD to
# build), with dpkg-deb alone.  "make deb" runs it after "make".
#
# The tree is what etc/install.sh installs with PREFIX=/usr.  dpkg-deb
# packs it as root:root; the entries etc/correo-files gives to anyone
# else are packed without their set-group-ID and sticky bits, and the
# maintainer scripts (etc/deb/) create the users and groups and register
# the manifest's owners and modes with dpkg-statoverride.  Type "c"
# entries become conffiles.  Depends comes from the programs' NEEDED
# libraries: dpkg-shlibdeps when dpkg-dev is there (versioned), else
# the package dpkg -S names for each.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
build=${1:-build}
out=${2:-$build}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() { echo "mkdeb: $*" >&2; exit 1; }

for b in sendmail mailq newaliases runq smtpd-lite; do
	[ -x "$build/$b" ] || die "missing $build/$b (make first)"
done

# 0.1 from the Makefile; in a git checkout, +gitN.HASH after it (N
# commits, so that later builds sort later)
version=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)
[ -n "$version" ] || die "no VERSION in the Makefile"
if n=$(git rev-list --count HEAD 2>/dev/null) &&
    h=$(git rev-parse --short HEAD 2>/dev/null); then
	version="$version+git$n.$h"
fi
arch=$(dpkg --print-architecture)
maint=${DEB_MAINTAINER:-}
if [ -z "$maint" ]; then
	name=$(git config user.name 2>/dev/null || :)
	mail=$(git config user.email 2>/dev/null || :)
	maint="${name:-correo maintainers} <${mail:-root@localhost}>"
fi

# The package's tree is stage/debian/correo, with its DEBIAN, where
# dpkg-shlibdeps looks for it.
stage=$out/deb-stage
root=$stage/debian/correo
rm -rf "$stage"
mkdir -p "$root/DEBIAN"
sh etc/install.sh "$root" /usr "$build" >/dev/null
rm -f "$root/.correo-owners"

entries() {
	grep -v '^#' etc/correo-files | grep . | sed 's|@PREFIX@|/usr|g'
}

# Not root:root: packed as root:root without the special bits (no
# set-group-ID root sendmail between unpack and postinst), listed for
# the maintainer scripts.
owners=$stage/owners
entries | while IFS=: read -r path type owner group mode _src; do
	[ "$type" != l ] || continue
	[ "$owner:$group" != root:root ] || continue
	chmod ug-s,o-t "$root$path"
	echo "$path $owner $group $mode"
done >"$owners"

# Programs as dh_strip leaves them
strip=$(command -v strip || :)
entries | while IFS=: read -r path type _o _g _m source; do
	case $type:$source in
	f:build/*)
		[ -z "$strip" ] || "$strip" --remove-section=.comment \
		    --remove-section=.note --strip-unneeded "$root$path"
		echo "$root$path" ;;
	esac
done >"$stage/programs"

# package_of PATH - the package that holds PATH, or nothing (with
# merged /usr, dpkg knows a library by /lib or by /usr/lib)
package_of() {
	for _f in "$1" "$(readlink -f "$1")"; do
		_p=$(dpkg -S "$_f" 2>/dev/null | head -n 1)
		[ -z "$_p" ] || { echo "${_p%%:*}"; return; }
	done
}

# shlibs_needed - the package that holds each NEEDED library of the
# programs on this machine
shlibs_needed() {
	for prog in $(cat "$stage/programs"); do
		for lib in $(objdump -p "$prog" | sed -n 's/^ *NEEDED *//p'); do
			path=$(ldd "$prog" | sed -n \
			    "s|^[[:space:]]*$lib => \\([^ ]*\\) .*|\\1|p")
			[ -n "$path" ] || die "$prog: $lib not found"
			pkg=$(package_of "$path")
			[ -n "$pkg" ] || die "$prog: no package holds $path"
			echo "$pkg" >>"$stage/shlibs"
		done
	done
	sort -u "$stage/shlibs" | paste -sd, - | sed 's/,/, /g'
}
if command -v dpkg-shlibdeps >/dev/null; then
	: >"$stage/debian/control"	# it need only exist
	shlibs=$(cd "$stage" && dpkg-shlibdeps -O $(sed "s|^$stage/||" \
	    programs)) || die "dpkg-shlibdeps failed"
	shlibs=${shlibs#shlibs:Depends=}
else
	: >"$stage/shlibs"
	shlibs_needed >"$stage/depends"
	shlibs=$(cat "$stage/depends")
fi
[ -n "$shlibs" ] || die "no shared library dependencies found"

# libidn2 is opened at run time (common/idn.c), when a domain needs it
idn=$(sed -n 's/^#define[[:space:]]*IDN_SONAME[[:space:]]*"\(.*\)"/\1/p' \
    common/idn.h)
idnpkg=
if idnpath=$(ldconfig -p | sed -n "s|^[[:space:]]*$idn (.*) => ||p" |
    head -n 1) && [ -n "$idnpath" ]; then
	idnpkg=$(package_of "$idnpath")
fi

for s in postinst prerm postrm; do
	awk -v list="$owners" '
		$0 == "@OWNERS@" {
			while ((getline l < list) > 0) print l
			next
		}
		{ print }' "etc/deb/$s" >"$root/DEBIAN/$s"
	chmod 0755 "$root/DEBIAN/$s"
done
entries | while IFS=: read -r path type _rest; do
	[ "$type" != c ] || echo "$path"
done >"$root/DEBIAN/conffiles"
sed 's|^/||' "$root/DEBIAN/conffiles" >"$stage/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print |
    sed 's|^\./||' | sort | grep -vxF -f "$stage/conffiles" -e "" |
    xargs md5sum) >"$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

cat >"$root/DEBIAN/control" <<EOF
Package: correo
Version: $version
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: adduser, $shlibs
${idnpkg:+Recommends: $idnpkg
}Provides: mail-transport-agent
Conflicts: mail-transport-agent
Replaces: mail-transport-agent
Section: mail
Priority: optional
Description: sendmail-compatible mail transport agent, no resident daemon
 correo queues mail with a set-group-ID sendmail and delivers it with
 runq, which systemd (or cron) starts when mail arrives; smtpd-lite
 receives mail on ports 25, 587 and 465, one process per connection,
 under systemd socket activation or inetd.  mailq shows and manages
 the queue, newaliases builds the aliases database.
 .
 Its one configuration file, /etc/correo/correo.conf, has Postfix's
 main.cf syntax and parameter names.
EOF

deb=$out/correo_${version}_${arch}.deb
dpkg-deb --root-owner-group -b "$root" "$deb" >/dev/null
rm -rf "$stage"
echo "$deb"
