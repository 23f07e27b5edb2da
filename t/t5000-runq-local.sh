#!/bin/sh
test_description='runq delivers local mail: mbox, aliases, forwards, bounces, retries'
. "$(dirname "$0")/test-lib.sh"

me=$(id -un)
test_config recipient_delimiter +
test_config alias_maps "hash:$TRASH/aliases"

mbox_count() {
	python3 -c "import mailbox,sys; print(len(mailbox.mbox(sys.argv[1])))" "$1"
}

test_expect_success 'newaliases builds the alias database' '
	mkdir -p out && chmod 777 out &&
	cat >aliases <<-EOF &&
	postmaster: $me
	team: $me, bob@remote.example
	loopa: loopb
	loopb: loopa
	self: self
	filed: $TRASH/out/filed.mbox
	EOF
	newaliases
'

test_expect_success 'a local user gets the message in its mbox; the queue empties' '
	printf "Subject: one\n\nhello\nFrom the start\n>From quoted\n" |
	sendmail -odi "$me" &&
	test "$(queue_count)" = 0 &&
	test "$(mbox_count mail/$me)" = 1 &&
	python3 - "$TRASH/mail/$me" <<-\EOF
	import mailbox, sys
	m = mailbox.mbox(sys.argv[1])[0]
	assert m["Subject"] == "one", m["Subject"]
	assert m["Return-Path"].startswith("<"), m["Return-Path"]
	assert m["Delivered-To"], m.keys()
	body = m.get_payload()
	# mboxrd: Python reads mboxo, so the escapes show
	assert body.splitlines() == ["hello", ">From the start", ">>From quoted"], body
	EOF
'

test_expect_success 'the log says sent, relay=local, and removed' '
	test_grep "correo/local\[[0-9]+\]: [0-9A-Za-z]+: to=<$me@host.example.org>, relay=local, delay=[0-9.]+, delays=[0-9./]+, dsn=2.0.0, status=sent \(delivered to mailbox\)" maillog &&
	test_grep "correo/qmgr\[[0-9]+\]: [0-9A-Za-z]+: removed" maillog
'

test_expect_success 'an unknown user bounces 5.1.1; the sender gets an RFC 3464 report' '
	: >maillog &&
	printf "Subject: lost\n\nx\n" | test_expect_code 67 sendmail -odi nosuchuser &&
	test_grep "to=<nosuchuser@host.example.org>.*dsn=5.1.1, status=bounced \(unknown user" maillog &&
	test_grep "sender non-delivery notification" maillog &&
	test "$(queue_count)" = 0 &&
	python3 - "$TRASH/mail/$me" <<-\EOF
	import mailbox, sys
	msgs = mailbox.mbox(sys.argv[1])
	b = msgs[len(msgs) - 1]
	assert b.get_content_type() == "multipart/report", b.get_content_type()
	parts = b.get_payload()
	assert parts[1].get_content_type() == "message/delivery-status"
	text = parts[1].as_string()
	assert "Final-Recipient: rfc822; nosuchuser@host.example.org" in text, text
	assert "Status: 5.1.1" in text, text
	assert "Action: failed" in text, text
	assert b.get_from().startswith("MAILER-DAEMON "), b.get_from()
	EOF
'

test_expect_success 'aliases: local names delivered, remote ones wait with a reason' '
	n=$(mbox_count mail/$me) &&
	printf "Subject: team\n\nx\n" | sendmail -odi team &&
	test "$(mbox_count mail/$me)" = $((n + 1)) &&
	mailq >q &&
	test_grep "Connection refused" q &&
	test_grep "bob@remote.example" q &&
	test_grep "forwarded as" maillog
'

test_expect_success 'user+extension goes to the user; orig_to is logged' '
	n=$(mbox_count mail/$me) &&
	echo x | sendmail -odi "$me+lists@host.example.org" &&
	test "$(mbox_count mail/$me)" = $((n + 1))
'

test_expect_success 'an alias loop bounces 5.4.6' '
	: >maillog &&
	echo x | sendmail -odi loopa;
	runq &&
	test_grep "dsn=5.4.6, status=bounced \(mail forwarding loop" maillog
'

test_expect_success 'an alias that names itself is its mailbox... of a user that must exist' '
	: >maillog &&
	echo x | sendmail -odi self;
	test_grep "to=<self@host.example.org>.*unknown user: \\\"self\\\"" maillog
'

test_expect_success 'an alias to a file appends in mbox format, as default_privs' '
	chmod 755 "$TRASH" &&
	echo "Subject: to file" | sendmail -odi filed &&
	test "$(mbox_count out/filed.mbox)" = 1
