# The checks of the systemd stage (sourced by run-stage.sh once the
# container is booted): install, two tunnels, aiccuctl's permissions,
# reload, restart, crash, stop, removal, and one check per defect 1-10 of
# issue 19.  Each prints PASS or FAIL with its evidence.
#
# From run-stage.sh: ct, ct_as, pass, fail, verdict, fatal_stage, ROOTFS,
# TMP, DEB, NS_CLI, NS_NET, lab_wait, tic_count.

CONF=/etc/aiccud/aiccud.conf
CONFD=/etc/aiccud/conf.d
TIC_ADDR=2001:db8:1::2 # T10001, from the TIC simulator
FILE_ADDR=2001:db8:b::2 # T10002, conf.d/sixxs1.conf (tic = no)
SRC_CONFD=$HERE/../../conf.d

ctl() { ct aiccuctl "$@"; }
# field TUNNEL KEY: one field of the tunnel's status ("" when aiccud does
# not answer); state TUNNEL: its state.
field() {
	ct aiccuctl --json status "$1" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnels"][0].get(sys.argv[1], ""))' "$2" 2>/dev/null
}
state() { field "$1" state; }
is_up() { [ "$(state "$1")" = up ]; }
both_up() { is_up sixxs0 && is_up sixxs1; }
states() { echo "sixxs0 $(state sixxs0), sixxs1 $(state sixxs1)"; }
unit_prop() { ct systemctl show -p "$1" --value aiccud; }
main_pid() { unit_prop MainPID; }
# The journal: a cursor now, and aiccud's messages after one (-o cat:
# the message text only, as the daemon wrote it).
jcur() { ct journalctl -n 1 -o export --no-pager | sed -n 's/^__CURSOR=//p'; }
jsince() {
	local cur=$1
	shift
	if [ -n "$cur" ]; then
		ct journalctl -u aiccud --no-pager -q -o cat --after-cursor="$cur" "$@"
	else
		ct journalctl -u aiccud --no-pager -q -o cat "$@"
	fi
}
# Rules and routes of aiccud (by protocol number) and its links.
our_rules() { ct ip -N -6 rule show | grep -c 'proto 157'; }
our_routes() { ct ip -N -6 route show table all | grep -c 'proto 157'; }
rules_from() { ct ip -N -6 rule show | grep 'proto 157' | grep -c "from $1 "; }
our_links() { ct ip -o link show | grep -c ': sixxs[0-9]'; }
# limiter FIELD: one field of `aiccuctl limiter --json`.
limiter() {
	ct aiccuctl --json limiter 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("limiter", d)
print(d.get(sys.argv[1], ""))' "$1" 2>/dev/null
}
first_line() { head -n "${2:-1}" <<<"$1" | tr '\n' ' ' | cut -c"1-${3:-300}"; }
install_file() { # SRC DEST MODE (DEST inside the container)
	install -m "$3" "$1" "$ROOTFS$2"
}
# For the conditions that lab_wait and verdict run in a child bash.
export -f ct ct_as field state is_up both_up states unit_prop main_pid limiter
export CT_PID CT_TIMEOUT

# ---- the package: install over an AICCU configuration

cat >"$TMP/aiccu.conf" <<'EOF'
username ABC1-SIXXS
password sim-password
protocol tic
server 203.0.113.1
tunnel_id T10001
ipv6_interface sixxs0
verbose true
defaultroute false
EOF
install_file "$TMP/aiccu.conf" /etc/aiccu.conf 0600
cp "$DEB" "$ROOTFS/root/aiccud.deb"
ct dpkg -i /root/aiccud.deb >"$TMP/install.log" 2>&1
rc=$?
sed 's/^/#   /' "$TMP/install.log"
if [ $rc -eq 0 ]; then
	pass "dpkg -i installs the package in the booted system" "exit 0"
else
	fatal_stage "dpkg -i installs the package in the booted system" "exit $rc"
fi
IMP=$CONFD/aiccu.conf
verdict "the install converts /etc/aiccu.conf" \
	"$(grep -m1 'converting /etc/aiccu.conf' "$TMP/install.log")" \
	grep -q "converting /etc/aiccu.conf (AICCU) into $IMP" "$TMP/install.log"
verdict "... and names what it did not carry over" "$(grep -m1 'verbose' "$TMP/install.log")" \
	grep -q "/etc/aiccu.conf:7: verbose: not carried over" "$TMP/install.log"
