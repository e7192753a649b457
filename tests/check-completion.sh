#!/bin/bash
# The bash completion of aiccuctl (dist/aiccuctl.bash-completion), run as
# bash runs it: source the file, set COMP_WORDS and COMP_CWORD, call the
# function, read COMPREPLY.  The commands come from the real aiccuctl
# (--commands); tunnel names from a stand-in aiccud (a Python listener on
# a socket of our own, answering status with two tunnels) and from
# nothing at all when no aiccud answers.
#   check-completion.sh AICCUCTL COMPLETION-FILE
set -u
AICCUCTL=$1
FILE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/netns/assert.sh"
TMP=$(mktemp -d /tmp/aiccud-completion.XXXXXX)
FAKE_PID=
trap '[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# aiccuctl as the completion finds it: on PATH.
mkdir "$TMP/bin"
ln -s "$(readlink -f "$AICCUCTL")" "$TMP/bin/aiccuctl"
export PATH="$TMP/bin:$PATH"
unset AICCUD_SOCKET
. "$FILE"

# complete WORD...: COMPREPLY for the command line WORDS, the last being the
# word under the cursor; sorted, one line.
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_aiccuctl 2>"$TMP/stderr"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

echo "--- commands (from aiccuctl --commands)"
check_eq "aiccuctl <TAB>: every command of the table" \
	"$("$AICCUCTL" --commands | sort | tr '\n' ' ' | sed 's/ $//')" "$(complete_line aiccuctl '')"
check "... which include monitor, status and stop" \
	sh -c "aiccuctl --commands | grep -qx monitor && aiccuctl --commands | grep -qx status && aiccuctl --commands | grep -qx stop"
check_eq "aiccuctl st<TAB>" "start status stop" "$(complete_line aiccuctl st)"
check_eq "aiccuctl mon<TAB>" "monitor" "$(complete_line aiccuctl mon)"
check_eq "aiccuctl --json re<TAB> (after an option)" "refresh reload restart" \
	"$(complete_line aiccuctl --json re)"
check_eq "aiccuctl help lim<TAB>" "limiter" "$(complete_line aiccuctl help lim)"
check_eq "aiccuctl log-level w<TAB>" "warning" "$(complete_line aiccuctl log-level w)"

echo "--- options (from the command's usage line)"
out=$(complete_line aiccuctl stop --)
check "aiccuctl stop --<TAB> offers --no-wait and --all" \
	sh -c "echo '$out' | grep -qw -- --no-wait && echo '$out' | grep -qw -- --all"
check "... and the global --json" sh -c "echo '$out' | grep -qw -- --json"
out=$(complete_line aiccuctl wait --t)
check_eq "aiccuctl wait --t<TAB>" "--timeout" "$out"

echo "--- tunnel names: no aiccud"
check_eq "aiccuctl -s MISSING stop <TAB>: nothing" "" \
	"$(complete_line aiccuctl -s "$TMP/none.sock" stop '')"
check "... and nothing on the terminal" test ! -s "$TMP/stderr"

echo "--- tunnel names: from aiccud (a stand-in on $TMP/fake.sock)"
python3 - "$TMP/fake.sock" <<'PY' &
import json, os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
s.settimeout(60)
while True:
    c, _ = s.accept()
    c.settimeout(10)
    req = b""
    while not req.endswith(b"\n"):
        chunk = c.recv(512)
        if not chunk:
            break
        req += chunk
    words = req.decode().split()
    if words[:1] == ["status"]:
        reply = {"ok": True, "version": 1,
                 "tunnels": [{"name": "sixxs0", "state": "up"},
                             {"name": "sixxs1", "state": "failed"},
                             {"name": "bad name", "state": "up"}]}
    else:
        reply = {"ok": False, "code": "usage", "error": "only status here", "version": 1}
    c.sendall((json.dumps(reply) + "\n").encode())
    c.close()
PY
FAKE_PID=$!
listening() { test -S "$TMP/fake.sock"; }
lab_wait_s() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}
check "the stand-in listens" lab_wait_s listening
check_eq "aiccuctl -s SOCK stop <TAB>: the tunnels (a name that is no word left out)" \
	"sixxs0 sixxs1" "$(complete_line aiccuctl -s "$TMP/fake.sock" stop '')"
check_eq "aiccuctl -s SOCK status sixxs1<TAB>: a failed tunnel is offered too" \
	"sixxs1" "$(complete_line aiccuctl -s "$TMP/fake.sock" status sixxs1)"
AICCUD_SOCKET=$TMP/fake.sock
export AICCUD_SOCKET
check_eq "AICCUD_SOCKET set: aiccuctl restart s<TAB>" "sixxs0 sixxs1" \
	"$(complete_line aiccuctl restart s)"
check_eq "aiccuctl --tunnel-names exits 0 with names" 0 \
	"$(aiccuctl --tunnel-names >/dev/null 2>&1; echo $?)"
unset AICCUD_SOCKET
check_eq "aiccuctl --tunnel-names with aiccud down: exit 3 (as status)" 3 \
	"$(aiccuctl -s "$TMP/none.sock" --tunnel-names >/dev/null 2>&1; echo $?)"
finish
