#!/bin/sh
test_description='common/dns: MX routing against a private dnsmasq'
. "$(dirname "$0")/test-lib.sh"

. "$T_DIR/lib-dnsmasq.sh"

DNS_PORT=$((5300 + $$ % 1000))
DNS_DEAD_PORT=$((DNS_PORT + 1000))	# nothing listens there

# The zone, as dnsmasq options (TEST-NET addresses: never ours).  dnsmasq
# answers for all of .test itself (NXDOMAIN, no data) but fail.test,
# forwarded to a port where nothing listens.
cat >dnsmasq.args <<EOF
--mx-host=two.test,mx1.two.test,10
--mx-host=two.test,mx2.two.test,20
--host-record=mx1.two.test,192.0.2.1
--host-record=mx2.two.test,192.0.2.2,2001:db8::2
--mx-host=eq.test,a.eq.test,10
--mx-host=eq.test,b.eq.test,10
--mx-host=eq.test,c.eq.test,10
--host-record=a.eq.test,192.0.2.11
--host-record=b.eq.test,192.0.2.12
--host-record=c.eq.test,192.0.2.13
--host-record=implicit.test,192.0.2.7
--dns-rr=null.test,15,000000
--mx-host=loop.test,mail.example.test,10
--mx-host=self.test,backup.self.test,5
--mx-host=self.test,lo.self.test,10
--mx-host=self.test,mx2.two.test,20
--host-record=backup.self.test,192.0.2.5
--host-record=lo.self.test,127.0.0.1
--host-record=me.test,127.0.0.1
--mx-host=ghost.test,nowhere.nx.test,10
--local=/test/
--server=/fail.test/127.0.0.1#$DNS_DEAD_PORT
EOF

# dns ARGS - correo-test dns against our dnsmasq
dns() {
	correo-test dns -s "127.0.0.1:$DNS_PORT" "$@"
}

dns_start mx1.two.test >start.err 2>&1
started=$?

test_expect_success 'a private dnsmasq starts' '
	cat start.err &&
	test $started = 0
'

test_expect_success 'address literals need no DNS' '
	correo-test dns mx "[192.0.2.9]" >out &&
	correo-test dns mx "[IPv6:2001:db8::9]" >>out &&
	correo-test dns -p ipv4 mx "[IPv6:2001:db8::9]" >>out &&
	correo-test dns mx "[192.0.2.300]" >>out &&
	cat >expect <<-\EOF &&
	DNS_OK
	0 [192.0.2.9] 192.0.2.9
	DNS_OK
	0 [IPv6:2001:db8::9] 2001:db8::9
	DNS_NOTFOUND IPv6 is disabled by inet_protocols
	DNS_NOTFOUND bad IPv4 address literal
	EOF
	test_cmp expect out
'

test_expect_success 'MX records in preference order, A and AAAA' '
	dns mx two.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	10 mx1.two.test 192.0.2.1
	20 mx2.two.test 192.0.2.2
	20 mx2.two.test 2001:db8::2
	EOF
	test_cmp expect out
'

test_expect_success 'inet_protocols selects the address families' '
	dns -p ipv6 mx two.test >out &&
	dns -p ipv4 mx two.test >>out &&
	cat >expect <<-\EOF &&
	DNS_OK
	20 mx2.two.test 2001:db8::2
	DNS_OK
	10 mx1.two.test 192.0.2.1
	20 mx2.two.test 192.0.2.2
	EOF
	test_cmp expect out
'

test_expect_success 'the address limit cuts the list' '
	dns -n 2 mx two.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	10 mx1.two.test 192.0.2.1
	20 mx2.two.test 192.0.2.2
	EOF
	test_cmp expect out
'

test_expect_success 'equal preferences: all of them, in random order' '
	dns mx eq.test >out &&
	sort out >sorted &&
	cat >expect <<-\EOF &&
	10 a.eq.test 192.0.2.11
	10 b.eq.test 192.0.2.12
	10 c.eq.test 192.0.2.13
	DNS_OK
	EOF
	test_cmp expect sorted &&
	: >firsts &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		dns mx eq.test | sed -n 2p >>firsts || return 1
	done &&
	test "$(sort -u firsts | wc -l)" -gt 1
'

test_expect_success 'no MX: the implicit MX is the domain itself' '
	dns mx implicit.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	0 implicit.test 192.0.2.7
	EOF
	test_cmp expect out
'

test_expect_success 'null MX (RFC 7505)' '
	dns mx null.test >out &&
	echo "DNS_NULLMX Domain null.test does not accept mail (nullMX)" \
	    >expect &&
	test_cmp expect out
'

