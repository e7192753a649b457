# Namespace lab shared by the integration tests and the demo (sourced).
#
#   inet (2001:db8:eeee::2) --- pop --- client
#                  eth0   up0      isp0  net0
#
# "pop" is the tunnel broker's PoP and, for the client, also its ISP: the
# client's main-table default route goes out net0 to the pop, and the ISP
# drops packets arriving on isp0 whose source is a tunnel address (the
# foreign-source filter that makes per-tunnel source routing necessary).
# "inet" is a host on the Internet behind the PoP.
#
# lab_up_nat builds the same lab with a NAT router between client and pop
# (opt-in; see there).
#
# Only documentation addresses; everything lives in namespaces made here.

LAB_ID=${LAB_ID:-acd$$}
NS_POP=${LAB_ID}-pop
NS_CLI=${LAB_ID}-cli
NS_NET=${LAB_ID}-inet
NS_NAT=${LAB_ID}-nat
LAB_PIDS=()
# The client's IPv4 address, and the one the PoP sees from it (they differ
# behind lab_up_nat's NAT).
LAB_CLIENT4=192.0.2.2
LAB_SEEN4=192.0.2.2
# The unprivileged user aiccud's workers and fetcher become ([daemon] user):
# one of this run's own, made by lab_up and removed by lab_down.
LAB_USER=${LAB_USER:-aiccud-t$$}
LAB_USER_MADE=

lab_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# lab_ns_exists NS: the namespace is there.  Checked before every "nothing
# left" check: in a namespace that is gone, `ip -n` prints nothing and such
# a check would pass for the wrong reason.
lab_ns_exists() { ip netns list | awk '{ print $1 }' | grep -qx -- "$1"; }

# lab_aiccud BIN CONF LOG: start aiccud in the foreground mode in the client
# namespace, in the background; LAB_AICCUD_PID is aiccud's own PID.
lab_aiccud() {
	ip netns exec "$NS_CLI" "$1" -d -f "$2" 2>>"$3" &
	LAB_AICCUD_PID=$!
	LAB_PIDS+=("$LAB_AICCUD_PID")
}

# lab_user_add: create $LAB_USER unless it exists (retried while another
# useradd holds the passwd lock).
lab_user_add() {
	local i
	id -u "$LAB_USER" >/dev/null 2>&1 && return 0
	for i in $(seq 20); do
		if useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$LAB_USER" 2>/dev/null; then
			LAB_USER_MADE=1
			return 0
		fi
		id -u "$LAB_USER" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "cannot create the test user $LAB_USER" >&2
	return 1
}

lab_user_del() {
	[ -n "$LAB_USER_MADE" ] || return 0
	local i
	for i in $(seq 20); do
		userdel -f "$LAB_USER" 2>/dev/null && break
		id -u "$LAB_USER" >/dev/null 2>&1 || break
		sleep 0.2
	done
	LAB_USER_MADE=
}

lab_up() {
	local ns
	lab_user_add || return 1
	for ns in "$NS_POP" "$NS_CLI" "$NS_NET"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	ip link add net0 netns "$NS_CLI" type veth peer name isp0 netns "$NS_POP" || return 1
	ip -n "$NS_CLI" addr add 192.0.2.2/24 dev net0
	ip -n "$NS_CLI" -6 addr add 2001:db8:ffff::2/64 dev net0 nodad
	ip -n "$NS_CLI" link set net0 up
	ip -n "$NS_CLI" -6 route add default via 2001:db8:ffff::1 dev net0
	lab_up_pop_side
}

