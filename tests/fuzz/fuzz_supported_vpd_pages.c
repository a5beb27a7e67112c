/*
 * fuzz_supported_vpd_pages.c - pr_decode_supported_vpd_pages on any bytes
 * (VPD page 00h, SPC-4 7.8.16: one byte per supported page code).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    struct pr_vpd_page out;
    uint64_t needed = 0;
    uint32_t arrived;
    int rc = pr_decode_supported_vpd_pages(data, length, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    if (length < 4) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 4);
        return 0;
    }
    FUZZ_CHECK(needed == 4 + fuzz_be16(data + 2) && out.page_length == fuzz_be16(data + 2));
    FUZZ_CHECK(out.page_code == data[1] && out.peripheral_type == (data[0] & 0x1F));
    if (data[1] != PR_VPD_SUPPORTED_PAGES) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && out.value_length == 0);
        return 0;
    }
    FUZZ_CHECK(rc == (needed <= length ? PR_OK : PR_ERR_SHORT));
    arrived = length - 4 < out.page_length ? length - 4 : out.page_length;
    FUZZ_CHECK(out.value_offset == 4 && out.value_length == arrived && out.count == arrived);
    FUZZ_CHECK((uint64_t)out.value_offset + out.value_length <= length);
    return 0;
}
