/*
 * fuzz_poll_decode.c - pr_poll_decode, the second half of a polling round:
 * each GOOD READ KEYS / READ RESERVATION response of a batch decoded in C.
 *
 * Input: byte 0 picks 1-4 entries; each entry is a 6-byte header
 *   0 command rc (even: PR_OK)   1 CDB byte 1 (service action)   2 max keys
 *   3 CDB opcode (even: PERSISTENT RESERVE IN)   4-5 bytes transferred
 * then that many response bytes (fewer when the input ends), each response
 * in its own exact-size block.  The transport never reports more transferred
 * than the buffer holds (pr_sg_complete clamps it), so neither does this.
 */
#include "fuzz.h"

#define MAX_ENTRIES 4
#define ENTRY_HEADER 6
#define SENTINEL_RC 12345

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pr_batch_command commands[MAX_ENTRIES];
    struct pr_poll_decoded decoded[MAX_ENTRIES];
    struct pr_device device = {0};
    size_t offset = 1;
    uint32_t count;
    uint32_t i;
    int valid = 1;
    int rc;

    if (size < 1)
        return 0;
    count = 1 + data[0] % MAX_ENTRIES;
    memset(commands, 0, sizeof(commands));
    memset(decoded, 0, sizeof(decoded));
    for (i = 0; i < count; i++) {
        uint8_t h[ENTRY_HEADER] = {0};
        uint32_t length;

        if (offset < size)
            memcpy(h, data + offset, size - offset < ENTRY_HEADER ? size - offset : ENTRY_HEADER);
        offset += ENTRY_HEADER;
        length = fuzz_be16(h + 4);
        if (offset >= size)
            length = 0;
        else if (length > size - offset)
            length = (uint32_t)(size - offset);
        commands[i].device = &device;
        commands[i].data = fuzz_array(length, 1);
        if (length > 0)
            memcpy(commands[i].data, data + offset, length);
        offset += length;
        commands[i].data_len = length;
        commands[i].cdb[0] = h[3] % 2 == 0 ? PR_OPCODE_IN : h[3];
        commands[i].cdb[1] = h[1];
        commands[i].cdb_len = 10;
        commands[i].rc = h[0] % 2 == 0 ? PR_OK : PR_ERR_STATUS;
        commands[i].result.transferred = length;
        decoded[i].max_keys = h[2];
        decoded[i].keys = fuzz_array(h[2], sizeof(uint64_t));
        decoded[i].rc = SENTINEL_RC;
        if (commands[i].cdb[0] != PR_OPCODE_IN || (h[1] & 0x1F) > 1)
            valid = 0;
    }
    rc = pr_poll_decode(commands, decoded, count);
    FUZZ_CHECK(rc == (valid ? PR_OK : PR_ERR_ARGUMENT));
    for (i = 0; valid && i < count; i++) {
        const struct pr_batch_command *c = &commands[i];
        const struct pr_poll_decoded *d = &decoded[i];

        if (c->rc != PR_OK) {
            FUZZ_CHECK(d->rc == SENTINEL_RC && d->needed == 0);  /* not decoded */
        } else if ((c->cdb[1] & 0x1F) == 0) {
            struct pr_keys keys;
            uint64_t needed = 0;
            uint64_t *again = fuzz_array(d->max_keys, sizeof(uint64_t));
            int expect = pr_decode_read_keys(c->data, c->data_len, again, d->max_keys, &keys,
                                             &needed);

            FUZZ_CHECK(d->rc == expect && d->needed == needed);
            FUZZ_CHECK(memcmp(&d->keys_out, &keys, sizeof(keys)) == 0);
            FUZZ_CHECK(d->keys_out.count <= d->max_keys);
            FUZZ_CHECK(d->keys_out.count == 0 ||
                       memcmp(d->keys, again, d->keys_out.count * sizeof(uint64_t)) == 0);
            free(again);
        } else {
            struct pr_reservation reservation;
            uint64_t needed = 0;
            int expect = pr_decode_read_reservation(c->data, c->data_len, &reservation, &needed);

            FUZZ_CHECK(d->rc == expect && d->needed == needed);
            FUZZ_CHECK(memcmp(&d->reservation, &reservation, sizeof(reservation)) == 0);
        }
    }
    for (i = 0; i < count; i++) {
        free(commands[i].data);
        free(decoded[i].keys);
    }
    return 0;
}
