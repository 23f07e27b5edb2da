#!/bin/sh
test_description='sendmail options: envelope, recipients, modes, errors'
. "$(dirname "$0")/test-lib.sh"

me=$(id -un)

rcpts_of() {
	queue_envelope "$1" | grep "^R " | cut -d" " -f6-
}

test_expect_success 'DSN options -N -R -V go into the envelope' '
	echo x | sendmail -odq -N success,failure -R hdrs -V env.42 bob@example.org &&
	f=$(the_queue_file) &&
	queue_envelope "$f" >env &&
	test_grep "^ret: HDRS\$" env &&
	test_grep "^envid: env.42\$" env &&
	test_grep "^N success,failure\$" env
'

test_expect_success 'bad -N, -R, -V and -B values are usage errors' '
	test_expect_code 64 sendmail -N sometimes bob@example.org </dev/null &&
	test_expect_code 64 sendmail -N never,success bob@example.org </dev/null &&
	test_expect_code 64 sendmail -R most bob@example.org </dev/null &&
	test_expect_code 64 sendmail -V "has space" bob@example.org </dev/null &&
	test_expect_code 64 sendmail -B 9BIT bob@example.org </dev/null
'

test_expect_success 'the null sender: -f "<>" and -f ""' '
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq -f "<>" bob@example.org &&
	queue_envelope $(the_queue_file) | grep "^sender: \$" &&
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq -f "" bob@example.org &&
	queue_envelope $(the_queue_file) | grep "^sender: \$"
'

