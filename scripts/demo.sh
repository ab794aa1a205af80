#!/usr/bin/env bash
# The embedded default: a real Linux 6.12 tree from Debian's linux-source-6.12, compiled once with the
# reference profile (cached under ~/.cache/kpipe), then linked by kpipe.
#   npm run demo [-- PROFILE]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-x86_64-reference}
"$here/scripts/install-deps.sh"
dir=$("$here/scripts/prepare-kernel.sh" "$profile")
# As a kernel engineer would, in a plain shell: no KBUILD_BUILD_* and no ARCH (kpipe reads the tree's).
env -u KBUILD_BUILD_VERSION -u KBUILD_BUILD_TIMESTAMP -u KBUILD_BUILD_USER -u KBUILD_BUILD_HOST -u ARCH \
  "$here/bin/kpipe.js" run -C "$dir/out"
echo
echo "kpipe linked the kernel in $dir/out:"
ls -l "$dir/out/vmlinux" "$dir/out/System.map"
echo "modules: $(find "$dir/out" -name '*.ko' | wc -l) .ko files; what ran and why: $dir/out/.kpipe/last-run.json"
echo "explain it: $here/bin/kpipe.js explain -C $dir/out"
