#!/bin/bash
# Issue 9 end to end: least privilege.  Read from /proc/PID/status while
# they run: the parent (root, only its listed capabilities), an AYIYA
# worker, a user-space 6in4 worker and the TIC fetcher (caught while the
# simulated broker stalls): the children run as the test's own user with
# no capabilities, no-new-privs and a seccomp filter.  The unprivileged
# workers still forward, heal (rule, route, address deleted behind
# aiccud's back) and come back after kill -9; the fetcher's cache files
# belong to that user.  With test hooks compiled in (third argument 1), a
# worker made to call socket(AF_PACKET) / execve is killed by its filter
# and restarted, and the log says so (and names the call under -v).
#
#   test_privsep.sh AICCUD AICCUCTL [HOOKS]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin privsep "$1" "$2"
HOOKS=${3:-0}
# Where the test hooks' absolute-path escape aims (outside the cache directory)
# Where the test hooks' escapes aim: /tmp, which the aiccud user could
# write to were it not for its sandbox; ../ all the way up from the cache directory.
ESCAPE=/tmp/aiccud-escape-abs.$$
ESCAPE_DD=/tmp/aiccud-escape-dotdot.$$
export AICCUD_TEST_ESCAPE_PATH=$ESCAPE
export AICCUD_TEST_ESCAPE_DOTDOT=../../../../../../../../../../../..$ESCAPE_DD
# Where the connect and sendto escapes aim: the PoP host, reachable, another port
# (with the filter open the calls succeed, so "done" would show)
export AICCUD_TEST_ESCAPE_TO=192.0.2.1:9
trap 'lab_down; lab_tic_down; rm -rf "$TMP" "$ESCAPE" "$ESCAPE_DD"' EXIT
# CAP_DAC_READ_SEARCH(2) KILL(5) SETGID(6) SETUID(7) SETPCAP(8) NET_ADMIN(12) NET_RAW(13)
PARENT_CAPS=00000000000031e4

state() { lab_status_field "$AICCUCTL" "$SOCK" "$1" state; }
is_up() { [ "$(state "$1")" = up ]; }
# st PID FIELD: the first value of a /proc/PID/status line
st() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null; }
# child_of MODE-ARGS: PID of aiccud's child started with those arguments
child_of() { pgrep -P "$LAB_AICCUD_PID" -f -- "$1" | head -n 1; }
worker() { child_of "-W $1\$"; }
has_new_worker() { local p; p=$(worker "$1"); [ -n "$p" ] && [ "$p" != "$2" ]; }

# unprivileged WHAT PID: the drop as /proc shows it
unprivileged() {
	local what=$1 pid=$2 uid gid
	uid=$(id -u "$LAB_USER")
	gid=$(id -g "$LAB_USER")
	check_eq "$what runs as $LAB_USER (all four uids)" "$uid $uid $uid $uid" \
		"$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$pid/status")"
	check_eq "$what's gids are $LAB_USER's group" "$gid $gid $gid $gid" \
		"$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$pid/status")"
	check "$what's uid and gid are not 0" test "$uid" -ne 0 -a "$gid" -ne 0
	check_eq "$what has no supplementary groups" "" \
		"$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$pid/status" | tr -d ' ')"
	check_eq "$what: CapEff" 0000000000000000 "$(st "$pid" CapEff)"
	check_eq "$what: CapPrm" 0000000000000000 "$(st "$pid" CapPrm)"
	check_eq "$what: CapBnd" 0000000000000000 "$(st "$pid" CapBnd)"
	check_eq "$what: CapAmb" 0000000000000000 "$(st "$pid" CapAmb)"
	check_eq "$what: NoNewPrivs" 1 "$(st "$pid" NoNewPrivs)"
	check_eq "$what: Seccomp (filter mode)" 2 "$(st "$pid" Seccomp)"
}

