#!/usr/bin/env python3
"""Unit tests of the simulator's heartbeat verifier (tests/sim/heartbeat.py).

Every expected digest is computed by md5sum(1) in a subprocess, never by
the module under test.

    cd tests/sim && python3 -m unittest
    python3 tests/sim/test_heartbeat_sim.py
"""

import ipaddress
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import heartbeat  # noqa: E402

PASSWORD = "demo-secret-hb0"
CLIENT6 = "2001:db8:10::2"
SOURCE = "192.0.2.2"
NOW = 1700000000


def md5sum(text):
    """Digest of text (str or bytes) by the md5sum tool."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    r = subprocess.run(["md5sum"], input=text, capture_output=True, check=True)
    hexdigest = r.stdout.split()[0].decode("ascii")
    assert len(hexdigest) == 32, r.stdout
    return hexdigest


def datagram(ipv6=CLIENT6, ipv4="sender", epoch=NOW, password=PASSWORD, epoch_text=None,
             hashed_epoch=None, tail=""):
    """A heartbeat assembled by hand; the digest covers hashed_epoch (or the
    epoch text sent) and comes from md5sum."""
    sent = epoch_text if epoch_text is not None else str(epoch)
    hashed = hashed_epoch if hashed_epoch is not None else sent
    d = md5sum("HEARTBEAT TUNNEL %s %s %s %s" % (ipv6, ipv4, hashed, password))
    return ("HEARTBEAT TUNNEL %s %s %s %s%s" % (ipv6, ipv4, sent, d, tail)).encode("ascii")


def lookup(addr):
    """The PoP's table: one heartbeat tunnel, matched on the whole address."""
    if addr == ipaddress.IPv6Address(CLIENT6):
        return (PASSWORD, "T20001")
    return None


def verdict(data, source=SOURCE, now=NOW):
    return heartbeat.verify(lookup, data, source, now)[0]


class Accepted(unittest.TestCase):
    def test_sender(self):
        v, f = heartbeat.verify(lookup, datagram(), "192.0.2.77", NOW)
        self.assertEqual(v, "ok")
        self.assertEqual(f["context"], "T20001")
        self.assertEqual(f["client_ipv4"], ipaddress.IPv4Address("192.0.2.77"))
        self.assertEqual(f["ipv6"], ipaddress.IPv6Address(CLIENT6))
        self.assertEqual(f["epoch"], NOW)
        self.assertIsNone(f["ipv4"])

    def test_literal_address_equal_to_source(self):
        v, f = heartbeat.verify(lookup, datagram(ipv4=SOURCE), SOURCE, NOW)
        self.assertEqual(v, "ok")
        self.assertEqual(f["client_ipv4"], ipaddress.IPv4Address(SOURCE))

    def test_source_as_ipv4address(self):
        self.assertEqual(verdict(datagram(ipv4=SOURCE), ipaddress.IPv4Address(SOURCE)), "ok")

    def test_clock_edges(self):
        for skew in (-120, -1, 0, 1, 120):
            self.assertEqual(verdict(datagram(epoch=NOW + skew)), "ok", skew)

    def test_fractional_now(self):
        self.assertEqual(verdict(datagram(epoch=NOW + 120), now=NOW + 0.9), "ok")

    def test_trailing_cr_lf_ignored(self):
        for tail in ("\n", "\r\n", "\r", "\n\n", "\r\n\r\n"):
            self.assertEqual(verdict(datagram(tail=tail)), "ok", repr(tail))

    def test_non_canonical_ipv6(self):
        # Found by the parsed address; the digest covers the text as sent.
        for text in ("2001:0db8:0010:0000:0000:0000:0000:0002", "2001:DB8:10::2",
                     "2001:db8:10:0::0:2", "2001:db8:10:0:0:0:0:2"):
            v, f = heartbeat.verify(lookup, datagram(ipv6=text), SOURCE, NOW)
            self.assertEqual(v, "ok", text)
            self.assertEqual(f["ipv6_text"], text)

    def test_password_bytes_and_utf8(self):
        d = datagram(password="pässwort")
        self.assertEqual(heartbeat.verify(lambda a: "pässwort", d, SOURCE, NOW)[0], "ok")
        self.assertEqual(heartbeat.verify(lambda a: "pässwort".encode(), d, SOURCE, NOW)[0], "ok")

    def test_build_matches_hand_assembly(self):
        self.assertEqual(heartbeat.build(CLIENT6, "sender", NOW, PASSWORD), datagram())
        self.assertEqual(heartbeat.build(CLIENT6, SOURCE, NOW, PASSWORD), datagram(ipv4=SOURCE))


