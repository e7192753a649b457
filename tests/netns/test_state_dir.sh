#!/bin/bash
# Issue 12, item 6: a state directory that is read-only or full shows its
# real reason in status (not only "waiting for a TIC connection token").
# The state directory is a small tmpfs of the test's own, mounted read-only,
# then read-write and filled up.
#
#   test_state_dir.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin statedir "$1" "$2"
cleanup() {
	lab_down
	lab_tic_down
	mountpoint -q "$TMP/state" && umount "$TMP/state"
	rm -rf "$TMP"
}
trap cleanup EXIT
stop_aiccud() {
	kill -TERM "$LAB_AICCUD_PID"
	lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
}

lab_up || fail_now "lab set-up"
lab_tic_client "$TMP" 1
mount -t tmpfs -o size=64k,mode=0700,ro tmpfs "$TMP/state" || fail_now "tmpfs"

says() { field sixxs0 reason | grep -q "$1"; }
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$TMP/run/aiccud.sock" || fail_now "aiccud start"
check "read-only: status names the limiter state and the error" \
	lab_wait 10 says "cannot write the limiter state $TMP/state/limiter: Read-only file system"
echo "# reason: $(field sixxs0 reason)"
check_eq "and the tunnel waits" waiting "$(field sixxs0 state)"
stop_aiccud

mount -o remount,rw "$TMP/state"
dd if=/dev/zero of="$TMP/state/filler" bs=4k 2>/dev/null
lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$TMP/run/aiccud.sock" || fail_now "aiccud restart"
check "full: status says no space is left" lab_wait 10 says "No space left on device"
echo "# reason: $(field sixxs0 reason)"
stop_aiccud
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
