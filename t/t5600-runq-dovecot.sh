#!/bin/sh
test_description='runq into a real Dovecot: mailbox_transport = lmtp:unix:..., mailbox_command = dovecot-lda'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-dovecot.sh"

dovecot_require
me=$(id -un)
# Dovecot knows the local user runq delivers to.
DOVECOT_USERS="$me"
# As an admin does for Postfix's LMTP: user@domain names the user.
DOVECOT_EXTRA="auth_username_format = %Ln"

# At the top level: its EXIT trap must belong to the script.
dovecot_start >start.out 2>&1 || { cat start.out; skip_all 'Dovecot did not start'; }

test_expect_success 'mailbox_transport = lmtp:unix:PATH: runq speaks LMTP to Dovecot' '
	test_config mailbox_transport "lmtp:unix:$DOVECOT_LMTP" &&
	test_when_finished "test_unconfig mailbox_transport" &&
	printf "Subject: over lmtp\n\nbody line\n" | sendmail -odi "$me" &&
	test "$(queue_count)" = 0 &&
	test_grep "relay=local.*status=sent \(250 2.0.0" maillog &&
	dovecot_fetch "$me" >got &&
	test_grep "^Subject: over lmtp\$" got &&
	test_grep "^body line\$" got
'

test_expect_success 'mailbox_command = dovecot-lda -f "$SENDER" -a "$RECIPIENT"' '
	test_config mailbox_command "$DOVECOT_LDA -c $DOVECOT_CONF -d \"\$USER\" -f \"\$SENDER\" -a \"\$RECIPIENT\"" &&
	test_when_finished "test_unconfig mailbox_command" &&
	printf "Subject: over lda\n\nlda body\n" | sendmail -odi "$me" &&
	test "$(queue_count)" = 0 &&
	test "$(dovecot_count "$me")" = 2 &&
	dovecot_fetch "$me" subject "over lda" >got &&
	test_grep "^lda body\$" got
'

test_expect_success 'Dovecot stopped: the LMTP delivery defers, nothing is lost' '
	test_config mailbox_transport "lmtp:unix:$DOVECOT_LMTP" &&
	test_when_finished "test_unconfig mailbox_transport" &&
	dovecot_stop &&
	echo x | sendmail -odi "$me" &&
	test "$(queue_count)" = 1 &&
	test_grep "status=deferred" maillog
'

dovecot_stop
test_done
