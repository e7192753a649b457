#!/bin/bash
# The LSB init script (dist/aiccu.init) in a namespace lab: every action,
# the daemon detached as in production, its PID file, LSB exit codes, and
# that a copy named "aiccu" (the drop-in for /etc/init.d/aiccu) works.
#
#   test_initscript.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

AICCUD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
AICCUCTL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
INIT=$HERE/../../dist/aiccu.init
TMP=$(mktemp -d /tmp/aiccud-init.XXXXXX)
trap 'lab_down; rm -rf "$TMP"' EXIT
SOCK=$TMP/run/aiccud.sock
PIDFILE=$TMP/run/aiccud.pid

# /etc/default/aiccud of the test; the socket and PID file come from the
# configuration, as they would on a real system.
cat >"$TMP/default" <<EOF
DAEMON=$AICCUD
AICCUCTL=$AICCUCTL
CONFIG=$TMP/aiccud.conf
START_TIMEOUT=20
EOF
# The detached daemon's sanitizer reports go to files (its stderr is /dev/null).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TMP/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$TMP/ubsan"
# init [NAME] ACTION...: the script as the system would run it.  Debian's
# init-functions would hand it to systemctl on a systemd machine: not here.
init_as() {
	local script=$1
	shift
	lab_in "$NS_CLI" env AICCUD_DEFAULTS="$TMP/default" _SYSTEMCTL_SKIP_REDIRECT=1 \
		sh "$script" "$@"
}
init() { init_as "$INIT" "$@"; }
# As on a systemd host: init-functions that hand start/stop/restart/status
# to systemctl (Debian 12's 40-systemd in short: the arguments after the
# action are dropped) unless SYSTEMCTL_SKIP_REDIRECT is set.
cat >"$TMP/lsb-systemd" <<EOF
if [ -z "\${SYSTEMCTL_SKIP_REDIRECT:-}" ]; then
	case "\${1:-}" in
	start | stop | restart | reload | force-reload | status)
		echo "\$1 aiccud (via systemctl): aiccud.service."
		echo "\$*" >>"$TMP/redirected"
		exit 0
		;;
	esac
