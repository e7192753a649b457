#!/bin/bash
# Self-test of the PoP simulator's 6in4 side (heartbeat + static tunnels,
# user-space proto-41) against the test-only client6in4.py.  Root only.
#
#   pop namespace: 192.0.2.1 isp0  <-- veth -->  net0 192.0.2.2 (later .3)  client namespace
#
#   T20001 6in4-heartbeat  PoP 2001:db8:10::1  client 2001:db8:10::2
#   T20002 6in4-static     PoP 2001:db8:20::1  client 2001:db8:20::2, routed 2001:db8:2100::/48,
#                          ipv4_client 192.0.2.2
#
# Proves: pings both ways over both tunnels; static tunnels send at once;
# heartbeat tunnels hold proto-41 until the client sent one (again after an
# address change); heartbeat accepted/failure counters; proto-41 source and
# inner-source drops; routed prefix; the down timer.
#
# Usage: bash tests/sim/selftest_6in4.sh [-v]     (exit 0 = all passed)

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}
ID=s6$$
NS_POP=$ID-pop
NS_CLI=$ID-cli
DIR=$(mktemp -d /tmp/selftest_6in4.XXXXXX)
PIDS=()
FAILS=0
VERBOSE=${1:-}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$NS_CLI" 2>/dev/null
	ip netns del "$NS_POP" 2>/dev/null
	if [ "$FAILS" -ne 0 ] || [ "$VERBOSE" = -v ]; then
		echo "--- pop.log"; cat "$DIR/pop.log" 2>/dev/null
		echo "--- stats"; cat "$DIR/stats.json" 2>/dev/null
		echo "--- clients"; cat "$DIR"/cli-*.log 2>/dev/null
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

in_pop() { ip netns exec "$NS_POP" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

ok() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION CMD...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}

# stat EXPR: a value of the stats file, d = the parsed JSON (Python syntax).
stat() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' \
	"$DIR/stats.json" "$1"; }
T1='d["tunnels"]["T20001"]'
T2='d["tunnels"]["T20002"]'
# expect SECONDS PYTHON-CONDITION: poll the stats file until it holds.
expect() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000)) cond=$2
	until [ "$(stat "$cond" 2>/dev/null)" = true ]; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
# counters are compared with a snapshot taken before an action
snap() { stat "$1"; }

ping_pop() { in_pop ping -6 -n -q -c 2 -i 0.2 -W 1 "$@"; }
ping_cli() { in_cli ping -6 -n -q -c 2 -i 0.2 -W 1 "$@"; }
beat() { in_cli "$PY" "$here/client6in4.py" beat --pop 192.0.2.1 "$@"; }

# --- namespaces -------------------------------------------------------------
ip netns add "$NS_POP" || exit 1
ip netns add "$NS_CLI" || exit 1
ip -n "$NS_POP" link set lo up
ip -n "$NS_CLI" link set lo up
ip link add net0 netns "$NS_CLI" type veth peer name isp0 netns "$NS_POP" || exit 1
in_cli sysctl -qw net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.net0.promote_secondaries=1
ip -n "$NS_POP" addr add 192.0.2.1/24 dev isp0
ip -n "$NS_CLI" addr add 192.0.2.2/24 dev net0
ip -n "$NS_POP" link set isp0 up
ip -n "$NS_CLI" link set net0 up

cat >"$DIR/tunnels.json" <<'JSON'
{"tunnels": [
 {"id": "T20001", "type": "6in4-heartbeat", "password": "hb-secret-0",
  "ipv6_pop": "2001:db8:10::1", "ipv6_client": "2001:db8:10::2", "prefix_len": 64,
  "ifname": "pop-hb", "mtu": 1280, "heartbeat_interval": 1},
 {"id": "T20002", "type": "6in4-static", "ipv4_client": "192.0.2.2",
  "ipv6_pop": "2001:db8:20::1", "ipv6_client": "2001:db8:20::2", "prefix_len": 64,
  "ifname": "pop-st", "mtu": 1280, "routed": ["2001:db8:2100::/48"]}
]}
JSON

