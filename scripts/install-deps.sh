#!/usr/bin/env bash
# Debian packages kpipe's tests and demo need on a fresh machine: the kernel source and what building
# it takes (DESIGN.md section 4), ninja for the export test, and Graphviz's dot for `kpipe graph`'s SVG
# (its test checks the SVG when dot is there). Installs only what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
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
