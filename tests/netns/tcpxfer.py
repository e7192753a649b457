#!/usr/bin/env python3
"""TCP transfers for the data-path test, every byte checked by SHA-256.

    tcpxfer.py serve ADDR PORT READYFILE [MSS]
    tcpxfer.py up|down ADDR PORT SRC BYTES SEED

serve answers one connection after another: "up N" reads N bytes and
answers their SHA-256; "down N SEED" sends N bytes made from SEED.  up and
down exit 0 only when the digest matches what they sent or expected.  MSS
makes the server announce that MSS (TCP_MAXSEG), so its peer sends small
segments.
"""
import hashlib
import random
import socket
import sys

TIMEOUT = 60


def payload(n, seed):
    return random.Random(seed).randbytes(n)


def read_line(conn):
    line = b""
    while not line.endswith(b"\n"):
        b = conn.recv(1)
        if not b:
            raise EOFError("connection closed in the request")
        line += b
    return line.decode().split()


def serve(addr, port, ready, mss=None):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mss:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    s.bind((addr, port))
    s.listen(4)
    open(ready, "w").close()
    while True:
        conn, _ = s.accept()
        conn.settimeout(TIMEOUT)
        try:
            req = read_line(conn)
            if req[0] == "up":
                left, h = int(req[1]), hashlib.sha256()
                while left:
                    b = conn.recv(min(left, 1 << 20))
                    if not b:
                        break
                    h.update(b)
                    left -= len(b)
                conn.sendall(h.hexdigest().encode() + b"\n")
            elif req[0] == "down":
                conn.sendall(payload(int(req[1]), int(req[2])))
        except (OSError, EOFError, ValueError, IndexError) as e:
            print("serve: %s" % e, file=sys.stderr)
        finally:
            conn.close()


def client(mode, addr, port, src, n, seed):
    c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    c.settimeout(TIMEOUT)
    c.bind((src, 0))
    c.connect((addr, port))
    data = payload(n, seed)
    if mode == "up":
        c.sendall(b"up %d\n" % n + data)
        got = c.makefile("rb").readline().decode().strip()
        ok = got == hashlib.sha256(data).hexdigest()
    else:
        c.sendall(b"down %d %d\n" % (n, seed))
        h, left = hashlib.sha256(), n
        while left:
            b = c.recv(min(left, 1 << 20))
            if not b:
                break
            h.update(b)
            left -= len(b)
        ok = left == 0 and h.hexdigest() == hashlib.sha256(data).hexdigest()
    c.close()
    print("%s %d bytes: %s" % (mode, n, "ok" if ok else "MISMATCH"))
    return 0 if ok else 1


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4],
              int(sys.argv[5]) if len(sys.argv) > 5 else None)
        return 0
    return client(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
                  int(sys.argv[6]))


if __name__ == "__main__":
    sys.exit(main())
