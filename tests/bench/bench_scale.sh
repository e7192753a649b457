#!/bin/bash
# Scale benchmark: N AYIYA tunnels (tic = no) against the PoP simulator in a
# namespace lab.  Prints, each beside its goal at N = 1000:
#   time from aiccud's start to all N up          goal < 20 s
#   PSS of the parent, and per worker (mean, max)  goals <= 16 MiB, <= 700 KiB
#   idle CPU of aiccud and its workers over IDLE s goal < 2 % of one core
#   `aiccuctl status` latency (human and --json)   goal < 200 ms
#   a reload that adds N/2 to N/2 running: only the new ones start, a ping
#     through an unchanged tunnel is answered throughout
#   time from SIGTERM to exit                      goal < 3 s
#   what is left behind (rules, routes, links, processes)
# and where the time of the set-up goes (the PoP simulator's own start).
#
#   bench_scale.sh AICCUD AICCUCTL [N] [IDLE_SECONDS]
#
# Root; only namespaces it creates, only documentation addresses.  On a
# shared machine the numbers are pessimistic: the run prints the load.
set -u
HERE=$(cd "$(dirname "$0")/../netns" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

AICCUD=$1
AICCUCTL=$2
N=${3:-${BENCH_N:-20}}
IDLE=${4:-${BENCH_IDLE:-30}}
HALF=$((N / 2))
TMP=$(mktemp -d /tmp/aiccud-bench.XXXXXX)
# BENCH_KEEP=FILE keeps aiccud's log there (to see where the time went)
trap 'lab_down; [ -n "${BENCH_KEEP:-}" ] && cp "$TMP/aiccud.log" "$BENCH_KEEP"; rm -rf "$TMP"' EXIT
SOCK=$TMP/run/aiccud.sock
# The PoP keeps one TUN per tunnel open, aiccud one socket per worker.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

ctl() { lab_in "$NS_CLI" "$AICCUCTL" -s "$SOCK" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { printf 'bench_scale: %-44s %s\n' "$1" "$2"; }

# tunnel i: sixxs<i>, 2001:db8:<10+i>::/64, table 1000+i, priority 2000+i
make_files() { # FIRST LAST
	python3 - "$TMP/conf.d" "$1" "$2" <<'PY'
import os, sys
d, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, last):
    p = os.path.join(d, "sixxs%d.conf" % i)
    with open(p, "w") as f:
        f.write("[tunnel]\ninterface = sixxs%d\nid = T%d\ntic = no\ntable = %d\n"
                "rule_priority = %d\n[params]\ntype = ayiya\nipv6_local = 2001:db8:%x::2\n"
                "ipv6_pop = 2001:db8:%x::1\nprefix_len = 64\nipv4_pop = 192.0.2.1\n"
                "password = demo-secret-sixxs%d\nheartbeat_interval = 60\nmtu = 1280\n"
                % (i, 10001 + i, 1000 + i, 2000 + i, 10 + i, 10 + i, i))
    os.chmod(p, 0o600)
PY
}
# counts STATE: how many tunnels status reports in STATE
count_state() {
	ctl status --json 2>/dev/null | python3 -c '
import json, sys
try:
    print(sum(t["state"] == sys.argv[1] for t in json.load(sys.stdin)["tunnels"]))
except Exception:
    print(0)' "$1"
}
all_up() { [ "$(count_state up)" -eq "$1" ]; }
# wait_for SECONDS CMD...: like lab_wait, polling every 0.5 s (a status of
# a thousand tunnels is not free; the poll must not be the load measured)
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}
count_tunnels() { ctl status --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tunnels"]))'; }
workers() { ps -o pid= --ppid "$AICCUD_PID" | tr -d ' '; }
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
ticks() { # PID...: utime+stime of the processes, in clock ticks
	local p sum=0 t
	for p in "$@"; do
		t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}
ping_tunnel() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 3 "$(printf '2001:db8:%x::2' $((10 + $1)))" >/dev/null; }
field_of() { # TUNNEL FIELD
	lab_status_field "$AICCUCTL" "$SOCK" "$1" "$2"
}

