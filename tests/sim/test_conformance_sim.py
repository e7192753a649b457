#!/usr/bin/env python3
"""The simulator accepts every packet the real AICCU client sent.

Reads the captures of the real client (tests/data/conformance/, copied
unchanged from the lab where they were taken; tunnel parameters in that
directory's README) with a minimal classic-libpcap reader written here, and
feeds each AYIYA datagram and each heartbeat to the simulator's verifiers
and to an in-process PoP, with "now" = the packet's capture time; and
checks that the simulator's PoP sends the real PoP's bytes (sixxsd's
datagrams rebuilt from their inner packets).  Where a capture and the
simulator disagree, the capture is right.

    cd tests/sim && python3 -m unittest test_conformance_sim
"""

import ipaddress
import os
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ayiya  # noqa: E402
import heartbeat  # noqa: E402
from test_pop_sim import Harness, drops_total  # noqa: E402

DATA = os.path.join(HERE, "..", "data", "conformance")

CLIENT4 = "192.0.2.2"
POP4 = "192.0.2.1"
T10001 = {"id": "T10001", "type": "ayiya", "password": "tunnel-secret-1",
          "ipv6_pop": "2001:db8:1::1", "ipv6_client": "2001:db8:1::2", "prefix_len": 64}
T20002 = {"id": "T20002", "type": "6in4-heartbeat", "password": "tunnel-secret-2",
          "ipv6_pop": "2001:db8:2::1", "ipv6_client": "2001:db8:2::2", "prefix_len": 64}

LINKTYPE_ETHERNET = 1
ETH_IPV4 = 0x0800


