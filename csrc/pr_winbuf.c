/*
 * pr_winbuf.c - the input buffers of IOCTL_STORAGE_PERSISTENT_RESERVE_IN/OUT.
 *
 * Also the decoders of IOCTL_STORAGE_QUERY_PROPERTY's output (below).
 *
 * Compiled on every OS so the bytes can be checked anywhere.  Rules from
 * classpnp's ClasspPersistentReserve: Size must cover the whole input buffer
 * (36 for PR OUT, not 12); PR_IN.AllocationLength is in host order (the class
 * driver byte-swaps it into the CDB); the 24-byte PRO_PARAMETER_LIST starts
 * at PR_OUT.ParameterList, offset 10, and is sent as is, big-endian keys.
 */
#include <string.h>

#include "pr_bytes.h"
#include "pr_ddk_layout.h"
#include "pr_native.h"

#define PRO_FLAG_APTPL 0x01
#define PRO_FLAG_ALL_TG_PT 0x04

static void pr_win_header(uint8_t *buffer, uint32_t size, uint32_t service_action)
{
    memset(buffer, 0, size);
    /* Version = sizeof(PERSISTENT_RESERVE_COMMAND), the convention of Microsoft's
     * own helpers; classpnp does not check it. */
    pr_put_le32(buffer + PRC_VERSION_OFFSET, PRC_SIZE);
    pr_put_le32(buffer + PRC_SIZE_OFFSET, size);
    buffer[PRC_SERVICE_ACTION_OFFSET] = (uint8_t)service_action;
}

int pr_win_in_command(uint8_t *buffer, uint32_t service_action, uint32_t allocation_length)
{
    if (buffer == NULL || service_action > 0x1F || allocation_length > PR_ALLOCATION_MAX)
        return PR_ERR_ARGUMENT;
    pr_win_header(buffer, PR_WIN_IN_COMMAND_LEN, service_action);
    pr_put_le16(buffer + PRC_ALLOCATION_LENGTH_OFFSET, (uint16_t)allocation_length);
    return PR_OK;
}

int pr_win_out_command(uint8_t *buffer, uint32_t service_action, uint32_t type, uint32_t scope,
                       uint64_t key, uint64_t service_action_key, uint32_t aptpl,
                       uint32_t all_target_ports)
{
    uint8_t *list;

    if (buffer == NULL || service_action > 0x1F || type > 0xF || scope > 0xF)
        return PR_ERR_ARGUMENT;
    pr_win_header(buffer, PR_WIN_OUT_COMMAND_LEN, service_action);
    buffer[PRC_TYPE_SCOPE_OFFSET] = (uint8_t)((scope << 4) | type);
    list = buffer + PRC_PARAMETER_LIST_OFFSET;
    pr_put_be64(list + PRO_RESERVATION_KEY_OFFSET, key);
    pr_put_be64(list + PRO_SERVICE_ACTION_RESERVATION_KEY_OFFSET, service_action_key);
    list[PRO_FLAGS_OFFSET] = (uint8_t)((aptpl ? PRO_FLAG_APTPL : 0) |
                                       (all_target_ports ? PRO_FLAG_ALL_TG_PT : 0));
    return PR_OK;
}

/* -- IOCTL_STORAGE_QUERY_PROPERTY's descriptors (pure, every OS) ----------- */

#define PR_VPD_HEADER_LEN 4
#define PR_DESIGNATOR_HEADER_LEN 4
#define PR_VPD_PAGE_LENGTH_MAX 65535u
#define PR_DESIGNATOR_LENGTH_MAX 255u

static uint32_t pr_win_le16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t pr_win_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/*
 * STORAGE_DESCRIPTOR_HEADER: *end is where the descriptor's bytes stop, its
 * Size (never past what arrived: PR_ERR_SHORT first).  A Size below the
 * fixed part `fixed` cannot be a descriptor of this kind.
 */
