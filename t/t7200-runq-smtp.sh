#!/bin/sh
test_description='runq delivers to other hosts over SMTP: real peers (aiosmtpd, smtp-sink) on loopback'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-smtppeer.sh"
. "$T_DIR/lib-tlsca.sh"

smtp_peer_require

me=$(id -un)
# Short timeouts: a hanging peer costs a second or two, not minutes.
for p in connect helo starttls mail rcpt data_init data_xfer data_done \
    quit rset; do
	test_config smtp_${p}_timeout 2s
done

# send ADDR... - one message from stdin, queued only
send() {
	sendmail -odq -f sender@host.example.org "$@"
}

# rcpt_state ADDR - P, D, F or B for one recipient of the only message
rcpt_state() {
	correo-test spool-dump "$(queued_files)" |
	sed -n "/^rcpt: $1\$/{n;s/.*state: //p;}"
}

test_expect_success 'relayhost: delivered to the smarthost, logged as Postfix logs it' '
	start_smtp_peer MX &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	: >maillog &&
	printf "Subject: one\n\nhello\n" | send far@remote.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message MX >got &&
	test_grep "^X-Peer-Mail-From: <sender@host.example.org>" got &&
	test_grep "^X-Peer-Rcpt-To: <far@remote.example>" got &&
	test_grep "^hello" got &&
	test_grep "correo/smtp\[[0-9]*\]: [0-9A-Za-z]*: to=<far@remote.example>, relay=127.0.0.1\[127.0.0.1\]:$MX_PORT, .*dsn=2.0.0, status=sent \(250 " maillog &&
	test_grep "qmgr.*removed" maillog
'

test_expect_success 'several recipients of one message: one transaction' '
	start_smtp_peer MX &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	printf "Subject: three\n\nx\n" | send a@r.example b@r.example c@s.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count MX)" = 1 &&
	smtp_peer_message MX >got &&
	test "$(grep -c "^X-Peer-Rcpt-To:" got)" = 3
'

test_expect_success 'one reply per recipient: 2xx sent, 4xx deferred, 5xx bounced; the retry sends only the deferred one' '
	start_smtp_peer MX --reply "rcpt:b@r.example=550:5.1.1 no such user" \
	    --reply "rcpt:c@r.example=450:4.2.1 mailbox busy" &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	: >maillog &&
	printf "Subject: partial\n\nx\n" | send a@r.example b@r.example c@r.example &&
	runq &&
	test "$(smtp_peer_count MX)" = 1 &&
	test_grep "to=<a@r.example>.*status=sent" maillog &&
	test_grep "to=<b@r.example>.*dsn=5.1.1, status=bounced \(host 127.0.0.1\[127.0.0.1\] said: 550 5.1.1 no such user \(in reply to RCPT TO command\)\)" maillog &&
	test_grep "to=<c@r.example>.*dsn=4.2.1, status=deferred" maillog &&
	test_grep "sender non-delivery notification" maillog &&
	start_smtp_peer MX2 &&
	test_config relayhost "[127.0.0.1]:$MX2_PORT" &&
	runq -f &&
	test "$(smtp_peer_count MX2)" = 1 &&
	smtp_peer_message MX2 >got2 &&
	test "$(grep -c "^X-Peer-Rcpt-To:" got2)" = 1 &&
	test_grep "^X-Peer-Rcpt-To: <c@r.example>" got2 &&
	test "$(queue_count)" = 0
'

test_expect_success 'the failure notice for a remote refusal: Diagnostic-Code smtp; and Remote-MTA dns;' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer MX --reply "rcpt=550:5.1.1 no such user" &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	rm -f "mail/$me" &&
	echo x | sendmail -odq -f "$me@host.example.org" gone@r.example &&
	runq &&
	test_grep "^Diagnostic-Code: smtp; 550 5.1.1 no such user$" "mail/$me" &&
	test_grep "^Remote-MTA: dns; 127.0.0.1$" "mail/$me" &&
	test_grep "^Status: 5.1.1" "mail/$me"
'

