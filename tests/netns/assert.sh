# Minimal assertions for the shell integration tests (sourced).
# Each check prints ok/FAIL; finish prints "N passed, N failed" and exits.
ASSERT_PASS=0
ASSERT_FAIL=0

check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok   - $what"
		ASSERT_PASS=$((ASSERT_PASS + 1))
	else
		echo "FAIL - $what"
		ASSERT_FAIL=$((ASSERT_FAIL + 1))
	fi
}

check_eq() {
	local what=$1 want=$2 got=$3
	if [ "$want" = "$got" ]; then
		echo "ok   - $what"
		ASSERT_PASS=$((ASSERT_PASS + 1))
	else
		echo "FAIL - $what: want '$want', got '$got'"
		ASSERT_FAIL=$((ASSERT_FAIL + 1))
	fi
}

# check_absent WHAT REGEX FILE...: every FILE exists and no line of them
# matches REGEX (grep -E).  A missing file is a failure, never a pass.
check_absent() {
	local what=$1 re=$2 f
	shift 2
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "FAIL - $what: $f does not exist"
			ASSERT_FAIL=$((ASSERT_FAIL + 1))
			return
		fi
	done
	if grep -Eq -- "$re" "$@"; then
		echo "FAIL - $what: found"
		grep -E -m 5 -- "$re" "$@" | sed 's/^/#   /'
		ASSERT_FAIL=$((ASSERT_FAIL + 1))
	else
		echo "ok   - $what"
		ASSERT_PASS=$((ASSERT_PASS + 1))
	fi
}

fail_now() {
	echo "FAIL - $1 (cannot go on)"
	ASSERT_FAIL=$((ASSERT_FAIL + 1))
	finish
}

finish() {
	echo "$ASSERT_PASS passed, $ASSERT_FAIL failed"
	[ "$ASSERT_FAIL" -eq 0 ]
	exit $?
}