class LeadingZeroEpoch(unittest.TestCase):
    """The PoP re-prints the epoch before hashing."""

    def test_client_hashed_leading_zero_fails(self):
        d = datagram(epoch_text="0%d" % NOW)  # digest over "0<epoch>"
        v, f = heartbeat.verify(lookup, d, SOURCE, NOW)
        self.assertEqual(v, "hash")
        self.assertEqual(f["epoch"], NOW)  # parsed fine, within the clock window

    def test_hash_over_reprinted_epoch_passes(self):
        d = datagram(epoch_text="000%d" % NOW, hashed_epoch=str(NOW))
        self.assertEqual(verdict(d), "ok")

    def test_small_epoch_reprinted(self):
        d = datagram(epoch=7, epoch_text="007", hashed_epoch="7")
        self.assertEqual(verdict(d, now=7), "ok")
        self.assertEqual(verdict(datagram(epoch=7, epoch_text="007"), now=7), "hash")


class Length(unittest.TestCase):
    def padded(self, size, how):
        base = datagram()
        pad = size - len(base)
        self.assertGreater(pad, 0)
        if how == "crlf":
            d = base + b"\n" * pad
        else:  # leading zeros on the epoch; the digest covers the plain number
            d = datagram(epoch_text="0" * pad + str(NOW), hashed_epoch=str(NOW))
        self.assertEqual(len(d), size)
        return d

    def test_255_accepted_256_rejected(self):
        for how in ("crlf", "zeros"):
            self.assertEqual(verdict(self.padded(255, how)), "ok", how)
            self.assertEqual(verdict(self.padded(256, how)), "syntax", how)
            self.assertEqual(verdict(self.padded(1000, how)), "syntax", how)


class Syntax(unittest.TestCase):
    def test_malformed(self):
        good = datagram().decode()
        d = md5sum("x")
        cases = [
            "",
            "HEARTBEAT",
            "HEARTBEAT TUNNEL",
            good.replace("HEARTBEAT TUNNEL", "heartbeat tunnel"),
            good.replace("HEARTBEAT TUNNEL", "HEARTBEAT  TUNNEL"),
            good.replace("HEARTBEAT TUNNEL", "HEARTBEAT TUNNELS"),
            good.replace(" sender ", "  sender "),
            good.replace(" sender ", "\tsender "),
            good + " extra",
            good + " ",
            " " + good,
            good.rsplit(" ", 1)[0],  # no digest
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender %d" % NOW,
            "HEARTBEAT TUNNEL 2001:db8:10::g sender %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 192.0.2.2 sender %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL fe80::2%%eth0 sender %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 Sender %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 192.0.2.256 %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 192.0.02.2 %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 2001:db8::1 %d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender -%d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender +%d %s" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender 1_700_000_000 %s" % d,
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender 0x6553f100 %s" % d,
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender %d %s" % (NOW, d[:31]),
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender %d %s0" % (NOW, d),
            "HEARTBEAT TUNNEL 2001:db8:10::2 sender %d %sg" % (NOW, d[:31]),
            good.replace(str(NOW), "\u0661" + str(NOW)[1:]),  # Arabic-Indic digit
        ]
        for text in cases:
            v, f = heartbeat.verify(lookup, text.encode("utf-8"), SOURCE, NOW)
            self.assertEqual(v, "syntax", repr(text))
            self.assertIsNone(f)

    def test_cr_lf_only_trailing(self):
        good = datagram()
        self.assertEqual(verdict(good.replace(b" sender ", b" sender\r\n ")), "syntax")
        self.assertEqual(verdict(b"\r\n" + good), "syntax")
        self.assertEqual(verdict(good + b"\r\n "), "syntax")

    def test_non_ascii_and_nul(self):
        self.assertEqual(verdict(datagram() + b"\x00"), "syntax")
        self.assertEqual(verdict(datagram().replace(b"sender", b"s\xe9nder")), "syntax")

    def test_syntax_checked_before_tunnel(self):
        d = datagram(ipv6="2001:db8:99::2", ipv4="192.0.2.999")
        self.assertEqual(verdict(d), "syntax")


