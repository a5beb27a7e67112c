/*
 * layout_check_user.c - compile-time check of csrc/pr_ddk_layout.h and of the
 * pass-through buffer of pr_windows.c against the user-mode SDK headers
 * (mingw-w64 <winioctl.h>, <ntddscsi.h>).  Nothing to run: it compiles or not.
 * Bitfield positions (ServiceAction, Type, Scope) cannot be taken in a constant
 * expression; driver.c probes them at run time.
 */
#define WIN32_LEAN_AND_MEAN

#include <stddef.h>

#include <windows.h>
#include <winioctl.h>
#include <ntddscsi.h>

#include "pr_ddk_layout.h"
#include "pr_native.h"
#include "pr_windows_seam.h"

#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

/* PERSISTENT_RESERVE_COMMAND */
_Static_assert(sizeof(PERSISTENT_RESERVE_COMMAND) == PRC_SIZE, "PRC size");
_Static_assert(PRC_SIZE == PR_WIN_IN_COMMAND_LEN, "PR IN input is the bare struct");
_Static_assert(offsetof(PERSISTENT_RESERVE_COMMAND, Version) == PRC_VERSION_OFFSET, "Version");
_Static_assert(MEMBER_SIZE(PERSISTENT_RESERVE_COMMAND, Version) == 4, "Version size");
_Static_assert(offsetof(PERSISTENT_RESERVE_COMMAND, Size) == PRC_SIZE_OFFSET, "Size");
_Static_assert(MEMBER_SIZE(PERSISTENT_RESERVE_COMMAND, Size) == 4, "Size size");
_Static_assert(offsetof(PERSISTENT_RESERVE_COMMAND, PR_IN) == PRC_SERVICE_ACTION_OFFSET,
               "PR_IN (ServiceAction is its first byte)");
_Static_assert(offsetof(PERSISTENT_RESERVE_COMMAND, PR_OUT) == PRC_SERVICE_ACTION_OFFSET,
               "PR_OUT (ServiceAction is its first byte)");
_Static_assert(offsetof(PERSISTENT_RESERVE_COMMAND, PR_IN.AllocationLength) ==
                   PRC_ALLOCATION_LENGTH_OFFSET, "PR_IN.AllocationLength");
_Static_assert(MEMBER_SIZE(PERSISTENT_RESERVE_COMMAND, PR_IN.AllocationLength) == 2,
               "AllocationLength is a USHORT");
_Static_assert(offsetof(PERSISTENT_RESERVE_COMMAND, PR_OUT.ParameterList) ==
                   PRC_PARAMETER_LIST_OFFSET, "PR_OUT.ParameterList");
/* Type|Scope is the byte between ServiceAction and ParameterList. */
_Static_assert(PRC_TYPE_SCOPE_OFFSET == PRC_SERVICE_ACTION_OFFSET + 1 &&
                   PRC_PARAMETER_LIST_OFFSET == PRC_TYPE_SCOPE_OFFSET + 1, "Type|Scope byte");
_Static_assert(PR_WIN_OUT_COMMAND_LEN >= PRC_PARAMETER_LIST_OFFSET + PRO_SIZE &&
                   PR_WIN_OUT_COMMAND_LEN % 4 == 0, "PR OUT input holds the whole list");
_Static_assert(PRO_SIZE == PR_BASIC_PARAMETERS_LEN, "PRO_PARAMETER_LIST is the basic list");

/* Control codes. */
_Static_assert(IOCTL_STORAGE_PERSISTENT_RESERVE_IN == 0x002D5018, "PR IN code");
_Static_assert(IOCTL_STORAGE_PERSISTENT_RESERVE_OUT == 0x002DD01C, "PR OUT code");
_Static_assert(IOCTL_SCSI_PASS_THROUGH_DIRECT == 0x0004D014, "SPTD code");
_Static_assert(SCSI_IOCTL_DATA_OUT == 0 && SCSI_IOCTL_DATA_IN == 1 &&
                   SCSI_IOCTL_DATA_UNSPECIFIED == 2, "DataIn values");

/* SCSI_PASS_THROUGH_DIRECT and the wrapper pr_windows.c sends. */
#ifdef _WIN64
_Static_assert(sizeof(SCSI_PASS_THROUGH_DIRECT) == 56, "SPTD x64 size");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, DataBuffer) == 24, "SPTD x64 DataBuffer");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, SenseInfoOffset) == 32, "SPTD x64 sense off");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, Cdb) == 36, "SPTD x64 Cdb");
#else
_Static_assert(sizeof(SCSI_PASS_THROUGH_DIRECT) == 44, "SPTD x86 size");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, DataBuffer) == 20, "SPTD x86 DataBuffer");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, SenseInfoOffset) == 24, "SPTD x86 sense off");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, Cdb) == 28, "SPTD x86 Cdb");
#endif
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, Length) == 0, "Length");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, ScsiStatus) == 2, "ScsiStatus");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, CdbLength) == 6, "CdbLength");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, SenseInfoLength) == 7, "SenseInfoLength");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, DataIn) == 8, "DataIn");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, DataTransferLength) == 12, "DataTransferLen");
_Static_assert(offsetof(SCSI_PASS_THROUGH_DIRECT, TimeOutValue) == 16, "TimeOutValue");
_Static_assert(MEMBER_SIZE(SCSI_PASS_THROUGH_DIRECT, Cdb) >= PR_CDB_MAX, "Cdb holds any CDB");
_Static_assert(offsetof(struct pr_win_sptd_with_sense, sptd) == 0, "struct first");
_Static_assert(offsetof(struct pr_win_sptd_with_sense, sense) >= sizeof(SCSI_PASS_THROUGH_DIRECT),
               "sense after the struct");
_Static_assert(MEMBER_SIZE(struct pr_win_sptd_with_sense, sense) == PR_WIN_SENSE_LEN &&
                   PR_WIN_SENSE_LEN <= 255 && PR_WIN_SENSE_LEN <= PR_SENSE_MAX,
               "SenseInfoLength is a UCHAR and fits pr_result.sense");
_Static_assert(offsetof(struct pr_win_sptd_with_sense, sense) + PR_WIN_SENSE_LEN <=
                   sizeof(struct pr_win_sptd_with_sense), "sense inside the buffer");

/* IOCTL_STORAGE_QUERY_PROPERTY's structs, as winioctl.h declares them. */
#include "layout_check_storage_property.h"
