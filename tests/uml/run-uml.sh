#!/bin/bash
# The kernel stage: boot Debian 12's kernel (6.1, package user-mode-linux)
# as a user process over the host's own file system, and run there, with a
# RelWithDebInfo build, the ctest tests labelled `kernel` (those whose
# outcome depends on the kernel: sit, TUN offloads, netlink details).
#
#   tests/uml/run-uml.sh BUILD-DIR [CTEST-ARGS...]    (root)
#
# The guest (tests/uml/init.sh) writes ctest's output and exit code into
# BUILD-DIR/uml (mounted writable there); this script prints the output
# and exits with ctest's code, 1 when the guest wrote none (it did not
# boot, panicked or ran out of time: its console log is printed then).
# The whole boot is bounded (AICCUD_UML_TIMEOUT seconds, default 900).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: run-uml.sh BUILD-DIR [CTEST-ARGS...]}" && pwd) || exit 2
shift
UML=${AICCUD_UML_KERNEL:-/usr/bin/linux.uml}
LIMIT=${AICCUD_UML_TIMEOUT:-900}
OUT=$BUILD/uml

[ -x "$UML" ] || { echo "run-uml.sh: no $UML (package user-mode-linux)" >&2; exit 1; }
command -v modprobe >/dev/null || { echo "run-uml.sh: no modprobe (package kmod)" >&2; exit 1; }
[ -f "$BUILD/CTestTestfile.cmake" ] || { echo "run-uml.sh: $BUILD is no ctest build dir" >&2; exit 1; }
# The guest runs what the build links against: a sanitizer build cannot run in UML.
if grep -q '^AICCUD_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
	echo "run-uml.sh: $BUILD is an AddressSanitizer build (ASan cannot run inside UML)" >&2
	exit 1
fi

# The guest mounts its own /tmp, /run, /dev and /etc over the host's.
case "$BUILD/" in
/tmp/* | /run/* | /dev/* | /etc/* | /proc/* | /sys/* | /var/tmp/*)
	echo "run-uml.sh: $BUILD is hidden inside the guest (a tmpfs there); use another build dir" >&2
	exit 1
	;;
esac
rm -rf "$OUT"
mkdir -p "$OUT/tmp"
printf '%s\n' "$@" >"$OUT/ctest-args"
# The guest's ctest reads the build's tests, then the longer time limits
# of the UML run (timeouts.cmake); the host's build stays as it is.
mkdir -p "$OUT/ctest"
cat >"$OUT/ctest/CTestTestfile.cmake" <<CMAKE
include("$BUILD/tests/CTestTestfile.cmake")
include("$HERE/timeouts.cmake")
CMAKE
# Debian 12's UML writes a guest process's FPU state back with a buffer the
# size of its own; hosts with AMX want the whole XSAVE area (see the shim).
SHIM=$OUT/ptrace_shim.so
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$SHIM" "$HERE/ptrace_shim.c" -ldl || exit 1

echo "== kernel stage: $("$UML" --version 2>/dev/null | head -1 || echo "$UML"), ctest -L kernel $*"
start=$(date +%s)
# UML keeps guest memory in a file under TMPDIR; its console goes to the log
# (never parsed for the result: that comes from the guest's files).
TMPDIR=$OUT/tmp LD_PRELOAD=$SHIM timeout -k 10 "$LIMIT" "$UML" mem=1G \
	root=/dev/root rootfstype=hostfs rootflags=/ ro init="$HERE/init.sh" \
	con=null con0=fd:0,fd:1 \
	AICCUD_UML_BUILD="$BUILD" AICCUD_UML_OUT="$OUT" \
	</dev/null >"$OUT/console.log" 2>&1
code=$?
rm -rf "$OUT/tmp"
echo "== kernel stage: UML ended after $(($(date +%s) - start)) s (exit $code)"
if [ -f "$OUT/ctest.log" ]; then
	cat "$OUT/ctest.log"
fi
if [ ! -s "$OUT/rc" ]; then
	[ "$code" -eq 124 ] && echo "run-uml.sh: UML did not finish within $LIMIT s" >&2
	echo "run-uml.sh: the guest wrote no result; its console:" >&2
	tail -n 60 "$OUT/console.log" >&2
	exit 1
fi
rc=$(cat "$OUT/rc")
case "$rc" in
'' | *[!0-9]*) echo "run-uml.sh: bad result '$rc'" >&2; exit 1 ;;
esac
exit "$rc"
