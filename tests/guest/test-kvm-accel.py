#!/usr/bin/env python3
"""
-accel kvm end to end (docs/kvm.md): each case writes a tiny multiboot 1
ELF32 guest (hand-assembled 32-bit code, below), boots it with
`-accel kvm -kernel`, and checks what the guest wrote to the serial port,
the exit status, stderr and QMP events.

usage: test-kvm-accel.py VIOMMU_BINARY CASE

Cases that need /dev/kvm print why and exit 77 (meson: skipped) when it is
absent or unusable.  The guests exit through isa-debug-exit (iobase 0xf4):
status (v << 1) | 1.
"""
import importlib.util
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
TIMEOUT = 30            # seconds; a bound, never asserted as a duration

LOAD_ADDR = 0x100000    # the image (multiboot header, code, data)
DATA = 0x101000         # scratch data inside the image
AP_TRAMPOLINE = 0x30000  # SIPI vector 0x30
AP_FLAG = 0x30100
SERIAL = 0x3f8
DEBUG_EXIT = 0xf4


# --- A few x86 instructions (32-bit protected mode unless noted) -----------

class Asm:
    """Bytes plus label fixups; addresses are physical (paging off)."""

    def __init__(self, base):
        self.base = base
        self.code = bytearray()
        self.labels = {}
        self.fixups = []        # (offset, label, kind)

    def here(self):
        return self.base + len(self.code)

    def label(self, name):
        self.labels[name] = self.here()

    def b(self, *bs):
        self.code += bytes(bs)

    def d(self, v):
        self.code += struct.pack('<I', v & 0xffffffff)

    def ref32(self, label):     # absolute address of label
        self.fixups.append((len(self.code), label, 'abs32'))
        self.d(0)

    def rel8(self, op, label):
        self.b(op)
        self.fixups.append((len(self.code), label, 'rel8'))
        self.b(0)

    def jmp(self, label):
        self.rel8(0xeb, label)

    def jne(self, label):
        self.rel8(0x75, label)

    def je(self, label):
        self.rel8(0x74, label)

    def mov_r32(self, reg, imm):    # reg: 0 eax 1 ecx 2 edx 3 ebx 6 esi 7 edi
        self.b(0xb8 + reg)
        self.d(imm)

    def mov_r32_label(self, reg, label):
        self.b(0xb8 + reg)
        self.ref32(label)

    def mov_dx(self, imm):
        self.b(0x66, 0xba)
        self.code += struct.pack('<H', imm)

    def out_al(self, port, value):
        self.mov_dx(port)
        self.b(0xb0, value)     # mov al, imm8
        self.b(0xee)            # out dx, al

    def out_eax(self, port, value):
        self.mov_dx(port)
        self.mov_r32(0, value)
        self.b(0xef)            # out dx, eax

    def store32(self, addr, value):  # mov dword [addr], imm32
        self.b(0xc7, 0x05)
        self.d(addr)
        self.d(value)

    def load_eax(self, addr):       # mov eax, [addr]
        self.b(0xa1)
        self.d(addr)

    def cmp_eax(self, imm):
        self.b(0x3d)
        self.d(imm)

    def puts(self, text):
        for ch in text.encode():
            self.out_al(SERIAL, ch)

    def exit(self, value):
        self.out_eax(DEBUG_EXIT, value)
        self.b(0xfa, 0xf4, 0xeb, 0xfd)      # cli; hlt; jmp to the hlt

    def data(self, name, blob, align=4):
        while len(self.code) % align:
            self.b(0)
        self.label(name)
        self.code += blob

    def link(self):
        for off, label, kind in self.fixups:
            target = self.labels[label]
            if kind == 'abs32':
                self.code[off:off + 4] = struct.pack('<I', target)
            else:
                rel = target - (self.base + off + 1)
                assert -128 <= rel < 128, label
                self.code[off] = rel & 0xff
        return bytes(self.code)


