#!/usr/bin/env bash
# Prepare a real Linux output tree for kpipe: Debian's kernel source of the profile's line (6.1, 6.12
# or 7.2, see scripts/kernel-source.sh), a profile from configs/, and kbuild's compile phase only
# (DESIGN.md section 4). The tree is cached under $KPIPE_CACHE/trees/<key>, keyed by the resolved
# config, the line and its source package version, and the recipe below, so a second run (or a second
# CI run) does not recompile the kernel.
#
#   scripts/prepare-kernel.sh [PROFILE]   prints the path of the prepared tree directory
#
# Layout of a tree directory:
#   out/        the O= output tree, compile phase done (this is where kpipe and kbuild link)
#   pristine/   a `cp -a` copy of out/ right after the compile phase. An output tree is
#               path-sensitive (DWARF carries it), so comparisons restore out/ from here at the same
#               path instead of linking in a second copy elsewhere.
#   line        the kernel line (6.1, 6.12, 7.2); profile: the profile's name
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
# Bump when the commands below change what a prepared tree holds: every cached tree is then rebuilt.
recipe=2
profile=${1:-x86_64-reference}
config="$here/configs/$profile.config"
[ -f "$config" ] || { echo "prepare-kernel: no profile configs/$profile.config" >&2; exit 2; }
kernel_deps
line=$(profile_line "$config")
# One process at a time per kernel line (its shared source and trees; test/helpers/kernel-tree.ts's
# holdLineLock), unless our caller holds the lock already.
lockvar=KPIPE_LINE_LOCKED_${line/./_}
if [ -z "${!lockvar:-}" ]; then
  mkdir -p "$KPIPE_CACHE/locks"
  export "$lockvar=1"
  exec flock "$KPIPE_CACHE/locks/linux-$line.lock" "$0" "$@"
fi
src=$(kernel_source "$line")
version=$(kernel_source_version "$line")
# Symbols the tree's Kconfig does not know (MODULE_HASHES) are dropped by olddefconfig, so profiles
# that differ only in them share one tree.
key=$( (grep -v '^CONFIG_MODULE_HASHES' "$config"; echo "line $line $version recipe $recipe ${ARCH:-} ${CROSS_COMPILE:-}") | sha256sum | cut -c1-16)
dir="$KPIPE_CACHE/trees/$key"
if [ ! -f "$dir/.prepared" ]; then
  echo "prepare-kernel: compiling $profile (Linux $line, $version) into $dir (several minutes, once)" >&2
  rm -rf "$dir" && mkdir -p "$dir/out"
  cp "$config" "$dir/out/.config"
  make -s -C "$src" O="$dir/out" olddefconfig >&2
  make_with_progress "$dir/out" -C "$src" O="$dir/out" -j"$(nproc)" KBUILD_MODULES=1 vmlinux_o modpost
  # The link stage's own tools, so neither kbuild nor kpipe builds them during a timed link.
  make -s -C "$src" O="$dir/out" -j"$(nproc)" scripts >&2
  cp -a "$dir/out" "$dir/pristine"
  echo "$profile" > "$dir/profile"
  echo "$line" > "$dir/line"
  touch "$dir/.prepared"
fi
echo "$dir"
