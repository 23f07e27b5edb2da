# lib-scenario.sh - small machines for the end-to-end scenario (root):
# each one a network namespace on a private LAN, plus mount, UTS and PID
# namespaces of its own
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$T_DIR/lib-scenario.sh"
#	scen_require			# skip_all without root or a tool
#	scen_lan			# the LAN and its DNS machine
#	machine_start h1 mail.mail1.org 10.250.1.1
#	on h1 hostname			# a command in h1, as root
#	as h1 alice id			# ... as the user alice of h1
#	machine_dir h1			# its directory in the trash
#
# The LAN is $SCEN_NET.0/24 ($SCEN_NET is 10.250.1), a bridge in the
# network namespace of the machine "dns" ($SCEN_DNS, .53), which runs
# whatever DNS server the script starts there.  Every other machine is
# a network namespace of its own with one interface, eth0, whose peer
# is a port of that bridge: the addresses exist in these namespaces
# only, never on the host's interfaces.  Namespaces are named
# ct9500-PID-MACHINE; each is removed when the script ends.
#
# A machine's processes run in a PID namespace whose first process
# (its "init", a shell that sleeps and reaps) is started by
# machine_start and killed (SIGKILL, by its PID) when the script ends,
# which ends every process the machine still has; it also ends by
# itself after $SCEN_MAX_SECONDS (600) in any case.  Its mount
# namespace has the host's file system with these differences:
#	/etc		an overlay: the host's /etc, read-only, under a
#			writable layer of the machine's own (a tmpfs), so
#			useradd, /etc/aliases, /etc/resolv.conf (the
#			machine "dns") and /etc/hosts are the machine's own
#	/run		a tmpfs
#	/home, /var/log	directories of the trash ($TRASH/m/NAME/home, log)
# and a script may mount more there with "on NAME mount ..." (t9500
# mounts its correo install trees).  Its hostname (UTS namespace) is
# the name given.  Nothing outside the
# trash directory and the namespaces is written.
#
# on NAME CMD... runs CMD in all of NAME's namespaces (nsenter), as
# root, with a clean environment (PATH, HOME=/root, LANG=C, TZ=UTC),
# in /; as NAME USER CMD... the same as USER (setpriv with the user's
# groups and environment, looked up in the machine's /etc).  Standard
# input and output are the caller's: "on h1 cat /etc/hosts >hosts"
# writes hosts in the current directory.

SCEN_NET=10.250.1
SCEN_DNS=$SCEN_NET.53
SCEN_NS=ct9500-$$
: "${SCEN_MAX_SECONDS:=600}"
SCEN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# scen_require - skip the whole script unless root with everything the
# scenario needs
scen_require() {
	if ! test_have_prereq ROOT; then
		skip_all 'needs root: network, mount and PID namespaces, users, port 25'
	fi
	if [ -n "$CORREO_ASAN" ]; then
		skip_all 'set-group-ID programs and identity switches are not run under ASan'
	fi
	for _c in ip:iproute2 unshare:util-linux nsenter:util-linux \
	    setpriv:util-linux useradd:passwd chpasswd:passwd \
	    openssl:openssl dovecot:dovecot-core \
	    systemd-socket-activate:systemd msmtp:msmtp swaks:swaks \
	    dnsmasq:dnsmasq-base; do
		PATH=$PATH:$SCEN_PATH command -v "${_c%%:*}" >/dev/null 2>&1 ||
			skip_all "no ${_c%%:*} (Debian: ${_c#*:})"
	done
	for _d in /home /var/log /var/mail /var/spool /run; do
		[ -d "$_d" ] || skip_all "no $_d on this host"
	done
	ip netns add "$SCEN_NS-probe" 2>/dev/null ||
		skip_all 'cannot make a network namespace'
	ip netns del "$SCEN_NS-probe"
}

# scen_find_init PID - the first process of a new PID namespace among
# PID and its descendants (the one that is 1 in its namespace)
scen_find_init() {
	_todo=$1
	while [ -n "$_todo" ]; do
		_next=
		for _p in $_todo; do
			if grep -q "^NSpid:[[:space:]]*${_p}[[:space:]][[:space:]]*1\$" \
			    "/proc/$_p/status" 2>/dev/null; then
				echo "$_p"
				return 0
			fi
			_next="$_next $(cat /proc/"$_p"/task/*/children 2>/dev/null)"
		done
		_todo=$_next
	done
	return 1
}

# scen_lan - the LAN: the machine "dns" at $SCEN_DNS, whose network
# namespace holds the bridge "lan"
scen_lan() {
	ip netns add "$SCEN_NS-dns" || return 1
	test_atexit "ip netns del $SCEN_NS-dns 2>/dev/null"
	ip -n "$SCEN_NS-dns" link set lo up &&
	ip -n "$SCEN_NS-dns" link add lan type bridge &&
	ip -n "$SCEN_NS-dns" addr add "$SCEN_DNS/24" dev lan &&
	ip -n "$SCEN_NS-dns" link set lan up &&
	machine_start dns ns.lan.test "$SCEN_DNS"
}

