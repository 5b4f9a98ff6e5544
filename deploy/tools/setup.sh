#!/usr/bin/env bash
# Sets up what the tests of deploy/ need, once, under ${FAULTLINE_CACHE:-$HOME/.cache/faultline}:
#   deploy-tools/venv-KEY/   a venv of Debian's /usr/bin/python3 with deploy/tools/requirements.txt
#                            (KEY: a hash of that file and the Python version)
#   deploy-tools/crds/NAME-VERSION/   the CRDs the manifests use, from the Go modules that ship them
#
#   deploy/tools/setup.sh                  set up (quick, and offline, once done)
#   deploy/tools/setup.sh exec CMD [ARG]   set up, then run CMD with the venv's bin/ first on PATH and
#                                          FAULTLINE_CRD_FILES (colon-separated CRD files) set
#
# Installs python3-venv (and golang-go, for `go mod download`) with apt-get when missing, with sudo
# when not root. Messages go to stderr. Idempotent: delete the deploy-tools folder to start over.
# Exits 77 (CTest's skip) when nothing is set up and the cache is not writable.
set -euo pipefail

PROG=setup.sh
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
CACHE="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}/deploy-tools"
PYTHON=/usr/bin/python3

# The CRDs, as "module version h1-sum file-in-module". To upgrade: change a version, take the new
# sum from `go mod download -json MODULE@VERSION`, run this script; the old folder stays unused.
# KEDA 2.17 is built against the Kubernetes 1.31 client (its go.mod), inside KEDA's N-2 window
# for the Kubernetes 1.30 the manifests are validated against.
CRDS=(
  "github.com/kedacore/keda/v2 v2.17.3 h1:OlGqI/Ih1kUcz0gJ9B5nxOZU+j5GXQzc2ELByHs7cYA= config/crd/bases/keda.sh_scaledobjects.yaml"
  "github.com/prometheus-operator/prometheus-operator v0.85.0 h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s= example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml"
)

log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt_install PACKAGE...: as dev.sh's install_missing does.
apt_install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing $*; install them: apt-get install -y $*"
    sudo=(sudo)
  fi
  log "installing $* with apt-get"
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

venv_dir() {
  local key
  key="$({ cat "${TOOLS_DIR}/requirements.txt"; "${PYTHON}" -c 'import sys; print(sys.version)'; } |
         sha256sum | cut -c1-12)"
  echo "${CACHE}/venv-${key}"
}

setup_venv() {
  local venv="$1"
  [[ -f "${venv}/.complete" ]] && return 0
  if command -v dpkg-query >/dev/null 2>&1 && ! deb_installed python3-venv; then
    apt_install python3-venv
  fi
  log "creating ${venv}"
  rm -rf "${venv}"
  mkdir -p "${CACHE}"
  "${PYTHON}" -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
    -r "${TOOLS_DIR}/requirements.txt" >&2
  touch "${venv}/.complete"
}

crd_path() {  # module version file -> its place in the cache
  echo "${CACHE}/crds/$(basename "${1%/v[0-9]*}")-$2/$(basename "$3")"
}

setup_crds() {
  local entry module version sum file target missing=()
  for entry in "${CRDS[@]}"; do
    read -r module version sum file <<<"${entry}"
    [[ -f "$(crd_path "${module}" "${version}" "${file}")" ]] || missing+=("${entry}")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v go >/dev/null 2>&1 || apt_install golang-go
  local gomod="${CACHE}/gomod" json dir got
  for entry in "${missing[@]}"; do
    read -r module version sum file <<<"${entry}"
    log "downloading ${module}@${version} from the Go module proxy"
    # Outside any module; GOFLAGS from the caller's shell must not change what this does.
    json="$(cd "${CACHE}" && GOMODCACHE="${gomod}" GOFLAGS='' GOTOOLCHAIN=local GO111MODULE=on GOWORK=off \
            go mod download -json "${module}@${version}")" || die "go mod download ${module}@${version} failed"
    got="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
    [[ "${got}" == "${sum}" ]] || die "${module}@${version}: checksum ${got}, expected ${sum}"
    dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
    [[ -f "${dir}/${file}" ]] || die "${module}@${version} has no ${file}"
    target="$(crd_path "${module}" "${version}" "${file}")"
    mkdir -p "$(dirname "${target}")"
    cp "${dir}/${file}" "${target}.tmp" && mv "${target}.tmp" "${target}"
  done
  # The module cache is read-only by design; nothing else needs it once the CRDs are copied.
  GOMODCACHE="${gomod}" GOFLAGS='' GOTOOLCHAIN=local go clean -modcache >/dev/null 2>&1 || true
  rm -rf "${gomod}"
}

crds_present() {
  local entry module version sum file
  for entry in "${CRDS[@]}"; do
    read -r module version sum file <<<"${entry}"
    [[ -f "$(crd_path "${module}" "${version}" "${file}")" ]] || return 1
  done
}

main() {
  case "${1:-}" in
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; return 0 ;;
    "" | exec) ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  [[ -x "${PYTHON}" ]] || apt_install python3
  local venv
  venv="$(venv_dir)"
  if [[ ! -f "${venv}/.complete" ]] || ! crds_present; then
    if ! mkdir -p "${CACHE}" 2>/dev/null || [[ ! -w "${CACHE}" ]]; then
      # E.g. a container given the host's cache read-only, with another Python: nothing to run
      # the tests with, and nowhere to set it up. 77: CTest's skip (SKIP_RETURN_CODE).
      log "${CACHE} is not writable and holds no set-up for this Python: skipped"
      exit 77
    fi
    # Tests run in parallel may all call this at once on a fresh cache: one sets up, the others
    # wait for it.
    exec 9>"${CACHE}/.setup.lock"
    flock 9
    setup_venv "${venv}"
    setup_crds
    flock -u 9
    exec 9>&-
  fi
  case "${1:-}" in
    "") ;;
    exec)
      shift
      (($# > 0)) || die "exec needs a command"
      local files=() entry module version sum file
      for entry in "${CRDS[@]}"; do
        read -r module version sum file <<<"${entry}"
        files+=("$(crd_path "${module}" "${version}" "${file}")")
      done
      # PYTHONDONTWRITEBYTECODE: the checks import deploy/tools/*.py; no __pycache__ in the tree.
      export PATH="${venv}/bin:${PATH}" VIRTUAL_ENV="${venv}" PYTHONDONTWRITEBYTECODE=1
      FAULTLINE_CRD_FILES="$(IFS=:; echo "${files[*]}")"
      export FAULTLINE_CRD_FILES
      exec "$@"
      ;;
  esac
}

main "$@"
