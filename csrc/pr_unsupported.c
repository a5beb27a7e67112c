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

/* Nothing here waits interruptibly, so there is never a command to resume. */
int pr_resume(const struct pr_device *device, struct pr_result *result)
{
    (void)device;
    (void)result;
    return PR_ERR_ARGUMENT;
}

/* No asynchronous interface here (pr_native.aio then uses an executor). */
int pr_submit(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
              int direction, const uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
              struct pr_result *result, int32_t *ticket)
{
    (void)device;
    (void)cdb;
    (void)cdb_len;
    (void)direction;
    (void)data;
    (void)data_len;
    (void)timeout_ms;
    (void)ticket;
    if (result != NULL)
        memset(result, 0, sizeof(*result));
    return PR_ERR_UNSUPPORTED;
}

int pr_collect(const struct pr_device *device, int32_t ticket, uint8_t *data, uint32_t data_len,
               struct pr_result *result, uint32_t *wait_ms)
{
    (void)device;
    (void)ticket;
    (void)data;
    (void)data_len;
    (void)result;
    (void)wait_ms;
    return PR_ERR_ARGUMENT;
}

void pr_abandon(const struct pr_device *device, int32_t ticket)
{
    (void)device;
    (void)ticket;
}

uint32_t pr_transport_layout(const struct pr_layout_field **fields)
{
    *fields = NULL;
    return 0;
}
