/*
 * pr_cdb.c - PERSISTENT RESERVE IN/OUT CDBs and PR OUT parameter lists.
 *
 * Pure functions: bytes out, no I/O.  Field positions follow SPC-4 r37
 * 6.15.1 (PR IN CDB), 6.16.1 (PR OUT CDB), 6.16.3 (basic parameter list)
 * and 6.16.4 (REGISTER AND MOVE parameter list).
 */
#include <string.h>

#include "pr_bytes.h"
#include "pr_native.h"

#define PR_CDB_LEN 10
#define PR_SA_REGISTER_AND_MOVE 7

/* Basic parameter list, byte 20 (SPC-4 table 226). */
#define PR_FLAG_SPEC_I_PT 0x08
#define PR_FLAG_ALL_TG_PT 0x04
#define PR_FLAG_APTPL 0x01
/* REGISTER AND MOVE parameter list, byte 17 (SPC-4 table 229). */
#define PR_MOVE_FLAG_UNREG 0x02
#define PR_MOVE_FLAG_APTPL 0x01
/* Header in front of the SPEC_I_PT TransportIDs: TRANSPORTID PARAMETER DATA LENGTH. */
#define PR_SPEC_I_PT_HEADER_LEN 28

int pr_build_in_cdb(uint8_t *cdb, uint32_t service_action, uint32_t allocation_length)
{
    if (cdb == NULL || service_action > 0x1F || allocation_length > PR_ALLOCATION_MAX)
        return PR_ERR_ARGUMENT;
    memset(cdb, 0, PR_CDB_LEN);
    cdb[0] = PR_OPCODE_IN;
    cdb[1] = (uint8_t)service_action;
    pr_put_be16(cdb + 7, (uint16_t)allocation_length);
    return PR_OK;
}

int pr_build_out_cdb(uint8_t *cdb, uint32_t service_action, uint32_t scope, uint32_t type,
                     uint32_t parameter_list_length)
{
    if (cdb == NULL || service_action > 0x1F || scope > 0xF || type > 0xF)
        return PR_ERR_ARGUMENT;
    memset(cdb, 0, PR_CDB_LEN);
    cdb[0] = PR_OPCODE_OUT;
    cdb[1] = (uint8_t)service_action;
    cdb[2] = (uint8_t)((scope << 4) | type);
    /* SPC-3 widened PARAMETER LIST LENGTH to bytes 5-8; for lists below 64 KiB
     * this is byte-identical to the SPC-2 16-bit field at bytes 7-8. */
    pr_put_be32(cdb + 5, parameter_list_length);
    return PR_OK;
}

int pr_out_parameters_length(const struct pr_out_request *request, uint32_t *length)
{
    uint32_t header;

    if (request == NULL || length == NULL)
        return PR_ERR_ARGUMENT;
    if (request->transport_ids_length > 0 && request->transport_ids == NULL)
        return PR_ERR_ARGUMENT;
    if (request->service_action == PR_SA_REGISTER_AND_MOVE) {
        if (request->transport_ids_length == 0)
            return PR_ERR_ARGUMENT;  /* REGISTER AND MOVE names its destination */
        header = PR_BASIC_PARAMETERS_LEN;
    } else {
        header = request->transport_ids_length > 0 ? PR_SPEC_I_PT_HEADER_LEN
                                                   : PR_BASIC_PARAMETERS_LEN;
    }
    if (request->transport_ids_length > UINT32_MAX - header)
        return PR_ERR_ARGUMENT;
    *length = header + request->transport_ids_length;
    return PR_OK;
}

int pr_build_out_parameters(const struct pr_out_request *request, uint8_t *buffer,
                            uint32_t capacity, uint32_t *length)
{
    uint32_t total;
    uint32_t tid_len;
    int rc = pr_out_parameters_length(request, &total);

    if (rc != PR_OK)
        return rc;
    if (buffer == NULL || length == NULL || capacity < total)
        return PR_ERR_ARGUMENT;
    tid_len = request->transport_ids_length;
    memset(buffer, 0, total);
    pr_put_be64(buffer, request->key);
    pr_put_be64(buffer + 8, request->service_action_key);
    if (request->service_action == PR_SA_REGISTER_AND_MOVE) {
        buffer[17] = (uint8_t)((request->unregister ? PR_MOVE_FLAG_UNREG : 0) |
                               (request->aptpl ? PR_MOVE_FLAG_APTPL : 0));
        pr_put_be16(buffer + 18, request->relative_target_port);
        pr_put_be32(buffer + 20, tid_len);
        memcpy(buffer + PR_BASIC_PARAMETERS_LEN, request->transport_ids, tid_len);
    } else {
        buffer[20] = (uint8_t)((tid_len > 0 ? PR_FLAG_SPEC_I_PT : 0) |
                               (request->all_target_ports ? PR_FLAG_ALL_TG_PT : 0) |
                               (request->aptpl ? PR_FLAG_APTPL : 0));
        if (tid_len > 0) {
            pr_put_be32(buffer + PR_BASIC_PARAMETERS_LEN, tid_len);
            memcpy(buffer + PR_SPEC_I_PT_HEADER_LEN, request->transport_ids, tid_len);
        }
    }
    *length = total;
    return PR_OK;
}

/* SPC-4 6.6.1: ALLOCATION LENGTH is bytes 3-4 since SPC-3 (byte 3 was
 * reserved in SPC-2); a PAGE CODE without EVPD is an invalid field. */
#define PR_INQUIRY_CDB_LEN 6

int pr_build_inquiry_cdb(uint8_t *cdb, uint32_t evpd, uint32_t page_code,
                         uint32_t allocation_length)
{
    if (cdb == NULL || evpd > 1 || page_code > 0xFF || (evpd == 0 && page_code != 0) ||
        allocation_length > PR_ALLOCATION_MAX)
        return PR_ERR_ARGUMENT;
    memset(cdb, 0, PR_INQUIRY_CDB_LEN);
    cdb[0] = PR_OPCODE_INQUIRY;
    cdb[1] = (uint8_t)evpd;
    cdb[2] = (uint8_t)page_code;
    pr_put_be16(cdb + 3, (uint16_t)allocation_length);
    return PR_OK;
}
