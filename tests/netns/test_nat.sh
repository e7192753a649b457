#!/bin/bash
# Issue 14 end to end: a NAT between client and PoP (lab_up_nat: the client
# is 198.51.100.2 inside, the PoP sees the NAT's 192.0.2.20).
# - A 6in4-heartbeat tunnel with the default configuration (no behind_nat
#   key) stays up across three heartbeat intervals, the PoP seeing
#   `sender` and the NAT's address, and forwards pings both ways.
# - An AYIYA tunnel does the same.
# - `aiccuctl import-aiccu` of an AICCU file with `behindnat false`
#   (tests/data/aiccu/behindnat_false.conf, used unchanged: its server is
#   AICCU's default tic.sixxs.net, which the client namespace's hosts file
#   maps to the lab's 192.0.2.1) gives a tunnel file (parameters over TIC)
#   that works behind the same NAT.
# Three intervals are measured by the PoP's counters and timestamps.
#
#   test_nat.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin nat "$1" "$2"
INTERVAL=2

pop_true() { [ "$(lab_pop_stat "$1" "$2")" = True ]; }
went_down() { grep -c "$1: down" "$TMP/pop.log"; }

lab_up_nat || fail_now "lab set-up (NAT)"
check_eq "the client's own IPv4 is inside the NAT" 198.51.100.2 "$LAB_CLIENT4"
check "the client reaches the PoP through the NAT" lab_in "$NS_CLI" ping -c 1 -W 2 192.0.2.1

# Broker: T10001 heartbeat and T10002 AYIYA (configured from files below),
# T20002 heartbeat (fetched over TIC by the imported AICCU file, whose
# account NAT1-SIXXS / natpass it is).
lab_tic_fixture "$TMP" 3 6in4-heartbeat,ayiya,6in4-heartbeat
python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
acc = json.load(open(d + "/accounts.json"))
a = acc["accounts"][0]
a["username"], a["password"] = "NAT1-SIXXS", "natpass"
a["tunnels"][2]["TunnelId"] = "T20002"
json.dump(acc, open(d + "/accounts.json", "w"), indent=1)
pop = json.load(open(d + "/pop-tic.json"))
pop["tunnels"][2]["id"] = "T20002"
json.dump(pop, open(d + "/pop-tic.json", "w"), indent=1)
PY
bash "$LAB_SIM/mkca.sh" "$TMP/pki" tic.sixxs.net 192.0.2.1 >/dev/null || fail_now "test PKI"
# Down after 2.5 intervals without a valid packet: a heartbeat or keep-alive
# the PoP refuses makes the tunnel go down within the test.
lab_pop_start "$TMP" "$TMP/pop-tic.json" --down-after $((INTERVAL * 5 / 2)) || fail_now "PoP simulator"
lab_tic_start "$TMP" server || fail_now "TIC server"

mkdir -p "$TMP/conf.d" "$TMP/state" "/etc/netns/$NS_CLI"
echo "192.0.2.1 tic.sixxs.net" >"/etc/netns/$NS_CLI/hosts"
cat >"$TMP/aiccud.conf" <<EOF
[daemon]
control_socket = $TMP/run/aiccud.sock
state_dir = $TMP/state
user = $LAB_USER
conf_dir = $TMP/conf.d

[tic]
ca_file = $TMP/pki/ca.pem

[limiter]
refill = 16
EOF
chmod 600 "$TMP/aiccud.conf"
# file_tunnel NAME ID TYPE N TABLE PASSWORD: the default configuration
# (no behind_nat, no ipv4_local, datapath auto) of tunnel N's parameters.
file_tunnel() {
	cat >"$TMP/conf.d/$1.conf" <<EOF
[tunnel]
interface = $1
id = $2
tic = no
table = $5
rule_priority = $((800 + $5))

[params]
type = $3
ipv6_local = 2001:db8:$4::2
ipv6_pop = 2001:db8:$4::1
prefix_len = 64
ipv4_pop = 192.0.2.1
password = $6
heartbeat_interval = $INTERVAL
mtu = 1280
EOF
}
file_tunnel sixxs0 T10001 6in4-heartbeat 1 200 tunnel-secret-1
file_tunnel sixxs1 T10002 ayiya 2 201 tunnel-secret-2
check_absent "the heartbeat tunnel file has neither behind_nat nor heartbeat_ipv4" 'behind_nat|heartbeat_ipv4' "$TMP/conf.d/sixxs0.conf"

# An AICCU user's file, imported as it is.
AICCU_FILE=$HERE/../data/aiccu/behindnat_false.conf
check "the AICCU file says behindnat false" grep -q '^behindnat false' "$AICCU_FILE"
"$AICCUCTL" import-aiccu --interface sixxs2 --table 202 --rule-priority 1002 \
	-o "$TMP/conf.d/sixxs2.conf" "$AICCU_FILE" 2>"$TMP/import.err"
