#!/bin/sh
test_description='make install DESTDIR=... PREFIX=...: every path and mode of etc/correo-files'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'install into a DESTDIR' '
	(cd "$SRC_DIR" && sh etc/install.sh "$TRASH/root" /usr "$CORREO_BUILD") >out &&
	test_grep "installed into" out
'

test_expect_success 'every manifest entry has its type and mode' '
	grep -v "^#" "$SRC_DIR/etc/correo-files" | grep . |
	while IFS=: read -r path type owner group mode source; do
		path=$(echo "$path" | sed "s|@PREFIX@|/usr|g")
		f=$TRASH/root$path
		case $type in
		l) test -L "$f" || { echo "$path: not a link"; return 1; }
		   continue ;;
		d) test -d "$f" || { echo "$path: not a directory"; return 1; } ;;
		f|c) test -f "$f" || { echo "$path: not a file"; return 1; } ;;
		esac
		got=$(stat -c %a "$f")
		want=$(echo "$mode" | sed "s/^0*//")
		test "$got" = "$want" || { echo "$path: mode $got, want $want"; return 1; }
	done
'

test_expect_success 'sendmail and mailq are set-group-ID, the links resolve' '
	test -g root/usr/lib/correo/sendmail &&
	test -g root/usr/lib/correo/mailq &&
	test ! -g root/usr/lib/correo/runq &&
	test "$(readlink root/usr/sbin/sendmail)" = ../lib/correo/sendmail &&
	test -x root/usr/sbin/sendmail &&
	test "$(readlink root/usr/lib/sendmail)" = /usr/sbin/sendmail &&
	test -x root/usr/bin/mailq
'

test_expect_success 'owners are recorded or set: the spool belongs to correo' '
	if [ -s root/.correo-owners ]; then
		test_grep "^/var/spool/correo/incoming:correo:correo-drop\$" root/.correo-owners &&
		test_grep "^/usr/lib/correo/sendmail:root:correo-drop\$" root/.correo-owners
	else
		test "$(stat -c %U:%G root/var/spool/correo/incoming)" = correo:correo-drop
	fi
'

test_expect_success 'the installed configuration names PREFIX; an existing one is kept' '
	test_grep "^daemon_directory = /usr/lib/correo\$" root/etc/correo/correo.conf &&
	echo "# mine" >root/etc/correo/correo.conf &&
	(cd "$SRC_DIR" && sh etc/install.sh "$TRASH/root" /usr/local "$CORREO_BUILD") >out &&
	test_grep "keeping existing /etc/correo/correo.conf" out &&
	echo "# mine" >expect && test_cmp expect root/etc/correo/correo.conf &&
	test -x root/usr/local/lib/correo/sendmail
'

test_expect_success 'another PREFIX: the units and the cron file start the programs there; no @PREFIX@ is left' '
	(cd "$SRC_DIR" && sh etc/install.sh "$TRASH/opt" /opt/correo "$CORREO_BUILD") >out &&
	test_grep "^ExecStart=/opt/correo/sbin/runq\$" opt/lib/systemd/system/correo-runq.service &&
	test_grep "^ExecStart=/opt/correo/sbin/smtpd-lite" opt/lib/systemd/system/correo-smtpd@.service &&
	test_grep "^ExecStart=/opt/correo/sbin/smtpd-lite" opt/lib/systemd/system/correo-submission@.service &&
	test_grep "^ExecStart=/opt/correo/sbin/smtpd-lite" opt/lib/systemd/system/correo-submissions@.service &&
	test_grep "exec /opt/correo/sbin/runq -w\$" opt/etc/cron.d/correo &&
	test -x opt/opt/correo/sbin/runq &&
	! grep -rl "@PREFIX@" opt/etc opt/lib/systemd
'

test_done
