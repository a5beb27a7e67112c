/*
 * driver.c - every function of the C core once, for valgrind's memcheck:
 * the pure builders and decoders, then pr_open/pr_execute/pr_close, every
 * operation of pr_ops.c, the two-step pr_submit/pr_collect/pr_abandon and
 * the batch (pr_execute_batch, pr_poll) against real devices.
 *
 *   driver SG_A SG_B [SD_A]   (the lab's $A_SG $B_SG $A_SD)
 *
 * Every buffer handed to the core is malloc()ed with exactly the size it is
 * announced with, so memcheck reports a byte read or written past it, and
 * every output is read back, so it reports one the core left uninitialised.
 * Leaves the LU without registrations.  Exit 0 when every call returned what
 * it should (memcheck's own verdict: --error-exitcode).
 *
 * Link with -Wl,--wrap=read: memcheck models SG_IO (it marks the bytes the
 * device transferred as written) but not the sg driver's asynchronous
 * interface, where read() hands back a request and the kernel copies its
 * data and sense bytes into the buffers named at write().  __wrap_read does
 * for that read() what memcheck does for SG_IO, so those bytes count as
 * written and everything else the core reads must have been.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <scsi/sg.h>
#include <valgrind/memcheck.h>

#include "pr_native.h"

ssize_t __real_read(int fd, void *buffer, size_t count);
ssize_t __wrap_read(int fd, void *buffer, size_t count);

ssize_t __wrap_read(int fd, void *buffer, size_t count)
{
    ssize_t done = __real_read(fd, buffer, count);
    const struct sg_io_hdr *io = buffer;

    if (done == (ssize_t)sizeof(*io) && count == sizeof(*io) && io->interface_id == 'S') {
        if (io->dxfer_direction == SG_DXFER_FROM_DEV && io->dxferp != NULL &&
            io->resid >= 0 && (unsigned)io->resid <= io->dxfer_len)
            VALGRIND_MAKE_MEM_DEFINED(io->dxferp, io->dxfer_len - (unsigned)io->resid);
        if (io->sbp != NULL)
            VALGRIND_MAKE_MEM_DEFINED(io->sbp, io->sb_len_wr);
    }
    return done;
}

#define TIMEOUT_MS 20000u
#define KEY_A 0xA1A1A1A1A1A1A1A1ull
#define KEY_B 0xB2B2B2B2B2B2B2B2ull

static int failures;

#define CHECK(condition)                                                          \
    do {                                                                          \
        if (!(condition)) {                                                       \
            fprintf(stderr, "driver.c:%d: failed: %s\n", __LINE__, #condition);  \
            failures++;                                                           \
        }                                                                         \
    } while (0)

static void *exact(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        abort();
    memset(p, 0, size ? size : 1);
    return p;
}

/* Touch every byte of an output, so memcheck sees an uninitialised one. */
static unsigned sum(const void *p, size_t size)
{
    const unsigned char *b = p;
    unsigned total = 0;
    size_t i;

    for (i = 0; i < size; i++)
        total += b[i];
    return total;
}

static unsigned sink;
#define USE(x) (sink += sum(&(x), sizeof(x)))

/* --- the pure half: bytes in, bytes out ----------------------------------- */

static const uint8_t SAS_TID[24] = {0x06, 0, 0, 0, 0x50, 0x01, 0x40, 0x50, 0, 0, 0, 0x01};