# stage_case STAGE CODE WANT - a peer that answers CODE at STAGE; the
# recipient ends WANT (P: still queued, deferred; gone: bounced)
stage_case() {
	start_smtp_peer F --reply "$1=$2" &&
	test_config relayhost "[127.0.0.1]:$F_PORT" &&
	mailq -d ALL >/dev/null 2>&1
	: >maillog &&
	printf "Subject: %s %s\n\nx\n" "$1" "$2" | send z@r.example &&
	runq &&
	case $3 in
	deferred)
		test "$(queue_count)" = 1 &&
		test_grep "to=<z@r.example>.*status=deferred" maillog
		;;
	bounced)
		test_grep "to=<z@r.example>.*status=bounced" maillog &&
		test_grep "sender non-delivery notification" maillog
		;;
	esac &&
	test "$(smtp_peer_count F)" = 0
}

for st in greeting ehlo mail rcpt data dot; do
	for code in 421 450 452 550 552; do
		want=deferred
		case $code in 5*) want=bounced ;; esac
		# A 5xx EHLO falls back to HELO, which succeeds.
		[ $st = ehlo ] && [ $want = bounced ] && continue
		test_expect_success "$code at $st: $want, nothing lost" "
			stage_case $st $code $want
		"
	done
done

test_expect_success 'a peer that hangs in DATA: deferred after smtp_data_init_timeout' '
	start_smtp_peer H --hang data --hang-max 30 &&
	test_config relayhost "[127.0.0.1]:$H_PORT" &&
	mailq -d ALL >/dev/null 2>&1
	: >maillog &&
	echo x | send h@r.example &&
	start=$(date +%s) &&
	runq &&
	test $(( $(date +%s) - start )) -lt 10 &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<h@r.example>.*dsn=4.4.2, status=deferred \(conversation with 127.0.0.1\[127.0.0.1\] timed out while sending DATA command\)" maillog
'

test_expect_success 'a peer that drops the connection mid-DATA: deferred, then delivered once it is back' '
	start_smtp_peer D --drop-in-data &&
	test_config relayhost "[127.0.0.1]:$D_PORT" &&
	mailq -d ALL >/dev/null 2>&1
	: >maillog &&
	seq 1 2000 | send d@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<d@r.example>.*status=deferred \(lost connection with 127.0.0.1\[127.0.0.1\] while sending" maillog &&
	start_smtp_peer D &&
	test_config relayhost "[127.0.0.1]:$D_PORT" &&
	runq -f &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_message D | grep -c "^[0-9]")" = 2000
'

test_expect_success 'garbage instead of replies defers' '
	port=$(smtp_free_port) &&
	python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); c.sendall(b\"HTTP/1.0 200 OK\\r\\n\\r\\n\"); time.sleep(1)
" $port &
	gpid=$! &&
	test_when_finished "kill $gpid 2>/dev/null; :" &&
	sleep 0.3 &&
	test_config relayhost "[127.0.0.1]:$port" &&
	mailq -d ALL >/dev/null 2>&1
	: >maillog &&
	echo x | send g@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<g@r.example>.*status=deferred" maillog
'

test_expect_success 'messages for one destination share a session (RSET between them)' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer MX &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	for i in 1 2 3 4 5; do
		printf "Subject: reuse %d\n\nx\n" $i | send r$i@r.example || return 1
	done &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count MX)" = 5 &&
	test "$(grep -c "^# connect" "$MX_LOG")" = 1 &&
	test "$(grep -c "^RSET" "$MX_LOG")" = 4
'

# max_sessions LOG - the most connections a peer had open at once
max_sessions() {
	awk '/^# connect/ { n++; if (n > m) m = n } /^# close/ { n-- }
	    END { print m + 0 }' "$1"
}

test_expect_success 'parallel sessions per destination, within smtp_destination_concurrency_limit' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer MX &&
	start_smtp_peer OTHER &&
	cat >transport <<-EOF &&
	other.example	smtp:[127.0.0.1]:$OTHER_PORT
	EOF
	test_config transport_maps "texthash:$TRASH/transport" &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	test_config smtp_destination_concurrency_limit 2 &&
	test_when_finished "test_config transport_maps \"\"; test_config smtp_destination_concurrency_limit 20" &&
	i=0 &&
	while [ $i -lt 40 ]; do
		echo $i | send p$i@r.example || return 1
		i=$((i + 1))
	done &&
	echo o | send o@other.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count MX)" = 40 &&
	test "$(smtp_peer_count OTHER)" = 1 &&
	test "$(grep -c "^# connect" "$MX_LOG")" = 2 &&
	test "$(max_sessions "$MX_LOG")" -le 2 &&
	start_smtp_peer MX &&
	test_config relayhost "[127.0.0.1]:$MX_PORT" &&
	test_config smtp_destination_concurrency_limit 20 &&
	i=0 &&
	while [ $i -lt 40 ]; do
		echo $i | send p$i@r.example || return 1
		i=$((i + 1))
	done &&
	runq &&
	test "$(smtp_peer_count MX)" = 40 &&
	test "$(grep -c "^# connect" "$MX_LOG")" = 4
