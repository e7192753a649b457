#!/usr/bin/env python3
"""Broker simulator, PoP side (docs/PROTOCOLS.md sections 2, 3, 4, 7).

Runs as root inside the "pop" network namespace of a test.  For every tunnel
of the tunnels file (types ayiya, 6in4-heartbeat, 6in4-static) it creates a
TUN device holding the PoP's tunnel address.  On the listen address it
serves:
- UDP port 5072 (AYIYA): valid datagrams are decapsulated into the tunnel's
  TUN; packets the kernel routes into an AYIYA TUN are sealed and sent to
  the tunnel's last client endpoint;
- UDP port 3740 (heartbeats): a valid heartbeat gives a 6in4-heartbeat
  tunnel its client IPv4 address;
- IP protocol 41 on a raw socket (6in4 in user space, as this machine's
  kernel has no sit): packets from a tunnel's client IPv4 go into its TUN,
  packets routed into a 6in4 TUN go out as protocol 41 to the client IPv4
  (for heartbeat tunnels only once the client has sent one, like the PoP).

    pop.py --tunnels FILE --listen IPV4 [--stats FILE] [--pidfile FILE]
           [--log FILE] [--clock-offset SECONDS] [--down-after SECONDS]

Standard library only.  The pure codecs live in ayiya.py and heartbeat.py.
"""

import argparse
import fcntl
import ipaddress
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ayiya  # noqa: E402  (needs the path above)
import heartbeat  # noqa: E402

AYIYA_PORT = 5072
HEARTBEAT_PORT = heartbeat.PORT  # 3740
IPPROTO_IPV6_IN_IPV4 = 41

TYPE_AYIYA = "ayiya"
TYPE_HEARTBEAT = "6in4-heartbeat"
TYPE_STATIC = "6in4-static"
TYPES = (TYPE_AYIYA, TYPE_HEARTBEAT, TYPE_STATIC)
DOWN_AFTER = 150.0  # the real PoP: 120-180 s after the last valid packet

# Linux constants not (all) exported by the socket module.
SO_NO_CHECK = 11
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFNAMSIZ = 16

SOCKET_BUFFER = 4 << 20
BATCH = 64  # datagrams / TUN packets handled per readiness event
STATS_MIN_INTERVAL = 0.2
LOG_DROP_INTERVAL = 1.0

# Drop reasons of AYIYA tunnels, in the order the receive path checks them;
# the last ones are the PoP's own (inner source policy, send side, I/O).
AYIYA_DROPS = (
    "short",
    "header",
    "unknown_tunnel",
    "clock",
    "signature",
    "payload",
    "inner_source",
    "no_client",
    "io_error",
)
# Drop reasons of 6in4 tunnels: receive (payload not IPv6, inner source not
# the tunnel's, outer source not the client's IPv4), send (no client IPv4
# yet, heartbeat tunnel the client has not sent proto-41 on yet), I/O.
PROTO41_DROPS = (
    "payload",
    "inner_source",
    "proto41_source",
    "no_client",
    "proto41_held",
    "io_error",
)
# Global counters hold what could not be charged to one tunnel.
DROP_REASONS = AYIYA_DROPS + tuple(r for r in PROTO41_DROPS if r not in AYIYA_DROPS)


class Log:
    """One timestamped line per event; drops rate-limited per (tunnel, reason)."""

    def __init__(self, path=None):
        self.out = open(path, "a", buffering=1) if path else sys.stderr
        self.last = {}  # (scope, reason) -> time of last line
        self.suppressed = {}  # (scope, reason) -> lines not written since

    def line(self, msg):
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        self.out.write("%s.%03dZ pop[%d]: %s\n" % (stamp, int(now * 1000) % 1000, os.getpid(), msg))
        self.out.flush()

    def drop(self, scope, reason, msg):
        k = (scope, reason)
        now = time.monotonic()
        last = self.last.get(k)
        if last is not None and now - last < LOG_DROP_INTERVAL:
            self.suppressed[k] = self.suppressed.get(k, 0) + 1
            return
        self.last[k] = now
        n = self.suppressed.pop(k, 0)
        more = " (%d more suppressed)" % n if n else ""
        self.line("%s: drop %s: %s%s" % (scope, reason, msg, more))

    def flush_suppressed(self):
        for (scope, reason), n in sorted(self.suppressed.items()):
            self.line("%s: drop %s: %d more suppressed" % (scope, reason, n))
        self.suppressed.clear()

    def close(self):
        self.flush_suppressed()
        if self.out is not sys.stderr:
            self.out.close()


