#!/usr/bin/python3
# smtp-peer.py - a receiving SMTP server for correo's tests, built on
# Debian's python3-aiosmtpd (run it with /usr/bin/python3: a python3
# earlier in PATH may lack the module).
#
# It listens on --listen HOST:PORT (port 0: any free one), writes the
# bound port to --port-file once it accepts connections, stores each
# accepted message in --maildir as NNNN.eml (X-Peer-* lines, then the
# content as received) and logs every command line to --log.  Faults
# are injected with --reply, --hang and --drop-in-data.  It exits by
# itself after --max-seconds, and on SIGTERM/SIGINT.  Run with --help
# for the options; t/lib-smtppeer.sh is the way tests start it.
#
# The log (--log FILE; with --maildir DIR and no --log, DIR/../peer.log):
# one line per command line received, byte for byte without its CRLF
# (AUTH lines and the client's AUTH continuation lines included, base64
# as sent), "." for the end of each message's content, and event lines
# that begin with "# ":
#	# connect N ADDR	# close N	# hang N STAGE
#	# drop N		# stored NNNN.eml
# where N numbers the connections from 1.

import argparse
import asyncio
import base64
import binascii
import logging
import os
import re
import signal
import ssl
import sys
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, Envelope, MISSING
    from aiosmtpd.smtp import TLSSetupException
except ImportError:
    sys.stderr.write("smtp-peer: python3-aiosmtpd is not installed\n")
    sys.exit(2)

STAGES = ("greeting", "ehlo", "helo", "starttls", "auth", "mail", "rcpt",
          "data", "dot", "rset", "noop", "vrfy", "quit")
BEFORE_STARTTLS = ("NOOP", "EHLO", "STARTTLS", "QUIT")
# MAIL and RCPT parameters, and the EHLO keyword that allows each
MAIL_PARAMS = {"SIZE": "SIZE", "BODY": "8BITMIME", "SMTPUTF8": "SMTPUTF8",
               "RET": "DSN", "ENVID": "DSN", "AUTH": "AUTH"}
RCPT_PARAMS = {"NOTIFY": "DSN", "ORCPT": "DSN"}


class Gone(Exception):
    """The session is over: we closed (or dropped) the connection."""


def die(msg):
    sys.stderr.write("smtp-peer: %s\n" % msg)
    sys.exit(2)


def split_path(text):
    """'<path> params' -> (path, params); None when there is no <path>."""
    if not text.startswith("<"):
        return None
    quoted = False
    i = 1
    while i < len(text):
        c = text[i]
        if quoted and c == "\\":
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == ">" and not quoted:
            rest = text[i + 1:]
            if rest and not rest.startswith(" "):
                return None
            return text[1:i], rest.strip()
        i += 1
    return None


def rcpt_address(arg):
    """The address of a RCPT command's argument, lower case, or None."""
    m = re.match(r"TO:\s*", arg or "", re.I)
    if not m:
        return None
    p = split_path(arg[m.end():])
    return p[0].lower() if p else None


class Fault:
    """One --reply STAGE=CODE[:TEXT]."""

    SPEC = re.compile(r"([a-z]+)(?::(.*?))?=([45][0-9][0-9])(?::(.*))?\Z",
                      re.S)

    def __init__(self, spec):
        m = self.SPEC.match(spec)
        if not m:
            die("--reply %s: not STAGE=CODE[:TEXT] with a 4xx/5xx code"
                % spec)
        self.stage, addr, self.code, text = m.groups()
        if self.stage not in STAGES:
            die("--reply %s: no stage %s (one of %s)"
                % (spec, self.stage, " ".join(STAGES)))
        if addr is not None and self.stage != "rcpt":
            die("--reply %s: only rcpt takes an address" % spec)
        self.addr = addr.lower() if addr else None
        if text is None:
            text = "%s.0.0 smtp-peer: injected %s reply" % (self.code[0],
                                                             self.stage)
        lines = text.split("\\n")
        self.reply = "\r\n".join(
            "%s%s%s" % (self.code, " " if i == len(lines) - 1 else "-", t)
            for i, t in enumerate(lines))


