#!/bin/sh
# Installs what viommu needs to build and test (Debian 12), then configures
# and builds build/ (-Werror).  Idempotent: installs only what is missing and
# rebuilds only what changed.
#
#   scripts/setup.sh [BUILDDIR [meson options...]]
set -eu

cd "$(dirname "$0")/.."

packages="gcc libc6-dev meson ninja-build pkg-config python3 libglib2.0-dev libjson-glib-dev"
missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    else
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

builddir=${1:-build}
[ $# -gt 0 ] && shift
if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" -Dwerror=true "$@" >/dev/null
fi
ninja -C "$builddir" >/dev/null
echo "setup: built $builddir/viommu-system-x86_64"
