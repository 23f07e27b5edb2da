#!/bin/sh
test_description='the SMTP peers of the SMTP client tests (lib-smtppeer.sh): smtp-peer.py and smtp-sink'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-tlsca.sh"
. "$T_DIR/lib-smtppeer.sh"

# As root (CI) .ci/deps installs them, so a missing one is a failure
# there; elsewhere the script is skipped.
for p in AIOSMTPD SWAKS SMTPSINK OPENSSL; do
	test_have_prereq $p && continue
	test_have_prereq ROOT || skip_all "missing $p (sh .ci/deps test, as root, installs it)"
	test_expect_success "$p is installed (run: sh .ci/deps test)" 'false'
	test_done
done

# sw PORT [SWAKS-OPTION...] - swaks to 127.0.0.1:PORT, its talk in "out"
sw() {
	_p=$1
	shift
	swaks --server "127.0.0.1:$_p" --helo client.example.org \
	    --from alice@example.org --to bob@example.org --timeout 5 \
	    --body 'Hello, peer.' "$@" >out 2>&1
	_st=$?
	cat out
	return $_st
}

# chat PORT - a raw SMTP client: each stdin line is sent as a command
# and its reply printed as "S: ..."; after a 354 the lines up to "."
# are sent as content.  "S: EOF" when the server closes, "S: TIMEOUT"
# when it does not answer within $CHAT_TIMEOUT seconds (5).
cat >chat.py <<'EOF'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                             timeout=float(os.environ.get("CHAT_TIMEOUT", 5)))
f = s.makefile("rb")
def reply():
    while True:
        try:
            l = f.readline()
        except socket.timeout:
            print("S: TIMEOUT")
            sys.exit(0)
        if not l:
            print("S: EOF")
            sys.exit(0)
        l = l.decode().rstrip("\r\n")
        print("S: " + l)
        if l[3:4] != "-":
            return l
reply()
data = False
for line in sys.stdin:
    line = line.rstrip("\n")
    s.sendall(line.encode() + b"\r\n")
    if data and line != ".":
        continue
    data = reply().startswith("354")
if not f.readline():
    print("S: EOF")
EOF
chat() {
	"$SMTP_PEER_PYTHON" chat.py "$1" >out 2>&1
	_st=$?
	cat out
	return $_st
}

test_expect_success 'a test CA and a certificate for the peer' '
	tlsca_init &&
	tlsca_cert mx mx.example.org mx.example.org 127.0.0.1 ||
	{ cat "$TLSCA_DIR/openssl.err"; false; }
'
CA=$TLSCA_DIR/ca.crt
PEM=$TLSCA_DIR/mx.pem

# Peers for several tests, started at the top level: they live until
# the script ends.
start_smtp_peer MX >start.err 2>&1 || { cat start.err; exit 1; }
start_smtp_peer TLS --tls-cert "$PEM" --auth alice:secret \
    --auth bob:hunter2 >start.err 2>&1 || { cat start.err; exit 1; }

test_expect_success 'plain delivery: stored with the X-Peer lines' '
	sw $MX_PORT --to bob@example.org,carol@example.org &&
	test "$(smtp_peer_count MX)" = 1 &&
	smtp_peer_message MX 1 >msg &&
	cat >expect <<-\EOF &&
	X-Peer-Mail-From: <alice@example.org>
	X-Peer-Rcpt-To: <bob@example.org>
	X-Peer-Rcpt-To: <carol@example.org>
	X-Peer-Mail-Options:
	X-Peer-TLS: none
	X-Peer-Auth: none
	X-Peer-Helo: EHLO client.example.org
	EOF
	head -n 7 msg >actual &&
	test_cmp expect actual &&
	test_grep "^Subject: test " msg &&
	test_grep "^Hello, peer\.$" msg &&
	test_path_is_file "$MX_MAILDIR/0001.eml"
'

