#!/bin/bash
# How soon the link starts after the compile in the edit loop, kpipe against a baseline kpipe,
# alternating: a -v run of the panic.c string edit, then of its revert, each line stamped as it comes.
# "gap" is from the start of `make -f scripts/Makefile.modpost` to the start of `ld ... .tmp_vmlinux1`,
# both on the critical path. Not timed by the bench (run.js): the whole loop's wall time on this
# shared machine varies more than what this measures.
#   KPIPE_BASELINE=/path/to/other/bin/kpipe.js bench/kernel/critical-path.sh [PAIRS] [TREE_OUT]
# TREE_OUT: a linked output tree of the 6.12 reference (default: the cached x86_64-reference).
# Edits the tree's kernel/panic.c and restores it (its bytes and its mtime, as the e2e tests do) at the end.
set -e
here=$(cd "$(dirname "$0")/../.." && pwd)
pairs=${1:-3}
out=${2:-$HOME/.cache/kpipe/trees/635faec31e2464e5/out}
versions=("$here/bin/kpipe.js" ${KPIPE_BASELINE:+"$KPIPE_BASELINE"})
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" ARCH=x86_64 KBUILD_BUILD_USER=kpipe KBUILD_BUILD_HOST=kpipe
cd "$out"
src=$(readlink -f source)/kernel/panic.c
backup=$(mktemp)
cp -p "$src" "$backup"
trap 'cp -p "$backup" "$src"; rm -f "$backup"' EXIT
stamped() {
  perl -MTime::HiRes=time -e '$t = time; open(P, "-|", @ARGV) or die;
    while (<P>) { $m = time - $t if /Makefile\.modpost/; $l = time - $t if !defined $l && /^ld -m.*tmp_vmlinux1/ }
    printf "gap %.2f s, whole run %.2f s\n", $l - $m, time - $t' -- sh -c '"$@" 2>&1' sh "$@"
}
for _ in $(seq "$pairs"); do
  for k in "${versions[@]}"; do
    node "$k" run -C . -j2 >/dev/null 2>&1
    sed -i 's/"Kernel panic - not syncing: %s\\n"/"Kernel panic - not syncing (kpipe e2e): %s\\n"/' "$src"
    echo "$k edit:   $(stamped node "$k" run -v -C . -j2)"
    cp "$backup" "$src"
    echo "$k revert: $(stamped node "$k" run -v -C . -j2)"
  done
done
