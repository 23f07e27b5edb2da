#!/bin/sh
test_description='smtpd-lite launched for real on loopback: systemd-socket-activate (inetd style and LISTEN_FDS), a real inetd from Debian with the shipped lines, the socket units'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-smtppeer.sh"
. "$T_DIR/lib-tlsca.sh"
. "$T_DIR/lib-launch.sh"

# Each launcher runs on free high ports of 127.0.0.1 (or ::1), is
# started by its test and stopped by PID when that test ends, and lives
# at most LAUNCH_MAX_SECONDS in any case.  swaks is the client.  No
# delivery: queued mail stays where the test can count it.
#
# As root (CI) the launchers must be there (.ci/deps installs them);
# for anyone else a missing one skips its tests.  The private spool's
# mail_owner is the caller, so smtpd-lite may run as root here.

me=$(id -un)
SMTPD=$CORREO_BUILD/smtpd-lite
: "${LAUNCH_MAX_SECONDS:=120}"

if "$SMTPD" -Z </dev/null 2>&1 | grep -q "not built yet"; then
	skip_all 'smtpd-lite is not built yet in this tree'
fi

test_lazy_prereq SOCKET_ACTIVATE 'command -v systemd-socket-activate'
test_lazy_prereq SYSTEMD_ANALYZE 'systemd-analyze --version'
# Debian's openbsd-inetd and xinetd conflict: the inetd tests run under
# whichever is installed (.ci/deps installs openbsd-inetd).
test_lazy_prereq INETD '[ -x /usr/sbin/inetd ]'
test_lazy_prereq XINETD 'command -v xinetd'
test_lazy_prereq TLS 'command -v openssl && swaks --support 2>&1 | grep -q "TLS supported"'
test_lazy_prereq IPV6 'python3 -c "import socket; socket.socket(socket.AF_INET6).bind((\"::1\", 0))" &&
	swaks --support 2>&1 | grep -q "IPv6 supported"'
test_lazy_prereq UNSHARE 'unshare -m true'
test_lazy_prereq FAIL2BAN 'command -v fail2ban-regex'

if ! test_have_prereq ROOT; then
	if ! test_have_prereq SWAKS; then
		skip_all 'no swaks'
	fi
	if ! test_have_prereq SOCKET_ACTIVATE && ! test_have_prereq INETD &&
	    ! test_have_prereq XINETD; then
		skip_all 'no systemd-socket-activate (systemd), no inetd (openbsd-inetd), no xinetd'
	fi
fi

# No delivery; the test CA's certificate for the TLS services; the
# submission services' users in a passwd-file.
test_config queue_run_delay 1d
test_config defer_transports "local, smtp, virtual"
test_config smtpd_sasl_type passwd-file
test_config smtpd_sasl_path "$TRASH/passwd"
echo "alice:{PLAIN}secret" >passwd
chmod 600 passwd
if test_have_prereq TLS && tlsca_init && tlsca_cert mx host.example.org; then
	test_config smtpd_tls_cert_file "$TLSCA_DIR/mx.pem"
else
	rm -f "$TLSCA_DIR/mx.pem"
fi

# wait_exit PID - wait (10 s at most) for a launcher to end by itself;
# its exit status in exit_status
wait_exit() {
	exit_status=
	_i=0
	while test_pid_alive "$1" && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if test_pid_alive "$1"; then
		echo >&2 "$1 is still running"
		return 1
	fi
	wait "$1"
	exit_status=$?
	echo "exit status $exit_status"
}

# send SERVER PORT NAME [SWAKS-OPTION...] - one message to a local
# user with swaks (60 s at most), the dialogue in NAME.swaks
send() {
	_srv=$1 _port=$2 _out=$3.swaks
	shift 3
	timeout 60 swaks --server "$_srv" --port "$_port" --timeout 20 \
	    --helo client.example --from "sender@client.example" \
	    --to "$me@host.example.org" \
	    --header "Message-Id: <$(basename "$_out" .swaks)@client.example>" \
	    "$@" >"$_out" 2>&1
}

