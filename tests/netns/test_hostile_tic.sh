#!/bin/bash
# Issue 12, item 1: a TIC server that tries to take over the client's
# routing.  Every hostile tunnel fails with a message naming the tunnel,
# the TIC server and the key; the valid ones (one with control characters
# in its labels) come up; afterwards the client namespace's routes and
# rules are byte-for-byte what they were, apart from the valid tunnels.
# Then the host routes a valid tunnel's prefix itself: that tunnel's next
# start is refused, and starts again once the host's route is gone.
#
#   test_hostile_tic.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin hostile "$1" "$2"


# index: what the broker says (sixxs<i> is T1000<i+1>); "ok" ones must come up.
#  0 ok      2001:db8:1::2/64, plain (tunnel i gets 2001:db8:<i+1>::/64)
#  1 prefix  IPv6 PrefixLength 1 (would put ::/1 into the main table)
#  2 overlap IPv6 Endpoint = the client's own ISP address 2001:db8:ffff::2
#  3 loop    IPv4 POP 127.0.0.1
#  4 mtu     Tunnel MTU 65535
#  5 own4    IPv4 POP = the client's own IPv4 192.0.2.2
#  6 inside  a /80 inside the client's ISP /64
#  7 ok      2001:db8:8::2/64 with ESC in its Tunnel Name and POP Id
#  8 mcast   IPv4 POP 224.0.0.1
#  9 pop6    IPv6 POP ff02::1
N=10
python3 - "$TMP" "$LAB_SIM" <<'PY'
import json, sys
d = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import tic
acc = tic.example_accounts(10)
t = acc["accounts"][0]["tunnels"]
t[1]["IPv6 PrefixLength"] = 1
t[2]["IPv6 Endpoint"], t[2]["IPv6 POP"] = "2001:db8:ffff::2", "2001:db8:ffff::1"
t[3]["IPv4 POP"] = "127.0.0.1"
t[4]["Tunnel MTU"] = 65535
t[5]["IPv4 POP"] = "192.0.2.2"
t[6]["IPv6 Endpoint"], t[6]["IPv6 POP"] = "2001:db8:ffff:0:1::2", "2001:db8:ffff:0:1::1"
t[6]["IPv6 PrefixLength"] = 80
t[7]["Tunnel Name"] = "evil\x1b[2J\x1b]0;owned\x07name"
t[7]["POP Id"] = "pop\x1b[31m01"
t[8]["IPv4 POP"] = "224.0.0.1"
t[9]["IPv6 POP"] = "ff02::1"
json.dump(acc, open(d + "/accounts.json", "w"), indent=1)
pop = {"tunnels": []}
for i in (0, 7):
    x = t[i]
    pop["tunnels"].append({
        "id": x["TunnelId"], "type": x["Type"], "password": x["Password"],
        "ipv6_pop": x["IPv6 POP"], "ipv6_client": x["IPv6 Endpoint"],
        "prefix_len": x["IPv6 PrefixLength"], "ifname": "pop%d" % i, "mtu": 1280,
        "routed": []})
json.dump(pop, open(d + "/pop-tic.json", "w"), indent=1)
PY

lab_up || fail_now "lab set-up"
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_start "$TMP" server || fail_now "TIC server"
lab_tic_client "$TMP" $N

routes() { ip -n "$NS_CLI" -6 route show table all; }
rules() { ip -N -n "$NS_CLI" -6 rule show; }
# The kernel adds net0's link-local address (and its local route) on its own time.
ll_ready() { ip -n "$NS_CLI" -6 route show table local | grep -q '^local fe80::.* dev net0'; }
check "the client's link-local route is in place before the snapshot" lab_wait 10 ll_ready
routes >"$TMP/routes.before"
rules >"$TMP/rules.before"

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$TMP/run/aiccud.sock" || { cat "$TMP/aiccud.log"; fail_now "aiccud start"; }
settled() {
	local i s
	for i in $(seq 0 $((N - 1))); do
		s=$(field "sixxs$i" state)
		[ "$s" = up ] || [ "$s" = failed ] || return 1
	done
}
check "every tunnel settles (up or failed)" lab_wait 90 settled
check_eq "the valid tunnel is up" up "$(field sixxs0 state)"
check_eq "the tunnel with control characters in its labels is up" up "$(field sixxs7 state)"
check "and its traffic flows" lab_in "$NS_POP" ping -6 -c 2 -i 0.2 -W 2 2001:db8:8::2

