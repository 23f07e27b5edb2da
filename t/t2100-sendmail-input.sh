#!/bin/sh
test_description='sendmail input: dots, line ends, From_, NUL, hops, long lines, size'
. "$(dirname "$0")/test-lib.sh"

body_of() {
	queue_content "$1" | sed -n '/^$/,$p' | tail -n +2
}

test_expect_success 'without -i a lone dot ends input; other dot lines pass unchanged' '
	printf "Subject: d\n\n..\n.x\n. \n.\nafter\n" | sendmail -odq bob@example.org &&
	body_of $(the_queue_file) >actual &&
	printf "..\n.x\n. \n" >expect &&
	test_cmp expect actual
'

test_expect_success 'with -i (and -oi) only end of file ends input' '
	rm -rf spool/incoming/* &&
	printf "Subject: d\n\na\n.\nb\n" | sendmail -odq -i bob@example.org &&
	body_of $(the_queue_file) >actual &&
	printf "a\n.\nb\n" >expect &&
	test_cmp expect actual &&
	rm -rf spool/incoming/* &&
	printf "Subject: d\n\na\n.\nb\n" | sendmail -odq -oi bob@example.org &&
	body_of $(the_queue_file) >actual &&
	test_cmp expect actual
'

test_expect_success 'a dot line with CRLF ends input too; a dot in the headers as well' '
	rm -rf spool/incoming/* &&
	printf "Subject: d\r\n\r\na\r\n.\r\nb\r\n" | sendmail -odq bob@example.org &&
	body_of $(the_queue_file) >actual &&
	printf "a\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'CRLF becomes LF; a bare CR stays; no final newline gets one' '
	rm -rf spool/incoming/* &&
	printf "Subject: c\r\n\r\none\r\ntwo\rthree\nfour" | sendmail -odq -i bob@example.org &&
	body_of $(the_queue_file) >actual &&
	printf "one\ntwo\rthree\nfour\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a leading Unix "From " line is dropped, a later one kept' '
	rm -rf spool/incoming/* &&
	printf "From alice Mon Jan  1 00:00:00 2024\nSubject: f\n\nFrom here\n" |
	sendmail -odq -i bob@example.org &&
	queue_content $(the_queue_file) >c &&
	! grep "^From alice" c &&
	test_grep "^From here\$" c &&
	test_grep "^Subject: f\$" c
'

test_expect_success 'a NUL byte is refused with EX_DATAERR and nothing is queued' '
	rm -rf spool/incoming/* &&
	printf "Subject: n\n\na\000b\n" >nul.msg &&
	test_expect_code 65 sendmail -odq -i bob@example.org <nul.msg 2>err &&
	test_grep "NUL" err &&
	test "$(queue_count)" = 0 &&
	test -z "$(ls -A spool/incoming)"
'

test_expect_success '8-bit text passes unchanged and marks the body 8BITMIME' '
	rm -rf spool/incoming/* &&
	printf "Subject: caf\303\251\n\nna\303\257ve \377\n" >8.msg &&
	sendmail -odq -i bob@example.org <8.msg &&
	f=$(the_queue_file) &&
	queue_content "$f" >c &&
	test_grep "^Subject: caf$(printf "\303\251")\$" c &&
	test_grep "^na$(printf "\303\257")ve $(printf "\377")\$" c &&
	queue_envelope "$f" | grep "^body: 8BITMIME\$" &&
	rm -rf spool/incoming/* &&
	sendmail -odq -i -B7BIT bob@example.org <8.msg &&
	queue_envelope $(the_queue_file) | grep "^body: 7BIT\$"
'

test_expect_success 'more than hopcount_limit Received: headers is refused' '
	rm -rf spool/incoming/* &&
	test_config hopcount_limit 5 &&
	for i in 1 2 3 4 5 6; do echo "Received: from h$i by h"; done >hops.msg &&
	printf "Subject: loop\n\nx\n" >>hops.msg &&
	test_expect_code 65 sendmail -odq -i bob@example.org <hops.msg 2>err &&
	test_grep "too many hops" err &&
	test "$(queue_count)" = 0 &&
	sed 1d hops.msg >ok.msg &&
	sendmail -odq -i bob@example.org <ok.msg &&
	test "$(queue_count)" = 1 &&
	test_config hopcount_limit 50
'

test_expect_success 'lines over 998 octets are queued unchanged (2000 and 1 MiB)' '
	rm -rf spool/incoming/* &&
	long=$(head -c 2000 /dev/zero | tr "\0" x) &&
	{ printf "Subject: long\n\n"; echo "$long"; echo end; } >long.msg &&
	sendmail -odq -i bob@example.org <long.msg &&
	body_of $(the_queue_file) >actual &&
	{ echo "$long"; echo end; } >expect &&
	test_cmp expect actual &&
	rm -rf spool/incoming/* &&
	{ printf "Subject: huge\n\n"; head -c 1048576 /dev/zero | tr "\0" y; printf "\r\n.\nz\n"; } >huge.msg &&
	sendmail -odq bob@example.org <huge.msg &&
	body_of $(the_queue_file) >actual &&
	test $(head -n 1 actual | wc -c) = 1048577 &&
	test $(wc -l <actual) = 1
'

test_expect_success 'a header line longer than header_size_limit is cut, not refused' '
	rm -rf spool/incoming/* &&
	test_config header_size_limit 1000 &&
	{ printf "X-Long: "; head -c 5000 /dev/zero | tr "\0" h; printf "\nSubject: s\n\nb\n"; } >lh.msg &&
	sendmail -odq -i bob@example.org <lh.msg &&
	queue_content $(the_queue_file) >c &&
	test $(grep "^X-Long:" c | wc -c) -le 1001 &&
	test_grep "^Subject: s\$" c &&
	test_config header_size_limit 102400
'

test_expect_success 'message_size_limit is enforced while reading' '
	rm -rf spool/incoming/* &&
	test_config message_size_limit 10000 &&
	{ printf "Subject: big\n\n"; head -c 20000 /dev/zero | tr "\0" "a" | fold -w 70; } >big.msg &&
	test_expect_code 65 sendmail -odq -i bob@example.org <big.msg 2>err &&
	test_grep "message file too big" err &&
	test "$(queue_count)" = 0 &&
	head -c 5000 big.msg | sendmail -odq -i bob@example.org &&
	test "$(queue_count)" = 1 &&
	test_config message_size_limit 10240000
'

test_lazy_prereq GNU_TIME '/usr/bin/time -f %M true'
test_expect_success GNU_TIME,NOT_ASAN 'memory stays flat: 64 MiB through sendmail in under 4 MiB RSS' '
	rm -rf spool/incoming/* &&
	test_config message_size_limit 0 &&
	{ printf "Subject: big\n\n"; yes "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" |
	  head -n 880000; } >big.msg &&
	/usr/bin/time -o rss -f %M sendmail -odq -i bob@example.org <big.msg &&
	echo "peak RSS KiB: $(cat rss)" &&
	test "$(cat rss)" -lt 4096 &&
	test "$(queue_count)" = 1 &&
	rm -f big.msg &&
	test_config message_size_limit 10240000
'

test_done
