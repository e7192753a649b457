#!/usr/bin/env python3
"""Endpoint update server of a 6in4 broker (dyndns2, as Hurricane Electric's
tunnelbroker; PROTOCOLS.md 8), for the namespace tests.

  update.py --listen ADDR --port N --cert PEM --key PEM --hosts JSON --log FILE
            [--pidfile FILE] [--mode MODE] [--abuse-after N]
            [--endpoints FILE --pop-pidfile FILE]

HTTPS (TLS 1.2 and 1.3, the test CA's certificate of tests/sim/mkca.sh),
GET <any path>?hostname=ID[&myip=A] with HTTP basic authentication.  The
hosts file: {"hosts": [{"hostname": "123456", "username": "u", "key": "k",
"ipv4": "192.0.2.99", "pop_tunnel": "T30001"}]}: ipv4 is what the broker
holds now.  Answers, one line each: "good A" (changed; the PoP simulator is
told through --endpoints and SIGUSR2 to its --pop-pidfile), "nochg A",
"badauth", "nohost", "badagent" (a User-Agent not naming a client/version),
"abuse" (after --abuse-after nochg answers in a row for one host; from then
on every request of that host), "911" (--mode 911).  Without myip the
request's source address counts, as at the real broker.

Every request is one JSON line in --log: time, source, method, path,
hostname, myip, user agent, user name, whether the key was right, answer.
A connection that sent no request is logged too ("request": null).

Hostile modes (--mode): endless (an answer line that never ends), drip (the
answer one byte every 2 s), html (a 200 with an HTML page), tls10 (TLS 1.0
only), 911.  A wrong certificate is the normal mode with --cert wrong.pem.
"""
import argparse
import base64
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
import time
import urllib.parse

REQUEST_MAX = 8192
READ_TIMEOUT = 10.0


class Hosts:
    def __init__(self, path):
        with open(path) as fh:
            spec = json.load(fh)
        self.hosts = {str(h["hostname"]): dict(h) for h in spec["hosts"]}
        for h in self.hosts.values():
            h["nochg_run"] = 0
            h["abusive"] = False


def answer_for(hosts, req, src, abuse_after):
    """The dyndns2 answer to one parsed request, and what it changed."""
    q = urllib.parse.parse_qs(req["query"])
    name = q.get("hostname", [""])[0]
    req["hostname"] = name
    req["myip"] = q.get("myip", [None])[0]
    ua = req["headers"].get("user-agent", "")
    req["user_agent"] = ua
    auth = req["headers"].get("authorization", "")
    user, key = None, None
    if auth.lower().startswith("basic "):
        try:
            user, _, key = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user = None
    req["username"] = user
    h = hosts.hosts.get(name)
    if user is None or h is None or user != h["username"]:
        req["key_ok"] = False
        return "badauth" if h is not None or user is None else "nohost"
    req["key_ok"] = key == h["key"]
    if not req["key_ok"]:
        return "badauth"
    if "/" not in ua or ua.split("/")[0] in ("", "curl", "Wget", "python-requests"):
        return "badagent"
    if h["abusive"]:
        return "abuse"
    ip = req["myip"] or src
    try:
        ip = str(ipaddress.IPv4Address(ip))
    except ValueError:
        return "911"
    if ip == h["ipv4"]:
        h["nochg_run"] += 1
        if h["nochg_run"] > abuse_after:
            h["abusive"] = True
            return "abuse"
        return "nochg %s" % ip
    h["nochg_run"] = 0
    h["ipv4"] = ip
    req["moved"] = (h.get("pop_tunnel"), ip)
    return "good %s" % ip


def read_request(conn):
    data = b""
    deadline = time.monotonic() + READ_TIMEOUT
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or len(data) > REQUEST_MAX:
            return None
        conn.settimeout(left)
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return {"method": lines[0][:80], "path": "", "query": "", "version": "", "headers": {}}
    target = urllib.parse.urlsplit(parts[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return {"method": parts[0], "path": target.path, "query": target.query,
            "version": parts[2], "headers": headers}


def reply(conn, body, mode):
    if mode == "html":
        body = ("<!DOCTYPE html>\n<html><head><title>Welcome</title></head>"
                "<body><p>Please log in to continue.</p></body></html>\n")
    head = ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % ("text/html" if mode == "html" else "text/plain",
                                           len(body) + (0 if mode == "html" else 1)))
    if mode == "endless":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        chunk = b"good" * 1024
        while True:  # until the client gives up and closes
            conn.sendall(chunk)
    data = (head + body + ("" if mode == "html" else "\n")).encode()
    if mode == "drip":
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            time.sleep(2)
        return
    conn.sendall(data)


def serve_one(args, ctx, hosts, conn, src, log):
    entry = {"time": time.time(), "source": src, "request": None, "answer": None}
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        entry["tls_error"] = str(e)
        log.write(json.dumps(entry) + "\n")
        log.flush()
        conn.close()
        return
    try:
        req = read_request(tls)
        if req is None:
            entry["error"] = "no complete request"
            return
        body = answer_for(hosts, req, src, args.abuse_after)
        moved = req.pop("moved", None)
        if args.mode == "911":  # the broker's trouble: nothing changes
            body, moved = "911", None
        entry["request"] = {k: v for k, v in req.items() if k != "headers"}
        entry["request"]["host_header"] = req["headers"].get("host")
        entry["answer"] = body
        log.write(json.dumps(entry) + "\n")
        log.flush()
        entry = None
        if moved and moved[0] and args.endpoints:
            tell_pop(args, moved)
        reply(tls, body, args.mode)
    except (OSError, ssl.SSLError) as e:
        if entry is not None:
            entry["error"] = str(e)
    finally:
        if entry is not None:
            log.write(json.dumps(entry) + "\n")
            log.flush()
        try:
            tls.close()
        except OSError:
            pass


def tell_pop(args, moved):
    """The broker moves its end of the tunnel: the PoP simulator's endpoints."""
    try:
        with open(args.endpoints) as fh:
            cur = json.load(fh)
    except (FileNotFoundError, ValueError):
        cur = {}
    cur[moved[0]] = moved[1]
    tmp = args.endpoints + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(cur, fh)
    os.replace(tmp, args.endpoints)
    if args.pop_pidfile:
        with open(args.pop_pidfile) as fh:
            os.kill(int(fh.read().strip()), signal.SIGUSR2)


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if args.mode == "tls10":
        # Old stacks only: the client must refuse it.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


def main(argv=None):
    p = argparse.ArgumentParser(description="dyndns2 endpoint update server (test)")
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--hosts", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pidfile")
    p.add_argument("--mode", default="normal",
                   choices=("normal", "endless", "drip", "html", "tls10", "911"))
    p.add_argument("--abuse-after", type=int, default=2, metavar="N",
                   help="nochg answers in a row a host may get before abuse")
    p.add_argument("--endpoints", help="JSON file of the PoP simulator (pop.py --endpoints)")
    p.add_argument("--pop-pidfile", help="the PoP simulator's pidfile (SIGUSR2 after a change)")
    args = p.parse_args(argv)
    hosts = Hosts(args.hosts)
    ctx = make_context(args)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.listen, args.port))
    srv.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % os.getpid())
        os.replace(tmp, args.pidfile)
    with open(args.log, "a") as log:
        while True:
            conn, addr = srv.accept()
            serve_one(args, ctx, hosts, conn, addr[0], log)


if __name__ == "__main__":
    sys.exit(main())
