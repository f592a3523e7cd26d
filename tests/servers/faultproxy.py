#!/usr/bin/python3
"""faultproxy.py: an HTTP/1.1 reverse proxy on 127.0.0.1 that throws S3's
faults at a client (standard library only; run it with /usr/bin/python3).

  faultproxy.py --upstream http://127.0.0.1:PORT [--port N] [--port-file F]
                [--listen ADDR]
                [--log F] [--seed N] [--tls CERT:KEY [--bad-cert CERT:KEY]]
                [--fault RULE]...

It listens on 127.0.0.1:PORT (or ADDR:PORT: an address of a network
namespace a test made; 0, the default: any free port, printed on
stdout and written to --port-file), keeps client connections alive (one
upstream connection each) and passes requests and answers through, except
where a rule strikes. With --tls it speaks TLS to its clients with that
certificate. A rule is KIND[:ARG]:WHEN. WHEN counts the requests the rule
applies to (its own counter, from 1): COUNT (the first COUNT), N-M, N- (from
the Nth on), all, or P% (each at random with probability P, drawn from
--seed). A request gets the first rule, in command-line order, that
strikes; every applicable rule counts it.

  500|502|503|504:WHEN  answer that status with S3's XML error (503 SlowDown)
  reset:WHEN            reset the connection (RST) before any answer
  stall:SECS:WHEN       say nothing for SECS seconds, then pass the answer
  stall-body:SECS:WHEN  GET: send the head and half the body, stall, go on
  reset-body:WHEN       GET: send the head and half the body, then reset (RST)
  truncate:WHEN         GET: send the head and half the body, then close the
                        connection cleanly (FIN): a body shorter than said
  bad-range:WHEN        ranged GET: a 206's Content-Range off by one byte
  other-size:WHEN       ranged GET: a 206 whose Content-Range total is one
                        byte more, as from an object replaced by another of
                        another size (bytes and ETag as they are)
  full-200:WHEN         ranged GET: answer 200 with the whole object (the
                        proxy drops Range and re-signs a SigV4 request with
                        AWS_SECRET_ACCESS_KEY from its environment)
  etag:WHEN             conditional request: 412 PreconditionFailed, as if
                        the object had been replaced
  etag-change:WHEN      GET: another version, as a server ignoring If-Match
                        would send it: a different ETag and every body byte
                        inverted
  skew:SECS:WHEN        the server's clock is SECS ahead: its answers say so
                        in Date, and a SigV4 request signed more than 15
                        minutes away from that clock gets 403
                        RequestTimeTooSkewed; one signed close to it is
                        re-signed for the real time and passed
  wrong-cert:WHEN       (with --tls; WHEN counts TLS connections) present the
                        --bad-cert certificate instead
  redirect:REGION[:400] a request not signed for REGION (by its SigV4
                        credential scope) gets, the first time, 301 with
                        x-amz-bucket-region: REGION and PermanentRedirect XML
                        naming it, later 400 AuthorizationHeaderMalformed;
                        with :400 always the 400 (as AWS answers a HEAD)

SIGUSR1 makes it a black hole until SIGUSR2: connections are still
accepted, and no request on any connection, new or kept alive, gets an
answer; at SIGUSR2 those connections are reset (RST) unanswered and
requests pass again. Each switch is logged ("faultproxy: black hole on",
"faultproxy: black hole off, N requests dropped"); a request that falls
in has a line when it does ("#SEQ +SECS conn=C METHOD PATH range=R: black
hole") and one with fault=blackhole when it is dropped.

One log line a request when it ends, to stderr or --log: "#SEQ +SECS
conn=C METHOD PATH range=R fault=KIND status=S start=+SECS" (fault=pass
when none struck; SECS since the proxy started: at the end, and at the
start of the request), one when a stall begins ("#SEQ +SECS conn=C METHOD
PATH range=R: stalling SECSs"), and "#- +SECS conn=C TLS
fault=KIND" for a TLS handshake that failed. SIGTERM stops it (exit
status 0).
"""

import argparse
import calendar
import hashlib
import hmac
import http.client
import os
import random
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
       "transfer-encoding", "upgrade"}
