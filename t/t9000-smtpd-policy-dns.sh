#!/bin/sh
test_description='smtpd-lite policy: client names and DNSBLs against a private dnsmasq'
. "$(dirname "$0")/test-lib.sh"

. "$T_DIR/lib-dnsmasq.sh"

DNS_PORT=$((7300 + $$ % 1000))	# t7000 uses 5300-7299
DNS_DEAD_PORT=$((DNS_PORT + 1000))	# nothing listens there

# The zones, as dnsmasq options (TEST-NET addresses: never ours).
#   192.0.2.10, 2001:db8::10  good.test, both ways
#   192.0.2.11   PTR forged.test, which has no address
#   192.0.2.12   PTR other.test, whose address is 192.0.2.99
#   192.0.2.13   no PTR (NXDOMAIN)
#   192.0.2.14   PTR "192.0.2.14", a name that is an address
#   192.0.2.15   PTR host.fail.test, whose lookup fails
#   198.51.100.* the reverse zone fails
# bl.test is a DNSBL: 192.0.2.20 (127.0.0.2), 192.0.2.21 (127.0.0.4),
# 192.0.2.22 (192.0.2.200: not a listing), 2001:db8::20 (127.0.0.2).
NIBBLES=0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2
cat >dnsmasq.args <<EOF
--host-record=good.test,192.0.2.10,2001:db8::10
--ptr-record=11.2.0.192.in-addr.arpa,forged.test
--ptr-record=12.2.0.192.in-addr.arpa,other.test
--host-record=other.test,192.0.2.99
--ptr-record=14.2.0.192.in-addr.arpa,192.0.2.14
--ptr-record=15.2.0.192.in-addr.arpa,host.fail.test
--host-record=20.2.0.192.bl.test,127.0.0.2
--host-record=21.2.0.192.bl.test,127.0.0.4
--host-record=22.2.0.192.bl.test,192.0.2.200
--host-record=$NIBBLES.bl.test,127.0.0.2
--local=/test/
--local=/2.0.192.in-addr.arpa/
--local=/8.b.d.0.1.0.0.2.ip6.arpa/
--server=/fail.test/127.0.0.1#$DNS_DEAD_PORT
--server=/100.51.198.in-addr.arpa/127.0.0.1#$DNS_DEAD_PORT
EOF

# policy ARGS - correo-test policy against our dnsmasq
policy() {
	correo-test policy -s "127.0.0.1:$DNS_PORT" "$@"
}

dns_start good.test >start.err 2>&1
started=$?

test_expect_success 'a private dnsmasq starts' '
	cat start.err &&
	test $started = 0
'

test_expect_success 'client names: forward-confirmed reverse DNS' '
	for a in 192.0.2.10 2001:db8::10 ::ffff:192.0.2.10 192.0.2.11 \
	    192.0.2.12 192.0.2.13 192.0.2.14 192.0.2.15 198.51.100.1 unknown
	do
		printf "%s " "$a" && policy name "$a" || return 1
	done >out &&
	cat >expect <<-\EOF &&
	192.0.2.10 OK good.test OK good.test
	2001:db8::10 OK good.test OK good.test
	::ffff:192.0.2.10 OK good.test OK good.test
	192.0.2.11 FORGED unknown OK forged.test
	192.0.2.12 FORGED unknown OK other.test
	192.0.2.13 PERM unknown PERM unknown
	192.0.2.14 PERM unknown PERM unknown
	192.0.2.15 TEMP unknown OK host.fail.test
	198.51.100.1 TEMP unknown TEMP unknown
	unknown PERM unknown PERM unknown
	EOF
	test_cmp expect out
'

test_expect_success 'reject_unknown_client_hostname: 450 4.7.25' '
	o="smtpd_relay_restrictions=reject_unknown_client_hostname,reject_unauth_destination" &&
	for a in 192.0.2.10 2001:db8::10 192.0.2.11 192.0.2.12 192.0.2.13 \
	    192.0.2.15 198.51.100.1
	do
		policy -o "$o" rcpt "$a" user@host.example.org || return 1
	done >out &&
	cat >expect <<-\EOF &&
	0
	0
	450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.11]
	450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.12]
	450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.13]
	450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.15]
	450 4.7.25 Client host rejected: cannot find your hostname, [198.51.100.1]
	EOF
	test_cmp expect out
'

test_expect_success 'reject_unknown_reverse_client_hostname: a PTR is enough' '
	o="smtpd_relay_restrictions=reject_unknown_reverse_client_hostname,reject_unauth_destination" &&
	for a in 192.0.2.10 192.0.2.11 192.0.2.13 198.51.100.1
	do
		policy -o "$o" rcpt "$a" user@host.example.org || return 1
	done >out &&
	cat >expect <<-\EOF &&
	0
	0
	450 4.7.25 Client host rejected: cannot find your reverse hostname, [192.0.2.13]
	450 4.7.25 Client host rejected: cannot find your reverse hostname, [198.51.100.1]
	EOF
	test_cmp expect out
