#!/bin/sh
test_description='common/tls client against real openssl s_server peers'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-tlsca.sh"

tlsca_require
CLIENT=$CORREO_BUILD/t/unit/t-tls
CA=$TLSCA_DIR/ca.crt

# srv_start NAME ARGS... - openssl s_server on $PORT, serving one
# connection; it sends "220 NAME ready" once the session is up and
# writes what it receives to NAME.out.  Its stdin is the FIFO NAME.in,
# held open on fd 9 until srv_stop, so it does not hang up early.
srv_start() {
	_srv=$1
	shift
	PORT=$(tlsca_port) &&
	rm -f "$_srv.in" && mkfifo "$_srv.in" &&
	{ openssl s_server -quiet -naccept 1 -accept "127.0.0.1:$PORT" \
	    "$@" <"$_srv.in" >"$_srv.out" 2>"$_srv.err" & } &&
	SRV_PID=$! &&
	exec 9>"$_srv.in" &&
	printf '220 %s ready\n' "$_srv" >&9
}

# srv_stop - let the server go (up to 5 s), then kill it by its PID
srv_stop() {
	exec 9>&-
	_i=0
	while kill -0 "$SRV_PID" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	:
}

# client LEVEL PEERNAME [options] - the test client against $PORT; its
# output in "out" with the port masked
client() {
	_lev=$1 _peer=$2
	shift 2
	"$CLIENT" connect 127.0.0.1 "$PORT" "$_lev" "$_peer" -t 10 "$@" \
	    >out.raw 2>&1
	_st=$?
	sed -e "s/:$PORT\\]*/:PORT/g" -e "s/\\]:$PORT/]:PORT/g" out.raw >out
	cat out
	return $_st
}

test_expect_success 'a test CA and its certificates' '
	tlsca_init &&
	tlsca_cert mx mx.example.org mx.example.org "*.example.net" &&
	tlsca_cert other other.example.com &&
	tlsca_cert_expired old mx.example.org &&
	tlsca_cert_self self mx.example.org ||
	{ cat "$TLSCA_DIR/openssl.err"; false; }
'

test_expect_success 'verify: the right CA and name' '
	srv_start mx -cert "$TLSCA_DIR/mx.pem" &&
	test_when_finished srv_stop &&
	client verify mx.example.org -C "$CA" -r 1 -s "EHLO client" &&
	cat >expect <<-\EOF &&
	status: ok
	trusted: 1
	matched: 1
	cn: mx.example.org
	EOF
	head -n 4 out >actual &&
	test_cmp expect actual &&
	grep "^log: Verified TLS connection established to \[127.0.0.1\]:PORT: TLSv1\.[23] with cipher [A-Z0-9_-]* ([0-9]*/[0-9]* bits)$" out &&
	grep "^read: 220 mx ready$" out &&
	srv_stop &&
	grep "^EHLO client$" mx.out
'

test_expect_success 'secure: a wildcard in the leftmost label' '
	srv_start mx -cert "$TLSCA_DIR/mx.pem" &&
	test_when_finished srv_stop &&
	client secure relay.example.net -C "$CA" &&
	grep "^log: Verified TLS" out
'

test_expect_success 'verify: the wildcard covers one label only' '
	srv_start mx -cert "$TLSCA_DIR/mx.pem" &&
	test_when_finished srv_stop &&
	test_must_fail client verify a.relay.example.net -C "$CA" &&
	grep "^status: server certificate name mismatch: server certificate not verified: name mismatch (CN=mx.example.org) for a.relay.example.net$" out
'

test_expect_success 'verify: a name mismatch fails' '
	srv_start mx -cert "$TLSCA_DIR/mx.pem" &&
	test_when_finished srv_stop &&
	test_must_fail client verify mx.example.com -C "$CA" &&
	grep "^status: server certificate name mismatch:" out
'

test_expect_success 'encrypt: a name mismatch connects, as Trusted' '
	srv_start mx -cert "$TLSCA_DIR/mx.pem" &&
	test_when_finished srv_stop &&
	client encrypt mx.example.com -C "$CA" -r 1 &&
	grep "^matched: 0$" out &&
	grep "^log: Trusted TLS connection established to" out &&
	grep "^read: 220 mx ready$" out