# Started with ip netns exec directly (not through a shell function) so
# that $! is the Python process itself, which ip execs.
ip netns exec "$NS_POP" "$PY" "$here/pop.py" --tunnels "$DIR/tunnels.json" --listen 192.0.2.1 \
	--stats "$DIR/stats.json" --pidfile "$DIR/pop.pid" --log "$DIR/pop.log" --down-after 3 \
	</dev/null >>"$DIR/pop.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$DIR/pop.pid" ] && break; sleep 0.1; done
[ -s "$DIR/pop.pid" ] || { fail "pop.py started"; exit 1; }
ok "pop.py started"

# --- before any client ------------------------------------------------------
ping_pop 2001:db8:10::2 >/dev/null
check "heartbeat tunnel without heartbeat: no_client drop, nothing sent" \
	expect 2 "$T1[\"drops\"][\"no_client\"] >= 1 and $T1[\"tx_packets\"] == 0"
ping_pop 2001:db8:20::2 >/dev/null
check "static tunnel sends at once (before the client sent anything)" \
	expect 2 "$T2[\"tx_packets\"] >= 1 and $T2[\"drops\"][\"proto41_held\"] == 0 and not $T2[\"up\"]"

# --- clients ----------------------------------------------------------------
ip netns exec "$NS_CLI" "$PY" "$here/client6in4.py" tunnel --pop 192.0.2.1 --ifname cli-hb \
	--ipv6-client 2001:db8:10::2 --password hb-secret-0 --interval 1 \
	--pidfile "$DIR/cli-hb.pid" --log "$DIR/cli-hb.log" </dev/null >>"$DIR/cli-hb.log" 2>&1 &
HB_PID=$!
PIDS+=("$HB_PID")
ip netns exec "$NS_CLI" "$PY" "$here/client6in4.py" tunnel --pop 192.0.2.1 --ifname cli-st \
	--ipv6-client 2001:db8:20::2 --routed 2001:db8:2100::/48 \
	--pidfile "$DIR/cli-st.pid" --log "$DIR/cli-st.log" </dev/null >>"$DIR/cli-st.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$DIR/cli-hb.pid" ] && [ -s "$DIR/cli-st.pid" ] && break; sleep 0.1; done

check "valid heartbeat: counted, client IPv4 learned, up, not yet confirmed" \
	expect 5 "$T1[\"heartbeats\"] >= 1 and $T1[\"client_ipv4\"] == \"192.0.2.2\" and $T1[\"up\"] and not $T1[\"confirmed\"]"

# --- held until the client's first proto-41 packet ---------------------------
held0=$(snap "$T1[\"drops\"][\"proto41_held\"]")
if ping_pop 2001:db8:10::2 >/dev/null; then fail "PoP->client ping fails while held"; else ok "PoP->client ping fails while held"; fi
check "held packets counted as proto41_held, none sent" \
	expect 2 "$T1[\"drops\"][\"proto41_held\"] >= $held0 + 2 and $T1[\"tx_packets\"] == 0"
check "client->PoP ping over the heartbeat tunnel (first packet)" ping_cli 2001:db8:10::1
check "the first packet confirms the tunnel" expect 2 "$T1[\"confirmed\"] and $T1[\"rx_packets\"] >= 2"
check "PoP->client ping over the heartbeat tunnel after the first packet" ping_pop 2001:db8:10::2

# --- static tunnel, routed prefix --------------------------------------------
check "PoP->client ping over the static tunnel" ping_pop 2001:db8:20::2
check "client->PoP ping over the static tunnel" ping_cli 2001:db8:20::1
check "static tunnel up after its first packet" expect 2 "$T2[\"up\"] and $T2[\"rx_packets\"] >= 2"
ip -n "$NS_CLI" -6 addr add 2001:db8:2100::1/128 dev lo
check "client->PoP ping from the routed prefix" ping_cli -I 2001:db8:2100::1 2001:db8:20::1
check "PoP->routed prefix ping" ping_pop 2001:db8:2100::1