# The pop's customer link (isp0) and the Internet host behind it.
lab_up_pop_side() {
	ip link add up0 netns "$NS_POP" type veth peer name eth0 netns "$NS_NET" || return 1
	ip -n "$NS_POP" addr add 192.0.2.1/24 dev isp0
	ip -n "$NS_POP" -6 addr add 2001:db8:ffff::1/64 dev isp0 nodad
	ip -n "$NS_POP" -6 addr add 2001:db8:eeee::1/64 dev up0 nodad
	ip -n "$NS_NET" -6 addr add 2001:db8:eeee::2/64 dev eth0 nodad
	ip -n "$NS_POP" link set isp0 up
	ip -n "$NS_POP" link set up0 up
	ip -n "$NS_NET" link set eth0 up
	ip -n "$NS_NET" -6 route add default via 2001:db8:eeee::1 dev eth0
	lab_in "$NS_POP" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'
	# The ISP's filter: tunnel sources are foreign on the customer link.
	ip -n "$NS_POP" -6 rule add iif isp0 from 2001:db8:a::/64 prio 100 blackhole
	ip -n "$NS_POP" -6 rule add iif isp0 from 2001:db8:b::/64 prio 101 blackhole
}

# lab_up_nat: the lab with a NAT router between client and pop.
#
#   inet --- pop --------- nat ---------- client
#           isp0 192.0.2.1  wan0 192.0.2.20
#                           lan0 198.51.100.1  net0 198.51.100.2
#
# The client sits on an "inside" network (a documentation range standing in
# for a private one); the nat namespace masquerades everything leaving wan0
# to 192.0.2.20 (nftables), so the PoP sees that address, never the
# client's own.  IPv6 is routed through the nat unchanged (2001:db8:fffe::/64
# inside), so the client keeps a main-table IPv6 default route as in lab_up.
lab_up_nat() {
	local ns
	lab_user_add || return 1
	LAB_CLIENT4=198.51.100.2
	LAB_SEEN4=192.0.2.20
	for ns in "$NS_POP" "$NS_CLI" "$NS_NET" "$NS_NAT"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	ip link add net0 netns "$NS_CLI" type veth peer name lan0 netns "$NS_NAT" || return 1
	ip link add wan0 netns "$NS_NAT" type veth peer name isp0 netns "$NS_POP" || return 1
	ip -n "$NS_CLI" addr add 198.51.100.2/24 dev net0
	ip -n "$NS_CLI" -6 addr add 2001:db8:fffe::2/64 dev net0 nodad
	ip -n "$NS_CLI" link set net0 up
	ip -n "$NS_CLI" route add default via 198.51.100.1 dev net0
	ip -n "$NS_CLI" -6 route add default via 2001:db8:fffe::1 dev net0
	ip -n "$NS_NAT" addr add 198.51.100.1/24 dev lan0
	ip -n "$NS_NAT" -6 addr add 2001:db8:fffe::1/64 dev lan0 nodad
	ip -n "$NS_NAT" addr add 192.0.2.20/24 dev wan0
	ip -n "$NS_NAT" -6 addr add 2001:db8:ffff::2/64 dev wan0 nodad
	ip -n "$NS_NAT" link set lan0 up
	ip -n "$NS_NAT" link set wan0 up
	ip -n "$NS_NAT" -6 route add default via 2001:db8:ffff::1 dev wan0
	lab_in "$NS_NAT" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward &&
		echo 1 > /proc/sys/net/ipv6/conf/all/forwarding' || return 1
	# Masquerade: UDP keeps its port unless two flows collide; protocol 41
	# has no ports and is translated by address (conntrack's generic
	# tracker), its replies matched back to the client like UDP's.
	lab_in "$NS_NAT" nft -f - <<'NFT' || return 1
table ip labnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
NFT
	lab_up_pop_side || return 1
	ip -n "$NS_POP" -6 route add 2001:db8:fffe::/64 via 2001:db8:ffff::2 dev isp0
}

# lab_nat_flows: the nat's connection-tracking table (for failure reports).
lab_nat_flows() { lab_in "$NS_NAT" cat /proc/net/nf_conntrack 2>/dev/null || lab_in "$NS_NAT" conntrack -L 2>/dev/null; }

