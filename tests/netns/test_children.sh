#!/bin/bash
# Issue 20, finding 10: the children start with only the descriptors they
# need and die with the parent.  aiccud is started with two descriptors it
# did not ask for (fd 7 on a file, fd 8 on a FIFO, as a careless shell or
# init would leave them); neither reaches a worker or the TIC fetcher,
# whose descriptors above 3 are only sockets, event fds, the TUN device
# and the cache directory.  Then the parent is killed by SIGKILL while the
# fetcher waits on a stalled broker: no child outlives it.
#
# With test hooks built in (third argument 1), the fetcher is made to
# try what a compromised one would (issue 20, finding 4): an absolute and
# a ../ path on its cache directory's fd are refused, IP_HDRINCL kills it.
#
#   test_children.sh AICCUD AICCUCTL [HOOKS]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
. "$HERE/lab_tic.sh"
. "$HERE/assert.sh"

lab_test_begin children "$1" "$2"
HOOKS=${3:-0}
# Where the test hooks' escapes aim: /tmp, which the aiccud user could
# write to were it not for its sandbox; ../ all the way up from the cache directory.
ESCAPE=/tmp/aiccud-escape-abs.$$
ESCAPE_DD=/tmp/aiccud-escape-dotdot.$$
export AICCUD_TEST_ESCAPE_PATH=$ESCAPE
export AICCUD_TEST_ESCAPE_DOTDOT=../../../../../../../../../../../..$ESCAPE_DD
trap 'lab_down; lab_tic_down; rm -rf "$TMP" "$ESCAPE" "$ESCAPE_DD"' EXIT
# The first token after 16 s instead of 30 s (the limiter's shortest refill).
LAB_TIC_REFILL=16

st() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null; }
child_of() { pgrep -P "$LAB_AICCUD_PID" -f -- "$1" | head -n 1; }
dropped() { [ "$(st "$1" Seccomp)" = 2 ]; }
# fd_targets PID: "FD TARGET" per open descriptor
fd_targets() {
	local f
	for f in /proc/"$1"/fd/*; do
		printf '%s %s\n' "${f##*/}" "$(readlink "$f")"
	done
}
# unexpected_fds PID: descriptors above 3 that are none of what a child opens itself
unexpected_fds() {
	fd_targets "$1" | awk -v cache="$TMP/state/tunnels" '$1 > 3 &&
		$2 !~ /^socket:/ && $2 !~ /^anon_inode:/ && $2 != "/dev/net/tun" && $2 != cache'
}
# holds PID PATH: one of PID's descriptors is open on PATH
holds() { fd_targets "$1" | awk -v p="$2" '$2 == p { f = 1 } END { exit !f }'; }
lacks() { ! holds "$@"; }

lab_up || fail_now "lab set-up"
lab_tic_fixture "$TMP" 1
lab_tic_pki "$TMP" || fail_now "test PKI"
lab_pop_start "$TMP" "$TMP/pop-tic.json" || fail_now "PoP simulator"
lab_tic_start "$TMP" server --stall-after tunnel-show --stall-seconds 60 || fail_now "TIC server (stall)"
lab_tic_client "$TMP" 1
lab_tunnel_file "$TMP/conf.d/sixxs1.conf" 1

echo "# aiccud started with fd 7 (a file) and fd 8 (a FIFO) it never asked for"
: >"$TMP/extra"
mkfifo "$TMP/fifo"
exec 7<"$TMP/extra" 8<>"$TMP/fifo"
ip netns exec "$NS_CLI" "$AICCUD" -d -f "$TMP/aiccud.conf" 2>>"$TMP/aiccud.log" &
LAB_AICCUD_PID=$!
LAB_PIDS+=("$LAB_AICCUD_PID")
exec 7<&- 8<&-
lab_wait 10 test -S "$SOCK" || fail_now "aiccud did not start"
check "the parent itself holds the inherited fd 7" holds "$LAB_AICCUD_PID" "$TMP/extra"
check "the parent itself holds the inherited fd 8" holds "$LAB_AICCUD_PID" "$TMP/fifo"

