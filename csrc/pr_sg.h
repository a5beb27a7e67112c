/*
 * pr_sg.h - the sg v3 request and its verdict, shared by the two ways the
 * Linux transport runs a command: the SG_IO ioctl (pr_linux.c) and the sg
 * driver's asynchronous write()/read() (pr_poll_linux.c).
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

#endif /* PR_SG_H */
