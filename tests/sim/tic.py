#!/usr/bin/env python3
"""Broker simulator, TIC server (docs/PROTOCOLS.md sections 1 and 7).

Speaks the tunnel broker's line protocol on TCP port 3874: welcome, client
identity, `get unixtime`, STARTTLS (up to TLS 1.2 by default, like the broker
of the real client's time; TLS 1.3 with session tickets on request),
`username`, the MD5 challenge/response, `tunnel list`, `tunnel show`,
`pop show`, `QUIT`.  It enforces the broker's published connection rule (more
than 4 connections from one address in 60 s: refused for 5 minutes; a second
such excess within 24 h: refused for a week) and logs every connection as a
JSON line, so integration tests can count what the client really did.

    tic.py --listen ADDR[:PORT] --accounts FILE [--cert CERT --key KEY | --no-tls]
           [--tls-max 1.2|1.3] [--log FILE] [--stats FILE] [--pidfile FILE]
           [--clock-offset S] [--stall-after STEP] [--stall-seconds S]
           [--idle-timeout S] [--max-line N] [--max-clients N]
    tic.py --print-example N        (an accounts file with N tunnels, to stdout)

Written from the protocol description, independently of the product's C
code.  Python 3.11, standard library only.  See README.md for the formats.
"""

import argparse
import collections
import hashlib
import hmac
import ipaddress
import itertools
import json
import os
import secrets
import selectors
import signal
import socket
import ssl
import sys
import threading
import time

TIC_PORT = 3874

# The broker's rule (PROTOCOLS.md section 1, "Broker rate limit").
RATE_MAX = 4  # connections allowed in any window; the 5th is refused
RATE_WINDOW = 60.0
BLOCK_SECONDS = 300.0
STRIKE_WINDOW = 86400.0  # two excesses within this: long block
LONG_BLOCK_SECONDS = 7 * 86400.0

DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_MAX_LINE = 1024  # bytes including the LF, like the real client's lines
DEFAULT_MAX_CLIENTS = 32
DEFAULT_STALL_SECONDS = 600.0
MAX_COMMANDS = 1000  # per session; a real client needs a few dozen

# Steps --stall-after accepts.  Each is the reply that gets cut in half.
STEPS = (
    "welcome",
    "client",
    "unixtime",
    "starttls",
    "handshake",  # "200" to starttls is sent whole, then no TLS handshake
    "username",
    "challenge",
    "authenticate",
    "tunnel list",
    "tunnel show",
    "pop show",
    "quit",
)

# Keys `tunnel list` needs; every other key is optional so that tests can
# leave keys out on purpose.  `tunnel show` prints every key of the
# account file's tunnel object, in the file's order.
TUNNEL_LIST_KEYS = ("TunnelId", "IPv6 Endpoint", "IPv4 Endpoint", "POP Id")


def normalize_step(step):
    s = " ".join(step.replace("-", " ").replace("_", " ").lower().split())
    if s == "get unixtime":
        s = "unixtime"
    if s not in STEPS:
        raise ValueError("unknown step %r (one of: %s)" % (step, ", ".join(STEPS)))
    return s


def md5hex(text):
    return hashlib.md5(text.encode()).hexdigest()


def expected_response(challenge, password):
    """PROTOCOLS.md 1: md5hex(challenge + md5hex(password))."""
    return md5hex(challenge + md5hex(password))


# --------------------------------------------------------------------------
# The broker's connection rule, pure: no sockets, the caller passes the time.
# --------------------------------------------------------------------------
class Verdict:
    __slots__ = ("allowed", "reason", "until", "count", "event", "strikes")

    def __init__(self, allowed, reason=None, until=None, count=0, event=None, strikes=0):
        self.allowed = allowed
        self.reason = reason  # None, "rate" (this one exceeded), "blocked" (inside a block)
        self.until = until  # end of the block this connection fell into
        self.count = count  # connections from this address in the window, this one included
        self.event = event  # None, "block" or "long_block": a block started now
        self.strikes = strikes  # excesses within the last 24 h


