# lib-smtppeer.sh - real SMTP servers on 127.0.0.1 for the SMTP client
# tests: t/helper/smtp-peer.py (aiosmtpd) and Postfix's smtp-sink(1)
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$T_DIR/lib-smtppeer.sh"
#	smtp_peer_require		# skip_all without aiosmtpd
#	start_smtp_peer MX --reply rcpt:bob@example.org=550 || exit
#	... deliver to 127.0.0.1:$MX_PORT ...
#	smtp_peer_count MX		# messages MX accepted
#	smtp_peer_message MX 1 >got	# the first one, X-Peer-* lines on top
#	test_grep '^RSET$' "$MX_LOG"	# every command line MX received
#	start_smtp_sink SINK -p -8	# smtp-sink without PIPELINING, 8BITMIME
#	stop_smtp_peer MX		# or let the script's end stop it
#
# start_smtp_peer NAME [OPTION...] stops the peer NAME if one runs,
# empties its directory and runs smtp-peer.py with
# --listen 127.0.0.1:0 --port-file --pid-file --maildir --log
# --max-seconds $SMTP_PEER_MAX_SECONDS (600) and the OPTIONs after them
# (a later option wins: "--listen [::1]:0" listens on IPv6 instead).
# Its options: /usr/bin/python3 t/helper/smtp-peer.py --help; in short
#	--tls-cert PEM [--tls-key PEM] [--tls-max 1.2|1.3]	STARTTLS
#	--implicit-tls --require-tls				TLS on connect; 530 before STARTTLS
#	--auth USER:PASS (repeatable) --auth-plaintext --auth-required
#	--reply STAGE=CODE[:TEXT]  STAGE: greeting ehlo helo starttls auth
#		mail rcpt rcpt:ADDRESS data dot rset noop vrfy quit; CODE 4xx
#		or 5xx (421 closes the connection); "\n" in TEXT: multi-line
#	--hang STAGE --hang-max SECONDS		stop answering at STAGE
#	--drop-in-data				354, one line read, then drop
#	--faulty-sessions N			faults only for connections 1..N
#	--no-ehlo --size N --smtputf8 --max-rcpt N
#	--ehlo-add KEYWORD --ehlo-drop KEYWORD	e.g. DSN (then RET, ENVID,
#						NOTIFY, ORCPT are accepted)
#	--keep-crlf --hostname NAME --idle-timeout SECONDS --verbose
# It sets, NAME being a shell name such as MX:
#	NAME_PORT	the port it listens on
#	NAME_PID	its process ID (stopped by PID at the script's end,
#			or at the end of the test that started it)
#	NAME_DIR	$TRASH/peer-NAME: port, pid, peer.err (its stderr)
#	NAME_MAILDIR	NAME_DIR/mail: NNNN.eml, one accepted message each:
#			X-Peer-Mail-From: <addr>
#			X-Peer-Rcpt-To: <addr>[ PARAMS] (one per recipient)
#			X-Peer-Mail-Options:[ PARAMS] (SIZE=, BODY=, RET=...)
#			X-Peer-TLS: TLSv1.3 CIPHER | none
#			X-Peer-Auth: USER | none
#			X-Peer-Helo: EHLO name | HELO name
#			then the content as received (dot-stuffing undone,
#			CRLF made LF unless --keep-crlf)
#	NAME_LOG	NAME_DIR/peer.log: each command line received, as sent
#			(AUTH and its base64 continuation lines too), "." at
#			each end of content, and event lines "# connect N ADDR",
#			"# close N", "# stored NNNN.eml", "# hang N STAGE",
#			"# drop N" (N numbers the connections from 1)
#
# start_smtp_sink NAME [SMTP-SINK-OPTION...] (likewise a fresh one) runs
# Postfix's smtp-sink on
# 127.0.0.1:PORT (a free port), with -u nobody when root (smtp-sink
# refuses to run as root without -u), -d dumping each transaction into
# NAME_MAILDIR, and a lifetime of $SMTP_PEER_MAX_SECONDS under
# timeout(1).  It sets NAME_PORT, NAME_PID (timeout's, which passes a
# SIGTERM on), NAME_DIR ($TRASH/sink-NAME, with sink.err: smtp-sink's
# stdout and stderr) and NAME_MAILDIR.  A dump file holds X-Client-Addr:,
# X-Client-Proto:, X-Helo-Args:, X-Mail-Args: (MAIL's argument after
# "FROM:", e.g. "<a@example.org> BODY=8BITMIME"), X-Rcpt-Args: (the same
# for each RCPT), a three-line Received:, then the content as received
# (LF line ends) and an empty line.  Its EHLO reply ends with an empty
# "250 " line.  smtp-sink (Postfix 3.7) advertises
# PIPELINING, 8BITMIME, AUTH PLAIN LOGIN, XCLIENT, XFORWARD,
# ENHANCEDSTATUSCODES and DSN; it never offers SIZE, SMTPUTF8,
# STARTTLS or CHUNKING.  Its switches:
#	-p	no PIPELINING		-8	no 8BITMIME
#	-N	no DSN			-a	no AUTH
#	-E	no ENHANCEDSTATUSCODES	-C	no XCLIENT
#	-F	no XFORWARD		-e	no ESMTP at all (EHLO gets 500)
#	-r CMD,...  4xx to CMD (implies -p)	-f CMD,...  5xx (implies -p)
#	-Q CMD,...  421 and disconnect		-q CMD,...  disconnect silently
#	-w SECONDS  delay the DATA reply	-W CMD:SECONDS  delay CMD's reply
#	-A SECONDS  550 after DATA, then stop reading
#	-M COUNT / -n COUNT  exit after COUNT messages / sessions
#	-L	LMTP instead of SMTP	-h NAME  the name it gives
# where CMD is one of CONNECT HELO EHLO MAIL RCPT DATA . RSET QUIT...
#
# stop_smtp_peer NAME stops either kind (SIGTERM, up to 5 s, then
# SIGKILL) by its PID.  smtp_peer_count NAME, smtp_peer_message NAME
# [N] (the Nth message, sorted by name; without N the only one) and
# smtp_peer_wait NAME COUNT (up to 10 s) read either kind's NAME_MAILDIR.
# smtp_free_port prints a TCP port of 127.0.0.1 that was free just now.
#
# Prerequisites: AIOSMTPD (Debian python3-aiosmtpd, for the system's
# /usr/bin/python3), SMTPSINK (postfix), SWAKS, MSMTP.

