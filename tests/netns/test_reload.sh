#!/bin/bash
# Reload (issue 5, item 2): SIGHUP re-reads the configuration and applies
# only the difference.  Four tunnels: sixxs0 unchanged (its ping keeps
# answering during the reload, same worker, same link), sixxs1 changed
# (restarted on its new rule priority), sixxs2 removed (stopped, routing
# and link gone), sixxs3 added (started).  Then an unusable aiccud.conf
# and a broken file of a running tunnel change nothing.
#
#   test_reload.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin reload "$1" "$2"

lab_pop_tunnels() { lab_pop_tunnels_n 4; }
ifindex_of() { ip -n "$NS_CLI" -o link show "$1" 2>/dev/null | cut -d: -f1; }
CLI() { ip -n "$NS_CLI" -6 "$@"; }
# numeric (ip -N): "proto 157" even where rt_protos.d names it "aiccud"
CLIN() { ip -N -n "$NS_CLI" -6 "$@"; }
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "$1"; }
reloads() { grep -c "reloaded:" "$TMP/aiccud.log"; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
for i in 0 1 2; do lab_tunnel_file "$TMP/conf.d/sixxs$i.conf" "$i"; done
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
three_up() { is_up sixxs0 && is_up sixxs1 && is_up sixxs2; }
lab_wait 15 three_up || { cat "$TMP/aiccud.log"; fail_now "three tunnels come up"; }
check "three tunnels come up" three_up
check "ping through sixxs2 before the reload" pings 2001:db8:c::2
pid0=$(field sixxs0 pid) idx0=$(ifindex_of sixxs0) pid1=$(field sixxs1 pid)

# The new configuration: sixxs1 moves to priority 1011, sixxs2 goes, sixxs3 comes.
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1 rule_priority=1011
sed -i '/^rule_priority = 1001$/d' "$TMP/conf.d/sixxs1.conf"
rm "$TMP/conf.d/sixxs2.conf"
lab_tunnel_file "$TMP/conf.d/sixxs3.conf" 3

# 60 pings at 50 ms through sixxs0, the reload in the middle of them.
lab_in "$NS_NET" ping -6 -c 60 -i 0.05 -W 1 2001:db8:a::2 >"$TMP/ping.out" 2>&1 &
PING_PID=$!
sleep 1
lab_kill HUP "$AICCUD_PID"
wait "$PING_PID"
grep -E "packets transmitted" "$TMP/ping.out" | sed 's/^/     sixxs0 during the reload: /'
check "sixxs0's ping kept answering during the reload (60 of 60)" \
	grep -q "60 packets transmitted, 60 received" "$TMP/ping.out"
check "the reload is logged with its summary" lab_wait 5 \
	grep -q "reloaded: 1 added, 1 removed, 1 changed, 1 unchanged" "$TMP/aiccud.log"
grep "reloaded:" "$TMP/aiccud.log" | sed 's/^/     /'

four_ok() { is_up sixxs0 && is_up sixxs1 && is_up sixxs3; }
check "sixxs0, sixxs1 and sixxs3 are up" lab_wait 10 four_ok
check_eq "unchanged sixxs0: same worker" "$pid0" "$(field sixxs0 pid)"
check_eq "unchanged sixxs0: same link" "$idx0" "$(ifindex_of sixxs0)"
check_eq "unchanged sixxs0: one rule" 1 "$(lab_rules_for 2001:db8:a::2)"
check "changed sixxs1: a new worker" test "$(field sixxs1 pid)" != "$pid1"
check_eq "changed sixxs1: one rule" 1 "$(lab_rules_for 2001:db8:b::2)"
check "changed sixxs1: the rule is at priority 1011" \
	sh -c "ip -N -n $NS_CLI -6 rule show | grep -q '^1011:.*from 2001:db8:b::2 lookup 201 proto 157'"
check "changed sixxs1: ping" pings 2001:db8:b::2
check_eq "removed sixxs2: no rule" 0 "$(lab_rules_for 2001:db8:c::2)"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "removed sixxs2: table 202 is empty" "" "$(CLI route show table 202)"
check "removed sixxs2: its link is gone" sh -c "! ip -n $NS_CLI link show sixxs2 2>/dev/null"
ctl status sixxs2 >/dev/null 2>&1
check_eq "removed sixxs2: status does not know it (exit 4)" 4 $?
check "added sixxs3: ping" pings 2001:db8:d::2
check_eq "added sixxs3: one rule" 1 "$(lab_rules_for 2001:db8:d::2)"
check_eq "three aiccud rules in all" 3 "$(CLIN rule show | grep -c 'proto 157')"

# An unusable aiccud.conf: nothing changes.
pid3=$(field sixxs3 pid) pid1=$(field sixxs1 pid) n=$(reloads)
cp "$TMP/aiccud.conf" "$TMP/aiccud.conf.good"
echo "bogus_key = 1" >>"$TMP/aiccud.conf"
rm "$TMP/conf.d/sixxs3.conf" # would remove sixxs3, if the reload went ahead
lab_kill HUP "$AICCUD_PID"
check "an unusable aiccud.conf is refused, and the log says why" lab_wait 5 \
	grep -q "is not usable; still running on the previous configuration" "$TMP/aiccud.log"
grep "still running on the previous configuration" "$TMP/aiccud.log" | sed 's/^/     /'
check_eq "no reload happened" "$n" "$(reloads)"
check_eq "sixxs3 still runs, same worker" "$pid3" "$(field sixxs3 pid)"
check_eq "sixxs0 still runs, same worker" "$pid0" "$(field sixxs0 pid)"
cp "$TMP/aiccud.conf.good" "$TMP/aiccud.conf"

# A broken file of a running tunnel: it keeps running on what it has.
lab_tunnel_file "$TMP/conf.d/sixxs3.conf" 3 tabel=5
lab_kill HUP "$AICCUD_PID"
check "a broken tunnel file keeps its tunnel on the previous configuration" lab_wait 5 \
	grep -q "sixxs3: .*still running on its previous configuration" "$TMP/aiccud.log"
check_eq "sixxs3 still runs, same worker" "$pid3" "$(field sixxs3 pid)"
check_eq "sixxs1 untouched" "$pid1" "$(field sixxs1 pid)"
# Fixed again: nothing to do for anyone.
lab_tunnel_file "$TMP/conf.d/sixxs3.conf" 3
n=$(reloads)
lab_kill HUP "$AICCUD_PID"
check "reload with the file fixed: all unchanged" lab_wait 5 \
	grep -q "reloaded: 0 added, 0 removed, 0 changed, 3 unchanged" "$TMP/aiccud.log"
check_eq "sixxs3 still the same worker" "$pid3" "$(field sixxs3 pid)"

lab_kill TERM "$AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $AICCUD_PID"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no aiccud rule left" "" "$(CLIN rule show | grep 'proto 157')"
check_eq "no aiccud route left" "" "$(CLI route show table all proto 157)"
check "no sixxs link left" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
