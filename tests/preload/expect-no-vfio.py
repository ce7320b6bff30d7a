#!/usr/bin/env python3
"""Run a VFIO program without the preload and expect its clean skip.

The machines the suite runs on have no VFIO, so vfio-user-flow must say
"no /dev/vfio/vfio" and exit 77 rather than crash or pretend.  With
VIOMMU_SIM set but no LD_PRELOAD the answer must be the same: only the
preload serves the simulated host.  On a machine that does have
/dev/vfio/vfio this check does not apply (exit 77: skipped).
"""
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 2:
        print("usage: expect-no-vfio.py PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    if os.path.exists("/dev/vfio/vfio"):
        print("1..0 # SKIP this machine has a real /dev/vfio/vfio")
        return 77
    failures = 0
    for sim in (None, "iommu=vtd;device:bdf=0000:02:00.0,group=5"):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env.pop("VIOMMU_SIM", None)
        if sim is not None:
            env["VIOMMU_SIM"] = sim
        r = subprocess.run(sys.argv[1:], env=env, capture_output=True,
                           text=True, timeout=60)
        out = r.stdout + r.stderr
        what = "without LD_PRELOAD" + (", VIOMMU_SIM set" if sim else "")
        if r.returncode == 77 and "no /dev/vfio/vfio" in out:
            print("ok - %s: exit 77, 'no /dev/vfio/vfio'" % what)
        else:
            failures += 1
            print("not ok - %s: exit %d, output:\n%s" % (what, r.returncode,
                                                        out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
