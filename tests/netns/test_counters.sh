#!/bin/bash
# Issue 22 item 8: counters that mean what they say.  Two user-space
# 6in4-heartbeat tunnels from one client IPv4 to one PoP:
# - the kernel's own link-local traffic on their links (MLD reports,
#   router solicitations) is counted apart (link_local_suppressed), not
#   as drops;
# - each worker's raw proto-41 socket has a filter: pings through one
#   tunnel do not move the other's counters at all (no other_tunnel);
# - status answers with counters as of the request: 3 pings, then at once
#   status --json shows 3 more packets each way.
#
#   test_counters.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin counters "$1" "$2"

cat >"$TMP/pop-6in4.json" <<'JSON'
{"tunnels": [
 {"id": "T40001", "type": "6in4-heartbeat", "password": "hb-secret-0",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": []},
 {"id": "T40002", "type": "6in4-heartbeat", "password": "hb-secret-1",
  "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": []}
]}
JSON

# tunnel NAME ID NET TABLE PRIO PASSWORD: a user-space 6in4-heartbeat tunnel
tunnel() {
	lab_tunnel_conf "$TMP/conf.d/$1.conf" "$1" "$2" 6in4-heartbeat "$3" "$4" "$5" "$6" \
		tunnel.datapath=userspace params.ipv4_local=heartbeat params.heartbeat_interval=60
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" "$TMP/pop-6in4.json" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
tunnel sixxs0 T40001 a 200 1000 hb-secret-0
tunnel sixxs1 T40002 b 201 1001 hb-secret-1
chmod 600 "$TMP"/conf.d/*.conf
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"

confirmed() { [ "$(status_eval "$1" 't.get("pop_state")')" = confirmed ]; }
check "sixxs0 comes up" lab_wait 20 is_up sixxs0
check "sixxs1 comes up" lab_wait 20 is_up sixxs1
check "the PoP confirms sixxs0" lab_wait 20 confirmed sixxs0
check "the PoP confirms sixxs1" lab_wait 20 confirmed sixxs1
check_eq "both on the user-space data path" "userspace userspace" \
	"$(status_eval sixxs0 't.get("datapath_in_use")') $(status_eval sixxs1 't.get("datapath_in_use")')"

# counters: one status call, TUNNEL's counters as "rx tx drops other_tunnel
# link_local_suppressed" (drops: their sum; absent keys: -)
counters() {
	ctl status --json | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tunnels"]:
    if t["name"] == sys.argv[1]:
        k = t["counters"]
        print(k["rx_packets"], k["tx_packets"], sum(k["drops"].values()),
              k.get("other_tunnel", "-"), k.get("link_local_suppressed", "-"))' "$1"
}
ll_suppressed() { # TUNNEL: its link-local packets were counted apart
	local c
	c=$(counters "$1") || return 1
	set -- $c
	[ "$5" != - ] && [ "$5" -gt 0 ]
}

echo "# 1. link-local traffic on the links: the kernel's MLD reports, a link-local ping"
# With router solicitations off on the links (the worker's link_isolate)
# the kernel sends MLD reports when a group is joined: a socket joins one
# on each link and holds it while we look.
lab_in "$NS_CLI" python3 -c '
import socket, struct, time
socks = []
for name in ("sixxs0", "sixxs1"):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                 socket.inet_pton(socket.AF_INET6, "ff02::db8:1") + struct.pack("@I", socket.if_nametoindex(name)))
    socks.append(s)
time.sleep(30)' &
JOIN_PID=$!
LAB_PIDS+=("$JOIN_PID")
for t in sixxs0 sixxs1; do
	check "$t: the kernel's MLD report for the group is counted as suppressed" lab_wait 10 ll_suppressed "$t"
done
lab_kill TERM "$JOIN_PID"
wait "$JOIN_PID" 2>/dev/null
read -r a_rx a_tx a_drops a_other a_ll <<<"$(counters sixxs0)"
lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 1 -I sixxs0 ff02::1 >/dev/null 2>&1
read -r rx tx drops other ll <<<"$(counters sixxs0)"
# (at least: the kernel may repeat its MLD reports meanwhile, MLDv2's robustness)
check "sixxs0: a link-local ping to ff02::1 is suppressed too ($a_ll -> $ll)" test "$ll" -ge $((a_ll + 2))
check_eq "and not sent (tx)" 0 "$((tx - a_tx))"
for t in sixxs0 sixxs1; do
	read -r rx tx drops other ll <<<"$(counters "$t")"
	echo "# $t: rx $rx tx $tx drops $drops other_tunnel $other link_local_suppressed $ll"
	check_eq "$t: none of them is a drop" 0 "$drops"
done
ctl status sixxs0

echo "# 2 and 3. 3 pings through sixxs0, then status at once"
read -r b_rx b_tx b_drops b_other b_ll <<<"$(counters sixxs1)"
read -r a_rx a_tx a_drops a_other a_ll <<<"$(counters sixxs0)"
check "3 pings from 2001:db8:a::2 to the PoP through sixxs0" \
	lab_in "$NS_CLI" ping -6 -c 3 -i 0.2 -W 2 -I 2001:db8:a::2 2001:db8:a::1
read -r rx tx drops other ll <<<"$(counters sixxs0)"
check_eq "status right after: sixxs0 sent and received 3 more (tx/rx)" "3 3" \
	"$((tx - a_tx)) $((rx - a_rx))"
rx_moved() { # the periodic report is in by now, fresh status or not
	local c
	c=$(counters sixxs0) || return 1
	set -- $c
	[ "$1" -ge $((a_rx + 3)) ]
}
check "sixxs0's counters show the replies" lab_wait 5 rx_moved
check_eq "sixxs0: no drops" "0" "$(counters sixxs0 | cut -d' ' -f3)"
read -r rx tx drops other ll <<<"$(counters sixxs1)"
echo "# sixxs1 before: rx $b_rx tx $b_tx drops $b_drops other_tunnel $b_other; after: rx $rx tx $tx drops $drops other_tunnel $other"
check_eq "sixxs1's counters did not move: rx tx drops other_tunnel" \
	"$b_rx $b_tx $b_drops $b_other" "$rx $tx $drops $other"
check_eq "sixxs1 saw none of sixxs0's packets (other_tunnel)" 0 "$other"
check_absent "the workers attached their socket filters (no warning)" "no socket filter" \
	"$TMP/aiccud.log"

echo "# 3. status of one tunnel is fresh too"
read -r a_rx a_tx a_drops a_other a_ll <<<"$(counters sixxs1)"
check "2 pings from 2001:db8:b::2 to the PoP through sixxs1" \
	lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 -I 2001:db8:b::2 2001:db8:b::1
check_eq "status sixxs1 right after: 2 more each way" "2 2" \
	"$(status_eval sixxs1 'str(t["counters"]["tx_packets"] - '"$a_tx"') + " " + str(t["counters"]["rx_packets"] - '"$a_rx"')')"

check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
