#!/bin/sh
# demo.sh BUILD - README's first command (make demo): the Postfix
# course's two mail domains, mail1.org and mail2.org, without root.
#
# Two sandboxed hosts in a temporary directory, each with its own
# correo.conf, spool, mail log and mailboxes, and its own smtpd-lite on
# a free loopback port, started per connection by
# systemd-socket-activate --inetd (or, without it, a small accept loop
# in python3).  The course's hosts find each other by MX records and
# talk on port 25; here there is no DNS and no root, so each host
# routes the other's domain with transport_maps to the other's port.
#
# The story: alice@mail1.org writes to bob@mail2.org (sendmail -t),
# runq on mail1 relays it over SMTP to mail2's smtpd-lite, which queues
# it, and mail2's runq delivers it into bob's mailbox; bob replies the
# other way (mutt's argument vector); mail to an unknown user on
# mail2 is refused at RCPT and alice gets the bounce; a relay attempt
# through mail2 from outside its mynetworks is refused; with mail2's
# listener stopped the mail waits in mail1's queue, and runq -f
# delivers it once the listener is back.  It shows the queues, the log
# lines of both hosts and the mailboxes, and exits non-zero when a step
# that must work does not.  Every wait is bounded; the listeners it
# started are stopped by PID when it ends.
#
# As root everything runs as the user "nobody", so nothing here needs
# or uses privilege.  CORREO_DEMO_LAUNCHER=python3 forces the fallback.
#
# $as_user is a command prefix, split on purpose; the hosts' ports,
# PIDs and log positions are set through eval.
# shellcheck disable=SC2086,SC2034,SC2154
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
started=$(date +%s)
top=$(mktemp -d "${TMPDIR:-/tmp}/correo-demo.XXXXXX")
chmod 755 "$top"

as_user=
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
	user=nobody
	as_user="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups --"
fi
# nobody must reach the programs (a checkout under /root is out of its
# reach): else they are copied into the sandbox
if [ -n "$as_user" ] && ! $as_user test -x "$build/runq"; then
	mkdir "$top/bin" "$top/helper"
	for p in sendmail mailq newaliases runq smtpd-lite; do
		cp "$build/$p" "$top/bin/"
	done
	cp "$here/helper/smtpd-chat.py" "$top/helper/"
	chmod -R a+rX "$top/bin" "$top/helper"
	build=$top/bin here=$top
fi
path="$build:/usr/bin:/bin"

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
say() { printf '\n'; bold "== $*"; }

# run HOST COMMAND... - as the user, with the environment a user's
# shell would have, in HOST's sandbox
run() {
	_h=$1
	shift
	env -i PATH="$path" CORREO_CONFIG="$top/$_h/correo.conf" \
	    HOME="$top/$_h" $as_user "$@"
}

# The listeners: systemd-socket-activate, or a python3 accept loop
launcher=${CORREO_DEMO_LAUNCHER:-}
if [ -z "$launcher" ]; then
	if PATH=$path command -v systemd-socket-activate >/dev/null; then
		launcher=systemd-socket-activate
	elif PATH=$path command -v python3 >/dev/null; then
		launcher=python3
	else
		echo >&2 "demo: neither systemd-socket-activate (Debian: systemd) nor python3 is installed"
		exit 1
	fi
fi

# What inetd does, for a host without systemd-socket-activate: accept,
# fork, the connection on fds 0 and 1, exec smtpd-lite.
accept_loop='
import os, signal, socket, sys
host, port, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(16)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        s.close()
        for sig in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        os.dup2(c.fileno(), 0)
        os.dup2(c.fileno(), 1)
        c.close()
        os.execv(argv[0], argv)
    c.close()
'

# listening PORT - something listens on 127.0.0.1:PORT (or any address)
listening() {
	_hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	grep -q "^ *[0-9]*: [0-9A-F]*:$_hex [0-9A-F]*:[0-9A-F]* 0A "
}

