#!/bin/sh
test_description='how runq is started: one runner, rescans, -w, the cron line, the systemd units'
. "$(dirname "$0")/test-lib.sh"

me=$(id -un)

mbox_count() {
	python3 -c "import mailbox,sys; print(len(mailbox.mbox(sys.argv[1])))" "$1"
}

# wait_for CMD - poll CMD for up to 20 s
wait_for() {
	_i=0
	while ! eval "$1" && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	eval "$1"
}

# queue_clear - remove every message, once no worker holds one any more
queue_clear() {
	wait_for "mailq -d ALL >/dev/null 2>&1; test \$(queue_count) = 0"
}

test_expect_success 'a burst of 300 submissions makes few runners and delivers all' '
	rm -f peak &&
	{ ( peak=0; i=0;
	  while [ $i -lt 400 ]; do
		n=$(pgrep -c -f "^$CORREO_BUILD/runq" || true);
		[ "$n" -gt "$peak" ] && peak=$n && echo $peak >peak;
		sleep 0.02; i=$((i + 1));
	  done ) & } 
	watcher=$!
	i=0 &&
	while [ $i -lt 300 ]; do
		echo "burst $i" | sendmail "$me" || return 1
		i=$((i + 1))
	done &&
	wait_for "test \$(mbox_count mail/$me) = 300" &&
	kill $watcher 2>/dev/null; wait $watcher 2>/dev/null;
	echo "most runners at once: $(cat peak 2>/dev/null || echo 0)" &&
	test "$(cat peak 2>/dev/null || echo 0)" -le 6 &&
	test "$(queue_count)" = 0
'

test_expect_success 'a second runq asks the running one to rescan and exits at once' '
	test_config mailbox_command "sleep 2; cat >/dev/null" &&
	test_when_finished "test_unconfig mailbox_command" &&
	echo slow | sendmail -odq "$me" || return 1
	runq &
	first=$!
	sleep 0.5 &&
	echo next | sendmail -odq "$me" &&
	start=$(date +%s) &&
	runq &&
	test $(( $(date +%s) - start )) -le 1 &&
	wait $first &&
	test "$(queue_count)" = 0
'

test_expect_success 'runq -w delivers new mail as it arrives, and stops when killed' '
	n=$(mbox_count mail/$me) || return 1
	runq -w &
	w=$!
	test_when_finished "kill $w 2>/dev/null; wait $w 2>/dev/null; :" &&
	sleep 0.3 &&
	echo watched | sendmail -odq "$me" &&
	wait_for "test \$(mbox_count mail/$me) = $((n + 1))" &&
	echo again | sendmail -odq "$me" &&
	wait_for "test \$(mbox_count mail/$me) = $((n + 2))" &&
	kill -0 $w
'

test_expect_success 'a watching runner retries a deferred message when it is due, not after queue_run_delay' '
	test_config minimal_backoff_time 1s &&
	test_config maximal_backoff_time 1s &&
	test_config queue_run_delay 1d &&
	test_when_finished "test_unconfig minimal_backoff_time; test_unconfig maximal_backoff_time; test_unconfig queue_run_delay" &&
	: >maillog &&
	runq -w &
	w=$!
	test_when_finished "kill $w 2>/dev/null; wait $w 2>/dev/null; queue_clear" &&
	echo retried | sendmail -odq far@remote.example &&
	wait_for "test \$(grep -c \"to=<far@remote.example>.*status=deferred\" maillog) -ge 3" &&
	kill -0 $w
'

test_lazy_prereq STRACE 'command -v strace && strace -f -o /dev/null true'

