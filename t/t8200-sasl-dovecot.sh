#!/bin/sh
test_description='common/sasl against a real Dovecot auth server (smtpd_sasl_type = dovecot) and its passwd-file'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-dovecot.sh"

dovecot_require

# A listener of our own, as a site would add for smtpd-lite, and more
# passdbs: $USERS (crypt hashes, nologin, proxy, a canonical name,
# allow_nets) and tls%{secured}, where tlsuser exists only when the
# request says "secured".  Failures are not delayed (auth_failure_delay),
# and each failing check below comes from its own rip, so Dovecot's
# per-address penalty does not slow the next one down.  auth_debug logs
# every request without its resp= (auth_debug_passwords = no).
SOCK=$DOVECOT_DIR/run/auth-correo
USERS=$DOVECOT_DIR/users
DOVECOT_EXTRA="auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
auth_debug = yes
passdb {
  driver = passwd-file
  args = $USERS
}
passdb {
  driver = passwd-file
  args = $DOVECOT_DIR/tls%{secured}
}
service auth {
  unix_listener auth-correo {
    mode = 0600
  }
}"

# sha512 PASSWORD - a $6$ hash, from openssl (or doveadm without it)
sha512() {
	if test_have_prereq OPENSSL; then
		openssl passwd -6 "$1"
	else
		doveadm_ pw -s SHA512-CRYPT -p "$1" | sed 's/^{SHA512-CRYPT}//'
	fi
}

# auth [options] USER PASS [AUTHZID] - one check through Dovecot
auth() {
	correo-test sasl -t 20 -l 192.0.2.25 -P 587 -p 40000 "$@"
}

# requests - how many AUTH requests Dovecot has logged
requests() {
	grep -c 'client in: AUTH' "$DOVECOT_LOG" || :
}

# connections - how many auth client connections Dovecot has logged
connections() {
	grep -c 'auth client connected' "$DOVECOT_LOG" || :
}

dovecot_write_config &&
carol=$(sha512 carol-secret) &&
dave=$(sha512 dave-secret) &&
erin=$(doveadm_ pw -s BLF-CRYPT -p erin-secret) &&
cat >"$USERS" <<EOF &&
carol:{SHA512-CRYPT}$carol
dave:$dave
erin:$erin
nolog:{PLAIN}nolog-secret::::::nologin
nolog2:{PLAIN}nolog-secret::::::nologin reason=Away
prox:{PLAIN}prox-secret::::::proxy host=127.0.0.1
canon:{PLAIN}canon-secret::::::user=canonical@example.org
nets:{PLAIN}nets-secret::::::allow_nets=192.0.2.0/24
EOF
: >"$DOVECOT_DIR/tls" &&
echo 'tlsuser:{PLAIN}tls-secret' >"$DOVECOT_DIR/tlssecured" &&
chmod 600 "$USERS" &&
dovecot_start >start.err 2>&1
started=$?

test_expect_success 'a private Dovecot with an auth-client listener starts' '
	cat start.err &&
	test "$started" = 0 &&
	test -S "$SOCK"
'

test_expect_success 'the right password: OK and Dovecot'"'"'s name for the user' '
	auth -r 192.0.2.1 dovecot "$SOCK" alice alice-secret >out &&
	auth -r 192.0.2.1 dovecot "$SOCK" carol carol-secret >>out &&
	auth -r 192.0.2.1 dovecot "$SOCK" dave dave-secret >>out &&
	auth -r 192.0.2.1 dovecot "$SOCK" erin erin-secret >>out &&
	auth -r 192.0.2.1 dovecot "$SOCK" canon canon-secret >>out &&
	auth -r 192.0.2.1 dovecot "$SOCK" bob bob-secret bob >>out &&
	cat >expect <<-\EOF &&
	OK alice
	OK carol
	OK dave
	OK erin
	OK canonical@example.org
	OK bob
	EOF
	test_cmp expect out
'

test_expect_success 'a wrong password or an unknown user: FAIL, without delay' '
	start=$(date +%s) &&
	auth -r 192.0.2.11 dovecot "$SOCK" alice wrong >out &&
	auth -r 192.0.2.12 dovecot "$SOCK" carol alice-secret >>out &&
	auth -r 192.0.2.13 dovecot "$SOCK" nobody x >>out &&
	test $(($(date +%s) - start)) -lt 5 &&
	cat >expect <<-\EOF &&
	FAIL authentication failed
	FAIL authentication failed
	FAIL authentication failed
	EOF
	test_cmp expect out
