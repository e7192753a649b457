#!/bin/bash
# Soak under churn (issue 22, item 9): 20 AYIYA tunnels against the PoP
# simulator for SOAK_SECONDS (default 180), with these running together:
#   - reloads: a tunnel file changed (restarts that tunnel) or touched
#     (changes nothing), then `aiccuctl reload`
#   - `aiccuctl restart TUNNEL`
#   - kill -9 of a worker (its PID from `aiccuctl status --json`, checked
#     to be a child of this aiccud)
#   - status polls (human and --json), every one must answer
#   - deletions behind aiccud's back in the client namespace (a tunnel's
#     address, local route, source rule or its table's default route),
#     each of which must be back within SOAK_RESTORE_S (default 10) s,
#     also when it hit a tunnel that was just restarting
# and then: every tunnel up with everything it should have, and the
# parent's RSS (VmRSS) and open descriptors in the last minute no higher
# than in the first minute plus a margin (RSS: 10 % + 256 KiB; fds: 3),
# and a clean exit on SIGTERM.  In an AddressSanitizer build, whose
# quarantine holds freed memory, RSS is not compared; LeakSanitizer's
# report at that exit is the check instead.
# Prints the numbers: actions done, deletions restored, median and max
# restore time, RSS and fds at the start and the end.
#
#   soak_churn.sh AICCUD AICCUCTL        (ctest -L soak; not in the default run)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin soak "$1" "$2"

N=20
SECONDS_TOTAL=${SOAK_SECONDS:-180}
RESTORE_S=${SOAK_RESTORE_S:-10}
WINDOW=60 # the first and the last minute compared (shorter runs: a third each)
[ "$SECONDS_TOTAL" -lt 180 ] && WINDOW=$((SECONDS_TOTAL / 3))

