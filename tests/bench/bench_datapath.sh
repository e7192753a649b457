#!/bin/bash
# The user-space data paths near the hardware's limit (issue 10): iperf3
# over one AYIYA and one user-space proto-41 tunnel to a fast PoP endpoint
# in C (bench_pop: the project's own data path and codec), both directions,
# the plain path (offload = no) and the offloaded one side by side in the
# same run.  Prints Mbit/s, the worker's CPU-seconds per GB (utime + stime
# from /proc/PID/stat over the bytes iperf3 moved), the drops at every
# counter of the client (UDP buffer errors from the namespace's
# /proc/net/snmp, the TUN link's drops, the worker's own drop counters),
# and the machine's SHA-1 speed (the floor).  Asserts nothing: for a
# person to read.  Root; everything in namespaces it makes.
#
#   bench_datapath.sh AICCUD AICCUCTL BENCH_POP
#   BENCH_SECONDS (5) per iperf3 run, BENCH_ROUNDS (1) of plain + offload,
#   BENCH_PERF=DIR: perf record of the worker during each run into DIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../netns/lab.sh"

AICCUD=$1
AICCUCTL=$2
POP=$3
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-1}
MTU=1280
TMP=$(mktemp -d /tmp/aiccud-bench.XXXXXX)
RESULTS=$TMP/results.tsv
trap 'lab_down; rm -rf "$TMP"' EXIT

die() { echo "bench_datapath: $*" >&2; exit 1; }
ctl() { lab_in "$NS_CLI" "$AICCUCTL" -s "$TMP/run/aiccud.sock" "$@"; }
field() { # TUNNEL PYTHON-EXPRESSION-ON-t
	ctl status "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; t=json.load(sys.stdin)["tunnels"][0]; print(eval(sys.argv[1]))' "$2"
}
is_up() { [ "$(field "$1" 't["state"]')" = up ]; }
# the worker's drops that are losses (other_tunnel is another socket's packet)
worker_drops() { field "$1" 'sum(v for k, v in t["counters"]["drops"].items() if k != "other_tunnel")'; }
worker_bytes() { field "$1" 't["counters"]["tx_bytes"] + t["counters"]["rx_bytes"]'; }
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
udp_snmp() { # RcvbufErrors SndbufErrors InErrors of the client namespace
	lab_in "$NS_CLI" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"], $c["SndbufErrors"], $c["InErrors"] }' /proc/net/snmp
}
tun_drops() {
	local tx rx
	read -r tx rx <<<"$(lab_in "$NS_CLI" cat /sys/class/net/$1/statistics/tx_dropped /sys/class/net/$1/statistics/rx_dropped | paste -sd' ')"
	echo $((tx + rx))
}
both_up() { is_up sixxs0 && is_up sixxs1; }
# (globals of row: the worker's bytes when iperf3 ended)
ROW_TUN= ROW_BYTES=
report_moved() { [ "$(worker_bytes "$ROW_TUN")" != "$ROW_BYTES" ]; }

tunnel_file() { # NAME TYPE NET TABLE OFFLOAD
	cat >"$TMP/conf.d/$1.conf" <<EOF
[tunnel]
interface = $1
id = T$4
tic = no
table = $4
rule_priority = $((800 + $4))
datapath = userspace
offload = $5

[params]
type = $2
ipv6_local = 2001:db8:$3::2
ipv6_pop = 2001:db8:$3::1
prefix_len = 64
ipv4_pop = 192.0.2.1
ipv4_local = 192.0.2.2
password = bench-secret
heartbeat_interval = 60
mtu = $MTU
EOF
	chmod 600 "$TMP/conf.d/$1.conf"
}

# row KIND TUNNEL NET DIR MODE: one iperf3 run, one line of $RESULTS
row() {
	local kind=$1 tun=$2 net=$3 dir=$4 mode=$5 pid c0 c1 u0 u1 d0 d1 w0 w1 json
	pid=$(field "$tun" 't["pid"]')
	u0=$(udp_snmp)
	d0=$(tun_drops "$tun")
	w0=$(worker_drops "$tun")
	c0=$(cpu_ticks "$pid")
	if [ -n "${BENCH_PERF:-}" ]; then
		mkdir -p "$BENCH_PERF"
		perf record -q -g -p "$pid" -o "$BENCH_PERF/$kind-$dir-$mode.data" -- sleep "$SECS" >/dev/null 2>&1 &
	fi
	json=$TMP/iperf.json
	lab_in "$NS_CLI" iperf3 -c "2001:db8:$net::1" -B "2001:db8:$net::2" -t "$SECS" -J \
		$([ "$dir" = down ] && echo -R) >"$json" 2>&1 || { echo "iperf3 failed:"; cat "$json"; }
	c1=$(cpu_ticks "$pid")
	u1=$(udp_snmp)
	d1=$(tun_drops "$tun")
	# The worker reports its counters every second: wait (bounded) for the report
	# that covers the run.
	ROW_TUN=$tun
	ROW_BYTES=$(worker_bytes "$tun")
	lab_wait 3 report_moved
	w1=$(worker_drops "$tun")
	python3 - "$json" "$kind" "$dir" "$mode" "$((c1 - c0))" "$(getconf CLK_TCK)" "$u0" "$u1" \
		"$((d1 - d0))" "$((w1 - w0))" >>"$RESULTS" <<'PY'
import json, sys
f, kind, d, mode, ticks, hz, u0, u1, tund, wd = sys.argv[1:]
r = json.load(open(f))["end"]["sum_received"]
cpu = int(ticks) / int(hz)
u = [int(b) - int(a) for a, b in zip(u0.split(), u1.split())]
gb = r["bytes"] / 1e9
print("\t".join(map(str, [kind, d, mode, round(r["bits_per_second"] / 1e6, 1),
      round(cpu / gb if gb else 0, 2), round(cpu, 2), u[0], u[1], u[2], tund, wd])))
PY
}