static void builders(void)
{
    struct pr_out_request request;
    uint8_t *cdb = exact(10);
    uint8_t *inquiry_cdb = exact(6);
    uint8_t *win_in = exact(PR_WIN_IN_COMMAND_LEN);
    uint8_t *win_out = exact(PR_WIN_OUT_COMMAND_LEN);
    uint8_t *tids = exact(2 * sizeof(SAS_TID));
    uint32_t length = 0;
    uint32_t action;

    memcpy(tids, SAS_TID, sizeof(SAS_TID));
    memcpy(tids + sizeof(SAS_TID), SAS_TID, sizeof(SAS_TID));
    CHECK(pr_build_in_cdb(cdb, 3, 8192) == PR_OK && cdb[0] == 0x5E);
    CHECK(pr_build_in_cdb(cdb, 0x20, 0) == PR_ERR_ARGUMENT);
    CHECK(pr_build_inquiry_cdb(inquiry_cdb, 1, 0x83, 255) == PR_OK && inquiry_cdb[2] == 0x83);
    CHECK(pr_build_inquiry_cdb(inquiry_cdb, 0, 0x80, 255) == PR_ERR_ARGUMENT);
    for (action = 0; action <= 8; action++) {
        uint8_t *list;

        memset(&request, 0, sizeof(request));
        request.service_action = (uint8_t)action;
        request.key = KEY_A;
        request.service_action_key = KEY_B;
        request.type = 5;
        if (action == 0 || action == 7) {  /* SPEC_I_PT list; REGISTER AND MOVE's one */
            request.transport_ids = tids;
            request.transport_ids_length = action == 0 ? 48 : 24;
        }
        CHECK(pr_out_parameters_length(&request, &length) == PR_OK);
        list = exact(length);
        CHECK(pr_build_out_parameters(&request, list, length, &length) == PR_OK);
        CHECK(pr_build_out_parameters(&request, list, length - 1, &length) == PR_ERR_ARGUMENT);
        sink += sum(list, length);
        free(list);
        CHECK(pr_build_out_cdb(cdb, action, 0, 5, length) == PR_OK && cdb[0] == 0x5F);
        sink += sum(cdb, 10);
        CHECK(pr_win_out_command(win_out, action, 5, 0, KEY_A, KEY_B, 0, 0) == PR_OK);
        sink += sum(win_out, PR_WIN_OUT_COMMAND_LEN);
    }
    memset(&request, 0, sizeof(request));
    request.service_action = 7;  /* REGISTER AND MOVE without a destination */
    CHECK(pr_out_parameters_length(&request, &length) == PR_ERR_ARGUMENT);
    CHECK(pr_win_in_command(win_in, 1, 8192) == PR_OK);
    sink += sum(win_in, PR_WIN_IN_COMMAND_LEN);
    free(cdb);
    free(inquiry_cdb);
    free(win_in);
    free(win_out);
    free(tids);
}

/* A copy of `bytes` in a block of exactly `length` bytes. */
static uint8_t *response(const char *bytes, uint32_t length)
{
    uint8_t *p = exact(length);

    memcpy(p, bytes, length);
    return p;
}

