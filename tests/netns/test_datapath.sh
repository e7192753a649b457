#!/bin/bash
# Issue 10: the user-space data paths (AYIYA and user-space 6in4) with the
# TUN/UDP offloads on and off, against the simulated PoP:
# - the offloaded path is chosen at start and shown in status, the plain
#   one where the tunnel says offload = no;
# - pings and TCP transfers both ways (every byte checked) over all four;
# - a SYN with MSS 1440 arrives with 1220 (MTU 1280 - 60), both ways, and
#   with 1440 where mss_clamp = no; status counts the clamps;
# - a capture of the offloaded AYIYA path on the client's link (segmented
#   as a wire would carry it) holds only valid AYIYA datagrams of at most
#   MTU + 44 bytes, checked one by one with the project's codec.
#
#   test_datapath.sh AICCUD AICCUCTL AYIYA_PCAPCHECK
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin datapath "$1" "$2"
PCAPCHECK=$3
BYTES=${AICCUD_TEST_BYTES:-8000000}


cat >"$TMP/pop.json" <<'JSON'
{"tunnels": [
 {"id": "T10001", "type": "ayiya", "password": "dp-secret-a",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": []},
 {"id": "T10002", "type": "ayiya", "password": "dp-secret-b",
  "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": []},
 {"id": "T20003", "type": "6in4-static", "ipv4_client": "192.0.2.2",
  "ipv6_pop": "2001:db8:c::1", "ipv6_client": "2001:db8:c::2", "prefix_len": 64,
  "ifname": "pop2", "mtu": 1280, "routed": []},
 {"id": "T20004", "type": "6in4-static", "ipv4_client": "192.0.2.2",
  "ipv6_pop": "2001:db8:d::1", "ipv6_client": "2001:db8:d::2", "prefix_len": 64,
  "ifname": "pop3", "mtu": 1280, "routed": []},
 {"id": "T10005", "type": "ayiya", "password": "dp-secret-e",
  "ipv6_pop": "2001:db8:e::1", "ipv6_client": "2001:db8:e::2", "prefix_len": 64,
  "ifname": "pop4", "mtu": 1280, "routed": []}
]}
JSON

# tunnel NAME ID TYPE NET TABLE OFFLOAD MSS_CLAMP PASSWORD
tunnel() {
	lab_tunnel_conf "$TMP/conf.d/$1.conf" "$1" "$2" "$3" "$4" "$5" $((1000 + $5 - 200)) "$8" \
		tunnel.datapath=userspace tunnel.offload="$6" tunnel.mss_clamp="$7" \
		params.ipv4_local=192.0.2.2 params.heartbeat_interval=60
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" "$TMP/pop.json" || fail_now "PoP simulator"
mkdir -p "$TMP/conf.d" "$TMP/state"
tunnel sixxs0 T10001 ayiya a 200 yes yes dp-secret-a
tunnel sixxs1 T10002 ayiya b 201 no yes dp-secret-b
tunnel sixxs2 T20003 6in4-static c 202 yes yes unused
tunnel sixxs3 T20004 6in4-static d 203 no yes unused
tunnel sixxs4 T10005 ayiya e 204 yes no dp-secret-e
chmod 600 "$TMP"/conf.d/*.conf
lab_daemon_conf "$TMP"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
for t in 0 1 2 3 4; do
	check "sixxs$t comes up" lab_wait 20 is_up sixxs$t
done
ctl status sixxs0

echo "# the path chosen at start"
off0=$(status_eval sixxs0 't.get("offload")')
echo "# sixxs0 (AYIYA, offload = yes): $off0"
# What the kernel granted differs: TUN USO came with Linux 6.2 (Debian 12's
# 6.1 grants TSO only); status and log must say which.
echo "# kernel $(uname -r)${AICCUD_UML:+ (user-mode-linux)}"
if printf '%s\n' 6.2 "$(uname -r | cut -d- -f1)" | sort -V -C; then
	check "a 6.2 or later kernel grants TUN USO too" grep -q tun-uso <<<"$off0"
else
	no_uso() { case "$off0" in *tun-uso*) return 1 ;; esac; }
	check "a kernel before 6.2 grants no TUN USO, and status says so" no_uso
fi
check "the log names the offloads status shows" \
	grep -q "link sixxs0 up .*, offloads $off0\$" "$TMP/aiccud.log"
check "AYIYA with offload = yes uses the TUN's TSO" grep -q tun-tso <<<"$off0"
check "and UDP segmentation and GRO" sh -c "echo '$off0' | grep -q udp-gso && echo '$off0' | grep -q udp-gro"
check_eq "AYIYA with offload = no takes the plain path" plain "$(status_eval sixxs1 't.get("offload")')"
check "user-space 6in4 with offload = yes uses the TUN's TSO" \
	grep -q tun-tso <<<"$(status_eval sixxs2 't.get("offload")')"
check_eq "user-space 6in4 with offload = no takes the plain path" plain "$(status_eval sixxs3 't.get("offload")')"
check "aiccuctl status shows it" grep -q '^offload  *tun-tso' <<<"$(ctl status sixxs0)"

echo "# pings and TCP transfers, offloads on and off"
ready=$TMP/xfer.ready
ip netns exec "$NS_POP" python3 "$HERE/tcpxfer.py" serve :: 5201 "$ready" 2>"$TMP/xfer.log" &
LAB_PIDS+=("$!")
check "transfer server starts" lab_wait 10 test -e "$ready"
# and one announcing MSS 200: super-packets from the TUN of 300+ segments
ip netns exec "$NS_POP" python3 "$HERE/tcpxfer.py" serve :: 5202 "$ready.200" 200 2>>"$TMP/xfer.log" &
LAB_PIDS+=("$!")
check "small-MSS transfer server starts" lab_wait 10 test -e "$ready.200"
for t in "a sixxs0 offloaded-AYIYA" "b sixxs1 plain-AYIYA" "c sixxs2 offloaded-6in4" "d sixxs3 plain-6in4"; do
	set -- $t
	check "$3: ping from the PoP" lab_in "$NS_POP" ping -6 -c 3 -i 0.2 -W 2 "2001:db8:$1::2"
	check "$3: ping of 1232 bytes (a full 1280-byte packet)" \
		lab_in "$NS_POP" ping -6 -c 2 -i 0.2 -W 2 -s 1232 -M do "2001:db8:$1::2"
	check "$3: TCP upload of $BYTES bytes" \
		lab_in "$NS_CLI" python3 "$HERE/tcpxfer.py" up "2001:db8:$1::1" 5201 "2001:db8:$1::2" "$BYTES" 1
	check "$3: TCP download of $BYTES bytes" \
		lab_in "$NS_CLI" python3 "$HERE/tcpxfer.py" down "2001:db8:$1::1" 5201 "2001:db8:$1::2" "$BYTES" 2
	check "$3: TCP upload of 1000000 bytes in segments of 200" \
		lab_in "$NS_CLI" python3 "$HERE/tcpxfer.py" up "2001:db8:$1::1" 5202 "2001:db8:$1::2" 1000000 5
	echo "# $3: $(status_eval "$2" '"tx %d rx %d packets, drops %s" % (t["counters"]["tx_packets"], t["counters"]["rx_packets"], {k: v for k, v in t["counters"]["drops"].items() if v})')"
done

# Counted per IPv6 packet on the wire, not per super-packet: the uploads and
# downloads alone were at least BYTES / 1220 data segments each way.
segs=$((BYTES / 1220))
counted_segments() { [ "$(status_eval sixxs0 't["counters"]["tx_packets"] >= '$segs' and t["counters"]["rx_packets"] >= '$segs)" = True ]; }
check "offloaded AYIYA counts every segment it sent and received (>= $segs each way)" lab_wait 5 counted_segments
echo "# a UDP super-packet of 100 datagrams (more than one split takes at once)"
# burst NET PORT: datagrams of 100 bytes that arrive at the PoP out of one 100-segment send
burst() {
	local rdy=$TMP/burst.$2.ready out=$TMP/burst.$2
	ip netns exec "$NS_POP" python3 "$HERE/udpburst.py" recv "2001:db8:$1::1" "$2" 100 2 "$rdy" >"$out" &
	local pid=$!
	LAB_PIDS+=("$pid")
	lab_wait 5 test -e "$rdy" || { echo "no-receiver"; return; }
	ip netns exec "$NS_CLI" python3 "$HERE/udpburst.py" send "2001:db8:$1::2" "2001:db8:$1::1" "$2" 100 100 ||
		echo "# the send failed" >&2
	wait "$pid"
	cat "$out"
}
# (offloaded only: a TUN without checksum offload makes the kernel refuse UDP_SEGMENT, EIO)
bport=6100
for t in "a offloaded-AYIYA" "c offloaded-6in4"; do
	set -- $t
	bport=$((bport + 1)) # (a port, and so a ready file, of its own)
	check_eq "$2: all 100 datagrams of one UDP_SEGMENT send arrive intact" 100 "$(burst "$1" $bport)"
done
echo "# MSS clamping (MTU 1280: 1220)"
# probe FROM-NS TO-NS SRC DST PORT: the MSS a SYN with 1440 arrives with
probe() {
	local out=$TMP/mss.$5 rdy=$TMP/mss.$5.ready
	ip netns exec "$2" python3 "$HERE/mssprobe.py" recv "$4" "$5" 5 "$rdy" >"$out" &
	local pid=$!
	LAB_PIDS+=("$pid")
	lab_wait 5 test -e "$rdy" || { echo "no-receiver"; return; }
	ip netns exec "$1" python3 "$HERE/mssprobe.py" send "$3" "$4" "$5" 1440
	wait "$pid"
	cat "$out"
}
port=7000
for t in "a sixxs0 offloaded-AYIYA" "b sixxs1 plain-AYIYA" "c sixxs2 offloaded-6in4" "d sixxs3 plain-6in4"; do
	set -- $t
	port=$((port + 2))
	check_eq "$3: a SYN with MSS 1440 to the PoP arrives with 1220" 1220 \
		"$(probe "$NS_CLI" "$NS_POP" "2001:db8:$1::2" "2001:db8:$1::1" $port)"
	check_eq "$3: a SYN with MSS 1440 from the PoP arrives with 1220" 1220 \
		"$(probe "$NS_POP" "$NS_CLI" "2001:db8:$1::1" "2001:db8:$1::2" $((port + 1)))"
done
counted() { [ "$(status_eval sixxs0 't["counters"]["mss_clamped_tx"] >= 1 and t["counters"]["mss_clamped_rx"] >= 1')" = True ]; }
check "status counts the clamped SYNs both ways (counters arrive every second)" lab_wait 5 counted
check_eq "mss_clamp = no: the SYN to the PoP keeps its 1440" 1440 \
	"$(probe "$NS_CLI" "$NS_POP" 2001:db8:e::2 2001:db8:e::1 7100)"
check_eq "mss_clamp = no: the SYN from the PoP keeps its 1440" 1440 \
	"$(probe "$NS_POP" "$NS_CLI" 2001:db8:e::1 2001:db8:e::2 7101)"
check_eq "and nothing is counted" "0 0" "$(status_eval sixxs4 '"%d %d" % (t["counters"]["mss_clamped_tx"], t["counters"]["mss_clamped_rx"])')"
# The batching counters (issue 24): receive calls and datagrams, TUN writes and packets.
# Plain AYIYA writes one packet per write; offloaded 6in4 may carry several in one.
io_plain() { [ "$(status_eval sixxs1 't["counters"]["rx_calls"] >= 1 and t["counters"]["rx_datagrams"] >= t["counters"]["rx_calls"] and t["counters"]["tun_writes"] == t["counters"]["tun_packets"] == t["counters"]["rx_packets"] >= 1')" = True ]; }
io_offload() { [ "$(status_eval sixxs2 't["counters"]["rx_calls"] >= 1 and t["counters"]["rx_datagrams"] >= t["counters"]["rx_calls"] and 1 <= t["counters"]["tun_writes"] <= t["counters"]["tun_packets"] == t["counters"]["rx_packets"]')" = True ]; }
check "status counts receive calls and TUN writes (plain AYIYA)" lab_wait 5 io_plain
check "status counts receive calls and TUN writes (offloaded 6in4)" lab_wait 5 io_offload

echo "# a capture of the offloaded AYIYA path, checked datagram by datagram"
# One segment per packet on the client's link, as a wire carries UDP_SEGMENT sends
# (a veth would pass the 64 KiB super-packets to the capture whole).
ip -n "$NS_CLI" link set net0 gso_max_segs 1
ip netns exec "$NS_CLI" dumpcap -q -P -i net0 -f "udp port 5072" -w "$TMP/ayiya.pcap" 2>"$TMP/dumpcap.log" &
cap=$!
LAB_PIDS+=("$cap")
check "dumpcap starts" lab_wait 10 grep -q "Capturing on" "$TMP/dumpcap.log"
check "offloaded AYIYA: TCP upload during the capture" \
	lab_in "$NS_CLI" python3 "$HERE/tcpxfer.py" up 2001:db8:a::1 5201 2001:db8:a::2 "$BYTES" 3
check "offloaded AYIYA: TCP download during the capture" \
	lab_in "$NS_CLI" python3 "$HERE/tcpxfer.py" down 2001:db8:a::1 5201 2001:db8:a::2 "$BYTES" 4
check "offloaded AYIYA: pings during the capture" lab_in "$NS_POP" ping -6 -c 3 -i 0.2 -W 2 2001:db8:a::2
kill -INT "$cap"
check "dumpcap ends" lab_wait 10 sh -c "! kill -0 $cap 2>/dev/null"
verdict=$("$PCAPCHECK" "$TMP/ayiya.pcap" dp-secret-a 2001:db8:a::2 2001:db8:a::1 1280 2>&1)
rc=$?
echo "# $verdict"
check_eq "every captured datagram is a valid AYIYA datagram of at most 1324 bytes" 0 "$rc"

kill -TERM "$LAB_AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check "no sixxs link left" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
grep -i "offload\|error\|warn" "$TMP/aiccud.log" | head -20
finish
