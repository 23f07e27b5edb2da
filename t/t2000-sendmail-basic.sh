#!/bin/sh
test_description='sendmail queues a message with the header fix-ups'
. "$(dirname "$0")/test-lib.sh"

me=$(id -un)
uid=$(id -u)

# These tests look at what sendmail queues: a runq that does nothing
# keeps -odi (cronie) from delivering it away.
mkdir -p fake
printf '#!/bin/sh\nexit 0\n' >fake/runq
chmod +x fake/runq
test_config daemon_directory "$TRASH/fake"

test_expect_success 'a simple message is queued, exit 0' '
	printf "Subject: hello\n\nbody\n" >msg &&
	sendmail -odq bob@example.org <msg &&
	f=$(the_queue_file) &&
	id=$(basename "$f") &&
	case "$f" in */incoming/*) ;; *) false ;; esac &&
	queue_content "$f" | mask_volatile "$id" >actual &&
	printf "Received: by host.example.org (correo, from userid $uid)\n\tid QID; DATE\n" >expect &&
	cat >>expect <<-EOF &&
	Subject: hello
	From: $me <$me@host.example.org>
	Date: DATE
	Message-ID: <STAMP.QID@host.example.org>

	body
	EOF
	test_cmp expect actual &&
	queue_envelope "$f" | mask_volatile "$id" | grep -v "^[LM] " >actual &&
	cat >expect <<-EOF &&
	time: T
	origin: local uid=$uid user=$me
	sender: $me@host.example.org
	body: 7BIT
	message-id: <STAMP.QID@host.example.org>
	R P - 00000 0000000000 bob@example.org
	end
	EOF
	test_cmp expect actual
'

test_expect_success 'the queue ID is letters and digits and sorts by arrival' '
	rm -rf spool/incoming/* &&
	for i in 1 2 3 4 5; do
		printf "Subject: $i\n\n$i\n" | sendmail -odq bob@example.org ||
		return 1
	done &&
	queued_files >files &&
	test $(wc -l <files) = 5 &&
	for f in $(cat files); do
		basename "$f" | grep -E "^[0-9A-Za-z]{11,31}$" || return 1
	done &&
	i=1 &&
	for f in $(cat files); do
		queue_content "$f" | grep "^Subject: $i\$" || return 1
		i=$((i + 1))
	done
'

test_expect_success 'the log has pickup, cleanup and qmgr lines keyed by queue ID' '
	rm -rf spool/incoming/* maillog &&
	printf "Subject: log\nMessage-ID: <m1@example.org>\n\nx\n" |
	sendmail -odq bob@example.org carol@example.org &&
	id=$(basename $(the_queue_file)) &&
	test_grep "correo/pickup\[[0-9]+\]: $id: uid=$uid from=<$me@host.example.org>" maillog &&
	test_grep "correo/cleanup\[[0-9]+\]: $id: message-id=<m1@example.org>" maillog &&
	test_grep "correo/qmgr\[[0-9]+\]: $id: from=<$me@host.example.org>, size=[0-9]+, nrcpt=2 \(queue active\)" maillog
'

test_expect_success 'syslog_name names the log lines' '
	rm -f maillog &&
	test_config syslog_name correo-out &&
	printf "x\n" | sendmail -odq bob@example.org &&
	test_grep "correo-out/qmgr\[" maillog &&
	test_config syslog_name correo
'

test_lazy_prereq PFLOGSUMM 'command -v pflogsumm'
test_expect_success PFLOGSUMM 'pflogsumm --syslog-name=correo counts what was queued' '
	rm -f maillog &&
	printf "Subject: 1\n\nx\n" | sendmail -odq bob@example.org &&
	printf "Subject: 2\n\ny\n" | sendmail -odq -f other@example.net bob@example.org carol@example.org &&
	pflogsumm --syslog-name=correo maillog >report 2>&1 &&
	test_grep "^ +2 +received\$" report &&
	test_grep "^ +2 +senders\$" report &&
	size=$(( $(sed -n "s/.*qmgr.*size=\([0-9]*\),.*/\1/p" maillog | paste -sd+) )) &&
	test_grep "^ +$size +bytes received\$" report
'

