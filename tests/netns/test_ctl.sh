#!/bin/bash
# aiccuctl against a running aiccud in a namespace lab: every command, its
# human and its JSON output (JSON checked by Python's parser), the
# protocol's progress lines, exit codes, and access control (a user
# outside control_group is refused the commands that change something).
#
#   test_ctl.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin ctl "$1" "$2"
# Others must reach the socket's directory (it is 0750 root:nogroup itself).
chmod 755 "$TMP"
# The control group: nogroup (gid 65534) exists on Debian; uid 65534 is nobody.
GROUP=nogroup
GID=$(getent group "$GROUP" | cut -d: -f3)

# as UID GID [SUPPLEMENTARY] -- aiccuctl ARGS: run aiccuctl as another user
as() {
	local uid=$1 gid=$2 groups=$3
	shift 4
	if [ -n "$groups" ]; then
		lab_in "$NS_CLI" setpriv --reuid="$uid" --regid="$gid" --groups="$groups" \
			"$AICCUCTL" -s "$SOCK" "$@"
	else
		lab_in "$NS_CLI" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
			"$AICCUCTL" -s "$SOCK" "$@"
	fi
}
# jq-like: py EXPR < JSON (d is the parsed document); fails on invalid JSON.
py() { python3 -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if not isinstance(r,bool) else str(r).lower())' "$1"; }
# has TEXT PATTERN / has_re TEXT REGEX: TEXT has a line matching
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
has_re() { printf '%s\n' "$1" | grep -Eq -- "$2"; }
is_json() { python3 -c 'import json,sys; json.load(sys.stdin)'; }
state_of() { ctl status "$1" --json | py 'd["tunnels"][0]["state"]'; }
is_up() { [ "$(state_of "$1")" = up ]; }
is_stopped() { [ "$(state_of "$1")" = stopped ]; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_client_conf "$TMP" "$HERE/../../conf.d"
echo "control_group = $GROUP" >>"$TMP/aiccud.conf"
# A third tunnel whose file is broken (the kernel's main table): it must fail alone.
cat >"$TMP/conf.d/sixxs9.conf" <<'EOF'
[tunnel]
interface = sixxs9
tic = no
table = 254
[params]
type = 6in4-static
ipv6_local = 2001:db8:9::2
ipv6_pop = 2001:db8:9::1
prefix_len = 64
ipv4_pop = 192.0.2.1
ipv4_local = 192.0.2.2
EOF

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
AICCUD_PID=$LAB_AICCUD_PID
both_up() { is_up sixxs0 && is_up sixxs1; }
check "both good tunnels come up" lab_wait 20 both_up

echo "--- version"
out=$(ctl version)
echo "$out"
check "version names aiccuctl" has "$out" '^aiccuctl '
check "version names aiccud" has "$out" '^aiccud '
check_eq "version --json: the daemon's pid" "$AICCUD_PID" "$(ctl version --json | py 'd["daemon"]["pid"]')"
check_eq "version --json: protocol version 1" 1 "$(ctl version --json | py 'd["version"]')"

echo "--- socket modes"
check_eq "socket directory is 0750 root:$GROUP" "750 root $GROUP" "$(stat -c '%a %U %G' "$TMP/run")"
check_eq "socket is 0660 root:$GROUP" "660 root $GROUP" "$(stat -c '%a %U %G' "$SOCK")"

echo "--- status"
out=$(ctl status)
echo "$out"
check "status: a table with the documented columns" has "$(printf '%s\n' "$out" | head -n 1)" 'TUNNEL *TYPE *DATAPATH *STATE *SINCE *INTERFACE *LOCAL *POP *POP-V4 *TABLE *HEARTBEAT *TX PKT/B *RX PKT/B *DROPS *RESTARTS *REPAIRS'
check "status: sixxs0 row is up with its addresses and table" has_re "$out" '^sixxs0 +ayiya +userspace +up .* 2001:db8:a::2/64 +2001:db8:a::1 +192.0.2.1 +200 '
check "status: sixxs1 row is up" has_re "$out" '^sixxs1 +ayiya +[a-z]+ +up '
check "status: sixxs9 failed, and the reason names its file" has "$out" '^sixxs9: failed: .*sixxs9.conf'
check "status: restarts and route repairs are counted" has_re "$out" '^sixxs0 .* 0 +0$'
check "status: the TIC limiter" has "$out" '^TIC limiter: '
ctl status >/dev/null
check_eq "status with sixxs9 failed: exit 1 (some tunnel not up)" 1 $?
ctl status sixxs0 >/dev/null
check_eq "status of an up tunnel: exit 0" 0 $?
ctl status sixxs9 >/dev/null
check_eq "status of a failed tunnel: exit 1" 1 $?
ctl status --json >/dev/null
check_eq "status --json with sixxs9 failed: exit 1 too" 1 $?
ctl status --json | is_json
check_eq "status --json is JSON" 0 $?
check_eq "status --json: three tunnels" 3 "$(ctl status --json | py 'len(d["tunnels"])')"
check_eq "status --json: sixxs0's local address" "2001:db8:a::2/64" "$(ctl status --json | py '[t for t in d["tunnels"] if t["name"]=="sixxs0"][0]["local"]')"
check_eq "status --json: daemon pid" "$AICCUD_PID" "$(ctl status --json | py 'd["daemon"]["pid"]')"
out=$(ctl status sixxs0)
echo "$out"
check "status TUNNEL: details" has "$out" '^routing     table 200, rule priority 1000, installed'
check_eq "status TUNNEL --json: one tunnel" sixxs0 "$(ctl status sixxs0 --json | py 'd["tunnels"][0]["name"]')"
ctl status nosuch >/dev/null 2>"$TMP/err"
check_eq "status of an unknown tunnel: exit 4" 4 $?
check "... and the message lists the configured tunnels" grep -q "no tunnel named 'nosuch' (configured: sixxs0, sixxs1, sixxs9)" "$TMP/err"
check_eq "status unknown --json: code unknown_tunnel" unknown_tunnel "$(ctl status nosuch --json 2>/dev/null | py 'd["code"]')"

echo "--- limiter"
out=$(ctl limiter)
echo "$out"
check "limiter: tokens" has "$out" '^tokens '
check "limiter: state file" has "$out" '^state file '
check_eq "limiter --json: burst" 1 "$(ctl limiter --json | py 'd["limiter"]["burst"]')"

echo "--- check-config"
out=$(ctl check-config)
rc=$?
echo "$out"
check_eq "check-config with a broken tunnel file: exit 1" 1 "$rc"
check "check-config names the file and line" has "$out" 'sixxs9.conf:[0-9]*: '
check_eq "check-config --json: sixxs9 not valid" false "$(ctl check-config --json | py '[t for t in d["tunnels"] if t["name"]=="sixxs9"][0]["valid"]')"
mv "$TMP/conf.d/sixxs9.conf" "$TMP/sixxs9.conf.off"
out=$(ctl check-config)
check_eq "check-config after the fix: exit 0" 0 $?
echo "$out"
check "... and says OK" has "$out" ': OK$'
check_eq "check-config changed nothing: still three tunnels" 3 "$(ctl status --json | py 'len(d["tunnels"])')"

echo "--- stop / start / restart"
out=$(ctl stop sixxs1)
check_eq "stop sixxs1: exit 0" 0 $?
echo "$out"
check "stop shows progress (stopping)" has "$out" '^sixxs1: stopping'
check "stop ends with the result" has "$(printf '%s\n' "$out" | tail -n 1)" '^sixxs1: stopped'
check "sixxs1 is stopped" is_stopped sixxs1
out=$(ctl start sixxs1)
check_eq "start sixxs1: exit 0" 0 $?
echo "$out"
check "start shows progress (starting)" has "$out" '^sixxs1: starting'
check "start ends up" has "$(printf '%s\n' "$out" | tail -n 1)" '^sixxs1: up'
starts=$(ctl status sixxs0 --json | py 'd["tunnels"][0]["starts"]')
out=$(ctl restart sixxs0 --json)
check_eq "restart sixxs0 --json: exit 0" 0 $?
check_eq "restart --json: ok" true "$(echo "$out" | py 'd["ok"]')"
check_eq "restart --json: up" up "$(echo "$out" | py 'd["tunnel"]["state"]')"
check_eq "restart started a new worker" $((starts + 1)) "$(ctl status sixxs0 --json | py 'd["tunnels"][0]["starts"]')"
ctl start sixxs9 >"$TMP/out" 2>"$TMP/err"
check_eq "start of the broken tunnel: exit 1" 1 $?
check "... with the reason" grep -q "sixxs9: .*sixxs9.conf" "$TMP/err"
ctl start --all >/dev/null 2>&1
check_eq "start --all with one broken tunnel: exit 1" 1 $?
check "... the others are up" both_up
out=$(ctl stop --all --no-wait --json)
check_eq "stop --all --no-wait: exit 0" 0 $?
check_eq "stop --all --no-wait --json: three tunnels" 3 "$(echo "$out" | py 'len(d["tunnels"])')"
all_stopped() { is_stopped sixxs0 && is_stopped sixxs1; }
check "every tunnel stops" lab_wait 10 all_stopped
out=$(ctl start --all)
echo "$out"
check "start --all brings both good tunnels up" both_up
check "start --all reports sixxs0 up once" test "$(printf '%s\n' "$out" | grep -c '^sixxs0: up')" -eq 1
check "start --all reports sixxs1 up once" test "$(printf '%s\n' "$out" | grep -c '^sixxs1: up')" -eq 1
ctl start >/dev/null 2>&1
check_eq "start without a tunnel: exit 2" 2 $?
ctl frobnicate >/dev/null 2>&1
check_eq "unknown command: exit 2" 2 $?

echo "--- every change command, with and without --no-wait"
starts_of() { ctl status "$1" --json | py 'd["tunnels"][0]["starts"]'; }
starts_above() { [ "$(starts_of "$1")" -gt "$2" ]; }
# One tunnel: the waiting form ends in the state, the --no-wait form gets there.
ctl stop sixxs1 >/dev/null
check_eq "stop sixxs1: exit 0" 0 $?
check "stop sixxs1: stopped when it returns" is_stopped sixxs1
ctl start sixxs1 >/dev/null
check_eq "start sixxs1: exit 0" 0 $?
check "start sixxs1: up when it returns" is_up sixxs1
n=$(starts_of sixxs1)
ctl restart sixxs1 >/dev/null
check_eq "restart sixxs1: exit 0" 0 $?
check "restart sixxs1: up when it returns" is_up sixxs1
check_eq "restart sixxs1: one new worker" $((n + 1)) "$(starts_of sixxs1)"
ctl stop --no-wait sixxs1 >/dev/null
check_eq "stop --no-wait sixxs1: exit 0" 0 $?
check "stop --no-wait sixxs1: it stops" lab_wait 10 is_stopped sixxs1
ctl start --no-wait sixxs1 >/dev/null
check_eq "start --no-wait sixxs1: exit 0" 0 $?
check "start --no-wait sixxs1: it comes up" lab_wait 20 is_up sixxs1
n=$(starts_of sixxs1)
out=$(ctl restart --no-wait sixxs1 --json)
check_eq "restart --no-wait sixxs1: exit 0" 0 $?
check_eq "restart --no-wait --json: ok" true "$(echo "$out" | py 'd["ok"]')"
check "restart --no-wait sixxs1: a new worker starts" lab_wait 20 starts_above sixxs1 "$n"
check "restart --no-wait sixxs1: and comes up (the start half is not dropped)" lab_wait 20 is_up sixxs1
# --all: sixxs9 (broken) makes the waiting forms that start fail; the others still move.
ctl stop --all >/dev/null
check_eq "stop --all: exit 0" 0 $?
check "stop --all: both stopped when it returns" all_stopped
ctl start --all >/dev/null 2>&1
check_eq "start --all: exit 1 (sixxs9)" 1 $?
check "start --all: both good ones up when it returns" both_up
n0=$(starts_of sixxs0)
n1=$(starts_of sixxs1)
ctl restart --all >/dev/null 2>&1
check_eq "restart --all: exit 1 (sixxs9)" 1 $?
check "restart --all: both up when it returns" both_up
check_eq "restart --all: sixxs0 got a new worker" $((n0 + 1)) "$(starts_of sixxs0)"
check_eq "restart --all: sixxs1 got a new worker" $((n1 + 1)) "$(starts_of sixxs1)"
ctl stop --all --no-wait >/dev/null
check_eq "stop --all --no-wait: exit 0" 0 $?
check "stop --all --no-wait: both stop" lab_wait 10 all_stopped
ctl start --all --no-wait >/dev/null
check_eq "start --all --no-wait: exit 0" 0 $?
check "start --all --no-wait: both come up" lab_wait 20 both_up
n0=$(starts_of sixxs0)
n1=$(starts_of sixxs1)
ctl restart --all --no-wait >/dev/null
check_eq "restart --all --no-wait: exit 0" 0 $?
both_restarted() { starts_above sixxs0 "$n0" && starts_above sixxs1 "$n1" && both_up; }
check "restart --all --no-wait: both get a new worker and come up" lab_wait 20 both_restarted

echo "--- the protocol itself"
raw() { # LINE [half-close]: the raw reply lines
	lab_in "$NS_CLI" python3 - "$SOCK" "$1" "${2:-}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
if sys.argv[3]:
    s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
PY
}
raw "restart sixxs1" >"$TMP/raw"
cat "$TMP/raw"
check "every reply line is a JSON object with version 1" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines and all(json.loads(l)["version"] == 1 for l in lines)' "$TMP/raw"
check "progress lines come first, the one with ok last" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(lines) >= 2
assert all("progress" in l and "ok" not in l and "tunnel" in l and "state" in l for l in lines[:-1])
assert lines[-1]["ok"] is True and lines[-1]["tunnel"]["state"] == "up"' "$TMP/raw"
out=$(raw "restart sixxs0" half-close | tail -n 1)
check_eq "a client that half-closes after its request still gets the reply" true "$(echo "$out" | py 'd["ok"]')"
out=$(raw frobnicate)
check_eq "an unknown request gets a JSON error" usage "$(echo "$out" | py 'd["code"]')"
check "... that lists the commands" has "$out" 'commands: status, start, stop, restart, refresh, wait, reload, log-level, limiter, check-config, version'
out=$(raw "import-aiccu x")
check "... aiccuctl's own commands are unknown to aiccud" has "$out" "unknown command 'import-aiccu'"

echo "--- reload"
out=$(ctl reload --json)
check_eq "reload: exit 0" 0 $?
check_eq "reload --json: ok" true "$(echo "$out" | py 'd["ok"]')"

echo "--- tunnel files that do not load show in status, with their reason"
mkdir "$TMP/conf.d/sixxs7.conf"
ln -s "$TMP/nowhere.conf" "$TMP/conf.d/sixxs6.conf"
head -c 70000 /dev/zero | tr '\0' '#' >"$TMP/conf.d/sixxs5.conf"
chmod 600 "$TMP/conf.d/sixxs5.conf"
out=$(ctl reload 2>&1)
check_eq "reload with three unloadable files: exit 1 (the rest is applied)" 1 $?
check "... naming the first file and why" has "$out" 'sixxs5.conf: cannot read: larger than 64 KiB'
check "... and what was applied" has "$out" 'reloaded: 3 added'

out=$(ctl status)
echo "$out"
check "status: a directory named *.conf is listed as failed" has "$out" '^sixxs7: failed: .*sixxs7.conf: cannot read: not a regular file'
check "status: a dangling link is listed as failed" has "$out" '^sixxs6: failed: .*sixxs6.conf: cannot read: No such file'
check "status: a file too large is listed as failed" has "$out" '^sixxs5: failed: .*sixxs5.conf: cannot read: larger than 64 KiB'
check_eq "status --json: sixxs7 is failed" failed "$(state_of sixxs7)"
rmdir "$TMP/conf.d/sixxs7.conf"
rm -f "$TMP/conf.d/sixxs6.conf" "$TMP/conf.d/sixxs5.conf"
ctl reload >/dev/null
gone() {
	ctl status sixxs7 >/dev/null 2>&1
	[ $? -eq 4 ]
}
check "once removed and reloaded they are gone" lab_wait 10 gone
check "the good tunnels stayed up" both_up

echo "--- access"
out=$(as 65534 65533 "" -- status 2>&1)
check_eq "a user outside the group cannot even connect (exit 5)" 5 $?
check "... and is told why" has "$out" 'control group'
as 65534 "$GID" "" -- status sixxs0 >/dev/null
check_eq "a user whose primary group is the control group may read status" 0 $?
as 65534 65533 "$GID" -- restart sixxs1 >/dev/null
check_eq "a supplementary member of the control group may restart" 0 $?
# With the socket opened to everyone, the daemon's own check still holds.
chmod 755 "$TMP/run"
chmod 666 "$SOCK"
as 65534 65533 "" -- status sixxs0 >/dev/null
check_eq "outsider on an open socket: status allowed" 0 $?
out=$(as 65534 65533 "" -- stop sixxs0 --json)
check_eq "outsider on an open socket: stop refused (exit 5)" 5 $?
check_eq "... with code permission" permission "$(echo "$out" | py 'd["code"]')"
as 65534 65533 "" -- reload >/dev/null 2>&1
check_eq "outsider: reload refused (exit 5)" 5 $?
check "sixxs0 is still up" is_up sixxs0
check "the refusal is logged with the uid" grep -q "control: refused 'stop' from uid 65534" "$TMP/aiccud.log"
chmod 660 "$SOCK"
chmod 750 "$TMP/run"

echo "--- import-aiccu (no daemon needed)"
DATA=$HERE/../data/aiccu
"$AICCUCTL" import-aiccu -o "$TMP/imported.conf" "$DATA/full.conf" 2>"$TMP/notes"
check_eq "import-aiccu full.conf: exit 0" 0 $?
cat "$TMP/notes"
check_eq "the tunnel file is created 0600" 600 "$(stat -c %a "$TMP/imported.conf")"
check "the notes name what was not carried over, with lines" grep -q "full.conf:[0-9]*: pidfile: not carried over" "$TMP/notes"
mkdir -p "$TMP/imp/conf.d"
cp "$TMP/imported.conf" "$TMP/imp/conf.d/"
printf '[daemon]\nstate_dir = %s/imp\n' "$TMP" >"$TMP/imp/aiccud.conf"
check "aiccud -n accepts the imported file" "$AICCUD" -n -f "$TMP/imp/aiccud.conf"
"$AICCUCTL" import-aiccu -o "$TMP/imported.conf" "$DATA/full.conf" 2>/dev/null
check_eq "import-aiccu never overwrites: exit 1" 1 $?
"$AICCUCTL" import-aiccu "$DATA/no_tunnel_id.conf" >/dev/null 2>"$TMP/notes"
check_eq "import-aiccu without tunnel_id: exit 1" 1 $?
check "... saying what to add" grep -q "tunnel_id missing" "$TMP/notes"
check_eq "import-aiccu --json: complete" true "$("$AICCUCTL" import-aiccu --json "$DATA/minimal.conf" | py 'd["complete"]')"
"$AICCUCTL" import-aiccu "$DATA/tsp.conf" >/dev/null 2>&1
check_eq "import-aiccu of a TSP configuration: exit 1" 1 $?

echo "--- not running"
kill -TERM "$AICCUD_PID"
check "aiccud exits on SIGTERM" lab_wait 10 sh -c "! kill -0 $AICCUD_PID"
ctl status >/dev/null 2>"$TMP/err"
check_eq "status without a daemon: exit 3" 3 $?
check "... saying how to start it" grep -q "aiccud is not running" "$TMP/err"
ctl status --json >"$TMP/out" 2>/dev/null
check_eq "status --json without a daemon: exit 3" 3 $?
check_eq "... and a JSON error object on stdout" "not_running" "$(py 'd["code"] if d["ok"] is False else "ok"' <"$TMP/out")"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"

echo "--- aiccud log (tail)"
tail -n 40 "$TMP/aiccud.log"
finish
