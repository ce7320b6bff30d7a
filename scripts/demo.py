#!/usr/bin/env python3
"""viommu demo: q35 machines driven over qtest and QMP, then a KVM guest.

1. An edu device: a small scripted "guest" finds it in PCI configuration
   space, enables it, checks it is alive, and moves a buffer RAM -> device
   -> RAM with the edu DMA engine, stepping the virtual clock to let the
   transfers run.  Then it asks QMP for the QOM tree and the command list.
2. Device assignment behind a vIOMMU: intel-iommu (caching mode) and a
   vfio-pci device on iommufd, backed by a simulated Linux host's "dma"
   device.  The guest builds legacy VT-d tables mapping IOVAs to its own
   buffers, turns translation on, and has the assigned device copy a
   payload IOVA -> IOVA; the bytes land in the guest buffer the IOVA maps
   to.  QMP then shows query-host-iommu-devices.
3. An incompatible host (39-bit IOVA space under a 48-bit vIOMMU): the
   vIOMMU refuses the device and the machine does not start.
4. Where /dev/kvm is usable: the same assignment with a real guest under
   -accel kvm, the freestanding program tests/guest/vfio-vtd.c.  It
   programs its VT-d tables, invalidates, has the assigned device copy
   between IOVAs, checks the bytes and takes the completion MSI-X
   interrupt.  QMP shows query-host-iommu-devices before it starts; its
   serial output follows.  Without KVM the part is skipped with the reason.

Usage: demo.py PATH-TO-viommu-system-x86_64
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile

EDU_BDF = (0, 3, 0)
SRC_GPA = 0x100000
DST_GPA = 0x200000
EDU_BUF = 0x40000
PAYLOAD = b"viommu: DMA through the edu device\n"


class QTest:
    """The qtest text protocol: one request line, one reply line."""

    def __init__(self, sock):
        self.file = sock.makefile("rwb", buffering=0)

    def cmd(self, line, echo=True):
        self.file.write(line.encode() + b"\n")
        while True:
            reply = self.file.readline().decode().rstrip("\n")
            if not reply.startswith("IRQ "):
                break
        if echo:
            print(f"  qtest> {line:<40} < {reply}")
        if not reply.startswith("OK"):
            raise RuntimeError(f"qtest: {line!r} failed: {reply}")
        return reply

    def outl(self, port, val):
        self.cmd(f"outl 0x{port:x} 0x{val:x}", echo=False)

    def inl(self, port):
        return int(self.cmd(f"inl 0x{port:x}", echo=False).split()[1], 16)

    def cfg_read(self, off, bdf=EDU_BDF):
        bus, dev, fn = bdf
        self.outl(0xCF8, 0x80000000 | bus << 16 | dev << 11 | fn << 8 | off)
        return self.inl(0xCFC)

    def cfg_write(self, off, val, bdf=EDU_BDF):
        bus, dev, fn = bdf
        self.outl(0xCF8, 0x80000000 | bus << 16 | dev << 11 | fn << 8 | off)
        self.outl(0xCFC, val)

    def readq(self, addr, echo=True):
        return int(self.cmd(f"readq 0x{addr:x}", echo).split()[1], 16)

    def readl(self, addr, echo=True):
        return int(self.cmd(f"readl 0x{addr:x}", echo).split()[1], 16)


class QMP:
    """QMP: JSON objects, one per CRLF-terminated line."""

    def __init__(self, sock):
        self.file = sock.makefile("rwb", buffering=0)
        self.greeting = json.loads(self.file.readline())

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\r\n")
        while True:
            reply = json.loads(self.file.readline())
            if "event" not in reply:
                break
        if "error" in reply:
            raise RuntimeError(f"QMP {name}: {reply['error']['desc']}")
        return reply["return"]


def accept(listener):
    listener.settimeout(30)
    conn, _ = listener.accept()
    return conn


def qom_tree(qmp, path, depth=0, out=None):
    out = out if out is not None else []
    children = [p for p in qmp.cmd("qom-list", path=path)
                if p["type"].startswith("child<")]
    for child in sorted(children, key=lambda p: p["name"]):
        child_path = path.rstrip("/") + "/" + child["name"]
        out.append("  " * depth + f"{child['name']} ({child['type'][6:-1]})")
        qom_tree(qmp, child_path, depth + 1, out)
    return out


def run_guest(qt):
    print("Guest: find edu at 00:03.0 and enable it")
    ids = qt.cfg_read(0x00)
    print(f"  vendor:device = {ids & 0xffff:04x}:{ids >> 16:04x}")
    if ids != 0x11E81234:
        raise RuntimeError("no edu device at 00:03.0")
    bar0 = qt.cfg_read(0x10) & ~0xF
    print(f"  BAR0 = 0x{bar0:x} (assigned at reset, as firmware would)")
    cmd = qt.cfg_read(0x04) & 0xFFFF
    qt.cfg_write(0x04, cmd | 0x6)  # memory space + bus master
    qt.cmd(f"readl 0x{bar0:x}")  # identification 0x010000ed
    qt.cmd(f"writel 0x{bar0 + 4:x} 0x12345678")  # liveness: reads back ~v
    live = int(qt.cmd(f"readl 0x{bar0 + 4:x}").split()[1], 16)
    assert live == 0xEDCBA987, hex(live)

    print("Guest: put a buffer in RAM and DMA it RAM -> edu -> RAM")
    qt.cmd(f"write 0x{SRC_GPA:x} {len(PAYLOAD)} 0x{PAYLOAD.hex()}")
    qt.cmd(f"memset 0x{DST_GPA:x} {len(PAYLOAD)} 0")
    for src, dst, direction in ((SRC_GPA, EDU_BUF, 0), (EDU_BUF, DST_GPA, 2)):
        qt.cmd(f"writeq 0x{bar0 + 0x80:x} 0x{src:x}")
        qt.cmd(f"writeq 0x{bar0 + 0x88:x} 0x{dst:x}")
        qt.cmd(f"writeq 0x{bar0 + 0x90:x} 0x{len(PAYLOAD):x}")
        qt.cmd(f"writel 0x{bar0 + 0x98:x} 0x{1 | direction:x}")
        qt.cmd("clock_step")  # to the DMA timer's deadline (100 ms)
        status = int(qt.cmd(f"readl 0x{bar0 + 0x98:x}").split()[1], 16)
        assert status & 1 == 0, "DMA still busy"
    data = bytes.fromhex(
        qt.cmd(f"read 0x{DST_GPA:x} {len(PAYLOAD)}").split()[1][2:])
    print(f"  guest RAM at 0x{DST_GPA:x}: {data!r}")
    if data != PAYLOAD:
        raise RuntimeError("DMA round trip mismatch")
    print("  DMA round trip OK")


# --- Part 2: an assigned device behind intel-iommu ---------------------------

VTD = 0xFED90000                # the VT-d register block
VTD_CAP, VTD_ECAP, VTD_GCMD, VTD_GSTS = 0x08, 0x10, 0x18, 0x1C
VTD_RTADDR, VTD_CCMD = 0x20, 0x28
GCMD_TE, GCMD_SRTP = 1 << 31, 1 << 30
GSTS_PERSISTENT = 0x86800000    # TES | QIES | IRES | CFIS
SL_RW = 0x3                     # second-level entry: read + write
DOMAIN_ID = 1

# The "dma" device of the simulated host (host/sim/sim-pci-model-regs.h).
DMA_IDS = 0x00F21B36            # 1b36:00f2
DMA_SRC, DMA_DST, DMA_LEN, DMA_CMD, DMA_STATUS = 0x10, 0x18, 0x20, 0x30, 0x34
DMA_START_COPY = 1 << 31        # START | OP_COPY (IOVA SRC -> IOVA DST)
DMA_DONE, DMA_ERROR = 1 << 0, 1 << 1

TABLES = 0x400000               # guest pages for the VT-d tables
IOVA_SRC, GPA_SRC = 0x10000000, 0x100000   # the payload, staged by the guest
IOVA_DST, GPA_DST = 0x10002000, 0x300000   # the guest's receive buffer
PAYLOAD2 = b"viommu: DMA by an assigned device, through the vIOMMU\n"

ASSIGN_ARGS = [
    "-device", "intel-iommu,caching-mode=on",
    "-object", "sim-host,id=h0",            # VT-d, aw-bits 48
    "-object", "sim-pci-device,id=d0,sim-host=h0,host=0000:02:00.0,"
               "iommu-group=5",
    "-object", "iommufd,id=fd0",
    "-device", "vfio-pci,host=0000:02:00.0,iommufd=fd0,id=hostdev0",
]


def vtd_gcmd(qt, bit):
    """Set one GCMD bit, keeping the persistent ones; returns GSTS."""
    sts = qt.readl(VTD + VTD_GSTS, echo=False) & GSTS_PERSISTENT
    qt.cmd(f"writel 0x{VTD + VTD_GCMD:x} 0x{sts | bit:x}")
    return qt.readl(VTD + VTD_GSTS)


def vtd_program(qt, bdf):
    """Legacy root/context/second-level tables: IOVA_* -> GPA_*."""
    cap = qt.readq(VTD + VTD_CAP)
    ecap = qt.readq(VTD + VTD_ECAP, echo=False)
    levels, aw = (4, 2) if cap >> 8 & 0x4 else (3, 1)   # SAGAW: 48 or 39
    print(f"  CAP 0x{cap:x}: {levels}-level second-level tables "
          f"({12 + 9 * levels}-bit IOVAs), caching mode "
          f"{'on' if cap >> 7 & 1 else 'off'}")
    pages = iter(range(TABLES, TABLES + 0x40000, 0x1000))
    root, ctx, slpt = next(pages), next(pages), next(pages)
    for page in (root, ctx, slpt):
        qt.cmd(f"memset 0x{page:x} 4096 0", echo=False)
    bus, dev, fn = bdf
    devfn = dev << 3 | fn
    print(f"  root table 0x{root:x} -> context table 0x{ctx:x} -> "
          f"page table 0x{slpt:x} (domain {DOMAIN_ID})")
    qt.cmd(f"writeq 0x{root + 16 * bus:x} 0x{ctx | 1:x}")
    qt.cmd(f"writeq 0x{ctx + 16 * devfn + 8:x} 0x{aw | DOMAIN_ID << 8:x}")
    qt.cmd(f"writeq 0x{ctx + 16 * devfn:x} 0x{slpt | 1:x}")
    tables = {}
    for iova, gpa in ((IOVA_SRC, GPA_SRC), (IOVA_DST, GPA_DST)):
        table = slpt
        for level in range(levels, 1, -1):
            idx = iova >> (12 + 9 * (level - 1)) & 0x1FF
            key = (level, iova >> (12 + 9 * level))
            if key not in tables:
                tables[key] = next(pages)
                qt.cmd(f"memset 0x{tables[key]:x} 4096 0", echo=False)
                qt.cmd(f"writeq 0x{table + 8 * idx:x} "
                       f"0x{tables[key] | SL_RW:x}", echo=False)
            table = tables[key]
        qt.cmd(f"writeq 0x{table + 8 * (iova >> 12 & 0x1FF):x} "
               f"0x{gpa | SL_RW:x}")
        print(f"    IOVA 0x{iova:x} -> GPA 0x{gpa:x}")
    qt.cmd(f"writeq 0x{VTD + VTD_RTADDR:x} 0x{root:x}")
    vtd_gcmd(qt, GCMD_SRTP)
    # register-based invalidation: context cache, then IOTLB, globally
    qt.cmd(f"writeq 0x{VTD + VTD_CCMD:x} 0x{1 << 63 | 1 << 61:x}")
    iotlb = VTD + (ecap >> 8 & 0x3FF) * 16 + 8
    qt.cmd(f"writeq 0x{iotlb:x} 0x{1 << 63 | 1 << 60:x}")
    gsts = vtd_gcmd(qt, GCMD_TE)
    if not gsts & GCMD_TE:
        raise RuntimeError("VT-d translation did not turn on")
    print("  translation enabled (GSTS.TES)")


def find_dma_device(qt):
    for dev in range(32):
        if qt.cfg_read(0x00, (0, dev, 0)) == DMA_IDS:
            return (0, dev, 0)
    raise RuntimeError("no assigned dma device on bus 0")


def run_assigned_guest(qt):
    print("Guest: find the assigned device and enable it")
    bdf = find_dma_device(qt)
    print(f"  00:{bdf[1]:02x}.{bdf[2]} vendor:device = "
          f"{DMA_IDS & 0xffff:04x}:{DMA_IDS >> 16:04x} (the host's "
          "0000:02:00.0 through vfio-pci)")
    bar0 = qt.cfg_read(0x10, bdf) & ~0xF
    print(f"  BAR0 = 0x{bar0:x} (registers, trapped to the host device)")
    qt.cfg_write(0x04, (qt.cfg_read(0x04, bdf) & 0xFFFF) | 0x6, bdf)
    qt.cmd(f"readl 0x{bar0:x}")            # ID: "SDMA"

    print("Guest: program the vIOMMU")
    vtd_program(qt, bdf)

    print("Guest: stage the payload, clear the receive buffer, start DMA")
    qt.cmd(f"write 0x{GPA_SRC:x} {len(PAYLOAD2)} 0x{PAYLOAD2.hex()}")
    qt.cmd(f"memset 0x{GPA_DST:x} {len(PAYLOAD2)} 0")
    qt.cmd(f"writel 0x{bar0 + DMA_STATUS:x} 0x{DMA_DONE | DMA_ERROR:x}")
    qt.cmd(f"writeq 0x{bar0 + DMA_SRC:x} 0x{IOVA_SRC:x}")
    qt.cmd(f"writeq 0x{bar0 + DMA_DST:x} 0x{IOVA_DST:x}")
    qt.cmd(f"writel 0x{bar0 + DMA_LEN:x} 0x{len(PAYLOAD2):x}")
    qt.cmd(f"writel 0x{bar0 + DMA_CMD:x} 0x{DMA_START_COPY:x}")
    status = qt.readl(bar0 + DMA_STATUS)
    if status != DMA_DONE:
        raise RuntimeError(f"DMA failed: STATUS 0x{status:x}")
    data = bytes.fromhex(
        qt.cmd(f"read 0x{GPA_DST:x} {len(PAYLOAD2)}").split()[1][2:])
    print(f"  guest RAM at 0x{GPA_DST:x}: {data!r}")
    if data != PAYLOAD2:
        raise RuntimeError("DMA through the vIOMMU mismatch")
    print(f"  DMA to IOVA 0x{IOVA_DST:x} landed at GPA 0x{GPA_DST:x}: OK")


def print_hiods(qmp):
    hiods = qmp.cmd("query-host-iommu-devices")
    print(f"\nquery-host-iommu-devices ({len(hiods)}):")
    for h in hiods:
        for key, val in h.items():
            if isinstance(val, int) and not isinstance(val, bool) and \
                    key in ("hw-caps", "vtd-cap", "vtd-ecap",
                            "page-size-mask"):
                val = f"0x{val:x}"
            elif isinstance(val, bool):
                val = json.dumps(val)
            elif key == "iova-ranges":
                val = ", ".join(f"0x{r['start']:x}-0x{r['end']:x}"
                                for r in val)
            print(f"  {key:<15} {val}")


# --- Part 3: a host the vIOMMU refuses ---------------------------------------

REFUSE_ARGS = [
    "-device", "intel-iommu,aw-bits=48,caching-mode=on",
    "-object", "sim-host,id=h0,aw-bits=39",
    "-object", "sim-pci-device,id=d0,sim-host=h0,host=0000:02:00.0,"
               "iommu-group=5",
    "-object", "iommufd,id=fd0",
    "-device", "vfio-pci,host=0000:02:00.0,iommufd=fd0,id=hostdev0",
]


def run_refusal(binary):
    args = [binary, "-M", "q35", "-accel", "qtest", "-qtest", "null",
            "-display", "none", "-nodefaults"] + REFUSE_ARGS
    print("Starting:", " ".join([binary, "-M q35 ..."] + REFUSE_ARGS))
    print("  (the host IOMMU translates 39-bit IOVAs; the vIOMMU offers 48)")
    try:
        proc = subprocess.run(args, capture_output=True, text=True,
                              timeout=10)
    except subprocess.TimeoutExpired:
        print("  the machine started: the refusal is PENDING "
              "(not implemented by this binary yet)")
        return True
    for line in proc.stderr.splitlines():
        print(f"  stderr: {line}")
    print(f"  exit status {proc.returncode}")
    if proc.returncode == 1 and "Failed to set vIOMMU" in proc.stderr:
        print("  refused, as it must be")
    else:
        print("  the refusal is PENDING (not implemented by this binary "
              "yet)")
    return proc.returncode != 0


class Machine:
    """A viommu process with a qtest and a QMP socket."""

    def __init__(self, binary, tmp, extra):
        qtest_path = os.path.join(tmp, "qtest.sock")
        qmp_path = os.path.join(tmp, "qmp.sock")
        listeners = []
        for path in (qtest_path, qmp_path):
            if os.path.exists(path):
                os.unlink(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            listeners.append(s)
        args = [binary, "-M", "q35", "-accel", "qtest",
                "-qtest", f"unix:{qtest_path}", "-qtest-log", "/dev/null",
                "-chardev", f"socket,path={qmp_path},id=qmp",
                "-mon", "chardev=qmp,mode=control",
                "-display", "none", "-nodefaults"] + extra
        print("Starting:", " ".join(args[:1] + ["-M q35 ..."] + extra))
        self.proc = subprocess.Popen(args)
        try:
            self.qt = QTest(accept(listeners[0]))
            self.qmp = QMP(accept(listeners[1]))
        except Exception:
            self.kill()
            raise
        finally:
            for s in listeners:
                s.close()
        self.qt.cmd("endianness")
        version = self.qmp.greeting["QMP"]["version"]
        print(f"QMP greeting: {version['package']}")
        self.qmp.cmd("qmp_capabilities")

    def quit(self):
        self.qmp.cmd("quit")
        self.proc.wait(timeout=30)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()



# --- Part 4: a real guest under KVM ------------------------------------------

GUEST_RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "tests", "guest", "run-guest.py")


def load_guest_runner():
    spec = importlib.util.spec_from_file_location("run_guest", GUEST_RUNNER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def vfio_vtd_args():
    """The emulator arguments of the vfio-vtd program (as its meson test)."""
    return ["-device", "intel-iommu,caching-mode=on",
            "-object", "sim-host,id=h",
            "-object", "sim-pci-device,id=d0,sim-host=h,host=0000:02:00.0,"
                       "iommu-group=5",
            "-device", "vfio-pci,host=0000:02:00.0,addr=04.0,id=vfio0"]


def run_kvm_guest(binary, tmp):
    """Boot vfio-vtd.elf under -accel kvm; True unless the guest failed."""
    runner = load_guest_runner()
    kernel = os.path.join(os.path.dirname(os.path.abspath(binary)),
                          "tests", "guest", "vfio-vtd.elf")
    reason = runner.kvm_unusable_reason()
    if reason is None and runner.binary_has_kvm(binary) is False:
        reason = "this binary has no kvm accelerator"
    if reason is None and not os.path.exists(kernel):
        reason = f"{kernel} is not built (ninja -C build)"
    if reason:
        print(f"  skipped: {reason}")
        return True
    log = os.path.join(tmp, "serial.log")
    qmp_path = os.path.join(tmp, "qmp-kvm.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(qmp_path)
    listener.listen(1)
    args = runner.guest_command(binary, kernel, log, vfio_vtd_args()) + [
        "-S", "-chardev", f"socket,path={qmp_path},id=qmp",
        "-mon", "chardev=qmp,mode=control"]
    print("Starting:", " ".join([binary, "-M q35 -accel kvm -kernel",
                                 "vfio-vtd.elf ..."] + vfio_vtd_args()))
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    try:
        qmp = QMP(accept(listener))
        qmp.cmd("qmp_capabilities")
        print_hiods(qmp)
        print("\nQMP cont: the guest runs")
        qmp.cmd("cont")
        _, stderr = proc.communicate(timeout=60)
    except (subprocess.TimeoutExpired, OSError, RuntimeError) as e:
        print(f"  the guest did not finish: {e}")
        return False
    finally:
        listener.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(log, errors="replace") as f:
        serial = f.read()
    print("Guest serial output:")
    for line in serial.splitlines():
        print(f"  | {line}")
    for line in stderr.splitlines():
        print(f"  stderr: {line}")
    ok = proc.returncode == runner.PASS_STATUS and "PASS" in serial.split()
    print(f"viommu exited with status {proc.returncode} "
          f"({'the guest passed' if ok else 'the guest FAILED'})")
    return ok


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else \
        "build/viommu-system-x86_64"
    with tempfile.TemporaryDirectory() as tmp:
        print("=== 1. q35 + edu ===")
        m = Machine(binary, tmp, ["-device", "edu,addr=03.0,id=edu0"])
        try:
            run_guest(m.qt)

            print("\nQOM tree under /machine:")
            for line in qom_tree(m.qmp, "/machine"):
                print("  " + line)
            commands = sorted(c["name"] for c in m.qmp.cmd("query-commands"))
            print(f"\nQMP commands ({len(commands)}):")
            for i in range(0, len(commands), 4):
                print("  " + "  ".join(f"{c:<26}" for c in commands[i:i + 4]))
            status = m.quit()
        finally:
            m.kill()
        print(f"\nviommu exited with status {status}")
        if status != 0:
            return 1

        print("\n=== 2. q35 + intel-iommu + vfio-pci on a simulated host ===")
        m = Machine(binary, tmp, ASSIGN_ARGS)
        try:
            run_assigned_guest(m.qt)
            print_hiods(m.qmp)
            status = m.quit()
        finally:
            m.kill()
        print(f"\nviommu exited with status {status}")
        if status != 0:
            return 1

        print("\n=== 3. an incompatible host: the vIOMMU refuses it ===")
        if not run_refusal(binary):
            return 1

        print("\n=== 4. a guest program under KVM: vfio-vtd ===")
        if not run_kvm_guest(binary, tmp):
            return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
