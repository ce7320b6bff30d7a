#!/bin/sh
# Sets everything up and runs the demo (scripts/demo.py): a q35 machine with
# an edu device driven over qtest; then q35 + intel-iommu + a vfio-pci device
# over iommufd on a simulated host, whose DMA lands in guest memory through
# the vIOMMU, with query-host-iommu-devices; then an incompatible host that
# intel-iommu refuses; then, where /dev/kvm is usable, the guest program
# tests/guest/vfio-vtd.c booted under -accel kvm.
set -eu

cd "$(dirname "$0")/.."
scripts/setup.sh build
exec python3 scripts/demo.py build/viommu-system-x86_64