# --------------------------------------------------------------------------
# Classic libpcap (not pcapng): 24-byte global header, then per packet a
# 16-byte record header (seconds, microseconds, captured and original
# length) and the frame.  The magic number tells the byte order.
# --------------------------------------------------------------------------
def read_pcap(path):
    """[(time as float seconds, frame bytes)]; refuses anything but classic
    microsecond pcap of Ethernet frames."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        raise ValueError("%s: no pcap header" % path)
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        order = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        order = ">"
    else:
        raise ValueError("%s: not a classic microsecond pcap (magic %s)" % (path, magic.hex()))
    _, _, _, _, snaplen, linktype = struct.unpack(order + "HHiIII", data[4:24])
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError("%s: link type %d, not Ethernet" % (path, linktype))
    packets, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError("%s: truncated record header at %d" % (path, off))
        sec, usec, incl, orig = struct.unpack(order + "IIII", data[off:off + 16])
        off += 16
        if incl > orig or incl > max(snaplen, 65535) or off + incl > len(data):
            raise ValueError("%s: bad record at %d" % (path, off - 16))
        if incl < orig:
            raise ValueError("%s: packet at %d truncated by the capture" % (path, off - 16))
        packets.append((sec + usec / 1e6, data[off:off + incl]))
        off += incl
    return packets


def ipv4_packets(path):
    """[(time, ipv4 packet bytes, fields)] of the capture's IPv4 frames;
    fields: src, dst, proto, and for UDP sport, dport, payload."""
    out = []
    for ts, frame in read_pcap(path):
        if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != ETH_IPV4:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        ip = ip[:total]  # Ethernet padding is not part of the packet
        f = {"src": str(ipaddress.IPv4Address(ip[12:16])),
             "dst": str(ipaddress.IPv4Address(ip[16:20])), "proto": ip[9]}
        if f["proto"] == 17:
            f["sport"], f["dport"], ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            f["payload"] = ip[ihl + 8:ihl + ulen]
        out.append((ts, ip, f))
    return out


def capture(name):
    return ipv4_packets(os.path.join(DATA, name))


def udp_to(packets, port, src=CLIENT4):
    return [(ts, f) for ts, _, f in packets
            if f["proto"] == 17 and f["dport"] == port and f["src"] == src]


def lookup_for(spec):
    pop6 = ipaddress.IPv6Address(spec["ipv6_pop"])
    net = ipaddress.IPv6Network((pop6, spec["prefix_len"]), strict=False)

    def lookup(identity):
        return spec["password"] if ipaddress.IPv6Address(identity) in net else None
    return lookup


class PcapReader(unittest.TestCase):
    """The reader itself, on what tshark shows for these files."""

    def test_frames_and_times(self):
        pk = read_pcap(os.path.join(DATA, "aiccu-ayiya.pcap"))
        self.assertEqual(len(pk), 31)
        times = [t for t, _ in pk]
        self.assertEqual(times, sorted(times))
        self.assertAlmostEqual(times[-1] - times[0], 62.415190, places=5)
        hb = read_pcap(os.path.join(DATA, "aiccu-heartbeat.pcap"))
        self.assertEqual(len(hb), 20)

    def test_rejects_other_formats(self):
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".pcapng") as fh:
            fh.write(b"\x0a\x0d\x0d\x0a" + bytes(40))
            fh.flush()
            with self.assertRaises(ValueError):
                read_pcap(fh.name)


class AiccuAyiya(unittest.TestCase):
    """aiccu-ayiya.pcap: AICCU's AYIYA datagrams of T10001."""

    @classmethod
    def setUpClass(cls):
        cls.packets = capture("aiccu-ayiya.pcap")
        cls.datagrams = udp_to(cls.packets, 5072)

    def test_capture_holds_what_the_readme_says(self):
        self.assertEqual(len(self.datagrams), 20)
        ops = [f["payload"][2] & 0x0F for _, f in self.datagrams]
        # 3 start-up beats back to back (after a leaked router solicitation)
        first = ops.index(ayiya.OP_NOOP)
        self.assertEqual(ops[first:first + 4], [ayiya.OP_NOOP] * 3 + [ayiya.OP_FORWARD])
        self.assertLess(self.datagrams[first + 2][0] - self.datagrams[first][0], 0.1)
        # then one per interval (60 s)
        noops = [ts for (ts, _), op in zip(self.datagrams, ops) if op == ayiya.OP_NOOP]
        self.assertEqual(len(noops), 4)
        self.assertAlmostEqual(noops[3] - noops[0], 60, delta=1)

    def test_verifier_accepts_every_datagram_at_capture_time(self):
        lookup = lookup_for(T10001)
        for ts, f in self.datagrams:
            verdict, fields = ayiya.verify(lookup, f["payload"], ts)
            self.assertEqual(verdict, ayiya.OK, "datagram at %.6f" % ts)
            self.assertEqual(fields["identity"], ipaddress.IPv6Address("2001:db8:1::2").packed)

    def test_verifier_is_not_blind(self):
        # the same packets fail with another password or 121 s later
        wrong = dict(T10001, password="tunnel-secret-2")
        for ts, f in self.datagrams:
            self.assertEqual(ayiya.verify(lookup_for(wrong), f["payload"], ts)[0], ayiya.SIGNATURE)
            self.assertEqual(ayiya.verify(lookup_for(T10001), f["payload"], ts + 121)[0], ayiya.CLOCK)

    def test_pop_accepts_every_datagram(self):
        h = Harness([T10001])
        self.addCleanup(h.close)
        want_delivered = b""
        noops = link_local = 0
        for ts, f in self.datagrams:
            h.at(ts)
            h.server.handle_datagram(f["payload"], (f["src"], f["sport"]))
            op, payload = f["payload"][2] & 0x0F, f["payload"][44:]
            if op == ayiya.OP_NOOP:
                noops += 1
            elif payload[8] == 0xFE and payload[9] & 0xC0 == 0x80:
                link_local += 1
            else:
                want_delivered += payload
        s = h.stats("T10001")
        self.assertEqual(drops_total(s), 0, s["drops"])
        self.assertEqual(drops_total(h.global_stats()), 0)
        self.assertEqual(s["keepalives"], noops)
        self.assertEqual(s["link_local"], link_local)
        self.assertGreater(link_local, 0)  # the router solicitations AICCU leaks
        self.assertEqual(s["rx_packets"], len(self.datagrams) - noops - link_local)
        self.assertEqual(h.delivered("T10001"), want_delivered)
        self.assertEqual(s["client"], "%s:%d" % (CLIENT4, self.datagrams[0][1]["sport"]))
        self.assertNotIn("drop", h.log_text())

    def test_pop_side_datagrams_verify_too(self):
        # the PoP's answers in the same capture carry the PoP's identity
        lookup = lookup_for(T10001)
        answers = udp_to(self.packets, self.datagrams[0][1]["sport"], src=POP4)
        self.assertGreater(len(answers), 0)
        for ts, f in answers:
            verdict, fields = ayiya.verify(lookup, f["payload"], ts)
            self.assertEqual(verdict, ayiya.OK, "datagram at %.6f" % ts)
            self.assertEqual(fields["identity"], ipaddress.IPv6Address("2001:db8:1::1").packed)


class SixxsdAyiya(unittest.TestCase):
    """sixxsd-ayiya.pcap: the real PoP's datagrams of T1001.  The simulator's
    send path must produce the same bytes from the same inner packet."""

    T1001 = {"id": "T1001", "type": "ayiya", "password": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
             "ipv6_pop": "2001:db8:2ff:1::1", "ipv6_client": "2001:db8:2ff:1::2",
             "prefix_len": 64}

    @classmethod
    def setUpClass(cls):
        cls.packets = [(ts, ip, f) for ts, ip, f in capture("sixxsd-ayiya.pcap")
                       if f["proto"] == 17 and f["src"] == POP4 and f["sport"] == 5072]

    def test_udp_checksum_zero_and_df_like_the_simulator(self):
        self.assertGreater(len(self.packets), 0)
        for _, ip, _f in self.packets:
            ihl = (ip[0] & 0x0F) * 4
            self.assertEqual(struct.unpack("!H", ip[6:8])[0] & 0x4000, 0x4000)  # DF
            self.assertEqual(ip[ihl + 6:ihl + 8], b"\0\0")  # UDP checksum 0

    def test_simulator_sends_the_same_bytes(self):
        class Sock:
            sent = []

            def sendto(self, data, addr):
                self.sent.append((data, addr))
        h = Harness([self.T1001])
        self.addCleanup(h.close)
        h.server.sock = Sock()
        t = h.tunnels[0]
        for ts, _, f in self.packets:
            fields = ayiya.parse(f["payload"])
            self.assertEqual((fields["opcode"], fields["next_header"]), (ayiya.OP_FORWARD, ayiya.NH_IPV6))
            t.endpoint = (f["dst"], f["dport"])
            h.at(fields["epoch"] + 0.5)  # the PoP's clock in that second
            h.server.send(t, fields["payload"])
            data, addr = Sock.sent[-1]
            self.assertEqual(addr, (f["dst"], f["dport"]))
            self.assertEqual(data, f["payload"], "datagram at %.6f" % ts)
        self.assertEqual(h.stats("T1001")["tx_packets"], len(self.packets))


