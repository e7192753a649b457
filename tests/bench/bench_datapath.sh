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
# The PoP endpoint sends like the historic PoP (bench_pop --sixxsd: one
# datagram per system call, no offloads, no batching; PROTOCOLS.md 7.2),
# so the client receives what a real PoP sends.  Beside the figures each
# row shows the datagrams per receive call and the packets per TUN write
# of the client's worker (its counters rx_calls, rx_datagrams,
# tun_writes, tun_packets) and the PoP endpoint's own CPU-s/GB, so that a
# run limited by the PoP shows.
#
#   bench_datapath.sh AICCUD AICCUCTL BENCH_POP
#   BENCH_SECONDS (5) per iperf3 run, BENCH_ROUNDS (1) of plain + offload,
#   BENCH_PERF=DIR: perf record of the worker during each run into DIR
#   BENCH_POPS ("sixxsd"): PoP endpoints to run against, "sixxsd" and/or
#     "gso" (bench_pop's own offloaded data path, what this bench used first)
#   BENCH_GRO ("off"): "off" and/or "on": UDP GRO of the client's veth
#     (ethtool -K gro), the kernel coalescing datagrams where a real NIC would
#   BENCH_NAPI ("inline"): "threaded" gives both veth ends threaded NAPI
#     (which needs GRO on: BENCH_GRO is then on), so that the receiving side's network stack runs in a
#     kernel thread, as a real NIC's would, instead of being charged to the
#     process that sent into the veth
#   BENCH_STAT (1): perf stat of the worker's system calls and context
#     switches per MB (0: not; without perf the columns read 0)
#   BENCH_KINDS ("ayiya proto41"), BENCH_MODES ("plain offload")
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../netns/lab.sh"

AICCUD=$1
AICCUCTL=$2
POP=$3
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-1}
POPS=${BENCH_POPS:-sixxsd}
GROS=${BENCH_GRO:-off}
NAPI=${BENCH_NAPI:-inline}
KINDS=${BENCH_KINDS:-ayiya proto41}
MODES=${BENCH_MODES:-plain offload}
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
# receive calls, datagrams, TUN writes, packets written
worker_io() { field "$1" '" ".join(str(t["counters"][k]) for k in ("rx_calls", "rx_datagrams", "tun_writes", "tun_packets"))'; }
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

