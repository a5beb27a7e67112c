/*
 * sg_queue_takeover.c - which earlier request, if any, answers for a data-in
 * command on the sg queue, with the driver's write()/read()/poll() and the
 * clock replaced (-Wl,--wrap): the target answers only what a mode lets it
 * answer, and a poll() that times out moves the clock to its end.
 *
 * sg_queue_takeover MODE prints "writes SLOTS_IN_USE RC" after its last call:
 *   pileup   17 READ KEYS that time out, then a PR OUT: the reads take over
 *            the one still in flight instead of filling the file's 16 slots,
 *            so the PR OUT is written (its own wait then times out too)
 *   late     a READ KEYS a signal interrupted, its handler raised (no
 *            re-issue), its answer back, an hour later the same READ KEYS:
 *            a command of its own, not the hour-old answer
 *   round    the same in a polling round (not resuming): written again
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sg_queue_seam.h"

static struct sg_io_hdr sent[64];
static int writes, answered[64], eintr_once;
static long long skew_ms;

int __real_clock_gettime(clockid_t clock, struct timespec *now);
int __wrap_clock_gettime(clockid_t clock, struct timespec *now);

int __wrap_clock_gettime(clockid_t clock, struct timespec *now)
{
    int rc = __real_clock_gettime(clock, now);

    now->tv_sec += skew_ms / 1000;
    return rc;
}

ssize_t __wrap_write(int fd, const void *buffer, size_t size)
{
    (void)fd;
    sent[writes++] = *(const struct sg_io_hdr *)buffer;
    return (ssize_t)size;
}

static void answer(int i)
{
    sent[i].status = 0;
    sent[i].sb_len_wr = 0;
    sent[i].resid = 0;
    memset(sent[i].dxferp, 0x10 + i, sent[i].dxfer_len);
    answered[i] = 1;
}

ssize_t __wrap_read(int fd, void *buffer, size_t size)
{
    int i;

    (void)fd;
    (void)size;
    for (i = 0; i < writes; ++i) {
        if (answered[i] == 1) {
            answered[i] = 2;
            *(struct sg_io_hdr *)buffer = sent[i];
            return (ssize_t)sizeof(struct sg_io_hdr);
        }
    }
    errno = EAGAIN;
    return -1;
}

int __wrap_poll(struct pollfd *fds, nfds_t count, int timeout)
{
    int i, ready = 0;
    nfds_t k;

    if (eintr_once) {
        eintr_once = 0;
        errno = EINTR;
        return -1;
    }
    for (i = 0; i < writes; ++i)
        ready |= answered[i] == 1;
    for (k = 0; k < count; ++k)
        fds[k].revents = ready ? POLLIN : 0;
    if (!ready && timeout > 0)
        skew_ms += timeout; /* nothing came back until the deadline */
    return ready ? (int)count : 0;
}

static int slots_in_use(const struct pr_sg_queue *queue)
{
    int i, used = 0;

    for (i = 0; i < PR_SG_QUEUE_MAX; ++i)
        used += queue->requests[i].state != PR_SG_FREE;
    return used;
}

int main(int argc, char **argv)
{
    static struct pr_sg_queue queue;
    static uint8_t data[64];
    static struct pr_batch_command command;
    struct pr_device device;
    struct pr_result result;
    uint8_t keys[10] = {0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0};
    uint8_t out[24] = {0};
    uint8_t register_cdb[10] = {0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0};
    const char *mode = argc > 1 ? argv[1] : "";
    int i, rc = 0;

    seam_device(&device, &queue);
    if (strcmp(mode, "pileup") == 0) {
        for (i = 0; i < 17; ++i)
            if (pr_execute(&device, keys, sizeof(keys), PR_DIR_FROM_DEVICE, data, sizeof(data),
                           1000, &result) != PR_ERR_TIMEOUT)
                return 3;
        rc = pr_execute(&device, register_cdb, sizeof(register_cdb), PR_DIR_TO_DEVICE, out,
                        sizeof(out), 1000, &result);
    } else if (strcmp(mode, "late") == 0) {
        eintr_once = 1;
        if (pr_execute(&device, keys, sizeof(keys), PR_DIR_FROM_DEVICE, data, sizeof(data), 1000,
                       &result) != PR_ERR_INTERRUPTED)
            return 3;
        answer(0);
        skew_ms += 3600 * 1000;
        rc = pr_execute(&device, keys, sizeof(keys), PR_DIR_FROM_DEVICE, data, sizeof(data), 1000,
                        &result); /* waits for its own answer: none comes, it times out */
    } else if (strcmp(mode, "round") == 0) {
        seam_round_entry(&command, &device, data, sizeof(data), keys);
        eintr_once = 1;
        if (pr_execute_batch(&command, 1) != PR_OK || command.rc != PR_ERR_INTERRUPTED)
            return 3;
        answer(0);
        skew_ms += 3600 * 1000;
        if (pr_execute_batch(&command, 1) != PR_OK)
            return 4;
        rc = command.rc;
    } else {
        return 2;
    }
    printf("%d %d %d\n", writes, slots_in_use(&queue), rc);
    return 0;
}