static int pr_win_descriptor(const uint8_t *data, uint32_t length, uint32_t fixed,
                             uint64_t *needed, uint32_t *end)
{
    uint32_t size;

    if (data == NULL || needed == NULL)
        return PR_ERR_ARGUMENT;
    *needed = fixed;
    if (length < SDH_SIZE)
        return PR_ERR_SHORT;
    size = pr_win_le32(data + SDH_SIZE_OFFSET);
    *needed = size > fixed ? size : fixed;
    if (size < fixed)
        return PR_ERR_MALFORMED;
    if (size > length)
        return PR_ERR_SHORT;
    *end = size;
    return PR_OK;
}

/* One string of STORAGE_DEVICE_DESCRIPTOR, found from its offset field. */
static int pr_win_string(const uint8_t *data, uint32_t end, uint32_t field, uint32_t *offset,
                         uint32_t *length)
{
    uint32_t at = pr_win_le32(data + field);
    uint32_t i;

    *offset = 0;
    *length = 0;
    /* Absent: 0 as ntddstor.h documents; some controllers put 0xFFFFFFFF
     * there instead (Windows-driver-samples spti.c, PrintDeviceDescriptor,
     * tests both). */
    if (at == 0 || at == UINT32_MAX)
        return PR_OK;
    if (at < SDD_RAW_DEVICE_PROPERTIES_OFFSET || at >= end)
        return PR_ERR_MALFORMED;
    for (i = at; i < end; i++) {
        if (data[i] == 0) {
            *offset = at;
            *length = i - at;
            return PR_OK;
        }
    }
    return PR_ERR_MALFORMED;  /* no NUL within Size */
}

int pr_win_decode_device_descriptor(const uint8_t *data, uint32_t length,
                                    struct pr_win_device_descriptor *out, uint64_t *needed)
{
    uint32_t end = 0;
    int rc;

