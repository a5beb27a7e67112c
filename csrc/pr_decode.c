/*
 * pr_decode.c - PR IN response, sense data, INQUIRY and VPD page decoders.
 *
 * Pure and bounds-checked: `length` is what the device actually transferred,
 * and no byte at or past it is read.  Each PR IN decoder reports in *needed
 * the size of the complete response (8 + ADDITIONAL LENGTH) so the caller can
 * re-issue with a larger ALLOCATION LENGTH; it returns PR_ERR_SHORT when the
 * response did not fit, after decoding what did.
 * The INQUIRY and VPD decoders follow the same rules.
 */
#include <string.h>

#include "pr_bytes.h"
#include "pr_native.h"

#define PR_IN_HEADER_LEN 8
#define PR_KEY_LEN 8
#define PR_RESERVATION_DESCRIPTOR_LEN 16  /* SPC-4 table 215 */
#define PR_FULL_STATUS_DESCRIPTOR_LEN 24  /* SPC-4 table 220, before the TransportID */
#define PR_CAPABILITIES_LEN 8             /* SPC-4 table 217 */

static int pr_in_header(const uint8_t *data, uint32_t length, uint32_t *generation,
                        uint32_t *additional_length, uint64_t *needed)
{
    if (data == NULL || needed == NULL)
        return PR_ERR_ARGUMENT;
    *needed = PR_IN_HEADER_LEN;
    if (length < PR_IN_HEADER_LEN)
        return PR_ERR_MALFORMED;
    *generation = pr_get_be32(data);
    *additional_length = pr_get_be32(data + 4);
    *needed = (uint64_t)PR_IN_HEADER_LEN + *additional_length;
    return PR_OK;
}

/* SPC-4 6.15.2: PRGENERATION, ADDITIONAL LENGTH (8 * n), then n 8-byte keys. */
int pr_decode_read_keys(const uint8_t *data, uint32_t length, uint64_t *keys, uint32_t max_keys,
                        struct pr_keys *out, uint64_t *needed)
{
    uint32_t available;
    uint32_t i;
    int rc;

    if (out == NULL || (keys == NULL && max_keys > 0))
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    rc = pr_in_header(data, length, &out->generation, &out->additional_length, needed);
    if (rc != PR_OK)
        return rc;
    if (out->additional_length % PR_KEY_LEN != 0)
        return PR_ERR_MALFORMED;
    available = length - PR_IN_HEADER_LEN;
    if (available > out->additional_length)
        available = out->additional_length;
    if (available / PR_KEY_LEN > max_keys)
        return PR_ERR_ARGUMENT;
    for (i = 0; i < available / PR_KEY_LEN; i++)
        keys[i] = pr_get_be64(data + PR_IN_HEADER_LEN + (size_t)i * PR_KEY_LEN);
    out->count = i;
    return *needed > length ? PR_ERR_SHORT : PR_OK;
}

/* SPC-4 6.15.3: no descriptor when ADDITIONAL LENGTH is 0, else one 16-byte
 * descriptor: KEY 0-7, obsolete 8-11, reserved 12, SCOPE|TYPE 13. */
int pr_decode_read_reservation(const uint8_t *data, uint32_t length,
                               struct pr_reservation *out, uint64_t *needed)
{
    const uint8_t *descriptor;
    int rc;

    if (out == NULL)
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    rc = pr_in_header(data, length, &out->generation, &out->additional_length, needed);
    if (rc != PR_OK)
        return rc;
    if (out->additional_length == 0)
        return PR_OK;
    /* Only LU_SCOPE exists since SPC-3, so at most one descriptor follows. */
    if (out->additional_length % PR_RESERVATION_DESCRIPTOR_LEN != 0)
        return PR_ERR_MALFORMED;
    if (length < PR_IN_HEADER_LEN + PR_RESERVATION_DESCRIPTOR_LEN)
        return PR_ERR_SHORT;
    descriptor = data + PR_IN_HEADER_LEN;
    out->reserved = 1;
    out->key = pr_get_be64(descriptor);
    out->scope_specific_address = pr_get_be32(descriptor + 8);
    out->scope = (uint8_t)(descriptor[13] >> 4);
    out->type = (uint8_t)(descriptor[13] & 0x0F);
    return *needed > length ? PR_ERR_SHORT : PR_OK;
}

