#!/bin/sh
test_description='runq as root: real users, /var/mail rules, .forward, Maildir, kill -9 during 500 deliveries'
. "$(dirname "$0")/test-lib.sh"

if ! test_have_prereq ROOT; then
	skip_all 'needs root: real users (useradd) and identity switches'
fi
if [ -n "$CORREO_ASAN" ]; then
	skip_all 'the kill loop and identity switches are slow under ASan'
fi
command -v useradd >/dev/null || skip_all 'needs useradd'

# Two real users with homes in the trash directory, removed at the end.
tag=ct$$
A=${tag}a
B=${tag}b
cleanup_users() {
	userdel "$A" 2>/dev/null
	userdel "$B" 2>/dev/null
}
trap cleanup_users EXIT
chmod 755 "$TRASH"
mkdir -p home varmail
useradd -M -d "$TRASH/home/$A" -s /bin/sh "$A" || skip_all 'useradd failed'
useradd -M -d "$TRASH/home/$B" -s /bin/sh "$B" || skip_all 'useradd failed'
for u in "$A" "$B"; do
	mkdir -p "home/$u" && chown "$u:" "home/$u" && chmod 755 "home/$u"
done
# Debian's /var/mail: root:mail 2775
chown root:mail varmail
chmod 2775 varmail
test_config mail_spool_directory "$TRASH/varmail"

mbox_count() {
	python3 -c "import mailbox,sys; print(len(mailbox.mbox(sys.argv[1])))" "$1"
}

test_expect_success 'delivery to /var/mail runs as the user with group mail' '
	echo "Subject: to A" | sendmail -odi "$A" &&
	test "$(stat -c %U:%G:%a varmail/$A)" = "$A:mail:600" &&
	test "$(mbox_count varmail/$A)" = 1
'

test_expect_success 'the child really is the user: mailbox_command runs as B' '
	test_config mailbox_command "id >$TRASH/home/$B/id.out" &&
	test_when_finished "test_unconfig mailbox_command" &&
	echo x | sendmail -odi "$B" &&
	test_grep "^uid=$(id -u $B)\($B\) gid=$(id -g $B)" home/$B/id.out &&
	test "$(stat -c %U home/$B/id.out)" = "$B"
'

test_expect_success '.forward: to another user' '
	echo "$A" >home/$B/.forward &&
	chown "$B:" home/$B/.forward && chmod 644 home/$B/.forward &&
	n=$(mbox_count varmail/$A) &&
	echo "Subject: for B" | sendmail -odi "$B" &&
	runq &&
	test "$(mbox_count varmail/$A)" = $((n + 1))
'

test_expect_success '.forward writable by group or others is ignored' '
	chmod 664 home/$B/.forward &&
	echo "Subject: for B again" | sendmail -odi "$B" &&
	test_path_is_file varmail/$B &&
	test "$(mbox_count varmail/$B)" = 1 &&
	test_grep "not a regular file owned by the user or root" maillog
'

test_expect_success '.forward owned by someone else is ignored' '
	chmod 644 home/$B/.forward && chown "$A:" home/$B/.forward &&
	echo x | sendmail -odi "$B" &&
	test "$(mbox_count varmail/$B)" = 2 &&
	chown "$B:" home/$B/.forward
'

test_expect_success '.forward with a command and the user itself: both, as the user' '
	printf "\\\\$B\n\"|cat >$TRASH/home/$B/piped\"\n" >home/$B/.forward &&
	echo "Subject: piped" | sendmail -odi "$B" &&
	test "$(mbox_count varmail/$B)" = 3 &&
	test_grep "^Subject: piped" home/$B/piped &&
	test "$(stat -c %U home/$B/piped)" = "$B"
'

test_expect_success 'a user cannot :include: what only root may read' '
	: >maillog &&
	echo ":include: /etc/shadow" >home/$B/.forward &&
	echo x | sendmail -odi "$B";
	! grep "root:" maillog &&
	test_grep "cannot read :include: /etc/shadow" maillog &&
	rm home/$B/.forward &&
	mailq -d ALL 2>/dev/null
'

test_expect_success 'a symlinked mailbox is refused and its target untouched' '
	ln -s /etc/passwd varmail/$B.link &&
	rm -f varmail/$B && ln -s /etc/passwd varmail/$B &&
	sum=$(md5sum </etc/passwd) &&
	echo x | sendmail -odi "$B";
	test "$(md5sum </etc/passwd)" = "$sum" &&
	rm varmail/$B varmail/$B.link
