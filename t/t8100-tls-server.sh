#!/bin/sh
test_description='common/tls server side against openssl s_client and plaintext peers'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-tlsca.sh"

tlsca_require
SERVER=$CORREO_BUILD/t/unit/t-tls-server
CA=$TLSCA_DIR/ca.crt
D=$TLSCA_DIR

# srv_start ARGS... - the test server in the background for one
# connection ("t-tls-server serve"), its output in srv.out; $PORT is
# its port once it listens
srv_start() {
	rm -f port srv.out
	"$SERVER" serve -p port "$@" >srv.out 2>&1 &
	SRV_PID=$!
	_i=0
	while ! [ -s port ] && [ $_i -lt 100 ] &&
	    kill -0 "$SRV_PID" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s port ] && PORT=$(cat port)
}

# srv_wait - let the server end (up to 10 s, then kill it by its PID);
# its output on stdout for the test's log
srv_wait() {
	_i=0
	while kill -0 "$SRV_PID" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	sed -e 's/^/srv: /' srv.out
	:
}

# sclient ARGS... - openssl s_client against $PORT sending one line,
# checking the certificate; what it receives in sc.out
sclient() {
	printf 'EHLO client.example\r\n' |
	timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -quiet \
	    -CAfile "$CA" -verify_return_error \
	    -verify_hostname mx.example.org -servername mx.example.org \
	    "$@" >sc.out 2>sc.err
	_st=$?
	sed -e 's/^/s_client: /' sc.out sc.err
	return $_st
}

# poke ARGS... - the plaintext client against $PORT, output in poke.out
poke() {
	"$SERVER" poke "$PORT" "$@" >poke.out 2>&1
	_st=$?
	sed -e 's/^/poke: /' poke.out
	return $_st
}

# serve_fails ARGS... - the server must refuse its files before it
# listens; its output
serve_fails() {
	rm -f port
	test_must_fail "$SERVER" serve -p port "$@" >srv.out 2>&1
	_st=$?
	cat srv.out
	! [ -e port ] && return $_st
}

if openssl s_client -help 2>&1 | grep -q -e "-tls1_1 "; then
	test_set_prereq TLS11
else
	say "skipping the TLS 1.1 and 1.0 tests: this openssl has no -tls1_1"
fi
command -v timeout >/dev/null 2>&1 || timeout() { shift; "$@"; }

test_expect_success 'a test CA, certificates and bad files' '
	tlsca_init &&
	tlsca_cert mx mx.example.org &&
	tlsca_cert other other.example.com &&
	openssl pkey -in "$D/mx.key" -aes256 -passout pass:secret \
	    -out "$D/enc.key" 2>>"$D/openssl.err" &&
	printf "%s\n" "-----BEGIN CERTIFICATE-----" "not base64" \
	    "-----END CERTIFICATE-----" >"$D/garbage.pem" ||
	{ cat "$D/openssl.err"; false; }
'

test_expect_success 'TLS 1.3: s_client verifies, lines go both ways' '
	srv_start -c "$D/mx.pem" -n 1 &&
	sclient -tls1_3 &&
	srv_wait &&
	grep "^echo: EHLO client.example" sc.out &&
	cat >expect <<-\EOF &&
	fds: one
	status: ok
	version: TLSv1.3
	EOF
	head -n 3 srv.out >actual &&
	test_cmp expect actual &&
	grep "^cipher: TLS_[A-Z0-9_]*$" srv.out &&
	grep "^received: (using TLSv1\.3 with cipher TLS_[A-Z0-9_]* ([0-9]*/[0-9]* bits))$" srv.out &&
	grep "^log: Anonymous TLS connection established from \[127\.0\.0\.1\]: TLSv1\.3 with cipher " srv.out &&
	grep "^read: EHLO client.example$" srv.out
'

test_expect_success 'TLS 1.2: ECDHE with the RSA key' '
	srv_start -c "$D/mx.pem" -n 1 &&
	sclient -tls1_2 &&
	srv_wait &&
	grep "^echo: EHLO client.example" sc.out &&
	grep "^version: TLSv1.2$" srv.out &&
	grep "^cipher: ECDHE-RSA-" srv.out &&
	grep "^received: (using TLSv1\.2 with cipher ECDHE-RSA-[A-Z0-9-]* ([0-9]*/[0-9]* bits))$" srv.out
'

test_expect_success 'certificate and key apart, read and write descriptors apart' '
	srv_start -c "$D/mx.crt" -k "$D/mx.key" -d -n 1 &&
	sclient &&
	srv_wait &&
	grep "^fds: two$" srv.out &&
	grep "^status: ok$" srv.out &&
	grep "^echo: EHLO client.example" sc.out
'

test_expect_success TLS11 'TLS 1.1 is refused: unsupported protocol' '
	srv_start -c "$D/mx.pem" &&
	test_must_fail sclient -tls1_1 -cipher "DEFAULT@SECLEVEL=0" &&
	srv_wait &&
	grep "^status: TLS handshake failed: TLS handshake failed: error:[0-9A-F]*:SSL routines:.*:unsupported protocol$" srv.out &&
	grep "alert protocol version" sc.err &&
	! grep "^echo:" sc.out