def multiboot_elf(segments, entry):
    """An ELF32 (EM_386) multiboot 1 kernel: segments [(paddr, bytes)].

    The multiboot header (flags 0) is at the start of the first segment's
    file data, well within the first 8192 bytes."""
    phnum = len(segments)
    ehsize, phentsize = 52, 32
    offset = ehsize + phnum * phentsize
    offset = (offset + 15) & ~15
    phdrs = b''
    body = b''
    for paddr, blob in segments:
        phdrs += struct.pack('<IIIIIIII', 1, offset + len(body), paddr, paddr,
                             len(blob), len(blob), 7, 4)
        body += blob
        while len(body) % 16:
            body += b'\0'
    ident = b'\x7fELF' + bytes([1, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack('<HHIIIIIHHHHHH', 2, 3, 1, entry, ehsize, 0, 0,
                               ehsize, phentsize, phnum, 40, 0, 0)
    head = ehdr + phdrs
    head += bytes(((len(head) + 15) & ~15) - len(head))
    return head + body


def kernel(asm_fn, extra_segments=()):
    """Builds a kernel whose entry code is written by asm_fn(asm)."""
    a = Asm(LOAD_ADDR)
    magic, flags = 0x1BADB002, 0
    a.d(magic)
    a.d(flags)
    a.d(-(magic + flags))
    a.label('entry')
    asm_fn(a)
    return multiboot_elf([(LOAD_ADDR, a.link())] + list(extra_segments),
                         a.labels['entry'])


# --- Guests -------------------------------------------------------------

def guest_hello(a):
    """'hi' by string I/O (rep outsb), the fw_cfg signature read by string
    input (rep insb on 0x511) and printed, an MMIO read of the IOAPIC
    version register, then exit 0x10 (status 33)."""
    a.b(0xfc)                               # cld
    a.mov_r32_label(6, 'hi')                # esi = "hi"
    a.mov_r32(1, 2)                         # ecx = 2
    a.mov_dx(SERIAL)
    a.b(0xf3, 0x6e)                         # rep outsb
    a.out_al(SERIAL, ord(' '))
    # fw_cfg: select FW_CFG_SIGNATURE (0) with a 16-bit write to 0x510.
    a.mov_dx(0x510)
    a.b(0x31, 0xc0)                         # xor eax, eax
    a.b(0x66, 0xef)                         # out dx, ax
    a.mov_dx(0x511)
    a.mov_r32_label(7, 'buf')               # edi = buf
    a.mov_r32(1, 4)
    a.b(0xf3, 0x6c)                         # rep insb
    a.mov_r32_label(6, 'buf')
    a.mov_r32(1, 4)
    a.mov_dx(SERIAL)
    a.b(0xf3, 0x6e)                         # rep outsb
    a.out_al(SERIAL, ord(' '))
    # IOAPIC: IOREGSEL = 1 (version), read IOWIN: 0x00170020 (24 pins).
    a.store32(0xfec00000, 1)
    a.load_eax(0xfec00010)
    a.cmp_eax(0x00170020)
    a.jne('bad')
    a.puts('M\n')
    a.exit(0x10)
    a.label('bad')
    a.puts('m\n')
    a.exit(0x11)
    a.data('hi', b'hi')
    a.data('buf', bytes(8))


def ap_trampoline():
    """Real-mode code at 0x30000: set the flag at AP_FLAG, halt."""
    code = bytes([
        0xb8, 0x00, 0x30,           # mov ax, 0x3000
        0x8e, 0xd8,                 # mov ds, ax
        0xc6, 0x06, 0x00, 0x01, 0x01,  # mov byte [0x100], 1
        0xfa, 0xf4,                 # cli; hlt
        0xeb, 0xfc,                 # jmp to hlt
    ])
    return (AP_TRAMPOLINE, code + bytes(0x100 - len(code)) + bytes(16))


def guest_smp(a):
    """The BSP wakes vCPU 1 with INIT + SIPI (vector 0x30) through its
    local APIC's ICR; the AP, in real mode, sets a flag; the BSP prints
    'AP' when it sees it, 'no-AP' after a long wait."""
    a.store32(0xfee000f0, 0x1ff)            # SVR: APIC on, vector 0xff
    a.store32(0xfee00310, 1 << 24)          # ICR high: APIC id 1
    a.store32(0xfee00300, 0x4500)           # INIT, level assert
    a.mov_r32(1, 0x100000)                  # a short delay
    a.label('d1')
    a.b(0x49)                               # dec ecx
    a.jne('d1')
    a.store32(0xfee00300, 0x4600 | (AP_TRAMPOLINE >> 12))  # SIPI
    a.mov_r32(1, 0x40000000)                # bounded wait for the flag
    a.label('wait')
    a.b(0x80, 0x3d)                         # cmp byte [AP_FLAG], 1
    a.d(AP_FLAG)
    a.b(1)
    a.je('seen')
    a.b(0xf3, 0x90)                         # pause
    a.b(0x49)                               # dec ecx
    a.jne('wait')
    a.puts('no-AP\n')
    a.exit(0x11)
    a.label('seen')
    a.puts('AP\n')
    a.exit(0x10)


def guest_triple_fault(a):
    """lidt of a null IDT, then int3: #BP -> #GP -> #DF -> triple fault."""
    a.puts('tf\n')
    a.b(0x0f, 0x01, 0x1d)                   # lidt [idtr]
    a.ref32('idtr')
    a.b(0xcc)                               # int3
    a.exit(0x12)                            # never reached
    a.data('idtr', bytes(6))


def guest_boot_count(a):
    """Prints 'B' and halts with interrupts off: system_reset must bring
    the vCPU back to the kernel entry (another 'B')."""
    a.puts('B')
    a.label('spin')
    a.b(0xfa, 0xf4)                         # cli; hlt
    a.jmp('spin')


VEC = 0x40


def guest_ioapic(a, level):
    """PIT channel 0 (IRQ0 = IOAPIC pin 2) routed to vector 0x40 on APIC
    0, edge or level-triggered.  Each interrupt is counted and EOIed at
    the local APIC; after three the guest prints 'L3' and exits 0x10.
    Edge: three MSIs from the IOAPIC reached the vCPU (KVM_SIGNAL_MSI).
    Level: an entry is sent again only once the IOAPIC saw the EOI
    (KVM_EXIT_IOAPIC_EOI clears Remote IRR), so three prove the EOI path."""
    a.mov_r32_label(4, 'stack_top')         # esp (multiboot gives none)
    # IDT: 256 gates at 'idt', all to 'isr' (flat code selector 0x08).
    a.mov_r32_label(7, 'idt')               # edi = idt
    a.mov_r32(1, 256)
    a.label('fill')
    a.mov_r32_label(0, 'isr')               # eax = isr
    a.b(0x66, 0x89, 0x07)                   # mov [edi], ax
    a.b(0xc7, 0x47, 0x02)                   # mov dword [edi+2], 0x8e000008
    a.d(0x8e000008)
    a.b(0xc1, 0xe8, 0x10)                   # shr eax, 16
    a.b(0x66, 0x89, 0x47, 0x06)             # mov [edi+6], ax
    a.b(0x83, 0xc7, 0x08)                   # add edi, 8
    a.b(0x49)                               # dec ecx
    a.jne('fill')
    a.b(0x0f, 0x01, 0x1d)                   # lidt [idtr]
    a.ref32('idtr')
    a.store32(0xfee000f0, 0x1ff)            # SVR: APIC on
    a.store32(0xfee00080, 0)                # TPR 0
    # IOAPIC pin 2: vector VEC, fixed, physical dest 0, level, unmasked.
    a.store32(0xfec00000, 0x10 + 2 * 2 + 1)
    a.store32(0xfec00010, 0)
    a.store32(0xfec00000, 0x10 + 2 * 2)
    a.store32(0xfec00010, VEC | ((1 << 15) if level else 0))
    # PIT channel 0, mode 3 (square wave), lobyte/hibyte count 1193 (1 kHz).
    a.out_al(0x43, 0x36)
    a.out_al(0x40, 1193 & 0xff)
    a.out_al(0x40, 1193 >> 8)
    a.label('idle')
    a.b(0xa1)                               # mov eax, [count]
    a.ref32('count')
    a.cmp_eax(3)
    a.je('done')
    a.b(0xfb, 0xf4)                         # sti; hlt (atomically)
    a.jmp('idle')
    a.label('done')
    a.b(0xfa)                               # cli
    a.puts('L3\n')
    a.exit(0x10)
    # The handler drops its frame and goes back to the idle loop with
    # interrupts still off, instead of IRET (kvm_pvm cannot emulate a
    # 32-bit IRET: docs/kvm.md).
    a.label('isr')
    a.b(0xff, 0x05)                         # inc dword [count]
    a.ref32('count')
    a.store32(0xfee000b0, 0)                # local APIC EOI
    a.mov_r32_label(4, 'stack_top')         # esp = stack_top
    a.jmp('idle')
    a.data('count', bytes(4))
    a.data('idtr', b'')
    a.code += struct.pack('<H', 256 * 8 - 1)
    a.ref32('idt')
    a.data('idt', bytes(256 * 8), align=8)
    a.data('stack', bytes(1024), align=16)
    a.label('stack_top')


# --- Running ------------------------------------------------------------

def kvm_usable():
    """None when /dev/kvm can run a VM, else the reason (run-guest.py's
    check, shared with the guest programs' runner)."""
    spec = importlib.util.spec_from_file_location(
        'run_guest', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  'run-guest.py'))
    run_guest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_guest)
    return run_guest.kvm_unusable_reason()