/* SPC-4 6.15.4: LENGTH (2 bytes) = 8, then the capability bits and the
 * PERSISTENT RESERVATION TYPE MASK. */
int pr_decode_report_capabilities(const uint8_t *data, uint32_t length,
                                  struct pr_capabilities *out, uint64_t *needed)
{
    if (data == NULL || out == NULL || needed == NULL)
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    *needed = PR_CAPABILITIES_LEN;
    if (length < 2)
        return PR_ERR_MALFORMED;
    out->length = pr_get_be16(data);
    if (out->length < PR_CAPABILITIES_LEN)
        return PR_ERR_MALFORMED;
    *needed = out->length;
    if (length < PR_CAPABILITIES_LEN)
        return PR_ERR_SHORT;
    out->replace_lost_reservation_capable = (uint8_t)((data[2] >> 7) & 1);
    out->compatible_reservation_handling = (uint8_t)((data[2] >> 4) & 1);
    out->specify_initiator_ports_capable = (uint8_t)((data[2] >> 3) & 1);
    out->all_target_ports_capable = (uint8_t)((data[2] >> 2) & 1);
    out->persist_through_power_loss_capable = (uint8_t)(data[2] & 1);
    out->type_mask_valid = (uint8_t)((data[3] >> 7) & 1);
    out->allow_commands = (uint8_t)((data[3] >> 4) & 7);
    out->persist_through_power_loss_active = (uint8_t)(data[3] & 1);
    out->type_mask = pr_get_be16(data + 4);
    return PR_OK;
}

/* SPC-4 6.15.5: a list of variable-length descriptors, each 24 bytes plus
 * ADDITIONAL DESCRIPTOR LENGTH bytes of TransportID. */
int pr_decode_read_full_status(const uint8_t *data, uint32_t length,
                               struct pr_registrant *registrants, uint32_t max_registrants,
                               struct pr_full_status *out, uint64_t *needed)
{
    uint64_t end;
    uint64_t offset = PR_IN_HEADER_LEN;
    int rc;

    if (out == NULL || (registrants == NULL && max_registrants > 0))
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    rc = pr_in_header(data, length, &out->generation, &out->additional_length, needed);
    if (rc != PR_OK)
        return rc;
    end = *needed < length ? *needed : length;
    while (offset + PR_FULL_STATUS_DESCRIPTOR_LEN <= end) {
        const uint8_t *d = data + offset;
        uint32_t tid_len = pr_get_be32(d + 20);
        struct pr_registrant *r;

        if (offset + PR_FULL_STATUS_DESCRIPTOR_LEN + tid_len > *needed)
            return PR_ERR_MALFORMED;  /* descriptor overruns ADDITIONAL LENGTH */
        if (offset + PR_FULL_STATUS_DESCRIPTOR_LEN + tid_len > length)
            return PR_ERR_SHORT;      /* cut off by the allocation length */
        if (out->count == max_registrants)
            return PR_ERR_ARGUMENT;
        r = &registrants[out->count++];
        memset(r, 0, sizeof(*r));
        r->key = pr_get_be64(d);
        r->all_target_ports = (uint8_t)((d[12] >> 1) & 1);
        r->holder = (uint8_t)(d[12] & 1);
        r->scope = (uint8_t)(d[13] >> 4);
        r->type = (uint8_t)(d[13] & 0x0F);
        r->relative_target_port = pr_get_be16(d + 18);
        r->transport_id_offset = (uint32_t)offset + PR_FULL_STATUS_DESCRIPTOR_LEN;
        r->transport_id_length = tid_len;
        offset += PR_FULL_STATUS_DESCRIPTOR_LEN + (uint64_t)tid_len;
    }
    if (offset < *needed) {
        /* Bytes left that cannot hold a descriptor: either the allocation
         * length cut the list, or ADDITIONAL LENGTH is inconsistent. */
        return *needed > length ? PR_ERR_SHORT : PR_ERR_MALFORMED;
    }
    return PR_OK;
}