'

test_expect_success 'transport_maps: per domain, parent domains, error, retry, discard' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer A &&
	start_smtp_peer B &&
	cat >transport <<-EOF &&
	a.example	smtp:[127.0.0.1]:$A_PORT
	.sub.example	smtp:[127.0.0.1]:$B_PORT
	no.example	error:5.1.1 we do not take mail for no.example
	later.example	retry:4.3.2 closed for the weekend
	void@x.example	discard:
	EOF
	test_config transport_maps "texthash:$TRASH/transport" &&
	test_when_finished "test_config transport_maps \"\"" &&
	: >maillog &&
	echo x | send u@a.example v@deep.sub.example w@no.example y@later.example void@x.example &&
	runq &&
	test "$(smtp_peer_count A)" = 1 &&
	test "$(smtp_peer_count B)" = 1 &&
	test_grep "to=<w@no.example>, relay=none, .*dsn=5.1.1, status=bounced \(we do not take mail for no.example\)" maillog &&
	test_grep "to=<y@later.example>, relay=none, .*dsn=4.3.2, status=deferred \(closed for the weekend\)" maillog &&
	test_grep "to=<void@x.example>, relay=none, .*status=sent" maillog &&
	test "$(rcpt_state y@later.example)" = P
'

test_expect_success 'an unknown transport in transport_maps defers' '
	mailq -d ALL >/dev/null 2>&1
	echo "odd.example uucp:gateway" >transport &&
	test_config transport_maps "texthash:$TRASH/transport" &&
	test_when_finished "test_config transport_maps \"\"" &&
	: >maillog &&
	echo x | send q@odd.example &&
	runq &&
	test_grep "to=<q@odd.example>.*dsn=4.3.5, status=deferred \(mail transport unavailable" maillog
'

test_expect_success 'SIZE: a message over the peer limit bounces 5.3.4 without being sent' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer S --size 200 &&
	test_config relayhost "[127.0.0.1]:$S_PORT" &&
	: >maillog &&
	seq 1 200 | send big@r.example &&
	runq &&
	test_grep "to=<big@r.example>.*dsn=5.3.4, status=bounced" maillog &&
	test "$(smtp_peer_count S)" = 0 &&
	! grep -q "^DATA" "$S_LOG"
'

test_expect_success 'SMTPUTF8: passed on when offered, 5.6.7 when needed and not offered' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer U --smtputf8 &&
	test_config relayhost "[127.0.0.1]:$U_PORT" &&
	echo x | send "jörg@r.example" &&
	runq &&
	smtp_peer_message U >got &&
	test_grep "^X-Peer-Mail-Options:.*SMTPUTF8" got &&
	start_smtp_peer N &&
	test_config relayhost "[127.0.0.1]:$N_PORT" &&
	: >maillog &&
	echo x | send "jörg@r.example" &&
	runq &&
	test_grep "dsn=5.6.7, status=bounced" maillog &&
	test "$(smtp_peer_count N)" = 0
'

test_expect_success 'an IDN domain with an ASCII local part goes as A-labels, without SMTPUTF8' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer I &&
	test_config relayhost "[127.0.0.1]:$I_PORT" &&
	d=$(printf "b\303\274cher.example") &&
	echo x | sendmail -odq -f "sender@$d" "kunde@$d" &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message I >got &&
	test_grep "^X-Peer-Mail-From: <sender@xn--bcher-kva.example>" got &&
	test_grep "^X-Peer-Rcpt-To: <kunde@xn--bcher-kva.example>" got &&
	! grep "^X-Peer-Mail-Options:.*SMTPUTF8" got
'

test_expect_success 'lines longer than smtp_line_length_limit are broken with CRLF SPACE' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer L &&
	test_config relayhost "[127.0.0.1]:$L_PORT" &&
	{ echo "Subject: long"; echo; printf "%01500d\n" 7; echo end; } | send l@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message L >got &&
	sed -n "/^000/,\$p" got >body &&
	test "$(sed -n 1p body | tr -d "\n" | wc -c)" = 999 &&
	test "$(sed -n 2p body | cut -c1)" = " " &&
	test "$(sed -n 2p body | tr -d " \n" | wc -c)" = 501 &&
	test "$(sed -n 3p body)" = end
