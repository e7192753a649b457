#!/usr/bin/env python3
"""In-process tests of pop.py's receive paths (no namespace, no TUN).

A PopServer is built without setup(): each tunnel's "TUN" is the write end
of a pipe, so the tests see exactly what the PoP would hand to the kernel,
and call handle_datagram / handle_heartbeat / handle_proto41 directly with
the datagram's source as a NAT would present it.

    cd tests/sim && python3 -m unittest test_pop_sim
"""

import ipaddress
import os
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ayiya  # noqa: E402
import heartbeat  # noqa: E402
import pop  # noqa: E402

AYIYA_SPEC = {"id": "T10001", "type": "ayiya", "password": "tunnel-secret-1",
              "ipv6_pop": "2001:db8:1::1", "ipv6_client": "2001:db8:1::2", "prefix_len": 64}
HB_SPEC = {"id": "T20002", "type": "6in4-heartbeat", "password": "tunnel-secret-2",
           "ipv6_pop": "2001:db8:2::1", "ipv6_client": "2001:db8:2::2", "prefix_len": 64}
NAT_OUTSIDE = "192.0.2.20"  # the address the PoP sees behind a NAT
PRIVATE = "198.51.100.2"  # the client's own address inside the NAT


class Harness:
    """A PopServer whose tunnels write into pipes; `now` is settable."""

    def __init__(self, specs):
        self.dir = tempfile.TemporaryDirectory(prefix="pop-sim-")
        self.log_path = os.path.join(self.dir.name, "pop.log")
        self.log = pop.Log(self.log_path)
        self.tunnels = [pop.Tunnel(s) for s in specs]
        self.pipes = {}
        for t in self.tunnels:
            r, w = os.pipe()
            os.set_blocking(r, False)
            t.fd = w
            self.pipes[t.id] = r
        self.server = pop.PopServer(self.tunnels, "192.0.2.1", self.log)

    def at(self, now):
        """Make the PoP's clock read `now` (seconds since 1970)."""
        self.server.clock_offset = now - time.time()

    def stats(self, tid):
        return self.server.snapshot()["tunnels"][tid]

    def global_stats(self):
        return self.server.snapshot()["global"]

    def delivered(self, tid):
        """Bytes written into the tunnel's TUN so far (drained)."""
        out = b""
        while True:
            try:
                chunk = os.read(self.pipes[tid], 65536)
            except BlockingIOError:
                return out
            if not chunk:
                return out
            out += chunk

    def log_text(self):
        self.log.out.flush()
        with open(self.log_path) as fh:
            return fh.read()

    def close(self):
        for t in self.tunnels:
            os.close(t.fd)
        for r in self.pipes.values():
            os.close(r)
        self.log.close()
        self.dir.cleanup()


def ipv6_packet(src, dst, body=b"\x80\x00\x00\x00\x12\x34\x00\x01", next_header=58):
    return (bytes([0x60, 0, 0, 0]) + len(body).to_bytes(2, "big") + bytes([next_header, 64])
            + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + body)


def ipv4_proto41(src, dst, inner):
    """An IPv4 packet of protocol 41 as the raw socket hands it over (the
    header checksum is not checked by the PoP, so it stays 0)."""
    return (struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(inner), 0, 0x4000, 64, 41, 0,
                        ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
            + inner)


def drops_total(stats):
    return sum(stats["drops"].values())


