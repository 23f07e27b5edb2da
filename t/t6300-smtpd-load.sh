#!/bin/sh
test_description='smtpd-lite under load through a real inetd: 2000 messages from Postfix smtp-source over 50 sessions at once, each spooled exactly once and whole; Python smtplib as a client'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-smtppeer.sh"
. "$T_DIR/lib-tlsca.sh"
. "$T_DIR/lib-launch.sh"

# The launcher is Debian's openbsd-inetd (or, without it, xinetd) with
# the shipped lines, on free high ports of 127.0.0.1, started by each
# test and stopped by PID when the test ends; it lives at most
# LAUNCH_MAX_SECONDS in any case.  Nothing is delivered: runq is a
# no-op (daemon_directory), and the transports are deferred as well, so
# the spool holds exactly what smtpd-lite queued.
#
# As root (CI) an inetd and python3 must be there (.ci/deps installs
# them); for anyone else a missing launcher or smtp-source skips the
# script.  smtp-source comes with Debian's postfix, which .ci/deps
# leaves out when it would replace another MTA: then the load test
# skips.

me=$(id -un)
SMTPD=$CORREO_BUILD/smtpd-lite
: "${LAUNCH_MAX_SECONDS:=120}"
# The load: smtp-source -s LOAD_SESSIONS -m LOAD_N -l LOAD_LEN
LOAD_N=2000
LOAD_SESSIONS=50
LOAD_LEN=2048
# Under make asan each smtpd-lite takes some 45 ms to start (the shadow
# memory): a fifth of the messages, still 50 sessions at once, keeps
# the script near 20 s.
[ -n "$CORREO_ASAN" ] && LOAD_N=400
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
: "${XINETD:=$(command -v xinetd || echo /usr/sbin/xinetd)}"

if "$SMTPD" -Z </dev/null 2>&1 | grep -q "not built yet"; then
	skip_all 'smtpd-lite is not built yet in this tree'
fi

test_lazy_prereq INETD '[ -x /usr/sbin/inetd ]'
test_lazy_prereq XINETD '[ -x "$XINETD" ]'
test_lazy_prereq SMTP_SOURCE '[ -x "$SMTP_SOURCE" ]'
test_lazy_prereq SYS_PYTHON3 '[ -x /usr/bin/python3 ]'
test_lazy_prereq UNSHARE 'unshare -m true'
test_lazy_prereq TLS 'command -v openssl'

if ! test_have_prereq ROOT; then
	if ! test_have_prereq INETD && ! test_have_prereq XINETD; then
		skip_all 'no inetd (openbsd-inetd) and no xinetd'
	fi
	if ! test_have_prereq SMTP_SOURCE; then
		skip_all 'no smtp-source (Debian: postfix)'
	fi
fi
# LOAD_LAUNCHER=xinetd prefers xinetd when both are there.
if test_have_prereq INETD && [ "${LOAD_LAUNCHER:-}" != xinetd ]; then
	test_set_prereq LAUNCHER
	launcher=inetd
elif test_have_prereq XINETD; then
	test_set_prereq LAUNCHER
	launcher=xinetd
fi
[ -n "${launcher:-}" ] && say "the launcher: $launcher"

# runq is /bin/true: smtpd-lite still forks and execs it after every
# message, and nothing moves the queue files while they are counted.
mkdir -p norunq && ln -s /bin/true norunq/runq
ln -s "$CORREO_BUILD/smtpd-tls.so" norunq/smtpd-tls.so
test_config daemon_directory "$TRASH/norunq"
test_config queue_run_delay 1d
test_config defer_transports "local, smtp, virtual"
# smtp-source -N numbers the recipients: 1rcpt@..., 2rcpt@..., none of
# them a user of this host.
test_config local_recipient_maps ""
test_config smtpd_sasl_type passwd-file
test_config smtpd_sasl_path "$TRASH/passwd"
echo "alice:{PLAIN}secret" >passwd
chmod 600 passwd
if test_have_prereq TLS && tlsca_init && tlsca_cert mx host.example.org; then
	test_config smtpd_tls_cert_file "$TLSCA_DIR/mx.pem"
	test_set_prereq TLS_CERT