/* Fixed format, SPC-4 4.5.3 (table 48). */
static void pr_decode_fixed_sense(const uint8_t *s, uint32_t length, struct pr_sense *out)
{
    if (length > 2) {
        out->filemark = (uint8_t)(s[2] >> 7);
        out->end_of_medium = (uint8_t)((s[2] >> 6) & 1);
        out->incorrect_length = (uint8_t)((s[2] >> 5) & 1);
        out->sense_key = (uint8_t)(s[2] & 0x0F);
    }
    if (length > 6) {
        out->information_valid = (uint8_t)(s[0] >> 7);
        out->information = pr_get_be32(s + 3);
    }
    if (length > 11)
        out->command_specific = pr_get_be32(s + 8);
    if (length > 12)
        out->asc = s[12];
    if (length > 13)
        out->ascq = s[13];
    if (length > 14)
        out->field_replaceable_unit = s[14];
    if (length > 17) {
        out->sense_key_specific_valid = (uint8_t)(s[15] >> 7);
        out->sense_key_specific = ((uint32_t)s[15] << 16) | ((uint32_t)s[16] << 8) | s[17];
    }
}

/* Descriptor format, SPC-4 4.5.2 (tables 27-39). */
static void pr_decode_descriptor_sense(const uint8_t *s, uint32_t length, struct pr_sense *out)
{
    uint32_t offset = 8;

    if (length > 1)
        out->sense_key = (uint8_t)(s[1] & 0x0F);
    if (length > 2)
        out->asc = s[2];
    if (length > 3)
        out->ascq = s[3];
    if (length > 4)
        out->overflow = (uint8_t)(s[4] >> 7);
    while (offset + 2 <= length) {
        const uint8_t *d = s + offset;
        uint32_t size = 2u + d[1];

        if (offset + size > length)
            break;  /* truncated descriptor: ignore it rather than guess */
        switch (d[0]) {
        case 0x00:  /* information */
            if (size >= 12) {
                out->information_valid = (uint8_t)(d[2] >> 7);
                out->information = pr_get_be64(d + 4);
            }
            break;
        case 0x01:  /* command-specific information */
            if (size >= 12)
                out->command_specific = pr_get_be64(d + 4);
            break;
        case 0x02:  /* sense key specific */
            if (size >= 7) {
                out->sense_key_specific_valid = (uint8_t)(d[4] >> 7);
                out->sense_key_specific =
                    ((uint32_t)d[4] << 16) | ((uint32_t)d[5] << 8) | d[6];
            }
            break;
        case 0x03:  /* field replaceable unit */
            if (size >= 4)
                out->field_replaceable_unit = d[3];
            break;
        case 0x04:  /* stream commands */
            if (size >= 4) {
                out->filemark = (uint8_t)(d[3] >> 7);
                out->end_of_medium = (uint8_t)((d[3] >> 6) & 1);
                out->incorrect_length = (uint8_t)((d[3] >> 5) & 1);
            }
            break;
        case 0x05:  /* block commands */
            if (size >= 4)
                out->incorrect_length = (uint8_t)((d[3] >> 5) & 1);
            break;
        default:
            break;
        }
        offset += size;
    }
}

int pr_decode_sense(const uint8_t *sense, uint32_t length, struct pr_sense *out)
{
    uint32_t total;

    if (out == NULL || (sense == NULL && length > 0))
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (length == 0)
        return PR_ERR_MALFORMED;
    out->response_code = (uint8_t)(sense[0] & 0x7F);
    /* Trust ADDITIONAL SENSE LENGTH (byte 7) only as far as bytes arrived. */
    total = length;
    if (length > 7 && 8u + sense[7] < length)
        total = 8u + sense[7];
    switch (out->response_code) {
    case 0x70:
    case 0x71:
        out->deferred = (uint8_t)(out->response_code == 0x71);
        pr_decode_fixed_sense(sense, total, out);
        return PR_OK;
    case 0x72:
    case 0x73:
        out->deferred = (uint8_t)(out->response_code == 0x73);
        out->descriptor_format = 1;
        pr_decode_descriptor_sense(sense, total, out);
        return PR_OK;
    default:
        return PR_ERR_MALFORMED;  /* 7Fh vendor specific, or not sense data */
    }
}

/* --- INQUIRY data and VPD pages ------------------------------------------ */

#define PR_INQUIRY_HEADER_LEN 5  /* through ADDITIONAL LENGTH */
#define PR_VPD_HEADER_LEN 4
#define PR_DESIGNATOR_HEADER_LEN 4

