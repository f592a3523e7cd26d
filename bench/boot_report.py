#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""boot_report.py RESULTS.tsv OUT: bench/boot.sh's boots as OUT.md: the
medians of the time to multi-user, the extra seconds over the local export,
the bytes fetched. The run's facts come from BENCH_* environment variables.

RESULTS.tsv, one line per boot: configuration, added latency (ms),
repetition, seconds from "Run /init" to the multi-user marker (kernel
clock), download seconds, seconds from qemu's start to the marker on the
console (host clock), bytes the shaper sent down, requests through it,
reads of /dev/nbd0 by the marker, bytes of them, s3root's own "fetched"
figure ("-" where a figure does not apply).
"""

import os
import statistics
import sys

NAMES = {
    "local": "local NBD export (the floor)",
    "s3root": "s3root",
    "trace": "s3root + trace",
    "nbdkit": "nbdkit curl (readahead + cache)",
    "download": "curl download, then the local boot",
}
COLS = ["cfg", "delay", "rep", "boot", "dl", "wall", "fetched", "gets",
        "reads", "read_bytes", "s3_fetched"]


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def name(cfg):
    if cfg.startswith("s3root@"):
        return "s3root -o " + cfg[len("s3root@"):]
    return NAMES.get(cfg, cfg)


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=1, unit=""):
    return "-" if v is None else "%.*f%s" % (digits, v, unit)


def main():
    env = os.environ.get
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            r = dict(zip(COLS, line.rstrip("\n").split("\t")))
            if len(r) != len(COLS):
                continue
            for k in COLS[1:]:
                r[k] = num(r[k])
            rows.append(r)
    out = sys.argv[2]
    delays = [int(d) for d in env("BENCH_BOOT_DELAYS", "0 30 100").split()]
    configs = env("BENCH_BOOT_CONFIGS", "").split()

    def pick(cfg, d, key):
        return [r[key] for r in rows if r["cfg"] == cfg and
                (cfg == "local" or r["delay"] == d)]

    def total(cfg, d):
        # the download comes before the boot: both count
        if cfg != "download":
            return med(pick(cfg, d, "boot"))
        sums = [r["boot"] + r["dl"] for r in rows
                if r["cfg"] == cfg and r["delay"] == d and
                r["boot"] is not None and r["dl"] is not None]
        return med(sums)

    floor = med(pick("local", 0, "boot"))
    md = []
    w = md.append
    w("# s3root boot benchmark, %s" % env("BENCH_STAMP", "?"))
    w("")
    w("- binary under test: %s (tree %s), options `%s`" % (
        env("BENCH_S3ROOT", "?"), env("BENCH_COMMIT", "?"),
        env("S3ROOT_OPTS") or "(defaults)"))
    icount = env("BENCH_BOOT_ICOUNT", "")
    w("- image: %s; Debian's kernel %s under qemu TCG%s, 1 CPU, 768 MiB; "
      "%d CPUs on the host%s" % (
          env("BENCH_IMAGE", "?"), env("BENCH_KERNEL", "?"),
          " with -icount %s (the guest's clock counts its instructions "
          "while it runs, real time while it waits)" % icount if icount
          else "", os.cpu_count() or 0,
          "; kernel arguments added: `%s`" % env("BENCH_BOOT_APPEND", "")
          if env("BENCH_BOOT_APPEND", "") else ""))
    w("- peers: %s" % env("BENCH_NBDKIT", "?"))
    w("- medians of %s boots, the configurations interleaved in each "
      "repetition; measured in %s s" % (env("BENCH_BOOT_REPS", "?"),
                                       env("BENCH_ELAPSED", "?")))
    w("- time: the kernel's clock, from its \"Run /init\" line to the "
      "marker a unit ordered after multi-user.target writes to /dev/kmsg; "
      "for the download, its wall time is added")
    w("- fetched: the bytes the shaper sent down (HTTP headers included) "
      "and its requests, boot to marker (the nbdkit row also counts its "
      "start-up probe)")
    w("")
    head = ["server"] + ["%d ms" % d for d in delays]
    for title, cell in (
            ("Seconds to multi-user", lambda c, d: fmt(total(c, d), 1)),
            ("Extra seconds over the local export",
             lambda c, d: fmt(total(c, d) - floor, 1) if
             total(c, d) is not None and floor is not None else "-"),
            ("MB fetched (10^6 bytes) / requests",
             lambda c, d: "%s / %s" % (
                 fmt(med(pick(c, d, "fetched")) / 1e6
                     if med(pick(c, d, "fetched")) is not None else None, 1),
                 fmt(med(pick(c, d, "gets")), 0)))):
        w("## " + title)
        w("")
        w("| " + " | ".join(head) + " |")
        w("|---|" + "--:|" * len(delays))
        for c in configs:
            if c == "local":
                cells = [fmt(floor, 1) if "Extra" not in title or floor
                         is None else "0.0"] * len(delays)
                if title.startswith("MB"):
                    cells = ["-"] * len(delays)
            elif c == "trace" and env("BENCH_TRACE_NA"):
                cells = ["n/a"] * len(delays)
            else:
                cells = [cell(c, d) for d in delays]
            w("| %s | %s |" % (name(c), " | ".join(cells)))
        if "Extra" in title and env("BENCH_TRACE_NA"):
            w("")
            w("s3root + trace: n/a (%s)" % env("BENCH_TRACE_NA"))
        w("")
    dl = [c for c in configs if c == "download"]
    if dl:
        w("The download row is the download plus the boot: %s." % ", ".join(
            "%d ms %s + %s s" % (d, fmt(med(pick("download", d, "dl")), 1),
                                  fmt(med(pick("download", d, "boot")), 1))
            for d in delays))
        w("")
    w("## What the boot read, what was fetched")
    w("")
    w("| server | latency ms | boot reads | MB read | MB fetched | "
      "fetched / read | s3root's fetched MB | qemu start to marker s |")
    w("|---|--:|--:|--:|--:|--:|--:|--:|")
    for c in configs:
        for d in (delays[:1] if c == "local" else delays):
            rb, fb = med(pick(c, d, "read_bytes")), med(pick(c, d, "fetched"))
            if rb is None:
                continue
            sf = med(pick(c, d, "s3_fetched"))
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name(c), "-" if c == "local" else d,
                fmt(med(pick(c, d, "reads")), 0), fmt(rb / 1e6, 1),
                fmt(fb / 1e6 if fb is not None else None, 1),
                "%.2f×" % (fb / rb) if fb is not None and rb else "-",
                fmt(sf / 1e6 if sf is not None else None, 1),
                fmt(med(pick(c, d, "wall")), 1)))
    w("")
    with open(out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
