/*
 * sg_queue_seam.h - what the sg queue seam programs (sg_queue_signal.c,
 * sg_queue_takeover.c) share: the wrapped calls they define and the device
 * and polling-round entry they run the queue with.  Each program defines
 * __wrap_write/read/poll to play the driver; the descriptor is never used.
 */
#ifndef SG_QUEUE_SEAM_H
#define SG_QUEUE_SEAM_H

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "pr_native.h"
#include "pr_sg.h"

ssize_t __wrap_write(int fd, const void *buffer, size_t size);
ssize_t __wrap_read(int fd, void *buffer, size_t size);
int __wrap_poll(struct pollfd *fds, nfds_t count, int timeout);

/* An sg node opened read-write: every command goes through ``queue``. */
static void seam_device(struct pr_device *device, struct pr_sg_queue *queue)
{
    memset(device, 0, sizeof(*device));
    device->handle = 3;
    device->queue = queue;
    device->transport = PR_TRANSPORT_SG_IO;
    device->flags = PR_DEVICE_SG_ASYNC;
}

/* One polling round's entry: a data-in ``cdb`` (10 bytes) to ``device``. */
static void seam_round_entry(struct pr_batch_command *command, struct pr_device *device,
                             uint8_t *data, uint32_t data_len, const uint8_t cdb[10])
{
    command->device = device;
    command->data = data;
    command->data_len = data_len;
    command->timeout_ms = 1000;
    memcpy(command->cdb, cdb, 10);
    command->cdb_len = 10;
}

#endif
