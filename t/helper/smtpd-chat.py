#!/usr/bin/python3
# smtpd-chat.py [--timeout S] [--env NAME=VALUE]... -- PROGRAM [ARG...]
#
# Runs PROGRAM (smtpd-lite) with its stdin and stdout on one end of a
# Unix socketpair, as inetd would with a TCP socket, and talks to it
# from a script read on standard input, one step per line:
#	S text	send text and CR LF
#	R text	send text as it is (no CR LF added)
#	E	read one whole reply (all its lines)
#	A	read replies until the connection closes
#	P secs	pause
# In text, \r \n \t \0 \\ and \xHH are escapes.  Every reply line read
# is printed as it came, one per output line ("250-...", "250 ...");
# "EOF" is printed when the server closed the connection.  The exit
# status is PROGRAM's.  Every read is bounded by --timeout (5 s):
# "TIMEOUT" is printed and the chat goes on.
import argparse
import os
import socket
import subprocess
import sys
import time


def unescape(text):
    out = bytearray()
    i = 0
    b = text.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c == 0x5c and i + 1 < len(b):
            n = b[i + 1]
            i += 2
            if n == ord("r"):
                out.append(13)
            elif n == ord("n"):
                out.append(10)
            elif n == ord("t"):
                out.append(9)
            elif n == ord("0"):
                out.append(0)
            elif n == ord("x"):
                out.append(int(b[i:i + 2], 16))
                i += 2
            else:
                out.append(n)
            continue
        out.append(c)
        i += 1
    return bytes(out)


class Conn:
    def __init__(self, sock, timeout):
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.timeout = timeout

    def line(self):
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError
            except OSError:
                data = b""
            if not data:
                self.eof = True
                if self.buf:
                    rest, self.buf = self.buf, b""
                    return rest
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def reply(self):
        while True:
            line = self.line()
            if line is None:
                print("EOF")
                return False
            sys.stdout.write(line.decode("utf-8", "replace").rstrip("\r\n")
                             + "\n")
            if len(line) < 4 or line[3:4] != b"-":
                return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("cmd", nargs="+")
    opts = ap.parse_args()
    env = dict(os.environ)
    for e in opts.env:
        k, v = e.split("=", 1)
        env[k] = v
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(opts.cmd, stdin=theirs, stdout=theirs, env=env,
                            close_fds=True)
    theirs.close()
    c = Conn(ours, opts.timeout)
    for raw in sys.stdin.read().split("\n"):
        if not raw:
            continue
        op, _, text = raw.partition(" ")
        try:
            if op == "S":
                ours.sendall(unescape(text) + b"\r\n")
            elif op == "R":
                ours.sendall(unescape(text))
            elif op == "E":
                c.reply()
            elif op == "A":
                while c.reply():
                    pass
            elif op == "P":
                time.sleep(float(text))
            else:
                sys.stderr.write("smtpd-chat: bad step %r\n" % raw)
                sys.exit(2)
        except TimeoutError:
            print("TIMEOUT")
        except (BrokenPipeError, ConnectionResetError):
            print("EPIPE")
    sys.stdout.flush()
    ours.shutdown(socket.SHUT_WR)
    try:
        rc = proc.wait(timeout=opts.timeout * 2)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        print("KILLED")
    ours.close()
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
