#!/usr/bin/env python3
# lib-dsn-check.py - check a delivery status notice written by runq's
# bounce module (cmd/runq/bounce.c) with Python's email package.
#
#   python3 t/lib-dsn-check.py NOTICE [options]
#
# NOTICE is the notice's content as queued (LF line ends).  Always
# checked: RFC 6522 multipart/report; report-type=delivery-status with a
# boundary, no parser defects, the notice's own headers (From
# MAILER-DAEMON, To, Subject, Date, Message-ID, Auto-Submitted,
# MIME-Version), part 1 text/plain us-ascii, part 2
# message/delivery-status with a per-message group (Reporting-MTA,
# X-Correo-Queue-ID, X-Correo-Sender) and one group per recipient
# (Final-Recipient, Action, Status), every recipient named in part 1,
# and that what the module wrote itself (all but the attached original)
# is printable US-ASCII without CR, NUL or other control bytes, in lines
# of at most 998 bytes.  Options add:
#
#   --kind failure|delay|success    the Subject and the default Action
#   --postmaster                    a postmaster copy's Subject
#   --rcpts N                       N recipient groups
#   --attach full|headers|none      the third part and its type
#   --original FILE                 the original: full must equal it
#                                   (an LF added when it lacks one),
#                                   headers its header lines
#   --limit N                       headers: a whole-line prefix of the
#                                   header lines, at most N bytes
#   --cte 7bit|8bit                 Content-Transfer-Encoding (top, part 3)
#   --max-line N                    lines the module wrote: at most N bytes
#                                   (but for the Message-ID field)
#   --msg FIELD=VALUE               a per-message field (unfolded)
#   --rcpt I:FIELD=VALUE            recipient I's field (1-based; VALUE
#                                   "-" means absent)
#   --rcpt-all FIELD=VALUE          every recipient's field
#   --to ADDRESS                    the To: header is <ADDRESS>
#   --text STRING                   part 1 contains STRING
#
# Exit 0 when every check passes; otherwise each failure is a line on
# stderr and the exit status is 1.
import email
import email.policy
import email.utils
import re
import sys

SUBJECTS = {
    ("failure", False): "Undelivered Mail Returned to Sender",
    ("delay", False): "Delayed Mail (still being retried)",
    ("success", False): "Successful Mail Delivery Report",
    ("failure", True): "Postmaster Copy: Undelivered Mail",
    ("delay", True): "Postmaster Warning: Delayed Mail",
    ("success", True): "Postmaster Copy: Successful Mail Delivery Report",
}
ACTIONS = {
    "failure": {"failed"},
    "delay": {"delayed"},
    "success": {"delivered", "relayed", "expanded"},
}

failures = []


def fail(msg):
    failures.append(msg)


def unfold(v):
    return re.sub(r"\r?\n(?=[ \t])", "", v) if v is not None else None