def new_counters(kind):
    c = {
        "type": kind,
        "rx_packets": 0,
        "rx_bytes": 0,
        "tx_packets": 0,
        "tx_bytes": 0,
        "up": False,
        "last_valid": None,
        # Link-local-sourced packets (router solicitations the real client
        # leaks into the tunnel): the real PoP drops them silently, so they
        # are no error here either; counted apart from "drops", not logged.
        "link_local": 0,
    }
    if kind == TYPE_AYIYA:
        c.update({
            "keepalives": 0,
            "echo_requests": 0,
            "other_opcodes": 0,
            "client": None,
            "drops": {r: 0 for r in AYIYA_DROPS},
        })
        return c
    c.update({
        "client_ipv4": None,
        "confirmed": kind == TYPE_STATIC,
        "drops": {r: 0 for r in PROTO41_DROPS},
    })
    if kind == TYPE_HEARTBEAT:
        c.update({
            "heartbeats": 0,
            "last_heartbeat": None,
            "last_heartbeat_gap": None,
            # The second field of the last valid heartbeat as received:
            # "sender" or the address the client claimed.
            "last_heartbeat_ipv4_field": None,
            "hb_failures": {r: 0 for r in heartbeat.FAILURES if r != heartbeat.SYNTAX
                            and r != heartbeat.UNKNOWN_TUNNEL},
        })
    return c


def run_ip(*args):
    """Configuration of the pop namespace (test code may shell out to ip)."""
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))


def open_tun(ifname):
    if len(ifname.encode()) >= IFNAMSIZ:
        raise ValueError("interface name too long: %r" % ifname)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        ifr = struct.pack("16sH22x", ifname.encode(), IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
        os.set_blocking(fd, False)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Tunnel:
    """One tunnel (AYIYA, 6in4-heartbeat or 6in4-static) as the PoP sees it."""

    def __init__(self, spec):
        self.id = str(spec["id"])
        self.type = spec.get("type", TYPE_AYIYA)
        if self.type not in TYPES:
            raise ValueError("type %r is not one of %s" % (self.type, ", ".join(TYPES)))
        # Static tunnels authenticate nothing; the others need the secret.
        self.password = spec["password"] if self.type != TYPE_STATIC else spec.get("password")
        self.ipv6_pop = ipaddress.IPv6Address(spec["ipv6_pop"])
        self.ipv6_client = ipaddress.IPv6Address(spec["ipv6_client"])
        self.prefix_len = int(spec.get("prefix_len", 64))
        self.network = ipaddress.IPv6Network((self.ipv6_pop, self.prefix_len), strict=False)
        self.ifname = spec.get("ifname") or "pop-" + self.id[-10:]
        self.mtu = int(spec.get("mtu", 1280))
        self.routed = [ipaddress.IPv6Network(p) for p in spec.get("routed", [])]
        self.identity = self.ipv6_pop.packed
        # Integer forms for the per-packet checks.
        self._mask = ((1 << self.prefix_len) - 1) << (128 - self.prefix_len)
        self._net = int(self.network.network_address)
        self._client = self.ipv6_client.packed
        self._routed = [(int(n.network_address), int(n.netmask)) for n in self.routed]
        self.fd = None
        self.endpoint = None  # AYIYA: (ip, port) of the client's last valid datagram
        # 6in4: where proto-41 goes and is accepted from.  Static: fixed by
        # the tunnels file; heartbeat: learned from the last valid heartbeat.
        self.client_ipv4 = None
        # Heartbeat tunnels: the client has sent a valid proto-41 packet
        # since client_ipv4 became known (the PoP sends only after that).
        self.confirmed = self.type == TYPE_STATIC
        self.heartbeat_interval = float(spec.get("heartbeat_interval", 60))
        if self.heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        v4 = spec.get("ipv4_client")
        if self.type == TYPE_STATIC:
            if v4 is None:
                raise KeyError("ipv4_client")
            self.client_ipv4 = ipaddress.IPv4Address(v4)
        elif v4 is not None:
            raise ValueError("ipv4_client is only for %s tunnels (the others learn it)" % TYPE_STATIC)
        self.last_valid_mono = None  # monotonic time of the last valid packet/heartbeat
        self.last_heartbeat_mono = None
        self.stats = new_counters(self.type)
        if self.client_ipv4 is not None:
            self.stats["client_ipv4"] = str(self.client_ipv4)

    @property
    def is_6in4(self):
        return self.type in (TYPE_HEARTBEAT, TYPE_STATIC)

    def setup(self):
        try:
            self.fd = open_tun(self.ifname)
        except OSError as e:
            raise RuntimeError("tunnel %s: TUN %s: %s" % (self.id, self.ifname, e.strerror)) from None
        # No link-local address: the PoP's side must not send router
        # solicitations or MLD reports into the tunnel (the kernel would
        # give a stable-privacy TUN one and the client would receive them).
        run_ip("link", "set", "dev", self.ifname, "addrgenmode", "none")
        run_ip("link", "set", "dev", self.ifname, "mtu", str(self.mtu), "txqueuelen", "1000", "up")
        run_ip("-6", "addr", "add", "%s/%d" % (self.ipv6_pop, self.prefix_len),
               "dev", self.ifname, "nodad")
        for net in self.routed:
            run_ip("-6", "route", "replace", str(net), "via", str(self.ipv6_client),
                   "dev", self.ifname)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)  # a non-persistent TUN vanishes with its fd
            self.fd = None

    def matches(self, identity_int):
        """The real PoP checks only the tunnel (prefix) part of the identity."""
        return identity_int & self._mask == self._net

    @staticmethod
    def link_local(src):
        """src (16 bytes) is in fe80::/10."""
        return src[0] == 0xFE and src[1] & 0xC0 == 0x80

    def source_allowed(self, src):
        """src: the 16 bytes of the inner IPv6 source address."""
        return self.source_match(src) >= 0

    def source_match(self, src):
        """How specifically src belongs to this tunnel: 128 for the client
        address, the prefix length of a routed prefix holding it, -1 when
        it is not the tunnel's (link-local never is)."""
        if self.link_local(src):
            return -1
        if src == self._client:
            return 128
        n = int.from_bytes(src, "big")
        best = -1
        for (net, mask), routed in zip(self._routed, self.routed):
            if n & mask == net:
                best = max(best, routed.prefixlen)
        return best


