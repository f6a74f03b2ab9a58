#!/usr/bin/env bash
# `npm test [-- FILES…]`: installs what is missing, starts the local stack (a no-op when it runs), then
# runs the test files (all of tests/**/*.test.ts by default) on the real services.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: this registry lacks @swc/core's macOS/Windows builds, so the lock file cannot list
  # them and `npm ci` refuses it; `npm install` follows the same lock file.
  npm install --no-audit --no-fund
fi
node --import tsx scripts/stack/index.ts up
# Tests use the services the stack says it runs (ports may have been moved with MOISSON_*_PORT).
set -a
# shellcheck disable=SC1091
. .data/stack.env
set +a
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find tests -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
# Each file starts its own Temporal dev server and databases; two at a time suits a 2-core machine.
# A test that hangs (a wedged service) fails after TEST_TIMEOUT_MS instead of stalling the whole run.
exec node --import tsx --test --test-reporter=spec --test-concurrency="${TEST_CONCURRENCY:-2}" \
  --test-timeout="${TEST_TIMEOUT_MS:-600000}" "${files[@]}"