class Run:
    def __init__(self, binary, tmp, image, args=(), qmp=False):
        self.tmp = tmp
        self.serial = os.path.join(tmp, 'serial.out')
        kpath = os.path.join(tmp, 'kernel.elf')
        with open(kpath, 'wb') as f:
            f.write(image)
        cmd = [binary, '-accel', 'kvm', '-machine', 'q35', '-m', '128',
               '-display', 'none', '-nodefaults', '-kernel', kpath,
               '-serial', 'file:' + self.serial,
               '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4']
        self.qmp_path = None
        if qmp:
            self.qmp_path = os.path.join(tmp, 'qmp.sock')
            cmd += ['-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path,
                    '-S']
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.sock = None
        self.buf = b''
        if qmp:
            self.qmp_connect()

    def qmp_connect(self):
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(self.qmp_path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.fail('no QMP socket')
                time.sleep(0.05)
        self.sock.settimeout(TIMEOUT)
        greeting = self.qmp_read()
        assert 'QMP' in greeting, greeting
        self.qmp('qmp_capabilities')

    def qmp_read(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def qmp(self, cmd, **args):
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        self.events = getattr(self, 'events', [])
        while True:
            r = self.qmp_read()
            if r is None:
                return None
            if 'event' in r:
                self.events.append(r)
                continue
            return r

    def wait_event(self, name):
        for e in getattr(self, 'events', []):
            if e['event'] == name:
                return e
        while True:
            r = self.qmp_read()
            if r is None:
                return None
            if r.get('event') == name:
                return r

    def serial_text(self):
        try:
            with open(self.serial, 'rb') as f:
                return f.read().decode(errors='replace')
        except FileNotFoundError:
            return ''

    def wait_serial(self, text):
        deadline = time.monotonic() + TIMEOUT
        while text not in self.serial_text():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.fail('serial never showed %r' % text)
            time.sleep(0.02)

    def finish(self):
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            self.fail('did not exit within %d s' % TIMEOUT, err)
        if self.sock:
            self.sock.close()
        return self.proc.returncode, err.decode(errors='replace')

    def fail(self, why, err=b''):
        if self.proc.poll() is None:
            self.proc.kill()
        _, rest = self.proc.communicate()
        sys.stderr.write((err or rest).decode(errors='replace'))
        print('FAIL: %s; serial: %r' % (why, self.serial_text()))
        sys.exit(1)


def check(cond, what, err=''):
    if not cond:
        sys.stderr.write(err)
        print('FAIL: ' + what)
        sys.exit(1)


def case_cpu_unknown_feature(binary, tmp):
    """Needs no KVM: -cpu is checked under every accelerator."""
    r = subprocess.run([binary, '-accel', 'qtest', '-display', 'none',
                        '-cpu', 'qemu64,+nosuchfeat'], capture_output=True,
                       timeout=TIMEOUT)
    err = r.stderr.decode()
    check(r.returncode == 1, 'exit status %d' % r.returncode, err)
    check("Property 'qemu64-x86_64-cpu.nosuchfeat' not found" in err,
          'message: %r' % err)
    r = subprocess.run([binary, '-accel', 'qtest', '-display', 'none',
                        '-cpu', 'pentium9'], capture_output=True,
                       timeout=TIMEOUT)
    check(r.returncode == 1 and
          "unable to find CPU model 'pentium9'" in r.stderr.decode(),
          'unknown model: %r' % r.stderr)
    # Known names, aliases and both switch syntaxes are accepted.
    r = subprocess.run([binary, '-accel', 'qtest', '-display', 'none',
                        '-cpu', 'max,+sse4_1,-avx2,x2apic=off,pdpe1gb=on',
                        '-machine', 'none', '-S', '-qmp', 'stdio'],
                       input=b'{"execute":"qmp_capabilities"}\n'
                             b'{"execute":"quit"}\n',
                       capture_output=True, timeout=TIMEOUT)
    check(r.returncode == 0, 'valid -cpu refused: %r' % r.stderr)


def case_no_kernel(binary, tmp):
    """Without firmware, -accel kvm refuses to start without -kernel."""
    r = subprocess.run([binary, '-accel', 'kvm', '-display', 'none'],
                       capture_output=True, timeout=TIMEOUT)
    err = r.stderr.decode()
    check(r.returncode == 1 and '-accel kvm needs -kernel' in err,
          'status %d, stderr %r' % (r.returncode, err))


def case_serial_exit(binary, tmp):
    run = Run(binary, tmp, kernel(guest_hello))
    status, err = run.finish()
    check(run.serial_text() == 'hi QEMU M\n',
          'serial %r' % run.serial_text(), err)
    check(status == (0x10 << 1) | 1, 'exit status %d' % status, err)


def case_smp2(binary, tmp):
    run = Run(binary, tmp, kernel(guest_smp, [ap_trampoline()]),
              ['-smp', '2'])
    status, err = run.finish()
    check(run.serial_text() == 'AP\n', 'serial %r' % run.serial_text(), err)
    check(status == 33, 'exit status %d' % status, err)


def case_triple_fault(binary, tmp):
    run = Run(binary, tmp, kernel(guest_triple_fault), qmp=True)
    r = run.qmp('cont')
    check(r is not None and 'return' in r, 'cont: %r' % r)
    ev = run.wait_event('SHUTDOWN')
    status, err = run.finish()
    check(ev is not None, 'no SHUTDOWN event', err)
    # A real KVM reports the triple fault (KVM_EXIT_SHUTDOWN); kvm_pvm
    # fails to emulate the exception delivery instead (KVM internal
    # error, suberror 1): both must stop the machine with a dump.
    if 'KVM: triple fault' in err:
        check(ev['data'] == {'guest': True, 'reason': 'guest-reset'},
              'SHUTDOWN data %r' % ev['data'], err)
    else:
        check('KVM internal error. Suberror: ' in err, 'no reason', err)
        check(ev['data'] == {'guest': False, 'reason': 'host-error'},
              'SHUTDOWN data %r' % ev['data'], err)
    check(status != 0, 'exit status 0 after a triple fault', err)
    check('EIP=' in err and 'CR0=' in err and 'GDT=' in err,
          'no register dump on stderr: %r' % err)
    check(run.serial_text() == 'tf\n', 'serial %r' % run.serial_text(), err)


def case_system_reset(binary, tmp):
    """QMP stop/cont, then system_reset: the BSP starts again at the
    kernel entry, which prints a second 'B'."""
    run = Run(binary, tmp, kernel(guest_boot_count), qmp=True)
    run.qmp('cont')
    run.wait_serial('B')
    # stop pauses the vCPUs (vm_stop waits for them), cont resumes.
    r = run.qmp('stop')
    check(r is not None and 'return' in r, 'stop: %r' % r)
    r = run.qmp('query-status')
    check(r['return']['status'] == 'paused', 'status %r' % r)
    run.qmp('cont')
    r = run.qmp('system_reset')
    check(r is not None and 'return' in r, 'system_reset: %r' % r)
    run.wait_serial('BB')
    run.qmp('quit')
    status, err = run.finish()
    check(status == 0, 'exit status %d' % status, err)
    check(run.serial_text() == 'BB', 'serial %r' % run.serial_text(), err)


def case_ioapic_edge(binary, tmp):
    run = Run(binary, tmp, kernel(lambda a: guest_ioapic(a, False)))
    status, err = run.finish()
    check(run.serial_text() == 'L3\n', 'serial %r' % run.serial_text(), err)
    check(status == 33, 'exit status %d' % status, err)


def case_ioapic_level_eoi(binary, tmp):
    run = Run(binary, tmp, kernel(lambda a: guest_ioapic(a, True)))
    status, err = run.finish()
    check(run.serial_text() == 'L3\n', 'serial %r' % run.serial_text(), err)
    check(status == 33, 'exit status %d' % status, err)


class QTest:
    """The qtest line protocol (docs/qtest.md): we listen, viommu
    connects (-qtest unix:PATH), one request, one reply line."""

    def __init__(self, binary, tmp, args):
        path = os.path.join(tmp, 'qtest.sock')
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(TIMEOUT)
        self.proc = subprocess.Popen(
            [binary, '-accel', 'qtest', '-qtest', 'unix:' + path,
             '-qtest-log', 'none', '-machine', 'q35', '-display', 'none',
             '-nodefaults'] + args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.sock, _ = srv.accept()
        except socket.timeout:
            self.proc.kill()
            check(False, 'viommu never connected to the qtest socket',
                  self.proc.communicate()[1].decode())
        srv.close()
        self.sock.settimeout(TIMEOUT)
        self.buf = b''

    def cmd(self, line):
        self.sock.sendall(line.encode() + b'\n')
        while b'\n' not in self.buf:
            chunk = self.sock.recv(4096)
            check(chunk, 'qtest connection closed after %r' % line)
            self.buf += chunk
        reply, self.buf = self.buf.split(b'\n', 1)
        reply = reply.decode()
        check(reply.startswith('OK'), '%r -> %r' % (line, reply))
        return reply[2:].strip()

    def writel(self, addr, val):
        self.cmd('writel 0x%x 0x%x' % (addr, val))

    def readl(self, addr):
        return int(self.cmd('readl 0x%x' % addr), 16)

    def writeq(self, addr, val):
        self.cmd('writeq 0x%x 0x%x' % (addr, val))

    def close(self):
        self.sock.close()
        self.proc.kill()
        self.proc.communicate()


IOAPIC = 0xfec00000
VTD = 0xfed90000
VTD_GCMD, VTD_GSTS, VTD_FSTS, VTD_IRTA = 0x18, 0x1c, 0x34, 0xb8
IRT = 0x200000          # interrupt remapping table in guest RAM
IOAPIC_SID = 0x00f0     # 00:1e.0, the DMAR's I/O APIC scope


def ioapic_set_rte(q, pin, rte):
    q.writel(IOAPIC, 0x10 + 2 * pin + 1)
    q.writel(IOAPIC + 0x10, rte >> 32)
    q.writel(IOAPIC, 0x10 + 2 * pin)
    q.writel(IOAPIC + 0x10, rte & 0xffffffff)


def remappable_rte(index, vector, level):
    """VT-d 5.1.5.1 (facts G.6): format bit 48, INDEX[15] in bit 11,
    INDEX[14:0] in bits 63:49."""
    return (vector | (1 << 15 if level else 0) |
            (1 << 11 if index & 0x8000 else 0) | 1 << 48 |
            (index & 0x7fff) << 49)


def irte_set(q, index, vector, level, sid):
    """Present, physical destination APIC 0, fixed; SVT 01: the full
    source id must match."""
    lo = 1 | (1 << 4 if level else 0) | vector << 16
    hi = sid | 1 << 18
    q.writeq(IRT + 16 * index, lo)
    q.writeq(IRT + 16 * index + 8, hi)


def case_ioapic_remappable_qtest(binary, tmp):
    """Needs no KVM.  An I/O APIC entry in remappable format goes through
    intel-iommu interrupt remapping with the I/O APIC's source id: the
    IRTE's message comes out; an IRTE whose SID is not 00:1e.0 blocks it
    with a fault; a compatibility-format entry is unchanged without IR."""
    q = QTest(binary, tmp, ['-device', 'intel-iommu,intremap=on'])
    try:
        # Without IR: compatibility format, unchanged (dest 1, vector 0x33).
        ioapic_set_rte(q, 10, 0x33 | 1 << 56)
        q.cmd('set_irq_in ioapic unnamed-gpio-in 10 1')
        check(q.cmd('msi_pop') == '0x00000000fee01000 0x00000033',
              'compat message')
        q.cmd('set_irq_in ioapic unnamed-gpio-in 10 0')
        ioapic_set_rte(q, 10, 1 << 16)              # masked
        # IR on: table of 256 entries at IRT.
        irte_set(q, 100, 0x51, True, IOAPIC_SID)
        irte_set(q, 101, 0x52, False, 0x0008)       # wrong SID (00:01.0)
        q.writeq(VTD + VTD_IRTA, IRT | 7)
        q.writel(VTD + VTD_GCMD, 1 << 24)           # SIRTP
        check(q.readl(VTD + VTD_GSTS) & (1 << 24), 'IRTPS not set')
        q.writel(VTD + VTD_GCMD, 1 << 25)           # IRE
        check(q.readl(VTD + VTD_GSTS) & (1 << 25), 'IRES not set')
        # Level, index 100: the IRTE's vector and trigger mode, dest 0.
        ioapic_set_rte(q, 21, remappable_rte(100, 0x51, True))
        q.cmd('set_irq_in ioapic unnamed-gpio-in 21 1')
        got = q.cmd('msi_pop')
        check(got == '0x00000000fee00000 0x0000c051',
              'remapped level message %r' % got)
        check(q.cmd('msi_pop') == 'none', 'one message only')
        check(not q.readl(VTD + VTD_FSTS) & 2, 'fault on a valid IRTE')
        # EOI register: Remote IRR clears and the high line is sent again.
        q.writel(IOAPIC + 0x40, 0x51)
        check(q.cmd('msi_pop') == '0x00000000fee00000 0x0000c051',
              're-sent after EOI')
        q.cmd('set_irq_in ioapic unnamed-gpio-in 21 0')
        # Index 101 names another requester: blocked, fault recorded.
        ioapic_set_rte(q, 22, remappable_rte(101, 0x52, False))
        q.cmd('set_irq_in ioapic unnamed-gpio-in 22 1')
        check(q.cmd('msi_pop') == 'none', 'SID mismatch was delivered')
        check(q.readl(VTD + VTD_FSTS) & 2, 'no fault for a SID mismatch')
    finally:
        q.close()


CASES = {
    'cpu-unknown-feature': (case_cpu_unknown_feature, False),
    'ioapic-remappable-qtest': (case_ioapic_remappable_qtest, False),
    'no-kernel': (case_no_kernel, False),
    'serial-exit': (case_serial_exit, True),
    'smp2': (case_smp2, True),
    'triple-fault': (case_triple_fault, True),
    'system-reset': (case_system_reset, True),
    'ioapic-edge': (case_ioapic_edge, True),
    'ioapic-level-eoi': (case_ioapic_level_eoi, True),
}

# What a paravirtual KVM cannot do (docs/kvm.md): reason to skip.
PVM_LIMITS = {
    'ioapic-level-eoi': 'kvm_pvm reports no KVM_EXIT_IOAPIC_EOI for the '
                        'split irqchip, so a level-triggered IOAPIC line '
                        'fires once',
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(__doc__)
        print('cases: ' + ' '.join(CASES))
        return 2
    fn, needs_kvm = CASES[sys.argv[2]]
    if needs_kvm:
        why = kvm_usable()
        if not why and sys.argv[2] in PVM_LIMITS and \
                os.path.exists('/sys/module/kvm_pvm'):
            why = PVM_LIMITS[sys.argv[2]]
        if why:
            print('SKIP: %s' % why)
            return SKIP
    with tempfile.TemporaryDirectory(prefix='kvm-accel-') as tmp:
        fn(sys.argv[1], tmp)
    print('PASS: %s' % sys.argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main())
