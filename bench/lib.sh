# bench/lib.sh - what bench/submit, bench/local, bench/relay and
# bench/smtpd share: the temporary directory and its traps, timing,
# waiting and counting helpers, processes and ports, the message, the
# private correo configuration, and the setup and teardown of Postfix
# (the system's instance, or a private one under $W) and DMA.
# Sourced, not run:
#
#	. "$(dirname "$0")/lib.sh"
#	bench_init "$1"			# BUILD, DRIVER, W, the traps
#	pf_setup pf_main_mine		# as root: /etc/postfix/main.cf
#	pfi_setup pfi_main pfi_master	# as root: a Postfix under $W/pfi
#	dma_setup			# as root: /etc/dma/dma.conf
#
# A script that makes more than this sets up (a system file, a process)
# redefines cleanup_extra, which cleanup calls first.  Postfix's and
# DMA's files are described in bench/README.md.

LC_ALL=C
LANG=C
TZ=UTC
export LC_ALL LANG TZ

MARK='# written by correo bench; removed when it ends'
# An earlier bench wrote "# written by correo bench/submit; ...".
MARK_RE='^# written by correo bench'
PF_SPOOL=/var/spool/postfix
PF_MAIN=/etc/postfix/main.cf

pf_ok=		# Postfix is usable; if not, pf_why says why
pf_why=
pf_main_ours=	# we wrote /etc/postfix/main.cf
pf_started=	# we started the Postfix master
pfi_started=	# we started the private Postfix instance (pfi_*)
dma_ok=		# DMA is usable; if not, dma_why says why
dma_why=
dma_etc_made=	# we created /etc/dma

# bench_init [BUILD] - the build, the driver, the temporary directory W
# and the traps that remove everything again
bench_init() {
	BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
		echo >&2 "bench: no build directory ${1:-build}"
		exit 2
	}
	DRIVER=$BUILD/bench-floor
	for _f in "$DRIVER" "$BUILD/sendmail"; do
		[ -x "$_f" ] || {
			echo >&2 "bench: $_f missing: run make first"
			exit 2
		}
	done
	W=$(mktemp -d "${TMPDIR:-/tmp}/correo-bench.XXXXXX") || exit 2
	# DMA runs as user mail when started by root: it must reach its spool.
	chmod 711 "$W"
	trap 'cleanup' EXIT
	trap 'cleanup; exit 130' INT
	trap 'cleanup; exit 143' TERM HUP PIPE
}

# cleanup_extra - a script's own undoing; redefined after sourcing
cleanup_extra() { :; }

# cleanup - undo everything; safe to call twice
cleanup() {
	trap - EXIT INT TERM HUP PIPE
	cleanup_extra
	if [ -n "$pfi_started" ]; then
		pfi_stop
	fi
	if [ -n "$pf_started" ]; then
		postfix stop >/dev/null 2>&1
		pf_wait_stopped
		pf_started=
	fi
	if [ -n "$pf_main_ours" ]; then
		pf_clean_queue
		rm -f "$PF_MAIN"
		pf_main_ours=
	fi
	if grep -q "$MARK_RE" /etc/dma/dma.conf 2>/dev/null; then
		rm -f /etc/dma/dma.conf
	fi
	[ -n "$dma_etc_made" ] && rmdir /etc/dma 2>/dev/null
	dma_ok=
	dma_etc_made=
	rm -rf "$W"
}

# now_ns - nanoseconds since the epoch
now_ns() { date +%s%N; }

# calc EXPR - floating-point arithmetic
calc() { awk "BEGIN { printf \"%s\", $1 }"; }

# fmt FORMAT EXPR - EXPR computed and printed with a printf format
fmt() { awk "BEGIN { printf \"$1\", $2 }"; }

# count_files DIR... - regular files below DIR, dot files excluded
count_files() { find "$@" -type f ! -name '.*' 2>/dev/null | wc -l; }

# drive N JOBS NAME CMD... - run CMD N times on the message; print the
# seconds it took (nothing when a run failed; see $W/NAME.err)
drive() {
	d_n=$1 d_j=$2 d_name=$3
	shift 3
	"$DRIVER" -r "$d_n" -j "$d_j" -i "${DRIVE_INPUT:-$W/msg}" -- "$@" \
	    >"$W/$d_name.out" 2>"$W/$d_name.err" || return 1
	sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' "$W/$d_name.out"
}

# first_error NAME - the last meaningful line of a failed run's stderr
first_error() {
	grep -v 'unable to look up public/pickup' "$W/$1.err" | tail -n 1
}

