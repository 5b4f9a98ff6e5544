#!/usr/bin/env bash
# The README's two commands. Each installs what is missing (Debian packages; the Kafka broker
# jars come from Maven Central via deploy/local/kafka.sh), builds, and then:
#   ./dev.sh demo [--json]   runs `faultline demo` (in-process Kafka, nothing else to start)
#   ./dev.sh test            builds the container image on Debian 13 (deploy/container/), runs
#                            every test (CTest starts and stops the local Kafka broker), again
#                            under AddressSanitizer + UBSan, the fuzzers for a bounded time, the
#                            unit tests under ThreadSanitizer, then the release build's tests
#                            inside the image's Debian 13 test stage
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config python3
  librdkafka-dev libsimdjson-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcrypt-dev libpcre2-dev
)
# The real peers of the tests: Kafka's JVM and Maven, Prometheus (with promtool) and
# Alertmanager; openssl (the TLS tests' certificates); clang for the fuzzer and clang-tidy for
# the checks; Podman (runc) and debootstrap for the Debian 13 image; python3-venv for the venvs
# of deploy/tools/setup.sh and tests/sigma/setup.sh (pySigma, the Sigma reference).
TEST_PACKAGES=(default-jre-headless maven prometheus prometheus-alertmanager openssl clang clang-tidy
               libclang-rt-14-dev podman runc debootstrap debian-archive-keyring python3-venv)

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
    deploy/tools/setup.sh >&2
    tests/sigma/setup.sh >&2
    # Debian 13, the reference platform: the image (on a base debootstrap makes) is built before
    # the suites, since the dev suite tests it; only where Podman cannot run at all is it skipped.
    podman_ok=0
    deploy/container/build.sh --check || podman_ok=$?
    [ "$podman_ok" -eq 0 ] || [ "$podman_ok" -eq 3 ] || exit "$podman_ok"
    [ "$podman_ok" -ne 0 ] || deploy/container/build.sh >/dev/null
    passed=0 failed=0 skipped=0
    # suite NAME COMMAND...: runs a CTest run, adds its counts, stops at the first failing suite.
    suite() {
      local name="$1" status=0 total bad skip
      shift
      echo "dev.sh: === $name ===" >&2
      "$@" | tee "build-ctest-$name.log" || status=$?
      total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "build-ctest-$name.log")
      bad=$(sed -n 's/.*, \([0-9]*\) tests failed out of .*/\1/p' "build-ctest-$name.log")
      skip=$(grep -c '^[[:space:]]*[0-9]* - .* (Skipped)$' "build-ctest-$name.log" || true)
      passed=$((passed + ${total:-0} - ${bad:-0} - skip))
      failed=$((failed + ${bad:-0}))
      skipped=$((skipped + skip))
      rm -f "build-ctest-$name.log"
      [ "$status" -eq 0 ] || { echo "dev.sh: $name tests failed" >&2; exit "$status"; }
    }
    for preset in dev asan fuzz tsan; do
      build "$preset"
      suite "$preset" ctest --preset "$preset" -j2 --timeout 900
    done
    if [ "$podman_ok" -eq 0 ]; then
      suite debian13 deploy/container/test.sh
    else
      echo "dev.sh: === debian13: skipped: Podman cannot run a container here ===" >&2
    fi
    echo "all suites (dev, asan, fuzz, tsan$([ "$podman_ok" -eq 0 ] && echo ", debian13")): $passed passed, $failed failed, $skipped skipped"
    ;;
  *)
    echo "usage: ./dev.sh demo [--json] | ./dev.sh test" >&2
    exit 2
    ;;
esac
