/*
 * fuzz_out_parameters.c - the PR OUT builders fed structured requests:
 * pr_out_parameters_length, pr_build_out_parameters (SPC-4 6.16.3 basic and
 * SPEC_I_PT lists, 6.16.4 REGISTER AND MOVE) and pr_build_out_cdb, as pr_out()
 * chains them; also the PR IN and INQUIRY CDB builders.
 *
 * Input: a 25-byte header (zero-padded when shorter), then the TransportID
 * list bytes (the builders copy them as they are: Python checks them first).
 *   0 service action   1 scope   2 type   3 aptpl   4 all_target_ports
 *   5 unregister   6-13 key   14-21 service action key
 *   22-23 relative target port   24 extra capacity (0: an exact-size buffer)
 */
#include "fuzz.h"

#define HEADER_LEN 25
#define CDB_LEN 10

static void check_cdb(const struct pr_out_request *request, uint32_t length)
{
    uint8_t *cdb = fuzz_array(CDB_LEN, 1);
    int ok = request->service_action <= 0x1F && request->scope <= 0x0F && request->type <= 0x0F;
    int rc = pr_build_out_cdb(cdb, request->service_action, request->scope, request->type,
                              length);

    FUZZ_CHECK(rc == (ok ? PR_OK : PR_ERR_ARGUMENT));
    if (ok) {
        FUZZ_CHECK(cdb[0] == PR_OPCODE_OUT && cdb[1] == request->service_action);
        FUZZ_CHECK(cdb[2] == ((request->scope << 4) | request->type));
        FUZZ_CHECK(fuzz_zero(cdb, 3, 5) && fuzz_be32(cdb + 5) == length && cdb[9] == 0);
    }
    free(cdb);
}

static void check_in_cdb(uint32_t service_action, uint32_t allocation)
{
    uint8_t *cdb = fuzz_array(CDB_LEN, 1);
    int ok = service_action <= 0x1F && allocation <= PR_ALLOCATION_MAX;

    FUZZ_CHECK(pr_build_in_cdb(cdb, service_action, allocation) ==
               (ok ? PR_OK : PR_ERR_ARGUMENT));
    if (ok) {
        FUZZ_CHECK(cdb[0] == PR_OPCODE_IN && cdb[1] == service_action);
        FUZZ_CHECK(fuzz_zero(cdb, 2, 7) && fuzz_be16(cdb + 7) == allocation && cdb[9] == 0);
    }
    free(cdb);
}

static void check_inquiry_cdb(uint32_t evpd, uint32_t page_code, uint32_t allocation)
{
    uint8_t *cdb = fuzz_array(6, 1);
    int ok = evpd <= 1 && page_code <= 0xFF && (evpd == 1 || page_code == 0) &&
             allocation <= PR_ALLOCATION_MAX;

    FUZZ_CHECK(pr_build_inquiry_cdb(cdb, evpd, page_code, allocation) ==
               (ok ? PR_OK : PR_ERR_ARGUMENT));
    if (ok) {
        FUZZ_CHECK(cdb[0] == PR_OPCODE_INQUIRY && cdb[1] == evpd && cdb[2] == page_code);
        FUZZ_CHECK(fuzz_be16(cdb + 3) == allocation && cdb[5] == 0);
    }
    free(cdb);
}

/* The list built for request in buffer[0, length): every byte accounted for. */
static void check_list(const struct pr_out_request *request, const uint8_t *buffer,
                       uint32_t length)
{
    uint32_t tid_len = request->transport_ids_length;

    FUZZ_CHECK(fuzz_be64(buffer) == request->key);
    FUZZ_CHECK(fuzz_be64(buffer + 8) == request->service_action_key);
    if (request->service_action == 7) {  /* REGISTER AND MOVE */
        FUZZ_CHECK(length == PR_BASIC_PARAMETERS_LEN + tid_len);
        FUZZ_CHECK(buffer[16] == 0);
        FUZZ_CHECK(buffer[17] == ((request->unregister ? 2 : 0) | (request->aptpl ? 1 : 0)));
        FUZZ_CHECK(fuzz_be16(buffer + 18) == request->relative_target_port);
        FUZZ_CHECK(fuzz_be32(buffer + 20) == tid_len);
        FUZZ_CHECK(memcmp(buffer + 24, request->transport_ids, tid_len) == 0);
        return;
    }
    FUZZ_CHECK(fuzz_zero(buffer, 16, 20) && fuzz_zero(buffer, 21, 24));
    FUZZ_CHECK(buffer[20] == ((tid_len ? 8 : 0) | (request->all_target_ports ? 4 : 0) |
                              (request->aptpl ? 1 : 0)));
    if (tid_len == 0) {
        FUZZ_CHECK(length == PR_BASIC_PARAMETERS_LEN);
        return;
    }
    FUZZ_CHECK(length == 28 + tid_len);
    FUZZ_CHECK(fuzz_be32(buffer + 24) == tid_len);
    FUZZ_CHECK(memcmp(buffer + 28, request->transport_ids, tid_len) == 0);
}

