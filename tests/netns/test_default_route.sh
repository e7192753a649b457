#!/bin/bash
# default_route = yes (issue 11; AICCU's "defaultroute true"): the tunnel
# also owns a default route in the main table, with the tunnel MTU and
# protocol 157, removed exactly when the tunnel stops.  The lab's own
# default route (via the ISP, metric 1024) is never replaced: a tunnel
# whose metric would clash fails and says so.  Two default_route tunnels
# without metrics are refused by the configuration check.
#
#   test_default_route.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin defroute "$1" "$2"

gone() { ! kill -0 "$1" 2>/dev/null; }
# The main table's default routes, numerically, one per line.
main_defaults() { ip -N -n "$NS_CLI" -6 route show table main default; }
ours() { main_defaults | grep 'proto 157'; }
isp_default() { main_defaults | grep -x 'default via 2001:db8:ffff::1 dev net0 metric 1024 pref medium'; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
check "the lab's own default route is in the main table" isp_default

# Two default_route tunnels without metrics: refused, naming both files.
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0 default_route=yes
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1 default_route=yes
lab_in "$NS_CLI" "$AICCUD" -n -f "$TMP/aiccud.conf" >"$TMP/n.out" 2>&1
check_eq "aiccud -n refuses two default routes of one metric" 1 $?
cat "$TMP/n.out" | sed 's/^/     /'
check "the message names the second file and line, the first file and the key" \
	grep -Eq "sixxs1\.conf:[0-9]+: .*sixxs0\.conf:[0-9]+.*default_route_metric" "$TMP/n.out"

# sixxs0 at metric 100, sixxs1 without a default route.
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0 default_route=yes default_route_metric=100
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1
check "aiccud -n accepts one default route with a metric" \
	lab_in "$NS_CLI" "$AICCUD" -n -f "$TMP/aiccud.conf"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
PID=$LAB_AICCUD_PID
both_up() { is_up sixxs0 && is_up sixxs1; }
lab_wait 20 both_up || { cat "$TMP/aiccud.log"; fail_now "both tunnels come up"; }
check "both tunnels come up" both_up
main_defaults | sed 's/^/     main: /'
check_eq "the main table has sixxs0's default route: MTU 1280, metric 100, protocol 157" \
	"default dev sixxs0 proto 157 metric 100 mtu 1280 pref medium" "$(ours)"
check "the lab's default route is still there" isp_default
check "the kernel sends to the Internet host via sixxs0" \
	bash -c "ip -n '$NS_CLI' -6 route get 2001:db8:eeee::2 | grep -q 'dev sixxs0'"
check "ping the Internet host without naming a source (through the tunnel)" \
	lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 2001:db8:eeee::2

# Deleted behind aiccud's back: restored (self-healing), the lab's untouched.
ip -n "$NS_CLI" -6 route del default dev sixxs0 metric 100
restored() { [ "$(ours)" = "default dev sixxs0 proto 157 metric 100 mtu 1280 pref medium" ]; }
check "a deleted main-table default route is restored" lab_wait 5 restored
check "... and the lab's default route is untouched" isp_default

# Stop removes exactly that route; start puts it back.
ctl stop sixxs0 >/dev/null 2>&1
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "aiccuctl stop sixxs0: no aiccud default route in main" "" "$(ours)"
check "... and the lab's default route is untouched" isp_default
check_eq "... and nothing else in main changed" 1 "$(main_defaults | wc -l)"
ctl start sixxs0 >/dev/null 2>&1
check "sixxs0 comes up again" lab_wait 20 is_up sixxs0
check_eq "its main-table default route is back" \
	"default dev sixxs0 proto 157 metric 100 mtu 1280 pref medium" "$(ours)"

# sixxs1 asks for the default route at the kernel's metric 1024, which the
# lab's own default route has: refused, the lab's route left alone.
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1 default_route=yes
ctl reload >/dev/null 2>&1
check "sixxs1 fails: the main table has a default route of that metric" \
	lab_wait 20 bash -c "ip netns exec '$NS_CLI' '$AICCUCTL' -s '$TMP/run/aiccud.sock' status sixxs1 --json | grep -q 'default_route_metric'"
echo "     sixxs1: $(field sixxs1 reason)"
check "the lab's default route is still the ISP's" isp_default
check_eq "sixxs1 left no route in main" "" "$(main_defaults | grep 'dev sixxs1')"
check_eq "sixxs1 left no rule" 0 "$(ip -N -n "$NS_CLI" -6 rule show | grep -c 'from 2001:db8:b::2 ')"
check_eq "sixxs0's default route is still there" \
	"default dev sixxs0 proto 157 metric 100 mtu 1280 pref medium" "$(ours)"

# aiccud's exit removes its default route, only its own.
lab_kill TERM "$PID"
check "aiccud exits on SIGTERM" lab_wait 20 gone "$PID"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no aiccud default route is left in main" "" "$(ours)"
check "the lab's default route is still there" isp_default
finish
