#!/usr/bin/python3
"""Random reads through libnbd, 32 in flight, each checked against a file.

Usage: nbd_check.py URI FILE COUNT SEED [MAX_FAILED]

The export must be FILE's bytes followed by zeros up to its size. A read
that fails (an NBD error, EIO) is counted; more than MAX_FAILED (default 0)
of them fail the run, and so does any read that returns wrong bytes. The
last line says how many reads there were, how long they took (all, and
the slowest one), how many returned wrong bytes and how many failed.
"""
import random
import sys
import time

import nbd

uri, path = sys.argv[1], sys.argv[2]
count, seed = int(sys.argv[3]), int(sys.argv[4])
max_failed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
data = open(path, "rb").read()
h = nbd.NBD()
h.connect_uri(uri)
size = h.get_size()
assert size >= len(data) and size % 4096 == 0, (size, len(data))
rng = random.Random(seed)
inflight, bad, failed, done, slowest = {}, 0, 0, 0, 0.0
t0 = time.monotonic()


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
        inflight[cookie] = (buf, off, ln, time.monotonic())
    h.poll(-1)
    for cookie in list(inflight):
        try:
            if not h.aio_command_completed(cookie):
                continue
        except nbd.Error as e:
            buf, off, ln, t = inflight.pop(cookie)
            slowest = max(slowest, time.monotonic() - t)
            done += 1
            failed += 1
            if failed <= 3:
                print(f"read {off}+{ln} failed: {e}")
            continue
        buf, off, ln, t = inflight.pop(cookie)
        slowest = max(slowest, time.monotonic() - t)
        done += 1
        if buf.to_bytearray() != expect(off, ln):
            bad += 1
            print(f"wrong bytes at {off}+{ln}")
h.shutdown()
print(f"{count} random reads, 32 in flight, {time.monotonic() - t0:.1f} s "
      f"(slowest {slowest:.1f} s): {bad} wrong, {failed} failed")
sys.exit(1 if bad or failed > max_failed else 0)
