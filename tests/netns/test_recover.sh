#!/bin/bash
# Issue 22, items 2 and 9: no repair lost to timing, no set-up failure
# that can go away left failed.
#  - A tunnel whose TUN link cannot be created (a link of its name is in
#    the way) is retried with back-off and comes up once the name is free,
#    with no command.
#  - With test hooks (third argument 1): the tunnel's address deleted
#    between the worker adding it and reporting up is restored (the parent
#    looks at everything when the tunnel reports up); deleted before the
#    worker opens its ICMPv6 socket, the worker does not report up but is
#    restarted, and comes up with its address.
#
#   test_recover.sh AICCUD AICCUCTL [HOOKS]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin recover "$1" "$2"
HOOKS=${3:-0}

CLI() { ip -n "$NS_CLI" -6 "$@"; }
has_addr1() { CLI addr show dev sixxs1 2>/dev/null | grep -q "inet6 2001:db8:b::2/64"; }
has_local1() { CLI route show table local | grep -q "^local 2001:db8:b::2 dev sixxs1"; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }
restarts_above() { [ "$(field "$1" restarts)" -gt "$2" ] 2>/dev/null; }
ping_b() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::2; }
ping_a() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:a::2; }

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
# lab_tunnel_file's tunnels 0 and 1 are the PoP's two example tunnels.
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1

echo "# item 2: a link named sixxs0 (a veth, not a TUN) is in the way at start"
ip -n "$NS_CLI" link add sixxs0 type veth peer name blocker0 || fail_now "veth link"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "sixxs1 comes up" lab_wait 15 state_is sixxs1 up
check "sixxs0 is restarted by itself (2 restarts)" lab_wait 20 restarts_above sixxs0 1
echo "#   sixxs0: $(field sixxs0 state): $(field sixxs0 reason)"
check "and says why" grep -q "cannot create TUN link sixxs0" <<<"$(field sixxs0 last_exit)"
check_absent "it never was failed" 'sixxs0: .*-> failed' "$TMP/aiccud.log"
ip -n "$NS_CLI" link del sixxs0
t0=$(lab_now_ms)
check "once the name is free sixxs0 comes up with no command" lab_wait 40 state_is sixxs0 up
echo "#   up $(($(lab_now_ms) - t0)) ms after the link was removed"
check "ping through sixxs0" ping_a

if [ "$HOOKS" != 1 ]; then
	echo "# no test hooks in this build: the start-up moments are not reachable"
	finish
fi

# pause_then_delete STAGE: restart sixxs1 with its worker paused at STAGE,
# delete the address while it is paused.
pause_then_delete() {
	echo "$1" >"$TMP/state/test-pause-sixxs1"
	ctl restart sixxs1 --no-wait >/dev/null
	check "[$1] the new worker pauses (test hook)" lab_wait 15 sh -c "! test -e '$TMP/state/test-pause-sixxs1'"
	check "[$1] its address is there" lab_wait 5 has_addr1
	CLI addr del 2001:db8:b::2/64 dev sixxs1
	check_eq "[$1] the address was deleted while the tunnel was starting" starting "$(field sixxs1 state)"
}

echo "# item 9: the address deleted between the worker adding it and reporting up"
pause_then_delete sockets
check "sixxs1 comes up" lab_wait 15 state_is sixxs1 up
check "its address is restored" lab_wait 5 has_addr1
check "with its local route" lab_wait 5 has_local1
check "ping through sixxs1" ping_b
grep 'sixxs1.*address 2001:db8:b::2/64 on sixxs1 went missing' "$TMP/aiccud.log" | tail -1 | sed 's/^/#   /'

echo "# item 9: the address deleted before the worker opens its ICMPv6 socket"
r0=$(field sixxs1 restarts)
pause_then_delete configured
check "the worker does not report up but is restarted" lab_wait 15 restarts_above sixxs1 "$r0"
check "saying why" grep -q "ICMPv6 socket" <<<"$(field sixxs1 last_exit)"
check "sixxs1 comes up" lab_wait 15 state_is sixxs1 up
check "with its address" has_addr1
check "ping through sixxs1" ping_b
finish