check "the file tunnel's worker runs and has dropped its privileges" lab_wait 20 \
	sh -c "p=\$(pgrep -P $LAB_AICCUD_PID -f -- '-W sixxs1\$'); [ -n \"\$p\" ] && grep -q '^Seccomp:.*2' /proc/\$p/status"
W=$(child_of "-W sixxs1\$")
if [ -n "$W" ]; then
	check "the worker does not hold the inherited file" lacks "$W" "$TMP/extra"
	check "the worker does not hold the inherited FIFO" lacks "$W" "$TMP/fifo"
	check_eq "the worker holds nothing but its own descriptors" "" "$(unexpected_fds "$W")"
	check_eq "fd 3 of the worker is its IPC socket" socket "$(readlink "/proc/$W/fd/3" | cut -d: -f1)"
fi

echo "# the TIC fetcher, caught while the broker stalls"
check "a fetcher runs while the broker stalls" lab_wait 40 sh -c \
	"p=\$(pgrep -P $LAB_AICCUD_PID -f -- '-F\$'); [ -n \"\$p\" ] && grep -q '^Seccomp:.*2' /proc/\$p/status"
F=$(child_of "-F\$")
[ -n "$F" ] || fail_now "no fetcher process found"
check "the fetcher does not hold the inherited file" lacks "$F" "$TMP/extra"
check "the fetcher does not hold the inherited FIFO" lacks "$F" "$TMP/fifo"
check_eq "the fetcher holds nothing but its own descriptors" "" "$(unexpected_fds "$F")"
check "the fetcher has its TLS connection open" sh -c "ls -l /proc/$F/fd | grep -q socket"

logged() { grep -q -- "$1" "$TMP/aiccud.log"; }
fetcher_runs() { # OLD-PID: a dropped fetcher other than OLD-PID
	local p
	p=$(child_of "-F\$")
	[ -n "$p" ] && [ "$p" != "$1" ] && dropped "$p"
}
if [ "$HOOKS" = 1 ]; then
	echo "# the escapes of a compromised fetcher (test hooks)"
	kill -s RTMIN+2 "$F"
	check "an absolute path on the cache directory's fd is refused" lab_wait 10 \
		logged "test hook: openat(cache dir, absolute path, O_CREAT): refused"
	check "and created nothing" test ! -e "$ESCAPE"
	kill -s RTMIN+3 "$F"
	check "a ../ path on the cache directory's fd is refused" lab_wait 10 \
		logged 'test hook: openat(cache dir, "../" path, O_CREAT): refused'
	check "and created nothing" test ! -e "$ESCAPE_DD"
	check "the fetcher lives on after refused calls" kill -0 "$F"
	kill -s RTMIN+1 "$F"
	check "IP_HDRINCL kills the fetcher" lab_wait 10 sh -c "! kill -0 $F"
	check "the log says so" lab_wait 10 logged "TIC fetcher killed by signal 31"
	check_absent "IP_HDRINCL was never set" 'setsockopt\(IP_HDRINCL\): done' "$TMP/aiccud.log"
	ctl start sixxs0 --no-wait >/dev/null 2>&1
	check "a new fetcher runs with the next token" lab_wait 40 fetcher_runs "$F"
	F=$(child_of "-F\$")
fi

echo "# kill -9 of the parent during the fetch"
W=$(child_of "-W sixxs1\$")
kill -KILL "$LAB_AICCUD_PID"
check "the parent is gone" lab_wait 5 sh -c "! kill -0 $LAB_AICCUD_PID"
[ -n "$F" ] && check "the fetcher does not outlive the parent" lab_wait 5 sh -c "! kill -0 $F"
[ -n "$W" ] && check "the worker does not outlive the parent" lab_wait 5 sh -c "! kill -0 $W"
finish
