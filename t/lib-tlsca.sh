# lib-tlsca.sh - a throwaway test CA and certificates, made with openssl(1)
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$T_DIR/lib-tlsca.sh"
#	tlsca_require			# skip_all without openssl(1)
#	tlsca_init			# the CA: $TLSCA_DIR/ca.crt
#	tlsca_cert mx mx.example.org '*.example.net' 127.0.0.1
#					# mx.crt, mx.key, mx.pem (both)
#	tlsca_cert_expired old mx.example.org
#	tlsca_cert_self self mx.example.org
#	tlsca_port			# a free TCP port on 127.0.0.1
#
# Everything lives in $TLSCA_DIR ($TRASH/tlsca).  tlsca_cert NAME CN
# [SAN...] issues NAME.crt (signed by the CA, valid for a day) with CN
# as the subject's common name and the SANs given (DNS names, a
# wildcard such as "*.example.net", or IPv4 literals); with no SAN the
# CN is the only DNS SAN.  tlsca_cert_expired makes one signed by the
# CA whose validity ended yesterday, tlsca_cert_self a self-signed one.
# Keys are 2048-bit RSA without a passphrase.  Every function returns
# non-zero and leaves openssl's messages in $TLSCA_DIR/openssl.err on
# failure.

TLSCA_DIR=$TRASH/tlsca

# tlsca_require - skip the whole script without openssl(1)
tlsca_require() {
	if ! command -v openssl >/dev/null 2>&1; then
		printf '1..0 # SKIP openssl(1) not found\n'
		rm -rf "$TRASH"
		exit 0
	fi
}

# tlsca_openssl ARGS... - openssl, its chatter to openssl.err
tlsca_openssl() {
	openssl "$@" 2>>"$TLSCA_DIR/openssl.err" >/dev/null
}

# tlsca_init - the CA key and certificate
tlsca_init() {
	mkdir -p "$TLSCA_DIR" &&
	cat >"$TLSCA_DIR/ca.cnf" <<-'EOF' &&
	[ req ]
	distinguished_name = dn
	prompt = no
	[ dn ]
	CN = correo test CA
	[ v3_ca ]
	basicConstraints = critical, CA:true
	keyUsage = critical, keyCertSign, cRLSign
	subjectKeyIdentifier = hash
	EOF
	tlsca_openssl req -x509 -new -newkey rsa:2048 -nodes -days 2 \
	    -config "$TLSCA_DIR/ca.cnf" -extensions v3_ca \
	    -keyout "$TLSCA_DIR/ca.key" -out "$TLSCA_DIR/ca.crt"
}

# tlsca_ext_ NAME CN [SAN...] - NAME.ext, the leaf's extensions
tlsca_ext_() {
	_n=$1 _cn=$2
	shift 2
	[ $# -gt 0 ] || set -- "$_cn"
	_san=
	for _s in "$@"; do
		case $_s in
		*[!0-9.]*)	_san="$_san${_san:+, }DNS:$_s" ;;
		*)		_san="$_san${_san:+, }IP:$_s" ;;
		esac
	done
	cat >"$TLSCA_DIR/$_n.ext" <<-EOF
	basicConstraints = critical, CA:false
	keyUsage = critical, digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	subjectAltName = $_san
	EOF
}

# tlsca_csr_ NAME CN - NAME.key and NAME.csr
tlsca_csr_() {
	tlsca_openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" \
	    -keyout "$TLSCA_DIR/$1.key" -out "$TLSCA_DIR/$1.csr"
}

# tlsca_pem_ NAME - NAME.pem: the certificate, then the key
tlsca_pem_() {
	cat "$TLSCA_DIR/$1.crt" "$TLSCA_DIR/$1.key" >"$TLSCA_DIR/$1.pem"
}

# tlsca_cert NAME CN [SAN...] - a server certificate issued by the CA
tlsca_cert() {
	_name=$1
	tlsca_ext_ "$@" &&
	tlsca_csr_ "$_name" "$2" &&
	tlsca_openssl x509 -req -in "$TLSCA_DIR/$_name.csr" -days 1 \
	    -CA "$TLSCA_DIR/ca.crt" -CAkey "$TLSCA_DIR/ca.key" \
	    -CAcreateserial -extfile "$TLSCA_DIR/$_name.ext" \
	    -out "$TLSCA_DIR/$_name.crt" &&
	tlsca_pem_ "$_name"
}

# tlsca_cert_expired NAME CN [SAN...] - issued by the CA, expired yesterday
tlsca_cert_expired() {
	_name=$1
	tlsca_ext_ "$@" &&
	tlsca_csr_ "$_name" "$2" &&
	tlsca_openssl x509 -req -in "$TLSCA_DIR/$_name.csr" \
	    -CA "$TLSCA_DIR/ca.crt" -CAkey "$TLSCA_DIR/ca.key" \
	    -CAcreateserial -extfile "$TLSCA_DIR/$_name.ext" \
	    -not_before "$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)" \
	    -not_after "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
	    -out "$TLSCA_DIR/$_name.crt" 2>/dev/null ||
	tlsca_expired_ca_ "$_name"
	[ -s "$TLSCA_DIR/$_name.crt" ] && tlsca_pem_ "$_name"
}

# tlsca_expired_ca_ NAME - the same with "openssl ca" (x509 before 3.x
# has no -not_before/-not_after)
tlsca_expired_ca_() {
	_d=$TLSCA_DIR/ca.db
	mkdir -p "$_d" && : >"$_d/index.txt" &&
	printf '1000\n' >"$_d/serial" &&
	cat >"$_d/ca.cnf" <<-EOF &&
	[ ca ]
	default_ca = test
	[ test ]
	dir = $_d
	database = $_d/index.txt
	serial = $_d/serial
	new_certs_dir = $_d
	default_md = sha256
	policy = any
	unique_subject = no
	[ any ]
	commonName = supplied
	EOF
	tlsca_openssl ca -batch -config "$_d/ca.cnf" \
	    -cert "$TLSCA_DIR/ca.crt" -keyfile "$TLSCA_DIR/ca.key" \
	    -extfile "$TLSCA_DIR/$1.ext" \
	    -startdate "$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)" \
	    -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
	    -in "$TLSCA_DIR/$1.csr" -out "$TLSCA_DIR/$1.crt"
}

# tlsca_cert_self NAME CN [SAN...] - a self-signed server certificate
tlsca_cert_self() {
	_name=$1
	tlsca_ext_ "$@" &&
	{
		printf '[ req ]\ndistinguished_name = dn\n'
		printf 'x509_extensions = leaf\n[ dn ]\n[ leaf ]\n'
		cat "$TLSCA_DIR/$_name.ext"
	} >"$TLSCA_DIR/$_name.cnf" &&
	tlsca_openssl req -x509 -new -newkey rsa:2048 -nodes -days 1 \
	    -subj "/CN=$2" -config "$TLSCA_DIR/$_name.cnf" \
	    -keyout "$TLSCA_DIR/$_name.key" -out "$TLSCA_DIR/$_name.crt" &&
	tlsca_pem_ "$_name"
}

# tlsca_port - print a TCP port on 127.0.0.1 that was free just now
tlsca_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