# expect INDEX KEY TEXT: failed, and the reason names the tunnel id, the server and the key
expect() {
	local i=$1 key=$2 text=$3 reason
	reason=$(field "sixxs$i" reason)
	echo "# sixxs$i: $reason"
	check_eq "sixxs$i fails" failed "$(field "sixxs$i" state)"
	check "sixxs$i: the reason names the key '$key' and says '$text'" \
		grep -qF "$key: " <<<"$reason"
	check "sixxs$i: ... '$text'" grep -qF "$text" <<<"$reason"
	check "sixxs$i: ... the tunnel" grep -qF "T$((10001 + i))" <<<"$reason"
	check "sixxs$i: ... the TIC server" grep -qF "tic.test" <<<"$reason"
	check "sixxs$i: it has no link" sh -c "! ip -n $NS_CLI link show sixxs$i 2>/dev/null"
}
expect 1 "IPv6 PrefixLength" "/1 is outside /64..128"
expect 2 "IPv6 Endpoint" "overlaps 2001:db8:ffff::"
expect 3 "IPv4 POP" "127.0.0.1 is a loopback address"
expect 4 "Tunnel MTU" "65535 is outside 1280..1480"
expect 5 "IPv4 POP" "192.0.2.2 is one of this host's own addresses"
expect 6 "IPv6 Endpoint" "overlaps 2001:db8:ffff::"
expect 8 "IPv4 POP" "224.0.0.1 is a multicast address"
expect 9 "IPv6 POP" "ff02::1 is a multicast address"

# Routes and rules: what was there, plus exactly the two valid tunnels' own.
mine='sixxs0|sixxs7|table 200( |$)|table 207( |$)|lookup 200( |$)|lookup 207( |$)'
routes | grep -Ev "$mine" >"$TMP/routes.after"
rules | grep -Ev "$mine" >"$TMP/rules.after"
check "ip -6 route show table all: unchanged apart from the valid tunnels" \
	cmp "$TMP/routes.before" "$TMP/routes.after"
check "ip -6 rule: unchanged apart from the valid tunnels" cmp "$TMP/rules.before" "$TMP/rules.after"
diff "$TMP/routes.before" "$TMP/routes.after" | sed 's/^/#   /'
diff "$TMP/rules.before" "$TMP/rules.after" | sed 's/^/#   /'
check_eq "the valid tunnels got their rules" 2 "$(rules | grep -c 'proto 157')"

# The parent keeps its view of the host's routes while only aiccud's own
# links change (supervisor/hostcache.h).  A route the host adds later, on
# a link of its own, must count from then on, and stop counting once gone.
is_state7() { [ "$(field sixxs7 state)" = "$1" ]; }
ip -n "$NS_CLI" -6 route add 2001:db8:8::/48 dev net0 || fail_now "host route"
ctl restart sixxs7 >/dev/null 2>&1
check "after the host routes 2001:db8:8::/48, a restart of sixxs7 fails" lab_wait 30 is_state7 failed
reason7=$(field sixxs7 reason)
echo "# sixxs7: $reason7"
check "... because its prefix overlaps that new route" grep -qF "overlaps 2001:db8:8::/48" <<<"$reason7"
# A restart reads the cache, not TIC (issue 20): the reason says so.
check "... values the reason says came from the cache file, with its path" \
	grep -qF "from the cache file $TMP/state/tunnels/T10008:" <<<"$reason7"
check "... not from the TIC server" test "${reason7/from TIC server/}" = "$reason7"
check "... and it has no link" sh -c "! ip -n $NS_CLI link show sixxs7 2>/dev/null"
ip -n "$NS_CLI" -6 route del 2001:db8:8::/48 dev net0 || fail_now "host route removal"
ctl start sixxs7 >/dev/null 2>&1
check "with the host's route gone, sixxs7 comes up again" lab_wait 60 is_state7 up
check "... and its traffic flows" lab_in "$NS_POP" ping -6 -c 2 -i 0.2 -W 2 2001:db8:8::2
ctl status | tr -d '\033' | sed 's/^/#   /'
check "aiccuctl status prints no control character" sh -c "! $(printf '%q ' ip netns exec "$NS_CLI" "$AICCUCTL" -s "$TMP/run/aiccud.sock") status | grep -q \$'\\033'"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