class RateLimiter:
    """Per source address: more than `max_conn` connections in the half-open
    window (now - window, now] is an excess; an excess blocks the address for
    `block` seconds, a second excess within `strike_window` for `long_block`.

    Every connection counts, also those refused during a block ("every TCP
    connection counts, whatever happens after it"), but a refused connection
    does not extend a running block.  So a client that keeps knocking during
    its block finds the window still full when the block ends, and its next
    connection is a second excess: the week-long block.  That is the harshest
    reading of the published rule, on purpose: the product must never test it.
    """

    def __init__(self, max_conn=RATE_MAX, window=RATE_WINDOW, block=BLOCK_SECONDS,
                 strike_window=STRIKE_WINDOW, long_block=LONG_BLOCK_SECONDS):
        self.max_conn = max_conn
        self.window = window
        self.block = block
        self.strike_window = strike_window
        self.long_block = long_block
        self.history = {}  # addr -> deque of connection times inside the window
        self.blocked_until = {}  # addr -> time
        self.strikes = {}  # addr -> deque of excess times inside strike_window

    def admit(self, addr, now):
        hist = self.history.setdefault(addr, collections.deque())
        hist.append(now)
        while hist and hist[0] <= now - self.window:
            hist.popleft()
        strikes = self.strikes.setdefault(addr, collections.deque())
        while strikes and strikes[0] <= now - self.strike_window:
            strikes.popleft()
        until = self.blocked_until.get(addr)
        if until is not None and now < until:
            return Verdict(False, "blocked", until, len(hist), None, len(strikes))
        if len(hist) <= self.max_conn:
            return Verdict(True, None, None, len(hist), None, len(strikes))
        strikes.append(now)
        if len(strikes) >= 2:
            until, event = now + self.long_block, "long_block"
        else:
            until, event = now + self.block, "block"
        self.blocked_until[addr] = until
        return Verdict(False, "rate", until, len(hist), event, len(strikes))

    def snapshot(self, now):
        """Addresses currently blocked: {addr: seconds left}."""
        return {a: round(u - now, 3) for a, u in sorted(self.blocked_until.items()) if u > now}

    def reset(self):
        self.history.clear()
        self.blocked_until.clear()
        self.strikes.clear()


