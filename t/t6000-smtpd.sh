#!/bin/sh
test_description='smtpd-lite: the SMTP protocol, hostile input, relay control (one session per process, a Unix socket as inetd would give a TCP one)'
. "$(dirname "$0")/test-lib.sh"

me=$(id -un)
CHAT="/usr/bin/python3 $T_DIR/helper/smtpd-chat.py"

# chat ADDR - run smtpd-lite for a client at ADDR with the script on
# stdin; the replies go to standard output
chat() {
	$CHAT --timeout 5 --env TCPREMOTEIP="$1" -- smtpd-lite
}

# No delivery in these tests: queued mail stays for inspection, and no
# runq moves it from incoming/ to queue/ while a test looks at it.
test_config queue_run_delay 1d
test_config defer_transports "local, smtp, virtual"
mkdir -p fakebin
ln -s "$CORREO_BUILD/smtpd-lite" fakebin/smtpd-lite
ln -s /bin/true fakebin/runq
test_config daemon_directory "$TRASH/fakebin"

queue_empty() {
	mailq -d ALL >/dev/null 2>&1
	:
}

test_expect_success 'greeting, EHLO keywords, QUIT' '
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S EHLO client.example
	E
	S QUIT
	A
	EOF
	cat >expect <<-\END &&
	220 host.example.org ESMTP correo
	250-host.example.org
	250-PIPELINING
	250-SIZE 10240000
	250-ENHANCEDSTATUSCODES
	250-8BITMIME
	250-DSN
	250-SMTPUTF8
	250 CHUNKING
	221 2.0.0 Bye
	EOF
	END
	test_cmp expect out &&
	test_grep "correo/smtpd\[[0-9]*\]: connect from unknown\[127.0.0.1\]" maillog &&
	test_grep "disconnect from unknown\[127.0.0.1\] ehlo=1 quit=1 commands=2" maillog
'

test_expect_success 'a message from mynetworks: queued durably, then 250 with the queue ID' '
	queue_empty &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO client.example
	E
	S MAIL FROM:<alice@client.example>
	E
	S RCPT TO:<$me@host.example.org>
	E
	S DATA
	E
	S Subject: hello
	S Message-ID: <m1@client.example>
	S
	S ..dot-stuffed line
	S body
	S .
	E
	S QUIT
	E
	EOF
	test_grep "^250 2.0.0 Ok: queued as [0-9A-Za-z]*$" out &&
	id=$(sed -n "s/^250 2.0.0 Ok: queued as //p" out) &&
	test "$(queue_count)" = 1 &&
	correo-test spool-dump "$(queued_files)" >dump &&
	test_grep "^sender: alice@client.example" dump &&
	test_grep "^rcpt: $me@host.example.org" dump &&
	test_grep "^origin: smtp client=unknown\[127.0.0.1\] helo=client.example" dump &&
	queue_content "$(queued_files)" >content &&
	test_grep "^Received: from client.example \(unknown \[127.0.0.1\]\)" content &&
	test_grep "by host.example.org \(correo\) with ESMTP id $id" content &&
	test_grep "^\.dot-stuffed line" content &&
	! grep "^\.\.dot" content &&
	test_grep "$id: client=unknown\[127.0.0.1\]" maillog &&
	test_grep "$id: message-id=<m1@client.example>" maillog &&
	size=$(wc -c <content) &&
	test_grep "$id: from=<alice@client.example>, size=$size, nrcpt=1 \(queue active\)" maillog
'

test_expect_success 'relay: an outside client may not send elsewhere (defer_unauth_destination by default)' '
	queue_empty &&
	chat 192.0.2.7 >out <<-\EOF &&
	E
	S EHLO evil.example
	E
	S MAIL FROM:<spam@evil.example>
	E
	S RCPT TO:<victim@remote.example>
	E
	S QUIT
	E
	EOF
	test_grep "^454 4.7.1 <victim@remote.example>: Relay access denied" out &&
	test_grep "NOQUEUE: reject: RCPT from unknown\[192.0.2.7\]: 454 4.7.1" maillog
'

test_expect_success 'relay: reject_unauth_destination refuses 554 5.7.1; loopback outside mynetworks is nobody' '
	test_config smtpd_relay_restrictions "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination" &&
	test_config mynetworks "192.0.2.0/24" &&
	test_when_finished "test_config mynetworks \"127.0.0.0/8, [::1]/128\"" &&
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S EHLO localhost
	E
	S MAIL FROM:<a@host.example.org>
	E
	S RCPT TO:<victim@remote.example>
	E
	S QUIT
	E
	EOF
	test_grep "^554 5.7.1 <victim@remote.example>: Relay access denied" out
