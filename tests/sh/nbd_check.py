#!/usr/bin/python3
"""Random reads through libnbd, 32 in flight, each checked against a file.

Usage: nbd_check.py URI FILE COUNT SEED

The export must be FILE's bytes followed by zeros up to its size.
"""
import random
import sys

import nbd

uri, path, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(path, "rb").read()
h = nbd.NBD()
h.connect_uri(uri)
size = h.get_size()
assert size >= len(data) and size % 4096 == 0, (size, len(data))
rng = random.Random(seed)
inflight, bad, done = {}, 0, 0


def expect(off, ln):
    part = data[off:off + ln]
    return part + b"\0" * (ln - len(part))


while done < count:
    while len(inflight) < 32 and done + len(inflight) < count:
        ln = rng.choice([512, 4096, 4096, 16384, 65536, 131072, 1 << 20])
        ln = min(ln, size)
        off = rng.randrange(0, size - ln + 1) & ~511
        buf = nbd.Buffer(ln)
        cookie = h.aio_pread(buf, off)
        inflight[cookie] = (buf, off, ln)
    h.poll(-1)
    for cookie in list(inflight):
        if h.aio_command_completed(cookie):
            buf, off, ln = inflight.pop(cookie)
            done += 1
            if buf.to_bytearray() != expect(off, ln):
                bad += 1
                print(f"wrong bytes at {off}+{ln}")
h.shutdown()
print(f"{count} random reads, 32 in flight: {bad} wrong")
sys.exit(1 if bad else 0)
