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
# The API serves the operator console (console/dist) and tests/console drives it: build it when missing or stale.
node --import tsx scripts/console/build.ts
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
# Each test file notes the pid of the Temporal server it starts (tests/support/services.ts). A file killed
# outright (SIGKILL) cannot stop its own: stop those, by their pid files, once their file's process is gone.
stop_orphaned_test_servers() {
  local f pid ppid
  for f in .data/run/test-servers/*.pid; do
    [ -e "$f" ] || continue
    pid=$(head -n 1 "$f")
    if [ -r "/proc/$pid/stat" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'server start-dev'; then
      ppid=$(awk '{print $4}' "/proc/$pid/stat")
      # Still owned by a running test process (another `npm test`): not ours to stop.
      if [ "$ppid" != 1 ] && [ -d "/proc/$ppid" ] && tr '\0' ' ' < "/proc/$ppid/cmdline" | grep -q node; then continue; fi
      kill -KILL "$pid" 2>/dev/null || true
      echo "test: stopped Temporal server pid $pid, left running by a test file that was killed"
    fi
    rm -f "$f"
  done
}
trap stop_orphaned_test_servers EXIT
# Each file starts its own Temporal dev server and databases; two at a time suits a 2-core machine.
# A test that hangs (a wedged service) fails after TEST_TIMEOUT_MS instead of stalling the whole run.
node --import tsx --test --test-reporter=spec --test-concurrency="${TEST_CONCURRENCY:-2}" \
  --test-timeout="${TEST_TIMEOUT_MS:-600000}" "${files[@]}"
