#!/bin/sh
# Sets everything up and runs the demo: a q35 machine with an edu device,
# one edu DMA driven by a scripted guest over qtest, then the QOM tree and
# the QMP command list.
set -eu

cd "$(dirname "$0")/.."
scripts/setup.sh build
exec python3 scripts/demo.py build/viommu-system-x86_64