SMTP_PEER_PYTHON=/usr/bin/python3
SMTP_PEER_PY=$T_DIR/helper/smtp-peer.py
SMTP_SINK_BIN=/usr/sbin/smtp-sink
: "${SMTP_PEER_MAX_SECONDS:=600}"

test_lazy_prereq AIOSMTPD '"$SMTP_PEER_PYTHON" -c "import aiosmtpd.smtp"'
test_lazy_prereq SMTPSINK '[ -x "$SMTP_SINK_BIN" ] && command -v timeout'
test_lazy_prereq SWAKS 'command -v swaks'
test_lazy_prereq MSMTP 'command -v msmtp'

# smtp_peer_require - skip the whole script without aiosmtpd
smtp_peer_require() {
	test_have_prereq AIOSMTPD ||
	skip_all 'no aiosmtpd for /usr/bin/python3 (Debian: python3-aiosmtpd)'
}

# smtp_sink_require - skip the whole script without smtp-sink
smtp_sink_require() {
	test_have_prereq SMTPSINK ||
	skip_all 'no smtp-sink (Debian: postfix, "No configuration")'
}

# smtp_free_port - a TCP port on 127.0.0.1 that was free just now
smtp_free_port() {
	"$SMTP_PEER_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# smtp_peer_alive_ PID - PID runs (a zombie does not count)
smtp_peer_alive_() { test_pid_alive "$1"; }

# smtp_peer_kill_ PID - stop PID: SIGTERM, up to 5 s, then SIGKILL
smtp_peer_kill_() {
	[ -z "$1" ] || test_pid_stop "$1" "smtp peer"
}

# smtp_peer_vars_ NAME DIR PID PORT - set NAME_DIR, NAME_PID...
smtp_peer_vars_() {
	eval "$1_DIR=\$2 $1_PID=\$3 $1_PORT=\$4"
}

# start_smtp_peer NAME [OPTION...] - smtp-peer.py on 127.0.0.1
start_smtp_peer() {
	_name=$1
	shift
	case $_name in
	''|[0-9]*|*[!A-Za-z0-9_]*)
		echo >&2 "start_smtp_peer: $_name is not a shell name"
		return 1 ;;
	esac
	stop_smtp_peer "$_name"
	_dir=$TRASH/peer-$_name
	rm -rf "$_dir"
	_maildir=$_dir/mail _log=$_dir/peer.log _prev=
	for _a in "$@"; do
		case $_prev in
		--maildir) _maildir=$_a ;;
		--log) _log=$_a ;;
		esac
		case $_a in
		--maildir=*) _maildir=${_a#--maildir=} ;;
		--log=*) _log=${_a#--log=} ;;
		esac
		_prev=$_a
	done
	mkdir -p "$_dir" || return 1
	"$SMTP_PEER_PYTHON" "$SMTP_PEER_PY" --listen 127.0.0.1:0 \
	    --port-file "$_dir/port" --pid-file "$_dir/pid" \
	    --maildir "$_dir/mail" --log "$_dir/peer.log" \
	    --max-seconds "$SMTP_PEER_MAX_SECONDS" "$@" \
	    </dev/null >>"$_dir/peer.err" 2>&1 &
	_pid=$!
	test_atexit "smtp_peer_kill_ $_pid"
	smtp_peer_vars_ "$_name" "$_dir" "$_pid" ""
	eval "${_name}_MAILDIR=\$_maildir ${_name}_LOG=\$_log"
	_i=0
	while [ ! -s "$_dir/port" ]; do
		if ! smtp_peer_alive_ "$_pid" || [ $_i -ge 100 ]; then
			echo >&2 "smtp-peer $_name did not start; its stderr:"
			cat >&2 "$_dir/peer.err"
			smtp_peer_kill_ "$_pid"
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	eval "${_name}_PORT=\$(cat \"\$_dir/port\")"
}

