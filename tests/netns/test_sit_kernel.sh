#!/bin/bash
# Issue 18: 6in4 on the kernel's sit, end to end, against the simulated PoP
# (its user-space proto-41).  A 6in4-heartbeat and a 6in4-static tunnel on
# datapath = auto come up on sit links (status: kernel), forward pings both
# ways, have their deleted rule, route and address put back, survive a
# kill -9 of the parent (the fresh start takes the leftover links over,
# nothing doubled), follow a new IPv4 source toward the PoP (the parent
# moves the sit's local address; the heartbeat, sent by the worker over
# UDP, still reaches the PoP), and leave no link, rule or route after
# SIGTERM.  MTU on sit: a 1280-byte DF packet passes, one byte more fails
# locally; the kernel path has no MSS clamping of its own (aiccud owns no
# packet filter), what a host's own TCP gets is the route MTU's MSS.
#
# A kernel without sit (the build host's, often) skips with exit 77 and
# says why; the test command runs it on Debian 12's kernel (tests/uml).
#
#   test_sit_kernel.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

echo "# kernel $(uname -r)${AICCUD_UML:+ (user-mode-linux)}"
if ! unshare --net ip link add acdsit0 type sit local 192.0.2.2 remote 192.0.2.1 2>"/tmp/sitprobe.$$"; then
	echo "SKIP: this kernel ($(uname -r)) cannot make a sit link: $(cat "/tmp/sitprobe.$$")"
	rm -f "/tmp/sitprobe.$$"
	exit 77
fi
rm -f "/tmp/sitprobe.$$"

lab_test_begin sitkernel "$1" "$2"
INTERVAL=2
CLI() { ip -n "$NS_CLI" "$@"; }
CLIN() { ip -N -n "$NS_CLI" "$@"; }

