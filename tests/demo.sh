#!/bin/bash
# The demo: a namespace lab with the simulated broker PoP, aiccud with the
# two example tunnels of conf.d/, its status, a ping through each tunnel,
# and the lab torn down again.   demo.sh BUILD-DIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../build}" && pwd)
. "$HERE/netns/lab.sh"
TMP=$(mktemp -d /tmp/aiccud-demo.XXXXXX)
trap 'lab_down; rm -rf "$TMP"' EXIT

say() { printf '\n== %s\n' "$*"; }
ctl() { lab_in "$NS_CLI" "$BUILD/supervisor/aiccuctl" -s "$TMP/run/aiccud.sock" "$@"; }

say "lab: namespaces $NS_POP (PoP + ISP), $NS_CLI (aiccud), $NS_NET (an Internet host)"
lab_up || exit 1
lab_pop_start "$TMP" || exit 1
lab_client_conf "$TMP" "$HERE/../conf.d"

say "aiccud -d -f $TMP/aiccud.conf (conf.d: $(ls "$TMP/conf.d" | tr '\n' ' '))"
ip netns exec "$NS_CLI" "$BUILD/supervisor/aiccud" -d -f "$TMP/aiccud.conf" 2> >(sed -u 's/^/   aiccud| /') &
LAB_PIDS=("$!" "${LAB_PIDS[@]}")
up() { ctl status "$1" --json 2>/dev/null | grep -q '"state": "up"'; }
lab_wait 15 up sixxs0 && lab_wait 15 up sixxs1 || echo "tunnels did not come up"

say "aiccuctl status"
ctl status
say "the client's rules and tables (installed by aiccud)"
ip -n "$NS_CLI" -6 rule show
ip -n "$NS_CLI" -6 route show table 200
ip -n "$NS_CLI" -6 route show table 201
for a in a b; do
	say "ping from the Internet host to 2001:db8:$a::2 (replies must come back through the tunnel)"
	lab_in "$NS_NET" ping -6 -c 3 -i 0.3 -W 2 "2001:db8:$a::2"
	say "ping from 2001:db8:$a::2 to the Internet host (leaves through the tunnel)"
	lab_in "$NS_CLI" ping -6 -c 3 -i 0.3 -W 2 -I "2001:db8:$a::2" 2001:db8:eeee::2
done
say "aiccuctl status after the pings"
ctl status
say "tearing the lab down"
lab_down

say "what next: aiccud on this host, with your broker's tunnels"
cat <<'EOF'
1. Install it, as the Debian package (it takes the aiccu package's place):
       apt-get install --no-install-recommends debhelper dpkg-dev
       dpkg-buildpackage -b -us -uc && dpkg -i ../aiccud_*_amd64.deb
   or without a package:
       cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build && cmake --install build
2. Put the broker account in /etc/aiccud/aiccud.conf ([tic] username, password)
   and one file per tunnel in /etc/aiccud/conf.d/, mode 0600, for example
   /etc/aiccud/conf.d/sixxs0.conf:
       [tunnel]
       interface = sixxs0
       id = T12345
   (an AICCU set-up: aiccuctl import-aiccu -o /etc/aiccud/conf.d/sixxs.conf /etc/aiccu.conf;
   tunnels without TIC: the examples in /usr/share/doc/aiccud/examples/).
3. Check it, start it, look:
       aiccud -n                   every problem as file:line: message
       systemctl restart aiccud    (or /etc/init.d/aiccud restart)
       aiccuctl status
More in README.md, aiccud.conf(5) and aiccuctl(8).
EOF