fi

# inetd_lines PORT1 PORT2 - the shipped smtp and submission lines of
# etc/inetd.conf.correo on 127.0.0.1:PORT1 and :PORT2, as this user,
# with this build and the private configuration
inetd_lines() {
	grep -v "^#" "$SRC_DIR/etc/inetd.conf.correo" | grep . |
	while read -r svc rest; do
		case $svc in
		smtp) _p=$1 ;;
		submission) _p=$2 ;;
		*) continue ;;
		esac
		printf "127.0.0.1:%s %s -C %s\n" "$_p" "$rest" "$CORREO_CONFIG"
	done | sed -e "s|@PREFIX@/sbin/smtpd-lite|$SMTPD|" \
	    -e "s|\([ 	]nowait[.0-9]*[ 	]\{1,\}\)correo\([ 	]\)|\1$me\2|"
}

# run_inetd PORT1 PORT2 - Debian's inetd in the foreground (-d); as
# root in a mount namespace of its own, so that its /run/inetd.pid is
# not the system inetd's
run_inetd() {
	inetd_lines "$@" >inetd.conf || exit 1
	if test_have_prereq ROOT && test_have_prereq UNSHARE; then
		exec timeout -k 5 "$LAUNCH_MAX_SECONDS" unshare -m sh -c \
		    "mount -t tmpfs -o size=1m tmpfs /run &&
			exec /usr/sbin/inetd -d \"\$1\"" sh "$TRASH/inetd.conf"
	fi
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" /usr/sbin/inetd -d \
	    "$TRASH/inetd.conf"
}

# xinetd_services PORT1 PORT2 - the shipped smtp and submission
# services of etc/xinetd.d-correo on 127.0.0.1:PORT1 and :PORT2, as
# this user, with this build and the private configuration.  Their
# per_source (10) and cps (100 a second, then a 10-second pause) would
# refuse this load from one address: both are raised here.
xinetd_services() {
	cat <<-EOF
	defaults
	{
		log_type	= FILE $TRASH/xinetd.log
	}
	EOF
	awk -v p1="$1" -v p2="$2" -v smtpd="$SMTPD" -v me="$me" \
	    -v grp="$(id -gn)" -v conf="$CORREO_CONFIG" '
	/^service / {
		skip = $2 != "smtp" && $2 != "submission"
		port = $2 == "smtp" ? p1 : p2
		args = 0
	}
	skip || /^#/ { next }
	/^[ \t]*port[ \t]*=/ { print "\tport\t\t= " port; print "\ttype\t\t= UNLISTED"; print "\tbind\t\t= 127.0.0.1"; next }
	/^[ \t]*user[ \t]*=/ { print "\tuser\t\t= " me; next }
	/^[ \t]*group[ \t]*=/ { print "\tgroup\t\t= " grp; next }
	/^[ \t]*per_source[ \t]*=/ { print "\tper_source\t= UNLIMITED"; next }
	/^[ \t]*cps[ \t]*=/ { print "\tcps\t\t= 10000 1"; next }
	/^[ \t]*server[ \t]*=/ { sub(/@PREFIX@\/sbin\/smtpd-lite/, smtpd) }
	/^[ \t]*server_args[ \t]*=/ { $0 = $0 " -C " conf; args = 1 }
	/^}/ && !args { print "\tserver_args\t= -C " conf }
	{ print }' "$SRC_DIR/etc/xinetd.d-correo"
}

# run_xinetd PORT1 PORT2 - xinetd in the foreground with those services
run_xinetd() {
	xinetd_services "$@" >xinetd.conf || exit 1
	exec timeout -k 5 "$LAUNCH_MAX_SECONDS" "$XINETD" -dontfork \
	    -filelog "$TRASH/xinetd.err" -f "$TRASH/xinetd.conf" \
	    -pidfile "$TRASH/xinetd.pid"
}

# launch_both - the launcher (inetd, else xinetd) on two free ports
# (lib-launch.sh): the shipped smtp service on LAUNCH_PORT1, submission
# on LAUNCH_PORT2, stopped by PID when the calling test ends
launch_both() {
	launch LAUNCH 2 "run_$launcher"
}

