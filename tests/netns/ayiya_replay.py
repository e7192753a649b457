#!/usr/bin/env python3
"""Test helper (issue 12): capture and replay AYIYA datagrams of the PoP.

Runs in the PoP's namespace, as root.

    ayiya_replay.py capture IFACE OUT [TIMEOUT]   the first PoP->client AYIYA
                  datagram carrying an IPv6 packet, seen leaving on IFACE:
                  OUT gets {"dport", "dst", "epoch", "hex"} (JSON)
    ayiya_replay.py replay CAPTURE COUNT          send the captured bytes again,
                  COUNT times, from the PoP's address and port
    ayiya_replay.py forge CAPTURE PASSWORD AGE COUNT [ID]   a new datagram from
                  the PoP, validly signed, whose epoch is AGE seconds old (what
                  a datagram captured AGE seconds ago looks like), holding an
                  echo request to the client's tunnel address; sent COUNT times

Standard library only; addresses come from the capture.
"""
import ipaddress
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim"))
import ayiya  # noqa: E402

ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
PORT = 5072
AYIYA_HDR = 8 + 16 + 20  # header, identity, signature


def capture(iface, out, timeout=20.0):
    # ETH_P_ALL: only such sockets see what the host sends, not just what it receives
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(1.0)
    deadline = time.time() + float(timeout)
    while time.time() < deadline:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[1] != ETH_P_IP:
            continue
        ihl = (pkt[0] & 15) * 4
        if pkt[9] != 17 or len(pkt) < ihl + 8 + AYIYA_HDR + 40:
            continue
        sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
        data = pkt[ihl + 8:]
        if sport != PORT or data[3] != 41:
            continue
        rec = {"src": socket.inet_ntoa(pkt[12:16]), "dst": socket.inet_ntoa(pkt[16:20]),
               "dport": dport, "epoch": struct.unpack("!I", data[4:8])[0], "hex": data.hex()}
        with open(out, "w") as fh:
            json.dump(rec, fh)
        return 0
    print("no AYIYA datagram seen on %s" % iface, file=sys.stderr)
    return 1


def send(rec, data, count):
    """UDP from the PoP's address and port (its own socket holds the port: raw IP)."""
    src, dst = socket.inet_aton(rec["src"]), socket.inet_aton(rec["dst"])
    udp = struct.pack("!HHHH", PORT, rec["dport"], 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(int(count)):
        s.sendto(ip + udp, (rec["dst"], 0))
    return 0


def echo_request(src, dst, ident):
    """An ICMPv6 echo request src -> dst (checksum over the pseudo-header)."""
    body = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"replay-test"
    pseudo = src + dst + struct.pack("!I3xB", len(body), 58)
    total = sum(struct.unpack("!%dH" % ((len(pseudo) + len(body) + 1) // 2),
                              (pseudo + body + b"\0")[: (len(pseudo) + len(body) + 1) // 2 * 2]))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    body = body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:]
    return struct.pack("!IHBB", 0x60000000, len(body), 58, 64) + src + dst + body


def forge(rec, password, age, count, ident=1):
    inner = bytes.fromhex(rec["hex"])[AYIYA_HDR:]
    src, dst = inner[8:24], inner[24:40]  # the captured packet's addresses
    if ipaddress.IPv6Address(dst).is_link_local:
        raise SystemExit("captured packet is link-local")
    identity = bytes.fromhex(rec["hex"])[8:24]
    data = ayiya.build(password, identity, int(time.time()) - int(age), 1, 41,
                       echo_request(src, dst, int(ident)))
    return send(rec, data, count)


def main(argv):
    if len(argv) >= 3 and argv[0] == "capture":
        return capture(argv[1], argv[2], *(argv[3:4]))
    rec = json.load(open(argv[1])) if len(argv) > 1 else None
    if len(argv) == 3 and argv[0] == "replay":
        return send(rec, bytes.fromhex(rec["hex"]), argv[2])
    if len(argv) in (5, 6) and argv[0] == "forge":
        return forge(rec, argv[2], argv[3], argv[4], *(argv[5:6]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
