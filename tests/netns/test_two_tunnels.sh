#!/bin/bash
# The first slice's scenario, end to end: two AYIYA tunnels against the
# simulated PoP, each with its own source-routing table.
#
#   test_two_tunnels.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin test "$1" "$2"

state_of() { ctl status "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnels"][0]["state"])'; }
is_up() { [ "$(state_of "$1")" = up ]; }
pop_counter() { # TUNNEL-ID KEY
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tunnels"][sys.argv[2]][sys.argv[3]])' \
		"$TMP/pop-stats.json" "$1" "$2"
}
# Our rules: aiccud marks them with protocol 157.
our_rules() { ip -N -n "$NS_CLI" -6 rule show | grep 'proto 157'; }
rules_for() { our_rules | grep -c "from $1 " ; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_client_conf "$TMP" "$HERE/../../conf.d"
# sixxs0 gets a setup script (AICCU's setupscript) that records its environment.
printf '#!/bin/sh\nenv | grep "^AICCUD_" | sort >>"%s/hook.log"; echo ---- >>"%s/hook.log"\n' \
	"$TMP" "$TMP" >"$TMP/up.sh"
chmod 700 "$TMP/up.sh"
sed -i "s|^setup_script =.*|setup_script = $TMP/up.sh|" "$TMP/conf.d/sixxs0.conf"

# A stand-in for systemd's notification socket (Type=notify).
python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
PY
LAB_PIDS+=("$!")
lab_wait 5 test -S "$TMP/notify.sock" || fail_now "notify socket"
NOTIFY_SOCKET=$TMP/notify.sock lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID

both_up() { is_up sixxs0 && is_up sixxs1; }
check "both tunnels come up" lab_wait 15 both_up
check "aiccud tells systemd it is ready" lab_wait 5 grep -q '^READY=1$' "$TMP/notify.log"
check "and how many tunnels are up" lab_wait 5 grep -q '^STATUS=2 of 2 tunnel(s) up$' "$TMP/notify.log"
ctl status
grep "installed" "$TMP/aiccud.log"
# PROTOCOLS.md 7.1: 3 no-op beats back to back at start, then one per interval (60 s here)
startup_beats() { [ "$(pop_counter T10001 keepalives)" -ge 3 ] && [ "$(pop_counter T10002 keepalives)" -ge 3 ]; }
check "the PoP got the start-up no-op beats of both tunnels" lab_wait 10 startup_beats
check_eq "exactly 3 each, as the real client sends them" "3 3" \
	"$(pop_counter T10001 keepalives) $(pop_counter T10002 keepalives)"

# rx_at_least ID N: the PoP has received at least N packets on tunnel ID
rx_at_least() { [ "$(pop_counter "$1" rx_packets)" -ge "$2" ]; }
# Outside -> tunnel address, from the PoP itself and from a host behind it.
for t in "a T10001 sixxs0" "b T10002 sixxs1"; do
	set -- $t
	before=$(pop_counter "$2" rx_packets)
	check "ping from pop to 2001:db8:$1::2" lab_in "$NS_POP" ping -6 -c 3 -i 0.2 -W 2 "2001:db8:$1::2"
	check "ping from the Internet to 2001:db8:$1::2" lab_in "$NS_NET" ping -6 -c 3 -i 0.2 -W 2 "2001:db8:$1::2"
	# The replies may still be on their way through the tunnel: wait, bounded.
	lab_wait 5 rx_at_least "$2" $((before + 6))
	after=$(pop_counter "$2" rx_packets)
	check "the 6 echo replies of $3 came back through its tunnel (PoP rx $before -> $after)" \
		test $((after - before)) -ge 6
	check "traffic from 2001:db8:$1::2 is routed into $3" \
		sh -c "ip -n $NS_CLI -6 route get 2001:db8:eeee::2 from 2001:db8:$1::2 | grep -q 'dev $3'"
	check "traffic from 2001:db8:$1::2 to the Internet works" \
		lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 -I "2001:db8:$1::2" 2001:db8:eeee::2
	check "table route of $3 carries MTU 1280" \
		sh -c "ip -n $NS_CLI -6 route show table all proto 157 dev $3 | grep -q 'mtu 1280'"
done
check "main table default still points at net0" \
	sh -c "ip -n $NS_CLI -6 route show default | grep -q 'dev net0'"
check "unsourced traffic still leaves by net0" \
	sh -c "ip -n $NS_CLI -6 route get 2001:db8:eeee::2 | grep -q 'dev net0'"
check_eq "exactly one aiccud rule for sixxs0" 1 "$(rules_for 2001:db8:a::2)"
check_eq "exactly one aiccud rule for sixxs1" 1 "$(rules_for 2001:db8:b::2)"

# Stop and start sixxs0 twice: still exactly one rule each.
idx1=$(ip -n "$NS_CLI" -o link show sixxs1 | cut -d: -f1)
for i in 1 2; do
	check "stop sixxs0 (round $i)" ctl stop sixxs0
	check "start sixxs0 (round $i)" ctl start sixxs0
done
check_eq "exactly one aiccud rule for sixxs0 after two restarts" 1 "$(rules_for 2001:db8:a::2)"
check_eq "exactly one aiccud rule for sixxs1 after two restarts" 1 "$(rules_for 2001:db8:b::2)"
check "ping through restarted sixxs0" lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:a::2

# aiccuctl stop sixxs0 removes exactly sixxs0's objects.
hook_ran() { grep -q "^AICCUD_EVENT=$1\$" "$TMP/hook.log"; }
check "the setup script ran when sixxs0 came up" lab_wait 5 hook_ran up
check "with the tunnel's interface in its environment" grep -q '^AICCUD_INTERFACE=sixxs0$' "$TMP/hook.log"
check "and its local address" grep -q '^AICCUD_LOCAL6=2001:db8:a::2$' "$TMP/hook.log"
check "stop sixxs0" ctl stop sixxs0
check "the setup script ran again when sixxs0 went down" lab_wait 5 hook_ran down
check_eq "sixxs0's rule is gone" 0 "$(rules_for 2001:db8:a::2)"
check_eq "sixxs0's table 200 is empty" "" "$(ip -n "$NS_CLI" -6 route show table 200)"
check "sixxs0's link is gone" sh -c "! ip -n $NS_CLI link show sixxs0 2>/dev/null"
check_eq "sixxs1's rule is still there" 1 "$(rules_for 2001:db8:b::2)"
check_eq "sixxs1's link is the same link" "$idx1" "$(ip -n "$NS_CLI" -o link show sixxs1 | cut -d: -f1)"
check "sixxs1 still answers" lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::2
check_eq "status says sixxs0 is stopped" stopped "$(state_of sixxs0)"

# Errors a user gets from aiccuctl.
ctl status nosuch >/dev/null 2>&1
check_eq "unknown tunnel: exit code 4" 4 $?
lab_in "$NS_CLI" "$AICCUCTL" -s "$TMP/nothere.sock" status >/dev/null 2>&1
check_eq "no daemon: exit code 3" 3 $?

# A second aiccud on the same control socket refuses to start.
out=$(lab_in "$NS_CLI" timeout 10 "$AICCUD" -d -f "$TMP/aiccud.conf" 2>&1)
rc=$?
check "a second aiccud refuses to start (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "and says why" sh -c "echo '$out' | grep -q 'another aiccud is running'"
ctl status >/dev/null 2>&1
check "the first one still answers (status: 0 or 1, not 3)" test $? -le 1

# SIGTERM: nothing of aiccud's is left behind.
kill -TERM "$AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $AICCUD_PID"
check "it told systemd it was stopping" grep -q '^STOPPING=1$' "$TMP/notify.log"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no aiccud rule left" "" "$(our_rules)"
check_eq "no aiccud route left" "" "$(ip -n "$NS_CLI" -6 route show table all proto 157)"
check "no sixxs link left" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"

echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