# check_spool N LEN - every queue file of the spool, read once by awk:
# a complete version 1 file (prelude, envelope offset, "end" last)
# whose body is exactly what smtp-source -l LEN sends, with one
# recipient "Krcpt@host.example.org", K from 1 to N, each K exactly
# once; the queue IDs (file names) to ids.spool.  Prints what is wrong.
# shellcheck disable=SC2046
check_spool() {
	queued_files >files &&
	test "$(wc -l <files)" = "$1" &&
	sed "s:.*/::" files | sort >ids.spool &&
	awk -v n="$1" -v len="$2" '
	BEGIN {
		# smtp-source: LEN bytes of X, a digit at the start of and
		# CR LF at the end of every 80; then CR LF.  In the spool:
		# LF line ends.
		for (i = 80; i < len; i += 80)
			want = want ((i / 80) % 10) sprintf("%77s", "") "\n"
		rest = len - (i - 80)
		want = want sprintf("%" rest "s", "") "\n"
		gsub(/ /, "X", want)
		bad = 0
	}
	function done_file() {
		if (file == "")
			return
		if (last != "end")
			{ print file ": no end record"; bad++ }
		else if (at != size)
			{ print file ": the envelope at " at ", not " size; bad++ }
		else if (body != want)
			{ print file ": the body (" length(body) " bytes) is not " \
			    "the " length(want) " bytes sent"; bad++ }
		else if (nr != 1)
			{ print file ": " nr " recipients"; bad++ }
	}
	FNR == 1 {
		done_file()
		file = FILENAME
		if ($0 !~ /^correo-queue 1 envelope=[0-9]+$/ || length($0) != 36) {
			print file ": not a version 1 queue file"; bad++
		}
		size = substr($0, 25) + 0
		pos = length($0) + 1
		inbody = 0; body = ""; nr = 0; last = ""; at = -1
		next
	}
	{
		if (pos < size) {
			if (inbody)
				body = body $0 "\n"
			else if ($0 == "")
				inbody = 1
		} else {
			if (at < 0)
				at = pos
			if ($0 ~ /^R P - 00000 [0-9]+ [0-9]+rcpt@host\.example\.org$/) {
				nr++
				k = $6; sub(/rcpt@.*/, "", k)
				seen[k + 0]++
			} else if ($0 ~ /^R /) {
				print file ": recipient " $0; bad++
			}
			last = $0
		}
		pos += length($0) + 1
	}
	END {
		done_file()
		for (k = 1; k <= n; k++)
			if (seen[k] != 1)
				{ print k "rcpt: queued " seen[k] + 0 " times"; bad++ }
		exit bad != 0
	}' $(cat files)
}

# no_trouble LOG - no warning, error or lost session in LOG (the first
# few shown when there are)
no_trouble() {
	if grep -E -i "warning|error|fatal|panic|lost connection|timeout" "$1" >trouble
	then
		echo >&2 "$(wc -l <trouble) lines of trouble in $1:"
		head -n 20 trouble >&2
		return 1
	fi
	return 0
}

test_expect_success ROOT 'as root an inetd and python3 are here (.ci/deps installs them)' '
	[ -x /usr/bin/python3 ] &&
	if ! [ -x /usr/sbin/inetd ] && ! [ -x "$XINETD" ]; then
		echo "missing an inetd (openbsd-inetd or xinetd)"; return 1
	fi
'