/* Build into a heap buffer of exactly `capacity` bytes. */
static void build(const struct pr_out_request *request, uint32_t expected, uint32_t capacity)
{
    uint8_t *buffer = fuzz_array(capacity, 1);
    uint32_t length = 0xDEADBEEF;
    int rc = pr_build_out_parameters(request, buffer, capacity, &length);

    if (capacity < expected) {
        /* Refused, and nothing written. */
        FUZZ_CHECK(rc == PR_ERR_ARGUMENT && length == 0xDEADBEEF);
        FUZZ_CHECK(buffer == NULL || (buffer[0] == 0xA5 && buffer[capacity - 1] == 0xA5));
    } else {
        FUZZ_CHECK(rc == PR_OK && length == expected);
        check_list(request, buffer, length);
        if (capacity > expected)
            FUZZ_CHECK(buffer[expected] == 0xA5 && buffer[capacity - 1] == 0xA5);
    }
    free(buffer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t header[HEADER_LEN] = {0};
    struct pr_out_request request;
    uint32_t length = 0;
    uint32_t tid_len;
    uint8_t *tids;
    int rc;

    memcpy(header, data, size < HEADER_LEN ? size : HEADER_LEN);
    tid_len = size > HEADER_LEN ? (uint32_t)(size - HEADER_LEN) : 0;
    if (tid_len > FUZZ_MAX_LEN)
        tid_len = FUZZ_MAX_LEN;
    /* The list in its own exact-size block: a read past it is a report. */
    tids = fuzz_array(tid_len, 1);
    if (tid_len > 0)
        memcpy(tids, data + HEADER_LEN, tid_len);

    memset(&request, 0, sizeof(request));
    request.service_action = header[0];
    request.scope = header[1];
    request.type = header[2];
    request.aptpl = header[3];
    request.all_target_ports = header[4];
    request.unregister = header[5];
    request.key = fuzz_be64(header + 6);
    request.service_action_key = fuzz_be64(header + 14);
    request.relative_target_port = (uint16_t)fuzz_be16(header + 22);
    request.transport_ids = tids;
    request.transport_ids_length = tid_len;

    rc = pr_out_parameters_length(&request, &length);
    if (request.service_action == 7 && tid_len == 0) {
        FUZZ_CHECK(rc == PR_ERR_ARGUMENT);  /* REGISTER AND MOVE names its destination */
        build(&request, UINT32_MAX, 64);
    } else {
        FUZZ_CHECK(rc == PR_OK);
        FUZZ_CHECK(length >= PR_BASIC_PARAMETERS_LEN && length - tid_len <= 28);
        build(&request, length, length);
        build(&request, length, length - 1);
        if (header[24] != 0)
            build(&request, length, length + header[24]);
        check_cdb(&request, length);
    }
    if (tid_len > 0) {
        /* A length without its list is refused before anything is built. */
        request.transport_ids = NULL;
        FUZZ_CHECK(pr_out_parameters_length(&request, &length) == PR_ERR_ARGUMENT);
    }
    check_in_cdb(header[0], fuzz_be32(header + 6) >> (header[1] & 31));
    check_inquiry_cdb(header[3], header[1] & 0x80 ? fuzz_be16(header + 14) : header[2],
                      fuzz_be32(header + 10) >> (header[2] & 31));
    free(tids);
    return 0;
}