# --------------------------------------------------------------------------
# Accounts file
# --------------------------------------------------------------------------
def _text(value, where):
    """A value as the server prints it; line breaks would break the protocol."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise ValueError("%s: value must be a string or a number, not %r" % (where, value))
    s = str(value)
    if "\n" in s or "\r" in s:
        raise ValueError("%s: value contains a line break" % where)
    return s


class Accounts:
    """The parsed accounts file (format in README.md)."""

    def __init__(self, doc, source="<accounts>"):
        if not isinstance(doc, dict):
            raise ValueError("%s: top level must be an object" % source)
        self.users = {}  # username -> {"password", "tunnels": [ordered (key, text) lists]}
        self.tunnel_owner = {}  # TunnelId -> username
        self.pops = {}  # POPId -> [(key, text)]
        for i, acc in enumerate(doc.get("accounts", [])):
            where = "%s: accounts[%d]" % (source, i)
            if not isinstance(acc, dict):
                raise ValueError("%s: must be an object" % where)
            try:
                user = _text(acc["username"], where + ".username")
                password = _text(acc["password"], where + ".password")
            except KeyError as e:
                raise ValueError("%s: missing %s" % (where, e)) from None
            if not user or " " in user:
                raise ValueError("%s: bad username %r" % (where, user))
            if user in self.users:
                raise ValueError("%s: duplicate username %s" % (where, user))
            tunnels = []
            for j, t in enumerate(acc.get("tunnels", [])):
                tw = "%s.tunnels[%d]" % (where, j)
                if not isinstance(t, dict):
                    raise ValueError("%s: must be an object" % tw)
                fields = [(k, _text(v, "%s.%s" % (tw, k))) for k, v in t.items()]
                d = dict(fields)
                for k in TUNNEL_LIST_KEYS:
                    if k not in d:
                        raise ValueError("%s: missing %r" % (tw, k))
                    if not d[k] or " " in d[k]:
                        raise ValueError("%s: %r must be one word" % (tw, k))
                for k, _ in fields:
                    if ": " in k or not k:
                        raise ValueError("%s: bad key %r" % (tw, k))
                tid = d["TunnelId"]
                if tid in self.tunnel_owner:
                    raise ValueError("%s: duplicate TunnelId %s" % (tw, tid))
                self.tunnel_owner[tid] = user
                tunnels.append(fields)
            self.users[user] = {"password": password, "tunnels": tunnels}
        for i, p in enumerate(doc.get("pops", [])):
            where = "%s: pops[%d]" % (source, i)
            if not isinstance(p, dict) or "POPId" not in p:
                raise ValueError("%s: must be an object with POPId" % where)
            fields = [(k, _text(v, "%s.%s" % (where, k))) for k, v in p.items()]
            self.pops[dict(fields)["POPId"]] = fields

    @classmethod
    def load(cls, path):
        with open(path) as fh:
            return cls(json.load(fh), path)

    def tunnels_of(self, user):
        return self.users[user]["tunnels"]

    def tunnel(self, user, tid):
        """The tunnel's fields if `user` owns it, else None (no difference
        between unknown and foreign: the server reveals nothing)."""
        for fields in self.users.get(user, {"tunnels": []})["tunnels"]:
            if dict(fields)["TunnelId"] == tid:
                return fields
        return None


# What a broker puts in "IPv4 Endpoint" (PROTOCOLS.md 7.1): the word
# "ayiya" for AYIYA tunnels, "heartbeat" for heartbeat tunnels, the
# client's address for static ones.
STATIC_EXAMPLE_IPV4 = "198.51.100.2"


def ipv4_endpoint(kind):
    return {"ayiya": "ayiya", "6in4-heartbeat": "heartbeat"}.get(kind, STATIC_EXAMPLE_IPV4)


def example_accounts(n=1, username="ABC1-SIXXS", password="sim-password", kind="ayiya",
                     pop_ipv4="192.0.2.1", kinds=None):
    """An accounts document with one account holding n tunnels T10001...:
    tunnel i (1-based) gets 2001:db8:<i>::/64 (::1 PoP, ::2 client).
    kinds: a list giving tunnel i the type kinds[i-1] (else `kind`)."""
    tunnels = []
    for i in range(1, n + 1):
        k = kinds[i - 1] if kinds and i <= len(kinds) else kind
        tunnels.append({
            "TunnelId": "T%d" % (10000 + i),
            "Type": k,
            "IPv6 Endpoint": "2001:db8:%x::2" % i,
            "IPv6 POP": "2001:db8:%x::1" % i,
            "IPv6 PrefixLength": 64,
            "Tunnel Name": "Simulated tunnel %d" % i,
            "POP Id": "simpop01",
            "IPv4 Endpoint": ipv4_endpoint(k),
            "IPv4 POP": pop_ipv4,
            "UserState": "enabled",
            "AdminState": "enabled",
            "Password": "tunnel-secret-%d" % i,
            "Heartbeat_Interval": 60,
            "Tunnel MTU": 1280,
        })
    return {
        "accounts": [{"username": username, "password": password, "tunnels": tunnels}],
        "pops": [{
            "POPId": "simpop01", "City": "Testville", "Country": "ZZ",
            "IPv4": pop_ipv4, "IPv6": "2001:db8:ffff::1",
            "ISP Short": "SIM", "ISP Name": "Simulated Broker",
            "ISP Website": "http://sim.test/", "ISP ASN": "64496", "ISP LIR": "zz.sim",
        }],
    }


# --------------------------------------------------------------------------
# Log and counters
# --------------------------------------------------------------------------
class JsonLog:
    """One JSON object per line; "ts" is the epoch with milliseconds."""

    def __init__(self, path=None, clock=time.time):
        self.out = open(path, "a", buffering=1) if path else sys.stderr
        self.clock = clock
        self.lock = threading.Lock()

    def event(self, name, **fields):
        rec = {"ts": round(self.clock(), 3), "event": name}
        rec.update(fields)
        line = json.dumps(rec, sort_keys=False) + "\n"
        with self.lock:
            if self.out is None:  # a session thread outliving shutdown
                return
            self.out.write(line)
            self.out.flush()

    def close(self):
        with self.lock:
            out, self.out = self.out, None
        if out is not None and out is not sys.stderr:
            out.close()


def new_stats():
    return {
        "connections": 0,  # every accepted TCP connection
        "refused": 0,  # non-2xx welcome (rate rule or busy)
        "refused_rate": 0,
        "refused_busy": 0,
        "blocks": 0,  # 5-minute blocks started
        "long_blocks": 0,  # week-long blocks started
        "active": 0,
        "tls_ok": 0,
        "tls_fail": 0,
        "auth_ok": 0,
        "auth_fail": 0,
        "quit": 0,
        "stalls": 0,
        "accounts": {},  # username -> {"sessions", "auth_fail", "tunnel_show"}
        "peers": {},  # address -> connections
    }


def account_stats(stats, user):
    return stats["accounts"].setdefault(user, {"sessions": 0, "auth_fail": 0, "tunnel_show": 0})


# --------------------------------------------------------------------------
# One connection
# --------------------------------------------------------------------------
class Close(Exception):
    """End the session; args[0] is the reason logged."""


class LineReader:
    """Reads LF-terminated lines (a trailing CR is dropped) of bounded length,
    each within a deadline."""

    def __init__(self, sock, max_line, timeout):
        self.sock = sock
        self.max_line = max_line
        self.timeout = timeout
        self.buf = b""

    def readline(self):
        deadline = time.monotonic() + self.timeout
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                if i + 1 > self.max_line:
                    raise Close("line_too_long")
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                if line.endswith(b"\r"):
                    line = line[:-1]
                return line.decode("utf-8", "replace")
            if len(self.buf) >= self.max_line:
                raise Close("line_too_long")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Close("idle_timeout")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, TimeoutError):
                raise Close("idle_timeout") from None
            except ssl.SSLError as e:
                raise Close("tls_error: %s" % (e.reason or e)) from None
            except OSError as e:
                raise Close("io_error: %s" % e) from None
            if not data:
                raise Close("eof" if not self.buf else "eof_mid_line")
            self.buf += data


class Session:
    """The TIC conversation on one accepted connection (runs in its own thread)."""

    def __init__(self, server, sock, peer, cid):
        self.server = server
        self.sock = sock
        self.peer = peer  # (address, port)
        self.cid = cid
        self.reader = LineReader(sock, server.max_line, server.idle_timeout)
        self.tls = None  # protocol version once TLS is up
        self.username = None
        self.challenge = None
        self.user = None  # authenticated username
        self.commands = 0

    # -- output ----------------------------------------------------------
    def send(self, lines, step):
        """Send a whole reply in one write; at the --stall-after step send
        only part of it and stall: a single-line reply is cut in the middle of
        the line, a multi-line one after its 201 line plus half of the next."""
        if step is not None and self.server.stall_step == step:
            if len(lines) == 1:
                data = lines[0][: max(1, len(lines[0]) // 2)]
            else:
                data = lines[0] + "\n" + lines[1][: max(1, len(lines[1]) // 2)]
            self._write(data.encode())
            self.stall(step)
        self._write("".join(line + "\n" for line in lines).encode())

    def _write(self, data):
        try:
            self.sock.settimeout(self.server.idle_timeout)
            self.sock.sendall(data)
        except (socket.timeout, TimeoutError):
            raise Close("send_timeout") from None
        except OSError as e:
            raise Close("io_error: %s" % e) from None

    def stall(self, step):
        """Keep the connection open, say nothing, discard input; end when the
        client gives up (EOF) or after --stall-seconds."""
        srv = self.server
        srv.count("stalls")
        srv.log.event("stall", conn=self.cid, step=step, seconds=srv.stall_seconds)
        deadline = time.monotonic() + srv.stall_seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or srv.stopping.is_set():
                raise Close("stall_timeout")
            self.sock.settimeout(min(left, 0.5))
            try:
                if not self.sock.recv(4096):
                    raise Close("eof_during_stall")
            except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                raise Close("eof_during_stall") from None

    def command_log(self, cmd, code, arg=None, **extra):
        fields = {"conn": self.cid, "cmd": cmd, "code": code}
        if arg is not None:
            fields["arg"] = arg
        fields.update(extra)
        self.server.log.event("command", **fields)

    # -- the conversation --------------------------------------------------
    def run(self):
        srv = self.server
        self.send(["200 SixXS-style TIC simulator on %s ready (aiccud tests)" % srv.name],
                  "welcome")
        while True:
            line = self.reader.readline()
            self.commands += 1
            if self.commands > MAX_COMMANDS:
                self.send(["400 Too many commands in one session"], None)
                raise Close("too_many_commands")
            self.dispatch(line)

    def dispatch(self, line):
        words = line.split()
        lw = [w.lower() for w in words]
        if not words:
            self.send(["400 Empty command"], None)
            self.command_log("", 400)
            return
        two = " ".join(lw[:2])
        if lw[0] == "client":
            self.do_client(line[len(words[0]):].strip())
        elif two == "get unixtime":
            self.do_unixtime()
        elif lw[0] == "starttls":
            self.do_starttls()
        elif lw[0] == "username":
            self.do_username(words[1:])
        elif lw[0] == "challenge":
            self.do_challenge(lw[1:])
        elif lw[0] == "authenticate":
            self.do_authenticate(lw[1:2], words[2:])
        elif two == "tunnel list":
            self.do_tunnel_list()
        elif two == "tunnel show":
            self.do_tunnel_show(words[2:])
        elif two == "pop show":
            self.do_pop_show(words[2:])
        elif lw[0] == "quit":
            self.send(["200 Thank you for using this TIC service, goodbye"], "quit")
            self.command_log("quit", 200)
            self.server.count("quit")
            raise Close("quit")
        else:
            self.send(["400 Unknown command"], None)
            # Log the verb only: an unknown line might hold a secret.
            self.command_log("unknown", 400, arg=words[0][:32])

    def do_client(self, ident):
        self.send(["200 Client Identity accepted"], "client")
        self.command_log("client", 200, arg=ident[:200])

    def do_unixtime(self):
        now = int(self.server.clock() + self.server.clock_offset)
        self.send(["200 %d" % now], "unixtime")
        self.command_log("get unixtime", 200, arg=str(now))

    def do_starttls(self):
        srv = self.server
        if srv.tls_context is None:
            self.send(["400 This service is not SSL enabled (yet)"], "starttls")
            self.command_log("starttls", 400)
            return
        if self.tls:
            self.send(["400 Already in TLS mode"], "starttls")
            self.command_log("starttls", 400)
            return
        if self.user is not None or self.challenge is not None:
            self.send(["400 STARTTLS must come before authentication"], "starttls")
            self.command_log("starttls", 400)
            return
        pipelined = len(self.reader.buf)
        self.send(["200 Starting TLS"], "starttls")
        self.command_log("starttls", 200)
        if pipelined:
            # Anything the client sent after "starttls" in clear text must not
            # be taken as a command once TLS is up (command injection).
            srv.log.event("tls_pipelined_discarded", conn=self.cid, bytes=pipelined)
            self.reader.buf = b""
        if srv.stall_step == "handshake":
            self.stall("handshake")
        tls = srv.tls_context.wrap_socket(self.sock, server_side=True,
                                          do_handshake_on_connect=False)
        self.sock = tls  # wrap_socket took over the descriptor
        tls.settimeout(srv.idle_timeout)
        try:
            tls.do_handshake()
        except (socket.timeout, TimeoutError):
            srv.count("tls_fail")
            srv.log.event("tls_fail", conn=self.cid, error="handshake timeout")
            raise Close("tls_handshake_timeout") from None
        except (ssl.SSLError, OSError) as e:
            srv.count("tls_fail")
            err = getattr(e, "reason", None) or str(e)
            srv.log.event("tls_fail", conn=self.cid, error=str(err))
            raise Close("tls_handshake_failed") from None
        self.reader.sock = tls
        self.tls = tls.version()
        srv.count("tls_ok")
        # TLS 1.3: OpenSSL sends num_tickets NewSessionTicket messages
        # right after the handshake (the ones the real client choked on).
        tickets = srv.tls_context.num_tickets if self.tls == "TLSv1.3" else 0
        srv.log.event("tls", conn=self.cid, version=self.tls, cipher=tls.cipher()[0],
                      sni=getattr(tls, "sni_seen", None), tickets=tickets)

    def do_username(self, args):
        if len(args) != 1:
            self.send(["400 Syntax: username <name>"], "username")
            self.command_log("username", 400)
            return
        if self.user is not None:
            self.send(["400 Already authenticated"], "username")
            self.command_log("username", 400, arg=args[0])
            return
        # Unknown names are accepted here and fail at "authenticate", with the
        # same answer as a wrong password: the server reveals no usernames.
        self.username = args[0]
        self.challenge = None
        self.send(["200 Choose your authentication challenge please"], "username")
        self.command_log("username", 200, arg=args[0])

    def do_challenge(self, args):
        if self.username is None or self.user is not None:
            self.send(["400 Challenge requires a username first"], "challenge")
            self.command_log("challenge", 400)
            return
        if args != ["md5"]:
            self.send(["400 Unsupported challenge type, use md5"], "challenge")
            self.command_log("challenge", 400, arg=" ".join(args)[:32])
            return
        self.challenge = secrets.token_hex(16)
        self.send(["200 %s" % self.challenge], "challenge")
        self.command_log("challenge", 200, arg="md5")

    def do_authenticate(self, method, args):
        srv = self.server
        if self.challenge is None or self.user is not None:
            self.send(["400 Authenticate requires a challenge first"], "authenticate")
            self.command_log("authenticate", 400)
            return
        challenge, self.challenge = self.challenge, None  # single use
        acc = srv.accounts.users.get(self.username)
        ok = False
        if method == ["md5"] and len(args) == 1 and acc is not None:
            want = expected_response(challenge, acc["password"])
            ok = hmac.compare_digest(want.encode(), args[0].encode())
        if not ok:
            srv.count("auth_fail")
            if acc is not None:
                with srv.lock:
                    account_stats(srv.stats, self.username)["auth_fail"] += 1
            self.send(["400 Username/Password incorrect"], "authenticate")
            self.command_log("authenticate", 400, user=self.username,
                             known_user=acc is not None)
            return
        self.user = self.username
        srv.count("auth_ok")
        with srv.lock:
            account_stats(srv.stats, self.user)["sessions"] += 1
        self.send(["200 Successfully logged in as %s from %s%s" % (
            self.user, self.peer[0], " over %s" % self.tls if self.tls else " in clear text")],
            "authenticate")
        self.command_log("authenticate", 200, user=self.user)

    def need_auth(self, cmd, step, arg=None):
        if self.user is None:
            self.send(["400 Not authenticated"], step)
            self.command_log(cmd, 400, arg=arg)
            return False
        return True

    def do_tunnel_list(self):
        if not self.need_auth("tunnel list", "tunnel list"):
            return
        tunnels = self.server.accounts.tunnels_of(self.user)
        lines = ["201 Listing tunnels"]
        for fields in tunnels:
            d = dict(fields)
            lines.append(" ".join(d[k] for k in TUNNEL_LIST_KEYS))
        lines.append("202 <tunnel_list> done")
        self.send(lines, "tunnel list")
        self.command_log("tunnel list", 201, count=len(tunnels))

    def do_tunnel_show(self, args):
        arg = args[0] if args else ""
        if not self.need_auth("tunnel show", "tunnel show", arg):
            return
        fields = self.server.accounts.tunnel(self.user, arg) if len(args) == 1 else None
        if fields is None:
            self.send(["400 Unknown tunnel %s" % arg[:32]], "tunnel show")
            self.command_log("tunnel show", 400, arg=arg[:32])
            return
        lines = ["201 Showing tunnel information for %s" % arg]
        lines += ["%s: %s" % kv for kv in fields]
        lines.append("202 Done")
        self.send(lines, "tunnel show")
        with self.server.lock:
            account_stats(self.server.stats, self.user)["tunnel_show"] += 1
        self.command_log("tunnel show", 201, arg=arg)

    def do_pop_show(self, args):
        arg = args[0] if args else ""
        if not self.need_auth("pop show", "pop show", arg[:32]):
            return
        fields = self.server.accounts.pops.get(arg) if len(args) == 1 else None
        if fields is None:
            self.send(["400 Unknown POP %s" % arg[:32]], "pop show")
            self.command_log("pop show", 400, arg=arg[:32])
            return
        lines = ["201 Showing POP information for %s" % arg]
        lines += ["%s: %s" % kv for kv in fields]
        lines.append("202 Done")
        self.send(lines, "pop show")
        self.command_log("pop show", 201, arg=arg)

    def close(self):
        s = self.sock
        if isinstance(s, ssl.SSLSocket) and self.tls:
            # Send close_notify; wait only briefly for the peer's.
            try:
                s.settimeout(1.0)
                s = s.unwrap()
            except (OSError, ssl.SSLError, ValueError):
                pass
        try:
            s.close()
        except OSError:
            pass
        if s is not self.sock:
            try:
                self.sock.close()
            except OSError:
                pass


# --------------------------------------------------------------------------
# The server: accept loop plus one thread per connection.
# --------------------------------------------------------------------------
def parse_listen(text):
    """ADDR, ADDR:PORT, [V6ADDR] or [V6ADDR]:PORT -> (family, addr, port)."""
    port = TIC_PORT
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("bad --listen %r" % text)
        addr, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError("bad --listen %r" % text)
            port = int(rest[1:])
    elif text.count(":") == 1:
        addr, p = text.split(":")
        port = int(p)
    else:
        addr = text
    ip = ipaddress.ip_address(addr)
    if not 0 <= port <= 65535:
        raise ValueError("bad port in --listen %r" % text)
    return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), str(ip), port


def make_tls_context(cert, key, tls_max="1.2"):
    """TLS 1.2 at most by default: the real client (GnuTLS, 2007) cannot
    finish a TLS 1.3 login once the server sends session tickets, and the
    broker of its time offered TLS 1.0-1.2 (PROTOCOLS.md 7.1).  1.0 and 1.1
    are not offered (deprecated in Python's ssl; the real client speaks 1.2)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = {"1.2": ssl.TLSVersion.TLSv1_2,
                           "1.3": ssl.TLSVersion.TLSv1_3}[tls_max]
    ctx.load_cert_chain(cert, key)

    def remember_sni(sslsock, server_name, _ctx):
        sslsock.sni_seen = server_name  # logged: shows whether the client sent SNI

    ctx.sni_callback = remember_sni
    # OpenSSL's default stays on: with TLS 1.3 the server sends two session
    # tickets right after the handshake (PROTOCOLS.md section 7).
    return ctx


