#!/bin/bash
# Status and log say why a TIC tunnel waits (issue 11): a fresh install's
# first token (why the bucket starts empty, with a countdown that counts
# down), then a state directory the grant cannot be saved in (a full
# file system: no TIC connection until it can), then the tunnel comes up
# once there is space again.
#
#   test_wait_reasons.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin wait "$1" "$2"
cleanup() {
	lab_down
	lab_tic_down
	mountpoint -q "$TMP/state" && umount "$TMP/state"
	rm -rf "$TMP"
}
trap cleanup EXIT

connects() { tic_count "$TMP/tic.log" connect; }
below() { awk -v a="$(field sixxs0 wait_s)" -v b="$1" 'BEGIN { exit !(a != "" && a < b) }'; }
reason_has() { field sixxs0 reason | grep -q "$1"; }
is_up() { [ "$(field sixxs0 state)" = up ]; }

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 1
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_start "$TMP" server || fail_now "TIC server"
lab_tic_client "$TMP" 1
# A small file system of its own for the state directory, to fill later.
mount -t tmpfs -o size=256k,mode=0700 aiccud-wait-state "$TMP/state" || fail_now "tmpfs"

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$TMP/run/aiccud.sock" || fail_now "aiccud start"
lab_wait 5 reason_has "next in" || true
reason=$(field sixxs0 reason)
echo "     status: $reason"
check_eq "sixxs0 waits" waiting "$(field sixxs0 state)"
check "status says it waits for the first token of a fresh install" \
	grep -q '^waiting for a TIC connection token (next in [0-9]* s): a fresh install' <<<"$reason"
check "... and why the bucket starts empty" \
	grep -q 'starts empty (restarting aiccud in a loop can never connect more often than the broker allows)' <<<"$reason"
w1=$(field sixxs0 wait_s)
check "status --json gives the seconds left (wait_s, 20..30)" \
	awk -v w="$w1" 'BEGIN { exit !(w > 20 && w <= 30) }'
check "the countdown counts down (status asked again)" lab_wait 10 below "$(awk -v w="$w1" 'BEGIN { print w - 1.5 }')"
check "aiccuctl status prints the reason with its countdown" \
	bash -c "ip netns exec '$NS_CLI' '$AICCUCTL' -s '$TMP/run/aiccud.sock' status | grep -Eq '^sixxs0: waiting: waiting for a TIC connection token \(next in [0-9]+ s\): a fresh install'"
check "the log says the same once" \
	grep -q 'sixxs0: waiting for a TIC connection token (next in [0-9]* s): a fresh install' "$TMP/aiccud.log"
check_eq "no TIC connection yet" 0 "$(connects)"

# The state directory fills up before the token is due: the grant cannot
# be saved, so there is no connection, and status says why.
dd if=/dev/zero of="$TMP/state/fill" bs=4k 2>/dev/null
check "the state file system is full" bash -c "! echo x >'$TMP/state/probe' 2>/dev/null"
check "status says the limiter state cannot be written (within the token wait)" \
	lab_wait 45 reason_has "cannot write the limiter state .*No space left on device"
echo "     status: $(field sixxs0 reason)"
check "... with the next try's countdown" reason_has "next try in [0-9]* s"
check "the log says so" grep -q "limiter: cannot save .*No space left on device; not connecting to TIC" "$TMP/aiccud.log"
check_eq "no TIC connection while the grant is not saved" 0 "$(connects)"

rm -f "$TMP/state/fill"
check "with space again, sixxs0 comes up" lab_wait 60 is_up
check_eq "after exactly one TIC connection" 1 "$(connects)"
check "status no longer speaks of a fresh install" bash -c "! ip netns exec '$NS_CLI' '$AICCUCTL' -s '$TMP/run/aiccud.sock' status sixxs0 | grep -q 'fresh install'"
finish
