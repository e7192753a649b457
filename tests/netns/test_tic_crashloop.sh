#!/bin/bash
# The reason the limiter exists: aiccud killed with SIGKILL and restarted
# ten times in a row, each time with an empty tunnel cache (so every start
# wants TIC), must never put more than 3 connections into any 60-second
# window at the simulated broker, and must never get the account refused.
#
#   test_tic_crashloop.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin crash "$1" "$2"
N=3

all_up() {
	ctl status --json 2>/dev/null | python3 -c '
import json, sys
t = json.load(sys.stdin)["tunnels"]
sys.exit(0 if t and all(x["state"] == "up" for x in t) else 1)'
}

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" "$N"
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_start "$TMP" server || fail_now "TIC server"
lab_tic_client "$TMP" "$N"

# How long each run lives before kill -9: short ones die while waiting for
# a token, longer ones after their fetcher connected (or mid-session).
LIVES=(2 33 1 31 4 30.5 6 12 31 3)
t0=$(date +%s)
for i in "${!LIVES[@]}"; do
	rm -rf "$TMP/state/tunnels"
	lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
	sleep "${LIVES[$i]}"
	kill -KILL "$LAB_AICCUD_PID"
	wait "$LAB_AICCUD_PID" 2>/dev/null
	echo "# run $((i + 1)): killed after ${LIVES[$i]} s; the server has seen $(tic_count "$TMP/tic.log" connect) connection(s)"
done
echo "# restart loop took $(($(date +%s) - t0)) s"
# The orphaned workers notice the lost parent and remove their links.
check "the killed daemons' workers have gone" lab_wait 10 sh -c "! ip -n $NS_CLI link show | grep -q sixxs"

echo "# a final start, left running, still comes up"
rm -rf "$TMP/state/tunnels"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "every tunnel comes up in the end" lab_wait 90 all_up
kill -TERM "$LAB_AICCUD_PID"

conns=$(tic_count "$TMP/tic.log" connect)
window=$(tic_max_window "$TMP/tic.log")
refused=$(tic_count "$TMP/tic.log" connect refused)
echo "# the server saw $conns connection(s); at most $window in any 60 s window; $refused refused"
python3 -c 'import json,sys; [print("#  ", e["ts"]) for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "connect"]' "$TMP/tic.log"
check "TIC was used (the test exercised the limiter)" test "$conns" -ge 3
check "never more than 3 connections in any 60 s window" test "$window" -le 3
check_eq "the account was never refused" 0 "$refused"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
