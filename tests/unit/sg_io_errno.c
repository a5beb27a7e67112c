/*
 * sg_io_errno.c - the transport's "may it have reached the device" rule for
 * an SG_IO that fails, on a node without sg's asynchronous interface
 * (/dev/sdX, /dev/stN).  Linked with -Wl,--wrap=ioctl: SG_GET_VERSION_NUM
 * answers as sg v3 does, SG_IO fails with the errno given as argv[1].
 * Prints the return code of a PR OUT (REGISTER AND IGNORE EXISTING KEY)
 * and result.dispatched.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <scsi/sg.h>

#include "pr_native.h"

static int forced_errno;

int __wrap_ioctl(int fd, unsigned long request, ...);

int __wrap_ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    void *arg;

    (void)fd;
    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (request == SG_GET_VERSION_NUM) {
        *(int *)arg = 30536;
        return 0;
    }
    errno = forced_errno;
    return -1;
}

int main(int argc, char **argv)
{
    struct pr_device device;
    struct pr_result result;
    struct pr_out_request request;
    uint8_t buffer[64];
    int rc;

    if (argc != 2)
        return 2;
    forced_errno = atoi(argv[1]);
    /* /dev/null is no sg node: the SG_IO path of /dev/sdX and /dev/stN. */
    if (pr_open("/dev/null", 0, &device, &result) != PR_OK)
        return 3;
    memset(&request, 0, sizeof(request));
    request.service_action = 6;
    request.service_action_key = 0x1234;
    rc = pr_out(&device, &request, buffer, sizeof(buffer), 1000, &result);
    printf("%d %u %d\n", rc, (unsigned)result.dispatched, (int)result.os_error);
    pr_close(&device);
    return 0;
}
