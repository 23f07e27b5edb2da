#!/usr/bin/python3
# smtp-badtls.py PORTFILE LOG - for t7200: a server whose STARTTLS
# handshake fails (a TLS alert instead of a ServerHello) on the first
# connection and that takes the mail in plaintext on the second; it
# logs the command lines it reads and ends after two connections or
# 20 s without one.
import socket, sys, time, os
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(2)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(20)
log = open(sys.argv[2], "w")
for n in (1, 2):
    c, _ = s.accept()
    c.settimeout(5)
    f = c.makefile("rb")
    c.sendall(b"220 badtls ESMTP\r\n")
    data = False
    while True:
        line = f.readline()
        if not line:
            break
        log.write(line.decode("latin-1"))
        log.flush()
        if data:
            if line == b".\r\n":
                data = False
                c.sendall(b"250 2.0.0 Ok: queued\r\n")
            continue
        verb = line[:4].upper()
        if verb == b"EHLO":
            c.sendall(b"250-badtls\r\n250 STARTTLS\r\n")
        elif verb == b"STAR":
            c.sendall(b"220 2.0.0 go ahead\r\n")
            c.sendall(b"\x15\x03\x03\x00\x02\x02\x28")
            time.sleep(0.2)
            break
        elif verb == b"DATA":
            data = True
            c.sendall(b"354 go\r\n")
        elif verb == b"QUIT":
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall(b"250 2.0.0 ok\r\n")
    c.close()