class Peer:
    """What the connections share: options, faults, log, message count."""

    def __init__(self, opts):
        self.opts = opts
        self.faults = [Fault(s) for s in opts.reply]
        self.hangs = []
        for s in opts.hang:
            stage, _, addr = s.partition(":")
            if stage not in STAGES or (addr and stage != "rcpt"):
                die("--hang %s: not a stage (%s, rcpt:ADDRESS)"
                    % (s, " ".join(STAGES)))
            self.hangs.append((stage, addr.lower() or None))
        self.users = {}
        for s in opts.auth:
            user, sep, pw = s.partition(":")
            if not sep:
                die("--auth %s: not USER:PASS" % s)
            self.users[user] = pw
        self.conns = 0
        self.live = set()
        self.log_file = open(opts.log, "ab") if opts.log else None
        self.seq = 0
        if opts.maildir:
            os.makedirs(opts.maildir, exist_ok=True)
            for name in os.listdir(opts.maildir):
                m = re.match(r"([0-9]+)\.eml\Z", name)
                if m:
                    self.seq = max(self.seq, int(m.group(1)))

    def log(self, line):
        if self.log_file is None:
            return
        if isinstance(line, str):
            line = line.encode("utf-8", "surrogateescape")
        self.log_file.write(line + b"\n")
        self.log_file.flush()

    def faulty(self, conn):
        n = self.opts.faulty_sessions
        return n is None or conn <= n

    def reply_for(self, stage, addr=None):
        """The injected reply for a stage (rcpt:ADDRESS before rcpt)."""
        found = None
        for f in self.faults:
            if f.stage != stage:
                continue
            if f.addr is not None and f.addr == addr:
                return f
            if f.addr is None and found is None:
                found = f
        return found

    def hangs_at(self, stage, addr=None):
        return any(s == stage and (a is None or a == addr)
                   for s, a in self.hangs)

    def store(self, head, content):
        """Write one message as NNNN.eml (tmp file, then rename)."""
        self.seq += 1
        name = "%04d.eml" % self.seq
        eol = b"\r\n" if self.opts.keep_crlf else b"\n"
        if not self.opts.keep_crlf:
            content = content.replace(b"\r\n", b"\n")
        tmp = os.path.join(self.opts.maildir, ".tmp.%s" % name)
        with open(tmp, "wb") as f:
            for h in head:
                f.write(h.encode("utf-8", "surrogateescape") + eol)
            f.write(content)
        os.rename(tmp, os.path.join(self.opts.maildir, name))
        return name


class PeerEnvelope(Envelope):
    def __init__(self):
        super().__init__()
        self.mail_params = ""
        self.rcpt_lines = []


class PeerHandler:
    """aiosmtpd's handler hooks; the work is done by the PeerSMTP."""

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        return server.on_ehlo(hostname, responses)

    async def handle_HELO(self, server, session, envelope, hostname):
        server.advertised = set()
        server.helo = "HELO " + hostname
        session.host_name = hostname
        return "250 %s" % server.hostname

    async def handle_DATA(self, server, session, envelope):
        return await server.on_message()


def check_login(server, session, envelope, mechanism, auth_data):
    """aiosmtpd's authenticator: the --auth users."""
    user = auth_data.login.decode("utf-8", "replace")
    pw = auth_data.password.decode("utf-8", "replace")
    if server.peer.users.get(user) == pw and user in server.peer.users:
        return AuthResult(success=True, auth_data=user)
    return AuthResult(success=False, handled=False)