# The argument vectors real clients use, each exactly as they send it.
submit_as() {
	name=$1
	shift
	rm -rf spool/incoming/* &&
	sendmail "$@" <"$name.msg" &&
	f=$(the_queue_file) &&
	queue_envelope "$f" | grep "^R " | cut -d" " -f6- | sort >"$name.rcpt" &&
	queue_envelope "$f" | sed -n "s/^sender: //p" >"$name.sender" &&
	queue_content "$f" >"$name.content"
}

test_expect_success 'cron: -FCronDaemon -i -B8BITMIME -oem root' '
	printf "Subject: Cron <root@host> run-parts\nContent-Type: text/plain; charset=UTF-8\n\nout\xc3\xa9\n" >cron.msg &&
	submit_as cron -FCronDaemon -i -B8BITMIME -oem root &&
	echo root@host.example.org >expect && test_cmp expect cron.rcpt &&
	echo "$me@host.example.org" >expect && test_cmp expect cron.sender &&
	test_grep "^From: CronDaemon <$me@host.example.org>\$" cron.content &&
	queue_envelope "$f" | grep "^body: 8BITMIME\$"
'

test_expect_success 'cronie: -FCronDaemon -i -odi -oem -oi -t -f root' '
	printf "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@h> true\n\nx\n" >cronie.msg &&
	submit_as cronie -FCronDaemon -i -odi -oem -oi -t -f root &&
	echo root@host.example.org >expect && test_cmp expect cronie.rcpt &&
	echo root@host.example.org >expect && test_cmp expect cronie.sender &&
	test_grep "^From: root@host.example.org \(Cron Daemon\)\$" cronie.content &&
	test_grep "^To: root@host.example.org\$" cronie.content
'

test_expect_success 'mutt: -oem -oi -B8BITMIME -f a@b -- x@y' '
	printf "Date: Mon, 1 Jan 2024 00:00:00 +0000\nFrom: A <a@example.net>\nTo: x@example.org\nMessage-ID: <mutt.1@example.net>\nSubject: hi\n\n.\nline\n" >mutt.msg &&
	submit_as mutt -oem -oi -B8BITMIME -f a@example.net -- x@example.org &&
	echo x@example.org >expect && test_cmp expect mutt.rcpt &&
	echo a@example.net >expect && test_cmp expect mutt.sender &&
	test_grep "^line\$" mutt.content &&
	test $(grep -c "^Message-ID:" mutt.content) = 1 &&
	test $(grep -c "^Date:" mutt.content) = 1
'

test_expect_success 'git send-email: -f a@b -i x@y (no --)' '
	printf "From: A <a@example.net>\nTo: x@example.org\nSubject: [PATCH] x\n\n---\n.\n-- \n2.39\n" >git.msg &&
	submit_as git -f a@example.net -i x@example.org &&
	echo x@example.org >expect && test_cmp expect git.rcpt &&
	test_grep "^2.39\$" git.content
'

test_expect_success 'PHP mail(): -t -i -f a@b, CRLF headers and LF body' '
	printf "To: web@example.org\r\nSubject: form\r\nFrom: site@example.net\r\nX-PHP-Originating-Script: 33:form.php\r\n\r\nline one\nline two\n" >php.msg &&
	submit_as php -t -i -f site@example.net &&
	echo web@example.org >expect && test_cmp expect php.rcpt &&
	echo site@example.net >expect && test_cmp expect php.sender &&
	! grep "$(printf "\r")" php.content &&
	test_grep "^line two\$" php.content &&
	test_grep "^X-PHP-Originating-Script: 33:form.php\$" php.content
'

test_expect_success 'bsd-mailx: -i -t with a Bcc: line and no Date/Message-ID/From' '
	printf "To: bob@example.org\nCc: carol\nBcc: dave@example.org\nSubject: mailx\n\nhi\n" >mailx.msg &&
	submit_as mailx -i -t &&
	printf "bob@example.org\ncarol@host.example.org\ndave@example.org\n" >expect &&
	test_cmp expect mailx.rcpt &&
	! grep -i "^Bcc:" mailx.content &&
	test_grep "^Cc: carol@host.example.org\$" mailx.content &&
	test_grep "^Date: " mailx.content &&
	test_grep "^Message-ID: <[0-9]{14}\." mailx.content &&
	test_grep "^From: " mailx.content
'

test_expect_success 'GNU mail: -oi -f user@host -t with no From:' '
	printf "To: bob@example.org\nSubject: gnu\n\nhi\n" >gnu.msg &&
	submit_as gnu -oi -f user@example.net -t &&
	echo user@example.net >expect && test_cmp expect gnu.sender &&
	test_grep "^From: .*user@example.net" gnu.content
'

test_expect_success 'logwatch and mdadm: -t without -i, a lone dot ends input' '
	printf "To: root\nSubject: Logwatch\n\n report\n.\nnot part of it\n" >logwatch.msg &&
	submit_as logwatch -t &&
	echo root@host.example.org >expect && test_cmp expect logwatch.rcpt &&
	test_grep "^ report\$" logwatch.content &&
	! grep "not part of it" logwatch.content &&
	printf "From: mdadm monitoring <root>\nTo: root\nSubject: Fail event\n\nThis is an automatically generated mail message\n" >mdadm.msg &&
	submit_as mdadm -t &&
	test_grep "^From: mdadm monitoring <root@host.example.org>\$" mdadm.content
'

test_expect_success 'unattended-upgrades: -oi -t' '
	printf "Subject: unattended-upgrades result\nTo: root\nFrom: root\nContent-Type: text/plain; charset=\"utf-8\"\n\nok\n.\nmore\n" >uu.msg &&
	submit_as uu -oi -t &&
	echo root@host.example.org >expect && test_cmp expect uu.rcpt &&
	test_grep "^more\$" uu.content
'

test_expect_success "Symfony: -oi -t -f'<s>'" '
	printf "From: app@example.net\nTo: User <user@example.org>\nSubject: s\n\nx\n" >sym.msg &&
	submit_as sym -oi -t "-f<bounce@example.net>" &&
	echo bounce@example.net >expect && test_cmp expect sym.sender &&
	echo user@example.org >expect && test_cmp expect sym.rcpt
'

test_done
