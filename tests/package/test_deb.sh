#!/bin/bash
# The Debian package end to end: build it with dpkg-buildpackage, lintian
# it, install it with dpkg -i, convert an AICCU file at the first install,
# check the installed configuration with aiccud -n, run the INSTALLED
# daemon (init script, /usr/sbin/aiccud) with one tunnel against the PoP
# simulator in a namespace lab, see "proto aiccud" in ip -6 rule, then
# remove and purge it and check that nothing is left behind.
#
#   test_deb.sh SOURCE-DIR
#
# The machine's real /etc, /usr, /var and /run never change: the install
# runs in a mount namespace of its own where those four are overlays
# (upper layers in a tmpfs), so a failing or killed test cannot leave
# the package, its user or its files behind, and other tests running on
# the same machine meanwhile never see it (their `ip -6 rule` keeps
# printing "proto 157").  dpkg, the maintainer scripts and the daemon are
# the real ones, run as on any Debian 12 machine.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NETNS=$HERE/../netns

# ---- outer part: build, lintian, then the install in a private mount namespace

if [ "${1:-}" != --inner ]; then
	. "$NETNS/assert.sh"
	SRC=$(cd "${1:-$HERE/../..}" && pwd)
	TMP=$(mktemp -d /tmp/aiccud-deb.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	# Build from a copy: dpkg-buildpackage writes ../*.deb and debian/ build
	# trees, neither of which may land in (or next to) the checkout.
	mkdir "$TMP/src"
	if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
		(cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$TMP/src")
	else
		(cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -C "$TMP/src" -xf -
	fi
	(cd "$TMP/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc) \
		>"$TMP/build.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || tail -n 40 "$TMP/build.log"
	check_eq "dpkg-buildpackage -b -us -uc succeeds" 0 $rc
	VERSION=$(dpkg-parsechangelog -l "$TMP/src/debian/changelog" -S Version)
	DEB=$TMP/aiccud_${VERSION}_$(dpkg --print-architecture).deb
	check "it produces ../aiccud_<version>_<arch>.deb" test -f "$DEB"
	[ -f "$DEB" ] || finish
	check_eq "the package is named aiccud" aiccud "$(dpkg-deb -f "$DEB" Package)"
	for f in Provides Conflicts Replaces; do
		check_eq "$f: aiccu" aiccu "$(dpkg-deb -f "$DEB" "$f")"
	done
	# lintian as root says so on stderr; every tag it prints is a finding.
	lintian --fail-on error,warning "$TMP"/aiccud_*.changes >"$TMP/lintian.log" 2>/dev/null
	rc=$?
	cat "$TMP/lintian.log"
	check_eq "lintian: no error, no warning" 0 $rc
	check_absent "lintian prints no E: or W: tag" '^[EW]: ' "$TMP/lintian.log"

	USER_BEFORE=$(getent passwd aiccud)
	ETC_BEFORE=$(test -e /etc/aiccud && echo present)
	unshare --mount --propagation private bash "$0" --inner "$DEB" "$TMP"
	rc=$?
	check_eq "the installation test passes" 0 $rc
	check "outside the test's mount namespace aiccud was never installed" \
		bash -c '! dpkg-query -W -f="\${Status}" aiccud 2>/dev/null | grep -q installed'
	check_eq "outside, the aiccud user is as it was" "$USER_BEFORE" "$(getent passwd aiccud)"
	check_eq "outside, /etc/aiccud is as it was" "$ETC_BEFORE" "$(test -e /etc/aiccud && echo present)"
	check "outside, /etc/iproute2 names no aiccud protocol" \
		test ! -e /etc/iproute2/rt_protos.d/aiccud.conf
	finish
fi

# ---- inner part: in a mount namespace of its own (see above)

DEB=$2
TMP=$3
. "$NETNS/lab.sh"
. "$NETNS/assert.sh"

OVL=$TMP/overlay
mkdir -p "$OVL"
mount -t tmpfs -o mode=0700 aiccud-deb "$OVL" || fail_now "tmpfs for the overlays"
for d in etc usr var run; do
	mkdir -p "$OVL/$d.upper" "$OVL/$d.work"
	mount -t overlay "aiccud-deb-$d" \
		-o "lowerdir=/$d,upperdir=$OVL/$d.upper,workdir=$OVL/$d.work" "/$d" ||
		fail_now "overlay on /$d"
done
# On any exit: purge what is installed (its prerm stops the daemon and its
# routing), kill a daemon that outlived that, remove the lab.  The overlays
# go with this mount namespace.
cleanup() {
	if dpkg-query -W -f='${Status}' aiccud 2>/dev/null | grep -q .; then
		ip netns exec "$NS_CLI" dpkg -P aiccud >/dev/null 2>&1 || dpkg -P aiccud >/dev/null 2>&1
	fi
	[ -n "${PID:-}" ] && ! gone "$PID" && lab_kill KILL "$PID"
	lab_down
}
trap cleanup EXIT

# As on an ordinary Debian machine: no policy-rc.d (containers install one
# that forbids starting services), so the maintainer scripts start and stop
# aiccud through its init script.
rm -f /usr/sbin/policy-rc.d

cli() { ip netns exec "$NS_CLI" "$@"; }
# The init script as the system runs it (no systemd here: no redirect).
init() { cli env _SYSTEMCTL_SKIP_REDIRECT=1 /etc/init.d/aiccud "$@"; }
ctl() { cli /usr/sbin/aiccuctl "$@"; }
state_of() { ctl status "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnels"][0]["state"])'; }
is_up() { [ "$(state_of "$1")" = up ]; }
daemon_pid() { ctl version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["pid"])'; }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
# Anything of aiccud's in the client namespace's routing (by number, so
# that the check does not depend on the name file).
our_rules() { ip -N -n "$NS_CLI" -6 rule show | grep -c 'proto 157'; }
our_routes() { ip -N -n "$NS_CLI" -6 route show table all | grep -c 'proto 157'; }

dpkg-query -W -f='${Status}' aiccud 2>/dev/null | grep -q installed &&
	fail_now "aiccud is installed already; this test needs a machine without it"
lab_up || fail_now "lab set-up"
lab_pop_start "$TMP" || fail_now "PoP simulator"

# An AICCU user's file (the TIC server is the lab's PoP address, where no
# TIC server listens: the converted tunnel never reaches anything outside).
cat >/etc/aiccu.conf <<'EOF'
username MINI1-SIXXS
password minipass
protocol tic
server 192.0.2.1
tunnel_id T777
ipv6_interface gif0x
verbose true
defaultroute false
EOF
chmod 600 /etc/aiccu.conf
cp /etc/aiccu.conf "$TMP/aiccu.conf.before"

# Installed inside the client namespace, so that the daemon the package
# starts (when the init system lets it) lives in the lab.
cli dpkg -i "$DEB" >"$TMP/install.log" 2>&1
check_eq "dpkg -i succeeds" 0 $?
cat "$TMP/install.log"
check_eq "the package is installed" "install ok installed" "$(dpkg-query -W -f='${Status}' aiccud)"
dpkg-query -L aiccud | sort >"$TMP/files"
# invoke-rc.d starts services only in a known runlevel: not in a container
# without an init system.  Where it did start aiccud, restart replaces it.
FIRST=$(daemon_pid 2>/dev/null)
echo "# aiccud started by the package: ${FIRST:-no (no init system running)}"

# The conversion of /etc/aiccu.conf at the first installation.
IMP=/etc/aiccud/conf.d/aiccu.conf
check "the install output says /etc/aiccu.conf is converted" \
	grep -q "converting /etc/aiccu.conf (AICCU) into $IMP" "$TMP/install.log"
check "... and names what was not carried over (verbose, line 7)" \
	grep -q "/etc/aiccu.conf:7: verbose: not carried over" "$TMP/install.log"
check "... and says what was converted" grep -q "aiccud: converted: " "$TMP/install.log"
check "the converted tunnel file exists" test -f "$IMP"
check_eq "... with mode 0600" 600 "$(stat -c %a "$IMP")"
check "... holds the tunnel id" grep -qx "id = T777" "$IMP"
check "... and the interface" grep -qx "interface = gif0x" "$IMP"
check "/etc/aiccu.conf is left as it was" cmp -s /etc/aiccu.conf "$TMP/aiccu.conf.before"
check "NEWS.Debian says what is converted" zgrep -q "What is converted" /usr/share/doc/aiccud/NEWS.Debian.gz

# What the package installs.
for f in /usr/sbin/aiccud /usr/sbin/aiccuctl /etc/init.d/aiccud /usr/libexec/aiccud/aiccud-tic; do
	check "$f is installed and executable" test -x "$f"
done
check "the installed aiccud maps no TLS library (only aiccud-tic does)" \
	sh -c "! ldd /usr/sbin/aiccud | grep -q gnutls && ldd /usr/libexec/aiccud/aiccud-tic | grep -q gnutls"
/usr/libexec/aiccud/aiccud-tic >/dev/null 2>&1
check_eq "aiccud-tic run by hand refuses (exit 2)" 2 $?
for f in /lib/systemd/system/aiccud.service /lib/systemd/system/aiccud-wait-online.service \
	/lib/systemd/system/aiccud-metrics.service /lib/systemd/system/aiccud-metrics.timer \
	/usr/share/man/man8/aiccud.8.gz \
	/usr/share/man/man8/aiccuctl.8.gz /usr/share/man/man5/aiccud.conf.5.gz /etc/default/aiccud \
	/usr/share/bash-completion/completions/aiccuctl; do
	check "$f is installed" test -f "$f"
done
check "the init script is registered (rc2.d start link)" bash -c 'ls /etc/rc2.d/S*aiccud'
check "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/aiccud.service
check "aiccud-wait-online.service is enabled (multi-user.target wants it)" \
	test -L /etc/systemd/system/multi-user.target.wants/aiccud-wait-online.service
check "aiccud-metrics.timer is not enabled (opt-in, README \"Metrics\")" \
	test ! -e /etc/systemd/system/timers.target.wants/aiccud-metrics.timer
check_eq "/etc/aiccud/aiccud.conf is 0600 root" "600 root" "$(stat -c '%a %U' /etc/aiccud/aiccud.conf)"
check "/etc/aiccud/conf.d exists" test -d /etc/aiccud/conf.d
check "the aiccud system user exists" getent passwd aiccud
check "the aiccud group exists" getent group aiccud
check "the user's uid is a system uid (< 1000)" test "$(id -u aiccud)" -lt 1000
check_eq "the user's shell is nologin" /usr/sbin/nologin "$(getent passwd aiccud | cut -d: -f7)"
check_eq "/var/lib/aiccud is 0700 root:root" "700 root:root" \
	"$(stat -c '%a %U:%G' /var/lib/aiccud)"
check_eq "rt_protos.d names protocol 157 aiccud" "157 aiccud" \
	"$(grep -v '^#' /etc/iproute2/rt_protos.d/aiccud.conf | awk 'NF {print $1, $2}')"

# The installed configuration, as it is after the conversion.
cli /usr/sbin/aiccud -n >"$TMP/n.log" 2>&1
check_eq "aiccud -n accepts the installed configuration" 0 $?
cat "$TMP/n.log"

# One tunnel against the simulator instead of the converted one (which
# has no TIC server to talk to), run by the installed daemon through the
# installed init script.
rm -f "$IMP"
cp "$HERE/../../conf.d/sixxs1.conf" /etc/aiccud/conf.d/sixxs1.conf
chmod 600 /etc/aiccud/conf.d/sixxs1.conf
cli /usr/sbin/aiccud -n >/dev/null 2>&1
check_eq "aiccud -n accepts it with the lab's tunnel" 0 $?
init restart >"$TMP/init.log" 2>&1
check_eq "/etc/init.d/aiccud restart" 0 $?
cat "$TMP/init.log"
PID=$(daemon_pid 2>/dev/null)
check "restart started a new daemon" test -n "$PID" -a "$PID" != "${FIRST:-}"
[ -z "$FIRST" ] || check "the first one is gone" gone "$FIRST"
check "the daemon answers on /run/aiccud/aiccud.sock" test -S /run/aiccud/aiccud.sock
check_eq "the daemon is the installed /usr/sbin/aiccud" /usr/sbin/aiccud \
	"$(readlink "/proc/${PID:-0}/exe" 2>/dev/null)"
check "sixxs1 comes up" lab_wait 20 is_up sixxs1
check "ip -6 rule shows proto aiccud" \
	bash -c "ip -n '$NS_CLI' -6 rule show | grep -q 'from 2001:db8:b::2 lookup 201 proto aiccud'"
check "ip -6 route shows the table's default route with proto aiccud" \
	bash -c "ip -n '$NS_CLI' -6 route show table 201 | grep -q '^default .*proto aiccud'"
check "ping from the Internet host through the tunnel" \
	lab_in "$NS_NET" ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::2
check "the daemon keeps state in /var/lib/aiccud" bash -c 'ls -A /var/lib/aiccud | grep -q .'

# Removal stops aiccud and leaves no rule, route or link.
cli dpkg -r aiccud >"$TMP/remove.log" 2>&1
check_eq "dpkg -r succeeds" 0 $?
cat "$TMP/remove.log"
check "the daemon is gone" lab_wait 20 gone "${PID:-0}"
[ -d /run/systemd/system ] ||
	check "prerm stopped it through the init script" \
		grep -q "Stopping IPv6 tunnel broker client: aiccud" "$TMP/remove.log"
check_eq "no aiccud rule is left" 0 "$(our_rules)"
check_eq "no aiccud route is left" 0 "$(our_routes)"
check "no sixxs1 link is left" bash -c "! ip -n '$NS_CLI' link show sixxs1"
check_eq "dpkg knows it as removed, configuration kept" "deinstall ok config-files" \
	"$(dpkg-query -W -f='${Status}' aiccud)"
# Files and links only: directories (and /lib, a link to one) are shared.
left=$(while read -r f; do
	[ -d "$f" ] && continue
	[ -e "$f" ] || [ -L "$f" ] || continue
	case "$f" in /etc/*) continue ;; esac # conffiles stay until purge
	echo "$f"
done <"$TMP/files")
check_eq "no file of the package outside /etc is left" "" "$left"

# Purge removes state and configuration; the system user stays.
dpkg -P aiccud >"$TMP/purge.log" 2>&1
check_eq "dpkg -P succeeds" 0 $?
cat "$TMP/purge.log"
check "dpkg has forgotten aiccud" bash -c '! dpkg-query -W -f="\${Status}" aiccud 2>/dev/null | grep -q .'
left=$(while read -r f; do
	[ -d "$f" ] && continue
	if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done <"$TMP/files")
check_eq "no file of the package is left" "" "$left"
check "/etc/aiccud is gone" test ! -e /etc/aiccud
check "/var/lib/aiccud is gone" test ! -e /var/lib/aiccud
check "/run/aiccud is gone" test ! -e /run/aiccud
check "no init script link is left" bash -c '! ls /etc/rc?.d/*aiccud'
check "no unit link is left" bash -c '! find /etc/systemd -name "aiccud*" | grep -q .'
check "the aiccud user stays (Debian keeps system accounts on purge)" getent passwd aiccud
check "/etc/aiccu.conf is still there" cmp -s /etc/aiccu.conf "$TMP/aiccu.conf.before"
finish
