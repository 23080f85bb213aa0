#!/usr/bin/env bash
# Makes a fresh clone runnable: installs npm dependencies when missing or stale (this brings the
# Node 24 package for this platform, an optional dependency npm picks by os/cpu), then checks that
# Node 24 is what runs: that package's, or the machine's own Node 24 where npm has none to bring.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[bootstrap] installing dependencies (npm ci)…"
  start=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  echo "[bootstrap] npm ci took $((SECONDS - start))s"
fi
PATH="$root/node_modules/.bin:$PATH" node scripts/check-node.mjs
