#!/usr/bin/env bash
# The README's two commands. Each installs what is missing (Debian packages; the Kafka broker
# jars come from Maven Central via deploy/local/kafka.sh), builds, and then:
#   ./dev.sh demo [--json]   runs `faultline demo` (in-process Kafka, nothing else to start)
#   ./dev.sh test            runs every test; CTest starts and stops the local Kafka broker
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  cmake ninja-build g++ pkg-config python3
  librdkafka-dev libsimdjson-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev prometheus-cpp-dev
  libyaml-cpp-dev
)
TEST_PACKAGES=(default-jre-headless maven)

install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "dev.sh: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

build() {
  [ -f build/CMakeCache.txt ] || cmake --preset dev >&2
  cmake --build --preset dev >&2
}

case "${1:-}" in
  demo)
    install_missing "${PACKAGES[@]}"
    build
    shift
    exec build/faultline demo "$@"
    ;;
  test)
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build
    deploy/local/kafka.sh fetch >&2
    exec ctest --preset dev -j2 --timeout 900
    ;;
  *)
    echo "usage: ./dev.sh demo [--json] | ./dev.sh test" >&2
    exit 2
    ;;
esac
