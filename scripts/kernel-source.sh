#!/usr/bin/env bash
# The kernel source tarball of one kernel line, from Debian's packages only (DESIGN.md section 6):
#   scripts/kernel-source.sh LINE     LINE is 6.1, 6.12 or 7.2; prints the tarball's path
# 6.1 and 6.12 are Debian 12's own `linux-source-*` packages, installed as usual. 7.2 is in Debian
# unstable only: a `sid` entry pinned low (priority 50, so nothing on the machine is ever upgraded from
# it) lets `apt-get download` fetch the one .deb, which is unpacked with `dpkg -x` under the cache;
# nothing is installed from unstable.
set -euo pipefail
line=${1:?usage: kernel-source.sh 6.1|6.12|7.2}
cache=${KPIPE_CACHE:-$HOME/.cache/kpipe}
case "$line" in
  6.1|6.12)
    tarball=/usr/src/linux-source-$line.tar.xz
    if ! dpkg -s "linux-source-$line" >/dev/null 2>&1 || [ ! -f "$tarball" ]; then
      echo "kpipe: installing linux-source-$line from Debian" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "linux-source-$line" >/dev/null
    fi
    ;;
  7.2)
    tarball=$cache/debs/linux-source-7.2/usr/src/linux-source-7.2.tar.xz
    if [ ! -f "$tarball" ]; then
      if [ ! -f /etc/apt/sources.list.d/kpipe-sid.sources ]; then
        echo "kpipe: adding Debian unstable as a source pinned at priority 50 (nothing is installed from it)" >&2
        sed -n '1,/^$/p' /etc/apt/sources.list.d/debian.sources | sed -e 's/^Suites:.*/Suites: sid/' -e '/^#/d' -e '/^$/d' \
          > /etc/apt/sources.list.d/kpipe-sid.sources
        printf 'Package: *\nPin: release n=sid\nPin-Priority: 50\n' > /etc/apt/preferences.d/kpipe-sid
        apt-get update -qq
      fi
      work=$(mktemp -d) && chmod a+rwx "$work"   # apt downloads as _apt when it can
      (cd "$work" && apt-get download -qq linux-source-7.2 >/dev/null) || { apt-get update -qq && (cd "$work" && apt-get download -qq linux-source-7.2 >/dev/null); }
      rm -rf "$cache/debs/linux-source-7.2" && mkdir -p "$cache/debs/linux-source-7.2"
      dpkg -x "$work"/linux-source-7.2_*.deb "$cache/debs/linux-source-7.2"
      dpkg-deb -f "$work"/linux-source-7.2_*.deb Version > "$cache/debs/linux-source-7.2/.version"
      rm -rf "$work"
    fi
    ;;
  *) echo "kernel-source: no kernel line '$line' (6.1, 6.12 or 7.2)" >&2; exit 2 ;;
esac
echo "$tarball"
