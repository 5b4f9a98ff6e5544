#!/usr/bin/env bash
# The Debian 13 (trixie) base image, made from Debian packages: these machines reach no container
# registry, so debootstrap builds a minimal root and `podman import` makes it a local image, the
# stand-in for docker.io/library/debian:trixie-slim. Built once, then reused.
#
#   deploy/container/rootfs.sh          print the image name, building it first if it is missing
#   deploy/container/rootfs.sh --force  build it again (a newer trixie point release)
#
# Needs debootstrap (run with sudo when not root; the image lands in the caller's Podman store),
# podman and Debian's archive keyring (bookworm's carries the trixie keys). Environment: FAULTLINE_BASE_IMAGE (default localhost/faultline-base:trixie),
# FAULTLINE_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

IMAGE="${FAULTLINE_BASE_IMAGE:-localhost/faultline-base:trixie}"
MIRROR="${FAULTLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
KEYRING=/usr/share/keyrings/debian-archive-trixie-stable.gpg
PROG=rootfs.sh
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "${1:-}" in
  "") force=0 ;;
  --force) force=1 ;;
  -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

if [[ ${force} -eq 0 ]] && podman image exists "${IMAGE}"; then
  printf '%s\n' "${IMAGE}"
  exit 0
fi
# debootstrap and the files of its root are root's; the import is the caller's.
as_root=()
((EUID == 0)) || as_root=(sudo)
command -v debootstrap >/dev/null || [[ -x /usr/sbin/debootstrap ]] ||
  die "debootstrap is missing: apt-get install debootstrap"
[[ -r ${KEYRING} ]] ||
  die "${KEYRING} is missing: apt-get update && apt-get install debian-archive-keyring"
MIRROR="${MIRROR%/}"

work="$(mktemp -d "${TMPDIR:-/var/tmp}/faultline-rootfs.XXXXXX")"
trap '"${as_root[@]}" rm -rf --one-file-system "${work}"' EXIT
start=${SECONDS}
log "debootstrap ${SUITE} (minbase) from ${MIRROR} into ${work} ..."
if ! "${as_root[@]}" debootstrap --variant=minbase --keyring="${KEYRING}" "${SUITE}" "${work}/root" "${MIRROR}" \
  >"${work}/debootstrap.log" 2>&1; then
  tail -n 30 "${work}/debootstrap.log" >&2
  "${as_root[@]}" tail -n 30 "${work}/root/debootstrap/debootstrap.log" >&2 || true
  die "debootstrap failed (is ${MIRROR} reachable?)"
fi

root="${work}/root"
# As debian:trixie-slim: the release, its updates and security suites; no documentation, no
# recommends, no package lists or caches in the image.
"${as_root[@]}" rm -f "${root}/etc/apt/sources.list"
"${as_root[@]}" tee "${root}/etc/apt/sources.list.d/debian.sources" >/dev/null <<SOURCES
Types: deb
URIs: ${MIRROR}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
"${as_root[@]}" tee "${root}/etc/dpkg/dpkg.cfg.d/docker-slim" >/dev/null <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
"${as_root[@]}" tee "${root}/etc/apt/apt.conf.d/docker-slim" >/dev/null <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
APT
"${as_root[@]}" find "${root}/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
"${as_root[@]}" sh -c 'rm -rf "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/var/cache/apt/*.bin \
  "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/debootstrap \
  && : >"$1"/etc/machine-id' rootfs "${root}"

version="$(cat "${root}/etc/debian_version")"
log "importing as ${IMAGE} (Debian ${version}) ..."
"${as_root[@]}" tar --numeric-owner -C "${root}" -c . |
  podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    --message "debootstrap --variant=minbase ${SUITE} ${MIRROR} (Debian ${version})" - "${IMAGE}" >/dev/null
log "built ${IMAGE} (Debian ${version}, $(podman image inspect --format '{{.Size}}' "${IMAGE}" | awk '{printf "%.0f MB", $1/1e6}')) in $((SECONDS - start))s"
printf '%s\n' "${IMAGE}"
