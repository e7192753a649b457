#!/bin/sh
# cmake --install into a DESTDIR: every file an operator needs is
# installed, with the right modes, and the installed init script and unit
# name the installed binaries.  Paths follow the build's
# CMAKE_INSTALL_PREFIX (configure with -DCMAKE_INSTALL_PREFIX=/usr for
# Debian's layout: /usr/sbin, /etc, /usr/lib/systemd/system).
#   check-install.sh BUILD-DIR
set -u
BUILD=$1
DEST=$(mktemp -d /tmp/aiccud-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT
pass=0
fail=0
check() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok   - $what"
		pass=$((pass + 1))
	else
		echo "FAIL - $what"
		fail=$((fail + 1))
	fi
}
# The one installed file whose path ends in $1 (relative to DEST, with a leading /).
installed() { (cd "$DEST" && find . -path "*$1" | sed 's/^\.//' | head -n 1); }

DESTDIR=$DEST cmake --install "$BUILD" >"$DEST/.log" 2>&1
check "cmake --install with DESTDIR succeeds" test $? -eq 0
for f in /sbin/aiccud /sbin/aiccuctl /init.d/aiccud /libexec/aiccud/aiccud-tic; do
	check "$f is installed and executable" test -x "$DEST$(installed $f)"
done
for f in /default/aiccud /systemd/system/aiccud.service /systemd/system/aiccud-wait-online.service \
	/systemd/system/aiccud-metrics.service /systemd/system/aiccud-metrics.timer \
	/tmpfiles.d/aiccud.conf \
	/man8/aiccud.8 /man8/aiccuctl.8 /man5/aiccud.conf.5 /aiccud/aiccud.conf \
	/examples/sixxs0.conf /rt_protos.d/aiccud.conf /bash-completion/completions/aiccuctl; do
	check "$f is installed" test -f "$DEST$(installed $f)"
done
SBIN=$(dirname "$(installed /sbin/aiccud)")
CONF=$(installed /aiccud/aiccud.conf)
UNIT=$DEST$(installed /systemd/system/aiccud.service)
INIT=$DEST$(installed /init.d/aiccud)
check "conf.d exists next to aiccud.conf" test -d "$DEST$(dirname "$CONF")/conf.d"
check "no example tunnel in conf.d" test -z "$(ls -A "$DEST$(dirname "$CONF")/conf.d")"
check "aiccud.conf is 0600" test "$(stat -c %a "$DEST$CONF")" = 600
check "the unit starts $SBIN/aiccud -d -f $CONF \$DAEMON_OPTS" \
	grep -qx "ExecStart=$SBIN/aiccud -d -f $CONF \\\$DAEMON_OPTS" "$UNIT"
check "the unit reads DAEMON_OPTS from $(installed /default/aiccud)" \
	grep -qx "EnvironmentFile=-$(installed /default/aiccud)" "$UNIT"
check "the unit is Type=notify" grep -qx 'Type=notify' "$UNIT"
check "the unit reloads through $SBIN/aiccuctl (its exit status counts)" \
	grep -qx "ExecReload=$SBIN/aiccuctl reload" "$UNIT"
check "aiccud-wait-online.service runs $SBIN/aiccuctl wait" \
	grep -qx "ExecStart=$SBIN/aiccuctl wait --all --timeout 120" \
	"$DEST$(installed /systemd/system/aiccud-wait-online.service)"
check "aiccud-metrics.service runs $SBIN/aiccuctl metrics -o (node_exporter's directory)" \
	grep -qx "ExecStart=$SBIN/aiccuctl -t 10 metrics -o /var/lib/prometheus/node-exporter/aiccud.prom" \
	"$DEST$(installed /systemd/system/aiccud-metrics.service)"
check "the init script runs $SBIN/aiccud" grep -qx "DAEMON=$SBIN/aiccud" "$INIT"
check "the init script reads $CONF" grep -qx "CONFIG=$CONF" "$INIT"
check "the init script is valid sh" sh -n "$INIT"
# What is installed speaks to an installed system: no test lab, build tree
# or git (issue 22); the package's NEWS.Debian too.
NOT_INSTALLED='(^|[^[:alnum:]_])git([^[:alnum:]_]|$)|test lab|demo lab|tests/|lab\.sh|ctest|build tree|build/'
TALK=$(grep -rIliE "$NOT_INSTALLED" "$DEST" "$(dirname "$0")/../debian/NEWS" | grep -v '/\.log$')
check "no installed text file talks about the test lab, the build or git${TALK:+ (${TALK})}" test -z "$TALK"
for f in /examples/sixxs0.conf /examples/README.md; do
	check "$f says where tunnel files go (/etc/aiccud/conf.d/)" \
		grep -q "/etc/aiccud/conf.d/" "$DEST$(installed $f)"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
