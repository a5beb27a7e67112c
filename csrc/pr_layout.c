/*
 * pr_layout.c - the layout table of the portable buffers: the Windows DDK
 * persistent reservation structures as pr_winbuf.c and the decoders pack and
 * read them.  `python -m pr_native.layout` prints it next to the transport's
 * own table (pr_transport_layout).
 */
#include "pr_ddk_layout.h"
#include "pr_native.h"

static const struct pr_layout_field pr_portable_layout[] = {
    {"PERSISTENT_RESERVE_COMMAND", "sizeof", 0, PRC_SIZE},
    {"PERSISTENT_RESERVE_COMMAND", "Version", PRC_VERSION_OFFSET, 4},
    {"PERSISTENT_RESERVE_COMMAND", "Size", PRC_SIZE_OFFSET, 4},
    {"PERSISTENT_RESERVE_COMMAND", "ServiceAction", PRC_SERVICE_ACTION_OFFSET, 1},
    {"PERSISTENT_RESERVE_COMMAND", "PR_OUT.Type|Scope", PRC_TYPE_SCOPE_OFFSET, 1},
    {"PERSISTENT_RESERVE_COMMAND", "PR_IN.AllocationLength", PRC_ALLOCATION_LENGTH_OFFSET, 2},
    {"PERSISTENT_RESERVE_COMMAND", "PR_OUT.ParameterList", PRC_PARAMETER_LIST_OFFSET, 0},
    {"PRO_PARAMETER_LIST", "sizeof", 0, PRO_SIZE},
    {"PRO_PARAMETER_LIST", "ReservationKey", PRO_RESERVATION_KEY_OFFSET, 8},
    {"PRO_PARAMETER_LIST", "ServiceActionReservationKey",
     PRO_SERVICE_ACTION_RESERVATION_KEY_OFFSET, 8},
    {"PRO_PARAMETER_LIST", "ScopeSpecificAddress", PRO_SCOPE_SPECIFIC_ADDRESS_OFFSET, 4},
    {"PRO_PARAMETER_LIST", "APTPL|ALL_TG_PT|SPEC_I_PT", PRO_FLAGS_OFFSET, 1},
    {"PRO_PARAMETER_LIST", "Obsolete", PRO_OBSOLETE_OFFSET, 2},
    {"PRI_REGISTRATION_LIST", "sizeof", 0, PRI_LIST_HEADER_SIZE},
    {"PRI_REGISTRATION_LIST", "Generation", PRI_GENERATION_OFFSET, 4},
    {"PRI_REGISTRATION_LIST", "AdditionalLength", PRI_ADDITIONAL_LENGTH_OFFSET, 4},
    {"PRI_REGISTRATION_LIST", "ReservationKeyList", PRI_LIST_OFFSET, 0},
    {"PRI_RESERVATION_LIST", "sizeof", 0, PRI_LIST_HEADER_SIZE},
    {"PRI_RESERVATION_LIST", "Generation", PRI_GENERATION_OFFSET, 4},
    {"PRI_RESERVATION_LIST", "AdditionalLength", PRI_ADDITIONAL_LENGTH_OFFSET, 4},
    {"PRI_RESERVATION_LIST", "Reservations", PRI_LIST_OFFSET, 0},
    {"PRI_RESERVATION_DESCRIPTOR", "sizeof", 0, PRI_DESCRIPTOR_SIZE},
    {"PRI_RESERVATION_DESCRIPTOR", "ReservationKey", PRI_DESCRIPTOR_KEY_OFFSET, 8},
    {"PRI_RESERVATION_DESCRIPTOR", "ScopeSpecificAddress",
     PRI_DESCRIPTOR_SCOPE_SPECIFIC_ADDRESS_OFFSET, 4},
    {"PRI_RESERVATION_DESCRIPTOR", "Type|Scope", PRI_DESCRIPTOR_TYPE_SCOPE_OFFSET, 1},
};

uint32_t pr_layout(const struct pr_layout_field **fields)
{
    *fields = pr_portable_layout;
    return (uint32_t)(sizeof(pr_portable_layout) / sizeof(pr_portable_layout[0]));
}

#ifndef PR_NATIVE_VERSION
#define PR_NATIVE_VERSION "unknown" /* compiled without pr_native/_build.py */
#endif

const char *pr_core_version(void)
{
    return PR_NATIVE_VERSION;
}
