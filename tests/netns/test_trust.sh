#!/bin/bash
# Issue 20, findings 1, 2, 7, 8: nothing a child or a spoofed packet does
# reaches the host.
#  - A router advertisement forged over proto-41 (a raw IPv4 packet with
#    the PoP's address as source) and over signed AYIYA changes no route,
#    address or neighbour of the client (the tunnel links ignore RAs).
#  - A hard link in the tunnel cache directory is not chowned to the user.
#  With test hooks built in (third argument 1):
#  - A worker that reports link-up with the host's uplink's ifindex is
#    refused, killed and restarted; the uplink never joins aiccud's link
#    group nor gets a route, and is still there after aiccud stopped.
#  - 1000 seccomp reports from a worker that does not die by SIGSYS are
#    not believed: no "forbidden system call" line, one line that says so.
#
#   test_trust.sh AICCUD AICCUCTL [HOOKS]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin trust "$1" "$2"
HOOKS=${3:-0}
LOG=$TMP/aiccud.log

cat >"$TMP/pop.json" <<'JSON'
{"tunnels": [
 {"id": "T10001", "type": "ayiya", "password": "demo-secret-sixxs0",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": []},
 {"id": "T20002", "type": "6in4-heartbeat", "password": "hb-secret",
  "ipv6_pop": "2001:db8:c::1", "ipv6_client": "2001:db8:c::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": [], "heartbeat_interval": 60}
]}
JSON

start_aiccud() { # [ENV=VALUE...]
	env "$@" ip netns exec "$NS_CLI" "$AICCUD" -d -f "$TMP/aiccud.conf" 2>>"$LOG" &
	LAB_AICCUD_PID=$!
	LAB_PIDS+=("$LAB_AICCUD_PID")
	lab_wait 10 test -S "$SOCK"
}
stop_aiccud() {
	kill -TERM "$LAB_AICCUD_PID"
	lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
}
both_up() { is_up sixxs0 && is_up sixxs1; }
rx() { field "$1" counters | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())["rx_packets"])' 2>/dev/null; }
rx_above() { local n; n=$(rx "$1"); [ -n "$n" ] && [ "$n" -gt "$2" ]; }
host_state() {
	ip -n "$NS_CLI" -6 route show table all
	ip -n "$NS_CLI" -6 addr
	ip -n "$NS_CLI" -6 neigh show
}
count() { grep -c -- "$1" "$LOG"; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" "$TMP/pop.json" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
cat >"$TMP/conf.d/sixxs1.conf" <<'EOF'
[tunnel]
interface = sixxs1
id = T20002
tic = no
table = 201
rule_priority = 1001
datapath = userspace

[params]
type = 6in4-heartbeat
ipv6_local = 2001:db8:c::2
ipv6_pop = 2001:db8:c::1
prefix_len = 64
ipv4_pop = 192.0.2.1
ipv4_local = heartbeat
password = hb-secret
heartbeat_interval = 60
mtu = 1280
EOF
chmod 600 "$TMP"/conf.d/*.conf
# lab_tunnel_file's AYIYA tunnel 0 is on 2001:db8:a::/64 (the PoP's file names it so)
sed -i 's/^ipv6_local = .*/ipv6_local = 2001:db8:a::2/; s/^ipv6_pop = .*/ipv6_pop = 2001:db8:a::1/' \
	"$TMP/conf.d/sixxs0.conf"

# Finding 8: a name in the cache directory that is a hard link to a root file.
mkdir -p -m 0700 "$TMP/state/tunnels"
echo secret >"$TMP/victim"
chmod 600 "$TMP/victim"
ln "$TMP/victim" "$TMP/state/tunnels/T99999"
check_eq "the hard link exists before the start (2 links)" 2 "$(stat -c %h "$TMP/victim")"

start_aiccud || fail_now "aiccud did not start"
lab_wait 30 both_up || { tail -n 30 "$LOG"; fail_now "both tunnels up"; }
check_eq "a hard-linked cache file keeps its owner (root)" root "$(stat -c %U "$TMP/victim")"
check "the refusal of the hard link is logged" grep -q "T99999 is not a regular file with one name" "$LOG"
for l in sixxs0 sixxs1; do
	for k in accept_ra accept_redirects autoconf accept_dad router_solicitations; do
		check_eq "$l: $k is 0" 0 "$(lab_in "$NS_CLI" cat "/proc/sys/net/ipv6/conf/$l/$k")"
	done
done

# Finding 2: spoofed RAs.  The snapshot is taken with both tunnels up and
# every address's duplicate address detection over.
no_tentative() { [ -z "$(ip -n "$NS_CLI" -6 addr show tentative)" ]; }
check "no tentative address left before the snapshot" lab_wait 10 no_tentative
host_state >"$TMP/before"
check "the snapshot holds the tunnels' addresses" grep -q "2001:db8:c::2" "$TMP/before"
RX1=$(rx sixxs1)
lab_in "$NS_POP" python3 "$HERE/ra_spoof.py" p41 192.0.2.1 "$LAB_CLIENT4" 2001:db8:c::2 ||
	fail_now "sending the proto-41 RA"
check "the proto-41 RA went through the tunnel (sixxs1 received it)" lab_wait 10 rx_above sixxs1 "$RX1"
# the local port of the worker's socket connected to the PoP's 192.0.2.1:5072
PORT=$(lab_in "$NS_CLI" ss -Hun dst 192.0.2.1:5072 |
	awk '{ for (i = 2; i <= NF; i++) if ($i == "192.0.2.1:5072") { n = split($(i - 1), a, ":"); print a[n]; exit } }')
check "the AYIYA worker's UDP port is known" test -n "$PORT"
RX0=$(rx sixxs0)
lab_in "$NS_POP" python3 "$HERE/ra_spoof.py" ayiya 192.0.2.1 "$LAB_CLIENT4" "$PORT" \
	demo-secret-sixxs0 2001:db8:a::1 2001:db8:a::2 || fail_now "sending the AYIYA RA"
check "the AYIYA RA went through the tunnel (sixxs0 received it)" lab_wait 10 rx_above sixxs0 "$RX0"
host_state >"$TMP/after"
check "no route, address or neighbour changed after the spoofed RAs" \
	diff -u "$TMP/before" "$TMP/after"
diff -u "$TMP/before" "$TMP/after"
check_eq "no route learnt from an RA (proto ra)" "" \
	"$(ip -n "$NS_CLI" -6 route show table all proto ra)"
check "the namespace still exists (the empty answer above is real)" ip netns pids "$NS_CLI"
stop_aiccud || fail_now "aiccud did not stop"

if [ "$HOOKS" = 1 ]; then
	# Finding 1: the worker names the host's uplink as its link.
	NET0=$(ip -n "$NS_CLI" -o link show net0 | awk -F: '{ print $1; exit }')
	check "net0's ifindex is known" test -n "$NET0"
	: >"$LOG"
	start_aiccud AICCUD_TEST_FORGE="sixxs0:up-ifindex=$NET0" || fail_now "aiccud (forged link-up)"
	check "the forged link-up is refused, naming both indexes" lab_wait 20 grep -q \
		"refused worker [0-9]*: its link-up report: it named ifindex $NET0, but link sixxs0 is ifindex" "$LOG"
	restarts() { local r; r=$(field sixxs0 restarts); [ -n "$r" ] && [ "$r" -ge 1 ]; }
	check "the refused worker is restarted" lab_wait 20 restarts
	check "sixxs1 is up regardless" lab_wait 20 is_up sixxs1
	check "net0 is not in aiccud's link group" \
		sh -c "ip -n $NS_CLI -d link show net0 | grep -q 'group default'"
	check_eq "table 200 routes nothing through net0" "" \
		"$(ip -n "$NS_CLI" -6 route show table 200 dev net0 2>&1)"
	stop_aiccud || fail_now "aiccud did not stop"
	check "net0 is still there after aiccud stopped" ip -n "$NS_CLI" link show net0
	check "at most 10 refusal lines (the worker's lines are rate-limited)" \
		test "$(count 'refused worker')" -le 10

	# Finding 7: seccomp reports from a worker that does not die by SIGSYS.
	: >"$LOG"
	start_aiccud AICCUD_TEST_FORGE="sixxs0:seccomp-flood" || fail_now "aiccud (seccomp flood)"
	check "the flooding worker's tunnel comes up" lab_wait 30 is_up sixxs0
	check "the flood was sent" grep -q "sending 1000 seccomp reports" "$LOG"
	stop_aiccud || fail_now "aiccud did not stop"
	check "the log exists" test -s "$LOG"
	check_eq "no 'forbidden system call' line believed" 0 "$(count 'made a forbidden system call')"
	check_eq "one line says the report was not believed" 1 "$(count 'report not believed')"

	# Finding 7: 100k requests to re-add the address cost the parent bounded
	# netlink work (counted by the parent itself, said under -v at its stop).
	: >"$LOG"
	env AICCUD_TEST_FORGE="sixxs0:readd-flood=100000" \
		ip netns exec "$NS_CLI" "$AICCUD" -d -v -f "$TMP/aiccud.conf" 2>>"$LOG" &
	LAB_AICCUD_PID=$!
	LAB_PIDS+=("$LAB_AICCUD_PID")
	lab_wait 10 test -S "$SOCK" || fail_now "aiccud (request flood)"
	check "the flooding worker's tunnel comes up" lab_wait 30 is_up sixxs0
	check "the flood was sent whole" lab_wait 120 grep -q "sent 100000 of 100000 requests" "$LOG"
	# clock ticks of the parent's own CPU time (utime + stime), whole run
	TICKS=$(awk '{ print $14 + $15 }' "/proc/$LAB_AICCUD_PID/stat")
	echo "# the parent's CPU time for its whole run with the flood: $TICKS ticks of 1/$(getconf CLK_TCK) s"
	check "the parent still answers" ctl status
	check "sixxs1 is up regardless" is_up sixxs1
	check "the flooding worker was not restarted for it" test "$(field sixxs0 restarts)" = 0
	stop_aiccud || fail_now "aiccud did not stop"
	NL=$(sed -n 's/.*rtnetlink: \([0-9]*\) request(s) made in this run.*/\1/p' "$LOG" | tail -n 1)
	echo "# netlink requests of the parent for the whole run: ${NL:-none}"
	check "the parent said how many netlink requests it made" test -n "$NL"
	check "100000 requests cost at most 2000 netlink requests (3 each before the limit)" \
		test "${NL:-999999}" -le 2000
	check "the first requests were done (they are valid)" grep -q "sixxs0: did the worker's request to" "$LOG"
	check "the parent's refusals of them are rate-limited" test "$(count 'was not done')" -le 20
fi
finish