ERRORS = {"500": ("InternalError", "We encountered an internal error. "
                  "Please try again."),
          "502": ("BadGateway", "Bad gateway."),
          "503": ("SlowDown", "Please reduce your request rate."),
          "504": ("GatewayTimeout", "Gateway timeout.")}
PIECE = 64 * 1024


class Rule:
    def __init__(self, spec, rng):
        p = spec.split(":")
        self.kind, self.spec, self.rng, self.n = p[0], spec, rng, 0
        self.secs, self.region, self.redirected = 0.0, None, False
        if self.kind == "redirect":
            if len(p) not in (2, 3) or p[2:] not in ([], ["400"]):
                raise ValueError("redirect:REGION[:400]")
            self.region, self.redirected = p[1], p[2:] == ["400"]
            return
        elif self.kind in ("stall", "stall-body", "skew"):
            self.secs = float(p.pop(1))
        elif self.kind not in ("reset", "reset-body", "truncate", "bad-range",
                               "other-size", "full-200", "etag", "etag-change",
                               "wrong-cert", *ERRORS):
            raise ValueError("unknown fault " + self.kind)
        if len(p) != 2:
            raise ValueError("expected KIND[:ARG]:WHEN")
        w = p[1]
        self.prob = float(w[:-1]) / 100 if w.endswith("%") else None
        if w == "all":
            w = "1-"
        lo, dash, hi = w.partition("-")
        if self.prob is None:
            self.lo = int(lo) if dash else 1
            self.hi = (int(hi) if hi else float("inf")) if dash else int(lo)

    def applies(self, h):
        if self.kind == "wrong-cert":
            return False  # counted by TLS handshakes (Handler.setup)
        if self.kind in ("reset-body", "stall-body", "truncate",
                         "etag-change"):
            return h.command == "GET"
        if self.kind in ("bad-range", "other-size", "full-200"):
            return h.command == "GET" and "Range" in h.headers
        if self.kind == "etag":
            return ("If-Match" in h.headers or
                    "If-Unmodified-Since" in h.headers)
        return True

    def strikes(self):
        """Counts one more applicable request: does the rule strike it?"""
        self.n += 1
        if self.prob is not None:
            return self.rng.random() < self.prob
        return self.lo <= self.n <= self.hi


def scope_region(auth):
    """The region in a SigV4 Authorization's credential scope, or None."""
    cred = auth.partition("Credential=")[2].split(",")[0].split("/")
    return cred[2] if len(cred) == 5 else None


AMZ_DATE = "%Y%m%dT%H%M%SZ"


