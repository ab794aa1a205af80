# Shared by the kernel scripts: where the cache lives and the reproducible-build variables.
# Sourced, not executed.
KPIPE_CACHE=${KPIPE_CACHE:-$HOME/.cache/kpipe}
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz
# DESIGN.md section 4: with these fixed, vmlinux is byte-identical across rebuilds.
export KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=kpipe
export KBUILD_BUILD_HOST=kpipe
export ARCH=${ARCH:-x86_64}

kernel_deps() {
  local missing=()
  for p in linux-source-6.12 dwarves flex bison bc libelf-dev libssl-dev cpio; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "kpipe: installing ${missing[*]} from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The unpacked source, shared by every profile.
kernel_source() {
  local src="$KPIPE_CACHE/src"
  if [ ! -f "$src/.unpacked" ]; then
    rm -rf "$src.tmp" && mkdir -p "$src.tmp"
    tar -xJf "$KERNEL_TARBALL" -C "$src.tmp" --strip-components=1
    rm -rf "$src" && mv "$src.tmp" "$src" && touch "$src/.unpacked"
  fi
  echo "$src"
}
