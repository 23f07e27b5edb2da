# test-lib.sh - the shell test library for correo (in the manner of git's)
#
# A test script:
#
#	test_description='what this file covers'
#	. "$(dirname "$0")/test-lib.sh"
#	test_expect_success 'title' '
#		command && command
#	'
#	test_done
#
# Every script runs in its own trash directory ($TRASH, also the cwd and
# $HOME) with a fixed environment and a private configuration and spool:
# CORREO_CONFIG points at $TRASH/etc/correo.conf, the spool is
# $TRASH/spool, the mail log is $TRASH/maillog, and the programs are
# found in $CORREO_BUILD (the build directory).  No test needs root; the
# ones that do declare the ROOT prerequisite and are skipped elsewhere.
# Output is TAP, for prove.

LANG=C
LC_ALL=C
TZ=UTC
PAGER=cat
export LANG LC_ALL TZ PAGER
unset CORREO_CONFIG MAIL MAILRC NAME
# Under make asan: the programs exit without freeing what the OS frees;
# leaks are the unit tests' business.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export ASAN_OPTIONS

T_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$T_DIR/.." && pwd)
: "${CORREO_BUILD:=$SRC_DIR/build}"
export CORREO_BUILD SRC_DIR T_DIR
PATH=$CORREO_BUILD:$PATH
export PATH

test_name=$(basename "$0" .sh)
test_count=0
test_failed=0
test_fixed=0
test_broken=0
test_cleanup=:
test_prereqs=" "

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/correo-$test_name.XXXXXX") || exit 1
HOME=$TRASH
export TRASH HOME
cd "$TRASH" || exit 1

say() { printf '# %s\n' "$*"; }

# test_config_write - the private configuration every test starts with.
test_config_write() {
	mkdir -p "$TRASH/etc" "$TRASH/spool" &&
	cat >"$TRASH/etc/correo.conf" <<EOF
# written by t/test-lib.sh
myhostname = host.example.org
mydomain = example.org
queue_directory = $TRASH/spool
daemon_directory = $CORREO_BUILD
maillog_file = $TRASH/maillog
mail_owner = $(id -un)
mail_spool_directory = $TRASH/mail
alias_maps =
alias_database = hash:$TRASH/aliases
# No test ever asks the machine's DNS: remote mail goes to a closed
# loopback port unless the test routes it (relayhost, transport_maps).
relayhost = [127.0.0.1]:9
EOF
	mkdir -p "$TRASH/mail"
}
test_config_write
CORREO_CONFIG=$TRASH/etc/correo.conf
export CORREO_CONFIG

# test_config name value - set (or replace) one parameter
test_config() {
	_f=$CORREO_CONFIG
	grep -v "^$1 *=" "$_f" >"$_f.new"
	printf '%s = %s\n' "$1" "$2" >>"$_f.new"
	mv "$_f.new" "$_f"
}

# test_unconfig name - remove a parameter from the private configuration
test_unconfig() {
	grep -v "^$1 *=" "$CORREO_CONFIG" >"$CORREO_CONFIG.new"
	mv "$CORREO_CONFIG.new" "$CORREO_CONFIG"
}

test_ok_() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s\n' "$test_count" "$1"
}

test_failure_() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	printf 'not ok %d - %s\n' "$test_count" "$1"
	shift
	printf '%s\n' "$*" | sed -e 's/^/#	/'
}

test_skip_() {
	test_count=$((test_count + 1))
	printf 'ok %d # SKIP %s (missing %s)\n' "$test_count" "$1" "$2"
}

# test_set_prereq NAME / test_have_prereq NAME
test_set_prereq() { test_prereqs="$test_prereqs$1 "; }
test_have_prereq() {
	for _p in $(printf '%s' "$1" | tr ',' ' '); do
		case "$test_prereqs" in
		*" $_p "*) ;;
		*)
			_v=$(eval "printf '%s' \"\${test_lazy_$_p-}\"")
			[ -n "$_v" ] || return 1
			if (eval "$_v") >/dev/null 2>&1; then
				test_set_prereq "$_p"
			else
				eval "test_lazy_$_p="
				return 1
			fi
			;;
		esac
	done
	return 0
}
# test_lazy_prereq NAME 'probe' - NAME holds when probe succeeds
test_lazy_prereq() { eval "test_lazy_$1=\$2"; }

test_lazy_prereq ROOT '[ "$(id -u)" = 0 ]'
test_lazy_prereq SWAKS 'command -v swaks'
test_lazy_prereq OPENSSL 'command -v openssl'
test_lazy_prereq MANDOC 'command -v mandoc'
test_lazy_prereq PYTHON3 'command -v python3'
test_lazy_prereq DOVECOT 'command -v dovecot'
test_lazy_prereq NOT_ROOT '[ "$(id -u)" != 0 ]'
test_lazy_prereq SETPRIV 'command -v setpriv'
test_lazy_prereq NOT_ASAN '[ -z "$CORREO_ASAN" ]'

