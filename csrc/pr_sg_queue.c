/*
 * pr_sg_queue.c - commands submitted once through the sg driver's write()
 * and collected with poll()/read() (include/uapi/scsi/sg.h, "sg v3").
 *
 * Why not SG_IO: on /dev/sgN, SG_IO queues the command and then waits
 * interruptibly; a signal (even SIGSTOP then SIGCONT) ends the wait with
 * -ERESTARTSYS, sg marks the request orphan, and the kernel restarts the
 * ioctl, which queues the same CDB again (sg_ioctl_common, case SG_IO,
 * drivers/scsi/sg.c).  write() returns once the command is queued
 * (sg_common_write: blk_execute_rq_nowait) and every error it reports comes
 * before that, so write() is the one submission; an interrupted poll() or
 * read() only ends a wait, and the request is waited for again by pack_id.
 * And SG_IO's wait has no end of its own: the request's timeout is the
 * kernel's, which the iSCSI initiator extends while earlier commands of the
 * session progress; here each wait ends at the command's deadline.
 *
 * A request whose waiter gave up stays with the driver: its late completion
 * is read here and discarded, never taken for a later command's, but for
 * the re-issue of the same command after a signal (PR_SG_KEPT).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pr_native.h"
#include "pr_sg.h"

/* A 0 timeout makes sg use the queue's default; wait as long as SG_IO's
 * default would (BLK_DEFAULT_SG_TIMEOUT, include/linux/blkdev.h). */
#define PR_SG_DEFAULT_TIMEOUT_MS 60000u

/* CLOCK_MONOTONIC_COARSE: its resolution (a tick, 1-10 ms) is far finer
 * than the PR_WAIT_MARGIN_MS every deadline carries, and the vDSO serves it
 * from its data page whatever the clocksource (lib/vdso/gettimeofday.c,
 * do_coarse).  CLOCK_MONOTONIC falls back to a system call, and reads the
 * device, where the clocksource has no vDSO mode: hpet and acpi_pm, which
 * the kernel picks when it finds the TSC unstable, as in emulated (TCG)
 * guests.  There a C loop over the core's READ KEYS went from 1.18x to
 * 1.06x of a bare SG_IO loop. */
uint64_t pr_sg_now_ms(void)
{
    struct timespec now;

    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0)
        clock_gettime(CLOCK_MONOTONIC, &now); /* a kernel before 2.6.32 */
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

static uint64_t pr_sg_deadline(uint32_t timeout_ms)
{
    return pr_sg_now_ms() + (timeout_ms ? timeout_ms : PR_SG_DEFAULT_TIMEOUT_MS) +
           PR_WAIT_MARGIN_MS;
}

static void pr_sg_free(struct pr_sg_request *request)
{
    request->state = PR_SG_FREE;
    request->pack_id = 0;
    request->resumable = 0;
}

struct pr_sg_request *pr_sg_find(struct pr_sg_queue *queue, int32_t pack_id)
{
    uint32_t i;

    for (i = 0; i < PR_SG_QUEUE_MAX; ++i)
        if (queue->requests[i].state != PR_SG_FREE && queue->requests[i].pack_id == pack_id)
            return &queue->requests[i];
    return NULL;
}

/* A request the driver still has: submitted and not read back yet. */
static int pr_sg_outstanding(const struct pr_sg_queue *queue)
{
    uint32_t i;

    for (i = 0; i < PR_SG_QUEUE_MAX; ++i)
        if (queue->requests[i].state == PR_SG_WAITING ||
            queue->requests[i].state == PR_SG_ABANDONED)
            return 1;
    return 0;
}

int pr_sg_collect(struct pr_sg_queue *queue, int fd)
{
    /* Read until EAGAIN, or until nothing submitted here is left with the
     * driver: the last completion then costs one read(), not two. */
    while (pr_sg_outstanding(queue)) {
        struct sg_io_hdr io;
        struct pr_sg_request *request;
        ssize_t got;

        memset(&io, 0, sizeof(io));
        io.interface_id = 'S';
        /* pack_id -1 with SG_SET_FORCE_PACK_ID off: any completed request. */
        got = read(fd, &io, sizeof(io));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : errno;
        }
        if ((size_t)got != sizeof(io))
            return EIO; /* not an sg v3 answer: the node is not what it was */
        request = pr_sg_find(queue, io.pack_id);
        if (request == NULL)
            continue; /* not submitted through this queue */
        if (request->state == PR_SG_ABANDONED) {
            /* Its waiter gave up on a signal and will issue it again: the
             * answer is that re-issue's (SPC-4 5.14: a unit attention it
             * reports is cleared at the target, so it must not be lost). */
            if (request->resumable && request->takeable) {
                request->io = io;
                request->state = PR_SG_KEPT;
            } else {
                pr_sg_free(request);
            }
            continue;
        }
        request->io = io;
        request->state = PR_SG_DONE;
    }
    return 0;
}

