/*
 * fuzz_windows_identity.c - the decoders of IOCTL_STORAGE_QUERY_PROPERTY's
 * output on any bytes: the first input byte picks the descriptor
 * (even: STORAGE_DEVICE_DESCRIPTOR, odd: STORAGE_DEVICE_ID_DESCRIPTOR),
 * the rest is what the driver returned.  A page built from a device ID
 * descriptor must be a VPD page 83h that pr_decode_device_identification
 * accepts whole, one designator per identifier.
 */
#include "fuzz.h"

/* pr_winbuf.c is not in scripts/fuzz's core list (the other targets need
 * only the SCSI decoders): built into this target alone. */
#include "pr_winbuf.c"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static void check_string(const uint8_t *data, uint32_t size, uint32_t offset, uint32_t length)
{
    if (offset == 0) {
        FUZZ_CHECK(length == 0);
        return;
    }
    FUZZ_CHECK(offset >= 36 && offset + length < size && data[offset + length] == 0);
    FUZZ_CHECK(memchr(data + offset, 0, length) == NULL);
}

static void device_descriptor(const uint8_t *data, uint32_t length)
{
    struct pr_win_device_descriptor out;
    uint64_t needed = 0;
    int rc = pr_win_decode_device_descriptor(data, length, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    if (length >= 8)
        FUZZ_CHECK(needed == (le32(data + 4) > 36 ? le32(data + 4) : 36));
    if (rc != PR_OK) {
        FUZZ_CHECK(out.vendor_offset == 0 && out.product_offset == 0 &&
                   out.revision_offset == 0 && out.serial_offset == 0);
        return;
    }
    FUZZ_CHECK(out.size == needed && out.size <= length && out.device_type <= 0x1F);
    check_string(data, out.size, out.vendor_offset, out.vendor_length);
    check_string(data, out.size, out.product_offset, out.product_length);
    check_string(data, out.size, out.revision_offset, out.revision_length);
    check_string(data, out.size, out.serial_offset, out.serial_length);
}

static void device_id_descriptor(const uint8_t *data, uint32_t length)
{
    uint8_t *page = fuzz_array(length > 4 ? length : 4, 1);
    uint32_t page_length = 0;
    uint64_t needed = 0;
    int rc = pr_win_device_id_page(data, length, page, length > 4 ? length : 4, &page_length,
                                   &needed);
    struct pr_designator *designators;
    struct pr_vpd_page out;
    uint64_t page_needed = 0;

    /* capacity >= length always suffices: never PR_ERR_ARGUMENT */
    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    if (rc != PR_OK) {
        FUZZ_CHECK(page_length == 0);
        free(page);
        return;
    }
    FUZZ_CHECK(needed <= length && page_length >= 4 && page_length <= length);
    FUZZ_CHECK(page[1] == 0x83 && fuzz_be16(page + 2) + 4u == page_length);
    designators = fuzz_array(le32(data + 8) + 1, sizeof(*designators));
    rc = pr_decode_device_identification(page, page_length, designators, le32(data + 8) + 1,
                                         &out, &page_needed);
    FUZZ_CHECK(rc == PR_OK && out.count == le32(data + 8) && page_needed == page_length);
    free(designators);
    free(page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length;
    uint8_t *copy;

    if (size < 1)
        return 0;
    length = size - 1 > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)(size - 1);
    /* exactly the bytes that arrived, so a read past them is an ASan report */
    copy = fuzz_array(length > 0 ? length : 1, 1);
    memcpy(copy, data + 1, length);
    if (data[0] % 2 == 0)
        device_descriptor(copy, length);
    else
        device_id_descriptor(copy, length);
    free(copy);
    return 0;
}