    if (out == NULL)
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    rc = pr_win_descriptor(data, length, SDD_RAW_DEVICE_PROPERTIES_OFFSET, needed, &end);
    if (rc != PR_OK)
        return rc;
    out->size = end;
    if (data[SDD_DEVICE_TYPE_OFFSET] > 0x1F)
        return PR_ERR_MALFORMED;  /* PERIPHERAL DEVICE TYPE is 5 bits */
    out->device_type = data[SDD_DEVICE_TYPE_OFFSET];
    out->device_type_modifier = data[SDD_DEVICE_TYPE_MODIFIER_OFFSET];
    out->removable = data[SDD_REMOVABLE_MEDIA_OFFSET] != 0;
    out->command_queueing = data[SDD_COMMAND_QUEUEING_OFFSET] != 0;
    out->bus_type = pr_win_le32(data + SDD_BUS_TYPE_OFFSET);
    if ((rc = pr_win_string(data, end, SDD_VENDOR_ID_OFFSET, &out->vendor_offset,
                            &out->vendor_length)) != PR_OK ||
        (rc = pr_win_string(data, end, SDD_PRODUCT_ID_OFFSET, &out->product_offset,
                            &out->product_length)) != PR_OK ||
        (rc = pr_win_string(data, end, SDD_PRODUCT_REVISION_OFFSET, &out->revision_offset,
                            &out->revision_length)) != PR_OK ||
        (rc = pr_win_string(data, end, SDD_SERIAL_NUMBER_OFFSET, &out->serial_offset,
                            &out->serial_length)) != PR_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return PR_OK;
}

/*
 * SPC-4 7.8.6.1: the designation descriptor header a STORAGE_IDENTIFIER
 * stands for.  CODE SET and DESIGNATOR TYPE are 4 bits, ASSOCIATION 2; the
 * port driver copied them from the device's page (STORAGE_IDENTIFIER_TYPE
 * and _CODE_SET are SPC's values, StorageIdAssocDevice/Port/Target are 0-2).
 */
int pr_win_device_id_page(const uint8_t *data, uint32_t length, uint8_t *page,
                          uint32_t capacity, uint32_t *page_length, uint64_t *needed)
{
    uint32_t end = 0;
    uint32_t count;
    uint32_t offset = SDID_IDENTIFIERS_OFFSET;
    uint32_t written = PR_VPD_HEADER_LEN;
    uint32_t i;
    int rc;

    if (page == NULL || page_length == NULL)
        return PR_ERR_ARGUMENT;
    *page_length = 0;
    rc = pr_win_descriptor(data, length, SDID_IDENTIFIERS_OFFSET, needed, &end);
    if (rc != PR_OK)
        return rc;
    count = pr_win_le32(data + SDID_NUMBER_OF_IDENTIFIERS_OFFSET);
    for (i = 0; i < count; i++) {
        const uint8_t *id = data + offset;
        uint32_t size;
        uint32_t code_set;
        uint32_t type;
        uint32_t association;
        uint32_t next;

        if (end - offset < SID_IDENTIFIER_OFFSET)
            return PR_ERR_MALFORMED;  /* the header overruns Size */
        size = pr_win_le16(id + SID_IDENTIFIER_SIZE_OFFSET);
        next = pr_win_le16(id + SID_NEXT_OFFSET_OFFSET);
        code_set = pr_win_le32(id + SID_CODE_SET_OFFSET);
        type = pr_win_le32(id + SID_TYPE_OFFSET);
        association = pr_win_le32(id + SID_ASSOCIATION_OFFSET);
        if (size > PR_DESIGNATOR_LENGTH_MAX || end - offset - SID_IDENTIFIER_OFFSET < size ||
            code_set > 0xF || type > 0xF || association > 3)
            return PR_ERR_MALFORMED;
        if (i + 1 < count && next < SID_IDENTIFIER_OFFSET + size)
            return PR_ERR_MALFORMED;  /* the next one overlaps this one, or is this one */
        if (written + PR_DESIGNATOR_HEADER_LEN + size > capacity)
            return PR_ERR_ARGUMENT;
        if (written + PR_DESIGNATOR_HEADER_LEN + size > PR_VPD_HEADER_LEN + PR_VPD_PAGE_LENGTH_MAX)
            return PR_ERR_MALFORMED;  /* more than a VPD page holds */
        page[written] = (uint8_t)code_set;
        page[written + 1] = (uint8_t)((association << 4) | type);
        page[written + 2] = 0;
        page[written + 3] = (uint8_t)size;
        memcpy(page + written + PR_DESIGNATOR_HEADER_LEN, id + SID_IDENTIFIER_OFFSET, size);
        written += PR_DESIGNATOR_HEADER_LEN + size;
        if (i + 1 < count) {
            if (next > end - offset)
                return PR_ERR_MALFORMED;
            offset += next;
        }
    }
    if (capacity < PR_VPD_HEADER_LEN)
        return PR_ERR_ARGUMENT;
    page[0] = 0;  /* the peripheral byte is the standard INQUIRY's business */
    page[1] = 0x83;
    pr_put_be16(page + 2, (uint16_t)(written - PR_VPD_HEADER_LEN));
    *page_length = written;
    return PR_OK;
}

#ifndef _WIN32
/* No IOCTL_STORAGE_QUERY_PROPERTY off Windows (pr_windows.c has the real ones). */
int pr_win_query_property(const struct pr_device *device, uint32_t property_id,
                          uint8_t *buffer, uint32_t capacity, struct pr_result *result)
{
    (void)device;
    (void)property_id;
    (void)buffer;
    (void)capacity;
    if (result == NULL)
        return PR_ERR_ARGUMENT;
    memset(result, 0, sizeof(*result));
    return PR_ERR_UNSUPPORTED;
}

int pr_win_identify_by_property(const struct pr_device *device, const struct pr_result *result)
{
    (void)device;
    (void)result;
    return 0;
}
#endif
