# lib-dnsmasq.sh - a private dnsmasq on 127.0.0.1 for the DNS tests
# (t7000, t9000), answering from the options in ./dnsmasq.args
#
#	. "$T_DIR/lib-dnsmasq.sh"	# after test-lib.sh; skips without dnsmasq
#	DNS_PORT=...			# where it listens
#	dns_start NAME			# up once NAME resolves (10 s at most)
#	dns_stop			# by its PID only (also at exit)
#
# RES_OPTIONS allows one resolver attempt of one second, so that a broken
# case never hangs.

DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || DNSMASQ=$(command -v dnsmasq) ||
	skip_all 'no dnsmasq (Debian: dnsmasq-base)'

RES_OPTIONS='timeout:1 attempts:1'
export RES_OPTIONS
DNS_PID=

# dns_stop - stop our dnsmasq, by its PID only
dns_stop() {
	if [ -n "$DNS_PID" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
	fi
}

# dns_start NAME - dnsmasq on 127.0.0.1:$DNS_PORT, up once NAME resolves
# (10 s at most)
dns_start() {
	# shellcheck disable=SC2046
	"$DNSMASQ" --no-resolv --no-hosts --keep-in-foreground \
	    --pid-file="$TRASH/dnsmasq.pid" --port="$DNS_PORT" \
	    --listen-address=127.0.0.1 --bind-interfaces --user="$(id -un)" \
	    --log-facility="$TRASH/dnsmasq.log" \
	    $(cat dnsmasq.args) &
	DNS_PID=$!
	trap 'dns_stop' EXIT
	trap 'dns_stop; exit 1' HUP INT TERM
	_i=0
	while [ $_i -lt 50 ]; do
		if correo-test dns -s "127.0.0.1:$DNS_PORT" host "$1" \
		    2>/dev/null | grep -q '^DNS_OK'; then
			return 0
		fi
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
