#!/bin/bash
# Self-healing (issue 5, item 4): objects deleted behind aiccud's back are
# restored within a second.  aiccud's own notification-to-repair times (its
# log, its clock) are asserted under 1000 ms.  For each break the time from
# the deletion to the first look that finds the object back is also
# measured by the test and printed; that one includes the test's own
# polling (an `ip` per look) on a shared 2-core machine, so it gets a 5 s
# margin: a repair that does not happen at all still fails (timeout).
#
#   test_heal.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin heal "$1" "$2"

both_up() { is_up sixxs0 && is_up sixxs1; }
CLI() { ip -n "$NS_CLI" -6 "$@"; }
# numeric (ip -N): "proto 157" even where rt_protos.d names it "aiccud"
CLIN() { ip -N -n "$NS_CLI" -6 "$@"; }
has_rule() { CLIN rule show | grep 'proto 157' | grep -q "from 2001:db8:a::2 lookup 200"; }
has_route() { CLI route show table 200 proto 157 | grep -q "default dev sixxs0.*mtu 1280"; }
has_addr() { CLI addr show dev sixxs0 | grep -q "inet6 2001:db8:a::2/64"; }
has_local() { CLI route show table local | grep -q "^local 2001:db8:a::2 dev sixxs0"; }
export -f has_rule has_route has_addr has_local CLI CLIN
export NS_CLI
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:a::2; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_client_conf "$TMP" "$HERE/../../conf.d"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
check "both tunnels come up" lab_wait 15 both_up
check "everything in place before the breaks" bash -c 'has_rule && has_route && has_addr && has_local'
pid0=$(field sixxs0 pid)

TIMES=()
# heal NAME CHECK BREAK...: break, measure, assert, ping.
heal() {
	local name=$1 check=$2 ms
	shift 2
	ms=$(lab_restore_ms "$check" "$@")
	echo "     $name: restored after $ms ms (measured by the test)"
	TIMES+=("$name=${ms}ms")
	check "$name is restored" test "$ms" != timeout -a "$ms" != break-failed
	if [[ "$ms" =~ ^[0-9]+$ ]]; then
		check "$name is restored in under 5000 ms as the test sees it ($ms ms)" test "$ms" -lt 5000
	fi
	check "ping through sixxs0 after the $name repair" pings
}

heal "source rule" has_rule ip -6 rule del from 2001:db8:a::2 table 200 priority 1000
check_eq "exactly one aiccud rule for sixxs0" 1 "$(lab_rules_for 2001:db8:a::2)"
heal "table 200 route" has_route ip -6 route flush table 200
check_eq "exactly one route in table 200" 1 "$(CLI route show table 200 | wc -l)"
heal "tunnel address" 'has_addr && has_local' ip -6 addr del 2001:db8:a::2/64 dev sixxs0
heal "local route" has_local ip -6 route del local 2001:db8:a::2 table local
check "the address is still there after the local-route repair" has_addr
# Both at once, on the other tunnel too.
heal "rules of both tunnels" \
	'has_rule && ip -n $NS_CLI -6 rule show | grep -q "from 2001:db8:b::2 lookup 201"' \
	sh -c 'ip -6 rule del from 2001:db8:a::2 table 200 && ip -6 rule del from 2001:db8:b::2 table 201'
check_eq "exactly one aiccud rule for sixxs1" 1 "$(lab_rules_for 2001:db8:b::2)"
# The link itself, set down: the worker sets it up again, its address and
# the table's route (gone with the link's down) come back too.
has_link_up() { CLI link show dev sixxs0 | grep -q '[<,]UP[,>]'; }
export -f has_link_up
heal "link up" 'has_link_up && has_addr && has_route' ip link set sixxs0 down

# The daemon's own view: log lines with its measured times, and status.
# (Counted per kind: "ip route flush" may delete a route aiccud already put
# back, which is then restored twice.)
logged() { grep "went missing; restored" "$TMP/aiccud.log" | grep -c -- "$1"; }
link_logged() { [ "$(logged "sixxs0: link sixxs0 up")" -ge 1 ]; }
check "the worker set its link up again (logged)" lab_wait 5 link_logged
grep "went missing; restored" "$TMP/aiccud.log" | sed 's/^/     aiccud: /'
for kind in "sixxs0: rule from 2001:db8:a::2" "sixxs0: default route of table 200" \
	"sixxs0: address 2001:db8:a::2/64" "sixxs0: local route of 2001:db8:a::2" \
	"sixxs1: rule from 2001:db8:b::2" "sixxs0: link sixxs0 up"; do
	check "aiccud logged the repair: $kind" test "$(logged "$kind")" -ge 1
done
repairs0=$(logged "sixxs0: ")
worst=$(grep -o "restored [0-9.]* ms" "$TMP/aiccud.log" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
echo "     aiccud: slowest notification-to-repair time $worst ms"
check "aiccud's own repair times are under 1000 ms" awk "BEGIN { exit !($worst < 1000) }"
# Status counts them (the field must be there: a missing one is a failure).
check_eq "status counts sixxs1's repairs" 1 "$(field sixxs1 repairs)"
check_eq "status counts sixxs0's repairs as logged" "$repairs0" "$(field sixxs0 repairs)"
check_eq "no worker was restarted for a repair" "$pid0" "$(field sixxs0 pid)"
check "sixxs1 still answers" lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::2

# sync_repair: break sixxs0's rule and wait for aiccud to restore it, so
# that every event before has been handled (a bound, not a sleep).
repairs_above() { [ "$(field sixxs0 repairs)" -gt "$1" ]; }
sync_repair() {
	local n
	n=$(field sixxs0 repairs)
	CLI rule del from 2001:db8:a::2 table 200 priority 1000 && lab_wait 5 repairs_above "$n"
}
# A repair restores only aiccud's objects: someone else's rule stays as it is.
CLI rule add from 2001:db8:a::2 table 300 priority 900
check "aiccud handled the events since (a repair of its own rule)" sync_repair
check_eq "a foreign rule is left alone" 1 "$(CLI rule show | grep -c 'lookup 300')"
CLI rule del from 2001:db8:a::2 table 300 priority 900

# A tunnel that is stopped is not "repaired".
check "stop sixxs1" ctl stop sixxs1
check "aiccud handled the events since (a repair of its own rule)" sync_repair
check_eq "no rule comes back for a stopped tunnel" 0 "$(lab_rules_for 2001:db8:b::2)"

lab_kill TERM "$AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $AICCUD_PID"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no aiccud rule left" "" "$(CLIN rule show | grep 'proto 157')"
check_eq "no aiccud route left" "" "$(CLI route show table all proto 157)"
check "no sixxs link left" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "measured repair times: ${TIMES[*]}"
echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