# queued NAME - the message of NAME.swaks was queued: its queue ID
# from the 250 reply (in plaintext or TLS), one more message in the
# spool than in NAME.before, the client 127.0.0.1 on its log line;
# prints the ID
queued() {
	_id=$(sed -n 's/^<[-~]  250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\)$/\1/p' \
	    "$1.swaks")
	if [ -z "$_id" ]; then
		echo >&2 "not queued:"
		cat >&2 "$1.swaks"
		return 1
	fi
	test "$(queue_count)" = $(($(cat "$1.before") + 1)) &&
	test_grep "[]/]smtpd\[[0-9]*\]: $_id: client=unknown\[127\.0\.0\.1\](, .*)?\$" maillog &&
	echo "$_id"
}

# session_pid ID - the PID of the smtpd-lite that logged queue ID ID
session_pid() {
	sed -n "s/.*smtpd\[\([0-9]*\)\]: $1: client=.*/\1/p" maillog
}

# Never from the environment while the socket knows better.
FAKE_ENV="-E TCPREMOTEIP=192.0.2.7 -E REMOTE_ADDR=192.0.2.8"

test_expect_success ROOT 'as root the launchers and swaks are here (.ci/deps installs them)' '
	for c in swaks systemd-socket-activate python3; do
		command -v $c || { echo "missing $c"; return 1; }
	done &&
	if ! command -v xinetd && ! [ -x /usr/sbin/inetd ]; then
		echo "missing an inetd (openbsd-inetd or xinetd)"; return 1
	fi
'

# sa_inetd PORT - systemd-socket-activate --inetd: the connection on
# fd 0 and 1, as inetd and StandardInput=socket give it
sa_inetd() {
	# shellcheck disable=SC2086
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --inetd --accept -l "127.0.0.1:$1" -E CORREO_CONFIG -E ASAN_OPTIONS \
	    $FAKE_ENV "$SMTPD" -o "smtpd_banner=launch.example ESMTP by inetd protocol" \
	    -o message_size_limit=5000000
}

test_expect_success SOCKET_ACTIVATE,SWAKS 'systemd-socket-activate --inetd: a message queued, the peer from getpeername, -o overrides' '
	launch SA 1 sa_inetd &&
	queue_count >sa1.before &&
	send 127.0.0.1 $SA_PORT1 sa1 &&
	test_grep "^<-  220 launch.example ESMTP by inetd protocol\$" sa1.swaks &&
	test_grep "^<-  250-SIZE 5000000\$" sa1.swaks &&
	id=$(queued sa1) &&
	pid=$(session_pid $id) &&
	test_grep "smtpd\[$pid\]: connect from unknown\[127\.0\.0\.1\]\$" maillog &&
	test_grep "smtpd\[$pid\]: disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\$" maillog &&
	test_grep -v "192\.0\.2\.[78]" maillog &&
	test_grep "Connection from 127.0.0.1:[0-9]* to 127.0.0.1:$SA_PORT1" SA.err
'

test_expect_success SOCKET_ACTIVATE,SWAKS 'systemd-socket-activate --inetd: one process per connection, two sessions' '
	launch SA 1 sa_inetd &&
	queue_count >sa2.before &&
	send 127.0.0.1 $SA_PORT1 sa2 &&
	id2=$(queued sa2) &&
	queue_count >sa3.before &&
	send 127.0.0.1 $SA_PORT1 sa3 &&
	id3=$(queued sa3) &&
	test "$(session_pid $id2)" != "$(session_pid $id3)"
'

# sa_fd3 PORT - systemd-socket-activate --accept without --inetd: the
# connection as fd 3, LISTEN_FDS=1 and LISTEN_PID the child's
sa_fd3() {
	# shellcheck disable=SC2086
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --accept -l "127.0.0.1:$1" -E CORREO_CONFIG -E ASAN_OPTIONS \
	    $FAKE_ENV "$SMTPD" -o "smtpd_banner=launch.example ESMTP by LISTEN_FDS"
}

