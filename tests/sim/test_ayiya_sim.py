#!/usr/bin/env python3
"""Unit tests of the simulator's pure AYIYA codec (tests/sim/ayiya.py).

    cd tests/sim && python3 -m unittest
    python3 tests/sim/test_ayiya_sim.py
"""

import hashlib
import ipaddress
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ayiya  # noqa: E402

PASSWORD = "demo-secret-sixxs0"
CLIENT = ipaddress.IPv6Address("2001:db8:a::2").packed
POP = ipaddress.IPv6Address("2001:db8:a::1").packed
NOW = 1700000000


def ipv6_packet(src="2001:db8:a::2", dst="2001:db8:a::1", body=b"\x80\x00\x00\x00\x12\x34\x00\x01"):
    """A minimal IPv6 header (next header 58) followed by body."""
    return (
        bytes([0x60, 0, 0, 0])
        + len(body).to_bytes(2, "big")
        + bytes([58, 64])
        + ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address(dst).packed
        + body
    )


def lookup_one(identity):
    """Like the PoP: match the tunnel's /64, not the whole identity."""
    if identity[:8] == CLIENT[:8]:
        return (PASSWORD, "T10001")
    return None


class HandVector(unittest.TestCase):
    """A datagram assembled byte by byte, without build()."""

    def setUp(self):
        k = hashlib.sha1(b"demo-secret-sixxs0").digest()
        self.payload = ipv6_packet()
        head = bytes([0x41, 0x52, 0x11, 41]) + (1700000000).to_bytes(4, "big")
        identity = bytes.fromhex("20010db8000a00000000000000000002")
        digest = hashlib.sha1(head + identity + k + self.payload).digest()
        self.datagram = head + identity + digest + self.payload

    def test_build_matches_hand_assembly(self):
        built = ayiya.build(PASSWORD, CLIENT, NOW, ayiya.OP_FORWARD, ayiya.NH_IPV6, self.payload)
        self.assertEqual(built, self.datagram)

    def test_verify_accepts_hand_assembly(self):
        verdict, f = ayiya.verify(lookup_one, self.datagram, NOW)
        self.assertEqual(verdict, "ok")
        self.assertEqual(f["opcode"], 1)
        self.assertEqual(f["next_header"], 41)
        self.assertEqual(f["epoch"], NOW)
        self.assertEqual(f["identity"], CLIENT)
        self.assertEqual(f["payload"], self.payload)
        self.assertEqual(f["context"], "T10001")

    def test_noop_keepalive_vector(self):
        k = hashlib.sha1(PASSWORD.encode()).digest()
        head = b"\x41\x52\x10\x3b" + b"\x65\x53\xf1\x00"  # epoch 1700000000 = 0x6553f100
        digest = hashlib.sha1(head + CLIENT + k).digest()
        self.assertEqual(
            ayiya.build(PASSWORD, CLIENT, NOW, ayiya.OP_NOOP, ayiya.NH_NONE), head + CLIENT + digest
        )
        self.assertEqual(len(head + CLIENT + digest), 44)

    def test_key_is_sha1_of_password(self):
        self.assertEqual(ayiya.key("abc").hex(), "a9993e364706816aba3e25717850c26c9cd0d89d")
        self.assertEqual(ayiya.key(b"abc"), ayiya.key("abc"))


class RoundTrip(unittest.TestCase):
    def test_forward(self):
        p = ipv6_packet()
        d = ayiya.build(PASSWORD, CLIENT, NOW, 1, 41, p)
        self.assertEqual(len(d), 44 + len(p))
        verdict, f = ayiya.verify(lookup_one, d, NOW)
        self.assertEqual(verdict, "ok")
        self.assertEqual(f["payload"], p)

    def test_noop(self):
        d = ayiya.build(PASSWORD, CLIENT, NOW, 0, 59)
        self.assertEqual(len(d), 44)
        verdict, f = ayiya.verify(lookup_one, d, NOW)
        self.assertEqual(verdict, "ok")
        self.assertEqual((f["opcode"], f["next_header"], f["payload"]), (0, 59, b""))

    def test_plain_password_lookup(self):
        d = ayiya.build(PASSWORD, CLIENT, NOW, 0, 59)
        verdict, f = ayiya.verify(lambda ident: PASSWORD, d, NOW)
        self.assertEqual(verdict, "ok")
        self.assertIsNone(f["context"])

    def test_any_host_in_tunnel_prefix_matches(self):
        # The PoP checks only the tunnel part of the identity.
        other = ipaddress.IPv6Address("2001:db8:a::1234").packed
        d = ayiya.build(PASSWORD, other, NOW, 0, 59)
        self.assertEqual(ayiya.verify(lookup_one, d, NOW)[0], "ok")

    def test_clock_edges_accepted(self):
        for skew in (-120, 0, 120):
            d = ayiya.build(PASSWORD, CLIENT, NOW + skew, 0, 59)
            self.assertEqual(ayiya.verify(lookup_one, d, NOW)[0], "ok", skew)

    def test_pop_to_client(self):
        p = ipv6_packet(src="2001:db8:a::1", dst="2001:db8:a::2")
        d = ayiya.build(PASSWORD, POP, NOW, 1, 41, p)
        verdict, f = ayiya.verify(lambda ident: PASSWORD if ident == POP else None, d, NOW)
        self.assertEqual(verdict, "ok")
        self.assertEqual(f["identity"], POP)