void pr_sg_abandon(struct pr_sg_request *request)
{
    if (request->state == PR_SG_DONE || request->state == PR_SG_KEPT)
        pr_sg_free(request);
    else if (request->state == PR_SG_WAITING)
        request->state = PR_SG_ABANDONED;
}

void pr_sg_begin(struct pr_sg_queue *queue, int fd, int resuming)
{
    uint32_t i;
    int busy = 0;

    queue->current = NULL;
    for (i = 0; i < PR_SG_QUEUE_MAX; ++i) {
        struct pr_sg_request *request = &queue->requests[i];

        if (resuming && request->state == PR_SG_KEPT)
            continue;
        pr_sg_abandon(request);
        if (!resuming)
            request->resumable = 0; /* nobody issues it again: its answer is discarded */
        busy |= request->state == PR_SG_WAITING || request->state == PR_SG_ABANDONED;
    }
    if (busy)
        (void)pr_sg_collect(queue, fd);
}

int pr_sg_same_command(const struct pr_sg_request *request, const struct pr_result *result,
                       uint32_t data_len)
{
    return request->data_len == data_len && request->cdb_len == result->cdb_len &&
           memcmp(request->cdb, result->cdb, result->cdb_len) == 0;
}

/* An abandoned request in ``state`` with the command's CDB and length. */
static struct pr_sg_request *pr_sg_matching(struct pr_sg_queue *queue,
                                            const struct pr_result *result, uint32_t data_len,
                                            int state)
{
    uint32_t i;

    for (i = 0; i < PR_SG_QUEUE_MAX; ++i) {
        struct pr_sg_request *request = &queue->requests[i];

        if (request->state == state && request->takeable &&
            pr_sg_same_command(request, result, data_len))
            return request;
    }
    return NULL;
}

/* The request a data-in command takes over: for the re-issue after a signal
 * the answer kept for it first, else one still in flight. */
static struct pr_sg_request *pr_sg_take_over(struct pr_sg_queue *queue,
                                             const struct pr_result *result,
                                             uint32_t data_len, int take_over)
{
    struct pr_sg_request *kept = NULL;

    if (take_over == PR_SG_RESUME)
        kept = pr_sg_matching(queue, result, data_len, PR_SG_KEPT);
    return kept != NULL ? kept : pr_sg_matching(queue, result, data_len, PR_SG_ABANDONED);
}

static struct pr_sg_request *pr_sg_free_slot(struct pr_sg_queue *queue)
{
    uint32_t i;

    for (i = 0; i < PR_SG_QUEUE_MAX; ++i)
        if (queue->requests[i].state == PR_SG_FREE)
            return &queue->requests[i];
    return NULL;
}

int pr_sg_submit(struct pr_sg_queue *queue, int fd, int direction, const uint8_t *data,
                 uint32_t data_len, uint32_t timeout_ms, int take_over, struct pr_result *result,
                 struct pr_sg_request **request)
{
    struct pr_sg_request *slot = NULL;
    struct sg_io_hdr io;
    ssize_t written;

    result->transport = PR_TRANSPORT_SG_IO;
    if (direction == PR_DIR_FROM_DEVICE)
        slot = pr_sg_take_over(queue, result, data_len, take_over);
    if (slot != NULL) {
        /* Re-issued after a signal, it is the same wait, with the same end;
         * a new command waits as long as it would for a request of its own
         * (the transport holds both alike). */
        int same_wait = take_over == PR_SG_RESUME && slot->resumable;

        slot->state = slot->state == PR_SG_KEPT ? PR_SG_DONE : PR_SG_WAITING;
        slot->resumable = 0;
        if (!same_wait)
            slot->deadline_ms = pr_sg_deadline(timeout_ms);
        result->dispatched = 1;
        *request = slot;
        return PR_OK;
    }
    slot = pr_sg_free_slot(queue);
    if (slot == NULL) {
        result->os_error = EDOM; /* as the driver answers a 17th request */
        return PR_ERR_OS;
    }
    if (data_len > slot->capacity) {
        uint8_t *grown = realloc(slot->data, data_len);

        if (grown == NULL) {
            result->os_error = ENOMEM;
            return PR_ERR_OS;
        }
        slot->data = grown;
        slot->capacity = data_len;
    }
    if (direction == PR_DIR_TO_DEVICE) {
        uint32_t i;

        /* SCSI orders nothing between tasks: a read issued before this
         * command must not answer for one issued after it. */
        for (i = 0; i < PR_SG_QUEUE_MAX; ++i)
            queue->requests[i].takeable = 0;
        if (data_len > 0)
            memcpy(slot->data, data, data_len);
    }
    pr_sg_prepare(&io, result, direction, slot->data, data_len, timeout_ms);
    io.sbp = slot->sense;
    queue->last_pack_id = queue->last_pack_id >= INT_MAX - 1 ? 1 : queue->last_pack_id + 1;
    io.pack_id = queue->last_pack_id;
    do {
        written = write(fd, &io, sizeof(io));
    } while (written < 0 && errno == EINTR);
    if (written < 0) {
        result->os_error = errno; /* sg_write(): every error precedes the queueing */
        return PR_ERR_OS;
    }
    slot->pack_id = io.pack_id;
    slot->state = PR_SG_WAITING;
    slot->direction = (uint8_t)direction;
    slot->takeable = (uint8_t)(direction == PR_DIR_FROM_DEVICE);
    slot->cdb_len = result->cdb_len;
    memcpy(slot->cdb, result->cdb, result->cdb_len);
    slot->data_len = data_len;
    slot->deadline_ms = pr_sg_deadline(timeout_ms);
    result->dispatched = 1;
    *request = slot;
    return PR_OK;
}

