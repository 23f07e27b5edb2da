#!/bin/sh
test_description='set-group-ID mailq: anyone lists, the group goes for a chosen config, only the mail owner administers'
. "$(dirname "$0")/test-lib.sh"

# A real installation in miniature (setgid_sandbox in test-lib.sh);
# the caller is "nobody" or "daemon" (the mail owner).
setgid_sandbox mailq
cp "$CORREO_BUILD/mailq" bin/mailq-plain
chmod 755 bin/mailq-plain

# The spool as "make install" leaves it, with three messages: one still
# the submitter's in incoming/, one picked up in queue/, one held.
printf 'Subject: t\n\nhi\n' >msg
q() { correo-test spool-fill -q "$TRASH/sys" -m msg "$@"; }
in_id=$(q 1) &&
queue_id=$(q -D queue 1) &&
hold_id=$(q -D hold 1) || exit 1
chown root:root sys
chmod 755 sys
chown daemon:mail sys/incoming sys/queue sys/hold
chmod 1770 sys/incoming
chmod 750 sys/queue sys/hold
chown nobody:mail "sys/incoming/$in_id"
chown daemon:mail "sys/queue/$queue_id" "sys/hold/$hold_id"
chmod 640 sys/*/*

test_expect_success 'nobody lists the queue through the set-group-ID mailq' '
	in_ns nobody "env -i bin/mailq >w/out 2>w/err" &&
	test_cmp /dev/null w/err &&
	tail -n 1 w/out | grep "^-- 0 Kbytes in 3 Requests\.\$" &&
	grep "^$in_id " w/out &&
	grep "^$queue_id " w/out &&
	grep "^$hold_id! " w/out &&
	in_ns nobody "env -i bin/mailq -j >w/out" &&
	test $(wc -l <w/out) = 3
'

test_expect_success 'without the set-group-ID bit nobody cannot: 77' '
	! in_ns nobody "env -i bin/mailq-plain >w/out 2>w/err; echo \$? >w/st; exit \$(cat w/st)" &&
	test "$(cat w/st)" = 77 &&
	test_grep "Permission denied" w/err
'

test_expect_success 'a chosen configuration (CORREO_CONFIG, -C, -o) drops the group for good' '
	! in_ns nobody "env -i CORREO_CONFIG=$TRASH/user.conf bin/mailq >w/out 2>w/err; echo \$? >w/st; exit \$(cat w/st)" &&
	test "$(cat w/st)" = 77 &&
	test_grep "Permission denied" w/err &&
	! in_ns nobody "env -i bin/mailq -C $TRASH/user.conf >w/out 2>&1" &&
	! in_ns nobody "env -i bin/mailq -o myhostname=x.example >w/out 2>&1"
'

test_expect_success 'unless alternate_config_directories lists it' '
	echo "alternate_config_directories = $TRASH" >>etc-correo/correo.conf &&
	test_when_finished "sed -i /^alternate_config_directories/d etc-correo/correo.conf" &&
	in_ns nobody "env -i bin/mailq -C $TRASH/user.conf >w/out 2>w/err" &&
	tail -n 1 w/out | grep "in 3 Requests" &&
	in_ns nobody "env -i CORREO_CONFIG=$TRASH/user.conf bin/mailq >w/out" &&
	tail -n 1 w/out | grep "in 3 Requests"
'

test_expect_success 'nobody may not administer or read messages: 77, nothing touched' '
	! in_ns nobody "env -i bin/mailq -d ALL 2>w/err; echo \$? >w/st; exit \$(cat w/st)" &&
	test "$(cat w/st)" = 77 &&
	echo "mailq: permission denied: only root or the mail owner (daemon) may delete messages" >expect &&
	test_cmp expect w/err &&
	! in_ns nobody "env -i bin/mailq -c $queue_id >w/out 2>w/err" &&
	test_cmp /dev/null w/out &&
	test_grep "may read messages" w/err &&
	test -f "sys/incoming/$in_id" &&
	test -f "sys/queue/$queue_id" &&
	test -f "sys/hold/$hold_id"
'

test_expect_success 'the mail owner holds and releases: picked-up to queue/, the submitter'"'"'s to incoming/' '
	rm -f w/* &&
	in_ns daemon "env -i bin/mailq -h $in_id -h $queue_id 2>w/err" &&
	test_grep "Placed on hold: 2 messages" w/err &&
	test -f "sys/hold/$in_id" &&
	test -f "sys/hold/$queue_id" &&
	in_ns daemon "env -i bin/mailq -H ALL 2>w/err" &&
	test_grep "Released from hold: 3 messages" w/err &&
	test -f "sys/incoming/$in_id" &&
	test -f "sys/queue/$queue_id" &&
	test -f "sys/queue/$hold_id"
'

test_expect_success 'the mail owner reads and deletes' '
	rm -f w/* &&
	in_ns daemon "env -i bin/mailq -c $queue_id >w/out" &&
	grep "^\*\*\* MESSAGE FILE END queue/$queue_id \*\*\*\$" w/out &&
	in_ns daemon "env -i bin/mailq -d ALL 2>w/err" &&
	test_grep "Deleted: 3 messages" w/err &&
	test $(find sys -type f | wc -l) = 0
'

test_done
