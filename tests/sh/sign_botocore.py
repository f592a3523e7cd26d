#!/usr/bin/python3
"""Compare `s3root sign` with botocore's S3 signers, byte for byte.

Generates requests from a seeded random source (keys with spaces, '+', '~',
'=', '%', UTF-8 and '//'; both URL styles; session tokens; several regions;
SigV4 and SigV2, access keys with ':' for SigV2), signs each with botocore (S3SigV4Auth or HmacV1Auth, clock
frozen) and with `s3root sign`, and compares the request line, the Host and
every header botocore sends. With --presign, each request is also presigned
(SigV4 query auth, a random lifetime) by botocore's generate_presigned_url
and by `s3root presign`, and the two URLs must be the same string.
Prints one line per mismatch and a summary; exits 1 on any mismatch.
"""
import argparse
import datetime
import os
import random
import subprocess
import sys
from email.utils import formatdate
from urllib.parse import quote

from botocore.auth import HmacV1Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1",
           "cn-north-1", "default"]
KEY_PIECES = ["a", "Z", "0", "9", "-", "_", ".", "~", " ", "+", "=", "%",
              "%20", "/", "//", "!", "*", "'", "(", ")", "&", "$", "@", ":",
              ",", ";", "?", "#", "[", "]", "\u00e9", "\u65e5\u672c",
              "\U0001f600", "file.erofs", "dir/", "\t"]
TOKEN_CHARS = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789+/=")


def rand_key(rng):
    key = "".join(rng.choice(KEY_PIECES) for _ in range(rng.randint(1, 12)))
    return key.lstrip("/") or "k"


def rand_bucket(rng):
    kind = rng.random()
    if kind < 0.7:
        base = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                       for _ in range(rng.randint(3, 20)))
        return base if rng.random() < 0.5 else "b-" + base
    if kind < 0.85:
        return "my.dotted.bucket"
    return "Legacy_Bucket"


def dns_ok(bucket, tls):
    import re
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        return False
    return not (tls and "." in bucket)


def make_case(rng):
    region = rng.choice(REGIONS)
    ep = rng.choice(["aws", "ip", "name", "name-path", "ipv6", "aws-path"])
    bucket = rand_bucket(rng)
    if ep in ("aws", "aws-path"):
        scheme, host, port = "https", f"s3.{region}.amazonaws.com", None
        endpoint = None  # the default for the region
    elif ep == "ip":
        scheme, host, port = "http", "127.0.0.1", rng.choice([7480, 80])
        endpoint = f"http://127.0.0.1:{port}"
    elif ep == "ipv6":
        scheme, host, port = "https", "[::1]", 8443
        endpoint = "https://[::1]:8443"
    else:
        scheme, host, port = rng.choice(["http", "https"]), "s3.test", None
        port = rng.choice([None, 7480])
        endpoint = f"{scheme}://s3.test" + (f":{port}" if port else "")
    opts = [f"s3.region={region}"]
    if endpoint:
        opts.append(f"s3.endpoint={endpoint}")
    style = "vhost"
    if ep in ("ip", "ipv6"):
        style = "path"
    if ep in ("name-path", "aws-path"):
        style = "path"
        opts.append("s3.urlstyle=path")
    if style == "vhost" and not dns_ok(bucket, scheme == "https"):
        style = "path"
    sig = rng.choice(["4", "4", "2"])
    opts.append(f"s3.sig={sig}")
    key = rand_key(rng)
    netloc = host
    if port and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    if style == "vhost":
        netloc = f"{bucket}.{netloc}"
        path = "/" + quote(key, safe="/~")
    else:
        path = "/" + quote(bucket, safe="/~") + "/" + quote(key, safe="/~")
    headers = []
    if rng.random() < 0.7:
        a = rng.randint(0, 1 << 30)
        headers.append(("Range", f"bytes={a}-{a + rng.randint(0, 1 << 20)}"))
    if rng.random() < 0.4:
        headers.append(("If-Match", '"%032x"' % rng.getrandbits(128)))
    if rng.random() < 0.3:
        headers.append(("x-amz-meta-Note", rng.choice(
            ["plain", "two  spaces", "a\tb", "x,y", "q=1;r=2"])))
    if rng.random() < 0.2:
        headers.append(("Accept", "*/*"))
    token = None
    if rng.random() < 0.4:
        token = "".join(rng.choice(TOKEN_CHARS)
                        for _ in range(rng.randint(16, 700)))
    ak = "AK" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
                        for _ in range(18))
    if sig == "2" and rng.random() < 0.4:
        # Swift s3api's "account:user" keys (the receiver splits the
        # Authorization value at its last colon)
        ak = "acct%d:" % rng.randint(0, 999) + rng.choice(["", "x:"]) + ak
    sk = "".join(rng.choice(TOKEN_CHARS) for _ in range(40))
    t = rng.randint(946684800, 4102444799)  # 2000 .. 2099
    return dict(region=region, opts=opts, sig=sig, bucket=bucket, key=key,
                scheme=scheme, netloc=netloc, path=path, headers=headers,
                token=token, ak=ak, sk=sk, time=t, style=style,
                method=rng.choice(["GET", "GET", "HEAD"]),
                payload=rng.choice(["unsigned", "empty"]))