test_expect_success 'From: display name from -F, then $NAME, then gecos' '
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq -F "Jane Doe" bob@example.org &&
	queue_content $(the_queue_file) | grep "^From: Jane Doe <$me@host.example.org>\$" &&
	rm -rf spool/incoming/* &&
	echo x | NAME="J. Q. Public" sendmail -odq bob@example.org &&
	queue_content $(the_queue_file) | grep "^From: \"J. Q. Public\" <$me@host.example.org>\$" &&
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq -F "$(printf "Jos\303\251")" bob@example.org &&
	queue_content $(the_queue_file) | grep "^From: =?utf-8?B?Sm9zw6k=?= <$me@host.example.org>\$"
'

test_expect_success 'recipients: comma lists, Name <addr>, duplicates removed' '
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq "A <a@example.org>, b@Example.ORG" c b@example.org &&
	rcpts_of $(the_queue_file) >actual &&
	printf "a@example.org\nb@example.org\nc@host.example.org\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'quoted local parts and IP literals are kept' '
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq "\"john smith\"@example.org" "x@[192.0.2.1]" &&
	rcpts_of $(the_queue_file) >actual &&
	printf "\"john smith\"@example.org\nx@[192.0.2.1]\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'internationalized domains become A-labels' '
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq "$(printf "bob@b\303\274cher.example")" &&
	rcpts_of $(the_queue_file) >actual &&
	echo bob@xn--bcher-kva.example >expect &&
	test_cmp expect actual
'

test_expect_success 'bad addresses and invalid IDNA are clear errors (EX_DATAERR)' '
	test_expect_code 65 sendmail -odq "a@b@example.org" </dev/null 2>err &&
	test_grep "bad recipient address" err &&
	test_expect_code 65 sendmail -odq "bob@xn--zz.example" </dev/null 2>err &&
	test_grep "xn--zz" err &&
	test_expect_code 65 sendmail -odq -f "a b@example.org" bob@example.org </dev/null 2>err &&
	test_grep "bad sender address" err &&
	test "$(queue_count)" = 1
'

test_expect_success '-t: To, Cc and Bcc added to argv recipients' '
	rm -rf spool/incoming/* &&
	printf "To: a@example.org\nCc: B <b@example.org>, c\nBcc: d@example.org\n\nx\n" |
	sendmail -odq -t e@example.org &&
	rcpts_of $(the_queue_file) | sort >actual &&
	printf "a@example.org\nb@example.org\nc@host.example.org\nd@example.org\ne@example.org\n" >expect &&
	test_cmp expect actual
'

test_expect_success '-t: only the Resent- set when one is present; both Bcc removed' '
	rm -rf spool/incoming/* &&
	printf "To: a@example.org\nResent-To: r@example.org\nResent-Bcc: rb@example.org\nBcc: b@example.org\n\nx\n" |
	sendmail -odq -t &&
	f=$(the_queue_file) &&
	rcpts_of "$f" | sort >actual &&
	printf "r@example.org\nrb@example.org\n" >expect &&
	test_cmp expect actual &&
	! queue_content "$f" | grep -i "bcc"
'

test_expect_success '-t: groups and undisclosed recipients' '
	rm -rf spool/incoming/* &&
	printf "To: undisclosed-recipients:;\nCc: team: x@example.org, y@example.org;\n\nx\n" |
	sendmail -odq -t &&
	rcpts_of $(the_queue_file) >actual &&
	printf "x@example.org\ny@example.org\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'no recipients: EX_USAGE without -t, EX_DATAERR with -t' '
	test_expect_code 64 sendmail -odq </dev/null 2>err &&
	test_grep "no recipients" err &&
	printf "Subject: none\n\nx\n" >none.msg &&
	test_expect_code 65 sendmail -odq -t <none.msg 2>err &&
	test_grep "no recipient addresses found" err
'

test_expect_success 'unknown options: usage and EX_USAGE' '
	test_expect_code 64 sendmail -Z bob@example.org </dev/null 2>err &&
	test_grep "^usage:" err &&
	test_expect_code 64 sendmail -bx </dev/null &&
	test_expect_code 64 sendmail -odx bob </dev/null &&
	test_expect_code 64 sendmail -oex bob </dev/null
'

test_expect_success 'accepted and ignored: -G -U -m -n -h -X -om -oX' '
	rm -rf spool/incoming/* &&
	echo x | sendmail -odq -G -U -m -n -h 5 -X /dev/null -om -oQ/var -o7 bob@example.org &&
	test "$(queue_count)" = 1
'

test_expect_success '-bd and -bD point to socket activation' '
	test_expect_code 69 sendmail -bd 2>err &&
	test_grep "smtpd-lite" err &&
	test_expect_code 69 sendmail -bD
'

test_expect_success '-bP prints effective values, -bP name, -bP -n' '
	sendmail -bP >all &&
	test_grep "^myhostname = host.example.org\$" all &&
	test_grep "^mydestination = host.example.org, localhost.example.org, localhost\$" all &&
	sendmail -bP myorigin hopcount_limit >two &&
	printf "myorigin = host.example.org\nhopcount_limit = 50\n" >expect &&
	test_cmp expect two &&
	sendmail -bP -n >set &&
	test_grep "^queue_directory = " set &&
	! grep "^hopcount_limit" set
'

test_expect_success '-bP: unknown names are an error; Postfix names correo lacks say so' '
	test_must_fail sendmail -bP no_such_parameter 2>err &&
	test_grep "no_such_parameter" err &&
	test_config biff no &&
	sendmail -bP biff >out 2>err &&
	test_grep "not implemented by correo" out &&
	test_grep "biff" out &&
	test_grep "line [0-9]+: biff: Postfix parameter not implemented by correo" err &&
	test_unconfig biff
'

test_expect_success 'a bad configuration is EX_CONFIG naming file and line' '
	printf "myhostname = ok.example\nbogus_parameter = 1\n" >bad.conf &&
	test_expect_code 78 sendmail -C bad.conf -bP 2>err &&
	test_grep "bad.conf, line 2" err &&
	printf "hopcount_limit = many\n" >bad2.conf &&
	test_expect_code 78 sendmail -C bad2.conf -bP 2>err &&
	test_grep "bad2.conf, line 1" err &&
	test_expect_code 78 sendmail -C /nonexistent/correo.conf -bP 2>err &&
	test_grep "/nonexistent/correo.conf" err
'

test_expect_success '-C takes a file or the directory that holds correo.conf' '
	mkdir -p alt &&
	sed "s/^myhostname = .*/myhostname = alt.example.org/" "$CORREO_CONFIG" >alt/correo.conf &&
	sendmail -C alt -bP myhostname >out &&
	echo "myhostname = alt.example.org" >expect &&
	test_cmp expect out &&
	sendmail -C alt/correo.conf -bP myhostname >out &&
	test_cmp expect out &&
	CORREO_CONFIG=$TRASH/alt/correo.conf sendmail -bP myhostname >out &&
	test_cmp expect out
'

