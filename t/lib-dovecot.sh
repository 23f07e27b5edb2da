# lib-dovecot.sh - a private, unprivileged Dovecot for a test script
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$T_DIR/lib-dovecot.sh"
#	dovecot_require		# skip_all with a reason without Dovecot
#	dovecot_start		# or fail the test it is in
#	... LMTP listens at $DOVECOT_LMTP (a UNIX-domain socket) ...
#	dovecot_fetch alice >got	# alice's one message, as stored
#	dovecot_stop
#	test_done
#
# The instance lives in $DOVECOT_DIR ($TRASH/dovecot): the configuration
# $DOVECOT_CONF, base_dir run/ (sockets, master.pid), state_dir state/,
# the log dovecot.log, a passwd-file "passwd" used as passdb and userdb,
# home/USER, and Maildir storage mail/USER (mail_location =
# maildir:$DOVECOT_DIR/mail/%u).  It speaks LMTP only (protocols =
# lmtp; the lmtp listener has mode 0666) and binds no network port.
#
# It runs as the invoking user: default_internal_user and
# default_login_user are $(id -un), and the users alice and bob map to
# our uid and gid.  Dovecot never delivers mail as root, so when the
# tests run as root the users map to nobody/nogroup instead, and the
# trash directory is opened up (mode 755) so that they can reach their
# Maildirs.  $DOVECOT_MAIL_UID and $DOVECOT_MAIL_GID say which.
#
# dovecot_start runs "dovecot -F -c $DOVECOT_CONF &", remembers the PID
# in $DOVECOT_PID and waits (up to 10 s) for the LMTP socket;
# dovecot_stop sends SIGTERM to that PID only and waits (up to 10 s)
# for it to go; test_atexit stops it too when a script dies early.
# Call dovecot_stop before test_done: test_done removes the trash.
#
# The configuration is checked against Dovecot 2.3 (Debian 12): run
# "doveconf -n -c $DOVECOT_CONF" to see it as Dovecot reads it.

DOVECOT_DIR=$TRASH/dovecot
DOVECOT_CONF=$DOVECOT_DIR/dovecot.conf
DOVECOT_LMTP=$DOVECOT_DIR/run/lmtp
DOVECOT_LOG=$DOVECOT_DIR/dovecot.log
DOVECOT_PID=
DOVECOT_USERS="alice bob"

# dovecot_find - the programs: dovecot, doveadm, lmtp (dovecot-lmtpd)
# and dovecot-lda, wherever Debian puts them; sets DOVECOT_BIN,
# DOVEADM_BIN and DOVECOT_LDA
dovecot_find() {
	_path=$PATH:/usr/sbin:/usr/local/sbin
	DOVECOT_BIN=$(PATH=$_path command -v dovecot) || return 1
	DOVEADM_BIN=$(PATH=$_path command -v doveadm) || return 1
	for _d in /usr/lib/dovecot /usr/libexec/dovecot \
	    /usr/local/libexec/dovecot; do
		if [ -x "$_d/lmtp" ] && [ -x "$_d/dovecot-lda" ]; then
			DOVECOT_LDA=$_d/dovecot-lda
			return 0
		fi
	done
	return 1
}
test_lazy_prereq DOVECOT 'dovecot_find'

# dovecot_require - skip the whole script without Dovecot
dovecot_require() {
	if ! test_have_prereq DOVECOT; then
		skip_all 'no Dovecot (Debian: dovecot-core, dovecot-lmtpd)'
	fi
	dovecot_find
}

