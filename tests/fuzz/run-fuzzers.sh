#!/bin/bash
# Build the libFuzzer targets with clang and run each for a while (CI step).
#
#   tests/fuzz/run-fuzzers.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default $FUZZ_SECONDS or 60); two targets run at a
# time.  Each starts from its seed corpus in tests/fuzz/corpus/<target>/,
# copied so the repository is not written.  Exits non-zero when a target
# finds a crash, a leak or a failed property; the input is kept under the
# build directory's fuzz-artifacts/ and named in the output.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-${FUZZ_SECONDS:-60}}
shift || true
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
JOBS=2

CC=clang cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug >/dev/null
if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	mapfile -t TARGETS < <(cd "$ROOT/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi
cmake --build "$BUILD" -j2 --target "${TARGETS[@]}"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ART=$BUILD/fuzz-artifacts
mkdir -p "$ART"

run_one() { # TARGET: run it, 0 when nothing was found
	local t=$1 seeds=$ROOT/tests/fuzz/corpus/$1
	mkdir -p "$WORK/$t"
	[ -d "$seeds" ] && cp "$seeds"/* "$WORK/$t"/ 2>/dev/null || true
	if "$BUILD/tests/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$ART/$t-" "$WORK/$t" >"$WORK/$t.log" 2>&1; then
		echo "fuzz: $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$t.log" |
			awk '{print $2}') runs in ${SECONDS_EACH} s, nothing found"
		return 0
	fi
	echo "fuzz: $t: FINDING (see $ART/$t-*)" >&2
	tail -n 40 "$WORK/$t.log" >&2
	return 1
}

fail=0
pids=()
for t in "${TARGETS[@]}"; do
	run_one "$t" &
	pids+=($!)
	if [ ${#pids[@]} -ge $JOBS ]; then
		wait "${pids[0]}" || fail=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || fail=1
done
exit $fail
