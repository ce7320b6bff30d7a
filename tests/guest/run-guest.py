#!/usr/bin/env python3
"""Boot one freestanding guest program under -accel kvm and judge it.

Usage: run-guest.py --binary VIOMMU --kernel PROG.elf [--timeout S] -- ARGS

The program is started as
  VIOMMU -M q35 -accel kvm -m 256 -kernel PROG -serial file:LOG
         -device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none ARGS
It passes when the emulator exits with status 1 (the guest wrote 0 to the
exit device: (0 << 1) | 1) and the serial log contains a line "PASS".

With --expect-fail TEXT the roles turn: the guest must fail (status 3,
guest_exit(1)) and TEXT must appear in the serial log; this is how the
runtime's own failure reporting is tested.

Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm, or the binary
refuses -accel kvm), as meson expects.  See docs/guest-tests.md.
"""

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12
PASS_STATUS = 1         # isa-debug-exit: (0 << 1) | 1
FAIL_STATUS = 3         # guest_exit(1): (1 << 1) | 1

# Start-up errors meaning "this binary or host cannot do KVM": skip.
SKIP_MARKERS = (
    "invalid accelerator kvm",
    "accelerator kvm is not available",
)


def kvm_unusable_reason():
    """None when /dev/kvm opens, answers KVM_GET_API_VERSION == 12 and can
    create a VM; else the reason."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return "cannot open /dev/kvm: %s" % e.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        if version != KVM_API_VERSION:
            return "/dev/kvm API version %d, expected %d" % (version,
                                                             KVM_API_VERSION)
        os.close(fcntl.ioctl(fd, KVM_CREATE_VM, 0))
    except OSError as e:
        return "/dev/kvm cannot create a VM: %s" % e.strerror
    finally:
        os.close(fd)
    return None


def binary_has_kvm(binary):
    """Whether '-accel help' lists kvm (None if the probe itself failed)."""
    try:
        out = subprocess.run([binary, "-accel", "help"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    names = [w.strip() for w in out.stdout.splitlines()]
    return "kvm" in names


def read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def guest_command(binary, kernel, log, extra):
    return [binary, "-M", "q35", "-accel", "kvm", "-m", "256",
            "-kernel", kernel, "-serial", "file:" + log,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-display", "none"] + extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds before the guest is killed (default 60)")
    ap.add_argument("--expect-fail", metavar="TEXT",
                    help="the guest must fail, printing TEXT")
    ap.add_argument("extra", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    name = os.path.basename(args.kernel)

    reason = kvm_unusable_reason()
    if reason:
        print("SKIP %s: %s" % (name, reason))
        return SKIP
    if binary_has_kvm(args.binary) is False:
        print("SKIP %s: %s -accel help does not list kvm" %
              (name, os.path.basename(args.binary)))
        return SKIP

    tmp = tempfile.mkdtemp(prefix="viommu-guest-")
    try:
        log = os.path.join(tmp, "serial.log")
        cmd = guest_command(args.binary, args.kernel, log, extra)
        print("$ " + " ".join(cmd), flush=True)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=args.timeout, errors="replace")
        except subprocess.TimeoutExpired as e:
            # subprocess.run has killed the emulator.
            print("FAIL %s: no exit after %.0f s, killed" %
                  (name, args.timeout))
            print("--- serial log ---\n" + read_text(log))
            stderr = e.stderr or b""
            if isinstance(stderr, bytes):
                stderr = stderr.decode(errors="replace")
            print("--- stderr ---\n" + stderr)
            return 1
        serial = read_text(log)
        for marker in SKIP_MARKERS:
            if marker in p.stderr:
                print("SKIP %s: the binary refused -accel kvm: %s" %
                      (name, p.stderr.strip()))
                return SKIP
        print("--- serial log ---\n" + serial, end="")
        if p.stderr:
            print("--- stderr ---\n" + p.stderr, end="")
        lines = [l.strip() for l in serial.splitlines()]
        if args.expect_fail is not None:
            if p.returncode == FAIL_STATUS and args.expect_fail in serial:
                print("PASS %s: failed as expected" % name)
                return 0
            print("FAIL %s: expected exit status %d and %r in the serial "
                  "log, got status %d" % (name, FAIL_STATUS, args.expect_fail,
                                          p.returncode))
            return 1
        if p.returncode == PASS_STATUS and "PASS" in lines:
            print("PASS %s" % name)
            return 0
        fails = [l for l in lines if l.startswith("FAIL")]
        print("FAIL %s: exit status %d%s" %
              (name, p.returncode,
               ", guest said: " + fails[0] if fails else
               ", no PASS line in the serial log"))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
