#!/bin/sh
test_description='smtpd-lite: STARTTLS, implicit TLS, AUTH through a real Dovecot and a passwd-file; swaks, msmtp and openssl s_client as clients'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-dovecot.sh"
. "$T_DIR/lib-tlsca.sh"
. "$T_DIR/lib-smtppeer.sh"

dovecot_require
tlsca_require
command -v systemd-socket-activate >/dev/null ||
	skip_all 'no systemd-socket-activate (Debian: systemd)'
test_have_prereq SWAKS || skip_all 'no swaks'

me=$(id -un)
SOCK=$DOVECOT_DIR/run/auth-correo
USERS=$DOVECOT_DIR/users
DOVECOT_EXTRA="auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = $USERS
}
service auth {
  unix_listener auth-correo {
    mode = 0666
  }
}"
dovecot_write_config &&
cat >"$USERS" <<EOF &&
alice:{PLAIN}alice-pw
bob:{PLAIN}bob-pw
EOF
dovecot_start >start.err 2>&1 || { cat start.err; exit 1; }

tlsca_init && tlsca_cert mx host.example.org 127.0.0.1 || exit 1
CA=$TLSCA_DIR/ca.crt

test_config smtpd_tls_cert_file "$TLSCA_DIR/mx.crt"
test_config smtpd_tls_key_file "$TLSCA_DIR/mx.key"
test_config smtpd_sasl_type dovecot
test_config smtpd_sasl_path "$SOCK"
test_config queue_run_delay 1d
test_config defer_transports "local, smtp, virtual"
# No runq moves queued mail while a test looks at it.
mkdir -p fakebin
ln -s "$CORREO_BUILD/smtpd-lite" fakebin/smtpd-lite
ln -s "$CORREO_BUILD/smtpd-tls.so" fakebin/smtpd-tls.so
ln -s /bin/true fakebin/runq
test_config daemon_directory "$TRASH/fakebin"

