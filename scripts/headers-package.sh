#!/usr/bin/env bash
# Debian's packaged kernel headers, installed as a user installs them (issue 16): the tree external
# modules are built against by DKMS-style tooling. Prints the tree (/usr/src/linux-headers-RELEASE).
# The package is the headers of Debian 12's 6.12 kernel, 6.12.117+deb12-amd64 (the release of
# kpipe's 6.12 source); when the archive no longer serves it, the 6.12 headers Debian 12 serves now
# (the linux-headers-6.12-amd64 metapackage's). It depends on the matching linux-image, which apt
# installs with it (about 110 MB, and an initramfs): that is what a user's `apt install` does too.
#   scripts/headers-package.sh           install if missing, print the tree
#   scripts/headers-package.sh --name    print the package name only
set -euo pipefail
wanted=linux-headers-6.12.117+deb12-amd64
served() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
pkg=$wanted
if ! dpkg -s "$pkg" >/dev/null 2>&1 && ! served "$pkg"; then
  apt-get update -qq
  if ! served "$pkg"; then
    pkg=$(apt-cache depends linux-headers-6.12-amd64 2>/dev/null | grep -o 'linux-headers-6\.12\.[0-9]*+deb12-amd64' | head -1)
    [ -n "$pkg" ] || { echo "headers-package: Debian serves neither $wanted nor linux-headers-6.12-amd64" >&2; exit 1; }
    echo "headers-package: $wanted is not served any more; using $pkg" >&2
  fi
fi
if [ "${1:-}" = --name ]; then echo "$pkg"; exit 0; fi
if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
  echo "headers-package: installing $pkg from Debian (with the linux-image it depends on)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >&2
fi
echo "/usr/src/$pkg"