class AiccuHeartbeat(unittest.TestCase):
    """aiccu-heartbeat.pcap: AICCU's heartbeats and proto-41 of T20002."""

    @classmethod
    def setUpClass(cls):
        cls.packets = capture("aiccu-heartbeat.pcap")
        cls.beats = udp_to(cls.packets, heartbeat.PORT)
        cls.proto41 = [(ts, ip) for ts, ip, f in cls.packets
                       if f["proto"] == 41 and f["src"] == CLIENT4]

    def lookup(self, addr):
        return T20002["password"] if addr == ipaddress.IPv6Address(T20002["ipv6_client"]) else None

    def test_capture_holds_what_the_readme_says(self):
        self.assertEqual(len(self.beats), 3)
        self.assertEqual(self.beats[0][1]["payload"], self.beats[1][1]["payload"])  # 2 identical at start
        self.assertNotEqual(self.beats[0][1]["sport"], self.beats[1][1]["sport"])  # fresh port each
        self.assertGreater(len(self.proto41), 0)

    def test_verifier_accepts_every_heartbeat_at_capture_time(self):
        for ts, f in self.beats:
            verdict, fields = heartbeat.verify(self.lookup, f["payload"], f["src"], ts)
            self.assertEqual(verdict, heartbeat.OK, "heartbeat at %.6f: %r" % (ts, f["payload"]))
            self.assertEqual(fields["ipv4_text"], "sender")  # whatever behindnat says
            self.assertEqual(str(fields["client_ipv4"]), CLIENT4)

    def test_verifier_is_not_blind(self):
        for ts, f in self.beats:
            self.assertEqual(heartbeat.verify(self.lookup, f["payload"], f["src"], ts + 121)[0],
                             heartbeat.CLOCK)
            self.assertEqual(heartbeat.verify(lambda a: "tunnel-secret-1", f["payload"], f["src"],
                                              ts)[0], heartbeat.HASH)
        # and the wall clock is not the capture's: a verifier must be told the time
        ts, f = self.beats[0]
        if abs(time.time() - ts) > heartbeat.MAX_CLOCK_SKEW:
            self.assertEqual(heartbeat.verify(self.lookup, f["payload"], f["src"], time.time())[0],
                             heartbeat.CLOCK)

    def test_pop_accepts_every_heartbeat_and_proto41_packet(self):
        h = Harness([T20002])
        self.addCleanup(h.close)
        events = sorted([(ts, "hb", f) for ts, f in self.beats]
                        + [(ts, "41", ip) for ts, ip in self.proto41], key=lambda e: e[0])
        want_delivered = b""
        link_local = 0
        for ts, kind, item in events:
            h.at(ts)
            if kind == "hb":
                h.server.handle_heartbeat(item["payload"], (item["src"], item["sport"]))
                continue
            h.server.handle_proto41(item)
            inner = item[(item[0] & 0x0F) * 4:]
            if inner[8] == 0xFE and inner[9] & 0xC0 == 0x80:
                link_local += 1
            else:
                want_delivered += inner
        s = h.stats("T20002")
        self.assertEqual(s["heartbeats"], len(self.beats))
        self.assertEqual(s["hb_failures"], {"address": 0, "clock": 0, "hash": 0})
        self.assertEqual(h.global_stats()["hb_failures"],
                         {k: 0 for k in heartbeat.FAILURES})
        self.assertEqual(drops_total(s), 0, s["drops"])
        self.assertEqual(drops_total(h.global_stats()), 0)
        self.assertEqual((s["client_ipv4"], s["last_heartbeat_ipv4_field"]), (CLIENT4, "sender"))
        self.assertTrue(s["confirmed"])
        self.assertEqual(s["link_local"], link_local)
        self.assertEqual(s["rx_packets"], len(self.proto41) - link_local)
        self.assertEqual(h.delivered("T20002"), want_delivered)
        self.assertNotIn("drop", h.log_text())


if __name__ == "__main__":
    unittest.main()