class Failures(unittest.TestCase):
    def test_unknown_tunnel(self):
        for other in ("2001:db8:10::3", "2001:db8:11::2", "2001:db8:10::1"):
            self.assertEqual(verdict(datagram(ipv6=other)), "unknown_tunnel", other)

    def test_unknown_checked_before_address_clock_hash(self):
        d = datagram(ipv6="2001:db8:99::2", ipv4="192.0.2.9", epoch=NOW + 999, password="x")
        self.assertEqual(verdict(d), "unknown_tunnel")

    def test_address(self):
        v, f = heartbeat.verify(lookup, datagram(ipv4="192.0.2.3"), SOURCE, NOW)
        self.assertEqual(v, "address")
        self.assertEqual(f["context"], "T20001")

    def test_address_checked_before_clock_and_hash(self):
        d = datagram(ipv4="192.0.2.3", epoch=NOW + 999, password="wrong")
        self.assertEqual(verdict(d), "address")

    def test_clock(self):
        for skew in (-121, 121, -100000, 10**12):
            v, f = heartbeat.verify(lookup, datagram(epoch=NOW + skew), SOURCE, NOW)
            self.assertEqual(v, "clock", skew)
            self.assertEqual(f["skew"], skew)

    def test_clock_checked_before_hash(self):
        self.assertEqual(verdict(datagram(epoch=NOW - 500, password="wrong")), "clock")

    def test_wrong_password(self):
        self.assertEqual(verdict(datagram(password="not-the-password")), "hash")

    def test_digest_over_other_fields(self):
        good = datagram().decode()
        d = good.rsplit(" ", 1)[1]
        # Same digest, a different field: the hash no longer matches.
        self.assertEqual(verdict(good.replace(str(NOW), str(NOW + 1)).encode()), "hash")
        lit = "HEARTBEAT TUNNEL %s %s %d %s" % (CLIENT6, SOURCE, NOW, d)
        self.assertEqual(verdict(lit.encode()), "hash")

    def test_digest_over_canonical_text_while_sending_other_text(self):
        # The PoP hashes the IPv6 text as received, not a re-printed form.
        sent = "2001:0db8:0010::2"
        d = md5sum("HEARTBEAT TUNNEL %s sender %d %s" % (CLIENT6, NOW, PASSWORD))
        text = "HEARTBEAT TUNNEL %s sender %d %s" % (sent, NOW, d)
        self.assertEqual(verdict(text.encode()), "hash")

    def test_upper_case_digest(self):
        good = datagram().decode()
        head, d = good.rsplit(" ", 1)
        self.assertNotEqual(d, d.upper())
        self.assertEqual(verdict(("%s %s" % (head, d.upper())).encode()), "hash")

    def test_every_verdict_is_listed(self):
        self.assertEqual(set(heartbeat.FAILURES),
                         {"syntax", "unknown_tunnel", "address", "clock", "hash"})


if __name__ == "__main__":
    unittest.main()