test_expect_success 'the log: every command line in order, events' '
	cat >expect <<-\EOF &&
	# connect 1 127.0.0.1
	EHLO client.example.org
	MAIL FROM:<alice@example.org>
	RCPT TO:<bob@example.org>
	RCPT TO:<carol@example.org>
	DATA
	.
	# stored 0001.eml
	QUIT
	# close 1
	EOF
	test_cmp expect "$MX_LOG"
'

test_expect_success 'the content is stored as received, dots unstuffed' '
	chat $MX_PORT <<-\EOF &&
	EHLO client.example.org
	MAIL FROM:<>
	RCPT TO:<bob@example.org>
	DATA
	Subject: dots

	..leading dot
	...two
	last
	.
	QUIT
	EOF
	smtp_peer_message MX 2 | sed -n "/^Subject: dots/,\$p" >actual &&
	printf "Subject: dots\n\n.leading dot\n..two\nlast\n" >expect &&
	test_cmp expect actual &&
	smtp_peer_message MX 2 | sed 1q >actual &&
	echo "X-Peer-Mail-From: <>" >expect &&
	test_cmp expect actual
'

test_expect_success 'MAIL and RCPT parameters are recorded' '
	start_smtp_peer P --size 100000 --ehlo-add DSN --ehlo-add PIPELINING &&
	chat $P_PORT <<-\EOF &&
	EHLO client.example.org
	MAIL FROM:<alice@example.org> SIZE=123 BODY=8BITMIME RET=HDRS ENVID=QQ314
	RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org
	RCPT TO:<carol@example.org>
	DATA
	Subject: params

	body
	.
	QUIT
	EOF
	test_grep "^S: 250-SIZE 100000$" out &&
	test_grep "^S: 250-DSN$" out &&
	test_grep "^S: 250 PIPELINING$" out &&
	smtp_peer_message P >msg &&
	cat >expect <<-\EOF &&
	X-Peer-Mail-From: <alice@example.org>
	X-Peer-Rcpt-To: <bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org
	X-Peer-Rcpt-To: <carol@example.org>
	X-Peer-Mail-Options: SIZE=123 BODY=8BITMIME RET=HDRS ENVID=QQ314
	EOF
	head -n 4 msg >actual &&
	test_cmp expect actual
'

test_expect_success 'parameters that EHLO did not offer get 555; SIZE over the limit 552' '
	start_smtp_peer P --size 1000 &&
	chat $P_PORT <<-\EOF &&
	EHLO client.example.org
	MAIL FROM:<alice@example.org> RET=FULL
	MAIL FROM:<alice@example.org> SMTPUTF8
	MAIL FROM:<alice@example.org> SIZE=1001
	MAIL FROM:<> SIZE=1000
	RCPT TO:<bob@example.org> NOTIFY=NEVER
	RCPT TO:bob@example.org
	QUIT
	EOF
	cat >expect <<-\EOF &&
	S: 555 5.5.4 Unsupported option: RET
	S: 555 5.5.4 Unsupported option: SMTPUTF8
	S: 552 5.3.4 Message size exceeds fixed limit
	S: 250 2.1.0 Ok
	S: 555 5.5.4 Unsupported option: NOTIFY
	S: 501 5.5.4 Syntax: RCPT TO:<address>
	S: 221 Bye
	S: EOF
	EOF
	sed -n "/^S: 250 8BITMIME/,\$p" out | sed 1d >actual &&
	test_cmp expect actual
'

test_expect_success 'a message over --size gets 552 after the dot' '
	start_smtp_peer P --size 200 &&
	awk "BEGIN { for (i = 0; i < 20; i++) print \"0123456789abcdef\" }" >body &&
	test_expect_code 26 sw $P_PORT --body @body &&
	test_grep "^<\*\* 552 " out &&
	test "$(smtp_peer_count P)" = 0
'

