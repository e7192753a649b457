#!/bin/bash
# Issue 22 (metrics) and 23 (the last update in metrics): aiccuctl metrics
# against the simulated PoP.
#  - with two AYIYA tunnels up, the output passes `promtool check metrics`
#    (Debian's prometheus package), and promtool does reject a counter
#    without _total (so the check can fail);
#  - up = 1 and state "up" = 1; pings through sixxs0 move its rx/tx packet
#    and byte counters; the last receive time from the PoP is recent;
#  - sixxs0 stopped: up = 0, state "stopped" = 1, sixxs1 still up;
#  - -o FILE replaces the file for node_exporter's textfile collector
#    atomically (no temporary left), also when aiccud is down: then the file
#    says aiccud_daemon_up 0 and aiccuctl exits 3.
#
#   test_metrics.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin metrics "$1" "$2"
command -v promtool >/dev/null || fail_now "promtool is not installed (Debian package prometheus)"

# value FILE SERIES: the value of one series (its name and labels exactly as printed).
value() { awk -v s="$2" '$1 == s { print $2; f = 1 } END { exit !f }' "$1"; }
snap() { ctl metrics >"$TMP/$1.prom" 2>"$TMP/$1.err"; }
promtool_ok() { promtool check metrics <"$1" >"$1.promtool" 2>&1; }
both_up() { is_up sixxs0 && is_up sixxs1; }
pings() { lab_in "$NS_NET" ping -6 -c 3 -i 0.2 -W 2 2001:db8:a::2; }
# moved BEFORE SERIES: a new snapshot shows SERIES above its value in BEFORE
moved() {
	local a b
	snap now || return 1
	a=$(value "$TMP/$1.prom" "$2") && b=$(value "$TMP/now.prom" "$2") && [ "$b" -gt "$a" ]
}

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 15 both_up || { tail -20 "$TMP/aiccud.log"; fail_now "both tunnels come up"; }

echo "# two tunnels up"
check "aiccuctl metrics exits 0" snap up
check "promtool check metrics passes" promtool_ok "$TMP/up.prom"
sed 's/^/#   /' "$TMP/up.prom.promtool"
echo "#   $(grep -vc '^#' "$TMP/up.prom") samples in $(grep -c '^# TYPE' "$TMP/up.prom") families"
# The checker can fail: the same text with one counter renamed off _total.
sed 's/aiccud_tunnel_receive_bytes_total/aiccud_tunnel_receive_bytes/' "$TMP/up.prom" >"$TMP/bad.prom"
check "promtool rejects a counter without _total (the check can fail)" \
	sh -c "grep -q '^aiccud_tunnel_receive_bytes{' '$TMP/bad.prom' &&
		! promtool check metrics <'$TMP/bad.prom' 2>/dev/null"
check_eq "aiccud_daemon_up 1" 1 "$(value "$TMP/up.prom" aiccud_daemon_up)"
check_eq "sixxs0 up 1" 1 "$(value "$TMP/up.prom" 'aiccud_tunnel_up{tunnel="sixxs0"}')"
check_eq "sixxs1 up 1" 1 "$(value "$TMP/up.prom" 'aiccud_tunnel_up{tunnel="sixxs1"}')"
check_eq "sixxs0 state up 1" 1 \
	"$(value "$TMP/up.prom" 'aiccud_tunnel_state{tunnel="sixxs0",state="up"}')"
check_eq "sixxs0 state stopped 0" 0 \
	"$(value "$TMP/up.prom" 'aiccud_tunnel_state{tunnel="sixxs0",state="stopped"}')"
check_eq "one state is 1 per tunnel" 2 \
	"$(grep -c '^aiccud_tunnel_state{.*} 1$' "$TMP/up.prom")"
check_eq "its info says ayiya" 1 "$(grep -c '^aiccud_tunnel_info{tunnel="sixxs0",id="T10001",type="ayiya",' "$TMP/up.prom")"
check "drops by reason are there (signature)" \
	value "$TMP/up.prom" 'aiccud_tunnel_drops_total{tunnel="sixxs0",reason="signature"}'