class FrozenDatetime(datetime.datetime):
    frozen = None

    @classmethod
    def utcnow(cls):
        return cls.frozen


def botocore_sign(c):
    url = f"{c['scheme']}://{c['netloc']}{c['path']}"
    req = AWSRequest(method=c["method"], url=url, headers=dict(c["headers"]))
    creds = Credentials(c["ak"], c["sk"], c["token"])
    if c["sig"] == "4":
        auth = S3SigV4Auth(creds, "s3", c["region"])
        auth._should_sha256_sign_payload = lambda r: c["payload"] == "empty"
        import botocore.auth as ba
        saved = ba.datetime.datetime
        FrozenDatetime.frozen = datetime.datetime.utcfromtimestamp(c["time"])
        ba.datetime.datetime = FrozenDatetime
        try:
            auth.add_auth(req)
        finally:
            ba.datetime.datetime = saved
    else:
        auth = HmacV1Auth(creds)
        auth._get_date = lambda: formatdate(c["time"], usegmt=True)
        req.auth_path = ("/" + quote(c["bucket"], safe="/~") + "/" +
                         quote(c["key"], safe="/~"))
        auth.add_auth(req)
    return [(k, v) for k, v in req.headers.items()]


def s3root_sign(binary, c):
    amz = datetime.datetime.utcfromtimestamp(c["time"]).strftime(
        "%Y%m%dT%H%M%SZ")
    argv = [binary, "sign", "s3://" + c["bucket"] + "/" + c["key"],
            "--method", c["method"], "--time", amz,
            "--payload", c["payload"], "-o", ",".join(c["opts"])]
    for name, value in c["headers"]:
        argv += ["-H", f"{name}: {value}"]
    env = {"AWS_ACCESS_KEY_ID": c["ak"], "AWS_SECRET_ACCESS_KEY": c["sk"],
           "S3ROOT_CONFIG": "/dev/null", "PATH": os.environ.get("PATH", "")}
    if c["token"]:
        env["AWS_SESSION_TOKEN"] = c["token"]
    p = subprocess.run(argv, env=env, capture_output=True)
    if p.returncode != 0:
        return None, p.stderr.decode(errors="replace").strip()
    return p.stdout.decode(), None


_clients = {}


def botocore_presign(c, expires, version):
    """generate_presigned_url of a real botocore S3 client, clock frozen.
    One client per endpoint, region and style (making one costs more than
    signing): each case's credentials are handed to its signer."""
    import botocore.auth as ba
    import botocore.session
    from botocore.config import Config
    netloc = c["netloc"]
    if c["style"] == "vhost":
        netloc = netloc[len(c["bucket"]) + 1:]
    endpoint = f"{c['scheme']}://{netloc}"
    ck = (c["region"], endpoint, c["style"])
    client = _clients.get(ck)
    if client is None:
        session = botocore.session.get_session()
        style = "virtual" if c["style"] == "vhost" else "path"
        client = session.create_client(
            "s3", region_name=c["region"], endpoint_url=endpoint,
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(signature_version="s3v4",
                          s3={"addressing_style": style}))
        _clients[ck] = client
    client._request_signer._credentials = Credentials(c["ak"], c["sk"],
                                                      c["token"])
    op = "get_object" if c["method"] == "GET" else "head_object"
    params = {"Bucket": c["bucket"], "Key": c["key"]}
    if version:
        params["VersionId"] = version
    saved = ba.datetime.datetime
    FrozenDatetime.frozen = datetime.datetime.utcfromtimestamp(c["time"])
    ba.datetime.datetime = FrozenDatetime
    try:
        return client.generate_presigned_url(op, Params=params,
                                             ExpiresIn=expires)
    finally:
        ba.datetime.datetime = saved