test_expect_success SOCKET_ACTIVATE,SWAKS 'systemd-socket-activate with LISTEN_FDS: a message queued, the peer from getpeername' '
	launch SA 1 sa_fd3 &&
	queue_count >fd3.before &&
	send 127.0.0.1 $SA_PORT1 fd3 &&
	test_grep "^<-  220 launch.example ESMTP by LISTEN_FDS\$" fd3.swaks &&
	id=$(queued fd3) &&
	pid=$(session_pid $id) &&
	test_grep "smtpd\[$pid\]: connect from unknown\[127\.0\.0\.1\]\$" maillog &&
	test_grep -v "192\.0\.2\.[78]" maillog
'

# sa_v6_loopback PORT, sa_v6_mapped PORT - systemd-socket-activate
# --inetd on [::1], and on an IPv6 socket whose IPv4 clients come as
# ::ffff:127.0.0.1
sa_v6_loopback() {
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --inetd --accept -l "[::1]:$1" -E CORREO_CONFIG -E ASAN_OPTIONS \
	    "$SMTPD"
}
sa_v6_mapped() {
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --inetd --accept -l "[::ffff:127.0.0.1]:$1" -E CORREO_CONFIG \
	    -E ASAN_OPTIONS "$SMTPD"
}

test_expect_success SOCKET_ACTIVATE,SWAKS,IPV6 'an IPv6 peer is logged as such, an IPv4-mapped one as IPv4' '
	launch V6 1 sa_v6_loopback &&
	send ::1 $V6_PORT1 v6 &&
	id=$(sed -n "s/^<-  250 2\.0\.0 Ok: queued as //p" v6.swaks) &&
	test -n "$id" &&
	test_grep "smtpd\[[0-9]*\]: $id: client=unknown\[::1\]\$" maillog &&
	launch MAPPED 1 sa_v6_mapped &&
	queue_count >mapped.before &&
	send 127.0.0.1 $MAPPED_PORT1 mapped &&
	id=$(queued mapped) &&
	test_grep -v "unknown\[::ffff:" maillog
'

# sa_listen PORT - systemd-socket-activate without --accept: the
# listening socket as fd 3 (LISTEN_FDS), which is Accept=no
sa_listen() {
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    -l "127.0.0.1:$1" -E CORREO_CONFIG -E ASAN_OPTIONS "$SMTPD"
}
# sa_listen_inetd PORT - the same as fd 0 and 1 (--inetd)
sa_listen_inetd() {
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --inetd -l "127.0.0.1:$1" -E CORREO_CONFIG -E ASAN_OPTIONS "$SMTPD"
}

# knock PORT - connect, print what the server says within 3 s (or
# the error)
knock() {
	timeout 10 python3 -c '
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
    print(repr(s.recv(4096)))
except OSError as e:
    print(type(e).__name__)
' "$1"
}

test_expect_success SOCKET_ACTIVATE 'a listening socket is refused (Accept=no by mistake): LISTEN_FDS, then fd 0' '
	queue_count >before &&
	: >maillog &&
	launch LISTEN 1 sa_listen &&
	knock $LISTEN_PORT1 >said &&
	wait_exit $LISTEN_PID &&
	test "$exit_status" = 64 &&
	test_grep "listening socket" LISTEN.err &&
	test_grep "Accept=yes" LISTEN.err &&
	test_grep -v "220" said &&
	launch LISTEN 1 sa_listen_inetd &&
	knock $LISTEN_PORT1 >said &&
	wait_exit $LISTEN_PID &&
	test "$exit_status" = 64 &&
	test_grep "listening socket" LISTEN.err &&
	test_grep -v "220" said &&
	test "$(queue_count)" = "$(cat before)" &&
	test_grep -v "connect from" maillog
'

test_expect_success PYTHON3 'a listening socket on fd 0 is refused without any launcher' '
	test_expect_code 64 python3 -c "
