# The booted container of the systemd stage (sourced by run-stage.sh, which
# runs in a private mount namespace).
#
#   ct_up ROOT NETNS LOG   boot ROOT with systemd-nspawn -b in the network
#                          namespace /run/netns/NETNS; waits (bounded) until
#                          systemd is up; sets CT_PID (the container's init,
#                          as the host sees it), CT_STATE, CT_BOOT_MS, or
#                          CT_WHY on failure
#   ct CMD...              run CMD as root inside (all its namespaces),
#                          with a clean environment and a timeout
#   ct_as USER CMD...      the same as USER (uid, gid and groups of USER)
#   ct_down                power the container off; kill nspawn and the
#                          container's init by PID when they outlive that
#
# No machined or D-Bus on the host (--register=no --keep-unit), so
# `machinectl` and `systemd-run -M` cannot reach it: nsenter into its init
# is the way in.
CT_PID=
CT_NSPAWN_PID=
CT_WHY=
CT_TIMEOUT=${CT_TIMEOUT:-120}

ct() {
	timeout "$CT_TIMEOUT" nsenter -t "$CT_PID" -a \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

ct_as() {
	local user=$1
	shift
	ct setpriv --reuid="$user" --regid="$user" --init-groups \
		env HOME=/ USER="$user" "$@"
}

# ct_init_pid: the child of nspawn that runs systemd (the container's PID 1).
ct_init_pid() {
	local p
	for p in $(ps -o pid= --ppid "$CT_NSPAWN_PID" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && { echo "$p"; return 0; }
	done
	return 1
}

ct_up() {
	local root=$1 ns=$2 log=$3 t0 i
	t0=$(date +%s%N)
	mkdir -p /run/systemd/nspawn
	mount -t tmpfs -o mode=0755 aiccud-nspawn /run/systemd/nspawn || { CT_WHY="tmpfs on /run/systemd/nspawn"; return 1; }
	# CAP_NET_ADMIN: nspawn leaves it out unless it made the network itself.
	# The TUN device for the AYIYA tunnels is bound in.
	systemd-nspawn -b -D "$root" -M "aiccud-stage-$$" --register=no --keep-unit \
		--network-namespace-path="/run/netns/$ns" --capability=CAP_NET_ADMIN \
		--bind=/dev/net/tun --console=read-only --timezone=off --resolv-conf=off \
		>"$log" 2>&1 </dev/null &
	CT_NSPAWN_PID=$!
	for i in $(seq 300); do
		CT_PID=$(ct_init_pid) && break
		kill -0 "$CT_NSPAWN_PID" 2>/dev/null || { CT_WHY="systemd-nspawn exited"; return 1; }
		sleep 0.1
	done
	[ -n "$CT_PID" ] || { CT_WHY="no init process under nspawn $CT_NSPAWN_PID after 30 s"; return 1; }
	# systemd's private socket exists once the manager listens.
	for i in $(seq 300); do
		[ -S "/proc/$CT_PID/root/run/systemd/private" ] && break
		sleep 0.1
	done
	CT_STATE=$(ct timeout 90 systemctl is-system-running --wait 2>&1)
	CT_BOOT_MS=$((($(date +%s%N) - t0) / 1000000))
	case "$CT_STATE" in
	running) return 0 ;;
	degraded)
		echo "# the container is degraded; failed units:"
		ct systemctl --no-legend --failed | sed 's/^/#   /'
		return 0
		;;
	esac
	CT_WHY="is-system-running: '$CT_STATE'"
	return 1
}

ct_gone() { ! kill -0 "$1" 2>/dev/null; }

ct_down() {
	local i
	[ -n "$CT_NSPAWN_PID" ] || return 0
	if [ -n "$CT_PID" ] && ! ct_gone "$CT_PID"; then
		CT_TIMEOUT=10 ct systemctl --no-block poweroff >/dev/null 2>&1
	fi
	for i in $(seq 300); do
		ct_gone "$CT_NSPAWN_PID" && break
		sleep 0.1
	done
	if ! ct_gone "$CT_NSPAWN_PID"; then
		echo "# the container did not power off within 30 s: killing nspawn $CT_NSPAWN_PID and init ${CT_PID:-?}"
		[ -n "$CT_PID" ] && lab_kill KILL "$CT_PID"
		lab_kill KILL "$CT_NSPAWN_PID"
		for i in $(seq 50); do ct_gone "$CT_NSPAWN_PID" && break; sleep 0.1; done
	fi
	wait "$CT_NSPAWN_PID" 2>/dev/null
	CT_NSPAWN_PID=
	umount /run/systemd/nspawn 2>/dev/null
	return 0
}