rc=$?
sed 's/^/# import: /' "$TMP/import.err"
check_eq "import-aiccu converts the file completely" 0 "$rc"
grep -v '^password' "$TMP/conf.d/sixxs2.conf" | sed 's/^/#   /'
chmod 600 "$TMP"/conf.d/*.conf

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$TMP/run/aiccud.sock" || fail_now "aiccud start"
check "the heartbeat tunnel comes up" lab_wait 20 is_up sixxs0
check "the AYIYA tunnel comes up" lab_wait 20 is_up sixxs1

echo "# heartbeat tunnel, default configuration, behind the NAT"
check "the PoP accepts its heartbeats" lab_wait 10 pop_true T10001 's["heartbeats"] >= 1'
check_eq "the heartbeats carry 'sender'" sender "$(lab_pop_stat T10001 's["last_heartbeat_ipv4_field"]')"
check_eq "the PoP uses the NAT's outside address" "$LAB_SEEN4" "$(lab_pop_stat T10001 's["client_ipv4"]')"
check_eq "no HB Sender Mismatch" 0 "$(lab_pop_stat T10001 's["hb_failures"]["address"]')"
check "the PoP confirms the tunnel (our first proto-41 came through the NAT)" lab_wait 15 pop_true T10001 's["confirmed"]'

# three_intervals ID KEY TIME-KEY WHAT: from one snapshot of the PoP's
# counters (count KEY, time of the last one TIME-KEY), poll until the PoP's
# own timestamp shows three intervals more; meanwhile KEY must have been
# counted at least three more times and the tunnel never gone down.
three_intervals() {
	local id=$1 key=$2 tkey=$3 what=$4 n0 t0 n1 t1 down0
	read -r n0 t0 <<<"$(lab_pop_stat "$id" "'%d %.3f' % (s['$key'], s['$tkey'] or 0)")"
	down0=$(went_down "$id")
	later() { pop_true "$id" "(s['$tkey'] or 0) - $t0 >= 3 * $INTERVAL - 0.3"; }
	check "$what: the PoP's clock shows three intervals more (bounded wait)" \
		lab_wait $((INTERVAL * 3 + 10)) later
	read -r n1 t1 <<<"$(lab_pop_stat "$id" "'%d %.3f' % (s['$key'], s['$tkey'] or 0)")"
	echo "# $id: $key $n0 -> $n1 between PoP times $t0 and $t1"
	check "$what: counted at least three more meanwhile" test "$((n1 - n0))" -ge 3
	check_eq "$what: the PoP never marked the tunnel down meanwhile" "$down0" "$(went_down "$id")"
	check_eq "$what: the PoP still has it up" True "$(lab_pop_stat "$id" 's["up"]')"
}
three_intervals T10001 heartbeats last_heartbeat "heartbeat tunnel"
check_eq "heartbeat tunnel: still 'sender'" sender "$(lab_pop_stat T10001 's["last_heartbeat_ipv4_field"]')"
check_eq "heartbeat tunnel: still the NAT's address" "$LAB_SEEN4" "$(lab_pop_stat T10001 's["client_ipv4"]')"
check_eq "heartbeat tunnel: no heartbeat refused" "{'address': 0, 'clock': 0, 'hash': 0}" "$(lab_pop_stat T10001 's["hb_failures"]')"
check "heartbeat tunnel: aiccud still has it up" is_up sixxs0

echo "# AYIYA tunnel behind the NAT"
three_intervals T10002 keepalives last_valid "AYIYA tunnel"
check_eq "AYIYA tunnel: the PoP's endpoint is the NAT's address" "$LAB_SEEN4" \
	"$(lab_pop_stat T10002 '(s["client"] or "").rsplit(":", 1)[0]')"
check_eq "AYIYA tunnel: no datagram from us dropped" 0 "$(lab_pop_stat T10002 "$LAB_POP_RX_DROPS")"
check "AYIYA tunnel: aiccud still has it up" is_up sixxs1

# pings NET NAME WHAT: both ways between the Internet host and our address.
pings() {
	check "$3: client -> Internet host from 2001:db8:$1::2 through $2" \
		lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 -I "2001:db8:$1::2" 2001:db8:eeee::2
	check "$3: Internet host -> 2001:db8:$1::2 through $2" \
		lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "2001:db8:$1::2"
}
pings 1 sixxs0 "heartbeat tunnel"
pings 2 sixxs1 "AYIYA tunnel"

echo "# the tunnel imported from AICCU (behindnat false), over TIC, behind the NAT"
settled2() { case "$(field sixxs2 state)" in up | failed) return 0 ;; esac; return 1; }
lab_wait 60 settled2
check "the imported tunnel comes up (after a limiter token)" is_up sixxs2
is_up sixxs2 || echo "# sixxs2: $(field sixxs2 state): $(field sixxs2 reason)"
check_eq "it is the broker's heartbeat tunnel" 6in4-heartbeat "$(field sixxs2 type)"
check_eq "fetched in one TIC session" 1 "$(tic_count "$TMP/tic.log" connect)"
check "of the AICCU file's account (server: AICCU's default name, the lab's hosts file)" \
	grep -q '"cmd": "authenticate", "code": 200, "user": "NAT1-SIXXS"' "$TMP/tic.log"
check "the PoP accepts its heartbeats" lab_wait 15 pop_true T20002 's["heartbeats"] >= 1'
check_eq "its heartbeats carry 'sender'" sender "$(lab_pop_stat T20002 's["last_heartbeat_ipv4_field"]')"
check_eq "the PoP uses the NAT's address" "$LAB_SEEN4" "$(lab_pop_stat T20002 's["client_ipv4"]')"
check_eq "no HB Sender Mismatch" 0 "$(lab_pop_stat T20002 's["hb_failures"]["address"]')"
check "the PoP confirms it" lab_wait 15 pop_true T20002 's["confirmed"]'
pings 3 sixxs2 "imported tunnel"

echo "# the NAT's flows:"
lab_nat_flows | grep -E 'dport=(3740|5072)|unknown +41' | sed 's/^/#   /' | head -8
kill -TERM "$LAB_AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
if [ "$ASSERT_FAIL" -ne 0 ]; then
	echo "--- aiccud log"
	cat "$TMP/aiccud.log"
	echo "--- PoP log"
	cat "$TMP/pop.log"
fi
finish