parent_limited() {
	local pid=$1
	check_eq "the parent keeps root's uid (setup scripts run as root)" 0 "$(st "$pid" Uid)"
	check_eq "the parent's CapEff is exactly its seven" $PARENT_CAPS "$(st "$pid" CapEff)"
	check_eq "the parent's CapPrm is exactly its seven" $PARENT_CAPS "$(st "$pid" CapPrm)"
	check_eq "the parent's CapBnd (what anything it execs can have)" $PARENT_CAPS \
		"$(st "$pid" CapBnd)"
	check_eq "the parent: no inheritable capabilities" 0000000000000000 "$(st "$pid" CapInh)"
	check_eq "the parent: no ambient capabilities" 0000000000000000 "$(st "$pid" CapAmb)"
}

ping_through() { # SRC DST
	lab_in "$NS_CLI" ping -6 -c 1 -W 2 -I "$1" "$2"
}
start_aiccud() { # CONF [OPTIONS]
	local conf=$1
	shift
	ip netns exec "$NS_CLI" "$AICCUD" -d "$@" -f "$conf" 2>>"$TMP/aiccud.log" &
	LAB_AICCUD_PID=$!
	LAB_PIDS+=("$LAB_AICCUD_PID")
	lab_wait 10 test -S "$SOCK"
}
stop_aiccud() {
	kill -TERM "$LAB_AICCUD_PID"
	lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
}
logged() { grep -q -- "$1" "$TMP/aiccud.log"; }

