/*
 * fuzz.h - what every libFuzzer target in tests/fuzz shares.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined (scripts/fuzz,
 * tests/unit/test_fuzz.py).  libFuzzer hands each input over in a heap block
 * of exactly its size, so a decoder reading one byte past "what the device
 * transferred" is an AddressSanitizer report; every output array a target
 * passes is allocated with exactly the room it announces, so writing past it
 * is one too.  FUZZ_CHECK aborts on a broken invariant, which libFuzzer keeps
 * as a crash input like any sanitizer report.
 */
#ifndef PR_FUZZ_H
#define PR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_native.h"

#define FUZZ_CHECK(condition)                                                              \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Inputs beyond this are cut: a PR IN response is at most 65535 bytes. */
#define FUZZ_MAX_LEN (PR_ALLOCATION_MAX + 16u)

static inline uint32_t fuzz_be16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static inline uint32_t fuzz_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t fuzz_be64(const uint8_t *p)
{
    return ((uint64_t)fuzz_be32(p) << 32) | fuzz_be32(p + 4);
}

/* An array of exactly `count` elements of `size` bytes (NULL for none), its
 * bytes set to 0xA5 so that a field the code under test forgets to set shows. */
static inline void *fuzz_array(size_t count, size_t size)
{
    void *p;

    if (count == 0)
        return NULL;
    p = malloc(count * size);
    if (p == NULL)
        abort();
    memset(p, 0xA5, count * size);
    return p;
}

/* Every byte in [from, to) of p is zero. */
static inline int fuzz_zero(const uint8_t *p, size_t from, size_t to)
{
    size_t i;

    for (i = from; i < to; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

#endif /* PR_FUZZ_H */
