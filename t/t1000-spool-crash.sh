#!/bin/sh
test_description='the spool under kill -9 and a full disk: complete messages or nothing'
. "$(dirname "$0")/test-lib.sh"

# slow_message N - a message whose lines trickle out, so that a kill
# lands while sendmail is reading, writing or committing
slow_message() {
	printf "Subject: crash %s\n\n" "$1"
	j=0
	while [ $j -lt 40 ]; do
		echo "line $j of message $1"
		j=$((j + 1))
		[ $((j % 10)) = 0 ] && sleep 0.0$(($1 % 7 + 1))
	done
}

test_expect_success 'kill -9 loop over 200 concurrent submissions' '
	mkdir -p st &&
	i=1 &&
	while [ $i -le 200 ]; do
		{ slow_message $i | sendmail -odq -i bob@example.org;
		  echo $? >st/$i; } &
		pid=$! &&
		echo $pid >>pids &&
		i=$((i + 1))
	done &&
	# kill -9 every third submission at a moment of its own
	n=0 &&
	for pid in $(cat pids); do
		n=$((n + 1))
		[ $((n % 3)) = 0 ] || continue
		sleep 0.0$((n % 9))
		pkill -9 -P $pid sendmail 2>/dev/null
	done &&
	wait &&
	ok=$(cat st/* | grep -c "^0\$") &&
	killed=$(cat st/* | grep -vc "^0\$") &&
	echo "completed $ok, killed $killed" &&
	test $((ok + killed)) = 200 &&
	test "$killed" -gt 0 &&
	correo-test spool-check spool >check &&
	cat check &&
	echo "$ok messages, 0 bad" >expect &&
	test_cmp expect check &&
	ls -A spool/incoming | grep -v -E "^[0-9A-Za-z]{11,31}\$" >debris || true &&
	test ! -s debris
'

test_expect_success 'every completed submission is whole: 40 lines each' '
	for f in $(queued_files); do
		n=$(queue_content "$f" | grep -c "^line ") &&
		test "$n" = 40 || { echo "$f has $n lines"; return 1; }
	done
'

test_expect_success 'a file size limit (EFBIG) gives EX_TEMPFAIL and leaves nothing' '
	rm -rf spool/incoming/* &&
	{ printf "Subject: big\n\n"; head -c 200000 /dev/zero | tr "\0" a | fold -w 70; } >big.msg &&
	(ulimit -f 100; sendmail -odq -i bob@example.org <big.msg 2>err; echo $? >status) &&
	test "$(cat status)" = 75 &&
	test_grep "File too large|write queue file" err &&
	test -z "$(ls -A spool/incoming)"
'

test_lazy_prereq UNSHARE 'unshare -m true'
test_expect_success ROOT,UNSHARE 'a full file system (ENOSPC) gives EX_TEMPFAIL and leaves nothing' '
	rm -rf spool/incoming/* &&
	{ printf "Subject: big\n\n"; head -c 600000 /dev/zero | tr "\0" a | fold -w 70; } >big.msg &&
	unshare -m sh -c "
		mount -t tmpfs -o size=256k tmpfs \"$TRASH/spool\" &&
		sendmail -odq -i bob@example.org <big.msg 2>err;
		echo \$? >status;
		ls -A spool/incoming >left;
		df -k spool | tail -n 1 >df;
		echo small | sendmail -odq bob@example.org && ls spool/incoming >after
	" &&
	test "$(cat status)" = 75 &&
	test_grep "No space left" err &&
	test ! -s left &&
	test "$(wc -l <after)" = 1
'

test_done
