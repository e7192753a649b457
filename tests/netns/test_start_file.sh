#!/bin/bash
# Issue 22, item 5: aiccuctl start|restart TUNNEL applies the tunnel's file
# as it is now (like wg-quick up), touching no other tunnel; a file that
# does not load is refused with its file:line, and nothing is started.
#
#   test_start_file.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin startfile "$1" "$2"

rules_at() { ip -N -n "$NS_CLI" -6 rule show | grep 'proto 157' | grep -c "^$1:.*from 2001:db8:b::2 lookup 201"; }
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::2; }
both_up() { is_up sixxs0 && is_up sixxs1; }
F=$TMP/conf.d/sixxs1.conf

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
lab_tunnel_file "$TMP/conf.d/sixxs0.conf" 0
lab_tunnel_file "$F" 1
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
check "both tunnels come up" lab_wait 15 both_up
pid0=$(field sixxs0 pid)
check_eq "sixxs1's rule at priority 1001" 1 "$(rules_at 1001)"

echo "# a stopped tunnel, its file edited, started"
ctl stop sixxs1 >/dev/null
lab_tunnel_file "$F" 1 rule_priority=1011
sed -i '/^rule_priority = 1001$/d' "$F"
out=$(ctl start sixxs1 2>&1)
check_eq "aiccuctl start: exit 0" 0 "$?"
check "sixxs1 is up" is_up sixxs1
check_eq "on the file's new rule priority 1011" 1 "$(rules_at 1011)"
check_eq "and none at the old one" 0 "$(rules_at 1001)"
check "ping through sixxs1" pings

echo "# a running tunnel, its file edited, restarted"
pid1=$(field sixxs1 pid)
lab_tunnel_file "$F" 1 rule_priority=1012
sed -i '/^rule_priority = 1001$/d' "$F"
out=$(ctl restart sixxs1 2>&1)
check_eq "aiccuctl restart: exit 0" 0 "$?"
check "sixxs1 is up" is_up sixxs1
check "with a new worker" test "$(field sixxs1 pid)" != "$pid1"
check_eq "on rule priority 1012" 1 "$(rules_at 1012)"
check_eq "and none at 1011" 0 "$(rules_at 1011)"
check_eq "sixxs0 was not touched (same worker)" "$pid0" "$(field sixxs0 pid)"

echo "# a file that does not load"
pid1=$(field sixxs1 pid)
sed -i 's/^mtu = 1280$/mtu = lots/' "$F"
line=$(grep -n '^mtu = lots' "$F" | cut -d: -f1)
out=$(ctl restart sixxs1 2>&1)
rc=$?
echo "$out" | sed 's/^/#   /'
check "aiccuctl restart fails" test "$rc" -ne 0
check "naming the file and line" grep -q "$F:$line:" <<<"$out"
check "and saying nothing was started" grep -q "nothing started" <<<"$out"
check_eq "sixxs1 keeps running (same worker)" "$pid1" "$(field sixxs1 pid)"
check_eq "on its rule priority 1012" 1 "$(rules_at 1012)"
ctl stop sixxs1 >/dev/null
out=$(ctl start sixxs1 2>&1)
check "aiccuctl start of the stopped tunnel fails" test "$?" -ne 0
check "naming the file and line" grep -q "$F:$line:" <<<"$out"
check_eq "and it stays stopped" stopped "$(field sixxs1 state)"
check_eq "sixxs0 was not touched (same worker)" "$pid0" "$(field sixxs0 pid)"
finish
