/*
 * sg_queue_signal.c - the sg queue when a signal ends a data-in wait and the
 * command is issued again, with the driver's write()/read()/poll() replaced
 * (-Wl,--wrap): the first poll() fails with EINTR, then the request comes
 * back (while the handler ran) with CHECK CONDITION, UNIT ATTENTION,
 * REGISTRATIONS PREEMPTED (2Ah/05h).  SPC-4 5.14: the target clears a unit
 * attention once it is reported, so that answer must be the re-issue's and
 * no second command may be written.
 *
 * sg_queue_signal MODE prints: the re-issue's rc, SCSI status, sense key,
 * ASC, ASCQ and how many commands were written.  MODE: "execute" (Device's
 * path: pr_execute again), "batch" (a polling round: pr_execute_batch, then
 * the entry again with resuming set), "other" (another command follows
 * instead: the late answer is discarded and that command written).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sg_queue_seam.h"

static struct sg_io_hdr written[PR_SG_QUEUE_MAX];
static int writes, readable, eintr_once = 1, attention = 1;

ssize_t __wrap_write(int fd, const void *buffer, size_t size)
{
    (void)fd;
    written[writes++ % PR_SG_QUEUE_MAX] = *(const struct sg_io_hdr *)buffer;
    ++readable;
    return (ssize_t)size;
}

ssize_t __wrap_read(int fd, void *buffer, size_t size)
{
    static int next;
    struct sg_io_hdr io;
    unsigned char *sense;

    (void)fd;
    (void)size;
    if (readable == 0 || eintr_once) {
        errno = EAGAIN;
        return -1;
    }
    --readable;
    io = written[next++ % PR_SG_QUEUE_MAX];
    io.status = 0;
    io.sb_len_wr = 0;
    io.resid = 0;
    if (attention) { /* the first answer carries the unit attention */
        attention = 0;
        sense = io.sbp;
        memset(sense, 0, 18);
        sense[0] = 0x70;
        sense[2] = 0x06;
        sense[7] = 10;
        sense[12] = 0x2a;
        sense[13] = 0x05;
        io.status = 0x02;
        io.sb_len_wr = 18;
    }
    *(struct sg_io_hdr *)buffer = io;
    return (ssize_t)sizeof(io);
}

int __wrap_poll(struct pollfd *fds, nfds_t count, int timeout)
{
    nfds_t i;

    (void)timeout;
    if (eintr_once) {
        eintr_once = 0; /* the handler runs; the answer arrives meanwhile */
        errno = EINTR;
        return -1;
    }
    for (i = 0; i < count; ++i)
        fds[i].revents = readable ? POLLIN : 0;
    return readable ? (int)count : 0;
}

static void report(int rc, const struct pr_result *result)
{
    printf("%d %d %d %d %d %d\n", rc, result->scsi_status,
           result->sense_len > 2 ? result->sense[2] & 0x0f : -1,
           result->sense_len > 13 ? result->sense[12] : -1,
           result->sense_len > 13 ? result->sense[13] : -1, writes);
}

int main(int argc, char **argv)
{
    static struct pr_sg_queue queue;
    static uint8_t data[4096];
    static struct pr_batch_command command;
    struct pr_device device;
    struct pr_result result;
    uint8_t keys[10] = {0x5e, 0x00, 0, 0, 0, 0, 0, 0x10, 0x00, 0};
    uint8_t reservation[10] = {0x5e, 0x01, 0, 0, 0, 0, 0, 0x10, 0x00, 0};
    const char *mode = argc > 1 ? argv[1] : "";
    int rc;

    seam_device(&device, &queue);
    if (strcmp(mode, "batch") == 0) {
        seam_round_entry(&command, &device, data, sizeof(data), keys);
        if (pr_execute_batch(&command, 1) != PR_OK || command.rc != PR_ERR_INTERRUPTED)
            return 3;
        command.resuming = 1;
        if (pr_execute_batch(&command, 1) != PR_OK)
            return 4;
        report(command.rc, &command.result);
        return 0;
    }
    rc = pr_execute(&device, keys, sizeof(keys), PR_DIR_FROM_DEVICE, data, sizeof(data), 1000,
                    &result);
    if (rc != PR_ERR_INTERRUPTED)
        return 3;
    if (strcmp(mode, "other") == 0)
        attention = 0; /* this test's late answer: discarded, whatever it held */
    rc = pr_execute(&device, strcmp(mode, "other") == 0 ? reservation : keys, sizeof(keys),
                    PR_DIR_FROM_DEVICE, data, sizeof(data), 1000, &result);
    report(rc, &result);
    return 0;
}
