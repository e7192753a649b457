#!/bin/bash
# PID 1 of the UML guest (run-uml.sh): make the read-only host file system
# usable, load the modules the tests need, run ctest in the build dir and
# write its output and exit code to the shared result folder; then power
# off (an init that exits panics the kernel).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
BUILD=${AICCUD_UML_BUILD:-}
OUT=${AICCUD_UML_OUT:-}

end() {
	sync
	poweroff -f
	exec sleep infinity # poweroff -f does not return; PID 1 must never exit
}

setup() {
	mount -t proc proc /proc &&
		mount -t sysfs sysfs /sys &&
		{ mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev; } &&
		mkdir -p /dev/pts /dev/shm &&
		mount -t devpts devpts /dev/pts &&
		mount -t tmpfs tmpfs /dev/shm &&
		mount -t tmpfs tmpfs /tmp &&
		mount -t tmpfs tmpfs /run || return 1
	# /etc as a tmpfs copy: the tests add and remove their users.
	mkdir /run/etc && cp -a /etc/. /run/etc/ && mount --bind /run/etc /etc || return 1
	mkdir -p /tmp/var-tmp && mount --bind /tmp/var-tmp /var/tmp
	hostname uml
	ip link set lo up
	# The host has no /lib/modules: the UML tree under a directory of our own,
	# and the kernel's own module requests (nftables' parts) go there too.
	local ver mods=/run/modules
	ver=$(uname -r)
	mkdir -p "$mods/lib/modules" && ln -s "/usr/lib/uml/modules/$ver" "$mods/lib/modules/$ver"
	printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$mods" >/run/modprobe
	chmod 755 /run/modprobe
	echo /run/modprobe >/proc/sys/kernel/modprobe
	for m in ipv6 sit tun veth nf_tables; do
		modprobe -d "$mods" "$m" || echo "init: modprobe $m failed" >&2
	done
}

if [ -z "$BUILD" ] || [ -z "$OUT" ]; then
	echo "init: AICCUD_UML_BUILD and AICCUD_UML_OUT must be on the kernel command line" >&2
	end
fi
# Writable over hostfs: the result folder (ctest's files too).
if ! mount -t hostfs none "$OUT" -o "$OUT"; then
	echo "init: cannot mount $OUT writable" >&2
	end
fi
if ! setup >"$OUT/setup.log" 2>&1; then
	echo "init: set-up failed:" >&2
	cat "$OUT/setup.log" >&2
	end
fi
mapfile -t args <"$OUT/ctest-args"
cd "$OUT/ctest" || end
# Tests read this to raise their time limits and say where they ran.
export AICCUD_UML=1
echo "# kernel $(uname -r) (user-mode-linux), $(nproc) CPU" >"$OUT/ctest.log"
ctest --output-on-failure -L kernel "${args[@]}" >>"$OUT/ctest.log" 2>&1
echo $? >"$OUT/rc"
end
