#!/usr/bin/env python3
"""Minimal user-space 6in4 client, test-only (selftest_6in4.sh).

It exists to exercise pop.py's heartbeat and proto-41 side without the
product.  Runs as root inside the client namespace of a test.

    client6in4.py tunnel --pop IPV4 --ifname NAME --ipv6-client ADDR
                  [--prefix-len N] [--routed PREFIX]... [--mtu N]
                  [--password PW --interval S [--ipv4-field TEXT]]
                  [--pidfile FILE] [--log FILE]
        A TUN holding ADDR/N and a raw protocol-41 socket: IPv6 packets the
        kernel routes into the TUN go to the PoP as protocol 41; protocol-41
        packets from the PoP whose inner destination is ADDR or inside a
        --routed prefix go into the TUN (others belong to another tunnel
        and are ignored).  With --password: a heartbeat at start and every
        --interval seconds, each from a fresh UDP socket (fresh source port,
        source address chosen by the kernel, like the historic client), and
        one more on SIGUSR1.  It sends nothing through the tunnel by itself:
        the test decides when the first proto-41 packet goes out.

    client6in4.py beat --pop IPV4 --ipv6 TEXT --password PW
                  [--ipv4-field TEXT] [--bind IPV4] [--epoch-offset S]
                  [--raw TEXT]
        Send one heartbeat (or, with --raw, the literal TEXT) and exit.

    client6in4.py send41 --pop IPV4 --bind IPV4 --src ADDR --dst ADDR
        Send one ICMPv6 echo request from ADDR to ADDR as protocol 41 with
        outer source --bind, and exit.
"""

import argparse
import fcntl
import ipaddress
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import heartbeat  # noqa: E402

PROTO41 = 41
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def log(msg, out=sys.stderr):
    out.write("%s client6in4[%d]: %s\n" % (time.strftime("%H:%M:%S"), os.getpid(), msg))
    out.flush()


def run_ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))


def open_tun(ifname):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", ifname.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def send_beat(pop, text_bytes, bind=None):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        if bind:
            s.bind((bind, 0))
        s.sendto(text_bytes, (pop, heartbeat.PORT))


def icmp6_echo(src, dst, ident=0x4141, seq=1):
    """An ICMPv6 echo request with a correct checksum."""
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    body = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + b"client6in4"
    pseudo = s + d + struct.pack("!I3xB", len(body), 58) + body
    if len(pseudo) % 2:
        pseudo += b"\0"
    total = sum(struct.unpack("!%dH" % (len(pseudo) // 2), pseudo))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    body = body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:]
    return struct.pack("!IHBB", 6 << 28, len(body), 58, 64) + s + d + body


def cmd_beat(a):
    if a.raw is not None:
        data = a.raw.encode("latin-1")
    else:
        data = heartbeat.build(a.ipv6, a.ipv4_field, int(time.time() + a.epoch_offset), a.password)
    send_beat(a.pop, data, a.bind)
    return 0


def cmd_send41(a):
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO41) as s:
        s.bind((a.bind, 0))
        s.sendto(icmp6_echo(a.src, a.dst), (a.pop, 0))
    return 0


class Client:
    def __init__(self, a, out):
        self.a = a
        self.out = out
        self.client = ipaddress.IPv6Address(a.ipv6_client)
        self.accept = [ipaddress.IPv6Network((self.client, 128))] + [
            ipaddress.IPv6Network(p) for p in a.routed]
        self.stop = False
        self.beat_now = False
        self.fd = None
        self.raw = None

    def setup(self):
        self.fd = open_tun(self.a.ifname)
        run_ip("link", "set", "dev", self.a.ifname, "addrgenmode", "none")
        run_ip("link", "set", "dev", self.a.ifname, "mtu", str(self.a.mtu), "up")
        run_ip("-6", "addr", "add", "%s/%d" % (self.client, self.a.prefix_len),
               "dev", self.a.ifname, "nodad")
        # Unbound: the outer source follows the namespace's current address.
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO41)
        self.raw.setblocking(False)

    def beat(self):
        data = heartbeat.build(str(self.client), self.a.ipv4_field, int(time.time()),
                               self.a.password)
        try:
            send_beat(self.a.pop, data)
        except OSError as e:  # e.g. no address for a moment during a change
            log("heartbeat: %s" % e, self.out)

    def from_pop(self):
        while True:
            try:
                data, addr = self.raw.recvfrom(65536)
            except BlockingIOError:
                return
            if addr[0] != self.a.pop:
                continue
            inner = data[(data[0] & 0x0F) * 4:]
            if len(inner) < 40 or inner[0] >> 4 != 6:
                continue
            dst = ipaddress.IPv6Address(inner[24:40])
            if any(dst in n for n in self.accept):
                os.write(self.fd, inner)

    def from_tun(self):
        while True:
            try:
                pkt = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if pkt and pkt[0] >> 4 == 6:
                try:
                    self.raw.sendto(pkt, (self.a.pop, 0))
                except OSError as e:
                    log("proto-41 send: %s" % e, self.out)

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.raw, selectors.EVENT_READ, self.from_pop)
        sel.register(self.fd, selectors.EVENT_READ, self.from_tun)
        # select() is restarted after a signal handler (PEP 475): wake it.
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
        sel.register(wake_r, selectors.EVENT_READ, lambda: wake_r.recv(256))
        heartbeats = self.a.password is not None
        next_beat = time.monotonic()
        while not self.stop:
            timeout = None
            if heartbeats:
                if self.beat_now or time.monotonic() >= next_beat:
                    self.beat_now = False
                    self.beat()
                    next_beat = time.monotonic() + self.a.interval
                timeout = max(0.0, next_beat - time.monotonic())
            for key, _ in sel.select(timeout):
                key.data()


