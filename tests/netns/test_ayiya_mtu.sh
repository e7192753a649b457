#!/bin/bash
# Issue 22, item 10: an AYIYA tunnel's MTU must leave room for AYIYA's 72
# bytes (IPv4 20 + UDP 8 + AYIYA header 44) on a 1500-byte path: at most
# 1428.  A tunnel file asking for more is refused with its file:line and
# the maximum (aiccud -n, and the tunnel does not start); an MTU of 1480
# from TIC is clamped to 1428 (link, the table's route), and the worker's
# log line names the tunnel; a full-size packet crosses the tunnel.
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
route_mtu() { ip -n "$NS_CLI" -6 route show table 200 proto 157 | grep '^default' | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }

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
finish