fi
EOF
init_sd() {
	lab_in "$NS_CLI" env AICCUD_DEFAULTS="$TMP/default" AICCUD_LSB_FUNCTIONS="$TMP/lsb-systemd" \
		sh "$INIT" "$@"
}
ctl() { lab_in "$NS_CLI" "$AICCUCTL" -s "$SOCK" "$@"; }
state_of() { ctl status "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnels"][0]["state"])'; }
is_up() { [ "$(state_of "$1")" = up ]; }
both_up() { is_up sixxs0 && is_up sixxs1; }
pid_of_daemon() { ctl version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["pid"])'; }
# Exited: no such process, or a zombie its new parent (pid 1) has not reaped.
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
our_rules() { ip -N -n "$NS_CLI" -6 rule show | grep 'proto 157'; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_client_conf "$TMP" "$HERE/../../conf.d"

check "the script is POSIX sh (dash parses it)" dash -n "$INIT"

init status >"$TMP/out" 2>&1
check_eq "status before start: 3 (not running)" 3 $?
init reload >/dev/null 2>&1
check_eq "reload while not running: 7" 7 $?
init start sixxs0 >/dev/null 2>&1
check_eq "start TUNNEL while not running: 7" 7 $?

init start >"$TMP/out" 2>&1
check_eq "start: 0" 0 $?
cat "$TMP/out"
check "start: the LSB line is the first and whole (no daemon line inside it)" \
	sh -c "head -n 1 '$TMP/out' | grep -Eq '^Starting .*: aiccud\.?\$'"
check_eq "start: no daemon log line on the terminal (a clean configuration)" 0 \
	"$(grep -c 'aiccud: ' "$TMP/out")"
PID=$(cat "$PIDFILE" 2>/dev/null)
[ -n "$PID" ] && LAB_PIDS+=("$PID")
check "start writes the PID file" test -n "$PID"
check_eq "the PID file holds the daemon answering on the socket" "$PID" "$(pid_of_daemon)"
check "the daemon detached (its parent is not this shell)" \
	test "$(ps -o ppid= -p "$PID" | tr -d ' ')" != "$$"
check "both tunnels come up" lab_wait 20 both_up
init start >"$TMP/out" 2>&1
check_eq "start again: 0" 0 $?
check "... says it already runs" grep -q "already running" "$TMP/out"
check_eq "... and it is the same daemon" "$PID" "$(pid_of_daemon)"

init status >"$TMP/out" 2>&1
check_eq "status: 0" 0 $?
check "status shows the tunnels" grep -Eq '^sixxs0 +ayiya .* up ' "$TMP/out"

init stop sixxs0 >"$TMP/out" 2>&1
check_eq "stop sixxs0: 0" 0 $?
check_eq "sixxs0 is stopped" stopped "$(state_of sixxs0)"
check "sixxs1 is still up" is_up sixxs1
init status sixxs0 >"$TMP/out" 2>&1
check_eq "status sixxs0 (stopped): 3 (LSB: not running)" 3 $?
check "status sixxs0 shows it stopped" grep -q '^state  *stopped' "$TMP/out"
init start sixxs0 >"$TMP/out" 2>&1
check_eq "start sixxs0: 0" 0 $?
check "start sixxs0 waited until it was up" is_up sixxs0
# On a systemd host the per-tunnel actions still act on that tunnel only.
init_sd stop sixxs0 >"$TMP/out" 2>&1
check_eq "systemd host: stop sixxs0: 0" 0 $?
check "systemd host: stop sixxs0 is not handed to systemctl" test ! -e "$TMP/redirected"
check_eq "systemd host: sixxs0 is stopped" stopped "$(state_of sixxs0)"
check "systemd host: sixxs1 is still up" is_up sixxs1
init_sd status sixxs0 >"$TMP/out" 2>&1
check "systemd host: status sixxs0 shows that tunnel" grep -q '^state  *stopped' "$TMP/out"
init_sd start sixxs0 >/dev/null 2>&1
check_eq "systemd host: start sixxs0: 0" 0 $?
check "systemd host: sixxs0 is up again" is_up sixxs0
check "systemd host: no per-tunnel action went to systemctl" test ! -e "$TMP/redirected"
init_sd status >/dev/null 2>&1
check "systemd host: status without a tunnel goes to systemctl (as any init script)" \
	grep -qx status "$TMP/redirected"
init restart sixxs1 >/dev/null 2>&1
check_eq "restart sixxs1: 0" 0 $?
check "sixxs1 is up again" is_up sixxs1
init stop nosuch >/dev/null 2>&1
check_eq "stop of an unknown tunnel: 2" 2 $?

init reload >"$TMP/out" 2>&1
check_eq "reload: 0" 0 $?
init force-reload >"$TMP/out" 2>&1
check_eq "force-reload: 0" 0 $?
check_eq "reload kept the daemon" "$PID" "$(pid_of_daemon)"
init check-config >"$TMP/out" 2>&1
check_eq "check-config: 0" 0 $?

init restart >"$TMP/out" 2>&1
check_eq "restart: 0" 0 $?
cat "$TMP/out"
NEWPID=$(cat "$PIDFILE" 2>/dev/null)
[ -n "$NEWPID" ] && LAB_PIDS+=("$NEWPID")
check "restart started a new daemon" test -n "$NEWPID" -a "$NEWPID" != "$PID"
check "the old one is gone" gone "$PID"
check "both tunnels come up after the restart" lab_wait 20 both_up
check_eq "exactly one rule per tunnel after the restart" 2 "$(our_rules | wc -l)"

# The drop-in for /etc/init.d/aiccu: the same script under AICCU's name.
cp "$INIT" "$TMP/aiccu"
init_as "$TMP/aiccu" status >/dev/null 2>&1
check_eq "as /etc/init.d/aiccu: status 0" 0 $?

init stop >"$TMP/out" 2>&1
check_eq "stop: 0" 0 $?
cat "$TMP/out"
check "the daemon is gone" gone "$NEWPID"
check "the PID file is removed" test ! -e "$PIDFILE"
check "the control socket's lock file is removed" test ! -e "$SOCK.lock"
check "the client namespace is still there (the checks below can fail)" lab_ns_exists "$NS_CLI"
check_eq "no aiccud rule left" "" "$(our_rules)"
check "no sixxs link left" sh -c "! ip -n $NS_CLI link show | grep -q sixxs"
init status >/dev/null 2>&1
check_eq "status after stop: 3" 3 $?
init stop >/dev/null 2>&1
check_eq "stop when stopped: 0" 0 $?

# A PID file left by a daemon that died: status 1 (LSB: dead, PID file exists).
sh -c 'exit 0' &
dead=$!
wait "$dead"
echo "$dead" >"$PIDFILE"
init status >/dev/null 2>&1
check_eq "status with a stale PID file: 1" 1 $?
init start >/dev/null 2>&1
check_eq "start over a stale PID file: 0" 0 $?
PID=$(cat "$PIDFILE" 2>/dev/null)
[ -n "$PID" ] && LAB_PIDS+=("$PID")
check "... and a daemon answers" test "$(pid_of_daemon)" = "$PID"
init stop >/dev/null 2>&1
check_eq "stop: 0" 0 $?

init bogus >/dev/null 2>&1
check_eq "an unknown action: 2" 2 $?
check "no sanitizer report from the detached daemon" \
	sh -c "! ls '$TMP'/asan* '$TMP'/ubsan* 2>/dev/null | grep -q ."
finish
