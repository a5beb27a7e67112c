/*
 * pr_ops.c - one call per operation: build the CDB (and parameter list),
 * execute it through the platform transport, decode the response into the
 * caller's structs.  The caller owns every buffer; nothing is allocated.
 */
#include <string.h>

#include "pr_native.h"

#define PR_IN_CDB_LEN 10
#define PR_OUT_CDB_LEN 10
#define PR_TUR_CDB_LEN 6

/* PR IN service actions, SPC-4 table 211. */
#define PR_IN_READ_KEYS 0x00
#define PR_IN_READ_RESERVATION 0x01
#define PR_IN_REPORT_CAPABILITIES 0x02
#define PR_IN_READ_FULL_STATUS 0x03

int pr_execute_begin(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
                     int direction, const uint8_t *data, uint32_t data_len,
                     struct pr_result *result)
{
    if (result == NULL)
        return PR_ERR_ARGUMENT;
    memset(result, 0, sizeof(*result));
    if (device == NULL || cdb == NULL || cdb_len < 6 || cdb_len > PR_CDB_MAX ||
        (data == NULL && data_len > 0) ||
        (direction != PR_DIR_NONE && direction != PR_DIR_FROM_DEVICE &&
         direction != PR_DIR_TO_DEVICE) ||
        (direction == PR_DIR_NONE && data_len > 0))
        return PR_ERR_ARGUMENT;
    memcpy(result->cdb, cdb, cdb_len);
    result->cdb_len = (uint8_t)cdb_len;
    return PR_OK;
}

static int pr_in(const struct pr_device *device, uint32_t service_action, uint8_t *buffer,
                 uint32_t capacity, uint32_t timeout_ms, struct pr_result *result)
{
    uint8_t cdb[PR_IN_CDB_LEN];
    uint32_t allocation = capacity > PR_ALLOCATION_MAX ? PR_ALLOCATION_MAX : capacity;
    int rc = pr_build_in_cdb(cdb, service_action, allocation);

    if (rc != PR_OK)
        return rc;
    return pr_execute(device, cdb, sizeof(cdb), PR_DIR_FROM_DEVICE, buffer, allocation,
                      timeout_ms, result);
}

int pr_read_keys(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                 uint32_t timeout_ms, uint64_t *keys, uint32_t max_keys, struct pr_keys *out,
                 struct pr_result *result)
{
    int rc = pr_in(device, PR_IN_READ_KEYS, buffer, capacity, timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_read_keys(buffer, result->transferred, keys, max_keys, out,
                               &result->needed);
}

int pr_read_reservation(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                        uint32_t timeout_ms, struct pr_reservation *out,
                        struct pr_result *result)
{
    int rc = pr_in(device, PR_IN_READ_RESERVATION, buffer, capacity, timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_read_reservation(buffer, result->transferred, out, &result->needed);
}

/* PR_ERR_ARGUMENT with *result zeroed, as pr_execute_begin() refuses. */
static int pr_refused(struct pr_result *result)
{
    if (result != NULL)
        memset(result, 0, sizeof(*result));
    return PR_ERR_ARGUMENT;
}

int pr_response_serial(struct pr_previous *previous, const uint8_t *data, uint32_t length)
{
    if (previous == NULL || (data == NULL && length > 0))
        return PR_ERR_ARGUMENT;
    /* The kept bytes: a serial of 1 and up, a length within the room. */
    if (previous->serial > 0 && previous->data != NULL &&
        previous->length <= previous->capacity && length == previous->length &&
        (length == 0 || memcmp(previous->data, data, length) == 0))
        return previous->serial;
    previous->serial =
        previous->serial <= 0 || previous->serial == INT32_MAX ? 1 : previous->serial + 1;
    if (length > previous->capacity || (length > 0 && previous->data == NULL)) {
        previous->length = UINT32_MAX; /* longer than any kept response: never equal */
    } else {
        if (length > 0)
            memcpy(previous->data, data, length);
        previous->length = length;
    }
    return previous->serial;
}

int pr_read_keys_serial(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                        uint32_t timeout_ms, uint64_t *keys, uint32_t max_keys,
                        struct pr_keys *out, struct pr_result *result,
                        struct pr_previous *previous)
{
    int rc;

    if (previous == NULL)
        return pr_refused(result); /* before any I/O */
    rc = pr_read_keys(device, buffer, capacity, timeout_ms, keys, max_keys, out, result);
    if (rc != PR_OK)
        return rc;
    return pr_response_serial(previous, buffer, result->transferred);
}

int pr_read_reservation_serial(const struct pr_device *device, uint8_t *buffer,
                               uint32_t capacity, uint32_t timeout_ms,
                               struct pr_reservation *out, struct pr_result *result,
                               struct pr_previous *previous)
{
    int rc;

