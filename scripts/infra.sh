#!/usr/bin/env bash
# Services for development and tests: checks Postgres and runs the Kafka broker. Safe to re-run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

case "${1:-}" in
  up)
    node scripts/postgres.mjs
    bash scripts/kafka.sh up
    ;;
  down) bash scripts/kafka.sh down ;;
  status)
    rc=0
    node scripts/postgres.mjs || rc=1
    bash scripts/kafka.sh status || rc=1
    exit $rc
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