lab_up || fail_now "lab set-up"
cat >"$TMP/pop.json" <<'JSON'
{"tunnels": [
 {"id": "T10001", "type": "ayiya", "password": "demo-secret-sixxs0",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": []},
 {"id": "T20002", "type": "6in4-heartbeat", "password": "hb-secret",
  "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": [], "heartbeat_interval": 2}
]}
JSON
lab_pop_start "$TMP" "$TMP/pop.json" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0 liveness=icmp
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
ipv6_local = 2001:db8:b::2
ipv6_pop = 2001:db8:b::1
prefix_len = 64
ipv4_pop = 192.0.2.1
ipv4_local = heartbeat
password = hb-secret
heartbeat_interval = 2
mtu = 1280
EOF
chmod 600 "$TMP"/conf.d/*.conf

echo "# an AYIYA and a user-space 6in4 tunnel, seccomp in kill mode (no -v)"
start_aiccud "$TMP/aiccud.conf" || fail_now "aiccud did not start"
check "the AYIYA tunnel comes up" lab_wait 20 is_up sixxs0
check "the 6in4 tunnel comes up" lab_wait 20 is_up sixxs1
parent_limited "$LAB_AICCUD_PID"
W0=$(worker sixxs0)
W1=$(worker sixxs1)
[ -n "$W0" ] && [ -n "$W1" ] || fail_now "no worker processes found"
unprivileged "the AYIYA worker" "$W0"
unprivileged "the user-space 6in4 worker" "$W1"
check "pings go through the unprivileged AYIYA worker" lab_wait 10 ping_through 2001:db8:a::2 2001:db8:a::1
check "pings go through the unprivileged 6in4 worker" lab_wait 10 ping_through 2001:db8:b::2 2001:db8:b::1
check "the log says what the parent kept" logged "running as root with only cap_net_admin"

echo "# healing with unprivileged workers"
ip -n "$NS_CLI" -6 rule del from 2001:db8:a::2 lookup 200
ip -n "$NS_CLI" -6 route del default table 200
check "rule and route come back" lab_wait 10 sh -c \
	"ip -n $NS_CLI -6 rule | grep -q 'from 2001:db8:a::2 lookup 200' && ip -n $NS_CLI -6 route show table 200 | grep -q default"
ip -n "$NS_CLI" -6 addr del 2001:db8:b::2/64 dev sixxs1
check "the 6in4 tunnel's address comes back" lab_wait 10 sh -c \
	"ip -n $NS_CLI -6 addr show dev sixxs1 | grep -q '2001:db8:b::2/64'"
check "pings go through the AYIYA tunnel after the repairs" lab_wait 10 ping_through 2001:db8:a::2 2001:db8:a::1
check "pings go through the 6in4 tunnel after the repairs" lab_wait 10 ping_through 2001:db8:b::2 2001:db8:b::1
check "the same workers still run" test "$(worker sixxs0) $(worker sixxs1)" = "$W0 $W1"

echo "# kill -9 of an unprivileged worker"
kill -KILL "$W1"
check "a new 6in4 worker starts" lab_wait 20 has_new_worker sixxs1 "$W1"
check "and the tunnel is up again" lab_wait 20 is_up sixxs1
W1=$(worker sixxs1)
[ -n "$W1" ] && unprivileged "the restarted 6in4 worker" "$W1"
check "pings go through the restarted worker" lab_wait 10 ping_through 2001:db8:b::2 2001:db8:b::1

if [ "$HOOKS" = 1 ]; then
	echo "# the filter bites: socket(AF_PACKET) from a worker (test hook)"
	kill -USR2 "$W0"
	check "the worker is killed by its seccomp filter, and the log says so" lab_wait 10 \
		logged "sixxs0: worker killed by signal 31 (Bad system call): a system call outside its seccomp allow-list"
	check "a new AYIYA worker starts" lab_wait 20 has_new_worker sixxs0 "$W0"
	check "and the tunnel is up again" lab_wait 20 is_up sixxs0
	check "pings go through it again" lab_wait 10 ping_through 2001:db8:a::2 2001:db8:a::1

	echo "# issue 20: the escapes of a compromised worker (test hooks)"
	W0=$(worker sixxs0)
	W1=$(worker sixxs1)
	kill -s RTMIN+4 "$W0"
	check "bind of a UDP socket kills the worker" lab_wait 10 sh -c "! kill -0 $W0"
	check "the log says it was its seccomp filter" lab_wait 10 sh -c \
		"test \$(grep -c 'sixxs0: worker killed by signal 31' '$TMP/aiccud.log') -ge 2"
	check_absent "no bind was done" 'test hook: bind\(UDP socket\): done' "$TMP/aiccud.log"
	kill -s RTMIN+1 "$W1"
	check "IP_HDRINCL on the raw proto-41 socket kills the 6in4 worker" lab_wait 10 sh -c "! kill -0 $W1"
	check "the log says it was its seccomp filter" lab_wait 10 \
		logged "sixxs1: worker killed by signal 31"
	check_absent "IP_HDRINCL was never set" 'test hook: setsockopt\(IP_HDRINCL\): done' \
		"$TMP/aiccud.log"
	both_up() { is_up sixxs0 && is_up sixxs1; }
	check "both tunnels come back" lab_wait 30 both_up

	echo "# issue 20: connect and sendto with an address after the drop (test hooks)"
	W0=$(worker sixxs0)
	W1=$(worker sixxs1)
	kill -s RTMIN+5 "$W0"
	check "connect of the AYIYA socket to another address kills the worker" lab_wait 10 \
		sh -c "! kill -0 $W0"
	check "the log says it was its seccomp filter" lab_wait 10 sh -c \
		"test \$(grep -c 'sixxs0: worker killed by signal 31' '$TMP/aiccud.log') -ge 3"
	check_absent "no connect was done" 'test hook: connect\(wire socket, another address\): done' \
		"$TMP/aiccud.log"
	kill -s RTMIN+6 "$W1"
	check "sendto with an address from the 6in4 worker kills it" lab_wait 10 sh -c "! kill -0 $W1"
	check "the log says it was its seccomp filter" lab_wait 10 sh -c \
		"test \$(grep -c 'sixxs1: worker killed by signal 31' '$TMP/aiccud.log') -ge 2"
	check_absent "no sendto was done" 'test hook: sendto\(wire socket, another address\): done' \
		"$TMP/aiccud.log"
	check "both tunnels come back" lab_wait 30 both_up
	check "pings go through the AYIYA worker (no connect after the drop)" lab_wait 10 \
		ping_through 2001:db8:a::2 2001:db8:a::1
	check "pings go through the heartbeat worker (beats from its one socket)" lab_wait 10 \
		ping_through 2001:db8:b::2 2001:db8:b::1
fi
stop_aiccud
check "a stop removes every tunnel link" sh -c "! ip -n $NS_CLI link show sixxs0 && ! ip -n $NS_CLI link show sixxs1"

echo "# the TIC fetcher, caught while the broker stalls, under -v (trap mode)"
rm -f "$TMP"/conf.d/*.conf
lab_tic_fixture "$TMP" 1
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_stop() { kill -TERM "$LAB_POP_PID"; lab_wait 10 sh -c "! kill -0 $LAB_POP_PID"; }
lab_pop_stop
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator (TIC)"
lab_tic_start "$TMP" server --stall-after tunnel-show --stall-seconds 20 || fail_now "TIC server (stall)"
lab_tic_client "$TMP" 1
chmod 600 "$TMP/pki/ca.pem"
start_aiccud "$TMP/aiccud.conf" -v || fail_now "aiccud (TIC) did not start"
fetcher() { child_of "-F\$"; }
# The limiter's first token comes after 30 s, as on a real first start.
check "a fetcher runs while the broker stalls" lab_wait 50 sh -c "pgrep -P $LAB_AICCUD_PID -f -- '-F\$'"
F=$(fetcher)
if [ -n "$F" ]; then
	unprivileged "the TIC fetcher" "$F"
	check "the fetcher has its TLS connection open" sh -c "ls -l /proc/$F/fd | grep -q socket"
fi
parent_limited "$LAB_AICCUD_PID"
check "the stalled fetch fails clearly" lab_wait 30 logged "sixxs0: TIC: not fetched: timed out"
lab_tic_start "$TMP" server || fail_now "TIC server"
ctl start sixxs0 >/dev/null 2>&1
# The next token: 30 s after the first.
check "with a working broker the TIC tunnel comes up" lab_wait 60 is_up sixxs0
CACHE=$TMP/state/tunnels
check_eq "the cache directory belongs to $LAB_USER, 0700" "$LAB_USER 700" "$(stat -c '%U %a' "$CACHE")"
check_eq "the cache file the fetcher wrote is $LAB_USER's, 0600" "$LAB_USER 600" \
	"$(stat -c '%U %a' "$CACHE/T10001")"
check "the fetcher read a CA file only root may read" test "$(stat -c '%U %a' "$TMP/pki/ca.pem")" = "root 600"
W0=$(worker sixxs0)
[ -n "$W0" ] && unprivileged "the TIC tunnel's worker" "$W0"
check "pings go through the TIC tunnel" lab_wait 10 ping_through 2001:db8:1::2 2001:db8:1::1
if [ "$HOOKS" = 1 ]; then
	echo "# issue 20: a TIC worker's cache directory fd does not reach the rest of the file system"
	rm -f "$ESCAPE" "$ESCAPE_DD"
	kill -s RTMIN+2 "$W0"
	check "an absolute path on the cache directory's fd is refused" lab_wait 10 \
		logged "test hook: openat(cache dir, absolute path, O_CREAT): refused"
	check "and created nothing" test ! -e "$ESCAPE"
	kill -s RTMIN+3 "$W0"
	check "a ../ path on the cache directory's fd is refused" lab_wait 10 \
		logged 'test hook: openat(cache dir, "../" path, O_CREAT): refused'
	check "and created nothing" test ! -e "$ESCAPE_DD"
	check "the worker lives on after refused calls" kill -0 "$W0"
	echo "# connect after the drop, under -v, names the call"
	kill -s RTMIN+5 "$W0"
	check "the log names connect as the forbidden call" lab_wait 10 \
		logged "sixxs0: process $W0 made a forbidden system call: connect ("
	check "a new worker starts from the cache" lab_wait 20 has_new_worker sixxs0 "$W0"
	check "and the tunnel is up again" lab_wait 20 is_up sixxs0
	W0=$(worker sixxs0)
	echo "# the filter bites: execve from a worker under -v names the call"
	kill -USR1 "$W0"
	check "the log names the forbidden call" lab_wait 10 \
		logged "sixxs0: process $W0 made a forbidden system call: execve ("
	check "the worker dies by SIGSYS" lab_wait 10 logged "sixxs0: worker killed by signal 31"
	check "a new worker starts from the cache" lab_wait 20 has_new_worker sixxs0 "$W0"
	check "and the tunnel is up again" lab_wait 20 is_up sixxs0
	check "no second TIC fetch for a crash" test "$(tic_count "$TMP/tic.log" connect)" -le 2
fi
stop_aiccud
finish