def resign(method, path, headers, secret, drop_range=False, when=None):
    """The headers re-signed with SigV4 (the same scope), without Range if
    drop_range, dated at the time.time() value when if given. SigV2 does
    not sign Range; a SigV2 request is returned as it is."""
    hs = [(k, v) for k, v in headers
          if not (drop_range and k.lower() == "range")]
    auth = next((v for k, v in hs if k.lower() == "authorization"), "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return hs
    if when is not None:
        date = time.strftime(AMZ_DATE, time.gmtime(when))
        hs = [(k, date if k.lower() == "x-amz-date" else v) for k, v in hs]
    f = dict(x.strip().split("=", 1) for x in auth[17:].split(","))
    signed = [h for h in f["SignedHeaders"].split(";")
              if not (drop_range and h == "range")]
    val = {k.lower(): " ".join(v.split()) for k, v in hs}
    upath, _, q = path.partition("?")
    query = "&".join("%s=%s" % kv for kv in sorted(
        (x.partition("=")[0], x.partition("=")[2]) for x in q.split("&") if x))
    canon = "\n".join([method, upath, query,
                       "".join("%s:%s\n" % (h, val[h]) for h in signed),
                       ";".join(signed),
                       val.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")])
    access, _, scope = f["Credential"].partition("/")
    scope = "/".join([val["x-amz-date"][:8]] + scope.split("/")[1:])
    sts = "\n".join(["AWS4-HMAC-SHA256", val["x-amz-date"], scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    auth = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, " \
        "Signature=%s" % (access, scope, ";".join(signed), sig)
    return [(k, auth if k.lower() == "authorization" else v) for k, v in hs]


def signed_at(headers):
    """When a request says it was signed (x-amz-date, else Date), or None."""
    for name, fmt in (("x-amz-date", AMZ_DATE),
                      ("date", "%a, %d %b %Y %H:%M:%S GMT")):
        v = headers.get(name)
        if v:
            try:
                return calendar.timegm(time.strptime(v, fmt))
            except ValueError:
                return None
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle client connection

    def setup(self):
        srv = self.server
        with srv.lock:
            srv.conns += 1
            self.conn_id = srv.conns
            ctx, self.dead = srv.tls, False
            for r in srv.rules:
                if r.kind == "wrong-cert" and r.strikes():
                    ctx = srv.bad_tls
                    break
        if ctx:
            # the handshake here, in the connection's own thread
            self.request.settimeout(30)
            try:
                self.request = ctx.wrap_socket(self.request,
                                               server_side=True)
            except (OSError, ssl.SSLError) as e:
                srv.log("#- %+.3fs conn=%d TLS fault=%s (%s)" % (
                    time.monotonic() - srv.t0, self.conn_id,
                    "wrong-cert" if ctx is srv.bad_tls else "pass",
                    e.__class__.__name__))
                self.dead = True
                return
            self.request.settimeout(None)
        super().setup()
        self.up = http.client.HTTPConnection(srv.up_host, srv.up_port,
                                             timeout=60)

    def finish(self):
        if self.dead:
            return
        self.up.close()
        try:
            super().finish()
        except OSError:
            pass

    def handle(self):
        if self.dead:
            return
        try:
            super().handle()
        except OSError:  # the client went away (or was reset by us)
            pass

    def log_message(self, *args):
        pass

    def do_any(self):
        srv = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        start = time.monotonic() - srv.t0
        if not srv.passing.is_set():
            return self.black_hole(start)
        with srv.lock:
            srv.seq += 1
            seq = self.seq = srv.seq
            rule, self.fault, self.status = None, "pass", "-"
            for r in srv.rules:
                if r.kind == "redirect":
                    if rule is None and scope_region(
                            self.headers.get("Authorization", "")) != r.region:
                        rule, self.fault = r, ("redirect-400" if r.redirected
                                               else "redirect-301")
                        r.redirected = True
                elif r.applies(self) and r.strikes() and rule is None:
                    rule, self.fault = r, r.kind
        try:
            self.serve(rule, body)
        except OSError as e:  # the client left, or the upstream failed
            self.fault += " (then %s)" % e.__class__.__name__
            self.close_connection = True
        finally:
            srv.log("#%d %+.3fs conn=%d %s %s range=%s fault=%s status=%s "
                    "start=%+.3fs" % (
                        seq, time.monotonic() - srv.t0, self.conn_id,
                        self.command, self.path,
                        self.headers.get("Range", "-"), self.fault,
                        self.status, start))

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_any

    def black_hole(self, start):
        """Says nothing until the black hole ends, then resets."""
        srv = self.server
        with srv.lock:
            srv.seq += 1
            seq = srv.seq
            srv.held += 1
        srv.log("#%d %+.3fs conn=%d %s %s range=%s: black hole" % (
            seq, time.monotonic() - srv.t0, self.conn_id, self.command,
            self.path, self.headers.get("Range", "-")))
        srv.passing.wait()
        try:
            self.reset()
        except OSError:
            pass  # the client gave up first
        srv.log("#%d %+.3fs conn=%d %s %s range=%s fault=blackhole "
                "status=reset start=%+.3fs" % (
                    seq, time.monotonic() - srv.t0, self.conn_id,
                    self.command, self.path, self.headers.get("Range", "-"),
                    start))

    def serve(self, rule, body):
        """Answers the request, noting in self.fault what it did."""
        kind = self.fault
        self.skew = rule.secs if kind == "skew" else 0
        if kind in ERRORS:
            return self.error(int(kind), *ERRORS[kind])
        if kind == "reset":
            return self.reset()
        if kind == "etag":
            return self.error(
                412, "PreconditionFailed", "At least one of the "
                "pre-conditions you specified did not hold",
                "<Condition>If-Match</Condition>")
        if kind.startswith("redirect"):
            region = "<Region>%s</Region>" % rule.region
            head = [("x-amz-bucket-region", rule.region)]
            if kind == "redirect-301":
                return self.error(
                    301, "PermanentRedirect", "The bucket you are attempting"
                    " to access must be addressed using the specified "
                    "endpoint.", "<Endpoint>%s</Endpoint>%s" % (
                        self.headers.get("Host", ""), region), head)
            return self.error(
                400, "AuthorizationHeaderMalformed", "The authorization "
                "header is malformed; the region is wrong; expecting '%s'"
                % rule.region, region, head)
        if kind == "stall":
            self.stall(rule.secs)
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in HOP]
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if kind == "full-200":
            headers = resign(self.command, self.path, headers, secret,
                             drop_range=True)
        if kind == "skew":
            t = signed_at(self.headers)
            if t is None or abs(t - (time.time() + self.skew)) > 900:
                self.fault = "skew-403"
                return self.error(
                    403, "RequestTimeTooSkewed", "The difference between "
                    "the request time and the current time is too large.")
            self.fault = "skew-resigned"
            headers = resign(self.command, self.path, headers, secret,
                             when=time.time())
        self.relay(self.forward(headers, body), rule)

    def forward(self, headers, body):
        for again in (False, True):
            try:
                self.up.putrequest(self.command, self.path, skip_host=True,
                                   skip_accept_encoding=True)
                for k, v in headers:
                    self.up.putheader(k, v)
                self.up.endheaders(body)
                return self.up.getresponse()
            except (OSError, http.client.HTTPException):
                self.up.close()  # a kept connection the upstream closed
                if again:
                    raise

    def relay(self, resp, rule):
        kind = self.fault
        headers = [(k, v) for k, v in resp.getheaders()
                   if k.lower() not in HOP]
        data = None
        if self.command != "HEAD" and (resp.chunked or resp.length is None):
            data = resp.read()  # re-framed with a Content-Length
            headers = [(k, v) for k, v in headers
                       if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(data))))
        length = len(data) if data is not None else resp.length or 0
        if kind == "bad-range":
            if resp.status != 206:
                kind = "pass (bad-range: upstream %d)" % resp.status
            headers = [(k, shift(v) if k.lower() == "content-range" else v)
                       for k, v in headers]
        if kind == "other-size":
            if resp.status != 206:
                kind = "pass (other-size: upstream %d)" % resp.status
            headers = [(k, grow(v) if k.lower() == "content-range" else v)
                       for k, v in headers]
        cuts = ("reset-body", "stall-body", "truncate")
        if kind in cuts and length < 2:
            kind = "pass (%s: no body)" % kind
        if kind == "etag-change":
            if resp.status // 100 != 2:
                kind = "pass (etag-change: upstream %d)" % resp.status
            else:
                headers = [(k, '"0123456789abcdef0123456789abcdef"'
                            if k.lower() == "etag" else v)
                           for k, v in headers]
                data = bytes(b ^ 0xFF for b in (data if data is not None
                                                 else resp.read()))
        if self.skew:
            headers = [(k, v) for k, v in headers if k.lower() != "date"]
            headers.append(("Date", self.date_time_string(
                time.time() + self.skew)))
        self.fault, self.status = kind, resp.status
        self.send_response_only(resp.status, resp.reason)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        cut = length // 2 if kind in cuts else length
        sent = self.copy(resp, data, 0, cut)
        if kind == "reset-body":
            return self.reset()
        if kind == "truncate":
            self.wfile.flush()
            self.up.close()  # the rest of the body is not wanted
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)  # FIN
            return
        if kind == "stall-body":
            self.stall(rule.secs)
        self.copy(resp, data, sent, length)

    def reset(self):
        """Drops the connection with a RST, not a FIN."""
        self.up.close()
        self.close_connection = True
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket):
            sock = socket.socket(fileno=sock.detach())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        os.close(sock.detach())
        self.status = "reset"

    def stall(self, secs):
        self.server.log("#%d %+.3fs conn=%d %s %s range=%s: stalling %gs" % (
            self.seq, time.monotonic() - self.server.t0, self.conn_id,
            self.command, self.path, self.headers.get("Range", "-"), secs))
        time.sleep(secs)

    def copy(self, resp, data, sent, upto):
        while sent < upto:
            piece = (data[sent:upto] if data is not None
                     else resp.read(min(PIECE, upto - sent)))
            if not piece:
                raise ConnectionError("upstream body ended early")
            self.wfile.write(piece)
            sent += len(piece)
        return sent

    def error(self, status, code, message, extra="", headers=()):
        """Answers an S3 XML error (no body for a HEAD)."""
        self.status = status
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s'
                '</Code><Message>%s</Message>%s<RequestId>faultproxy'
                '</RequestId></Error>' % (code, message, extra)).encode()
        self.send_response_only(status)
        for k, v in [("Content-Type", "application/xml"),
                     ("Content-Length", str(len(body))),
                     ("Date", self.date_time_string(
                         time.time() + getattr(self, "skew", 0))),
                     ("x-amz-request-id", "faultproxy"), *headers]:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def shift(content_range):
    """'bytes S-E/T' one byte later (or earlier at the end of the object)."""
    unit, _, rest = content_range.partition(" ")
    span, _, total = rest.partition("/")
    s, e = map(int, span.split("-"))
    d = 1 if total == "*" or e + 1 < int(total) else -1
    return "%s %d-%d/%s" % (unit, s + d, e + d, total)