# alive PID - PID runs (a zombie does not count)
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# stop PID - SIGTERM, up to 5 s, then SIGKILL; PID leaves $pids, the
# listeners to stop at the end, so that a number reused later is safe
stop() {
	_left=
	for _q in $pids; do
		[ "$_q" = "$1" ] || _left="$_left $_q"
	done
	pids=$_left
	kill "$1" 2>/dev/null || true
	_k=0
	while alive "$1" && [ $_k -lt 50 ]; do
		sleep 0.1
		_k=$((_k + 1))
	done
	if alive "$1"; then
		kill -9 "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

# pick_port - a port below the ephemeral range that nothing listens on
pick_port() {
	_n=0
	while [ $_n -lt 100 ]; do
		_p=$(($(od -An -N2 -tu2 /dev/urandom) % 12000 + 20000))
		listening $_p || { echo $_p; return 0; }
		_n=$((_n + 1))
	done
	return 1
}

# listen HOST PORT - exec HOST's listener (at most 2 minutes in any case)
listen() {
	_conf=$top/$1/correo.conf
	if [ "$launcher" = systemd-socket-activate ]; then
		exec env -i PATH="$path" CORREO_CONFIG="$_conf" \
		    timeout -k 5 120 $as_user systemd-socket-activate --inetd -a \
		    -l "127.0.0.1:$2" -E CORREO_CONFIG "$build/smtpd-lite"
	fi
	exec env -i PATH="$path" CORREO_CONFIG="$_conf" \
	    timeout -k 5 120 $as_user python3 -c "$accept_loop" \
	    127.0.0.1 "$2" "$build/smtpd-lite"
}

pids=
# start HOST [PORT] - HOST's listener on PORT or a free port; waits
# (5 s at most a try, ten tries) until it listens; sets HOST's port and PID
start() {
	_h=$1 _want=${2:-}
	_try=0
	while [ $_try -lt 10 ]; do
		_try=$((_try + 1))
		_p=${_want:-$(pick_port)}
		listen "$_h" "$_p" </dev/null >>"$top/$_h/listener.log" 2>&1 &
		_pid=$!
		pids="$pids $_pid"
		_i=0
		while alive $_pid && [ $_i -lt 50 ]; do
			if listening "$_p"; then
				eval "port_${_h%%.*}=\$_p pid_${_h%%.*}=\$_pid"
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		stop $_pid
		[ -z "$_want" ] || sleep 0.5
	done
	fail "the listener of $_h did not start"
}

# cleanup - stop the listeners still running
cleanup() {
	for _pid in $pids; do
		stop "$_pid"
	done
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# fail WHY - a step that must work did not: say so, show the logs, exit 1
fail() {
	printf '\n'
	bold "FAILED: $*"
	for _h in mail1.org mail2.org; do
		echo "--- $top/$_h/maillog"
		cat "$top/$_h/maillog" 2>/dev/null || true
		echo "--- $top/$_h/listener.log"
		cat "$top/$_h/listener.log" 2>/dev/null || true
	done
	exit 1
}

# wait_for WHAT COMMAND... - COMMAND succeeds within 10 s, or fail
wait_for() {
	_what=$1
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || fail "$_what (not within 10 s)"
		sleep 0.1
	done
}

# has FILE COUNT PATTERN - FILE has COUNT lines matching PATTERN
has() {
	[ "$(grep -c -- "$3" "$1" 2>/dev/null)" = "$2" ]
}

# quiet HOST - nothing in HOST's incoming/ or active, no runner at work,
# every SMTP session of its smtpd-lite over
quiet() {
	_d=$top/$1
	! run "$1" mailq -j 2>/dev/null | grep -q '"queue_name": "\(incoming\|active\)"' &&
	{ [ ! -e "$_d/spool/queue/.runq.lock" ] ||
	    run "$1" flock -n "$_d/spool/queue/.runq.lock" true; } &&
	[ "$(grep -c ' connect from ' "$_d/maillog" 2>/dev/null)" = \
	    "$(grep -c ' disconnect from ' "$_d/maillog" 2>/dev/null)" ]
}

# settle - both hosts quiet (10 s at most)
settle() {
	wait_for "mail1.org to finish its work" quiet mail1.org
	wait_for "mail2.org to finish its work" quiet mail2.org
}

# logs - the lines both mail logs have gained since the last call
seen_mail1=0 seen_mail2=0
logs() {
	for _h in mail1.org mail2.org; do
		_v=seen_${_h%%.*}
		eval "_from=\$$_v"
		_to=$(wc -l <"$top/$_h/maillog" 2>/dev/null || echo 0)
		if [ "$_to" -gt "$_from" ]; then
			bold "   $_h: $top/$_h/maillog"
			sed -n "$((_from + 1)),${_to}p" "$top/$_h/maillog" |
			    sed 's/^/   /'
		fi
		eval "$_v=\$_to"
	done
}

not_listening() { ! listening "$1"; }

refused_in_queue() {
	run mail1.org mailq 2>/dev/null | grep -q 'Connection refused'
}

# submit HOST ARG... - sendmail ARG... on HOST, the message on stdin
submit() {
	_h=$1
	shift
	run "$_h" sendmail "$@" || fail "sendmail on $_h exited $?"
	echo "exit status 0"
}

# queues - both hosts' mailq
queues() {
	for _h in mail1.org mail2.org; do
		bold "   mailq on $_h"
		run "$_h" mailq 2>&1 | sed 's/^/   /'
	done
}

# The two hosts
for dom in mail1.org mail2.org; do
	d=$top/$dom
	mkdir -p "$d/mail"
	: >"$d/maillog"
	: >"$d/listener.log"
	cat >"$d/correo.conf" <<-EOF
	# $dom, a private sandbox: everything below belongs to $user.
	myhostname = mail.$dom
	mydomain = $dom
	myorigin = \$mydomain
	mydestination = \$myhostname, \$mydomain, localhost
	# The course's LAN.  The demo's SMTP clients all come from 127.0.0.1,
	# outside it: smtpd-lite takes mail from them for $dom only.
	mynetworks = 192.0.2.0/24
	# The other domain: its smtpd-lite on loopback, without DNS.
	transport_maps = texthash:$d/transport
	queue_directory = $d/spool
	daemon_directory = $build
	maillog_file = $d/maillog
	mail_owner = $user
	mail_spool_directory = $d/mail
	alias_maps = hash:$d/aliases
	alias_database = hash:$d/aliases
	EOF
	case $dom in
	mail1.org) who=alice ;;
	*) who=bob ;;
	esac
	cat >"$d/aliases" <<-EOF
	# $dom's users: $who has the mailbox file $d/mail/$who
	# (every mailbox here belongs to $user, the spool's owner)
	$who: $d/mail/$who
	root: $user
	postmaster: root
	EOF
	chmod 644 "$d/correo.conf"
