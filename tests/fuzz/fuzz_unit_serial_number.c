/*
 * fuzz_unit_serial_number.c - pr_decode_unit_serial_number on any bytes (VPD
 * page 80h, SPC-4 7.8.18: PRODUCT SERIAL NUMBER, decoded only when the whole
 * page arrived, without its leading and trailing spaces and NULs).
 */
#include "fuzz.h"

static int pads(const uint8_t *p, uint64_t from, uint64_t to)
{
    uint64_t i;

    for (i = from; i < to; i++)
        if (p[i] != ' ' && p[i] != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    struct pr_vpd_page out;
    uint64_t needed = 0;
    uint64_t start;
    uint64_t end;
    int rc = pr_decode_unit_serial_number(data, length, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    if (length < 4) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 4);
        return 0;
    }
    FUZZ_CHECK(needed == 4 + fuzz_be16(data + 2) && out.page_code == data[1]);
    if (data[1] != PR_VPD_UNIT_SERIAL_NUMBER) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && out.value_length == 0);
        return 0;
    }
    if (needed > length) {
        /* A cut serial number would name another unit: nothing decoded. */
        FUZZ_CHECK(rc == PR_ERR_SHORT && out.value_length == 0);
        return 0;
    }
    FUZZ_CHECK(rc == PR_OK);
    start = out.value_offset;
    end = start + out.value_length;
    FUZZ_CHECK(start >= 4 && end <= needed);
    FUZZ_CHECK(pads(data, 4, start) && pads(data, end, needed));
    if (out.value_length > 0)
        FUZZ_CHECK(!pads(data, start, start + 1) && !pads(data, end - 1, end));
    return 0;
}
