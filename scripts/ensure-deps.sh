#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lock
# file, so `npm test` and `npm run demo` work on a fresh clone as they are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
