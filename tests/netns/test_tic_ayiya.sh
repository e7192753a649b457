#!/bin/bash
# Issue 14 end to end: an AYIYA tunnel and a 6in4-heartbeat tunnel fetched
# over TIC from a broker that says what the real one said (`IPv4 Endpoint:
# ayiya` for the AYIYA tunnel, `heartbeat` for the other; PROTOCOLS.md
# 7.1), both forwarding pings both ways between the client and the Internet
# host, once over TLS 1.2 (the simulator's default, the real broker's) and
# once over TLS 1.3 with session tickets.  The heartbeat tunnel uses the
# user-space proto-41 datapath (this machine's kernel has no sit).
#
#   test_tic_ayiya.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin ticayiya "$1" "$2"
# The shortest refill the broker's rule allows: a fresh state dir's first
# token comes after 16 s instead of 30.
LAB_TIC_REFILL=16

both_up() { [ "$(field sixxs0 state)" = up ] && [ "$(field sixxs1 state)" = up ]; }
# settled: both up, or one of them failed (no point waiting longer).
settled() {
	both_up && return 0
	[ "$(field sixxs0 state)" = failed ] || [ "$(field sixxs1 state)" = failed ]
}
confirmed() { [ "$(lab_pop_stat T10002 's["confirmed"]')" = True ]; }
connects() { tic_count "$TMP/tic.log" connect; }
# tls_versions: the TLS version of every TIC session, in order.
tls_versions() {
	python3 -c 'import json,sys; print(" ".join(e["version"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "tls"))' "$TMP/tic.log"
}
last_tickets() {
	python3 -c 'import json,sys; print([e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "tls"][-1]["tickets"])' "$TMP/tic.log"
}
# endpoint_of TUNNEL: the IPv4 Endpoint the broker's accounts file (what
# tic.py prints in tunnel list and tunnel show) gives TUNNEL.
endpoint_of() {
	python3 -c 'import json,sys; print([t for t in json.load(open(sys.argv[1]))["accounts"][0]["tunnels"] if t["TunnelId"] == sys.argv[2]][0]["IPv4 Endpoint"])' \
		"$TMP/accounts.json" "$1"
}

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 2 ayiya,6in4-heartbeat
# The shortest heartbeat interval aiccud takes from TIC (10 s): a lost
# start-up beat gets its second chance soon.
python3 - "$TMP/accounts.json" <<'PY'
import json, sys
acc = json.load(open(sys.argv[1]))
for t in acc["accounts"][0]["tunnels"]:
    t["Heartbeat_Interval"] = 10
json.dump(acc, open(sys.argv[1], "w"), indent=1)
PY
check_eq "the broker gives IPv4 Endpoint 'ayiya' for the AYIYA tunnel" ayiya "$(endpoint_of T10001)"
check_eq "and 'heartbeat' for the heartbeat tunnel" heartbeat "$(endpoint_of T10002)"
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_client "$TMP" 2
echo "datapath = userspace" >>"$TMP/conf.d/sixxs1.conf"

# one_round TLS-LABEL TICKETS [tic.py options]: an empty tunnel cache, a TIC fetch
# of both tunnels, pings both ways through each.
one_round() {
	local tls=$1 want_tickets=$2 before t0
	shift 2
	echo "# round over $tls"
	lab_tic_start "$TMP" server "$@" || fail_now "TIC server ($tls)"
	rm -rf "$TMP/state/tunnels"
	before=$(connects)
	t0=$(date +%s)
	lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
	lab_wait 10 test -S "$TMP/run/aiccud.sock" || fail_now "aiccud start ($tls)"
	lab_wait 90 settled
	check "$tls: both tunnels come up (after a limiter token)" both_up
	echo "# $tls: settled $(($(date +%s) - t0)) s after start"
	if ! both_up; then
		echo "# sixxs0: $(field sixxs0 state): $(field sixxs0 reason)"
		echo "# sixxs1: $(field sixxs1 state): $(field sixxs1 reason)"
		kill -TERM "$LAB_AICCUD_PID"
		lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
		return 1
	fi
	check_eq "$tls: with one TIC connection" $((before + 1)) "$(connects)"
	check_eq "$tls: the session used $tls" "$tls" "$(tls_versions | awk '{print $NF}')"
	check_eq "$tls: session tickets sent after the handshake" "$want_tickets" "$(last_tickets)"
	check_eq "$tls: the AYIYA tunnel is an AYIYA tunnel" ayiya "$(field sixxs0 type)"
	check_eq "$tls: the heartbeat tunnel is a heartbeat tunnel" 6in4-heartbeat "$(field sixxs1 type)"
	check_eq "$tls: on the user-space proto-41 datapath" userspace "$(field sixxs1 datapath_in_use)"
	check_eq "$tls: the AYIYA tunnel has the address TIC gave" "2001:db8:1::2/64" "$(field sixxs0 local)"
	check "$tls: the PoP learned our AYIYA endpoint" lab_wait 10 sh -c \
		"python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))[\"tunnels\"][\"T10001\"][\"client\"].startswith(\"192.0.2.2:\") else 1)' '$TMP/pop-stats.json'"
	check "$tls: the PoP confirms the heartbeat tunnel" lab_wait 15 confirmed
	check_eq "$tls: from our address" 192.0.2.2 "$(lab_pop_stat T10002 's["client_ipv4"]')"
	for t in "1 sixxs0" "2 sixxs1"; do
		set -- $t
		check "$tls: client -> Internet host from 2001:db8:$1::2 through $2" \
			lab_in "$NS_CLI" ping -6 -c 2 -i 0.2 -W 2 -I "2001:db8:$1::2" 2001:db8:eeee::2
		check "$tls: Internet host -> 2001:db8:$1::2 through $2" \
			lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "2001:db8:$1::2"
	done
	check_eq "$tls: no AYIYA datagram from us dropped by the PoP" 0 "$(lab_pop_stat T10001 "$LAB_POP_RX_DROPS")"
	check_eq "$tls: no heartbeat refused" "{'address': 0, 'clock': 0, 'hash': 0}" "$(lab_pop_stat T10002 's["hb_failures"]')"
	kill -TERM "$LAB_AICCUD_PID"
	check "$tls: aiccud exits on SIGTERM" lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
}

one_round TLSv1.2 0
one_round TLSv1.3 2 --tls-max 1.3
echo "# TIC sessions: $(tls_versions); $(connects) connections, max $(tic_max_window "$TMP/tic.log") in 60 s"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
if [ "$ASSERT_FAIL" -ne 0 ]; then
	echo "--- aiccud log"
	cat "$TMP/aiccud.log"
	echo "--- PoP log"
	cat "$TMP/pop.log"
fi
finish
