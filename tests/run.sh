#!/bin/bash
# Set up a fresh Debian 12 machine (as root), build, and run.
#
#   tests/run.sh demo   build, then bring up the demo lab (simulated broker,
#                       two AYIYA tunnels), show status and pings, tear down
#   tests/run.sh test   build with AddressSanitizer/UBSan and run every test,
#                       then the kernel stage, the systemd stage and the fuzzers
#   tests/run.sh kernel the kernel stage alone: the tests labelled `kernel`
#                       (RelWithDebInfo build) on Debian 12's kernel, run as
#                       user-mode-linux (tests/uml/run-uml.sh)
#   tests/run.sh systemd  the systemd stage alone: the Debian package built
#                       from this tree, installed and run in a Debian 12
#                       container booted with systemd (tests/systemd)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-}

PACKAGES="build-essential cmake pkg-config clang-format libev-dev libinih-dev libmnl-dev
	libgnutls28-dev nettle-dev libjansson-dev libcmocka-dev gnutls-bin iproute2 iputils-ping python3
	procps util-linux man-db groff-base openssl nftables tshark iperf3 libseccomp-dev
	libcap-ng-dev debhelper dpkg-dev lintian fakeroot adduser clang libclang-rt-14-dev systemd
	user-mode-linux kmod debootstrap systemd-container prometheus ethtool linux-perf"

install_deps() {
	local missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { # DIR CMAKE-ARGS...
	local dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}

# quiet_build DIR LOG CMAKE-ARGS...: build as build() does, with every line
# of output in LOG; on failure show LOG's last lines and stop.
quiet_build() {
	local dir=$1 log=$2
	shift 2
	mkdir -p "$dir"
	echo "== building aiccud in $dir (the compiler's output goes to $log)"
	if ! { cmake -S "$ROOT" -B "$dir" "$@" && cmake --build "$dir" -j"$(nproc)"; } >"$log" 2>&1; then
		echo "== the build failed; the last 40 lines of $log:" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
	echo "== built"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: needs root (packages, network namespaces)" >&2
	exit 1
fi
case "$MODE" in
demo)
	install_deps
	quiet_build "$ROOT/build" "$ROOT/build/demo-build.log" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	exec bash "$ROOT/tests/demo.sh" "$ROOT/build"
	;;
test)
	install_deps
	# The demo's optimized build must stay warning-free too (-O2 warns more).
	build "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	# clang must compile everything with -Werror as gcc does.
	CC=clang build "$ROOT/build-clang" -DCMAKE_BUILD_TYPE=Debug
	build "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DAICCUD_SANITIZE=ON
	cd "$ROOT/build-asan"
	export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
	ctest --output-on-failure -LE 'bench|soak'
	# The kernel-dependent tests again on Debian 12's kernel (UML cannot run ASan).
	bash "$ROOT/tests/uml/run-uml.sh" "$ROOT/build"
	# The package under systemd: a Debian 12 container booted with it.
	bash "$ROOT/tests/systemd/run-stage.sh" "$ROOT"
	# libFuzzer: every target built with clang and run for a minute (FUZZ_SECONDS)
	exec bash "$ROOT/tests/fuzz/run-fuzzers.sh" "${FUZZ_SECONDS:-60}"
	;;
kernel)
	install_deps
	build "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	exec bash "$ROOT/tests/uml/run-uml.sh" "$ROOT/build"
	;;
systemd)
	install_deps
	exec bash "$ROOT/tests/systemd/run-stage.sh" "$ROOT"
	;;
*)
	echo "usage: tests/run.sh demo|test|kernel|systemd" >&2
	exit 2
	;;
esac