conv=$(ct cat "$IMP" 2>&1)
verdict "... into a tunnel file with the tunnel id and interface" \
	"$(grep -E '^(id|interface) =' <<<"$conv" | tr '\n' ' ')" \
	bash -c 'grep -qx "id = T10001" <<<"$1" && grep -qx "interface = sixxs0" <<<"$1"' _ "$conv"
m=$(ct stat -c '%a %U' "$IMP")
verdict "... mode 0600, root's" "$m" test "$m" = "600 root"
ev="is-enabled $(ct systemctl is-enabled aiccud), is-active $(ct systemctl is-active aiccud)"
verdict "the install enables and starts aiccud.service" "$ev" \
	test "$ev" = "is-enabled enabled, is-active active"

# ---- the test's configuration: one TIC tunnel, one file tunnel

ct groupadd aiccud-ctl && ct useradd -M -G aiccud-ctl member && ct useradd -M other ||
	fatal_stage "the test's users (member of aiccud-ctl, other)"
echo "192.0.2.1 tic.test" >>"$ROOTFS/etc/hosts"
install_file "$TMP/pki/ca.pem" /etc/aiccud/test-ca.pem 0644
cat >"$TMP/aiccud.conf" <<'EOF'
[daemon]
control_group = aiccud-ctl

[tic]
server = tic.test
username = ABC1-SIXXS
password = sim-password
ca_file = /etc/aiccud/test-ca.pem
EOF
install_file "$TMP/aiccud.conf" $CONF 0600
cat >"$TMP/sixxs0.conf" <<'EOF'
[tunnel]
interface = sixxs0
id = T10001
table = 200
rule_priority = 1000
EOF
ct rm -f "$IMP"
install_file "$TMP/sixxs0.conf" $CONFD/sixxs0.conf 0600
install_file "$SRC_CONFD/sixxs1.conf" $CONFD/sixxs1.conf 0600
# The daemon's options file, so that defect 8's check can change it.
cp "$ROOTFS/etc/default/aiccud" "$TMP/default.orig"

C_START=$(jcur)
T=$(date +%s%N)
ct systemctl restart aiccud >"$TMP/out" 2>&1
rc=$?
START_MS=$((($(date +%s%N) - T) / 1000000))
verdict "systemctl restart with the test's configuration" "exit $rc in $START_MS ms" test $rc -eq 0

# Defect 6: READY=1 means the configuration is loaded; STATUS names the
# tunnels not up; a wait exists for the tunnels.  Right after the start
# the TIC tunnel waits for the limiter's first token (a fresh install).
# (STATUS= follows the tunnels' state changes: poll, bounded, for it.)
lab_wait 5 bash -c 'grep -q sixxs0 <<<"$(unit_prop StatusText)" || [ "$(state sixxs0)" = up ]'
st=$(unit_prop StatusText)
s0=$(state sixxs0)
verdict "defect 6: STATUS= names the tunnel that is not up yet" "sixxs0 $s0; StatusText '$st'" \
	bash -c '[ "$1" = up ] || grep -q sixxs0 <<<"$2"' _ "$s0" "$st"
T=$(date +%s%N)
out=$(ctl wait --all --timeout 1 2>&1)
rc=$?
ms=$((($(date +%s%N) - T) / 1000000))
if [ "$(state sixxs0)" != up ]; then
	verdict "defect 6: aiccuctl wait --all --timeout 1 fails while sixxs0 is not up" \
		"exit $rc after $ms ms: $(first_line "$out" 2)" test $rc -ne 0 -a $rc -ne 2 -a $ms -lt 5000
else
	echo "# (sixxs0 was up already: the timeout case of aiccuctl wait is not exercised)"
fi
T=$(date +%s%N)
out=$(ct systemctl start aiccud-wait-online.service 2>&1)
rc=$?
ms=$((($(date +%s%N) - T) / 1000000))
ev="exit $rc after $ms ms, then $(states); $(first_line "$out")"
verdict "defect 6: systemctl start aiccud-wait-online.service returns once both tunnels are up" "$ev" \
	bash -c '[ $1 -eq 0 ] && [ "$2" = "sixxs0 up, sixxs1 up" ]' _ $rc "$(states)"