'

test_expect_success 'home_mailbox Maildir/: in the home, owned by the user' '
	test_config home_mailbox Maildir/ &&
	test_when_finished "test_unconfig home_mailbox" &&
	echo "Subject: maildir" | sendmail -odi "$A" &&
	ls home/$A/Maildir/new >new &&
	test "$(wc -l <new)" = 1 &&
	test "$(stat -c %U home/$A/Maildir/new/$(cat new))" = "$A" &&
	python3 -c "import mailbox,sys; b=mailbox.Maildir(sys.argv[1], create=False); assert [m[\"Subject\"] for m in b] == [\"maildir\"]" home/$A/Maildir
'

test_lazy_prereq DOVEADM 'command -v doveadm'
test_expect_success DOVEADM 'Dovecot reads the Maildir' '
	cat >dovecot.conf <<-EOF &&
	ssl = no
	log_path = /dev/stderr
	passdb {
	  driver = static
	  args = password=x
	}
	userdb {
	  driver = static
	  args = uid=$A
	}
	EOF
	env USER="$A" HOME="$TRASH/home/$A" doveadm -c dovecot.conf \
	    -o "mail_location=maildir:$TRASH/home/$A/Maildir:INDEX=MEMORY" \
	    -o "mail_uid=$(id -u $A)" -o "mail_gid=$(id -g $A)" \
	    -o first_valid_uid=0 -o first_valid_gid=0 \
	    fetch "hdr" all >fetched 2>err ||
	    { cat err; false; } &&
	test_grep "^Subject: maildir" fetched
'

# The crash test: 500 messages, runq killed with SIGKILL (its whole
# process group: runner, workers, delivery children) again and again
# until the queue is empty.  Afterwards every message is in the mailbox
# exactly once, whole -- the crash mark cuts a partial or complete
# earlier append -- or still queued; duplicates only for deliveries in
# flight at a kill (correo-spool.5).
test_expect_success 'kill -9 loop over runq during 500 deliveries' '
	rm -f varmail/$A &&
	test_config local_destination_concurrency_limit 4 &&
	i=0 &&
	while [ $i -lt 500 ]; do
		printf "Subject: crash %d\nMessage-ID: <crash.%d@test>\n\n" $i $i >m &&
		seq 1 60 | sed "s/^/line $i /" >>m &&
		echo "end of $i" >>m &&
		sendmail -odq "$A" <m || return 1
		i=$((i + 1))
	done &&
	kills=0 && rounds=0 && start=$(date +%s) &&
	while [ "$(queue_count)" -gt 0 ] && [ $rounds -lt 100 ] &&
	    [ $(( $(date +%s) - start )) -lt 90 ]; do
		setsid runq -f & pid=$!
		sleep 0.0$((rounds % 7 + 1))
		if kill -0 $pid 2>/dev/null; then
			env kill -KILL -- -$pid 2>/dev/null &&
			kills=$((kills + 1))
		fi
		wait $pid 2>/dev/null
		rounds=$((rounds + 1))
	done &&
	i=0 &&
	while [ "$(queue_count)" -gt 0 ] && [ $i -lt 10 ]; do
		runq -f; i=$((i + 1))
	done &&
	echo "# rounds $rounds, kills $kills, left $(queue_count)" >&3 &&
	{ test "$(queue_count)" = 0 ||
	  { echo "locks:"; cat /proc/locks; ps -eo pid,pgid,stat,args | grep -v grep | grep runq; false; }; } &&
	test "$(queue_count)" = 0 &&
	python3 - "$TRASH/varmail/$A" $kills 4 <<-\EOF
	import mailbox, sys, collections
	box = mailbox.mbox(sys.argv[1])
	kills, conc = int(sys.argv[2]), int(sys.argv[3])
	seen = collections.Counter()
	for m in box:
	    mid = m["Message-ID"]
	    n = mid.split(".")[1].split("@")[0]
	    body = m.get_payload()
	    lines = body.splitlines()
	    assert len(lines) == 61 and lines[-1] == "end of " + n, (mid, len(lines))
	    seen[mid] += 1
	missing = [i for i in range(500) if seen["<crash.%d@test>" % i] == 0]
	dups = sum(c - 1 for c in seen.values() if c > 1)
	print("messages", len(box), "distinct", len(seen), "dups", dups)
	assert not missing, missing[:10]
	assert dups <= kills * conc, (dups, kills)
	EOF
'

test_done