addr() { printf '2001:db8:%x::2' $((10 + $1)); }
CLI() { ip -n "$NS_CLI" -6 "$@"; }
# numeric (ip -N): "proto 157" even where rt_protos.d names it "aiccud"
CLIN() { ip -N -n "$NS_CLI" -6 "$@"; }
has_addr() { CLI addr show dev "sixxs$1" 2>/dev/null | grep -q "inet6 $(addr "$1")/64"; }
has_local() { CLI route show table local 2>/dev/null | grep -q "^local $(addr "$1") dev sixxs$1 "; }
has_rule() { CLIN rule show | grep 'proto 157' | grep -q "from $(addr "$1") lookup $((200 + $1))"; }
has_route() { CLIN route show table $((200 + $1)) proto 157 2>/dev/null | grep -q "^default dev sixxs$1 "; }
rules_of() { CLIN rule show | grep 'proto 157' | grep -c "from $(addr "$1") "; }
complete() { has_addr "$1" && has_local "$1" && has_rule "$1" && has_route "$1"; }
count_up() {
	ctl status --json 2>/dev/null | python3 -c '
import json, sys
try:
    print(sum(t["state"] == "up" for t in json.load(sys.stdin)["tunnels"]))
except Exception:
    print(0)'
}
all_up() { [ "$(count_up)" -eq "$N" ]; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$AICCUD_PID/status"; }
fds() { ls "/proc/$AICCUD_PID/fd" | wc -l; }
now_s() { date +%s; }
# A worker PID of tunnel $1 from status, only if it is a child of our aiccud.
worker_pid() {
	local pid
	pid=$(field "sixxs$1" pid)
	[[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || return 1
	[ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$AICCUD_PID" ] || return 1
	echo "$pid"
}

lab_up || fail_now "lab set-up"
lab_pop_tunnels_n "$N" >"$TMP/pop.json"
lab_pop_start "$TMP" "$TMP/pop.json" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
for i in $(seq 0 $((N - 1))); do lab_tunnel_file "$TMP/conf.d/sixxs$i.conf" "$i"; done
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
check "all $N tunnels come up" lab_wait 60 all_up
START=$(now_s)
END=$((START + SECONDS_TOTAL))
echo "# churn for $SECONDS_TOTAL s (SOAK_SECONDS), deletions restored within $RESTORE_S s (SOAK_RESTORE_S)"

# ---- actor: reloads, restarts and worker kills, one every 1-3 s ----
churn() {
	local k=0 i pid misses
	declare -A misses_of
	while [ "$(now_s)" -lt "$END" ]; do
		i=$((RANDOM % N))
		case $((k % 4)) in
		0 | 2) # a changed file (restarts the tunnel) and a touched one (changes nothing)
			misses=$((${misses_of[$i]:-3} == 3 ? 4 : 3))
			misses_of[$i]=$misses
			lab_tunnel_file "$TMP/conf.d/sixxs$i.conf" "$i" "liveness_misses=$misses"
			touch "$TMP/conf.d/sixxs$(((i + 1) % N)).conf"
			if lab_in "$NS_CLI" timeout 30 "$AICCUCTL" -s "$SOCK" reload >/dev/null 2>&1; then
				echo "reload sixxs$i" >>"$TMP/churn.log"
			else
				echo "reload-failed sixxs$i" >>"$TMP/churn.log"
			fi
			;;
		1)
			if lab_in "$NS_CLI" timeout 30 "$AICCUCTL" -s "$SOCK" restart "sixxs$i" >/dev/null 2>&1; then
				echo "restart sixxs$i" >>"$TMP/churn.log"
			else
				echo "restart-failed sixxs$i" >>"$TMP/churn.log"
			fi
			;;
		3) # round robin, so that no tunnel's back-off series grows long
			i=$(((k / 4) % N))
			if pid=$(worker_pid "$i") && lab_kill KILL "$pid"; then
				echo "kill sixxs$i $pid" >>"$TMP/churn.log"
			fi
			;;
		esac
		k=$((k + 1))
		sleep "$((1 + RANDOM % 3))" # pacing of the churn, not a synchronisation
	done
}

# ---- actor: status polls, every answer checked ----
polls() {
	local ok rc
	while [ "$(now_s)" -lt "$END" ]; do
		ok=ok
		ctl status --json 2>/dev/null |
			python3 -c 'import json,sys; json.load(sys.stdin)["tunnels"]' 2>/dev/null || ok=fail
		# exit 0: all up, 1: some not up (both answers); anything else is not one
		ctl status >/dev/null 2>&1
		rc=$?
		[ "$rc" -le 1 ] || ok=fail
		echo "$ok" >>"$TMP/polls.log"
		sleep 0.2 # pacing of the polls
	done
}

churn &
CHURN_PID=$!
LAB_PIDS+=("$CHURN_PID")
polls &
POLLS_PID=$!
LAB_PIDS+=("$POLLS_PID")

# ---- the deletions, measured here; the parent's RSS and fds sampled ----
KINDS=(addr local rule route)
: >"$TMP/restore.ms"
: >"$TMP/samples"
deletions=0 timeouts=0
while [ "$(now_s)" -lt "$END" ]; do
	sleep 0.2 # pacing of the deletions
	echo "$(($(now_s) - START)) $(rss_kib) $(fds)" >>"$TMP/samples"
	i=$((RANDOM % N))
	kind=${KINDS[$((RANDOM % 4))]}
	# Only what is there now can be deleted (a tunnel may be restarting).
	"has_$kind" "$i" || continue
	case $kind in
	addr) del=(ip -6 addr del "$(addr "$i")/64" dev "sixxs$i") ;;
	local) del=(ip -6 route del local "$(addr "$i")" table local dev "sixxs$i") ;;
	rule) del=(ip -6 rule del from "$(addr "$i")" table $((200 + i)) priority $((1000 + i))) ;;
	route) del=(ip -6 route del default table $((200 + i)) dev "sixxs$i") ;;
	esac
	t0=$(lab_now_ms)
	# The deletion may lose a race with a restart that removed it first.
	lab_in "$NS_CLI" "${del[@]}" 2>/dev/null || continue
	deletions=$((deletions + 1))
	until "has_$kind" "$i"; do
		if [ $(($(lab_now_ms) - t0)) -ge $((RESTORE_S * 1000)) ]; then
			timeouts=$((timeouts + 1))
			echo "     NOT RESTORED within $RESTORE_S s: $kind of sixxs$i ($(field "sixxs$i" state))"
			break
		fi
	done
	"has_$kind" "$i" && echo $(($(lab_now_ms) - t0)) >>"$TMP/restore.ms"