import os, socket, sys
s = socket.socket()
s.bind((\"127.0.0.1\", 0))
s.listen(1)
os.dup2(s.fileno(), 0)
os.dup2(s.fileno(), 1)
os.execv(sys.argv[1], [sys.argv[1]])
" "$SMTPD" 2>err &&
	test_grep "listening socket" err
'

# inetd_conf TEMPLATE PORT... - the shipped lines of TEMPLATE for
# smtp, submission and submissions on 127.0.0.1:PORT..., as this user,
# with this build and the private configuration
inetd_conf() {
	_tpl=$1
	shift
	grep -v "^#" "$_tpl" | grep . | while read -r svc rest; do
		case $svc in
		smtp) _p=$1 ;;
		submission) _p=$2 ;;
		submissions) _p=$3 ;;
		*) echo >&2 "unknown service $svc in $_tpl"; return 1 ;;
		esac
		printf "127.0.0.1:%s %s -C %s\n" "$_p" "$rest" "$CORREO_CONFIG"
	done | sed -e "s|@PREFIX@/sbin/smtpd-lite|$SMTPD|" \
	    -e "s|\([ 	]nowait[.0-9]*[ 	]\{1,\}\)correo\([ 	]\)|\1$me\2|"
}

# real_inetd PORT1 PORT2 PORT3 - Debian's inetd in the foreground (-d)
# with the shipped inetd.conf lines.  As root in a mount namespace of
# its own, so that its /run/inetd.pid is not the system inetd's.
real_inetd() {
	inetd_conf "$SRC_DIR/etc/inetd.conf.correo" "$@" >inetd.conf || exit 1
	if test_have_prereq ROOT && test_have_prereq UNSHARE; then
		exec timeout -k 5 "$LAUNCH_MAX_SECONDS" env TCPREMOTEIP=192.0.2.7 \
		    unshare -m sh -c "mount -t tmpfs -o size=1m tmpfs /run &&
			exec /usr/sbin/inetd -d \"\$1\"" sh "$TRASH/inetd.conf"
	fi
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" env TCPREMOTEIP=192.0.2.7 \
	    /usr/sbin/inetd -d "$TRASH/inetd.conf"
}

test_expect_success INETD,SWAKS 'inetd runs the shipped smtp line: a message queued, the peer from getpeername' '
	launch INETD 3 real_inetd &&
	cat inetd.conf &&
	test $(grep -c "^127\.0\.0\.1:[0-9]*[ 	].*[ 	]$me[ 	]$SMTPD[ 	]smtpd-lite" inetd.conf) = 3 &&
	queue_count >inetd1.before &&
	send 127.0.0.1 $INETD_PORT1 inetd1 &&
	test_grep "^<-  220 host.example.org ESMTP correo\$" inetd1.swaks &&
	id=$(queued inetd1) &&
	pid=$(session_pid $id) &&
	test_grep "correo/smtpd\[$pid\]: connect from unknown\[127\.0\.0\.1\]\$" maillog &&
	test_grep -v "192\.0\.2\.7" maillog
'

test_expect_success INETD,SWAKS 'inetd runs the shipped submission line: its -o overrides hold' '
	launch INETD 3 real_inetd &&
	: >maillog &&
	test_expect_code 23 send 127.0.0.1 $INETD_PORT2 sub --quit-after MAIL &&
	test_grep "^<-  250-PIPELINING" sub.swaks &&
	test_grep -v "AUTH" sub.swaks &&
	test_grep "^<\*\* 530 5\.7\.0 Must issue a STARTTLS command first" sub.swaks &&
	test_grep "correo/submission/smtpd\[[0-9]*\]: connect from unknown\[127\.0\.0\.1\]" maillog
'

test_expect_success INETD,SWAKS,TLS 'inetd, submission: STARTTLS, then AUTH is offered' '
	test -s "$TLSCA_DIR/mx.pem" &&
	launch INETD 3 real_inetd &&
	send 127.0.0.1 $INETD_PORT2 subtls --tls --quit-after EHLO &&
	sed -n "/STARTTLS\$/,\$p" subtls.swaks >after &&
	test_grep "^<~  250-AUTH PLAIN LOGIN\$" after &&
	sed -n "1,/^ -> STARTTLS\$/p" subtls.swaks >before-tls &&
	test_grep "^<-  250-STARTTLS\$" before-tls &&
	test_grep -v "AUTH" before-tls