# dovecot_write_config - the configuration, the users, the directories
dovecot_write_config() {
	_user=$(id -un) &&
	_group=$(id -gn) &&
	if [ "$(id -u)" = 0 ]; then
		DOVECOT_MAIL_UID=$(id -u nobody) &&
		DOVECOT_MAIL_GID=$(getent group nogroup | cut -d: -f3) &&
		chmod 755 "$TRASH"
	else
		DOVECOT_MAIL_UID=$(id -u) &&
		DOVECOT_MAIL_GID=$(id -g)
	fi &&
	mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" \
	    "$DOVECOT_DIR/mail" "$DOVECOT_DIR/home" &&
	chmod 755 "$DOVECOT_DIR" &&
	: >"$DOVECOT_DIR/passwd" &&
	for _u in $DOVECOT_USERS; do
		printf '%s:{PLAIN}%s-secret:%s:%s::%s/home/%s\n' "$_u" "$_u" \
		    "$DOVECOT_MAIL_UID" "$DOVECOT_MAIL_GID" "$DOVECOT_DIR" \
		    "$_u" >>"$DOVECOT_DIR/passwd" &&
		mkdir -p "$DOVECOT_DIR/home/$_u" || return 1
	done &&
	if [ "$(id -u)" = 0 ]; then
		chown -R "$DOVECOT_MAIL_UID:$DOVECOT_MAIL_GID" \
		    "$DOVECOT_DIR/mail" "$DOVECOT_DIR/home"
	fi &&
	cat >"$DOVECOT_CONF" <<EOF
# written by t/lib-dovecot.sh for $test_name
instance_name = correo-$test_name
base_dir = $DOVECOT_DIR/run
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_LOG
info_log_path = $DOVECOT_LOG
debug_log_path = $DOVECOT_LOG
default_internal_user = $_user
default_internal_group = $_group
default_login_user = $_user
protocols = lmtp
ssl = no
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:$DOVECOT_DIR/mail/%u
lmtp_add_received_header = no
passdb {
  driver = passwd-file
  args = $DOVECOT_DIR/passwd
}
userdb {
  driver = passwd-file
  args = $DOVECOT_DIR/passwd
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
EOF
	# A script's own settings ($DOVECOT_EXTRA: lines of dovecot.conf).
	if [ -n "${DOVECOT_EXTRA:-}" ]; then
		printf '%s\n' "$DOVECOT_EXTRA" >>"$DOVECOT_CONF"
	fi
}

# dovecot_start - write the configuration and start Dovecot
dovecot_start() {
	dovecot_write_config || return 1
	if ! "$DOVECOT_BIN" -n -c "$DOVECOT_CONF" \
	    >"$DOVECOT_DIR/doveconf.out" 2>&1; then
		echo >&2 "dovecot rejects $DOVECOT_CONF:"
		cat >&2 "$DOVECOT_DIR/doveconf.out"
		return 1
	fi
	"$DOVECOT_BIN" -F -c "$DOVECOT_CONF" </dev/null >>"$DOVECOT_LOG" 2>&1 &
	DOVECOT_PID=$!
	test_atexit dovecot_stop
	_i=0
	while [ ! -S "$DOVECOT_LMTP" ]; do
		if ! kill -0 "$DOVECOT_PID" 2>/dev/null || [ $_i -ge 100 ]; then
			echo >&2 "dovecot did not start; its log:"
			cat >&2 "$DOVECOT_LOG"
			dovecot_stop
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}

# dovecot_stop - stop the Dovecot we started (by its PID), wait for it
dovecot_stop() {
	[ -n "$DOVECOT_PID" ] || return 0
	kill "$DOVECOT_PID" 2>/dev/null
	_i=0
	while kill -0 "$DOVECOT_PID" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 "$DOVECOT_PID" 2>/dev/null; then
		echo >&2 "dovecot $DOVECOT_PID did not stop; killing it"
		kill -9 "$DOVECOT_PID" 2>/dev/null
	fi
	wait "$DOVECOT_PID" 2>/dev/null
	DOVECOT_PID=
	return 0
}

# doveadm_ ARGS - doveadm on our instance
doveadm_() {
	"$DOVEADM_BIN" -c "$DOVECOT_CONF" "$@"
}

# dovecot_count USER - how many messages USER's INBOX holds
dovecot_count() {
	doveadm_ search -u "$1" mailbox INBOX all | wc -l
}

# dovecot_fetch_raw USER [QUERY] - the one message QUERY (default: all)
# finds in USER's INBOX, as Dovecot stored it; fails unless exactly one
dovecot_fetch_raw() {
	_u=$1
	shift
	[ $# -gt 0 ] || set -- all
	_n=$(doveadm_ search -u "$_u" mailbox INBOX "$@" | wc -l)
	if [ "$_n" != 1 ]; then
		echo >&2 "dovecot_fetch: $_n messages match for $_u, not 1"
		return 1
	fi
	doveadm_ fetch -u "$_u" text mailbox INBOX "$@" \
	    >"$DOVECOT_DIR/fetch.out" || return 1
	# doveadm prints "text:" and then the message
	sed -n '1{/^text:$/d;}; p' "$DOVECOT_DIR/fetch.out"
}

# dovecot_fetch USER [QUERY] - the same without the lines Dovecot itself
# put on top (Return-Path:, Delivered-To:), so the rest compares with
# what was sent byte for byte
dovecot_fetch() {
	dovecot_fetch_raw "$@" | awk '
		top && /^(Return-Path|Delivered-To): / { next }
		{ top = 0; print }
		BEGIN { top = 1 }'
}