say "tunnels" "$N"
say "machine load (1, 5, 15 min) at start" "$(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
lab_up || fail_now "lab set-up"
lab_daemon_conf "$TMP"
make_files 0 "$N"
lab_pop_tunnels_n "$N" >"$TMP/pop.json"
# lab_pop_start's, with a wait that grows with N (the simulator runs three
# `ip` commands per tunnel: about 10 ms each)
pop_start() {
	cp "$TMP/pop.json" "$TMP/pop-tunnels.json"
	ip netns exec "$NS_POP" python3 "$HERE/../sim/pop.py" --tunnels "$TMP/pop-tunnels.json" \
		--listen 192.0.2.1 --stats "$TMP/pop-stats.json" --pidfile "$TMP/pop.pid" \
		--log "$TMP/pop.log" &
	LAB_PIDS+=("$!")
	lab_wait $((10 + N / 20)) test -s "$TMP/pop.pid" || { tail -5 "$TMP/pop.log"; return 1; }
}
t0=$(now_ms)
pop_start || fail_now "PoP simulator"
say "PoP simulator set-up (one TUN per tunnel)" "$(($(now_ms) - t0)) ms"

# ---- start: all N up
t0=$(now_ms)
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
wait_for $((60 + N / 10)) all_up "$N"
up_ms=$(($(now_ms) - t0))
check "all $N tunnels come up" all_up "$N"
say "start to all $N up" "$up_ms ms (goal at 1000: < 20000 ms)"
say "reads of the host's routes for the overlap check" "$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["host_reads"])') (kept view: hostcache.h)"
check "ping through the first tunnel" ping_tunnel 0
check "ping through the last tunnel" ping_tunnel $((N - 1))

# ---- memory
parent_pss=$(pss_kib "$AICCUD_PID")
mapfile -t W < <(workers)
check_eq "one worker per tunnel" "$N" "${#W[@]}"
sum=0 max=0
for p in "${W[@]}"; do
	k=$(pss_kib "$p")
	k=${k:-0}
	sum=$((sum + k))
	[ "$k" -gt "$max" ] && max=$k
done
say "parent PSS" "$parent_pss KiB (goal <= 16384 KiB)"
say "worker PSS mean / max" "$((sum / (${#W[@]} > 0 ? ${#W[@]} : 1))) / $max KiB (goal <= 700 KiB)"

# ---- idle CPU (a measuring window, not a synchronisation)
hz=$(getconf CLK_TCK)
c0=$(ticks "$AICCUD_PID" "${W[@]}")
p0=$(ticks "$AICCUD_PID")
sleep "$IDLE"
c1=$(ticks "$AICCUD_PID" "${W[@]}")
p1=$(ticks "$AICCUD_PID")
say "idle CPU over $IDLE s, parent + workers" "$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$IDLE" 'BEGIN { printf "%.2f %% of one core", 100 * d / hz / s }') (goal < 2 %)"
say "idle CPU over $IDLE s, parent alone" "$(awk -v d=$((p1 - p0)) -v hz="$hz" -v s="$IDLE" 'BEGIN { printf "%.2f %% of one core", 100 * d / hz / s }')"

# ---- status latency: best and worst of 5
for form in "" "--json"; do
	best=999999 worst=0
	for _ in 1 2 3 4 5; do
		a=$(date +%s%N)
		ctl status $form >/dev/null
		ms=$((($(date +%s%N) - a) / 1000000))
		[ "$ms" -lt "$best" ] && best=$ms
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
	say "aiccuctl status $form latency best / worst" "$best / $worst ms (goal < 200 ms)"
done