done
if [ "$(id -u)" = 0 ]; then
	chown -R nobody "$top"/mail1.org "$top"/mail2.org
fi

say "Two mail domains in $top"
cat <<EOF
The Postfix course's mail1.org and mail2.org, each a sandbox of its own:
correo.conf, spool, mail log and mailboxes.  The course's hosts find each
other by MX records and talk on port 25; this demo has no DNS and no
root, so each host's smtpd-lite listens on a free loopback port and the
other host routes its domain there with transport_maps.
Everything runs as $user.
EOF

start mail1.org
start mail2.org
echo "mail2.org smtp:[127.0.0.1]:$port_mail2" >"$top/mail1.org/transport"
echo "mail1.org smtp:[127.0.0.1]:$port_mail1" >"$top/mail2.org/transport"
chmod 644 "$top"/mail1.org/transport "$top"/mail2.org/transport

if [ "$launcher" = systemd-socket-activate ]; then
	how="systemd-socket-activate --inetd -a -l 127.0.0.1:PORT -E CORREO_CONFIG smtpd-lite"
else
	how="python3 accept loop (no systemd-socket-activate here): fork, connection on fds 0/1, exec smtpd-lite"
fi
say "smtpd-lite, one per connection: $how"
echo "mail.mail1.org  127.0.0.1:$port_mail1  (pid $pid_mail1)"
echo "mail.mail2.org  127.0.0.1:$port_mail2  (pid $pid_mail2)"

say "mail1.org: $top/mail1.org/correo.conf"
cat "$top/mail1.org/correo.conf"
bold "   $top/mail1.org/transport (the course: MX mail.mail2.org, port 25)"
cat "$top/mail1.org/transport"
bold "   $top/mail1.org/aliases"
cat "$top/mail1.org/aliases"
say "mail2.org: the same with mail2 for mail1, and bob; its transport"
cat "$top/mail2.org/transport"

say "newaliases on both hosts"
run mail1.org newaliases -v
run mail2.org newaliases -v
logs

alice_box=$top/mail1.org/mail/alice
bob_box=$top/mail2.org/mail/bob

say "1. alice@mail1.org writes to bob@mail2.org: sendmail -t -i -f alice@mail1.org"
printf 'From: Alice <alice@mail1.org>\nTo: Bob <bob@mail2.org>\nSubject: hello from mail1\n\nHi Bob, this went over SMTP from mail1.org to mail2.org.\n' |
	submit mail1.org -t -i -f alice@mail1.org
echo "sendmail started runq on mail1, which relays to mail2's smtpd-lite,"
echo "which queued it and started runq -N on mail2, which delivers it"
wait_for "bob's mailbox to get alice's message" \
	has "$bob_box" 1 '^Subject: hello from mail1$'
settle
logs

say "2. bob replies (mutt: sendmail -oem -oi -B8BITMIME -f bob@mail2.org -- alice@mail1.org)"
printf 'From: Bob <bob@mail2.org>\nTo: Alice <alice@mail1.org>\nSubject: Re: hello from mail1\n\nGot it, Alice.\n' |
	submit mail2.org -oem -oi -B8BITMIME -f bob@mail2.org -- alice@mail1.org
