#!/bin/bash
# Issue 12, item 2: AYIYA replays.  A datagram the PoP sent, captured on
# the PoP's link, is sent again 1 s later (from the PoP's address and
# port); datagrams signed validly but as old as a capture of 30 s and 110 s
# ago (within the +-120 s clock check) follow, and one of 130 s.  All are
# dropped and counted as "replay" (or "clock" beyond 120 s); fresh
# datagrams out of order still pass, and so does ordinary traffic.
#
#   test_ayiya_replay.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin replay "$1" "$2"
counter() { # KEY or drops.REASON, from the parent's latest counters
	lab_in "$NS_CLI" "$AICCUCTL" -s "$SOCK" status sixxs0 --json | python3 -c '
import json, sys
c = json.load(sys.stdin)["tunnels"][0]["counters"]
k = sys.argv[1]
print(c["drops"][k[6:]] if k.startswith("drops.") else c[k])' "$1"
}
reaches() { [ "$(counter "$1")" -ge "$2" ]; } # KEY AT-LEAST (counters arrive every 2 s)
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:a::2; }
R() { lab_in "$NS_POP" python3 "$HERE/ayiya_replay.py" "$@"; }
PASSWORD=demo-secret-sixxs0

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
is_up() { [ "$(field sixxs0 state)" = up ]; }
check "the tunnel comes up" lab_wait 20 is_up
check "traffic flows" lab_wait 10 pings

echo "# capture a datagram the PoP sends (an echo request inside)"
R capture isp0 "$TMP/cap.json" 20 2>"$TMP/cap.err" &
cap=$!
LAB_PIDS+=("$cap")
# ping until the capture has its datagram (it may start listening after the first pings)
captured() { test -s "$TMP/cap.json" || { lab_in "$NS_NET" ping -6 -c 1 -W 1 2001:db8:a::2; false; }; }
lab_wait 20 captured
wait "$cap"
sed 's/^/#   /' "$TMP/cap.err"
check "captured one" test -s "$TMP/cap.json"
[ -s "$TMP/cap.json" ] || fail_now "no capture"
cap_epoch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["epoch"])' "$TMP/cap.json")
# The parent's counters lag the worker's by up to one watchdog interval
# (2 s): the baseline is rx_packets once it stayed the same for 3 s
# (polled, at most 20 s).
rx_settled() {
	local last now since deadline=$(($(date +%s) + 20))
	last=$(counter rx_packets)
	since=$(date +%s)
	while [ "$(date +%s)" -lt "$deadline" ]; do
		now=$(counter rx_packets)
		[ "$now" != "$last" ] && { last=$now; since=$(date +%s); }
		[ $(($(date +%s) - since)) -ge 3 ] && break
		sleep 0.2
	done
	echo "$last"
}
rx0=$(rx_settled)
replay0=$(counter drops.replay)
clock0=$(counter drops.clock)

# +1 s: the captured bytes again, ten times
one_second_later() { [ "$(date +%s)" -ge $((cap_epoch + 1)) ]; }
lab_wait 5 one_second_later
R replay "$TMP/cap.json" 10
check "10 replays at +1 s are counted as replay" lab_wait 10 reaches drops.replay $((replay0 + 10))
# as captured 30 s and 110 s ago (the clock check alone lets both through)
R forge "$TMP/cap.json" "$PASSWORD" 30 10 101
R forge "$TMP/cap.json" "$PASSWORD" 110 10 102
check "20 more of +30 s and +110 s are counted as replay" \
	lab_wait 10 reaches drops.replay $((replay0 + 30))
R forge "$TMP/cap.json" "$PASSWORD" 130 1 103
check "one of +130 s is counted as clock" lab_wait 10 reaches drops.clock $((clock0 + 1))
check_eq "none of them was delivered" "$rx0" "$(counter rx_packets)"

# Out of order but fresh: the newer first, then one 2 s older; both pass.
replay1=$(counter drops.replay)
R forge "$TMP/cap.json" "$PASSWORD" 0 1 201
R forge "$TMP/cap.json" "$PASSWORD" 2 1 202
check "two reordered fresh datagrams are delivered" lab_wait 10 reaches rx_packets $((rx0 + 2))
check_eq "and not counted as replay" "$replay1" "$(counter drops.replay)"
check "ordinary traffic still flows" lab_wait 10 pings
echo "# drops: replay $(counter drops.replay), clock $(counter drops.clock)"
lab_in "$NS_CLI" "$AICCUCTL" -s "$SOCK" status | sed 's/^/#   /'
check "status shows the replay drops" sh -c "$(printf '%q ' ip netns exec "$NS_CLI" "$AICCUCTL" -s "$SOCK") status | grep -q 'replay'"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
