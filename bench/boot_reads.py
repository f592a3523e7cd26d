#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""boot_reads.py SHAPER_LOG [IMAGE_SIZE]: what a boot read, from the
shaper's request log of an s3root boot with s3.cache=0 (one ranged GET per
NBD read: bench/boot.sh's s3root@s3.cache=0 keeps it in
build/bench/boot-logs/). Prints the reads' count, sizes and bytes (and the
distinct bytes), how sequential they are, and for each chunk size the bytes
of the chunks they touch (what a cache fetching whole chunks, with no
readahead and no eviction, must fetch), alone and with the first 1 MiB
(the warm start) added.
"""

import collections
import re
import sys

RANGE = re.compile(r"range=bytes=(\d+)-(\d+)")


def main():
    reads = []
    with open(sys.argv[1]) as f:
        for line in f:
            if " GET " not in line:
                continue
            m = RANGE.search(line)
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                reads.append((a, b - a + 1))
    if not reads:
        sys.exit("no ranged GETs in %s" % sys.argv[1])
    total = sum(n for _, n in reads)
    pages = set()
    for a, n in reads:
        pages.update(range(a // 4096, (a + n + 4095) // 4096))
    distinct = len(pages) * 4096
    sizes = collections.Counter(n for _, n in reads)
    seq = sum(1 for (a, n), (b, _) in zip(reads, reads[1:]) if b == a + n)
    print("%d reads, %d bytes (%.1f MB), %d distinct (%.1f MB)" % (
        len(reads), total, total / 1e6, distinct, distinct / 1e6))
    print("sizes (KiB: count): %s" % ", ".join(
        "%d: %d" % (k // 1024, v) for k, v in sorted(sizes.items())))
    print("%d of %d reads start where the one before ended" % (
        seq, len(reads) - 1))
    print("offsets: %.1f%% of the reads below 1 MiB; the highest ends at "
          "%.1f MB" % (100.0 * sum(1 for a, _ in reads if a < 1 << 20)
                       / len(reads), max(a + n for a, n in reads) / 1e6))
    print("chunk | touched MB | / distinct | + warm 1 MiB | / distinct")
    for kib in (4, 16, 32, 64, 128, 256):
        c = kib * 1024
        chunks = set()
        for a, n in reads:
            chunks.update(range(a // c, (a + n - 1) // c + 1))
        t = len(chunks) * c
        warm = set(chunks) | set(range(0, (1 << 20) // c))
        tw = len(warm) * c
        print("%4d KiB | %.1f | %.2f | %.1f | %.2f" % (
            kib, t / 1e6, t / distinct, tw / 1e6, tw / distinct))


if __name__ == "__main__":
    main()
