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