done
echo "$(($(now_s) - START)) $(rss_kib) $(fds)" >>"$TMP/samples"
wait "$CHURN_PID" "$POLLS_PID"

# ---- afterwards: everything in place ----
check "every tunnel is up again after the churn" lab_wait 60 all_up
missing=()
for i in $(seq 0 $((N - 1))); do
	lab_wait "$RESTORE_S" complete "$i" || missing+=("sixxs$i")
	[ "$(rules_of "$i")" -eq 1 ] || missing+=("sixxs$i:rules=$(rules_of "$i")")
done
check_eq "every tunnel has its address, local route, one rule and its route" "" "${missing[*]}"
check "aiccud still runs" kill -0 "$AICCUD_PID"
gone() { ! kill -0 "$AICCUD_PID" 2>/dev/null; }
lab_kill TERM "$AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 15 gone
# With sanitizers, LeakSanitizer reports what was never freed at that exit.
check_absent "no sanitizer report (leaks included, in a sanitizer build)" Sanitizer "$TMP/aiccud.log"

# ---- the numbers ----
n_of() { grep -c "^$1 " "$TMP/churn.log" 2>/dev/null; }
restored=$(wc -l <"$TMP/restore.ms")
read -r median max < <(sort -n "$TMP/restore.ms" | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)], v[NR]; else print "-", "-" }')
polls_ok=$(grep -c '^ok$' "$TMP/polls.log")
polls_failed=$(grep -c '^fail$' "$TMP/polls.log")
# first and last window: the highest RSS and fd count seen in each
read -r rss0 fd0 < <(awk -v w="$WINDOW" '$1 < w { if ($2 > r) r = $2; if ($3 > f) f = $3 } END { print r + 0, f + 0 }' "$TMP/samples")
read -r rss1 fd1 < <(awk -v w="$WINDOW" -v e="$SECONDS_TOTAL" '$1 >= e - w { if ($2 > r) r = $2; if ($3 > f) f = $3 } END { print r + 0, f + 0 }' "$TMP/samples")
echo "soak: $SECONDS_TOTAL s, $N tunnels"
echo "soak: reloads $(n_of reload) (failed $(n_of reload-failed)), restarts $(n_of restart) (failed $(n_of restart-failed)), worker kills $(n_of kill), status polls $polls_ok (failed $polls_failed)"
echo "soak: deletions $deletions, restored $restored within $RESTORE_S s, not restored $timeouts; restore time median ${median} ms, max ${max} ms"
echo "soak: parent RSS ${rss0} KiB (first ${WINDOW} s, highest) -> ${rss1} KiB (last ${WINDOW} s, highest); fds ${fd0} -> ${fd1}"
check "deletions happened (at least one per 10 s)" test "$deletions" -ge $((SECONDS_TOTAL / 10))
check_eq "every deletion restored within $RESTORE_S s" "$deletions" "$restored"
check "reloads, restarts and kills happened" test "$(n_of reload)" -ge 1 -a "$(n_of restart)" -ge 1 -a "$(n_of kill)" -ge 1
check_eq "no reload or restart failed" 0 "$(($(n_of reload-failed) + $(n_of restart-failed)))"
check "status polls happened" test "$polls_ok" -ge 1
check_eq "every status poll answered" 0 "$polls_failed"
check "RSS sampled in both windows" test "$rss0" -gt 0 -a "$rss1" -gt 0
if grep -qa __asan_init "$AICCUD"; then
	# AddressSanitizer's quarantine keeps freed memory (up to 256 MiB): RSS
	# says nothing there; its leak report at exit (above) is the check.
	echo "skip - RSS comparison: an AddressSanitizer build (its quarantine holds freed memory)"
else
	check "the parent's RSS did not grow beyond 10 % + 256 KiB ($rss0 -> $rss1 KiB)" \
		test "$rss1" -le $((rss0 + rss0 / 10 + 256))
fi
check "the parent's open descriptors did not grow beyond 3 ($fd0 -> $fd1)" test "$fd1" -le $((fd0 + 3))
finish
