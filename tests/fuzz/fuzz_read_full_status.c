/*
 * fuzz_read_full_status.c - pr_decode_read_full_status on any bytes (a READ
 * FULL STATUS response, SPC-4 6.15.5: header, then descriptors of 24 bytes
 * plus ADDITIONAL DESCRIPTOR LENGTH bytes of TransportID).
 */
#include "fuzz.h"

#define DESCRIPTOR_LEN 24

/* Returns the number of registrants decoded. */
static uint32_t decode(const uint8_t *data, uint32_t length, uint32_t max_registrants)
{
    struct pr_registrant *registrants = fuzz_array(max_registrants, sizeof(*registrants));
    struct pr_full_status out;
    uint64_t needed = 0;
    uint64_t next = 8;  /* where the descriptor after the decoded ones starts */
    uint64_t end;
    uint32_t count;
    uint32_t i;
    int rc = pr_decode_read_full_status(data, length, registrants, max_registrants, &out,
                                        &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
               rc == PR_ERR_ARGUMENT);
    FUZZ_CHECK(needed >= 8);
    FUZZ_CHECK(out.count <= max_registrants);
    if (length < 8) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 8 && out.count == 0);
        goto done;
    }
    FUZZ_CHECK(needed == 8 + (uint64_t)fuzz_be32(data + 4));
    FUZZ_CHECK(out.generation == fuzz_be32(data));
    end = needed < length ? needed : length;
    for (i = 0; i < out.count; i++) {
        const struct pr_registrant *r = &registrants[i];
        const uint8_t *d = data + next;

        /* Back to back from byte 8, each within what arrived and what was announced. */
        FUZZ_CHECK(r->transport_id_offset == next + DESCRIPTOR_LEN);
        FUZZ_CHECK(r->transport_id_offset >= 8 + DESCRIPTOR_LEN);
        FUZZ_CHECK((uint64_t)r->transport_id_offset + r->transport_id_length <= end);
        FUZZ_CHECK(r->transport_id_length == fuzz_be32(d + 20));
        FUZZ_CHECK(r->key == fuzz_be64(d));
        FUZZ_CHECK(r->all_target_ports == ((d[12] >> 1) & 1) && r->holder == (d[12] & 1));
        FUZZ_CHECK(r->scope == d[13] >> 4 && r->type == (d[13] & 0x0F));
        FUZZ_CHECK(r->relative_target_port == fuzz_be16(d + 18));
        next = (uint64_t)r->transport_id_offset + r->transport_id_length;
    }
    switch (rc) {
    case PR_OK:  /* the descriptors fill ADDITIONAL LENGTH exactly, all arrived */
        FUZZ_CHECK(needed <= length && next == needed);
        break;
    case PR_ERR_SHORT:  /* the rest did not arrive */
        FUZZ_CHECK(needed > length && next < needed);
        break;
    case PR_ERR_ARGUMENT:  /* one more descriptor arrived whole, with no room for it */
        FUZZ_CHECK(out.count == max_registrants && next + DESCRIPTOR_LEN <= end);
        FUZZ_CHECK(next + DESCRIPTOR_LEN + fuzz_be32(data + next + 20) <= end);
        break;
    default:  /* a descriptor overruns ADDITIONAL LENGTH, or bytes left over */
        if (next + DESCRIPTOR_LEN <= end)
            FUZZ_CHECK(next + DESCRIPTOR_LEN + fuzz_be32(data + next + 20) > needed);
        else
            FUZZ_CHECK(next < needed && needed <= length);
        break;
    }
done:
    count = out.count;
    free(registrants);
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;
    uint32_t all = decode(data, length, length / DESCRIPTOR_LEN + 1);

    (void)decode(data, length, all / 2);  /* room for fewer than there are */
    return 0;
}
