#!/bin/sh
test_description='make deb: the package, then apt installs it in place of Postfix in a debootstrap chroot, and Postfix back in its place'
. "$(dirname "$0")/test-lib.sh"

# The package is checked as anyone; the chroot (debootstrap, apt,
# chroot(8)) needs root, debootstrap, and the Debian mirror this
# machine's apt uses for its own release.  After debootstrap nothing is
# downloaded: apt installs only the .deb and what debootstrap cached.

[ -n "$CORREO_ASAN" ] &&
	skip_all 'the package is made from the plain build: make check runs this'
command -v dpkg-deb >/dev/null || skip_all 'needs dpkg-deb (Debian)'

# manifest - etc/correo-files without comments, PREFIX=/usr
manifest() {
	grep -v '^#' "$SRC_DIR/etc/correo-files" | grep . | sed 's|@PREFIX@|/usr|g'
}

# deb_mirror CODENAME - the first URI of an enabled "deb" source for
# the suite CODENAME in this machine's apt sources (deb822 or one-line)
deb_mirror() {
	{
		for _f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$_f" ] || continue
			awk -v c="$1" 'BEGIN { RS = "" }
			{
				types = uris = suites = ""; on = 1
				n = split($0, line, "\n")
				for (i = 1; i <= n; i++) {
					if (line[i] !~ /^[A-Za-z-]+:/)
						continue
					j = index(line[i], ":")
					k = tolower(substr(line[i], 1, j - 1))
					v = " " substr(line[i], j + 1) " "
					gsub(/[ \t]+/, " ", v)
					if (k == "types") types = v
					else if (k == "uris") uris = v
					else if (k == "suites") suites = v
					else if (k == "enabled") on = (v !~ / no /)
				}
				if (on && types ~ / deb / && index(suites, " " c " ")) {
					split(uris, u, " ")
					print u[1]
				}
			}' "$_f"
		done
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		    2>/dev/null | sed -e 's/#.*//' -e 's/\[[^]]*\]//' |
		awk -v c="$1" '$1 == "deb" && $3 == c { print $2 }'
	} | head -n 1
}

chr=$TRASH/chroot
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
mirror=
why=
if ! test_have_prereq ROOT; then
	why='needs root: debootstrap, chroot, apt'
elif ! command -v debootstrap >/dev/null; then
	why='needs debootstrap (sh .ci/deps test installs it)'
elif [ -z "$codename" ]; then
	why='no VERSION_CODENAME in /etc/os-release'
elif ! mirror=$(deb_mirror "$codename") || [ -z "$mirror" ]; then
	why="no apt source for $codename on this machine"
elif ! timeout 40 wget -q -T 15 -t 2 -O /dev/null \
    "$mirror/dists/$codename/Release"; then
	why="the Debian mirror of this machine's apt is unreachable"
else
	test_set_prereq CHROOT
fi
[ -z "$why" ] || say "the chroot tests are skipped: $why"

# chroot_cleanup - what the chroot left: processes of this test whose
# root it is, mounts (debootstrap's, should it have been killed), then
# the tree, never across a file system boundary
chroot_cleanup() {
	[ -d "$chr" ] || return 0
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/root" 2>/dev/null)" = "$chr" ] &&
			kill -9 "${_p#/proc/}" 2>/dev/null
	done
	awk -v r="$chr" '$2 == r || index($2, r "/") == 1 { print $2 }' \
	    /proc/mounts | sort -r | while read -r _m; do
		umount "$_m" 2>/dev/null || umount -l "$_m"
	done
	rm -rf --one-file-system "$chr"
}
test_atexit chroot_cleanup

# in_chroot [--userspec=U:G] CMD... - CMD in the chroot, with a clean
# environment and at most two minutes
in_chroot() {
	_spec=
	case $1 in --userspec=*) _spec=$1; shift ;; esac
	timeout -k 5 120 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root LANG=C DEBIAN_FRONTEND=noninteractive \
	    chroot $_spec "$chr" "$@"
}

# installed PKG - the package's dpkg status in the chroot
installed() {
	in_chroot dpkg-query -W -f='${Status}' "$1" 2>/dev/null
}

# apt_in_chroot PKG... - apt-get install in the chroot, its log shown
# when it fails
apt_in_chroot() {
	in_chroot apt-get -o Dpkg::Use-Pty=0 install -y "$@" >apt.log 2>&1 ||
		{ tail -n 30 apt.log; return 1; }
}

# others_stay - bsd-mailx, cron and logwatch are still installed
others_stay() {
	for _p in bsd-mailx cron logwatch; do
		test "$(installed $_p)" = "install ok installed" ||
			{ echo "$_p: $(installed $_p)"; return 1; }
	done
}

# spool_count - the messages in the chroot's spool
spool_count() {
	find "$chr/var/spool/correo/incoming" "$chr/var/spool/correo/queue" \
	    "$chr/var/spool/correo/hold" -type f ! -name '.*' | wc -l
}

