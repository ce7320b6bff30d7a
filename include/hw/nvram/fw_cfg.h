/*
 * fw_cfg: the QEMU firmware configuration interface (control_boot_facts E).
 *
 * The machine's instance lives at /machine/fw_cfg (type "fw_cfg_io"): the
 * selector at port 0x510 (16-bit write), the data port 0x511 (byte reads,
 * writes ignored) and the DMA address register at 0x514-0x51b.  Items are
 * read-only to the guest.
 *
 * C API: code that builds the machine (ACPI tables, loaders) adds items
 * with the functions below.  Data is copied.  Adding a key or a file that
 * already exists replaces its contents, so a reset path may rebuild its
 * items every time; file selectors are 0x20 + the index in name order, so
 * adding a new file may renumber the files sorted after it (guests look
 * selectors up in FILE_DIR, never hard-code them).
 */
#ifndef HW_NVRAM_FW_CFG_H
#define HW_NVRAM_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qapi/error.h"

#define TYPE_FW_CFG_IO          "fw_cfg_io"

/* Keys (E.2); integer items are little-endian. */
#define FW_CFG_SIGNATURE        0x00
#define FW_CFG_ID               0x01
#define FW_CFG_UUID             0x02
#define FW_CFG_RAM_SIZE         0x03
#define FW_CFG_NOGRAPHIC        0x04
#define FW_CFG_NB_CPUS          0x05
#define FW_CFG_MACHINE_ID       0x06
#define FW_CFG_KERNEL_ADDR      0x07
#define FW_CFG_KERNEL_SIZE      0x08
#define FW_CFG_KERNEL_CMDLINE   0x09
#define FW_CFG_INITRD_ADDR      0x0a
#define FW_CFG_INITRD_SIZE      0x0b
#define FW_CFG_BOOT_DEVICE      0x0c
#define FW_CFG_NUMA             0x0d
#define FW_CFG_BOOT_MENU        0x0e
#define FW_CFG_MAX_CPUS         0x0f
#define FW_CFG_KERNEL_ENTRY     0x10
#define FW_CFG_KERNEL_DATA      0x11
#define FW_CFG_INITRD_DATA      0x12
#define FW_CFG_CMDLINE_ADDR     0x13
#define FW_CFG_CMDLINE_SIZE     0x14
#define FW_CFG_CMDLINE_DATA     0x15
#define FW_CFG_SETUP_ADDR       0x16
#define FW_CFG_SETUP_SIZE       0x17
#define FW_CFG_SETUP_DATA       0x18
#define FW_CFG_FILE_DIR         0x19
#define FW_CFG_FILE_FIRST       0x20
#define FW_CFG_WRITE_CHANNEL    0x4000  /* legacy, ignored */
#define FW_CFG_ARCH_LOCAL       0x8000
#define FW_CFG_ENTRY_MASK       0x3fff
#define FW_CFG_ACPI_TABLES      (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES   (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE    (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_HPET             (FW_CFG_ARCH_LOCAL + 4)

/* FW_CFG_ID bits */
#define FW_CFG_VERSION          0x01    /* the traditional interface */
#define FW_CFG_VERSION_DMA      0x02

/* File directory entry (E.3), big-endian fields. */
#define FW_CFG_MAX_FILE_PATH    56
#define FW_CFG_FILE_SLOTS_DFLT  0x20

/* DMA control bits (E.4) */
#define FW_CFG_DMA_CTL_ERROR    0x01
#define FW_CFG_DMA_CTL_READ     0x02
#define FW_CFG_DMA_CTL_SKIP     0x04
#define FW_CFG_DMA_CTL_SELECT   0x08
#define FW_CFG_DMA_CTL_WRITE    0x10
#define FW_CFG_DMA_SIGNATURE    0x51454d5520434647ULL  /* "QEMU CFG" */

#define FW_CFG_IO_BASE          0x510
#define FW_CFG_DMA_IO_BASE      0x514

typedef struct FWCfgState FWCfgState;

/* The machine's fw_cfg (/machine/fw_cfg), or NULL. */
FWCfgState *fw_cfg_find(void);

/* key: one of the keys above, below FW_CFG_FILE_FIRST or arch-local. */
void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data,
                      size_t len);
void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value);
void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value);
void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value);
void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value);
/*
 * name: at most 55 bytes ("etc/..."); false with errp if it is empty or
 * too long, or the directory is full.
 */
bool fw_cfg_add_file(FWCfgState *s, const char *name, const void *data,
                     size_t len, Error **errp);

/*
 * Creates /machine/fw_cfg with the x86 items of a q35 machine: NB_CPUS,
 * MAX_CPUS, RAM_SIZE (all of -m), IRQ0_OVERRIDE and etc/e820 (RAM
 * [0, below_4g) and [4 GiB, 4 GiB + ram_size - below_4g)).
 */
struct MachineState;
FWCfgState *fw_cfg_init_x86(struct MachineState *ms, uint64_t below_4g,
                            Error **errp);

#endif
