#!/usr/bin/env bash
# Debian's podman as this machine runs it (issue #22): runc, cgroupfs (no systemd here), no
# default ulimits (the sandbox refuses raising them), events to a file. Source this file, then
# call podman_ensure_installed; podman and podman-compose then read CONTAINERS_CONF.

podman_ensure_installed() {
    # netavark sets up the containers' network with iptables: without it every container start
    # fails with "netavark: No such file or directory (os error 2)" (a fresh machine, stop 27).
    if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1 \
        || ! command -v iptables >/dev/null 2>&1 || ! dpkg -s netavark aardvark-dns >/dev/null 2>&1; then
        echo "podman.sh: installing podman, runc, iptables and debootstrap" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap netavark aardvark-dns uidmap iptables >&2
    fi
    if ! command -v podman-compose >/dev/null 2>&1; then
        echo "podman.sh: installing podman-compose from PyPI" >&2
        python3 -m pip install --quiet 'podman-compose==1.6.0' >&2
    fi
    PODMAN_CONF_DIR="${PODMAN_CONF_DIR:-${TMPDIR:-/tmp}/oneseal-podman}"
    mkdir -p "$PODMAN_CONF_DIR"
    cat >"$PODMAN_CONF_DIR/containers.conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    export CONTAINERS_CONF="$PODMAN_CONF_DIR/containers.conf"
}