'

test_expect_success 'a remote recipient: attempts, next try, runq -f retries' '
	mailq -d ALL 2>/dev/null;
	: >maillog &&
	echo x | sendmail -odi far@remote.example &&
	id=$(basename $(the_queue_file)) &&
	correo-test spool-dump "$(the_queue_file)" >d1 &&
	test_grep "attempts: 1" d1 &&
	runq &&
	correo-test spool-dump "$(the_queue_file)" >d2 &&
	test_grep "attempts: 1" d2 &&
	runq -f &&
	correo-test spool-dump "$(the_queue_file)" >d3 &&
	test_grep "attempts: 2" d3 &&
	test_grep "reply: 4.4.1 connect to 127.0.0.1\[127.0.0.1\]:9: Connection refused" d3
'

test_expect_success 'past maximal_queue_lifetime: expired and returned to the sender' '
	: >maillog &&
	test_config maximal_queue_lifetime 0 &&
	test_when_finished "test_config maximal_queue_lifetime 5d" &&
	runq -f &&
	test_grep "status=expired, returned to sender" maillog &&
	test "$(queue_count)" = 0
'

test_expect_success 'delay warnings after delay_warning_time, once' '
	: >maillog &&
	test_config delay_warning_time 1s &&
	test_when_finished "test_config delay_warning_time 0h; mailq -d ALL 2>/dev/null" &&
	echo x | sendmail -odq far@remote.example &&
	runq && sleep 1.2 && runq -f && runq -f &&
	test "$(grep -c "sender delay notification" maillog)" = 1
'

test_expect_success 'defer_transports: nothing local is delivered until runq -f' '
	mailq -d ALL 2>/dev/null;
	test_config defer_transports local &&
	test_when_finished "test_config defer_transports \"\"" &&
	n=$(mbox_count mail/$me) &&
	echo x | sendmail -odq "$me" &&
	runq &&
	test "$(mbox_count mail/$me)" = $n &&
	test "$(queue_count)" = 1 &&
	runq -f &&
	test "$(mbox_count mail/$me)" = $((n + 1))
'

test_expect_success 'held messages are not delivered, released ones are' '
	n=$(mbox_count mail/$me) &&
	echo x | sendmail -odq "$me" &&
	mailq -h ALL 2>/dev/null &&
	runq -f &&
	test "$(mbox_count mail/$me)" = $n &&
	mailq -H ALL 2>/dev/null &&
	runq &&
	test "$(mbox_count mail/$me)" = $((n + 1))
'

test_expect_success 'a null-sender message that fails goes to postmaster, once' '
	mailq -d ALL 2>/dev/null;
	: >maillog &&
	echo x | sendmail -odq -f "<>" nosuchuser &&
	runq &&
	test_grep "postmaster non-delivery notification" maillog &&
	test "$(queue_count)" = 0
'

test_expect_success 'virtual mailboxes: Maildir under virtual_mailbox_base, unknown users bounce 5.1.1' '
	mkdir -p vmail &&
	test_config virtual_mailbox_domains v.example &&
	test_config virtual_mailbox_base "$TRASH/vmail" &&
	test_config virtual_mailbox_maps "inline:{ carol@v.example=carol/, dave@v.example=dave.mbox }" &&
	test_config virtual_uid_maps "static:$(id -u)" &&
	test_config virtual_gid_maps "static:$(id -g)" &&
	test_config virtual_minimum_uid 0 &&
	test_when_finished "test_unconfig virtual_mailbox_domains" &&
	: >maillog &&
	echo "Subject: v1" | sendmail -odi carol@v.example &&
	echo "Subject: v2" | sendmail -odi dave@v.example &&
	test "$(ls vmail/carol/new | wc -l)" = 1 &&
	test "$(mbox_count vmail/dave.mbox)" = 1 &&
	echo x | test_expect_code 67 sendmail -odi erin@v.example &&
	test_grep "to=<erin@v.example>, relay=virtual.*dsn=5.1.1, status=bounced" maillog
'