# run_mode MODE (plain | offload): aiccud and the two PoP endpoints, four rows
run_mode() {
	local mode=$1 off=no pids=()
	[ "$mode" = offload ] && off=yes
	rm -rf "$TMP/conf.d" "$TMP/run" && mkdir -p "$TMP/conf.d"
	tunnel_file sixxs0 ayiya a 200 "$off"
	tunnel_file sixxs1 6in4-static c 201 "$off"
	rm -f "$TMP"/pop*.ready
	ip netns exec "$NS_POP" "$POP" ayiya pop0 192.0.2.1 bench-secret 2001:db8:a::2 2001:db8:a::1 \
		$MTU "$TMP/pop0.ready" 2>>"$TMP/pop.log" &
	pids+=("$!")
	ip netns exec "$NS_POP" "$POP" p41 pop1 192.0.2.2 2001:db8:c::1 $MTU "$TMP/pop1.ready" \
		2>>"$TMP/pop.log" &
	pids+=("$!")
	LAB_PIDS+=("${pids[@]}")
	lab_wait 10 test -e "$TMP/pop0.ready" -a -e "$TMP/pop1.ready" || die "bench_pop did not start: $(cat "$TMP/pop.log")"
	lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
	lab_wait 20 both_up ||
		die "tunnels did not come up: $(tail -5 "$TMP/aiccud.log")"
	lab_wait 10 lab_in "$NS_CLI" ping -6 -c 1 -W 1 2001:db8:a::1 || die "no ping through AYIYA"
	lab_wait 10 lab_in "$NS_CLI" ping -6 -c 1 -W 1 2001:db8:c::1 || die "no ping through proto-41"
	echo "# $mode: sixxs0 $(field sixxs0 't["offload"]'), sixxs1 $(field sixxs1 't["offload"]')" >&2
	for dir in up down; do
		row ayiya sixxs0 a "$dir" "$mode"
		row proto41 sixxs1 c "$dir" "$mode"
	done
	kill -TERM "$LAB_AICCUD_PID"
	lab_wait 10 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null" || kill -KILL "$LAB_AICCUD_PID"
	wait "$LAB_AICCUD_PID" 2>/dev/null
	kill -TERM "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null
}

[ "$(id -u)" = 0 ] || die "needs root (namespaces)"
command -v iperf3 >/dev/null || die "needs iperf3"
lab_up || die "lab set-up"
lab_daemon_conf "$TMP"
ip netns exec "$NS_POP" iperf3 -s >/dev/null 2>&1 &
LAB_PIDS+=("$!")
lab_wait 10 sh -c "ip netns exec $NS_POP ss -ltn | grep -q ':5201 '" || die "iperf3 server"
read -r sha_gbs sha_cpu <<<"$("$POP" sha1 $MTU)"
: >"$RESULTS"
for _ in $(seq "$ROUNDS"); do
	run_mode plain
	run_mode offload
done

echo "SHA-1 (the floor): ayiya_seal over $((MTU + 44))-byte datagrams: $sha_gbs GB/s per core, $sha_cpu CPU-seconds per GB"
echo "iperf3 ${SECS} s per run, MTU $MTU, $ROUNDS round(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(tuple(r[:3]), []).append(r)
print("%-8s %-5s %-8s %9s %9s %8s %8s %8s %8s %8s %8s" % (
    "tunnel", "dir", "path", "Mbit/s", "CPU-s/GB", "CPU-s", "rcvbuf", "sndbuf", "udp-in", "tun", "worker"))
for kind in ("ayiya", "proto41"):
    for d in ("up", "down"):
        med = {}
        for mode in ("plain", "offload"):
            rs = by.get((kind, d, mode), [])
            if not rs:
                continue
            mbit = statistics.median(float(r[3]) for r in rs)
            cpu = statistics.median(float(r[4]) for r in rs)
            med[mode] = (mbit, cpu)
            drops = [sum(int(r[i]) for r in rs) for i in range(6, 11)]
            print("%-8s %-5s %-8s %9.1f %9.2f %8.2f %8d %8d %8d %8d %8d" % (
                kind, d, mode, mbit, cpu, statistics.median(float(r[5]) for r in rs), *drops))
        if len(med) == 2 and med["plain"][1] and med["plain"][0]:
            print("%-8s %-5s %-8s %8.2fx %8.2fx   (offload / plain)" % (
                kind, d, "ratio", med["offload"][0] / med["plain"][0],
                med["offload"][1] / med["plain"][1]))
PY
echo "--- PoP endpoints"
cat "$TMP/pop.log"