static void decoders(void)
{
    static const char keys_bytes[] = "\0\0\0\x2a\0\0\0\x10" "\1\2\3\4\5\6\7\x8" "\xff\xff\xff\xff\xff\xff\xff\xff";
    static const char reservation_bytes[] = "\0\0\0\x2a\0\0\0\x10" "\0\0\0\0\0\0\0\xa1" "\0\0\0\0\0\x05\0\0";
    static const char capabilities_bytes[] = "\0\x08\x1d\x90\xea\x01\0\0";
    static const char sense_bytes[] = "\x72\x06\x2a\x05\0\0\0\x0c" "\0\x0a\x80\0\0\0\0\0\0\0\x12\x34";
    static const char vpd_83[] = "\0\x83\0\x0c" "\x01\x03\0\x08\x50\x01\x40\x5a\xb0\0\0\0";
    uint8_t *data;
    uint8_t *full;
    uint64_t *key_array = exact(2 * sizeof(uint64_t));
    struct pr_registrant *registrants = exact(2 * sizeof(struct pr_registrant));
    struct pr_designator *designators = exact(2 * sizeof(struct pr_designator));
    struct pr_keys keys;
    struct pr_reservation reservation;
    struct pr_capabilities capabilities;
    struct pr_full_status full_status;
    struct pr_sense sense;
    struct pr_inquiry inquiry;
    struct pr_vpd_page page;
    uint64_t needed = 0;
    uint32_t i;

    data = response(keys_bytes, 24);
    CHECK(pr_decode_read_keys(data, 24, key_array, 2, &keys, &needed) == PR_OK);
    CHECK(keys.count == 2 && needed == 24);
    USE(keys);
    sink += sum(key_array, 2 * sizeof(uint64_t));
    CHECK(pr_decode_read_keys(data, 16, key_array, 2, &keys, &needed) == PR_ERR_SHORT);
    CHECK(pr_decode_read_keys(data, 24, key_array, 1, &keys, &needed) == PR_ERR_ARGUMENT);
    free(data);

    data = response(reservation_bytes, 24);
    CHECK(pr_decode_read_reservation(data, 24, &reservation, &needed) == PR_OK);
    CHECK(reservation.reserved && reservation.key == 0xA1 && reservation.type == 5);
    USE(reservation);
    CHECK(pr_decode_read_reservation(data, 20, &reservation, &needed) == PR_ERR_SHORT);
    free(data);

    data = response(capabilities_bytes, 8);
    CHECK(pr_decode_report_capabilities(data, 8, &capabilities, &needed) == PR_OK);
    USE(capabilities);
    free(data);

    /* READ FULL STATUS: one registrant, holder, SAS TransportID. */
    full = exact(8 + 24 + 24);
    full[7] = 48;
    memset(full + 8, 0xA1, 8);
    full[8 + 12] = 1;
    full[8 + 13] = 0x05;
    full[8 + 23] = 24;
    memcpy(full + 32, SAS_TID, 24);
    CHECK(pr_decode_read_full_status(full, 56, registrants, 2, &full_status, &needed) == PR_OK);
    CHECK(full_status.count == 1 && registrants[0].transport_id_offset == 32);
    USE(full_status);
    USE(registrants[0]);
    CHECK(pr_decode_read_full_status(full, 40, registrants, 2, &full_status, &needed) ==
          PR_ERR_SHORT);
    free(full);

    data = response(sense_bytes, 20);
    CHECK(pr_decode_sense(data, 20, &sense) == PR_OK && sense.asc == 0x2A);
    CHECK(sense.information_valid && sense.information == 0x1234);
    USE(sense);
    CHECK(pr_decode_sense(data, 0, &sense) == PR_ERR_MALFORMED);
    free(data);

    data = exact(36);
    data[0] = 0x00;
    data[4] = 31;
    memcpy(data + 8, "LIO-ORG RAMDISK-MCP     4.0 ", 28);
    CHECK(pr_decode_inquiry(data, 36, &inquiry, &needed) == PR_OK && needed == 36);
    USE(inquiry);
    CHECK(pr_decode_inquiry(data, 20, &inquiry, &needed) == PR_ERR_SHORT);
    free(data);

    data = response(vpd_83, 16);
    CHECK(pr_decode_device_identification(data, 16, designators, 2, &page, &needed) == PR_OK);
    CHECK(page.count == 1 && designators[0].well_formed);
    USE(page);
    USE(designators[0]);
    CHECK(pr_decode_supported_vpd_pages(data, 16, &page, &needed) == PR_ERR_MALFORMED);
    CHECK(pr_decode_unit_serial_number(data, 16, &page, &needed) == PR_ERR_MALFORMED);
    free(data);

    {
        const struct pr_layout_field *fields = NULL;
        uint32_t n = pr_layout(&fields);

        for (i = 0; i < n; i++)
            sink += fields[i].offset + fields[i].size + (unsigned)strlen(fields[i].field);
        n = pr_transport_layout(&fields);
        for (i = 0; i < n; i++)
            sink += fields[i].offset + fields[i].size + (unsigned)strlen(fields[i].structure);
        sink += (unsigned)strlen(pr_core_version());
    }
    free(key_array);
    free(registrants);
    free(designators);
}

/* --- the transport: real devices ------------------------------------------ */

static int send_out(const struct pr_device *device, uint8_t action, uint64_t key,
                    uint64_t sa_key, uint8_t type, uint8_t all_target_ports)
{
    struct pr_out_request request;
    struct pr_result *result = exact(sizeof(*result));
    uint8_t *buffer = exact(PR_BASIC_PARAMETERS_LEN);
    int rc;

    memset(&request, 0, sizeof(request));
    request.service_action = action;
    request.key = key;
    request.service_action_key = sa_key;
    request.type = type;
    request.all_target_ports = all_target_ports;
    rc = pr_out(device, &request, buffer, PR_BASIC_PARAMETERS_LEN, TIMEOUT_MS, result);
    USE(*result);
    free(buffer);
    free(result);
    return rc;
}

static void out(const struct pr_device *device, uint8_t action, uint64_t key, uint64_t sa_key,
                uint8_t type, int expect)
{
    int rc = send_out(device, action, key, sa_key, type, 0);

    if (rc != expect)
        fprintf(stderr, "PR OUT %u: rc %d, expected %d\n", action, rc, expect);
    CHECK(rc == expect);
}

