#!/bin/sh
test_description='the Postfix course scenario, end to end (root): mail1.org and mail2.org, two hosts installed with make install, DNS, TLS, Dovecot SASL, a laptop outside'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-scenario.sh"
. "$T_DIR/lib-tlsca.sh"

# The machines (lib-scenario.sh: network, mount, UTS and PID namespaces
# of their own, on one private LAN, 10.250.1.0/24):
#
#	dns	10.250.1.53	dnsmasq with the course's zone: MX, A, PTR
#				and the smtp CNAME of mail1.org and mail2.org
#	h1	10.250.1.1	mail.mail1.org, the user alice
#	h2	10.250.1.2	mail.mail2.org, the user bob
#	lap	10.250.1.3	alice's laptop, outside both mynetworks:
#				msmtp, swaks
#
# Each host is installed as INSTALL says: the correo user and groups
# (useradd in the host's own /etc), make install DESTDIR=<the host's
# tree>, which is then mounted over the host's /usr (an overlay, for the
# programs and their links), /etc/correo, /var/spool and /var/mail; its
# correo.conf, /etc/aliases (root is the user admin), a certificate
# from the test CA for mail.DOMAIN and *.DOMAIN, Dovecot for SASL on
# /var/spool/correo/private/auth (passdb: the host's /etc/shadow), and
# smtpd-lite on ports 25, 587 and 465 run as the installed socket units
# say (ListenStream=, Accept=yes, ExecStart= with its -o overrides,
# User=, Group=), under systemd-socket-activate --inetd.  runq, the
# only deliverer, is run where systemd's correo-runq.path would start
# it: after each submission, on the host that queued the mail.  Every
# wait is bounded.  The hosts share no file of correo's: each has its
# own configuration, spool, mailboxes, users and mail log.

scen_require
tlsca_require