    if (previous == NULL)
        return pr_refused(result); /* before any I/O */
    rc = pr_read_reservation(device, buffer, capacity, timeout_ms, out, result);
    if (rc != PR_OK)
        return rc;
    return pr_response_serial(previous, buffer, result->transferred);
}

int pr_report_capabilities(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                           uint32_t timeout_ms, struct pr_capabilities *out,
                           struct pr_result *result)
{
    int rc = pr_in(device, PR_IN_REPORT_CAPABILITIES, buffer, capacity, timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_report_capabilities(buffer, result->transferred, out, &result->needed);
}

int pr_read_full_status(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                        uint32_t timeout_ms, struct pr_registrant *registrants,
                        uint32_t max_registrants, struct pr_full_status *out,
                        struct pr_result *result)
{
    int rc = pr_in(device, PR_IN_READ_FULL_STATUS, buffer, capacity, timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_read_full_status(buffer, result->transferred, registrants,
                                      max_registrants, out, &result->needed);
}

int pr_out(const struct pr_device *device, const struct pr_out_request *request,
           uint8_t *buffer, uint32_t capacity, uint32_t timeout_ms, struct pr_result *result)
{
    uint8_t cdb[PR_OUT_CDB_LEN];
    uint32_t length;
    int rc;

    if (request == NULL)
        return PR_ERR_ARGUMENT;
    rc = pr_build_out_parameters(request, buffer, capacity, &length);
    if (rc != PR_OK)
        return rc;
    rc = pr_build_out_cdb(cdb, request->service_action, request->scope, request->type, length);
    if (rc != PR_OK)
        return rc;
    return pr_execute(device, cdb, sizeof(cdb), PR_DIR_TO_DEVICE, buffer, length, timeout_ms,
                      result);
}

int pr_test_unit_ready(const struct pr_device *device, uint32_t timeout_ms,
                       struct pr_result *result)
{
    static const uint8_t cdb[PR_TUR_CDB_LEN] = {0};

    return pr_execute(device, cdb, sizeof(cdb), PR_DIR_NONE, NULL, 0, timeout_ms, result);
}

#define PR_INQUIRY_CDB_LEN 6

/* INQUIRY is data-in and changes nothing: the same path as PR IN. */
static int pr_inquiry_command(const struct pr_device *device, uint32_t evpd,
                              uint32_t page_code, uint8_t *buffer, uint32_t capacity,
                              uint32_t timeout_ms, struct pr_result *result)
{
    uint8_t cdb[PR_INQUIRY_CDB_LEN];
    uint32_t allocation = capacity > PR_ALLOCATION_MAX ? PR_ALLOCATION_MAX : capacity;
    int rc = pr_build_inquiry_cdb(cdb, evpd, page_code, allocation);

    if (rc != PR_OK)
        return rc;
    return pr_execute(device, cdb, sizeof(cdb), PR_DIR_FROM_DEVICE, buffer, allocation,
                      timeout_ms, result);
}

int pr_inquiry(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
               uint32_t timeout_ms, struct pr_inquiry *out, struct pr_result *result)
{
    int rc = pr_inquiry_command(device, 0, 0, buffer, capacity, timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_inquiry(buffer, result->transferred, out, &result->needed);
}

int pr_supported_vpd_pages(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                           uint32_t timeout_ms, struct pr_vpd_page *out,
                           struct pr_result *result)
{
    int rc = pr_inquiry_command(device, 1, PR_VPD_SUPPORTED_PAGES, buffer, capacity,
                                timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_supported_vpd_pages(buffer, result->transferred, out, &result->needed);
}

int pr_unit_serial_number(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                          uint32_t timeout_ms, struct pr_vpd_page *out,
                          struct pr_result *result)
{
    int rc = pr_inquiry_command(device, 1, PR_VPD_UNIT_SERIAL_NUMBER, buffer, capacity,
                                timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_unit_serial_number(buffer, result->transferred, out, &result->needed);
}

int pr_device_identification(const struct pr_device *device, uint8_t *buffer,
                             uint32_t capacity, uint32_t timeout_ms,
                             struct pr_designator *designators, uint32_t max_designators,
                             struct pr_vpd_page *out, struct pr_result *result)
{
    int rc = pr_inquiry_command(device, 1, PR_VPD_DEVICE_IDENTIFICATION, buffer, capacity,
                                timeout_ms, result);

    if (rc != PR_OK)
        return rc;
    return pr_decode_device_identification(buffer, result->transferred, designators,
                                           max_designators, out, &result->needed);
}

static int pr_poll_valid(const struct pr_batch_command *commands,
                         const struct pr_poll_decoded *decoded, uint32_t count)
{
    uint32_t i;

    if ((commands == NULL || decoded == NULL) && count > 0)
        return 0;
    for (i = 0; i < count; ++i)
        if (commands[i].cdb_len < 2 || commands[i].cdb[0] != PR_OPCODE_IN ||
            (commands[i].cdb[1] & 0x1F) > PR_IN_READ_RESERVATION)
            return 0;
    return 1;
}

int pr_poll_decode(const struct pr_batch_command *commands, struct pr_poll_decoded *decoded,
                   uint32_t count)
{
    uint32_t i;

    if (!pr_poll_valid(commands, decoded, count))
        return PR_ERR_ARGUMENT;
    for (i = 0; i < count; ++i) {
        const struct pr_batch_command *command = &commands[i];
        struct pr_poll_decoded *out = &decoded[i];

        out->needed = 0;
        if (command->rc != PR_OK)
            continue;
        if ((command->cdb[1] & 0x1F) == PR_IN_READ_KEYS)
            out->rc = pr_decode_read_keys(command->data, command->result.transferred, out->keys,
                                          out->max_keys, &out->keys_out, &out->needed);
        else
            out->rc = pr_decode_read_reservation(command->data, command->result.transferred,
                                                 &out->reservation, &out->needed);
    }
    return PR_OK;
}

int pr_poll(struct pr_batch_command *commands, struct pr_poll_decoded *decoded, uint32_t count)
{
    int rc;

    if (!pr_poll_valid(commands, decoded, count))
        return PR_ERR_ARGUMENT;
    rc = pr_execute_batch(commands, count);
    return rc != PR_OK ? rc : pr_poll_decode(commands, decoded, count);
}
