/*
 * fuzz_decode.c - feeds pseudo-random buffers to every decoder of
 * csrc/pr_decode.c (PR IN, sense, INQUIRY and VPD pages 00h, 80h, 83h).  Each buffer is malloc()ed with exactly its length, so
 * under -fsanitize=address any read past what "the device transferred"
 * aborts.  Also checks the decoders' promises about what they report.
 *
 * usage: fuzz_decode [iterations] [seed]; -DFUZZ_SELF_TEST lies about one
 * length to prove the sanitizer is watching.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_native.h"

#define MAX_LEN 600

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void check(int ok, const char *what, uint32_t len)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s (length %u)\n", what, len);
        abort();
    }
}

/* Random bytes, then a shape that gets the decoders past their first checks. */
static void shape(uint8_t *p, uint32_t len, uint32_t mode)
{
    uint32_t i;

    for (i = 0; i < len; i++)
        p[i] = (uint8_t)rnd();
    if (mode == 1 && len >= 8) {  /* PR IN header, ADDITIONAL LENGTH near len */
        uint32_t add = rnd() % (len + 64);
        put_be32(p + 4, rnd() % 2 ? add & ~7u : add);
    } else if (mode == 2 && len >= 8) {  /* READ FULL STATUS descriptor chain */
        uint32_t off = 8;
        while (off + 24 <= len) {
            uint32_t tid = rnd() % 3 == 0 ? rnd() : rnd() % 64;
            put_be32(p + off + 20, tid);
            if (tid > len)
                break;
            off += 24 + tid;
        }
        put_be32(p + 4, rnd() % 2 ? off - 8 : rnd() % (len + 64));
    } else if (mode == 3 && len >= 1) {  /* sense data */
        p[0] = (uint8_t)(0x70 + rnd() % 4) | (uint8_t)(rnd() % 2 ? 0x80 : 0);
        if (len >= 8) {
            uint32_t off = 8;
            p[7] = (uint8_t)(rnd() % 2 ? len - 8 : rnd());
            while (off + 2 <= len) {
                p[off] = (uint8_t)(rnd() % 7);
                p[off + 1] = (uint8_t)(rnd() % 16);
                off += 2u + p[off + 1];
            }
        }
    } else if (mode == 4 && len >= 2) {  /* REPORT CAPABILITIES */
        p[0] = 0;
        p[1] = (uint8_t)(rnd() % 12);
    } else if (mode == 5 && len >= 5) {  /* standard INQUIRY, ADDITIONAL LENGTH near len */
        p[4] = (uint8_t)(rnd() % 2 ? len - 5 : rnd() % (len + 8));
    } else if (mode == 6 && len >= 4) {  /* a VPD page: 00h, 80h or a designator chain */
        static const uint8_t pages[] = {0x00, 0x80, 0x83};
        uint32_t off = 4;
        uint32_t page_length;

        p[1] = pages[rnd() % 3];
        while (p[1] == 0x83 && off + 4 <= len) {
            p[off + 1] = (uint8_t)(rnd() % 16);
            p[off + 3] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() % 24);
            off += 4u + p[off + 3];
        }
        page_length = rnd() % 2 ? (off > len ? len : off) - 4 : rnd() % (len + 64);
        put_be16(p + 2, (uint16_t)page_length);
    }
}