test_expect_success 'STARTTLS with the test CA' '
	sw $TLS_PORT --tls --tls-verify --tls-ca-path "$CA" &&
	test_grep "^=== TLS started with cipher TLSv1\.3" out &&
	smtp_peer_message TLS 1 >msg &&
	test_grep "^X-Peer-TLS: TLSv1\.3 TLS_[A-Z0-9_]+$" msg &&
	test_grep "^X-Peer-Auth: none$" msg
'

test_expect_success 'AUTH is offered only after STARTTLS' '
	sw $TLS_PORT --quit-after EHLO &&
	test_grep "^<-  250[- ]STARTTLS$" out &&
	test_grep -v "AUTH" out &&
	sw $TLS_PORT --tls --tls-ca-path "$CA" --quit-after EHLO &&
	test_grep "^<~  250 AUTH LOGIN PLAIN$" out &&
	test_grep -v "~  250.STARTTLS$" out
'

test_expect_success 'AUTH PLAIN and LOGIN; a wrong password gets 535 5.7.8' '
	sw $TLS_PORT --tls --tls-ca-path "$CA" --auth PLAIN \
	    --auth-user alice --auth-password secret &&
	test_grep "^<~  235 " out &&
	sw $TLS_PORT --tls --tls-ca-path "$CA" --auth LOGIN \
	    --auth-user bob --auth-password hunter2 &&
	test_grep "^<~  334 VXNlcm5hbWU6$" out &&
	test_expect_code 28 sw $TLS_PORT --tls --tls-ca-path "$CA" \
	    --auth PLAIN --auth-user alice --auth-password wrong &&
	test_grep "^<~\* 535 5\.7\.8 " out &&
	test_expect_code 28 sw $TLS_PORT --tls --tls-ca-path "$CA" \
	    --auth LOGIN --auth-user nobody --auth-password secret &&
	test_grep "^<~\* 535 5\.7\.8 " out &&
	smtp_peer_message TLS 2 >msg2 &&
	smtp_peer_message TLS 3 >msg3 &&
	test_grep "^X-Peer-Auth: alice$" msg2 &&
	test_grep "^X-Peer-Auth: bob$" msg3 &&
	test "$(smtp_peer_count TLS)" = 3
'

test_expect_success 'the log shows AUTH and its continuation lines' '
	plain=$(printf "\0alice\0secret" | base64) &&
	test_grep "^AUTH PLAIN $plain$" "$TLS_LOG" &&
	test_grep "^AUTH LOGIN$" "$TLS_LOG" &&
	test_grep "^$(printf bob | base64)$" "$TLS_LOG" &&
	test_grep "^$(printf hunter2 | base64)$" "$TLS_LOG" &&
	test_grep "^STARTTLS$" "$TLS_LOG"
'

test_expect_success '--auth-plaintext offers AUTH without TLS' '
	start_smtp_peer P --auth alice:secret --auth-plaintext &&
	sw $P_PORT --auth PLAIN --auth-user alice --auth-password secret &&
	test_grep "^<-  250 AUTH LOGIN PLAIN$" out &&
	smtp_peer_message P >msg &&
	test_grep "^X-Peer-TLS: none$" msg &&
	test_grep "^X-Peer-Auth: alice$" msg
'

test_expect_success '--require-tls: 530 before STARTTLS' '
	start_smtp_peer P --tls-cert "$PEM" --require-tls &&
	test_expect_code 23 sw $P_PORT &&
	test_grep "^<\*\* 530 5\.7\.0 Must issue a STARTTLS" out &&
	sw $P_PORT --tls --tls-ca-path "$CA" &&
	test "$(smtp_peer_count P)" = 1
'

test_expect_success '--tls-max 1.2' '
	start_smtp_peer P --tls-cert "$PEM" --tls-max 1.2 &&
	sw $P_PORT --tls --tls-ca-path "$CA" &&
	smtp_peer_message P >msg &&
	test_grep "^X-Peer-TLS: TLSv1\.2 " msg
'

