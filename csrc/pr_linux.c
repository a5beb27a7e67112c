/*
 * pr_linux.c - the Linux transport (sg v3 interface, include/uapi/scsi/sg.h).
 *
 * Works on /dev/sgN (any opcode once opened O_RDWR; every command through
 * the sg queue of pr_sg_queue.c), and with SG_IO on /dev/sdX, /dev/stN and
 * /dev/nstN, where the kernel allows PR opcodes only to callers with
 * CAP_SYS_RAWIO (scsi_cmd_allowed() in drivers/scsi/scsi_ioctl.c), and on a
 * /dev/sgN opened read-only (sg's write() needs FMODE_WRITE).
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC under -std=c99 */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pr_native.h"
#include "pr_sg.h"

/* include/scsi/scsi_status.h: host byte and driver byte values we act on. */
#define PR_DID_TIME_OUT 0x03
#define PR_DID_NEXUS_FAILURE 0x11  /* some kernels report a reservation conflict this way */
#define PR_DRIVER_TIMEOUT 0x06
#define PR_DRIVER_SENSE 0x08
#define PR_SG_MIN_VERSION 30000    /* sg v3 (SG_IO) is available from 3.0.0 */
#define PR_SG_MAJOR 21             /* SCSI_GENERIC_MAJOR, include/linux/major.h */

static int pr_classify(const struct pr_result *result)
{
    unsigned driver = result->driver_status & 0x0F;

    if (result->host_status == PR_DID_TIME_OUT || driver == PR_DRIVER_TIMEOUT)
        return PR_ERR_TIMEOUT;
    if (result->host_status == PR_DID_NEXUS_FAILURE)
        return PR_ERR_STATUS;
    if (result->host_status != 0)
        return PR_ERR_TRANSPORT;
    if (result->scsi_status != 0)
        return PR_ERR_STATUS;
    if (driver != 0 && driver != PR_DRIVER_SENSE)
        return PR_ERR_TRANSPORT;
    return PR_OK;
}

void pr_sg_prepare(struct sg_io_hdr *io, struct pr_result *result, int direction,
                   uint8_t *data, uint32_t data_len, uint32_t timeout_ms)
{
    memset(io, 0, sizeof(*io));
    io->interface_id = 'S';
    if (data_len == 0)
        io->dxfer_direction = SG_DXFER_NONE;
    else if (direction == PR_DIR_FROM_DEVICE)
        io->dxfer_direction = SG_DXFER_FROM_DEV;
    else
        io->dxfer_direction = SG_DXFER_TO_DEV;
    io->cmd_len = result->cdb_len;
    io->cmdp = result->cdb;
    io->mx_sb_len = PR_SENSE_MAX;
    io->sbp = result->sense;
    io->dxfer_len = data_len;
    io->dxferp = data;
    io->timeout = timeout_ms;
    result->transport = PR_TRANSPORT_SG_IO;
}

int pr_sg_complete(const struct sg_io_hdr *io, uint32_t data_len, struct pr_result *result)
{
    int32_t resid = io->resid;

    result->dispatched = 1;
    result->scsi_status = io->status;
    result->host_status = io->host_status;
    result->driver_status = io->driver_status;
    result->sense_len = io->sb_len_wr > PR_SENSE_MAX ? PR_SENSE_MAX : io->sb_len_wr;
    result->duration_ms = io->duration;
    if (resid < 0)
        resid = 0;
    if ((uint32_t)resid > data_len)
        resid = (int32_t)data_len;
    result->resid = resid;
    result->transferred = data_len - (uint32_t)resid;
    return pr_classify(result);
}

/* One command through SG_IO, the CDB already recorded in *result. */
static int pr_sg_io(const struct pr_device *device, int direction, uint8_t *data,
                    uint32_t data_len, uint32_t timeout_ms, struct pr_result *result)
{
    struct sg_io_hdr io;

    pr_sg_prepare(&io, result, direction, data, data_len, timeout_ms);
    if (ioctl((int)device->handle, SG_IO, &io) < 0) {
        result->os_error = errno;
        /* sg orphans an interrupted request, which may still run on the
         * device; on st an EINTR comes from st_ioctl's
         * mutex_lock_interruptible, before anything is sent; sd waits
         * uninterruptibly (blk_execute_rq).  EFAULT may come after the
         * command ran, when the sense bytes, the data-in bytes or the header
         * are copied back: sg_new_read() on sg, scsi_complete_sghdr_rq() and
         * put_sg_io_hdr() on sd and st (drivers/scsi/scsi_ioctl.c).  Every
         * other SG_IO error precedes the queueing (sg_new_write, sg_io). */
        result->dispatched =
            (uint8_t)(errno == EFAULT || (errno == EINTR && (device->flags & PR_DEVICE_SG_ASYNC)));
        return PR_ERR_OS;
    }
    return pr_sg_complete(&io, data_len, result);
}

int pr_execute(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
               int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
               struct pr_result *result)
{
    struct pr_sg_queue *queue;
    int rc = pr_execute_begin(device, cdb, cdb_len, direction, data, data_len, result);
    int fd;

