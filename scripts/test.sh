#!/usr/bin/env bash
# `npm test`: brings up what the integration tests need (Postgres check, Kafka broker), builds the
# apps (e2e tests spawn them as processes), then runs every tier (unit, int, e2e). The broker is
# left running for the next run; `npm run infra:down` stops it. Extra arguments go to vitest (e.g. `npm test -- libs/events`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"
# kafkajs 2.2.4 on Node 24 emits a harmless TimeoutNegativeWarning (tulios/kafkajs#1751); hide that one.
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning"
node scripts/check-node.mjs
bash scripts/infra.sh up
# e2e tests run the apps as processes from their build output.
echo "[test] building (tsc -b, incremental)…"
tsc -b tsconfig.build.json
echo "[test] building the audit page (vite)…"
vite build --config apps/gateway/audit-ui/vite.config.ts
exec vitest run "$@"
