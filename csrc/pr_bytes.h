/*
 * pr_bytes.h - big-endian wire helpers shared by the core's .c files.
 *
 * SCSI fields are big-endian whatever the host (SPC-4 3.5.2); the Windows
 * PERSISTENT_RESERVE_COMMAND header is the one little-endian exception.
 */
#ifndef PR_BYTES_H
#define PR_BYTES_H

#include <stdint.h>

static inline uint16_t pr_get_be16(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

static inline uint32_t pr_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t pr_get_be64(const uint8_t *p)
{
    return ((uint64_t)pr_get_be32(p) << 32) | pr_get_be32(p + 4);
}

static inline void pr_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void pr_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void pr_put_be64(uint8_t *p, uint64_t v)
{
    pr_put_be32(p, (uint32_t)(v >> 32));
    pr_put_be32(p + 4, (uint32_t)v);
}

static inline void pr_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void pr_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif /* PR_BYTES_H */