class TicServer:
    def __init__(self, accounts, listen="127.0.0.1:0", tls_context=None, log=None,
                 stats_path=None, clock=time.time, clock_offset=0.0, stall_step=None,
                 stall_seconds=DEFAULT_STALL_SECONDS, idle_timeout=DEFAULT_IDLE_TIMEOUT,
                 max_line=DEFAULT_MAX_LINE, max_clients=DEFAULT_MAX_CLIENTS,
                 limiter=None, accounts_path=None):
        self.accounts = accounts
        self.accounts_path = accounts_path
        self.family, self.addr, self.port = parse_listen(listen)
        self.tls_context = tls_context
        self.clock = clock
        self.log = log or JsonLog(None, clock)
        self.stats_path = stats_path
        self.clock_offset = clock_offset
        self.stall_step = normalize_step(stall_step) if stall_step else None
        self.stall_seconds = stall_seconds
        self.idle_timeout = idle_timeout
        self.max_line = max_line
        self.max_clients = max_clients
        self.limiter = limiter or RateLimiter()
        self.name = socket.gethostname()
        self.lock = threading.Lock()
        self.stats_write_lock = threading.Lock()
        self.stats = new_stats()
        self.ids = itertools.count(1)
        self.sessions = set()
        self.stopping = threading.Event()
        self.sock = None
        self.sel = None
        self.wake_r = self.wake_w = None

    # -- counters ----------------------------------------------------------
    def count(self, key, n=1):
        with self.lock:
            self.stats[key] += n
        self.write_stats()

    def snapshot(self):
        with self.lock:
            snap = json.loads(json.dumps(self.stats))
            snap["blocked"] = self.limiter.snapshot(self.clock())
        return snap

    def write_stats(self):
        if not self.stats_path:
            return
        # One writer at a time, snapshot taken inside: the file never goes
        # back to an older state because two threads raced.
        with self.stats_write_lock:
            snap = self.snapshot()
            tmp = "%s.tmp.%d" % (self.stats_path, os.getpid())
            with open(tmp, "w") as fh:
                json.dump(snap, fh, indent=1, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, self.stats_path)

    # -- set-up --------------------------------------------------------------
    def bind(self):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((self.addr, self.port))
        s.listen(64)
        s.setblocking(False)
        self.port = s.getsockname()[1]
        self.sock = s
        self.sel = selectors.DefaultSelector()
        self.sel.register(s, selectors.EVENT_READ, self.on_accept)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, self.on_wake)
        self.log.event("ready", listen=self.addr, port=self.port, pid=os.getpid(),
                       tls=self.tls_context is not None,
                       tls_max=({ssl.TLSVersion.TLSv1_2: "1.2", ssl.TLSVersion.TLSv1_3: "1.3"}
                                .get(self.tls_context.maximum_version)
                                if self.tls_context else None),
                       clock_offset=self.clock_offset, stall_after=self.stall_step,
                       accounts=len(self.accounts.users))
        self.write_stats()

    # -- loop ----------------------------------------------------------------
    def serve(self, after_events=None):
        """Run until stop(); `after_events` runs after every wake-up (main()
        uses it for signal flags).  Call close() after serve() returns."""
        while not self.stopping.is_set():
            for key, _ in self.sel.select(1.0):
                key.data()
            if after_events is not None:
                after_events()

    def on_wake(self):
        try:
            while self.wake_r.recv(512):
                pass
        except BlockingIOError:
            pass

    def wake(self):
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def stop(self):
        self.stopping.set()
        self.wake()

    def on_accept(self):
        try:
            conn, peer = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.log.event("accept_error", error=str(e))
            return
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = next(self.ids)
        now = self.clock()
        with self.lock:
            verdict = self.limiter.admit(peer[0], now)
            self.stats["connections"] += 1
            self.stats["peers"][peer[0]] = self.stats["peers"].get(peer[0], 0) + 1
            busy = verdict.allowed and self.stats["active"] >= self.max_clients
            if verdict.allowed and not busy:
                self.stats["active"] += 1
            else:
                self.stats["refused"] += 1
                self.stats["refused_busy" if busy else "refused_rate"] += 1
            if verdict.event == "block":
                self.stats["blocks"] += 1
            elif verdict.event == "long_block":
                self.stats["long_blocks"] += 1
        rec = {"conn": cid, "peer": peer[0], "port": peer[1],
               "refused": not verdict.allowed or busy, "window_count": verdict.count}
        if not verdict.allowed:
            rec.update(reason=verdict.reason, blocked_until=round(verdict.until, 3))
        elif busy:
            rec.update(reason="busy")
        self.log.event("connect", **rec)
        if verdict.event:
            self.log.event(verdict.event, peer=peer[0], seconds=round(verdict.until - now),
                           until=round(verdict.until, 3), strikes_24h=verdict.strikes,
                           window_count=verdict.count)
        self.write_stats()
        if not verdict.allowed or busy:
            threading.Thread(target=self.refuse, args=(conn, cid, verdict, busy, now),
                             daemon=True).start()
            return
        threading.Thread(target=self.session, args=(conn, peer, cid), daemon=True).start()

    def refuse(self, conn, cid, verdict, busy, now):
        if busy:
            msg = "400 Too many connections, try again later"
        else:
            msg = "400 You have been connecting too often; blocked for %d seconds" % (
                max(1, int(verdict.until - now + 0.999)))
        try:
            conn.settimeout(5.0)
            conn.sendall((msg + "\n").encode())
        except OSError:
            pass
        conn.close()
        self.log.event("close", conn=cid, reason="refused", duration=0.0)

    def session(self, conn, peer, cid):
        s = Session(self, conn, peer, cid)
        with self.lock:
            self.sessions.add(s)
        started = time.monotonic()
        reason = "error"
        try:
            s.run()
        except Close as c:
            reason = c.args[0]
            if reason == "line_too_long":
                try:
                    s._write(b"400 Line too long\n")
                except Close:
                    pass
        except Exception as e:  # a bug in the simulator: log it, keep serving
            reason = "internal_error: %s: %s" % (type(e).__name__, e)
        finally:
            s.close()
            with self.lock:
                self.sessions.discard(s)
                self.stats["active"] -= 1
            self.log.event("close", conn=cid, reason=reason, user=s.user, tls=s.tls,
                           commands=s.commands,
                           duration=round(time.monotonic() - started, 3))
            self.write_stats()

    def reload(self):
        """SIGHUP: re-read the accounts file; keep the old one when it is bad."""
        if not self.accounts_path:
            return
        try:
            acc = Accounts.load(self.accounts_path)
        except (OSError, ValueError) as e:
            self.log.event("reload_failed", error=str(e))
            return
        self.accounts = acc
        self.log.event("reloaded", accounts=len(acc.users))

    def close(self):
        """After serve() has returned (or never ran): release everything."""
        self.stopping.set()
        with self.lock:
            sessions = list(self.sessions)
        for s in sessions:
            try:
                s.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.sel is not None:
            self.sel.close()
            self.sel = None
        for s in (self.sock, self.wake_r, self.wake_w):
            if s is not None:
                s.close()
        self.sock = self.wake_r = self.wake_w = None


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def write_pidfile(path):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as fh:
        fh.write("%d\n" % os.getpid())
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="SixXS-style TIC server simulator")
    p.add_argument("--print-example", type=int, metavar="N",
                   help="print an accounts file with N tunnels and exit")
    p.add_argument("--listen", help="ADDR[:PORT] or [V6ADDR][:PORT]; port %d by default"
                   % TIC_PORT)
    p.add_argument("--accounts", help="JSON accounts file")
    p.add_argument("--cert", help="server certificate (PEM)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--no-tls", action="store_true", help="answer starttls with 400")
    p.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.2",
                   help="highest TLS version offered (default 1.2; 1.3 sends session tickets)")
    p.add_argument("--log", help="JSON-lines log (default stderr)")
    p.add_argument("--stats", help="JSON counters, rewritten atomically on every change")
    p.add_argument("--pidfile", help="written once the socket listens")
    p.add_argument("--clock-offset", type=float, default=0.0,
                   help="seconds added to the time `get unixtime` reports")
    p.add_argument("--stall-after", metavar="STEP",
                   help="send half of this step's reply, then stall: " + ", ".join(STEPS))
    p.add_argument("--stall-seconds", type=float, default=DEFAULT_STALL_SECONDS)
    p.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT,
                   help="seconds a client may take for one line")
    p.add_argument("--max-line", type=int, default=DEFAULT_MAX_LINE)
    p.add_argument("--max-clients", type=int, default=DEFAULT_MAX_CLIENTS)
    a = p.parse_args(argv)
    if a.print_example is not None:
        return a
    if not a.listen or not a.accounts:
        p.error("--listen and --accounts are required")
    if not a.no_tls and not (a.cert and a.key):
        p.error("--cert and --key are required unless --no-tls")
    if a.stall_after:
        try:
            a.stall_after = normalize_step(a.stall_after)
        except ValueError as e:
            p.error(str(e))
    return a