'

test_expect_success INETD,SWAKS,TLS 'inetd, submissions: TLS from the first byte, then AUTH is offered' '
	test -s "$TLSCA_DIR/mx.pem" &&
	: >maillog &&
	launch INETD 3 real_inetd &&
	send 127.0.0.1 $INETD_PORT3 subs --tls-on-connect --quit-after EHLO &&
	test_grep "^<~  220 host.example.org ESMTP correo\$" subs.swaks &&
	test_grep "^<~  250-AUTH PLAIN LOGIN\$" subs.swaks &&
	test_grep -v "STARTTLS" subs.swaks &&
	test_grep "correo/smtps/smtpd\[[0-9]*\]: connect from unknown\[127\.0\.0\.1\]" maillog
'

test_expect_success INETD,SWAKS,TLS 'inetd, submission: nothing without AUTH; with AUTH PLAIN the message is queued' '
	test -s "$TLSCA_DIR/mx.pem" &&
	launch INETD 3 real_inetd &&
	queue_count >before &&
	test_expect_code 24 send 127.0.0.1 $INETD_PORT2 noauth --tls \
	    --quit-after RCPT &&
	test_grep "^<~\* 554 5\.7\.1 <$me@host\.example\.org>: Recipient address rejected: Access denied" noauth.swaks &&
	test "$(queue_count)" = "$(cat before)" &&
	queue_count >auth.before &&
	send 127.0.0.1 $INETD_PORT2 auth --tls --auth PLAIN \
	    --auth-user alice --auth-password secret &&
	test_grep "^<~  235 2\.7\.0 Authentication successful" auth.swaks &&
	id=$(queued auth) &&
	test_grep "correo/submission/smtpd\[[0-9]*\]: $id: client=unknown\[127\.0\.0\.1\], .*sasl_username=alice\$" maillog
'

test_expect_success INETD,SWAKS,TLS 'inetd, submissions: AUTH LOGIN over TLS from the first byte, the message queued' '
	test -s "$TLSCA_DIR/mx.pem" &&
	launch INETD 3 real_inetd &&
	queue_count >smtps.before &&
	send 127.0.0.1 $INETD_PORT3 smtps --tls-on-connect --auth LOGIN \
	    --auth-user alice --auth-password secret &&
	id=$(queued smtps) &&
	test_grep "correo/smtps/smtpd\[[0-9]*\]: $id: client=unknown\[127\.0\.0\.1\], .*sasl_username=alice\$" maillog
'

test_expect_success INETD,SWAKS,TLS 'inetd, submission: a wrong password is 535, in the form fail2ban reads' '
	test -s "$TLSCA_DIR/mx.pem" &&
	: >maillog &&
	launch INETD 3 real_inetd &&
	test_expect_code 28 send 127.0.0.1 $INETD_PORT2 wrong --tls \
	    --auth LOGIN --auth-user alice --auth-password wrong &&
	test_grep "^<~\* 535 5\.7\.8 " wrong.swaks &&
	test_grep "correo/submission/smtpd\[[0-9]*\]: warning: unknown\[127\.0\.0\.1\]: SASL LOGIN authentication failed: " maillog &&
	if test_have_prereq FAIL2BAN; then
		# the jail line of smtpd-lite(8)
		fail2ban-regex maillog "postfix[mode=auth, _daemon=\"correo(?:/\\w+)?/smtpd\"]" >f2b &&
		cat f2b &&
		test_grep "^Lines: [0-9]+ lines, 0 ignored, 1 matched" f2b
	fi
'