# host_setup HOST DOMAIN ADDRESS USER - correo on HOST, as INSTALL says
host_setup() {
	_h=$1 _dom=$2 _addr=$3 _user=$4
	_d=$(machine_dir "$_h")
	mkdir -p "$_d/root" &&
	cat >"$_d/correo.conf.add" <<-EOF &&
	# The course's mail.$_dom (added by t9500)
	myhostname = mail.$_dom
	mydomain = $_dom
	myorigin = /etc/mailname
	mydestination = \$myhostname, \$mydomain, localhost.\$mydomain, localhost
	mynetworks = 127.0.0.0/8, [::1]/128, $_addr/32
	recipient_delimiter = +
	smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
	    reject_unauth_destination
	smtpd_tls_cert_file = /etc/ssl/certs/mail.$_dom.pem
	smtpd_tls_key_file = /etc/ssl/private/mail.$_dom.key
	smtpd_tls_security_level = may
	smtp_tls_security_level = secure
	smtp_tls_CAfile = /etc/ssl/certs/scenario-ca.pem
	maillog_file = /var/log/correo.log
	EOF
	cat >"$_d/aliases" <<-EOF &&
	postmaster: root
	mailer-daemon: postmaster
	root: admin
	EOF
	cat >"$_d/dovecot.conf" <<-EOF &&
	# Dovecot for SMTP AUTH only (INSTALL, 8), with the host's users
	protocols =
	base_dir = /run/dovecot
	state_dir = /run/dovecot-state
	log_path = /var/log/dovecot.log
	ssl = no
	auth_mechanisms = plain login
	auth_failure_delay = 0
	passdb {
	  driver = shadow
	}
	userdb {
	  driver = passwd
	}
	service auth {
	  unix_listener /var/spool/correo/private/auth {
	    mode = 0660
	    user = correo
	    group = correo
	  }
	}
	EOF
	on "$_h" sh -c '
		set -e
		d=$1 dom=$2 user=$3 src=$4 build=$5 ca=$6
		# 2. Users and groups; the host'"'"'s own users
		groupadd --system correo-drop
		useradd --system --user-group --home-dir /var/spool/correo \
		    --no-create-home --shell /usr/sbin/nologin correo
		getent group ssl-cert >/dev/null || groupadd --system ssl-cert
		usermod -a -G ssl-cert correo
		for u in "$user" admin; do
			useradd --create-home --shell /bin/sh "$u"
			echo "$u:$u-pw" | chpasswd
		done
		# 3. make install, and its tree over the host'"'"'s
		make -s -C "$src" install DESTDIR="$d/root" PREFIX=/usr \
		    BUILD="$build"
		mkdir "$d/root/var/mail"
		chown root:mail "$d/root/var/mail"
		chmod 2775 "$d/root/var/mail"
		mount -t overlay correo-usr -o "lowerdir=$d/root/usr:/usr" /usr
		mkdir -p /etc/correo
		mount --bind "$d/root/etc/correo" /etc/correo
		mount --bind "$d/root/var/spool" /var/spool
		mount --bind "$d/root/var/mail" /var/mail
		# 4. Configuration; 5. aliases
		echo "$dom" >/etc/mailname
		awk "NR == FNR { if (split(\$0, f, \" = \") == 2) set[f[1]] = 1; next }
		    { split(\$0, f, \" *= *\") } !(f[1] in set)" \
		    "$d/correo.conf.add" /etc/correo/correo.conf >"$d/conf.new"
		cat "$d/conf.new" "$d/correo.conf.add" >/etc/correo/correo.conf
		cp "$d/aliases" /etc/aliases
		newaliases
		# 8. TLS, Dovecot, the mail log
		install -m 0644 "$ca/$dom.crt" /etc/ssl/certs/mail.$dom.pem
		chgrp ssl-cert /etc/ssl/private
		chmod 0710 /etc/ssl/private
		install -m 0640 -g ssl-cert "$ca/$dom.key" \
		    /etc/ssl/private/mail.$dom.key
		install -m 0644 "$ca/ca.crt" /etc/ssl/certs/scenario-ca.pem
		install -d -o correo -g correo -m 0750 /var/spool/correo/private
		mkdir -p /etc/dovecot /run/dovecot-state
		cp "$d/dovecot.conf" /etc/dovecot/correo-auth.conf
		# smtpd-lite writes the mail log as correo, runq as root; a
		# user'"'"'s sendmail cannot, and logs to syslog (sendmail(8))
		install -o correo -g adm -m 0640 /dev/null /var/log/correo.log
	' sh "$_d" "$_dom" "$_user" "$SRC_DIR" "$CORREO_BUILD" "$TLSCA_DIR" \
	    >"$_d/setup.log" 2>&1 || { cat "$_d/setup.log"; return 1; }
	on "$_h" dovecot -F -c /etc/dovecot/correo-auth.conf \
	    </dev/null >"$_d/dovecot.out" 2>&1 3>&- &
	wait_for "$_h: Dovecot's auth socket" \
	    test -S "$_d/root/var/spool/correo/private/auth" || {
		cat "$_d/dovecot.out" "$_d/log/dovecot.log"
		return 1
	}
	for _s in smtpd submission submissions; do
		listen "$_h" "$_s" || return 1
	done
}

# unit_value FILE KEY - the value of KEY= in a unit file, continuation
# lines joined, "$$" made "$"
unit_value() {
	sed -e ':a' -e '/\\$/{N;s/\\\n[ 	]*/ /;ba' -e '}' "$1" |
	sed -n "s/^$2=//p" | sed 's/\$\$/$/g'
}

# listen HOST SERVICE - smtpd-lite for correo-SERVICE.socket as its
# installed units say, under systemd-socket-activate --inetd: the
# socket unit's ListenStream= (Accept=yes), the service's ExecStart=
# run as its User= and Group= with their groups (setpriv), as systemd
# would.  Its PID (in HOST) is /run/correo-SERVICE.pid; waits until it
# listens.
listen() {
	_h=$1 _s=$2
	_u=$(machine_dir "$_h")/root/lib/systemd/system
	_port=$(unit_value "$_u/correo-$_s.socket" ListenStream)
	_accept=$(unit_value "$_u/correo-$_s.socket" Accept)
	_exec=$(unit_value "$_u/correo-$_s@.service" ExecStart)
	_user=$(unit_value "$_u/correo-$_s@.service" User)
	_group=$(unit_value "$_u/correo-$_s@.service" Group)
	if [ "$_accept" != yes ] || [ -z "$_port" ] || [ -z "$_exec" ] ||
	    [ -z "$_user" ] || [ -z "$_group" ]; then
		echo >&2 "correo-$_s: cannot read the units in $_u"
		return 1
	fi
	# shellcheck disable=SC2086
	on "$_h" sh -c 'echo $$ >/run/correo-$1.pid
		port=$2 user=$3 group=$4
		shift 4
		exec systemd-socket-activate --inetd --accept -l "$port" \
		    "$(command -v setpriv)" --reuid="$user" --regid="$group" \
		    --init-groups -- "$@"' sh "$_s" "$_port" "$_user" "$_group" \
	    $_exec </dev/null >>"$(machine_dir "$_h")/listen-$_s.log" 2>&1 3>&- &
	wait_for "$_h: correo-$_s.socket to listen" on_listening "$_h" "$_port" ||
		{ cat "$(machine_dir "$_h")/listen-$_s.log"; return 1; }
}

# unlisten HOST SERVICE - stop that listener (by its PID) and wait
unlisten() {
	on "$1" sh -c 'kill "$(cat /run/correo-$1.pid)"' sh "$2" &&
	wait_for "$1: correo-$2.socket to close" not_listening "$1" \
	    "$(unit_value "$(machine_dir "$1")/root/lib/systemd/system/correo-$2.socket" ListenStream)"
}
not_listening() { ! on_listening "$@"; }

# no_runner HOST - no runq runs on HOST
no_runner() {
	! on "$1" pgrep -x runq >/dev/null
}

# deliver HOST [RUNQ-OPTION] - a pass of runq as root on HOST, as
# correo-runq.path starts it when mail has come in, once the runq -N
# that smtpd-lite may have started is over (else the pass would only
# ask that one for a pass, which as mail_owner it does not make)
deliver() {
	_h=$1
	shift
	wait_for "$_h: runq -N to finish" no_runner "$_h" &&
	on "$_h" runq "$@"
}

# deliver_until HOST WHAT CMD... - deliver on HOST until CMD holds (10
# s at most): the mail may still be on its way in, and a pass that
# starts while smtpd-lite's runq -N holds the runner lock only asks it
# for a pass
deliver_until() {
	_du_host=$1 _du_what=$2
	shift 2
	_du_end=$(($(date +%s) + 10))
	while :; do
		deliver "$_du_host" || return 1
		"$@" && return 0
		if [ "$(date +%s)" -ge $_du_end ]; then
			echo >&2 "$_du_host: $_du_what: not within 10 s"
			return 1
		fi
		sleep 0.2
	done
}

# has HOST FILE COUNT SUBJECT - HOST's FILE has COUNT messages with
# that subject
has() {
	[ "$(on "$1" cat "$2" 2>/dev/null | grep -c -x -- "Subject: $4")" = "$3" ]
}

# message HOST FILE SUBJECT - the message with SUBJECT in HOST's mbox
# FILE (from its "From " line to the next)
message() {
	on "$1" cat "$2" | awk -v s="Subject: $3" '
		/^From / { if (found) exit; n = 0 }
		{ m[n++] = $0 }
		$0 == s { found = 1 }
		END { if (found) for (i = 0; i < n; i++) print m[i] }'
}

# maillog HOST - HOST's mail log
maillog() {
	on "$1" cat /var/log/correo.log
}

# queue_empty HOST - mailq says so on HOST (or shows what it says)
queue_empty() {
	quiet_queue "$1" || {
		cat >&2 "$TRASH/mailq.$1"
		return 1
	}
}
quiet_queue() {
	on "$1" mailq >"$TRASH/mailq.$1" 2>&1 &&
	grep -q "^Mail queue is empty\$" "$TRASH/mailq.$1"
}

# dns_start - dnsmasq on the machine dns, with the course's zone: MX
# and A records of mail1.org and mail2.org, the PTR records of their
# hosts (host-record), the smtp CNAMEs; nothing else (no upstream
# server, no /etc/hosts)
dns_start() {
	on dns dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	    --user=root --port=53 --listen-address="$SCEN_DNS" \
	    --bind-interfaces --pid-file=/run/dnsmasq.pid \
	    --log-facility=/var/log/dnsmasq.log --log-queries \
	    --local=/mail1.org/ --local=/mail2.org/ \
	    --local=/1.250.10.in-addr.arpa/ \
	    --mx-host=mail1.org,mail.mail1.org,10 \
	    --host-record=mail.mail1.org,10.250.1.1 \
	    --cname=smtp.mail1.org,mail.mail1.org \
	    --mx-host=mail2.org,mail.mail2.org,10 \
	    --host-record=mail.mail2.org,10.250.1.2 \
	    --cname=smtp.mail2.org,mail.mail2.org \
	    </dev/null >"$(machine_dir dns)/dnsmasq.out" 2>&1 3>&- &
}

# The world: the LAN with its DNS server, the test CA, the hosts, the
# laptop.  A failure here fails the first test, and the others need it.
setup() {
	scen_lan || return 1
	dns_start
	machine_start h1 mail.mail1.org 10.250.1.1 &&
	machine_start h2 mail.mail2.org 10.250.1.2 &&
	machine_start lap laptop.home.test 10.250.1.3 &&
	wait_for "the DNS server" on h1 getent hosts mail.mail2.org &&
	tlsca_init &&
	tlsca_cert mail1.org mail.mail1.org mail.mail1.org '*.mail1.org' &&
	tlsca_cert mail2.org mail.mail2.org mail.mail2.org '*.mail2.org' &&
	host_setup h1 mail1.org 10.250.1.1 alice &&
	host_setup h2 mail2.org 10.250.1.2 bob &&
	cat >"$(machine_dir lap)/msmtprc" <<-EOF &&
	# alice's ~/.msmtprc
	defaults
	auth on
	tls on
	tls_trust_file /etc/ssl/certs/scenario-ca.pem
	from alice@mail1.org
	user alice
	password alice-pw
	logfile ~/msmtp.log

	account submission
	host smtp.mail1.org
	port 587
	tls_starttls on

	account submissions
	host mail.mail1.org
	port 465
	tls_starttls off
	EOF
	on lap sh -c '
		install -m 0644 "$1/ca.crt" /etc/ssl/certs/scenario-ca.pem &&
		useradd --create-home --shell /bin/sh alice &&
		install -o alice -g alice -m 0600 "$2" /home/alice/.msmtprc
	' sh "$TLSCA_DIR" "$(machine_dir lap)/msmtprc"
}
setup >setup.log 2>&1 && test_set_prereq SCENARIO

# mail_from_alice TO SUBJECT [BODY] - a message as alice writes it
mail_from_alice() {
	printf 'From: Alice <alice@mail1.org>\nTo: %s\nSubject: %s\n\n%s\n' \
	    "$1" "$2" "${3:-Hello.}"
}

test_expect_success 'the machines: DNS, two hosts, a laptop; correo installed, smtpd-lite listening' '
	cat setup.log &&
	test_have_prereq SCENARIO
'

test_expect_success SCENARIO 'the DNS has the course zone: MX, A, the smtp CNAME, PTR' '
	on h1 "$CORREO_BUILD/correo-test" dns mx mail2.org >mx &&
	test_grep "^10 mail\.mail2\.org 10\.250\.1\.2\$" mx &&
	on h2 getent hosts smtp.mail1.org >cname &&
	test_grep "^10\.250\.1\.1 +mail\.mail1\.org( |\$)" cname &&
	on lap getent hosts 10.250.1.2 >ptr &&
	test_grep "^10\.250\.1\.2 +mail\.mail2\.org\$" ptr
'

test_expect_success SCENARIO 'make install: the programs, links, modes and spool of INSTALL on each host' '
	for h in h1 h2; do
		on $h stat -c "%n %U:%G %a" /usr/lib/correo/sendmail \
		    /usr/lib/correo/mailq /usr/lib/correo/runq \
		    /var/spool/correo/incoming /var/spool/correo/queue \
		    /var/mail >modes.$h &&
		test_grep "^/usr/lib/correo/sendmail root:correo-drop 2755\$" modes.$h &&
		test_grep "^/usr/lib/correo/mailq root:correo-drop 2755\$" modes.$h &&
		test_grep "^/usr/lib/correo/runq root:root 755\$" modes.$h &&
		test_grep "^/var/spool/correo/incoming correo:correo-drop 1770\$" modes.$h &&
		test_grep "^/var/spool/correo/queue correo:correo-drop 750\$" modes.$h &&
		test_grep "^/var/mail root:mail 2775\$" modes.$h &&
		test "$(on $h readlink -f /usr/sbin/sendmail)" = /usr/lib/correo/sendmail &&
		test "$(on $h readlink -f /usr/bin/mailq)" = /usr/lib/correo/mailq || return 1
	done &&
	test "$(on h1 sendmail -bP myhostname)" = "myhostname = mail.mail1.org" &&
	test "$(on h2 sendmail -bP myhostname)" = "myhostname = mail.mail2.org"
'

test_expect_success SCENARIO 'the hosts share no user, spool, mailbox or configuration' '
	on h1 id alice && test_must_fail on h1 id bob &&
	on h2 id bob && test_must_fail on h2 id alice &&
	echo "mail2.org" >expect &&
	on h2 cat /etc/mailname >actual &&
	test_cmp expect actual &&
	on h1 stat -c %i /var/spool/correo/queue >ino1 &&
	on h2 stat -c %i /var/spool/correo/queue >ino2 &&
	! test_cmp ino1 ino2 >/dev/null
'

test_expect_success SCENARIO 'port 25 offers STARTTLS and no AUTH, 587 AUTH after STARTTLS, 465 AUTH in TLS from the start' '
	on lap swaks --server mail.mail2.org --port 25 --quit-after EHLO \
	    --timeout 10 >p25 2>&1 &&
	test_grep "^<-  220 mail\.mail2\.org ESMTP correo\$" p25 &&
	test_grep "^<-  250-STARTTLS\$" p25 &&
	test_grep -v "AUTH" p25 &&
	on lap swaks --server mail.mail1.org --port 587 --quit-after EHLO \
	    --timeout 10 >p587 2>&1 &&
	test_grep "^<-  250-STARTTLS\$" p587 &&
	test_grep -v "AUTH" p587 &&
	on lap swaks --server mail.mail1.org --port 587 --tls --quit-after EHLO \
	    --timeout 10 >p587tls 2>&1 &&
	test_grep "^<~  250-AUTH PLAIN LOGIN\$" p587tls &&
	on lap swaks --server mail.mail1.org --port 465 --tls-on-connect \
	    --quit-after EHLO --timeout 10 >p465 2>&1 &&
	test_grep "^<~  250-AUTH PLAIN LOGIN\$" p465
'

test_expect_success SCENARIO 'alice: sendmail -t on mail1.org, over port 25 with STARTTLS, into /var/mail/bob on mail2.org' '
	mail_from_alice "Bob <bob@mail2.org>" "hello from mail1" |
	as h1 alice /usr/sbin/sendmail -t &&
	deliver h1 &&
	deliver_until h2 "bob to get it" has h2 /var/mail/bob 1 "hello from mail1" &&
	message h2 /var/mail/bob "hello from mail1" >got &&
	test_grep "^Received: from mail\.mail1\.org \(unknown \[10\.250\.1\.1\]\)\$" got &&
	test_grep "^	\(using TLSv1\.[23] with cipher " got &&
	test_grep "^	by mail\.mail2\.org \(correo\) with ESMTPS id " got &&
	test_grep "^From: Alice <alice@mail1\.org>\$" got &&
	maillog h1 >log1 &&
	test_grep "Verified TLS connection established to mail\.mail2\.org\[10\.250\.1\.2\]: TLSv1\.[23] with cipher " log1 &&
	test_grep "to=<bob@mail2\.org>, relay=mail\.mail2\.org\[10\.250\.1\.2\]:25, .*status=sent" log1 &&
	test "$(on h2 stat -c %U:%G:%a /var/mail/bob)" = bob:mail:600 &&
	queue_empty h1 && queue_empty h2
'

test_expect_success SCENARIO 'bob replies: back to /var/mail/alice on mail1.org' '
	printf "From: Bob <bob@mail2.org>\nTo: alice@mail1.org\nSubject: Re: hello from mail1\n\nHi Alice.\n" |
	as h2 bob /usr/sbin/sendmail -oem -oi -B8BITMIME -f bob@mail2.org -- alice@mail1.org &&
	deliver h2 &&
	deliver_until h1 "alice to get it" has h1 /var/mail/alice 1 "Re: hello from mail1" &&
	message h1 /var/mail/alice "Re: hello from mail1" >got &&
	test_grep "^Received: from mail\.mail2\.org \(unknown \[10\.250\.1\.2\]\)\$" got &&
	test_grep "^	by mail\.mail1\.org \(correo\) with ESMTPS id " got
'

test_expect_success SCENARIO 'msmtp from the laptop as alice: port 587, STARTTLS and AUTH, to bob@mail2.org' '
	mail_from_alice bob@mail2.org "via 587" | as lap alice msmtp -a submission bob@mail2.org &&
	maillog h1 >log1 &&
	test_grep "correo/submission/smtpd\[[0-9]*\]: [0-9A-Za-z]*: client=unknown\[10\.250\.1\.3\], sasl_method=PLAIN, sasl_username=alice\$" log1 &&
	deliver_until h1 "its queue to empty" quiet_queue h1 &&
	deliver_until h2 "bob to get it" has h2 /var/mail/bob 1 "via 587" &&
	message h2 /var/mail/bob "via 587" >got &&
	test_grep "^	by mail\.mail1\.org \(correo\) with ESMTPSA id " got
'

test_expect_success SCENARIO 'msmtp from the laptop as alice: port 465, TLS at once and AUTH, to bob@mail2.org' '
	mail_from_alice bob@mail2.org "via 465" | as lap alice msmtp -a submissions bob@mail2.org &&
	maillog h1 >log1 &&
	test_grep "correo/smtps/smtpd\[[0-9]*\]: [0-9A-Za-z]*: client=unknown\[10\.250\.1\.3\], sasl_method=PLAIN, sasl_username=alice\$" log1 &&
	deliver_until h1 "its queue to empty" quiet_queue h1 &&
	deliver_until h2 "bob to get it" has h2 /var/mail/bob 1 "via 465"
'

test_expect_success SCENARIO 'the same relay on port 25 without AUTH, from outside mynetworks: refused, nothing queued' '
	test_expect_code 24 on lap swaks --server mail.mail1.org --port 25 \
	    --tls --timeout 10 --from alice@mail1.org --to bob@mail2.org \
	    >relay 2>&1 &&
	test_grep "^<~\* 554 5\.7\.1 <bob@mail2\.org>: Relay access denied" relay &&
	maillog h1 >log1 &&
	test_grep "NOQUEUE: reject: RCPT from unknown\[10\.250\.1\.3\]: 554 5\.7\.1 <bob@mail2\.org>: Relay access denied" log1 &&
	queue_empty h1
'

test_expect_success SCENARIO 'an unknown user of mail2.org: refused at RCPT, alice gets the bounce' '
	mail_from_alice bob2@mail2.org "to nobody" | as h1 alice /usr/sbin/sendmail -t &&
	deliver_until h1 "the bounce to reach alice" \
	    has h1 /var/mail/alice 1 "Undelivered Mail Returned to Sender" &&
	maillog h2 >log2 &&
	test_grep "NOQUEUE: reject: RCPT from unknown\[10\.250\.1\.1\]: 550 5\.1\.1 <bob2@mail2\.org>: Recipient address rejected: User unknown in local recipient table" log2 &&
	message h1 /var/mail/alice "Undelivered Mail Returned to Sender" >bounce &&
	test_grep "<bob2@mail2\.org>" bounce &&
	test_grep "550 5\.1\.1" bounce &&
	test_grep "^Subject: to nobody\$" bounce &&
	queue_empty h1 && queue_empty h2
'

test_expect_success SCENARIO 'mail2.org down: the mail waits in the queue of mail1.org, mailq says why' '
	unlisten h2 smtpd &&
	mail_from_alice bob@mail2.org "while you were out" | as h1 alice /usr/sbin/sendmail -t &&
	deliver h1 &&
	as h1 alice mailq >q &&
	test_grep "connect to mail\.mail2\.org\[10\.250\.1\.2\]:25: Connection refused" q &&
	test_grep "bob@mail2\.org" q &&
	maillog h1 >log1 &&
	test_grep "to=<bob@mail2\.org>, relay=none, .*status=deferred \(connect to mail\.mail2\.org\[10\.250\.1\.2\]:25: Connection refused\)" log1 &&
	! has h2 /var/mail/bob 1 "while you were out"
'

test_expect_success SCENARIO 'mail2.org back: the next runq -f sends it' '
	listen h2 smtpd &&
	deliver h1 -f &&
	queue_empty h1 &&
	deliver_until h2 "bob to get it" has h2 /var/mail/bob 1 "while you were out"
'

test_expect_success SCENARIO 'bob+lists@mail2.org lands in bob'"'"'s mailbox' '
	mail_from_alice bob+lists@mail2.org "for the list" | as h1 alice /usr/sbin/sendmail -t &&
	deliver h1 &&
	deliver_until h2 "bob to get it" has h2 /var/mail/bob 1 "for the list" &&
	message h2 /var/mail/bob "for the list" >got &&
	test_grep "^X-Original-To: bob\+lists@mail2\.org\$" got &&
	test_grep "^Delivered-To: bob@mail2\.org\$" got
'

test_expect_success SCENARIO 'an alias to a pipe on mail2.org, from mail1.org' '
	echo "robot: \"|/bin/cat >>/home/robot/inbox\"" |
	on h2 sh -c "cat >>/etc/aliases && newaliases &&
	    install -d -o nobody -m 0755 /home/robot" &&
	mail_from_alice robot@mail2.org "for the robot" | as h1 alice /usr/sbin/sendmail -t &&
	deliver h1 &&
	deliver_until h2 "the robot to get it" has h2 /home/robot/inbox 1 "for the robot" &&
	test "$(on h2 stat -c %U /home/robot/inbox)" = nobody
'

test_expect_success SCENARIO 'root is admin on each host: postmaster@mail2.org from mail1.org, root on mail1.org' '
	mail_from_alice postmaster@mail2.org "for the postmaster" | as h1 alice /usr/sbin/sendmail -t &&
	mail_from_alice root "for root" | as h1 alice /usr/sbin/sendmail -t &&
	deliver h1 &&
	has h1 /var/mail/admin 1 "for root" &&
	deliver_until h2 "admin to get it" has h2 /var/mail/admin 1 "for the postmaster"
'

test_expect_success SCENARIO 'in the end both queues are empty, and the logs have no warning' '
	queue_empty h1 && queue_empty h2 &&
	maillog h1 >log1 && maillog h2 >log2 &&
	test_grep -v "warning|fatal|panic" log1 &&
	test_grep -v "warning|fatal|panic" log2
'

test_done