def main(argv=None):
    args = parse_args(argv)
    if args.print_example is not None:
        json.dump(example_accounts(args.print_example), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    log = JsonLog(args.log)
    server = None
    flags = {"dump": False, "hup": False}
    try:
        accounts = Accounts.load(args.accounts)
        ctx = None if args.no_tls else make_tls_context(args.cert, args.key, args.tls_max)
        server = TicServer(accounts, args.listen, ctx, log, args.stats,
                           clock_offset=args.clock_offset, stall_step=args.stall_after,
                           stall_seconds=args.stall_seconds, idle_timeout=args.idle_timeout,
                           max_line=args.max_line, max_clients=args.max_clients,
                           accounts_path=args.accounts)
        server.bind()

        def on_signal(signum, _frame):
            if signum == signal.SIGUSR1:
                flags["dump"] = True
            elif signum == signal.SIGHUP:
                flags["hup"] = True
            else:
                server.stopping.set()

        signal.set_wakeup_fd(server.wake_w.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP):
            signal.signal(sig, on_signal)
        if args.pidfile:
            write_pidfile(args.pidfile)

        def after_events():
            if flags["dump"]:
                flags["dump"] = False
                server.write_stats()
                log.event("stats", **{k: v for k, v in server.snapshot().items()
                                      if not isinstance(v, dict)})
            if flags["hup"]:
                flags["hup"] = False
                server.reload()

        server.serve(after_events)
        server.write_stats()
        log.event("stop", **{k: v for k, v in server.snapshot().items()
                             if not isinstance(v, dict)})
        return 0
    except Exception as e:  # set-up failure: say why
        log.event("fatal", error="%s: %s" % (type(e).__name__, e))
        return 1
    finally:
        signal.set_wakeup_fd(-1)
        if server is not None:
            server.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
        log.close()


if __name__ == "__main__":
    sys.exit(main())
