/*
 * fuzz_inquiry.c - pr_decode_inquiry on any bytes (standard INQUIRY data,
 * SPC-4 6.6.2: a field is decoded only when all its bytes arrived within
 * 5 + ADDITIONAL LENGTH).
 */
#include "fuzz.h"

static int spaces(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != ' ')
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    struct pr_inquiry out;
    uint64_t needed = 0;
    uint64_t end;
    int rc = pr_decode_inquiry(data, length, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    if (length < 5) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 5);
        FUZZ_CHECK(spaces(out.vendor, 8) && spaces(out.product, 16) && spaces(out.revision, 4));
        return 0;
    }
    FUZZ_CHECK(needed == 5u + data[4] && out.additional_length == data[4]);
    FUZZ_CHECK(rc == (needed <= length ? PR_OK : PR_ERR_SHORT));
    end = needed < length ? needed : length;
    FUZZ_CHECK(out.peripheral_qualifier == data[0] >> 5);
    FUZZ_CHECK(out.peripheral_type == (data[0] & 0x1F));
    FUZZ_CHECK(out.removable == data[1] >> 7 && out.version == data[2]);
    FUZZ_CHECK(out.response_data_format == (data[3] & 0x0F));
    FUZZ_CHECK(out.target_port_group_support == (end > 5 ? (data[5] >> 4) & 3 : 0));
    FUZZ_CHECK(out.multi_port == (end > 6 ? (data[6] >> 4) & 1 : 0));
    FUZZ_CHECK(end >= 16 ? memcmp(out.vendor, data + 8, 8) == 0 : spaces(out.vendor, 8));
    FUZZ_CHECK(end >= 32 ? memcmp(out.product, data + 16, 16) == 0 : spaces(out.product, 16));
    FUZZ_CHECK(end >= 36 ? memcmp(out.revision, data + 32, 4) == 0 : spaces(out.revision, 4));
    return 0;
}
