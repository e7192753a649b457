#!/usr/bin/env python3
"""Unit tests of the TIC server simulator (tests/sim/tic.py) and mkca.sh.

    python3 tests/sim/test_tic_sim.py      (or: cd tests/sim && python3 -m unittest)

The servers listen on 127.0.0.1 ephemeral ports (loopback only).  Expected
MD5 responses come from the md5sum tool, not from tic.py; certificates come
from mkca.sh; the rate rule runs on an injected clock so nothing waits.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tic  # noqa: E402

USER = "ABC1-SIXXS"
PASSWORD = "s3cret pass"  # a space on purpose: the hash covers the whole string
OTHER_USER = "XYZ9-SIXXS"
OTHER_PASSWORD = "other-pass"
TIMEOUT = 5.0

TMP = None
CERTS = None


def md5sum(text):
    """MD5 hex of text, computed by coreutils' md5sum (independent of tic.py)."""
    out = subprocess.run(["md5sum"], input=text.encode(), capture_output=True, check=True)
    return out.stdout.split()[0].decode()


def accounts_doc():
    doc = tic.example_accounts(3, USER, PASSWORD)
    doc["accounts"].append({
        "username": OTHER_USER, "password": OTHER_PASSWORD,
        "tunnels": [{"TunnelId": "T20001", "Type": "6in4-static",
                     "IPv6 Endpoint": "2001:db8:20::2", "IPv6 POP": "2001:db8:20::1",
                     "IPv6 PrefixLength": 64, "POP Id": "simpop01",
                     "IPv4 Endpoint": "198.51.100.7", "IPv4 POP": "192.0.2.1",
                     "UserState": "enabled", "AdminState": "disabled",
                     "Password": "x", "Heartbeat_Interval": 60, "Tunnel MTU": 1480}],
    })
    return doc


def setUpModule():
    global TMP, CERTS
    TMP = tempfile.TemporaryDirectory(prefix="tic-sim-")
    CERTS = os.path.join(TMP.name, "pki")
    subprocess.run(["sh", os.path.join(HERE, "mkca.sh"), CERTS], check=True,
                   capture_output=True)


def tearDownModule():
    TMP.cleanup()


def pki(name):
    return os.path.join(CERTS, name)


class FakeClock:
    def __init__(self, t=1_700_000_000.0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, s):
        self.t += s


class Client:
    """A minimal TIC client for the tests: line I/O over plain or TLS."""

    def __init__(self, port, timeout=TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def raw(self, data):
        self.sock.sendall(data)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("server closed; buffered %r" % self.buf)
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        return raw.decode()

    def cmd(self, line):
        self.send(line)
        return self.line()

    def multi(self, line):
        """Send a command expecting 201...202; returns (first, body, last)."""
        first = self.cmd(line)
        if not first.startswith("201 "):
            return first, [], None
        body = []
        while True:
            ln = self.line()
            if ln.startswith("202 "):
                return first, body, ln
            body.append(ln)

    def starttls(self, ctx, hostname="tic.test"):
        reply = self.cmd("starttls")
        if reply.startswith("2"):
            assert self.buf == b"", "data after the starttls reply"
            self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)
        return reply

    def login(self, user=USER, password=PASSWORD):
        self.cmd("username %s" % user)
        ch = self.cmd("challenge md5").split(" ", 1)[1]
        return self.cmd("authenticate md5 %s" % md5sum(ch + md5sum(password)))

    def eof(self):
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def close(self):
        self.sock.close()


