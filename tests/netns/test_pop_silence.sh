#!/bin/bash
# Issue 22, item 3: liveness of the PoP.
#  - status shows when the last packet came from the PoP (a live PoP
#    answers the worker's echoes when there is no other traffic);
#  - the PoP simulator killed: the tunnel shows "up, PoP silent" within
#    pop_silence and its worker is restarted with back-off; the PoP back,
#    the tunnel works again;
#  - the tunnel password changed at the PoP: status and the log say
#    "password changed? try aiccuctl refresh";
#  - aiccuctl monitor shows the PoP silent, the restart, and (a PoP paused
#    past half of pop_silence, then going on) the PoP heard again.
#
#   test_pop_silence.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin popsilence "$1" "$2"
SILENCE=12
HINT="the PoP refuses our signature or we refuse its: password changed? try aiccuctl refresh"

counter() { # TUNNEL KEY: one of the tunnel's counters
	ctl status "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnels"][0]["counters"][sys.argv[1]])' "$2"
}
heard_within() { # TUNNEL SECONDS: a packet from the PoP no longer ago than that
	local at
	at=$(counter "$1" last_rx) || return 1
	[ "$at" -gt 0 ] && [ $(($(date +%s) - at)) -le "$2" ]
}
silent() { [ "$(field sixxs0 pop_silent_s)" -gt 0 ] 2>/dev/null; }
restarted() { [ "$(field sixxs0 restarts)" -gt 0 ] 2>/dev/null; }
both_up() { is_up sixxs0 && is_up sixxs1; }
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "$1"; }
pop_restart() { # [TUNNELS-JSON]
	lab_kill TERM "$LAB_POP_PID"
	lab_wait 5 sh -c "! kill -0 $LAB_POP_PID"
	rm -f "$TMP/pop.pid"
	lab_pop_start "$TMP" "$@"
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
# Heartbeats every 4 s: the worker's echo goes out in every quiet interval.
LAB_HEARTBEAT=4 lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0 pop_silence=$SILENCE
LAB_HEARTBEAT=4 lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 15 both_up || { tail -20 "$TMP/aiccud.log"; fail_now "both tunnels come up"; }
check "both tunnels come up" both_up
# aiccuctl monitor follows it all: the PoP's silence and return are events.
MON=$TMP/monitor.txt
ip netns exec "$NS_CLI" "$AICCUCTL" -s "$SOCK" monitor >"$MON" 2>&1 &
LAB_PIDS+=("$!")
mon_has() { grep -Eq -- "$1" "$MON"; }
lab_wait 10 mon_has ' daemon: monitoring aiccud ' || fail_now "aiccuctl monitor subscribed"

echo "# a live PoP"
check "status shows a packet from the PoP within a heartbeat interval" lab_wait 10 heard_within sixxs0 5
check "the human status has the FROM POP column" grep -q "FROM POP" <<<"$(ctl status)"
# An observation window, not a wait for something: nothing may happen in it.
not_restarted_for() { ! lab_wait "$1" restarted; }
check "a quiet, live PoP is not silent for longer than pop_silence (no restart)" \
	not_restarted_for $((SILENCE + 4))
check_absent "and was never restarted for silence" 'PoP silent' "$TMP/aiccud.log"
check "it still hears the PoP (its echoes are answered)" heard_within sixxs0 8

echo "# the PoP simulator is killed"
pid0=$(field sixxs0 pid)
lab_kill TERM "$LAB_POP_PID"
lab_wait 5 sh -c "! kill -0 $LAB_POP_PID"
t0=$(date +%s)
check "status shows sixxs0 silent within pop_silence ($SILENCE s)" lab_wait $SILENCE silent
echo "#   silent shown after $(($(date +%s) - t0)) s"
line=$(ctl status | grep '^sixxs0 ')
echo "#   $line"
check "the human status says 'up, PoP silent'" grep -q "up, PoP silent" <<<"$line"
check "the worker is restarted" lab_wait $((SILENCE + 6)) restarted
echo "#   restarted after $(($(date +%s) - t0)) s"
check "saying why" grep -q "PoP silent" <<<"$(field sixxs0 last_exit)"
check "with a new worker" test "$(field sixxs0 pid)" != "$pid0"
check "monitor: 'pop sixxs0: silent: nothing from the PoP'" mon_has ' pop sixxs0: silent: nothing from the PoP for [0-9]+ s'
check "monitor: 'silent for N s (pop_silence 12 s): restarting the worker'" \
	mon_has " pop sixxs0: silent for [0-9]+ s \(pop_silence $SILENCE s\): restarting the worker"
pop_restart || fail_now "PoP simulator restart"
check "the PoP is back: sixxs0 is up" lab_wait 20 is_up sixxs0
check "and carries traffic" lab_wait 15 pings 2001:db8:a::2
check "and hears the PoP" lab_wait 10 heard_within sixxs0 5

echo "# the PoP pauses (SIGSTOP) past half of pop_silence, then goes on"
n_back=$(grep -c ' pop sixxs0: back' "$MON")
n_silent=$(grep -c ' pop sixxs0: silent: ' "$MON")
silent_again() { [ "$(grep -c ' pop sixxs0: silent: ' "$MON")" -gt "$n_silent" ]; }
back_again() { [ "$(grep -c ' pop sixxs0: back' "$MON")" -gt "$n_back" ]; }
kill -STOP "$LAB_POP_PID"
t0=$(lab_now_ms)
check "monitor: sixxs0's PoP silent" lab_wait $SILENCE silent_again
kill -CONT "$LAB_POP_PID"
echo "#   silent event $(($(lab_now_ms) - t0)) ms after the PoP paused"
check "monitor: 'pop sixxs0: back: the PoP is heard again'" lab_wait $SILENCE back_again
echo "#   back event $(($(lab_now_ms) - t0)) ms after the PoP paused"

echo "# packets from the PoP signed with another password (changed at the broker)"
ctl stop sixxs0 >/dev/null # only sixxs1's datagrams from now on
R() { lab_in "$NS_POP" python3 "$HERE/ayiya_replay.py" "$@"; }
R capture isp0 "$TMP/cap.json" 20 2>"$TMP/cap.err" &
cap=$!
LAB_PIDS+=("$cap")
captured() { test -s "$TMP/cap.json" || { pings 2001:db8:b::2; false; }; }
lab_wait 20 captured
wait "$cap"
[ -s "$TMP/cap.json" ] || fail_now "no datagram of the PoP captured"
no_hint() { case "$(field sixxs1 reason)" in *"password changed"*) return 1 ;; esac; }
check "before: status has no hint" no_hint
R forge "$TMP/cap.json" changed-at-the-broker 0 5 201
hinted() { grep -qF "$HINT" <<<"$(field sixxs1 reason)"; }
check "status says: password changed? try aiccuctl refresh" lab_wait 10 hinted
check "and so does the log" grep -qF "$HINT" "$TMP/aiccud.log"
echo "#   sixxs1: $(field sixxs1 state): $(field sixxs1 reason)"
finish