/* SPC-4 6.6.2: standard INQUIRY data. */
int pr_decode_inquiry(const uint8_t *data, uint32_t length, struct pr_inquiry *out,
                      uint64_t *needed)
{
    uint64_t end;

    if (out == NULL)
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    memset(out->vendor, ' ', sizeof(out->vendor));
    memset(out->product, ' ', sizeof(out->product));
    memset(out->revision, ' ', sizeof(out->revision));
    if (data == NULL || needed == NULL)
        return PR_ERR_ARGUMENT;
    *needed = PR_INQUIRY_HEADER_LEN;
    if (length < PR_INQUIRY_HEADER_LEN)
        return PR_ERR_MALFORMED;
    out->additional_length = data[4];
    *needed = PR_INQUIRY_HEADER_LEN + (uint64_t)data[4];
    end = *needed < length ? *needed : length;
    out->peripheral_qualifier = (uint8_t)(data[0] >> 5);
    out->peripheral_type = (uint8_t)(data[0] & 0x1F);
    out->removable = (uint8_t)(data[1] >> 7);
    out->version = data[2];
    out->response_data_format = (uint8_t)(data[3] & 0x0F);
    if (end > 5)
        out->target_port_group_support = (uint8_t)((data[5] >> 4) & 3);
    if (end > 6)
        out->multi_port = (uint8_t)((data[6] >> 4) & 1);
    if (end >= 16)
        memcpy(out->vendor, data + 8, sizeof(out->vendor));
    if (end >= 32)
        memcpy(out->product, data + 16, sizeof(out->product));
    if (end >= 36)
        memcpy(out->revision, data + 32, sizeof(out->revision));
    return *needed > length ? PR_ERR_SHORT : PR_OK;
}

/* SPC-4 7.8.1: every VPD page starts with the peripheral byte, PAGE CODE
 * and a 2-byte PAGE LENGTH. */
static int pr_vpd_header(const uint8_t *data, uint32_t length, uint8_t page_code,
                         struct pr_vpd_page *out, uint64_t *needed)
{
    if (out == NULL)
        return PR_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (data == NULL || needed == NULL)
        return PR_ERR_ARGUMENT;
    *needed = PR_VPD_HEADER_LEN;
    if (length < PR_VPD_HEADER_LEN)
        return PR_ERR_MALFORMED;
    out->peripheral_qualifier = (uint8_t)(data[0] >> 5);
    out->peripheral_type = (uint8_t)(data[0] & 0x1F);
    out->page_code = data[1];
    out->page_length = pr_get_be16(data + 2);
    *needed = PR_VPD_HEADER_LEN + (uint64_t)out->page_length;
    return data[1] == page_code ? PR_OK : PR_ERR_MALFORMED;
}

/* The page's bytes after the header that arrived: min(PAGE LENGTH, length - 4). */
static uint32_t pr_vpd_available(uint32_t length, const struct pr_vpd_page *page)
{
    uint32_t arrived = length - PR_VPD_HEADER_LEN;

    return arrived < page->page_length ? arrived : page->page_length;
}

/* SPC-4 7.8.16: one byte per supported page code. */
int pr_decode_supported_vpd_pages(const uint8_t *data, uint32_t length,
                                  struct pr_vpd_page *out, uint64_t *needed)
{
    int rc = pr_vpd_header(data, length, PR_VPD_SUPPORTED_PAGES, out, needed);

    if (rc != PR_OK)
        return rc;
    out->value_offset = PR_VPD_HEADER_LEN;
    out->value_length = pr_vpd_available(length, out);
    out->count = out->value_length;
    return *needed > length ? PR_ERR_SHORT : PR_OK;
}

static int pr_pads_serial(uint8_t byte)
{
    return byte == ' ' || byte == 0;
}

/* SPC-4 7.8.18: PRODUCT SERIAL NUMBER, ASCII, the rest of the page. */
int pr_decode_unit_serial_number(const uint8_t *data, uint32_t length,
                                 struct pr_vpd_page *out, uint64_t *needed)
{
    uint32_t start = PR_VPD_HEADER_LEN;
    uint32_t end;
    int rc = pr_vpd_header(data, length, PR_VPD_UNIT_SERIAL_NUMBER, out, needed);