# wait_for SECONDS CMD... - run CMD every POLL seconds (default 0.05)
# until it succeeds; 1 when SECONDS pass first
wait_for() {
	_wf_end=$(($(now_ns) + $1 * 1000000000))
	shift
	while ! "$@"; do
		[ "$(now_ns)" -lt "$_wf_end" ] || return 1
		sleep "${POLL:-0.05}"
	done
}

# empty DIR... - no file (dot files aside) below any DIR
empty() { [ -z "$(find "$@" -type f ! -name '.*' -print -quit 2>/dev/null)" ]; }

# secs T0 - seconds since T0 (now_ns), as a decimal
secs() { fmt '%.3f' "($(now_ns) - $1) / 1e9"; }

# rate N SECONDS - N / SECONDS, one decimal
rate() { fmt '%.1f' "$1 / $2"; }

# ratio A B - A / B, two decimals; "-" when either is missing
ratio() {
	if [ -n "$1" ] && [ -n "$2" ]; then
		fmt '%.2f' "$1 / $2"
	else
		echo "-"
	fi
}

# verdict COND - "met" when the awk condition holds, else "MISSED"
verdict() {
	if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi
}

# ----- processes and ports -------------------------------------------

# alive PID - PID runs (a zombie does not count)
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# stop_pid PID - stop a process we started: SIGTERM, up to 5 s, then
# SIGKILL; then reap it
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	_sp=0
	while [ $_sp -lt 50 ] && alive "$1"; do
		sleep 0.1
		_sp=$((_sp + 1))
	done
	alive "$1" && kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# port_state PORT STATE - a socket of 127.0.0.1:PORT (or *:PORT) is in
# STATE, a /proc/net/tcp state: 0A listening, 01 established, .. any
port_state() {
	_hex=$(printf '%04X' "$1")
	grep -q "^ *[0-9]*: [0-9A-F]*:$_hex [0-9A-F]*:[0-9A-F]* $2 " \
	    /proc/net/tcp
}

# free_port - a TCP port from 20000 to 59999 that no socket uses now
free_port() {
	_fp=0
	while [ $_fp -lt 100 ]; do
		_fp=$((_fp + 1))
		_port=$(shuf -i 20000-59999 -n 1)
		port_state "$_port" '..' || { echo "$_port"; return 0; }
	done
	return 1
}

# listening PORT... - something listens on each 127.0.0.1:PORT
listening() {
	for _lp in "$@"; do
		port_state "$_lp" 0A || return 1
	done
}

# hf NAME RUNS WARMUP CMD... - hyperfine (or a date loop): "mean sd" in ms
hf() {
	_name=$1 _runs=$2 _warm=$3
	shift 3
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -N --style none --runs "$_runs" --warmup "$_warm" \
		    --export-csv "$W/$_name.csv" "$*" \
		    >"$W/$_name.hf" 2>&1 || return 1
		awk -F, 'NR == 2 { printf "%.2f %.2f", $2 * 1000, $3 * 1000 }' \
		    "$W/$_name.csv"
		return 0
	fi
	_i=0
	while [ $_i -lt "$_warm" ]; do
		"$@" >/dev/null 2>&1 || return 1
		_i=$((_i + 1))
	done
	_i=0
	: >"$W/$_name.times"
	while [ $_i -lt "$_runs" ]; do
		_t0=$(now_ns)
		"$@" >/dev/null 2>&1 || return 1
		echo $(($(now_ns) - _t0)) >>"$W/$_name.times"
		_i=$((_i + 1))
	done
	awk '{ s += $1; q += $1 * $1 } END { m = s / NR;
	    v = q / NR - m * m; if (v < 0) v = 0;
	    printf "%.2f %.2f", m / 1e6, sqrt(v) / 1e6 }' "$W/$_name.times"
}

# hf_method - how hf measures, for the headings
hf_method() {
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine --version
	else
		echo "a date +%s%N loop (no hyperfine)"
	fi
}

# row LABEL VALUE [NOTE] - one line of a table
row() { printf '   %-36s %12s  %s\n' "$1" "$2" "${3:-}"; }

# bench_banner - the date, the machine and its load
bench_banner() {
	echo "correo bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr)," \
	    "$(nproc) cpus, $(free -g | awk '/^Mem:/ { print $2 }') GiB," \
	    "load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "   spool and floor in $W ($(df -T "$W" |
	    awk 'NR == 2 { print $2 }'))"
}