test_expect_success 'virtual mailboxes take default_destination_concurrency_limit workers, local(8) local_destination_concurrency_limit' '
	mkdir -p vmail &&
	test_config virtual_mailbox_domains v.example &&
	test_config virtual_mailbox_base "$TRASH/vmail" &&
	test_config virtual_mailbox_maps "inline:{ carol@v.example=carol/ }" &&
	test_config virtual_uid_maps "static:$(id -u)" &&
	test_config virtual_gid_maps "static:$(id -g)" &&
	test_config virtual_minimum_uid 0 &&
	test_config local_destination_concurrency_limit 1 &&
	test_config default_destination_concurrency_limit 4 &&
	test_when_finished "test_unconfig virtual_mailbox_domains; test_unconfig local_destination_concurrency_limit; test_unconfig default_destination_concurrency_limit" &&
	: >maillog &&
	i=0 &&
	while [ $i -lt 20 ]; do
		echo "Subject: w$i" | sendmail -odq carol@v.example || return 1
		i=$((i + 1))
	done &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(ls vmail/carol/new | wc -l)" -ge 20 &&
	sed -n "s/.*correo\/virtual\[\([0-9]*\)\].*status=sent.*/\1/p" maillog | sort -u >vpids &&
	echo "virtual workers: $(wc -l <vpids)" &&
	test "$(wc -l <vpids)" -ge 2 && test "$(wc -l <vpids)" -le 4 &&
	: >maillog &&
	i=0 &&
	while [ $i -lt 10 ]; do
		echo "Subject: n$i" | sendmail -odq "$me" || return 1
		i=$((i + 1))
	done &&
	runq &&
	sed -n "s/.*correo\/local\[\([0-9]*\)\].*status=sent.*/\1/p" maillog | sort -u >lpids &&
	test "$(wc -l <lpids)" = 1
'

test_expect_success 'virtual_alias_maps rewrites before routing: a domain that transport_maps sends elsewhere' '
	printf "lists.example error:no such list here\n" >transport &&
	test_config transport_maps "texthash:$TRASH/transport" &&
	test_config virtual_alias_maps "inline:{ info@lists.example=$me@host.example.org }" &&
	test_when_finished "test_unconfig transport_maps; test_unconfig virtual_alias_maps" &&
	n=$(mbox_count mail/$me) &&
	: >maillog &&
	echo "Subject: to info" | sendmail -odi info@lists.example &&
	test "$(mbox_count mail/$me)" = $((n + 1)) &&
	echo "Subject: to other" | test_expect_code 67 sendmail -odi other@lists.example &&
	test_grep "to=<other@lists.example>.*status=bounced \(no such list here\)" maillog &&
	test_grep -v "to=<info@lists.example>.*status=bounced" maillog
'

test_expect_success 'runq -I, -R site and -S sender pick their messages only' '
	mailq -d ALL 2>/dev/null;
	test_config defer_transports local &&
	test_when_finished "test_config defer_transports \"\"" &&
	n=$(mbox_count mail/$me) &&
	echo a | sendmail -odq -f alice@example.net "$me" &&
	echo b | sendmail -odq -f bob@example.net "$me" &&
	runq &&
	test "$(mbox_count mail/$me)" = $n &&
	test_config defer_transports "" &&
	runq -f -S bob@example &&
	test "$(mbox_count mail/$me)" = $((n + 1)) &&
	runq -f -R nowhere.example &&
	test "$(mbox_count mail/$me)" = $((n + 1)) &&
	runq -f -R host.example.org &&
	test "$(mbox_count mail/$me)" = $((n + 2)) &&
	echo c | sendmail -odq "$me" &&
	echo d | sendmail -odq "$me" &&
	id=$(basename $(queued_files | tail -n 1)) &&
	runq -I "$id" 2>err &&
	test "$(mbox_count mail/$me)" = $((n + 4)) &&
	test_expect_code 64 runq -I ../etc
'

test_expect_success 'a damaged queue file is held, with a warning, not retried forever' '
	mailq -d ALL 2>/dev/null;
	echo x | sendmail -odq far@remote.example &&
	runq &&
	f=$(the_queue_file) &&
	id=$(basename "$f") &&
	head -c 100 "$f" >cut && cat cut >"$f" &&
	: >maillog &&
	runq -f &&
	test_grep "$id: held: not a valid queue file" maillog &&
	test_path_is_file "spool/hold/$id" &&
	mailq -d ALL 2>/dev/null
'

test_lazy_prereq PFLOGSUMM 'command -v pflogsumm'
test_expect_success PFLOGSUMM 'pflogsumm counts received, delivered, deferred, bounced' '
	mailq -d ALL 2>/dev/null;
	: >maillog &&
	echo a | sendmail -odi "$me" &&
	echo b | sendmail -odi "$me" &&
	echo c | sendmail -odi far@remote.example &&
	echo d | sendmail -odi nosuchuser;
	runq &&
	pflogsumm --syslog-name=correo maillog >report &&
	test_grep "^ +4 +received" report &&
	test_grep "^ +[3-9] +delivered" report &&
	test_grep "^ +1 +deferred" report &&
	test_grep "^ +1 +bounced" report
'

test_done