    if (rc != PR_OK)
        return rc;
    if (*needed > length)
        return PR_ERR_SHORT;  /* a cut serial number would name another unit */
    end = PR_VPD_HEADER_LEN + out->page_length;
    while (start < end && pr_pads_serial(data[start]))
        start++;
    while (end > start && pr_pads_serial(data[end - 1]))
        end--;
    out->value_offset = start;
    out->value_length = end - start;
    return PR_OK;
}

/* The designator formats of SPC-4 7.8.6.2-7.8.6.11 (and SPC-5's UUID). */
static uint8_t pr_designator_well_formed(const uint8_t *designator, uint32_t length,
                                         uint8_t type)
{
    switch (type) {
    case 0x0:  /* vendor specific */
        return 1;
    case 0x1:  /* T10 vendor ID: T10 VENDOR IDENTIFICATION, then vendor specific */
        return length >= 8;
    case 0x2:  /* EUI-64 based: 8, 12 or 16 bytes */
        return length == 8 || length == 12 || length == 16;
    case 0x3:  /* NAA: the format is the NAA field */
        if (length == 0)
            return 0;
        switch (designator[0] >> 4) {
        case 0x2:  /* IEEE Extended */
        case 0x3:  /* Locally Assigned */
        case 0x5:  /* IEEE Registered */
            return length == 8;
        case 0x6:  /* IEEE Registered Extended */
            return length == 16;
        default:
            return 0;
        }
    case 0x4:  /* relative target port */
    case 0x5:  /* target port group */
    case 0x6:  /* logical unit group */
        return length == 4;
    case 0x7:  /* MD5 logical unit identifier */
        return length == 16;
    case 0x8:  /* SCSI name string: null-terminated, padded to a multiple of 4 */
        return length >= 4 && length <= 256 && length % 4 == 0;
    case 0x9:  /* protocol specific port identifier: UAS 4, SOP 4 or 8 */
        return length == 4 || length == 8;
    case 0xA:  /* UUID: UUID TYPE 1h (locally assigned), reserved, 16 bytes */
        return length == 18 && (designator[0] >> 4) == 1;
    default:
        return 0;
    }
}

/* SPC-4 7.8.6: a list of designation descriptors, each 4 bytes and
 * DESIGNATOR LENGTH bytes of designator. */
int pr_decode_device_identification(const uint8_t *data, uint32_t length,
                                    struct pr_designator *designators,
                                    uint32_t max_designators, struct pr_vpd_page *out,
                                    uint64_t *needed)
{
    uint64_t end;
    uint64_t offset = PR_VPD_HEADER_LEN;
    int rc;

    if (designators == NULL && max_designators > 0)
        return PR_ERR_ARGUMENT;
    rc = pr_vpd_header(data, length, PR_VPD_DEVICE_IDENTIFICATION, out, needed);
    if (rc != PR_OK)
        return rc;
    end = *needed < length ? *needed : length;
    while (offset + PR_DESIGNATOR_HEADER_LEN <= end) {
        const uint8_t *d = data + offset;
        uint32_t designator_len = d[3];
        struct pr_designator *designator;

        if (offset + PR_DESIGNATOR_HEADER_LEN + designator_len > *needed)
            return PR_ERR_MALFORMED;  /* descriptor overruns PAGE LENGTH */
        if (offset + PR_DESIGNATOR_HEADER_LEN + designator_len > length)
            return PR_ERR_SHORT;      /* cut off by the allocation length */
        if (out->count == max_designators)
            return PR_ERR_ARGUMENT;
        designator = &designators[out->count++];
        memset(designator, 0, sizeof(*designator));
        designator->offset = (uint32_t)offset + PR_DESIGNATOR_HEADER_LEN;
        designator->length = designator_len;
        designator->protocol_identifier = (uint8_t)(d[0] >> 4);
        designator->code_set = (uint8_t)(d[0] & 0x0F);
        designator->piv = (uint8_t)(d[1] >> 7);
        designator->association = (uint8_t)((d[1] >> 4) & 3);
        designator->type = (uint8_t)(d[1] & 0x0F);
        designator->well_formed =
            pr_designator_well_formed(d + PR_DESIGNATOR_HEADER_LEN, designator_len,
                                      designator->type);
        offset += PR_DESIGNATOR_HEADER_LEN + (uint64_t)designator_len;
    }
    if (offset < *needed)
        return *needed > length ? PR_ERR_SHORT : PR_ERR_MALFORMED;
    return PR_OK;
}
