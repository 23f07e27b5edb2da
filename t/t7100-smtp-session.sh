#!/bin/sh
test_description='runq SMTP client session (smtp.c) against a small python3 SMTP server'
. "$(dirname "$0")/test-lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all 'needs python3'

# The server: one connection at a time until killed.  EHLO offers
# PIPELINING, SIZE and 8BITMIME; RCPT to unknown@* gets 550 5.1.1 and
# to busy@* 451 4.3.0; each message goes to msg.N (envelope lines, then
# the body with dot-stuffing undone); every command line to cmds.log.
cat >server.py <<'PYEOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(5)
open("port.tmp", "w").write("%d\n" % s.getsockname()[1])
import os
os.rename("port.tmp", "port")
nmsg = 0
log = open("cmds.log", "a")
while True:
    c, _ = s.accept()
    f = c.makefile("rb")
    def say(t):
        c.sendall(t.encode() + b"\r\n")
    say("220 mx.test ESMTP")
    env = []
    while True:
        line = f.readline()
        if not line:
            break
        cmd = line.decode("utf-8", "replace").rstrip("\r\n")
        log.write(cmd + "\n")
        log.flush()
        verb = cmd.split(" ")[0].upper()
        if verb == "EHLO":
            say("250-mx.test")
            say("250-PIPELINING")
            say("250-SIZE 1000000")
            say("250 8BITMIME")
        elif verb == "MAIL":
            env = [cmd]
            say("250 2.1.0 Ok")
        elif verb == "RCPT":
            if "<unknown@" in cmd:
                say("550 5.1.1 <unknown@example.org>: User unknown")
            elif "<busy@" in cmd:
                say("451 4.3.0 try later")
            else:
                env.append(cmd)
                say("250 2.1.5 Ok")
        elif verb == "DATA":
            say("354 End data with <CR><LF>.<CR><LF>")
            body = b""
            while True:
                l = f.readline()
                if not l or l == b".\r\n":
                    break
                if l.startswith(b"."):
                    l = l[1:]
                body += l
            nmsg += 1
            with open("msg.%d" % nmsg, "wb") as out:
                out.write(("\n".join(env) + "\n\n").encode())
                out.write(body)
            say("250 2.0.0 Ok: queued as Q%d" % nmsg)
        elif verb == "RSET":
            env = []
            say("250 2.0.0 Ok")
        elif verb == "QUIT":
            say("221 2.0.0 Bye")
            break
        else:
            say("502 5.5.2 Error: command not recognized")
    c.close()
PYEOF

srv_stop() {
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	:
}

# Started here, not inside a test (those run in subshells), with no
# descriptor of the harness left open in it.
python3 server.py >server.out 2>&1 </dev/null 3>&- &
SRV_PID=$!
_i=0
while ! test -s port && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
PORT=$(cat port 2>/dev/null)

test_expect_success 'the server is up' '
	test -n "$PORT"
'

printf '%s\n' 'Subject: smtp test' '' '.one dot' '..two dots' '.' 'end' >msg

# send ARGS... - one session with the message, the port masked in "out"
send() {
	correo-test smtp -t 10 "$@" <msg >out.raw
	_st=$?
	sed -e "s/:$PORT\\]/:PORT]/g" -e "s/\\]:$PORT/]:PORT/g" out.raw >out
	return $_st
}

test_expect_success 'two recipients, one unknown, one deferred' '
	send "[127.0.0.1]:$PORT" s@example.org a@example.org \
	    unknown@example.org busy@example.org &&
	cat >expect <<-\EOF &&
	open: ok 2.0.0 connected to localhost
	a@example.org: ok 2.0.0 250 2.0.0 Ok: queued as Q1
	unknown@example.org: bounce 5.1.1 host localhost said: 550 5.1.1 <unknown@example.org>: User unknown (in reply to RCPT TO command)
	busy@example.org: defer 4.3.0 host localhost said: 451 4.3.0 try later (in reply to RCPT TO command)
	session: ok 2.0.0 delivered via localhost
	EOF
	test_cmp expect out
'

test_expect_success 'the body arrives as it was (dot-stuffing undone)' '
	{ printf "%s\n" "MAIL FROM:<s@example.org> SIZE=46" \
	    "RCPT TO:<a@example.org>" "" &&
	  sed "s/\$/\r/" msg; } >expect &&
	test_cmp expect msg.1
'

test_expect_success 'two messages over one session with RSET' '
	: >cmds.log &&
	send -n 2 "[127.0.0.1]:$PORT" s@example.org b@example.org &&
	grep -c "^b@example.org: ok 2.0.0 250 2.0.0 Ok: queued as Q" out >n &&
	echo 2 >expect &&
	test_cmp expect n &&
	grep -c "^EHLO " cmds.log >n &&
	echo 1 >expect &&
	test_cmp expect n &&
	grep "^RSET$" cmds.log
'

srv_stop

test_expect_success 'nobody listening: connect failure' '
	test_must_fail send "[127.0.0.1]:$PORT" s@example.org a@example.org &&
	grep "^open: defer 4.4.1 " out
'

test_done
