#!/usr/bin/env bash
# The README's two commands. Each installs what is missing (Debian packages; the Kafka broker
# jars come from Maven Central via deploy/local/kafka.sh), builds, and then:
#   ./dev.sh demo [--json]   runs `faultline demo` (in-process Kafka, nothing else to start)
#   ./dev.sh test            runs every test (CTest starts and stops the local Kafka broker),
#                            again under AddressSanitizer + UBSan, then the fuzzer for a bounded time
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  cmake ninja-build g++ pkg-config python3
  librdkafka-dev libsimdjson-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev
)
# The real peers of the tests: Kafka's JVM and Maven, Prometheus (with promtool) and
# Alertmanager; clang for the fuzzer.
TEST_PACKAGES=(default-jre-headless maven prometheus prometheus-alertmanager clang
               libclang-rt-14-dev)

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

# build PRESET: configure once, then build incrementally.
build() {
  local dir=build  # as in CMakePresets.json: build for dev, build-NAME for the others
  [ "$1" = dev ] || dir="build-$1"
  [ -f "$dir/CMakeCache.txt" ] || cmake --preset "$1" >&2
  cmake --build --preset "$1" >&2
}

case "${1:-}" in
  demo)
    install_missing "${PACKAGES[@]}"
    build dev
    shift
    exec build/faultline demo "$@"
    ;;
  test)
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    deploy/local/kafka.sh fetch >&2
    passed=0 failed=0
    for preset in dev asan fuzz; do
      echo "dev.sh: === $preset ===" >&2
      build "$preset"
      status=0
      ctest --preset "$preset" -j2 --timeout 900 | tee "build-ctest-$preset.log" || status=$?
      total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "build-ctest-$preset.log")
      bad=$(sed -n 's/.*, \([0-9]*\) tests failed out of .*/\1/p' "build-ctest-$preset.log")
      passed=$((passed + ${total:-0} - ${bad:-0}))
      failed=$((failed + ${bad:-0}))
      rm -f "build-ctest-$preset.log"
      [ "$status" -eq 0 ] || { echo "dev.sh: $preset tests failed" >&2; exit "$status"; }
    done
    echo "all suites (dev, asan, fuzz): $passed passed, $failed failed"
    ;;
  *)
    echo "usage: ./dev.sh demo [--json] | ./dev.sh test" >&2
    exit 2
    ;;
esac
