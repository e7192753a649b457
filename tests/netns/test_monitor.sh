#!/bin/bash
# aiccuctl monitor against aiccud and the simulated broker: the events of a
# state change (stop/start), a repair (a rule deleted behind aiccud's back)
# and a reload (a tunnel file with an error: file:line) appear as human and
# as JSON lines; both monitors end by themselves, exit 0, when aiccud stops;
# with aiccud down, monitor says so and exits 3 like status.  And the
# control tiers: readonly_group may read (status, limiter, metrics, monitor) and is
# refused stop; control_group may do both; anyone else gets nothing.
#
#   test_monitor.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin monitor "$1" "$2"
# Others must reach the socket's directory.  Background processes run by
# "ip netns exec" itself (not lab_in, a function): $! is then their own PID.
chmod 755 "$TMP"
# Groups that exist on Debian: nogroup (65534) controls, users (100) reads;
# daemon (1) is neither.  The peers run as uid 65534 (nobody).
CGROUP=nogroup
RGROUP=users
CGID=$(getent group "$CGROUP" | cut -d: -f3)
RGID=$(getent group "$RGROUP" | cut -d: -f3)
OGID=$(getent group daemon | cut -d: -f3)
[ -n "$CGID" ] && [ -n "$RGID" ] && [ -n "$OGID" ] || fail_now "groups nogroup, users, daemon"
# as GID -- aiccuctl ARGS: aiccuctl as nobody with that group only
as() {
	local gid=$1
	shift 2
	lab_in "$NS_CLI" setpriv --reuid=65534 --regid="$gid" --clear-groups \
		"$AICCUCTL" -s "$SOCK" "$@"
}
has() { grep -Eq -- "$2" "$1"; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_client_conf "$TMP" "$HERE/../../conf.d"
sed -i "s|^\[daemon\]|[daemon]\ncontrol_group = $CGROUP\nreadonly_group = $RGROUP|" "$TMP/aiccud.conf"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
both_up() { is_up sixxs0 && is_up sixxs1; }
check "both tunnels come up" lab_wait 20 both_up

echo "--- monitors"
MON=$TMP/monitor.txt
MONJ=$TMP/monitor.json
ip netns exec "$NS_CLI" "$AICCUCTL" -s "$SOCK" monitor >"$MON" 2>"$TMP/monitor.err" &
MON_PID=$!
LAB_PIDS+=("$MON_PID")
ip netns exec "$NS_CLI" "$AICCUCTL" -s "$SOCK" monitor --json >"$MONJ" 2>"$TMP/monitorj.err" &
MONJ_PID=$!
LAB_PIDS+=("$MONJ_PID")
check "monitor: subscribed (its first line)" lab_wait 10 has "$MON" ' daemon: monitoring aiccud '
check "monitor --json: subscribed" lab_wait 10 has "$MONJ" '"event":"daemon"'

echo "--- tiers"
check_eq "socket is 0666 with a read-only group" 666 "$(stat -c %a "$SOCK")"
as "$RGID" -- status >/dev/null 2>&1
check_eq "read-only group: status (exit 0, all up)" 0 $?
as "$RGID" -- limiter >/dev/null 2>&1
check_eq "read-only group: limiter" 0 $?
out=$(as "$RGID" -- metrics 2>&1)
check_eq "read-only group: metrics" 0 $?
check "... with aiccud up" grep -qx 'aiccud_daemon_up 1' <<<"$out"
out=$(as "$RGID" -- -t 1 monitor 2>&1)
rc=$?
check_eq "read-only group: monitor -t 1 ends with exit 0" 0 $rc
check "... after its first line" grep -q ' daemon: monitoring aiccud ' <<<"$out"
out=$(as "$RGID" -- stop sixxs1 2>&1)
check_eq "read-only group: stop is refused (exit 5)" 5 $?
echo "$out"
check "... saying it needs the control group" grep -q "'stop' needs root or the control group $CGROUP" <<<"$out"
check_eq "... and sixxs1 is still up" up "$(field sixxs1 state)"
out=$(as "$OGID" -- status 2>&1)
check_eq "neither group: status is refused (exit 5)" 5 $?
echo "$out"
check "... permission denied, naming both groups" grep -q "permission denied: .*control group $CGROUP and the read-only group $RGROUP" <<<"$out"
as "$OGID" -- monitor -t 2 >"$TMP/other.out" 2>&1
check_eq "neither group: monitor is refused (exit 5)" 5 $?
check "... and shows no event" test "$(grep -c ' daemon: ' "$TMP/other.out")" = 0
as "$CGID" -- status >/dev/null 2>&1
check_eq "control group: status" 0 $?

echo "--- completion's tunnel names, from this aiccud"
check_eq "aiccuctl --tunnel-names" "sixxs0 sixxs1" "$(ctl --tunnel-names | tr '\n' ' ' | sed 's/ $//')"
check_eq "... for the read-only group too" "sixxs0 sixxs1" \
	"$(as "$RGID" -- --tunnel-names | tr '\n' ' ' | sed 's/ $//')"

echo "--- a state change (stop and start by the control group)"
as "$CGID" -- stop sixxs1 >/dev/null 2>&1
check_eq "control group: stop sixxs1" 0 $?
as "$CGID" -- start sixxs1 >/dev/null 2>&1
check_eq "control group: start sixxs1" 0 $?
check "monitor: sixxs1 up -> stopping" lab_wait 10 has "$MON" ' state sixxs1: up -> stopping'
check "monitor: sixxs1 stopping -> stopped" lab_wait 10 has "$MON" ' state sixxs1: stopping -> stopped'
check "monitor: sixxs1 starting -> up" lab_wait 10 has "$MON" ' state sixxs1: starting -> up'
check "monitor: human lines start with a clock" has "$MON" '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} state sixxs1: '

echo "--- a repair"
lab_in "$NS_CLI" ip -6 rule del from 2001:db8:a::2 table 200 priority 1000
check "rule deleted" test $? = 0
check "monitor: sixxs0's rule restored" lab_wait 10 has "$MON" ' repair sixxs0: rule from 2001:db8:a::2 lookup 200 \(priority 1000\) went missing; restored'

echo "--- a reload with a broken new tunnel file"
printf '[tunnel]\ninterface = sixxs8\nbogus_key = 1\n' >"$TMP/conf.d/sixxs8.conf"
chmod 600 "$TMP/conf.d/sixxs8.conf"
ctl reload >/dev/null 2>&1
check "monitor: the reload's problem with file:line" lab_wait 10 has "$MON" " reload: problem: $TMP/conf.d/sixxs8.conf:3: "
check "monitor: the reload's outcome" lab_wait 10 has "$MON" ' reload: [^p]'
rm -f "$TMP/conf.d/sixxs8.conf"

echo "--- JSON"
check "monitor --json: the repair" lab_wait 10 has "$MONJ" '"event":"repair"'
check "monitor --json: the reload" lab_wait 10 has "$MONJ" '"event":"reload"'
check "monitor --json: every line is a JSON object with event and time" python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and isinstance(o["event"], str) and isinstance(o["time"], float)
    n += 1
assert n >= 6, n' "$MONJ"
check "monitor --json: sixxs1 came up (state, from)" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert any(e["event"] == "state" and e.get("tunnel") == "sixxs1" and e["from"] == "starting"
           and e["state"] == "up" for e in ev)' "$MONJ"

echo "--- limits: 16 monitors, 4 per non-root uid"
# Two monitors run already (MON, MONJ).
out=$(lab_in "$NS_CLI" python3 "$HERE/monitor_clients.py" many "$SOCK" 16)
echo "$out"
check "root: 14 more monitors subscribed (16 in all)" grep -qx 'subscribed 14' <<<"$out"
check "... the 17th is refused" grep -q '^refused: 16 monitors are connected already (at most 16)' <<<"$out"
monitors() { [ "$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["monitors"])')" = "$1" ]; }
check "status --json: the 14 are gone when their client exits (2 left)" lab_wait 10 monitors 2
# (the system python: a root-only python on PATH would not run as nobody)
out=$(lab_in "$NS_CLI" setpriv --reuid=65534 --regid="$RGID" --clear-groups \
	/usr/bin/python3 "$HERE/monitor_clients.py" many "$SOCK" 5 2>&1)
echo "$out"
check "read-only user: 4 monitors subscribed" grep -qx 'subscribed 4' <<<"$out"
check "... the 5th is refused" grep -q '^refused: uid 65534 has 4 monitors connected already (at most 4 each)' <<<"$out"

echo "--- a monitor that does not read is dropped, once, and blocks nothing"
ip netns exec "$NS_CLI" python3 "$HERE/monitor_clients.py" stall "$SOCK" >"$TMP/stall.out" &
STALL_PID=$!
LAB_PIDS+=("$STALL_PID")
check "the stalling monitor subscribed" lab_wait 10 grep -q subscribed "$TMP/stall.out"
# A tunnel file with many errors: each reload publishes one event per error.
{
	printf '[tunnel]\ninterface = sixxs7\n'
	for i in $(seq 60); do printf 'bogus_key_%02d = 1\n' "$i"; done
} >"$TMP/conf.d/sixxs7.conf"
chmod 600 "$TMP/conf.d/sixxs7.conf"
dropped() { grep -q 'does not read its events' "$TMP/aiccud.log"; }
reloads=0
while ! dropped && [ $reloads -lt 60 ]; do
	ctl reload >/dev/null 2>&1
	reloads=$((reloads + 1))
done
echo "# $reloads reload(s) of $(wc -c <"$MONJ") bytes of JSON events so far"
check "the stalled monitor is dropped (logged)" dropped
ctl reload >/dev/null 2>&1
reloads=$((reloads + 1))
check_eq "... logged once" 1 "$(grep -c 'does not read its events' "$TMP/aiccud.log")"
check "the reading monitor got every reload's outcome" lab_wait 10 sh -c \
	"[ \$(grep -c ' reload: reloaded: ' '$MON') -ge $((reloads + 1)) ]"
check "aiccud answers status meanwhile" lab_in "$NS_CLI" "$AICCUCTL" -s "$SOCK" -t 5 status sixxs0
rm -f "$TMP/conf.d/sixxs7.conf"
kill "$STALL_PID" 2>/dev/null
wait "$STALL_PID" 2>/dev/null

echo "--- aiccud stops: the monitors end by themselves"
kill -TERM "$AICCUD_PID"
ended() { ! kill -0 "$MON_PID" 2>/dev/null && ! kill -0 "$MONJ_PID" 2>/dev/null; }
check "both monitors end within 20 s of SIGTERM" lab_wait 20 ended
wait "$MON_PID"
check_eq "monitor: exit 0" 0 $?
wait "$MONJ_PID"
check_eq "monitor --json: exit 0" 0 $?
check "monitor: its last line says aiccud stopped" has "$(tail -n 1 "$MON" >"$TMP/last"; echo "$TMP/last")" ' daemon: aiccud stopped$'
check "monitor: nothing on stderr" test ! -s "$TMP/monitor.err"
check "monitor --json: nothing on stderr" test ! -s "$TMP/monitorj.err"
lab_wait 20 sh -c "! kill -0 $AICCUD_PID" || fail_now "aiccud did not stop"
wait "$AICCUD_PID" 2>/dev/null

echo "--- aiccud not running"
ctl monitor >/dev/null 2>"$TMP/down.err"
check_eq "monitor with aiccud down: exit 3 (as status)" 3 $?
check "... saying aiccud is not running" grep -q 'aiccud is not running' "$TMP/down.err"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "--- monitor output"
cat "$MON"
finish