static void reads(const struct pr_device *device, uint32_t expect_keys)
{
    const uint32_t capacity = 8192;
    uint8_t *buffer = exact(capacity);
    uint64_t *keys = exact(8 * sizeof(uint64_t));
    struct pr_registrant *registrants = exact(8 * sizeof(struct pr_registrant));
    struct pr_designator *designators = exact(16 * sizeof(struct pr_designator));
    struct pr_result *result = exact(sizeof(*result));
    struct pr_keys keys_out;
    struct pr_reservation reservation;
    struct pr_capabilities capabilities;
    struct pr_full_status full_status;
    struct pr_inquiry inquiry;
    struct pr_vpd_page page;
    uint32_t i;

    CHECK(pr_test_unit_ready(device, TIMEOUT_MS, result) == PR_OK);
    CHECK(pr_read_keys(device, buffer, capacity, TIMEOUT_MS, keys, 8, &keys_out, result) ==
          PR_OK);
    CHECK(keys_out.count == expect_keys);
    USE(keys_out);
    USE(*result);
    sink += sum(keys, keys_out.count * sizeof(uint64_t));
    CHECK(pr_read_reservation(device, buffer, capacity, TIMEOUT_MS, &reservation, result) ==
          PR_OK);
    USE(reservation);
    CHECK(pr_report_capabilities(device, buffer, capacity, TIMEOUT_MS, &capabilities, result) ==
          PR_OK);
    USE(capabilities);
    CHECK(pr_read_full_status(device, buffer, capacity, TIMEOUT_MS, registrants, 8, &full_status,
                              result) == PR_OK);
    CHECK(full_status.count == expect_keys);
    for (i = 0; i < full_status.count; i++) {
        USE(registrants[i]);
        sink += sum(buffer + registrants[i].transport_id_offset,
                    registrants[i].transport_id_length);
    }
    /* A response cut by the allocation length: the needed size comes back. */
    CHECK(pr_read_keys(device, buffer, 12, TIMEOUT_MS, keys, 8, &keys_out, result) ==
          (expect_keys ? PR_ERR_SHORT : PR_OK));
    CHECK(result->needed == 8 + 8 * (uint64_t)expect_keys);
    CHECK(pr_inquiry(device, buffer, 255, TIMEOUT_MS, &inquiry, result) == PR_OK);
    USE(inquiry);
    CHECK(pr_supported_vpd_pages(device, buffer, 255, TIMEOUT_MS, &page, result) == PR_OK);
    USE(page);
    sink += sum(buffer + page.value_offset, page.value_length);
    CHECK(pr_unit_serial_number(device, buffer, 255, TIMEOUT_MS, &page, result) == PR_OK);
    USE(page);
    CHECK(pr_device_identification(device, buffer, capacity, TIMEOUT_MS, designators, 16, &page,
                                   result) == PR_OK);
    for (i = 0; i < page.count; i++)
        USE(designators[i]);
    free(buffer);
    free(keys);
    free(registrants);
    free(designators);
    free(result);
}

static void two_steps(const struct pr_device *device)
{
    uint8_t cdb[10];
    uint8_t *data = exact(512);
    struct pr_result *result = exact(sizeof(*result));
    uint32_t wait_ms = 0;
    int32_t ticket = 0;
    int rc;

    CHECK(pr_build_in_cdb(cdb, 0, 512) == PR_OK);
    CHECK(pr_submit(device, cdb, 10, PR_DIR_FROM_DEVICE, data, 512, TIMEOUT_MS, result,
                    &ticket) == PR_OK);
    do {
        rc = pr_collect(device, ticket, data, 512, result, &wait_ms);
    } while (rc == PR_ERR_PENDING);
    CHECK(rc == PR_OK && result->transferred >= 8);
    sink += sum(data, result->transferred);
    /* One left to the driver: discarded when it completes. */
    CHECK(pr_submit(device, cdb, 10, PR_DIR_FROM_DEVICE, data, 512, TIMEOUT_MS, result,
                    &ticket) == PR_OK);
    pr_abandon(device, ticket);
    CHECK(pr_collect(device, ticket, data, 512, result, &wait_ms) == PR_ERR_ARGUMENT);
    CHECK(pr_resume(device, result) == PR_ERR_ARGUMENT);  /* nothing was interrupted */
    free(data);
    free(result);
}

