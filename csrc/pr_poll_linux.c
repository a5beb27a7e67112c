/*
 * pr_poll_linux.c - many data-in commands at once, from one thread.
 *
 * Commands on /dev/sgN go through the sg driver's asynchronous interface
 * (include/uapi/scsi/sg.h, "sg v3"): one write() of a struct sg_io_hdr per
 * command queues it without waiting, poll(2) reports a descriptor with a
 * completed command, and read() collects it.  pack_id and usr_ptr name the
 * batch entry a completion belongs to.  Every other node (/dev/sdX, /dev/stN
 * have no asynchronous interface) runs its command with pr_execute() while
 * the sg commands are in flight, as does an sg node opened read-only.
 *
 * The sg driver copies the response and sense into the caller's buffers
 * during read(), so pr_execute_batch() returns only once every queued
 * command has been read back: no buffer is ever left for a later read().
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pr_native.h"
#include "pr_sg.h"

#define PR_SG_MAJOR 21             /* SCSI_GENERIC_MAJOR, include/linux/major.h */

/* The sg driver's write() needs a descriptor opened for writing (EBADF
 * otherwise); SG_IO does not, so a read-only node runs synchronously. */
static int pr_is_async_sg(int fd)
{
    struct stat st;
    int flags = fcntl(fd, F_GETFL);

    return flags >= 0 && (flags & O_ACCMODE) == O_RDWR && fstat(fd, &st) == 0 &&
           S_ISCHR(st.st_mode) && major(st.st_rdev) == PR_SG_MAJOR;
}

/* Queue one command on an sg node: 1 when queued, 0 when write() failed. */
static int pr_batch_submit(struct pr_batch_command *command, uint32_t index)
{
    struct sg_io_hdr io;
    ssize_t written;

    pr_sg_prepare(&io, &command->result, PR_DIR_FROM_DEVICE, command->data, command->data_len,
                  command->timeout_ms);
    io.pack_id = (int)index;
    io.usr_ptr = command;
    do {
        written = write((int)command->device->handle, &io, sizeof(io));
    } while (written < 0 && errno == EINTR);
    if (written < 0) {
        command->result.os_error = errno;
        command->rc = PR_ERR_OS;
        return 0;
    }
    command->result.dispatched = 1;
    return 1;
}

/* Every queued command on fd failed to come back: the node went away. */
static uint32_t pr_batch_fail_fd(struct pr_batch_command *commands, uint8_t *queued,
                                 uint32_t count, int fd, int error)
{
    uint32_t i, failed = 0;

    for (i = 0; i < count; ++i) {
        if (queued[i] && (int)commands[i].device->handle == fd) {
            commands[i].result.os_error = error;
            commands[i].rc = PR_ERR_OS;
            queued[i] = 0;
            ++failed;
        }
    }
    return failed;
}

/* Read what one readable sg descriptor has: returns how many entries finished. */
static uint32_t pr_batch_collect(struct pr_batch_command *commands, uint8_t *queued,
                                 uint32_t count, int fd)
{
    struct sg_io_hdr io;
    ssize_t got;
    uint32_t index;

    memset(&io, 0, sizeof(io));
    io.interface_id = 'S';
    io.pack_id = -1; /* any completed command of this descriptor */
    got = read(fd, &io, sizeof(io));
    if (got < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        return pr_batch_fail_fd(commands, queued, count, fd, errno);
    }
    index = (uint32_t)io.pack_id;
    if (io.pack_id < 0 || index >= count || !queued[index] || io.usr_ptr != &commands[index] ||
        (int)commands[index].device->handle != fd)
        return 0; /* not ours: someone else's asynchronous command on this node */
    commands[index].rc = pr_sg_complete(&io, commands[index].data_len, &commands[index].result);
    queued[index] = 0;
    return 1;
}

static int pr_batch_valid(const struct pr_batch_command *command)
{
    return command->device != NULL && command->device->handle >= 0 && command->cdb_len >= 6 &&
           command->cdb_len <= PR_CDB_MAX && (command->data != NULL || command->data_len == 0);
}

int pr_execute_batch(struct pr_batch_command *commands, uint32_t count)
{
    struct pollfd *fds;
    uint8_t *queued;
    uint32_t i, pending = 0;

    if (commands == NULL && count > 0)
        return PR_ERR_ARGUMENT;
    for (i = 0; i < count; ++i)
        if (!pr_batch_valid(&commands[i]))
            return PR_ERR_ARGUMENT;
    if (count == 0)
        return PR_OK;
    queued = calloc(count, sizeof(*queued));
    fds = calloc(count, sizeof(*fds));
    if (queued == NULL || fds == NULL) {
        free(queued);
        free(fds);
        return PR_ERR_OS;
    }
    for (i = 0; i < count; ++i) {
        struct pr_batch_command *command = &commands[i];
        uint8_t cdb[PR_CDB_MAX];

        memcpy(cdb, command->cdb, command->cdb_len);
        memset(&command->result, 0, sizeof(command->result));
        memcpy(command->result.cdb, cdb, command->cdb_len);
        command->result.cdb_len = command->cdb_len;
        command->rc = PR_OK;
        if (pr_is_async_sg((int)command->device->handle) && pr_batch_submit(command, i)) {
            queued[i] = 1;
            ++pending;
        }
    }
    /* Nodes without an asynchronous interface, while the others are in flight. */
    for (i = 0; i < count; ++i) {
        struct pr_batch_command *command = &commands[i];

        if (!queued[i] && command->rc == PR_OK)
            command->rc = pr_execute(command->device, command->cdb, command->cdb_len,
                                     PR_DIR_FROM_DEVICE, command->data, command->data_len,
                                     command->timeout_ms, &command->result);
    }
    while (pending > 0) {
        nfds_t n = 0;
        int ready;

        for (i = 0; i < count; ++i) {
            int fd = (int)commands[i].device->handle;
            nfds_t k;

            if (!queued[i])
                continue;
            for (k = 0; k < n && fds[k].fd != fd; ++k)
                ;
            if (k < n)
                continue; /* one pollfd per descriptor: nfds stays within RLIMIT_NOFILE */
            fds[n].fd = fd;
            fds[n].events = POLLIN;
            fds[n].revents = 0;
            ++n;
        }
        /* No deadline of our own: each command carries its timeout, and the
         * SCSI midlayer completes every command once its timeout expires. */
        ready = poll(fds, n, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            for (i = 0; i < n; ++i)
                pending -= pr_batch_fail_fd(commands, queued, count, fds[i].fd, errno);
            break;
        }
        for (i = 0; i < n && pending > 0; ++i) {
            if (fds[i].revents != 0)
                pending -= pr_batch_collect(commands, queued, count, fds[i].fd);
        }
    }
    free(queued);
    free(fds);
    return PR_OK;
}