def client_ctx(ca="ca.pem", tls_max=None):
    ctx = ssl.create_default_context(cafile=pki(ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_max:
        ctx.maximum_version = tls_max
    return ctx


class ServerCase(unittest.TestCase):
    """Starts a TicServer in this process; subclasses set server_kwargs."""

    server_kwargs = {}

    def start(self, **kw):
        args = dict(self.server_kwargs)
        args.update(kw)
        self.logpath = os.path.join(TMP.name, "%s.log" % self.id())
        if os.path.exists(self.logpath):
            os.unlink(self.logpath)
        clock = args.pop("clock", time.time)
        self.log = tic.JsonLog(self.logpath, clock)
        acc = tic.Accounts(accounts_doc())
        self.server = tic.TicServer(acc, "127.0.0.1:0", log=self.log, clock=clock, **args)
        self.server.bind()
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()
        self.addCleanup(self.stop)
        return self.server

    def stop(self):
        self.server.stop()
        self.thread.join(5)
        self.assertFalse(self.thread.is_alive(), "serve() did not return")
        self.server.close()
        self.log.close()

    def connect(self, **kw):
        c = Client(self.server.port, **kw)
        self.addCleanup(c.close)
        return c

    def events(self, name=None, wait_for=None):
        """The log's records (optionally of one event), after waiting up to
        2 s for a record of event `wait_for` to appear (session threads log
        their "close" after the client has seen EOF)."""
        deadline = time.monotonic() + 2
        while True:
            with open(self.logpath) as fh:
                recs = [json.loads(ln) for ln in fh]
            if wait_for is None or any(r["event"] == wait_for for r in recs) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        return [r for r in recs if name is None or r["event"] == name]


# ---------------------------------------------------------------------------
class RateLimiterRule(unittest.TestCase):
    """The pure rule: > 4 connections in (now-60, now] -> 5 min; twice in 24 h -> a week."""

    def test_fifth_connection_within_60s_is_refused(self):
        rl = tic.RateLimiter()
        for t in (0, 10, 20, 30):
            self.assertTrue(rl.admit("192.0.2.2", 1000 + t).allowed)
        v = rl.admit("192.0.2.2", 1059.9)
        self.assertFalse(v.allowed)
        self.assertEqual((v.reason, v.event, v.count), ("rate", "block", 5))
        self.assertAlmostEqual(v.until, 1059.9 + 300)

    def test_window_is_sixty_seconds(self):
        rl = tic.RateLimiter()
        for t in (0, 15, 30, 45):
            self.assertTrue(rl.admit("a", t).allowed)
        # the first connection is exactly 60 s old: out of the window
        self.assertTrue(rl.admit("a", 60).allowed)
        # now 15, 30, 45, 60 are in the window: a 5th before 75 is an excess
        self.assertFalse(rl.admit("a", 74.5).allowed)

    def test_block_lasts_five_minutes(self):
        rl = tic.RateLimiter()
        for t in range(5):
            v = rl.admit("a", t)
        self.assertFalse(v.allowed)
        self.assertFalse(rl.admit("a", 4 + 299.5).allowed)  # still blocked
        self.assertEqual(rl.admit("a", 4 + 299.5).reason, "blocked")
        # those two knocks at 303.5 count: wait for them to leave the window
        self.assertTrue(rl.admit("a", 400).allowed)

    def test_addresses_are_independent(self):
        rl = tic.RateLimiter()
        for t in range(5):
            rl.admit("a", t)
        self.assertTrue(rl.admit("b", 5).allowed)
        self.assertFalse(rl.admit("a", 5).allowed)

    def test_second_excess_within_24h_blocks_a_week(self):
        rl = tic.RateLimiter()
        for t in range(5):
            v = rl.admit("a", t)
        self.assertEqual(v.event, "block")
        base = 4 + 300 + 60  # block over, window empty
        for t in range(4):
            self.assertTrue(rl.admit("a", base + t).allowed)
        v = rl.admit("a", base + 4)
        self.assertEqual((v.allowed, v.event, v.strikes), (False, "long_block", 2))
        self.assertAlmostEqual(v.until, base + 4 + 7 * 86400)
        self.assertFalse(rl.admit("a", base + 6 * 86400).allowed)

    def test_knocking_during_block_counts(self):
        rl = tic.RateLimiter()
        for t in range(5):
            rl.admit("a", t)
        for t in range(250, 305, 10):  # refused, but counted
            self.assertFalse(rl.admit("a", t).allowed)
        v = rl.admit("a", 305)  # block over, window still holds 5 knocks
        self.assertEqual((v.allowed, v.event), (False, "long_block"))

    def test_excesses_more_than_24h_apart_block_five_minutes(self):
        rl = tic.RateLimiter()
        for t in range(5):
            rl.admit("a", t)
        for t in range(5):
            v = rl.admit("a", 86400 + 10 + t)
        self.assertEqual((v.allowed, v.event, v.strikes), (False, "block", 1))


# ---------------------------------------------------------------------------
class PlainSession(ServerCase):
    server_kwargs = {"tls_context": None}

    def test_full_session_in_clear_text(self):
        self.start()
        c = self.connect()
        self.assertRegex(c.line(), r"^200 ")
        self.assertRegex(c.cmd("client TIC/draft-00 aiccud/0.1 Linux/6.1"), r"^200 ")
        t = c.cmd("get unixtime")
        self.assertRegex(t, r"^200 [1-9][0-9]*$")
        self.assertLess(abs(int(t.split()[1]) - time.time()), 5)
        self.assertRegex(c.cmd("starttls"), r"^[013-9]\d\d ")  # non-2xx: no TLS here
        self.assertRegex(c.cmd("username %s" % USER), r"^200 ")
        challenge = c.cmd("challenge md5")
        self.assertRegex(challenge, r"^200 \S+$")
        resp = md5sum(challenge[4:] + md5sum(PASSWORD))
        self.assertRegex(c.cmd("authenticate md5 %s" % resp), r"^200 ")
        first, body, last = c.multi("tunnel list")
        self.assertEqual(first, "201 Listing tunnels")
        self.assertEqual(last, "202 <tunnel_list> done")
        # PROTOCOLS.md 7.1: the broker says "ayiya" for AYIYA tunnels
        self.assertEqual(body, ["T10001 2001:db8:1::2 ayiya simpop01",
                                "T10002 2001:db8:2::2 ayiya simpop01",
                                "T10003 2001:db8:3::2 ayiya simpop01"])
        first, body, last = c.multi("tunnel show T10002")
        self.assertRegex(first, r"^201 ")
        self.assertRegex(last, r"^202 ")
        kv = dict(ln.split(": ", 1) for ln in body)
        self.assertEqual(len(kv), len(body))
        want = tic.example_accounts(3, USER, PASSWORD)["accounts"][0]["tunnels"][1]
        self.assertEqual(list(kv), list(want))  # every key, in the file's order
        self.assertEqual(kv["TunnelId"], "T10002")
        self.assertEqual(kv["IPv6 PrefixLength"], "64")
        self.assertEqual(kv["Heartbeat_Interval"], "60")
        self.assertEqual(kv["Password"], "tunnel-secret-2")
        self.assertEqual(kv["IPv4 Endpoint"], "ayiya")
        first, body, last = c.multi("pop show simpop01")
        self.assertRegex(first, r"^201 ")
        kv = dict(ln.split(": ", 1) for ln in body)
        for k in ("POPId", "City", "Country", "IPv4", "IPv6", "ISP Short", "ISP Name",
                  "ISP Website", "ISP ASN", "ISP LIR"):
            self.assertIn(k, kv)
        self.assertRegex(c.cmd("QUIT bye"), r"^200 ")
        self.assertTrue(c.eof())
        close = self.events("close", wait_for="close")
        self.assertEqual(close[0]["reason"], "quit")
        self.assertEqual(close[0]["user"], USER)

    def test_md5_response_correct_and_incorrect(self):
        self.start()
        c = self.connect()
        c.line()
        c.cmd("username %s" % USER)
        ch = c.cmd("challenge md5")[4:]
        wrong = md5sum(ch + md5sum(PASSWORD + "x"))
        self.assertRegex(c.cmd("authenticate md5 %s" % wrong), r"^4\d\d ")
        # the challenge was used up: the right answer to it is refused too
        right_old = md5sum(ch + md5sum(PASSWORD))
        self.assertRegex(c.cmd("authenticate md5 %s" % right_old), r"^4\d\d ")
        # upper-case hex is not md5hex
        ch = c.cmd("challenge md5")[4:]
        self.assertRegex(c.cmd("authenticate md5 %s" % md5sum(ch + md5sum(PASSWORD)).upper()),
                         r"^4\d\d ")
        # md5(challenge + password) (skipping the inner hash) is wrong
        ch = c.cmd("challenge md5")[4:]
        self.assertRegex(c.cmd("authenticate md5 %s" % md5sum(ch + PASSWORD)), r"^4\d\d ")
        ch = c.cmd("challenge md5")[4:]
        self.assertRegex(c.cmd("authenticate md5 %s" % md5sum(ch + md5sum(PASSWORD))),
                         r"^200 ")
        st = self.server.snapshot()
        # the reuse of a spent challenge is a sequence error, not a verdict
        self.assertEqual((st["auth_ok"], st["auth_fail"]), (1, 3))
        self.assertEqual(st["accounts"][USER]["sessions"], 1)

    def test_challenges_are_fresh(self):
        self.start()
        c = self.connect()
        c.line()
        c.cmd("username %s" % USER)
        seen = {c.cmd("challenge md5") for _ in range(5)}
        self.assertEqual(len(seen), 5)

    def test_unknown_user_fails_like_wrong_password(self):
        self.start()
        c = self.connect()
        c.line()
        self.assertRegex(c.cmd("username NOBODY-SIXXS"), r"^200 ")
        ch = c.cmd("challenge md5")[4:]
        unknown = c.cmd("authenticate md5 %s" % md5sum(ch + md5sum(PASSWORD)))
        c.cmd("username %s" % USER)
        ch = c.cmd("challenge md5")[4:]
        wrong = c.cmd("authenticate md5 %s" % md5sum(ch + md5sum("nope")))
        self.assertRegex(unknown, r"^4\d\d ")
        self.assertEqual(unknown, wrong)

    def test_commands_needing_authentication(self):
        self.start()
        c = self.connect()
        c.line()
        for cmd in ("tunnel list", "tunnel show T10001", "pop show simpop01",
                    "challenge md5", "authenticate md5 00"):
            self.assertRegex(c.cmd(cmd), r"^4\d\d ", cmd)
        c.cmd("username %s" % USER)
        self.assertRegex(c.cmd("authenticate md5 00"), r"^4\d\d ")  # no challenge yet
        self.assertRegex(c.cmd("challenge sha1"), r"^4\d\d ")

    def test_foreign_and_unknown_tunnels_and_pops(self):
        self.start()
        c = self.connect()
        c.line()
        self.assertRegex(c.login(), r"^200 ")
        foreign, _, _ = c.multi("tunnel show T20001")
        unknown, _, _ = c.multi("tunnel show T99999")
        self.assertRegex(foreign, r"^4\d\d ")
        self.assertRegex(unknown, r"^4\d\d ")
        self.assertRegex(c.multi("tunnel show")[0], r"^4\d\d ")
        self.assertRegex(c.multi("pop show nosuchpop")[0], r"^4\d\d ")
        d = self.connect()
        d.line()
        self.assertRegex(d.login(OTHER_USER, OTHER_PASSWORD), r"^200 ")
        first, body, _ = d.multi("tunnel list")
        self.assertEqual(body, ["T20001 2001:db8:20::2 198.51.100.7 simpop01"])
        first, body, _ = d.multi("tunnel show T20001")
        self.assertIn("AdminState: disabled", body)

    def test_unknown_and_empty_commands(self):
        self.start()
        c = self.connect()
        c.line()
        self.assertRegex(c.cmd("frobnicate now"), r"^4\d\d ")
        self.assertRegex(c.cmd("get time"), r"^4\d\d ")
        self.assertRegex(c.cmd(""), r"^4\d\d ")
        self.assertRegex(c.cmd("get unixtime"), r"^200 ")  # still talking

    def test_crlf_accepted_and_replies_end_in_lf_only(self):
        self.start()
        c = self.connect()
        c.raw(b"username " + USER.encode() + b"\r\nchallenge md5\r\n")
        # Read until the greeting and both replies are in (each recv bounded by the
        # socket's timeout), instead of sleeping and hoping they arrived.
        data = b""
        while data.count(b"\n") < 3:
            chunk = c.sock.recv(4096)
            self.assertTrue(chunk, "closed after %r" % data)
            data += chunk
        self.assertNotIn(b"\r", data)
        lines = data.split(b"\n")
        self.assertEqual(lines[-1], b"")  # ends with LF
        self.assertEqual([ln[:4] for ln in lines[:3]], [b"200 ", b"200 ", b"200 "])
        ch = lines[2][4:].decode()
        c.raw(b"authenticate md5 " + md5sum(ch + md5sum(PASSWORD)).encode() + b"\r\n")
        self.assertRegex(c.line(), r"^200 ")

    def test_line_too_long_closes(self):
        self.start(max_line=64)
        c = self.connect()
        c.line()
        c.raw(b"client " + b"x" * 100)
        self.assertRegex(c.line(), r"^4\d\d ")
        self.assertTrue(c.eof())
        self.assertEqual(self.events("close", wait_for="close")[0]["reason"], "line_too_long")

    def test_idle_timeout_closes(self):
        self.start(idle_timeout=0.3)
        c = self.connect()
        c.line()
        c.raw(b"get unix")  # half a line, then silence
        t0 = time.monotonic()
        self.assertTrue(c.eof())
        self.assertLess(time.monotonic() - t0, 3)
        self.assertEqual(self.events("close", wait_for="close")[0]["reason"], "idle_timeout")

    def test_clock_offset(self):
        self.start(clock_offset=-500)
        c = self.connect()
        c.line()
        t = int(c.cmd("get unixtime").split()[1])
        self.assertLess(abs(t - (time.time() - 500)), 5)

    def test_several_clients_at_once(self):
        self.start()
        clients = [self.connect() for _ in range(4)]
        for c in clients:
            self.assertRegex(c.line(), r"^200 ")
        for c in reversed(clients):
            self.assertRegex(c.login(), r"^200 ")
        self.assertEqual(self.server.snapshot()["active"], 4)

    def test_ipv6_listener(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        acc = tic.Accounts(accounts_doc())
        srv = tic.TicServer(acc, "[::1]:0", log=tic.JsonLog(os.devnull))
        srv.bind()
        th = threading.Thread(target=srv.serve, daemon=True)
        th.start()
        try:
            s = socket.create_connection(("::1", srv.port), timeout=TIMEOUT)
            self.assertTrue(s.recv(100).startswith(b"200 "))
            s.close()
        finally:
            srv.stop()
            th.join(5)
            srv.close()

    def test_busy_server_refuses(self):
        self.start(max_clients=1)
        a = self.connect()
        self.assertRegex(a.line(), r"^200 ")
        b = self.connect()
        self.assertRegex(b.line(), r"^4\d\d ")
        self.assertTrue(b.eof())


# ---------------------------------------------------------------------------
class LogLines(ServerCase):
    server_kwargs = {"tls_context": None}

    def test_log_records_connections_commands_without_secrets(self):
        self.start()
        c = self.connect()
        c.line()
        c.cmd("username %s" % USER)
        ch = c.cmd("challenge md5")[4:]
        resp = md5sum(ch + md5sum(PASSWORD))
        c.cmd("authenticate md5 %s" % resp)
        c.multi("tunnel show T10001")
        c.cmd("QUIT")
        c.eof()
        recs = self.events(wait_for="close")
        with open(self.logpath) as fh:
            text = fh.read()
        for secret in (PASSWORD, resp, md5sum(PASSWORD), "tunnel-secret-1", ch):
            self.assertNotIn(secret, text)
        for r in recs:
            self.assertIsInstance(r["ts"], float)
            self.assertEqual(r["ts"], round(r["ts"], 3))
            self.assertLess(abs(r["ts"] - time.time()), 60)
        conn = [r for r in recs if r["event"] == "connect"]
        self.assertEqual(len(conn), 1)
        self.assertEqual((conn[0]["peer"], conn[0]["refused"]), ("127.0.0.1", False))
        cmds = [(r["cmd"], r["code"]) for r in recs if r["event"] == "command"]
        self.assertEqual(cmds, [("username", 200), ("challenge", 200), ("authenticate", 200),
                                ("tunnel show", 201), ("quit", 200)])
        self.assertEqual([r["event"] for r in recs][-1], "close")


# ---------------------------------------------------------------------------
class RateRuleOnTheWire(ServerCase):
    server_kwargs = {"tls_context": None}

    def test_fifth_connection_in_60s_refused_then_allowed_after_5_minutes(self):
        clock = FakeClock()
        self.start(clock=clock)
        for i in range(4):
            c = self.connect()
            self.assertRegex(c.line(), r"^200 ", "connection %d" % (i + 1))
            c.close()
            clock.advance(10)
        c = self.connect()
        welcome = c.line()
        self.assertRegex(welcome, r"^4\d\d .*300 seconds")
        self.assertTrue(c.eof())
        clock.advance(299)
        c = self.connect()  # still blocked, and counted
        self.assertRegex(c.line(), r"^4\d\d ")
        clock.advance(61)
        c = self.connect()
        self.assertRegex(c.line(), r"^200 ")
        conns = self.events("connect")
        self.assertEqual([r["refused"] for r in conns], [False] * 4 + [True, True, False])
        self.assertEqual([r.get("reason") for r in conns][4:6], ["rate", "blocked"])
        self.assertEqual([r["ts"] for r in conns][:2], [1_700_000_000.0, 1_700_000_010.0])
        blocks = self.events("block")
        self.assertEqual(len(blocks), 1)
        self.assertEqual((blocks[0]["seconds"], blocks[0]["peer"]), (300, "127.0.0.1"))
        st = self.server.snapshot()
        self.assertEqual((st["connections"], st["refused"], st["blocks"]), (7, 2, 1))

    def test_connection_that_sends_nothing_counts(self):
        clock = FakeClock()
        self.start(clock=clock)
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", self.server.port))
            s.close()  # not even the welcome read
        c = self.connect()
        self.assertRegex(c.line(), r"^4\d\d ")

    def test_second_excess_logged_as_week_block(self):
        clock = FakeClock()
        self.start(clock=clock)
        for rnd in range(2):
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", self.server.port))
                s.close()
            # the server must have accepted all five before the clock moves on
            deadline = time.monotonic() + 2
            while len(self.events("connect")) < 5 * (rnd + 1) and time.monotonic() < deadline:
                time.sleep(0.02)
            clock.advance(400)
        lb = self.events("long_block", wait_for="long_block")
        self.assertEqual(len(lb), 1)
        self.assertEqual((lb[0]["seconds"], lb[0]["strikes_24h"]), (7 * 86400, 2))


# ---------------------------------------------------------------------------
class TlsSession(ServerCase):
    def ctx(self, tls_max="1.3", cert="server.pem", key="server-key.pem"):
        return tic.make_tls_context(pki(cert), pki(key), tls_max)

    def full_session(self, client_max=None):
        c = self.connect()
        self.assertRegex(c.line(), r"^200 ")
        c.cmd("client TIC/draft-00 test/1 Linux/6")
        c.cmd("get unixtime")
        self.assertRegex(c.starttls(client_ctx(tls_max=client_max)), r"^200 ")
        self.assertRegex(c.login(), r"^200 ")
        first, body, last = c.multi("tunnel list")
        self.assertEqual(len(body), 3)
        first, body, last = c.multi("tunnel show T10003")
        self.assertIn("TunnelId: T10003", body)
        self.assertRegex(last, r"^202 ")
        version, session = c.sock.version(), c.sock.session
        self.assertRegex(c.cmd("QUIT"), r"^200 ")
        return version, session

    def test_tls13_session_with_tickets(self):
        self.start(tls_context=self.ctx("1.3"))
        version, session = self.full_session()
        self.assertEqual(version, "TLSv1.3")
        self.assertTrue(session.has_ticket)  # the server sent session tickets
        tls = self.events("tls")
        self.assertEqual((tls[0]["version"], tls[0]["sni"]), ("TLSv1.3", "tic.test"))
        self.assertEqual(tls[0]["tickets"], 2)

    def test_tls12_session(self):
        self.start(tls_context=self.ctx("1.3"))
        version, _ = self.full_session(ssl.TLSVersion.TLSv1_2)
        self.assertEqual(version, "TLSv1.2")

    def test_tls_max_12(self):
        self.start(tls_context=self.ctx("1.2"))
        version, _ = self.full_session()  # the client offers 1.3 too
        self.assertEqual(version, "TLSv1.2")
        self.assertEqual(self.events("tls")[0]["tickets"], 0)

    def check_refused_cert(self, cert, key, ca="ca.pem"):
        self.start(tls_context=self.ctx("1.3", cert, key))
        c = self.connect()
        c.line()
        with self.assertRaises(ssl.SSLCertVerificationError) as cm:
            c.starttls(client_ctx(ca))
        fails = self.events("tls_fail", wait_for="tls_fail")
        self.assertEqual(len(fails), 1)
        self.assertIn("ALERT", fails[0]["error"])  # the client's alert, as OpenSSL names it
        return str(cm.exception)

    def test_wrong_host_name_refused_by_client(self):
        msg = self.check_refused_cert("wrong.pem", "wrong-key.pem")
        self.assertIn("tic.test", msg)

    def test_unknown_ca_refused_by_client(self):
        msg = self.check_refused_cert("other.pem", "other-key.pem")
        self.assertIn("local issuer", msg)

    def test_other_ca_trusts_its_own_cert(self):
        # other.pem is a valid certificate for tic.test, just from another CA
        self.start(tls_context=self.ctx("1.3", "other.pem", "other-key.pem"))
        c = self.connect()
        c.line()
        self.assertRegex(c.starttls(client_ctx("other-ca.pem")), r"^200 ")
        self.assertRegex(c.login(), r"^200 ")

    def test_ip_address_san(self):
        self.start(tls_context=self.ctx())
        c = self.connect()
        c.line()
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.starttls(client_ctx(), hostname="127.0.0.1")  # not in the certificate
        c = self.connect()
        c.line()
        self.assertRegex(c.cmd("starttls"), r"^200 ")
        ctx = client_ctx()
        ctx.check_hostname = False
        s = ctx.wrap_socket(c.sock)
        self.assertIn(("IP Address", "192.0.2.1"), s.getpeercert()["subjectAltName"])
        s.close()

    def test_cleartext_pipelined_after_starttls_is_discarded(self):
        self.start(tls_context=self.ctx())
        c = self.connect()
        c.line()
        c.raw(b"starttls\nusername " + USER.encode() + b"\n")
        self.assertRegex(c.line(), r"^200 ")
        c.sock = client_ctx().wrap_socket(c.sock, server_hostname="tic.test")
        # "username" was not executed: challenge needs a username first
        self.assertRegex(c.cmd("challenge md5"), r"^4\d\d ")
        self.assertEqual(self.events("tls_pipelined_discarded")[0]["bytes"], 20)

    def test_second_starttls_and_starttls_after_login(self):
        self.start(tls_context=self.ctx())
        c = self.connect()
        c.line()
        c.starttls(client_ctx())
        self.assertRegex(c.cmd("starttls"), r"^4\d\d ")
        d = self.connect()
        d.line()
        d.login()
        self.assertRegex(d.cmd("starttls"), r"^4\d\d ")


# ---------------------------------------------------------------------------
class StallHook(ServerCase):
    server_kwargs = {"tls_context": None, "stall_seconds": 30}

    def assert_stalled(self, c, expect_prefix):
        c.sock.settimeout(1.0)
        got = c.buf
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                data = c.sock.recv(4096)
            except (socket.timeout, TimeoutError):
                continue
            self.assertNotEqual(data, b"", "server closed instead of stalling")
            got += data
        self.assertTrue(got.startswith(expect_prefix), got)
        self.assertFalse(got.endswith(b"\n"), got)
        self.assertGreater(len(got), len(expect_prefix))
        return got

    def test_stall_after_welcome(self):
        self.start(stall_step="welcome")
        c = self.connect()
        got = self.assert_stalled(c, b"2")
        self.assertNotIn(b"\n", got)
        self.assertEqual(self.events("stall", wait_for="stall")[0]["step"], "welcome")
        c.close()
        self.assertEqual(self.events("close", wait_for="close")[0]["reason"],
                         "eof_during_stall")

    def test_stall_after_unixtime(self):
        self.start(stall_step="get unixtime")
        c = self.connect()
        c.line()
        c.send("get unixtime")
        self.assert_stalled(c, b"200")

    def test_stall_after_tunnel_show(self):
        self.start(stall_step="tunnel-show")
        c = self.connect()
        c.line()
        c.login()
        c.send("tunnel show T10001")
        got = self.assert_stalled(c, b"201 ")
        self.assertEqual(got.count(b"\n"), 1)  # the 201 line, then half a line

    def test_stall_ends_after_stall_seconds(self):
        self.start(stall_step="welcome", stall_seconds=0.5)
        c = self.connect()
        t0 = time.monotonic()
        got = b""
        while True:
            data = c.sock.recv(4096)
            if not data:
                break
            got += data
        self.assertLess(time.monotonic() - t0, 3)
        self.assertRegex(got.decode(), r"^2\d*")
        self.assertNotIn(b"\n", got)

    def test_stall_during_handshake(self):
        self.start(stall_step="handshake",
                   tls_context=tic.make_tls_context(pki("server.pem"), pki("server-key.pem")))
        c = self.connect(timeout=1.0)
        c.line()
        with self.assertRaises((socket.timeout, TimeoutError)):
            c.starttls(client_ctx())

    def test_unknown_step_rejected(self):
        with self.assertRaises(ValueError):
            tic.normalize_step("tunnel frob")


# ---------------------------------------------------------------------------
class AccountsFile(unittest.TestCase):
    def test_example_round_trips(self):
        out = subprocess.run([sys.executable, os.path.join(HERE, "tic.py"),
                              "--print-example", "6"], capture_output=True, check=True)
        acc = tic.Accounts(json.loads(out.stdout))
        self.assertEqual(len(acc.tunnels_of("ABC1-SIXXS")), 6)

    def test_ipv4_endpoint_as_a_broker_gives_it(self):
        # PROTOCOLS.md 7.1: "ayiya", "heartbeat", or the static client's address
        doc = tic.example_accounts(3, kinds=["ayiya", "6in4-heartbeat", "6in4-static"])
        got = [(t["Type"], t["IPv4 Endpoint"]) for t in doc["accounts"][0]["tunnels"]]
        self.assertEqual(got, [("ayiya", "ayiya"), ("6in4-heartbeat", "heartbeat"),
                               ("6in4-static", "198.51.100.2")])
        doc = tic.example_accounts(2, kind="6in4-heartbeat")
        self.assertEqual({t["IPv4 Endpoint"] for t in doc["accounts"][0]["tunnels"]},
                         {"heartbeat"})

    def test_bad_files_rejected(self):
        bad = [
            {"accounts": [{"username": "A"}]},  # no password
            {"accounts": [{"username": "A", "password": "p"},
                          {"username": "A", "password": "q"}]},
            {"accounts": [{"username": "A", "password": "p",
                           "tunnels": [{"TunnelId": "T1"}]}]},  # list keys missing
        ]
        doc = tic.example_accounts(1)
        doc["accounts"][0]["tunnels"][0]["Password"] = "a\nb"
        bad.append(doc)
        doc = tic.example_accounts(1)
        doc["accounts"].append({"username": "B", "password": "p",
                                "tunnels": doc["accounts"][0]["tunnels"]})
        bad.append(doc)  # duplicate TunnelId
        for d in bad:
            with self.assertRaises(ValueError, msg=json.dumps(d)[:80]):
                tic.Accounts(d)

    def test_listen_parsing(self):
        P = tic.parse_listen
        self.assertEqual(P("192.0.2.1")[1:], ("192.0.2.1", 3874))
        self.assertEqual(P("192.0.2.1:4000")[1:], ("192.0.2.1", 4000))
        self.assertEqual(P("2001:db8::1"), (socket.AF_INET6, "2001:db8::1", 3874))
        self.assertEqual(P("[2001:db8::1]:99")[1:], ("2001:db8::1", 99))
        for bad in ("tic.test", "192.0.2.1:x", "[2001:db8::1", "1.2.3.4:70000"):
            with self.assertRaises(ValueError):
                P(bad)


# ---------------------------------------------------------------------------
class CommandLine(unittest.TestCase):
    """tic.py as the integration tests run it: pidfile, log, stats, signals."""

    def test_process_lifecycle(self):
        d = tempfile.mkdtemp(dir=TMP.name)
        paths = {k: os.path.join(d, k) for k in ("accounts", "log", "stats", "pid")}
        with open(paths["accounts"], "w") as fh:
            json.dump(accounts_doc(), fh)
        proc = subprocess.Popen([
            sys.executable, os.path.join(HERE, "tic.py"), "--listen", "127.0.0.1:0",
            "--accounts", paths["accounts"], "--cert", pki("server.pem"),
            "--key", pki("server-key.pem"), "--log", paths["log"], "--stats", paths["stats"],
            "--pidfile", paths["pid"], "--clock-offset", "1000"])
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 10
        while not os.path.exists(paths["pid"]):
            self.assertIsNone(proc.poll(), "tic.py exited early")
            self.assertLess(time.monotonic(), deadline, "no pidfile")
            time.sleep(0.05)
        with open(paths["pid"]) as fh:
            self.assertEqual(int(fh.read()), proc.pid)
        with open(paths["log"]) as fh:
            ready = json.loads(fh.readline())
        # TLS 1.2 at most by default (PROTOCOLS.md 7.1)
        self.assertEqual((ready["event"], ready["tls"], ready["tls_max"]), ("ready", True, "1.2"))
        c = Client(ready["port"])
        c.line()
        t = int(c.cmd("get unixtime").split()[1])
        self.assertLess(abs(t - time.time() - 1000), 5)
        c.starttls(client_ctx())
        self.assertEqual(c.sock.version(), "TLSv1.2")  # although the client offers 1.3
        self.assertRegex(c.login(), r"^200 ")
        c.cmd("QUIT")
        c.close()
        # SIGUSR1 dumps the statistics: ask again until the session is counted (bounded).
        st, deadline = {}, time.monotonic() + 10
        while (st.get("connections"), st.get("auth_ok"), st.get("tls_ok")) != (1, 1, 1):
            self.assertLess(time.monotonic(), deadline, "statistics never counted it: %r" % st)
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(0.05)
            try:
                with open(paths["stats"]) as fh:
                    st = json.load(fh)
            except (OSError, ValueError):
                st = {}  # not written yet, or caught mid-write
        self.assertEqual((st["connections"], st["auth_ok"], st["tls_ok"]), (1, 1, 1))
        self.assertEqual(st["peers"], {"127.0.0.1": 1})
        self.assertEqual(st["accounts"][USER]["sessions"], 1)
        # SIGHUP re-reads the accounts file
        doc = accounts_doc()
        doc["accounts"][0]["tunnels"].append(dict(doc["accounts"][0]["tunnels"][0],
                                                  TunnelId="T10099"))
        with open(paths["accounts"], "w") as fh:
            json.dump(doc, fh)
        os.kill(proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "reloaded" not in open(paths["log"]).read():
            self.assertLess(time.monotonic(), deadline, "no reload")
            time.sleep(0.05)
        c = Client(ready["port"])
        c.line()
        c.starttls(client_ctx())
        c.login()
        self.assertEqual(len(c.multi("tunnel list")[1]), 4)
        c.close()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        self.assertFalse(os.path.exists(paths["pid"]))
        with open(paths["log"]) as fh:
            events = [json.loads(ln)["event"] for ln in fh]
        self.assertEqual(events[-1], "stop")
        self.assertIn("stats", events)

    def test_tls_max_13_option_sends_tickets(self):
        d = tempfile.mkdtemp(dir=TMP.name)
        acc, log, pid = (os.path.join(d, k) for k in ("accounts", "log", "pid"))
        with open(acc, "w") as fh:
            json.dump(accounts_doc(), fh)
        proc = subprocess.Popen([
            sys.executable, os.path.join(HERE, "tic.py"), "--listen", "127.0.0.1:0",
            "--accounts", acc, "--cert", pki("server.pem"), "--key", pki("server-key.pem"),
            "--log", log, "--pidfile", pid, "--tls-max", "1.3"])
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 10
        while not os.path.exists(pid):
            self.assertIsNone(proc.poll(), "tic.py exited early")
            self.assertLess(time.monotonic(), deadline, "no pidfile")
            time.sleep(0.05)
        with open(log) as fh:
            ready = json.loads(fh.readline())
        self.assertEqual(ready["tls_max"], "1.3")
        c = Client(ready["port"])
        c.line()
        c.starttls(client_ctx())
        self.assertRegex(c.login(), r"^200 ")  # reads past the tickets
        self.assertEqual(c.sock.version(), "TLSv1.3")
        self.assertTrue(c.sock.session.has_ticket)
        c.cmd("QUIT")
        c.close()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)

    def test_bad_accounts_file_fails_with_reason(self):
        d = tempfile.mkdtemp(dir=TMP.name)
        acc = os.path.join(d, "acc.json")
        with open(acc, "w") as fh:
            fh.write('{"accounts": [{"username": "A"}]}')
        r = subprocess.run([sys.executable, os.path.join(HERE, "tic.py"), "--listen",
                            "127.0.0.1:0", "--accounts", acc, "--no-tls"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        rec = json.loads(r.stderr.strip().splitlines()[-1])
        self.assertEqual(rec["event"], "fatal")
        self.assertIn("password", rec["error"])


# ---------------------------------------------------------------------------
class MkCa(unittest.TestCase):
    FILES = ("ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "wrong.pem",
             "wrong-key.pem", "other-ca.pem", "other-ca-key.pem", "other.pem", "other-key.pem")

    def run_tool(self, tool):
        if not any(os.access(os.path.join(p, tool), os.X_OK)
                   for p in os.environ.get("PATH", "").split(":")):
            self.skipTest("%s not installed" % tool)
        d = tempfile.mkdtemp(dir=TMP.name)
        subprocess.run(["sh", os.path.join(HERE, "mkca.sh"), d, "tic.example.test",
                        "198.51.100.1", "2001:db8::1"], check=True, capture_output=True,
                       env=dict(os.environ, MKCA_TOOL=tool))
        for f in self.FILES:
            st = os.stat(os.path.join(d, f))
            if f.endswith("key.pem"):
                self.assertEqual(st.st_mode & 0o077, 0, f)
        dec = ssl._ssl._test_decode_cert  # stdlib's PEM decoder, as used by its tests
        server = dec(os.path.join(d, "server.pem"))
        self.assertEqual(sorted(server["subjectAltName"]),
                         sorted([("DNS", "tic.example.test"), ("IP Address", "198.51.100.1"),
                                 ("IP Address", "2001:DB8:0:0:0:0:0:1")]))
        self.assertEqual(dec(os.path.join(d, "wrong.pem"))["subjectAltName"],
                         (("DNS", "wrong.test"),))
        self.assertEqual(dec(os.path.join(d, "other.pem"))["subjectAltName"],
                         server["subjectAltName"])
        self.assertNotEqual(dec(os.path.join(d, "other.pem"))["issuer"], server["issuer"])
        # chains verify only against their own CA
        for cert, ca, ok in (("server.pem", "ca.pem", True), ("wrong.pem", "ca.pem", True),
                             ("other.pem", "ca.pem", False), ("other.pem", "other-ca.pem", True),
                             ("server.pem", "other-ca.pem", False)):
            ctx = ssl.create_default_context(cafile=os.path.join(d, ca))
            ctx.check_hostname = False
            srv = tic.make_tls_context(os.path.join(d, cert),
                                       os.path.join(d, cert.replace(".pem", "-key.pem")))
            self.assertEqual(handshake_ok(srv, ctx), ok, (tool, cert, ca))

    def test_certtool(self):
        self.run_tool("certtool")

    def test_openssl(self):
        self.run_tool("openssl")


def handshake_ok(server_ctx, client_ctx_):
    a, b = socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)
    result = {}

    def serve():
        try:
            server_ctx.wrap_socket(a, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass

    t = threading.Thread(target=serve)
    t.start()
    try:
        client_ctx_.wrap_socket(b).close()
        result["ok"] = True
    except ssl.SSLCertVerificationError:
        result["ok"] = False
    finally:
        b.close()
        t.join(5)
        a.close()
    return result["ok"]


if __name__ == "__main__":
    unittest.main()