'

test_expect_success 'permit_mynetworks comes first: no lookup for trusted clients' '
	o="smtpd_relay_restrictions=permit_mynetworks,reject_unknown_client_hostname,reject_unauth_destination" &&
	policy -o "$o" -o mynetworks=198.51.100.0/24 \
	    rcpt 198.51.100.1 user@remote.example >out &&
	echo 0 >expect &&
	test_cmp expect out
'

test_expect_success 'reject_rbl_client: listed, not listed, IPv6 nibbles' '
	o="smtpd_relay_restrictions=permit_mynetworks,reject_rbl_client,bl.test,reject_unauth_destination" &&
	for a in 192.0.2.20 192.0.2.21 192.0.2.22 192.0.2.23 2001:db8::20 \
	    2001:db8::21 ::ffff:192.0.2.20 127.0.0.1 unknown
	do
		policy -o "$o" -o mynetworks=127.0.0.0/8 \
		    rcpt "$a" user@host.example.org || return 1
	done >out &&
	cat >expect <<-\EOF &&
	554 5.7.1 Service unavailable; Client host [192.0.2.20] blocked using bl.test
	554 5.7.1 Service unavailable; Client host [192.0.2.21] blocked using bl.test
	0
	0
	554 5.7.1 Service unavailable; Client host [2001:db8::20] blocked using bl.test
	0
	554 5.7.1 Service unavailable; Client host [::ffff:192.0.2.20] blocked using bl.test
	0
	0
	EOF
	test_cmp expect out
'

test_expect_success 'reject_rbl_client domain=pattern filters the answer' '
	for f in 127.0.0.2 127.0.0.4 "127.0.0.[2..5]" "127.0.0.[1;4;9]" \
	    "127.0.[0..1].[3;5..9]" 192.0.2.200
	do
		o="smtpd_relay_restrictions=reject_rbl_client bl.test=$f, reject_unauth_destination" &&
		printf "%s " "$f" &&
		policy -o "$o" rcpt 192.0.2.21 user@host.example.org &&
		printf "%s " "$f" &&
		policy -o "$o" rcpt 192.0.2.22 user@host.example.org ||
		return 1
	done >out &&
	cat >expect <<-\EOF &&
	127.0.0.2 0
	127.0.0.2 0
	127.0.0.4 554 5.7.1 Service unavailable; Client host [192.0.2.21] blocked using bl.test
	127.0.0.4 0
	127.0.0.[2..5] 554 5.7.1 Service unavailable; Client host [192.0.2.21] blocked using bl.test
	127.0.0.[2..5] 0
	127.0.0.[1;4;9] 554 5.7.1 Service unavailable; Client host [192.0.2.21] blocked using bl.test
	127.0.0.[1;4;9] 0
	127.0.[0..1].[3;5..9] 0
	127.0.[0..1].[3;5..9] 0
	192.0.2.200 0
	192.0.2.200 554 5.7.1 Service unavailable; Client host [192.0.2.22] blocked using bl.test
	EOF
	test_cmp expect out
'

test_expect_success 'a DNSBL that fails defers what would be accepted' '
	o="smtpd_relay_restrictions=reject_rbl_client bl.fail.test, reject_unauth_destination" &&
	policy -o "$o" rcpt 192.0.2.20 user@host.example.org >out &&
	policy -o "$o" rcpt 192.0.2.20 user@remote.example >>out &&
	cat >expect <<-\EOF &&
	450 4.7.1 Client host rejected: cannot check [192.0.2.20] in bl.fail.test (DNS lookup error)
	554 5.7.1 <user@remote.example>: Relay access denied
	EOF
	test_cmp expect out
'

test_expect_success 'the first DNSBL that lists the client decides' '
	o="smtpd_relay_restrictions=reject_rbl_client nx.bl.test, reject_rbl_client bl.test, reject_unauth_destination" &&
	policy -o "$o" rcpt 192.0.2.20 user@host.example.org >out &&
	echo "554 5.7.1 Service unavailable; Client host [192.0.2.20] blocked using bl.test" >expect &&
	test_cmp expect out
'

dns_stop

test_expect_success 'no DNS server at all: 450, never a pass' '
	o="smtpd_relay_restrictions=reject_unknown_client_hostname,reject_unauth_destination" &&
	correo-test policy -s "127.0.0.1:$DNS_DEAD_PORT" -o "$o" \
	    rcpt 192.0.2.10 user@host.example.org >out &&
	echo "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.10]" >expect &&
	test_cmp expect out
'

test_done
