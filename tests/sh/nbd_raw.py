#!/usr/bin/python3
"""Malformed and hostile NBD traffic against `s3root serve`.

Usage: nbd_raw.py SOCKET EXPORT_SIZE

Speaks the protocol by hand (NBD proto.md) so it can break it: bad magic,
out-of-range and overflowing offsets, huge lengths, unknown commands and
flags, writes (refused, payload drained), truncated packets, bad option
data. Each case checks the exact reply, or that the server closed the
connection cleanly; after every case a fresh connection must still work.
"""
import socket
import struct
import sys

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x3E889045565A9
REQ_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST, OPT_INFO, OPT_GO = 1, 2, 3, 6, 7
OPT_STRUCTURED_REPLY = 8
REP_ACK, REP_SERVER, REP_INFO = 1, 2, 3
ERR_UNSUP, ERR_INVALID, ERR_UNKNOWN = (1 << 31) | 1, (1 << 31) | 3, (1 << 31) | 6
EPERM, EINVAL, EOVERFLOW = 1, 22, 75
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM, CMD_CACHE = 0, 1, 2, 3, 4, 5

path, size = sys.argv[1], int(sys.argv[2])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def closed(s):
    """True when the server has closed (EOF), within a few seconds."""
    s.settimeout(5)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def connect():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(10)
    magic, opt, flags = struct.unpack(">QQH", recv_exact(s, 18))
    check(magic == NBDMAGIC and opt == IHAVEOPT, "greeting magic")
    check(flags & 1, "fixed newstyle offered")
    return s


def option(s, opt, data=b""):
    s.sendall(struct.pack(">QII", IHAVEOPT, opt, len(data)) + data)


def reply(s):
    magic, opt, rtype, ln = struct.unpack(">QIII", recv_exact(s, 20))
    check(magic == REP_MAGIC, "option reply magic")
    return opt, rtype, recv_exact(s, ln)


def go(name=b""):
    s = connect()
    s.sendall(struct.pack(">I", 3))  # FIXED_NEWSTYLE | NO_ZEROES
    option(s, OPT_GO, struct.pack(">I", len(name)) + name + struct.pack(">HH", 1, 3))
    infos = []
    while True:
        _, rtype, data = reply(s)
        if rtype != REP_INFO:
            break
        infos.append(data)
    check(rtype == REP_ACK, f"GO answered {rtype:#x}")
    ex = [d for d in infos if struct.unpack(">H", d[:2])[0] == 0][0]
    _, esize, eflags = struct.unpack(">HQH", ex)
    check(esize == size, f"export size {esize} != {size}")
    check(eflags & 2, "read-only flag")
    return s


def request(s, cmd, off, ln, flags=0, cookie=0x1234):
    s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, flags, cmd, cookie, off, ln))


def simple_reply(s, cookie=0x1234):
    magic, err, ck = struct.unpack(">IIQ", recv_exact(s, 16))
    check(magic == REPLY_MAGIC, "reply magic")
    check(ck == cookie, f"cookie {ck:#x} != {cookie:#x}")
    return err


# --- negotiation ---
s = connect()
s.sendall(struct.pack(">I", 3))
option(s, OPT_LIST)
_, rtype, data = reply(s)
check(rtype == REP_SERVER, "LIST gives a server entry")
_, rtype, _ = reply(s)
check(rtype == REP_ACK, "LIST ends with ACK")
option(s, OPT_STRUCTURED_REPLY)
check(reply(s)[1] == ERR_UNSUP, "STRUCTURED_REPLY refused")
option(s, 0x7777)
check(reply(s)[1] == ERR_UNSUP, "unknown option refused")
option(s, OPT_GO, struct.pack(">I", 1000) + b"x")  # name longer than data
check(reply(s)[1] == ERR_INVALID, "GO with a truncated name")
option(s, OPT_GO, struct.pack(">I", 4) + b"nope" + struct.pack(">H", 0))
check(reply(s)[1] == ERR_UNKNOWN, "GO on an unknown export")
option(s, OPT_INFO, struct.pack(">I", 0) + struct.pack(">H", 2) + b"\0")
check(reply(s)[1] == ERR_INVALID, "INFO with an odd request list")
option(s, OPT_ABORT)
check(reply(s)[1] == REP_ACK and closed(s), "ABORT acknowledged and closed")
print("negotiation: ok")