test_expect_success 'NXDOMAIN is not found' '
	dns mx nx.test >out &&
	test_grep "^DNS_NOTFOUND .*name=nx.test type=MX: Host not found$" out &&
	dns host nowhere.nx.test >out &&
	test_grep "^DNS_NOTFOUND " out
'

test_expect_success 'an MX host without an address is not found' '
	dns mx ghost.test >out &&
	test_grep "^DNS_NOTFOUND .*nowhere.nx.test" out
'

test_expect_success 'a failing server is a temporary failure' '
	dns mx fail.test >out &&
	test_grep "^DNS_TEMPFAIL .*name=fail.test type=MX" out
'

test_expect_success 'an MX pointing at myhostname loops' '
	dns -m mail.example.test mx loop.test >out &&
	echo "DNS_LOOP mail for loop.test loops back to myself" >expect &&
	test_cmp expect out &&
	dns -m MX2.two.test. mx two.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	10 mx1.two.test 192.0.2.1
	EOF
	test_cmp expect out &&
	dns -m mx1.two.test mx two.test >out &&
	echo "DNS_LOOP mail for two.test loops back to myself" >expect &&
	test_cmp expect out
'

test_expect_success 'an MX at a local address drops it and those after' '
	dns -m mail.example.test mx self.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	5 backup.self.test 192.0.2.5
	EOF
	test_cmp expect out &&
	dns -m mail.example.test mx me.test >out &&
	echo "DNS_LOOP mail for me.test loops back to myself" >expect &&
	test_cmp expect out &&
	dns mx me.test >out &&
	test_grep "^0 me.test 127.0.0.1$" out
'

test_expect_success 'dns_host: addresses without MX' '
	dns host two.test >out &&
	test_grep "^DNS_NOTFOUND " out &&
	dns host mx2.two.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	0 mx2.two.test 192.0.2.2
	0 mx2.two.test 2001:db8::2
	EOF
	test_cmp expect out &&
	dns host "[192.0.2.4]" >out &&
	test_grep "^0 \[192.0.2.4\] 192.0.2.4$" out
'

test_expect_success 'dns_ptr: the reverse name of an address' '
	dns ptr 192.0.2.1 >out &&
	dns ptr 2001:db8::2 >>out &&
	dns ptr 192.0.2.99 >>out &&
	cat >expect <<-\EOF &&
	DNS_OK mx1.two.test
	DNS_OK mx2.two.test
	EOF
	sed -n 1,2p out >first &&
	test_cmp expect first &&
	test_grep "^DNS_(NOTFOUND|TEMPFAIL) .*type=PTR" out
'

test_expect_success 'malformed names are refused without a query' '
	dns mx "bad domain" >out &&
	test_grep "^DNS_NOTFOUND malformed domain name" out &&
	dns host "a;b" >out &&
	test_grep "^DNS_NOTFOUND malformed host name" out
'

dns_stop

# The plain res_ninit path: no dns_set_server, the servers come from
# /etc/resolv.conf, which "ip netns exec" replaces with
# /etc/netns/NAME/resolv.conf; dnsmasq listens on port 53 inside.
NS=correo-t7000-$$
test_lazy_prereq NETNS 'ip netns add "$NS-probe" && ip netns del "$NS-probe"'

test_expect_success ROOT,NETNS 'res_ninit reads resolv.conf (netns)' '
	test_when_finished "
		[ -z \"\$ns_pid\" ] || kill \"\$ns_pid\"
		[ -z \"\$ns_pid\" ] || wait \"\$ns_pid\"
		ip netns del $NS
		rm -rf /etc/netns/$NS" &&
	ns_pid= &&
	ip netns add $NS &&
	ip netns exec $NS ip link set lo up &&
	mkdir -p /etc/netns/$NS &&
	echo "nameserver 127.0.0.1" >/etc/netns/$NS/resolv.conf &&
	{ ip netns exec $NS "$DNSMASQ" --no-resolv --no-hosts \
	    --keep-in-foreground --pid-file="$TRASH/ns-dnsmasq.pid" \
	    --port=53 --listen-address=127.0.0.1 --bind-interfaces \
	    --user=root --log-facility="$TRASH/ns-dnsmasq.log" \
	    $(cat dnsmasq.args) & } &&
	ns_pid=$! &&
	i=0 &&
	until ip netns exec $NS correo-test dns host mx1.two.test >out &&
	    test_grep "^DNS_OK" out
	do
		i=$((i + 1)) && test $i -lt 50 && sleep 0.2 || return 1
	done &&
	ip netns exec $NS correo-test dns mx two.test >out &&
	cat >expect <<-\EOF &&
	DNS_OK
	10 mx1.two.test 192.0.2.1
	20 mx2.two.test 192.0.2.2
	20 mx2.two.test 2001:db8::2
	EOF
	test_cmp expect out
'

test_done
