#!/bin/bash
# Issue 22, item 10: autostart = no (AICCU's "automatic false").  The
# tunnel is loaded but the daemon does not start it, at start-up or when
# its file is new on reload; status shows it stopped and why; `aiccuctl
# start` brings it up.  A tunnel without the key starts as before.
#
#   test_autostart.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin autostart "$1" "$2"

has_link() { ip -n "$NS_CLI" link show "$1" >/dev/null 2>&1; }
no_link() { ! has_link "$1"; }
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "$1"; }

lab_up || fail_now "lab set-up"
lab_pop_tunnels_n 3 >"$TMP/pop3.json"
lab_pop_start "$TMP" "$TMP/pop3.json" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1 autostart=no
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"

echo "# at start-up"
# sixxs0 up means the start-up loop has run for both tunnels.
check "sixxs0 (no autostart key) comes up" lab_wait 15 is_up sixxs0
check_eq "sixxs1 (autostart = no) is stopped" stopped "$(field sixxs1 state)"
check "its reason says it was not autostarted and how to start it" \
	grep -q "not autostarted (autostart = no): start it with aiccuctl start sixxs1" \
	<<<"$(field sixxs1 reason)"
check_eq "status --json: autostart false" false "$(field sixxs1 autostart)"
check "text status says so too" grep -q "sixxs1: stopped: not autostarted" <<<"$(ctl status 2>&1)"
check "no worker for it" test -z "$(field sixxs1 pid | tr -d '0')"
check "no link sixxs1" no_link sixxs1
check_eq "no rule for its address" 0 "$(lab_rules_for 2001:db8:b::2)"
check "the log says why it is stopped" grep -q "sixxs1: autostart = no" "$TMP/aiccud.log"

echo "# aiccuctl start"
out=$(ctl start sixxs1 2>&1)
check_eq "aiccuctl start sixxs1: exit 0" 0 "$?"
check "sixxs1 is up" lab_wait 15 is_up sixxs1
check "link sixxs1 exists" has_link sixxs1
check_eq "one rule for its address" 1 "$(lab_rules_for 2001:db8:b::2)"
check "ping through sixxs1" pings 2001:db8:b::2

echo "# reload: a new file with autostart = no is loaded, not started"
pid0=$(field sixxs0 pid)
pid1=$(field sixxs1 pid)
lab_tunnel_file "$TMP/conf.d/sixxs2.conf" 2 autostart=no
out=$(ctl reload 2>&1)
check_eq "aiccuctl reload: exit 0" 0 "$?"
check "the reload added it" grep -q "1 added" <<<"$out"
check_eq "sixxs2 is stopped" stopped "$(field sixxs2 state)"
check "and says why" grep -q "not autostarted" <<<"$(field sixxs2 reason)"
check "no link sixxs2" no_link sixxs2
check_eq "sixxs0 untouched" "$pid0" "$(field sixxs0 pid)"
check_eq "sixxs1 (started by hand) keeps running" "$pid1" "$(field sixxs1 pid)"
out=$(ctl start sixxs2 2>&1)
check_eq "aiccuctl start sixxs2: exit 0" 0 "$?"
check "sixxs2 is up" lab_wait 15 is_up sixxs2
check "ping through sixxs2" pings 2001:db8:c::2
finish
