#!/bin/sh
# Fails when a man page in dist/ makes man(1)/groff print any warning.
cd "$(dirname "$0")/.." || exit 1
command -v man >/dev/null || { echo "check-man: man is not installed (man-db)"; exit 1; }
rc=0
for page in dist/*.[1-8]; do
	out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		echo "FAIL - $page:"
		echo "$out"
		rc=1
	else
		echo "ok   - $page renders without warnings"
	fi
done
exit $rc