# ----- the message ---------------------------------------------------

# write_msg - a realistic 2048-byte message in $W/msg: headers, then text
write_msg() {
	{
		cat <<'EOF'
Return-Path: <alice@example.net>
Received: from client.example.net (client.example.net [192.0.2.10])
	by mx.example.net with ESMTPS id 4Xk2s81Hq9z5vN
	for <rcpt@example.org>; Tue, 12 Nov 2024 09:14:03 +0100
From: Alice Example <alice@example.net>
To: Bob Example <rcpt@example.org>
Subject: Quarterly numbers and the meeting on Thursday
Date: Tue, 12 Nov 2024 09:14:02 +0100
Message-ID: <20241112081402.4Xk2s81Hq9z5vN@client.example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

EOF
		_i=0
		while [ $_i -lt 40 ]; do
			echo "Line $_i of the body: the figures for the quarter are attached below."
			_i=$((_i + 1))
		done
	} | head -c 2047 >"$W/msg"
	echo >>"$W/msg"
}

# ----- correo --------------------------------------------------------

# correo_setup - the private configuration (as in t/test-lib.sh) in
# $W/correo/correo.conf; CORREO_CONFIG points at it
correo_setup() {
	mkdir -p "$W/correo/spool" &&
	cat >"$W/correo/correo.conf" <<EOF
# written by correo bench
myhostname = host.example.org
mydomain = example.org
queue_directory = $W/correo/spool
daemon_directory = $BUILD
maillog_file = $W/correo/maillog
mail_owner = $(id -un)
EOF
	CORREO_CONFIG=$W/correo/correo.conf
	export CORREO_CONFIG
}

# ----- Postfix -------------------------------------------------------

# pf_wait_stopped - wait (at most 30 s) for the master to go away
pf_wait_stopped() {
	_i=0
	while [ $_i -lt 30 ] && postfix status >/dev/null 2>&1; do
		sleep 1
		_i=$((_i + 1))
	done
}

# pf_clean_queue - remove every queue file (the queue is the bench's)
pf_clean_queue() {
	find "$PF_SPOOL/maildrop" -type f -delete 2>/dev/null
	postsuper -d ALL >/dev/null 2>&1
	for _d in incoming active deferred hold defer bounce trace corrupt \
	    saved; do
		[ -d "$PF_SPOOL/$_d" ] && find "$PF_SPOOL/$_d" -type f -delete
	done
	return 0
}

# pf_install - Debian's postfix, preseeded to "No configuration"
pf_install() {
	[ -x /usr/sbin/postfix ] && return 0
	[ -z "${BENCH_NO_INSTALL:-}" ] || return 1
	command -v apt-get >/dev/null 2>&1 || return 1
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections >"$W/apt.log" 2>&1 || return 1
	echo "   (installing Debian's postfix, \"No configuration\" ...)"
	DEBIAN_FRONTEND=noninteractive timeout 600 \
	    apt-get install -y -q postfix >>"$W/apt.log" 2>&1 ||
	{
		timeout 300 apt-get update -q >>"$W/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive timeout 600 \
		    apt-get install -y -q postfix >>"$W/apt.log" 2>&1
	}
	[ -x /usr/sbin/postfix ]
}

# pf_setup FUNCTION - a bench-owned main.cf and queue; sets pf_ok or
# pf_why.  main.cf is the marked common part, then what FUNCTION prints.
pf_setup() {
	PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin
	if [ "$(id -u)" != 0 ]; then
		pf_why="not root"
		return
	fi
	if ! pf_install; then
		pf_why="postfix is not installed and could not be (see apt-get)"
		return
	fi
	if [ -f "$PF_MAIN" ] && ! grep -q "$MARK_RE" "$PF_MAIN"; then
		pf_why="$PF_MAIN is a real configuration: not touching it"
		return
	fi
	# Ours from an earlier, killed run, or none: (re)write it.
	pf_main_ours=1
	if postfix status >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1
		pf_wait_stopped
	fi
	{
		cat <<EOF
$MARK
compatibility_level = 3.6
myhostname = bench.example.org
mydomain = example.org
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
master_service_disable = inet
alias_maps =
alias_database =
EOF
		"$1"
	} >"$PF_MAIN"
	if ! postfix check >"$W/postfix-check.log" 2>&1; then
		pf_why="postfix check failed: $(tail -n 1 "$W/postfix-check.log")"
		return
	fi
	pf_clean_queue
	pf_ok=1
}

