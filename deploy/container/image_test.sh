#!/usr/bin/env bash
# What a user of the image relies on, checked on the built image (localhost/faultline:latest):
# its metadata, that it runs as uid 10001 with nothing to build with, `--help`, check-config of
# its own configuration, `faultline demo` on a read-only root, and `faultline run` against the
# real broker: ready (/readyz) and healthy by its own HEALTHCHECK. Prints the image's size and the
# time from `podman run` to ready.
#   deploy/container/image_test.sh BOOTSTRAP_FILE FILL_TOPIC
#     (CTest passes the broker fixture's address file and bench/fill_topic, which makes the topic)
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=localhost/faultline:latest
PODMAN_RUN=(podman --runtime runc run --rm --network=host --ulimit nofile=1024:1024
            --ulimit nproc=1024:1024)
failures=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok: $1"
  else
    echo "FAILED: $1: expected '$2', got '$3'"
    failures=$((failures + 1))
  fi
}
# 77: CTest's skip (SKIP_RETURN_CODE), only where Podman cannot run a container at all.
check=0
deploy/container/build.sh --check || check=$?
[[ ${check} -ne 3 ]] || { echo "skipped: Podman cannot run a container here"; exit 77; }
[[ ${check} -eq 0 ]] || exit "${check}"
podman image exists "${IMAGE}" || { echo "FAILED: ${IMAGE} is missing: run deploy/container/build.sh"; exit 1; }

inspect() { podman image inspect --format "$1" "${IMAGE}"; }
version="$(sed -n 's/^project(faultline VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
check "runs as the faultline user" "10001:10001" "$(inspect '{{.Config.User}}')"
check "entrypoint" "[/usr/bin/faultline]" "$(inspect '{{.Config.Entrypoint}}')"
check "command" "[run --config /etc/faultline/faultline.yaml]" "$(inspect '{{.Config.Cmd}}')"
check "healthcheck probes /readyz" "yes" \
  "$(inspect '{{.Config.Healthcheck.Test}}' | grep -q readyz && echo yes || echo no)"
check "OCI version label" "${version}" "$(inspect '{{index .Labels "org.opencontainers.image.version"}}')"
check "OCI title label" "faultline" "$(inspect '{{index .Labels "org.opencontainers.image.title"}}')"
check "uid inside" "10001" "$("${PODMAN_RUN[@]}" --entrypoint id "${IMAGE}" -u)"
check "no compiler in the runtime stage" "none" \
  "$("${PODMAN_RUN[@]}" --entrypoint bash "${IMAGE}" -c 'command -v g++ cc cmake || echo none')"
check "librdkafka of Debian 13" "2.8.0" \
  "$("${PODMAN_RUN[@]}" --entrypoint bash "${IMAGE}" -c \
    "dpkg-query -W -f='\${Version}' 'librdkafka1*' | cut -d- -f1")"
check "--help" "0" "$("${PODMAN_RUN[@]}" "${IMAGE}" --help >/dev/null 2>&1; echo $?)"
check "check-config of the image's configuration" "0" \
  "$("${PODMAN_RUN[@]}" "${IMAGE}" check-config /etc/faultline/faultline.yaml >/dev/null 2>&1; echo $?)"
demo="$("${PODMAN_RUN[@]}" --read-only --tmpfs /tmp "${IMAGE}" demo --json 2>/dev/null || true)"
check "demo on a read-only root: its three alerts" "3" "$(grep -c '"status":"firing"' <<<"${demo}" || true)"

# `run` against the real broker: time to /readyz, then the image's own healthcheck.
bootstrap="$(cat "${1:?usage: image_test.sh BOOTSTRAP_FILE FILL_TOPIC}")"
name="faultline-image-test-$$-$(date +%s)"
"${2:?usage: image_test.sh BOOTSTRAP_FILE FILL_TOPIC}" "${bootstrap}" "${name}" 2 </dev/null >/dev/null
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'podman rm -f -v "${name}" >/dev/null 2>&1 || true; rm -f "/tmp/${name}.podman"' EXIT
start=$(date +%s.%N)
podman --runtime runc run -d --name "${name}" --network=host --ulimit nofile=1024:1024 \
  --ulimit nproc=1024:1024 -e "FAULTLINE_HEALTH_PORT=${port}" "${IMAGE}" run \
  --config /etc/faultline/faultline.yaml --metrics-listen "127.0.0.1:${port}" --brokers "${bootstrap}" --topic "${name}" --group "${name}" \
  >/dev/null 2>"/tmp/${name}.podman" || { cat "/tmp/${name}.podman"; exit 1; }
# (podman without systemd says it cannot add the healthcheck's timer; `healthcheck run` below
# runs the check itself)
ready=no
for _ in $(seq 1 600); do
  if [[ "$(podman inspect --format '{{.State.Running}}' "${name}")" != true ]]; then break; fi
  if code="$(exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET /readyz HTTP/1.0\r\n\r\n' >&3 &&
    read -r _ c _ <&3 && echo "$c")" 2>/dev/null && [[ "${code}" == 200 ]]; then
    ready=yes
    break
  fi
  sleep 0.1
done
seconds="$(python3 -c "import time; print(time.time() - ${start})")"
check "run: ready on /readyz" "yes" "${ready}"
check "run: HEALTHCHECK healthy" "0" "$(podman healthcheck run "${name}" >/dev/null 2>&1; echo $?)"
podman stop -t 30 "${name}" >/dev/null
check "run: exits 0 on SIGTERM" "0" "$(podman inspect --format '{{.State.ExitCode}}' "${name}")"
[[ ${ready} == yes ]] || podman logs "${name}" 2>&1 | tail -20

size="$(inspect '{{.Size}}')"
printf 'image %s: %d MB; podman run to ready: %.1f s\n' "${IMAGE}" $((size / 1000000)) "${seconds}"
[[ ${failures} -eq 0 ]] || { echo "${failures} check(s) failed"; exit 1; }
