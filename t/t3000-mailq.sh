#!/bin/sh
test_description='mailq: the listing (postqueue -p), -v, -j (postqueue -j), -c (postcat -q)'
. "$(dirname "$0")/test-lib.sh"

# Messages written by correo-test spool-fill get this arrival time.
T=1700000000.000000
ARR='Tue Nov 14 22:13:20'

# hdr, sender_line ID SIZE SENDER, rcpt_line ADDR, reason_line TEXT:
# the lines of Postfix's listing (long queue ID layout)
hdr() {
	echo '----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------'
}
sender_line() {
	printf '%-17s %8s %s %s\n' "$1" "$2" "$ARR" "$3"
}
rcpt_line() {
	printf '%47s%s\n' '' "$1"
}
reason_line() {
	_pad=$((76 - ${#1}))
	[ $_pad -ge 0 ] || _pad=0
	printf "%${_pad}s(%s)\n" '' "$1"
}
fill() {
	correo-test spool-fill -t "$T" "$@"
}
clean_queue() {
	rm -f spool/incoming/* spool/queue/* spool/hold/*
}

printf 'Subject: test\n\nhello\n' >msg		# 21 bytes

test_expect_success 'an empty queue' '
	mailq >out &&
	echo "Mail queue is empty" >expect &&
	test_cmp expect out &&
	mailq -j >out &&
	test_cmp /dev/null out
'

test_expect_success 'one message from sendmail: size, sender, recipients' '
	printf "Subject: x\n\nhi\n" | sendmail -odq bob@example.org carol@example.org &&
	f=$(the_queue_file) &&
	id=$(basename "$f") &&
	size=$(queue_content "$f" | wc -c) &&
	mailq >out &&
	me=$(id -un) &&
	{
		hdr &&
		printf "%-17s %8s DATE %s\n" "$id" "$size" "$me@host.example.org" &&
		rcpt_line bob@example.org &&
		rcpt_line carol@example.org &&
		echo &&
		echo "-- 0 Kbytes in 1 Request."
	} >expect &&
	sed "s/ [A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} / DATE /" out >actual &&
	test_cmp expect actual &&
	clean_queue
'

test_expect_success 'one message: the exact line, arrival time in TZ' '
	id=$(fill -m msg -f alice@example.org -r bob@example.org 1) &&
	mailq >out &&
	{
		hdr &&
		sender_line "$id" 21 alice@example.org &&
		rcpt_line bob@example.org &&
		echo &&
		echo "-- 0 Kbytes in 1 Request."
	} >expect &&
	test_cmp expect out &&
	TZ=America/New_York mailq >out &&
	grep "^$id  *21 Tue Nov 14 17:13:20 alice@example.org\$" out &&
	clean_queue
'

test_expect_success 'several messages: sorted by queue ID, blank lines, Kbytes' '
	awk "BEGIN { printf \"Subject: big\\n\\n\"; for (i = 0; i < 20; i++) printf \"%049d\\n\", i }" >big &&
	test $(wc -c <big) = 1014 &&
	fill -m big -r a@example.org 3 >ids &&
	sort ids >sorted &&
	test_cmp ids sorted &&
	mailq >out &&
	{
		hdr &&
		first=1 &&
		for id in $(cat sorted); do
			if [ -z "$first" ]; then echo; fi
			first= &&
			sender_line "$id" 1014 sender@example.org &&
			rcpt_line a@example.org || return 1
		done &&
		echo &&
		echo "-- 2 Kbytes in 3 Requests."
	} >expect &&
	test_cmp expect out &&
	clean_queue
'

test_expect_success 'the null sender prints as MAILER-DAEMON' '
	id=$(fill -m msg -f "" -r bob@example.org 1) &&
	mailq >out &&
	sender_line "$id" 21 MAILER-DAEMON >expect &&
	sed -n 2p out >actual &&
	test_cmp expect actual &&
	mailq -j | grep "\"sender\": \"MAILER-DAEMON\"" &&
	clean_queue
'

test_expect_success 'only pending recipients are listed' '
	id=$(fill -m msg -r p1@x -r d@x -r f@x -r b@x -r p2@x -S PDFBP 1) &&
	mailq >out &&
	{
		hdr &&
		sender_line "$id" 21 sender@example.org &&
		rcpt_line p1@x &&
		rcpt_line p2@x &&
		echo &&
		echo "-- 0 Kbytes in 1 Request."
	} >expect &&
	test_cmp expect out &&
	mailq -j >out &&
	python_addrs="$(grep -o "\"address\": \"[^\"]*\"" out | tr "\n" " ")" &&
	test "$python_addrs" = "\"address\": \"p1@x\" \"address\": \"p2@x\" " &&
	clean_queue
'

test_expect_success 'deferral reasons head the recipients that share them' '
	id=$(fill -m msg -r a@x -r b@x -r c@x -r d@x \
	    -R "451 4.3.0 busy" -R "" -R "450 4.2.2 mailbox full" \
	    -R "451 4.3.0 busy" -a 1 -n 1700003600 -D queue 1) &&
	mailq >out &&
	{
		hdr &&
		sender_line "$id" 21 sender@example.org &&
		reason_line "450 4.2.2 mailbox full" &&
		rcpt_line c@x &&
		reason_line "451 4.3.0 busy" &&
		rcpt_line a@x &&
		rcpt_line d@x &&
		reason_line "reason unavailable" &&
		rcpt_line b@x &&
		echo &&
		echo "-- 0 Kbytes in 1 Request."
	} >expect &&
	test_cmp expect out &&
	clean_queue
'

test_expect_success 'a long reason is not padded' '
	long=$(printf "%0100d" 0) &&
	id=$(fill -m msg -r a@x -R "$long" 1) &&
	mailq >out &&
	sed -n 3p out >actual &&
	echo "($long)" >expect &&
	test_cmp expect actual &&
	clean_queue
'

test_expect_success 'held messages are marked "!"' '
	id=$(fill -m msg -r a@x -D hold 1) &&
	mailq >out &&
	sender_line "$id!" 21 sender@example.org >expect &&
	sed -n 2p out >actual &&
	test_cmp expect actual &&
	mailq -j | grep "\"queue_name\": \"hold\"" &&
	clean_queue
'

test_expect_success 'messages being delivered (flock held) are marked "*"' '
	id=$(fill -m msg -r a@x -D queue 1) &&
	{ ( exec 9<"spool/queue/$id" && flock 9 && : >locked &&
	    exec sleep 60 ) & } &&
	pid=$! &&
	test_when_finished "kill $pid; wait $pid; :" &&
	n=0 &&
	while [ ! -f locked ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done &&
	test -f locked &&
	mailq >out &&
	sender_line "$id*" 21 sender@example.org >expect &&
	sed -n 2p out >actual &&
	test_cmp expect actual &&
	mailq -j | grep "\"queue_name\": \"active\"" &&
	clean_queue
'

test_expect_success 'queue_name in -j: incoming and deferred' '
	fill -m msg -r a@x 1 >/dev/null &&
	fill -m msg -r a@x -D queue 1 >/dev/null &&
	mailq -j | sed "s/.*\"queue_name\": \"\([a-z]*\)\".*/\1/" >actual &&
	printf "incoming\ndeferred\n" >expect &&
	test_cmp expect actual &&
	clean_queue
'

test_expect_success '-v adds attempts, next try and last reply' '
	id=$(fill -m msg -r a@x -r b@x -R "451 4.3.0 busy" -R "" \
	    -a 3 -n 1700003600 -D queue 1) &&
	mailq -v >out &&
	{
		hdr &&
		sender_line "$id" 21 sender@example.org &&
		reason_line "451 4.3.0 busy" &&
		rcpt_line a@x &&
		printf "%49s%s\n" "" "attempts: 3, next try: Tue Nov 14 23:13:20 2023" &&
		printf "%49s%s\n" "" "last reply: 451 4.3.0 busy" &&
		reason_line "reason unavailable" &&
		rcpt_line b@x &&
		printf "%49s%s\n" "" "attempts: 3, next try: Tue Nov 14 23:13:20 2023" &&
		echo &&
		echo "-- 0 Kbytes in 1 Request."
	} >expect &&
	test_cmp expect out &&
	clean_queue
'

test_expect_success '-v: never tried is "as soon as possible"' '
	fill -m msg -r a@x 1 >/dev/null &&
	mailq -v >out &&
	grep "^ \{49\}attempts: 0, next try: as soon as possible\$" out &&
	clean_queue
'

test_expect_success '-j: one exact object per line' '
	id=$(fill -m msg -f alice@example.org -r a@x -r b@x \
	    -R "451 4.3.0 busy" -R "" -a 2 -n 1700003600 -D queue 1) &&
	mailq -j >out &&
	cat >expect <<-EOF &&
	{"queue_name": "deferred", "queue_id": "$id", "arrival_time": 1700000000, "message_size": 21, "forced_expire": false, "sender": "alice@example.org", "recipients": [{"address": "a@x", "delay_reason": "451 4.3.0 busy", "attempts": 2, "next_attempt": 1700003600, "last_reply": "451 4.3.0 busy"}, {"address": "b@x", "attempts": 2, "next_attempt": 1700003600, "last_reply": ""}]}
	EOF
	test_cmp expect out &&
	clean_queue
'

cat >check-json.py <<'EOF'
import json, sys
objs = [json.loads(line) for line in sys.stdin]
assert len(objs) == 2, objs
o = objs[0]
assert o["sender"] == 'evil"\\\x07sender@x', repr(o["sender"])
want = ['q"uo\\te@x', 'c\x01t\x1bl\x7f\t@x', 'bad\ufffd\ufffdutf8@x',
        'ok-\u00e9-\u20ac-\U0001f600@x', 'surrogate\ufffd\ufffd\ufffd@x']
got = [r["address"] for r in o["recipients"]]
assert got == want, repr(got)
for r in o["recipients"]:
    assert r["delay_reason"] == 'r\x01"\\\x1b \ufffd', repr(r["delay_reason"])
    assert r["last_reply"] == r["delay_reason"]
    assert r["attempts"] == 1
assert objs[1]["recipients"] == [], objs[1]
print("ok")
EOF

test_expect_success PYTHON3 '-j is valid JSON whatever the queue holds' '
	fill -m msg -f "$(printf "evil\"\\\\\007sender@x")" \
	    -r "$(printf "q\"uo\\\\te@x")" \
	    -r "$(printf "c\001t\033l\177\t@x")" \
	    -r "$(printf "bad\377\376utf8@x")" \
	    -r "$(printf "ok-\303\251-\342\202\254-\360\237\230\200@x")" \
	    -r "$(printf "surrogate\355\240\200@x")" \
	    -R "$(printf "r\001\"\\\\\033 \377")" -X -a 1 -D queue 1 >/dev/null &&
	fill -m msg -r a@x -S D 1 >/dev/null &&
	mailq -j >out &&
	python3 check-json.py <out &&
	python3 -c "import json,sys; [json.loads(l) for l in sys.stdin]" <out &&
	clean_queue
'

cat >random-queue.py <<'EOF'
import json, random, subprocess
rng = random.Random(3000)
want = {}
for i in range(200):
    n = rng.randint(1, 40)
    if i % 3 == 0:
        # valid UTF-8, with control characters, quotes and backslashes
        addr = "".join(chr(rng.choice([rng.randint(1, 0x7f),
            rng.randint(0xa0, 0x7ff), rng.randint(0x800, 0xd7ff),
            rng.randint(0x10000, 0x10ffff), ord('"'), ord('\\')]))
            for _ in range(n)).replace("\n", "").replace("\r", "")
        addr = (addr or "x").encode()
    else:
        addr = bytes(b for b in (rng.randint(1, 255) for _ in range(n))
                     if b not in (10, 13)) or b"x"
    reply = bytes(b for b in (rng.randint(1, 255) for _ in range(60))
                  if b not in (10, 13))
    out = subprocess.run([b"correo-test", b"spool-fill", b"-m", b"msg",
                          b"-r", addr, b"-R", reply, b"-X", b"1"],
                         check=True, stdout=subprocess.PIPE).stdout
    want[out.decode().strip()] = addr
text = subprocess.run(["mailq"], check=True, stdout=subprocess.PIPE).stdout
text.decode("utf-8")                    # well-formed UTF-8 only
assert not any((b < 0x20 and b != 10) or b == 0x7f for b in text)
lines = subprocess.run(["mailq", "-j"], check=True,
                       stdout=subprocess.PIPE).stdout.splitlines()
assert len(lines) == len(want), (len(lines), len(want))
for line in lines:
    o = json.loads(line)
    addr = want[o["queue_id"]]
    got = o["recipients"][0]["address"]
    try:
        assert got == addr.decode("utf-8"), (got, addr)
    except UnicodeDecodeError:
        assert "\ufffd" in got, (got, addr)
print("ok", len(lines))
EOF

test_expect_success PYTHON3 '-j and the listing stay valid for random bytes' '
	python3 random-queue.py &&
	clean_queue
'

test_expect_success 'the text listing prints control characters as "?"' '
	id=$(fill -m msg -f "$(printf "e\033[31mvil@x")" \
	    -r "$(printf "c\001t@x")" -r "$(printf "u\303\251@x")" \
	    -r "$(printf "bad\377@x")" 1) &&
	mailq >out &&
	{
		hdr &&
		sender_line "$id" 21 "e?[31mvil@x" &&
		rcpt_line "c?t@x" &&
		rcpt_line "$(printf "u\303\251@x")" &&
		rcpt_line "bad?@x" &&
		echo &&
		echo "-- 0 Kbytes in 1 Request."
	} >expect &&
	test_cmp expect out &&
	clean_queue
'

test_expect_success '-c: the envelope, then the content exactly' '
	id=$(fill -m msg -e x-extra=value -r bob@example.org -r d@x \
	    -S PD -a 2 -n 1700003600 -R "451 4.3.0 try later" -R "" \
	    -D queue 1) &&
	mailq -c "$id" >out &&
	cat >expect <<-EOF &&
	*** ENVELOPE RECORDS queue/$id ***
	queue_name: deferred
	message_size: 21
	message_arrival_time: Tue Nov 14 22:13:20 2023
	time: 1700000000.000000
	origin: local uid=0 user=spool-fill
	sender: sender@example.org
	body: 7BIT
	x-extra: value
	recipient: bob@example.org
	  state: P (pending)
	  flags: -
	  attempts: 2
	  next_try: Tue Nov 14 23:13:20 2023
	  last_reply: 451 4.3.0 try later
	recipient: d@x
	  state: D (delivered)
	  flags: -
	  attempts: 2
	  next_try: Tue Nov 14 23:13:20 2023
	*** MESSAGE CONTENTS queue/$id ***
	Subject: test

	hello
	*** MESSAGE FILE END queue/$id ***
	EOF
	test_cmp expect out &&
	clean_queue
'

test_expect_success '-c: binary and large content byte for byte' '
	awk "BEGIN { for (i = 0; i < 300000; i++) printf \"%c\", i % 256 }" >bin &&
	printf "\n" >>bin &&
	id=$(fill -m bin -r a@x 1) &&
	mailq -c "$id" >out &&
	{
		sed -n "1,/^\*\*\* MESSAGE CONTENTS/p" out &&
		cat bin &&
		echo "*** MESSAGE FILE END incoming/$id ***"
	} >expect &&
	cmp expect out &&
	clean_queue
'

test_expect_success '-c: content without a final newline gets one' '
	printf "Subject: x\n\nno newline" >nonl &&
	id=$(fill -m nonl -r a@x 1) &&
	mailq -c "$id" | sed -n "/MESSAGE CONTENTS/,\$p" >out &&
	cat >expect <<-EOF &&
	*** MESSAGE CONTENTS incoming/$id ***
	Subject: x

	no newline
	*** MESSAGE FILE END incoming/$id ***
	EOF
	test_cmp expect out &&
	clean_queue
'

test_expect_success '-c: unknown and malformed queue IDs' '
	test_expect_code 66 mailq -c 0000000000AAA 2>err &&
	grep "^mailq: warning: 0000000000AAA: no such message in the queue\$" err &&
	test_expect_code 65 mailq -c "../etc/passwd" 2>err &&
	grep "not a queue ID" err
'

test_expect_success 'correo-test spool-dump: the records of a queue file' '
	id=$(fill -m msg -e x-extra=value -r bob@example.org -r "$(printf "t\001@x")" \
	    -a 1 -n 1700003600 -R "451 busy" -S PF -D hold 1) &&
	correo-test spool-dump "spool/hold/$id" >out &&
	cat >expect <<-EOF &&
	version: 1
	envelope_offset: 58
	content_offset: 37
	content_length: 21
	time: 1700000000.000000
	origin: local uid=0 user=spool-fill
	sender: sender@example.org
	body: 7BIT
	x-extra: value
	rcpt: bob@example.org
	  state: P
	  flags: -
	  attempts: 1
	  next: 1700003600
	  reply: 451 busy
	rcpt: t\\001@x
	  state: F
	  flags: -
	  attempts: 1
	  next: 1700003600
	  reply: 451 busy
	end
	EOF
	test_cmp expect out &&
	clean_queue
'

test_expect_success 'sendmail -bp runs mailq' '
	id=$(fill -m msg -r a@x 1) &&
	mailq >expect &&
	sendmail -bp >out &&
	test_cmp expect out &&
	clean_queue
'

test_expect_success 'usage errors exit 64' '
	test_expect_code 64 mailq -x 2>err &&
	grep "^mailq: unknown option -x\$" err &&
	grep "^usage: mailq" err &&
	test_expect_code 64 mailq -c 2>err &&
	grep "^mailq: -c needs an argument\$" err &&
	test_expect_code 64 mailq extra 2>err &&
	test_expect_code 64 mailq -j -d ALL 2>err &&
	test_expect_code 64 mailq -c 0000000000AAA -d ALL 2>err &&
	test_expect_code 64 mailq -o queue_directory 2>err &&
	test_expect_code 64 mailq -o no_such_parameter=1 2>err
'

test_expect_success 'a bad configuration exits 78' '
	echo "no_such_parameter = 1" >bad.conf &&
	test_expect_code 78 mailq -C bad.conf 2>err &&
	test_expect_code 78 mailq -o queue_directory=$TRASH/no/such/dir 2>err &&
	grep "No such file or directory" err
'

test_expect_success 'every option letter is documented in mailq.1' '
	letters=$(sed -n "s/^#define MQ_OPTSTRING.*\"\(.*\)\"/\1/p" \
	    "$SRC_DIR/cmd/mailq/main.c" | tr -d ":") &&
	test -n "$letters" &&
	for l in $(echo "$letters" | sed "s/./& /g"); do
		grep "^\.It Fl $l\( \|\$\)" "$SRC_DIR/man/mailq.1" >/dev/null ||
		{ echo "-$l is not in mailq.1"; return 1; }
		mailq -x 2>&1 | grep -- "-[a-zA-Z]*$l" >/dev/null ||
		{ echo "-$l is not in the usage"; return 1; }
	done
'

test_expect_success MANDOC 'mailq.1 passes mandoc -Tlint' '
	mandoc -Tlint -W warning "$SRC_DIR/man/mailq.1"
'

test_done