'

test_expect_success 'OK with nologin or proxy from Dovecot is a failure' '
	auth -r 192.0.2.2 dovecot "$SOCK" nolog nolog-secret >out &&
	auth -r 192.0.2.2 dovecot "$SOCK" nolog2 nolog-secret >>out &&
	auth -r 192.0.2.2 dovecot "$SOCK" prox prox-secret >>out &&
	auth -r 192.0.2.14 dovecot "$SOCK" nolog wrong >>out &&
	cat >expect <<-\EOF &&
	FAIL Dovecot refused the login (nologin)
	FAIL Dovecot refused the login (nologin): Away
	FAIL Dovecot refused the login (proxy)
	FAIL authentication failed
	EOF
	test_cmp expect out
'

test_expect_success '"secured" is sent only for a client under TLS' '
	auth -r 192.0.2.15 dovecot "$SOCK" tlsuser tls-secret >out &&
	auth -s -r 192.0.2.16 dovecot "$SOCK" tlsuser tls-secret >>out &&
	cat >expect <<-\EOF &&
	FAIL authentication failed
	OK tlsuser
	EOF
	test_cmp expect out &&
	grep "client in: AUTH	[0-9]*	PLAIN	service=smtp	lip=192.0.2.25	rip=192.0.2.15	lport=587	rport=40000	resp=<hidden>" "$DOVECOT_LOG" &&
	grep "client in: AUTH	[0-9]*	PLAIN	service=smtp	lip=192.0.2.25	rip=192.0.2.16	lport=587	rport=40000	secured	resp=<hidden>" "$DOVECOT_LOG"
'

test_expect_success 'rip reaches Dovecot: allow_nets and its log' '
	auth -r 192.0.2.3 dovecot "$SOCK" nets nets-secret >out &&
	auth -r 198.51.100.7 dovecot "$SOCK" nets nets-secret >>out &&
	cat >expect <<-\EOF &&
	OK nets
	FAIL authentication failed
	EOF
	test_cmp expect out &&
	grep "passwd-file(nets,198.51.100.7): allow_nets check failed" "$DOVECOT_LOG"
'

test_expect_success 'never no-penalty, never a password in Dovecot'"'"'s log' '
	test "$(requests)" -ge 10 &&
	! grep -e no-penalty -e alice-secret -e carol-secret -e nolog-secret \
	    -e tls-secret -e "resp=[^<]" "$DOVECOT_LOG"
'

test_expect_success 'several checks share one connection; request ids go up' '
	before=$(connections) &&
	cat >in <<-\EOF &&
	alice alice-secret
	carol carol-secret
	dave dave-secret alice
	bob wrong
	EOF
	correo-test sasl -r 192.0.2.17 dovecot "$SOCK" <in >out &&
	cat >expect <<-\EOF &&
	OK alice
	OK carol
	FAIL authorization identity differs
	FAIL authentication failed
	EOF
	test_cmp expect out &&
	test $(($(connections) - before)) = 1 &&
	grep "client in: AUTH	3	PLAIN	service=smtp	rip=192.0.2.17	resp=<hidden>" "$DOVECOT_LOG"
'

test_expect_success 'refused before Dovecot is asked: authzid, control characters' '
	before=$(requests) &&
	auth dovecot "$SOCK" alice alice-secret bob >out &&
	auth dovecot "$SOCK" "$(printf "ali\tce")" alice-secret >>out &&
	auth dovecot "$SOCK" alice "$(printf "alice\rsecret")" >>out &&
	cat >expect <<-\EOF &&
	FAIL authorization identity differs
	FAIL control character in the user name
	FAIL CR, LF or TAB in the password
	EOF
	test_cmp expect out &&
	test "$(requests)" = "$before"
'

