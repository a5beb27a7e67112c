/*
 * fuzz_sense.c - pr_decode_sense on any bytes: fixed (70h/71h, SPC-4 4.5.3)
 * or descriptor (72h/73h, SPC-4 4.5.2) sense data.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    struct pr_sense out;
    uint32_t total;
    uint8_t code;
    int rc = pr_decode_sense(length > 0 ? data : NULL, length, &out);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_MALFORMED);
    if (length == 0) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED);
        return 0;
    }
    code = data[0] & 0x7F;
    FUZZ_CHECK(out.response_code == code);
    FUZZ_CHECK((rc == PR_OK) == (code >= 0x70 && code <= 0x73));
    if (rc != PR_OK)
        return 0;
    FUZZ_CHECK(out.deferred == (code == 0x71 || code == 0x73));
    FUZZ_CHECK(out.descriptor_format == (code >= 0x72));
    FUZZ_CHECK(out.sense_key <= 0x0F);
    FUZZ_CHECK(out.information_valid <= 1 && out.sense_key_specific_valid <= 1);
    FUZZ_CHECK(out.filemark <= 1 && out.end_of_medium <= 1 && out.incorrect_length <= 1);
    FUZZ_CHECK(out.sense_key_specific <= 0xFFFFFF);
    /* ADDITIONAL SENSE LENGTH is believed only as far as bytes arrived. */
    total = length > 7 && 8u + data[7] < length ? 8u + data[7] : length;
    if (code <= 0x71) {
        FUZZ_CHECK(out.sense_key == (total > 2 ? (data[2] & 0x0F) : 0));
        FUZZ_CHECK(out.asc == (total > 12 ? data[12] : 0));
        FUZZ_CHECK(out.ascq == (total > 13 ? data[13] : 0));
        FUZZ_CHECK(out.information == (total > 6 ? fuzz_be32(data + 3) : 0));
        FUZZ_CHECK(out.overflow == 0);
    } else {
        FUZZ_CHECK(out.sense_key == (total > 1 ? (data[1] & 0x0F) : 0));
        FUZZ_CHECK(out.asc == (total > 2 ? data[2] : 0));
        FUZZ_CHECK(out.ascq == (total > 3 ? data[3] : 0));
        FUZZ_CHECK(out.overflow == (total > 4 ? data[4] >> 7 : 0));
    }
    return 0;
}
