/*
 * fw_cfg over port I/O (control_boot_facts E; include/hw/nvram/fw_cfg.h).
 *
 * State: items[0] holds the generic keys (below FW_CFG_FILE_FIRST) and the
 * files (from FW_CFG_FILE_FIRST on, in name order); items[1] the
 * arch-local keys (0x8000 | n).  The selector picks one item and resets
 * the read offset; the data port and DMA read on from that offset.  An
 * out-of-range selector selects nothing, and then data reads 0.
 */
#include <assert.h>
#include <string.h>

#include "hw/boards.h"
#include "hw/nvram/fw_cfg.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"

#define FW_CFG_INVALID          0xffff
#define FW_CFG_FILE_SIZE        64      /* one FILE_DIR entry */
#define FW_CFG_ARCH_ITEMS       0x10    /* arch-local keys we keep */
#define FW_CFG_DMA_DESC_SIZE    16

typedef struct FWCfgItem {
    uint8_t *data;                      /* owned; NULL: empty */
    uint32_t len;
} FWCfgItem;

struct FWCfgState {
    DeviceState parent_obj;
    bool dma_enabled;                   /* property "dma_enabled" */
    uint32_t file_slots;                /* property "x-file-slots" */

    FWCfgItem *items[2];                /* [0]: FILE_FIRST + slots, [1] */
    char (*names)[FW_CFG_MAX_FILE_PATH];  /* file i's name */
    uint32_t nr_files;

    uint16_t cur_entry;                 /* selected key, or FW_CFG_INVALID */
    uint32_t cur_offset;
    uint64_t dma_addr;                  /* high half latched at 0x514 */

    MemoryRegion comb_io;               /* 0x510 selector, 0x511 data */
    MemoryRegion dma_io;                /* 0x514-0x51b */
    bool realized_io;
};

DECLARE_INSTANCE_CHECKER(FWCfgState, FW_CFG_IO, TYPE_FW_CFG_IO)

static uint32_t fw_cfg_nr_items(FWCfgState *s, bool arch)
{
    return arch ? FW_CFG_ARCH_ITEMS : FW_CFG_FILE_FIRST + s->file_slots;
}

/* The item key selects, or NULL if key is out of range. */
static FWCfgItem *fw_cfg_item(FWCfgState *s, uint16_t key)
{
    bool arch = key & FW_CFG_ARCH_LOCAL;
    uint32_t idx = key & FW_CFG_ENTRY_MASK;

    if (key == FW_CFG_INVALID || idx >= fw_cfg_nr_items(s, arch)) {
        return NULL;
    }
    return &s->items[arch][idx];
}

static void fw_cfg_item_set(FWCfgItem *item, const void *data, size_t len)
{
    g_free(item->data);
    item->data = len ? g_memdup2(data, len) : NULL;
    item->len = len;
}

static void fw_cfg_select(FWCfgState *s, uint16_t key)
{
    s->cur_offset = 0;
    /* The write-channel bit is legacy and ignored (E.1). */
    key &= ~FW_CFG_WRITE_CHANNEL;
    s->cur_entry = fw_cfg_item(s, key) ? key : FW_CFG_INVALID;
}

static uint8_t fw_cfg_read_byte(FWCfgState *s)
{
    FWCfgItem *item = fw_cfg_item(s, s->cur_entry);

    if (!item || s->cur_offset >= item->len) {
        return 0;
    }
    return item->data[s->cur_offset++];
}

/* --- C API ------------------------------------------------------------------ */

FWCfgState *fw_cfg_find(void)
{
    Object *obj = object_resolve_path("/machine/fw_cfg", NULL);

    return obj ? (FWCfgState *)object_dynamic_cast(obj, TYPE_FW_CFG_IO) :
                 NULL;
}

void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data,
                      size_t len)
{
    FWCfgItem *item = fw_cfg_item(s, key);

    /* Our own callers pass fixed keys; a file key goes through add_file. */
    assert(item && (key & FW_CFG_ARCH_LOCAL || key < FW_CFG_FILE_FIRST));
    assert(len <= UINT32_MAX);
    fw_cfg_item_set(item, data, len);
}

void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value)
{
    fw_cfg_add_bytes(s, key, value, strlen(value) + 1);
}

void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint8_t le[2] = { value, value >> 8 };

    fw_cfg_add_bytes(s, key, le, sizeof(le));
}

void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint8_t le[4];

    for (int i = 0; i < 4; i++) {
        le[i] = value >> (8 * i);
    }
    fw_cfg_add_bytes(s, key, le, sizeof(le));
}

