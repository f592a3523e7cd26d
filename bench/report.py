#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""report.py RESULTS.tsv OUT: bench/run.sh's measurements as OUT.md (tables
and ratios, Markdown) and OUT.png (gnuplot: IOPS and throughput against
added latency). The run's facts come from BENCH_* environment variables.

RESULTS.tsv, one line per measurement: server, workload, added latency (ms),
IOPS, MB/s, p50 ms, p99 ms, peak RSS (KiB), CPU ms, bytes read ("-" where a
figure does not apply).
"""

import os
import subprocess
import sys
import tempfile

NAMES = {
    "s3root": "s3root",
    "s3root-s3": "s3root (s3://, signed)",
    "nbdkit": "nbdkit curl",
    "nbdkit-ra": "nbdkit readahead",
    "nbdkit-cache": "nbdkit cache",
    "nbdkit-ra-cache": "nbdkit readahead+cache",
    "curl": "curl (one connection)",
}
PEERS = ["nbdkit", "nbdkit-ra", "nbdkit-cache", "nbdkit-ra-cache"]
WORKLOADS = {
    "rand4k-qd1": ("4 KiB random reads, 1 deep", "iops", "IOPS"),
    "rand4k-qd32": ("4 KiB random reads, 32 deep", "iops", "IOPS"),
    "rand4k-qd128": ("4 KiB random reads, 128 deep", "iops", "IOPS"),
    "seq1m": ("1 MiB sequential reads, 8 deep (connections capped)",
              "mbps", "MB/s"),
    "trace": ("kernel read trace: mount, read every file", "mbps", "MB/s"),
}
COLS = ["server", "wl", "delay", "iops", "mbps", "p50", "p99", "rss",
        "cpu_ms", "bytes"]


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            r = dict(zip(COLS, line.rstrip("\n").split("\t")))
            if len(r) != len(COLS):
                continue
            for k in COLS[2:]:
                r[k] = num(r[k])
            b, cpu = r["bytes"], r["cpu_ms"]
            # a server's CPU time comes in clock ticks (10 ms): below
            # 0.1 s the figure would be mostly rounding (curl's is exact)
            r["cpu_gb"] = cpu / 1000 / (b / 1e9) if b and cpu is not None \
                and (cpu >= 100 or r["server"] == "curl") else None
            rows.append(r)
    return rows


def fmt(v, digits=1):
    if v is None:
        return "-"
    if digits == 0 or abs(v) >= 1000:
        return "%.0f" % v
    return "%.*f" % (digits, v)


def depth_limit(wl, d):
    """A random workload's queue-depth limit: depth / added latency (IOPS);
    None without a depth or a latency."""
    if not wl.startswith("rand4k-qd") or not d:
        return None
    return int(wl[len("rand4k-qd"):]) * 1000.0 / d


def ratio(a, b):
    if a is None or not b:
        return "-"
    return "%.2f×" % (a / b)


def main():
    rows, out = load(sys.argv[1]), sys.argv[2]
    env = os.environ.get
    delays = [int(d) for d in env("BENCH_DELAYS", "0 10 30").split()]
    get = {(r["server"], r["wl"], int(r["delay"])): r for r in rows}
    servers = [s for s in NAMES if any(r["server"] == s for r in rows)]
    wls = [w for w in WORKLOADS if any(r["wl"] == w for r in rows)]
    md = []
    w = md.append

    w("# s3root benchmark, %s" % env("BENCH_STAMP", "?"))
    w("")
    w("- binary under test: %s (tree %s), options `%s`" % (
        env("BENCH_S3ROOT", "?"), env("BENCH_COMMIT", "?"),
        env("S3ROOT_OPTS") or "(defaults)"))
    w("- peers: %s, %s; %s; %d CPUs, %s" % (
        env("BENCH_NBDKIT", "?"), env("BENCH_CURL", "?"),
        env("BENCH_FIO", "?"), os.cpu_count() or 0, os.uname().release))
    w("- object: %s, public-read on a local Ceph RGW" % env("BENCH_IMAGE"))
    w("- trace: %s replayed %s deep" % (env("BENCH_TRACE_INFO", "none"),
                                       env("BENCH_TRACE_DEPTH", "?")))
    w("- shaper: %s ms before each response's first byte; seq1m and the "
      "curl limit also capped at %s bytes/s per connection" % (
          ", ".join(map(str, delays)), env("BENCH_RATE", "?")))
    w("- random workloads run %s s each; seq1m reads the whole object "
      "once; the trace replay reads the same requests for every server"
      % env("BENCH_TIME", "?"))
    w("")
    w("## Results")
    w("")
    w("| workload | latency ms | server | IOPS | MB/s | p50 ms | p99 ms "
      "| peak RSS MiB | CPU s/GB |")
    w("|---|--:|---|--:|--:|--:|--:|--:|--:|")
    for wl in wls + ["limit"]:
        for d in delays:
            for s in servers:
                r = get.get((s, wl, d))
                if not r:
                    continue
                w("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                    wl, d, NAMES[s], fmt(r["iops"], 0), fmt(r["mbps"]),
                    fmt(r["p50"], 2), fmt(r["p99"], 2),
                    fmt(r["rss"] / 1024 if r["rss"] else None),
                    fmt(r["cpu_gb"])))
    w("")
    w("## Random reads against the queue-depth limit")
    w("")
    w("With d reads in flight and an added latency of RTT, no server "
      "answers more than d / RTT reads a second (the RGW's own time "
      "aside).")
    w("")
    w("| workload | latency ms | server | IOPS | limit d/RTT | of the "
      "limit |")
    w("|---|--:|---|--:|--:|--:|")
    for wl in [x for x in wls if x.startswith("rand4k-qd")]:
        for d in delays:
            lim = depth_limit(wl, d)
            for s in servers:
                r = get.get((s, wl, d))
                if not r or lim is None:
                    continue
                w("| %s | %d | %s | %s | %s | %s |" % (
                    wl, d, NAMES[s], fmt(r["iops"], 0), fmt(lim, 0),
                    "%.0f%%" % (100 * r["iops"] / lim)
                    if r["iops"] is not None else "-"))
    w("")
    w("## s3root against its peers")
    w("")
    w("s3root's figure (IOPS for random reads, MB/s otherwise) divided by "
      "each peer's; above 1× s3root is faster. The curl limit is one "
      "connection's download; the limit of a random workload is its "
      "depth divided by the added latency.")
    w("")
    head = ["workload", "latency ms", "s3root"] + \
        ["÷ " + NAMES[p] for p in PEERS] + ["÷ curl limit", "÷ depth/RTT"]
    w("| " + " | ".join(head) + " |")
    w("|---|--:|" + "--:|" * (len(head) - 2))
    for wl in wls:
        key = WORKLOADS[wl][1]
        for d in delays:
            me = get.get(("s3root", wl, d))
            if not me:
                continue
            v = me[key]
            cells = [wl, str(d), "%s %s" % (fmt(v, 1 if key == "mbps"
                                                  else 0),
                                            WORKLOADS[wl][2])]
            for p in PEERS:
                r = get.get((p, wl, d))
                cells.append(ratio(v, r[key] if r else None))
            lim = get.get(("curl", "limit", d))
            cells.append(ratio(v, lim["mbps"]) if lim and wl == "seq1m"
                         else "-")
            cells.append(ratio(v, depth_limit(wl, d)))
            w("| " + " | ".join(cells) + " |")
    w("")
    w("![IOPS and throughput against added latency](%s.png)" %
      os.path.basename(out))
    w("")
    w("Columns: IOPS and MB/s (10^6 bytes/s) as fio counts them; p50/p99: "
      "completion latency percentiles; peak RSS: the server's VmHWM at the "
      "end of the run; CPU s/GB: the server's user+system time during the "
      "run per 10^9 bytes read (for curl: the whole download); \"-\" "
      "when a server used less than 0.1 s, too little to measure in "
      "10 ms clock ticks. "
      "Each server is started afresh for each run, so caches start cold.")
    with open(out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    plot(get, servers, delays, wls, out)


def plot(get, servers, delays, wls, out):
    with tempfile.TemporaryDirectory() as tmp:
        cmds = ['set terminal pngcairo size 1400,1000 font ",10"',
                "set output '%s.png'" % out,
                'set datafile missing "-"',
                "set multiplot layout %d,2 title" % ((len(wls) + 1) // 2) +
                "  's3root and its peers "
                "through added latency'",
                "set xlabel 'added latency (ms)'",
                "set logscale y", "set grid", "set key below font \",9\"",
                "set xrange [%f:%f]" % (min(delays) - 2, max(delays) + 2),
                "set xtics (%s)" % ", ".join(map(str, delays))]
        for wl in wls:
            title, key, unit = WORKLOADS[wl]
            cols = list(servers) if wl != "seq1m" else \
                [s for s in servers if s != "curl"] + ["curl"]
            data = os.path.join(tmp, wl + ".dat")
            with open(data, "w") as f:
                for d in delays:
                    vals = []
                    for s in cols:
                        r = get.get((s, "limit" if s == "curl" else wl, d))
                        v = r[key] if r and key in r else None
                        if wl.startswith("rand4k-qd") and s == "curl":
                            v = None
                        vals.append("-" if v is None else "%g" % v)
                    if depth_limit(wl, 1):
                        lim = depth_limit(wl, d)
                        vals.append("-" if lim is None else "%g" % lim)
                    f.write("%d %s\n" % (d, " ".join(vals)))
            names = [NAMES[s] for s in cols]
            if depth_limit(wl, 1):
                names.append("limit: depth / latency")
            series = []
            for i, n in enumerate(names):
                if n == NAMES["curl"] and wl != "seq1m":
                    continue
                dashed = n.startswith("bound") or n == NAMES["curl"]
                series.append("'%s' using 1:%d with linespoints %s%stitle "
                              "'%s'" % (data, i + 2,
                                        "dashtype 2 " if dashed else "",
                                        "lw 2 " if n.startswith("s3root")
                                        else "", n))
            cmds += ["set title '%s'" % title, "set ylabel '%s'" % unit,
                     "plot " + ", ".join(series)]
        cmds.append("unset multiplot")
        subprocess.run(["gnuplot"], input="\n".join(cmds) + "\n",
                       text=True, check=True)


if __name__ == "__main__":
    main()