def header_lines(data):
    """The header section of an original: whole lines up to the empty
    line or the first line that is neither a field nor a continuation."""
    out = b""
    first = True
    for line in data.splitlines(keepends=True):
        body = line[:-1] if line.endswith(b"\n") else line
        if body == b"":
            break
        if body[:1] in (b" ", b"\t"):
            if first:
                break
        elif not re.match(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:", body):
            break
        out += line if line.endswith(b"\n") else line + b"\n"
        first = False
    return out


def raw_parts(raw, boundary):
    """The notice's raw pieces: (top headers + preamble, [(part headers,
    part body)]); each body without the LF its delimiter takes."""
    delim = b"\n--" + boundary.encode("ascii")
    pieces = raw.split(delim)
    head, parts = pieces[0], []
    for i, p in enumerate(pieces[1:]):
        if p.startswith(b"--"):
            if i != len(pieces) - 2 or p != b"--\n":
                fail("text after the closing delimiter: %r" % p[:60])
            break
        if not p.startswith(b"\n"):
            fail("a delimiter line with more after it: %r" % p[:60])
            continue
        h, sep, b = p[1:].partition(b"\n\n")
        if not sep:
            fail("a part without an empty line after its headers")
        parts.append((h, b))
    else:
        fail("no closing delimiter")
    return head, parts


def check_clean(label, data, max_line):
    for n, line in enumerate(data.split(b"\n"), 1):
        bad = [c for c in line if c < 0x20 and c != 0x09 or c >= 0x7f]
        if bad:
            fail("%s line %d: bytes %r" % (label, n, bytes(bad[:8])))
        # A Message-ID is never folded: one token, up to 998 bytes.
        limit = 998 if line.startswith(b"Message-ID: ") else max_line
        if len(line) > limit:
            fail("%s line %d: %d bytes (max %d)" % (label, n, len(line),
                                                    max_line))


def main(argv):
    args = {"msg": [], "rcpt": [], "rcpt_all": [], "text": []}
    path = argv[1]
    i = 2
    while i < len(argv):
        opt = argv[i]
        if opt == "--postmaster":
            args["postmaster"] = True
            i += 1
            continue
        val = argv[i + 1]
        key = opt[2:].replace("-", "_")
        if key in ("msg", "rcpt", "rcpt_all", "text"):
            args[key].append(val)
        else:
            args[key] = val
        i += 2

    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)

    # The notice's own headers.
    if msg.get_content_type() != "multipart/report":
        fail("top type %s" % msg.get_content_type())
    if msg.get_param("report-type") != "delivery-status":
        fail("report-type %s" % msg.get_param("report-type"))
    boundary = msg.get_boundary()
    if not boundary or len(boundary) > 70:
        fail("boundary %r" % boundary)
        boundary = boundary or "\0"
    if not re.match(r"^MAILER-DAEMON@\S+ \(Mail Delivery System\)$",
                    msg.get("From", "")):
        fail("From: %r" % msg.get("From"))
    if msg.get("Auto-Submitted") != "auto-replied":
        fail("Auto-Submitted: %r" % msg.get("Auto-Submitted"))
    if msg.get("MIME-Version") != "1.0":
        fail("MIME-Version: %r" % msg.get("MIME-Version"))
    if not re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", msg.get("Message-ID", "")):
        fail("Message-ID: %r" % msg.get("Message-ID"))
    try:
        email.utils.parsedate_to_datetime(msg.get("Date"))
    except Exception as e:  # noqa: BLE001 - any parse failure is a failure
        fail("Date: %r: %s" % (msg.get("Date"), e))
    kind = args.get("kind")
    if kind:
        want = SUBJECTS[(kind, bool(args.get("postmaster")))]
        if msg.get("Subject") != want:
            fail("Subject: %r, want %r" % (msg.get("Subject"), want))
    if "to" in args and unfold(msg.get("To")) != "<%s>" % args["to"]:
        fail("To: %r, want <%s>" % (msg.get("To"), args["to"]))
    if "cte" in args and msg.get("Content-Transfer-Encoding") != args["cte"]:
        fail("top Content-Transfer-Encoding: %r" %
             msg.get("Content-Transfer-Encoding"))
    if msg.defects:
        fail("top defects: %r" % msg.defects)

    parts = msg.get_payload()
    attach = args.get("attach")
    nparts = 2 if attach == "none" else 3
    if not isinstance(parts, list) or len(parts) != nparts:
        fail("%s parts, want %d" % (len(parts) if isinstance(parts, list)
                                    else "no", nparts))
        return
    for p in parts:
        if p.defects:
            fail("part %s defects: %r" % (p.get_content_type(), p.defects))

    # Part 1: the explanation.
    text = parts[0]
    if text.get_content_type() != "text/plain" or \
            text.get_content_charset() != "us-ascii":
        fail("part 1: %s charset %s" % (text.get_content_type(),
                                        text.get_content_charset()))
    explanation = text.get_payload()
    words = " ".join(explanation.split())
    for s in args["text"]:
        if " ".join(s.split()) not in words:
            fail("part 1 lacks %r" % s)

    # Part 2: the delivery report.
    report = parts[1]
    if report.get_content_type() != "message/delivery-status":
        fail("part 2: %s" % report.get_content_type())
        return
    groups = report.get_payload()
    if len(groups) < 2:
        fail("delivery-status: %d groups" % len(groups))
        return
    permsg, rcpts = groups[0], groups[1:]
    for f in ("Reporting-MTA", "X-Correo-Queue-ID", "X-Correo-Sender"):
        if permsg.get(f) is None:
            fail("per-message %s missing" % f)
    if not (permsg.get("Reporting-MTA") or "").startswith("dns; "):
        fail("Reporting-MTA: %r" % permsg.get("Reporting-MTA"))
    for spec in args["msg"]:
        f, _, v = spec.partition("=")
        got = unfold(permsg.get(f))
        if got != (None if v == "-" else v):
            fail("per-message %s: %r, want %r" % (f, got, v))
    if "rcpts" in args and len(rcpts) != int(args["rcpts"]):
        fail("%d recipient groups, want %s" % (len(rcpts), args["rcpts"]))
    for n, g in enumerate(rcpts, 1):
        for f in ("Final-Recipient", "Action", "Status"):
            if g.get(f) is None:
                fail("recipient %d: %s missing" % (n, f))
        fr = unfold(g.get("Final-Recipient") or "")
        if not fr.startswith("rfc822; "):
            fail("recipient %d: Final-Recipient %r" % (n, fr))
        elif "<%s>:" % fr[8:] not in unfold(explanation).replace("\n", ""):
            fail("recipient %d (%s) not named in part 1" % (n, fr[8:]))
        if kind and g.get("Action") not in ACTIONS[kind]:
            fail("recipient %d: Action %r" % (n, g.get("Action")))
        if not re.match(r"^[245]\.\d{1,3}\.\d{1,3}$", g.get("Status") or ""):
            fail("recipient %d: Status %r" % (n, g.get("Status")))
        if kind == "delay" and g.get("Will-Retry-Until") is None:
            fail("recipient %d: no Will-Retry-Until" % n)
        for d in ("Arrival-Date", "Last-Attempt-Date", "Will-Retry-Until"):
            if g.get(d) is not None:
                try:
                    email.utils.parsedate_to_datetime(g.get(d))
                except Exception as e:  # noqa: BLE001
                    fail("recipient %d: %s %r: %s" % (n, d, g.get(d), e))
        for spec in args["rcpt_all"]:
            f, _, v = spec.partition("=")
            if unfold(g.get(f)) != (None if v == "-" else v):
                fail("recipient %d %s: %r, want %r" %
                     (n, f, unfold(g.get(f)), v))
    for spec in args["rcpt"]:
        idx, _, fv = spec.partition(":")
        f, _, v = fv.partition("=")
        idx = int(idx)
        got = unfold(rcpts[idx - 1].get(f)) if idx <= len(rcpts) else None
        if got != (None if v == "-" else v):
            fail("recipient %d %s: %r, want %r" % (idx, f, got, v))

    # The raw bytes: what the module wrote is clean; the original intact.
    head, rparts = raw_parts(raw, boundary)
    if len(rparts) != nparts:
        fail("%d raw parts" % len(rparts))
        return
    max_line = int(args.get("max_line", 998))
    check_clean("headers+preamble", head, max_line)
    for n, (h, b) in enumerate(rparts, 1):
        check_clean("part %d headers" % n, h, max_line)
        if n < 3:
            check_clean("part %d" % n, b, max_line)
    if nparts == 3:
        h, body = rparts[2]
        att = parts[2]
        want_type = {"full": "message/rfc822",
                     "headers": "text/rfc822-headers"}.get(attach)
        if want_type and att.get_content_type() != want_type:
            fail("part 3: %s, want %s" % (att.get_content_type(), want_type))
        if "cte" in args and att.get("Content-Transfer-Encoding") != \
                args["cte"]:
            fail("part 3 Content-Transfer-Encoding: %r" %
                 att.get("Content-Transfer-Encoding"))
        if ("--" + boundary).encode() in body:
            fail("the boundary occurs in the attached original")
        if "original" in args:
            orig = open(args["original"], "rb").read()
            if attach == "full":
                want = orig if orig.endswith(b"\n") or not orig else \
                    orig + b"\n"
                if body != want:
                    fail("attached original differs: %d bytes, want %d" %
                         (len(body), len(want)))
            elif attach == "headers":
                want = header_lines(orig)
                if "limit" in args:
                    lim = int(args["limit"])
                    if len(body) > lim:
                        fail("attached headers: %d bytes > limit %d" %
                             (len(body), lim))
                    if not want.startswith(body) or \
                            (body and not body.endswith(b"\n")):
                        fail("attached headers are not a line prefix")
                    # as many whole lines as fit
                    rest = want[len(body):]
                    nxt = rest.split(b"\n", 1)[0] + b"\n" if rest else b""
                    if rest and len(body) + len(nxt) <= lim:
                        fail("attached headers stop early at %d bytes" %
                             len(body))
                elif body != want:
                    fail("attached headers differ: %r... want %r..." %
                         (body[:80], want[:80]))


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # noqa: BLE001 - report, do not crash
        import traceback
        traceback.print_exc()
        fail("exception: %s" % e)
    for f in failures:
        sys.stderr.write("dsn-check: %s\n" % f)
    sys.exit(1 if failures else 0)