# The log line of a message from an authenticated client names the
# mechanism, as Postfix's does.
test_expect_success INETD,SWAKS,TLS 'the log names the SASL mechanism' '
	test -s "$TLSCA_DIR/mx.pem" &&
	launch INETD 3 real_inetd &&
	queue_count >mech.before &&
	send 127.0.0.1 $INETD_PORT2 mech --tls --auth PLAIN \
	    --auth-user alice --auth-password secret &&
	id=$(queued mech) &&
	test_grep "$id: client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice\$" maillog
'

# xinetd_conf PORT... - the shipped xinetd services on 127.0.0.1:PORT...,
# as this user, with this build and the private configuration
xinetd_conf() {
	cat <<-EOF
	defaults
	{
		log_type	= FILE $TRASH/xinetd.log
	}
	EOF
	awk -v p1="$1" -v p2="$2" -v p3="$3" -v smtpd="$SMTPD" -v me="$me" \
	    -v grp="$(id -gn)" -v conf="$CORREO_CONFIG" '
	/^service / {
		port = $2 == "smtp" ? p1 : $2 == "submission" ? p2 : p3
		args = 0
	}
	/^[ \t]*port[ \t]*=/ { print "\tport\t\t= " port; print "\ttype\t\t= UNLISTED"; print "\tbind\t\t= 127.0.0.1"; next }
	/^[ \t]*user[ \t]*=/ { print "\tuser\t\t= " me; next }
	/^[ \t]*group[ \t]*=/ { print "\tgroup\t\t= " grp; next }
	/^[ \t]*server[ \t]*=/ { sub(/@PREFIX@\/sbin\/smtpd-lite/, smtpd) }
	/^[ \t]*server_args[ \t]*=/ { $0 = $0 " -C " conf; args = 1 }
	/^}/ && !args { print "\tserver_args\t= -C " conf }
	/^#/ { next }
	{ print }' "$SRC_DIR/etc/xinetd.d-correo"
}

# real_xinetd PORT1 PORT2 PORT3 - xinetd in the foreground with the
# shipped services
real_xinetd() {
	xinetd_conf "$@" >xinetd.conf || exit 1
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" env TCPREMOTEIP=192.0.2.7 \
	    xinetd -dontfork -filelog "$TRASH/xinetd.err" \
	    -f "$TRASH/xinetd.conf" -pidfile "$TRASH/xinetd.pid"
}

test_expect_success XINETD,SWAKS 'xinetd runs the shipped services: a message queued, the overrides hold' '
	launch XINETD 3 real_xinetd &&
	cat xinetd.conf &&
	queue_count >xinetd1.before &&
	send 127.0.0.1 $XINETD_PORT1 xinetd1 &&
	id=$(queued xinetd1) &&
	pid=$(session_pid $id) &&
	test_grep "correo/smtpd\[$pid\]: connect from unknown\[127\.0\.0\.1\]\$" maillog &&
	test_grep -v "192\.0\.2\.7" maillog &&
	test_expect_code 23 send 127.0.0.1 $XINETD_PORT2 xsub --quit-after MAIL &&
	test_grep "^<\*\* 530 5\.7\.0 Must issue a STARTTLS command first" xsub.swaks &&
	test_grep "correo/submission/smtpd\[[0-9]*\]: connect from" maillog
'

# inetd_warning PORT - inetd with one line whose session starts with a
# warning (TLS wanted, no certificate)
inetd_warning() {
	printf "127.0.0.1:%s stream tcp nowait.100 %s %s smtpd-lite -C %s -o smtpd_tls_security_level=may -o smtpd_tls_cert_file=\n" \
	    "$1" "$me" "$SMTPD" "$CORREO_CONFIG" >inetd-warn.conf
	if test_have_prereq ROOT && test_have_prereq UNSHARE; then
		exec timeout -k 5 "$LAUNCH_MAX_SECONDS" unshare -m sh -c \
		    "mount -t tmpfs -o size=1m tmpfs /run &&
			exec /usr/sbin/inetd -d \"\$1\"" sh "$TRASH/inetd-warn.conf"
	fi
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" /usr/sbin/inetd -d \
	    "$TRASH/inetd-warn.conf"
}