# test_atexit 'cmd' - run cmd when the shell that called it ends: at
# test_done or skip_all, or on an early exit or a signal.  For servers
# that live across tests (lib-smtppeer.sh, lib-dovecot.sh): called at
# the top level of a script it belongs to the script; called in a test
# body (each runs in a subshell) it runs when that test ends.  The
# commands run last-registered first.  Use it instead of "trap ... EXIT",
# which keeps only one command.
test_atexit_cmds=
test_atexit() {
	test_atexit_cmds="$1
$test_atexit_cmds"
	trap 'test_atexit_run_' EXIT
	trap 'test_atexit_run_; exit 1' HUP INT PIPE TERM
}
test_atexit_run_() {
	_atexit=$test_atexit_cmds
	test_atexit_cmds=
	eval "$_atexit"
}

# test_run_ - run a test body in a subshell-free eval, with -e semantics
# provided by && chains in the body itself.
test_run_() {
	test_atexit_cmds=
	test_cleanup=:
	eval "$1"
	_ret=$?
	eval "$test_cleanup"
	return $_ret
}

# test_expect_success [PREREQ] 'title' 'body'
test_expect_success() {
	_prereq=
	if [ $# = 3 ]; then _prereq=$1; shift; fi
	if [ -n "$_prereq" ] && ! test_have_prereq "$_prereq"; then
		test_skip_ "$1" "$_prereq"
		return 0
	fi
	if (test_run_ "$2") 3>&1 >"$TRASH/.out" 2>&1 </dev/null; then
		test_ok_ "$1"
	else
		test_failure_ "$1" "$2"
		sed -e 's/^/#> /' "$TRASH/.out" | tail -n 40
	fi
}

# test_expect_failure - a known breakage (TODO in TAP)
test_expect_failure() {
	_prereq=
	if [ $# = 3 ]; then _prereq=$1; shift; fi
	if [ -n "$_prereq" ] && ! test_have_prereq "$_prereq"; then
		test_skip_ "$1" "$_prereq"
		return 0
	fi
	test_count=$((test_count + 1))
	if (test_run_ "$2") >"$TRASH/.out" 2>&1 </dev/null; then
		printf 'ok %d - %s # TODO known breakage vanished\n' \
		    "$test_count" "$1"
	else
		printf 'not ok %d - %s # TODO known breakage\n' \
		    "$test_count" "$1"
	fi
}

# test_when_finished 'cmd' - run cmd after the current test, pass or fail
test_when_finished() {
	test_cleanup="{ $*
	} && (exit \"\$_ret\"); _ret=\$?; $test_cleanup"
}

# test_must_fail [env=val] cmd - cmd must fail, but not crash
test_must_fail() {
	"$@"
	_st=$?
	if [ $_st = 0 ]; then
		echo >&2 "test_must_fail: command succeeded: $*"
		return 1
	elif [ $_st -gt 128 ] && [ $_st -le 192 ]; then
		echo >&2 "test_must_fail: died by signal $((_st - 128)): $*"
		return 1
	elif [ $_st = 127 ]; then
		echo >&2 "test_must_fail: command not found: $*"
		return 1
	fi
	return 0
}

# test_expect_code N cmd - cmd must exit with status N
test_expect_code() {
	_want=$1
	shift
	"$@"
	_st=$?
	if [ $_st != "$_want" ]; then
		echo >&2 "test_expect_code: $* exited $_st, wanted $_want"
		return 1
	fi
	return 0
}

# test_cmp expected actual
test_cmp() {
	diff -u "$1" "$2"
}

test_path_is_file() { [ -f "$1" ] || { echo >&2 "no file $1"; return 1; }; }
test_path_is_missing() { [ ! -e "$1" ] || { echo >&2 "$1 exists"; return 1; }; }

# test_grep [-v] pattern file - grep that shows the file when it fails
test_grep() {
	_neg=
	if [ "$1" = "-v" ]; then _neg=1; shift; fi
	if [ -n "$_neg" ]; then
		if grep -E -- "$1" "$2" >/dev/null; then
			echo >&2 "test_grep: '$1' unexpectedly found in $2:"
			sed -e 's/^/	/' "$2" >&2
			return 1
		fi
		return 0
	fi
	if ! grep -E -- "$1" "$2" >/dev/null; then
		echo >&2 "test_grep: '$1' not found in $2:"
		sed -e 's/^/	/' "$2" | head -n 50 >&2
		return 1
	fi
	return 0
}

# queue_count - how many messages the private spool holds
queue_count() {
	find "$TRASH/spool" -type f \( -path '*/incoming/*' -o \
	    -path '*/queue/*' -o -path '*/hold/*' \) ! -name '.*' | wc -l
}

# queued_files - the queue files, one path a line, sorted by queue ID
queued_files() {
	find "$TRASH/spool" -type f \( -path '*/incoming/*' -o \
	    -path '*/queue/*' -o -path '*/hold/*' \) ! -name '.*' |
	awk -F/ '{ print $NF " " $0 }' | sort | cut -d' ' -f2-
}

# the_queue_file - the one queued file (fails unless there is exactly one)
the_queue_file() {
	_n=$(queued_files | wc -l)
	if [ "$_n" != 1 ]; then
		echo >&2 "expected one queued message, found $_n"
		return 1
	fi
	queued_files
}

# queue_content FILE - the message as it will be sent
queue_content() {
	_off=$(head -n 1 "$1" | sed 's/.*envelope=0*//')
	head -c "${_off:-0}" "$1" | tail -n +2
}

# queue_envelope FILE - the envelope records
queue_envelope() {
	_off=$(head -n 1 "$1" | sed 's/.*envelope=0*//')
	tail -c +$((${_off:-0} + 1)) "$1"
}

# mask_volatile [ID...] - replace the given queue IDs, dates and times
# with fixed words
mask_volatile() {
	_sed=
	for _id in "$@"; do _sed="$_sed -e s/$_id/QID/g"; done
	sed $_sed \
	    -e 's/[A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] [0-9]\{4\} [0-9:]\{8\} [-+][0-9]\{4\} ([A-Z]*)/DATE/' \
	    -e 's/<[0-9]\{14\}\.QID@/<STAMP.QID@/' \
	    -e 's/^time: [0-9.]*/time: T/'
}

# setgid_sandbox PROG... - a real installation in miniature for the
# set-group-ID tests, to be used through in_ns: bin/PROG are
# set-group-ID copies (group "mail" plays correo-drop, user "daemon"
# plays correo), etc-correo/correo.conf becomes /etc/correo/correo.conf
# inside the mount namespace, user.conf is a copy the caller may name,
# w/ is writable by everyone.  Skips the script without root, unshare
# or setpriv, and under make asan.
setgid_sandbox() {
	test_lazy_prereq UNSHARE 'unshare -m true'
	if ! test_have_prereq ROOT; then
		skip_all 'needs root: a set-group-ID binary, other users, a mount namespace'
	fi
	if [ -n "$CORREO_ASAN" ]; then
		skip_all 'set-group-ID programs run in secure mode with a cleared environment, where ASan cannot be configured'
	fi
	if ! test_have_prereq UNSHARE || ! test_have_prereq SETPRIV; then
		skip_all 'needs unshare and setpriv (util-linux)'
	fi
	chmod 755 "$TRASH"
	mkdir -p bin etc-correo w
	chmod 777 w
	for _p in "$@"; do
		cp "$CORREO_BUILD/$_p" "bin/$_p"
		chgrp mail "bin/$_p"
		chmod 2755 "bin/$_p"
	done
	: >maillog
	chmod 666 maillog
	cat >etc-correo/correo.conf <<-EOF
	myhostname = host.example.org
	queue_directory = $TRASH/sys
	daemon_directory = $CORREO_BUILD
	maillog_file = $TRASH/maillog
	mail_owner = daemon
	EOF
	cp etc-correo/correo.conf user.conf
	chmod 644 etc-correo/correo.conf user.conf
}

# in_ns USER CMD - run a shell command as USER in a mount namespace
# whose /etc/correo holds etc-correo/correo.conf (see setgid_sandbox)
in_ns() {
	unshare -m sh -c "
		mkdir -p /etc/correo 2>/dev/null
		mount -t tmpfs tmpfs /etc/correo &&
		cp '$TRASH/etc-correo/correo.conf' /etc/correo/ &&
		chmod 755 /etc/correo &&
		cd '$TRASH' &&
		setpriv --reuid=$1 --regid=\$(id -g $1) --clear-groups -- sh -c '$2'
	"
}

# skip_all 'reason' - skip the whole script
# test_pid_alive PID - PID runs (a zombie does not count)
test_pid_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# test_pid_stop PID [WHAT] - stop a process the test started: SIGTERM,
# up to 5 s, then SIGKILL (saying so, as WHAT); reaped when it is ours
test_pid_stop() {
	kill "$1" 2>/dev/null
	_k=0
	while test_pid_alive "$1" && [ $_k -lt 50 ]; do
		sleep 0.1
		_k=$((_k + 1))
	done
	if test_pid_alive "$1"; then
		echo >&2 "${2:-process} $1 did not stop; killing it"
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

skip_all() {
	printf '1..0 # SKIP %s\n' "$1"
	test_atexit_run_ >/dev/null 2>&1
	cd / && rm -rf "$TRASH"
	exit 0
}

test_done() {
	printf '1..%d\n' "$test_count"
	test_atexit_run_
	if [ "$test_failed" = 0 ]; then
		cd / && rm -rf "$TRASH"
		exit 0
	fi
	say "failed $test_failed of $test_count; trash kept in $TRASH"
	exit 1
}