# pf_version - "Postfix 3.7.11"
pf_version() { echo "Postfix $(postconf -h mail_version 2>/dev/null)"; }

# pf_start - start the master (pickup, cleanup, qmgr, showq, ...)
pf_start() {
	postfix start >"$W/postfix-start.log" 2>&1 || return 1
	pf_started=1
	_i=0
	# pickup's endpoint: a FIFO, or a socket in Debian's master.cf
	while [ $_i -lt 30 ] && [ ! -p "$PF_SPOOL/public/pickup" ] &&
	    [ ! -S "$PF_SPOOL/public/pickup" ]; do
		sleep 1
		_i=$((_i + 1))
	done
	postfix status >/dev/null 2>&1
}

# pf_stop - stop the master again
pf_stop() {
	postfix stop >/dev/null 2>&1
	pf_wait_stopped
	pf_started=
}

# pf_queue_empty - nothing in Postfix's queue
pf_queue_empty() {
	empty "$PF_SPOOL/maildrop" "$PF_SPOOL/incoming" "$PF_SPOOL/active" \
	    "$PF_SPOOL/deferred" "$PF_SPOOL/hold"
}

# pf_held N - N messages in hold/ and nothing on the way there
pf_held() {
	empty "$PF_SPOOL/maildrop" "$PF_SPOOL/incoming" "$PF_SPOOL/active" \
	    "$PF_SPOOL/deferred" &&
	    [ "$(count_files "$PF_SPOOL/hold")" -ge "$1" ]
}

# pf_hold on|off - whether cleanup holds every new message
pf_hold() {
	if [ "$1" = on ]; then
		postconf -e 'header_checks = static:HOLD'
	else
		postconf -e 'header_checks ='
	fi
	postfix reload >/dev/null 2>&1
	# Daemons that still hold the old configuration finish first.
	sleep 2
}

# pf_log_error - the last warning or error in Postfix's log
pf_log_error() {
	grep -E 'warning|error|fatal|status=(deferred|bounced)' \
	    "$W/pf/maillog" 2>/dev/null | tail -n 1 | cut -c 1-200
}

# ----- a private Postfix instance ------------------------------------
#
# For what needs master.cf services of its own (bench/smtpd: smtpd on
# free ports): config_directory, queue_directory and data_directory
# under $W/pfi, started with postfix -c.  Nothing of the system's
# Postfix is read but its programs, master.cf.proto and dynamicmaps.cf,
# nothing of it is written, and it may run next to the system's instance.
# Root only (the master is).

PFI=	# its directory, $W/pfi, once pfi_setup has made it

# pfi_setup MAIN MASTER - main.cf is the common part, then what MAIN
# prints; master.cf is Debian's (master.cf.proto) with every chroot
# off, through the filter MASTER (stdin to stdout), which adds the
# services; sets pf_ok or pf_why
pfi_setup() {
	PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin
	if [ "$(id -u)" != 0 ]; then
		pf_why="not root"
		return
	fi
	if ! pf_install; then
		pf_why="postfix is not installed and could not be (see apt-get)"
		return
	fi
	PFI=$W/pfi
	mkdir -p "$PFI/etc" "$PFI/spool" "$PFI/data" || return
	chown postfix "$PFI/data"
	_proto=
	for _f in /etc/postfix/master.cf.proto \
	    /usr/share/postfix/master.cf.dist /etc/postfix/master.cf; do
		[ -f "$_f" ] && { _proto=$_f; break; }
	done
	if [ -z "$_proto" ]; then
		pf_why="no master.cf to start from"
		return
	fi
	{
		cat <<EOF
$MARK
compatibility_level = 3.6
queue_directory = $PFI/spool
data_directory = $PFI/data
maillog_file = $PFI/maillog
maillog_file_prefixes = $W
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
biff = no
EOF
		"$1"
	} >"$PFI/etc/main.cf"
	# Every service's chroot column (the fifth) to n: the queue under
	# $W has no etc/ or dev/ for a chroot.
	awk '/^[a-z0-9]/ && NF >= 8 && $5 == "y" { $5 = "n" } { print }' \
	    "$_proto" | "$2" >"$PFI/etc/master.cf"
	[ -f /etc/postfix/dynamicmaps.cf ] &&
	    cp /etc/postfix/dynamicmaps.cf "$PFI/etc/"
	if ! postfix -c "$PFI/etc" check >"$W/postfix-check.log" 2>&1; then
		pf_why="postfix check failed: $(tail -n 1 "$W/postfix-check.log")"
		return
	fi
	pf_ok=1
}