test_expect_success 'the package is built from the install manifest' '
	sh "$SRC_DIR/etc/mkdeb.sh" "$CORREO_BUILD" "$TRASH/pkg" >out &&
	deb=$(cat out) && test -f "$deb" &&
	case $deb in "$TRASH"/pkg/correo_*_$(dpkg --print-architecture).deb) ;;
	*) echo "unexpected name $deb"; false ;; esac &&
	for f in Provides Conflicts Replaces; do
		test "$(dpkg-deb -f "$deb" $f)" = mail-transport-agent ||
			{ echo "$f: $(dpkg-deb -f "$deb" $f)"; return 1; }
	done &&
	test "$(dpkg-deb -f "$deb" Package)" = correo &&
	test "$(dpkg-deb -f "$deb" Section)" = mail &&
	test "$(dpkg-deb -f "$deb" Priority)" = optional &&
	test_path_is_missing "$TRASH/pkg/deb-stage"
'
deb=$(ls "$TRASH"/pkg/correo_*.deb 2>/dev/null | head -n 1)

test_expect_success 'every manifest entry is in the package; "c" entries are its conffiles' '
	dpkg-deb -c "$deb" | awk "{ print \$6 }" | sed "s|^\./|/|; s|/\$||" |
	sort >contents &&
	manifest | cut -d: -f1 | sort >want &&
	comm -13 contents want >missing && test_cmp /dev/null missing &&
	dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | sort >conffiles &&
	manifest | awk -F: "\$2 == \"c\" { print \$1 }" | sort >want &&
	test_cmp want conffiles
'

test_expect_success 'the owners of the manifest go to the maintainer scripts; no set-group-ID root' '
	manifest | awk -F: "\$2 != \"l\" && \$3 \":\" \$4 != \"root:root\" {
		print \$1, \$3, \$4, \$5 }" >want &&
	test -s want &&
	dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst >postinst &&
	grep -xF -f want postinst >got && test_cmp want got &&
	dpkg-deb -c "$deb" | awk "\$1 ~ /[sStT]/" >special &&
	test_cmp /dev/null special
'

test_expect_success 'Depends names the package of every library the programs need' '
	dpkg-deb -x "$deb" x &&
	depends=$(dpkg-deb -f "$deb" Depends) &&
	for p in sendmail mailq newaliases runq smtpd-lite; do
		for lib in $(objdump -p x/usr/lib/correo/$p |
		    sed -n "s/^ *NEEDED *//p"); do
			path=$(ldd "$CORREO_BUILD/$p" |
			    sed -n "s|^[[:space:]]*$lib => \([^ ]*\) .*|\1|p") &&
			pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1) &&
			{ [ -n "$pkg" ] || pkg=$(dpkg -S "$(readlink -f \
			    "$path")" | head -n 1); } &&
			pkg=${pkg%%:*} && test -n "$pkg" &&
			case ", $depends," in
			*", $pkg "*|*", $pkg,"*) ;;
			*) echo "$p needs $lib of $pkg: not in $depends"
			   return 1 ;;
			esac || return 1
		done
	done
'

test_expect_success CHROOT "debootstrap: Debian $codename with Postfix, bsd-mailx, cron and logwatch" '
	timeout -k 10 180 debootstrap --variant=minbase \
	    --include=postfix,bsd-mailx,cron,logwatch \
	    "$codename" "$chr" "$mirror" >debootstrap.log 2>&1 ||
		{ tail -n 20 debootstrap.log; false; } &&
	test "$(installed postfix)" = "install ok installed" &&
	test -f "$chr/etc/postfix/main.cf" &&
	printf "#!/bin/sh\nexit 101\n" >"$chr/usr/sbin/policy-rc.d" &&
	chmod 755 "$chr/usr/sbin/policy-rc.d"
'

test_expect_success CHROOT 'apt installs correo: Postfix goes, bsd-mailx, cron and logwatch stay' '
	cp "$deb" "$chr/tmp/" &&
	apt_in_chroot "/tmp/${deb##*/}" &&
	test "$(installed correo)" = "install ok installed" &&
	test "$(installed postfix)" = "deinstall ok config-files" &&
	others_stay
'

test_expect_success CHROOT '/usr/sbin/sendmail and mailq are correo'"'"'s' '
	test "$(in_chroot readlink -f /usr/sbin/sendmail)" = /usr/lib/correo/sendmail &&
	test "$(in_chroot readlink -f /usr/lib/sendmail)" = /usr/lib/correo/sendmail &&
	in_chroot dpkg -S /usr/sbin/sendmail /usr/bin/mailq >owner &&
	test "$(cut -d: -f1 owner | sort -u)" = correo
'

test_expect_success CHROOT 'the users and groups of the manifest exist; correo is in ssl-cert' '
	manifest | awk -F: "\$3 != \"root\" { print \$3 }" | sort -u >users &&
	manifest | awk -F: "\$4 != \"root\" { print \$4 }" | sort -u >groups &&
	test -s users && test -s groups &&
	while read -r u; do
		grep "^$u:" "$chr/etc/passwd" || { echo "no user $u"; return 1; }
	done <users &&
	while read -r g; do
		grep "^$g:" "$chr/etc/group" || { echo "no group $g"; return 1; }
	done <groups &&
	in_chroot id -nG correo | tr " " "\n" | grep -x ssl-cert