    if (rc != PR_OK)
        return rc;
    fd = (int)device->handle;
    queue = (struct pr_sg_queue *)device->queue;
    /* On /dev/sgN every command goes through the queue (pr_sg_queue.c):
     * submitted once, and waited for until its own deadline.  SG_IO would
     * resend a PR OUT when restarted, and its only deadline is the kernel's,
     * which the iSCSI initiator keeps extending while earlier commands of
     * the session progress (iscsi_eh_cmd_timed_out: SCSI_EH_RESET_TIMER). */
    if (queue != NULL) {
        struct pr_sg_request *request = queue->current;

        /* The data-in or no-data command a signal interrupted, issued again
         * (_prin, identity) before its deadline: the same wait, with that
         * deadline and its answer, a unit attention it reports included
         * (SPC-4 5.14: it is cleared at the target once reported, so a
         * second command would not see it).  Past the deadline it is a
         * command of its own. */
        if (request != NULL &&
            (request->state == PR_SG_WAITING || request->state == PR_SG_DONE) &&
            pr_sg_now_ms() < request->deadline_ms && direction != PR_DIR_TO_DEVICE &&
            request->direction == (uint8_t)direction &&
            pr_sg_same_command(request, result, data_len)) {
            result->transport = PR_TRANSPORT_SG_IO;
            result->dispatched = 1;
            return pr_sg_wait(queue, fd, request, data, data_len, result);
        }
        pr_sg_begin(queue, fd, 0);
        rc = pr_sg_submit(queue, fd, direction, data, data_len, timeout_ms, PR_SG_TAKE, result,
                          &request);
        if (rc == PR_OK)
            return pr_sg_wait(queue, fd, request, direction == PR_DIR_TO_DEVICE ? NULL : data,
                              direction == PR_DIR_TO_DEVICE ? 0 : data_len, result);
        /* sg_check_file_access(): write() refused to a descriptor opened
         * under other credentials, before anything was queued; SG_IO works
         * there.  Not for a PR OUT, which must never meet SG_IO's restart. */
        if (direction == PR_DIR_TO_DEVICE || result->os_error != EPERM)
            return rc;
        result->os_error = 0;
    }
    return pr_sg_io(device, direction, data, data_len, timeout_ms, result);
}

int pr_execute_sync(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
                    int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
                    struct pr_result *result)
{
    int rc = pr_execute_begin(device, cdb, cdb_len, direction, data, data_len, result);

    if (rc != PR_OK)
        return rc;
    return pr_sg_io(device, direction, data, data_len, timeout_ms, result);
}

int pr_resume(const struct pr_device *device, struct pr_result *result)
{
    struct pr_sg_queue *queue;

    if (device == NULL || result == NULL || device->queue == NULL)
        return PR_ERR_ARGUMENT;
    queue = (struct pr_sg_queue *)device->queue;
    if (queue->current == NULL || queue->current->state == PR_SG_FREE)
        return PR_ERR_ARGUMENT;
    return pr_sg_wait(queue, (int)device->handle, queue->current, NULL, 0, result);
}

int pr_submit(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
              int direction, const uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
              struct pr_result *result, int32_t *ticket)
{
    struct pr_sg_queue *queue;
    struct pr_sg_request *request;
    int rc = pr_execute_begin(device, cdb, cdb_len, direction, data, data_len, result);

    if (rc != PR_OK)
        return rc;
    if (ticket == NULL)
        return PR_ERR_ARGUMENT;
    queue = (struct pr_sg_queue *)device->queue;
    if (queue == NULL)
        return PR_ERR_UNSUPPORTED;
    pr_sg_begin(queue, (int)device->handle, 0);
    rc = pr_sg_submit(queue, (int)device->handle, direction, data, data_len, timeout_ms, PR_SG_TAKE,
                      result, &request);
    if (rc == PR_OK)
        *ticket = request->pack_id;
    return rc;
}

int pr_collect(const struct pr_device *device, int32_t ticket, uint8_t *data, uint32_t data_len,
               struct pr_result *result, uint32_t *wait_ms)
{
    struct pr_sg_queue *queue;
    struct pr_sg_request *request;

    if (device == NULL || result == NULL || wait_ms == NULL || device->queue == NULL)
        return PR_ERR_ARGUMENT;
    queue = (struct pr_sg_queue *)device->queue;
    request = pr_sg_find(queue, ticket);
    if (request == NULL || request->state == PR_SG_ABANDONED ||
        (data == NULL && data_len > 0))
        return PR_ERR_ARGUMENT;
    return pr_sg_poll_once(queue, (int)device->handle, request, data, data_len, result, wait_ms);
}

void pr_abandon(const struct pr_device *device, int32_t ticket)
{
    struct pr_sg_request *request;

    if (device == NULL || device->queue == NULL)
        return;
    request = pr_sg_find((struct pr_sg_queue *)device->queue, ticket);
    if (request != NULL)
        pr_sg_abandon(request);
}