static void run(const uint8_t *p, uint32_t len)
{
    static uint64_t keys[MAX_LEN / 8 + 1];
    static struct pr_registrant regs[MAX_LEN / 24 + 1];
    static struct pr_designator desigs[MAX_LEN / 4 + 1];
    struct pr_inquiry q;
    struct pr_vpd_page v;
    struct pr_keys k;
    struct pr_reservation r;
    struct pr_capabilities c;
    struct pr_full_status f;
    struct pr_sense s;
    uint64_t needed = 0;
    uint32_t i;
    int rc;

    rc = pr_decode_read_keys(p, len, keys, len / 8 + 1, &k, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "read_keys rc", len);
    if (rc == PR_OK || rc == PR_ERR_SHORT) {
        check(8 + 8 * (uint64_t)k.count <= len, "keys within the data", len);
        check((rc == PR_OK) == (needed <= len), "read_keys needed", len);
    }
    rc = pr_decode_read_keys(p, len, NULL, 0, &k, &needed);
    check(rc != PR_OK || k.count == 0, "no room for keys", len);

    rc = pr_decode_read_reservation(p, len, &r, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "read_reservation rc", len);
    if (rc == PR_OK)
        check(needed <= len && (!r.reserved || len >= 24), "reservation within the data", len);

    rc = pr_decode_report_capabilities(p, len, &c, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "report_capabilities rc", len);
    if (rc == PR_OK)
        check(len >= 8 && c.allow_commands <= 7, "capabilities", len);

    rc = pr_decode_read_full_status(p, len, regs, len / 24 + 1, &f, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "read_full_status rc", len);
    for (i = 0; i < f.count; i++) {
        check(regs[i].transport_id_offset >= 32, "TransportID after the header", len);
        check((uint64_t)regs[i].transport_id_offset + regs[i].transport_id_length <= len,
              "TransportID within the data", len);
    }

    rc = pr_decode_inquiry(p, len, &q, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "inquiry rc", len);
    if (rc == PR_OK || rc == PR_ERR_SHORT)
        check(needed == 5u + q.additional_length && (rc == PR_OK) == (needed <= len) &&
                  q.peripheral_type <= 0x1F && q.target_port_group_support <= 3,
              "inquiry fields", len);

    rc = pr_decode_supported_vpd_pages(p, len, &v, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "supported pages rc", len);
    if (rc == PR_OK || rc == PR_ERR_SHORT)
        check((uint64_t)v.value_offset + v.value_length <= len &&
                  v.value_length <= v.page_length && (rc == PR_OK) == (needed <= len),
              "supported pages within the data", len);

    rc = pr_decode_unit_serial_number(p, len, &v, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "unit serial number rc", len);
    if (rc == PR_OK)
        check(needed <= len && v.value_offset >= 4 &&
                  (uint64_t)v.value_offset + v.value_length <= needed,
              "serial number within the page", len);
    if (rc == PR_ERR_SHORT)
        check(needed > len && v.value_length == 0, "a cut serial number is not decoded", len);

    rc = pr_decode_device_identification(p, len, desigs, len / 4 + 1, &v, &needed);
    check(rc == PR_OK || rc == PR_ERR_SHORT || rc == PR_ERR_MALFORMED ||
              (rc == PR_ERR_ARGUMENT && p == NULL), "device identification rc", len);
    if (rc == PR_OK)
        check(needed <= len, "device identification needed", len);
    for (i = 0; i < v.count; i++) {
        check(desigs[i].offset >= 8 && desigs[i].length <= 255 && desigs[i].type <= 0xF &&
                  desigs[i].association <= 3,
              "designator fields", len);
        check((uint64_t)desigs[i].offset + desigs[i].length <= len &&
                  (uint64_t)desigs[i].offset + desigs[i].length <= needed,
              "designator within the data and the page", len);
    }
    rc = pr_decode_device_identification(p, len, NULL, 0, &v, &needed);
    check(rc != PR_OK || v.count == 0, "no room for designators", len);

    rc = pr_decode_sense(p, len, &s);
    check(rc == PR_OK || rc == PR_ERR_MALFORMED || (rc == PR_ERR_ARGUMENT && p == NULL),
          "sense rc", len);
    check(rc != PR_OK || (len > 0 && s.response_code >= 0x70 && s.response_code <= 0x73),
          "sense response code", len);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 20000;
    long n;

    rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x9E3779B97F4A7C15ull;
    if (rng_state == 0)
        rng_state = 1;
#ifdef FUZZ_SELF_TEST
    {
        uint8_t *p = malloc(16);
        memset(p, 0, 16);
        p[7] = 16;  /* two keys announced; the second is claimed but not allocated */
        run(p, 24);
        free(p);
    }
#endif
    for (n = 0; n < iterations; n++) {
        uint32_t len = rnd() % 4 == 0 ? rnd() % 40 : rnd() % (MAX_LEN + 1);
        uint8_t *p = malloc(len);

        if (p == NULL && len > 0)
            return 2;
        shape(p, len, rnd() % 7);
        run(p, len);
        free(p);
    }
    printf("%ld buffers decoded\n", iterations);
    return 0;
}