'

test_expect_success TLS11 'TLS 1.0 is refused: unsupported protocol' '
	srv_start -c "$D/mx.pem" &&
	test_must_fail sclient -tls1 -cipher "DEFAULT@SECLEVEL=0" &&
	srv_wait &&
	grep "^status: TLS handshake failed: .*unsupported protocol$" srv.out
'

test_expect_success 'SMTP where a ClientHello should be: wrong version number' '
	srv_start -c "$D/mx.pem" &&
	poke -s "EHLO client.example\r\n" &&
	srv_wait &&
	grep "^status: TLS handshake failed: TLS handshake failed: error:[0-9A-F]*:SSL routines:.*:wrong version number$" srv.out &&
	grep "^closed$" poke.out
'

test_expect_success 'HTTP where a ClientHello should be: http request' '
	srv_start -c "$D/mx.pem" &&
	poke -s "GET / HTTP/1.0\r\n\r\n" &&
	srv_wait &&
	grep "^status: TLS handshake failed: .*http request$" srv.out
'

test_expect_success 'a silent client: timed out after 1 s' '
	srv_start -c "$D/mx.pem" -t 1 &&
	start=$(date +%s) &&
	poke -w 10 &&
	end=$(date +%s) &&
	srv_wait &&
	grep "^status: timed out: TLS handshake: timed out$" srv.out &&
	grep "^closed$" poke.out &&
	[ $((end - start)) -ge 1 ] && [ $((end - start)) -le 4 ]
'

test_expect_success 'a client that hangs up: lost connection' '
	srv_start -c "$D/mx.pem" &&
	poke -w 0 &&
	srv_wait &&
	grep "^status: lost connection: TLS handshake: lost connection$" srv.out
'

test_expect_success 'STARTTLS: s_client -starttls smtp' '
	srv_start -c "$D/mx.pem" -S -n 1 &&
	sclient -starttls smtp &&
	srv_wait &&
	grep "^smtp: EHLO " srv.out &&
	grep "^smtp: STARTTLS$" srv.out &&
	grep "^discarded: 0$" srv.out &&
	grep "^status: ok$" srv.out &&
	grep "^echo: EHLO client.example" sc.out
'

test_expect_success 'STARTTLS: a command in the same packet is thrown away' '
	srv_start -c "$D/mx.pem" -S -t 1 &&
	poke -s "EHLO x\r\n" -s "STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n" &&
	srv_wait &&
	grep "^smtp: STARTTLS$" srv.out &&
	grep "^discarded: 30$" srv.out &&
	! grep "^smtp: MAIL" srv.out &&
	grep "^status: timed out: TLS handshake: timed out$" srv.out &&
	grep "^got: 220 2.0.0 Ready to start TLS" poke.out
'

test_expect_success 'STARTTLS: a command after it goes to TLS, which refuses it' '
	srv_start -c "$D/mx.pem" -S &&
	poke -s "EHLO x\r\n" -s "STARTTLS\r\n" -s "MAIL FROM:<evil@example.com>\r\n" &&
	srv_wait &&
	grep "^discarded: 0$" srv.out &&
	! grep "^smtp: MAIL" srv.out &&
	grep "^status: TLS handshake failed: .*wrong version number$" srv.out
'

test_expect_success 'a missing certificate or key file is named' '
	serve_fails -c "$D/missing.pem" &&
	grep "^status: context: cannot load certificate $D/missing.pem: No such file or directory$" srv.out &&
	serve_fails -c "$D/mx.crt" -k "$D/missing.key" &&
	grep "^status: context: cannot load key $D/missing.key: No such file or directory$" srv.out
'

test_expect_success 'a file without a certificate or a key' '
	serve_fails -c "$D/mx.crt" &&
	grep "^status: context: cannot load key $D/mx.crt: no PEM private key in the file$" srv.out &&
	serve_fails -c "$D/mx.key" &&
	grep "^status: context: cannot load certificate $D/mx.key: no PEM certificate in the file$" srv.out &&
	serve_fails -c "$D/garbage.pem" -k "$D/mx.key" &&
	grep "^status: context: cannot load certificate $D/garbage.pem: error:" srv.out
'

test_expect_success 'a key that does not match the certificate' '
	serve_fails -c "$D/mx.crt" -k "$D/other.key" &&
	grep "^status: context: key $D/other.key does not match certificate $D/mx.crt$" srv.out &&
	serve_fails -c "$D/other.pem" -k "$D/mx.key" &&
	grep "^status: context: key $D/mx.key does not match certificate $D/other.pem$" srv.out
'

test_expect_success 'a key with a passphrase is refused, not prompted for' '
	serve_fails -c "$D/mx.crt" -k "$D/enc.key" </dev/null &&
	grep "^status: context: cannot load key $D/enc.key: it has a passphrase (not supported)$" srv.out
'

test_done
