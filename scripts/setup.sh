#!/usr/bin/env bash
# Install what racelab needs and build it (idempotent; shared by scripts/start.sh and
# scripts/test.sh):
#   1. npm dependencies, when node_modules is missing or older than package.json / the lockfile;
#   2. Debian packages (Chromium, Jupyter's nbclient + ipykernel, nbconvert, the classic Notebook
#      server for the front-end tests, poppler-utils) when missing, with apt-get as root (or
#      passwordless sudo);
#   3. npm run build;
#   4. the racelab Jupyter kernel (kernel/install.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

say() { printf '%s\n' "setup: $*" >&2; }

# 1. npm dependencies
stamp=node_modules/.package-lock.json
if [[ ! -d node_modules || ! -f $stamp || package.json -nt $stamp || ( -f package-lock.json && package-lock.json -nt $stamp ) ]]; then
  say "npm install"
  npm install --no-audit --no-fund
fi

# 2. Debian packages
APT_PACKAGES=(chromium jupyter-client python3-nbclient jupyter-nbconvert python3-ipykernel jupyter-notebook poppler-utils)
missing_system() {
  [[ -x /usr/bin/chromium ]] || return 0
  command -v pdfinfo >/dev/null && command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || return 0
  [[ -x /usr/bin/python3 ]] || return 0
  /usr/bin/python3 -c 'import nbclient, nbformat, jupyter_client, ipykernel, nbconvert, notebook' 2>/dev/null || return 0
  return 1
}
if missing_system; then
  if [[ $(id -u) -eq 0 ]]; then
    apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    apt=(sudo env DEBIAN_FRONTEND=noninteractive apt-get)
  else
    say "missing system packages; as root run: apt-get update && apt-get install -y ${APT_PACKAGES[*]}"
    exit 1
  fi
  say "apt-get install ${APT_PACKAGES[*]}"
  "${apt[@]}" update -q
  "${apt[@]}" install -y -q "${APT_PACKAGES[@]}" </dev/null
  if missing_system; then
    say "still missing after apt-get install: check chromium, poppler-utils and /usr/bin/python3 -c 'import nbclient, ipykernel, notebook'"
    exit 1
  fi
fi

# 3. build
say "npm run build"
npm run build --silent

# 4. Jupyter kernel for this checkout
kernel/install.sh >&2
