#!/usr/bin/env bash
# Builds faultline's image with Podman from deploy/container/Containerfile on the local Debian 13
# base (deploy/container/rootfs.sh), tagged localhost/faultline:VERSION and :latest, and the
# test stage as localhost/faultline-test:latest. Layers are cached: a second build with
# unchanged sources takes seconds.
#
#   deploy/container/build.sh [--target runtime|test|all]    (default: all)
#   deploy/container/build.sh --check     exit 0 if Podman can run a container here; else say why
#                                         and exit 3 (the suites that need it then skip)
#
# Prints the image names, and the runtime image's size. Environment: FAULTLINE_BASE_IMAGE (the
# base, default: built by rootfs.sh), FAULTLINE_ARCH (simdjson's instruction set, default haswell).
set -euo pipefail
cd "$(dirname "$0")/../.."
PROG=build.sh
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

# The podman of these machines: the runc runtime, the host's network, a bounded ulimit.
PODMAN_FLAGS=(--network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

target=all
case "${1:-}" in
  "") ;;
  --target)
    target="${2:-}"
    [[ ${target} == runtime || ${target} == test || ${target} == all ]] ||
      { log "error: --target needs runtime, test or all"; exit 2; }
    ;;
  --check)
    command -v podman >/dev/null || { log "Podman is not installed"; exit 3; }
    base="${FAULTLINE_BASE_IMAGE:-$(deploy/container/rootfs.sh)}"
    podman image exists "${base}" || { log "error: no image ${base}"; exit 1; }
    if ! why="$(podman --runtime runc run --rm --pull=never "${PODMAN_FLAGS[@]}" "${base}" true 2>&1)"; then
      log "Podman cannot run a container here: ${why}"
      exit 3
    fi
    exit 0
    ;;
  -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) log "error: unknown argument '$1'"; exit 2 ;;
esac

base="${FAULTLINE_BASE_IMAGE:-$(deploy/container/rootfs.sh)}"
version="$(sed -n 's/^project(faultline VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
podman_build=(podman --runtime runc build --format docker "${PODMAN_FLAGS[@]}"
              -f deploy/container/Containerfile
              --build-arg "BASE=${base}" --build-arg "FAULTLINE_ARCH=${FAULTLINE_ARCH:-haswell}")

start=${SECONDS}
if [[ ${target} == all || ${target} == test ]]; then
  log "building localhost/faultline-test:latest (the build stage and the tests' peers) on ${base} ..."
  "${podman_build[@]}" --target test -t localhost/faultline-test:latest . >&2
  echo localhost/faultline-test:latest
fi
if [[ ${target} == all || ${target} == runtime ]]; then
  log "building localhost/faultline:${version} on ${base} ..."
  "${podman_build[@]}" --target runtime --build-arg "VERSION=${version}" \
    --build-arg "REVISION=${revision}" \
    --build-arg "CREATED=$(git log -1 --format=%cI 2>/dev/null || echo unknown)" -t "localhost/faultline:${version}" \
    -t localhost/faultline:latest . >&2
  size="$(podman image inspect --format '{{.Size}}' "localhost/faultline:${version}")"
  log "localhost/faultline:${version}: $((size / 1000000)) MB ($(podman image inspect --format '{{len .RootFS.Layers}}' "localhost/faultline:${version}") layers)"
  echo "localhost/faultline:${version}"
fi
log "done in $((SECONDS - start))s"
