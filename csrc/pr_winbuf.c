/*
 * pr_winbuf.c - the input buffers of IOCTL_STORAGE_PERSISTENT_RESERVE_IN/OUT.
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