# row KIND TUNNEL NET DIR MODE POP POP-PID GRO: one iperf3 run, one line of $RESULTS
row() {
	local kind=$1 tun=$2 net=$3 dir=$4 mode=$5 pop=$6 poppid=$7 gro=$8 pid c0 c1 u0 u1 d0 d1 w0 w1 json
	local p0 p1 io0 io1
	pid=$(field "$tun" 't["pid"]')
	u0=$(udp_snmp)
	d0=$(tun_drops "$tun")
	w0=$(worker_drops "$tun")
	io0=$(worker_io "$tun")
	p0=$(cpu_ticks "$poppid")
	c0=$(cpu_ticks "$pid")
	rm -f "$TMP/stat"
	if [ "${BENCH_STAT:-1}" = 1 ] && command -v perf >/dev/null; then
		perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pid" -o "$TMP/stat" \
			-- sleep "$SECS" >/dev/null 2>&1 &
	fi
	if [ -n "${BENCH_PERF:-}" ]; then
		mkdir -p "$BENCH_PERF"
		perf record -q -g -p "$pid" -o "$BENCH_PERF/$kind-$dir-$mode-$pop-gro$gro.data" -- sleep "$SECS" >/dev/null 2>&1 &
	fi
	json=$TMP/iperf.json
	lab_in "$NS_CLI" iperf3 -c "2001:db8:$net::1" -B "2001:db8:$net::2" -t "$SECS" -J \
		$([ "$dir" = down ] && echo -R) >"$json" 2>&1 || { echo "iperf3 failed:"; cat "$json"; }
	c1=$(cpu_ticks "$pid")
	p1=$(cpu_ticks "$poppid")
	u1=$(udp_snmp)
	d1=$(tun_drops "$tun")
	# The worker reports its counters every second: wait (bounded) for the report
	# that covers the run.
	ROW_TUN=$tun
	ROW_BYTES=$(worker_bytes "$tun")
	lab_wait 3 report_moved
	w1=$(worker_drops "$tun")
	io1=$(worker_io "$tun")
	lab_wait 5 sh -c "grep -q context-switches '$TMP/stat' 2>/dev/null"
	python3 - "$json" "$kind" "$dir" "$mode" "$((c1 - c0))" "$(getconf CLK_TCK)" "$u0" "$u1" \
		"$((d1 - d0))" "$((w1 - w0))" "$pop/gro-$gro" "$((p1 - p0))" "$io0" "$io1" "$TMP/stat" >>"$RESULTS" <<'PY'
import json, os, sys
f, kind, d, mode, ticks, hz, u0, u1, tund, wd, pop, pticks, io0, io1, st = sys.argv[1:]
# perf stat -x, over the run: system calls and context switches of the worker
ev = {}
if os.path.exists(st):
    for l in open(st):
        p = l.split(",")
        if len(p) > 2 and p[0].strip().isdigit():
            ev[p[2]] = int(p[0])
r = json.load(open(f))["end"]["sum_received"]
cpu = int(ticks) / int(hz)
pcpu = int(pticks) / int(hz)
u = [int(b) - int(a) for a, b in zip(u0.split(), u1.split())]
io = [int(b) - int(a) for a, b in zip(io0.split(), io1.split())]
gb = r["bytes"] / 1e9
print("\t".join(map(str, [kind, d, mode, round(r["bits_per_second"] / 1e6, 1),
      round(cpu / gb if gb else 0, 2), round(cpu, 2), u[0], u[1], u[2], tund, wd, pop,
      round(pcpu / gb if gb else 0, 2), round(io[1] / io[0], 1) if io[0] else 0,
      round(io[3] / io[2], 1) if io[2] else 0,
      round(ev.get("raw_syscalls:sys_enter", 0) / (gb * 1e3), 1) if gb else 0,
      round(ev.get("context-switches", 0) / (gb * 1e3), 1) if gb else 0])))
PY
}

# run_mode MODE POP GRO (plain | offload, sixxsd | gso, on | off): aiccud and the two PoP endpoints, four rows
run_mode() {
	local mode=$1 pop=$2 gro=$3 off=no pids=() popflag=
	[ "$mode" = offload ] && off=yes
	[ "$pop" = sixxsd ] && popflag=--sixxsd
	# A veth hands a socket's packets to its peer's NAPI (where GRO runs)
	# only with rx-udp-gro-forwarding (or rx-gro-list) on the receiving end.
	lab_in "$NS_CLI" ethtool -K net0 gro "$gro" rx-udp-gro-forwarding "$gro" >/dev/null 2>&1 ||
		echo "# ethtool -K net0 gro $gro refused" >&2
	if [ "$NAPI" = threaded ]; then
		lab_in "$NS_POP" ethtool -K isp0 gro on rx-udp-gro-forwarding on >/dev/null 2>&1
		lab_in "$NS_CLI" ethtool -K net0 gro on rx-udp-gro-forwarding on >/dev/null 2>&1
		lab_in "$NS_CLI" sh -c 'echo 1 >/sys/class/net/net0/threaded' &&
			lab_in "$NS_POP" sh -c 'echo 1 >/sys/class/net/isp0/threaded' ||
			echo "# threaded NAPI refused" >&2
		gro=on-napi # (a veth has NAPI only with GRO)
	fi
	rm -rf "$TMP/conf.d" "$TMP/run" && mkdir -p "$TMP/conf.d"
	tunnel_file sixxs0 ayiya a 200 "$off"
	tunnel_file sixxs1 6in4-static c 201 "$off"
	rm -f "$TMP"/pop*.ready
	ip netns exec "$NS_POP" "$POP" $popflag ayiya pop0 192.0.2.1 bench-secret 2001:db8:a::2 2001:db8:a::1 \
		$MTU "$TMP/pop0.ready" 2>>"$TMP/pop.log" &
	pids+=("$!")
	ip netns exec "$NS_POP" "$POP" $popflag p41 pop1 192.0.2.2 2001:db8:c::1 $MTU "$TMP/pop1.ready" \
		2>>"$TMP/pop.log" &
	pids+=("$!")
	LAB_PIDS+=("${pids[@]}")
	lab_wait 10 test -e "$TMP/pop0.ready" -a -e "$TMP/pop1.ready" || die "bench_pop did not start: $(cat "$TMP/pop.log")"
	lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
	lab_wait 20 both_up ||
		die "tunnels did not come up: $(tail -5 "$TMP/aiccud.log")"
	lab_wait 10 lab_in "$NS_CLI" ping -6 -c 1 -W 1 2001:db8:a::1 || die "no ping through AYIYA"
	lab_wait 10 lab_in "$NS_CLI" ping -6 -c 1 -W 1 2001:db8:c::1 || die "no ping through proto-41"
	echo "# $mode, PoP $pop, client GRO $gro: sixxs0 $(field sixxs0 't["offload"]'), sixxs1 $(field sixxs1 't["offload"]')" >&2
	for dir in up down; do
		case " $KINDS " in *" ayiya "*) row ayiya sixxs0 a "$dir" "$mode" "$pop" "${pids[0]}" "$gro" ;; esac
		case " $KINDS " in *" proto41 "*) row proto41 sixxs1 c "$dir" "$mode" "$pop" "${pids[1]}" "$gro" ;; esac
	done
	for tun in sixxs0 sixxs1; do
		echo "# $mode, PoP $pop: $tun drops $(field "$tun" '{k: v for k, v in t["counters"]["drops"].items() if v}')" >&2
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
	for pop in $POPS; do
		for gro in $GROS; do
			for mode in $MODES; do
				run_mode "$mode" "$pop" "$gro"
			done
		done
	done
