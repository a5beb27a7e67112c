/*
 * pr_poll_linux.c - many data-in commands at once, from one thread.
 *
 * Commands on /dev/sgN opened read-write are submitted through each device's
 * sg queue (pr_sg_queue.c: one write() each, or the take-over of an earlier
 * identical request still in flight), poll(2) reports a descriptor with a
 * completed command, and read() collects it.  Every other node (/dev/sdX,
 * /dev/stN have no asynchronous interface), and an sg entry whose write() the
 * driver refuses with EPERM (sg_check_file_access), runs its command with
 * SG_IO while the sg commands are in flight.  EDOM (the file's 16 request
 * slots taken) is that entry's answer: SG_IO would need a slot too.
 *
 * Each sg entry's wait ends at its own deadline, at a hang-up of its node or
 * at a signal; the request then stays with its device's queue, which owns
 * the buffers the driver will copy the late response into.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pr_native.h"
#include "pr_sg.h"

static int pr_batch_valid(const struct pr_batch_command *command)
{
    /* Data-in only: a PR OUT goes through pr_execute(), submitted once. */
    return command->device != NULL && command->device->handle >= 0 && command->cdb_len >= 6 &&
           command->cdb_len <= PR_CDB_MAX && command->cdb[0] != PR_OPCODE_OUT &&
           (command->data != NULL || command->data_len == 0);
}

static struct pr_sg_queue *pr_batch_queue(const struct pr_batch_command *command)
{
    return (struct pr_sg_queue *)command->device->queue;
}

static int pr_batch_fd(const struct pr_batch_command *command)
{
    return (int)command->device->handle;
}

/* Stop waiting for entry i: its request stays with the driver. */
static void pr_batch_give_up(struct pr_batch_command *command, struct pr_sg_request **waiting,
                             int rc, int error)
{
    /* After a signal the entry is issued again (resuming): what its request
     * answers meanwhile is kept for that re-issue, never discarded. */
    (*waiting)->resumable = (uint8_t)(rc == PR_ERR_INTERRUPTED);
    pr_sg_abandon(*waiting);
    *waiting = NULL;
    command->rc = rc;
    command->result.os_error = error;
    command->result.dispatched = 1;
}

/* Submit every sg entry; the others (and refused sg entries) are marked for
 * pr_execute().  Returns how many sg entries are in flight. */
static uint32_t pr_batch_submit(struct pr_batch_command *commands, uint32_t count,
                                struct pr_sg_request **waiting, uint8_t *synchronous)
{
    uint32_t i, k, pending = 0;

    for (i = 0; i < count; ++i) {
        struct pr_batch_command *command = &commands[i];

        memset(&command->result, 0, sizeof(command->result));
        memmove(command->result.cdb, command->cdb, command->cdb_len);
        command->result.cdb_len = command->cdb_len;
        command->rc = PR_OK;
        synchronous[i] = pr_batch_queue(command) == NULL;
        if (synchronous[i])
            continue;
        for (k = 0; k < i && pr_batch_queue(&commands[k]) != pr_batch_queue(command); ++k)
            ;
        if (k == i) /* the first entry on this device starts its operation */
            pr_sg_begin(pr_batch_queue(command), pr_batch_fd(command), command->resuming);
        command->rc = pr_sg_submit(pr_batch_queue(command), pr_batch_fd(command),
                                   PR_DIR_FROM_DEVICE, NULL, command->data_len,
                                   command->timeout_ms,
                                   command->resuming ? PR_SG_RESUME : PR_SG_TAKE,
                                   &command->result, &waiting[i]);
        if (command->rc == PR_OK && waiting[i]->state == PR_SG_DONE) {
            /* A request kept for this re-issue had come back already. */
            command->rc = pr_sg_finish(waiting[i], command->data, command->data_len,
                                       &command->result);
            waiting[i] = NULL;
        } else if (command->rc == PR_OK) {
            ++pending;
        }
        else if (command->result.os_error == EPERM)
            synchronous[i] = 1; /* sg_check_file_access(): SG_IO still works */
    }
    return pending;
}

/* Collect what fd has; settle each of its entries that completed, or all of
 * them when the node failed.  Returns how many entries were settled. */
static uint32_t pr_batch_collect(struct pr_batch_command *commands, uint32_t count,
                                 struct pr_sg_request **waiting, int fd, short revents)
{
    uint32_t i, settled = 0;
    struct pr_sg_queue *queue = NULL;
    int error;

