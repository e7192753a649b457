#!/bin/bash
# Issue 23: a Hurricane Electric style tunnel ([update], ipv4_local = auto)
# against the simulated broker: its dyndns2 update server (tests/sim/update.py,
# HTTPS with the test CA) moves the PoP's end of the static tunnel
# (pop.py --endpoints), as the real broker does.
#   - he0 comes up (on sit where the kernel has it, else user-space
#     proto-41), tells the broker its address once, and forwards;
#   - the client's IPv4 address changes (old removed, new added, default
#     route moved): exactly one more request, with the new address; the
#     tunnel's local address follows; pings pass again;
#   - a restart with the address unchanged sends nothing;
#   - he1 has a wrong key: one request, badauth, a clear status, nothing
#     after the address change or the restart;
#   - h1..h5 talk to hostile servers (an endless answer line, a slow drip,
#     an HTML page, TLS 1.0 only, a wrong certificate): each one request (or
#     handshake), a clear error, the tunnel unaffected, nothing more.
#   - h6's server answers 911: retried after a back-off, not stopped;
#   - aiccuctl refresh lets he1 ask once more (badauth again); its key
#     fixed in the file (aiccuctl reload), it asks once and gets good.
#
#   test_update.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin update "$1" "$2"
SIM=$(cd "$HERE/../sim" && pwd)
URL=https://192.0.2.1

upd() { status_eval "$1" "t.get('update', {}).get('$2')"; }

# requests LOG [HOSTNAME]: how many requests (or TLS attempts) the server logged.
requests() {
	python3 - "$@" <<'PY'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        e = json.loads(line)
        r = e.get("request") or {}
        if len(sys.argv) < 3 or r.get("hostname") == sys.argv[2] or (
                e.get("request") is None and sys.argv[2] == "*"):
            n += 1
except FileNotFoundError:
    pass
print(n)
PY
}
# nth LOG HOSTNAME N KEY: the N-th (1-based) request's field of that host.
nth() {
	python3 - "$@" <<'PY'
import json, sys
log, host, n, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rs = [json.loads(l) for l in open(log)]
rs = [e for e in rs if (e.get("request") or {}).get("hostname") == host]
e = rs[n - 1]
print(e["answer"] if key == "answer" else e["request"].get(key))
PY
}

lab_up || fail_now "lab set-up"
# A second customer network on the same link: the client moves into it later.
ip -n "$NS_POP" addr add 198.51.100.1/24 dev isp0
ip -n "$NS_CLI" route add default via 192.0.2.1 dev net0
mkdir -p "$TMP/conf.d" "$TMP/state"
bash "$SIM/mkca.sh" "$TMP/pki" tic.test 192.0.2.1 >/dev/null || fail_now "test CA"

cat >"$TMP/pop-update.json" <<'JSON'
{"tunnels": [
 {"id": "T30001", "type": "6in4-static", "ipv4_client": "192.0.2.99",
  "ipv6_pop": "2001:db8:a::1", "ipv6_client": "2001:db8:a::2", "prefix_len": 64,
  "ifname": "pop0", "mtu": 1280, "routed": []}
]}
JSON
echo '{}' >"$TMP/endpoints.json"
lab_pop_start "$TMP" "$TMP/pop-update.json" --endpoints "$TMP/endpoints.json" ||
	fail_now "PoP simulator"