'

# relay_try RCPT - an outside client tries RCPT; prints the RCPT reply
relay_try() {
	printf "E\nS EHLO evil.example\nE\nS MAIL FROM:<s@evil.example> SMTPUTF8\nE\nS RCPT TO:<%s>\nE\nS QUIT\nE\n" "$1" |
	chat 192.0.2.7 | sed -n "/^250 2.1.0/{n;p;}"
}

test_expect_success 'open relay tricks are never relayed' '
	test_config smtpd_relay_restrictions "permit_mynetworks, reject_unauth_destination" &&
	for r in "victim%remote.example@host.example.org" \
	    "remote.example!victim@host.example.org" \
	    "@host.example.org:victim@remote.example" \
	    "@host.example.org,@x.example:victim@remote.example" \
	    "\"victim@remote.example\"@host.example.org" \
	    "\"victim%remote.example\"@host.example.org" \
	    "victim@remote.example@host.example.org" \
	    "victim@remote.example." \
	    "victim@[192.0.2.99]" \
	    "victim@REMOTE.example" \
	    "victim@host.example.org.remote.example"; do
		relay_try "$r" >reply &&
		echo "$r -> $(cat reply)" &&
		if grep -q "^250" reply; then return 1; fi || return 1
	done &&
	relay_try "Postmaster@HOST.EXAMPLE.ORG." >reply &&
	test_grep "^550 5.1.1|^250" reply
'

test_expect_success 'an unknown local user is refused at RCPT (local_recipient_maps)' '
	chat 192.0.2.7 >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<s@c.example>
	E
	S RCPT TO:<nosuchuser@host.example.org>
	E
	S DATA
	E
	S QUIT
	E
	EOF
	test_grep "^550 5.1.1 <nosuchuser@host.example.org>: Recipient address rejected: User unknown in local recipient table" out &&
	test_grep "^554 5.5.1 Error: no valid recipients" out
'

# smuggle NAME BYTES - DATA whose content holds BYTES, then a smuggled
# transaction, then the real end: one reply, nothing smuggled
smuggle() {
	queue_empty
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a@c.example>
	E
	S RCPT TO:<$me@host.example.org>
	E
	S DATA
	E
	R Subject: smuggle\r\n\r\nbody$2MAIL FROM:<ceo@host.example.org>\r\nRCPT TO:<$me@host.example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n
	E
	S QUIT
	A
	EOF
	cat out &&
	test "$(grep -c "^250 2.1.0\|^250 2.1.5\|^354" out)" = 3 &&
	test "$(queue_count)" = 0 &&
	test_grep "^550 5.5.2 .*bare <CR> or <LF>|^554 5.6.0" out
}

