#!/bin/bash
# Tunnels without "table" and "rule_priority" (issue 11): aiccud gives each
# a table of its own from 1570000..1579999, its rule the default priority
# (shared: rules may share one), and keeps the tables across a restart and
# a reload (state_dir/tables); status shows them.
#
#   test_auto_tables.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/assert.sh"

lab_test_begin autotab "$1" "$2"

lab_pop_tunnels() { lab_pop_tunnels_n 3; }
gone() { ! kill -0 "$1" 2>/dev/null; }
pings() { lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "$1"; }
in_range() { [ "$1" -ge 1570000 ] && [ "$1" -le 1579999 ]; }
# rule_of ADDR: "PRIORITY TABLE" of aiccud's rule from ADDR (numeric).
rule_of() {
	ip -N -n "$NS_CLI" -6 rule show | awk -v a="$1" \
		'$0 ~ "from " a " " && /proto 157/ {sub(":", "", $1); for (i = 1; i < NF; i++) if ($i == "lookup") print $1, $(i + 1)}'
}
# auto_file I: lab tunnel file I without table and rule_priority.
auto_file() {
	lab_tunnel_file "$TMP/conf.d/sixxs$1.conf" "$1"
	sed -i '/^table = /d; /^rule_priority = /d' "$TMP/conf.d/sixxs$1.conf"
}

# import-aiccu of a host's AICCU files in one call (the CLI edge of
# aiccu_import_many): files named by interface, 0600, that load together.
DATA=$HERE/../data/aiccu
mkdir -p "$TMP/imp/conf.d"
"$AICCUCTL" import-aiccu -d "$TMP/imp/conf.d" "$DATA/host_a.conf" "$DATA/host_b.conf" \
	"$DATA/host_dr.conf" >"$TMP/imp.out" 2>&1
check_eq "import-aiccu -d of three AICCU files: exit 0" 0 $?
for i in a b c; do
	check "sixxs-$i.conf written, mode 0600" test "$(stat -c %a "$TMP/imp/conf.d/sixxs-$i.conf" 2>/dev/null)" = 600
done
check "only sixxs-c has the default route" bash -c "grep -lx 'default_route = yes' '$TMP/imp/conf.d/'*.conf | grep -qx '.*/sixxs-c.conf' &&
	[ \$(grep -lx 'default_route = yes' '$TMP/imp/conf.d/'*.conf | wc -l) = 1 ]"
printf '[daemon]\nstate_dir = %s/imp/state\ncontrol_socket = %s/imp/s\n' "$TMP" "$TMP" >"$TMP/imp/aiccud.conf"
"$AICCUD" -n -f "$TMP/imp/aiccud.conf" >"$TMP/imp.n" 2>&1
check_eq "aiccud -n loads the three together without edits" 0 $?
"$AICCUCTL" import-aiccu -d "$TMP/imp/conf.d" "$DATA/host_a.conf" "$DATA/host_b.conf" >/dev/null 2>&1
check_eq "a second import never overwrites: exit 1" 1 $?

lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"
lab_daemon_conf "$TMP"
auto_file 0
auto_file 1
check_absent "the tunnel files name no table and no rule priority" \
	'^(table|rule_priority) =' "$TMP"/conf.d/*.conf
check "aiccud -n accepts two tunnels without table and rule_priority" \
	lab_in "$NS_CLI" "$AICCUD" -n -f "$TMP/aiccud.conf"

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
PID=$LAB_AICCUD_PID
both_up() { is_up sixxs0 && is_up sixxs1; }
lab_wait 20 both_up || { cat "$TMP/aiccud.log"; fail_now "both tunnels come up"; }
check "both tunnels come up" both_up
t0=$(field sixxs0 table) t1=$(field sixxs1 table)
echo "     tables: sixxs0 $t0, sixxs1 $t1"
check "sixxs0's table is from 1570000..1579999" in_range "$t0"
check "sixxs1's table is from 1570000..1579999" in_range "$t1"
check "the tables differ" test "$t0" != "$t1"
check_eq "sixxs0's rule: priority 1000, its table" "1000 $t0" "$(rule_of 2001:db8:a::2)"
check_eq "sixxs1's rule: the same priority, its table" "1000 $t1" "$(rule_of 2001:db8:b::2)"
check "sixxs0's table has its default route" \
	bash -c "ip -n '$NS_CLI' -6 route show table $t0 | grep -q '^default dev sixxs0'"
check "ping through sixxs0" pings 2001:db8:a::2
check "ping through sixxs1" pings 2001:db8:b::2
check "status shows the tables" \
	bash -c "ctl() { ip netns exec '$NS_CLI' '$AICCUCTL' -s '$TMP/run/aiccud.sock' \"\$@\"; }
		ctl status | grep -Eq '^sixxs0 .* $t0 ' && ctl status | grep -Eq '^sixxs1 .* $t1 '"
check "the assignment is kept in state_dir/tables" \
	bash -c "grep -qx 'sixxs0 $t0' '$TMP/state/tables' && grep -qx 'sixxs1 $t1' '$TMP/state/tables'"
check_eq "state_dir/tables is 0600" 600 "$(stat -c %a "$TMP/state/tables")"

# A restart: the same tables.
lab_kill TERM "$PID"
check "aiccud exits on SIGTERM" lab_wait 20 gone "$PID"
check_eq "no aiccud rule is left after the stop" 0 \
	"$(ip -N -n "$NS_CLI" -6 rule show | grep -c 'proto 157')"
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
PID=$LAB_AICCUD_PID
check "both tunnels come up after the restart" lab_wait 20 both_up
check_eq "sixxs0 keeps its table across the restart" "$t0" "$(field sixxs0 table)"
check_eq "sixxs1 keeps its table across the restart" "$t1" "$(field sixxs1 table)"
check_eq "sixxs0's rule after the restart" "1000 $t0" "$(rule_of 2001:db8:a::2)"

# A reload that adds sixxs2 (also without a table) and keeps the others.
pid0=$(field sixxs0 pid) pid1=$(field sixxs1 pid)
auto_file 2
ctl reload >"$TMP/reload.out" 2>&1
check_eq "aiccuctl reload" 0 $?
check "sixxs2 comes up" lab_wait 20 is_up sixxs2
t2=$(field sixxs2 table)
echo "     sixxs2: table $t2"
check "sixxs2's table is from the range" in_range "${t2:-0}"
check "sixxs2's table is its own" test "$t2" != "$t0" -a "$t2" != "$t1"
check_eq "sixxs0 keeps its table across the reload" "$t0" "$(field sixxs0 table)"
check_eq "sixxs1 keeps its table across the reload" "$t1" "$(field sixxs1 table)"
check_eq "sixxs0 was not restarted by the reload" "$pid0" "$(field sixxs0 pid)"
check_eq "sixxs1 was not restarted by the reload" "$pid1" "$(field sixxs1 pid)"
check_eq "sixxs2's rule: the shared priority, its table" "1000 $t2" "$(rule_of 2001:db8:c::2)"
check "ping through sixxs2" pings 2001:db8:c::2
check "ping through sixxs0 after the reload" pings 2001:db8:a::2
check "state_dir/tables has sixxs2 too" grep -qx "sixxs2 $t2" "$TMP/state/tables"
finish