cat >"$TMP/hosts.json" <<'JSON'
{"hosts": [
 {"hostname": "123456", "username": "he-user", "key": "right-key", "ipv4": "192.0.2.99",
  "pop_tunnel": "T30001"},
 {"hostname": "654321", "username": "he-user", "key": "right-key", "ipv4": "192.0.2.99"},
 {"hostname": "777", "username": "he-user", "key": "right-key", "ipv4": "192.0.2.99"}
]}
JSON
# update_server NAME PORT MODE [CERT-STEM]
update_server() {
	ip netns exec "$NS_POP" python3 "$SIM/update.py" --listen 192.0.2.1 --port "$2" \
		--cert "$TMP/pki/${4:-server}.pem" --key "$TMP/pki/${4:-server}-key.pem" \
		--hosts "$TMP/hosts.json" --log "$TMP/$1.log" --pidfile "$TMP/$1.pid" --mode "$3" \
		--endpoints "$TMP/endpoints.json" --pop-pidfile "$TMP/pop.pid" 2>>"$TMP/$1.stderr" &
	LAB_PIDS+=($!)
	lab_wait 10 test -s "$TMP/$1.pid" || fail_now "update server $1: $(cat "$TMP/$1.stderr")"
}
update_server upd 8443 normal
update_server endless 8444 endless
update_server drip 8445 drip
update_server html 8446 html
update_server tls10 8447 tls10
update_server wrongcert 8448 normal wrong
update_server busy 8449 911

