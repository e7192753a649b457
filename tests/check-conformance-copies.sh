#!/bin/sh
# The repository's copies of the captured packets (tests/data/conformance,
# which test_conformance reads) are byte-for-byte the shared originals in
# ../shared/conformance next to the checkout.  Exit 77 (ctest: skipped, not
# passed) when there is no such directory, e.g. in a clean clone.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$ROOT/../shared/conformance
COPIES=$ROOT/tests/data/conformance
if [ ! -d "$SHARED" ]; then
	echo "skip - no $SHARED next to the checkout: nothing to compare"
	exit 77
fi
rc=0 n=0
for orig in "$SHARED"/*.pcap; do
	[ -e "$orig" ] || continue
	n=$((n + 1))
	f=$(basename "$orig")
	if cmp -s "$orig" "$COPIES/$f"; then
		echo "ok   - $f is identical to the shared original"
	else
		echo "FAIL - $COPIES/$f differs from $orig (or is missing): the copies must stay identical"
		rc=1
	fi
done
if [ "$n" -eq 0 ]; then
	echo "FAIL - $SHARED holds no capture"
	rc=1
fi
exit $rc
