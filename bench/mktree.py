#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""mktree.py DIR MIB: fill DIR with a root-like tree of about MIB MiB of
files for the benchmark's EROFS image, the same bytes on every run (seeded).

The mix is what a system image holds, so a compressed EROFS image of it has
realistic pcluster sizes and a read-everything trace has realistic request
sizes: thousands of small text files (configs, scripts), text documents,
"binaries" (4 KiB blocks of text, zeros and noise: compressible by half) and
large incompressible files (archives, media), in nested directories.
"""

import os
import random
import sys

# share of the bytes, size range (bytes), kind
CLASSES = [
    (0.08, 200, 16 << 10, "text"),
    (0.22, 16 << 10, 512 << 10, "text"),
    (0.35, 64 << 10, 4 << 20, "binary"),
    (0.35, 4 << 20, 16 << 20, "noise"),
]
TOPS = ["etc", "usr/bin", "usr/lib", "usr/share/doc", "usr/share/locale",
        "var/lib", "opt/data"]


def text_pool(rng, size):
    """Word salad from a fixed vocabulary: compresses like prose (~2-3x)."""
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    vocab = ["".join(rng.choice(letters[:12 + rng.randrange(14)])
                     for _ in range(rng.randrange(2, 11)))
             for _ in range(4000)]
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(vocab) for _ in range(rng.randrange(4, 14)))
        out.append(line)
        n += len(line) + 1
    return ("\n".join(out) + "\n").encode()[:size]


def log_uniform(rng, lo, hi):
    return int(lo * (hi / lo) ** rng.random())


def content(rng, pool, kind, size):
    if kind == "noise":
        return rng.randbytes(size)
    if kind == "text":
        off = rng.randrange(len(pool) - size)
        return pool[off:off + size]
    parts, n = [], 0
    while n < size:
        k = min(4096, size - n)
        r = rng.random()
        if r < 0.35:
            parts.append(rng.randbytes(k))
        elif r < 0.5:
            parts.append(bytes(k))
        else:
            off = rng.randrange(len(pool) - k)
            parts.append(pool[off:off + k])
        n += k
    return b"".join(parts)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mktree.py DIR MIB")
    top, total = sys.argv[1], int(sys.argv[2]) << 20
    rng = random.Random(20260401)
    pool = text_pool(rng, 32 << 20)
    nfiles = 0
    for share, lo, hi, kind in CLASSES:
        budget, i = int(total * share), 0
        while budget > 0:
            size = min(log_uniform(rng, lo, hi), budget)
            d = os.path.join(top, rng.choice(TOPS),
                             *("d%02d" % rng.randrange(20)
                               for _ in range(rng.randrange(0, 3))))
            os.makedirs(d, exist_ok=True)
            name = os.path.join(d, "%s-%05d" % (kind, i))
            with open(name, "wb") as f:
                f.write(content(rng, pool, kind, size))
            budget -= size
            i += 1
            nfiles += 1
    print("%d files, %d MiB" % (nfiles, total >> 20))


if __name__ == "__main__":
    main()