class PopServer:
    """Selectors loop: AYIYA and heartbeat sockets, the proto-41 raw socket,
    every tunnel's TUN, signals, and the timer marking tunnels down."""

    def __init__(self, tunnels, listen, log, stats_path=None, clock_offset=0.0,
                 down_after=DOWN_AFTER, endpoints_path=None):
        self.tunnels = tunnels
        # A broker's endpoint updates (update.py): static tunnels' client
        # IPv4 addresses, read again on SIGUSR2.
        self.endpoints_path = endpoints_path
        self.reload_endpoints = False
        self.listen = listen
        self.log = log
        self.stats_path = stats_path
        self.clock_offset = clock_offset
        self.down_after = down_after
        self.sel = selectors.DefaultSelector()
        self.sock = None  # AYIYA, UDP 5072
        self.hb_sock = None  # heartbeats, UDP 3740
        self.raw = None  # IP protocol 41
        self.hb_tunnels = {t.ipv6_client: t for t in tunnels if t.type == TYPE_HEARTBEAT}
        self.global_stats = {
            "datagrams": 0,
            "heartbeat_datagrams": 0,
            "proto41_packets": 0,
            "link_local": 0,
            "drops": {r: 0 for r in DROP_REASONS},
            "hb_failures": {r: 0 for r in heartbeat.FAILURES},
        }
        self.dirty = True
        self.last_stats_write = 0.0
        self.stop = False
        self.dump_now = False
        self.wake_r = self.wake_w = None

    # -- clock -----------------------------------------------------------
    def now(self):
        return time.time() + self.clock_offset

    # -- set-up ----------------------------------------------------------
    def setup(self):
        for t in self.tunnels:
            t.setup()
            self.register(t.fd, lambda t=t: self.on_tun(t))
            extra = ""
            if t.type == TYPE_STATIC:
                extra = ", client IPv4 %s" % t.client_ipv4
            elif t.type == TYPE_HEARTBEAT:
                extra = ", client IPv4 from heartbeats (interval %g s)" % t.heartbeat_interval
            self.log.line("tunnel %s (%s) on %s: pop %s/%d, client %s, mtu %d%s%s" % (
                t.id, t.type, t.ifname, t.ipv6_pop, t.prefix_len, t.ipv6_client, t.mtu,
                ", routed " + " ".join(map(str, t.routed)) if t.routed else "", extra))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)  # UDP checksum 0, like the PoP
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)  # DF
        for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
            try:
                s.setsockopt(socket.SOL_SOCKET, force, SOCKET_BUFFER)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, plain, SOCKET_BUFFER)
        s.bind((self.listen, AYIYA_PORT))
        s.setblocking(False)
        self.sock = s
        self.register(s, self.on_udp)
        self.log.line("AYIYA listening on %s:%d, clock offset %+g s" % (
            self.listen, AYIYA_PORT, self.clock_offset))
        self.setup_heartbeat()
        self.setup_proto41()

        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        self.register(self.wake_r, self.on_wake)
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGUSR1, self.on_signal)
        signal.signal(signal.SIGUSR2, self.on_signal)
        self.load_endpoints()
        self.write_stats()

    def load_endpoints(self):
        """{"<tunnel id>": "<client IPv4>"}: the update server's word on
        where a static tunnel's client now is (the broker moves its end)."""
        self.reload_endpoints = False
        if not self.endpoints_path:
            return
        try:
            with open(self.endpoints_path) as fh:
                moved = json.load(fh)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            self.log.line("endpoints %s: %s" % (self.endpoints_path, e))
            return
        for t in self.tunnels:
            if t.type == TYPE_STATIC and t.id in moved:
                new = ipaddress.IPv4Address(moved[t.id])
                if new != t.client_ipv4:
                    self.log.line("%s: client IPv4 now %s (was %s), by an endpoint update" % (
                        t.id, new, t.client_ipv4))
                    t.client_ipv4 = new
                    t.stats["client_ipv4"] = str(new)
                    self.dirty = True

    def setup_heartbeat(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.listen, HEARTBEAT_PORT))
        s.setblocking(False)
        self.hb_sock = s
        self.register(s, self.on_heartbeat)
        self.log.line("heartbeats on %s:%d, %d heartbeat tunnel(s)" % (
            self.listen, HEARTBEAT_PORT, len(self.hb_tunnels)))

    def setup_proto41(self):
        # The kernel adds the outer IPv4 header (protocol 41, source = the
        # bound listen address, DF) on send; receive hands us the whole
        # IPv4 packet of every protocol-41 packet addressed to listen.
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPV6_IN_IPV4)
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
            try:
                s.setsockopt(socket.SOL_SOCKET, force, SOCKET_BUFFER)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, plain, SOCKET_BUFFER)
        s.bind((self.listen, 0))
        s.setblocking(False)
        self.raw = s
        self.register(s, self.on_proto41)
        self.log.line("proto-41 (raw socket) on %s, tunnels marked down %g s after "
                      "their last valid packet" % (self.listen, self.down_after))

    def register(self, fileobj, callback):
        """Hook for sibling receivers (TIC, heartbeat) sharing this loop."""
        self.sel.register(fileobj, selectors.EVENT_READ, callback)

    def on_signal(self, signum, _frame):
        if signum == signal.SIGUSR1:
            self.dump_now = True
        elif signum == signal.SIGUSR2:
            self.reload_endpoints = True
        else:
            self.stop = True

    def on_wake(self):
        try:
            while self.wake_r.recv(256):
                pass
        except BlockingIOError:
            pass

    # -- accounting ------------------------------------------------------
    def drop(self, tunnel, reason, msg):
        if tunnel is None:
            self.global_stats["drops"][reason] += 1
            self.log.drop("global", reason, msg)
        else:
            tunnel.stats["drops"][reason] += 1
            self.log.drop(tunnel.id, reason, msg)
        self.dirty = True

    def ignore_link_local(self, t):
        """The real PoP drops link-local-sourced tunnel packets silently
        (PROTOCOLS.md 7.1): counted, neither a drop nor a log line."""
        (self.global_stats if t is None else t.stats)["link_local"] += 1
        self.dirty = True

    def mark_valid(self, t):
        """A valid packet or heartbeat: the tunnel is (still) up."""
        t.last_valid_mono = time.monotonic()
        t.stats["last_valid"] = round(time.time(), 3)
        if not t.stats["up"]:
            t.stats["up"] = True
            self.log.line("%s: up" % t.id)
        self.dirty = True

    def check_down(self):
        """Mark tunnels down whose last valid packet is too old.

        Returns the monotonic time of the next deadline, or None."""
        now = time.monotonic()
        nearest = None
        for t in self.tunnels:
            if not t.stats["up"]:
                continue
            deadline = t.last_valid_mono + self.down_after
            if now >= deadline:
                t.stats["up"] = False
                self.dirty = True
                self.log.line("%s: down, no valid packet for %.1f s" % (
                    t.id, now - t.last_valid_mono))
            elif nearest is None or deadline < nearest:
                nearest = deadline
        return nearest

    def find_tunnel(self, identity):
        ident = int.from_bytes(identity, "big")
        best = None
        for t in self.tunnels:
            if t.type != TYPE_AYIYA:
                continue
            if t.matches(ident) and (best is None or t.prefix_len > best.prefix_len):
                best = t
        return best

    def tunnel_of_endpoint(self, addr):
        """Charge pre-lookup failures to the tunnel whose client sent them, if unique."""
        hits = [t for t in self.tunnels if t.endpoint == addr]
        return hits[0] if len(hits) == 1 else None

    # -- receive path: UDP -> TUN ----------------------------------------
    def on_udp(self):
        for _ in range(BATCH):
            try:
                data, addr = self.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # e.g. ICMP errors reported on the socket
                self.log.line("udp receive: %s" % e)
                return
            self.handle_datagram(data, addr)

    def handle_datagram(self, data, addr):
        self.global_stats["datagrams"] += 1
        self.dirty = True
        src = "%s:%d" % addr

        def lookup(identity):
            t = self.find_tunnel(identity)
            return None if t is None else (t.password, t)

        verdict, f = ayiya.verify(lookup, data, self.now())
        if verdict in (ayiya.SHORT, ayiya.HEADER, ayiya.UNKNOWN_TUNNEL):
            if verdict == ayiya.SHORT:
                detail = "%d bytes from %s" % (len(data), src)
            elif verdict == ayiya.HEADER:
                detail = "from %s: header %s" % (src, bytes(data[:3]).hex())
            else:
                detail = "from %s: identity %s" % (src, ipaddress.IPv6Address(f["identity"]))
            self.drop(self.tunnel_of_endpoint(addr), verdict, detail)
            return
        t = f["context"]
        if verdict == ayiya.CLOCK:
            self.drop(t, verdict, "from %s: epoch %d is %+d s off" % (src, f["epoch"], f["skew"]))
            return
        if verdict == ayiya.SIGNATURE:
            self.drop(t, verdict, "from %s: bad signature" % src)
            return
        if verdict == ayiya.PAYLOAD:
            first = f["payload"][:1].hex() or "none"
            self.drop(t, verdict, "from %s: next header 41, payload starts %s" % (src, first))
            return

        # Valid: any signed packet moves the client endpoint (NAT rebinding).
        self.mark_valid(t)
        if t.endpoint != addr:
            self.log.line("%s: client endpoint %s (was %s)" % (
                t.id, src, "%s:%d" % t.endpoint if t.endpoint else "none"))
            t.endpoint = addr
            t.stats["client"] = src

        op, nh = f["opcode"], f["next_header"]
        if op == ayiya.OP_NOOP:
            t.stats["keepalives"] += 1
        elif op == ayiya.OP_FORWARD:
            self.forward(t, f, src)
        elif op in (ayiya.OP_ECHO_REQUEST, ayiya.OP_ECHO_REQUEST_FORWARD):
            t.stats["echo_requests"] += 1  # accepted, never answered
            if op == ayiya.OP_ECHO_REQUEST_FORWARD and nh == ayiya.NH_IPV6:
                self.forward(t, f, src)
        else:
            t.stats["other_opcodes"] += 1

    def forward(self, t, f, src):
        payload = f["payload"]
        if f["next_header"] != ayiya.NH_IPV6 or len(payload) < 40:
            self.drop(t, "payload", "from %s: opcode %d, next header %d, %d payload bytes" % (
                src, f["opcode"], f["next_header"], len(payload)))
            return
        inner = payload[8:24]
        if Tunnel.link_local(inner):
            self.ignore_link_local(t)
            return
        if not t.source_allowed(inner):
            self.drop(t, "inner_source", "from %s: inner source %s" % (src, ipaddress.IPv6Address(inner)))
            return
        try:
            os.write(t.fd, payload)
        except OSError as e:
            self.drop(t, "io_error", "write %s: %s" % (t.ifname, e))
            return
        t.stats["rx_packets"] += 1
        t.stats["rx_bytes"] += len(payload)

    # -- send path: TUN -> UDP -------------------------------------------
    def on_tun(self, t):
        for _ in range(BATCH):
            try:
                pkt = os.read(t.fd, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.log.line("%s: read %s: %s" % (t.id, t.ifname, e))
                return
            if not pkt:
                return
            self.send(t, pkt)

    def send(self, t, pkt):
        if pkt[0] >> 4 != 6:
            return  # not IPv6; nothing else is routed into the TUN
        if t.is_6in4:
            self.send_proto41(t, pkt)
            return
        if t.endpoint is None:
            self.drop(t, "no_client", "%d bytes to %s, no client endpoint yet" % (
                len(pkt), ipaddress.IPv6Address(pkt[24:40])))
            return
        data = ayiya.build(t.password, t.identity, int(self.now()),
                           ayiya.OP_FORWARD, ayiya.NH_IPV6, pkt)
        try:
            self.sock.sendto(data, t.endpoint)
        except OSError as e:
            self.drop(t, "io_error", "send to %s:%d: %s" % (t.endpoint + (e,)))
            return
        t.stats["tx_packets"] += 1
        t.stats["tx_bytes"] += len(pkt)
        self.dirty = True

    # -- heartbeats (UDP 3740) -------------------------------------------
    def on_heartbeat(self):
        for _ in range(BATCH):
            try:
                data, addr = self.hb_sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.log.line("heartbeat receive: %s" % e)
                return
            self.handle_heartbeat(data, addr)

    def hb_fail(self, t, reason, msg):
        if t is None:
            self.global_stats["hb_failures"][reason] += 1
            self.log.drop("global", "heartbeat " + reason, msg)
        else:
            t.stats["hb_failures"][reason] += 1
            self.log.drop(t.id, "heartbeat " + reason, msg)
        self.dirty = True

    def handle_heartbeat(self, data, addr):
        self.global_stats["heartbeat_datagrams"] += 1
        self.dirty = True
        src = "%s:%d" % addr

        def lookup(ipv6):
            t = self.hb_tunnels.get(ipv6)
            return None if t is None else (t.password, t)

        verdict, f = heartbeat.verify(lookup, data, addr[0], self.now())
        if verdict == heartbeat.SYNTAX:
            self.hb_fail(None, verdict, "from %s: %d bytes %r" % (src, len(data), bytes(data[:80])))
            return
        if verdict == heartbeat.UNKNOWN_TUNNEL:
            self.hb_fail(None, verdict, "from %s: %s is no heartbeat tunnel's client" % (
                src, f["ipv6"]))
            return
        t = f["context"]
        if verdict == heartbeat.ADDRESS:
            # The real PoP's words for it; the client must send "sender"
            # from behind a NAT (PROTOCOLS.md 7.1).
            self.hb_fail(t, verdict, "HB Sender Mismatch: from %s, the heartbeat claims %s" % (
                src, f["ipv4_text"]))
            return
        if verdict == heartbeat.CLOCK:
            self.hb_fail(t, verdict, "from %s: epoch %s is %+d s off" % (
                src, f["epoch_text"], f["skew"]))
            return
        if verdict == heartbeat.HASH:
            self.hb_fail(t, verdict, "from %s: digest does not match (password, or epoch %r "
                         "not in plain decimal)" % (src, f["epoch_text"]))
            return

        now_mono = time.monotonic()
        if t.last_heartbeat_mono is not None:
            t.stats["last_heartbeat_gap"] = round(now_mono - t.last_heartbeat_mono, 3)
        t.last_heartbeat_mono = now_mono
        t.stats["heartbeats"] += 1
        t.stats["last_heartbeat"] = round(time.time(), 3)
        t.stats["last_heartbeat_ipv4_field"] = f["ipv4_text"]
        self.mark_valid(t)
        learned = f["client_ipv4"]
        if learned != t.client_ipv4:
            # A new address must prove itself with a proto-41 packet before
            # the PoP sends to it (PROTOCOLS.md section 7).
            self.log.line("%s: heartbeat from %s (%s): client IPv4 %s (was %s); proto-41 to "
                          "the client held until it sends one" % (
                              t.id, src, f["ipv4_text"], learned, t.client_ipv4 or "none"))
            t.client_ipv4 = learned
            t.confirmed = False
            t.stats["client_ipv4"] = str(learned)
            t.stats["confirmed"] = False

    # -- proto-41 receive: raw socket -> TUN -----------------------------
    def on_proto41(self):
        for _ in range(BATCH):
            try:
                data, addr = self.raw.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.log.line("proto-41 receive: %s" % e)
                return
            self.handle_proto41(data)

    def tunnel_of_ipv4(self, outer_src, inner_dst):
        """Charge a packet no tunnel claims: the 6in4 tunnel with that client
        IPv4, or among several the one whose prefix holds the inner
        destination; None if that does not single one out."""
        hits = [t for t in self.tunnels if t.is_6in4 and t.client_ipv4 == outer_src]
        if len(hits) > 1:
            dst = ipaddress.IPv6Address(inner_dst)
            hits = [t for t in hits if dst in t.network]
        return hits[0] if len(hits) == 1 else None

    def handle_proto41(self, data):
        self.global_stats["proto41_packets"] += 1
        self.dirty = True
        ihl = (data[0] & 0x0F) * 4 if data else 0
        if len(data) < 20 or data[0] >> 4 != 4 or ihl < 20 or len(data) < ihl:
            self.drop(None, "payload", "proto-41: %d bytes, no IPv4 header" % len(data))
            return
        outer_src = ipaddress.IPv4Address(data[12:16])
        inner = data[ihl:]
        if len(inner) < 40 or inner[0] >> 4 != 6:
            t = self.tunnel_of_ipv4(outer_src, bytes(16))
            self.drop(t, "payload", "proto-41 from %s: %d bytes, not an IPv6 packet" % (
                outer_src, len(inner)))
            return
        src6, dst6 = inner[8:24], inner[24:40]
        if Tunnel.link_local(src6):
            self.ignore_link_local(self.tunnel_of_ipv4(outer_src, dst6))
            return
        # The tunnel is the one whose client address or routed prefix
        # holds the inner source (link-local ones were ignored above).
        best, t = -1, None
        for cand in self.tunnels:
            if cand.is_6in4:
                m = cand.source_match(src6)
                if m > best:
                    best, t = m, cand
        if t is None:
            self.drop(self.tunnel_of_ipv4(outer_src, dst6), "inner_source",
                      "proto-41 from %s: inner source %s" % (outer_src, ipaddress.IPv6Address(src6)))
            return
        if t.client_ipv4 != outer_src:
            self.drop(t, "proto41_source", "proto-41 from %s, the client is %s (inner source %s)" % (
                outer_src, t.client_ipv4 or "not known yet", ipaddress.IPv6Address(src6)))
            return
        try:
            os.write(t.fd, inner)
        except OSError as e:
            self.drop(t, "io_error", "write %s: %s" % (t.ifname, e))
            return
        t.stats["rx_packets"] += 1
        t.stats["rx_bytes"] += len(inner)
        self.mark_valid(t)
        if not t.confirmed:
            self.log.line("%s: first proto-41 packet from %s: sending to the client from now on" % (
                t.id, outer_src))
            t.confirmed = True
            t.stats["confirmed"] = True

    # -- proto-41 send: TUN -> raw socket --------------------------------
    def send_proto41(self, t, pkt):
        dst = ipaddress.IPv6Address(pkt[24:40]) if len(pkt) >= 40 else "?"
        if t.client_ipv4 is None:
            self.drop(t, "no_client", "%d bytes to %s, no valid heartbeat yet" % (len(pkt), dst))
            return
        if not t.confirmed:
            self.drop(t, "proto41_held", "%d bytes to %s: client %s has sent no proto-41 yet" % (
                len(pkt), dst, t.client_ipv4))
            return
        try:
            self.raw.sendto(pkt, (str(t.client_ipv4), 0))
        except OSError as e:
            self.drop(t, "io_error", "proto-41 send to %s: %s" % (t.client_ipv4, e))
            return
        t.stats["tx_packets"] += 1
        t.stats["tx_bytes"] += len(pkt)
        self.dirty = True

    # -- stats -----------------------------------------------------------
    def snapshot(self):
        return {
            "tunnels": {t.id: t.stats for t in self.tunnels},
            "global": self.global_stats,
        }

    def write_stats(self):
        self.dirty = False
        self.dump_now = False
        self.last_stats_write = time.monotonic()
        if not self.stats_path:
            return
        tmp = "%s.tmp.%d" % (self.stats_path, os.getpid())
        with open(tmp, "w") as fh:
            json.dump(self.snapshot(), fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, self.stats_path)

    # -- loop ------------------------------------------------------------
    def run(self):
        while not self.stop:
            # First: a tunnel going down makes the stats dirty, which the
            # timeout below must take into account.
            deadline = self.check_down()
            timeout = None
            if self.dirty and self.stats_path:
                timeout = max(0.0, self.last_stats_write + STATS_MIN_INTERVAL - time.monotonic())
            if deadline is not None:
                wait = max(0.0, deadline - time.monotonic())
                timeout = wait if timeout is None else min(timeout, wait)
            for key, _ in self.sel.select(timeout):
                key.data()
                if self.stop:
                    break
            if self.reload_endpoints:
                self.load_endpoints()
            if self.dump_now or (
                self.dirty and time.monotonic() - self.last_stats_write >= STATS_MIN_INTERVAL
            ):
                self.write_stats()

    def close(self):
        for t in self.tunnels:
            t.close()
        for s in (self.sock, self.hb_sock, self.raw):
            if s is not None:
                s.close()
        signal.set_wakeup_fd(-1)
        self.sel.close()


def load_tunnels(path, log):
    with open(path) as fh:
        doc = json.load(fh)
    tunnels = []
    for spec in doc.get("tunnels", []):
        try:
            tunnels.append(Tunnel(spec))
        except KeyError as e:
            raise ValueError("tunnel %s: missing key %s" % (spec.get("id"), e)) from None
        except ValueError as e:
            raise ValueError("tunnel %s: %s" % (spec.get("id"), e)) from None
    ids = [t.id for t in tunnels]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate tunnel ids in %s" % path)
    for kind in (TYPE_HEARTBEAT,):
        clients = [t.ipv6_client for t in tunnels if t.type == kind]
        if len(set(clients)) != len(clients):
            raise ValueError("%s: two %s tunnels share a client address" % (path, kind))
    return tunnels


def write_pidfile(path):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as fh:
        fh.write("%d\n" % os.getpid())
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="SixXS-style PoP simulator "
                                "(AYIYA, 6in4-heartbeat, 6in4-static)")
    p.add_argument("--tunnels", required=True, help="JSON tunnels file")
    p.add_argument("--listen", required=True,
                   help="IPv4 address for UDP ports 5072 and 3740 and IP protocol 41")
    p.add_argument("--stats", help="JSON counters file, rewritten atomically")
    p.add_argument("--pidfile", help="written once set-up is complete")
    p.add_argument("--log", help="log file (default stderr)")
    p.add_argument("--endpoints", metavar="FILE",
                   help="JSON {tunnel id: client IPv4} of static tunnels, read at start and "
                   "again on SIGUSR2 (written by update.py)")
    p.add_argument("--clock-offset", type=float, default=0.0,
                   help="seconds added to the PoP's clock (to test clock skew)")
    p.add_argument("--down-after", type=float, default=DOWN_AFTER, metavar="SECONDS",
                   help="mark a tunnel down this long after its last valid packet "
                   "(default %(default)g)")
    args = p.parse_args(argv)
    if args.down_after <= 0:
        p.error("--down-after must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    log = Log(args.log)
    server = None
    try:
        tunnels = load_tunnels(args.tunnels, log)
        server = PopServer(tunnels, args.listen, log, args.stats, args.clock_offset,
                           args.down_after, args.endpoints)
        server.setup()
        if args.pidfile:
            write_pidfile(args.pidfile)
        log.line("ready, %s" % ", ".join(
            "%d %s" % (sum(t.type == k for t in tunnels), k) for k in TYPES))
        server.run()
        server.write_stats()
        log.line("stopping")
        return 0
    except Exception as e:  # set-up failure: say why, leave nothing behind
        log.line("fatal: %s: %s" % (type(e).__name__, e))
        return 1
    finally:
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
