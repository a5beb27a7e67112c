/*
 * pr_poll_fallback.c - pr_execute_batch() where there is no asynchronous
 * SCSI interface (Windows, and platforms without a transport): the commands
 * run one after another through the platform's pr_execute().
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