# Tunnels file of the simulated PoP for the two example tunnels in conf.d/.
lab_pop_tunnels() {
	cat <<'JSON'
{"tunnels": [
 {"id": "T10001", "type": "ayiya", "password": "demo-secret-sixxs0",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": []},
 {"id": "T10002", "type": "ayiya", "password": "demo-secret-sixxs1",
  "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
  "ifname": "pop1", "mtu": 1280, "routed": []}
]}
JSON
}

# lab_pop_start DIR [TUNNELS-JSON [pop.py options...]]: run the PoP
# simulator in the pop namespace, for the two example tunnels unless a
# tunnels file is given.
lab_pop_start() {
	local dir=$1 tunnels=${2:-} src
	shift
	[ $# -gt 0 ] && shift
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if [ -n "$tunnels" ]; then
		cp "$tunnels" "$dir/pop-tunnels.json"
	else
		lab_pop_tunnels >"$dir/pop-tunnels.json"
	fi
	# ip netns exec execs the command: $! is the simulator itself, not a subshell.
	ip netns exec "$NS_POP" python3 "$src/sim/pop.py" --tunnels "$dir/pop-tunnels.json" \
		--listen 192.0.2.1 --stats "$dir/pop-stats.json" --pidfile "$dir/pop.pid" \
		--log "$dir/pop.log" "$@" &
	LAB_POP_PID=$!
	LAB_PIDS+=("$LAB_POP_PID")
	lab_wait 10 test -s "$dir/pop.pid" || { echo "PoP simulator did not start:"; cat "$dir/pop.log"; return 1; }
}

# lab_client_conf DIR CONFD: aiccud.conf + conf.d copies for the client.
lab_client_conf() {
	local dir=$1 confd=$2
	mkdir -p "$dir/conf.d" "$dir/state"
	cp "$confd"/sixxs*.conf "$dir/conf.d/"
	chmod 600 "$dir"/conf.d/*.conf
	cat >"$dir/aiccud.conf" <<EOF
[daemon]
control_socket = $dir/run/aiccud.sock
state_dir = $dir/state
conf_dir = $dir/conf.d
user = $LAB_USER
EOF
}

# lab_wait SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
lab_wait() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# Stop what we started (by PID) and remove the namespaces.
# lab_ours PID: still a child of this shell (a reaped PID may be reused).
lab_ours() {
	[ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]
}

lab_down() {
	local pid live=()
	for pid in "${LAB_PIDS[@]}"; do
		lab_ours "$pid" && live+=("$pid")
	done
	for pid in "${live[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${live[@]}"; do
		for _ in $(seq 50); do lab_ours "$pid" || break; sleep 0.1; done
		lab_ours "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	LAB_PIDS=()
	for ns in "$NS_CLI" "$NS_POP" "$NS_NET" "$NS_NAT"; do
		ip netns del "$ns" 2>/dev/null
	done
	lab_user_del
	return 0
}

# ---- helpers of the supervision tests (test_heal, test_restart, test_reload) ----

# lab_now_ms: monotonic-enough wall clock in milliseconds.
lab_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# lab_pop_tunnels_n N: PoP tunnels file with N AYIYA tunnels T10001...,
# tunnel i (0-based) on 2001:db8:<a+i>::/64, password demo-secret-sixxs<i>
# (the first two are lab_pop_tunnels' tunnels).
lab_pop_tunnels_n() {
	python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
t = [{"id": "T%d" % (10001 + i), "type": "ayiya", "password": "demo-secret-sixxs%d" % i,
      "ipv6_pop": "2001:db8:%x::1" % (10 + i), "ipv6_client": "2001:db8:%x::2" % (10 + i),
      "prefix_len": 64, "ifname": "pop%d" % i, "mtu": 1280, "routed": []} for i in range(n)]
print(json.dumps({"tunnels": t}))
PY
}

# lab_tunnel_conf FILE NAME ID TYPE NET TABLE PRIO PASSWORD [SECTION.KEY=VALUE...]:
# a tic = no tunnel file (mode 0600): interface NAME, broker id ID, TYPE
# (ayiya, 6in4-heartbeat, 6in4-static) on 2001:db8:NET::/64 (client ::2,
# PoP ::1), table and rule priority, MTU 1280.  tunnel.KEY=VALUE adds to
# [tunnel] (datapath=auto, offload=no, liveness=icmp ...), params.KEY=VALUE
# to [params]; params.ipv4_pop (default 192.0.2.1) and
# params.heartbeat_interval (default $LAB_HEARTBEAT or 60) replace the
# defaults.
lab_tunnel_conf() {
	local file=$1 name=$2 id=$3 type=$4 net=$5 table=$6 prio=$7 password=$8 kv
	local tunnel_extra="" params_extra="" pop=192.0.2.1 beat=${LAB_HEARTBEAT:-60}
	shift 8
	for kv in "$@"; do
		case $kv in
		params.ipv4_pop=*) pop=${kv#*=} ;;
		params.heartbeat_interval=*) beat=${kv#*=} ;;
		tunnel.*=*) kv=${kv#tunnel.} && tunnel_extra+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		params.*=*) kv=${kv#params.} && params_extra+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		*) echo "lab_tunnel_conf: '$kv' is not SECTION.KEY=VALUE" >&2 && return 1 ;;
		esac
	done
	{
		printf '[tunnel]\ninterface = %s\nid = %s\ntic = no\ntable = %s\nrule_priority = %s\n' \
			"$name" "$id" "$table" "$prio"
		printf '%s' "$tunnel_extra"
		printf '[params]\ntype = %s\nipv6_local = 2001:db8:%s::2\nipv6_pop = 2001:db8:%s::1\n' \
			"$type" "$net" "$net"
		printf 'prefix_len = 64\nipv4_pop = %s\npassword = %s\nheartbeat_interval = %s\n' \
			"$pop" "$password" "$beat"
		printf 'mtu = 1280\n%s' "$params_extra"
	} >"$file" && chmod 600 "$file"
}

# lab_tunnel_file FILE I [KEY=VALUE...]: a tic = no AYIYA tunnel file for
# lab_pop_tunnels_n's tunnel I (interface sixxsI, table 200+I, priority
# 1000+I); KEY=VALUE pairs go into [tunnel] (e.g. liveness=icmp).
lab_tunnel_file() {
	local file=$1 i=$2 kv extra=()
	shift 2
	for kv in "$@"; do extra+=("tunnel.$kv"); done
	lab_tunnel_conf "$file" "sixxs$i" "T$((10001 + i))" ayiya "$(printf %x $((10 + i)))" \
		$((200 + i)) $((1000 + i)) "demo-secret-sixxs$i" "${extra[@]}"
}

# lab_daemon_conf DIR: aiccud.conf for a client whose tunnels are in DIR/conf.d.
lab_daemon_conf() {
	local dir=$1
	mkdir -p "$dir/conf.d" "$dir/state"
	cat >"$dir/aiccud.conf" <<EOF2
[daemon]
control_socket = $dir/run/aiccud.sock
state_dir = $dir/state
conf_dir = $dir/conf.d
user = $LAB_USER
EOF2
}

# lab_status_field AICCUCTL SOCK TUNNEL FIELD: one field of a tunnel's status
# ("" when absent).
# lab_test_begin NAME AICCUD AICCUCTL: the start every namespace test
# shares.  Sets AICCUD and AICCUCTL, TMP (a fresh /tmp/aiccud-NAME.*,
# removed on exit with the lab, and with the TIC server when lab_tic.sh
# was sourced first) and SOCK (the daemon's control socket in it), and
# defines, for a test to use or redefine:
#   ctl ARGS...        aiccuctl in the client namespace on SOCK
#   field TUNNEL KEY   one field of that tunnel's status (lab_status_field);
#                      the one meaning of "field" in the namespace tests
#   status_eval TUNNEL EXPR  a Python expression over t, that tunnel's status
#                      object (lab_status_eval), for what one key cannot say
#   is_up TUNNEL       whether the tunnel is up
lab_test_begin() {
	AICCUD=$2
	AICCUCTL=$3
	TMP=$(mktemp -d "/tmp/aiccud-$1.XXXXXX")
	SOCK=$TMP/run/aiccud.sock
	if declare -F lab_tic_down >/dev/null; then
		trap 'lab_down; lab_tic_down; rm -rf "$TMP"' EXIT
	else
		trap 'lab_down; rm -rf "$TMP"' EXIT
	fi
	ctl() { lab_in "$NS_CLI" "$AICCUCTL" -s "$SOCK" "$@"; }
	field() { lab_status_field "$AICCUCTL" "$SOCK" "$1" "$2"; }
	status_eval() { lab_status_eval "$AICCUCTL" "$SOCK" "$1" "$2"; }
	is_up() { [ "$(field "$1" state)" = up ]; }
}

# lab_status_eval AICCUCTL SOCK TUNNEL EXPR: print the Python expression EXPR
# evaluated over t, the tunnel's status object ("" when there is none).
lab_status_eval() {
	lab_in "$NS_CLI" "$1" -s "$2" status "$3" --json 2>/dev/null | python3 -c '
import json, sys
try:
    t = json.load(sys.stdin)["tunnels"][0]
except Exception:
    print("")
    sys.exit(0)
print(eval(sys.argv[1]))' "$4"
}

lab_status_field() {
	lab_in "$NS_CLI" "$1" -s "$2" status "$3" --json 2>/dev/null | python3 -c '
import json, sys
try:
    t = json.load(sys.stdin)["tunnels"][0]
    v = t.get(sys.argv[1], "")
    print(str(v).lower() if isinstance(v, bool) else v)
except Exception:
    print("")' "$4"
}

# lab_pop_stat TUNNEL-ID EXPR: the Python expression EXPR over s, the PoP
# simulator's statistics of that tunnel (TMP/pop-stats.json, which
# lab_pop_start has it write); nothing when they cannot be read.
lab_pop_stat() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["tunnels"][sys.argv[2]]; print(eval(sys.argv[3]))' \
		"$TMP/pop-stats.json" "$1" "$2" 2>/dev/null
}
# For lab_pop_stat: the PoP's receive-side AYIYA drops (send-side
# no_client happens before our first packet, for the PoP's own multicast
# reports).
LAB_POP_RX_DROPS='sum(s["drops"][k] for k in ("short", "header", "unknown_tunnel", "clock", "signature", "payload", "inner_source"))'

# lab_rules_for ADDR: number of aiccud (proto 157) rules from ADDR.
lab_rules_for() { ip -N -n "$NS_CLI" -6 rule show | grep 'proto 157' | grep -c "from $1 "; }

# lab_restore_ms CHECK BREAK...: run BREAK (a command line, in the client
# namespace), then poll CHECK (a bash command; exported functions work) until it succeeds; prints
# the milliseconds from the break to the first successful check, or "timeout"
# after 5 s.  The poll has no sleep: the time is measured, not waited for.
lab_restore_ms() {
	local check=$1 t0 t1
	shift
	t0=$(lab_now_ms)
	ip netns exec "$NS_CLI" "$@" || { echo "break-failed"; return 1; }
	until bash -c "$check" >/dev/null 2>&1; do
		t1=$(lab_now_ms)
		[ $((t1 - t0)) -lt 5000 ] || { echo timeout; return 1; }
	done
	t1=$(lab_now_ms)
	echo $((t1 - t0))
}

# lab_kill SIGNAL PID: signal one process we started; refuses anything but a
# plain PID above 1 (kill 0 or -1 would hit a whole group).
lab_kill() {
	[[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -gt 1 ] || { echo "lab_kill: refusing PID '$2'" >&2; return 1; }
	kill "-$1" "$2"
}