check "the TIC limiter's tokens are there" value "$TMP/up.prom" aiccud_tic_limiter_tokens
check "and its connection counter" value "$TMP/up.prom" aiccud_tic_connections_total

echo "# pings through sixxs0"
check "pings from the Internet host reach the client's tunnel address" lab_wait 15 pings
for s in receive_packets receive_bytes transmit_packets transmit_bytes; do
	check "sixxs0 ${s}_total moved" lab_wait 10 moved up "aiccud_tunnel_${s}_total{tunnel=\"sixxs0\"}"
done
snap ping
echo "#   $(grep -E '^aiccud_tunnel_(receive|transmit)_.*sixxs0' "$TMP/ping.prom" | tr '\n' ' ')"
check "promtool still passes" promtool_ok "$TMP/ping.prom"
last=$(value "$TMP/ping.prom" 'aiccud_tunnel_last_receive_time_seconds{tunnel="sixxs0"}')
check "sixxs0's last receive from the PoP is within the last 30 s" \
	test "$(($(date +%s) - ${last:-0}))" -le 30

echo "# sixxs0 stopped"
check "aiccuctl stop sixxs0" ctl stop sixxs0
check "aiccuctl metrics exits 0" snap stopped
check_eq "sixxs0 up 0" 0 "$(value "$TMP/stopped.prom" 'aiccud_tunnel_up{tunnel="sixxs0"}')"
check_eq "sixxs0 state stopped 1" 1 \
	"$(value "$TMP/stopped.prom" 'aiccud_tunnel_state{tunnel="sixxs0",state="stopped"}')"
check_eq "sixxs0 state up 0" 0 \
	"$(value "$TMP/stopped.prom" 'aiccud_tunnel_state{tunnel="sixxs0",state="up"}')"
check_eq "sixxs1 still up 1" 1 "$(value "$TMP/stopped.prom" 'aiccud_tunnel_up{tunnel="sixxs1"}')"
check "promtool passes" promtool_ok "$TMP/stopped.prom"

echo "# -o FILE for node_exporter's textfile collector"
mkdir -p "$TMP/textfile"
check "metrics -o writes the file" ctl metrics -o "$TMP/textfile/aiccud.prom"
check "promtool passes on it" promtool_ok "$TMP/textfile/aiccud.prom"
check_eq "it has sixxs1 up" 1 "$(value "$TMP/textfile/aiccud.prom" 'aiccud_tunnel_up{tunnel="sixxs1"}')"
check_eq "nothing else is left in the directory" "aiccud.prom aiccud.prom.promtool" \
	"$(cd "$TMP/textfile" && echo *)"
rm -f "$TMP/textfile/aiccud.prom.promtool"

echo "# aiccud stopped"
lab_kill TERM "$LAB_AICCUD_PID"
check "aiccud exits" lab_wait 20 sh -c "! kill -0 $LAB_AICCUD_PID"
ctl metrics -o "$TMP/textfile/aiccud.prom" 2>"$TMP/down.err"
check_eq "metrics -o with aiccud down: exit 3 (not running)" 3 "$?"
check_eq "the file now says aiccud_daemon_up 0" 0 "$(value "$TMP/textfile/aiccud.prom" aiccud_daemon_up)"
check_absent "and nothing of the old file's tunnels is left in it" '^aiccud_tunnel_' \
	"$TMP/textfile/aiccud.prom"
check "promtool passes on it" promtool_ok "$TMP/textfile/aiccud.prom"
check_eq "still nothing else in the directory" "aiccud.prom aiccud.prom.promtool" \
	"$(cd "$TMP/textfile" && echo *)"
check_absent "no sanitizer report (aiccud, aiccuctl)" Sanitizer "$TMP/aiccud.log" "$TMP/up.err" \
	"$TMP/stopped.err" "$TMP/down.err"
finish