test_expect_success 'implicit TLS: openssl s_client verifies and talks' '
	start_smtp_peer P --tls-cert "$PEM" --implicit-tls &&
	printf "EHLO client.example.org\r\nQUIT\r\n" |
	openssl s_client -connect "127.0.0.1:$P_PORT" -CAfile "$CA" \
	    -verify_return_error -verify_hostname mx.example.org \
	    -quiet -ign_eof >out 2>err &&
	test_grep "^220 smtp-peer.test ESMTP" out &&
	test_grep "^250 8BITMIME" out &&
	test_grep -v "STARTTLS" out &&
	test_grep "^221 " out &&
	sw $P_PORT --tls-on-connect --tls-ca-path "$CA" &&
	smtp_peer_message P >msg &&
	test_grep "^X-Peer-TLS: TLSv1\.3 " msg
'

# fault STAGE=CODE SWAKS-EXIT [SWAKS-OPTION...]: the peer answers STAGE
# with CODE, swaks exits with SWAKS-EXIT and shows the reply
for f in "greeting=554 21" "greeting=421 21" "ehlo=421 6" "helo=550 22 --protocol SMTP" \
    "mail=450 23" "mail=452 23" "mail=421 23" "rcpt=550 24" "rcpt=452 24" \
    "rcpt=421 24" "data=554 25" "data=451 25" "dot=552 26" "dot=450 26" \
    "dot=421 26"
do
	set -- $f
	spec=$1 want=$2
	shift 2
	extra="$*"
	test_expect_success "--reply $spec" '
		start_smtp_peer P --reply "$spec" &&
		test_expect_code $want sw $P_PORT $extra &&
		code=${spec#*=} &&
		test_grep "^<\*\* $code ${code%??}\.0\.0 smtp-peer: injected ${spec%=*} reply$" out &&
		test "$(smtp_peer_count P)" = 0 &&
		case $code in
		421)	test_grep "# close 1" "$P_LOG" &&
			test_grep -v "^QUIT" "$P_LOG" ;;
		*)	test_grep "^QUIT$" "$P_LOG" ;;
		esac
	'
done

test_expect_success 'a 554 greeting: 503 to all but QUIT' '
	start_smtp_peer P --reply "greeting=554:5.7.1 go away" &&
	chat $P_PORT <<-\EOF &&
	EHLO client.example.org
	MAIL FROM:<alice@example.org>
	QUIT
	EOF
	cat >expect <<-\EOF &&
	S: 554 5.7.1 go away
	S: 503 5.5.1 Error: no valid greeting
	S: 503 5.5.1 Error: no valid greeting
	S: 221 2.0.0 Bye
	S: EOF
	EOF
	test_cmp expect out
'

test_expect_success 'rcpt:ADDRESS refuses that recipient only; multi-line text' '
	start_smtp_peer P --reply "rcpt:Carol@Example.org=550:5.1.1 no such user\n5.1.1 really" \
	    --reply "rcpt:dave@example.org=452" &&
	sw $P_PORT --to bob@example.org,carol@example.org,dave@example.org &&
	test_grep "^<\*\* 550-5\.1\.1 no such user$" out &&
	test_grep "^<\*\* 550 5\.1\.1 really$" out &&
	test_grep "^<\*\* 452 4\.0\.0 " out &&
	smtp_peer_message P >msg &&
	grep "^X-Peer-Rcpt-To:" msg >actual &&
	echo "X-Peer-Rcpt-To: <bob@example.org>" >expect &&
	test_cmp expect actual
'

test_expect_success '--faulty-sessions 1: the second connection is served' '
	start_smtp_peer P --reply mail=450 --faulty-sessions 1 &&
	test_expect_code 23 sw $P_PORT &&
	sw $P_PORT &&
	test "$(smtp_peer_count P)" = 1
'

test_expect_success '--max-rcpt 2: the third recipient gets 452 4.5.3' '
	start_smtp_peer P --max-rcpt 2 &&
	sw $P_PORT --to a@example.org,b@example.org,c@example.org &&
	test_grep "^<\*\* 452 4\.5\.3 " out &&
	test "$(grep -c "^X-Peer-Rcpt-To:" "$P_MAILDIR/0001.eml")" = 2
