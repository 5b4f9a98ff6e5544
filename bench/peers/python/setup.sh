#!/usr/bin/env bash
# Creates (or reuses) the Python peer's virtualenv and prints its python on the last line.
#   bench/peers/python/setup.sh
# The venv lives in ${FAULTLINE_CACHE:-$HOME/.cache/faultline}/bench-python; requirements.txt is
# installed again only when its content changed (a sha256 stamp in the venv). Idempotent.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REQUIREMENTS="${HERE}/requirements.txt"
VENV="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}/bench-python"
STAMP="${VENV}/.requirements.sha256"
PYTHON="${PYTHON:-python3}"

log() { printf 'setup.sh: %s\n' "$*" >&2; }

command -v "${PYTHON}" >/dev/null || { log "error: ${PYTHON} not found"; exit 1; }

# Debian's python3 ships venv (and ensurepip) separately, in python3-venv.
if ! "${PYTHON}" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  log "python3 -m venv is unavailable: installing python3-venv"
  SUDO=""
  [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
  ${SUDO} apt-get update -qq >&2
  ${SUDO} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
fi

# A venv whose python no longer runs (its base interpreter moved or was upgraded) is rebuilt.
if [[ -d "${VENV}" ]] && ! "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "rebuilding broken venv ${VENV}"
  rm -rf "${VENV}"
fi
if [[ ! -x "${VENV}/bin/python" ]]; then
  log "creating venv ${VENV}"
  mkdir -p "$(dirname "${VENV}")"
  "${PYTHON}" -m venv "${VENV}" >&2
fi

WANT="$(sha256sum "${REQUIREMENTS}" | cut -d' ' -f1)"
HAVE="$(cat "${STAMP}" 2>/dev/null || true)"
if [[ "${WANT}" != "${HAVE}" ]]; then
  log "installing ${REQUIREMENTS}"
  rm -f "${STAMP}"
  "${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check \
    --only-binary=:all: -r "${REQUIREMENTS}" >&2
  printf '%s\n' "${WANT}" >"${STAMP}"
else
  log "requirements up to date in ${VENV}"
fi

echo "${VENV}/bin/python"
