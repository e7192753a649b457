# TIC side of the namespace lab (sourced after lab.sh): the simulated
# broker's TIC server in the pop namespace, tunnels whose parameters come
# from it, and counting what the server saw.
#
# The client resolves tic.test through /etc/netns/<client ns>/hosts, which
# `ip netns exec` bind-mounts over /etc/hosts for that namespace only.

LAB_SIM=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sim" && pwd)
LAB_TIC_PID=
LAB_TIC_USER=ABC1-SIXXS
LAB_TIC_PASS=sim-password

# lab_tic_fixture DIR N [TYPE[,TYPE...]]: accounts.json for tic.py and the
# matching pop-tic.json for pop.py (tunnel i: 2001:db8:<i>::2, T1000i).
# TYPE: one type for all tunnels, or one per tunnel separated by commas
# (the last one repeats); `IPv4 Endpoint` is what a broker gives for the
# type: ayiya, heartbeat, or an address (PROTOCOLS.md 7.1).
lab_tic_fixture() {
	local dir=$1 n=$2 kind=${3:-ayiya}
	python3 - "$dir" "$n" "$kind" "$LAB_SIM" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[4])
import tic
d, n, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
kinds += [kinds[-1]] * (n - len(kinds))
acc = tic.example_accounts(n, kinds=kinds)
json.dump(acc, open(d + "/accounts.json", "w"), indent=1)
pop = {"tunnels": []}
for i, t in enumerate(acc["accounts"][0]["tunnels"]):
    pop["tunnels"].append({
        "id": t["TunnelId"], "type": t["Type"], "password": t["Password"],
        "ipv6_pop": t["IPv6 POP"], "ipv6_client": t["IPv6 Endpoint"],
        "prefix_len": t["IPv6 PrefixLength"], "ifname": "pop%d" % i,
        "mtu": t["Tunnel MTU"], "routed": [],
        "heartbeat_interval": t["Heartbeat_Interval"]})
    if t["Type"] == "6in4-static":
        pop["tunnels"][-1]["ipv4_client"] = t["IPv4 Endpoint"]
json.dump(pop, open(d + "/pop-tic.json", "w"), indent=1)
PY
}

# lab_tic_pki DIR: test CA and certificates (tic.test and 192.0.2.1).
lab_tic_pki() {
	bash "$LAB_SIM/mkca.sh" "$1/pki" tic.test 192.0.2.1 >/dev/null
}

# lab_tic_start DIR CERT-STEM [tic.py options...]: (re)start the TIC server
# with pki/CERT-STEM.pem; LAB_TIC_PID is its PID.
lab_tic_start() {
	local dir=$1 stem=$2
	shift 2
	lab_tic_stop
	rm -f "$dir/tic.pid"
	ip netns exec "$NS_POP" python3 "$LAB_SIM/tic.py" --listen 192.0.2.1 \
		--accounts "$dir/accounts.json" --cert "$dir/pki/$stem.pem" \
		--key "$dir/pki/$stem-key.pem" --log "$dir/tic.log" --pidfile "$dir/tic.pid" \
		"$@" 2>>"$dir/tic.stderr" &
	LAB_TIC_PID=$!
	LAB_PIDS+=("$LAB_TIC_PID")
	lab_wait 10 test -s "$dir/tic.pid" || { echo "TIC server did not start:"; cat "$dir/tic.stderr"; return 1; }
}

lab_tic_stop() {
	[ -n "$LAB_TIC_PID" ] || return 0
	kill -TERM "$LAB_TIC_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$LAB_TIC_PID" 2>/dev/null || break; sleep 0.1; done
	LAB_TIC_PID=
}

# lab_tic_client DIR N: aiccud.conf with the lab's TIC account and N tunnel
# files sixxs0..sixxs(N-1) that name only their TunnelId.
lab_tic_client() {
	local dir=$1 n=$2 i
	mkdir -p "$dir/conf.d" "$dir/state" "/etc/netns/$NS_CLI"
	echo "192.0.2.1 tic.test" >"/etc/netns/$NS_CLI/hosts"
	cat >"$dir/aiccud.conf" <<EOF
[daemon]
control_socket = $dir/run/aiccud.sock
state_dir = $dir/state
conf_dir = $dir/conf.d
user = $LAB_USER

[tic]
server = tic.test
username = $LAB_TIC_USER
password = $LAB_TIC_PASS
ca_file = $dir/pki/ca.pem
EOF
	# LAB_TIC_REFILL: a shorter limiter refill (>= 16 s keeps the broker's
	# rule) so that a test's first token comes sooner than after 30 s.
	if [ -n "${LAB_TIC_REFILL:-}" ]; then
		printf '\n[limiter]\nrefill = %s\n' "$LAB_TIC_REFILL" >>"$dir/aiccud.conf"
	fi
	chmod 600 "$dir/aiccud.conf"
	for i in $(seq 0 $((n - 1))); do
		cat >"$dir/conf.d/sixxs$i.conf" <<EOF
[tunnel]
interface = sixxs$i
id = T$((10001 + i))
table = $((200 + i))
rule_priority = $((1000 + i))
EOF
	done
	chmod 600 "$dir"/conf.d/*.conf
}

lab_tic_down() {
	rm -rf "/etc/netns/$NS_CLI"
}

# tic_count LOG EVENT [refused]: how many EVENT lines the server logged.
tic_count() {
	python3 - "$@" <<'PY'
import json, sys
log, event = sys.argv[1], sys.argv[2]
want_refused = len(sys.argv) > 3
n = 0
try:
    for line in open(log):
        e = json.loads(line)
        if e.get("event") == event and (not want_refused or e.get("refused")):
            n += 1
except FileNotFoundError:
    pass
print(n)
PY
}

# tic_max_window LOG: the most connections the server saw in any 60 s window.
tic_max_window() {
	python3 - "$1" <<'PY'
import json, sys
ts = []
try:
    ts = sorted(json.loads(l)["ts"] for l in open(sys.argv[1])
                if json.loads(l).get("event") == "connect")
except FileNotFoundError:
    pass
best = 0
for i, t in enumerate(ts):
    best = max(best, sum(1 for u in ts[i:] if u - t <= 60.0))
print(best)
PY
}
