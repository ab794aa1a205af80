#!/usr/bin/env bash
# Prepare a real Linux 6.12 output tree for kpipe: Debian's linux-source-6.12, a profile from
# configs/, and kbuild's compile phase only (DESIGN.md section 4). The tree is cached under
# $KPIPE_CACHE/trees/<key>, keyed by the resolved config and the source package version, so a
# second run (or a second CI run) does not recompile the kernel.
#
#   scripts/prepare-kernel.sh [PROFILE]   prints the path of the prepared tree directory
#
# Layout of a tree directory:
#   out/        the O= output tree, compile phase done (this is where kpipe and kbuild link)
#   pristine/   a `cp -a` copy of out/ right after the compile phase. An output tree is
#               path-sensitive (DWARF carries it), so comparisons restore out/ from here at the same
#               path instead of linking in a second copy elsewhere.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
profile=${1:-x86_64-reference}
config="$here/configs/$profile.config"
[ -f "$config" ] || { echo "prepare-kernel: no profile configs/$profile.config" >&2; exit 2; }
kernel_deps
src=$(kernel_source)
version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
# Symbols the 6.12 Kconfig does not know (MODULE_HASHES) are dropped by olddefconfig, so profiles
# that differ only in them share one tree.
key=$( (grep -v '^CONFIG_MODULE_HASHES' "$config"; echo "$version"; cat "$here/scripts/prepare-kernel.sh") | sha256sum | cut -c1-16)
dir="$KPIPE_CACHE/trees/$key"
if [ ! -f "$dir/.prepared" ]; then
  echo "prepare-kernel: compiling $profile into $dir (a few minutes, once)" >&2
  rm -rf "$dir" && mkdir -p "$dir/out"
  cp "$config" "$dir/out/.config"
  make -s -C "$src" O="$dir/out" olddefconfig >&2
  make -s -C "$src" O="$dir/out" -j"$(nproc)" KBUILD_MODULES=1 vmlinux_o modpost >&2
  # The link stage's own tools, so neither kbuild nor kpipe builds them during a timed link.
  make -s -C "$src" O="$dir/out" -j"$(nproc)" scripts >&2
  cp -a "$dir/out" "$dir/pristine"
  echo "$profile" > "$dir/profile"
  touch "$dir/.prepared"
fi
echo "$dir"