void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint8_t le[8];

    for (int i = 0; i < 8; i++) {
        le[i] = value >> (8 * i);
    }
    fw_cfg_add_bytes(s, key, le, sizeof(le));
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* FILE_DIR: u32 count, then per file u32 size, u16 select, u16 0, name. */
static void fw_cfg_update_dir(FWCfgState *s)
{
    size_t len = 4 + (size_t)s->nr_files * FW_CFG_FILE_SIZE;
    g_autofree uint8_t *dir = g_malloc0(len);

    put_be32(dir, s->nr_files);
    for (uint32_t i = 0; i < s->nr_files; i++) {
        uint8_t *e = dir + 4 + i * FW_CFG_FILE_SIZE;
        uint16_t sel = FW_CFG_FILE_FIRST + i;

        put_be32(e, s->items[0][sel].len);
        e[4] = sel >> 8;
        e[5] = sel;
        memcpy(e + 8, s->names[i], FW_CFG_MAX_FILE_PATH);
    }
    fw_cfg_item_set(&s->items[0][FW_CFG_FILE_DIR], dir, len);
}

bool fw_cfg_add_file(FWCfgState *s, const char *name, const void *data,
                     size_t len, Error **errp)
{
    size_t nlen = strlen(name);
    uint32_t pos = 0;

    if (!nlen || nlen >= FW_CFG_MAX_FILE_PATH) {
        error_setg(errp, "fw_cfg: file name '%s' must have 1 to %d "
                   "characters", name, FW_CFG_MAX_FILE_PATH - 1);
        return false;
    }
    if (len > UINT32_MAX) {
        error_setg(errp, "fw_cfg: file '%s' is too large", name);
        return false;
    }
    while (pos < s->nr_files && strcmp(s->names[pos], name) < 0) {
        pos++;
    }
    if (pos < s->nr_files && !strcmp(s->names[pos], name)) {
        fw_cfg_item_set(&s->items[0][FW_CFG_FILE_FIRST + pos], data, len);
        fw_cfg_update_dir(s);
        return true;
    }
    if (s->nr_files >= s->file_slots) {
        error_setg(errp, "fw_cfg: no slot left for file '%s' (%u slots)",
                   name, s->file_slots);
        return false;
    }
    /* Keep name order: the files after pos move up one selector. */
    memmove(&s->names[pos + 1], &s->names[pos],
            (s->nr_files - pos) * sizeof(s->names[0]));
    memmove(&s->items[0][FW_CFG_FILE_FIRST + pos + 1],
            &s->items[0][FW_CFG_FILE_FIRST + pos],
            (s->nr_files - pos) * sizeof(FWCfgItem));
    memset(s->names[pos], 0, sizeof(s->names[pos]));
    memcpy(s->names[pos], name, nlen);
    s->items[0][FW_CFG_FILE_FIRST + pos] = (FWCfgItem){ NULL, 0 };
    fw_cfg_item_set(&s->items[0][FW_CFG_FILE_FIRST + pos], data, len);
    s->nr_files++;
    fw_cfg_update_dir(s);
    return true;
}

/* --- Port I/O: selector and data (E.1) -------------------------------------- */

static uint64_t fw_cfg_comb_read(void *opaque, hwaddr addr, unsigned size)
{
    return fw_cfg_read_byte(opaque);
}

static void fw_cfg_comb_write(void *opaque, hwaddr addr, uint64_t val,
                              unsigned size)
{
    /* A 16-bit write selects; byte writes to the data port are ignored. */
    if (size == 2) {
        fw_cfg_select(opaque, val);
    }
}

static bool fw_cfg_comb_valid(void *opaque, hwaddr addr, unsigned size,
                              bool is_write, MemTxAttrs attrs)
{
    return size == 1 || (is_write && size == 2 && addr == 0);
}

static const MemoryRegionOps fw_cfg_comb_ops = {
    .read = fw_cfg_comb_read,
    .write = fw_cfg_comb_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 2,
    .valid.accepts = fw_cfg_comb_valid,
    .impl.min_access_size = 1,
    .impl.max_access_size = 2,
};

/* --- DMA (E.4) ----------------------------------------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * Runs the descriptor at desc_addr: select, then read (zero-filling past
 * the end), skip or write (always an error: items are read-only).  The
 * control word is written back as 0, or FW_CFG_DMA_CTL_ERROR.
 */
