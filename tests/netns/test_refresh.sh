#!/bin/bash
# aiccuctl refresh (issue 11): the broker changes a tunnel's MTU; refresh
# --all asks TIC again now, behind the limiter (it waits for the token
# and shows the countdown), in ONE TIC session for both tunnels of the
# account, and restarts only the tunnel whose parameters changed.
# aiccuctl monitor shows the limiter's wait and grant.
#
#   test_refresh.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin refresh "$1" "$2"

connects() { tic_count "$TMP/tic.log" connect; }
both_up() { is_up sixxs0 && is_up sixxs1; }
link_mtu() { ip -n "$NS_CLI" -o link show "$1" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 2
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_start "$TMP" server || fail_now "TIC server"
lab_tic_client "$TMP" 2
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 70 both_up || { tail -20 "$TMP/aiccud.log"; fail_now "both tunnels come up over TIC"; }
check "both tunnels come up over TIC" both_up
check_eq "after one TIC connection" 1 "$(connects)"
check_eq "sixxs0 runs with the broker's MTU" 1280 "$(link_mtu sixxs0)"
pid0=$(field sixxs0 pid) pid1=$(field sixxs1 pid)
# aiccuctl monitor sees the limiter's wait and grant (limiter events).
MON=$TMP/monitor.txt
ip netns exec "$NS_CLI" "$AICCUCTL" -s "$SOCK" monitor >"$MON" 2>&1 &
LAB_PIDS+=("$!")
mon_has() { grep -Eq -- "$1" "$MON"; }
lab_wait 10 mon_has ' daemon: monitoring aiccud ' || fail_now "aiccuctl monitor subscribed"

# The broker raises sixxs0's MTU (the simulator re-reads its accounts on SIGHUP).
python3 - "$TMP/accounts.json" <<'PY'
import json, sys
acc = json.load(open(sys.argv[1]))
for t in acc["accounts"][0]["tunnels"]:
    if t["TunnelId"] == "T10001":
        t["Tunnel MTU"] = 1400
json.dump(acc, open(sys.argv[1], "w"), indent=1)
PY
lab_kill HUP "$LAB_TIC_PID"
check "the TIC server re-read its accounts" lab_wait 10 grep -q '"reloaded"' "$TMP/tic.log"

check "refresh of an unknown tunnel is refused" bash -c "! ip netns exec '$NS_CLI' '$AICCUCTL' -s '$TMP/run/aiccud.sock' refresh nosuch"
out=$(ctl -t 90 refresh --all 2>&1)
rc=$?
echo "$out" | sed 's/^/#   /'
check_eq "aiccuctl refresh --all: exit 0" 0 "$rc"
check "it waited for the limiter's token, counting down" \
	grep -Eq '^sixxs0: waiting for a TIC connection token \(next in [0-9]+ s\)' <<<"$out"
check "it says sixxs0 has new parameters and was restarted" \
	grep -q 'sixxs0: refresh: TIC has new parameters; restarted on them' <<<"$out"
check "it says sixxs1 is unchanged and left running" \
	grep -q 'sixxs1: refresh: TIC has the parameters it runs on; left running' <<<"$out"
check_eq "one more TIC connection, for both tunnels" 2 "$(connects)"
check "monitor: the limiter makes the refresh wait, saying why" \
	mon_has ' limiter: 2 tunnel\(s\) of .* waiting for a TIC connection token \(next in [0-9]+ s\)'
check "monitor: the limiter grants one TIC connection for both tunnels" \
	mon_has ' limiter: granted a TIC connection: .* for 2 tunnel\(s\) of '
check "monitor: sixxs0 restarted on the new parameters (-> starting)" \
	mon_has ' state sixxs0: .* -> starting'
grep -E ' (limiter|state)[ :]' "$MON" | sed 's/^/#   /'
check "sixxs0 is up again" lab_wait 20 is_up sixxs0
check_eq "sixxs0 now runs with MTU 1400" 1400 "$(link_mtu sixxs0)"
check_eq "its table's default route carries it" 1 \
	"$(ip -n "$NS_CLI" -6 route show table 200 | grep -c 'mtu 1400')"
check "sixxs0 got a new worker" test "$(field sixxs0 pid)" != "$pid0"
check_eq "sixxs1 kept its worker (not restarted)" "$pid1" "$(field sixxs1 pid)"
check_eq "sixxs1 still has MTU 1280" 1280 "$(link_mtu sixxs1)"
check "status shows the refresh's outcome" grep -q "restarted on them" <<<"$(field sixxs0 refresh)"
check "ping through sixxs0 after the refresh" lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:1::2
finish