out=$(ctl wait --all --timeout 60 2>&1)
rc=$?
verdict "defect 6: aiccuctl wait --all --timeout 60 succeeds with both up" "exit $rc: $(first_line "$out")" \
	test $rc -eq 0
lab_wait 60 both_up
verdict "both tunnels come up (TIC and file)" "$(states)" both_up
both_up || {
	jsince "$C_START" | tail -n 30 | sed 's/^/#   /'
	fatal_stage "both tunnels up" "$(states)"
}

rules=$(ct ip -6 rule show | grep aiccud)
verdict "ip -6 rule shows the TIC tunnel's rule as proto aiccud" "$(grep "$TIC_ADDR " <<<"$rules")" \
	grep -q "from $TIC_ADDR lookup 200 proto aiccud" <<<"$rules"
verdict "ip -6 rule shows the file tunnel's rule as proto aiccud" "$(grep "$FILE_ADDR " <<<"$rules")" \
	grep -q "from $FILE_ADDR lookup 201 proto aiccud" <<<"$rules"
nrules=$(ct ip -N -6 rule show | grep -c 'proto 157')
verdict "ip -N -6 rule shows them as proto 157" "$nrules rules" test "$nrules" -eq 2
for a in $TIC_ADDR $FILE_ADDR; do
	verdict "a ping from the Internet host reaches $a through its tunnel" "" \
		lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 "$a"
done

# Defect 3: from the second start on, the cache directory's fchmod.
log=$(jsince "" | grep -E 'cannot give the tunnel cache directory|Operation not permitted')
verdict "defect 3: no 'cannot give the tunnel cache directory' / EPERM at the second start" \
	"${log:-none in the journal}" test -z "$log"

# ---- aiccuctl: root, a member of control_group, anyone else

out=$(ctl status 2>&1)
verdict "aiccuctl status as root" "exit $?" test $? -eq 0
out=$(ct_as member aiccuctl status 2>&1)
rc=$?
verdict "aiccuctl status as a member of control_group (aiccud-ctl)" "exit $rc: $(first_line "$out")" test $rc -eq 0
out=$(ct_as other aiccuctl status 2>&1)
rc=$?
verdict "aiccuctl status as another user is refused" "exit $rc: $(first_line "$out")" \
	test $rc -ne 0 -a $rc -ne 2
out=$(ct_as other aiccuctl stop sixxs1 2>&1)
rc=$?
verdict "aiccuctl stop as another user is refused, the tunnel stays up" \
	"exit $rc: $(first_line "$out"); sixxs1 $(state sixxs1)" \
	bash -c '[ $1 -ne 0 ] && [ "$2" = up ]' _ $rc "$(state sixxs1)"

# ---- aiccud-metrics.timer: shipped but not enabled; its service in its sandbox

en=$(ct systemctl is-enabled aiccud-metrics.timer 2>&1)
verdict "aiccud-metrics.timer is installed and not enabled (opt-in)" "is-enabled: $en" \
	test "$en" = disabled
ct mkdir -p /var/lib/prometheus/node-exporter
ct systemctl start aiccud-metrics.service
rc=$?
prom=$(ct cat /var/lib/prometheus/node-exporter/aiccud.prom 2>/dev/null)
nup=$(grep -c '^aiccud_tunnel_up{tunnel="sixxs[01]"} 1$' <<<"$prom")
mode=$(ct stat -c %a /var/lib/prometheus/node-exporter/aiccud.prom 2>&1)
verdict "aiccud-metrics.service (hardened, as installed) writes node_exporter's textfile" \
	"exit $rc, mode $mode, $nup tunnel(s) up in it: $(first_line "$(grep -v '^#' <<<"$prom")" 3)" \
	test "$rc" -eq 0 -a "$nup" -eq 2 -a "$mode" = 644
ct rm -rf /var/lib/prometheus

# ---- reload: a good file, a refused aiccud.conf, a broken tunnel file

C=$(jcur)
printf '# edited by the test\n' >>"$ROOTFS$CONFD/sixxs1.conf"
out=$(ct systemctl reload aiccud 2>&1)
rc=$?
verdict "systemctl reload with a good configuration exits 0" "exit $rc, then $(states)" \
	bash -c '[ $1 -eq 0 ] && [ "$2" = "sixxs0 up, sixxs1 up" ]' _ $rc "$(states)"

