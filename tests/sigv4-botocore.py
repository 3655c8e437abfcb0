#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Cross-checks kerf's SigV4 signer against botocore, an independent one.

Generates N random requests from a fixed seed (methods, paths with dot
segments, doubled slashes and UTF-8, query strings with repeated and empty
keys, headers with odd case and white space, bodies, session tokens, dates,
regions, services), signs each with `check_sigv4 --sign` and with botocore,
and fails on the first difference in the canonical request, the string to
sign or the Authorization header.

usage: sigv4-botocore.py SIGNER [N] [SEED]
"""
import json
import random
import subprocess
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
PATH_EXTRA = " $!*'()@:,;=+ü€ሴ"
QUERY_EXTRA = " $!*'()@:,;=+/?ü€ሴ%&"
BLACKLIST = {"expect", "user-agent", "x-amzn-trace-id", "host", "x-amz-date",
             "x-amz-security-token", "authorization"}


def word(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def gen_path(rng):
    segs = []
    for _ in range(rng.randint(0, 5)):
        r = rng.random()
        if r < 0.1:
            segs.append(".")
        elif r < 0.2:
            segs.append("..")
        elif r < 0.3:
            segs.append("")
        else:
            segs.append(word(rng, UNRESERVED + PATH_EXTRA, 1, 8))
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    return path


def encode_loosely(rng, s):
    """Percent-encodes s, sometimes encoding unreserved characters too."""
    out = []
    for ch in s:
        if ch in UNRESERVED and rng.random() < 0.8:
            out.append(ch)
        else:
            out.append("".join("%%%02X" % b for b in ch.encode("utf-8")))
    return "".join(out)


def gen_query(rng):
    pairs, parts = [], []
    keys = [word(rng, UNRESERVED + QUERY_EXTRA, 1, 6) for _ in range(rng.randint(1, 3))]
    for _ in range(rng.randint(0, 6)):
        k = rng.choice(keys)
        v = word(rng, UNRESERVED + QUERY_EXTRA, 0, 8)
        pairs.append((k, v))
        if v == "" and rng.random() < 0.5:
            parts.append(encode_loosely(rng, k))
        else:
            parts.append(encode_loosely(rng, k) + "=" + encode_loosely(rng, v))
    return pairs, "&".join(parts)


def gen_headers(rng):
    names, headers = set(), []
    for _ in range(rng.randint(0, 5)):
        name = word(rng, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", 1, 12)
        if name.lower() in names or name.lower() in BLACKLIST:
            continue
        names.add(name.lower())
        value = word(rng, "abcdefghijk XYZ0123;,=\"/\t  ", 0, 20)
        headers.append((name, value))
    return headers


def main():
    signer = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261207
    rng = random.Random(seed)
    cases, lines = [], []
    for _ in range(n):
        host = rng.choice(["ec2.us-west-2.amazonaws.com", "sts.amazonaws.com",
                           "127.0.0.1:%d" % rng.randint(1024, 65535), "example.amazonaws.com"])
        method = rng.choice(["GET", "POST", "PUT", "DELETE"])
        path = gen_path(rng)
        pairs, query = gen_query(rng)
        date = "%04d%02d%02dT%02d%02d%02dZ" % (rng.randint(2015, 2030), rng.randint(1, 12),
                                              rng.randint(1, 28), rng.randint(0, 23),
                                              rng.randint(0, 59), rng.randint(0, 59))
        headers = [("Host", host), ("X-Amz-Date", date)] + gen_headers(rng)
        token = word(rng, UNRESERVED + "/+=", 20, 60) if rng.random() < 0.4 else None
        if token:
            headers.append(("X-Amz-Security-Token", token))
        rng.shuffle(headers)
        body = word(rng, UNRESERVED + " &=\n{}\":", 0, 64) if method != "GET" else ""
        c = {
            "method": method, "path": path, "query": query, "headers": headers, "body": body,
            "region": rng.choice(["us-east-1", "us-west-2", "eu-central-1", "cn-north-1"]),
            "service": rng.choice(["ec2", "sts", "ssm", "pricing", "eks"]),
            "date": date,
            "access_key": "AKIA" + word(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16),
            "secret_key": word(rng, UNRESERVED + "/+", 40, 40),
            "token": token, "pairs": pairs,
        }
        cases.append(c)
        lines.append(json.dumps({k: v for k, v in c.items() if k not in ("token", "pairs")}))
    out = subprocess.run([signer, "--sign"], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout.splitlines()
    if len(out) != n:
        print("signer answered %d of %d requests" % (len(out), n))
        return 1
    for i, c in enumerate(cases):
        # The path goes to both signers as sent: each encodes it once more.
        req = AWSRequest(method=c["method"], url="https://example.invalid" + c["path"],
                         data=c["body"].encode("utf-8"), params=c["pairs"])
        for name, value in c["headers"]:
            req.headers[name] = value
        req.context["timestamp"] = c["date"]
        auth = SigV4Auth(Credentials(c["access_key"], c["secret_key"], c["token"]),
                         c["service"], c["region"])
        creq = auth.canonical_request(req)
        sts = auth.string_to_sign(req, creq)
        sig = auth.signature(sts, req)
        signed = auth.signed_headers(auth.headers_to_sign(req))
        authz = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" % (
            auth.scope(req), signed, sig)
        got = json.loads(out[i])
        for key, want in (("creq", creq), ("sts", sts), ("authz", authz)):
            if got[key] != want:
                print("request %d (seed %d) differs in %s:\n%s\n--- kerf\n%s\n--- botocore\n%s"
                      % (i, seed, key, lines[i], got[key], want))
                return 1
    print("%d requests signed identically by kerf and botocore (seed %d)" % (n, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
