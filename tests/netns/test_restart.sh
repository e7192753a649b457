#!/bin/bash
# Restarts (issue 5, items 1 to 3 and 6):
#  - kill -9 of a worker: the tunnel is up again within the back-off, its
#    routing intact, without a TIC connection (the restart uses the cache);
#  - liveness = icmp: the PoP stops answering, the worker reports it by
#    exiting and is restarted under back-off; the PoP is back, so is the tunnel;
#  - kill -9 of aiccud, then a fresh start with one tunnel removed from the
#    configuration: one rule per tunnel, leftovers (a duplicate rule, a
#    removed tunnel's rule, a foreign table with its link) gone;
#  - SIGTERM leaves no aiccud rule, route or link.
#
#   test_restart.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"
SIM=$HERE/../sim

lab_test_begin restart "$1" "$2"

both_up() { is_up sixxs0 && is_up sixxs1; }
tic_connections() { grep -c '"event": "connect"' "$TMP/tic.log"; }
CLI() { ip -n "$NS_CLI" -6 "$@"; }
# numeric (ip -N): "proto 157" even where rt_protos.d names it "aiccud"
CLIN() { ip -N -n "$NS_CLI" -6 "$@"; }
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "$1"; }
routing_intact() {
	[ "$(lab_rules_for 2001:db8:a::2)" = 1 ] &&
		CLI route show table 200 proto 157 | grep -q "default dev sixxs0.*mtu 1280"
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"

# The TIC server knows sixxs0's tunnel (the PoP's T10001).  sixxs1 is a
# file tunnel with a 1 s heartbeat and liveness = icmp: its probe runs
# every second (TIC's Heartbeat_Interval must be 10 s or more).
sh "$SIM/mkca.sh" "$TMP/pki" >/dev/null 2>&1 || fail_now "test CA"
cat >"$TMP/accounts.json" <<'EOF2'
{"accounts": [{"username": "ABC1-SIXXS", "password": "sim-password", "tunnels": [
  {"TunnelId": "T10001", "Type": "ayiya", "IPv6 Endpoint": "2001:db8:a::2",
   "IPv6 POP": "2001:db8:a::1", "IPv6 PrefixLength": 64, "POP Id": "simpop01",
   "IPv4 Endpoint": "heartbeat", "IPv4 POP": "192.0.2.1", "UserState": "enabled",
   "AdminState": "enabled", "Password": "demo-secret-sixxs0", "Heartbeat_Interval": 10,
   "Tunnel MTU": 1280}]}],
 "pops": [{"POPId": "simpop01", "IPv4": "192.0.2.1"}]}
EOF2
ip netns exec "$NS_POP" python3 "$SIM/tic.py" --listen 192.0.2.1 --accounts "$TMP/accounts.json" \
	--cert "$TMP/pki/server.pem" --key "$TMP/pki/server-key.pem" --log "$TMP/tic.log" \
	--pidfile "$TMP/tic.pid" 2>>"$TMP/tic.err" &
LAB_PIDS+=("$!")
lab_wait 10 test -s "$TMP/tic.pid" || { cat "$TMP/tic.err"; fail_now "TIC simulator"; }

lab_daemon_conf "$TMP"
cat >>"$TMP/aiccud.conf" <<'EOF2'
[limiter]
refill = 20
EOF2
cat >"$TMP/conf.d/sixxs0.conf" <<EOF2
[tunnel]
interface = sixxs0
id = T10001
table = 200
rule_priority = 1000
[tic]
server = 192.0.2.1
username = ABC1-SIXXS
password = sim-password
ca_file = $TMP/pki/ca.pem
EOF2
chmod 600 "$TMP/conf.d/sixxs0.conf"
LAB_HEARTBEAT=1 lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1 liveness=icmp liveness_misses=3

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
lab_wait 45 both_up || { cat "$TMP/aiccud.log"; fail_now "both tunnels come up (sixxs0 over TIC)"; }
check "both tunnels come up (sixxs0 over TIC, after a limiter token)" both_up
C0=$(tic_connections)
check_eq "one TIC connection so far" 1 "$C0"
check "ping through sixxs0" pings 2001:db8:a::2

# ---- kill -9 of a worker ----
pid1=$(field sixxs1 pid)
# Up again = a new link with aiccud's routing on it (installed just before
# status says "up"); polled with ip alone, so the time is aiccud's, not the poll's.
ifindex_of() { ip -n "$NS_CLI" -o link show "$1" 2>/dev/null | cut -d: -f1; }
for round in 1 2; do
	pid0=$(field sixxs0 pid)
	idx0=$(ifindex_of sixxs0)
	lab_kill KILL "$pid0"
	t0=$(lab_now_ms)
	relinked() {
		local i
		i=$(ifindex_of sixxs0)
		[ -n "$i" ] && [ "$i" != "$idx0" ] && routing_intact
	}
	lab_wait 10 relinked
	ms=$(($(lab_now_ms) - t0))
	bound=$(((1 << (round - 1)) * 1000 + 1000))
	echo "     kill -9 round $round: link and routing back after $ms ms (back-off at most $((1 << (round - 1))) s)"
	check "round $round: back within the back-off plus 1 s ($ms ms < $bound ms)" test "$ms" -lt "$bound"
	check "round $round: status says up, with a new worker" \
		sh -c "[ '$(field sixxs0 state)' = up ] && [ '$(field sixxs0 pid)' != '$pid0' ]"
	check "round $round: routing intact (one rule, table route with MTU)" routing_intact
	check "round $round: ping through sixxs0" pings 2001:db8:a::2
	check_eq "round $round: no TIC connection for the restart" "$C0" "$(tic_connections)"
done
check "the log names the kill" grep -q "worker killed by signal 9" "$TMP/aiccud.log"
check "the log shows the growing back-off (failure 2 in a row)" grep -q "failure 2 in a row" "$TMP/aiccud.log"
restarts=$(field sixxs0 restarts)
[ -n "$restarts" ] && check_eq "status counts 2 restarts" 2 "$restarts"
check_eq "sixxs1's worker was not touched" "$pid1" "$(field sixxs1 pid)"

# ---- liveness: the PoP goes away, then comes back ----
pid1=$(field sixxs1 pid)
pid0=$(field sixxs0 pid)
lab_kill TERM "$LAB_POP_PID"
lab_wait 5 sh -c "! kill -0 $LAB_POP_PID"
t0=$(lab_now_ms)
check "liveness: sixxs1's worker reports the PoP dead after 3 misses" \
	lab_wait 15 grep -q "sixxs1: liveness: the PoP did not answer 3 probe(s) in a row" "$TMP/aiccud.log"
echo "     liveness: the dead PoP was noticed after $(($(lab_now_ms) - t0)) ms"
new_worker() { [ -n "$(field sixxs1 pid)" ] && [ "$(field sixxs1 pid)" != "$pid1" ]; }
check "liveness: sixxs1 gets a new worker (restart under back-off)" lab_wait 10 new_worker
check_eq "liveness: sixxs0 (no probe) keeps its worker" "$pid0" "$(field sixxs0 pid)"
lab_pop_start "$TMP" || fail_now "PoP simulator restart"
pop_ok() { is_up sixxs1 && pings 2001:db8:b::2; }
check "liveness: the PoP is back, so is sixxs1" lab_wait 40 pop_ok
check_eq "liveness: exactly one rule for sixxs1" 1 "$(lab_rules_for 2001:db8:b::2)"
# The new PoP learns sixxs0's address from its next keep-alive (every 10 s).
check "liveness: sixxs0 works again too" lab_wait 15 pings 2001:db8:a::2
check_eq "liveness: no TIC connection for any of it" "$C0" "$(tic_connections)"

# ---- kill -9 of aiccud, then a fresh start ----
lab_kill KILL "$AICCUD_PID"
lab_wait 5 sh -c "! kill -0 $AICCUD_PID"
check "the workers leave with their parent (their links go)" \
	lab_wait 10 sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
check_eq "aiccud's rules are left behind" 2 "$(CLIN rule show | grep -c 'proto 157')"
# More leftovers: a rule of sixxs0's table from an old address, and a
# removed tunnel's rule, table and link.
CLI rule add from 2001:db8:a::77 table 200 priority 1000 proto 157
ip -n "$NS_CLI" link add sixxs9 type veth peer name sixxs9p
ip -n "$NS_CLI" link set sixxs9 up
CLI route add default dev sixxs9 table 209 proto 157
CLI rule add from 2001:db8:99::2 table 209 priority 1009 proto 157
rm "$TMP/conf.d/sixxs1.conf" # sixxs1 is no longer configured
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
check "fresh start: sixxs0 comes up" lab_wait 15 is_up sixxs0
# No wait needed: reconciliation runs before any tunnel starts, and the
# stale-rule pruning before a tunnel reports up.
check_eq "fresh start: exactly one rule for sixxs0" 1 "$(lab_rules_for 2001:db8:a::2)"
check_eq "fresh start: the rule from sixxs0's old address is gone" 0 "$(lab_rules_for 2001:db8:a::77)"
check_eq "fresh start: the removed sixxs1's rule is gone" 0 "$(lab_rules_for 2001:db8:b::2)"
check_eq "fresh start: the leftover rule of table 209 is gone" 0 "$(lab_rules_for 2001:db8:99::2)"
check_eq "fresh start: aiccud rules in all" 1 "$(CLIN rule show | grep -c 'proto 157')"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "fresh start: table 209 is empty" "" "$(CLI route show table 209)"
check "fresh start: the leftover link sixxs9 is gone" sh -c "! ip -n $NS_CLI link show sixxs9"
check "fresh start: routing of sixxs0 intact" routing_intact
check "fresh start: ping through sixxs0" pings 2001:db8:a::2
check_eq "fresh start: the cache served, no TIC connection" "$C0" "$(tic_connections)"
grep -E "adopted|removed .* left by|reconcile" "$TMP/aiccud.log" | sed 's/^/     /'

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