    for (i = 0; i < count && queue == NULL; ++i)
        if (waiting[i] != NULL && pr_batch_fd(&commands[i]) == fd)
            queue = pr_batch_queue(&commands[i]);
    if (queue == NULL)
        return 0;
    error = pr_sg_collect(queue, fd);
    /* sg_poll(): POLLHUP while the device detaches; sg_read() would block
     * for a request still in flight, which may never come back. */
    if (error == 0 && !(revents & POLLIN) && (revents & (POLLHUP | POLLERR | POLLNVAL)))
        error = (revents & POLLNVAL) ? EBADF : ENODEV;
    for (i = 0; i < count; ++i) {
        struct pr_batch_command *command = &commands[i];

        if (waiting[i] == NULL || pr_batch_fd(command) != fd)
            continue;
        if (waiting[i]->state == PR_SG_DONE) {
            command->rc =
                pr_sg_finish(waiting[i], command->data, command->data_len, &command->result);
            waiting[i] = NULL;
            ++settled;
        } else if (error != 0) {
            pr_batch_give_up(command, &waiting[i], PR_ERR_OS, error);
            ++settled;
        }
    }
    return settled;
}

/* Give up the entries whose deadline has passed; returns how many. */
static uint32_t pr_batch_expire(struct pr_batch_command *commands, uint32_t count,
                                struct pr_sg_request **waiting)
{
    uint64_t now = pr_sg_now_ms();
    uint32_t i, expired = 0;

    for (i = 0; i < count; ++i) {
        if (waiting[i] != NULL && waiting[i]->deadline_ms <= now) {
            pr_batch_give_up(&commands[i], &waiting[i], PR_ERR_TIMEOUT, ETIMEDOUT);
            ++expired;
        }
    }
    return expired;
}

/* Milliseconds until the nearest deadline of an entry in flight (0 when one
 * has passed). */
static int pr_batch_wait_ms(struct pr_sg_request *const *waiting, uint32_t count)
{
    uint64_t now = pr_sg_now_ms(), nearest = UINT64_MAX;
    uint32_t i;

    for (i = 0; i < count; ++i)
        if (waiting[i] != NULL && waiting[i]->deadline_ms < nearest)
            nearest = waiting[i]->deadline_ms;
    if (nearest <= now)
        return 0;
    return nearest - now > INT_MAX ? INT_MAX : (int)(nearest - now);
}

/* One pollfd per descriptor with an entry in flight: nfds stays within
 * RLIMIT_NOFILE however many entries share a node. */
static nfds_t pr_batch_pollfds(const struct pr_batch_command *commands, uint32_t count,
                               struct pr_sg_request *const *waiting, struct pollfd *fds)
{
    nfds_t n = 0, k;
    uint32_t i;

    for (i = 0; i < count; ++i) {
        int fd = pr_batch_fd(&commands[i]);

        if (waiting[i] == NULL)
            continue;
        for (k = 0; k < n && fds[k].fd != fd; ++k)
            ;
        if (k < n)
            continue;
        fds[n].fd = fd;
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        ++n;
    }
    return n;
}

int pr_execute_batch(struct pr_batch_command *commands, uint32_t count)
{
    struct pr_sg_request **waiting;
    struct pollfd *fds;
    uint8_t *synchronous;
    uint32_t i, pending;

    if (commands == NULL && count > 0)
        return PR_ERR_ARGUMENT;
    for (i = 0; i < count; ++i)
        if (!pr_batch_valid(&commands[i]))
            return PR_ERR_ARGUMENT;
    if (count == 0)
        return PR_OK;
    waiting = calloc(count, sizeof(*waiting));
    fds = calloc(count, sizeof(*fds));
    synchronous = calloc(count, sizeof(*synchronous));
    if (waiting == NULL || fds == NULL || synchronous == NULL) {
        free(waiting);
        free(fds);
        free(synchronous);
        return PR_ERR_OS;
    }
    pending = pr_batch_submit(commands, count, waiting, synchronous);
    /* Nodes without an asynchronous interface, while the others are in flight. */
    for (i = 0; i < count; ++i) {
        struct pr_batch_command *command = &commands[i];

        if (synchronous[i])
            command->rc = pr_execute_sync(command->device, command->cdb, command->cdb_len,
                                          PR_DIR_FROM_DEVICE, command->data,
                                          command->data_len, command->timeout_ms,
                                          &command->result);
    }
    while (pending > 0) {
        nfds_t n = pr_batch_pollfds(commands, count, waiting, fds);
        /* poll() reports at once what has come back already, however late
         * this loop runs (a slow synchronous entry, the process stopped and
         * continued): it is collected below before any deadline applies. */
        int ready = poll(fds, n, pr_batch_wait_ms(waiting, count));

        if (ready < 0) {
            /* A signal: hand control back (PR_ERR_INTERRUPTED) so that its
             * handler can run; re-issuing the entry takes its request over. */
            int rc = errno == EINTR ? PR_ERR_INTERRUPTED : PR_ERR_OS;
            int error = errno == EINTR ? 0 : errno;

            for (i = 0; i < count; ++i)
                if (waiting[i] != NULL)
                    pr_batch_give_up(&commands[i], &waiting[i], rc, error);
            break;
        }
        for (i = 0; i < n && pending > 0; ++i)
            if (fds[i].revents != 0)
                pending -= pr_batch_collect(commands, count, waiting, fds[i].fd, fds[i].revents);
        pending -= pr_batch_expire(commands, count, waiting);
    }
    free(waiting);
    free(fds);
    free(synchronous);
    return PR_OK;
}
