/*
 * fuzz_device_identification.c - pr_decode_device_identification on any
 * bytes (VPD page 83h, SPC-4 7.8.6: designation descriptors of 4 bytes plus
 * DESIGNATOR LENGTH bytes each).
 */
#include "fuzz.h"

#define HEADER_LEN 4

/* The designator formats of SPC-4 7.8.6.2-7.8.6.11 and SPC-5's UUID, read
 * from the standard rather than from the decoder. */
static uint8_t well_formed(const uint8_t *d, uint32_t length, uint8_t type)
{
    static const uint8_t fixed[16] = {0, 0, 0, 0, 4, 4, 4, 16, 0, 0, 0, 0, 0, 0, 0, 0};

    switch (type) {
    case 0x0:
        return 1;
    case 0x1:
        return length >= 8;
    case 0x2:
        return length == 8 || length == 12 || length == 16;
    case 0x3:
        if (length == 0)
            return 0;
        if (d[0] >> 4 == 2 || d[0] >> 4 == 3 || d[0] >> 4 == 5)
            return length == 8;
        return d[0] >> 4 == 6 && length == 16;
    case 0x8:
        return length >= 4 && length <= 256 && length % 4 == 0;
    case 0x9:
        return length == 4 || length == 8;
    case 0xA:
        return length == 18 && d[0] >> 4 == 1;
    default:
        return fixed[type] != 0 && length == fixed[type];
    }
}

static uint32_t decode(const uint8_t *data, uint32_t length, uint32_t max_designators)
{
    struct pr_designator *designators = fuzz_array(max_designators, sizeof(*designators));
    struct pr_vpd_page out;
    uint64_t needed = 0;
    uint64_t next = HEADER_LEN;
    uint64_t end;
    uint32_t count;
    uint32_t i;
    int rc = pr_decode_device_identification(data, length, designators, max_designators, &out,
                                             &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
               rc == PR_ERR_ARGUMENT);
    FUZZ_CHECK(out.count <= max_designators);
    if (length < HEADER_LEN) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == HEADER_LEN && out.count == 0);
        goto done;
    }
    FUZZ_CHECK(needed == HEADER_LEN + fuzz_be16(data + 2));
    if (data[1] != PR_VPD_DEVICE_IDENTIFICATION) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && out.count == 0);
        goto done;
    }
    end = needed < length ? needed : length;
    for (i = 0; i < out.count; i++) {
        const struct pr_designator *g = &designators[i];
        const uint8_t *d = data + next;

        FUZZ_CHECK(g->offset == next + HEADER_LEN && g->length == d[3]);
        FUZZ_CHECK((uint64_t)g->offset + g->length <= end);
        FUZZ_CHECK(g->protocol_identifier == d[0] >> 4 && g->code_set == (d[0] & 0x0F));
        FUZZ_CHECK(g->piv == d[1] >> 7 && g->association == ((d[1] >> 4) & 3));
        FUZZ_CHECK(g->type == (d[1] & 0x0F));
        FUZZ_CHECK(g->well_formed == well_formed(data + g->offset, g->length, g->type));
        next = (uint64_t)g->offset + g->length;
    }
    switch (rc) {
    case PR_OK:
        FUZZ_CHECK(needed <= length && next == needed);
        break;
    case PR_ERR_SHORT:
        FUZZ_CHECK(needed > length && next < needed);
        break;
    case PR_ERR_ARGUMENT:
        FUZZ_CHECK(out.count == max_designators && next + HEADER_LEN <= end);
        FUZZ_CHECK(next + HEADER_LEN + data[next + 3] <= end);
        break;
    default:
        if (next + HEADER_LEN <= end)
            FUZZ_CHECK(next + HEADER_LEN + data[next + 3] > needed);
        else
            FUZZ_CHECK(next < needed && needed <= length);
        break;
    }
done:
    count = out.count;
    free(designators);
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    uint32_t all = decode(data, length, length / HEADER_LEN + 1);

    (void)decode(data, length, all / 2);
    (void)decode(data, length, 0);
    return 0;
}
