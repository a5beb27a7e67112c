/*
 * pr_poll_fallback.c - where there is no asynchronous SCSI interface
 * (Windows, and platforms without a transport): pr_execute_batch() runs the
 * commands one after another through the platform's pr_execute(), and the
 * two-step calls (pr_resume, pr_submit/pr_collect/pr_abandon) have nothing
 * to wait for.
 */
#include <string.h>

#include "pr_native.h"

int pr_execute_batch(struct pr_batch_command *commands, uint32_t count)
{
    uint32_t i;

    if (commands == NULL && count > 0)
        return PR_ERR_ARGUMENT;
    for (i = 0; i < count; ++i) {
        const struct pr_batch_command *command = &commands[i];

        if (command->device == NULL || command->cdb_len < 6 || command->cdb_len > PR_CDB_MAX ||
            (command->data == NULL && command->data_len > 0))
            return PR_ERR_ARGUMENT;
    }
    for (i = 0; i < count; ++i) {
        struct pr_batch_command *command = &commands[i];

        command->rc = pr_execute(command->device, command->cdb, command->cdb_len,
                                 PR_DIR_FROM_DEVICE, command->data, command->data_len,
                                 command->timeout_ms, &command->result);
    }
    return PR_OK;
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

/* Nothing to ask the transport: its command is taken as still in flight. */
int pr_settled(const struct pr_device *device, const struct pr_result *result)
{
    (void)device;
    (void)result;
    return PR_ERR_PENDING;
}