def cmd_tunnel(a):
    out = open(a.log, "a", buffering=1) if a.log else sys.stderr
    c = Client(a, out)

    def on_signal(signum, _frame):
        if signum == signal.SIGUSR1:
            c.beat_now = True
        else:
            c.stop = True

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(s, on_signal)
    try:
        c.setup()
        if a.pidfile:
            with open(a.pidfile + ".tmp", "w") as fh:
                fh.write("%d\n" % os.getpid())
            os.replace(a.pidfile + ".tmp", a.pidfile)
        log("%s: %s/%d, PoP %s, %s" % (a.ifname, c.client, a.prefix_len, a.pop,
            "heartbeat every %g s" % a.interval if a.password else "static"), out)
        c.run()
        return 0
    except Exception as e:
        log("fatal: %s: %s" % (type(e).__name__, e), out)
        return 1
    finally:
        if c.fd is not None:
            os.close(c.fd)
        if a.pidfile:
            try:
                os.unlink(a.pidfile)
            except FileNotFoundError:
                pass


def main(argv=None):
    p = argparse.ArgumentParser(description="test-only user-space 6in4 client")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tunnel")
    t.add_argument("--pop", required=True)
    t.add_argument("--ifname", required=True)
    t.add_argument("--ipv6-client", required=True)
    t.add_argument("--prefix-len", type=int, default=64)
    t.add_argument("--routed", action="append", default=[])
    t.add_argument("--mtu", type=int, default=1280)
    t.add_argument("--password")
    t.add_argument("--interval", type=float, default=60.0)
    t.add_argument("--ipv4-field", default="sender")
    t.add_argument("--pidfile")
    t.add_argument("--log")
    b = sub.add_parser("beat")
    b.add_argument("--pop", required=True)
    b.add_argument("--ipv6", help="required unless --raw")
    b.add_argument("--password", default="")
    b.add_argument("--ipv4-field", default="sender")
    b.add_argument("--bind")
    b.add_argument("--epoch-offset", type=float, default=0.0)
    b.add_argument("--raw")
    s = sub.add_parser("send41")
    s.add_argument("--pop", required=True)
    s.add_argument("--bind", required=True)
    s.add_argument("--src", required=True)
    s.add_argument("--dst", required=True)
    a = p.parse_args(argv)
    if a.cmd == "beat" and a.raw is None and a.ipv6 is None:
        p.error("beat: --ipv6 is required unless --raw is given")
    return {"tunnel": cmd_tunnel, "beat": cmd_beat, "send41": cmd_send41}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
