#!/bin/bash
# Issue 22, item 1: a TIC tunnel recovers without a person.
#  - The broker is down when aiccud starts: the tunnel is retried with
#    back-off, every attempt behind the limiter, and comes up with no
#    command once the broker answers.
#  - The cache is older than cache_max_age and the broker is down: the
#    tunnel comes up on the old parameters, status says so, and a fetch in
#    the background makes them fresh once the broker is back.
#  - A refused login needs a person: the tunnel stays failed and status
#    says what to do.
#
#   test_tic_recover.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin ticrec "$1" "$2"
# Tokens every 16 s (the broker's rule still holds) keep the test short.
LAB_TIC_REFILL=16

state_is() { [ "$(field sixxs0 state)" = "$1" ]; }
retries() { grep -c 'sixxs0: .*trying again in' "$TMP/aiccud.log"; }
retries_at_least() { [ "$(retries)" -ge "$1" ]; }
fetchers() { grep -c 'TIC: fetcher [0-9]* asks' "$TMP/aiccud.log"; }
start_aiccud() {
	lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
	lab_wait 10 test -S "$SOCK"
}
stop_aiccud() {
	lab_kill TERM "$LAB_AICCUD_PID"
	lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
}
ping_t() { lab_in "$NS_POP" ping -6 -c 2 -i 0.2 -W 2 2001:db8:1::2; }
# fetch_window: the most fetchers aiccud started in any 60 s (from its log).
fetch_window() {
	python3 - "$TMP/aiccud.log" <<'PY'
import re, sys
ts = []
for line in open(sys.argv[1]):
    m = re.match(r"(\d+):(\d+):(\d+\.\d+) .*TIC: fetcher \d+ asks", line)
    if m:
        ts.append(int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]))
print(max([sum(1 for u in ts[i:] if u - t <= 60.0) for i, t in enumerate(ts)] or [0]))
PY
}

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 1
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_client "$TMP" 1

echo "# the broker is down at start"
t0=$(date +%s)
start_aiccud || fail_now "aiccud start"
check "a failed fetch is retried by itself (twice)" lab_wait 60 retries_at_least 2
echo "#   sixxs0: $(field sixxs0 state): $(field sixxs0 reason)"
check "status says TIC could not be reached" grep -q "TIC tic.test" <<<"$(field sixxs0 reason)$(field sixxs0 last_exit)"
check_absent "the tunnel is never failed" 'sixxs0: .*-> failed' "$TMP/aiccud.log"
echo "#   broker started $(($(date +%s) - t0)) s after aiccud"
lab_tic_start "$TMP" server || fail_now "TIC server"
t1=$(date +%s)
check "the tunnel comes up with no command" lab_wait 60 state_is up
echo "#   up $(($(date +%s) - t1)) s after the broker came back; $(fetchers) fetch(es), $(retries) retry(ies)"
check "ping through the tunnel" ping_t
# A token every 16 s: at most 4 in any 60 s; the broker refuses only a 5th.
check "no 60 s window saw more than 4 fetches (the limiter's rule at refill 16 s)" test "$(fetch_window)" -le 4
check_eq "the broker saw one connection" 1 "$(tic_count "$TMP/tic.log" connect)"

echo "# the cache is older than cache_max_age and the broker is down"
stop_aiccud
lab_tic_stop
cache=$TMP/state/tunnels/T10001
sed -i "s/^Fetched: .*/Fetched: $(($(date +%s) - 400 * 86400))/" "$cache"
start_aiccud || fail_now "aiccud restart"
check "the tunnel comes up on the old parameters" lab_wait 60 state_is up
reason=$(field sixxs0 reason)
echo "#   sixxs0: up: $reason"
check "status says so" grep -q "older than cache_max_age" <<<"$reason"
check "ping through the tunnel" ping_t
lab_tic_start "$TMP" server || fail_now "TIC server again"
fresh() { grep -q "fetched from TIC again" <<<"$(field sixxs0 reason)"; }
check "the background fetch makes them fresh once the broker is back" lab_wait 90 fresh
check "the cache is fresh" sh -c "test \$(( \$(date +%s) - \$(sed -n 's/^Fetched: //p' '$cache') )) -lt 120"
echo "#   at most $(fetch_window) fetch(es) in a 60 s window"
check "no 60 s window saw more than 4 fetches" test "$(fetch_window)" -le 4
check_eq "the broker refused no connection" 0 "$(tic_count "$TMP/tic.log" connect refused)"

echo "# a refused login needs a person"
stop_aiccud
rm -f "$cache"
sed -i "s/^password = .*/password = not-the-password/" "$TMP/aiccud.conf"
start_aiccud || fail_now "aiccud restart"
check "the tunnel fails" lab_wait 60 state_is failed
reason=$(field sixxs0 reason)
echo "#   sixxs0: failed: $reason"
check "status says what to do" grep -q "check username and password" <<<"$reason"
n=$(fetchers)
more_fetchers() { [ "$(fetchers)" -gt "$n" ]; }
# An observation window (two limiter refills): nothing may happen in it.
not_retried() { ! lab_wait 35 more_fetchers; }
check "and it is not retried (35 s)" not_retried
finish
