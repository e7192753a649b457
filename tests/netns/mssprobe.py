#!/usr/bin/env python3
"""Send a TCP SYN with a chosen MSS option, or catch one and print its MSS.

    mssprobe.py send SRC DST DPORT MSS
    mssprobe.py recv DST DPORT TIMEOUT READYFILE

recv prints the MSS option of the first SYN to DST port DPORT that arrives, or
"bad-checksum" when its TCP checksum (checked here, against the IPv6
pseudo header) is wrong, or "timeout".  Raw IPv6 sockets, so root.
"""
import ipaddress
import select
import socket
import struct
import sys
import time

IPV6_CHECKSUM = 7


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def send(src, dst, dport, mss):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    # The kernel fills in the checksum (with the pseudo header) at offset 16.
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
    s.bind((src, 0))
    opts = struct.pack("!BBH", 2, 4, mss) + b"\x01\x01\x04\x02"  # MSS, NOP NOP SACK-ok
    hdr = struct.pack("!HHIIBBHHH", 40123, dport, 1, 0, (20 + len(opts)) // 4 << 4, 0x02,
                      64800, 0, 0)
    s.sendto(hdr + opts, (dst, 0))


def recv(dst, dport, timeout, ready):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    open(ready, "w").close()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not select.select([s], [], [], max(0, end - time.monotonic()))[0]:
            break
        data, (src, *_rest) = s.recvfrom(65535)
        if len(data) < 20 or struct.unpack("!H", data[2:4])[0] != dport or not data[13] & 0x02:
            continue
        pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed +
                  struct.pack("!IxxxB", len(data), 6))
        if csum(pseudo + data) != 0xFFFF:
            print("bad-checksum")
            return 0
        doff, i = (data[12] >> 4) * 4, 20
        while i < doff:
            kind = data[i]
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            if kind == 2:
                print(struct.unpack("!H", data[i + 2:i + 4])[0])
                return 0
            i += data[i + 1]
        print("no-mss")
        return 0
    print("timeout")
    return 0


def main():
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return 0
    return recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])


if __name__ == "__main__":
    sys.exit(main())