# Under inetd stderr is the connection too: smtpd-lite must keep its
# warnings out of it (they are in the mail log).
test_expect_success INETD 'a warning never reaches the client under inetd' '
	: >maillog &&
	launch WARN 1 inetd_warning &&
	knock $WARN_PORT1 >said &&
	test_grep "TLS is wanted" maillog &&
	test_grep "^b.220 " said
'

# fake_runq - a runq that notes its open descriptors
fake_runq() {
	mkdir -p fakebin &&
	cat >fakebin/runq <<-EOF &&
	#!/bin/sh
	ls -l /proc/\$\$/fd >"$TRASH/fds.\$\$" &&
	mv "$TRASH/fds.\$\$" "$TRASH/runq-fds.\$\$"
	EOF
	chmod +x fakebin/runq
}

sa_fd3_fakerunq() {
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --accept -l "127.0.0.1:$1" -E CORREO_CONFIG -E ASAN_OPTIONS \
	    "$SMTPD" -o "daemon_directory=$TRASH/fakebin"
}

# The runq that smtpd-lite starts after a message must not hold the
# client's connection open: with LISTEN_FDS it is fd 3.
test_expect_success SOCKET_ACTIVATE,SWAKS 'runq started by smtpd-lite does not inherit the connection' '
	fake_runq &&
	launch SA 1 sa_fd3_fakerunq &&
	# No runner at work (an earlier test'"'"'s runq may still be): else
	# smtpd-lite only pokes it and starts none.
	i=0 &&
	while [ -f spool/queue/.runq.lock ] && [ $i -lt 100 ] &&
	    ! flock -n spool/queue/.runq.lock true; do
		sleep 0.1; i=$((i + 1))
	done &&
	queue_count >leak.before &&
	send 127.0.0.1 $SA_PORT1 leak &&
	queued leak &&
	i=0 &&
	while ! ls runq-fds.* >/dev/null 2>&1 && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	cat runq-fds.* &&
	! grep "socket:" runq-fds.*
'

sa_args_fakerunq() {
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" systemd-socket-activate \
	    --inetd --accept -l "127.0.0.1:$1" -E CORREO_CONFIG -E ASAN_OPTIONS \
	    "$SMTPD" -o "daemon_directory=$TRASH/argsbin" \
	    -o syslog_name=correo/submission
}

# Under -o syslog_name=correo/submission, as Postfix's submission
# service: smtpd's own lines are correo/submission/smtpd, the cleanup
# and qmgr lines it writes correo/cleanup and correo/qmgr, and the runq
# it starts gets its -o overrides but that one (deliveries log as
# correo/local).
test_expect_success SOCKET_ACTIVATE,SWAKS 'a submission service: its smtpd lines carry syslog_name, its cleanup and qmgr lines and its runq do not' '
	mkdir -p argsbin &&
	cat >argsbin/runq <<-EOF &&
	#!/bin/sh
	echo "\$@" >"$TRASH/runq-args.\$\$.tmp" &&
	mv "$TRASH/runq-args.\$\$.tmp" "$TRASH/runq-args"
	EOF
	chmod +x argsbin/runq &&
	launch SA 1 sa_args_fakerunq &&
	i=0 &&
	while [ -f spool/queue/.runq.lock ] && [ $i -lt 100 ] &&
	    ! flock -n spool/queue/.runq.lock true; do
		sleep 0.1; i=$((i + 1))
	done &&
	queue_count >args.before &&
	send 127.0.0.1 $SA_PORT1 args &&
	i=0 &&
	while ! test -f runq-args && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	cat runq-args &&
	test_grep "^-N (-C [^ ]* )?-o daemon_directory=$TRASH/argsbin\$" runq-args &&
	test_grep "correo/submission/smtpd\[" maillog &&
	test_grep " correo/qmgr\[[0-9]*\]: [0-9A-Za-z]*: from=<sender@client.example>" maillog &&
	test_grep " correo/cleanup\[[0-9]*\]: [0-9A-Za-z]*: message-id=<args@client.example>" maillog &&
	! grep "correo/submission/\(qmgr\|cleanup\)" maillog
