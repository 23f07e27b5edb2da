#!/bin/sh
test_description='mailq with many messages: one open and two preads each, no fork, EPIPE'
. "$(dirname "$0")/test-lib.sh"

# CORREO_TEST_MANY=20000 for the size of the performance target.
N=${CORREO_TEST_MANY:-2000}
test_lazy_prereq STRACE 'command -v strace && strace -o /dev/null true'

test_expect_success "queue $N messages" '
	start=$(date +%s.%N) &&
	correo-test spool-fill -r a@example.org -r b@example.org $N >ids &&
	end=$(date +%s.%N) &&
	say "spool-fill $N: $(echo "$end - $start" | bc 2>/dev/null || echo "?") s" >&3 &&
	test $(wc -l <ids) = $N &&
	test $(queue_count) = $N
'

test_expect_success 'the listing has every message, in ID order' '
	start=$(date +%s.%N) &&
	mailq >out &&
	end=$(date +%s.%N) &&
	say "mailq with $N messages: $(echo "$end - $start" | bc 2>/dev/null || echo "?") s" >&3 &&
	tail -n 1 out | grep "^-- [0-9]* Kbytes in $N Requests\.\$" &&
	grep "^[0-9A-Za-z]\{11,\} " out | cut -d" " -f1 >listed &&
	sort ids >expect &&
	test_cmp expect listed &&
	test $(grep -c "^ \{47\}a@example.org\$" out) = $N
'

test_expect_success '-j has one line per message' '
	mailq -j >out &&
	test $(wc -l <out) = $N &&
	sed "s/.*\"queue_id\": \"\([0-9A-Za-z]*\)\".*/\1/" out >listed &&
	sort ids >expect &&
	test_cmp expect listed
'

test_expect_success STRACE 'one open and two preads per message, no fork' '
	strace -f -o trace -e trace=open,openat,pread64,clone,clone3,fork,vfork,execve \
	    mailq >/dev/null &&
	opens=$(grep -c "open.*spool/\|openat([0-9]*, \"[0-9A-Za-z]\{11,\}\"" trace) &&
	preads=$(grep -c "pread64(" trace) &&
	forks=$(grep -cE "^([0-9]+ +)?(clone|clone3|fork|vfork)\(" trace || :) &&
	say "opens of queue files $opens, preads $preads (the loader'"'"'s too), forks $forks" >&3 &&
	test "$opens" -le $((N + 10)) &&
	test "$preads" -ge $((2 * N)) &&
	test "$preads" -le $((2 * N + 10)) &&
	test "$forks" = 0
'

test_expect_success 'a reader that stops early: quiet, exit 0' '
	{ mailq 2>err; echo $? >status; } | head -n 1 >first &&
	grep "^----Queue ID" first &&
	test "$(cat status)" = 0 &&
	test_cmp /dev/null err
'

test_expect_success '-d ALL on many' '
	mailq -d ALL 2>err &&
	tail -n 1 err | grep "^mailq: Deleted: $N messages\$" &&
	test $(queue_count) = 0
'

test_done