# --- inner source policy -----------------------------------------------------
ip -n "$NS_CLI" -6 addr add 2001:db8:dead::1/128 dev lo
is0=$(snap "$T2[\"drops\"][\"inner_source\"]")
if ping_cli -I 2001:db8:dead::1 2001:db8:20::1 >/dev/null; then
	fail "foreign inner source is dropped"
else ok "foreign inner source is dropped"; fi
check "foreign inner source counted as inner_source" expect 2 "$T2[\"drops\"][\"inner_source\"] >= $is0 + 2"
il0=$(snap "$T1[\"drops\"][\"inner_source\"]")
ll0=$(snap "$T1[\"link_local\"]")
rx0=$(snap "$T1[\"rx_packets\"]")
in_cli "$PY" "$here/client6in4.py" send41 --pop 192.0.2.1 --bind 192.0.2.2 --src fe80::2 --dst 2001:db8:10::1
check "link-local inner source ignored silently (link_local, not a drop)" \
	expect 2 "$T1[\"link_local\"] == $ll0 + 1 and $T1[\"drops\"][\"inner_source\"] == $il0 and $T1[\"rx_packets\"] == $rx0"

# --- heartbeat failures, one of each -----------------------------------------
h0=$(snap "$T1[\"hb_failures\"][\"hash\"]")
c0=$(snap "$T1[\"hb_failures\"][\"clock\"]")
a0=$(snap "$T1[\"hb_failures\"][\"address\"]")
u0=$(snap 'd["global"]["hb_failures"]["unknown_tunnel"]')
s0=$(snap 'd["global"]["hb_failures"]["syntax"]')
beat --ipv6 2001:db8:10::2 --password wrong-password
check "wrong password: hash failure" expect 2 "$T1[\"hb_failures\"][\"hash\"] == $h0 + 1"
beat --ipv6 2001:db8:10::2 --password hb-secret-0 --epoch-offset 500
check "epoch 500 s ahead: clock failure" expect 2 "$T1[\"hb_failures\"][\"clock\"] == $c0 + 1"
beat --ipv6 2001:db8:10::2 --password hb-secret-0 --ipv4-field 192.0.2.99
check "literal IPv4 != source: address failure, client IPv4 unchanged" \
	expect 2 "$T1[\"hb_failures\"][\"address\"] == $a0 + 1 and $T1[\"client_ipv4\"] == \"192.0.2.2\""
beat --ipv6 2001:db8:10::3 --password hb-secret-0
check "unknown IPv6: global unknown_tunnel" expect 2 "d[\"global\"][\"hb_failures\"][\"unknown_tunnel\"] == $u0 + 1"
beat --raw "HEARTBEAT TUNNEL nonsense"
check "malformed: global syntax" expect 2 "d[\"global\"][\"hb_failures\"][\"syntax\"] == $s0 + 1"
# Leading-zero epoch, digest by md5sum over the text as sent: the PoP
# re-prints the epoch before hashing, so this is a hash failure.
now=$(date +%s)
dz=$(printf 'HEARTBEAT TUNNEL 2001:db8:10::2 sender 0%s hb-secret-0' "$now" | md5sum | cut -d' ' -f1)
beat --raw "HEARTBEAT TUNNEL 2001:db8:10::2 sender 0$now $dz"
check "leading-zero epoch hashed as sent: hash failure" expect 2 "$T1[\"hb_failures\"][\"hash\"] == $h0 + 2"
# The same with the digest over the plain number, CRLF-terminated: valid.
n0=$(snap "$T1[\"heartbeats\"]")
dp=$(printf 'HEARTBEAT TUNNEL 2001:db8:10::2 192.0.2.2 %s hb-secret-0' "$now" | md5sum | cut -d' ' -f1)
beat --raw "$(printf 'HEARTBEAT TUNNEL 2001:db8:10::2 192.0.2.2 0%s %s\r\n' "$now" "$dp")"
check "leading-zero epoch, digest over the re-printed number, CRLF: accepted" \
	expect 2 "$T1[\"heartbeats\"] >= $n0 + 1 and $T1[\"hb_failures\"][\"hash\"] == $h0 + 2"

