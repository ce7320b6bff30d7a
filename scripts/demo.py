#!/usr/bin/env python3
"""viommu demo: a q35 machine with an edu device, driven over qtest.

A small scripted "guest" finds the edu device in PCI configuration space,
enables it, checks it is alive, and moves a buffer RAM -> device -> RAM with
the edu DMA engine, stepping the virtual clock to let the transfers run.
Then it asks QMP for the QOM tree and the command list.

Usage: demo.py PATH-TO-viommu-system-x86_64
"""

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

    def cfg_read(self, off):
        bus, dev, fn = EDU_BDF
        self.outl(0xCF8, 0x80000000 | bus << 16 | dev << 11 | fn << 8 | off)
        return self.inl(0xCFC)

    def cfg_write(self, off, val):
        bus, dev, fn = EDU_BDF
        self.outl(0xCF8, 0x80000000 | bus << 16 | dev << 11 | fn << 8 | off)
        self.outl(0xCFC, val)


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


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else \
        "build/viommu-system-x86_64"
    with tempfile.TemporaryDirectory() as tmp:
        qtest_path = os.path.join(tmp, "qtest.sock")
        qmp_path = os.path.join(tmp, "qmp.sock")
        listeners = []
        for path in (qtest_path, qmp_path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            listeners.append(s)
        args = [binary, "-M", "q35", "-accel", "qtest",
                "-qtest", f"unix:{qtest_path}", "-qtest-log", "/dev/null",
                "-chardev", f"socket,path={qmp_path},id=qmp",
                "-mon", "chardev=qmp,mode=control",
                "-display", "none", "-nodefaults",
                "-device", "edu,addr=03.0,id=edu0"]
        print("Starting:", " ".join(args[:1] + ["..."] + args[-2:]))
        proc = subprocess.Popen(args)
        try:
            qt = QTest(accept(listeners[0]))
            qmp = QMP(accept(listeners[1]))
            qt.cmd("endianness")
            version = qmp.greeting["QMP"]["version"]
            print(f"QMP greeting: {version['package']}")
            qmp.cmd("qmp_capabilities")

            run_guest(qt)

            print("\nQOM tree under /machine:")
            for line in qom_tree(qmp, "/machine"):
                print("  " + line)
            commands = sorted(c["name"] for c in qmp.cmd("query-commands"))
            print(f"\nQMP commands ({len(commands)}):")
            for i in range(0, len(commands), 4):
                print("  " + "  ".join(f"{c:<26}" for c in commands[i:i + 4]))
            qmp.cmd("quit")
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"\nviommu exited with status {proc.returncode}")
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
