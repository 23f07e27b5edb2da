# lib-launch.sh - a launcher (inetd, xinetd, systemd-socket-activate)
# started by a test on free loopback ports (t6200, t6300); after
# test-lib.sh and lib-smtppeer.sh (smtp_free_port).  The launcher must
# exec itself under "timeout $LAUNCH_MAX_SECONDS".

# listening PORT - something listens on PORT (IPv4 or IPv6)
listening() {
	_hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	grep -q "^ *[0-9]*: [0-9A-F]*:$_hex [0-9A-F]*:[0-9A-F]* 0A "
}

# launch NAME COUNT START - run "START PORT..." (COUNT free ports) in
# the background: START must exec the launcher, under
# "timeout $LAUNCH_MAX_SECONDS".  Waits until all ports listen (10 s at
# most; a port taken meanwhile means another try, five at most), then
# sets NAME_PID and NAME_PORT1...  The launcher is stopped by PID when
# the calling test ends.  Its output: NAME.out, NAME.err.
launch() {
	_name=$1 _count=$2 _start=$3
	_try=0
	while [ $_try -lt 5 ]; do
		_try=$((_try + 1))
		_ports=
		_n=0
		while [ $_n -lt "$_count" ]; do
			_ports="$_ports $(smtp_free_port)" || return 1
			_n=$((_n + 1))
		done
		# shellcheck disable=SC2086
		"$_start" $_ports </dev/null >"$_name.out" 2>"$_name.err" &
		_pid=$!
		_i=0
		while test_pid_alive "$_pid" && [ $_i -lt 100 ]; do
			_up=1
			for _p in $_ports; do
				listening "$_p" || _up=
			done
			if [ -n "$_up" ]; then
				test_atexit "test_pid_stop $_pid launcher"
				eval "${_name}_PID=\$_pid"
				_n=0
				for _p in $_ports; do
					_n=$((_n + 1))
					eval "${_name}_PORT$_n=\$_p"
				done
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		test_pid_stop "$_pid" launcher
	done
	echo >&2 "$_name did not start; its stderr:"
	cat >&2 "$_name.err"
	return 1
}

