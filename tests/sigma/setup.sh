#!/usr/bin/env bash
# Sets up the Python of the Sigma reference cross-check (tests/sigma/sigma_reference_test.py), once,
# under ${FAULTLINE_CACHE:-$HOME/.cache/faultline}:
#   sigma-reference/venv-KEY/   a venv of Debian's /usr/bin/python3 with tests/sigma/requirements.txt
#                               (pySigma and its SQLite backend from PyPI; KEY: a hash of that file
#                               and the Python version, so a changed pin makes a new venv)
#
#   tests/sigma/setup.sh                  set up (a few seconds the first time, then nothing)
#   tests/sigma/setup.sh exec CMD [ARG]   set up, then run CMD with the venv's bin/ first on PATH
#
# Installs python3-venv with apt-get when missing, with sudo when not root. Messages go to stderr.
# Idempotent: delete the sigma-reference folder to start over. Exits 77 (CTest's skip) when nothing
# is set up and the cache is not writable.
set -euo pipefail

PROG=tests/sigma/setup.sh
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
CACHE="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}/sigma-reference"
PYTHON=/usr/bin/python3  # Debian's, whatever python3 comes first on PATH (pyenv's, say)

log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_install() {  # as dev.sh's install_missing does
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing $*; install them: apt-get install -y $*"
    sudo=(sudo)
  fi
  log "installing $* with apt-get"
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

venv_dir() {
  local key
  key="$({ cat "${HERE}/requirements.txt"; "${PYTHON}" -c 'import sys; print(sys.version)'; } |
         sha256sum | cut -c1-12)"
  echo "${CACHE}/venv-${key}"
}

setup_venv() {
  local venv="$1"
  [[ -f "${venv}/.complete" ]] && return 0
  if command -v dpkg-query >/dev/null 2>&1 &&
     ! dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed"; then
    apt_install python3-venv
  fi
  log "creating ${venv}"
  rm -rf "${venv}"
  "${PYTHON}" -m venv "${venv}"
  # --no-deps: requirements.txt is the whole pinned closure, and the pipelines' own pysigma<2
  # (outdated, see requirements.txt) would make pip refuse pySigma 2.
  "${venv}/bin/pip" install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
    --no-deps -r "${HERE}/requirements.txt" >&2
  "${venv}/bin/python" -c 'import sigma.backends.sqlite, sigma.pipelines.sysmon, sigma.pipelines.windows' ||
    die "the venv ${venv} cannot import pySigma"
  touch "${venv}/.complete"
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
  if [[ ! -f "${venv}/.complete" ]]; then
    if ! mkdir -p "${CACHE}" 2>/dev/null || [[ ! -w "${CACHE}" ]]; then
      log "${CACHE} is not writable and holds no venv for this Python: skipped"
      exit 77
    fi
    # Several CTest runs (presets) may set up at once on a fresh cache: one does, the others wait.
    exec 9>"${CACHE}/.setup.lock"
    flock 9
    setup_venv "${venv}"
    flock -u 9
    exec 9>&-
  fi
  case "${1:-}" in
    "") ;;
    exec)
      shift
      (($# > 0)) || die "exec needs a command"
      export PATH="${venv}/bin:${PATH}" VIRTUAL_ENV="${venv}" PYTHONDONTWRITEBYTECODE=1
      exec "$@"
      ;;
  esac
}

main "$@"
