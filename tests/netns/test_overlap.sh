#!/bin/bash
# Issue 20, finding 3: one tunnel never claims another tunnel's address or
# prefix.  A TIC server hands out, besides a good tunnel (sixxs0,
# 2001:db8:1::2/64), a second tunnel in the same /64 (sixxs1,
# 2001:db8:1::5/64) and a third with the address of the file tunnel
# sixxs9 (2001:db8:f::2/64).  The first of sixxs0/sixxs1 to be checked
# comes up, the other fails naming it; sixxs2 fails naming sixxs9; the
# host gets rules only for the tunnels that came up.  A fourth tunnel
# (sixxs3) gets 2001:db8:eeee::5/64, the network of the Internet host
# the client reaches through its ISP's default route: the tunnel comes up
# but its prefix stays in its own table, so the host's own (unsourced)
# traffic to that network still goes to the ISP and arrives.
#
#   test_overlap.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin overlap "$1" "$2"
LAB_TIC_REFILL=16
state() { field "$1" state; }
settled() {
	local t s
	for t in sixxs0 sixxs1 sixxs2 sixxs3; do
		s=$(state "$t")
		[ "$s" = up ] || [ "$s" = failed ] || return 1
	done
}
reason_has() { field "$1" reason | grep -qE -- "$2"; }
rules_from() { ip -N -n "$NS_CLI" -6 rule show | grep 'proto 157' | grep -c "from $1 "; }

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 4 ayiya
python3 - "$TMP/accounts.json" <<'PY'
import json, sys
acc = json.load(open(sys.argv[1]))
t = acc["accounts"][0]["tunnels"]
t[1]["IPv6 Endpoint"], t[1]["IPv6 POP"] = "2001:db8:1::5", "2001:db8:1::1"
t[2]["IPv6 Endpoint"], t[2]["IPv6 POP"] = "2001:db8:f::2", "2001:db8:f::1"
t[3]["IPv6 Endpoint"], t[3]["IPv6 POP"] = "2001:db8:eeee::5", "2001:db8:eeee::1"
json.dump(acc, open(sys.argv[1], "w"), indent=1)
PY
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_client "$TMP" 4
cat >"$TMP/conf.d/sixxs9.conf" <<'EOF'
[tunnel]
interface = sixxs9
tic = no
table = 209
rule_priority = 1009

[params]
type = ayiya
ipv6_local = 2001:db8:f::2
ipv6_pop = 2001:db8:f::1
prefix_len = 64
ipv4_pop = 192.0.2.1
password = file-tunnel-secret
EOF
chmod 600 "$TMP/conf.d/sixxs9.conf"
lab_tic_start "$TMP" server || fail_now "TIC server"

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$SOCK" || fail_now "aiccud start"
lab_wait 90 settled || fail_now "the TIC tunnels settle"
for t in sixxs0 sixxs1 sixxs2 sixxs3 sixxs9; do echo "# $t: $(state $t): $(field $t reason)"; done

# The two TIC tunnels of one /64: exactly one wins.
if [ "$(state sixxs0)" = up ]; then WIN=sixxs0 LOSE=sixxs1; else WIN=sixxs1 LOSE=sixxs0; fi
check_eq "one of the two tunnels of 2001:db8:1::/64 is up" up "$(state $WIN)"
check_eq "the other has failed" failed "$(state $LOSE)"
check "its reason names the tunnel that holds the prefix" \
	reason_has $LOSE "overlap those of tunnel $WIN \\(from TIC, id T1000[12]\\)"
check "its reason names both prefixes" \
	reason_has $LOSE "2001:db8:1::[25]/64 and 2001:db8:1::[25]/64"

# The TIC tunnel with the file tunnel's address.
check_eq "the TIC tunnel with the file tunnel's address has failed" failed "$(state sixxs2)"
check "its reason names the file tunnel and its file" \
	reason_has sixxs2 "overlap those of tunnel sixxs9 \\(tunnel file $TMP/conf.d/sixxs9.conf\\)"
check "the file tunnel is up" lab_wait 20 is_up sixxs9
check_eq "one rule from the file tunnel's address (its own)" 1 "$(rules_from 2001:db8:f::2)"
check_eq "one rule in 2001:db8:1::/64 (the winner's)" 1 \
	"$(( $(rules_from 2001:db8:1::2) + $(rules_from 2001:db8:1::5) ))"
check "the client namespace still exists (the counts above are real)" ip netns pids "$NS_CLI"
check "the refusals are logged" grep -q "overlap those of tunnel" "$TMP/aiccud.log"

# The tunnel on the Internet host's network: confined to its own table.
check_eq "the tunnel on 2001:db8:eeee::/64 is up" up "$(state sixxs3)"
check "its address is on its link" \
	sh -c "ip -n $NS_CLI -6 addr show dev sixxs3 | grep -q '2001:db8:eeee::5/64'"
check_eq "no route of 2001:db8:eeee::/64 in the main table" "" \
	"$(ip -n "$NS_CLI" -6 route show table main 2001:db8:eeee::/64)"
check "the host's own traffic to that network goes to the ISP (net0)" \
	sh -c "ip -n $NS_CLI -6 route get 2001:db8:eeee::2 | grep -q 'dev net0'"
check "traffic from the tunnel's address goes into the tunnel" \
	sh -c "ip -n $NS_CLI -6 route get 2001:db8:eeee::2 from 2001:db8:eeee::5 | grep -q 'dev sixxs3'"
check "the host's unsourced ping to the Internet host arrives" \
	lab_in "$NS_CLI" ping -6 -c 1 -W 2 2001:db8:eeee::2
kill -TERM "$LAB_AICCUD_PID"
lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check "the log exists" test -s "$TMP/aiccud.log"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
