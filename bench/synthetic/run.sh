#!/bin/sh
# Synthetic executor benchmark (issue 3): graph build time, no-op kpipe vs no-op ninja, peak memory.
#   bench/synthetic/run.sh [MODULES=5500] [REPEAT=7]      (run from the repository root, after a build)
set -e
cd "$(dirname "$0")/../.."
[ -f dist/bench/synthetic/run.js ] || npx tsc -p tsconfig.json
exec node dist/bench/synthetic/run.js "$@"
