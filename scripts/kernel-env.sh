# Shared by the kernel scripts: where the cache lives, the reproducible-build variables, and the
# kernel lines kpipe is tested on. Sourced, not executed.
KPIPE_CACHE=${KPIPE_CACHE:-$HOME/.cache/kpipe}
KPIPE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# DESIGN.md section 4: with these fixed, vmlinux is byte-identical across rebuilds.
export KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=kpipe
export KBUILD_BUILD_HOST=kpipe
export ARCH=${ARCH:-x86_64}

# What building any of the three lines takes (DESIGN.md sections 4 and 6); the sources themselves come
# from scripts/kernel-source.sh.
KERNEL_DEPS="dwarves flex bison bc libelf-dev libssl-dev cpio"
kernel_deps() {
  local missing=()
  for p in $KERNEL_DEPS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "kpipe: installing ${missing[*]} from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The kernel line a profile is for: a `# kernel-line: 6.1` comment in configs/NAME.config, else 6.12
# (the profiles that predate the other lines).
profile_line() {
  local config=$1 line
  line=$(sed -n 's/^# kernel-line: *//p' "$config" | head -n 1)
  echo "${line:-6.12}"
}

# The Debian package version of a line's source (the tree cache is keyed by it).
kernel_source_version() {
  local tarball
  tarball=$("$KPIPE_SCRIPTS/kernel-source.sh" "$1")
  if [ -f "$(dirname "$tarball")/../../.version" ]; then cat "$(dirname "$tarball")/../../.version"
  else dpkg-query -W -f='${Version}' "linux-source-$1"; fi
}

# The unpacked source of one line, shared by every profile of that line: $KPIPE_CACHE/src/<line>.
kernel_source() {
  local line=${1:-6.12} src tarball
  src="$KPIPE_CACHE/src/$line"
  if [ ! -f "$src/.unpacked" ]; then
    tarball=$("$KPIPE_SCRIPTS/kernel-source.sh" "$line")
    rm -rf "$src.tmp" && mkdir -p "$src.tmp"
    tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
    rm -rf "$src" && mv "$src.tmp" "$src" && touch "$src/.unpacked"
  fi
  echo "$src"
}

# kbuild's compile with signs of life (issue 17: a 15-minute compile used to print one line): on a
# terminal kbuild's own quiet lines (`  CC      init/main.o`); elsewhere (CI, a pipe) make stays
# silent and a line every $KPIPE_PROGRESS_SECONDS (default 30) says how far it got. All on stderr.
#   make_with_progress OUTDIR MAKE-ARGS...
make_with_progress() {
  local out=$1 start=$SECONDS ticker status=0
  shift
  if [ -t 2 ]; then
    make "$@" >&2 || return
    return 0
  fi
  # The sleep is killed with the ticker, so no orphan keeps the caller's pipes open.
  (
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "${KPIPE_PROGRESS_SECONDS:-30}" & nap=$!
      wait "$nap"
      echo "prepare-kernel: still compiling: $(find "$out" -name '*.o' 2>/dev/null | wc -l) objects so far, $((SECONDS - start)) s" >&2
    done
  ) >/dev/null &
  ticker=$!
  make -s "$@" >&2 || status=$?
  kill "$ticker" 2>/dev/null
  wait "$ticker" 2>/dev/null
  return "$status"
}
