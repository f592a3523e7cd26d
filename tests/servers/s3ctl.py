#!/usr/bin/python3
"""s3ctl.py: a small S3/STS client for the tests (Debian's python3-botocore).

Run it with /usr/bin/python3 (botocore is in Debian's dist-packages). The
endpoint and credentials come from the environment (as exported by rgw.sh):
  RGW_ENDPOINT  http://127.0.0.1:PORT
  RGW_ACCESS, RGW_SECRET, RGW_TOKEN (optional session token)
  RGW_REGION    (default us-east-1)
Options before the command override them: --endpoint --access --secret
--token --region. Requests use path-style addressing, SigV4, no retries.

Commands:
  mb BUCKET                      create a bucket
  rb BUCKET                      delete an (empty) bucket
  put BUCKET KEY FILE [--content-type T] [--sse-c-key KEYFILE]
                                 upload FILE; prints the version id or "null"
                                 (KEYFILE: an SSE-C key, base64 of 32 bytes)
  get BUCKET KEY FILE [--version-id V] [--sse-c-key KEYFILE]
  rm BUCKET KEY [--version-id V] prints the version id / delete marker id
  ls BUCKET [--versions]         one line a key (KEY<TAB>SIZE[<TAB>VERSION])
  versioning BUCKET on|off       enable / suspend versioning
  acl BUCKET [KEY] CANNED        canned ACL: public-read, private, ...
  presign BUCKET KEY [--expires SECS] [--version-id V]
  assume-role [--duration SECS] [--role-arn ARN] [--session-name NAME]
                                 prints RGW_STS_ACCESS=... RGW_STS_SECRET=...
                                 RGW_STS_TOKEN=... RGW_STS_EXPIRATION=...
                                 (epoch seconds) as shell assignments
Keys are passed through as given (UTF-8, spaces, '+', '=', '~' are fine).
Errors: "s3ctl: CODE: message" on stderr and exit status 1.
"""

import argparse
import os
import re
import shlex
import sys

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError


_last_body = [b""]


def _keep_body(http_response, **kw):
    # Only for errors: .content would consume a streamed GET body.
    if http_response.status_code >= 300:
        _last_body[0] = http_response.content or b""


def client(args, service):
    sess = botocore.session.get_session()
    # RGW answers STS errors in S3's format, which botocore's STS parser
    # reports as "Unknown": keep the body to find the code in it.
    sess.register("after-call", _keep_body)
    cfg = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1},
        # RGW accepts shorter AssumeRole durations than botocore's model.
        parameter_validation=False,
    )
    return sess.create_client(
        service,
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id=args.access,
        aws_secret_access_key=args.secret,
        aws_session_token=args.token or None,
        config=cfg,
    )


def cmd_mb(a, s3):
    s3.create_bucket(Bucket=a.bucket)


def cmd_rb(a, s3):
    s3.delete_bucket(Bucket=a.bucket)


def sse_c(a):
    if not a.sse_c_key:
        return {}
    import base64
    with open(a.sse_c_key) as f:
        key = base64.b64decode(f.read().strip(), validate=True)
    # botocore sends the key and its MD5 in base64 itself
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def cmd_put(a, s3):
    kw = sse_c(a)
    if a.content_type:
        kw["ContentType"] = a.content_type
    with open(a.file, "rb") as f:
        r = s3.put_object(Bucket=a.bucket, Key=a.key, Body=f, **kw)
    print(r.get("VersionId", "null"))


def cmd_get(a, s3):
    kw = {"VersionId": a.version_id} if a.version_id else {}
    kw.update(sse_c(a))
    r = s3.get_object(Bucket=a.bucket, Key=a.key, **kw)
    with open(a.file, "wb") as f:
        for chunk in r["Body"].iter_chunks(1 << 20):
            f.write(chunk)


def cmd_rm(a, s3):
    kw = {"VersionId": a.version_id} if a.version_id else {}
    r = s3.delete_object(Bucket=a.bucket, Key=a.key, **kw)
    print(r.get("VersionId", "null"))


