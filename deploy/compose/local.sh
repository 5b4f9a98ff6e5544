#!/usr/bin/env bash
# Runs the Compose stack on a machine that reaches no container registry: compose.yaml with
# compose.local.yaml, through podman-compose (deploy/tools/setup.sh's venv), after fetching what
# the local builds need.
#
#   deploy/compose/local.sh fetch              only fetch (then `docker compose ... up` works too)
#   deploy/compose/local.sh up -d              fetch, build what is missing, start
#   deploy/compose/local.sh ps | logs -f faultline-1 | down [-v] | ...    any podman-compose command
#
# fetch: the base image localhost/faultline-base:trixie (deploy/container/rootfs.sh, once, as
# root), the broker jars (deploy/local/kafka.sh fetch) and org.apache.kafka:kafka-tools:3.9.1
# (Maven Central, with mvn) into ${FAULTLINE_CACHE:-$HOME/.cache/faultline}; it checks that
# localhost/faultline:latest exists (deploy/container/build.sh builds it). Idempotent, and
# offline once done. Messages go to stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROG=local.sh
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

CACHE="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}"
KAFKA_VERSION=3.9.1
TOOLS_DIR="${CACHE}/kafka-tools-${KAFKA_VERSION}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

fetch() {
  command -v podman >/dev/null 2>&1 || die "podman is missing: apt-get install podman"
  deploy/container/rootfs.sh >/dev/null
  deploy/local/kafka.sh fetch
  if [[ ! -f "${TOOLS_DIR}/.fetch-complete" ]]; then
    command -v mvn >/dev/null 2>&1 || die "mvn is missing (deploy/local/kafka.sh fetch installs it)"
    log "fetching org.apache.kafka:kafka-tools:${KAFKA_VERSION} into ${TOOLS_DIR}"
    mkdir -p "${TOOLS_DIR}"
    mvn -B -q "${MAVEN_DEPENDENCY_PLUGIN}:copy" \
      "-Dartifact=org.apache.kafka:kafka-tools:${KAFKA_VERSION}" "-DoutputDirectory=${TOOLS_DIR}" >&2
    [[ -f "${TOOLS_DIR}/kafka-tools-${KAFKA_VERSION}.jar" ]] || die "mvn fetched no kafka-tools jar"
    touch "${TOOLS_DIR}/.fetch-complete"
  fi
  podman image exists localhost/faultline:latest ||
    { log "localhost/faultline:latest is missing: build it with deploy/container/build.sh"; return 1; }
}

case "${1:-}" in
  "" | -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  fetch) fetch; exit ;;
esac
fetch || [[ "${1}" != up ]] || die "nothing to run faultline-1 and faultline-2 with"
# The builds reach Debian's archive through the host's network, as deploy/container/build.sh.
exec deploy/tools/setup.sh exec podman-compose --podman-build-args "--network host" \
  -f deploy/compose/compose.yaml -f deploy/compose/compose.local.yaml "$@"
