#!/bin/sh
test_description='runq as root: the SMTP worker reads a root-only password map, then runs as mail_owner'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-smtppeer.sh"

test_have_prereq ROOT || skip_all 'needs root: a real mail_owner and a root-only password map'
[ -n "$CORREO_ASAN" ] && skip_all 'identity switches under ASan are not tested'
command -v useradd >/dev/null || skip_all 'needs useradd'
command -v setpriv >/dev/null || skip_all 'needs setpriv (util-linux)'
smtp_peer_require

owner=ct$$o
useradd -M -d /nonexistent -s /bin/sh "$owner" || skip_all 'useradd failed'
test_atexit "userdel $owner 2>/dev/null"
uid=$(id -u "$owner")
gid=$(id -g "$owner")

# The spool belongs to mail_owner, who also submits (a private spool:
# the caller is mail_owner); runq runs as root.
chmod 755 "$TRASH"
chmod 644 "$CORREO_CONFIG"
rm -rf spool && mkdir -m 700 spool spool/incoming spool/queue spool/hold &&
chown -R "$owner:" spool
: >maillog && chown "$owner:" maillog
test_config mail_owner "$owner"

# mail_owner must reach sendmail: a checkout under a 0700 directory
# (mktemp -d) hides the build from it, so it gets a copy then.
owner_path=$PATH
if ! setpriv --reuid "$uid" --regid "$gid" --clear-groups \
    test -x "$CORREO_BUILD/sendmail"; then
	mkdir -p "$TRASH/owner-bin" &&
	cp "$CORREO_BUILD/sendmail" "$TRASH/owner-bin/" &&
	owner_path=$TRASH/owner-bin:$PATH
fi

as_owner() {
	setpriv --reuid "$uid" --regid "$gid" --clear-groups \
	    env CORREO_CONFIG="$CORREO_CONFIG" PATH="$owner_path" "$@"
}

start_smtp_peer A --auth "alice:pw-only-root-knows" --auth-plaintext \
    --auth-required --hang dot --hang-max 4 --faulty-sessions 1 ||
	exit 1
test_config relayhost "[127.0.0.1]:$A_PORT"
test_config smtp_sasl_auth_enable yes
test_config smtp_sasl_security_options noanonymous
test_config smtp_data_done_timeout 3s
echo "[127.0.0.1]:$A_PORT alice:pw-only-root-knows" >sasl_passwd
chmod 600 sasl_passwd
test_config smtp_sasl_password_maps "texthash:$TRASH/sasl_passwd"
echo x | as_owner sendmail -odq far@remote.example

test_expect_success 'the SMTP worker runs as mail_owner, not as root' '
	runq & rpid=$!
	i=0 &&
	while [ $i -lt 50 ] && ! grep -q "^# hang" "$A_LOG" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done &&
	ps -o user=,args= --ppid $rpid >workers
	wait $rpid &&
	test_grep "^$owner .*runq" workers &&
	! grep "^root .*runq" workers
'

test_expect_success 'it read the root-only password map before; nothing shows the password' '
	test "$(stat -c %U:%a sasl_passwd)" = root:600 &&
	runq -f &&
	test "$(queue_count)" = 0 &&
	smtp_peer_message A >got &&
	test_grep "^X-Peer-Auth: alice" got &&
	! grep -r "pw-only-root-knows" maillog spool
'

test_done