# --- heartbeats at the client's interval --------------------------------------
n0=$(snap "$T1[\"heartbeats\"]")
sleep 3.2
n1=$(snap "$T1[\"heartbeats\"]")
if [ $((n1 - n0)) -ge 2 ] && [ $((n1 - n0)) -le 5 ]; then ok "heartbeats counted at ~1/s ($((n1 - n0)) in 3.2 s)"
else fail "heartbeats counted at ~1/s ($((n1 - n0)) in 3.2 s)"; fi
check "last_heartbeat recent" expect 1 "__import__(\"time\").time() - $T1[\"last_heartbeat\"] < 2"

# --- proto-41 from an address that is not the client's --------------------------
ip -n "$NS_CLI" addr add 192.0.2.3/24 dev net0
ps0=$(snap "$T2[\"drops\"][\"proto41_source\"]")
ph0=$(snap "$T1[\"drops\"][\"proto41_source\"]")
in_cli "$PY" "$here/client6in4.py" send41 --pop 192.0.2.1 --bind 192.0.2.3 --src 2001:db8:20::2 --dst 2001:db8:20::1
in_cli "$PY" "$here/client6in4.py" send41 --pop 192.0.2.1 --bind 192.0.2.3 --src 2001:db8:10::2 --dst 2001:db8:10::1
check "static: proto-41 from another IPv4 counted as proto41_source" \
	expect 2 "$T2[\"drops\"][\"proto41_source\"] == $ps0 + 1"
check "heartbeat: proto-41 from another IPv4 counted as proto41_source" \
	expect 2 "$T1[\"drops\"][\"proto41_source\"] == $ph0 + 1"

# --- the client's IPv4 address changes ------------------------------------------
ip -n "$NS_CLI" addr del 192.0.2.2/24 dev net0
check "next heartbeat moves the client IPv4, tunnel no longer confirmed" \
	expect 3 "$T1[\"client_ipv4\"] == \"192.0.2.3\" and not $T1[\"confirmed\"]"
held0=$(snap "$T1[\"drops\"][\"proto41_held\"]")
tx0=$(snap "$T1[\"tx_packets\"]")
if ping_pop 2001:db8:10::2 >/dev/null; then fail "held again after the change"; else ok "held again after the change"; fi
check "held packets counted after the change" \
	expect 2 "$T1[\"drops\"][\"proto41_held\"] >= $held0 + 2 and $T1[\"tx_packets\"] == $tx0"
check "client->PoP ping from the new address" ping_cli 2001:db8:10::1
check "PoP->client ping to the new address" ping_pop 2001:db8:10::2
ps0=$(snap "$T2[\"drops\"][\"proto41_source\"]")
if ping_cli 2001:db8:20::1 >/dev/null; then fail "static tunnel refuses the new address"
else ok "static tunnel refuses the new address"; fi
check "static: counted as proto41_source" expect 2 "$T2[\"drops\"][\"proto41_source\"] >= $ps0 + 2"

# --- down timer -------------------------------------------------------------------
check "heartbeat tunnel up while beating" expect 1 "$T1[\"up\"]"
kill -TERM "$HB_PID"
check "heartbeat tunnel down ~3 s after the last heartbeat (--down-after 3)" \
	expect 6 "not $T1[\"up\"] and $T1[\"client_ipv4\"] == \"192.0.2.3\""
check "static tunnel down too (no valid packet for 3 s)" expect 4 "not $T2[\"up\"]"

kill -TERM "${PIDS[0]}"
for _ in $(seq 50); do kill -0 "${PIDS[0]}" 2>/dev/null || break; sleep 0.1; done
check "pop.py exits on SIGTERM and removes its pidfile" test ! -e "$DIR/pop.pid"

if [ "$FAILS" -eq 0 ]; then echo "selftest_6in4: all passed"; exit 0; fi
echo "selftest_6in4: $FAILS failed"
exit 1
