#!/usr/bin/env python3
"""One UDP_SEGMENT send of COUNT datagrams, and a receiver that checks them.

    udpburst.py send SRC DST PORT SIZE COUNT
    udpburst.py recv ADDR PORT SIZE TIMEOUT READYFILE

The sender hands the kernel COUNT * SIZE bytes in one sendmsg with a
UDP_SEGMENT of SIZE: a TUN with USO gets them as one super-packet.  Datagram
i holds i (2 bytes) and then bytes i + k.  recv prints how many distinct,
intact datagrams arrived (waiting up to 4 * TIMEOUT for the first one, then
until a gap of TIMEOUT seconds).
"""
import select
import socket
import struct
import sys

UDP_SEGMENT = 103


def body(i, size):
    return struct.pack("!H", i) + bytes((i + k) & 0xFF for k in range(size - 2))


def send(src, dst, port, size, count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, 0))
    data = b"".join(body(i, size) for i in range(count))
    s.sendmsg([data], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("=H", size))], 0, (dst, port))


def recv(addr, port, size, timeout, ready):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((addr, port))
    open(ready, "w").close()
    seen = set()
    while select.select([s], [], [], timeout if seen else 4 * timeout)[0]:
        d = s.recv(65536)
        if len(d) == size and d == body(struct.unpack("!H", d[:2])[0], size):
            seen.add(d[:2])
    print(len(seen))


def main():
    a = sys.argv
    if a[1] == "send":
        send(a[2], a[3], int(a[4]), int(a[5]), int(a[6]))
    else:
        recv(a[2], int(a[3]), int(a[4]), float(a[5]), a[6])
    return 0


if __name__ == "__main__":
    sys.exit(main())
