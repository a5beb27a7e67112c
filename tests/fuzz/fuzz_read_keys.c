/*
 * fuzz_read_keys.c - pr_decode_read_keys on any bytes (a READ KEYS response,
 * SPC-4 6.15.2: PRGENERATION, ADDITIONAL LENGTH, then 8-byte keys).
 */
#include "fuzz.h"

static void decode(const uint8_t *data, uint32_t length, uint32_t max_keys)
{
    uint64_t *keys = fuzz_array(max_keys, sizeof(*keys));
    struct pr_keys out;
    uint64_t needed = 0;
    uint32_t additional;
    uint32_t i;
    int rc = pr_decode_read_keys(data, length, keys, max_keys, &out, &needed);

    FUZZ_CHECK(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
               rc == PR_ERR_ARGUMENT);
    FUZZ_CHECK(needed >= 8);
    if (length < 8) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED && needed == 8);
        goto done;
    }
    additional = fuzz_be32(data + 4);
    FUZZ_CHECK(needed == 8 + (uint64_t)additional);
    if (additional % 8 != 0) {
        FUZZ_CHECK(rc == PR_ERR_MALFORMED);
        goto done;
    }
    {
        uint32_t whole = (length - 8 < additional ? length - 8 : additional) / 8;

        if (whole > max_keys) {
            /* No room: refused, and nothing written (keys has max_keys slots). */
            FUZZ_CHECK(rc == PR_ERR_ARGUMENT);
            goto done;
        }
        FUZZ_CHECK(rc == (needed <= length ? PR_OK : PR_ERR_SHORT));
        FUZZ_CHECK(out.count == whole && out.count <= max_keys);
        FUZZ_CHECK(8 + 8 * (uint64_t)out.count <= length);
        FUZZ_CHECK(out.generation == fuzz_be32(data));
        FUZZ_CHECK(out.additional_length == additional);
        for (i = 0; i < out.count; i++)
            FUZZ_CHECK(keys[i] == fuzz_be64(data + 8 + 8 * (size_t)i));
    }
done:
    free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t length = size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (uint32_t)size;

    decode(data, length, length / 8 + 1);  /* room for every key that fits */
    decode(data, length, length / 16);     /* room for some */
    decode(data, length, 0);               /* no array at all */
    return 0;
}