static void batch(const struct pr_device **devices, uint32_t count)
{
    struct pr_batch_command *commands = exact(2 * count * sizeof(*commands));
    struct pr_poll_decoded *decoded = exact(2 * count * sizeof(*decoded));
    uint32_t i;

    for (i = 0; i < 2 * count; i++) {
        struct pr_batch_command *c = &commands[i];

        c->device = devices[i / 2];
        c->data_len = 4096;
        c->data = exact(c->data_len);
        c->timeout_ms = TIMEOUT_MS;
        c->cdb_len = 10;
        CHECK(pr_build_in_cdb(c->cdb, i % 2, c->data_len) == PR_OK);
        decoded[i].max_keys = 8;
        decoded[i].keys = exact(8 * sizeof(uint64_t));
    }
    CHECK(pr_execute_batch(commands, 2 * count) == PR_OK);
    for (i = 0; i < 2 * count; i++) {
        CHECK(commands[i].rc == PR_OK);
        USE(commands[i].result);
        sink += sum(commands[i].data, commands[i].result.transferred);
    }
    CHECK(pr_poll(commands, decoded, 2 * count) == PR_OK);
    for (i = 0; i < 2 * count; i++) {
        CHECK(commands[i].rc == PR_OK && decoded[i].rc == PR_OK);
        USE(decoded[i].keys_out);
        USE(decoded[i].reservation);
        sink += sum(decoded[i].keys, decoded[i].keys_out.count * sizeof(uint64_t));
        free(commands[i].data);
        free(decoded[i].keys);
    }
    free(commands);
    free(decoded);
}

/* Take the unit attentions a fresh nexus may hold (power on, reset). */
static void settle(const struct pr_device *device)
{
    struct pr_result *result = exact(sizeof(*result));
    int i;

    for (i = 0; i < 3 && pr_test_unit_ready(device, TIMEOUT_MS, result) != PR_OK; i++)
        USE(*result);
    free(result);
}

static int open_device(const char *path, uint32_t flags, struct pr_device *device)
{
    struct pr_result *result = exact(sizeof(*result));
    int rc = pr_open(path, flags, device, result);

    if (rc != PR_OK)
        fprintf(stderr, "pr_open(%s): rc %d, errno %d\n", path, rc, result->os_error);
    free(result);
    return rc;
}

int main(int argc, char **argv)
{
    struct pr_device a, b, sd, read_only, other;
    const struct pr_device *devices[3];
    uint32_t count = 2;

    if (argc < 3) {
        fprintf(stderr, "usage: driver SG_A SG_B [SD_A]\n");
        return 2;
    }
    builders();
    decoders();

    CHECK(open_device("/nonexistent/sg", 0, &other) == PR_ERR_OS);
    CHECK(open_device("/dev/null", 0, &other) == PR_ERR_NOT_SCSI);
    if (open_device(argv[1], 0, &a) != PR_OK || open_device(argv[2], 0, &b) != PR_OK)
        return 1;
    CHECK(open_device(argv[1], PR_OPEN_READ_ONLY, &read_only) == PR_OK);
    devices[0] = &a;
    devices[1] = &read_only;  /* a batch entry outside the sg queue: SG_IO */
    if (argc > 3 && open_device(argv[3], 0, &sd) == PR_OK)
        devices[count++] = &sd;

    /* Whatever an earlier test left: REGISTER AND IGNORE EXISTING KEY, CLEAR
     * (LIO wants ALL_TG_PT as the nexus registered it). */
    settle(&a);
    if (send_out(&a, 6, 0, KEY_A, 0, 0) != PR_OK)
        CHECK(send_out(&a, 6, 0, KEY_A, 0, 1) == PR_OK);
    out(&a, 3, KEY_A, 0, 0, PR_OK);
    settle(&a);
    settle(&b);
    out(&a, 3, KEY_A, 0, 0, PR_ERR_STATUS);  /* CLEAR unregistered: RESERVATION CONFLICT */
    reads(&a, 0);
    out(&a, 0, 0, KEY_A, 0, PR_OK);          /* REGISTER */
    out(&b, 0, 0, KEY_B, 0, PR_OK);
    out(&a, 1, KEY_A, 0, 5, PR_OK);          /* RESERVE, WE registrants only */
    reads(&read_only, 2);
    batch(devices, count);
    two_steps(&a);
    out(&b, 4, KEY_B, KEY_A, 5, PR_OK);      /* PREEMPT A */
    reads(&b, 1);
    out(&b, 3, KEY_B, 0, 0, PR_OK);          /* CLEAR */
    reads(&b, 0);

    CHECK(pr_close(&read_only) == PR_OK);
    if (count > 2)
        CHECK(pr_close(&sd) == PR_OK);
    CHECK(pr_close(&b) == PR_OK);
    CHECK(pr_close(&a) == PR_OK);
    printf("driver: %d failures (%u)\n", failures, sink & 1);
    return failures ? 1 : 0;
}
