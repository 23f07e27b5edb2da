#!/bin/sh
test_description='runq |command and mailbox_command delivery (pipe_deliver), also into Dovecot LDA'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-dovecot.sh"

# to CMD [correo-test pipe options] <MESSAGE - deliver to a command as
# mailbox_command does for bob+ext@example.org; the result line in "out"
to() {
	_cmd=$1
	shift
	correo-test pipe "$@" "$_cmd" sender@example.org bob+ext@example.org \
	    bob "$TRASH" >out
}

cat >msg <<'EOF'
From: sender@example.org
To: bob@example.org
Subject: pipe test

From the start of a line
.a dot
EOF

test_expect_success 'the command reads From_, Return-Path, X-Original-To, Delivered-To, content' '
	to "cat >got" -o Bob@Example.ORG -d bob+ext@example.org <msg &&
	echo "ok 2.0.0 delivered to command: cat >got" >expect &&
	test_cmp expect out &&
	head -n 1 got | grep -E "^From sender@example.org  [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$" &&
	{
		echo "Return-Path: <sender@example.org>" &&
		echo "X-Original-To: Bob@Example.ORG" &&
		echo "Delivered-To: bob+ext@example.org" &&
		cat msg
	} >expect &&
	tail -n +2 got >actual &&
	test_cmp expect actual
'

test_expect_success 'exit statuses are judged with the sysexits table' '
	while read code want; do
		to "exit $code" <msg
		echo "$want" >expect &&
		test_cmp expect out || return 1
	done <<-\EOF
	0 ok 2.0.0 delivered to command: exit 0
	64 bounce 5.3.0 command line usage error
	65 bounce 5.6.0 data format error
	66 bounce 5.3.0 cannot open input
	67 bounce 5.1.1 user unknown
	68 bounce 5.1.2 host name unknown
	69 bounce 5.3.0 service unavailable
	70 bounce 5.3.0 internal software error
	71 defer 4.3.0 system resource problem
	72 bounce 5.3.0 critical OS file missing
	73 bounce 5.2.0 can'"'"'t create user output file
	74 bounce 5.3.0 input/output error
	75 defer 4.3.0 temporary failure
	76 bounce 5.5.0 remote error in protocol
	77 bounce 5.7.0 permission denied
	78 bounce 5.3.5 local configuration error
	1 bounce 5.3.0 Command died with status 1: "exit 1"
	EOF
'

test_expect_success 'the output goes into the text, and its status code wins' '
	test_must_fail to "echo no such folder >&2; exit 73" <msg &&
	echo "bounce 5.2.0 can'"'"'t create user output file. Command output: no such folder" >expect &&
	test_cmp expect out &&
	test_must_fail to "echo 4.2.2 mailbox full; exit 73" <msg &&
	echo "defer 4.2.2 can'"'"'t create user output file. Command output: mailbox full" >expect &&
	test_cmp expect out
'

test_expect_success 'command_time_limit: the process group is killed, delivery deferred' '
	start=$(date +%s) &&
	test_must_fail to "sleep 30 & sleep 30" -t 1 <msg &&
	test $(( $(date +%s) - start )) -le 4 &&
	echo "defer 4.3.0 Command time limit exceeded: \"sleep 30 & sleep 30\"" >expect &&
	test_cmp expect out
'

test_expect_success 'a signal defers' '
	test_must_fail to "kill -TERM \$\$" <msg &&
	echo "defer 4.3.0 Command died with signal 15: \"kill -TERM \$\$\"" >expect &&
	test_cmp expect out
'

test_expect_success 'the environment of local(8), and nothing of ours' '
	CORREO_LEAK=1 &&
	export CORREO_LEAK &&
	to "env | LC_ALL=C sort >env" -c 192.0.2.7 -o Bob@Example.ORG <msg &&
	grep -v "^PWD=" env >actual &&
	cat >expect <<-EOF &&
	CLIENT_ADDRESS=192.0.2.7
	DOMAIN=example.org
	EXTENSION=ext
	HOME=$TRASH
	LOCAL=bob+ext
	LOGNAME=bob
	ORIGINAL_RECIPIENT=Bob@Example.ORG
	PATH=/usr/bin:/bin
	RECIPIENT=bob+ext@example.org
	SENDER=sender@example.org
	SHELL=/bin/sh
	TZ=UTC
	USER=bob
	EOF
	test_cmp expect actual
