#!/usr/bin/env bash
# `npm run demo`: install what is missing, start the local stack and the worker, run the prices
# pipeline once against the local replicas, and say where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node --import tsx scripts/stack/index.ts up
node --import tsx scripts/demo.ts