'

test_expect_success 'verify: an expired certificate fails' '
	srv_start old -cert "$TLSCA_DIR/old.pem" &&
	test_when_finished srv_stop &&
	test_must_fail client verify mx.example.org -C "$CA" &&
	grep "^status: server certificate not trusted: server certificate not trusted: certificate has expired$" out
'

test_expect_success 'may: an expired certificate connects, as Untrusted' '
	srv_start old -cert "$TLSCA_DIR/old.pem" &&
	test_when_finished srv_stop &&
	client may mx.example.org -C "$CA" &&
	grep "^log: Untrusted TLS connection established to" out
'

test_expect_success 'secure: a self-signed certificate fails' '
	srv_start self -cert "$TLSCA_DIR/self.pem" &&
	test_when_finished srv_stop &&
	test_must_fail client secure mx.example.org -C "$CA" &&
	grep "^status: server certificate not trusted: .*self-signed certificate$" out
'

test_expect_success 'encrypt: a self-signed certificate connects, as Untrusted' '
	srv_start self -cert "$TLSCA_DIR/self.pem" &&
	test_when_finished srv_stop &&
	client encrypt mx.example.org -C "$CA" &&
	grep "^trusted: 0$" out &&
	grep "^log: Untrusted TLS connection established to" out
'

test_expect_success 'verify: the system CA store does not know the test CA' '
	srv_start mx -cert "$TLSCA_DIR/mx.pem" &&
	test_when_finished srv_stop &&
	test_must_fail client verify mx.example.org &&
	grep "^status: server certificate not trusted:" out
'

test_expect_success 'SNI: the server picks its certificate by our name' '
	srv_start sni -cert "$TLSCA_DIR/other.pem" \
	    -cert2 "$TLSCA_DIR/mx.pem" -servername mx.example.org &&
	test_when_finished srv_stop &&
	client verify mx.example.org -C "$CA" &&
	grep "^cn: mx.example.org$" out
'

test_expect_success 'SNI: a name the server does not know is refused' '
	srv_start sni -cert "$TLSCA_DIR/other.pem" \
	    -cert2 "$TLSCA_DIR/mx.pem" -servername mx.example.org \
	    -servername_fatal &&
	test_when_finished srv_stop &&
	test_must_fail client may nobody.example.org -C "$CA" &&
	grep "^status: TLS handshake failed: TLS handshake with nobody.example.org failed: .*unrecognized name" out
'

if openssl s_server -help 2>&1 | grep -q -e "-tls1_1 "; then
	test_set_prereq TLS11
else
	say "skipping the TLS 1.1 test: this openssl has no -tls1_1"
fi

test_expect_success TLS11 'a TLS 1.1-only server is refused' '
	srv_start tls11 -cert "$TLSCA_DIR/mx.pem" -tls1_1 \
	    -cipher "DEFAULT@SECLEVEL=0" &&
	test_when_finished srv_stop &&
	test_must_fail client may mx.example.org -C "$CA" &&
	grep "^status: TLS handshake failed: .*protocol" out
'

test_expect_success PYTHON3 'the handshake times out against a silent peer' '
	python3 -c "
import socket, time
s = socket.socket()
s.bind((\"127.0.0.1\", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
time.sleep(30)
" >silent.port &
	SILENT_PID=$! &&
	test_when_finished "kill $SILENT_PID; wait $SILENT_PID; :" &&
	_i=0 &&
	while ! [ -s silent.port ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done &&
	PORT=$(cat silent.port) &&
	start=$(date +%s) &&
	test_must_fail "$CLIENT" connect 127.0.0.1 "$PORT" may mx.example.org \
	    -t 2 >out &&
	end=$(date +%s) &&
	cat out &&
	grep "^status: timed out: TLS handshake with mx.example.org: timed out$" out &&
	[ $((end - start)) -ge 1 ] && [ $((end - start)) -le 6 ]
'

test_done
