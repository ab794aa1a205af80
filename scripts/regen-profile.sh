#!/usr/bin/env bash
# Turn configs/NAME.fragment into the resolved profile configs/NAME.config:
# tinyconfig (or the fragment's `# base:`), the fragment's symbols through scripts/config, then olddefconfig, exactly as a kernel
# engineer would. Lines of the form `+SYM=VAL` are symbols the 6.12 tree does not know (MODULE_HASHES):
# olddefconfig would drop them, so they are appended to the resolved file afterwards. A
# `# kernel-line: 6.1` comment in the fragment picks the kernel line (default 6.12) and is kept as the
# resolved file's first line (scripts/prepare-kernel.sh reads it there).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
name=${1:?usage: regen-profile.sh NAME}
frag="$here/configs/$name.fragment"
kernel_deps
kline=$(profile_line "$frag")
src=$(kernel_source "$kline")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# `# base: defconfig` in the fragment starts from the arch's defconfig (a realistic tree) instead.
base=$(sed -n 's/^# base: *\([a-z_]*config\).*/\1/p' "$frag" | head -1)
make -s -C "$src" O="$scratch" "${base:-tinyconfig}" >/dev/null
args=()
while IFS= read -r line; do
  line=${line%%#*}; line=${line//[[:space:]]/}
  [ -z "$line" ] && continue
  case "$line" in
    +*) continue ;;
    *=y) args+=(--enable "${line%=y}") ;;
    *=m) args+=(--module "${line%=m}") ;;
    *=n) args+=(--disable "${line%=n}") ;;
    *) args+=(--set-val "${line%%=*}" "${line#*=}") ;;
  esac
done < "$frag"
"$src/scripts/config" --file "$scratch/.config" "${args[@]}"
make -s -C "$src" O="$scratch" olddefconfig >/dev/null
{
  [ "$kline" = 6.12 ] || echo "# kernel-line: $kline"
  grep -v '^# Automatically generated\|^# Linux/\|^# Compiler:\|^$' "$scratch/.config" || true
  grep '^+' "$frag" | sed 's/^+/CONFIG_/' || true
} > "$here/configs/$name.config"
echo "wrote configs/$name.config"
