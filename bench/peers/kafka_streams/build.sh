#!/usr/bin/env bash
# Builds the Kafka Streams peer's shaded jar with Maven (Maven Central only), only when the pom
# or a source changed or the jar is missing. Prints the jar's path on its last line.
#   bench/peers/kafka_streams/build.sh
# The Maven repository lives under ${FAULTLINE_CACHE:-$HOME/.cache/faultline}/m2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}/m2"
jar="${here}/target/faultline-kstreams-peer.jar"

stale=1
if [[ -f "${jar}" ]]; then
  newer="$(find "${here}/pom.xml" "${here}/src" -type f -newer "${jar}" -print -quit)"
  [[ -z "${newer}" ]] && stale=0
fi
if (( stale )); then
  mkdir -p "${repo}"
  echo "kstreams-peer: building ${jar}" >&2
  # Debian's Maven 3.8 prints bare colour resets even in batch mode: strip them (pipefail keeps
  # mvn's exit status).
  (cd "${here}" && mvn -q -B -Dstyle.color=never -Dmaven.repo.local="${repo}" package 2>&1) \
    | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2
  touch "${jar}"  # the shade plugin keeps the jar's timestamp reproducible; mark the build time
fi
echo "${jar}"