wait_for "alice's mailbox to get bob's reply" \
	has "$alice_box" 1 '^Subject: Re: hello from mail1$'
settle
logs

say "3. alice writes to nosuch@mail2.org: refused at RCPT by mail2, bounced to alice on mail1"
printf 'From: Alice <alice@mail1.org>\nTo: nosuch@mail2.org\nSubject: anyone there?\n\nhello?\n' |
	submit mail1.org -t -i -f alice@mail1.org
wait_for "the bounce in alice's mailbox" \
	has "$alice_box" 1 '^Subject: Undelivered Mail Returned to Sender$'
settle
logs
grep -q 'NOQUEUE: reject: RCPT from .*: 550 5\.1\.1 <nosuch@mail2\.org>' \
	"$top/mail2.org/maillog" || fail "mail2's smtpd-lite did not refuse nosuch@mail2.org at RCPT"

say "4. a relay attempt through mail2 from outside its mynetworks"
if PATH=$path command -v swaks >/dev/null; then
	echo "swaks --server 127.0.0.1 --port $port_mail2 --from spam@example.com --to victim@example.net"
	set +e
	timeout 30 swaks --server 127.0.0.1 --port "$port_mail2" --timeout 10 \
	    --helo spammer.example --from spam@example.com \
	    --to victim@example.net >"$top/relay.swaks" 2>&1
	rc=$?
	set -e
	cat "$top/relay.swaks"
	echo "swaks exit status $rc (24: the server refused every recipient)"
	grep -q '^<\*\* *4[0-9][0-9] 4\.7\.1 <victim@example\.net>: Relay access denied' \
	    "$top/relay.swaks" || fail "mail2 did not refuse to relay"
elif PATH=$path command -v python3 >/dev/null; then
	echo "(no swaks here: smtpd-lite on a pipe, as inetd runs it, the client 198.51.100.7 in TCPREMOTEIP)"
	echo "the client sends: EHLO spammer.example, MAIL FROM:<spam@example.com>, RCPT TO:<victim@example.net>, QUIT"
	run mail2.org python3 "$here/helper/smtpd-chat.py" --timeout 5 \
	    --env TCPREMOTEIP=198.51.100.7 -- "$build/smtpd-lite" \
	    >"$top/relay.chat" <<-EOF || true
	E
	S EHLO spammer.example
	E
	S MAIL FROM:<spam@example.com>
	E
	S RCPT TO:<victim@example.net>
	E
	S QUIT
	E
	EOF
	cat "$top/relay.chat"
	grep -q '^4[0-9][0-9] 4\.7\.1 <victim@example\.net>: Relay access denied' \
	    "$top/relay.chat" || fail "mail2 did not refuse to relay"
else
	echo "(skipped: neither swaks nor python3 is installed)"
fi
settle
logs

say "5. mail2's smtpd-lite stops (pid $pid_mail2); alice writes again"
stop "$pid_mail2"
wait_for "mail2's listener to stop" not_listening "$port_mail2"
printf 'From: Alice <alice@mail1.org>\nTo: Bob <bob@mail2.org>\nSubject: are you there?\n\nThis one waited in the queue.\n' |
	submit mail1.org -t -i -f alice@mail1.org
wait_for "mail1's queue to say why the message waits" refused_in_queue
settle
logs
queues

say "6. mail2's smtpd-lite starts again on 127.0.0.1:$port_mail2; runq -f on mail1"
start mail2.org "$port_mail2"
echo "listening again (pid $pid_mail2)"
echo "runq -f -v:"
run mail1.org runq -f -v 2>&1 | sed 's/^/   /'
wait_for "bob's mailbox to get the message that waited" \
	has "$bob_box" 1 '^Subject: are you there?$'
settle
logs
queues
run mail1.org mailq | grep -q '^Mail queue is empty' || fail "mail1's queue is not empty"
run mail2.org mailq | grep -q '^Mail queue is empty' || fail "mail2's queue is not empty"

say "bob's mailbox on mail2.org ($bob_box)"
cat "$bob_box"
say "alice's mailbox on mail1.org ($alice_box): bob's reply, the bounce"
cat "$alice_box"

cleanup
say "done in $(($(date +%s) - started)) s"
cat <<EOF
Both listeners are stopped.  The sandbox stays in $top:
  mail1.org/ and mail2.org/: correo.conf, transport, aliases, maillog,
  spool/ (the queue), mail/ (the mailboxes)
Remove it with: rm -rf $top
EOF
