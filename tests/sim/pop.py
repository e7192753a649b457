#!/usr/bin/env python3
"""Broker simulator, PoP side: AYIYA tunnels (docs/PROTOCOLS.md sections 4, 7).

Runs as root inside the "pop" network namespace of a test.  For every AYIYA
tunnel of the tunnels file it creates a TUN device holding the PoP's tunnel
address, and it serves one UDP socket on port 5072: valid datagrams from the
client are decapsulated into the tunnel's TUN, packets the kernel routes into
a TUN are sealed and sent to the tunnel's last client endpoint.

    pop.py --tunnels FILE --listen IPV4 [--stats FILE] [--pidfile FILE]
           [--log FILE] [--clock-offset SECONDS]

Standard library only.  The pure codec lives in ayiya.py next to this file.
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

AYIYA_PORT = 5072

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

# Drop reasons, in the order the receive path checks them; the last ones
# are the PoP's own (inner source policy, send side, I/O failures).
DROP_REASONS = (
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


def new_counters():
    return {
        "rx_packets": 0,
        "rx_bytes": 0,
        "tx_packets": 0,
        "tx_bytes": 0,
        "keepalives": 0,
        "echo_requests": 0,
        "other_opcodes": 0,
        "client": None,
        "drops": {r: 0 for r in DROP_REASONS},
    }


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
    """One AYIYA tunnel as the PoP sees it."""

    def __init__(self, spec):
        self.id = str(spec["id"])
        self.type = spec.get("type", "ayiya")
        self.password = spec["password"]
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
        self.endpoint = None  # (ip, port) of the client's last valid datagram
        self.stats = new_counters()

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

    def source_allowed(self, src):
        """src: the 16 bytes of the inner IPv6 source address."""
        if src[0] == 0xFE and src[1] & 0xC0 == 0x80:  # fe80::/10, link-local
            return False
        if src == self._client:
            return True
        n = int.from_bytes(src, "big")
        return any(n & mask == net for net, mask in self._routed)


class PopServer:
    """Selectors loop: the AYIYA socket, every tunnel's TUN, signals."""

    def __init__(self, tunnels, listen, log, stats_path=None, clock_offset=0.0):
        self.tunnels = tunnels
        self.listen = listen
        self.log = log
        self.stats_path = stats_path
        self.clock_offset = clock_offset
        self.sel = selectors.DefaultSelector()
        self.sock = None
        self.global_stats = {"datagrams": 0, "drops": {r: 0 for r in DROP_REASONS}}
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
            self.log.line("tunnel %s (%s) on %s: pop %s/%d, client %s, mtu %d%s" % (
                t.id, t.type, t.ifname, t.ipv6_pop, t.prefix_len, t.ipv6_client, t.mtu,
                ", routed " + " ".join(map(str, t.routed)) if t.routed else ""))
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

        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        self.register(self.wake_r, self.on_wake)
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGUSR1, self.on_signal)
        self.write_stats()

    def register(self, fileobj, callback):
        """Hook for sibling receivers (TIC, heartbeat) sharing this loop."""
        self.sel.register(fileobj, selectors.EVENT_READ, callback)

    def on_signal(self, signum, _frame):
        if signum == signal.SIGUSR1:
            self.dump_now = True
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

    def find_tunnel(self, identity):
        ident = int.from_bytes(identity, "big")
        best = None
        for t in self.tunnels:
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
            timeout = None
            if self.dirty and self.stats_path:
                timeout = max(0.0, self.last_stats_write + STATS_MIN_INTERVAL - time.monotonic())
            for key, _ in self.sel.select(timeout):
                key.data()
                if self.stop:
                    break
            if self.dump_now or (
                self.dirty and time.monotonic() - self.last_stats_write >= STATS_MIN_INTERVAL
            ):
                self.write_stats()

    def close(self):
        for t in self.tunnels:
            t.close()
        if self.sock is not None:
            self.sock.close()
        signal.set_wakeup_fd(-1)
        self.sel.close()


def load_tunnels(path, log):
    with open(path) as fh:
        doc = json.load(fh)
    tunnels = []
    for spec in doc.get("tunnels", []):
        kind = spec.get("type", "ayiya")
        if kind != "ayiya":
            log.line("tunnel %s: type %s is not served by pop.py, skipped" % (spec.get("id"), kind))
            continue
        try:
            tunnels.append(Tunnel(spec))
        except KeyError as e:
            raise ValueError("tunnel %s: missing key %s" % (spec.get("id"), e)) from None
        except ValueError as e:
            raise ValueError("tunnel %s: %s" % (spec.get("id"), e)) from None
    ids = [t.id for t in tunnels]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate tunnel ids in %s" % path)
    return tunnels


def write_pidfile(path):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as fh:
        fh.write("%d\n" % os.getpid())
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="SixXS-style PoP simulator (AYIYA)")
    p.add_argument("--tunnels", required=True, help="JSON tunnels file")
    p.add_argument("--listen", required=True, help="IPv4 address for UDP port 5072")
    p.add_argument("--stats", help="JSON counters file, rewritten atomically")
    p.add_argument("--pidfile", help="written once set-up is complete")
    p.add_argument("--log", help="log file (default stderr)")
    p.add_argument("--clock-offset", type=float, default=0.0,
                   help="seconds added to the PoP's clock (to test clock skew)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = Log(args.log)
    server = None
    try:
        tunnels = load_tunnels(args.tunnels, log)
        server = PopServer(tunnels, args.listen, log, args.stats, args.clock_offset)
        server.setup()
        if args.pidfile:
            write_pidfile(args.pidfile)
        log.line("ready, %d AYIYA tunnel(s)" % len(tunnels))
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