test_expect_success STRACE 'a busy runner reads the deferred queue once, not once per new message' '
	test_config defer_transports local &&
	test_config minimal_backoff_time 1h &&
	test_when_finished "test_unconfig defer_transports; test_unconfig minimal_backoff_time" &&
	i=0 &&
	while [ $i -lt 30 ]; do
		echo "old $i" | sendmail -odq "$me" || return 1
		i=$((i + 1))
	done &&
	runq &&
	test "$(queue_count)" = 30 &&
	old=$(queued_files | sed -n 1p) && old=${old##*/} &&
	: >maillog || return 1
	strace -f -e trace=newfstatat,statx,fstatat64 -o trace runq -w \
	    >/dev/null 2>&1 &
	w=$!
	test_when_finished "pkill -P $w; kill $w 2>/dev/null; wait $w 2>/dev/null; queue_clear" &&
	i=1 &&
	while [ $i -le 5 ]; do
		echo "new $i" | sendmail -odq "$me" &&
		wait_for "test \$(grep -l \"deferred transport\" spool/queue/* | wc -l) -ge \$((30 + $i))" ||
		break
		i=$((i + 1))
	done &&
	test $i = 6 &&
	n=$(grep -c "\"$old\"" trace) &&
	echo "$old was looked at $n times in 6 passes" &&
	test "$n" -ge 1 && test "$n" -le 2
'

# sendmail -q (runq -f) after a fix, on a host where runq -w is the
# runner (INSTALL: the cron line): the watcher must make the forced
# pass, since the deferred mail is not due for minutes.
test_expect_success 'runq -f while runq -w watches: the watcher makes a forced pass' '
	echo deferred | sendmail -odq far@remote.example &&
	runq &&
	tried="to=<far@remote.example>, .*status=deferred" &&
	n=$(grep -c "$tried" maillog) &&
	test "$n" -ge 1 &&
	: >watch.err &&
	{ runq -w -v 2>watch.err & } &&
	w=$! &&
	test_when_finished "kill $w 2>/dev/null; wait $w 2>/dev/null; queue_clear" &&
	wait_for "grep -q \"watching \" watch.err" &&
	runq -f &&
	wait_for "test \$(grep -c \"\$tried\" maillog) = $((n + 1))" &&
	test_path_is_missing spool/queue/.runq.flush &&
	kill -0 $w
'

test_expect_success 'the cron lines run as written, and do nothing under systemd' '
	n=$(mbox_count mail/$me) &&
	echo cron | sendmail -odq "$me" &&
	grep -v "^#" "$SRC_DIR/etc/cron.d-correo" | grep "^\*/5" |
	sed -e "s|^[^	 ]*[	 ]*[^	 ]*[	 ]*[^	 ]*[	 ]*[^	 ]*[	 ]*[^	 ]*[	 ]*root[	 ]*||" \
	    -e "s|@PREFIX@/sbin/runq|$CORREO_BUILD/runq|g" >cronline.sd &&
	sed "s|/run/systemd/system|$TRASH/no-systemd|g" cronline.sd >cronline &&
	cat cronline &&
	mkdir -p systemd &&
	sed "s|/run/systemd/system|$TRASH/systemd|g" cronline.sd >sdline &&
	sh -c "$(cat sdline)";
	test "$(mbox_count mail/$me)" = $n &&
	sh -c "$(cat cronline)" &&
	test "$(mbox_count mail/$me)" = $((n + 1)) &&
	grep "^@reboot" "$SRC_DIR/etc/cron.d-correo" |
	sed -e "s|^@reboot[	 ]*root[	 ]*||" -e "s|@PREFIX@/sbin/runq|$CORREO_BUILD/runq|g" \
	    -e "s|/run/systemd/system|$TRASH/no-systemd|g" >rebootline &&
	grep -- "-w" rebootline || return 1
	sh -c "$(cat rebootline)" &
	r=$!
	test_when_finished "kill $r 2>/dev/null; wait $r 2>/dev/null; :" &&
	sleep 0.3 &&
	echo reboot | sendmail -odq "$me" &&
	wait_for "test \$(mbox_count mail/$me) = $((n + 2))"
'

test_lazy_prereq SYSTEMD_ANALYZE 'systemd-analyze --version'
test_expect_success SYSTEMD_ANALYZE 'the systemd units pass systemd-analyze verify' '
	mkdir -p root/usr/sbin root/etc/systemd/system &&
	cp "$CORREO_BUILD/runq" root/usr/sbin/runq &&
	cp "$SRC_DIR"/etc/correo-runq.* root/etc/systemd/system/ &&
	sed -i "s|@PREFIX@/sbin/runq|$TRASH/root/usr/sbin/runq|" root/etc/systemd/system/correo-runq.service &&
	sed -i "s|/var/spool/correo/incoming|$TRASH/spool/incoming|" root/etc/systemd/system/correo-runq.path &&
	systemd-analyze verify --man=no root/etc/systemd/system/correo-runq.path \
	    root/etc/systemd/system/correo-runq.service \
	    root/etc/systemd/system/correo-runq.timer >out 2>&1;
	cat out &&
	test ! -s out
'

test_done