C=$(jcur)
cp "$ROOTFS$CONF" "$TMP/conf.good"
printf '[daemon]\nno_such_key = 1\n' >>"$ROOTFS$CONF"
out=$(ct systemctl reload aiccud 2>&1)
rc=$?
verdict "defect 5: systemctl reload exits non-zero when aiccud refuses aiccud.conf" \
	"exit $rc: $(first_line "$out")" test $rc -ne 0
ev="$(states), unit $(ct systemctl is-active aiccud)"
verdict "... and the tunnels run on as before" "$ev" test "$ev" = "sixxs0 up, sixxs1 up, unit active"
install_file "$TMP/conf.good" $CONF 0600
# Defect 4: the refusal reaches the journal at warning level or above.
warn=$(jsince "$C" -p warning)
verdict "defect 4: journalctl -u aiccud -p warning shows the refusal" "$(first_line "$warn" 2)" \
	grep -q . <<<"$warn"
all=$(jsince "")
stamp_re='^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? '
stamped=$(grep -cE "$stamp_re" <<<"$all")
verdict "defect 4: the journal's lines carry no second timestamp of aiccud's" \
	"$stamped of $(wc -l <<<"$all") lines begin with one, e.g. '$( (grep -m1 -E "$stamp_re" <<<"$all" || head -n 1 <<<"$all") | cut -c1-80)'" \
	test "$stamped" -eq 0
prios=$(ct journalctl -u aiccud --no-pager -q -o json --output-fields=PRIORITY |
	python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l).get("PRIORITY","?") for l in sys.stdin})))')
verdict "defect 4: the journal holds more than one priority of aiccud's" "priorities: $prios" \
	test "$(wc -w <<<"$prios")" -gt 1

cp "$ROOTFS$CONFD/sixxs1.conf" "$TMP/sixxs1.good"
printf 'this line is no key = value pair\n[tunnel\nbogus_key = 1\n' >>"$ROOTFS$CONFD/sixxs1.conf"
out=$(ct systemctl reload aiccud 2>&1)
rc=$?
verdict "defect 9: systemctl reload exits non-zero when a tunnel file has a syntax error" \
	"exit $rc: $(first_line "$out")" test $rc -ne 0
out=$(ctl reload 2>&1)
rc=$?
verdict "defect 9: aiccuctl reload says so too" "exit $rc: $(first_line "$out" 2)" test $rc -ne 0
ev="$(states)"
verdict "... and sixxs1 keeps running on its previous configuration" "$ev" test "$ev" = "sixxs0 up, sixxs1 up"
install_file "$TMP/sixxs1.good" $CONFD/sixxs1.conf 0600
out=$(ct systemctl reload aiccud 2>&1)
rc=$?
lab_wait 20 both_up
verdict "a reload with the repaired file exits 0" "exit $rc, then $(states)" \
	bash -c '[ $1 -eq 0 ] && [ "$2" = "sixxs0 up, sixxs1 up" ]' _ $rc "$(states)"

# ---- defect 1: the init script's per-tunnel commands under systemd

out=$(ct /etc/init.d/aiccud stop sixxs1 2>&1)
rc=$?
lab_wait 10 bash -c '[ "$(state sixxs1)" != up ]'
ev="exit $rc, then $(states), unit $(ct systemctl is-active aiccud): $(first_line "$out")"
verdict "defect 1: /etc/init.d/aiccud stop sixxs1 stops only sixxs1" "$ev" \
	bash -c '[ $1 -eq 0 ] && [ "$2" = "sixxs0 up" ] && [ "$3" != up ] && [ "$4" = active ]' \
	_ $rc "$(state sixxs0 | sed 's/^/sixxs0 /')" "$(state sixxs1)" "$(ct systemctl is-active aiccud)"
out=$(ct /etc/init.d/aiccud status sixxs0 2>&1)
rc=$?
verdict "defect 1: /etc/init.d/aiccud status sixxs0 shows that tunnel only" \
	"exit $rc: $(first_line "$out" 2)" \
	bash -c '[ $1 -eq 0 ] && grep -q sixxs0 <<<"$2" && ! grep -q sixxs1 <<<"$2"' _ $rc "$out"
since0=$(field sixxs0 since)
out=$(ct /etc/init.d/aiccud start sixxs1 2>&1)
rc=$?
lab_wait 20 both_up
ev="exit $rc, then $(states); sixxs0 up since '$since0', now since '$(field sixxs0 since)'"
verdict "defect 1: /etc/init.d/aiccud start sixxs1 brings it back, sixxs0 untouched" "$ev" \
	test "$ev" = "exit 0, then sixxs0 up, sixxs1 up; sixxs0 up since '$since0', now since '$since0'"