# ---- reload: remove the second half, then add it back with a ping running
pid0=$(field_of sixxs0 pid)
starts0=$(field_of sixxs0 starts)
for ((i = HALF; i < N; i++)); do rm -f "$TMP/conf.d/sixxs$i.conf"; done
t0=$(now_ms)
ctl reload >/dev/null
check_eq "reload removing $((N - HALF)): exit 0" 0 $?
half_left() { [ "$(count_tunnels)" -eq "$HALF" ] && [ "$(workers | wc -l)" -eq "$HALF" ]; }
wait_for 60 half_left
check "the removed tunnels and their workers are gone" half_left
say "reload removing $((N - HALF)): until their workers are gone" "$(($(now_ms) - t0)) ms"
check_eq "no link of a removed tunnel left" 0 "$(ip -n "$NS_CLI" -o link show | grep -c "sixxs$((N - 1)):")"
# ip netns exec execs ping: $! is ping itself (a function would be a subshell)
ip netns exec "$NS_NET" ping -6 -i 0.2 -W 5 -c 100000 2001:db8:a::2 >"$TMP/ping.out" 2>&1 &
PING_PID=$!
LAB_PIDS+=("$PING_PID")
make_files "$HALF" "$N"
t0=$(now_ms)
ctl reload >"$TMP/reload.out"
check_eq "reload adding $((N - HALF)) to $HALF running: exit 0" 0 $?
wait_for $((60 + N / 10)) all_up "$N"
check "all $N up again" all_up "$N"
say "reload adding $((N - HALF)) to $HALF: until all up" "$(($(now_ms) - t0)) ms"
check "ping through an unchanged tunnel after the reload" ping_tunnel 0
lab_kill INT "$PING_PID"
wait "$PING_PID" 2>/dev/null
sent=$(grep -o '[0-9]* packets transmitted' "$TMP/ping.out" | cut -d' ' -f1)
got=$(grep -o '[0-9]* received' "$TMP/ping.out" | cut -d' ' -f1)
say "ping through sixxs0 during the reload" "${got:-0} of ${sent:-0} answered"
check "every ping through an unchanged tunnel during the reload was answered" \
	test -n "$sent" -a "${sent:-0}" -gt 0 -a "${sent:-0}" = "${got:-x}"
check_eq "the unchanged sixxs0 kept its worker" "$pid0" "$(field_of sixxs0 pid)"
check_eq "... and was not started again" "$starts0" "$(field_of sixxs0 starts)"
restarted=$(ctl status --json | python3 -c '
import json, sys
print(sum(t["starts"] != 1 for t in json.load(sys.stdin)["tunnels"]))')
check_eq "every tunnel was started exactly once (only the new ones by the reload)" 0 "$restarted"
grep -q "reloaded: $((N - HALF)) added, 0 removed, 0 changed, $HALF unchanged" "$TMP/reload.out"
check "the reload reports $((N - HALF)) added, $HALF unchanged" test $? -eq 0

# ---- stop --all leaves nothing behind; then all up again for the SIGTERM
left() { # rules routes links
	echo "$(ip -N -n "$NS_CLI" -6 rule show | grep -c 'proto 157') $(ip -n "$NS_CLI" -6 route show table all proto 157 | wc -l) $(ip -n "$NS_CLI" -o link show | grep -c ' sixxs')"
}
t0=$(now_ms)
ctl stop --all >/dev/null
check_eq "stop --all: exit 0" 0 $?
say "stop --all (every worker gone)" "$(($(now_ms) - t0)) ms"
check_eq "stop --all leaves no rule, route or link" "0 0 0" "$(left)"
ctl start --all --no-wait >/dev/null
wait_for $((60 + N / 10)) all_up "$N"
check "all $N up again after start --all" all_up "$N"

# ---- SIGTERM to exit, and what is left behind
mapfile -t W < <(workers)
t0=$(date +%s%N)
lab_kill TERM "$AICCUD_PID"
wait "$AICCUD_PID"
rc=$?
say "SIGTERM to exit" "$((($(date +%s%N) - t0) / 1000000)) ms, exit status $rc (goal < 3000 ms)"
# The parent's own view, from its log: signal received -> stopped
say "... in aiccud's log, signal to stopped" "$(python3 - "$TMP/aiccud.log" <<'PY'
import re, sys
t = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\d+):(\d+):([\d.]+) aiccud: (signal 15|stopped$)", line.strip())
    if m:
        t[m.group(4)] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
print("%.0f ms" % ((t["stopped"] - t["signal 15"]) * 1000) if len(t) == 2 else "?")
PY
)"
left_rules=$(ip -N -n "$NS_CLI" -6 rule show | grep -c 'proto 157')
left_routes=$(ip -n "$NS_CLI" -6 route show table all proto 157 | wc -l)
left_links=$(ip -n "$NS_CLI" -o link show | grep -c ' sixxs')
left_procs=0
for p in "${W[@]}"; do kill -0 "$p" 2>/dev/null && left_procs=$((left_procs + 1)); done
say "left behind: rules / routes / links / workers" "$left_rules / $left_routes / $left_links / $left_procs"
check_eq "aiccud exits 0" 0 "$rc"
check_eq "no rule left" 0 "$left_rules"
check_eq "no route left" 0 "$left_routes"
check "no link left" lab_wait 10 sh -c "! ip -n $NS_CLI -o link show | grep -q ' sixxs'"
check_eq "no worker left" 0 "$left_procs"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
say "machine load (1, 5, 15 min) at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
finish
