#!/usr/bin/env python3
"""aiccuctl monitor's limits, from the client side (test_monitor.sh).

  monitor_clients.py stall SOCK      subscribe, print "subscribed", then never read
  monitor_clients.py many SOCK N     try N monitors at once; print how many were
                                     subscribed and the first refusal's error
Every wait is bounded (10 s); stall holds for at most 120 s.
"""
import json
import socket
import sys
import time


def subscribe(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.sendall(b"monitor\n")
    line = b""
    while not line.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        line += chunk
    return s, json.loads(line)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "stall":
        s, first = subscribe(path)
        assert first.get("event") == "daemon", first
        print("subscribed", flush=True)
        time.sleep(120)
        return 0
    held, subscribed, error = [], 0, ""
    for _ in range(int(sys.argv[3])):
        s, first = subscribe(path)
        held.append(s)
        if first.get("event") == "daemon":
            subscribed += 1
        elif not error:
            error = first.get("error", "")
    print("subscribed %d" % subscribed)
    print("refused: %s" % error)
    return 0


sys.exit(main())