done

echo "SHA-1 (the floor): ayiya_seal over $((MTU + 44))-byte datagrams: $sha_gbs GB/s per core, $sha_cpu CPU-seconds per GB"
echo "iperf3 ${SECS} s per run, MTU $MTU, $ROUNDS round(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" "$sha_cpu" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
floor = float(sys.argv[2])
by = {}
for r in rows:
    by.setdefault((r[0], r[1], r[11], r[2]), []).append(r)
med = lambda rs, i: statistics.median(float(r[i]) for r in rs)
# CPU-s/GB of the worker first: the figure; dg/call and pk/write: the client's
# datagrams per receive call and packets per TUN write; PoP: its CPU-s/GB.
# sys/MB, cs/MB: the worker's system calls and context switches per MB (perf stat)
print("%-8s %-5s %-16s %-8s %8s %8s %8s %7s %7s %8s %6s %6s %6s %6s %6s %6s %6s" % (
    "tunnel", "dir", "PoP", "path", "CPU-s/GB", "floor", "Mbit/s", "dg/call", "pk/wr",
    "PoP-s/GB", "sys/MB", "cs/MB", "CPU-s", "rcvbuf", "sndbuf", "tun", "worker"))
for kind in ("ayiya", "proto41"):
    for d in ("up", "down"):
        for pop in sorted({k[2] for k in by}):
            for mode in ("plain", "offload"):
                rs = by.get((kind, d, pop, mode), [])
                if not rs:
                    continue
                drops = [sum(int(r[i]) for r in rs) for i in (6, 7, 9, 10)]
                print("%-8s %-5s %-16s %-8s %8.2f %8.2f %8.1f %7.1f %7.1f %8.2f %6.1f %6.1f %6.2f %6d %6d %6d %6d" % (
                    kind, d, pop, mode, med(rs, 4), floor if kind == "ayiya" else 0,
                    med(rs, 3), med(rs, 13), med(rs, 14), med(rs, 12), med(rs, 15), med(rs, 16),
                    med(rs, 5), *drops))
print("(medians of %d round(s); every run: tunnel dir PoP path Mbit/s CPU-s/GB)" % max(
    len(v) for v in by.values()) if by else "no runs")
for k in sorted(by):
    print("  %s %s %s %s: %s" % (k[0], k[1], k[2], k[3], "  ".join(
        "%s %s" % (r[3], r[4]) for r in by[k])))
PY
echo "--- PoP endpoints"
cat "$TMP/pop.log"