test_expect_success '-O overrides a parameter; -L sets the log label' '
	rm -rf spool/incoming/* maillog &&
	echo x | sendmail -odq -O myhostname=over.example.org -L mytag bob@example.org &&
	queue_content $(the_queue_file) | grep "^Received: by over.example.org " &&
	test_grep "mytag/qmgr" maillog &&
	test_expect_code 64 sendmail -O novalue -bP </dev/null
'

# Modes that run a sibling: a daemon_directory of recording programs.
test_expect_success 'set up recording siblings' '
	mkdir -p fake &&
	for p in mailq newaliases runq smtpd-lite; do
		printf "#!/bin/sh\necho \"%s \$*\" >>%s/ran\nexit \$(cat %s/fake-exit 2>/dev/null || echo 0)\n" \
		    "$p" "$TRASH" "$TRASH" >fake/$p &&
		chmod +x fake/$p || return 1
	done
'

test_expect_success '-bp, -bi, -bs, -I and mailq/newaliases names run the siblings' '
	rm -f ran &&
	sendmail -O daemon_directory=$TRASH/fake -bp &&
	sendmail -O daemon_directory=$TRASH/fake -bi &&
	sendmail -O daemon_directory=$TRASH/fake -oA/etc/aliases2 -bi &&
	sendmail -O daemon_directory=$TRASH/fake -bs </dev/null &&
	sendmail -O daemon_directory=$TRASH/fake -I &&
	ln -s "$CORREO_BUILD/sendmail" mailq &&
	./mailq -O daemon_directory=$TRASH/fake &&
	sed "s| -C $CORREO_CONFIG -o daemon_directory=$TRASH/fake||" ran >actual &&
	cat >expect <<-EOF &&
	mailq
	newaliases
	newaliases -A /etc/aliases2
	smtpd-lite -S
	newaliases
	mailq
	EOF
	test_cmp expect actual &&
	test_grep "^mailq -C $CORREO_CONFIG -o daemon_directory=" ran
'

test_expect_success '-q forms run runq with the filter' '
	rm -f ran &&
	sendmail -O daemon_directory=$TRASH/fake -q &&
	sendmail -O daemon_directory=$TRASH/fake -qIABCDEFGHIJK &&
	sendmail -O daemon_directory=$TRASH/fake -qRexample.org &&
	sendmail -O daemon_directory=$TRASH/fake -qSalice@example.org &&
	sendmail -O daemon_directory=$TRASH/fake -q30m 2>err &&
	test_grep "interval is ignored" err &&
	sed "s| -C $CORREO_CONFIG -o daemon_directory=$TRASH/fake||" ran >actual &&
	cat >expect <<-EOF &&
	runq -f
	runq -f -I ABCDEFGHIJK
	runq -f -R example.org
	runq -f -S alice@example.org
	runq -f
	EOF
	test_cmp expect actual
'

test_expect_success 'private spool: -odb starts runq, -odq does not' '
	rm -f ran &&
	echo x | sendmail -O daemon_directory=$TRASH/fake -odq bob@example.org &&
	test_path_is_missing ran &&
	echo x | sendmail -O daemon_directory=$TRASH/fake bob@example.org &&
	i=0 && while [ ! -s ran ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	test_grep "^runq -C " ran
'

test_expect_success '-odi waits for runq -I ID and reports a permanent failure' '
	rm -rf ran spool/incoming/* &&
	echo x | sendmail -O daemon_directory=$TRASH/fake -odi bob@example.org &&
	id=$(basename $(the_queue_file)) &&
	test_grep "^runq .* -I $id\$" ran &&
	echo 67 >fake-exit &&
	test_when_finished "rm -f fake-exit" &&
	test_expect_code 67 sendmail -O daemon_directory=$TRASH/fake -odi bob@example.org </dev/null &&
	echo 75 >fake-exit &&
	echo x | sendmail -O daemon_directory=$TRASH/fake -odi bob@example.org 2>err &&
	test_grep "stays queued" err
'

test_expect_success '-oem mails an error back to the sender and exits 0' '
	rm -rf spool/incoming/* &&
	printf "Subject: n\n\na\000b\n" >nul.msg &&
	sendmail -odq -oem -f alice@example.net bob@example.org <nul.msg 2>err &&
	f=$(the_queue_file) &&
	rcpts_of "$f" >actual &&
	echo alice@example.net >expect &&
	test_cmp expect actual &&
	queue_envelope "$f" | grep "^sender: \$" &&
	queue_content "$f" | grep "^Subject: Mail not queued: message contains a NUL byte"
'

test_expect_success '-oeq: the exit status only; -oep: a message on stderr' '
	rm -rf spool/incoming/* &&
	test_expect_code 65 sendmail -odq -oeq bob@example.org <nul.msg 2>err &&
	test ! -s err &&
	test_expect_code 65 sendmail -odq -oep bob@example.org <nul.msg 2>err &&
	test_grep "NUL" err &&
	test "$(queue_count)" = 0
'

test_done
