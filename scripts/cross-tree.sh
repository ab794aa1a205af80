#!/usr/bin/env bash
# A cross-compiled tree for a profile of another architecture: installs Debian's cross compiler for the
# profile, then runs scripts/prepare-kernel.sh with ARCH and CROSS_COMPILE set, as kbuild wants them.
# The profile's name says its architecture (its first word before '-').
#
#   scripts/cross-tree.sh PROFILE         prints the path of the prepared tree directory
#   scripts/cross-tree.sh --env PROFILE   prints the make words for it: ARCH=riscv CROSS_COMPILE=...
#   scripts/cross-tree.sh --deps PROFILE  installs the cross compiler only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=tree
case "${1:-}" in --env|--deps) mode=${1#--}; shift ;; esac
profile=${1:?usage: cross-tree.sh [--env|--deps] PROFILE}

# profile prefix -> kbuild ARCH, the GNU triplet of CROSS_COMPILE (Debian's gcc-<triplet> package).
case "${profile%%-*}" in
  riscv64) arch=riscv triplet=riscv64-linux-gnu ;;
  ppc64le) arch=powerpc triplet=powerpc64le-linux-gnu ;;
  mips) arch=mips triplet=mips-linux-gnu ;;
  s390x) arch=s390 triplet=s390x-linux-gnu ;;
  *) echo "cross-tree: no cross compiler known for profile '$profile' (riscv64-*, ppc64le-*, mips-*, s390x-*)" >&2; exit 2 ;;
esac

if [ "$mode" = env ]; then
  echo "ARCH=$arch CROSS_COMPILE=$triplet-"
  exit 0
fi
if ! command -v "$triplet-gcc" >/dev/null 2>&1; then
  echo "cross-tree: installing gcc-$triplet from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "gcc-$triplet" >/dev/null
fi
[ "$mode" = deps ] && exit 0
ARCH=$arch CROSS_COMPILE=$triplet- exec bash "$here/scripts/prepare-kernel.sh" "$profile"