def grow(content_range):
    """'bytes S-E/T' of an object one byte larger: 'bytes S-E/T+1'."""
    span, _, total = content_range.partition("/")
    return "%s/%d" % (span, int(total) + 1)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled or idle handler must not hold us

    def log(self, line):
        with self.log_lock:
            self.logf.write(line + "\n")
            self.logf.flush()


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port-file")
    ap.add_argument("--log", help="log file (default: stderr)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fault", action="append", default=[], metavar="RULE")
    ap.add_argument("--tls", metavar="CERT:KEY")
    ap.add_argument("--bad-cert", metavar="CERT:KEY")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    try:
        rules = [Rule(s, rng) for s in a.fault]
    except (ValueError, IndexError) as e:
        ap.error("bad --fault: %s" % e)
    up = urllib.parse.urlsplit(a.upstream)
    if up.scheme != "http" or not up.port:
        ap.error("--upstream must be http://HOST:PORT")

    srv = Server((a.listen, a.port), Handler)
    srv.up_host, srv.up_port, srv.rules = up.hostname, up.port, rules
    srv.tls = srv.bad_tls = None
    for name, spec in (("tls", a.tls), ("bad_tls", a.bad_cert)):
        if spec:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*spec.split(":", 1))
            setattr(srv, name, ctx)
    if any(r.kind == "wrong-cert" for r in rules) and not (
            srv.tls and srv.bad_tls):
        ap.error("wrong-cert needs --tls and --bad-cert")
    srv.lock, srv.log_lock, srv.seq, srv.conns = (threading.Lock(),
                                                  threading.Lock(), 0, 0)
    srv.logf = open(a.log, "a") if a.log else sys.stderr
    srv.t0 = time.monotonic()
    port = srv.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv.passing, srv.held = threading.Event(), 0
    srv.passing.set()

    def hole(on):
        if on == srv.passing.is_set():
            with srv.lock:
                held, srv.held = srv.held, 0
            if on:
                srv.passing.clear()
                srv.log("faultproxy: black hole on")
            else:
                srv.log("faultproxy: black hole off, %d requests dropped"
                        % held)
                srv.passing.set()
    signal.signal(signal.SIGUSR1, lambda *_: hole(True))
    signal.signal(signal.SIGUSR2, lambda *_: hole(False))
    srv.log("faultproxy: %s:%d -> %s, rules: %s" % (
        a.listen, port, a.upstream, " ".join(r.spec for r in rules) or "none"))
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
        srv.log("faultproxy: stopped")


if __name__ == "__main__":
    main()