'

# The units, checked the way systemd reads them: ExecStart= made to
# point at this build.
units="correo-smtpd.socket correo-smtpd@.service correo-submission.socket
	correo-submission@.service correo-submissions.socket
	correo-submissions@.service"

test_expect_success SYSTEMD_ANALYZE 'the socket units pass systemd-analyze verify' '
	mkdir -p root/usr/sbin root/etc/systemd/system &&
	cp "$SMTPD" root/usr/sbin/smtpd-lite &&
	for u in $units; do
		sed "s|@PREFIX@/sbin/smtpd-lite|$TRASH/root/usr/sbin/smtpd-lite|" \
		    "$SRC_DIR/etc/$u" >"root/etc/systemd/system/$u" || return 1
	done &&
	{
		(cd root/etc/systemd/system &&
		    systemd-analyze verify --man=no $units) >out 2>&1
		cat out &&
		test ! -s out
	}
'

test_expect_success 'the units: one session per connection, stderr not the socket, limits, the correo user' '
	for s in smtpd submission submissions; do
		f=$SRC_DIR/etc/correo-$s.socket &&
		g=$SRC_DIR/etc/correo-$s@.service &&
		test_grep "^Accept=yes\$" $f &&
		test_grep "^MaxConnections=[0-9]+\$" $f &&
		test_grep "^MaxConnectionsPerSource=[0-9]+\$" $f &&
		test_grep "^TriggerLimitIntervalSec=0\$" $f &&
		test_grep "^StandardInput=socket\$" $g &&
		test_grep "^StandardError=journal\$" $g &&
		test_grep "^User=correo\$" $g &&
		test_grep "^ExecStart=@PREFIX@/sbin/smtpd-lite" $g &&
		test_grep "^ProtectSystem=strict\$" $g &&
		test_grep "^ReadWritePaths=/var/spool/correo\$" $g || return 1
	done &&
	test_grep "^ListenStream=25\$" "$SRC_DIR/etc/correo-smtpd.socket" &&
	test_grep "^ListenStream=587\$" "$SRC_DIR/etc/correo-submission.socket" &&
	test_grep "^ListenStream=465\$" "$SRC_DIR/etc/correo-submissions.socket"
'

# o_args - the values of the -o options in the words on stdin
o_args() {
	tr -d "\\\\" | awk '{ for (i = 1; i < NF; i++) if ($i == "-o") print $(i + 1) }'
}

# unit_args SERVICE - the -o overrides of a unit's ExecStart=, one a line
unit_args() {
	sed -n "/^ExecStart=/,/[^\\\\]\$/p" "$SRC_DIR/etc/correo-$1@.service" | o_args
}

# line_args FILE SERVICE - the same from an inetd.conf line or an
# xinetd service
line_args() {
	case $1 in
	*xinetd*) sed -n "/^service $2\$/,/^}/p" "$1" |
		sed -n "s/^[ 	]*server_args[ 	]*=//p" ;;
	*) sed -n "s/^$2[ 	].*smtpd-lite[ 	]smtpd-lite//p" "$1" ;;
	esac | o_args
}

test_expect_success 'the units, the inetd lines and the xinetd services have the same overrides' '
	for s in smtpd submission submissions; do
		case $s in smtpd) n=smtp ;; *) n=$s ;; esac
		unit_args $s >unit.$s &&
		line_args "$SRC_DIR/etc/inetd.conf.correo" $n >inetd.$s &&
		line_args "$SRC_DIR/etc/xinetd.d-correo" $n >xinetd.$s &&
		test_cmp unit.$s inetd.$s &&
		test_cmp unit.$s xinetd.$s || return 1
	done &&
	test_grep "^smtpd_tls_wrappermode=yes\$" unit.submissions &&
	test_grep "^smtpd_tls_security_level=encrypt\$" unit.submission &&
	test ! -s unit.smtpd
'

test_done
