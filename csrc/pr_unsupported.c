/*
 * pr_unsupported.c - the transport for platforms without a SCSI pass-through
 * backend (macOS, the BSDs).  Builders, decoders and layouts still work;
 * opening a device says clearly that this platform cannot send commands.
 */
#include <string.h>

#include "pr_native.h"

int pr_open(const char *path, uint32_t flags, struct pr_device *device, struct pr_result *result)
{
    (void)path;
    (void)flags;
    if (result != NULL)
        memset(result, 0, sizeof(*result));
    if (device != NULL) {
        device->handle = -1;
        device->queue = NULL;
    }
    return PR_ERR_UNSUPPORTED;
}

int pr_close(struct pr_device *device)
{
    (void)device;
    return PR_ERR_UNSUPPORTED;
}

int pr_execute(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
               int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
               struct pr_result *result)
{
    (void)device;
    (void)cdb;
    (void)cdb_len;
    (void)direction;
    (void)data;
    (void)data_len;
    (void)timeout_ms;
    if (result != NULL)
        memset(result, 0, sizeof(*result));
    return PR_ERR_UNSUPPORTED;
}

uint32_t pr_transport_layout(const struct pr_layout_field **fields)
{
    *fields = NULL;
    return 0;
}
