#!/bin/sh
test_description='set-group-ID sendmail: the group only around spool calls, never for a chosen config'
. "$(dirname "$0")/test-lib.sh"

# A real installation in miniature (setgid_sandbox in test-lib.sh);
# the submitter is "nobody".
setgid_sandbox sendmail
mkdir -p sys/incoming
chown daemon:mail sys/incoming
chmod 1770 sys/incoming

test_expect_success 'nobody submits through the set-group-ID sendmail' '
	in_ns nobody "printf \"From: root\\n\\nhi\\n\" | env -i bin/sendmail -odq bob@example.org" &&
	f=$(ls sys/incoming) &&
	test "$(echo "$f" | wc -l)" = 1 &&
	test "$(stat -c %U:%G:%a sys/incoming/$f)" = nobody:mail:640 &&
	queue_envelope sys/incoming/$f >env &&
	test_grep "^origin: local uid=65534 user=nobody\$" env &&
	test_grep "^sender: nobody@host.example.org\$" env
'

test_expect_success 'the group is dropped while the message is read' '
	rm -f sys/incoming/* &&
	in_ns nobody "{ sleep 2; echo x; } | env -i bin/sendmail -odq bob@example.org & echo \$! >w/pid; sleep 1; grep ^Gid: /proc/\$(cat w/pid)/status >w/gid; wait" &&
	cat w/gid &&
	set -- $(cat w/gid) &&
	test "$2" = 65534 && test "$3" = 65534 && test "$4" = "$(getent group mail | cut -d: -f3)" &&
	test "$(ls sys/incoming | wc -l)" = 1
'

test_expect_success 'a chosen configuration (CORREO_CONFIG, -C, -O) drops the group for good' '
	rm -f sys/incoming/* &&
	! in_ns nobody "echo x | env -i CORREO_CONFIG=$TRASH/user.conf bin/sendmail -odq bob@example.org 2>w/err; echo \$? >w/st; exit \$(cat w/st)" &&
	test "$(cat w/st)" = 75 &&
	test_grep "Permission denied" w/err &&
	! in_ns nobody "echo x | env -i bin/sendmail -C $TRASH/user.conf -odq bob@example.org" &&
	! in_ns nobody "echo x | env -i bin/sendmail -O myhostname=x.example -odq bob@example.org" &&
	test "$(ls sys/incoming | wc -l)" = 0
'

test_expect_success 'unless alternate_config_directories lists its directory' '
	echo "alternate_config_directories = $TRASH" >>etc-correo/correo.conf &&
	in_ns nobody "echo x | env -i CORREO_CONFIG=$TRASH/user.conf bin/sendmail -odq bob@example.org" &&
	test "$(ls sys/incoming | wc -l)" = 1
'

test_expect_success '-odi on an installed host waits for root'"'"'s runq and reports' '
	mkdir -p sys/queue sys/hold varmail &&
	chown daemon:mail sys/queue sys/hold && chmod 750 sys/queue sys/hold &&
	chown root:mail varmail && chmod 2775 varmail &&
	rm -f sys/incoming/* &&
	grep -v "^daemon_directory" etc-correo/correo.conf >c.new &&
	echo "daemon_directory = $CORREO_BUILD" >>c.new &&
	echo "setgid_group = mail" >>c.new &&
	echo "mail_spool_directory = $TRASH/varmail" >>c.new &&
	echo "alias_maps =" >>c.new &&
	mv c.new etc-correo/correo.conf && chmod 644 etc-correo/correo.conf &&
	unshare -m sh -c "
		mkdir -p /etc/correo 2>/dev/null
		mount -t tmpfs tmpfs /etc/correo &&
		cp $TRASH/etc-correo/correo.conf /etc/correo/ &&
		chmod 755 /etc/correo &&
		cd $TRASH &&
		{ env -i $CORREO_BUILD/runq -w & echo \$! >w/runq.pid; } &&
		sleep 0.3 &&
		echo hello | setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -i bin/sendmail -odi nobody;
		echo \$? >w/ok.st;
		echo lost | setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -i bin/sendmail -odi nosuchuser 2>w/lost.err;
		echo \$? >w/lost.st;
		kill \$(cat w/runq.pid)
	" &&
	test "$(cat w/ok.st)" = 0 &&
	test "$(cat w/lost.st)" = 67 &&
	test "$(stat -c %U varmail/nobody)" = nobody &&
	test_grep "^hello" varmail/nobody
'

test_expect_success 'the environment does not reach the siblings' '
	rm -f ran &&
	mkdir -p fake && printf "#!/bin/sh\nenv >$TRASH/ran\n" >fake/mailq && chmod 755 fake/mailq &&
	echo "daemon_directory = $TRASH/fake" >>etc-correo/correo.conf &&
	chmod 666 ran 2>/dev/null; : >ran; chmod 666 ran &&
	in_ns nobody "env -i SECRET=1 LD_PRELOAD=/nonexistent.so bin/sendmail -bp" &&
	! grep -E "SECRET|LD_PRELOAD" ran
'

test_done