# machine_start NAME FQDN ADDRESS - a machine on the LAN (see above);
# sets SCEN_INIT_NAME, the PID of its init, and SCEN_DIR_NAME
machine_start() {
	_name=$1 _fqdn=$2 _addr=$3
	_ns=$SCEN_NS-$_name
	_d=$TRASH/m/$_name
	mkdir -p "$_d/ovl" "$_d/home" "$_d/log" || return 1
	if [ "$_name" != dns ]; then
		ip netns add "$_ns" || return 1
		test_atexit "ip netns del $_ns 2>/dev/null"
		ip -n "$SCEN_NS-dns" link add "$_name" type veth \
		    peer name eth0 netns "$_ns" &&
		ip -n "$SCEN_NS-dns" link set "$_name" master lan &&
		ip -n "$SCEN_NS-dns" link set "$_name" up &&
		ip -n "$_ns" link set lo up &&
		ip -n "$_ns" addr add "$_addr/24" dev eth0 &&
		ip -n "$_ns" link set eth0 up || return 1
	fi
	# The init: the machine's own /etc, /run, /home and /var/log, its
	# name, then sleep (reaping orphans) until killed or out of time.
	ip netns exec "$_ns" unshare -m -u -p -f --propagation private \
	    --mount-proc sh -c '
		set -e
		d=$1 fqdn=$2 addr=$3 dns=$4 max=$5
		mount -t tmpfs -o mode=0755 scenario "$d/ovl"
		mkdir "$d/ovl/etc" "$d/ovl/work"
		mount -t overlay scenario -o "lowerdir=/etc,upperdir=$d/ovl/etc,workdir=$d/ovl/work" /etc
		rm -f /etc/resolv.conf /etc/hosts /etc/hostname /etc/mailname
		printf "nameserver %s\noptions timeout:1 attempts:2\n" "$dns" >/etc/resolv.conf
		printf "127.0.0.1\tlocalhost\n%s\t%s %s\n" "$addr" "$fqdn" "${fqdn%%.*}" >/etc/hosts
		echo "$fqdn" >/etc/hostname
		hostname "$fqdn"
		mount -t tmpfs -o mode=0755 scenario /run
		mount --bind "$d/home" /home
		mount --bind "$d/log" /var/log
		: >"$d/ready"
		set +e
		i=0
		while [ $i -lt "$max" ]; do
			sleep 1
			i=$((i + 1))
		done
	' sh "$_d" "$_fqdn" "$_addr" "$SCEN_DNS" "$SCEN_MAX_SECONDS" \
	    </dev/null >"$_d/init.log" 2>&1 3>&- &
	_outer=$!
	_i=0
	while [ ! -e "$_d/ready" ]; do
		if ! test_pid_alive "$_outer" || [ $_i -ge 100 ]; then
			echo >&2 "machine $_name did not start:"
			cat >&2 "$_d/init.log"
			kill "$_outer" 2>/dev/null
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	_init=$(scen_find_init "$_outer") || {
		echo >&2 "machine $_name: no init process found"
		return 1
	}
	test_atexit "machine_stop $_init $_outer"
	eval "SCEN_INIT_$_name=\$_init SCEN_DIR_$_name=\$_d"
}

# machine_stop INIT OUTER - SIGKILL to a machine's init, which ends
# every process of its PID namespace; wait (5 s at most) for the
# process that started it
machine_stop() {
	kill -9 "$1" 2>/dev/null
	_i=0
	while test_pid_alive "$2" && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$2" 2>/dev/null
	return 0
}

# machine_dir NAME - the machine's directory in the trash
machine_dir() {
	eval "printf '%s\n' \"\$SCEN_DIR_$1\""
}

# on NAME CMD... - CMD in the machine NAME, as root
on() {
	eval "_init=\$SCEN_INIT_$1"
	shift
	nsenter -t "$_init" -m -u -n -p --wd=/ -- env -i PATH="$SCEN_PATH" \
	    HOME=/root LOGNAME=root USER=root LANG=C TZ=UTC "$@"
}

# as NAME USER CMD... - CMD in the machine NAME, as USER of that machine
as() {
	_m=$1 _u=$2
	shift 2
	on "$_m" setpriv --reuid="$_u" --regid="$_u" --init-groups \
	    --reset-env -- "$@"
}

# on_listening NAME PORT - something in NAME listens on TCP port PORT
on_listening() {
	on "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	grep -q "^ *[0-9]*: [0-9A-F]*:$(printf %04X "$2") [0-9A-F]*:[0-9A-F]* 0A "
}

# wait_for WHAT CMD... - CMD succeeds within 10 s (tried every 0.1 s),
# or say what did not happen and fail
wait_for() {
	_what=$1
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		if [ $_i -ge 100 ]; then
			echo >&2 "wait_for: $_what: not within 10 s"
			return 1
		fi
		sleep 0.1
	done
}
