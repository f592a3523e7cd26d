#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small EC2 instance metadata service (IMDSv2 only), for tests.

  imds.py --sts-endpoint URL --role-arn ARN [--port N] [--port-file F]
          [--log F] [--mode-file F] [--duration SECS] [--region R]

Behaves as the real service does for what s3root asks: PUT
/latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1 to 21600,
else 400; X-Forwarded-For: 403) gives a session token; every GET needs a
live token in X-aws-ec2-metadata-token (else 401); the role listing
(/latest/meta-data/iam/security-credentials/), the role's credentials
document and /latest/meta-data/placement/region. The credentials are real
temporary ones, from AssumeRole on the suite's RGW STS (RGW_ACCESS,
RGW_SECRET), DURATION seconds long; like the real service it hands out the
same ones until they near their end (half their lifetime left here, five
minutes at AWS), then new ones.

The first word of --mode-file (read at each request; missing: normal)
makes the answers hostile: badjson, huge (a 2 MiB document), missing (no
SecretAccessKey), past (an Expiration in the past), norole (404 for the
role's document), noroles (404 for the listing), forget (every token is
forgotten after each credentials document, as when the service restarts),
down (503 for everything). With --secrets F, each secret and session
token handed out is appended to F, for a test to look for in logs.
Each request is logged as one line: METHOD PATH STATUS [note].
"""

import argparse
import datetime
import http.server
import os
import secrets
import signal
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3ctl  # noqa: E402

ROLE = "s3root-instance"
CREDS = "/latest/meta-data/iam/security-credentials/"


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.tokens = {}  # token -> expiry (monotonic)
        self.creds = None  # (access, secret, token, expiration epoch)
        self.issued = 0
        self.log = open(a.log, "a", buffering=1) if a.log else sys.stderr

    def mode(self):
        try:
            with open(self.a.mode_file) as f:
                w = f.read().split()
                return w[0] if w else "normal"
        except (OSError, TypeError):
            return "normal"

    def fresh_creds(self):
        """The role's credentials: new ones once half their life passed."""
        now = time.time()
        c = self.creds
        if c and c[3] - now > self.a.duration / 2:
            return c
        sts = s3ctl.client(types.SimpleNamespace(
            endpoint=self.a.sts_endpoint, region=self.a.sts_region,
            access=os.environ["RGW_ACCESS"], secret=os.environ["RGW_SECRET"],
            token=None), "sts")
        r = sts.assume_role(RoleArn=self.a.role_arn,
                            RoleSessionName="imds-%d" % self.issued,
                            DurationSeconds=self.a.duration)["Credentials"]
        self.issued += 1
        self.creds = (r["AccessKeyId"], r["SecretAccessKey"],
                      r["SessionToken"], r["Expiration"].timestamp())
        if self.a.secrets:
            with open(self.a.secrets, "a") as f:
                f.write("%s\n%s\n" % (r["SecretAccessKey"],
                                        r["SessionToken"]))
        self.log.write("# issued credentials %d (key %s..., expire %s)\n" % (
            self.issued, r["AccessKeyId"][:6], iso(self.creds[3])))
        return self.creds


def iso(t):
    return datetime.datetime.fromtimestamp(
        int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def document(st, mode):
    ak, sk, tok, exp = st.fresh_creds()
    if mode == "past":
        exp = time.time() - 3600
    fields = [("Code", "Success"), ("LastUpdated", iso(time.time())),
              ("Type", "AWS-HMAC"), ("AccessKeyId", ak),
              ("SecretAccessKey", sk), ("Token", tok),
              ("Expiration", iso(exp))]
    if mode == "missing":
        fields = [f for f in fields if f[0] != "SecretAccessKey"]
    body = "{\n" + ",\n".join('  "%s" : "%s"' % f for f in fields) + "\n}"
    if mode == "badjson":
        body = body.replace('"Token" :', '"Token" ')
    if mode == "huge":
        body = '{"Code": "Success", "Pad": "' + "x" * (2 << 20) + '"}'
    return body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body="", note=""):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        st = self.server.st
        st.log.write("%s %s %d%s\n" % (self.command, self.path, status,
                                       " " + note if note else ""))

    def do_PUT(self):
        st = self.server.st
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        if st.mode() == "down":
            return self.answer(503, "Service Unavailable", "down")
        if self.path != "/latest/api/token":
            return self.answer(404, "Not Found")
        if self.headers.get("X-Forwarded-For"):
            return self.answer(403, "Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.answer(400, "Bad Request", "ttl=%r" % ttl)
        tok = secrets.token_urlsafe(40)
        with st.lock:
            st.tokens[tok] = time.monotonic() + int(ttl)
        self.answer(200, tok, "ttl=%s" % ttl)

    def token_ok(self):
        st = self.server.st
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with st.lock:
            exp = st.tokens.get(tok)
            if exp is not None and exp <= time.monotonic():
                del st.tokens[tok]
                exp = None
        return exp is not None

    def do_GET(self):
        st = self.server.st
        mode = st.mode()
        if mode == "down":
            return self.answer(503, "Service Unavailable", mode)
        if not self.token_ok():
            return self.answer(401, "Unauthorized")
        if self.path == "/latest/meta-data/placement/region":
            return self.answer(200, st.a.region)
        if self.path == CREDS:
            if mode == "noroles":
                return self.answer(404, "Not Found", mode)
            return self.answer(200, ROLE)
        if self.path != CREDS + ROLE:
            return self.answer(404, "Not Found")
        if mode == "norole":
            return self.answer(404, "Not Found", mode)
        with st.lock:
            body = document(st, mode)
            if mode == "forget":
                st.tokens.clear()
        self.answer(200, body, "credentials %d %s" % (st.issued, mode))


def main():
    ap = argparse.ArgumentParser(
        prog="imds.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sts-endpoint", required=True)
    ap.add_argument("--sts-region", default="us-east-1")
    ap.add_argument("--role-arn", required=True)
    ap.add_argument("--duration", type=int, default=3600)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--mode-file")
    ap.add_argument("--secrets")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    http.server.ThreadingHTTPServer.daemon_threads = True
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.st = State(a)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
