#!/bin/bash
# Issue 3 end to end: tunnels that name only their TunnelId get their
# parameters over TIC (STARTTLS, test CA) from the simulated broker, behind
# the limiter; the tunnel cache makes restarts free; bad certificates,
# stalls and refusals fail clearly and never storm the server; a stall
# (it can go away) is retried with back-off, behind the limiter.
#
#   test_tic_broker.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin tic "$1" "$2"
N=6

limiter_field() {
	ctl limiter --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["limiter"][sys.argv[1]])' "$1"
}
all_in() { # STATE
	local i
	for i in $(seq 0 $((N - 1))); do [ "$(field "sixxs$i" state)" = "$1" ] || return 1; done
}
connects() { tic_count "$TMP/tic.log" connect; }
start_aiccud() {
	lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
	lab_wait 10 test -S "$TMP/run/aiccud.sock"
}
stop_aiccud() {
	kill -TERM "$LAB_AICCUD_PID"
	lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
}
elapsed() { echo $(($(date +%s) - $1)); }

lab_up || fail_now "lab set-up"
# N tunnels the broker has enabled, and one more (sixxs$N) its admin disabled.
lab_tic_fixture "$TMP" $((N + 1))
python3 - "$TMP/accounts.json" "T$((10001 + N))" <<'PY'
import json, sys
acc = json.load(open(sys.argv[1]))
for t in acc["accounts"][0]["tunnels"]:
    if t["TunnelId"] == sys.argv[2]:
        t["AdminState"] = "disabled"
json.dump(acc, open(sys.argv[1], "w"), indent=1)
PY
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_start "$TMP" server || fail_now "TIC server"
lab_tic_client "$TMP" $((N + 1))

echo "# cold start: $N tunnels of one account, empty cache, empty limiter state"
t0=$(date +%s)
start_aiccud || fail_now "aiccud start"
check_eq "a tunnel waits for a limiter token first" waiting "$(field sixxs0 state)"
check "status says when the next connection is allowed" grep -q 'next in [0-9]* s' <<<"$(field sixxs0 reason)"
check_eq "the limiter starts with an empty bucket" 0 "$(limiter_field tokens)"
# aiccuctl start on the waiting tunnel shows the wait until the tunnel is up.
out=$(ctl -t 90 start sixxs0)
rc=$?
echo "$out" | sed 's/^/#   /'
check_eq "aiccuctl start returns once the tunnel is up" 0 "$rc"
check "and showed the wait for a TIC token meanwhile" grep -q 'waiting for a TIC connection token (next in [0-9]* s)' <<<"$out"
check "and the fetch" grep -q 'fetching parameters from TIC tic.test' <<<"$out"
check "all $N tunnels come up" lab_wait 60 all_in up
echo "# up $(elapsed "$t0") s after start (the first token is minted after 30 s)"
check_eq "with exactly one TIC connection" 1 "$(connects)"
disabled_settled() { [ "$(field "sixxs$N" state)" = failed ]; }
check "the tunnel the broker disabled is not brought up" lab_wait 10 disabled_settled
reason=$(field "sixxs$N" reason)
echo "# reason: $reason"
check "and status says why" grep -q "AdminState 'disabled'" <<<"$reason"
check "it has no link" sh -c "! ip -n $NS_CLI link show sixxs$N 2>/dev/null"
check "over TLS" grep -q '"event": "tls"' "$TMP/tic.log"
check_eq "status names the address TIC gave" "2001:db8:3::2/64" "$(field sixxs2 local)"
check "ping through a TIC tunnel" lab_in "$NS_POP" ping -6 -c 2 -i 0.2 -W 2 2001:db8:3::2
check_eq "the tunnel cache is private (0600)" 600 "$(stat -c %a "$TMP/state/tunnels/T10001")"
check_eq "the limiter state is private (0600)" 600 "$(stat -c %a "$TMP/state/limiter")"
check_eq "aiccuctl limiter counts the grant" 1 "$(limiter_field grants)"

echo "# warm restart: the cache serves every tunnel"
stop_aiccud
check "SIGTERM leaves no sixxs link" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
start_aiccud || fail_now "aiccud restart"
check "all $N tunnels come up again" lab_wait 15 all_in up
check "the disabled one stays down, from the cache" lab_wait 10 disabled_settled
check_eq "without any TIC connection" 1 "$(connects)"
stop_aiccud

