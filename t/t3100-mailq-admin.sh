#!/bin/sh
test_description='mailq -d -h -H -r (postsuper): delete, hold, release, requeue; who may'
. "$(dirname "$0")/test-lib.sh"

T=1700000000.000000
printf 'Subject: test\n\nhello\n' >msg

fill() {
	correo-test spool-fill -t "$T" -m msg "$@"
}
clean_queue() {
	rm -f spool/incoming/* spool/queue/* spool/hold/*
}
# where ID - the directory that holds the message
where() {
	for _d in incoming queue hold; do
		if [ -f "spool/$_d/$1" ]; then echo "$_d"; return 0; fi
	done
	echo none
}
# lock_file FILE - hold its flock in the background, as a runner does;
# sets $locker (kill it to let go)
lock_file() {
	rm -f locked
	{ ( exec 9<"$1" && flock 9 && : >locked && exec sleep 60 ) & } &&
	locker=$! &&
	_n=0 &&
	while [ ! -f locked ] && [ $_n -lt 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done &&
	test -f locked
}
test_lazy_prereq SETPRIV_NOBODY 'command -v setpriv && id nobody && getent group nogroup'

test_expect_success '-h puts a message on hold' '
	id=$(fill 1) &&
	mailq -h "$id" 2>err &&
	cat >expect <<-EOF &&
	mailq: $id: placed on hold
	mailq: Placed on hold: 1 message
	EOF
	test_cmp expect err &&
	test "$(where "$id")" = hold &&
	mailq | grep "^$id! " &&
	grep "correo/mailq\[[0-9]*\]: $id: placed on hold\$" maillog
'

test_expect_success '-h on a held message does nothing' '
	id=$(ls spool/hold) &&
	mailq -h "$id" 2>err &&
	test_cmp /dev/null err &&
	test "$(where "$id")" = hold
'

test_expect_success '-H: a picked-up message (mail owner'"'"'s file) goes to queue/, due now' '
	id=$(ls spool/hold) &&
	touch -d @1000000000 "spool/hold/$id" &&
	before=$(date +%s) &&
	mailq -H "$id" 2>err &&
	cat >expect <<-EOF &&
	mailq: $id: released from hold
	mailq: Released from hold: 1 message
	EOF
	test_cmp expect err &&
	test "$(where "$id")" = queue &&
	test $(stat -c %Y "spool/queue/$id") -ge "$before" &&
	mailq | grep "^$id  " &&
	clean_queue
'

test_expect_success '-H: a message still owned by its submitter goes to incoming/' '
	id=$(fill -D hold 1) &&
	if test_have_prereq ROOT; then
		chown nobody "spool/hold/$id" &&
		mailq -H "$id" 2>err
	else
		mailq -o mail_owner=root -H "$id" 2>err
	fi &&
	test "$(where "$id")" = incoming &&
	grep "^mailq: Released from hold: 1 message\$" err &&
	clean_queue
'

test_expect_success '-H on a message that is not held does nothing' '
	id=$(fill -D queue 1) &&
	mailq -H "$id" 2>err &&
	test_cmp /dev/null err &&
	test "$(where "$id")" = queue &&
	clean_queue
'

test_expect_success '-h ALL and -H ALL' '
	fill 2 >ids &&
	fill -D queue 1 >>ids &&
	mailq -h ALL 2>err &&
	grep "^mailq: Placed on hold: 3 messages\$" err &&
	test $(ls spool/hold | wc -l) = 3 &&
	mailq -H ALL 2>err &&
	grep "^mailq: Released from hold: 3 messages\$" err &&
	test $(ls spool/hold | wc -l) = 0 &&
	clean_queue
'

test_expect_success '-d deletes one message' '
	id=$(fill 1) &&
	other=$(fill 1) &&
	mailq -d "$id" 2>err &&
	cat >expect <<-EOF &&
	mailq: $id: removed
	mailq: Deleted: 1 message
	EOF
	test_cmp expect err &&
	test "$(where "$id")" = none &&
	test "$(where "$other")" = incoming &&
	grep "correo/mailq\[[0-9]*\]: $id: removed\$" maillog &&
	grep "correo/mailq\[[0-9]*\]: Deleted: 1 message\$" maillog &&
	clean_queue
'

test_expect_success '-d ALL deletes every message, wherever it is' '
	fill 1 >/dev/null &&
	fill -D queue 1 >/dev/null &&
	fill -D hold 1 >/dev/null &&
	test $(queue_count) = 3 &&
	mailq -d ALL 2>err &&
	tail -n 1 err >actual &&
	echo "mailq: Deleted: 3 messages" >expect &&
	test_cmp expect actual &&
	test $(queue_count) = 0 &&
	mailq >out &&
	echo "Mail queue is empty" >expect &&
	test_cmp expect out
'

test_expect_success 'ALL with other IDs: a warning, the IDs are ignored' '
	id=$(fill 1) &&
	mailq -d 0000000000AAA -d ALL 2>err &&
	grep "^mailq: warning: option \"-d ALL\" will ignore other command line queue IDs\$" err &&
	grep "^mailq: Deleted: 1 message\$" err &&
	test $(queue_count) = 0
'

test_expect_success '-d - reads IDs from stdin, markers and blanks allowed' '
	fill 3 >ids &&
	a=$(sed -n 1p ids) && b=$(sed -n 2p ids) && c=$(sed -n 3p ids) &&
	printf "%s*\n\n  %s!  \n" "$a" "$b" | mailq -d - 2>err &&
	grep "^mailq: Deleted: 2 messages\$" err &&
	test "$(where "$a")" = none &&
	test "$(where "$b")" = none &&
	test "$(where "$c")" = incoming &&
	clean_queue
'

test_expect_success 'a damaged queue file can still be deleted' '
	id=$(fill 1) &&
	printf "garbage\n" >"spool/incoming/$id" &&
	mailq 2>err >out &&
	grep "warning: $id" err &&
	mailq -d "$id" 2>err &&
	grep "^mailq: $id: removed (damaged queue file)\$" err &&
	test "$(where "$id")" = none
'

test_expect_success '-r resets attempts and next try of pending recipients' '
	id=$(fill -r a@x -r b@x -r c@x -S PDP -a 5 -n 2000000000 \
	    -R "451 4.3.0 busy" -D queue 1) &&
	touch -d @2000000000 "spool/queue/$id" &&
	before=$(date +%s) &&
	mailq -r "$id" 2>err &&
	cat >expect <<-EOF &&
	mailq: $id: requeued
	mailq: Requeued: 1 message
	EOF
	test_cmp expect err &&
	correo-test spool-dump "spool/queue/$id" >dump &&
	sed -n "/^rcpt:/,\$p" dump >actual &&
	cat >expect <<-EOF &&
	rcpt: a@x
	  state: P
	  flags: -
	  attempts: 0
	  next: 0
	  reply: 451 4.3.0 busy
	rcpt: b@x
	  state: D
	  flags: -
	  attempts: 5
	  next: 2000000000
	  reply: 451 4.3.0 busy
	rcpt: c@x
	  state: P
	  flags: -
	  attempts: 0
	  next: 0
	  reply: 451 4.3.0 busy
	end
	EOF
	test_cmp expect actual &&
	mtime=$(stat -c %Y "spool/queue/$id") &&
	test "$mtime" -ge "$before" &&
	test "$mtime" -le $(($(date +%s) + 1)) &&
	clean_queue
'

test_expect_success '-r leaves a held message held, says so, exits 69' '
	id=$(fill -a 2 -n 2000000000 -D hold 1) &&
	test_expect_code 69 mailq -r "$id" 2>err &&
	grep "^mailq: warning: $id: on hold: not requeued (release it with -H)\$" err &&
	test "$(where "$id")" = hold &&
	correo-test spool-dump "spool/hold/$id" | grep "^  attempts: 2\$" &&
	clean_queue
'

test_expect_success '-r ALL: incoming/ and queue/ requeued, held ones reported' '
	fill -a 1 1 >/dev/null &&
	fill -a 3 -n 2000000000 -D queue 1 >/dev/null &&
	held=$(fill -a 4 -D hold 1) &&
	mailq -r ALL 2>err &&
	grep "^mailq: warning: $held: on hold: not requeued" err &&
	grep "^mailq: Requeued: 2 messages\$" err &&
	mailq -j >out &&
	test $(grep -c "\"attempts\": 0" out) = 2 &&
	test $(grep -c "\"attempts\": 4" out) = 1 &&
	clean_queue
'

test_expect_success 'a message being delivered is left alone, exit 75' '
	busy=$(fill -D queue 1) &&
	fill 2 >others &&
	lock_file "spool/queue/$busy" &&
	test_when_finished "kill $locker; wait $locker; :" &&
	test_expect_code 75 mailq -d "$busy" 2>err &&
	grep "^mailq: warning: $busy: being delivered: not deleted\$" err &&
	test_expect_code 75 mailq -h "$busy" 2>err &&
	grep "^mailq: warning: $busy: being delivered: not placed on hold\$" err &&
	test_expect_code 75 mailq -r "$busy" 2>err &&
	grep "^mailq: warning: $busy: being delivered: not requeued\$" err &&
	test "$(where "$busy")" = queue &&
	test_expect_code 75 mailq -d ALL 2>err &&
	grep "^mailq: Deleted: 2 messages\$" err &&
	test "$(where "$busy")" = queue &&
	test $(queue_count) = 1
'

test_expect_success 'after the runner lets go, it can be deleted' '
	mailq -d ALL 2>err &&
	grep "^mailq: Deleted: 1 message\$" err &&
	test $(queue_count) = 0
'

test_expect_success 'unknown and malformed IDs: warnings, 66 and 65' '
	id=$(fill 1) &&
	test_expect_code 66 mailq -d 0000000000AAA -d "$id" 2>err &&
	cat >expect <<-EOF &&
	mailq: warning: 0000000000AAA: no such message in the queue
	mailq: $id: removed
	mailq: Deleted: 1 message
	EOF
	test_cmp expect err &&
	test_expect_code 65 mailq -h "../../etc/passwd" 2>err &&
	grep "^mailq: warning: ../../etc/passwd: not a queue ID\$" err &&
	test_expect_code 66 mailq -H 0000000000AAA 2>err &&
	test_expect_code 66 mailq -r 0000000000AAA 2>err
'

test_expect_success 'the operations combine, in postsuper'"'"'s order' '
	fill 3 >ids &&
	a=$(sed -n 1p ids) && b=$(sed -n 2p ids) && c=$(sed -n 3p ids) &&
	mailq -H "$a" -h "$a" -h "$b" -d "$c" -r "$b" 2>err &&
	test "$(where "$a")" = queue &&
	test "$(where "$b")" = hold &&
	test "$(where "$c")" = none &&
	tail -n 4 err >actual &&
	cat >expect <<-EOF &&
	mailq: Requeued: 1 message
	mailq: Deleted: 1 message
	mailq: Placed on hold: 2 messages
	mailq: Released from hold: 1 message
	EOF
	test_cmp expect actual &&
	clean_queue
'

setup_other_user() {
	chmod 755 "$TRASH" "$TRASH/etc" &&
	test_config mail_owner correo &&
	chmod 644 "$CORREO_CONFIG" &&
	touch maillog &&
	chmod 666 maillog
}

test_expect_success ROOT,SETPRIV_NOBODY 'others may not administer: 77 before anything is touched' '
	setup_other_user &&
	test_when_finished "test_config mail_owner $(id -un)" &&
	fill 2 >ids &&
	id=$(sed -n 1p ids) &&
	as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups" &&
	test_expect_code 77 $as_nobody mailq -d ALL 2>err &&
	echo "mailq: permission denied: only root or the mail owner (correo) may delete messages" >expect &&
	test_cmp expect err &&
	test_expect_code 77 $as_nobody mailq -h "$id" 2>err &&
	grep "may hold messages\$" err &&
	test_expect_code 77 $as_nobody mailq -H ALL 2>err &&
	grep "may release messages\$" err &&
	test_expect_code 77 $as_nobody mailq -r ALL -d "$id" 2>err &&
	grep "may requeue messages\$" err &&
	test_expect_code 77 $as_nobody mailq -c "$id" 2>err &&
	grep "may read messages\$" err &&
	test $(queue_count) = 2 &&
	test "$(where "$id")" = incoming &&
	grep "uid 65534: permission denied: may not delete messages" maillog
'

test_expect_success ROOT,SETPRIV_NOBODY 'the mail owner and the spool owner may' '
	setup_other_user &&
	test_when_finished "test_config mail_owner $(id -un); chown -R 0 spool" &&
	as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups" &&
	test_must_fail $as_nobody mailq -o mail_owner=nobody -d ALL 2>err &&
	test_grep -v "permission denied: only" err &&
	test $(queue_count) = 2 &&
	chown -R nobody spool &&
	$as_nobody mailq -d ALL 2>err &&
	grep "^mailq: Deleted: 2 messages\$" err &&
	test $(queue_count) = 0
'

test_expect_success 'root always may' '
	fill 1 >/dev/null &&
	if test_have_prereq ROOT; then
		mailq -o mail_owner=correo -d ALL 2>err &&
		grep "^mailq: Deleted: 1 message\$" err
	else
		mailq -d ALL 2>err
	fi &&
	test $(queue_count) = 0
'

test_done
