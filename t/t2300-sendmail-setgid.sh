#!/bin/sh
test_description='set-group-ID sendmail: the group only around spool calls, never for a chosen config'
. "$(dirname "$0")/test-lib.sh"

# A real installation in miniature, in a mount namespace of its own:
# /etc/correo is a tmpfs holding the default correo.conf, sendmail is a
# set-group-ID copy (group "mail" plays correo-drop, user "daemon" plays
# correo), and the submitter is "nobody".
test_lazy_prereq UNSHARE 'unshare -m true'
if ! test_have_prereq ROOT; then
	skip_all 'needs root: a set-group-ID binary, other users, a mount namespace'
fi
if [ -n "$CORREO_ASAN" ]; then
	skip_all 'set-group-ID programs run in secure mode with a cleared environment, where ASan cannot be configured'
fi
if ! test_have_prereq UNSHARE || ! test_have_prereq SETPRIV; then
	skip_all 'needs unshare and setpriv (util-linux)'
fi

chmod 755 "$TRASH"
mkdir -p bin sys/incoming etc-correo w
chmod 777 w
cp "$CORREO_BUILD/sendmail" bin/sendmail
chgrp mail bin/sendmail
chmod 2755 bin/sendmail
chown daemon:mail sys/incoming
chmod 1770 sys/incoming
: >maillog
chmod 666 maillog
cat >etc-correo/correo.conf <<EOF
myhostname = host.example.org
queue_directory = $TRASH/sys
daemon_directory = $CORREO_BUILD
maillog_file = $TRASH/maillog
mail_owner = daemon
EOF
cp etc-correo/correo.conf user.conf
chmod 644 etc-correo/correo.conf user.conf

# in_ns CMD - run a shell command in the namespace, as nobody
in_ns() {
	unshare -m sh -c "
		mkdir -p /etc/correo 2>/dev/null
		mount -t tmpfs tmpfs /etc/correo &&
		cp '$TRASH/etc-correo/correo.conf' /etc/correo/ &&
		chmod 755 /etc/correo &&
		cd '$TRASH' &&
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c '$1'
	"
}

test_expect_success 'nobody submits through the set-group-ID sendmail' '
	in_ns "printf \"From: root\\n\\nhi\\n\" | env -i bin/sendmail -odq bob@example.org" &&
	f=$(ls sys/incoming) &&
	test "$(echo "$f" | wc -l)" = 1 &&
	test "$(stat -c %U:%G:%a sys/incoming/$f)" = nobody:mail:640 &&
	queue_envelope sys/incoming/$f >env &&
	test_grep "^origin: local uid=65534 user=nobody\$" env &&
	test_grep "^sender: nobody@host.example.org\$" env
'

test_expect_success 'the group is dropped while the message is read' '
	rm -f sys/incoming/* &&
	in_ns "{ sleep 2; echo x; } | env -i bin/sendmail -odq bob@example.org & echo \$! >w/pid; sleep 1; grep ^Gid: /proc/\$(cat w/pid)/status >w/gid; wait" &&
	cat w/gid &&
	set -- $(cat w/gid) &&
	test "$2" = 65534 && test "$3" = 65534 && test "$4" = "$(getent group mail | cut -d: -f3)" &&
	test "$(ls sys/incoming | wc -l)" = 1
'

test_expect_success 'a chosen configuration (CORREO_CONFIG, -C, -O) drops the group for good' '
	rm -f sys/incoming/* &&
	! in_ns "echo x | env -i CORREO_CONFIG=$TRASH/user.conf bin/sendmail -odq bob@example.org 2>w/err; echo \$? >w/st; exit \$(cat w/st)" &&
	test "$(cat w/st)" = 75 &&
	test_grep "Permission denied" w/err &&
	! in_ns "echo x | env -i bin/sendmail -C $TRASH/user.conf -odq bob@example.org" &&
	! in_ns "echo x | env -i bin/sendmail -O myhostname=x.example -odq bob@example.org" &&
	test "$(ls sys/incoming | wc -l)" = 0
'

test_expect_success 'unless alternate_config_directories lists its directory' '
	echo "alternate_config_directories = $TRASH" >>etc-correo/correo.conf &&
	in_ns "echo x | env -i CORREO_CONFIG=$TRASH/user.conf bin/sendmail -odq bob@example.org" &&
	test "$(ls sys/incoming | wc -l)" = 1
'

test_expect_success 'the environment does not reach the siblings' '
	rm -f ran &&
	mkdir -p fake && printf "#!/bin/sh\nenv >$TRASH/ran\n" >fake/mailq && chmod 755 fake/mailq &&
	echo "daemon_directory = $TRASH/fake" >>etc-correo/correo.conf &&
	chmod 666 ran 2>/dev/null; : >ran; chmod 666 ran &&
	in_ns "env -i SECRET=1 LD_PRELOAD=/nonexistent.so bin/sendmail -bp" &&
	! grep -E "SECRET|LD_PRELOAD" ran
'

test_done