for v in 'LF.LF:\n.\n' 'LF.CRLF:\n.\r\n' 'CRLF.LF:\r\n.\n' 'CR.CR:\r.\r' \
    'CR.CRLF:\r.\r\n' 'CR.LF:\r.\n' 'LF.CR:\n.\r' 'CRLF.CR:\r\n.\r' \
    'CRLF.CRCRLF:\r\n.\r\r\n' 'CRCRLF.CRCRLF:\r\r\n.\r\r\n' \
    'NULbefore:\r\n\0.\r\n' 'NULafter:\r\n.\0\r\n'; do
	name=${v%%:*}
	bytes=${v#*:}
	test_expect_success "smuggling <$name>: one reply after the real end, nothing queued" "
		smuggle $name '$bytes'
	"
done

# long_line K - a K-octet line right before \".\r\n\": never split
test_expect_success 'lines are never split at buffer boundaries: a long line and a dot line stay content' '
	for k in 510 511 512 997 998 999 1022 1023 1024 2046 2047 2048 4094 4095 4096 8190 8191 8192 16383 16384 16385; do
		queue_empty
		line=$(printf "%0${k}d" 0) &&
		chat 127.0.0.1 >out <<-EOF &&
		E
		S EHLO c.example
		E
		S MAIL FROM:<a@c.example>
		E
		S RCPT TO:<$me@host.example.org>
		E
		S DATA
		E
		R Subject: long\r\n\r\n$line\n.\r\nRSET\r\nQUIT\r\nend\r\n.\r\n
		E
		S QUIT
		A
		EOF
		test_grep "^550 5.5.2" out || return 1
	done
'

test_expect_success 'the real end after a dot-line that follows a CRLF line still works (and pipelining after it)' '
	queue_empty &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	R MAIL FROM:<a@c.example>\r\nRCPT TO:<$me@host.example.org>\r\nDATA\r\n
	E
	E
	E
	R Subject: ok\r\n\r\n..\r\nx\r\n.\r\nMAIL FROM:<b@c.example>\r\nRCPT TO:<$me@host.example.org>\r\nDATA\r\n
	E
	E
	E
	E
	R \r\n.\r\n
	E
	S QUIT
	A
	EOF
	test "$(grep -c "^250 2.0.0 Ok: queued as" out)" = 2 &&
	test "$(queue_count)" = 2
'

test_expect_success 'bare LF in a command: 500 5.5.2 and the end; NUL and control characters refuse the line' '
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S NOOP\0MAIL FROM:<x@y>
	E
	R NOOP\n
	A
	EOF
	test_grep "^500 5.5.2 Error: command contains a control character" out &&
	test_grep "^500 5.5.2 host.example.org Error: bare <LF> received" out &&
	test_grep "^EOF" out
'

test_expect_success 'a command too long is read to its end and refused, not split' '
	long=$(printf "%02100d" 0) &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S NOOP $long QUIT
	E
	S NOOP
	E
	S QUIT
	E
	EOF
	test_grep "^500 5.5.2 Error: command too long" out &&
	test_grep "^250 2.0.0 Ok" out &&
	test_grep "^221" out
'

test_expect_success 'a command of exactly line_length_limit octets is taken; a long ORCPT is refused' '
	ok=$(printf "%02043d" 0) &&
	long=$(printf "%0501d" 0) &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S NOOP $ok
	E
	S MAIL FROM:<a@c.example>
	E
	S RCPT TO:<$me@host.example.org> ORCPT=rfc822;$long
	E
	S QUIT
	A
	EOF
	test_grep "^250 2.0.0 Ok" out &&
	test_grep "^501 5.5.4 Error: Bad ORCPT parameter syntax" out
'

test_expect_success 'pipelining where the client must wait: 554 5.5.0 and the end' '
	chat 127.0.0.1 >out <<-\EOF &&
	E
	R EHLO c.example\r\nMAIL FROM:<a@c.example>\r\n
	A
	EOF
	test_grep "^554 5.5.0 Error: SMTP protocol synchronization" out &&
	test_grep "improper command pipelining after EHLO" maillog &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	R MAIL FROM:<a@c.example>\r\nRCPT TO:<$me@host.example.org>\r\nDATA\r\nSubject: early\r\n
	A
	EOF
	test_grep "^554 5.5.0" out &&
	test_grep "^250 2.1.5" out &&
	! grep "^354" out &&
	printf "R EHLO early\\\\r\\\\n\nP 0.3\nA\n" | $CHAT --timeout 5 --env TCPREMOTEIP=127.0.0.1 -- sh -c "sleep 0.2; exec smtpd-lite" >out &&
	test_grep "^554 5.5.0" out
'

test_expect_success 'HTTP requests and header lines: 221 2.7.0 and the end' '
	for l in "GET / HTTP/1.0" "POST /x HTTP/1.1" "CONNECT mx:25 HTTP/1.1" "Host: mx.example"; do
		printf "E\nS %s\nA\n" "$l" | chat 127.0.0.1 >out &&
		test_grep "^221 2.7.0 Error: I can break rules, too. Goodbye." out || return 1
	done
'

test_expect_success 'VRFY tells nothing, EXPN and ETRN are refused, HELP answers' '
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S VRFY $me
	E
	S VRFY nosuchuser
	E
	S EXPN staff
	E
	S ETRN host.example.org
	E
	S HELP
	E
	S QUIT
	E
	EOF
	test "$(grep -c "^252 2.5.2" out)" = 2 &&
	test_grep "^502 5.5.1 EXPN command is disabled" out &&
	test_grep "^502 5.5.1 Error: ETRN" out &&
	test_grep "^214 2.0.0" out
'

test_expect_success 'command order: MAIL before EHLO, RCPT before MAIL, DATA before RCPT, nested MAIL' '
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S MAIL FROM:<a@c.example>
	E
	S HELO c.example
	E
	S RCPT TO:<b@c.example>
	E
	S DATA
	E
	S MAIL FROM:<a@c.example>
	E
	S DATA
	E
	S MAIL FROM:<a@c.example>
	E
	S QUIT
	E
	EOF
	test_grep "^503 5.5.1 Error: send HELO/EHLO first" out &&
	test_grep "^503 5.5.1 Error: need MAIL command" out &&
	test_grep "^503 5.5.1 Error: need RCPT command" out &&
	test_grep "^503 5.5.1 Error: nested MAIL command" out
'

test_expect_success 'syntax errors: sender 501 5.1.7, recipient 501 5.1.3, unknown option 555 5.5.4' '
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a b@c.example>
	E
	S MAIL FROM:<a@c.example> FOO=bar
	E
	S MAIL FROM:<a@c.example>
	E
	S RCPT TO:<@@>
	E
	S QUIT
	E
	EOF
	test_grep "^501 5.1.7" out &&
	test_grep "^555 5.5.4 Unsupported option: FOO" out &&
	test_grep "^501 5.1.3" out
'

test_expect_success 'DSN: NOTIFY, ORCPT, RET, ENVID are kept; xtext that decodes to CR is refused' '
	queue_empty &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a@c.example> RET=HDRS ENVID=QQ+2B1
	E
	S RCPT TO:<$me@host.example.org> NOTIFY=success,failure ORCPT=rfc822;orig+2Bx@c.example
	E
	S RCPT TO:<$me@host.example.org> ORCPT=rfc822;x+0D+0AHeader:+20evil
	E
	S DATA
	E
	S x
	S .
	E
	S MAIL FROM:<a@c.example> ENVID=a+0Db
	E
	S QUIT
	E
	EOF
	test "$(grep -c "^501 5.5.4" out)" = 2 &&
	correo-test spool-dump "$(queued_files)" >dump &&
	test_grep "^ret: HDRS" dump &&
	test_grep "^envid: QQ\+1" dump &&
	test_grep "orcpt: rfc822;orig\+x@c.example" dump &&
	test_grep "notify: SUCCESS,FAILURE" dump
'

test_expect_success 'SMTPUTF8: a UTF-8 address needs it (553 5.6.7); with it, accepted' '
	u=$(printf "j\303\266rg") &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<$u@c.example>
	E
	S MAIL FROM:<$u@c.example> SMTPUTF8
	E
	S QUIT
	E
	EOF
	test_grep "^553 5.6.7 Must declare SMTPUTF8" out &&
	test_grep "^250 2.1.0" out
'

test_expect_success 'IDN: the Unicode and fullwidth forms of our domain are the one A-label form' '
	queue_empty &&
	test_config mydestination "host.example.org, xn--bcher-kva.example" &&
	test_when_finished "test_config mydestination \"host.example.org, localhost\"" &&
	d=$(printf "b\303\274cher.example") &&
	chat 192.0.2.7 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a@c.example> SMTPUTF8
	E
	S RCPT TO:<$me@$d>
	E
	S QUIT
	E
	EOF
	test_grep "^250 2.1.5" out
'

test_expect_success 'limits: recipients (452 4.5.3), SIZE= (552 5.3.4), message size and hops after the end' '
	queue_empty &&
	test_config smtpd_recipient_limit 2 &&
	test_config message_size_limit 2000 &&
	test_config hopcount_limit 3 &&
	test_when_finished "test_config smtpd_recipient_limit 1000; test_config message_size_limit 10240000; test_config hopcount_limit 50" &&
	big=$(printf "%03000d" 0) &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a@c.example> SIZE=5000
	E
	S MAIL FROM:<a@c.example> SIZE=100
	E
	S RCPT TO:<$me@host.example.org>
	E
	S RCPT TO:<$me@host.example.org>
	E
	S RCPT TO:<$me@host.example.org>
	E
	S DATA
	E
	S $big
	S .
	E
	S MAIL FROM:<a@c.example>
	E
	S RCPT TO:<$me@host.example.org>
	E
	S DATA
	E
	S Received: a
	S Received: b
	S Received: c
	S
	S x
	S .
	E
	S QUIT
	E
	EOF
	test_grep "^552 5.3.4 Message size exceeds fixed limit" out &&
	test_grep "^452 4.5.3 Error: too many recipients" out &&
	test_grep "^552 5.3.4 Error: message file too big" out &&
	test_grep "^554 5.4.6 Error: too many hops" out &&
	test "$(queue_count)" = 0
'

test_expect_success 'BDAT: chunks joined, LAST commits; DATA after BDAT is 503' '
	queue_empty &&
	chat 127.0.0.1 >out <<-EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a@c.example>
	E
	S RCPT TO:<$me@host.example.org>
	E
	R BDAT 20\r\nSubject: chunked\r\n\r\n
	E
	S DATA
	E
	R BDAT 7 LAST\r\nbody\r\n.
	E
	S QUIT
	E
	EOF
	test_grep "^250 2.0.0 Ok: 20 octets|^250 2.0.0 Ok:" out &&
	test_grep "^503 5.5.1 Error: DATA after BDAT" out &&
	test_grep "^250 2.0.0 Ok: queued as" out &&
	queue_content "$(queued_files)" >content &&
	test_grep "^Subject: chunked" content &&
	test_grep "^body" content &&
	test_grep "^\.$" content
'

test_expect_success 'a malformed BDAT ends the session' '
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S MAIL FROM:<a@c.example>
	E
	S BDAT x
	A
	EOF
	test_grep "^501 5.5.4 Syntax: BDAT count \[LAST\]" out &&
	test_grep "^EOF" out
'

test_expect_success 'errors: past smtpd_hard_error_limit, 421 4.7.0 and the end' '
	test_config smtpd_hard_error_limit 3 &&
	test_config smtpd_error_sleep_time 0 &&
	test_when_finished "test_config smtpd_hard_error_limit 20; test_config smtpd_error_sleep_time 1s" &&
	chat 127.0.0.1 >out <<-\EOF &&
	E
	S FOO
	E
	S BAR
	E
	S BAZ
	E
	S NOOP
	A
	EOF
	test_grep "^421 4.7.0 host.example.org Error: too many errors" out
'

test_expect_success 'a cap on command bytes before DATA: a NOOP flood ends with 421' '
	/usr/bin/python3 -c "
import sys
sys.stdout.write(\"E\\nS EHLO c.example\\nE\\n\")
for i in range(600):
    sys.stdout.write(\"S NOOP \" + \"x\" * 2000 + \"\\nE\\n\")
sys.stdout.write(\"A\\n\")
" | chat 127.0.0.1 >out &&
	test_grep "^421 4.7.0 host.example.org Error: too much data before DATA" out &&
	test "$(grep -c "^250 2.0.0 Ok" out)" -lt 600
'

test_expect_success 'an unknown peer (no address at all) is nobody: no relay' '
	printf "E\nS EHLO c\nE\nS MAIL FROM:<a@c.example>\nE\nS RCPT TO:<v@remote.example>\nE\nS QUIT\nE\n" |
	$CHAT --timeout 5 -- env -u TCPREMOTEIP -u REMOTE_ADDR smtpd-lite >out &&
	test_grep "^(454 4.7.1|554 5.7.1) <v@remote.example>: Relay access denied" out &&
	test_grep "connect from unknown\[unknown\]" maillog
'

test_expect_success 'silence: 421 4.4.2 after smtpd_timeout' '
	test_config smtpd_timeout 1s &&
	test_when_finished "test_config smtpd_timeout 300s" &&
	chat 127.0.0.1 >out <<-\EOF &&
	E
	P 1.5
	A
	EOF
	test_grep "^421 4.4.2 host.example.org Error: timeout exceeded" out
'

test_expect_success 'sendmail -bs: the local user, no relay control' '
	queue_empty &&
	printf "E\nS EHLO me\nE\nS MAIL FROM:<$me@host.example.org>\nE\nS RCPT TO:<far@remote.example>\nE\nS DATA\nE\nS hi\nS .\nE\nS QUIT\nE\n" |
	$CHAT --timeout 5 -- sendmail -bs >out &&
	test_grep "^250 2.0.0 Ok: queued as" out &&
	correo-test spool-dump "$(queued_files)" >dump &&
	test_grep "^origin: local uid=$(id -u) user=$me" dump
'

test_lazy_prereq UNSHARE 'unshare -m true'
test_expect_success ROOT,UNSHARE 'a full disk: 452 4.3.1 after the content, never 250, nothing left in the queue' '
	queue_empty &&
	big=$(printf "%070d" 0) &&
	{
		printf "E\nS EHLO c.example\nE\nS MAIL FROM:<a@c.example>\nE\n"
		printf "S RCPT TO:<%s@host.example.org>\nE\nS DATA\nE\nS Subject: big\nS\n" "$me"
		i=0
		while [ $i -lt 8000 ]; do echo "S $big"; i=$((i + 1)); done
		printf "S .\nE\nS QUIT\nE\n"
	} >big.chat &&
	unshare -m sh -c "
		mkdir -p \"$TRASH/spool/incoming\" &&
		mount -t tmpfs -o size=256k tmpfs \"$TRASH/spool/incoming\" &&
		$CHAT --timeout 10 --env TCPREMOTEIP=127.0.0.1 -- smtpd-lite <big.chat >out
	" &&
	cat out | tail -3 &&
	test_grep "^452 4.3.1 Insufficient system storage" out &&
	! grep "^250 2.0.0 Ok: queued" out &&
	test "$(queue_count)" = 0
'

test_expect_success 'a listening socket on fd 0 is refused' '
	python3 -c "
import socket, subprocess, sys
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)
sys.exit(subprocess.call([\"smtpd-lite\"], stdin=s.fileno()))
" 2>err;
	test $? = 64 &&
	test_grep "listening socket" err
'

test_done