class Rejections(unittest.TestCase):
    def good(self, payload=None):
        return bytearray(ayiya.build(PASSWORD, CLIENT, NOW, 1, 41, payload or ipv6_packet()))

    def verdict(self, data, now=NOW):
        return ayiya.verify(lookup_one, bytes(data), now)[0]

    def test_short(self):
        d = ayiya.build(PASSWORD, CLIENT, NOW, 0, 59)
        self.assertEqual(self.verdict(d[:43]), "short")
        self.assertEqual(self.verdict(b""), "short")
        self.assertIsNone(ayiya.verify(lookup_one, d[:43], NOW)[1])

    def test_header_fields(self):
        # (byte index, new value): IdLen, IdType, SigLen, HshMeth, AutMeth
        for index, value in ((0, 0x51), (0, 0x42), (1, 0x62), (1, 0x51), (2, 0x21), (2, 0x01)):
            d = self.good()
            d[index] = value
            self.assertEqual(self.verdict(d), "header", (index, hex(value)))

    def test_header_checked_before_identity(self):
        d = bytearray(ayiya.build(PASSWORD, ipaddress.IPv6Address("2001:db8:f::2").packed, NOW, 0, 59))
        d[0] = 0x42
        self.assertEqual(self.verdict(d), "header")

    def test_unknown_tunnel(self):
        other = ipaddress.IPv6Address("2001:db8:b::2").packed
        d = ayiya.build(PASSWORD, other, NOW, 0, 59)
        self.assertEqual(self.verdict(d), "unknown_tunnel")

    def test_clock(self):
        for skew in (-121, 121, -100000):
            d = ayiya.build(PASSWORD, CLIENT, NOW + skew, 0, 59)
            verdict, f = ayiya.verify(lookup_one, d, NOW)
            self.assertEqual(verdict, "clock", skew)
            self.assertEqual(f["skew"], skew)

    def test_clock_checked_before_signature(self):
        d = ayiya.build("wrong", CLIENT, NOW + 500, 0, 59)
        self.assertEqual(self.verdict(d), "clock")

    def test_wrong_password(self):
        d = ayiya.build("not-the-password", CLIENT, NOW, 1, 41, ipv6_packet())
        self.assertEqual(self.verdict(d), "signature")

    def test_any_flipped_byte_breaks_signature(self):
        good = self.good()
        # Epoch (4..7) and identity prefix (8..15) fail earlier checks; flip
        # the identity host part, the signature, the opcode and the payload.
        for index in (3, 16, 23, 24, 43, 44, len(good) - 1):
            d = bytearray(good)
            d[index] ^= 0x01
            self.assertEqual(self.verdict(d), "signature", index)
        d = bytearray(good)
        d[2] ^= 0x02  # opcode 1 -> 3
        self.assertEqual(self.verdict(d), "signature")

    def test_truncated_or_extended_payload(self):
        good = self.good()
        self.assertEqual(self.verdict(good[:-1]), "signature")
        self.assertEqual(self.verdict(good + b"\0"), "signature")

    def test_payload_not_ipv6(self):
        v4 = b"\x45" + bytes(39)
        d = ayiya.build(PASSWORD, CLIENT, NOW, 1, 41, v4)
        self.assertEqual(self.verdict(d), "payload")
        d = ayiya.build(PASSWORD, CLIENT, NOW, 1, 41, b"")
        self.assertEqual(self.verdict(d), "payload")

    def test_payload_checked_after_signature(self):
        d = ayiya.build("wrong", CLIENT, NOW, 1, 41, b"\x45" + bytes(39))
        self.assertEqual(self.verdict(d), "signature")

    def test_version_check_only_for_next_header_41(self):
        d = ayiya.build(PASSWORD, CLIENT, NOW, 0, 59, b"\x45junk")
        self.assertEqual(self.verdict(d), "ok")

    def test_build_rejects_bad_arguments(self):
        with self.assertRaises(ValueError):
            ayiya.build(PASSWORD, CLIENT[:15], NOW, 0, 59)
        with self.assertRaises(ValueError):
            ayiya.build(PASSWORD, CLIENT, -1, 0, 59)
        with self.assertRaises(ValueError):
            ayiya.build(PASSWORD, CLIENT, 1 << 32, 0, 59)
        with self.assertRaises(ValueError):
            ayiya.build(PASSWORD, CLIENT, NOW, 16, 59)


if __name__ == "__main__":
    unittest.main()
