#!/bin/bash
# Issue 12, item 4: a hung worker is noticed.  SIGSTOP on a worker: the
# parent's watchdog gets no answer to its counters requests, kills the
# worker and restarts it with the reason "worker hung" (status and log),
# within the watchdog's bound; traffic flows again afterwards.
#
#   test_watchdog.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin watchdog "$1" "$2"
STOPPED=
# A worker we stopped must not stay stopped: continue it (it is killed by
# then, or goes with the namespace's aiccud) before the lab is torn down.
cleanup() {
	if [ -n "$STOPPED" ] && lab_is_worker "$STOPPED"; then kill -CONT "$STOPPED"; fi
	lab_down
	rm -rf "$TMP"
}
trap cleanup EXIT

pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:a::2; }
# PID is a worker of the aiccud this test started (its child, named aiccud).
lab_is_worker() {
	[[ "$1" =~ ^[0-9]+$ ]] && [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$LAB_AICCUD_PID" ]
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
is_up() { [ "$(field sixxs0 state)" = up ]; }
check "the tunnel comes up" lab_wait 20 is_up
check "traffic flows" lab_wait 10 pings
old=$(field sixxs0 pid)
check "status names the worker (a child of our aiccud)" lab_is_worker "$old"
lab_is_worker "$old" || fail_now "no worker PID"

echo "# SIGSTOP on worker $old"
t0=$(lab_now_ms)
STOPPED=$old
kill -STOP "$old"
restarted() { local p; p=$(field sixxs0 pid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && is_up; }
check "a new worker is up within 20 s" lab_wait 20 restarted
t1=$(lab_now_ms)
echo "# restarted $((t1 - t0)) ms after SIGSTOP (watchdog: 3 unanswered requests, one every 2 s)"
# The bound is 8 s (watchdog) + 4 s (back-off); measured by the test's clock
# on a shared 2-core machine, so with a 6 s margin.  A worker nobody watches
# stays stopped and fails the lab_wait above.
check "within the watchdog's bound (8 s) plus the restart back-off (<= 4 s), 6 s margin" test $((t1 - t0)) -le 18000
check "the stopped worker is gone (killed)" sh -c "! kill -0 $old 2>/dev/null"
STOPPED=
check "status says why: worker hung" grep -q "worker hung" <<<"$(field sixxs0 last_exit)"
check_eq "counted as a restart" 1 "$(field sixxs0 restarts)"
check "the log says so" grep -q "sixxs0: worker hung" "$TMP/aiccud.log"
check "traffic flows again" lab_wait 10 pings
grep 'worker hung\|restart' "$TMP/aiccud.log" | sed 's/^/#   /'
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
