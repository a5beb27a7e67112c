/*
 * fuzz_report_capabilities.c - pr_decode_report_capabilities on any bytes (a
 * REPORT CAPABILITIES response, SPC-4 6.15.4: LENGTH, then 6 bytes of bits).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    struct pr_capabilities out;
    uint64_t needed = 0;
    int rc = pr_decode_report_capabilities(data, length, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED);
    FUZZ_CHECK(needed >= 8);
    if (length < 2 || fuzz_be16(data) < 8) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 8);
        return 0;
    }
    FUZZ_CHECK(needed == fuzz_be16(data) && out.length == needed);
    if (length < 8) {
        FUZZ_CHECK(rc == PR_ERR_SHORT);
        return 0;
    }
    /* The 8 bytes SPC defines arrived: decoded, whatever LENGTH announces
     * beyond them (reserved in SPC-4 and SPC-5). */
    FUZZ_CHECK(rc == PR_OK);
    FUZZ_CHECK(out.replace_lost_reservation_capable == data[2] >> 7);
    FUZZ_CHECK(out.compatible_reservation_handling == ((data[2] >> 4) & 1));
    FUZZ_CHECK(out.specify_initiator_ports_capable == ((data[2] >> 3) & 1));
    FUZZ_CHECK(out.all_target_ports_capable == ((data[2] >> 2) & 1));
    FUZZ_CHECK(out.persist_through_power_loss_capable == (data[2] & 1));
    FUZZ_CHECK(out.type_mask_valid == data[3] >> 7);
    FUZZ_CHECK(out.allow_commands == ((data[3] >> 4) & 7) && out.allow_commands <= 7);
    FUZZ_CHECK(out.persist_through_power_loss_active == (data[3] & 1));
    FUZZ_CHECK(out.type_mask == fuzz_be16(data + 4));
    return 0;
}