'

test_expect_success 'a command that exits without reading: its status decides' '
	awk "BEGIN { for (i = 0; i < 100000; i++) print \"line \" i }" >long &&
	to "exit 0" <long &&
	grep "^ok 2.0.0 " out &&
	test_must_fail to "read x; exit 77" <long &&
	echo "bounce 5.7.0 permission denied" >expect &&
	test_cmp expect out
'

test_lazy_prereq GNU_TIME '/usr/bin/time -f %M true'

test_expect_success 'a 20 MB message through cat >FILE, byte-exact' '
	awk "BEGIN { for (i = 0; i < 291272; i++)
		printf \"%s%070d\n\", (i % 3 == 0) ? \".\" : \"x\", i }" >big20 &&
	test $(wc -c <big20) -ge 20971520 &&
	to "cat >copy" <big20 &&
	tail -n +3 copy >actual &&
	cmp big20 actual
'

test_expect_success GNU_TIME 'its memory stays flat' '
	small=$(/usr/bin/time -f %M correo-test pipe "cat >copy" s@x bob@x \
	    bob "$TRASH" <msg 2>&1 >/dev/null) &&
	large=$(/usr/bin/time -f %M correo-test pipe "cat >copy" s@x bob@x \
	    bob "$TRASH" <big20 2>&1 >/dev/null) &&
	say "peak RSS: $small KB for a short message, $large KB for 20 MB" &&
	test $((large - small)) -lt 8192
'

if test_have_prereq DOVECOT; then
	dovecot_find
	if dovecot_start >start.err 2>&1; then
		test_set_prereq DOVECOT_UP
	fi
fi

# lda USER SENDER RECIPIENT - mailbox_command = dovecot-lda (as root,
# LDA needs -d; as the user it may have it too)
lda() {
	correo-test pipe -o "$3" -d "$3" \
	    "$DOVECOT_LDA -c $DOVECOT_CONF -d \"\$USER\" -f \"\$SENDER\" -a \"\$RECIPIENT\"" \
	    "$2" "$3" "$1" "$DOVECOT_DIR/home/$1" >out
}

test_expect_success DOVECOT 'Dovecot is up' '
	cat start.err &&
	test_have_prereq DOVECOT_UP
'

test_expect_success DOVECOT_UP 'mailbox_command = dovecot-lda: delivered, read back byte-exact' '
	lda alice sender@example.org alice@example.org <msg &&
	grep "^ok 2.0.0 delivered to command: $DOVECOT_LDA " out &&
	dovecot_fetch_raw alice >got &&
	{
		echo "Return-Path: <sender@example.org>" &&
		echo "X-Original-To: alice@example.org" &&
		echo "Delivered-To: alice@example.org" &&
		cat msg
	} >expect &&
	test_cmp expect got
'

test_expect_success DOVECOT_UP 'dovecot-lda: an unknown user bounces with 5.1.1 (EX_NOUSER)' '
	test_must_fail lda carol sender@example.org carol@example.org <msg &&
	echo "bounce 5.1.1 user unknown" >expect &&
	test_cmp expect out &&
	test "$(dovecot_count alice)" = 1
'

test_expect_success DOVECOT_UP 'dovecot-lda: 8-bit content and the null sender' '
	printf "Subject: caf\303\251\n\nna\303\257ve\n" >msg8 &&
	lda bob "" bob@example.org <msg8 &&
	dovecot_fetch_raw bob >got &&
	{
		echo "Return-Path: <>" &&
		echo "X-Original-To: bob@example.org" &&
		echo "Delivered-To: bob@example.org" &&
		cat msg8
	} >expect &&
	test_cmp expect got
'

dovecot_stop
test_done
