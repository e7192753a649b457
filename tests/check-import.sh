#!/bin/bash
# aiccuctl import-aiccu at its edge (no daemon, no root): -d into a missing
# directory fails naming it and writes or prints nothing; a failed -d run
# leaves no partial set behind; a server given as an address is warned
# about on stderr and in the file.
#
#   check-import.sh AICCUCTL DATA-DIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/netns/assert.sh"
AICCUCTL=$1
DATA=$2/aiccu
TMP=$(mktemp -d /tmp/aiccud-import.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

run() { # NAME ARGS...: exit code in NAME.rc, output in NAME.out/.err
	local name=$1
	shift
	"$AICCUCTL" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
}
empty() { [ -e "$1" ] && [ ! -s "$1" ]; }
nothing_in() { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }

echo "--- -d into a missing directory"
run missing import-aiccu -d "$TMP/nodir" "$DATA/host_a.conf" "$DATA/host_b.conf"
check_eq "exit 1" 1 "$(cat "$TMP/missing.rc")"
check "stderr names the directory" grep -q "$TMP/nodir" "$TMP/missing.err"
check "stderr says what is wrong" grep -q "No such file or directory" "$TMP/missing.err"
check "nothing on stdout (no tunnel file dumped)" empty "$TMP/missing.out"
check_absent "no tunnel file's text anywhere" '^\[tunnel\]' "$TMP/missing.out" "$TMP/missing.err"
check_absent "does not claim to have written a file" 'wrote' "$TMP/missing.err"
check "the directory was not created" test ! -e "$TMP/nodir"
run missing_json --json import-aiccu -d "$TMP/nodir" "$DATA/host_a.conf" "$DATA/host_b.conf"
check_eq "--json: exit 1" 1 "$(cat "$TMP/missing_json.rc")"
check "--json: ok false, no text" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["ok"] is False and "text" not in json.dumps(d) else 1)' "$TMP/missing_json.out"

echo "--- -d where the second file cannot be created: the first is removed again"
mkdir "$TMP/out"
# a file of host_b's interface name is there already: it is never overwritten
b_if=$("$AICCUCTL" import-aiccu "$DATA/host_b.conf" 2>/dev/null | sed -n 's/^interface = //p')
check "host_b.conf converts to an interface" test -n "$b_if"
: >"$TMP/out/$b_if.conf"
run partial import-aiccu -d "$TMP/out" "$DATA/host_a.conf" "$DATA/host_b.conf"
check_eq "exit 1" 1 "$(cat "$TMP/partial.rc")"
check "stderr names the file it could not create" grep -q "$TMP/out/$b_if.conf" "$TMP/partial.err"
check "only the file that was there before is left" bash -c "[ \"\$(ls -A '$TMP/out')\" = '$b_if.conf' ]"
check "that file untouched" empty "$TMP/out/$b_if.conf"
check "nothing on stdout" empty "$TMP/partial.out"
check_absent "does not claim to have written a file" 'wrote' "$TMP/partial.err"

echo "--- -d that works"
rm -f "$TMP/out/$b_if.conf"
run good import-aiccu -d "$TMP/out" "$DATA/host_a.conf" "$DATA/host_b.conf"
check_eq "exit 0" 0 "$(cat "$TMP/good.rc")"
check_eq "two files" 2 "$(ls "$TMP/out" | wc -l)"
check "it says so" grep -q "wrote $TMP/out/" "$TMP/good.err"

echo "--- a server given as an address"
run ip import-aiccu "$DATA/ip_server.conf"
check_eq "exit 0 (the file loads; the warning says what to change)" 0 "$(cat "$TMP/ip.rc")"
check "stderr: certificate verification will fail" grep -q "server 192.0.2.10 is an IP address.*will fail.*ca_file" "$TMP/ip.err"
check "the file: the same warning as a comment" grep -q "^# CERTIFICATE VERIFICATION WILL FAIL" "$TMP/ip.out"
check "the file: autostart = no (AICCU's automatic false)" grep -qx "autostart = no" "$TMP/ip.out"

finish