'

test_expect_success 'UTF-8 in a header asks for SMTPUTF8 when the peer offers it; goes anyway when not' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer U --smtputf8 &&
	test_config relayhost "[127.0.0.1]:$U_PORT" &&
	printf "Subject: Gr\303\274\303\237e\n\nx\n" | send h8@r.example &&
	runq &&
	smtp_peer_message U >got &&
	test_grep "^X-Peer-Mail-Options:.*SMTPUTF8" got &&
	start_smtp_peer N &&
	test_config relayhost "[127.0.0.1]:$N_PORT" &&
	printf "Subject: Gr\303\274\303\237e\n\nx\n" | send h8@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count N)" = 1
'

test_expect_success SMTPSINK 'smtp-sink: PIPELINING, 8BITMIME and DSN parameters when offered' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_sink K &&
	test_config relayhost "[127.0.0.1]:$K_PORT" &&
	printf "Subject: caf\303\251\n\ncaf\303\251\n" |
	sendmail -odq -f sender@host.example.org -N success,failure -V env42 -R hdrs dsn@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_wait K 1 &&
	smtp_peer_message K >got &&
	test_grep "^X-Mail-Args: <sender@host.example.org>.*BODY=8BITMIME" got &&
	test_grep "^X-Mail-Args: .*RET=HDRS" got &&
	test_grep "^X-Mail-Args: .*ENVID=env42" got &&
	test_grep "^X-Rcpt-Args: <dsn@r.example>.*NOTIFY=SUCCESS,FAILURE" got &&
	test_grep "^X-Rcpt-Args: .*ORCPT=rfc822;dsn@r.example" got
'

test_expect_success SMTPSINK 'smtp-sink -p -8 -N: no pipelining, no 8BITMIME, no DSN parameters' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_sink K -p -8 -N &&
	test_config relayhost "[127.0.0.1]:$K_PORT" &&
	printf "Subject: caf\303\251\n\ncaf\303\251\n" |
	sendmail -odq -f sender@host.example.org -N success -V env42 dsn@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_wait K 1 &&
	smtp_peer_message K >got &&
	! grep "BODY=\|RET=\|ENVID=" got &&
	! grep "NOTIFY=\|ORCPT=" got
'

tlsca_require
tlsca_init || exit 1
tlsca_cert mx mx.example.org 127.0.0.1 || exit 1

test_expect_success 'STARTTLS at encrypt; the TLS line and the cipher are logged' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer T --tls-cert "$TLSCA_DIR/mx.crt" --tls-key "$TLSCA_DIR/mx.key" &&
	test_config relayhost "[127.0.0.1]:$T_PORT" &&
	test_config smtp_tls_security_level encrypt &&
	test_when_finished "test_config smtp_tls_security_level none" &&
	: >maillog &&
	echo x | send t@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message T >got &&
	test_grep "^X-Peer-TLS: TLSv1" got &&
	test_grep "Untrusted TLS connection established to 127.0.0.1\[127.0.0.1\]" maillog
'

test_expect_success 'verify: trusted with smtp_tls_CAfile and a matching name; a wrong name defers' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer T --tls-cert "$TLSCA_DIR/mx.crt" --tls-key "$TLSCA_DIR/mx.key" &&
	test_config relayhost "[mx.example.org]:$T_PORT" &&
	echo "127.0.0.1 mx.example.org" >hosts &&
	test_config smtp_tls_security_level verify &&
	test_config smtp_tls_CAfile "$TLSCA_DIR/ca.crt" &&
	test_when_finished "test_config smtp_tls_security_level none; test_config smtp_tls_CAfile \"\"" &&
	test_config relayhost "[127.0.0.1]:$T_PORT" &&
	test_config smtp_tls_verify_cert_match "mx.example.org" &&
	: >maillog &&
	echo x | send v@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	test_grep "Verified TLS connection established" maillog &&
	test_config smtp_tls_verify_cert_match "other.example.org" &&
	: >maillog &&
	echo x | send v2@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<v2@r.example>.*status=deferred" maillog
'

test_expect_success 'encrypt: a peer without STARTTLS defers; may: plaintext' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer P &&
	test_config relayhost "[127.0.0.1]:$P_PORT" &&
	test_config smtp_tls_security_level encrypt &&
	test_when_finished "test_config smtp_tls_security_level none" &&
	: >maillog &&
	echo x | send e@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<e@r.example>.*dsn=4.7.4, status=deferred" maillog &&
	test_config smtp_tls_security_level may &&
	runq -f &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count P)" = 1