s = connect()
s.sendall(struct.pack(">I", 0))  # not fixed newstyle
check(closed(s), "client without fixed newstyle closed")
s = connect()
s.sendall(struct.pack(">I", 3))
s.sendall(struct.pack(">QII", 0xBAD, OPT_GO, 0))
check(closed(s), "bad option magic closes")
s = connect()
s.sendall(struct.pack(">I", 3))
s.sendall(struct.pack(">QI", IHAVEOPT, OPT_GO)[:10])
s.shutdown(socket.SHUT_WR)
check(closed(s), "truncated option header closes")
s = connect()
s.sendall(struct.pack(">I", 3))
option(s, OPT_EXPORT_NAME, b"")
esize, eflags = struct.unpack(">QH", recv_exact(s, 10))
check(esize == size and eflags & 2, "EXPORT_NAME with no zeroes")
request(s, CMD_READ, 0, 512)
check(simple_reply(s) == 0 and len(recv_exact(s, 512)) == 512, "read after EXPORT_NAME")
print("bad negotiation: ok")

# --- transmission: each bad request gets exactly one error reply ---
s = go()
cases = [
    ("read past the end", CMD_READ, size - 4096, 8192, 0, EINVAL),
    ("offset past the end", CMD_READ, size + 4096, 512, 0, EINVAL),
    ("offset + length overflowing", CMD_READ, (1 << 64) - 512, 1024, 0, EINVAL),
    ("zero length", CMD_READ, 0, 0, 0, EINVAL),
    ("huge length", CMD_READ, 0, 0xFFFFFFFF, 0, EOVERFLOW),
    ("unknown flag on read", CMD_READ, 0, 512, 0x80, EINVAL),
    ("unknown command", 99, 0, 512, 0, EINVAL),
    ("cache was not offered", CMD_CACHE, 0, 512, 0, EINVAL),
    ("trim refused", CMD_TRIM, 0, 4096, 0, EPERM),
    ("flush with a range", CMD_FLUSH, 0, 4096, 0, EINVAL),
    ("flush", CMD_FLUSH, 0, 0, 0, 0),
]
for i, (what, cmd, off, ln, flags, want) in enumerate(cases):
    request(s, cmd, off, ln, flags, cookie=i)
    got = simple_reply(s, cookie=i)
    check(got == want, f"{what}: error {got}, want {want}")
# a write: payload drained, EPERM, the stream stays in sync
request(s, CMD_WRITE, 0, 70000, cookie=77)
s.sendall(b"\xAA" * 70000)
check(simple_reply(s, 77) == EPERM, "write refused with EPERM")
# many reads in flight, answered (possibly out of order) by cookie
want = {}
for i in range(64):
    request(s, CMD_READ, (i * 7919 * 512) % (size - 65536), 4096 * (1 + i % 16), cookie=1000 + i)
    want[1000 + i] = 4096 * (1 + i % 16)
for _ in range(64):
    magic, err, ck = struct.unpack(">IIQ", recv_exact(s, 16))
    check(magic == REPLY_MAGIC and err == 0 and ck in want, f"reply for {ck}")
    recv_exact(s, want.pop(ck))
check(not want, "every read answered once")
request(s, CMD_DISC, 0, 0)
check(closed(s), "DISC closes")
print("requests: ok")

s = go(b"")
request(s, CMD_READ, 0, 4096)
s.sendall(struct.pack(">I", 0xDEADBEEF) + b"\0" * 24)  # then garbage
check(simple_reply(s) == 0 and len(recv_exact(s, 4096)) == 4096, "read before the garbage answered")
check(closed(s), "bad request magic closes")
s = go()
request(s, CMD_WRITE, 0, 1 << 30)  # a payload nobody should drain
check(closed(s), "gigantic write payload closes")
s = go()
s.sendall(struct.pack(">IHH", REQ_MAGIC, 0, CMD_READ))  # truncated request
s.shutdown(socket.SHUT_WR)
check(closed(s), "truncated request closes")
s = go()
request(s, CMD_READ, 0, 4096)
s.close()  # gone with a reply pending: the server must not fall over
s = go()
request(s, CMD_READ, 4096, 4096)
check(simple_reply(s) == 0 and len(recv_exact(s, 4096)) == 4096, "server still serves")
print("broken clients: ok")
sys.exit(1 if failures else 0)
