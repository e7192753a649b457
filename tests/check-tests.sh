#!/bin/bash
# Lint over the tests' shell scripts: checks that pass or fail by accident.
#  1. `ip` output grepped for "proto 157" must come from `ip -N` (numeric):
#     with the package's rt_protos.d name installed, plain `ip` prints
#     "proto aiccud", so a "nothing left" grep passes vacuously.  A line
#     that greps for proto 157 must run `ip -N` itself or go through a
#     function whose definition runs `ip -N` (in the same file or lab.sh).
#  2. No negative grep of a file (`! grep ... FILE`): a missing file makes
#     it pass.  Use check_absent (tests/netns/assert.sh), which fails when
#     the file does not exist.  A grep fed by a here-string (`<<<`) reads
#     no file and is not one.
# Prints every offending line as file:line: text; exit 1 if any.
#
#   check-tests.sh [FILE...]   (default: every *.sh under tests/)
set -u
cd "$(dirname "$0")/.." || exit 1
if [ $# -eq 0 ]; then
	mapfile -t files < <(find tests -name '*.sh' ! -name check-tests.sh | sort)
else
	files=("$@")
fi
# Functions that run `ip -N`: NAME() { ... ip -N ... }
numeric_fns() {
	grep -hoE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*\(\)[[:space:]]*\{.*\bip -N\b' "$@" |
		sed -E 's/^[[:space:]]*([A-Za-z0-9_]+)\(\).*/\1/' | sort -u
}
rc=0
for f in "${files[@]}"; do
	fns=$(numeric_fns "$f" tests/netns/lab.sh | paste -sd'|')
	# 1: a grep for "proto 157" (a filter argument "proto 157" to ip itself is numeric)
	while IFS= read -r hit; do
		line=${hit#*:}
		if printf '%s\n' "$line" | grep -qE '\bip -N\b' ||
			{ [ -n "$fns" ] && printf '%s\n' "$line" | grep -qE "(^|[^A-Za-z0-9_])($fns)([^A-Za-z0-9_]|\$)"; }; then
			continue
		fi
		echo "$f:${hit%%:*}: greps ip output for proto 157 without ip -N: $line"
		rc=1
	done < <(grep -nE "grep[^|]*proto 157" "$f" | grep -vE '^[0-9]+:[[:space:]]*#')
	# 2: a negative grep that reads a file (not one fed by a pipe)
	while IFS= read -r hit; do
		echo "$f:${hit%%:*}: negative grep of a file (passes when it is missing; use check_absent): ${hit#*:}"
		rc=1
	done < <(grep -nE '(^|[^|[:space:]][[:space:]]*|^[[:space:]]*|[;&(]|sh -c ["'"'"'])![[:space:]]*grep\b' "$f" |
		grep -vE '\|[[:space:]]*![[:space:]]*grep' | grep -vE '^[0-9]+:[[:space:]]*#' |
		perl -ne 'print if /!\s*grep\b(?![^;&|]*<<<)/')
done
[ $rc -eq 0 ] && echo "ok   - ${#files[@]} test scripts: no proto 157 grep without ip -N, no negative grep of a file"
exit $rc