# serve NAME [-o name=value...] - smtpd-lite on a free loopback port
# under systemd-socket-activate --inetd; sets NAME_PORT
serve() {
	_n=$1
	shift
	srv_port=$(smtp_free_port) || return 1
	systemd-socket-activate --inetd -a -l "127.0.0.1:$srv_port" \
	    -E CORREO_CONFIG -E PATH smtpd-lite "$@" \
	    >"$TRASH/$_n.out" 2>&1 &
	_pid=$!
	test_atexit "kill $_pid 2>/dev/null"
	eval "${_n}_PORT=$srv_port"
	_i=0
	while [ $_i -lt 50 ] && ! grep -q ":$(printf %04X "$srv_port") 00000000:0000 0A" /proc/net/tcp; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

serve SUB -o smtpd_sasl_auth_enable=yes -o smtpd_tls_security_level=encrypt \
    -o smtpd_tls_auth_only=yes -o smtpd_sasl_authenticated_header=yes
serve SUBS -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes \
    -o smtpd_tls_auth_only=yes
serve MX -o smtpd_tls_security_level=may
# passwd-file: no Dovecot penalty delays between failures
echo "carol:$(openssl passwd -6 carol-pw)" >passwd
echo "alice:{PLAIN}alice-pw" >>passwd
chmod 600 passwd
serve PF -o smtpd_sasl_auth_enable=yes -o smtpd_tls_security_level=encrypt \
    -o smtpd_sasl_type=passwd-file -o smtpd_sasl_path="$TRASH/passwd"
CHAT="/usr/bin/python3 $T_DIR/helper/smtpd-chat.py"

queue_empty() {
	mailq -d ALL >/dev/null 2>&1
	:
}

test_expect_success '587: STARTTLS then AUTH PLAIN, relaying for alice; Received says so' '
	queue_empty &&
	swaks --server 127.0.0.1 --port $SUB_PORT --tls --tls-ca-path "$CA" \
	    --auth PLAIN --auth-user alice --auth-password alice-pw \
	    --from alice@host.example.org --to far@remote.example \
	    --helo client.example >out 2>&1 &&
	test_grep "<~  250 2.0.0 Ok: queued as" out &&
	queue_content "$(queued_files)" >content &&
	test_grep "^Received: from client.example \(unknown \[127.0.0.1\]\)" content &&
	test_grep "^	\(using TLSv1.[23] with cipher" content &&
	test_grep "^	\(Authenticated sender: alice\)" content &&
	test_grep "with ESMTPSA id" content &&
	test_grep "sasl_method=PLAIN, sasl_username=alice" maillog
'

test_expect_success '587: AUTH LOGIN works too' '
	queue_empty &&
	swaks --server 127.0.0.1 --port $SUB_PORT --tls --auth LOGIN \
	    --auth-user bob --auth-password bob-pw \
	    --from bob@host.example.org --to far@remote.example >out 2>&1 &&
	test_grep "<~  250 2.0.0 Ok: queued as" out
'

test_expect_success '587: AUTH before TLS is 538 5.7.11 (encrypt implies auth only); MAIL before TLS is 530' '
	$CHAT --env TCPREMOTEIP=192.0.2.5 -- smtpd-lite -o smtpd_sasl_auth_enable=yes \
	    -o smtpd_tls_security_level=encrypt >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S AUTH PLAIN AGFsaWNlAGFsaWNlLXB3
	E
	S MAIL FROM:<alice@host.example.org>
	E
	S QUIT
	E
	EOF
	test_grep "^538 5.7.11" out &&
	test_grep "^530 5.7.0 Must issue a STARTTLS command first" out &&
	! grep "^250-AUTH" out
'

test_expect_success '587: a wrong password is 535 5.7.8, logged for fail2ban; no relay without AUTH' '
	: >maillog &&
	swaks --server 127.0.0.1 --port $SUB_PORT --tls --auth PLAIN \
	    --auth-user alice --auth-password wrong --quit-after AUTH \
	    --from a@host.example.org --to far@remote.example >out 2>&1;
	test_grep "535 5.7.8 Error: authentication failed" out &&
	test_grep "correo/smtpd\[[0-9]*\]: warning: unknown\[127.0.0.1\]: SASL PLAIN authentication failed" maillog &&
	if command -v fail2ban-regex >/dev/null; then
		fail2ban-regex maillog "postfix[mode=auth, _daemon=correo/smtpd]" >f2b &&
		test_grep "1 matched" f2b
	fi
'

test_expect_success 'three failures end the session (421); the fourth try, right or not, gets no 235' '
	/usr/bin/python3 - "$PF_PORT" "$CA" >out <<-\EOF &&
	import base64, socket, ssl, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	f = s.makefile("rb")
	def reply():
	    lines = []
	    while True:
	        l = f.readline().decode()
	        lines.append(l.strip())
	        if len(l) < 4 or l[3] != "-":
	            return lines
	def cmd(c):
	    s.sendall(c.encode() + b"\r\n")
	reply(); cmd("EHLO c"); reply(); cmd("STARTTLS"); reply()
	ctx = ssl.create_default_context(cafile=sys.argv[2])
	ctx.check_hostname = False
	s = ctx.wrap_socket(s, server_hostname="host.example.org")
	f = s.makefile("rb")
	cmd("EHLO c"); reply()
	for pw in ("x1", "x2", "x3", "alice-pw"):
	    cmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0" + pw.encode()).decode())
	    try:
	        r = reply()
	    except Exception:
	        r = ["EOF"]
	    print(r[-1] if r[-1] else "EOF")
	EOF
	cat out &&
	test "$(grep -c "^535" out)" = 2 &&
	test_grep "^421 4.7.0" out &&
	! grep "^235" out
'

test_expect_success 'STARTTLS: plaintext sent with it is never run after the handshake' '
	/usr/bin/python3 - "$MX_PORT" "$CA" >out <<-\EOF &&
	import socket, ssl, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	f = s.makefile("rb")
	def reply():
	    lines = []
	    while True:
	        l = f.readline().decode()
	        if not l:
	            return ["EOF"]
	        lines.append(l.strip())
	        if len(l) < 4 or l[3] != "-":
	            return lines
	reply()
	s.sendall(b"EHLO c\r\n"); reply()
	s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
	print(reply()[-1])
	try:
	    ctx = ssl.create_default_context(cafile=sys.argv[2])
	    ctx.check_hostname = False
	    t = ctx.wrap_socket(s, server_hostname="host.example.org")
	    f = t.makefile("rb")
	    t.sendall(b"RCPT TO:<x@host.example.org>\r\n")
	    print(reply()[-1])
	except Exception as e:
	    print("closed", type(e).__name__)
	EOF
	cat out &&
	! grep "^250 2.1.5" out &&
	test_grep "^554 5.5.0|^503 5.5.1|closed" out
'

test_expect_success 'port 25 (may): STARTTLS is offered, AUTH is not; TLS cannot start twice' '
	swaks --server 127.0.0.1 --port $MX_PORT --quit-after EHLO >out 2>&1 &&
	test_grep "STARTTLS" out &&
	! grep "AUTH" out &&
	printf "EHLO c\r\nSTARTTLS\r\n" >/dev/null &&
	echo QUIT | timeout 10 openssl s_client -connect 127.0.0.1:$MX_PORT \
	    -starttls smtp -CAfile "$CA" -verify_return_error -brief >sc 2>&1 &&
	test_grep "Verification: OK|CONNECTION ESTABLISHED" sc
'

test_expect_success '465: implicit TLS with openssl s_client and msmtp; TLS 1.1 refused' '
	{ sleep 1; echo QUIT; } | timeout 10 openssl s_client \
	    -connect 127.0.0.1:$SUBS_PORT -CAfile "$CA" -brief >sc 2>&1 &&
	test_grep "220 host.example.org" sc &&
	! timeout 10 openssl s_client -connect 127.0.0.1:$SUBS_PORT -tls1_1 \
	    -cipher DEFAULT@SECLEVEL=0 </dev/null >old 2>&1 &&
	if test_have_prereq MSMTP; then
		queue_empty &&
		printf "Subject: via 465\n\nhello\n" |
		msmtp --host=127.0.0.1 --port=$SUBS_PORT --tls=on \
		    --tls-starttls=off --tls-trust-file="$CA" --auth=plain \
		    --user=alice --passwordeval="echo alice-pw" \
		    --from=alice@host.example.org far@remote.example &&
		test "$(queue_count)" = 1 &&
		queue_empty &&
		printf "Subject: via 587\n\nhello\n" |
		msmtp --host=127.0.0.1 --port=$SUB_PORT --tls=on \
		    --tls-starttls=on --tls-trust-file="$CA" --auth=login \
		    --user=bob --passwordeval="echo bob-pw" \
		    --from=bob@host.example.org far@remote.example &&
		test "$(queue_count)" = 1
	fi
'

test_expect_success 'reject_sender_login_mismatch: alice may send only as her own addresses' '
	echo "alice@host.example.org alice" >logins &&
	echo "bob@host.example.org bob" >>logins &&
	test_config smtpd_sender_login_maps "texthash:$TRASH/logins" &&
	test_config smtpd_sender_restrictions "reject_sender_login_mismatch" &&
	test_when_finished "test_config smtpd_sender_restrictions \"\"" &&
	swaks --server 127.0.0.1 --port $SUB_PORT --tls --auth PLAIN \
	    --auth-user alice --auth-password alice-pw --quit-after MAIL \
	    --from bob@host.example.org --to far@remote.example >out 2>&1;
	test_grep "553 5.7.1 <bob@host.example.org>: Sender address rejected: not owned by user alice" out &&
	swaks --server 127.0.0.1 --port $SUB_PORT --tls --auth PLAIN \
	    --auth-user alice --auth-password alice-pw --quit-after MAIL \
	    --from alice@host.example.org --to far@remote.example >out 2>&1 &&
	test_grep "250 2.1.0" out
'

test_expect_success 'an authorization identity other than the user is refused' '
	/usr/bin/python3 - "$SUB_PORT" "$CA" >out <<-\EOF &&
	import base64, socket, ssl, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	f = s.makefile("rb")
	def reply():
	    while True:
	        l = f.readline().decode()
	        if len(l) < 4 or l[3] != "-":
	            return l.strip()
	reply(); s.sendall(b"EHLO c\r\n"); reply(); s.sendall(b"STARTTLS\r\n"); reply()
	ctx = ssl.create_default_context(cafile=sys.argv[2]); ctx.check_hostname = False
	s = ctx.wrap_socket(s, server_hostname="h"); f = s.makefile("rb")
	s.sendall(b"EHLO c\r\n"); reply()
	s.sendall(b"AUTH PLAIN " + base64.b64encode(b"bob\0alice\0alice-pw") + b"\r\n")
	print(reply())
	EOF
	test_grep "^535 5.7.8" out
'

test_expect_success 'swaks with PIPELINING: one group for MAIL, RCPT and DATA' '
	queue_empty &&
	swaks --server 127.0.0.1 --port $MX_PORT --pipeline \
	    --from a@c.example --to "$me@host.example.org" >out 2>&1 &&
	test_grep "<[-~] +250 2.0.0 Ok: queued as" out
'

test_expect_success MSMTP 'msmtp with the course accounts for 25, 587 and 465' '
	queue_empty &&
	cat >msmtprc <<-EOF &&
	defaults
	tls_trust_file $CA
	logfile $TRASH/msmtp.log

	account port25
	host 127.0.0.1
	port $MX_PORT
	from a@c.example
	tls on
	tls_starttls on
	auth off

	account sub
	host 127.0.0.1
	port $SUB_PORT
	from alice@host.example.org
	tls on
	tls_starttls on
	auth plain
	user alice
	password alice-pw

	account subs
	host 127.0.0.1
	port $SUBS_PORT
	from alice@host.example.org
	tls on
	tls_starttls off
	auth login
	user alice
	password alice-pw
	EOF
	chmod 600 msmtprc &&
	printf "Subject: 25\n\nx\n" | msmtp -C msmtprc -a port25 "$me@host.example.org" &&
	printf "Subject: 587\n\nx\n" | msmtp -C msmtprc -a sub far@remote.example &&
	printf "Subject: 465\n\nx\n" | msmtp -C msmtprc -a subs far@remote.example &&
	test "$(queue_count)" = 3 &&
	test "$(grep -c "smtpstatus=250" msmtp.log)" = 3
'

test_expect_success 'Dovecot down: 454 4.7.0, nothing else changes' '
	dovecot_stop &&
	swaks --server 127.0.0.1 --port $SUB_PORT --tls --auth PLAIN \
	    --auth-user alice --auth-password alice-pw --quit-after AUTH \
	    --from a@host.example.org --to far@remote.example >out 2>&1;
	test_grep "454 4.7.0" out
'

test_expect_success 'smtpd_sasl_type = passwd-file, for hosts without Dovecot' '
	queue_empty &&
	swaks --server 127.0.0.1 --port $PF_PORT --tls --auth PLAIN \
	    --auth-user carol --auth-password carol-pw \
	    --from carol@host.example.org --to far@remote.example >out 2>&1 &&
	test_grep "<~  250 2.0.0 Ok: queued as" out
'

test_expect_success 'smtpd-lite itself is not linked with OpenSSL; smtpd-tls.so is' '
	objdump -p "$CORREO_BUILD/smtpd-lite" >needed &&
	! grep -E "NEEDED +lib(ssl|crypto)\." needed &&
	objdump -p "$CORREO_BUILD/smtpd-tls.so" >needed &&
	test_grep "NEEDED +libssl\." needed
'

test_expect_success 'a plaintext session never maps libssl; one that starts TLS does' '
	$CHAT -- smtpd-lite -o smtpd_tls_security_level=may >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S NOOP
	E
	S QUIT
	E
	EOF
	test_grep "^250-STARTTLS" out &&
	cat >maps.py <<-\PYEOF &&
	import os, socket, subprocess, sys, time
	a, b = socket.socketpair()
	p = subprocess.Popen(sys.argv[1:], stdin=b, stdout=b)
	b.close()
	f = a.makefile("rwb", buffering=0)
	def reply():
	    while True:
	        l = f.readline()
	        if l[3:4] != b"-":
	            return l
	reply()
	f.write(b"EHLO c.example\r\n"); reply()
	before = open("/proc/%d/maps" % p.pid).read()
	f.write(b"STARTTLS\r\n"); reply()
	time.sleep(0.3)
	after = open("/proc/%d/maps" % p.pid).read()
	print("before", "libcrypto" in before, "smtpd-tls" in before)
	print("after", "libcrypto" in after, "smtpd-tls" in after)
	a.close(); p.kill(); p.wait()
	PYEOF
	/usr/bin/python3 maps.py smtpd-lite \
	    -o smtpd_tls_security_level=may >maps.out &&
	test_grep "^before False False" maps.out &&
	test_grep "^after True True" maps.out
'

test_expect_success 'no TLS module: STARTTLS is 454 4.7.0 with the reason logged, plaintext goes on' '
	mkdir -p nomod &&
	ln -sf "$CORREO_BUILD/smtpd-lite" nomod/smtpd-lite &&
	: >maillog &&
	$CHAT -- smtpd-lite -o daemon_directory="$TRASH/nomod" \
	    -o smtpd_tls_security_level=may >out <<-\EOF &&
	E
	S EHLO c.example
	E
	S STARTTLS
	E
	S MAIL FROM:<a@host.example.org>
	E
	S QUIT
	E
	EOF
	test_grep "^454 4.7.0 TLS not available due to local problem" out &&
	test_grep "^250 2.1.0" out &&
	test_grep "cannot start TLS: cannot load the TLS module: .*smtpd-tls.so" maillog
'

test_done