int pr_settled(const struct pr_device *device, const struct pr_result *result)
{
    const struct pr_sg_queue *queue;

    if (device == NULL || result == NULL)
        return PR_ERR_ARGUMENT;
    queue = (const struct pr_sg_queue *)device->queue;
    if (queue != NULL && queue->current != NULL && queue->current->state == PR_SG_WAITING)
        return PR_ERR_PENDING; /* a signal ended its wait: pr_resume() waits on */
    /* pr_sg_give_up() and a failed SG_IO or write() leave their errno;
     * a completion leaves none (pr_execute_begin cleared it). */
    if (result->os_error != 0)
        return result->os_error == ETIMEDOUT && result->dispatched ? PR_ERR_TIMEOUT : PR_ERR_OS;
    return pr_classify(result);
}

/* write() needs a descriptor opened for writing (sg_write: EBADF otherwise). */
static int pr_is_async_sg(int fd, uint32_t flags)
{
    struct stat st;

    return !(flags & PR_OPEN_READ_ONLY) && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
           major(st.st_rdev) == PR_SG_MAJOR;
}

int pr_open(const char *path, uint32_t flags, struct pr_device *device, struct pr_result *result)
{
    int access = (flags & PR_OPEN_READ_ONLY) ? O_RDONLY : O_RDWR;
    int version = 0;
    int fd;

    if (result == NULL)
        return PR_ERR_ARGUMENT;
    memset(result, 0, sizeof(*result));
    if (path == NULL || device == NULL)
        return PR_ERR_ARGUMENT;
    device->handle = -1;
    device->queue = NULL;
    /* O_NONBLOCK as sg3_utils: st and sg must not wait for a medium or a
     * free device at open; SG_IO itself always blocks. */
    fd = open(path, access | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        result->os_error = errno;
        return PR_ERR_OS;
    }
    if (ioctl(fd, SG_GET_VERSION_NUM, &version) < 0 || version < PR_SG_MIN_VERSION) {
        result->os_error = version > 0 ? ENOTTY : errno;
        close(fd);
        return PR_ERR_NOT_SCSI;
    }
    /* O_NONBLOCK also makes read() of the sg queue return EAGAIN at once. */
    if (pr_is_async_sg(fd, flags)) {
        device->queue = calloc(1, sizeof(struct pr_sg_queue));
        if (device->queue == NULL) {
            result->os_error = ENOMEM;
            close(fd);
            return PR_ERR_OS;
        }
        flags |= PR_DEVICE_SG_ASYNC;
    }
    device->handle = fd;
    device->transport = PR_TRANSPORT_SG_IO;
    device->flags = flags;
    return PR_OK;
}

int pr_close(struct pr_device *device)
{
    int fd, rc;

    if (device == NULL || device->handle < 0)
        return PR_ERR_ARGUMENT;
    fd = (int)device->handle;
    device->handle = -1;
    rc = close(fd) == 0 ? PR_OK : PR_ERR_OS;
    /* Only now: until close() the driver may still copy a late completion
     * into a request's buffers at read(). */
    if (device->queue != NULL) {
        struct pr_sg_queue *queue = (struct pr_sg_queue *)device->queue;
        uint32_t i;

        for (i = 0; i < PR_SG_QUEUE_MAX; ++i)
            free(queue->requests[i].data);
        free(queue);
        device->queue = NULL;
    }
    return rc;
}

#define PR_SG_FIELD(name) \
    {"sg_io_hdr", #name, (uint32_t)offsetof(struct sg_io_hdr, name), \
     (uint32_t)sizeof(((struct sg_io_hdr *)0)->name)}

static const struct pr_layout_field pr_sg_io_hdr_layout[] = {
    {"sg_io_hdr", "sizeof", 0, (uint32_t)sizeof(struct sg_io_hdr)},
    PR_SG_FIELD(interface_id),  PR_SG_FIELD(dxfer_direction), PR_SG_FIELD(cmd_len),
    PR_SG_FIELD(mx_sb_len),     PR_SG_FIELD(iovec_count),     PR_SG_FIELD(dxfer_len),
    PR_SG_FIELD(dxferp),        PR_SG_FIELD(cmdp),            PR_SG_FIELD(sbp),
    PR_SG_FIELD(timeout),       PR_SG_FIELD(flags),           PR_SG_FIELD(pack_id),
    PR_SG_FIELD(usr_ptr),       PR_SG_FIELD(status),          PR_SG_FIELD(masked_status),
    PR_SG_FIELD(msg_status),    PR_SG_FIELD(sb_len_wr),       PR_SG_FIELD(host_status),
    PR_SG_FIELD(driver_status), PR_SG_FIELD(resid),           PR_SG_FIELD(duration),
    PR_SG_FIELD(info),
};

uint32_t pr_transport_layout(const struct pr_layout_field **fields)
{
    *fields = pr_sg_io_hdr_layout;
    return (uint32_t)(sizeof(pr_sg_io_hdr_layout) / sizeof(pr_sg_io_hdr_layout[0]));
}