# smtp_sink_listening_ PORT - something listens on 127.0.0.1:PORT
smtp_sink_listening_() {
	_hex=$(printf '%04X' "$1")
	grep -q "^ *[0-9]*: 0100007F:$_hex 00000000:0000 0A " /proc/net/tcp
}

# start_smtp_sink NAME [SMTP-SINK-OPTION...] - smtp-sink on 127.0.0.1
start_smtp_sink() {
	_name=$1
	shift
	case $_name in
	''|[0-9]*|*[!A-Za-z0-9_]*)
		echo >&2 "start_smtp_sink: $_name is not a shell name"
		return 1 ;;
	esac
	stop_smtp_peer "$_name"
	_dir=$TRASH/sink-$_name
	rm -rf "$_dir"
	mkdir -p "$_dir/mail" || return 1
	set -- -d "$_dir/mail/%Y%m%d%H%M%S." "$@"
	if [ "$(id -u)" = 0 ]; then
		# smtp-sink drops to nobody, who must reach the dump directory
		set -- -u nobody "$@"
		chmod 755 "$TRASH" "$_dir" && chmod 777 "$_dir/mail" || return 1
	fi
	_try=0
	while [ $_try -lt 5 ]; do
		_try=$((_try + 1))
		_port=$(smtp_free_port) || return 1
		timeout -k 5 "$SMTP_PEER_MAX_SECONDS" "$SMTP_SINK_BIN" "$@" \
		    "127.0.0.1:$_port" 16 </dev/null >>"$_dir/sink.err" 2>&1 &
		_pid=$!
		_i=0
		while smtp_peer_alive_ "$_pid" && [ $_i -lt 100 ]; do
			if smtp_sink_listening_ "$_port"; then
				sleep 0.05
				smtp_peer_alive_ "$_pid" || break
				test_atexit "smtp_peer_kill_ $_pid"
				smtp_peer_vars_ "$_name" "$_dir" "$_pid" "$_port"
				eval "${_name}_MAILDIR=\$_dir/mail"
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		smtp_peer_kill_ "$_pid"
	done
	echo >&2 "smtp-sink $_name did not start; its output:"
	cat >&2 "$_dir/sink.err"
	return 1
}

# stop_smtp_peer NAME - stop the peer or sink NAME, by its PID
stop_smtp_peer() {
	eval "_pid=\${$1_PID-}"
	smtp_peer_kill_ "$_pid"
	eval "$1_PID="
}

# smtp_peer_files_ NAME - NAME's stored messages, one path a line, sorted
smtp_peer_files_() {
	eval "_md=\${$1_MAILDIR-}"
	[ -n "$_md" ] && [ -d "$_md" ] || return 0
	find "$_md" -type f ! -name '.*' | sort
}

# smtp_peer_count NAME - how many messages NAME stored
smtp_peer_count() {
	smtp_peer_files_ "$1" | wc -l | tr -d ' '
}

# smtp_peer_message NAME [N] - the Nth message NAME stored (from 1);
# without N the only one (fails unless there is exactly one)
smtp_peer_message() {
	_n=${2-}
	if [ -z "$_n" ]; then
		_c=$(smtp_peer_count "$1")
		if [ "$_c" != 1 ]; then
			echo >&2 "smtp_peer_message: $1 stored $_c messages, not 1"
			return 1
		fi
		_n=1
	fi
	_f=$(smtp_peer_files_ "$1" | sed -n "${_n}p")
	if [ -z "$_f" ]; then
		echo >&2 "smtp_peer_message: $1 has no message $_n"
		return 1
	fi
	cat "$_f"
}

# smtp_peer_wait NAME COUNT - wait (up to 10 s) until NAME stored COUNT
smtp_peer_wait() {
	_i=0
	while [ "$(smtp_peer_count "$1")" -lt "$2" ]; do
		if [ $_i -ge 100 ]; then
			echo >&2 "smtp_peer_wait: $1 stored" \
			    "$(smtp_peer_count "$1") messages, not $2"
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
}