'

test_expect_success '--no-ehlo: 502, and the client falls back to HELO' '
	start_smtp_peer P --no-ehlo &&
	sw $P_PORT &&
	test_grep "^<\*\* 502 " out &&
	smtp_peer_message P >msg &&
	test_grep "^X-Peer-Helo: HELO client.example.org$" msg &&
	test_grep -v "^X-Peer-Mail-Options: ." msg
'

test_expect_success '--hang mail: swaks times out' '
	start_smtp_peer P --hang mail --hang-max 10 &&
	test_expect_code 23 sw $P_PORT --timeout 1 &&
	test_grep "^# hang 1 mail$" "$P_LOG"
'

test_expect_success '--hang greeting and --hang dot' '
	start_smtp_peer P --hang greeting --hang-max 10 &&
	echo QUIT | CHAT_TIMEOUT=0.5 chat $P_PORT &&
	echo "S: TIMEOUT" >expect &&
	test_cmp expect out &&
	start_smtp_peer Q --hang dot --hang-max 10 &&
	CHAT_TIMEOUT=0.5 chat $Q_PORT <<-\EOF &&
	HELO client.example.org
	MAIL FROM:<>
	RCPT TO:<bob@example.org>
	DATA
	Subject: hang

	.
	QUIT
	EOF
	test_grep "^S: 354 " out &&
	tail -n 1 out >actual &&
	test_cmp expect actual &&
	test_grep "^# hang 1 dot$" "$Q_LOG" &&
	test "$(smtp_peer_count Q)" = 0
'

test_expect_success '--hang-max: a hanging connection is closed' '
	start_smtp_peer P --hang rcpt --hang-max 0.3 &&
	test_expect_code 6 sw $P_PORT &&
	test_grep "^# close 1$" "$P_LOG"
'

test_expect_success '--drop-in-data: the connection drops after 354' '
	start_smtp_peer P --drop-in-data &&
	test_must_fail sw $P_PORT &&
	test_grep "^<-  354 " out &&
	test_grep "^# drop 1$" "$P_LOG" &&
	test "$(smtp_peer_count P)" = 0
'

test_expect_success MSMTP 'msmtp: STARTTLS, AUTH PLAIN, 8-bit body' '
	printf "Subject: msmtp\n\nGr\303\274\303\237e\n" >body &&
	msmtp --host=127.0.0.1 --port=$TLS_PORT --tls=on --tls-starttls=on \
	    --tls-trust-file="$CA" --tls-host-override=mx.example.org \
	    --auth=plain --user=alice --passwordeval="echo secret" \
	    --domain=client.example.org -f alice@example.org \
	    bob@example.org <body &&
	smtp_peer_message TLS 4 >msg &&
	test_grep "^X-Peer-Auth: alice$" msg &&
	test_grep "^X-Peer-TLS: TLSv1\.3 " msg &&
	test_grep "^Gr.*e$" msg &&
	grep -q "$(printf "Gr\303\274\303\237e")" msg
'

test_expect_success 'a peer started in a test ends with it; --max-seconds ends a peer' '
	start_smtp_peer P &&
	echo $P_PID >in-test.pid &&
	start_smtp_peer Q --max-seconds 0.5 &&
	i=0 &&
	while smtp_peer_alive_ $Q_PID && [ $i -lt 50 ]; do
		sleep 0.1 && i=$((i + 1)) || return 1
	done &&
	! smtp_peer_alive_ $Q_PID
'

test_expect_success '... and is gone after it' '
	! smtp_peer_alive_ "$(cat in-test.pid)" &&
	smtp_peer_alive_ $MX_PID
'

test_expect_success 'stop_smtp_peer' '
	start_smtp_peer P &&
	pid=$P_PID &&
	stop_smtp_peer P &&
	! smtp_peer_alive_ $pid
'