def compare_presign(binary, c, expires, version):
    amz = datetime.datetime.utcfromtimestamp(c["time"]).strftime(
        "%Y%m%dT%H%M%SZ")
    opts = [o for o in c["opts"] if not o.startswith("s3.sig=")]
    if c["style"] == "vhost" and "." in c["bucket"]:
        # botocore never puts a dotted bucket into the host name; s3root
        # does over plain http: a choice of style, not of signing
        c = dict(c, style="path",
                 netloc=c["netloc"][len(c["bucket"]) + 1:])
        opts.append("s3.urlstyle=path")
    argv = [binary, "presign", "s3://" + c["bucket"] + "/" + c["key"],
            "--method", c["method"], "--time", amz,
            "--expires", str(expires), "-o", ",".join(opts)]
    if version:
        argv += ["-o", "s3.version_id=" + version]
    env = {"AWS_ACCESS_KEY_ID": c["ak"], "AWS_SECRET_ACCESS_KEY": c["sk"],
           "S3ROOT_CONFIG": "/dev/null", "PATH": os.environ.get("PATH", "")}
    if c["token"]:
        env["AWS_SESSION_TOKEN"] = c["token"]
    p = subprocess.run(argv, env=env, capture_output=True)
    if p.returncode != 0:
        return "s3root presign failed: " + p.stderr.decode(
            errors="replace").strip()
    mine = p.stdout.decode().rstrip("\n")
    want = botocore_presign(c, expires, version)
    if mine != want:
        return f"presigned URL {mine!r} != botocore's {want!r}"
    return None


def compare(binary, c):
    out, err = s3root_sign(binary, c)
    if out is None:
        return f"s3root failed: {err}"
    lines = out.split("\n")
    want_line = f"{c['method']} {c['path']} HTTP/1.1"
    if lines[0] != want_line:
        return f"request line {lines[0]!r} != {want_line!r}"
    head = lines[1:lines.index("")]
    got = [tuple(h.split(": ", 1)) for h in head]
    if got[0] != ("Host", c["netloc"]):
        return f"host {got[0]!r} != {c['netloc']!r}"
    want = sorted((k.lower(), v.strip()) for k, v in botocore_sign(c))
    mine = sorted((k.lower(), v) for k, v in got[1:])
    if want != mine:
        diff = set(want) ^ set(mine)
        return f"headers differ: {sorted(diff)}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--s3root", required=True)
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--presign", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    bad = 0
    kinds = {}
    for i in range(a.cases):
        c = make_case(rng)
        k = f"v{c['sig']}-{c['style']}{'-token' if c['token'] else ''}"
        k += "-colonkey" if ":" in c["ak"] else ""
        kinds[k] = kinds.get(k, 0) + 1
        why = compare(a.s3root, c)
        if a.presign and not why:
            # its own stream, so that the requests stay the same
            prng = random.Random(a.seed * 1000003 + i)
            expires = prng.randint(1, 604800)
            version = None
            if prng.random() < 0.2:  # s3.version_id: versionId first
                version = "".join(prng.choice(TOKEN_CHARS + "._-")
                                  for _ in range(prng.randint(1, 40)))
            why = compare_presign(a.s3root, c, expires, version)
            if not why:
                kinds["presigned"] = kinds.get("presigned", 0) + 1
        if why:
            bad += 1
            print(f"case {i} (seed {a.seed}, {k}, key {c['key']!r}, "
                  f"bucket {c['bucket']}): {why}")
    print("kinds:", ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    print(f"{a.cases - bad} of {a.cases} requests signed identically")
    if a.cases >= 100 and not any("colonkey" in k for k in kinds):
        print("no access key with ':' among the cases")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