if ! both_up; then
	ct systemctl restart aiccud
	lab_wait 60 both_up
fi

# ---- defect 8: the options file and the log level at run time

C=$(jcur)
out=$(ctl log-level debug 2>&1)
rc=$?
lvl=$(jsince "$C" | grep -i -m1 'log level')
verdict "defect 8: aiccuctl log-level debug changes the level and the log says so" \
	"exit $rc: ${lvl:-$(first_line "$out")}" test $rc -eq 0 -a -n "$lvl"
ctl log-level info >/dev/null 2>&1
printf 'DAEMON_OPTS=-v\n' >>"$ROOTFS/etc/default/aiccud"
C=$(jcur)
ct systemctl restart aiccud
lab_wait 60 both_up
dbg=$(ct journalctl -u aiccud --no-pager -q -o cat --after-cursor="$C" -p debug..debug | head -n 1)
cmd=$(ct ps -o args= -p "$(main_pid)")
verdict "defect 8: DAEMON_OPTS=-v in /etc/default/aiccud takes effect under systemd" \
	"command line '$cmd', first debug line: '${dbg:0:120}'" \
	bash -c 'grep -q -- " -v" <<<"$1" && [ -n "$2" ]' _ "$cmd" "$dbg"
install_file "$TMP/default.orig" /etc/default/aiccud 0644

# ---- defect 2: systemctl restart keeps the limiter's tokens

# The TIC tunnel took the first token; wait (bounded) for the next one, so
# that the saved state holds a token when the unit restarts.
# has_token: whether the bucket holds a token now (TOKENS, and the
# answer itself in LIMITER_RAW for the evidence).
has_token() {
	LIMITER_RAW=$(ct aiccuctl --json limiter 2>&1)
	TOKENS=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("limiter", d)["tokens"])' \
		<<<"$LIMITER_RAW" 2>/dev/null)
	[ "$TOKENS" = 1 ]
}
lab_wait 45 has_token
before=$TOKENS
[ -n "$before" ] || before="none ($(first_line "$LIMITER_RAW" 3))"
sf=$(limiter state_file)
C=$(jcur)
ct systemctl restart aiccud
lab_wait 30 both_up
has_token
after=$TOKENS
[ -n "$after" ] || after="none ($(first_line "$LIMITER_RAW" 3))"
msg=$(jsince "$C" | grep -E 'another boot|starts empty' | head -n 1)
verdict "defect 2: after systemctl restart the log does not say the limiter's state is from another boot" \
	"${msg:-no such line}" test -z "$msg"
verdict "defect 2: the limiter keeps its saved token across systemctl restart" \
	"tokens before $before, after $after" test "$before" = 1 -a "$after" = 1
conn0=$(tic_count "$TMP/tic.log" connect)
T=$(date +%s%N)
out=$(ctl refresh sixxs0 2>&1)
rc=$?
ms=$((($(date +%s%N) - T) / 1000000))
conn1=$(tic_count "$TMP/tic.log" connect)
verdict "defect 2: a TIC fetch right after the restart needs no token wait" \
	"aiccuctl refresh sixxs0: exit $rc after $ms ms, TIC connections $conn0 -> $conn1: $(first_line "$out" 2)" \
	bash -c '[ $1 -eq 0 ] && [ $2 -lt 10000 ] && [ $4 -gt $3 ] && ! grep -q "waiting for a TIC connection token" <<<"$5"' \
	_ $rc $ms "$conn0" "$conn1" "$out"
boot_kernel=$(cat /proc/sys/kernel/random/boot_id)
boot_ct=$(ct cat /proc/sys/kernel/random/boot_id)
boot_state=$(ct sed -n 's/^boot_id //p' "${sf:-/var/lib/aiccud/limiter}")
verdict "defect 2: the limiter's state names a boot id" \
	"state: $boot_state; kernel's: $boot_kernel; the container's (nspawn's, as journald shows): $boot_ct" \
	bash -c '[ "$1" = "$2" ] || [ "$1" = "$3" ]' _ "$boot_state" "$boot_kernel" "$boot_ct"

# ---- kill -9 of the parent: systemd restarts it, leftovers adopted