# smtp-sink: what its switches take out of the EHLO reply
start_smtp_sink SINK -h sink.example.org >start.err 2>&1 ||
{ cat start.err; exit 1; }
test_expect_success 'smtp-sink: the EHLO keywords by default' '
	sw $SINK_PORT --quit-after EHLO &&
	sed -n "s/^<-  250[- ]//p" out >actual &&
	cat >expect <<-\EOF &&
	sink.example.org
	PIPELINING
	8BITMIME
	AUTH PLAIN LOGIN
	XCLIENT NAME HELO
	XFORWARD NAME ADDR PROTO HELO
	ENHANCEDSTATUSCODES
	DSN

	EOF
	test_cmp expect actual
'

for f in "-p PIPELINING" "-8 8BITMIME" "-N DSN" "-a AUTH" \
    "-E ENHANCEDSTATUSCODES" "-C XCLIENT" "-F XFORWARD"
do
	set -- $f
	switch=$1 kw=$2
	test_expect_success "smtp-sink $switch: no $kw" '
		start_smtp_sink S $switch &&
		sw $S_PORT --quit-after EHLO &&
		test_grep "^<-  250-(8BITMIME|PIPELINING)$" out &&
		test_grep -v "^<-  250.$kw" out
	'
done

test_expect_success 'smtp-sink -e: no ESMTP, EHLO gets 500' '
	start_smtp_sink S -e &&
	sw $S_PORT --quit-after HELO &&
	test_grep "^<\*\* 500 " out &&
	test_grep "^ -> HELO client.example.org$" out
'

test_expect_success 'smtp-sink never offers SIZE, SMTPUTF8, STARTTLS' '
	sw $SINK_PORT --quit-after EHLO &&
	test_grep -v "SIZE|SMTPUTF8|STARTTLS|CHUNKING" out
'

test_expect_success 'smtp-sink -d: the dump of a delivery' '
	sw $SINK_PORT --to bob@example.org,carol@example.org &&
	smtp_peer_wait SINK 1 &&
	smtp_peer_message SINK >msg &&
	test_grep "^X-Mail-Args: <alice@example.org>$" msg &&
	test_grep "^X-Rcpt-Args: <bob@example.org>$" msg &&
	test_grep "^X-Rcpt-Args: <carol@example.org>$" msg &&
	test_grep "^X-Helo-Args: client.example.org$" msg &&
	test_grep "^Hello, peer\.$" msg
'

test_expect_success 'smtp-sink -d: MAIL and RCPT parameters in the dump' '
	start_smtp_sink S &&
	chat $S_PORT <<-\EOF &&
	EHLO client.example.org
	MAIL FROM:<alice@example.org> BODY=8BITMIME RET=HDRS
	RCPT TO:<bob@example.org> NOTIFY=NEVER
	DATA
	Subject: params

	.
	QUIT
	EOF
	smtp_peer_wait S 1 &&
	smtp_peer_message S >msg &&
	test_grep "^X-Mail-Args: <alice@example.org> BODY=8BITMIME RET=HDRS$" msg &&
	test_grep "^X-Rcpt-Args: <bob@example.org> NOTIFY=NEVER$" msg
'

test_expect_success 'smtp-sink -r RCPT / -Q MAIL: 450, 421' '
	start_smtp_sink S -r RCPT &&
	test_expect_code 24 sw $S_PORT &&
	test_grep "^<\*\* 450 4\.3\.0 " out &&
	start_smtp_sink T -Q MAIL &&
	test_expect_code 23 sw $T_PORT &&
	test_grep "^<\*\* 421 " out
'

test_expect_success 'no peer runs after stop_smtp_peer' '
	pids="$SINK_PID $MX_PID $TLS_PID" &&
	stop_smtp_peer SINK &&
	stop_smtp_peer MX &&
	stop_smtp_peer TLS &&
	for pid in $pids; do
		! smtp_peer_alive_ $pid || return 1
	done
'

test_done