# pfi_start - start its master; 1 when it did not come up
pfi_start() {
	postfix -c "$PFI/etc" start >"$W/postfix-start.log" 2>&1 || return 1
	pfi_started=1
	postfix -c "$PFI/etc" status >/dev/null 2>&1
}

# pfi_stop - stop its master (30 s at most)
pfi_stop() {
	postfix -c "$PFI/etc" stop >/dev/null 2>&1
	_i=0
	while [ $_i -lt 30 ] &&
	    postfix -c "$PFI/etc" status >/dev/null 2>&1; do
		sleep 1
		_i=$((_i + 1))
	done
	pfi_started=
}

# pfi_reload - reread main.cf and master.cf; the daemons that still
# hold the old configuration finish first
pfi_reload() {
	postfix -c "$PFI/etc" reload >/dev/null 2>&1
	sleep 2
}

# pfi_conf NAME=VALUE... - set parameters in its main.cf
pfi_conf() { postconf -c "$PFI/etc" -e "$@"; }

# pfi_version - "Postfix 3.7.11"
pfi_version() { echo "Postfix $(postconf -c "$PFI/etc" -h mail_version)"; }

# pfi_clean - remove every queue file
pfi_clean() {
	postsuper -c "$PFI/etc" -d ALL >/dev/null 2>&1
	for _q in maildrop incoming active deferred hold defer bounce; do
		[ -d "$PFI/spool/$_q" ] &&
		    find "$PFI/spool/$_q" -type f -delete
	done
	return 0
}

# pfi_count QUEUE... - queue files in these queues (incoming, active...)
pfi_count() {
	_d=
	for _q in "$@"; do _d="$_d $PFI/spool/$_q"; done
	# shellcheck disable=SC2086
	count_files $_d
}

# pfi_empty - nothing in its queue
pfi_empty() {
	empty "$PFI/spool/maildrop" "$PFI/spool/incoming" \
	    "$PFI/spool/active" "$PFI/spool/deferred" "$PFI/spool/hold"
}

# pfi_log_error - the last warning or error in its log
pfi_log_error() {
	grep -E 'warning|error|fatal|status=(deferred|bounced)' \
	    "$PFI/maillog" 2>/dev/null | tail -n 1 | cut -c 1-200
}

# ----- DMA -----------------------------------------------------------

# dma_setup - fetch and unpack DMA; write /etc/dma/dma.conf (DEFER)
dma_setup() {
	if [ "$(id -u)" != 0 ]; then
		dma_why="not root (its /etc/dma/dma.conf is compiled in)"
		return
	fi
	if [ -e /etc/dma/dma.conf ] &&
	    ! grep -q "$MARK_RE" /etc/dma/dma.conf; then
		dma_why="/etc/dma/dma.conf is not the bench's: not touching it"
		return
	fi
	# A marked dma.conf is a killed run's, and so is /etc/dma then.
	[ -e /etc/dma/dma.conf ] && dma_etc_made=1
	mkdir -p "$W/dma/spool" || return
	if ! (cd "$W/dma" && timeout 300 apt-get download dma ||
	    { timeout 300 apt-get update -q &&
	    timeout 300 apt-get download dma; }) >"$W/dma/apt.log" 2>&1; then
		dma_why="apt-get download dma failed: $(tail -n 1 "$W/dma/apt.log")"
		return
	fi
	_deb=$(find "$W/dma" -maxdepth 1 -name 'dma_*.deb' | head -n 1)
	if [ -z "$_deb" ] || ! dpkg -x "$_deb" "$W/dma/root"; then
		dma_why="dpkg -x of the dma package failed"
		return
	fi
	DMA_VERSION=$(basename "$_deb" | sed 's/^dma_\([^_]*\)_.*/\1/')
	DMA=$W/dma/root/usr/sbin/dma
	# Started by root, dma becomes user mail, group mail.
	chmod 755 "$W/dma"
	chgrp mail "$W/dma/spool" 2>/dev/null
	chmod 2770 "$W/dma/spool"
	: >"$W/dma/aliases"
	if [ ! -d /etc/dma ]; then
		mkdir /etc/dma || { dma_why="cannot create /etc/dma"; return; }
		dma_etc_made=1
	fi
	cat >/etc/dma/dma.conf <<EOF
$MARK
SPOOLDIR $W/dma/spool
ALIASES $W/dma/aliases
MAILNAME bench.example.org
DEFER
EOF
	dma_ok=1
}
