#!/usr/bin/python3
"""Clients that misbehave slowly, against `s3root serve --listen tcp:`.

Usage: nbd_stall.py HOST PORT MODE [ARGS]   (HOST "unix": PORT is its path)
  stall N LEN MAXOFF  handshake, send N READs of LEN bytes (offsets below
                      MAXOFF), read no reply; print "sent N" and sleep until
                      killed
  latency N MAXOFF    handshake, N READs of 4 KiB one after the other at
                      random offsets below MAXOFF, each checked for its
                      reply (10 s at most); print the median in microseconds
  silent              connect, send nothing; print the seconds until the
                      server closes (60 s at most)
  idle                handshake, then ask nothing; the same
"""
import random
import socket
import struct
import sys
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x3E889045565A9
OPT_GO, REP_ACK = 7, 1
REQ_MAGIC, REPLY_MAGIC = 0x25609513, 0x67446698


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        piece = s.recv(n - len(buf))
        if not piece:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += piece
    return buf


def handshake(s):
    magic, opt, _ = struct.unpack(">QQH", recv_exact(s, 18))
    assert magic == NBDMAGIC and opt == IHAVEOPT, (magic, opt)
    s.sendall(struct.pack(">I", 3))  # FIXED_NEWSTYLE | NO_ZEROES
    data = struct.pack(">IH", 0, 0)  # the default export, no info asked
    s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(data)) + data)
    while True:
        magic, _, rtype, rlen = struct.unpack(">QIII", recv_exact(s, 20))
        assert magic == REP_MAGIC, magic
        recv_exact(s, rlen)
        if rtype == REP_ACK:
            return
        assert rtype < 1 << 31, "option refused: %x" % rtype


def request(s, cookie, off, length):
    s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, 0, cookie, off, length))


def until_closed(s, t0):
    s.settimeout(60)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    print("%.1f" % (time.monotonic() - t0))


def main():
    host, port, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if host == "unix":
        s = socket.socket(socket.AF_UNIX)
        s.connect(port)
    else:
        s = socket.create_connection((host, int(port)))
    t0 = time.monotonic()
    if mode == "silent":
        return until_closed(s, t0)
    s.settimeout(10)
    handshake(s)
    if mode == "idle":
        return until_closed(s, time.monotonic())
    rng = random.Random(7)
    if mode == "stall":
        n, length, maxoff = map(int, sys.argv[4:7])
        for i in range(n):
            request(s, i, rng.randrange(0, maxoff - length, 4096), length)
        print("sent", n, flush=True)
        time.sleep(3600)
    elif mode == "latency":
        n, maxoff = int(sys.argv[4]), int(sys.argv[5])
        lat = []
        for i in range(n):
            t = time.monotonic()
            request(s, i, rng.randrange(0, maxoff - 4096, 4096), 4096)
            magic, err, cookie = struct.unpack(">IIQ", recv_exact(s, 16))
            assert (magic, err, cookie) == (REPLY_MAGIC, 0, i), (err, cookie)
            recv_exact(s, 4096)
            lat.append(time.monotonic() - t)
        lat.sort()
        print(int(lat[len(lat) // 2] * 1e6))


main()
