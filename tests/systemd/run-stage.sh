#!/bin/bash
# The systemd stage: the Debian package booted under systemd in a container.
#
#   run-stage.sh [SOURCE-DIR] [--deb DEB]
#
# Builds the .deb from SOURCE-DIR (default: this checkout) with
# dpkg-buildpackage in a copy (as tests/package/test_deb.sh does), or takes
# DEB as it is; makes a Debian 12 root (image.sh: debootstrap, cached per
# machine); boots it with systemd-nspawn -b in a network namespace of the
# test's own, with the broker simulator (TIC server and PoP) in another
# namespace behind a veth; installs the package inside with dpkg -i after
# putting an AICCU /etc/aiccu.conf in place, and runs checks.sh against the
# booted system.  Every check prints PASS or FAIL with its evidence; the
# stage fails if any fails.
#
# Everything runs in a private mount namespace (unshare -m): nspawn needs a
# tmpfs over /run/systemd/nspawn (this machine's /run is no tmpfs, and
# nspawn refuses to clean it), and the namespaces' mounts go with it.  On
# any exit the container is powered off (then its nspawn and init are
# killed by PID if they outlive a bounded wait), the simulator stopped and
# the namespaces and the unpacked root removed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NETNS=$HERE/../netns

if [ "${1:-}" != --inner ]; then
	SRC=$HERE/../..
	DEB=
	while [ $# -gt 0 ]; do
		case "$1" in
		--deb) DEB=$(realpath "$2"); shift 2 ;;
		*) SRC=$1; shift ;;
		esac
	done
	SRC=$(cd "$SRC" && pwd)
	T0=$(date +%s)
	TMP=$(mktemp -d /var/tmp/aiccud-systemd.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	if [ -z "$DEB" ]; then
		# A copy: dpkg-buildpackage writes ../*.deb and debian/ build trees.
		mkdir "$TMP/src"
		if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
			(cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$TMP/src")
		else
			(cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -C "$TMP/src" -xf -
		fi
		echo "# building the package (dpkg-buildpackage -b -us -uc)"
		if ! (cd "$TMP/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" timeout 900 dpkg-buildpackage -b -us -uc) \
			>"$TMP/build.log" 2>&1; then
			tail -n 40 "$TMP/build.log"
			echo "FAIL - dpkg-buildpackage -b -us -uc"
			exit 1
		fi
		DEB=$(ls "$TMP"/aiccud_*_"$(dpkg --print-architecture)".deb)
		rm -rf "$TMP/src"
	fi
	echo "# package: $DEB ($(($(date +%s) - T0)) s)"
	mkdir "$TMP/root"
	bash "$HERE/image.sh" "$TMP/root" "$DEB" || { echo "FAIL - the container's root (image.sh)"; exit 1; }
	echo "# root ready ($(($(date +%s) - T0)) s)"
	# In the background, so that a signal to this script reaches the inner
	# part, whose EXIT trap powers the container off.
	unshare --mount --propagation private bash "$0" --inner "$DEB" "$TMP" &
	INNER=$!
	trap 'kill -TERM "$INNER" 2>/dev/null; wait "$INNER"; rm -rf "$TMP"; exit 143' INT TERM HUP
	wait "$INNER"
	rc=$?
	echo "# systemd stage: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - T0)) s"
	exit $rc
fi

# ---- inner part: in a mount namespace of its own (see above)

DEB=$2
TMP=$3
ROOTFS=$TMP/root
# No user of the host is needed: the package makes its own in the container.
LAB_USER=nobody
. "$NETNS/lab.sh"
. "$NETNS/lab_tic.sh"
. "$HERE/container.sh"

cleanup() {
	ct_down
	lab_down
	rm -rf "$ROOTFS"
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

CHECK_PASS=0
CHECK_FAIL=0
FAILED=()
# pass|fail WHAT EVIDENCE
pass() {
	echo "PASS - $1${2:+: $2}"
	CHECK_PASS=$((CHECK_PASS + 1))
}
fail() {
	echo "FAIL - $1${2:+: $2}"
	CHECK_FAIL=$((CHECK_FAIL + 1))
	FAILED+=("$1")
}
# verdict WHAT EVIDENCE CMD...: PASS when CMD succeeds.
verdict() {
	local what=$1 ev=$2
	shift 2
	if "$@" >/dev/null 2>&1; then pass "$what" "$ev"; else fail "$what" "$ev"; fi
}
fatal_stage() {
	fail "$1 (the stage cannot go on)" "${2:-}"
	summary
}
summary() {
	echo "# $CHECK_PASS passed, $CHECK_FAIL failed"
	for f in "${FAILED[@]}"; do echo "#   failed: $f"; done
	[ "$CHECK_FAIL" -eq 0 ]
	exit $?
}

# The lab: client namespace (the container's), PoP namespace with the
# simulator, an Internet host behind it (tests/netns/lab.sh).
lab_up || fatal_stage "the namespaces (lab_up)"
lab_tic_pki "$TMP" || fatal_stage "the test CA (mkca.sh)"
lab_tic_fixture "$TMP" 1
# The PoP serves the TIC tunnel T10001 (2001:db8:1::/64) and the file
# tunnel T10002 of conf.d/sixxs1.conf (2001:db8:b::/64).
python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
pop = json.load(open(d + "/pop-tic.json"))
pop["tunnels"].append({"id": "T10002", "type": "ayiya", "password": "demo-secret-sixxs1",
    "ipv6_pop": "2001:db8:b::1", "ipv6_client": "2001:db8:b::2", "prefix_len": 64,
    "ifname": "pop1", "mtu": 1280, "routed": []})
json.dump(pop, open(d + "/pop-stage.json", "w"), indent=1)
PY
lab_tic_start "$TMP" server || { cat "$TMP/tic.log" 2>/dev/null; ls "$TMP" "$TMP/pki"; fatal_stage "the TIC simulator"; }
lab_pop_start "$TMP" "$TMP/pop-stage.json" || fatal_stage "the PoP simulator"

ct_up "$ROOTFS" "$NS_CLI" "$TMP/console.log" || {
	tail -n 40 "$TMP/console.log"
	fatal_stage "booting the container" "$CT_WHY"
}
pass "the container boots with systemd" "is-system-running: $CT_STATE after $CT_BOOT_MS ms, init PID $CT_PID"

. "$HERE/checks.sh"
summary