old=$(main_pid)
C=$(jcur)
ct kill -KILL "$old"
lab_wait 30 bash -c 'p=$(main_pid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ] &&
	[ "$(ct systemctl is-active aiccud)" = active ]' _ "$old"
new=$(main_pid)
verdict "kill -9 of aiccud: systemd starts it again" "MainPID $old -> $new, unit $(ct systemctl is-active aiccud)" \
	test -n "$new" -a "$new" != 0 -a "$new" != "$old"
lab_wait 60 both_up
ev="$(states); rules from $TIC_ADDR: $(rules_from $TIC_ADDR), from $FILE_ADDR: $(rules_from $FILE_ADDR); proto 157 routes: $(our_routes)"
verdict "... both tunnels up again, no duplicate rule or route" "$ev" \
	test "$ev" = "sixxs0 up, sixxs1 up; rules from $TIC_ADDR: 1, from $FILE_ADDR: 1; proto 157 routes: 2"
adopted=$(jsince "$C" | grep -c 'adopted rule')
verdict "... the new aiccud adopted the killed one's rules (its log says so)" \
	"$adopted 'adopted rule' lines: $(jsince "$C" | grep -m1 'adopted rule')" test "$adopted" -eq 2
log=$(jsince "" | grep -E 'cannot give the tunnel cache directory|Operation not permitted')
verdict "defect 3: no 'cannot give the tunnel cache directory' / EPERM in any start" \
	"${log:-none in the journal}" test -z "$log"

# ---- defect 7: without CAP_NET_ADMIN

mkdir -p "$ROOTFS/etc/systemd/system/aiccud.service.d"
printf '[Service]\nCapabilityBoundingSet=~CAP_NET_ADMIN\n' \
	>"$ROOTFS/etc/systemd/system/aiccud.service.d/no-net-admin.conf"
ct systemctl daemon-reload
ct systemctl stop aiccud
C=$(jcur)
ct systemctl start --no-block aiccud
# Bounded: until the unit is active (READY) or the log names the missing
# capability, whichever comes first.
lab_wait 20 bash -c '[ "$(ct systemctl is-active aiccud)" = active ] ||
	ct journalctl -u aiccud -q -o cat --after-cursor="$1" | grep -q CAP_NET_ADMIN' _ "$C"
act=$(ct systemctl is-active aiccud)
ct systemctl stop aiccud
log=$(jsince "$C")
verdict "defect 7: without CAP_NET_ADMIN the unit does not become active (no READY)" "is-active: $act" \
	test "$act" != active
claim=$(grep -m1 'more privilege than needed' <<<"$log")
verdict "defect 7: no claim of more privilege than needed" "${claim:-no such line}" test -z "$claim"
why=$(grep 'CAP_NET_ADMIN' <<<"$log" | grep -m1 -iE 'missing|without|lack')
verdict "defect 7: the log names the missing CAP_NET_ADMIN" "${why:-no line names it}" test -n "$why"
empty=$(grep -m1 -E ':[[:space:]]*$' <<<"$log")
verdict "defect 7: no message with an empty reason (start and stop)" "${empty:-none}" test -z "$empty"
rm -rf "$ROOTFS/etc/systemd/system/aiccud.service.d"
ct systemctl daemon-reload
ct systemctl stop aiccud
ct systemctl reset-failed aiccud 2>/dev/null
ct systemctl start aiccud
lab_wait 60 both_up
verdict "with CAP_NET_ADMIN back, both tunnels come up" "$(states)" both_up

# ---- systemctl stop leaves nothing

ct systemctl stop aiccud
ev="unit $(ct systemctl is-active aiccud); links $(our_links), proto 157 rules $(our_rules), routes $(our_routes)"
verdict "systemctl stop leaves no link, rule or route" "$ev" \
	test "$ev" = "unit inactive; links 0, proto 157 rules 0, routes 0"

# ---- defect 10: the SysV path (the init script without the redirect to
# systemctl that /lib/lsb/init-functions.d/40-systemd makes)

