#!/usr/bin/env bash
# The Debian 13 suite: the release build's tests (unit and real-broker end-to-end) run inside the
# image's test stage (localhost/faultline-test:latest, deploy/container/build.sh), as on the
# reference platform: librdkafka 2.8.0, g++ 14. CTest starts its Kafka broker inside the container
# from the jars deploy/local/kafka.sh fetched on the host (mounted read-only); the shared
# fixtures (../shared) are mounted when present.
#
#   deploy/container/test.sh [CTEST ARGS...]     e.g. -R kafka_e2e
#
# Prints CTest's output (its "N tests failed out of M" line is what dev.sh counts). When Podman
# cannot run a container on this machine at all, it says why and exits 0 without running.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROG=test.sh
IMAGE=localhost/faultline-test:latest
cache="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}"

check=0
deploy/container/build.sh --check || check=$?
if [[ ${check} -eq 3 ]]; then
  echo "debian13: skipped (Podman cannot run a container here)"
  exit 0
fi
[[ ${check} -eq 0 ]] || exit "${check}"
podman image exists "${IMAGE}" || deploy/container/build.sh --target test >/dev/null
deploy/local/kafka.sh fetch >&2

mounts=(-v "${cache}:/cache/faultline:ro" -e FAULTLINE_CACHE=/cache/faultline)
if [[ -d ../shared ]]; then
  mounts+=(-v "$(cd ../shared && pwd -P):/shared:ro")
else
  echo "${PROG}: ../shared is absent: the tests that read its fixtures skip" >&2
fi
# The sink scenarios of the reliability suite wait minutes on a receiver that is down or slow:
# their subject, the dispatcher, is the same code on both platforms, and the dev suite runs them.
EXCLUDE='reliability_sink_'
# The container's writable layer holds what the tests write (the broker's data, temp files); --rm
# discards it.
exec podman --runtime runc run --rm --network=host --ulimit nofile=1024:1024 \
  --ulimit nproc=1024:1024 "${mounts[@]}" "${IMAGE}" \
  ctest --test-dir build-release --output-on-failure -j2 --timeout 900 -LE host-tools \
  -E "${EXCLUDE}" "$@"