class PeerSMTP(SMTP):
    """aiosmtpd's SMTP with our own command loop (logging, faults)."""

    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(self, peer, **kw):
        self.peer = peer
        self.conn = 0
        self.advertised = set()
        self.helo = ""
        self.closing = False
        self.saw_354 = False
        self.dot_logged = False
        super().__init__(PeerHandler(), **kw)

    def _create_envelope(self):
        return PeerEnvelope()

    # -- the session ------------------------------------------------------

    def close(self):
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    async def hang(self, stage):
        """Stop answering; close after --hang-max seconds."""
        self.peer.log("# hang %d %s" % (self.conn, stage))
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        await asyncio.sleep(self.peer.opts.hang_max)
        self.close()
        raise Gone()

    async def fault(self, stage, addr=None):
        """Hang or reply as the options say; True if we replied."""
        if not self.peer.faulty(self.conn):
            return False
        if self.peer.hangs_at(stage, addr):
            await self.hang(stage)
        f = self.peer.reply_for(stage, addr)
        if f is None:
            return False
        await self.push(f.reply)
        if f.code == "421":
            self.close()
            raise Gone()
        return True

    async def read_line(self):
        """One command line without CRLF, or None after a 500 reply."""
        try:
            return (await self._reader.readuntil(b"\n")).rstrip(b"\r\n")
        except asyncio.LimitOverrunError as e:
            await self._reader.read(e.consumed)
            for _ in range(10000):
                try:
                    await self._reader.readuntil(b"\n")
                    break
                except asyncio.LimitOverrunError as e2:
                    await self._reader.read(e2.consumed)
            await self.push("500 5.5.2 Error: command line too long")
            return None

    async def _handle_client(self):
        peer = self.peer
        peer.conns += 1
        self.conn = peer.conns
        peer.live.add(self)
        addr = self.session.peer[0] if self.session.peer else "?"
        peer.log("# connect %d %s" % (self.conn, addr))
        try:
            await self.session_loop()
        except Gone:
            pass
        except (asyncio.CancelledError, ConnectionError):
            if self._writer is not None:
                self._writer.close()
        except TLSSetupException:
            self.close()
        finally:
            peer.live.discard(self)
            peer.log("# close %d" % self.conn)

    async def session_loop(self):
        refused = await self.fault("greeting")
        if not refused:
            await self.push("220 %s ESMTP smtp-peer" % self.hostname)
        while self.transport is not None and not self.closing:
            raw = await self.read_line()
            if raw is None:
                continue
            self.peer.log(raw)
            line = raw.decode("utf-8", "surrogateescape")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            arg = arg.strip() or None
            if refused:
                # RFC 5321 3.1: after a 554 greeting, wait for QUIT
                if verb == "QUIT":
                    await self.push("221 2.0.0 Bye")
                    self.close()
                    return
                await self.push("503 5.5.1 Error: no valid greeting")
                continue
            if not line:
                await self.push("500 5.5.2 Error: bad syntax")
                continue
            if not self._tls_handshake_okay and verb != "QUIT":
                await self.push("554 5.7.0 Command refused: no security")
                continue
            if (self.require_starttls and not self._tls_protocol
                    and verb not in BEFORE_STARTTLS):
                await self.push("530 5.7.0 Must issue a STARTTLS command "
                                "first")
                continue
            stage = verb.lower()
            if stage in STAGES and stage not in ("greeting", "dot"):
                raddr = rcpt_address(arg) if verb == "RCPT" else None
                if await self.fault(stage, raddr):
                    continue
            if verb == "EHLO" and self.peer.opts.no_ehlo:
                await self.push("502 5.5.2 Error: command not recognized")
                continue
            method = self._smtp_methods.get(verb)
            if method is None:
                await self.push("502 5.5.2 Error: command not recognized")
                continue
            self._reset_timeout()
            try:
                await method(arg)
            except (Gone, asyncio.CancelledError, ConnectionError,
                    TLSSetupException):
                raise
            except Exception:
                logging.getLogger("smtp-peer").exception("%s failed", verb)
                await self.push("451 4.3.0 smtp-peer: internal error")

    async def push(self, status):
        if isinstance(status, str) and status.startswith("354"):
            self.saw_354 = True
        await super().push(status)

    # -- EHLO -------------------------------------------------------------

    def on_ehlo(self, hostname, responses):
        opts = self.peer.opts
        self.session.host_name = hostname
        self.helo = "EHLO " + hostname
        kws = [r[4:] for r in responses[1:]]
        kws = [k for k in kws if k != "HELP"]
        if not self.peer.users:
            kws = [k for k in kws if not k.startswith("AUTH")]
        drop = set(k.upper() for k in opts.ehlo_drop)
        kws = [k for k in kws if k.split()[0].upper() not in drop]
        kws += opts.ehlo_add
        self.advertised = set(k.split()[0].upper() for k in kws)
        lines = [self.hostname] + kws
        return ["250%s%s" % ("-" if i < len(lines) - 1 else " ", t)
                for i, t in enumerate(lines)]

    # -- AUTH -------------------------------------------------------------

    async def smtp_AUTH(self, arg):
        if not self.peer.users:
            await self.push("502 5.5.1 Error: authentication not enabled")
            return
        await super().smtp_AUTH(arg)

    async def challenge_auth(self, challenge, encode_to_b64=True,
                             log_client_response=False):
        """aiosmtpd's challenge, with the client's answer logged."""
        if isinstance(challenge, str):
            challenge = challenge.encode()
        if encode_to_b64:
            challenge = base64.b64encode(challenge)
        await self.push(b"334 " + challenge)
        line = (await self._reader.readline()).rstrip(b"\r\n")
        self.peer.log(line)
        blob = line.strip()
        if blob == b"*":
            await self.push("501 5.7.0 Authentication aborted")
            return MISSING
        try:
            return base64.b64decode(blob, validate=True)
        except binascii.Error:
            await self.push("501 5.5.2 Cannot decode base64")
            return MISSING

    # -- MAIL, RCPT -------------------------------------------------------

    async def check_params(self, params, known):
        """Refuse parameters the EHLO reply did not allow; a reply or None."""
        for p in params.split():
            key, eq, val = p.partition("=")
            key = key.upper()
            kw = known.get(key)
            if kw is None or kw not in self.advertised:
                return "555 5.5.4 Unsupported option: %s" % key
            if key == "SMTPUTF8" and eq:
                return "501 5.5.4 Bad SMTPUTF8 parameter"
            if key == "BODY" and val.upper() not in ("7BIT", "8BITMIME"):
                return "501 5.5.4 Bad BODY parameter"
            if key == "SIZE":
                if not val.isdigit():
                    return "501 5.5.4 Bad SIZE parameter"
                limit = self.peer.opts.size
                if limit and int(val) > limit:
                    return "552 5.3.4 Message size exceeds fixed limit"
        return None

    async def smtp_MAIL(self, arg):
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("MAIL"):
            return
        if self.envelope.mail_from is not None:
            return await self.push("503 5.5.1 Error: nested MAIL command")
        m = re.match(r"FROM:\s*", arg or "", re.I)
        p = split_path(arg[m.end():]) if m else None
        if p is None:
            return await self.push("501 5.5.4 Syntax: MAIL FROM:<address>")
        path, params = p
        if params and not self.session.extended_smtp:
            return await self.push("501 5.5.4 Syntax: MAIL FROM:<address>")
        bad = await self.check_params(params, MAIL_PARAMS)
        if bad:
            return await self.push(bad)
        utf8 = any(p.upper() == "SMTPUTF8" for p in params.split())
        if not path.isascii() and not utf8:
            return await self.push("553 5.6.7 Must declare SMTPUTF8 to send "
                                   "unicode address")
        self.envelope.mail_from = path
        self.envelope.mail_params = params
        self.envelope.smtp_utf8 = utf8
        await self.push("250 2.1.0 Ok")

    async def smtp_RCPT(self, arg):
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("RCPT"):
            return
        if self.envelope.mail_from is None:
            return await self.push("503 5.5.1 Error: need MAIL command")
        m = re.match(r"TO:\s*", arg or "", re.I)
        p = split_path(arg[m.end():]) if m else None
        if p is None or not p[0]:
            return await self.push("501 5.5.4 Syntax: RCPT TO:<address>")
        path, params = p
        if params and not self.session.extended_smtp:
            return await self.push("501 5.5.4 Syntax: RCPT TO:<address>")
        bad = await self.check_params(params, RCPT_PARAMS)
        if bad:
            return await self.push(bad)
        if not path.isascii() and not self.envelope.smtp_utf8:
            return await self.push("553 5.6.7 Must declare SMTPUTF8 to send "
                                   "unicode address")
        limit = self.peer.opts.max_rcpt
        if limit and len(self.envelope.rcpt_tos) >= limit:
            return await self.push("452 4.5.3 Error: too many recipients")
        self.envelope.rcpt_tos.append(path)
        self.envelope.rcpt_lines.append(
            "<%s>%s" % (path, " " + params if params else ""))
        await self.push("250 2.1.5 Ok")

    # -- DATA -------------------------------------------------------------

    async def smtp_DATA(self, arg):
        if (self.peer.opts.drop_in_data and self.peer.faulty(self.conn)
                and self.session.host_name and self.envelope.rcpt_tos
                and not arg):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            try:
                await asyncio.wait_for(self._reader.readuntil(b"\n"), 10)
            except Exception:
                pass
            self.peer.log("# drop %d" % self.conn)
            self.closing = True
            self.transport.abort()
            raise Gone()
        self.saw_354 = False
        self.dot_logged = False
        await super().smtp_DATA(arg)
        if self.saw_354 and not self.dot_logged:
            self.peer.log(".")        # too long or too big: not handled
        if self.closing:
            self.close()
            raise Gone()

    def tls_desc(self):
        t = self.transport
        obj = t.get_extra_info("ssl_object") if t is not None else None
        if obj is None:
            return "none"
        return "%s %s" % (obj.version(), obj.cipher()[0])

    async def on_message(self):
        """The content is in, the "." seen: reply, store."""
        env = self.envelope
        self.peer.log(".")
        self.dot_logged = True
        if self.peer.faulty(self.conn):
            if self.peer.hangs_at("dot"):
                await self.hang("dot")
            f = self.peer.reply_for("dot")
            if f is not None:
                if f.code == "421":
                    self.closing = True
                return f.reply
        if not self.peer.opts.maildir:
            return "250 2.0.0 Ok: discarded"
        auth = "none"
        if self.session.authenticated:
            auth = str(self.session.auth_data)
        head = ["X-Peer-Mail-From: <%s>" % env.mail_from]
        head += ["X-Peer-Rcpt-To: %s" % r for r in env.rcpt_lines]
        head += [("X-Peer-Mail-Options: %s" % env.mail_params).rstrip(),
                 "X-Peer-TLS: %s" % self.tls_desc(),
                 "X-Peer-Auth: %s" % auth,
                 "X-Peer-Helo: %s" % self.helo]
        name = self.peer.store(head, env.original_content)
        self.peer.log("# stored %s" % name)
        return "250 2.0.0 Ok: queued as %s" % name[:-4]