# tunnel NAME NET URL HOSTNAME KEY [DATAPATH]: the others stay in user space
# (a sit kernel refuses a second link with the same endpoints)
tunnel() {
	cat >"$TMP/conf.d/$1.conf" <<EOF
[tunnel]
interface = $1
tic = no
datapath = ${6:-userspace}

[params]
type = 6in4-static
ipv4_local = auto
ipv4_pop = 192.0.2.1
ipv6_local = 2001:db8:$2::2
ipv6_pop = 2001:db8:$2::1
prefix_len = 64

[update]
url = $3
username = he-user
key = $5
hostname = $4
ca_file = $TMP/pki/ca.pem
EOF
}
# he0 on the kernel's sit where there is one (its local address then moved by
# the parent), else on user-space proto-41
tunnel he0 a "$URL:8443/nic/update" 123456 right-key auto
# (another path: a limiter bucket of its own, so the tests need not queue)
tunnel he1 b "$URL:8443/nic/update2" 654321 wrong-key
tunnel h1 c1 "$URL:8444/nic/update" 777 right-key
tunnel h2 c2 "$URL:8445/nic/update" 777 right-key
tunnel h3 c3 "$URL:8446/nic/update" 777 right-key
tunnel h4 c4 "$URL:8447/nic/update" 777 right-key
tunnel h5 c5 "$URL:8448/nic/update" 777 right-key
tunnel h6 c6 "$URL:8449/nic/update" 777 right-key
chmod 600 "$TMP"/conf.d/*.conf
cat >"$TMP/aiccud.conf" <<EOF
[daemon]
control_socket = $TMP/run/aiccud.sock
state_dir = $TMP/state
conf_dir = $TMP/conf.d
user = $LAB_USER
EOF

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
T0=$(date +%s)
for t in he0 he1 h1 h2 h3 h4 h5 h6; do
	check "$t comes up" lab_wait 20 is_up "$t"
done

echo "# he0: one update with our address, then the tunnel forwards"
one_request() { [ "$(requests "$TMP/upd.log" 123456)" -ge 1 ]; }
check "the broker hears from he0 (within the limiter's first token, 20 s)" lab_wait 40 one_request
check_eq "one request" 1 "$(requests "$TMP/upd.log" 123456)"
check_eq "with myip = our address" 192.0.2.2 "$(nth "$TMP/upd.log" 123456 1 myip)"
check_eq "the broker answered good" "good 192.0.2.2" "$(nth "$TMP/upd.log" 123456 1 answer)"
check_eq "a GET of the configured path" /nic/update "$(nth "$TMP/upd.log" 123456 1 path)"
ua=$(nth "$TMP/upd.log" 123456 1 user_agent)
check "a User-Agent aiccud/VERSION ($ua)" grep -Eq '^aiccud/[0-9]+\.[0-9]+\.[0-9]+$' <<<"$ua"
check_eq "the Host header names the server" 192.0.2.1:8443 "$(nth "$TMP/upd.log" 123456 1 host_header)"
current() { [ "$(upd "$1" state)" = current ]; }
check "status: he0's update is current" lab_wait 5 current he0
check_eq "status: the last answer" good "$(upd he0 last_answer)"
check_eq "status: for which address" 192.0.2.2 "$(upd he0 last_address)"
check "status: when" test "$(upd he0 last_at)" -ge "$T0"
human() { ctl status 2>/dev/null | grep -q '^he0: update: current; last request .* for 192.0.2.2: good$'; }
check "the human status says so" human
detail() { ctl status he0 2>/dev/null | grep -q '^update      https://192.0.2.1:8443/nic/update (hostname 123456); current; '; }
check "and its detail view" detail
check_eq "the PoP now sends to 192.0.2.2" 192.0.2.2 "$(lab_pop_stat T30001 's["client_ipv4"]')"
check "ping from the PoP to 2001:db8:a::2 through he0" \
	lab_wait 10 lab_in "$NS_POP" ping -6 -c 1 -W 1 2001:db8:a::2
check_eq "status shows our IPv4 toward the PoP" 192.0.2.2 "$(status_eval he0 't.get("local_ipv4")')"
HE0_PATH=$(field he0 datapath_in_use)
echo "# he0 runs on the $HE0_PATH data path"
sit_local() { # the sit link's local address, as the kernel has it
	ip -n "$NS_CLI" -d link show he0 | grep -q "link/sit $1 peer 192.0.2.1"
}
[ "$HE0_PATH" = kernel ] && check "the sit link's local address is ours" sit_local 192.0.2.2

echo "# he1: a wrong key"
badauth() { [ "$(upd he1 last_answer)" = badauth ]; }
check "he1's request is refused: badauth" lab_wait 40 badauth
check_eq "one request from he1" 1 "$(requests "$TMP/upd.log" 654321)"
check_eq "the server saw a wrong key" False "$(nth "$TMP/upd.log" 654321 1 key_ok)"
reason=$(upd he1 state)
echo "# he1 status: $reason"
check "status says updates stopped and what to do" grep -q "^stopped: .*'badauth'; edit \[update\] or run aiccuctl refresh" <<<"$reason"
check "the log says so" grep -q "he1: update for 192.0.2.2 refused: .*badauth" "$TMP/aiccud.log"
check_eq "he1's tunnel itself stays up" up "$(field he1 state)"

echo "# the last updates in aiccuctl metrics and the buckets in aiccuctl limiter"
# value SERIES: its value in $TMP/upd.prom (name and labels exactly as printed)
value() { awk -v s="$1" '$1 == s { print $2; f = 1 } END { exit !f }' "$TMP/upd.prom"; }
ctl metrics >"$TMP/upd.prom"
check_eq "aiccuctl metrics exits 0" 0 "$?"
check "promtool check metrics passes (package prometheus)" \
	sh -c "promtool check metrics <'$TMP/upd.prom'"
check_eq "he0's last result: good for 192.0.2.2" 1 \
	"$(value 'aiccud_tunnel_update_last_result{tunnel="he0",answer="good",address="192.0.2.2"}')"
check "he0's last request time is this run's" \
	test "$(value 'aiccud_tunnel_update_last_request_time_seconds{tunnel="he0"}')" -ge "$T0"
check_eq "he0's updates are not stopped" 0 "$(value 'aiccud_tunnel_update_stopped{tunnel="he0"}')"
check_eq "he1's last result: badauth" 1 \
	"$(value 'aiccud_tunnel_update_last_result{tunnel="he1",answer="badauth",address="192.0.2.2"}')"
check_eq "he1's updates are stopped" 1 "$(value 'aiccud_tunnel_update_stopped{tunnel="he1"}')"
check_eq "he1 never succeeded" 0 "$(value 'aiccud_tunnel_update_success_time_seconds{tunnel="he1"}')"
check "the bucket of he0's URL counts its request" \
	test "$(value 'aiccud_update_requests_total{url="https://192.0.2.1:8443/nic/update"}')" -ge 1
check "aiccuctl limiter shows that bucket" \
	grep -qx 'update URL    https://192.0.2.1:8443/nic/update' <<<"$(ctl limiter)"

echo "# hostile update servers"
done_h() { [ -n "$(upd "$1" last_at)" ] && [ "$(upd "$1" last_at)" != 0 ]; }
for t in h1 h2 h3 h4 h5; do
	check "$t's request ended" lab_wait 45 done_h "$t"
done
show() { echo "# $1: $(upd "$1" state) / $(upd "$1" last_reason)"; }
for t in h1 h2 h3 h4 h5; do show "$t"; done
check "endless line: refused as too long" grep -q "answer is longer than 4096 bytes" <<<"$(upd h1 last_reason)"
check_eq "endless line: updates stop" True "$(upd h1 stopped)"
check "slow drip: timed out" grep -q "took longer than 20 s (waiting for the answer)" <<<"$(upd h2 last_reason)"
check "slow drip: retried only after a back-off" grep -q "^retrying in" <<<"$(upd h2 state)"
check "HTML page: not a dyndns2 answer" grep -q "not a dyndns2 answer (HTTP 200, an HTML page" <<<"$(upd h3 last_reason)"
check_eq "HTML page: updates stop" True "$(upd h3 stopped)"
check "TLS 1.0 only: refused in the handshake" grep -q "TLS handshake: .*(aiccud requires TLS 1.2 or newer)" <<<"$(upd h4 last_reason)"
check_eq "TLS 1.0: no request got through" 0 "$(requests "$TMP/tls10.log" 777)"
check "TLS 1.0: the server saw the handshake fail" grep -q tls_error "$TMP/tls10.log"
check "wrong certificate: refused, naming the host" grep -q "certificate was refused for '192.0.2.1'" <<<"$(upd h5 last_reason)"
check_eq "wrong certificate: no request got through" 0 "$(requests "$TMP/wrongcert.log" 777)"
check_eq "endless line: one request" 1 "$(requests "$TMP/endless.log" 777)"
check_eq "slow drip: one request" 1 "$(requests "$TMP/drip.log" 777)"
check_eq "HTML page: one request" 1 "$(requests "$TMP/html.log" 777)"
for t in h1 h2 h3 h4 h5; do
	check_eq "$t's tunnel is unaffected" up "$(field "$t" state)"
done

echo "# 911: the broker's trouble, retried after a back-off"
check "h6's request ended" lab_wait 45 done_h h6
show h6
check_eq "911 is what status shows" 911 "$(upd h6 last_answer)"
check "and a retry is planned after a back-off" grep -q "^retrying in" <<<"$(upd h6 state)"
check_eq "updates do not stop on 911" False "$(upd h6 stopped)"
# gaps LOG: seconds between consecutive requests of the log
gaps() { python3 -c 'import json,sys; t=[json.loads(l)["time"] for l in open(sys.argv[1])]; print(" ".join("%.0f" % (b - a) for a, b in zip(t, t[1:])))' "$1"; }
echo "# 911 requests: $(requests "$TMP/busy.log" 777), seconds between them: $(gaps "$TMP/busy.log")"
backed_off() { # every gap at least 30 s, each at least twice the one before
	python3 -c 'import sys; g=[float(x) for x in sys.argv[1:]]; sys.exit(0 if all(x >= 29.5 for x in g) and all(b >= 2 * a - 1 for a, b in zip(g, g[1:])) else 1)' $(gaps "$TMP/busy.log")
}
check "retries only after 30 s, then doubling" backed_off

echo "# the client's IPv4 address changes"
ip -n "$NS_CLI" addr del 192.0.2.2/24 dev net0
ip -n "$NS_CLI" addr add 198.51.100.2/24 dev net0
ip -n "$NS_CLI" route replace default via 198.51.100.1 dev net0
t_change=$(date +%s.%N)
two_requests() { [ "$(requests "$TMP/upd.log" 123456)" -ge 2 ]; }
check "the broker hears from he0 again" lab_wait 40 two_requests
echo "# the update left $(python3 -c "import time; print(round(time.time() - $t_change, 1))") s after the change (settle 2 s, then the limiter's token)"
check_eq "with myip = the new address" 198.51.100.2 "$(nth "$TMP/upd.log" 123456 2 myip)"
check_eq "answered good" "good 198.51.100.2" "$(nth "$TMP/upd.log" 123456 2 answer)"
check "status: current again" lab_wait 5 current he0
moved() { [ "$(status_eval he0 't.get("local_ipv4")')" = 198.51.100.2 ]; }
check "the tunnel's local address follows" lab_wait 5 moved
[ "$HE0_PATH" = kernel ] && check "the sit link's local address follows" lab_wait 5 sit_local 198.51.100.2
check "pings through he0 pass again" lab_wait 10 lab_in "$NS_POP" ping -6 -c 1 -W 1 2001:db8:a::2
check "and from the tunnel address outward" \
	lab_wait 10 lab_in "$NS_CLI" ping -6 -c 1 -W 1 -I 2001:db8:a::2 2001:db8:a::1
check_eq "exactly one request for the new address (two in all)" 2 "$(requests "$TMP/upd.log" 123456)"
check_eq "he1 (stopped) sent nothing for the new address" 1 "$(requests "$TMP/upd.log" 654321)"

echo "# restart with the address unchanged"
kill -TERM "$LAB_AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "he0 comes up again" lab_wait 20 is_up he0
check "he0's update is current after the restart (checked, not sent)" lab_wait 10 current he0
stopped_again() { [ "$(upd he1 stopped)" = True ]; }
check "he1 is still stopped after the restart" lab_wait 5 stopped_again
for t in h1 h3 h4 h5; do
	check_eq "$t is still stopped after the restart" True "$(upd "$t" stopped)"
done
check_eq "no request from he0 after the restart" 2 "$(requests "$TMP/upd.log" 123456)"
check_eq "no request from he1 after the restart" 1 "$(requests "$TMP/upd.log" 654321)"
check_eq "endless: nothing more" 1 "$(requests "$TMP/endless.log" 777)"
check_eq "html: nothing more" 1 "$(requests "$TMP/html.log" 777)"
check_eq "tls10: nothing more" 1 "$(requests "$TMP/tls10.log" '*')"
check_eq "wrong certificate: nothing more" 1 "$(requests "$TMP/wrongcert.log" '*')"
check_absent "the default URL was never used" tunnelbroker.net "$TMP/aiccud.log"

echo "# aiccuctl refresh lets a stopped update go again"
ctl refresh he1
refreshed() { [ "$(requests "$TMP/upd.log" 654321)" -ge 2 ]; }
check "he1 asks once more" lab_wait 25 refreshed
check_eq "and is refused again" badauth "$(upd he1 last_answer)"

echo "# the key fixed in the file: updates resume"
sed -i 's/^key = wrong-key/key = right-key/' "$TMP/conf.d/he1.conf"
ctl reload >/dev/null
fixed() { [ "$(upd he1 last_answer)" = good ]; }
check "he1 tells the broker once its key is right (within its bucket's next token)" lab_wait 30 fixed
check_eq "three requests from he1 in all" 3 "$(requests "$TMP/upd.log" 654321)"
check_eq "the last one with the right key" True "$(nth "$TMP/upd.log" 654321 3 key_ok)"
check_eq "he1 is no longer stopped" False "$(upd he1 stopped)"

kill -TERM "$LAB_AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
echo "--- request log (he0, he1)"
cat "$TMP/upd.log"
echo "--- aiccud log"
cat "$TMP/aiccud.log"
finish