def cmd_ls(a, s3):
    if a.versions:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=a.bucket)
        for p in pages:
            for v in p.get("Versions", []):
                print("%s\t%d\t%s" % (v["Key"], v["Size"], v["VersionId"]))
            for v in p.get("DeleteMarkers", []):
                print("%s\t-\t%s" % (v["Key"], v["VersionId"]))
    else:
        for p in s3.get_paginator("list_objects").paginate(Bucket=a.bucket):
            for o in p.get("Contents", []):
                print("%s\t%d" % (o["Key"], o["Size"]))


def cmd_versioning(a, s3):
    st = {"on": "Enabled", "off": "Suspended"}[a.state]
    s3.put_bucket_versioning(Bucket=a.bucket, VersioningConfiguration={"Status": st})


def cmd_acl(a, s3):
    if a.key is None:
        s3.put_bucket_acl(Bucket=a.bucket, ACL=a.acl)
    else:
        s3.put_object_acl(Bucket=a.bucket, Key=a.key, ACL=a.acl)


def cmd_presign(a, s3):
    p = {"Bucket": a.bucket, "Key": a.key}
    if a.version_id:
        p["VersionId"] = a.version_id
    print(s3.generate_presigned_url("get_object", Params=p, ExpiresIn=a.expires))


def cmd_assume_role(a, sts):
    r = sts.assume_role(
        RoleArn=a.role_arn,
        RoleSessionName=a.session_name,
        DurationSeconds=a.duration,
    )
    c = r["Credentials"]
    out = {
        "RGW_STS_ACCESS": c["AccessKeyId"],
        "RGW_STS_SECRET": c["SecretAccessKey"],
        "RGW_STS_TOKEN": c["SessionToken"],
        "RGW_STS_EXPIRATION": str(int(c["Expiration"].timestamp())),
    }
    for k, v in out.items():
        print("%s=%s" % (k, shlex.quote(v)))


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(
        prog="s3ctl.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default=env("RGW_ENDPOINT"))
    ap.add_argument("--access", default=env("RGW_ACCESS"))
    ap.add_argument("--secret", default=env("RGW_SECRET"))
    ap.add_argument("--token", default=env("RGW_TOKEN"))
    ap.add_argument("--region", default=env("RGW_REGION") or "us-east-1")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("mb")
    p.add_argument("bucket")
    p = sub.add_parser("rb")
    p.add_argument("bucket")
    p = sub.add_parser("put")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("file")
    p.add_argument("--content-type")
    p.add_argument("--sse-c-key")
    p = sub.add_parser("get")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("file")
    p.add_argument("--version-id")
    p.add_argument("--sse-c-key")
    p = sub.add_parser("rm")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("--version-id")
    p = sub.add_parser("ls")
    p.add_argument("bucket")
    p.add_argument("--versions", action="store_true")
    p = sub.add_parser("versioning")
    p.add_argument("bucket")
    p.add_argument("state", choices=["on", "off"])
    p = sub.add_parser("acl")
    p.add_argument("bucket")
    p.add_argument("rest", nargs="+", metavar="[KEY] CANNED")
    p = sub.add_parser("presign")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("--expires", type=int, default=3600)
    p.add_argument("--version-id")
    p = sub.add_parser("assume-role")
    p.add_argument("--duration", type=int, default=3600)
    p.add_argument("--role-arn", default=env("RGW_ROLE_ARN"))
    p.add_argument("--session-name", default="s3root-test")

    a = ap.parse_args()
    if not a.endpoint or not a.access or not a.secret:
        ap.error("RGW_ENDPOINT, RGW_ACCESS and RGW_SECRET must be set")
    if a.cmd == "acl":
        if len(a.rest) > 2:
            ap.error("acl BUCKET [KEY] CANNED")
        a.key = a.rest[0] if len(a.rest) == 2 else None
        a.acl = a.rest[-1]
    if a.cmd == "assume-role" and not a.role_arn:
        ap.error("--role-arn or RGW_ROLE_ARN needed")

    fn = globals()["cmd_" + a.cmd.replace("-", "_")]
    try:
        fn(a, client(a, "sts" if a.cmd == "assume-role" else "s3"))
    except ClientError as e:
        err = e.response.get("Error", {})
        code, msg = err.get("Code", "Unknown"), err.get("Message") or ""
        if code == "Unknown":
            m = re.search(rb"<Code>([^<]*)</Code>", _last_body[0])
            code = m.group(1).decode() if m else "HTTP %s" % (
                e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
            msg = ""
        print("s3ctl: %s: %s" % (code, msg), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
