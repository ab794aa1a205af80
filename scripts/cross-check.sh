#!/usr/bin/env bash
# kpipe against kbuild on cross-compiled trees (powerpc, mips, s390, ...): slow (one kernel compile
# per profile, cached afterwards), so CI does not run it; riscv is in `npm test` (test/e2e/riscv.test.ts).
#   scripts/cross-check.sh PROFILE...   e.g. ppc64le-relocatable mips-relocatable s390x-relocatable
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
npx tsc -p tsconfig.json
exec node dist/bench/cross/run.js "$@"