# cert_case NAME STEM EXPECT: the server presents pki/STEM.pem; the start
# must fail with EXPECT in the reason and not connect again.
cert_case() {
	local name=$1 stem=$2 expect=$3 before
	echo "# $name"
	rm -rf "$TMP/state/tunnels"
	lab_tic_start "$TMP" "$stem" || fail_now "TIC server ($stem)"
	before=$(connects)
	start_aiccud || fail_now "aiccud start"
	check "$name: the tunnels fail" lab_wait 45 all_in failed
	reason=$(field sixxs0 reason)
	echo "# reason: $reason"
	check "$name: the reason names the certificate problem" grep -qi "$expect" <<<"$reason"
	check "$name: the reason names the server" grep -q "tic.test" <<<"$reason"
	check_eq "$name: one connection for all $N tunnels" $((before + 1)) "$(connects)"
}
cert_case "server certificate for another host name" wrong "certificate"
echo "# no retry storm: nothing more within the next 31 s (a token is minted meanwhile)"
after=$(connects)
sleep 31
check_eq "still a single connection for the wrong-name case" "$after" "$(connects)"
stop_aiccud
cert_case "server certificate from an unknown CA" other "certificate"
stop_aiccud

echo "# a server that stalls in the middle of a line"
rm -rf "$TMP/state/tunnels"
lab_tic_start "$TMP" server --stall-after tunnel-show || fail_now "TIC server (stall)"
log0=$(wc -l <"$TMP/aiccud.log")
start_aiccud || fail_now "aiccud start"
# The back-off lasts 1 s the first time: polling status can miss it on a
# loaded machine, so the daemon's own record of the transition is read.
stall_retried() {
	reason=$(tail -n +$((log0 + 1)) "$TMP/aiccud.log" | grep -m1 'sixxs0: fetching -> backoff: ')
	grep -q "trying again in" <<<"$reason"
}
check "after the step's timeout the tunnels are retried with back-off" lab_wait 60 stall_retried
echo "# reason: $reason"
check "the reason names the step that timed out" grep -q "timed out .*'tunnel show T10001'" <<<"$reason"
stall_failed() { tail -n +$((log0 + 1)) "$TMP/aiccud.log" | grep -q 'sixxs0: .*-> failed'; }
no_stall_failure() { ! stall_failed; }
check "no tunnel failed (a stall can go away)" no_stall_failure
stop_aiccud

echo "# the server turns us away: the limiter waits at least 5 minutes"
lab_tic_start "$TMP" server || fail_now "TIC server"
# Five connections from the client's address make the broker block it.
for _ in 1 2 3 4 5; do
	lab_in "$NS_CLI" bash -c 'exec 3<>/dev/tcp/192.0.2.1/3874; head -c 1 <&3 >/dev/null' 2>/dev/null
done
check "the simulator blocked the client" test "$(tic_count "$TMP/tic.log" connect refused)" -ge 1
start_aiccud || fail_now "aiccud start"
refused_reason() { field sixxs0 reason | grep -q 'refused'; }
check "the tunnels wait, saying the server refused us" lab_wait 45 refused_reason
check_eq "the limiter shows the penalty" True "$(limiter_field penalty)"
refused_at=$(python3 -c 'import json,sys; print(int(max(e["ts"] for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "connect" and e.get("refused"))))' "$TMP/tic.log")
until_=$(limiter_field penalty_until)
echo "# refused at $refused_at, no TIC connection before $until_"
check "the penalty lasts at least 5 minutes from the refusal" test $((until_ - refused_at)) -ge 299
ctl limiter
stop_aiccud

echo "# every connection the TIC server saw:"
python3 -c 'import json,sys; [print("#  ", e["ts"], e["peer"], "refused" if e.get("refused") else "") for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "connect"]' "$TMP/tic.log"
echo "# totals: $(connects) connections, max $(tic_max_window "$TMP/tic.log") in a 60 s window"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "--- aiccud log (sixxs0, the fetcher, the limiter)"
grep -v 'sixxs[1-9]' "$TMP/aiccud.log"
finish