class LinkLocalSilent(unittest.TestCase):
    """PROTOCOLS.md 7.1: link-local-sourced packets are dropped silently."""

    def setUp(self):
        self.h = Harness([AYIYA_SPEC, HB_SPEC])
        self.addCleanup(self.h.close)
        self.now = 1796000000
        self.h.at(self.now)

    def test_ayiya_router_solicitation_ignored_not_counted_as_error(self):
        rs = ipv6_packet("fe80::4ec8:8437:7d04:8268", "ff02::2", b"\x85\x00\x00\x00\x00\x00\x00\x00", 58)
        d = ayiya.build("tunnel-secret-1", ipaddress.IPv6Address("2001:db8:1::2").packed,
                        self.now, ayiya.OP_FORWARD, ayiya.NH_IPV6, rs)
        self.h.server.handle_datagram(d, (NAT_OUTSIDE, 40000))
        s = self.h.stats("T10001")
        self.assertEqual(s["link_local"], 1)
        self.assertEqual(drops_total(s), 0)
        self.assertEqual(s["rx_packets"], 0)
        self.assertEqual(self.h.delivered("T10001"), b"")
        self.assertNotIn("drop", self.h.log_text())
        # still a validly signed datagram: it moves the endpoint (NAT rebinding)
        self.assertEqual(s["client"], "%s:40000" % NAT_OUTSIDE)

    def test_ayiya_foreign_source_still_a_drop(self):
        p = ipv6_packet("2001:db8:99::2", "2001:db8:1::1")
        d = ayiya.build("tunnel-secret-1", ipaddress.IPv6Address("2001:db8:1::2").packed,
                        self.now, ayiya.OP_FORWARD, ayiya.NH_IPV6, p)
        self.h.server.handle_datagram(d, (NAT_OUTSIDE, 40000))
        s = self.h.stats("T10001")
        self.assertEqual((s["drops"]["inner_source"], s["link_local"]), (1, 0))
        self.assertIn("drop inner_source", self.h.log_text())

    def test_proto41_link_local_ignored_not_counted_as_error(self):
        beat = heartbeat.build("2001:db8:2::2", "sender", self.now, "tunnel-secret-2")
        self.h.server.handle_heartbeat(beat, (NAT_OUTSIDE, 50000))
        rs = ipv6_packet("fe80::eadb:7a9c:3bc4:9025", "ff02::2", b"\x85\x00\x00\x00\x00\x00\x00\x00")
        self.h.server.handle_proto41(ipv4_proto41(NAT_OUTSIDE, "192.0.2.1", rs))
        s = self.h.stats("T20002")
        self.assertEqual(s["link_local"], 1)
        self.assertEqual(drops_total(s), 0)
        self.assertEqual(drops_total(self.h.global_stats()), 0)
        self.assertFalse(s["confirmed"])  # an ignored packet proves nothing
        self.assertNotIn("drop", self.h.log_text())

    def test_proto41_link_local_from_unknown_address_counted_globally(self):
        rs = ipv6_packet("fe80::1", "ff02::2")
        self.h.server.handle_proto41(ipv4_proto41("203.0.113.9", "192.0.2.1", rs))
        self.assertEqual(self.h.global_stats()["link_local"], 1)
        self.assertEqual(drops_total(self.h.global_stats()), 0)


class HeartbeatBehindNat(unittest.TestCase):
    """PROTOCOLS.md 2 and 7.1: `sender` works from behind a NAT; a literal
    address that is not the datagram's source is "HB Sender Mismatch"."""

    def setUp(self):
        self.h = Harness([HB_SPEC])
        self.addCleanup(self.h.close)
        self.now = 1796000000
        self.h.at(self.now)

    def beat(self, field, source=NAT_OUTSIDE, port=50000):
        d = heartbeat.build("2001:db8:2::2", field, self.now, "tunnel-secret-2")
        self.h.server.handle_heartbeat(d, (source, port))
        return self.h.stats("T20002")

    def test_sender_from_behind_nat_uses_the_datagram_source(self):
        s = self.beat("sender")
        self.assertEqual((s["heartbeats"], s["client_ipv4"]), (1, NAT_OUTSIDE))
        self.assertEqual(s["last_heartbeat_ipv4_field"], "sender")
        self.assertTrue(s["up"])
        # a fresh source port for every beat, as the real client does
        s = self.beat("sender", port=50001)
        self.assertEqual((s["heartbeats"], s["client_ipv4"]), (2, NAT_OUTSIDE))
        self.assertEqual(s["hb_failures"], {"address": 0, "clock": 0, "hash": 0})

    def test_private_address_behind_nat_is_sender_mismatch(self):
        s = self.beat(PRIVATE)
        self.assertEqual(s["hb_failures"]["address"], 1)
        self.assertEqual((s["heartbeats"], s["client_ipv4"], s["up"]), (0, None, False))
        self.assertIn("HB Sender Mismatch", self.h.log_text())
        self.assertIn(PRIVATE, self.h.log_text())

    def test_mismatch_does_not_move_a_known_address(self):
        self.beat("sender")
        s = self.beat(PRIVATE)
        self.assertEqual((s["heartbeats"], s["client_ipv4"]), (1, NAT_OUTSIDE))
        self.assertEqual(s["last_heartbeat_ipv4_field"], "sender")

    def test_literal_public_address_accepted(self):
        s = self.beat(NAT_OUTSIDE)
        self.assertEqual((s["heartbeats"], s["client_ipv4"]), (1, NAT_OUTSIDE))
        self.assertEqual(s["last_heartbeat_ipv4_field"], NAT_OUTSIDE)

    def test_proto41_from_the_nat_address_confirms_and_is_delivered(self):
        self.beat("sender")
        p = ipv6_packet("2001:db8:2::2", "2001:db8:2::1")
        self.h.server.handle_proto41(ipv4_proto41(NAT_OUTSIDE, "192.0.2.1", p))
        s = self.h.stats("T20002")
        self.assertTrue(s["confirmed"])
        self.assertEqual(self.h.delivered("T20002"), p)
        # the client's private address never reaches the PoP: from there it
        # would be another host's packet
        self.h.server.handle_proto41(ipv4_proto41(PRIVATE, "192.0.2.1", p))
        self.assertEqual(self.h.stats("T20002")["drops"]["proto41_source"], 1)


if __name__ == "__main__":
    unittest.main()
