#!/usr/bin/env bash
# Turn configs/NAME.fragment into the resolved profile configs/NAME.config:
# tinyconfig, the fragment's symbols through scripts/config, then olddefconfig, exactly as a kernel
# engineer would. Lines of the form `+SYM=VAL` are symbols the 6.12 tree does not know (MODULE_HASHES):
# olddefconfig would drop them, so they are appended to the resolved file afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/kernel-env.sh"
name=${1:?usage: regen-profile.sh NAME}
frag="$here/configs/$name.fragment"
kernel_deps
src=$(kernel_source)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
make -s -C "$src" O="$scratch" tinyconfig >/dev/null
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
  grep -v '^# Automatically generated\|^# Linux/\|^# Compiler:\|^$' "$scratch/.config" || true
  grep '^+' "$frag" | sed 's/^+/CONFIG_/' || true
} > "$here/configs/$name.config"
echo "wrote configs/$name.config"