cat >"$TMP/pop.json" <<'JSON'
{"tunnels": [
 {"id": "T20001", "type": "6in4-heartbeat", "password": "hb-secret",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": [], "heartbeat_interval": 2},
 {"id": "T20002", "type": "6in4-static", "ipv4_client": "192.0.2.4",
  "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": []}
]}
JSON

# tunnel NAME ID TYPE NET TABLE PRIO PASSWORD IPV4-LOCAL
tunnel() {
	lab_tunnel_conf "$TMP/conf.d/$1.conf" "$1" "$2" "$3" "$4" "$5" "$6" "$7" tunnel.datapath=auto \
		params.ipv4_local="$8" params.heartbeat_interval="$INTERVAL"
}

lab_up || fail_now "lab set-up"
# The static tunnel's own IPv4 (a /32 of its own: the heartbeat tunnel's
# source toward the PoP changes below, this one does not; a sit kernel
# refuses two links with the same endpoints).
CLI addr add 192.0.2.4/32 dev net0
lab_pop_start "$TMP" "$TMP/pop.json" || fail_now "PoP simulator"
mkdir -p "$TMP/conf.d" "$TMP/state"
tunnel sixxs0 T20001 6in4-heartbeat a 200 1000 hb-secret heartbeat
tunnel sixxs1 T20002 6in4-static b 201 1001 unused 192.0.2.4
chmod 600 "$TMP"/conf.d/*.conf
lab_daemon_conf "$TMP"

both_up() { is_up sixxs0 && is_up sixxs1; }
sit_of() { CLI -d link show dev "$1" 2>/dev/null | grep -o "link/sit [0-9.]* peer [0-9.]*"; }
ifindex_of() { CLI -o link show dev "$1" 2>/dev/null | cut -d: -f1; }
sit_count() { CLI -o link show type sit | grep -c " $1@"; }
has_rule() { CLIN -6 rule show | grep 'proto 157' | grep -q "from 2001:db8:$1::2 lookup $2"; }
has_route() { CLI -6 route show table "$2" proto 157 | grep -q "default dev $1 .*mtu 1280"; }
has_addr() { CLI -6 addr show dev "$1" | grep -q "inet6 2001:db8:$2::2/64"; }
pings_in() { lab_in "$NS_POP" ping -6 -c 2 -i 0.2 -W 2 "2001:db8:$1::2"; }
pings_net() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "2001:db8:$1::2"; }
pings_out() { lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 -I "2001:db8:$1::2" 2001:db8:eeee::2; }
pings_all() { pings_in a && pings_in b && pings_out a && pings_out b; }

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "both tunnels come up" lab_wait 30 both_up
check_eq "the heartbeat tunnel runs on the kernel's sit" kernel "$(field sixxs0 datapath_in_use)"
check_eq "the static tunnel runs on the kernel's sit" kernel "$(field sixxs1 datapath_in_use)"
check_eq "sixxs0 is a sit link from our source toward the PoP" \
	"link/sit 192.0.2.2 peer 192.0.2.1" "$(sit_of sixxs0)"
check_eq "sixxs1 is a sit link from its configured IPv4" \
	"link/sit 192.0.2.4 peer 192.0.2.1" "$(sit_of sixxs1)"
check "the log says the kernel carries the data" \
	grep -q "link sixxs0 up (ifindex [0-9]*), 6in4-heartbeat to 192.0.2.1, kernel data path" "$TMP/aiccud.log"
check_absent "no worker failed to make its link" 'cannot create sit link' "$TMP/aiccud.log"
ctl status

echo "# pings both ways"
for n in a b; do
	check "ping from the PoP to 2001:db8:$n::2" lab_wait 10 pings_in $n
	check "ping from the Internet host to 2001:db8:$n::2" pings_net $n
	check "ping from 2001:db8:$n::2 to the Internet host" pings_out $n
done
confirmed() { [ "$(lab_pop_stat T20001 's["confirmed"]')" = True ]; }
check "the PoP confirmed the heartbeat tunnel" lab_wait 10 confirmed

echo "# MTU 1280 on sit"
check "table 200's default route carries MTU 1280" has_route sixxs0 200
check "a 1232-byte DF ping (a 1280-byte packet) passes" \
	lab_in "$NS_CLI" ping -6 -c 1 -W 2 -M do -s 1232 -I 2001:db8:a::2 2001:db8:a::1
lab_in "$NS_CLI" ping -6 -c 1 -W 2 -M do -s 1233 -I 2001:db8:a::2 2001:db8:a::1 \
	>"$TMP/ping1233.log" 2>&1
big=$?
sed 's/^/     /' "$TMP/ping1233.log"
check "one byte more fails" test "$big" -ne 0
check "and fails locally (the sender is told the MTU, nothing is sent)" \
	grep -Eqi "message too long|mtu ?= ?1280" "$TMP/ping1233.log"
# The kernel path sees no packets, so nothing clamps a forwarded SYN; a
# TCP socket of this host on the tunnel address takes its MSS from the MTU
# of table 200's default route (1280 - 60), and that is what its SYN
# carries: tcp_info's advmss (a capture at the user-space PoP would see
# the inner checksum the sender left to the veth's offload).
advmss_of_connect() { # advmss and pmtu of a TCP connect from 2001:db8:a::2 to the Internet host
	lab_in "$NS_CLI" python3 -c '
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("2001:db8:a::2", 0))
s.setblocking(False)
s.connect_ex(("2001:db8:eeee::2", 7010))
# struct tcp_info: 8 bytes of flags, then u32s: pmtu is the 14th, advmss the 20th
i = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
print(struct.unpack_from("=I", i, 8 + 19 * 4)[0], struct.unpack_from("=I", i, 8 + 13 * 4)[0])'
}
read -r advmss pmtu <<<"$(advmss_of_connect)"
echo "     TCP from 2001:db8:a::2: advmss ${advmss:-?}, path MTU ${pmtu:-?}"
check_eq "the host's own TCP from 2001:db8:a::2 advertises MSS 1220 (the route's MTU - 60)" 1220 \
	"${advmss:-}"

echo "# repairs"
heals() { # NAME CHECK BREAK...
	local name=$1 what=$2 ms
	shift 2
	ms=$(lab_restore_ms "$what" "$@")
	echo "     $name: restored after $ms ms"
	check "$name is restored" test "$ms" != timeout -a "$ms" != break-failed
}
export -f has_rule has_route has_addr CLI CLIN
export NS_CLI
heals "sixxs0's rule" "has_rule a 200" ip -6 rule del from 2001:db8:a::2 table 200 priority 1000
check_eq "exactly one aiccud rule for sixxs0" 1 "$(lab_rules_for 2001:db8:a::2)"
heals "table 200's route" "has_route sixxs0 200" ip -6 route flush table 200
heals "sixxs0's address" "has_addr sixxs0 a" ip -6 addr del 2001:db8:a::2/64 dev sixxs0
heals "sixxs1's address" "has_addr sixxs1 b" ip -6 addr del 2001:db8:b::2/64 dev sixxs1
check "pings pass after the repairs" lab_wait 10 pings_all

echo "# kill -9 of the parent, then a fresh start"
idx0=$(ifindex_of sixxs0)
idx1=$(ifindex_of sixxs1)
wpids="$(field sixxs0 pid) $(field sixxs1 pid)"
lab_kill KILL "$LAB_AICCUD_PID"
workers_gone() { for p in $wpids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
check "the workers end with their parent" lab_wait 20 workers_gone
check_eq "the sit links are left behind" "1 1" "$(sit_count sixxs0) $(sit_count sixxs1)"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "both tunnels come up again" lab_wait 30 both_up
check_eq "still one sixxs0 and one sixxs1 sit link" "1 1" "$(sit_count sixxs0) $(sit_count sixxs1)"
echo "     ifindex before/after: sixxs0 $idx0/$(ifindex_of sixxs0), sixxs1 $idx1/$(ifindex_of sixxs1)"
check_eq "exactly one aiccud rule for each" "1 1" \
	"$(lab_rules_for 2001:db8:a::2) $(lab_rules_for 2001:db8:b::2)"
check_eq "exactly one route in each table" "1 1" \
	"$(CLI -6 route show table 200 | wc -l) $(CLI -6 route show table 201 | wc -l)"
check_eq "both still on sit" "kernel kernel" "$(field sixxs0 datapath_in_use) $(field sixxs1 datapath_in_use)"
check "pings pass after the fresh start" lab_wait 10 pings_all

echo "# the host's IPv4 source toward the PoP changes"
beats0=$(lab_pop_stat T20001 's["heartbeats"]')
# (deleting the old primary first: it would take a secondary with it)
CLI addr del 192.0.2.2/24 dev net0
CLI addr add 192.0.2.3/24 dev net0
moved() { [ "$(sit_of sixxs0)" = "link/sit 192.0.2.3 peer 192.0.2.1" ]; }
check "the parent moves sixxs0's local address to 192.0.2.3" lab_wait $((INTERVAL * 5)) moved
check "and logs the worker's request" grep -q "sixxs0: did the worker's request" "$TMP/aiccud.log"
pop_moved() { [ "$(lab_pop_stat T20001 's["client_ipv4"]')" = 192.0.2.3 ]; }
check "the heartbeat tells the PoP the new address" lab_wait $((INTERVAL * 5)) pop_moved
check "pings through sixxs0 pass again" lab_wait 15 pings_in a
check "pings from sixxs0's address pass again" lab_wait 10 pings_out a
check_eq "sixxs1 keeps its configured IPv4" "link/sit 192.0.2.4 peer 192.0.2.1" "$(sit_of sixxs1)"
check "sixxs1 still answers" pings_in b
beats_more() { [ "$(lab_pop_stat T20001 's["heartbeats"]')" -ge $((beats0 + 2)) ]; }
check "heartbeats still reach the PoP (2 more since the change)" lab_wait $((INTERVAL * 5)) beats_more
check_eq "no heartbeat was refused" "{'address': 0, 'clock': 0, 'hash': 0}" \
	"$(lab_pop_stat T20001 's["hb_failures"]')"

kill -TERM "$LAB_AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 20 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no sit link left" """" "$(CLI -o link show type sit | grep sixxs)"
check_eq "no aiccud rule left" "" "$(CLIN -6 rule show | grep 'proto 157')"
check_eq "no aiccud route left" "" "$(CLI -6 route show table all proto 157)"
check_absent "no sanitizer report" 'Sanitizer' "$TMP/aiccud.log"
echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