test_expect_success LAUNCHER,SMTP_SOURCE "$LOAD_N messages over $LOAD_SESSIONS sessions at once: every one queued exactly once, whole" '
	launch_both &&
	test "$(queue_count)" = 0 &&
	: >maillog &&
	timeout 100 "$SMTP_SOURCE" -v -N -s $LOAD_SESSIONS -m $LOAD_N \
	    -l $LOAD_LEN -M client.example -f sender@client.example \
	    -t rcpt@host.example.org 127.0.0.1:$LAUNCH_PORT1 >source.out 2>&1 ||
	{ tail -n 20 source.out; return 1; }
	# the client: LOAD_N times 250 with a queue ID, all different
	sed -n "s/^[^ ]*smtp-source: <<< 250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\)\$/\1/p" \
	    source.out | sort >ids.replies &&
	test "$(wc -l <ids.replies)" = $LOAD_N &&
	test "$(uniq ids.replies | wc -l)" = $LOAD_N &&
	# the spool: those IDs, each message whole, each number once
	check_spool $LOAD_N $LOAD_LEN &&
	test_cmp ids.replies ids.spool &&
	# the log: one client= line per ID, a clean end of every session,
	# no warning or error
	sed -n "s/.*correo\/smtpd\[[0-9]*\]: \([0-9A-Za-z]*\): client=unknown\[127\.0\.0\.1\]\$/\1/p" \
	    maillog | sort >ids.log &&
	test_cmp ids.replies ids.log &&
	test "$(grep -c "correo/smtpd\[[0-9]*\]: disconnect from unknown\[127\.0\.0\.1\] helo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\$" maillog)" = $LOAD_N &&
	test "$(grep -c "correo/smtpd\[[0-9]*\]: connect from unknown\[127\.0\.0\.1\]\$" maillog)" = $LOAD_N &&
	no_trouble maillog
'

# smtplib: EHLO, then STARTTLS, EHLO and AUTH PLAIN on the shipped
# submission line when TLS is configured; otherwise plain on the smtp
# line.  Prints the reply to the end of DATA.
smtplib_send() {
	/usr/bin/python3 - "$@" <<-\EOF
	import email.policy, smtplib, ssl, sys
	from email.message import EmailMessage
	port, ca = int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else ""
	m = EmailMessage()
	m["From"] = "alice@host.example.org"
	m["To"] = "bob@host.example.org"
	m["Subject"] = "from smtplib"
	m["Message-ID"] = "<smtplib.1@client.example>"
	m.set_content("Sent by Python's smtplib.\n" * 40)
	with smtplib.SMTP("127.0.0.1", port, "client.example", timeout=20) as s:
	    s.ehlo()
	    if ca:
	        ctx = ssl.create_default_context(cafile=ca)
	        ctx.check_hostname = False
	        s.starttls(context=ctx)
	        s.ehlo()
	        s.login("alice", "secret")
	    code, _ = s.mail("alice@host.example.org")
	    assert code == 250, code
	    code, _ = s.rcpt("bob@host.example.org")
	    assert code == 250, code
	    # bytes go out as they are: the lines must end in CR LF
	    code, resp = s.data(m.as_bytes(policy=email.policy.SMTP))
	    print(code, resp.decode())
	EOF
}

test_expect_success LAUNCHER,SYS_PYTHON3 "Python's smtplib (STARTTLS and AUTH on the submission line when TLS is configured)" '
	launch_both &&
	queue_count >before &&
	: >maillog &&
	if test_have_prereq TLS_CERT; then
		smtplib_send $LAUNCH_PORT2 "$TLSCA_DIR/ca.crt" >smtplib.out
	else
		smtplib_send $LAUNCH_PORT1 >smtplib.out
	fi &&
	cat smtplib.out &&
	id=$(sed -n "s/^250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\)\$/\1/p" smtplib.out) &&
	test -n "$id" &&
	test "$(queue_count)" = $(($(cat before) + 1)) &&
	f=$(queued_files | grep "/$id\$") &&
	queue_content "$f" >content &&
	test_grep "^Message-ID: <smtplib\.1@client\.example>\$" content &&
	test "$(grep -c "^Sent by Python.s smtplib\.\$" content)" = 40 &&
	if test_have_prereq TLS_CERT; then
		test_grep "^	\(using TLSv1\.[23] with cipher " content &&
		test_grep "correo/submission/smtpd\[[0-9]*\]: $id: client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice\$" maillog
	else
		test_grep "correo/smtpd\[[0-9]*\]: $id: client=unknown\[127\.0\.0\.1\]\$" maillog
	fi &&
	no_trouble maillog
'

test_done