int pr_sg_finish(struct pr_sg_request *request, uint8_t *data, uint32_t data_len,
                 struct pr_result *result)
{
    int rc = pr_sg_complete(&request->io, request->data_len, result);

    memcpy(result->sense, request->sense, result->sense_len);
    if (request->direction == PR_DIR_FROM_DEVICE && data != NULL && data_len > 0) {
        if (result->transferred > data_len)
            result->transferred = data_len;
        memcpy(data, request->data, result->transferred);
    }
    pr_sg_free(request);
    return rc;
}

/* A request that will not be waited for any longer: it may still run. */
static int pr_sg_give_up(struct pr_sg_request *request, int rc, int error,
                         struct pr_result *result)
{
    pr_sg_abandon(request);
    result->dispatched = 1;
    result->os_error = error;
    return rc;
}

int pr_sg_poll_once(struct pr_sg_queue *queue, int fd, struct pr_sg_request *request,
                    uint8_t *data, uint32_t data_len, struct pr_result *result, uint32_t *wait_ms)
{
    struct pollfd pfd;
    uint64_t now;
    int error = pr_sg_collect(queue, fd);

    if (request->state == PR_SG_DONE)
        return pr_sg_finish(request, data, data_len, result);
    if (error != 0)
        return pr_sg_give_up(request, PR_ERR_OS, error, result);
    now = pr_sg_now_ms();
    if (now >= request->deadline_ms)
        return pr_sg_give_up(request, PR_ERR_TIMEOUT, ETIMEDOUT, result);
    /* A hang-up without anything to read: as pr_sg_wait(). */
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) > 0 && !(pfd.revents & POLLIN) &&
        (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
        return pr_sg_give_up(request, PR_ERR_OS, (pfd.revents & POLLNVAL) ? EBADF : ENODEV,
                             result);
    *wait_ms = request->deadline_ms - now > UINT32_MAX ? UINT32_MAX
                                                         : (uint32_t)(request->deadline_ms - now);
    result->dispatched = 1;
    return PR_ERR_PENDING;
}

int pr_sg_wait(struct pr_sg_queue *queue, int fd, struct pr_sg_request *request,
               uint8_t *data, uint32_t data_len, struct pr_result *result)
{
    queue->current = NULL;
    for (;;) {
        struct pollfd pfd;
        uint64_t now;
        int error = pr_sg_collect(queue, fd);
        int ready;

        if (request->state == PR_SG_DONE)
            return pr_sg_finish(request, data, data_len, result);
        if (error != 0)
            return pr_sg_give_up(request, PR_ERR_OS, error, result);
        now = pr_sg_now_ms();
        if (now >= request->deadline_ms)
            return pr_sg_give_up(request, PR_ERR_TIMEOUT, ETIMEDOUT, result);
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        ready = poll(&pfd, 1,
                     request->deadline_ms - now > INT_MAX ? INT_MAX
                                                          : (int)(request->deadline_ms - now));
        if (ready < 0 && errno == EINTR) {
            queue->current = request;
            result->dispatched = 1;
            return PR_ERR_INTERRUPTED;
        }
        if (ready < 0)
            return pr_sg_give_up(request, PR_ERR_OS, errno, result);
        /* sg_poll() reports POLLHUP while the device is detaching: a request
         * still in flight then may never come back (sg_read() would block). */
        if (ready > 0 && !(pfd.revents & POLLIN) && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
            return pr_sg_give_up(request, PR_ERR_OS,
                                 (pfd.revents & POLLNVAL) ? EBADF : ENODEV, result);
    }
}
