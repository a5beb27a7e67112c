/*
 * pr_sg.h - the sg v3 request and its verdict, and the per-device queue of
 * requests submitted through the sg driver's write() (pr_sg_queue.c), shared
 * by the Linux transport (pr_linux.c) and the many-device batch
 * (pr_poll_linux.c).
 */
#ifndef PR_SG_H
#define PR_SG_H

#include <scsi/sg.h>

#include "pr_native.h"

/* Fill a zeroed sg_io_hdr for the CDB already recorded in result->cdb. */
void pr_sg_prepare(struct sg_io_hdr *io, struct pr_result *result, int direction,
                   uint8_t *data, uint32_t data_len, uint32_t timeout_ms);

/* Record a completed request in *result; returns PR_OK or the PR_ERR_* verdict. */
int pr_sg_complete(const struct sg_io_hdr *io, uint32_t data_len, struct pr_result *result);

/*
 * A request the sg driver has accepted through write() and not yet given back
 * through read().  The driver copies the response and the sense bytes into
 * the buffers named at write() when read() collects the request, however late
 * that is, so those buffers belong to the request, not to the caller: a
 * caller that stops waiting leaves them here, and only pr_close() (after
 * which the driver copies nothing) frees them.
 */
#define PR_SG_QUEUE_MAX 16 /* SG_MAX_QUEUE: requests per sg file (drivers/scsi/sg.c) */

enum pr_sg_state {
    PR_SG_FREE = 0,
    PR_SG_WAITING,   /* someone waits for it: pr_execute/pr_resume or a batch entry */
    PR_SG_ABANDONED, /* nobody waits: discarded when it completes, or taken over */
    PR_SG_DONE,      /* read back; its batch entry has not taken the result yet */
    PR_SG_KEPT       /* read back after a signal ended its wait: kept for the
                      * re-issue that takes it over (its answer, a unit
                      * attention included, is that re-issue's) */
};

/* pr_sg_submit's take_over: which abandoned request with the same CDB
 * answers for this data-in command instead of a new one. */
enum pr_sg_take_over {
    PR_SG_TAKE = 1, /* one still in flight, with a new deadline (reads never pile up) */
    PR_SG_RESUME    /* a polling round's re-issue after a signal: the answer kept for
                     * it (PR_SG_KEPT), else one in flight (its deadline kept when
                     * it was that re-issue's own) */
};

struct pr_sg_request {
    int32_t pack_id; /* unique per device, matches a read() to its request */
    uint8_t state;
    uint8_t direction;
    uint8_t cdb_len;
    uint8_t takeable; /* a data-in request no data-out command has overtaken */
    uint8_t resumable; /* its waiter gave up on a signal: keep what comes back */
    uint8_t cdb[PR_CDB_MAX];
    uint32_t data_len;
    uint32_t capacity;
    uint8_t *data;
    uint64_t deadline_ms; /* pr_sg_now_ms(): when waiting for it stops */
    struct sg_io_hdr io;  /* as read() returned it, once PR_SG_DONE */
    uint8_t sense[PR_SENSE_MAX];
};

struct pr_sg_queue {
    int32_t last_pack_id;
    struct pr_sg_request *current; /* what pr_resume() waits for */
    struct pr_sg_request requests[PR_SG_QUEUE_MAX];
};

/* Internal pr_device.flags bit: /dev/sgN opened read-write (write() works). */
#define PR_DEVICE_SG_ASYNC 0x100u

uint64_t pr_sg_now_ms(void);

/* pr_execute() through SG_IO, leaving the device's sg queue alone (the batch
 * has requests of its own in flight there). */
int pr_execute_sync(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
                    int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
                    struct pr_result *result);

/* ``request`` carries the command whose CDB ``result`` holds, with the same
 * data length. */
int pr_sg_same_command(const struct pr_sg_request *request, const struct pr_result *result,
                       uint32_t data_len);

/* Start an operation on the device (its caller holds it alone): every request
 * still waited for is abandoned, and the completed ones are discarded, but
 * for those kept for a re-issue after a signal when ``resuming``. */
void pr_sg_begin(struct pr_sg_queue *queue, int fd, int resuming);

/* Submit one command, or (data-in only) take over an abandoned request with
 * the same CDB (``take_over``), so that re-issued reads never pile up in the
 * driver.  On success *request is PR_SG_WAITING, or PR_SG_DONE
 * when the request taken over has come back already, and result->dispatched
 * is 1; on failure result->os_error holds write()'s errno and nothing was
 * queued. */
int pr_sg_submit(struct pr_sg_queue *queue, int fd, int direction, const uint8_t *data,
                 uint32_t data_len, uint32_t timeout_ms, int take_over, struct pr_result *result,
                 struct pr_sg_request **request);

/* Read the completed requests of fd without blocking (each becomes
 * PR_SG_DONE, or PR_SG_KEPT for a re-issue after a signal, or is discarded
 * if abandoned), until none is left or none of
 * the queue's requests is still with the driver.  Returns 0, or the errno of
 * a read() that failed otherwise than with EAGAIN. */
int pr_sg_collect(struct pr_sg_queue *queue, int fd);

/* Hand a PR_SG_DONE request's outcome to *result (and its data to data) and
 * free it; returns the verdict as pr_sg_complete. */
int pr_sg_finish(struct pr_sg_request *request, uint8_t *data, uint32_t data_len,
                 struct pr_result *result);

/* Stop waiting for a request: it stays with the driver as PR_SG_ABANDONED. */
void pr_sg_abandon(struct pr_sg_request *request);

/* The request with this pack_id, or NULL. */
struct pr_sg_request *pr_sg_find(struct pr_sg_queue *queue, int32_t pack_id);

/* Look once, without blocking: the request's outcome (as pr_sg_wait), or
 * PR_ERR_PENDING with the milliseconds left until its deadline in *wait_ms. */
int pr_sg_poll_once(struct pr_sg_queue *queue, int fd, struct pr_sg_request *request,
                    uint8_t *data, uint32_t data_len, struct pr_result *result, uint32_t *wait_ms);

/* Wait for one request until it completes, its deadline passes, the node
 * hangs up or a signal arrives; returns as pr_execute(). */
int pr_sg_wait(struct pr_sg_queue *queue, int fd, struct pr_sg_request *request,
               uint8_t *data, uint32_t data_len, struct pr_result *result);

#endif /* PR_SG_H */