static void fw_cfg_dma_transfer(FWCfgState *s, uint64_t desc_addr)
{
    uint8_t desc[FW_CFG_DMA_DESC_SIZE], status[4] = { 0 };
    uint32_t control, length;
    uint64_t addr;
    bool error = false;

    if (address_space_read(&address_space_memory, desc_addr,
                           MEMTXATTRS_UNSPECIFIED, desc, sizeof(desc))) {
        log_guest_error("fw_cfg: DMA descriptor at 0x%" PRIx64 " is not "
                        "readable", desc_addr);
        return;
    }
    control = get_be32(desc);
    length = get_be32(desc + 4);
    addr = (uint64_t)get_be32(desc + 8) << 32 | get_be32(desc + 12);

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, control >> 16);
    }
    if (control & FW_CFG_DMA_CTL_WRITE) {
        error = length > 0;
    } else if (control & (FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_SKIP)) {
        bool read = control & FW_CFG_DMA_CTL_READ;
        FWCfgItem *item = fw_cfg_item(s, s->cur_entry);

        while (length && !error) {
            uint32_t avail = item && s->cur_offset < item->len ?
                             item->len - s->cur_offset : 0;
            uint32_t len = avail ? MIN(length, avail) : length;

            if (read && avail) {
                error = address_space_write(&address_space_memory, addr,
                                            MEMTXATTRS_UNSPECIFIED,
                                            item->data + s->cur_offset,
                                            len) != MEMTX_OK;
            } else if (read) {
                /* Past the end: zero-fill, in bounded chunks. */
                static const uint8_t zeros[4096];

                len = MIN(len, sizeof(zeros));
                error = address_space_write(&address_space_memory, addr,
                                            MEMTXATTRS_UNSPECIFIED, zeros,
                                            len) != MEMTX_OK;
            }
            if (avail) {
                s->cur_offset += len;
            }
            addr += len;
            length -= len;
        }
    }
    if (error) {
        status[3] = FW_CFG_DMA_CTL_ERROR;
    }
    address_space_write(&address_space_memory, desc_addr,
                        MEMTXATTRS_UNSPECIFIED, status, sizeof(status));
}

static uint64_t fw_cfg_dma_read(void *opaque, hwaddr addr, unsigned size)
{
    uint64_t v = 0;

    /* The signature "QEMU CFG" in port order (big-endian). */
    for (unsigned i = 0; i < size; i++) {
        v |= ((FW_CFG_DMA_SIGNATURE >> (8 * (7 - (addr + i)))) & 0xff) <<
             (8 * i);
    }
    return v;
}

static void fw_cfg_dma_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    FWCfgState *s = opaque;
    uint32_t be = __builtin_bswap32((uint32_t)val);

    if (size != 4) {
        return;
    }
    if (addr == 0) {
        s->dma_addr = (uint64_t)be << 32;
    } else {
        /* Writing the low half starts the transfer. */
        uint64_t desc = s->dma_addr | be;

        s->dma_addr = 0;
        fw_cfg_dma_transfer(s, desc);
    }
}

static bool fw_cfg_dma_valid(void *opaque, hwaddr addr, unsigned size,
                             bool is_write, MemTxAttrs attrs)
{
    return !is_write || (size == 4 && (addr == 0 || addr == 4));
}

static const MemoryRegionOps fw_cfg_dma_ops = {
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
    .valid.accepts = fw_cfg_dma_valid,
    .impl.min_access_size = 1,
    .impl.max_access_size = 4,
};

/* --- Device ------------------------------------------------------------------ */

static bool fw_cfg_realize(DeviceState *dev, Error **errp)
{
    FWCfgState *s = FW_CFG_IO(dev);
    static const uint8_t uuid[16];

    if (s->file_slots < FW_CFG_FILE_SLOTS_DFLT ||
        s->file_slots > FW_CFG_ENTRY_MASK - FW_CFG_FILE_FIRST + 1) {
        error_setg(errp, "fw_cfg: x-file-slots %u is not in [0x%x, 0x%x]",
                   s->file_slots, FW_CFG_FILE_SLOTS_DFLT,
                   FW_CFG_ENTRY_MASK - FW_CFG_FILE_FIRST + 1);
        return false;
    }
    s->items[0] = g_new0(FWCfgItem, fw_cfg_nr_items(s, false));
    s->items[1] = g_new0(FWCfgItem, fw_cfg_nr_items(s, true));
    s->names = g_malloc0(sizeof(s->names[0]) * s->file_slots);

    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION |
                   (s->dma_enabled ? FW_CFG_VERSION_DMA : 0));
    fw_cfg_add_bytes(s, FW_CFG_UUID, uuid, sizeof(uuid));
    fw_cfg_add_i16(s, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_i16(s, FW_CFG_BOOT_MENU, 0);
    fw_cfg_update_dir(s);

    memory_region_init_io(&s->comb_io, OBJECT(s), &fw_cfg_comb_ops, s,
                          "fwcfg", 2);
    memory_region_add_subregion(get_system_io(), FW_CFG_IO_BASE, &s->comb_io);
    if (s->dma_enabled) {
        memory_region_init_io(&s->dma_io, OBJECT(s), &fw_cfg_dma_ops, s,
                              "fwcfg.dma", 8);
        memory_region_add_subregion(get_system_io(), FW_CFG_DMA_IO_BASE,
                                    &s->dma_io);
    }
    s->realized_io = true;
    fw_cfg_select(s, FW_CFG_SIGNATURE);
    return true;
}

