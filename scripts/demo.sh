#!/usr/bin/env bash
# `npm run demo`: install what is missing, start the local stack and the workers, run each pipeline
# once against the local replicas (prices, pmmp, leads, the Pennylane sync), and say where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: this registry lacks @swc/core's macOS/Windows builds, so the lock file cannot list
  # them and `npm ci` refuses it; `npm install` follows the same lock file.
  npm install --no-audit --no-fund
fi
node --import tsx scripts/stack/index.ts up
node --import tsx scripts/demo.ts
