#!/bin/bash
# Issue 4 end to end: a 6in4-heartbeat and a 6in4-static tunnel against the
# simulated PoP (user-space proto-41 on both ends: this machine's kernel
# has no sit), with per-tunnel source routing; heartbeats counted at the
# configured interval; a wrong password shows as hash failures and an
# unconfirmed tunnel; a new client IPv4 address reaches the PoP with the
# next heartbeat.  Issue 14: the start-up pair of identical heartbeats on the
# wire, and a heartbeat tunnel whose first packets are lost (as when one
# overtakes the heartbeat at the PoP) shows "waiting for the PoP" and is
# confirmed once the repeated packet gets through.
#
#   test_6in4.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin 6in4 "$1" "$2"
INTERVAL=2


cat >"$TMP/pop-6in4.json" <<'JSON'
{"tunnels": [
 {"id": "T20001", "type": "6in4-heartbeat", "password": "hb-secret",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": [], "heartbeat_interval": 2},
 {"id": "T20002", "type": "6in4-static", "ipv4_client": "192.0.2.2",
  "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": []},
 {"id": "T20003", "type": "6in4-heartbeat", "password": "the-right-one",
  "ipv6_pop": "2001:db8:c::1", "ipv6_client": "2001:db8:c::2", "prefix_len": 64,
  "ifname": "pop2", "mtu": 1280, "routed": [], "heartbeat_interval": 2}
]}
JSON

# tunnel NAME ID TYPE NET TABLE PRIO DATAPATH PASSWORD IPV4-LOCAL [IPV4-POP]
tunnel() {
	lab_tunnel_conf "$TMP/conf.d/$1.conf" "$1" "$2" "$3" "$4" "$5" "$6" "$8" tunnel.datapath="$7" \
		params.ipv4_pop="${10:-192.0.2.1}" params.ipv4_local="$9" params.heartbeat_interval="$INTERVAL"
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" "$TMP/pop-6in4.json" || fail_now "PoP simulator"
mkdir -p "$TMP/conf.d" "$TMP/state"
tunnel sixxs0 T20001 6in4-heartbeat a 200 1000 auto hb-secret heartbeat
tunnel sixxs1 T20002 6in4-static b 201 1001 userspace unused 192.0.2.2
tunnel sixxs2 T20003 6in4-heartbeat c 202 1002 userspace wrong-password heartbeat
# (its own PoP address: a sit kernel refuses two links with the same endpoints)
tunnel sixxs3 T20004 6in4-static d 203 1003 kernel unused 192.0.2.2 192.0.2.9
chmod 600 "$TMP"/conf.d/*.conf
cat >"$TMP/aiccud.conf" <<EOF
[daemon]
control_socket = $TMP/run/aiccud.sock
state_dir = $TMP/state
conf_dir = $TMP/conf.d
user = $LAB_USER
EOF

# What leaves the client during the start (the start-up heartbeats).
ip netns exec "$NS_CLI" dumpcap -q -P -i net0 -f "udp dst port 3740" -w "$TMP/start.pcap" \
	2>"$TMP/dumpcap.log" &
DUMPCAP_PID=$!
LAB_PIDS+=("$DUMPCAP_PID")
lab_wait 10 grep -q "Capturing on" "$TMP/dumpcap.log" || fail_now "dumpcap on net0"
# The PoP loses sixxs0's proto-41 until we lift this: its first packet is gone.
# nftables where the kernel has it for IPv4; Debian 12's kernel as UML has
# nf_tables for bridges only, there a tc u32 filter with a drop action
# (which the build host's kernel, without act_gact, has not).
echo "# kernel $(uname -r)${AICCUD_UML:+ (user-mode-linux)}"
if lab_in "$NS_POP" nft -f - 2>"$TMP/nft.err" <<'NFT'; then
table ip aiccud_test {
	chain input {
		type filter hook input priority -150; policy accept;
		ip saddr 192.0.2.0/24 ip protocol 41 @nh,224,128 0x20010db8000a00000000000000000002 counter drop
	}
}
NFT
	DROP_BY=nft
	lost() { # packets the PoP's rule dropped
		lab_in "$NS_POP" nft list table ip aiccud_test | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
	}
	lift() { lab_in "$NS_POP" nft delete table ip aiccud_test; }
else
	sed 's/^/# nft: /' "$TMP/nft.err"
	DROP_BY=tc
	tc -n "$NS_POP" qdisc add dev isp0 ingress &&
		tc -n "$NS_POP" filter add dev isp0 ingress protocol ip prio 1 u32 \
			match ip protocol 41 0xff match ip src 192.0.2.0/24 \
			match u32 0x20010db8 0xffffffff at 28 match u32 0x000a0000 0xffffffff at 32 \
			match u32 0 0xffffffff at 36 match u32 2 0xffffffff at 40 action drop ||
		fail_now "neither nft nor tc can drop at the PoP"
	lost() { tc -n "$NS_POP" -s filter show dev isp0 ingress | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -1; }
	lift() { tc -n "$NS_POP" qdisc del dev isp0 ingress; }
fi
echo "# the PoP drops sixxs0's first proto-41 packets with $DROP_BY"

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "the heartbeat tunnel comes up" lab_wait 15 is_up sixxs0
check "the static tunnel comes up" lab_wait 15 is_up sixxs1
check "the wrong-password tunnel's link comes up too" lab_wait 15 is_up sixxs2
ctl status

settled() { case "$(status_eval sixxs3 't["state"]')" in up | failed) return 0 ;; esac; return 1; }
check "the datapath = kernel tunnel settles" lab_wait 15 settled
if grep -q "kernel has no sit support" "$TMP/aiccud.log"; then
	echo "# this kernel has no sit: datapath = kernel must fail clearly, once"
	check_eq "datapath = kernel fails" failed "$(status_eval sixxs3 't["state"]')"
	reason=$(status_eval sixxs3 't["reason"]')
	echo "# reason: $reason"
	check "and says the kernel has no sit support" grep -q "no sit support" <<<"$reason"
	sleep 3
	check_eq "without being retried (one start, no restarts)" "1 0" \
		"$(status_eval sixxs3 'str(t["starts"]) + " " + str(t["restarts"])')"
	check_eq "datapath = auto fell back to user space and says so" userspace \
		"$(status_eval sixxs0 't.get("datapath_in_use")')"
else
	check_eq "datapath = auto chose the kernel's sit" kernel "$(status_eval sixxs0 't.get("datapath_in_use")')"
	check_eq "datapath = kernel comes up on sit" up "$(status_eval sixxs3 't["state"]')"
	check_eq "and uses the kernel" kernel "$(status_eval sixxs3 't.get("datapath_in_use")')"
fi
check_eq "datapath = userspace is what the static tunnel uses" userspace \
	"$(status_eval sixxs1 't.get("datapath_in_use")')"
check_eq "status shows our IPv4 toward the PoP" 192.0.2.2 "$(status_eval sixxs0 't.get("local_ipv4")')"
check_eq "and a static tunnel's configured IPv4" 192.0.2.2 "$(status_eval sixxs1 't.get("local_ipv4")')"
confirmed() { [ "$(lab_pop_stat T20001 's["confirmed"]')" = True ]; }
waiting() { [ "$(status_eval sixxs0 't.get("pop_state")')" = "waiting for the PoP" ]; }
repeated() { [ "$(lost)" -ge 2 ]; }
echo "# the PoP loses sixxs0's first packets"
check "our first packet through sixxs0 was lost, and repeated" lab_wait 10 repeated
check "status: sixxs0 is waiting for the PoP" waiting
table_waiting() { ctl status | grep -q '^sixxs0 .*up, waiting for the PoP '; }
check "the status table says so" table_waiting
check_eq "and it is not confirmed" False "$(status_eval sixxs0 't.get("confirmed")')"
check_eq "the PoP did not confirm it" False "$(lab_pop_stat T20001 's["confirmed"]')"
lift
check "the PoP confirms the heartbeat tunnel once a repeated first packet gets through" \
	lab_wait 10 confirmed
pop_state_confirmed() { [ "$(status_eval sixxs0 't.get("pop_state")')" = confirmed ]; }
check "status: sixxs0 is confirmed" lab_wait 5 pop_state_confirmed
check "the log says what it waited for" grep -q "sixxs0: waiting for the PoP to forward" "$TMP/aiccud.log"

echo "# the start-up heartbeats on the wire"
kill -INT "$DUMPCAP_PID"
wait "$DUMPCAP_PID" 2>/dev/null
startup_beats() { # first beats of sixxs0: 2 identical, back to back, own source ports
	tshark -r "$TMP/start.pcap" -T fields -e frame.time_epoch -e udp.srcport -e data 2>/dev/null |
		python3 -c '
import sys
beats = []
for line in sys.stdin:
    f = line.split()
    if len(f) == 3 and bytes.fromhex(f[2]).decode(errors="replace").split(" ")[2:3] == ["2001:db8:a::2"]:
        beats.append((float(f[0]), f[1], bytes.fromhex(f[2]).decode()))
print(len(beats), beats[:3], file=sys.stderr)
ok = (len(beats) >= 3 and beats[0][2] == beats[1][2] and beats[1][0] - beats[0][0] < 0.1
      and beats[0][1] != beats[1][1] and beats[2][0] - beats[1][0] > 0.5
      and all(b[2].split(" ")[3] == "sender" for b in beats))
sys.exit(0 if ok else 1)'
}
check "2 identical heartbeats at start, each from its own port, then a pause; all say sender" startup_beats

for t in "a sixxs0" "b sixxs1"; do
	set -- $t
	check "ping from the PoP to 2001:db8:$1::2 through $2" \
		lab_in "$NS_POP" ping -6 -c 3 -i 0.2 -W 2 "2001:db8:$1::2"
	check "ping from the Internet host to 2001:db8:$1::2" \
		lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "2001:db8:$1::2"
	check "traffic from 2001:db8:$1::2 is routed into $2" \
		sh -c "ip -n $NS_CLI -6 route get 2001:db8:eeee::2 from 2001:db8:$1::2 | grep -q 'dev $2'"
	check "traffic from 2001:db8:$1::2 reaches the Internet through $2" \
		lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 -I "2001:db8:$1::2" 2001:db8:eeee::2
done
check "main table default still points at net0" \
	sh -c "ip -n $NS_CLI -6 route show default | grep -q 'dev net0'"

echo "# heartbeats at the configured interval ($INTERVAL s)"
# Count and time of the last accepted beat from one snapshot, so the rate
# comes from the PoP's clock, not from how long these reads take under load.
read -r b0 t0 <<<"$(lab_pop_stat T20001 'str(s["heartbeats"]) + " " + str(s["last_heartbeat"])')"
sleep $((INTERVAL * 4 + 1))
read -r b1 t1 <<<"$(lab_pop_stat T20001 'str(s["heartbeats"]) + " " + str(s["last_heartbeat"])')"
gap=$(lab_pop_stat T20001 's["last_heartbeat_gap"]')
echo "# the PoP accepted $((b1 - b0)) heartbeats in $((INTERVAL * 4 + 1)) s, from $t0 to $t1; last gap ${gap} s"
# At least 4: a loaded machine only makes the sleep longer (more beats); too
# many beats is the rate check's job, on the PoP's clock.
check "the PoP accepted at least 4 heartbeats in $((INTERVAL * 4 + 1)) s" test $((b1 - b0)) -ge 4
check "one every $INTERVAL s between those beats, by the PoP's clock" \
	python3 -c "import sys; sys.exit(0 if abs(($t1 - $t0) / ($b1 - $b0) - $INTERVAL) < 0.25 else 1)"
check "consecutive heartbeats are $INTERVAL s apart" \
	python3 -c "import sys; sys.exit(0 if abs($gap - $INTERVAL) < 0.5 else 1)"
check_eq "no heartbeat of the good tunnel failed" "{'address': 0, 'clock': 0, 'hash': 0}" \
	"$(lab_pop_stat T20001 's["hb_failures"]')"
check_eq "a static tunnel sends no heartbeats" 0 "$(status_eval sixxs1 't["counters"]["keepalives"]')"

echo "# wrong password"
check "the PoP counts hash failures" test "$(lab_pop_stat T20003 's["hb_failures"]["hash"]')" -ge 3
check_eq "the PoP never confirmed that tunnel" False "$(lab_pop_stat T20003 's["confirmed"]')"
check_eq "status: nothing ever came back through it" 0 "$(status_eval sixxs2 't["counters"]["rx_packets"]')"
check_eq "status: it is not confirmed" False "$(status_eval sixxs2 't.get("confirmed")')"
check_eq "status: it is waiting for the PoP" "waiting for the PoP" "$(status_eval sixxs2 't.get("pop_state")')"
check_eq "status: the good one is" True "$(status_eval sixxs0 't.get("confirmed")')"
check "the wrong-password tunnel's address does not answer" \
	sh -c "! ip netns exec $NS_POP ping -6 -c 2 -i 0.2 -W 1 2001:db8:c::2"

echo "# the client's IPv4 address changes"
# (deleting the old primary first: it would take a secondary with it)
ip -n "$NS_CLI" addr del 192.0.2.2/24 dev net0
ip -n "$NS_CLI" addr add 192.0.2.3/24 dev net0
t0=$(date +%s.%N)
moved() { [ "$(lab_pop_stat T20001 's["client_ipv4"]')" = 192.0.2.3 ]; }
check "the next heartbeat carries the new address" lab_wait $((INTERVAL * 3)) moved
echo "# the PoP learned 192.0.2.3 after $(python3 -c "import time; print(round(time.time() - $t0, 2))") s (interval $INTERVAL s)"
status_moved() { [ "$(status_eval sixxs0 't.get("local_ipv4")')" = 192.0.2.3 ]; }
check "status shows the new address (counters arrive every second)" lab_wait 5 status_moved
check "pings through the heartbeat tunnel work again" \
	lab_wait 10 lab_in "$NS_POP" ping -6 -c 1 -W 1 2001:db8:a::2
check_eq "no heartbeat was refused for its address" 0 "$(lab_pop_stat T20001 's["hb_failures"]["address"]')"

kill -TERM "$LAB_AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no aiccud rule left" "" "$(ip -N -n "$NS_CLI" -6 rule show | grep 'proto 157')"
check "no sixxs link left" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