static void fw_cfg_unrealize(DeviceState *dev)
{
    FWCfgState *s = FW_CFG_IO(dev);

    if (s->realized_io) {
        memory_region_finalize(&s->comb_io);
        if (s->dma_enabled) {
            memory_region_finalize(&s->dma_io);
        }
        s->realized_io = false;
    }
    for (int a = 0; a < 2; a++) {
        if (!s->items[a]) {
            continue;
        }
        for (uint32_t i = 0; i < fw_cfg_nr_items(s, a); i++) {
            g_free(s->items[a][i].data);
        }
        g_free(s->items[a]);
        s->items[a] = NULL;
    }
    g_free(s->names);
    s->names = NULL;
    s->nr_files = 0;
}

static void fw_cfg_reset(DeviceState *dev)
{
    FWCfgState *s = FW_CFG_IO(dev);

    s->dma_addr = 0;
    fw_cfg_select(s, FW_CFG_SIGNATURE);
}

static const Property fw_cfg_props[] = {
    DEFINE_PROP_BOOL("dma_enabled", FWCfgState, dma_enabled, true),
    DEFINE_PROP_UINT32("x-file-slots", FWCfgState, file_slots,
                       FW_CFG_FILE_SLOTS_DFLT),
    DEFINE_PROP_END_OF_LIST(),
};

static void fw_cfg_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "QEMU firmware configuration (port I/O)";
    dc->user_creatable = false;
    dc->hotpluggable = false;
    dc->realize = fw_cfg_realize;
    dc->unrealize = fw_cfg_unrealize;
    dc->reset = fw_cfg_reset;
    device_class_set_props(dc, fw_cfg_props);
}

/* --- The x86 machine's items ------------------------------------------------ */

#define E820_RAM 1

static void e820_put(uint8_t *e, uint64_t addr, uint64_t len)
{
    for (int i = 0; i < 8; i++) {
        e[i] = addr >> (8 * i);
        e[8 + i] = len >> (8 * i);
    }
    e[16] = E820_RAM;
    e[17] = e[18] = e[19] = 0;
}

FWCfgState *fw_cfg_init_x86(MachineState *ms, uint64_t below_4g,
                            Error **errp)
{
    DeviceState *dev = qdev_new(TYPE_FW_CFG_IO);
    FWCfgState *s = FW_CFG_IO(dev);
    uint16_t cpus = MAX(ms->smp_cpus, 1);
    uint8_t e820[2][20];
    size_t n = 0;

    object_property_add_child(OBJECT(ms), "fw_cfg", OBJECT(dev));
    object_unref(dev);
    if (!qdev_realize(dev, NULL, errp)) {
        object_unparent(OBJECT(dev));
        return NULL;
    }
    fw_cfg_add_i16(s, FW_CFG_NB_CPUS, cpus);
    fw_cfg_add_i16(s, FW_CFG_MAX_CPUS, MAX(ms->smp_max_cpus, cpus));
    fw_cfg_add_i64(s, FW_CFG_RAM_SIZE, ms->ram_size);
    fw_cfg_add_i32(s, FW_CFG_IRQ0_OVERRIDE, 1);
    e820_put(e820[n++], 0, below_4g);
    if (ms->ram_size > below_4g) {
        e820_put(e820[n++], 1ULL << 32, ms->ram_size - below_4g);
    }
    if (!fw_cfg_add_file(s, "etc/e820", e820, n * sizeof(e820[0]), errp)) {
        object_unparent(OBJECT(dev));
        return NULL;
    }
    return s;
}

static const TypeInfo fw_cfg_types[] = {
    {
        .name = TYPE_FW_CFG_IO,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(FWCfgState),
        .class_init = fw_cfg_class_init,
    },
};

DEFINE_TYPES(fw_cfg_types)