'

test_expect_success CHROOT 'every manifest entry has its type, owner, group and mode in the chroot' '
	manifest | while IFS=: read -r path type owner group mode source; do
		f=$chr$path
		case $type in
		l) test "$(readlink "$f")" = "$source" ||
			{ echo "$path: link to $(readlink "$f"), want $source"
			  return 1; }
		   continue ;;
		d) test -d "$f" || { echo "$path: not a directory"; return 1; } ;;
		f|c) test -f "$f" || { echo "$path: not a file"; return 1; } ;;
		esac
		got=$(in_chroot stat -c "%U:%G %a" "$path") &&
		want="$owner:$group $(echo "$mode" | sed "s/^0*//")" &&
		test "$got" = "$want" ||
			{ echo "$path: $got, want $want"; return 1; }
	done &&
	test -g "$chr/usr/lib/correo/sendmail" &&
	test -k "$chr/var/spool/correo/incoming"
'

test_expect_success CHROOT 'the units are enabled as debhelper would; the submission ports are not' '
	for u in correo-runq.path correo-runq.timer correo-smtpd.socket; do
		wb=$(sed -n "s/^WantedBy=//p" "$SRC_DIR/etc/$u") &&
		l=$chr/etc/systemd/system/$wb.wants/$u &&
		test -L "$l" && test -f "$chr$(readlink "$l")" ||
			{ echo "$u: no $l"; return 1; }
	done &&
	find "$chr/etc/systemd" -name "correo-submission*" >enabled &&
	test_cmp /dev/null enabled
'

test_expect_success CHROOT 'postinst wrote /etc/mailname and built the aliases' '
	test -s "$chr/etc/mailname" &&
	test -f "$chr/etc/aliases" && test -s "$chr/etc/aliases.cdb"
'

test_expect_success CHROOT 'sendmail queues, as root and as nobody; mailq lists the mail' '
	test "$(spool_count)" = 0 &&
	echo "Subject: from root" | in_chroot /usr/sbin/sendmail root &&
	test "$(spool_count)" = 1 &&
	echo "Subject: from nobody" |
	    in_chroot --userspec=nobody:nogroup /usr/sbin/sendmail root &&
	test "$(spool_count)" = 2 &&
	f=$(grep -rl "^Subject: from nobody" "$chr/var/spool/correo") &&
	test "$(in_chroot stat -c %U:%G "${f#$chr}")" = nobody:correo-drop &&
	in_chroot mailq >mailq &&
	for f in $(find "$chr/var/spool/correo" -type f ! -name ".*"); do
		test_grep "^${f##*/} " mailq || return 1
	done &&
	test_grep "in 2 Requests" mailq
'

test_expect_success CHROOT 'bsd-mailx sends through correo'"'"'s sendmail' '
	echo body | in_chroot mail -s "through mailx" root &&
	test "$(spool_count)" = 3 &&
	grep -rl "^Subject: through mailx" "$chr/var/spool/correo" &&
	in_chroot mailq >mailq && test_grep "in 3 Requests" mailq
'

test_expect_success CHROOT 'apt puts Postfix back in place of correo; the queued mail stays' '
	apt_in_chroot --no-download --no-install-recommends postfix &&
	test "$(installed postfix)" = "install ok installed" &&
	test "$(installed correo)" = "deinstall ok config-files" &&
	others_stay &&
	in_chroot dpkg -S /usr/sbin/sendmail >owner && test_grep "^postfix: " owner &&
	test_path_is_missing "$chr/usr/lib/correo/sendmail" &&
	test -f "$chr/etc/correo/correo.conf" &&
	test "$(spool_count)" = 3
'

test_expect_success CHROOT 'purge: the spool, the configuration, the owners and the units go; the users stay' '
	in_chroot apt-get -o Dpkg::Use-Pty=0 purge -y correo >apt.log 2>&1 ||
		{ tail -n 30 apt.log; false; } &&
	case "$(installed correo)" in ""|*not-installed) ;; *) false ;; esac &&
	test_path_is_missing "$chr/var/spool/correo" &&
	test_path_is_missing "$chr/etc/correo" &&
	in_chroot dpkg-statoverride --list >overrides &&
	test_grep -v "correo" overrides &&
	find "$chr/etc/systemd" "$chr/var/lib/systemd" -name "correo*" >units &&
	test_cmp /dev/null units &&
	grep "^correo:" "$chr/etc/passwd" && grep "^correo-drop:" "$chr/etc/group" &&
	for p in postfix bsd-mailx cron logwatch; do
		test "$(installed $p)" = "install ok installed" ||
			{ echo "$p: $(installed $p)"; return 1; }
	done
'

test_expect_success CHROOT 'nothing runs in the chroot' '
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" != "$chr" ] ||
			{ echo "running: $(cat "$p/cmdline" | tr "\0" " ")"; return 1; }
	done
'

test_done
