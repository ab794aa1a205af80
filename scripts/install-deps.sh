#!/usr/bin/env bash
# Debian packages kpipe's tests and demo need on a fresh machine: the kernel source and what building
# it takes (DESIGN.md section 4), ninja for the export test, and Graphviz's dot for `kpipe graph`'s SVG
# (its test checks the SVG when dot is there). Installs only what is missing.
#   scripts/install-deps.sh --list   prints every package it may install, one a line (the README's
#                                    list is checked against it: test/cli/readme.test.ts)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
if [ "${1:-}" = --list ]; then
  # The demo's kernel source (scripts/kernel-source.sh: Debian's package of the 6.12 line), what
  # building it takes, then the tools below, then the riscv suite's cross compiler.
  cross=$("$here/scripts/cross-tree.sh" --env riscv64-relocatable | sed -n 's/.*CROSS_COMPILE=\(.*\)-$/\1/p')
  printf '%s\n' linux-source-6.12 $KERNEL_DEPS ninja-build graphviz qemu-system-x86 bpftool "gcc-$cross"
  exit 0
fi
kernel_deps
if ! command -v ninja >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ninja-build >/dev/null
fi
if ! command -v dot >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
# The hand-off end-to-end test boots the bzImage made from kpipe's vmlinux (qemu, TCG) and checks the
# base of module BTF (bpftool).
missing=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || missing+=(bpftool)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The remote step cache tests (test/cache/remote-cache.test.ts) serve Bazel's HTTP cache protocol with
# nginx's WebDAV module; each test starts its own nginx on 127.0.0.1 (Debian's service is not used).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
# The riscv end-to-end suite (test/e2e/riscv.test.ts) cross-compiles its tree.
"$here/scripts/cross-tree.sh" --deps riscv64-relocatable
# The packaged-headers end-to-end suite (test/e2e/headers.test.ts) builds against Debian's headers.
"$here/scripts/headers-package.sh" >/dev/null
