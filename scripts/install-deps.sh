#!/usr/bin/env bash
# Debian packages kpipe's tests and demo need on a fresh machine: the kernel source and what building
# it takes (DESIGN.md section 4), and ninja for the export test. Installs only what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
kernel_deps
if ! command -v ninja >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ninja-build >/dev/null
fi
# The riscv end-to-end suite (test/e2e/riscv.test.ts) cross-compiles its tree.
"$here/scripts/cross-tree.sh" --deps riscv64-relocatable