'

test_expect_success 'may: a failed TLS handshake is retried in plaintext on a new connection' '
	mailq -d ALL >/dev/null 2>&1
	rm -f badtls.port &&
	/usr/bin/python3 "$T_DIR/helper/smtp-badtls.py" badtls.port badtls.log &
	bpid=$!
	test_when_finished "kill $bpid 2>/dev/null; :" &&
	i=0 &&
	while [ ! -f badtls.port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	test_config relayhost "[127.0.0.1]:$(cat badtls.port)" &&
	test_config smtp_tls_security_level may &&
	test_when_finished "test_config smtp_tls_security_level none" &&
	: >maillog &&
	echo x | send m@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	test_grep "retrying without TLS" maillog &&
	test "$(grep -c "^STARTTLS" badtls.log)" = 1 &&
	test "$(grep -c "^MAIL FROM" badtls.log)" = 1
'

test_expect_success 'AUTH to a smarthost with smtp_sasl_password_maps; the password is never logged' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer A --tls-cert "$TLSCA_DIR/mx.crt" --tls-key "$TLSCA_DIR/mx.key" \
	    --auth "alice:s3cr3t-pw" --auth-required &&
	test_config relayhost "[127.0.0.1]:$A_PORT" &&
	test_config smtp_tls_security_level encrypt &&
	test_config smtp_sasl_auth_enable yes &&
	echo "[127.0.0.1]:$A_PORT alice:s3cr3t-pw" >sasl_passwd &&
	chmod 600 sasl_passwd &&
	test_config smtp_sasl_password_maps "texthash:$TRASH/sasl_passwd" &&
	test_when_finished "test_config smtp_tls_security_level none; test_config smtp_sasl_auth_enable no; test_config smtp_sasl_tls_security_options \"\$smtp_sasl_security_options\"" &&
	: >maillog &&
	echo x | send au0@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<au0@r.example>.*status=deferred \(SASL authentication with host 127.0.0.1\[127.0.0.1\] refused: smtp_sasl_tls_security_options forbids PLAIN and LOGIN" maillog &&
	! grep "^AUTH" "$A_LOG" &&
	mailq -d ALL >/dev/null 2>&1 &&
	test_config smtp_sasl_tls_security_options noanonymous &&
	echo x | send au@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message A >got &&
	test_grep "^X-Peer-Auth: alice" got &&
	! grep -r "s3cr3t" maillog spool &&
	echo "[127.0.0.1]:$A_PORT alice:wrong" >sasl_passwd &&
	: >maillog &&
	echo x | send au2@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<au2@r.example>.*status=deferred \(SASL authentication failed" maillog &&
	mailq >q &&
	! grep "wrong" q maillog
'

test_expect_success 'smtp_tls_wrappermode: implicit TLS to port 465 style peers' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer W --implicit-tls --tls-cert "$TLSCA_DIR/mx.crt" --tls-key "$TLSCA_DIR/mx.key" &&
	test_config relayhost "[127.0.0.1]:$W_PORT" &&
	test_config smtp_tls_wrappermode yes &&
	test_when_finished "test_config smtp_tls_wrappermode no" &&
	: >maillog &&
	echo x | send w@r.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message W >got &&
	test_grep "^X-Peer-TLS: TLSv1" got &&
	! grep "^STARTTLS" "$W_LOG" &&
	test_config smtp_tls_wrappermode no &&
	: >maillog &&
	echo x | send w2@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<w2@r.example>.*status=deferred" maillog
'

test_expect_success 'without TLS, noplaintext (the default) keeps the password to itself' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer A --auth "alice:s3cr3t-pw" --auth-plaintext --auth-required &&
	test_config relayhost "[127.0.0.1]:$A_PORT" &&
	test_config smtp_sasl_auth_enable yes &&
	echo "[127.0.0.1]:$A_PORT alice:s3cr3t-pw" >sasl_passwd &&
	test_config smtp_sasl_password_maps "texthash:$TRASH/sasl_passwd" &&
	test_when_finished "test_config smtp_sasl_auth_enable no" &&
	echo x | send np@r.example &&
	runq &&
	test "$(queue_count)" = 1 &&
	! grep "^AUTH" "$A_LOG"
'

test_done
