#!/bin/bash
# Command-line conventions of aiccud and aiccuctl (no daemon, no root):
# --help/-h/help to stdout with exit 0, --version, usage mistakes to stderr
# with exit 2, every command in the help text and in aiccuctl(8), `aiccud -n`
# as file:line: message for every file with a correct summary, and
# `aiccuctl --json` errors as a JSON object on stdout.
#
#   check-cli.sh AICCUD AICCUCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/netns/assert.sh"
AICCUD=$1
AICCUCTL=$2
TMP=$(mktemp -d /tmp/aiccud-cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# The commands as the man page and the help must list them.
COMMANDS="status start stop restart refresh wait reload log-level limiter check-config version metrics import-aiccu help"

# run NAME PROGRAM ARGS...: exit code in $TMP/NAME.rc, output in .out/.err
run() {
	local name=$1
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
}
rc() { cat "$TMP/$1.rc"; }
empty() { [ -e "$1" ] && [ ! -s "$1" ]; }
# man_has COMMAND: aiccuctl(8) has a paragraph for it (.TP, then .B/.BR COMMAND; "\-" unescaped)
man_has() {
	sed 's/\\-/-/g' "$HERE/../dist/aiccuctl.8" |
		awk -v c="$1" 'prev == ".TP" && ($1 == ".B" || $1 == ".BR") && $2 == c { f = 1 } { prev = $0 } END { exit !f }'
}

echo "--- aiccud"
for opt in --help -h; do
	run d_help "$AICCUD" $opt
	check_eq "aiccud $opt: exit 0" 0 "$(rc d_help)"
	check "aiccud $opt: the usage on stdout" grep -q '^usage: aiccud ' "$TMP/d_help.out"
	check "aiccud $opt: nothing on stderr" empty "$TMP/d_help.err"
done
run d_ver "$AICCUD" --version
check_eq "aiccud --version: exit 0" 0 "$(rc d_ver)"
check "aiccud --version: its version" grep -Eq '^aiccud [0-9]+\.[0-9]+' "$TMP/d_ver.out"
run d_bad "$AICCUD" --frobnicate
check_eq "aiccud --frobnicate: exit 2" 2 "$(rc d_bad)"
check "... usage on stderr" grep -q '^usage: aiccud ' "$TMP/d_bad.err"

echo "--- aiccud -n"
mkdir -p "$TMP/c/conf.d"
printf '[daemon]\nstate_dir = %s/c\n' "$TMP" >"$TMP/c/aiccud.conf"
printf '[tunnel]\ninterface = sixxs0\ntic = no\ntable = 200\n\n[params]\ntype = ayiya\nipv6_local = 2001:db8:a::2\nipv6_pop = 2001:db8:a::1\nprefix_len = 64\nipv4_pop = 192.0.2.1\npassword = secret\n' >"$TMP/c/conf.d/good.conf"
printf '[tunnel]\ninterface = sixxs1\nbogus = 1\n' >"$TMP/c/conf.d/bad1.conf"
printf '[tunnel]\ninterface = sixxs2\nmtu = many\n' >"$TMP/c/conf.d/bad2.conf"
chmod 600 "$TMP"/c/aiccud.conf "$TMP"/c/conf.d/*.conf
run n_ok "$AICCUD" -n -f "$TMP/c/aiccud.conf"
check_eq "-n with two broken tunnel files: exit 1" 1 "$(rc n_ok)"
check "-n: error lines on stderr" test -s "$TMP/n_ok.err"
check "-n: every error line is file:line: message" \
	awk '!/^\/[^:]+\.conf:[0-9]+: / { bad = 1 } END { exit bad }' "$TMP/n_ok.err"
check "-n: the first broken file's error, with its line" grep -q "/bad1.conf:3: unknown key 'bogus'" "$TMP/n_ok.err"
check "-n: the second broken file too (not stopping at the first)" grep -q "/bad2.conf:3: mtu: " "$TMP/n_ok.err"
check_absent "-n: no timestamp or program prefix" '^[0-9]{2}:[0-9]{2}|aiccud:' "$TMP/n_ok.err"
check_absent "-n: the summary does not blame aiccud.conf" 'aiccud.conf: has errors' "$TMP/n_ok.out"
check "-n: the summary names the two broken files" grep -Eq 'aiccud.conf: OK; 2 of 3 tunnel file.* .*bad1.conf .*bad2.conf' "$TMP/n_ok.out"
echo "bogus line" >>"$TMP/c/aiccud.conf"
run n_main "$AICCUD" -n -f "$TMP/c/aiccud.conf"
check_eq "-n with a broken aiccud.conf: exit 1" 1 "$(rc n_main)"
check "-n: aiccud.conf's error with its line" grep -q "/aiccud.conf:3: " "$TMP/n_main.err"
check "-n: and still every tunnel file's" grep -q "/bad2.conf:3: mtu: " "$TMP/n_main.err"
check "-n: the summary says aiccud.conf has errors" grep -q 'aiccud.conf: has errors' "$TMP/n_main.out"
sed -i '$d' "$TMP/c/aiccud.conf"
rm "$TMP"/c/conf.d/bad*.conf
run n_good "$AICCUD" -n -f "$TMP/c/aiccud.conf"
check_eq "-n with everything right: exit 0" 0 "$(rc n_good)"
check "-n: nothing on stderr" empty "$TMP/n_good.err"
check "-n: OK" grep -q 'aiccud.conf: OK' "$TMP/n_good.out"

echo "--- aiccuctl"
for args in --help -h help; do
	run c_help "$AICCUCTL" $args
	check_eq "aiccuctl $args: exit 0" 0 "$(rc c_help)"
	check "aiccuctl $args: the usage on stdout" grep -q '^usage: aiccuctl ' "$TMP/c_help.out"
	check "aiccuctl $args: nothing on stderr" empty "$TMP/c_help.err"
done
for c in $COMMANDS; do
	check "aiccuctl help lists '$c'" grep -Eq "^  $c( |\$)" "$TMP/c_help.out"
	check "aiccuctl(8) describes '$c'" man_has "$c"
done
run c_one "$AICCUCTL" help refresh
check_eq "aiccuctl help refresh: exit 0" 0 "$(rc c_one)"
check "... its usage" grep -q '^usage: aiccuctl .* refresh \[--no-wait\] TUNNEL|--all' "$TMP/c_one.out"
run c_ver "$AICCUCTL" --version
check_eq "aiccuctl --version: exit 0" 0 "$(rc c_ver)"
check "aiccuctl --version: its version" grep -Eq '^aiccuctl [0-9]+\.[0-9]+' "$TMP/c_ver.out"
run c_bad "$AICCUCTL" frobnicate
check_eq "aiccuctl frobnicate: exit 2" 2 "$(rc c_bad)"
check "... says so on stderr" grep -q "unknown command 'frobnicate'" "$TMP/c_bad.err"
check "... nothing on stdout" empty "$TMP/c_bad.out"
run c_none "$AICCUCTL"
check_eq "aiccuctl without a command: exit 2" 2 "$(rc c_none)"

echo "--- aiccuctl without a daemon"
run c_down "$AICCUCTL" -s "$TMP/nosuch.sock" status
check_eq "status: exit 3 (aiccud not running)" 3 "$(rc c_down)"
check "... says so on stderr" grep -q 'aiccud is not running' "$TMP/c_down.err"
run c_json "$AICCUCTL" -s "$TMP/nosuch.sock" status --json
check_eq "status --json: exit 3" 3 "$(rc c_json)"
check_eq "status --json: a JSON error object on stdout" "False not_running" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["code"])' <"$TMP/c_json.out" 2>&1)"
finish
