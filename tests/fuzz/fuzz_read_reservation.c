/*
 * fuzz_read_reservation.c - pr_decode_read_reservation on any bytes (a READ
 * RESERVATION response, SPC-4 6.15.3: header, then at most one 16-byte
 * descriptor).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    struct pr_reservation out;
    uint64_t needed = 0;
    uint32_t additional;
    int rc = pr_decode_read_reservation(data, length, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    FUZZ_CHECK(needed >= 8);
    if (length < 8) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 8 && !out.reserved);
        return 0;
    }
    additional = fuzz_be32(data + 4);
    FUZZ_CHECK(needed == 8 + (uint64_t)additional);
    FUZZ_CHECK(out.generation == fuzz_be32(data) && out.additional_length == additional);
    if (additional == 0) {
        FUZZ_CHECK(rc == PR_OK && !out.reserved);
        return 0;
    }
    if (additional % 16 != 0) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED);
        return 0;
    }
    if (length < 24) {
        FUZZ_CHECK(rc == PR_ERR_SHORT && !out.reserved);
        return 0;
    }
    FUZZ_CHECK(rc == (needed <= length ? PR_OK : PR_ERR_SHORT));
    FUZZ_CHECK(out.reserved == 1);
    FUZZ_CHECK(out.key == fuzz_be64(data + 8));
    FUZZ_CHECK(out.scope_specific_address == fuzz_be32(data + 16));
    FUZZ_CHECK(out.scope == data[21] >> 4 && out.type == (data[21] & 0x0F));
    return 0;
}
