#!/bin/sh
test_description='runq LMTP client (lmtp_deliver) against a real Dovecot'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-dovecot.sh"

dovecot_require

# deliver SENDER RCPT... <MESSAGE - one LMTP session, results in "out"
# with Dovecot's session IDs masked
deliver() {
	correo-test lmtp -t 30 "unix:$DOVECOT_LMTP" "$@" >out.raw
	_st=$?
	sed -e 's/> [A-Za-z0-9+\/:]* Saved$/> ID Saved/' \
	    -e "s|unix:$DOVECOT_LMTP|unix:LMTP|g" out.raw >out
	return $_st
}

# sessions - how many LMTP connections Dovecot has logged
sessions() {
	grep -c 'lmtp([0-9]*): .*Connect from local' "$DOVECOT_LOG" || :
}

cat >msg <<'EOF'
From: sender@example.org
To: alice@example.org, bob@example.org
Subject: LMTP test
Message-ID: <lmtp-test-1@example.org>

.a line that starts with a dot
..and one with two
.
From the middle of a line
the end
EOF

dovecot_start >start.err 2>&1
started=$?

test_expect_success 'a private Dovecot starts' '
	cat start.err &&
	test "$started" = 0 &&
	test -S "$DOVECOT_LMTP"
'

test_expect_success 'alice and bob in one session, both byte-exact' '
	before=$(sessions) &&
	deliver sender@example.org alice bob <"$TRASH/msg" &&
	cat >expect <<-\EOF &&
	alice: ok 2.0.0 250 2.0.0 <alice> ID Saved
	bob: ok 2.0.0 250 2.0.0 <bob> ID Saved
	EOF
	head -n 2 out >actual &&
	test_cmp expect actual &&
	grep "^session: ok 2.0.0 delivered via unix:LMTP$" out &&
	test $(( $(sessions) - before )) = 1 &&
	dovecot_fetch alice >alice.got &&
	test_cmp msg alice.got &&
	dovecot_fetch bob >bob.got &&
	test_cmp msg bob.got &&
	dovecot_fetch_raw alice | head -n 1 >rp &&
	echo "Return-Path: <sender@example.org>" >expect &&
	test_cmp expect rp
'

test_expect_success 'an unknown user gets its own 5xx while the others succeed' '
	sed "s/LMTP test/second/" msg >msg2 &&
	deliver sender@example.org alice nobody bob <msg2 &&
	cat >expect <<-\EOF &&
	alice: ok 2.0.0 250 2.0.0 <alice> ID Saved
	nobody: bounce 5.1.1 host unix:LMTP said: 550 5.1.1 <nobody> User doesn'"'"'t exist: nobody (in reply to RCPT TO command)
	bob: ok 2.0.0 250 2.0.0 <bob> ID Saved
	session: ok 2.0.0 delivered via unix:LMTP
	EOF
	test_cmp expect out &&
	test "$(dovecot_count alice)" = 2 &&
	test "$(dovecot_count bob)" = 2 &&
	dovecot_fetch alice header subject second >got &&
	test_cmp msg2 got
'

test_expect_success 'every recipient unknown: nothing is sent' '
	deliver sender@example.org carol dave <msg &&
	grep "^carol: bounce 5.1.1 " out &&
	grep "^dave: bounce 5.1.1 " out &&
	test "$(dovecot_count alice)" = 2
'

test_expect_success '8-bit content, a null sender, no final newline' '
	printf "Subject: caf\303\251\n\nna\303\257ve \377 bytes\n.\nno newline at the end" >msg8 &&
	deliver "" alice <msg8 &&
	grep "^alice: ok 2.0.0 " out &&
	dovecot_fetch_raw alice header subject "caf" >raw &&
	head -n 1 raw >rp &&
	echo "Return-Path: <>" >expect &&
	test_cmp expect rp &&
	dovecot_fetch alice header subject "caf" >got &&
	{ cat msg8 && echo; } >expect &&
	test_cmp expect got
'

test_expect_success 'a 5 MB message arrives intact' '
	awk "BEGIN { print \"Subject: big\"; print \"\";
		for (i = 0; i < 80000; i++)
			printf \"%s%07d %s\n\", (i % 5 == 0) ? \".\" : \"\", i,
			    \"0123456789012345678901234567890123456789012345678901234567890\" }" >big &&
	test $(wc -c <big) -gt 5000000 &&
	deliver big@example.org bob <big &&
	grep "^bob: ok 2.0.0 " out &&
	dovecot_fetch bob header subject big >got &&
	cmp big got
'

dovecot_stop

test_expect_success 'Dovecot stopped: every recipient is deferred' '
	test_must_fail deliver sender@example.org alice bob <msg &&
	grep "^alice: defer 4.4.1 connect to unix:LMTP: " out &&
	grep "^bob: defer 4.4.1 connect to unix:LMTP: " out &&
	grep "^session: defer 4.4.1 connect to unix:LMTP: " out &&
	test $(grep -c " defer 4.4.1 " out) = 3
'

test_done
