#!/bin/bash
# The Debian 12 root the systemd stage boots: debootstrap's minbase of
# bookworm plus systemd, D-Bus, iproute2, procps and the runtime
# dependencies of the package under test (so that `dpkg -i` inside the
# container, which has no route to a mirror, finds them installed).
#
#   image.sh ROOT-DIR DEB
#
# Fills the empty directory ROOT-DIR.  The root is built once per machine
# and package list and kept as a tar in $AICCUD_TEST_CACHE (default
# /var/cache/aiccud-test); a later run unpacks that tar (seconds) instead
# of running debootstrap again (minutes).  The mirror is the one apt uses
# on this machine (/etc/apt/sources.list*), deb.debian.org otherwise.
set -euo pipefail
ROOTFS=$1
DEB=$2
CACHE=${AICCUD_TEST_CACHE:-/var/cache/aiccud-test}
# Bumped whenever what the root holds besides the packages changes.
FORMAT=1

# The runtime dependencies of the .deb: package names of its Depends and
# Pre-Depends, the first of each set of alternatives, without versions.
deb_depends() {
	{
		dpkg-deb -f "$1" Depends
		echo ,
		dpkg-deb -f "$1" Pre-Depends
	} | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | sed '/^$/d'
}

# The first Debian mirror apt uses here (one-line or deb822 sources).
mirror() {
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' |
		grep -v -- '-security' | grep '/debian/*$' | head -n 1 || true)
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' |
			grep -v -- '-security' | grep '/debian/*$' | head -n 1 || true)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

PKGS=$( (printf '%s\n' systemd dbus iproute2 procps; deb_depends "$DEB") | sort -u | tr '\n' ' ')
KEY=$(printf 'format %s\n%s\n' "$FORMAT" "$PKGS" | sha256sum | cut -c1-16)
TAR=$CACHE/bookworm-systemd-$KEY.tar

[ -d "$ROOTFS" ] && [ -z "$(ls -A "$ROOTFS")" ] || { echo "image.sh: $ROOTFS must be an empty directory" >&2; exit 2; }
if [ -f "$TAR" ]; then
	echo "# image: cached $TAR"
	tar --numeric-owner -xpf "$TAR" -C "$ROOTFS"
	exit 0
fi

MIRROR=$(mirror)
echo "# image: debootstrap --variant=minbase bookworm from $MIRROR with: $PKGS"
LOG=$(mktemp /tmp/aiccud-debootstrap.XXXXXX)
if ! timeout 900 debootstrap --variant=minbase --include="$(echo "$PKGS" | tr ' ' ',' | sed 's/,$//')" \
	bookworm "$ROOTFS" "$MIRROR" >"$LOG" 2>&1; then
	tail -n 30 "$LOG" >&2
	[ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
	rm -f "$LOG"
	echo "image.sh: debootstrap failed" >&2
	exit 1
fi
rm -f "$LOG"
# A quiet, quick boot: no login prompt on the console; no package lists.
chroot "$ROOTFS" systemctl mask console-getty.service getty@tty1.service >/dev/null 2>&1 || true
echo aiccud-test >"$ROOTFS/etc/hostname"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
: >"$ROOTFS/etc/machine-id"

mkdir -p "$CACHE"
tar --numeric-owner -cpf "$TAR.tmp.$$" -C "$ROOTFS" . && mv "$TAR.tmp.$$" "$TAR"
echo "# image: cached as $TAR ($(du -h "$TAR" | cut -f1))"
