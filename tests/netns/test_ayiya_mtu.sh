#!/bin/bash
# Issue 22, item 10: an AYIYA tunnel's MTU must leave room for AYIYA's 72
# bytes (IPv4 20 + UDP 8 + AYIYA header 44) on a 1500-byte path: at most
# 1428.  A tunnel file asking for more is refused with its file:line and
# the maximum (aiccud -n, and the tunnel does not start); an MTU of 1480
# from TIC is clamped to 1428 (link, the table's route), and the worker's
# log line names the tunnel; a full-size packet crosses the tunnel.
# Then the path MTU toward the PoP: with the client's underlay link at
# 1400 the same tunnel gets 1400 - 72 = 1328 (link, route, status, the
# warning names the route and link), a 1328-byte packet crosses with DF
# and a 1329-byte one is refused at the tunnel (not fragmented below it);
# a route MTU metric toward the PoP (1380, link at 1500) is used likewise;
# a 1300-byte underlay gives 1280 and a warning that it is too small.
#
#   test_ayiya_mtu.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin ayiyamtu "$1" "$2"
LAB_TIC_REFILL=16
settled() { local s; s=$(field sixxs0 state); [ "$s" = up ] || [ "$s" = failed ]; }
link_mtu() { ip -n "$NS_CLI" -o link show dev sixxs0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
route_mtu() { ip -N -n "$NS_CLI" -6 route show table 200 | grep '^default .* proto 157 ' | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
log_since() { tail -n +"$(($1 + 1))" "$TMP/aiccud.log"; }

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 2 ayiya
# The broker hands out 1480, as for a 6in4 tunnel.
python3 - "$TMP/accounts.json" "$TMP/pop-tic.json" <<'PY'
import json, sys
acc = json.load(open(sys.argv[1]))
for t in acc["accounts"][0]["tunnels"]:
    t["Tunnel MTU"] = 1480
json.dump(acc, open(sys.argv[1], "w"), indent=1)
pop = json.load(open(sys.argv[2]))
for t in pop["tunnels"]:
    t["mtu"] = 1480
json.dump(pop, open(sys.argv[2], "w"), indent=1)
PY
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_client "$TMP" 1

echo "# a tunnel file asking an AYIYA tunnel for 1480"
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1
sed -i 's/^mtu = 1280$/mtu = 1480/' "$TMP/conf.d/sixxs1.conf"
line=$(grep -n '^mtu = 1480$' "$TMP/conf.d/sixxs1.conf" | cut -d: -f1)
out=$(lab_in "$NS_CLI" "$AICCUD" -n -f "$TMP/aiccud.conf" 2>&1)
echo "$out" | sed 's/^/#   /'
check "aiccud -n names file:line, the MTU and the maximum" \
	grep -q "$TMP/conf.d/sixxs1.conf:$line: mtu 1480 is above 1428" <<<"$out"

echo "# 1480 from TIC"
lab_tic_start "$TMP" server || fail_now "TIC server"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "sixxs0 settles (after a limiter token)" lab_wait 90 settled
check_eq "sixxs0 is up" up "$(field sixxs0 state)"
check_eq "sixxs1 (the refused file) is failed" failed "$(field sixxs1 state)"
check "and status says why, with file:line" grep -q "sixxs1.conf:$line: mtu 1480 is above 1428" <<<"$(field sixxs1 reason)"
check_eq "the link's MTU is clamped to 1428" 1428 "$(link_mtu)"
check_eq "so is the table's default route" 1428 "$(route_mtu)"
check_eq "status shows 1428" 1428 "$(field sixxs0 mtu)"
check "the worker says so, naming the tunnel" \
	grep -q "sixxs0: MTU 1480 (from TIC) is above 1428, the most an AYIYA packet" "$TMP/aiccud.log"
# 1428 - 40 (IPv6) - 8 (ICMPv6) = 1380 bytes of payload: a full-size packet, not fragmented
check "a full-size packet (1428) crosses the tunnel, don't fragment" \
	lab_in "$NS_NET" ping -6 -c 2 -i 0.3 -W 2 -M do -s 1380 2001:db8:1::2

echo "# the client's underlay toward the PoP has MTU 1400: 1400 - 72 = 1328"
ip -n "$NS_CLI" link set dev net0 mtu 1400 || fail_now "underlay MTU"
mark=$(wc -l <"$TMP/aiccud.log")
check "aiccuctl restart sixxs0 (on its cached 1480)" ctl restart sixxs0
check "sixxs0 is up again" lab_wait 30 is_up sixxs0
check_eq "the link's MTU is 1328" 1328 "$(link_mtu)"
check_eq "so is the table's default route (ip -N)" 1328 "$(route_mtu)"
check_eq "status shows 1328" 1328 "$(field sixxs0 mtu)"
check_eq "status shows the path MTU 1400" 1400 "$(field sixxs0 path_mtu)"
check "the worker names the path MTU and where it came from" \
	grep -q "sixxs0: MTU 1480 (from TIC) is above 1328, the most an AYIYA packet can carry over a 1400-byte IPv4 path to the PoP (the route to the PoP 192.0.2.1 leaves by link net0, MTU 1400;" \
	<<<"$(log_since "$mark")"
# 1328 - 48 = 1280 bytes of payload: a full-size packet, DF, both ways
check "a full-size packet (1328) crosses the tunnel from the Internet, don't fragment" \
	lab_in "$NS_NET" ping -6 -c 2 -i 0.3 -W 2 -M do -s 1280 2001:db8:1::2
check "and from the client" \
	lab_in "$NS_CLI" ping -6 -c 2 -i 0.3 -W 2 -M do -s 1280 -I 2001:db8:1::2 2001:db8:eeee::2
out=$(lab_in "$NS_CLI" ping -6 -c 1 -W 2 -M do -s 1281 -I 2001:db8:1::2 2001:db8:eeee::2 2>&1)
echo "$out" | sed 's/^/#   /'
check "a 1329-byte packet is refused at the tunnel (mtu 1328), not fragmented below it" \
	grep -Eq 'mtu[=:]? *1328' <<<"$out"

echo "# a route MTU metric toward the PoP (1380) with the link back at 1500: 1308"
ip -n "$NS_CLI" link set dev net0 mtu 1500 || fail_now "underlay MTU"
ip -n "$NS_CLI" route add 192.0.2.1/32 dev net0 mtu lock 1380 || fail_now "route to the PoP"
mark=$(wc -l <"$TMP/aiccud.log")
check "aiccuctl restart sixxs0" ctl restart sixxs0
check "sixxs0 is up again" lab_wait 30 is_up sixxs0
check_eq "the link's MTU is 1308" 1308 "$(link_mtu)"
check_eq "so is the table's default route (ip -N)" 1308 "$(route_mtu)"
check "the worker names the route's MTU and its link" \
	grep -q "over a 1380-byte IPv4 path to the PoP (the route to the PoP 192.0.2.1 has MTU 1380 (link net0);" \
	<<<"$(log_since "$mark")"

echo "# an underlay too small for 1280 + 72 (1300): 1280, and the log says so"
ip -n "$NS_CLI" route del 192.0.2.1/32 dev net0 || fail_now "route to the PoP"
ip -n "$NS_CLI" link set dev net0 mtu 1300 || fail_now "underlay MTU"
mark=$(wc -l <"$TMP/aiccud.log")
check "aiccuctl restart sixxs0" ctl restart sixxs0
check "sixxs0 is up again" lab_wait 30 is_up sixxs0
check_eq "the link's MTU is 1280, IPv6's minimum" 1280 "$(link_mtu)"
check_eq "status shows the path MTU 1300" 1300 "$(field sixxs0 path_mtu)"
check "the worker says the underlay is too small, naming tunnel and path MTU" \
	grep -q "sixxs0: the underlay is too small: the route to the PoP 192.0.2.1 leaves by link net0, MTU 1300, less than the 1352 bytes" \
	<<<"$(log_since "$mark")"
finish
