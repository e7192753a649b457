#!/bin/bash
# Issue 20, finding 6: a tunnel cache that cannot be written (a full disk)
# does not throw the fetched parameters away.  The cache directory is a
# small tmpfs of the test's own, filled up before aiccud starts: the TIC
# tunnel comes up on the parameters from memory, status says why they are
# not cached, and once space is freed the worker writes the cache file.
#
#   test_cache_full.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin cachefull "$1" "$2"
cleanup() {
	lab_down
	lab_tic_down
	mountpoint -q "$TMP/state/tunnels" && umount "$TMP/state/tunnels"
	rm -rf "$TMP"
}
trap cleanup EXIT
# The shortest refill the broker's rule allows: the first token after 16 s.
LAB_TIC_REFILL=16
settled() { local s; s=$(field sixxs0 state); [ "$s" = up ] || [ "$s" = failed ]; }
says() { field sixxs0 reason | grep -q "$1"; }

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 1 ayiya
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_client "$TMP" 1
lab_tic_start "$TMP" server || fail_now "TIC server"
mkdir -p "$TMP/state/tunnels"
mount -t tmpfs -o size=16k,mode=0700 tmpfs "$TMP/state/tunnels" || fail_now "tmpfs"
dd if=/dev/zero of="$TMP/state/tunnels/filler" bs=4k 2>/dev/null
check "the cache directory is full" sh -c "! echo x >'$TMP/state/tunnels/probe' 2>/dev/null"
rm -f "$TMP/state/tunnels/probe"

lab_aiccud "$AICCUD" "$TMP/aiccud.conf" "$TMP/aiccud.log"
lab_wait 10 test -S "$SOCK" || fail_now "aiccud start"
lab_wait 90 settled
check_eq "the TIC tunnel comes up although its cache cannot be written" up "$(field sixxs0 state)"
echo "# reason: $(field sixxs0 reason)"
check "status says the parameters are not cached, and why" \
	says "could not be cached (No space left on device)"
check "the fetcher's write failure is logged" \
	grep -q "cannot write the tunnel cache in .*No space left on device" "$TMP/aiccud.log"
check "it runs on the address TIC gave" test "$(field sixxs0 local)" = "2001:db8:1::2/64"
check_eq "no cache file yet" "" "$(ls "$TMP/state/tunnels" | grep -v filler)"

rm -f "$TMP/state/tunnels/filler"
# The worker retries every 5 s; 30 s leaves room for a loaded machine.
check "once space is back the worker writes the cache file" \
	lab_wait 30 test -s "$TMP/state/tunnels/T10001"
check "the file holds the fetched tunnel" grep -q "^TunnelId: T10001" "$TMP/state/tunnels/T10001"
check_eq "the file is the user's" "$LAB_USER" "$(stat -c %U "$TMP/state/tunnels/T10001")"
check_eq "mode 0600" 600 "$(stat -c %a "$TMP/state/tunnels/T10001")"
check "the log says so" grep -q "fetched parameters of T10001 are in the tunnel cache now" \
	"$TMP/aiccud.log"
kill -TERM "$LAB_AICCUD_PID"
lab_wait 15 sh -c "! kill -0 $LAB_AICCUD_PID 2>/dev/null"
check "the log exists" test -s "$TMP/aiccud.log"
check_absent "no sanitizer report" Sanitizer "$TMP/aiccud.log"
finish