def tls_context(opts):
    if not opts.tls_cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key or None)
    except (OSError, ssl.SSLError) as e:
        die("--tls-cert %s: %s" % (opts.tls_cert, e))
    if opts.tls_max:
        ctx.maximum_version = {"1.2": ssl.TLSVersion.TLSv1_2,
                               "1.3": ssl.TLSVersion.TLSv1_3}[opts.tls_max]
    return ctx


def write_file(path, text):
    """Write text to path atomically (tmp file, then rename)."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


async def serve(opts):
    peer = Peer(opts)
    host, _, port = opts.listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        die("--listen %s: not HOST:PORT" % opts.listen)
    ctx = tls_context(opts)
    if (opts.implicit_tls or opts.require_tls) and ctx is None:
        die("--implicit-tls and --require-tls need --tls-cert")
    loop = asyncio.get_running_loop()
    kw = dict(hostname=opts.hostname, loop=loop,
              data_size_limit=opts.size or None,
              enable_SMTPUTF8=opts.smtputf8,
              timeout=min(opts.idle_timeout, opts.max_seconds),
              authenticator=check_login,
              auth_required=opts.auth_required,
              auth_require_tls=not (opts.auth_plaintext or opts.implicit_tls))
    if not opts.implicit_tls:
        kw.update(tls_context=ctx, require_starttls=opts.require_tls)
    with_warnings = logging.getLogger("mail.log")
    with_warnings.setLevel(logging.DEBUG if opts.verbose else logging.ERROR)
    server = await loop.create_server(
        lambda: PeerSMTP(peer, **kw), host, int(port),
        ssl=ctx if opts.implicit_tls else None, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    if opts.pid_file:
        write_file(opts.pid_file, "%d\n" % os.getpid())
    if opts.port_file:
        write_file(opts.port_file, "%d\n" % bound)
    done = loop.create_future()

    def stop(why):
        if not done.done():
            done.set_result(why)
    loop.call_later(opts.max_seconds, stop, "--max-seconds reached")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop, "signal %d" % sig)
    why = await done
    if opts.verbose:
        sys.stderr.write("smtp-peer: exiting: %s\n" % why)
    server.close()
    for c in list(peer.live):
        if c.transport is not None:
            c.transport.abort()
    await asyncio.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(
        prog="smtp-peer.py",
        description="A receiving SMTP server for tests (aiosmtpd).")
    a = ap.add_argument
    a("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
      help="where to listen; port 0 picks a free one")
    a("--port-file", metavar="F", help="write the bound port here when ready")
    a("--pid-file", metavar="F", help="write our PID here")
    a("--hostname", default="smtp-peer.test",
      help="our name in the greeting and the EHLO reply")
    a("--maildir", metavar="DIR", help="store accepted messages as DIR/NNNN.eml")
    a("--keep-crlf", action="store_true",
      help="store the content with its CRLFs (default: LF line ends)")
    a("--log", metavar="FILE", help="log every command line received here "
      "(default with --maildir: peer.log beside DIR)")
    a("--tls-cert", metavar="PEM", help="certificate (and key) to offer TLS")
    a("--tls-key", metavar="PEM", help="its key, if not in --tls-cert")
    a("--tls-max", choices=("1.2", "1.3"), help="highest TLS version")
    a("--implicit-tls", action="store_true",
      help="TLS from the first byte (port 465 style) instead of STARTTLS")
    a("--require-tls", action="store_true",
      help="530 to everything but EHLO/NOOP/STARTTLS/QUIT before STARTTLS")
    a("--auth", action="append", default=[], metavar="USER:PASS",
      help="offer AUTH PLAIN LOGIN with this account (repeatable)")
    a("--auth-plaintext", action="store_true",
      help="offer AUTH without TLS too")
    a("--auth-required", action="store_true",
      help="530 5.7.0 to MAIL/RCPT/DATA before AUTH")
    a("--reply", action="append", default=[], metavar="STAGE=CODE[:TEXT]",
      help="answer STAGE with CODE (421 also closes); STAGE: %s, "
      "rcpt:ADDRESS; a literal \\n in TEXT makes a multi-line reply"
      % ", ".join(STAGES))
    a("--hang", action="append", default=[], metavar="STAGE",
      help="stop answering at STAGE (as for --reply)")
    a("--hang-max", type=float, default=600, metavar="SECONDS",
      help="close a hanging connection after this long (600)")
    a("--drop-in-data", action="store_true",
      help="after DATA's 354 read a line of content, then drop the connection")
    a("--faulty-sessions", type=int, metavar="N",
      help="the faults apply to the first N connections only (default: all)")
    a("--no-ehlo", action="store_true", help="answer EHLO with 502")
    a("--size", type=int, default=0, metavar="N",
      help="advertise SIZE N and refuse bigger messages (default: no SIZE)")
    a("--smtputf8", action="store_true", help="advertise SMTPUTF8")
    a("--max-rcpt", type=int, default=0, metavar="N",
      help="452 4.5.3 to recipients past the Nth of a transaction")
    a("--ehlo-add", action="append", default=[], metavar="KEYWORD",
      help="add an EHLO keyword (DSN, PIPELINING...; DSN allows RET, ENVID, "
      "NOTIFY, ORCPT)")
    a("--ehlo-drop", action="append", default=[], metavar="KEYWORD",
      help="leave an EHLO keyword out (8BITMIME, STARTTLS, AUTH...)")
    a("--idle-timeout", type=float, default=300, metavar="SECONDS",
      help="close a connection idle this long (300)")
    a("--max-seconds", type=float, default=600, metavar="SECONDS",
      help="exit after this long (600)")
    a("--verbose", action="store_true", help="aiosmtpd's debug log on stderr")
    opts = ap.parse_args()
    if not opts.verbose:
        warnings.simplefilter("ignore")     # aiosmtpd's, about AUTH
    if opts.log is None and opts.maildir:
        opts.log = os.path.join(
            os.path.dirname(os.path.abspath(opts.maildir)), "peer.log")
    if opts.auth_required and not opts.auth:
        die("--auth-required needs --auth")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="smtp-peer: %(name)s: %(message)s")
    asyncio.run(serve(opts))


if __name__ == "__main__":
    main()
