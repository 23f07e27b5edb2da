#!/bin/sh
test_description='runq routes by MX through a real resolver: dnsmasq in a network namespace of its own (root)'

# The whole script runs inside a network namespace made here, whose
# /etc/resolv.conf (ip netns exec mounts /etc/netns/NAME/resolv.conf)
# names a dnsmasq on the namespace's own 127.0.0.1: runq resolves with
# the system resolver, as on a real host, and the MX hosts are
# loopback addresses of the namespace.
if [ -z "$CT_NETNS" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
		echo "1..0 # SKIP needs root and ip(8) for a network namespace"
		exit 0
	fi
	ns=ct7210-$$
	ip netns add "$ns" 2>/dev/null || {
		echo "1..0 # SKIP cannot make a network namespace"
		exit 0
	}
	mkdir -p "/etc/netns/$ns"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
	    >"/etc/netns/$ns/resolv.conf"
	CT_NETNS=$ns ip netns exec "$ns" sh "$0" "$@"
	rc=$?
	ip netns del "$ns"
	rm -rf "/etc/netns/$ns"
	exit $rc
fi

. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-smtppeer.sh"
smtp_peer_require

DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || skip_all 'no dnsmasq (Debian: dnsmasq-base)'
ip link set lo up || skip_all 'cannot bring up lo in the namespace'

# The zone.  mx1.two.test is down (nothing on 127.0.0.2:25); mx2 takes
# the mail.  four.test's preferred host answers 450 to every RCPT.
"$DNSMASQ" --no-resolv --no-hosts --keep-in-foreground --port=53 \
    --listen-address=127.0.0.1 --bind-interfaces --user=root \
    --pid-file="$TRASH/dnsmasq.pid" --log-facility="$TRASH/dnsmasq.log" \
    --mx-host=two.test,mx1.two.test,10 \
    --mx-host=two.test,mx2.two.test,20 \
    --host-record=mx1.two.test,127.0.0.2 \
    --host-record=mx2.two.test,127.0.0.3 \
    --mx-host=four.test,busy.four.test,10 \
    --mx-host=four.test,mx2.two.test,20 \
    --host-record=busy.four.test,127.0.0.5 \
    --host-record=implicit.test,127.0.0.4 \
    --dns-rr=null.test,15,000000 \
    --mx-host=loop.test,host.example.org,10 \
    --mx-host=three.test,a.three.test,10 \
    --mx-host=three.test,b.three.test,20 \
    --mx-host=three.test,c.three.test,30 \
    --host-record=a.three.test,127.0.0.6 \
    --host-record=b.three.test,127.0.0.7 \
    --host-record=c.three.test,127.0.0.8 \
    --local=/test/ \
    --server=/fail.test/127.0.0.1#5399 &
dns_pid=$!
test_atexit "kill $dns_pid 2>/dev/null"
i=0
while [ $i -lt 50 ] &&
    ! correo-test dns -s 127.0.0.1:53 host mx2.two.test 2>/dev/null |
    grep -q DNS_OK; do
	sleep 0.2
	i=$((i + 1))
done

test_config relayhost ""
test_config smtp_connect_timeout 2s

# send ADDR - a message, queued only
send() {
	echo "to $1" | sendmail -odq -f sender@host.example.org "$1"
}

test_expect_success 'the preferred MX is down: the next one takes the mail' '
	start_smtp_peer MX2 --listen 127.0.0.3:25 &&
	: >maillog &&
	send bob@two.test &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count MX2)" = 1 &&
	test_grep "connect to mx1.two.test\[127.0.0.2\]:25: Connection refused" maillog &&
	test_grep "to=<bob@two.test>, relay=mx2.two.test\[127.0.0.3\]:25, .*status=sent" maillog
'

test_expect_success 'a 4xx from the preferred MX moves the recipient to the next' '
	start_smtp_peer MX2 --listen 127.0.0.3:25 &&
	start_smtp_peer BUSY --listen 127.0.0.5:25 --reply "rcpt=450:4.2.0 try elsewhere" &&
	: >maillog &&
	send carol@four.test &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count BUSY)" = 0 &&
	test "$(smtp_peer_count MX2)" = 1 &&
	test_grep "to=<carol@four.test>, relay=mx2.two.test\[127.0.0.3\]:25, .*status=sent" maillog
'

test_expect_success 'no MX: the implicit MX (the domain address) is used' '
	start_smtp_peer IMP --listen 127.0.0.4:25 &&
	send dave@implicit.test &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count IMP)" = 1
'

test_expect_success 'null MX bounces 5.1.10, a missing domain 5.1.2, a loop 5.4.6' '
	: >maillog &&
	send a@null.test &&
	send b@nosuch.test &&
	send c@loop.test &&
	runq &&
	test_grep "to=<a@null.test>, relay=none, .*dsn=5.1.10, status=bounced" maillog &&
	test_grep "to=<b@nosuch.test>, relay=none, .*dsn=5.1.2, status=bounced" maillog &&
	test_grep "to=<c@loop.test>, relay=none, .*dsn=5.4.6, status=bounced" maillog
'

test_expect_success 'a DNS server failure defers 4.4.3' '
	mailq -d ALL >/dev/null 2>&1
	: >maillog &&
	send e@fail.test &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<e@fail.test>, relay=none, .*dsn=4.4.3, status=deferred" maillog
'

test_expect_success 'every MX down: deferred with the last connection error, mailq shows it' '
	mailq -d ALL >/dev/null 2>&1
	stop_smtp_peer MX2
	: >maillog &&
	send f@two.test &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<f@two.test>, relay=none, .*dsn=4.4.1, status=deferred \(connect to mx2.two.test\[127.0.0.3\]:25: Connection refused\)" maillog &&
	mailq >q &&
	test_grep "connect to mx2.two.test" q
'

test_expect_success 'inet_protocols: with ipv6 only, an IPv4-only host is not used' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer IMP --listen 127.0.0.4:25 &&
	test_config inet_protocols ipv6 &&
	test_when_finished "test_config inet_protocols all" &&
	: >maillog &&
	send i@implicit.test &&
	runq &&
	test "$(smtp_peer_count IMP)" = 0 &&
	! grep "^# connect" "$IMP_LOG" &&
	test_grep "to=<i@implicit.test>, relay=none, .*status=bounced" maillog
'

test_expect_success 'smtp_mx_session_limit: sessions that defer count, the third MX waits' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer TA --listen 127.0.0.6:25 --reply "rcpt=450:4.2.0 busy" &&
	start_smtp_peer TB --listen 127.0.0.7:25 --reply "rcpt=450:4.2.0 busy" &&
	start_smtp_peer TC --listen 127.0.0.8:25 &&
	test_config smtp_mx_session_limit 2 &&
	test_when_finished "test_config smtp_mx_session_limit 2" &&
	: >maillog &&
	send j@three.test &&
	runq &&
	test "$(queue_count)" = 1 &&
	test_grep "to=<j@three.test>, relay=b.three.test\[127.0.0.7\]:25, .*dsn=4.2.0, status=deferred" maillog &&
	! grep "^# connect" "$TC_LOG" &&
	test_config smtp_mx_session_limit 3 &&
	runq -f &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count TC)" = 1
'

test_expect_success 'relayhost without brackets is looked up by MX' '
	mailq -d ALL >/dev/null 2>&1
	start_smtp_peer MX2 --listen 127.0.0.3:25 &&
	test_config relayhost two.test &&
	test_when_finished "test_config relayhost \"\"" &&
	send g@elsewhere.example &&
	runq &&
	test "$(queue_count)" = 0 &&
	test "$(smtp_peer_count MX2)" = 1
'

test_done
