#!/bin/sh
# The systemd unit as configured for installation (BUILD/dist/aiccud.service):
# systemd-analyze security --offline=yes must rate its overall exposure 3.0
# or less, and systemd-analyze verify must accept it and
# aiccud-wait-online.service beside it (verify needs the binaries they run
# to exist: copies name the ones just built), and aiccud-metrics.service
# (exposure 3.0 or less too) with its timer.
# Its CapabilityBoundingSet must be exactly the parent's capabilities
# (parent_caps in supervisor/privparent.c) plus those it needs at start only
# (CAP_CHOWN, CAP_FOWNER: the tunnel cache directory, see privsep.c).
#   check-unit.sh UNIT AICCUD-BINARY AICCUCTL-BINARY
# Exits 77 (skipped) only when systemd-analyze is not installed.
set -u
UNIT=$1
BIN=$2
CTL=$3
WAIT_UNIT=$(dirname "$UNIT")/aiccud-wait-online.service
METRICS_UNIT=$(dirname "$UNIT")/aiccud-metrics.service
METRICS_TIMER=$(cd "$(dirname "$0")/../dist" && pwd)/aiccud-metrics.timer
MAX=3.0
command -v systemd-analyze >/dev/null 2>&1 || { echo "systemd-analyze not installed; skipped"; exit 77; }
fail=0
out=$(systemd-analyze security --offline=yes "$UNIT" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
	printf '%s\n' "$out"
	echo "FAIL - no exposure level in systemd-analyze's output"
	exit 1
fi
if awk -v s="$score" -v m="$MAX" 'BEGIN { exit !(s <= m) }'; then
	echo "ok   - overall exposure $score (at most $MAX)"
else
	printf '%s\n' "$out" | grep -v '✓'
	echo "FAIL - overall exposure $score is above $MAX"
	fail=1
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
want=$( (sed -n '/static const int parent_caps\[\]/,/};/p' "$SRC/supervisor/privparent.c" |
	grep -o 'CAP_[A-Z_]*'; echo CAP_CHOWN; echo CAP_FOWNER) | sort -u | tr '\n' ' ')
have=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
if [ -n "$have" ] && [ "$want" = "$have" ]; then
	echo "ok   - CapabilityBoundingSet is the parent's set plus CHOWN and FOWNER: $have"
else
	echo "FAIL - CapabilityBoundingSet: want '$want', have '$have'"
	fail=1
fi
TMP=$(mktemp -d /tmp/aiccud-unit.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
sed -e "s|^ExecStart=[^ ]*/aiccud |ExecStart=$BIN |" \
	-e "s|^ExecReload=[^ ]*/aiccuctl |ExecReload=$CTL |" "$UNIT" >"$TMP/aiccud.service"
sed "s|^ExecStart=[^ ]*/aiccuctl |ExecStart=$CTL |" "$WAIT_UNIT" >"$TMP/aiccud-wait-online.service"
if grep -q "^ExecStart=$BIN " "$TMP/aiccud.service" &&
	grep -q "^ExecReload=$CTL " "$TMP/aiccud.service" &&
	grep -q "^ExecStart=$CTL " "$TMP/aiccud-wait-online.service" &&
	(cd "$TMP" && systemd-analyze verify --man=no ./aiccud.service \
		./aiccud-wait-online.service) >"$TMP/verify.log" 2>&1 &&
	[ -f "$TMP/verify.log" ] && [ ! -s "$TMP/verify.log" ]; then
	echo "ok   - systemd-analyze verify accepts the unit and aiccud-wait-online.service"
else
	cat "$TMP/verify.log"
	echo "FAIL - systemd-analyze verify"
	fail=1
fi
# The metrics unit (node_exporter's textfile collector) and its timer.
mscore=$(systemd-analyze security --offline=yes "$METRICS_UNIT" 2>&1 |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$mscore" ] && awk -v s="$mscore" -v m="$MAX" 'BEGIN { exit !(s <= m) }'; then
	echo "ok   - aiccud-metrics.service: overall exposure $mscore (at most $MAX)"
else
	echo "FAIL - aiccud-metrics.service: overall exposure '$mscore' is not at most $MAX"
	fail=1
fi
sed "s|^ExecStart=[^ ]*/aiccuctl |ExecStart=$CTL |" "$METRICS_UNIT" >"$TMP/aiccud-metrics.service"
cp "$METRICS_TIMER" "$TMP/aiccud-metrics.timer"
if grep -q "^ExecStart=$CTL .*metrics -o /var/lib/prometheus/node-exporter/aiccud.prom$" \
	"$TMP/aiccud-metrics.service" &&
	(cd "$TMP" && systemd-analyze verify --man=no ./aiccud-metrics.service \
		./aiccud-metrics.timer) >"$TMP/verify-metrics.log" 2>&1 &&
	[ ! -s "$TMP/verify-metrics.log" ]; then
	echo "ok   - systemd-analyze verify accepts aiccud-metrics.service and its timer"
else
	cat "$TMP/verify-metrics.log"
	echo "FAIL - systemd-analyze verify of aiccud-metrics.service and .timer"
	fail=1
fi
exit $fail