test_expect_success 'the passwd-file backend agrees with Dovecot on the same files' '
	sasl_pf() { correo-test sasl passwd-file "$@"; } &&
	sasl_pf "$USERS" carol carol-secret >out &&
	sasl_pf "$USERS" dave dave-secret >>out &&
	sasl_pf "$USERS" erin erin-secret >>out &&
	sasl_pf "$USERS" carol wrong >>out &&
	sasl_pf "$USERS" nolog nolog-secret >>out &&
	sasl_pf "$USERS" prox prox-secret >>out &&
	sasl_pf "$DOVECOT_DIR/passwd" alice alice-secret >>out &&
	sasl_pf "$DOVECOT_DIR/passwd" alice bob-secret >>out &&
	cat >expect <<-\EOF &&
	OK carol
	OK dave
	OK erin
	FAIL authentication failed
	FAIL passwd-file: login refused (nologin)
	FAIL passwd-file: login refused (proxy)
	OK alice
	FAIL authentication failed
	EOF
	test_cmp expect out
'

test_expect_success 'a world-readable passwd-file works, with a warning' '
	cp "$USERS" open-users &&
	chmod 644 open-users &&
	correo-test sasl passwd-file "$TRASH/open-users" carol carol-secret \
	    >out 2>err &&
	echo "OK carol" >expect &&
	test_cmp expect out &&
	grep "passwd-file $TRASH/open-users is world-readable" err &&
	correo-test sasl passwd-file "$USERS" carol carol-secret >out 2>err &&
	test_cmp expect out &&
	! grep world-readable err
'

test_expect_success 'Dovecot'"'"'s auth-userdb socket is the wrong one: TEMP' '
	test -S "$DOVECOT_DIR/run/auth-userdb" &&
	auth dovecot "$DOVECOT_DIR/run/auth-userdb" alice alice-secret >out &&
	grep "^TEMP .* is not Dovecot'"'"'s auth-client socket" out
'

test_expect_success 'no socket: TEMP' '
	auth dovecot "$TRASH/no-such-socket" alice alice-secret >out &&
	grep "^TEMP cannot connect to Dovecot auth socket $TRASH/no-such-socket: No such file or directory$" out
'

# wait_lines FILE N - until FILE has N lines (up to 10 s)
wait_lines() {
	_i=0
	while [ "$(wc -l <"$1")" -lt "$2" ]; do
		[ $_i -lt 100 ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# auth_pid - the PID of our Dovecot's auth process (a child of its master)
auth_pid() {
	ps -o pid= -o comm= --ppid "$DOVECOT_PID" | awk '$2 == "auth" { print $1 }'
}

# wait_gone PID - until PID has exited (up to 10 s)
wait_gone() {
	_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $_i -lt 100 ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# helper_start RIP - correo-test sasl on one handle, fed line by line
# through fd 8 (a FIFO), its output in "out"; helper_end closes fd 8
# and waits for it
helper_start() {
	rm -f fifo && mkfifo fifo &&
	: >out &&
	{ correo-test sasl -t 20 -r "$1" dovecot "$SOCK" <fifo >out & } &&
	helper=$! &&
	exec 8>fifo
}
helper_end() {
	exec 8>&- &&
	wait "$helper"
}

test_expect_success 'the auth process restarts between two checks: connected anew' '
	before=$(connections) &&
	helper_start 192.0.2.5 &&
	echo "alice alice-secret" >&8 &&
	wait_lines out 1 &&
	pid=$(auth_pid) &&
	test -n "$pid" &&
	kill "$pid" &&
	wait_gone "$pid" &&
	echo "carol carol-secret" >&8 &&
	helper_end &&
	cat >expect <<-\EOF &&
	OK alice
	OK carol
	EOF
	test_cmp expect out &&
	test $(($(connections) - before)) = 2
'

# The auth process outlives its master while a client is connected, so
# it goes too, by its PID.
test_expect_success 'Dovecot stopped between two checks on one connection: TEMP' '
	helper_start 192.0.2.4 &&
	echo "alice alice-secret" >&8 &&
	wait_lines out 1 &&
	pid=$(auth_pid) &&
	test -n "$pid" &&
	dovecot_stop &&
	{ kill "$pid" 2>/dev/null || :; } &&
	wait_gone "$pid" &&
	start=$(date +%s) &&
	echo "alice alice-secret" >&8 &&
	helper_end &&
	test $(($(date +%s) - start)) -lt 10 &&
	sed -n 1p out >first &&
	echo "OK alice" >expect &&
	test_cmp expect first &&
	sed -n 2p out >second &&
	grep "^TEMP cannot connect to Dovecot auth socket $SOCK: " second
'

dovecot_stop

test_done