sysv() { ct env SYSTEMCTL_SKIP_REDIRECT=1 /etc/init.d/aiccud "$@"; }
# nspawn (with --network-namespace-path) leaves the container's
# /proc/sys/net read-only, which a host's is not: the unit gets its tunnel
# links' IPv6 settings through ReadWritePaths=, a SysV-started daemon has no
# such help.  Give the container the host's view (a writable bind of
# /proc/sys/net in its init's mount namespace) before the SysV start.
ct sh -c 'mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net'
verdict "the container's /proc/sys/net is writable for the SysV path, as a host's" \
	"$(ct sh -c 'test -w /proc/sys/net/ipv6/conf/default/accept_ra && echo writable || echo read-only')" \
	ct test -w /proc/sys/net/ipv6/conf/default/accept_ra
out=$(sysv start 2>&1)
rc=$?
# The LSB line is "Starting <DESC>: aiccud" and its end ("." or
# "failed!"); whatever aiccud prints at start must not land inside it.
lsb=$(head -n 1 <<<"$out")
verdict "defect 10: the SysV start line holds no daemon log line" "exit $rc: '$(first_line "$out" 3)'" \
	bash -c '[ $1 -eq 0 ] && grep -Eq "^Starting IPv6 tunnel broker client: aiccud\.?$" <<<"$2"' \
	_ $rc "$lsb"
lab_wait 60 both_up
verdict "the SysV-started daemon brings both tunnels up" "$(states)" both_up
both_up || {
	echo "#   aiccuctl status: $(ct aiccuctl status 2>&1 | head -n 8 | tr '\n' ' ')"
	echo "#   its processes: $(ct pgrep -a aiccud | tr '\n' ' ')"
	echo "#   the journal's last lines:"
	ct journalctl -n 40 --no-pager -o cat | sed 's/^/#     /'
}
out=$(sysv stop 2>&1)
rc=$?
lk=$(ct ls -A /run/aiccud 2>&1 | tr '\n' ' ')
verdict "defect 10: after the SysV stop no aiccud.sock.lock is left" "exit $rc; /run/aiccud: ${lk:-empty}" \
	bash -c '[ $1 -eq 0 ] && ! grep -q "aiccud.sock.lock" <<<"$2"' _ $rc "$lk"
ev="links $(our_links), proto 157 rules $(our_rules), routes $(our_routes)"
verdict "... and no link, rule or route" "$ev" test "$ev" = "links 0, proto 157 rules 0, routes 0"

# ---- dpkg -r and dpkg -P

ct systemctl start aiccud
lab_wait 60 both_up
ct dpkg-query -L aiccud | sort >"$TMP/files"
out=$(ct dpkg -r aiccud 2>&1)
rc=$?
ev="exit $rc; aiccud processes: $(ct pgrep -c -x aiccud); links $(our_links), rules $(our_rules), routes $(our_routes)"
verdict "dpkg -r stops aiccud and leaves no link, rule or route" "$ev" \
	test "$ev" = "exit 0; aiccud processes: 0; links 0, rules 0, routes 0"
st=$(ct dpkg-query -W -f='${Status}' aiccud)
verdict "dpkg -r keeps the conffiles" "status '$st'; $(ct ls /etc/aiccud /etc/default/aiccud 2>&1 | tr '\n' ' ')" \
	bash -c '[ "$1" = "deinstall ok config-files" ] && ct test -f /etc/aiccud/aiccud.conf' _ "$st"
left=$(while read -r f; do
	case "$f" in /etc/*) continue ;; esac
	ct test -d "$f" && continue
	ct test -e "$f" -o -L "$f" && echo "$f"
done <"$TMP/files")
verdict "dpkg -r leaves no file of the package outside /etc" "${left:-none}" test -z "$left"
out=$(ct dpkg -P aiccud 2>&1)
rc=$?
ev="exit $rc; /etc/aiccud $(ct test -e /etc/aiccud && echo present || echo gone), /var/lib/aiccud $(ct test -e /var/lib/aiccud && echo present || echo gone), /etc/default/aiccud $(ct test -e /etc/default/aiccud && echo present || echo gone)"
verdict "dpkg -P removes /etc/aiccud, /var/lib/aiccud and the conffiles" "$ev" \
	test "$ev" = "exit 0; /etc/aiccud gone, /var/lib/aiccud gone, /etc/default/aiccud gone"
units=$(ct find /etc/systemd /lib/systemd/system -name 'aiccud*' | tr '\n' ' ')
verdict "dpkg -P leaves no unit file or link" "${units:-none}" test -z "$units"
u=$(ct getent passwd aiccud)
verdict "dpkg -P keeps the aiccud system user" "${u:-no such user}" test -n "$u"
