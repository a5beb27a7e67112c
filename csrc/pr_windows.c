/*
 * pr_windows.c - the Windows transports, chosen per command.
 *
 * IOCTL_STORAGE_PERSISTENT_RESERVE_IN/OUT (ntddstor.h) are implemented by
 * classpnp for \\.\PhysicalDriveN and \\.\TapeN.  classpnp rebuilds the CDB
 * itself and consumes the sense data, and it only accepts READ KEYS, READ
 * RESERVATION and the 24-byte basic PR OUT parameter list with service
 * actions 0-6 and types 1, 3, 5, 6 (ClasspPersistentReserve).  Everything
 * else goes through IOCTL_SCSI_PASS_THROUGH_DIRECT (ntddscsi.h), which sends
 * the CDB unchanged and returns the SCSI status and the sense bytes.
 */
#define WIN32_LEAN_AND_MEAN

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>
#include <ntddscsi.h>

#include "pr_bytes.h"
#include "pr_ddk_layout.h"
#include "pr_native.h"
#include "pr_windows_seam.h"

#define PR_WIN_CDB_LEN 10

/* SPC-4 service actions and types the storage IOCTLs can carry. */
#define PR_IN_READ_RESERVATION 0x01
#define PR_OUT_RESERVE 0x01
#define PR_OUT_RELEASE 0x02
#define PR_OUT_PREEMPT 0x04
#define PR_OUT_PREEMPT_AND_ABORT 0x05
#define PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY 0x06
#define PR_TYPE_WRITE_EXCLUSIVE 0x1
#define PR_TYPE_EXCLUSIVE_ACCESS 0x3
#define PR_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY 0x5
#define PR_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY 0x6
#define PRO_FLAG_APTPL 0x01
#define PRO_FLAG_ALL_TG_PT 0x04

#define PR_WIN_STATIC_ASSERT(name, condition) \
    typedef char pr_win_static_assert_##name[(condition) ? 1 : -1]

/* The control codes of the issue and of the public docs, from the SDK macros. */
PR_WIN_STATIC_ASSERT(pr_in_code, IOCTL_STORAGE_PERSISTENT_RESERVE_IN == 0x002D5018);
PR_WIN_STATIC_ASSERT(pr_out_code, IOCTL_STORAGE_PERSISTENT_RESERVE_OUT == 0x002DD01C);
PR_WIN_STATIC_ASSERT(sptd_code, IOCTL_SCSI_PASS_THROUGH_DIRECT == 0x0004D014);
PR_WIN_STATIC_ASSERT(sense_fits_uchar, PR_WIN_SENSE_LEN <= 255 && PR_WIN_SENSE_LEN <= PR_SENSE_MAX);
PR_WIN_STATIC_ASSERT(cdb_fits, sizeof(((SCSI_PASS_THROUGH_DIRECT *)0)->Cdb) >= PR_CDB_MAX);

static BOOL WINAPI pr_win_system_device_io_control(HANDLE device, DWORD code, LPVOID in,
                                                   DWORD in_len, LPVOID out, DWORD out_len,
                                                   LPDWORD returned, LPOVERLAPPED overlapped)
{
    return DeviceIoControl(device, code, in, in_len, out, out_len, returned, overlapped);
}

/* A static wrapper rather than DeviceIoControl itself: the address of a
 * dllimport function is not a constant initializer in C for MSVC (C4232). */
BOOL (WINAPI *pr_win_device_io_control)(HANDLE, DWORD, LPVOID, DWORD, LPVOID, DWORD, LPDWORD,
                                        LPOVERLAPPED) = pr_win_system_device_io_control;

static int pr_win_type_reservable(uint32_t type)
{
    return type == PR_TYPE_WRITE_EXCLUSIVE || type == PR_TYPE_EXCLUSIVE_ACCESS ||
           type == PR_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY ||
           type == PR_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
}

/*
 * Translate a command for the storage IOCTLs into `command` (the
 * PERSISTENT_RESERVE_COMMAND buffer) and return its length, or 0 when they
 * cannot carry it exactly.  classpnp rebuilds the CDB from the buffer, so the
 * command qualifies only when that CDB, and the parameter list copied from
 * PR_OUT.ParameterList, are byte for byte the caller's: no CONTROL byte, no
 * SPEC_I_PT, no obsolete fields, ALLOCATION LENGTH equal to the buffer.
 */
static uint32_t pr_win_storage_command(const uint8_t *cdb, uint32_t cdb_len, int direction,
                                       const uint8_t *data, uint32_t data_len,
                                       uint8_t *command)
{
    uint8_t rebuilt[PR_WIN_CDB_LEN];
    uint32_t service_action;
    uint32_t scope;
    uint32_t type;

    if (cdb_len != PR_WIN_CDB_LEN)
        return 0;
    service_action = cdb[1] & 0x1Fu;
    if (cdb[0] == PR_OPCODE_IN) {
        if (direction != PR_DIR_FROM_DEVICE || service_action > PR_IN_READ_RESERVATION ||
            data_len < PRI_LIST_HEADER_SIZE ||
            pr_build_in_cdb(rebuilt, service_action, data_len) != PR_OK ||
            memcmp(rebuilt, cdb, PR_WIN_CDB_LEN) != 0 ||
            pr_win_in_command(command, service_action, data_len) != PR_OK)
            return 0;
        return PR_WIN_IN_COMMAND_LEN;
    }
    if (cdb[0] != PR_OPCODE_OUT || direction != PR_DIR_TO_DEVICE || data_len != PRO_SIZE ||
        service_action > PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY)
        return 0;
    scope = (uint32_t)cdb[2] >> 4;
    type = cdb[2] & 0x0Fu;
    if ((service_action == PR_OUT_RESERVE || service_action == PR_OUT_RELEASE ||
         service_action == PR_OUT_PREEMPT || service_action == PR_OUT_PREEMPT_AND_ABORT) &&
        (scope != 0 || !pr_win_type_reservable(type)))
        return 0;
    if (pr_build_out_cdb(rebuilt, service_action, scope, type, PRO_SIZE) != PR_OK ||
        memcmp(rebuilt, cdb, PR_WIN_CDB_LEN) != 0 ||
        pr_win_out_command(command, service_action, type, scope,
                           pr_get_be64(data + PRO_RESERVATION_KEY_OFFSET),
                           pr_get_be64(data + PRO_SERVICE_ACTION_RESERVATION_KEY_OFFSET),
                           (uint32_t)(data[PRO_FLAGS_OFFSET] & PRO_FLAG_APTPL),
                           (uint32_t)(data[PRO_FLAGS_OFFSET] & PRO_FLAG_ALL_TG_PT)) != PR_OK ||
        memcmp(command + PRC_PARAMETER_LIST_OFFSET, data, PRO_SIZE) != 0)
        return 0;
    return PR_WIN_OUT_COMMAND_LEN;
}

/*
 * GetLastError() after a failed storage PR IOCTL, and whether the device ran
 * the command or may have (classpnp, RtlNtStatusToDosError):
 *   ERROR_BUSY (170)              RESERVATION CONFLICT status      ran
 *   ERROR_INVALID_FUNCTION (1)    CHECK CONDITION / ILLEGAL REQUEST ran (or
 *                                 the stack lacks the IOCTL: cannot tell)
 *   ERROR_SEM_TIMEOUT (121)       timed out (returned as PR_ERR_TIMEOUT) may have
 *   ERROR_IO_DEVICE (1117)        other device or adapter failure  may have
 *   ERROR_NOT_SUPPORTED (50), ERROR_INVALID_PARAMETER (87), ERROR_ACCESS_DENIED
 *   (5), ERROR_BAD_LENGTH (24), ERROR_INVALID_HANDLE (6), anything else:
 *                                 refused before dispatch          did not
 * The Python layer turns ERROR_BUSY into ReservationConflict,
 * ERROR_INVALID_FUNCTION into IllegalRequest without sense, ERROR_ACCESS_DENIED
 * into PermissionError, ERROR_NOT_SUPPORTED and ERROR_INVALID_PARAMETER into
 * UnsupportedOperation.  ERROR_MORE_DATA (234) on PR IN is no failure: the
 * bytes returned are valid, and the decoder sees ADDITIONAL LENGTH beyond
 * them and reports PR_ERR_SHORT with the size needed.
 */
static int pr_win_storage_dispatched(DWORD error)
{
    return error == ERROR_BUSY || error == ERROR_INVALID_FUNCTION ||
           error == ERROR_SEM_TIMEOUT || error == ERROR_IO_DEVICE;
}

static int pr_win_storage_ioctl(HANDLE handle, int direction, uint8_t *command,
                                uint32_t command_len, uint8_t *data, uint32_t data_len,
                                struct pr_result *result)
{
    DWORD returned = 0;
    DWORD error;
    BOOL ok;

    result->transport = PR_TRANSPORT_STORAGE_IOCTL;
    result->sense_hidden = 1;
    if (direction == PR_DIR_FROM_DEVICE)
        ok = pr_win_device_io_control(handle, IOCTL_STORAGE_PERSISTENT_RESERVE_IN, command,
                                      (DWORD)command_len, data, (DWORD)data_len, &returned,
                                      NULL);
    else
        ok = pr_win_device_io_control(handle, IOCTL_STORAGE_PERSISTENT_RESERVE_OUT, command,
                                      (DWORD)command_len, NULL, 0, &returned, NULL);
    error = ok ? ERROR_SUCCESS : GetLastError();
    result->os_error = (int32_t)error;
    if (ok || (direction == PR_DIR_FROM_DEVICE && error == ERROR_MORE_DATA)) {
        result->dispatched = 1;
        /* PR OUT returns no bytes; its parameter list went out whole. */
        result->transferred = direction == PR_DIR_FROM_DEVICE
                                  ? (returned < data_len ? (uint32_t)returned : data_len)
                                  : data_len;
        result->resid = (int32_t)(data_len - result->transferred);
        return PR_OK;
    }
    result->dispatched = (uint8_t)pr_win_storage_dispatched(error);
    return error == ERROR_SEM_TIMEOUT ? PR_ERR_TIMEOUT : PR_ERR_OS;
}

/* TimeOutValue is in seconds: round up, and never 0. */
static ULONG pr_win_timeout_seconds(uint32_t timeout_ms)
{
    uint32_t seconds = timeout_ms / 1000 + (timeout_ms % 1000 != 0 ? 1u : 0u);

    return seconds > 0 ? (ULONG)seconds : 1;
}

static int pr_win_pass_through(HANDLE handle, const uint8_t *cdb, uint32_t cdb_len,
                               int direction, uint8_t *data, uint32_t data_len,
                               uint32_t timeout_ms, struct pr_result *result)
{
    struct pr_win_sptd_with_sense request;
    DWORD returned = 0;
    DWORD error;
    uint32_t transferred;

    result->transport = PR_TRANSPORT_PASS_THROUGH;
    memset(&request, 0, sizeof(request));
    request.sptd.Length = (USHORT)sizeof(request.sptd);
    request.sptd.CdbLength = (UCHAR)cdb_len;
    request.sptd.SenseInfoLength = (UCHAR)sizeof(request.sense);
    if (data_len == 0)
        request.sptd.DataIn = SCSI_IOCTL_DATA_UNSPECIFIED;
    else if (direction == PR_DIR_FROM_DEVICE)
        request.sptd.DataIn = SCSI_IOCTL_DATA_IN;
    else
        request.sptd.DataIn = SCSI_IOCTL_DATA_OUT;
    request.sptd.DataTransferLength = (ULONG)data_len;
    request.sptd.TimeOutValue = pr_win_timeout_seconds(timeout_ms);
    request.sptd.DataBuffer = data_len > 0 ? data : NULL;
    request.sptd.SenseInfoOffset = (ULONG)offsetof(struct pr_win_sptd_with_sense, sense);
    memcpy(request.sptd.Cdb, cdb, cdb_len);

    /* The same buffer in and out: the driver writes the status, lengths and
     * sense back, and Wine reads the request from the output buffer. */
    if (!pr_win_device_io_control(handle, IOCTL_SCSI_PASS_THROUGH_DIRECT, &request,
                                  (DWORD)sizeof(request), &request, (DWORD)sizeof(request),
                                  &returned, NULL)) {
        error = GetLastError();
        result->os_error = (int32_t)error;
        /* A failed pass-through normally never reached the LU (bad request,
         * no SPT support); a timeout or an I/O error means it may have. */
        result->dispatched = (uint8_t)(error == ERROR_SEM_TIMEOUT || error == ERROR_IO_DEVICE);
        return error == ERROR_SEM_TIMEOUT ? PR_ERR_TIMEOUT : PR_ERR_OS;
    }
    result->dispatched = 1;
    result->scsi_status = request.sptd.ScsiStatus;
    result->sense_len = (uint8_t)(request.sptd.SenseInfoLength > sizeof(request.sense)
                                      ? sizeof(request.sense)
                                      : request.sptd.SenseInfoLength);
    memcpy(result->sense, request.sense, result->sense_len);
    transferred = request.sptd.DataTransferLength;
    if (transferred > data_len)
        transferred = data_len;
    result->transferred = transferred;
    result->resid = (int32_t)(data_len - transferred);
    return result->scsi_status != 0 ? PR_ERR_STATUS : PR_OK;
}

/*
 * Per command: PR_TRANSPORT_AUTO sends over the storage IOCTLs whatever they
 * can carry exactly and the rest over pass-through.  A device opened with
 * PR_OPEN_FORCE_STORAGE_IOCTL returns PR_ERR_UNSUPPORTED, before any I/O, for
 * a command the storage IOCTLs cannot carry (result->transport names them);
 * the Python layer raises UnsupportedOperation.
 */
int pr_execute(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
               int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
               struct pr_result *result)
{
    uint8_t command[PR_WIN_OUT_COMMAND_LEN];
    uint32_t command_len = 0;
    int rc = pr_execute_begin(device, cdb, cdb_len, direction, data, data_len, result);

    if (rc != PR_OK)
        return rc;

    if (device->transport != PR_TRANSPORT_PASS_THROUGH)
        command_len = pr_win_storage_command(cdb, cdb_len, direction, data, data_len, command);
    if (command_len > 0)
        return pr_win_storage_ioctl((HANDLE)device->handle, direction, command, command_len,
                                    data, data_len, result);
    if (device->transport == PR_TRANSPORT_STORAGE_IOCTL) {
        result->transport = PR_TRANSPORT_STORAGE_IOCTL;
        return PR_ERR_UNSUPPORTED;
    }
    return pr_win_pass_through((HANDLE)device->handle, cdb, cdb_len, direction, data, data_len,
                               timeout_ms, result);
}

/* path is UTF-8: \\.\PhysicalDriveN, \\.\TapeN, \\.\CdRomN or an interface path. */
int pr_open(const char *path, uint32_t flags, struct pr_device *device, struct pr_result *result)
{
    DWORD access = (flags & PR_OPEN_READ_ONLY) ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE;
    uint32_t forced = flags & (PR_OPEN_FORCE_STORAGE_IOCTL | PR_OPEN_FORCE_PASS_THROUGH);
    wchar_t *wide;
    HANDLE handle;
    int length;

    if (result == NULL)
        return PR_ERR_ARGUMENT;
    memset(result, 0, sizeof(*result));
    if (path == NULL || device == NULL ||
        forced == (PR_OPEN_FORCE_STORAGE_IOCTL | PR_OPEN_FORCE_PASS_THROUGH))
        return PR_ERR_ARGUMENT;
    device->handle = (intptr_t)INVALID_HANDLE_VALUE;
    length = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (length <= 0) {
        result->os_error = (int32_t)GetLastError();  /* ERROR_NO_UNICODE_TRANSLATION */
        return PR_ERR_ARGUMENT;
    }
    wide = (wchar_t *)malloc((size_t)length * sizeof(wchar_t));
    if (wide == NULL) {
        result->os_error = ERROR_NOT_ENOUGH_MEMORY;
        return PR_ERR_OS;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, length);
    /* OPEN_EXISTING: a device must never be created as a file by a typo. */
    handle = CreateFileW(wide, access, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, NULL);
    if (handle == INVALID_HANDLE_VALUE)
        result->os_error = (int32_t)GetLastError();
    free(wide);
    if (handle == INVALID_HANDLE_VALUE)
        return PR_ERR_OS;
    device->handle = (intptr_t)handle;
    if (forced == PR_OPEN_FORCE_STORAGE_IOCTL)
        device->transport = PR_TRANSPORT_STORAGE_IOCTL;
    else if (forced == PR_OPEN_FORCE_PASS_THROUGH)
        device->transport = PR_TRANSPORT_PASS_THROUGH;
    else
        device->transport = PR_TRANSPORT_AUTO;
    device->flags = flags;
    return PR_OK;
}

int pr_close(struct pr_device *device)
{
    HANDLE handle;

    if (device == NULL || device->handle == (intptr_t)INVALID_HANDLE_VALUE)
        return PR_ERR_ARGUMENT;
    handle = (HANDLE)device->handle;
    device->handle = (intptr_t)INVALID_HANDLE_VALUE;
    return CloseHandle(handle) ? PR_OK : PR_ERR_OS;
}

#define PR_SPTD_FIELD(name) \
    {"SCSI_PASS_THROUGH_DIRECT", #name, (uint32_t)offsetof(SCSI_PASS_THROUGH_DIRECT, name), \
     (uint32_t)sizeof(((SCSI_PASS_THROUGH_DIRECT *)0)->name)}
#define PR_SPTD_WITH_SENSE_FIELD(name) \
    {"SCSI_PASS_THROUGH_DIRECT_WITH_SENSE", #name, \
     (uint32_t)offsetof(struct pr_win_sptd_with_sense, name), \
     (uint32_t)sizeof(((struct pr_win_sptd_with_sense *)0)->name)}

static const struct pr_layout_field pr_sptd_layout[] = {
    {"SCSI_PASS_THROUGH_DIRECT", "sizeof", 0, (uint32_t)sizeof(SCSI_PASS_THROUGH_DIRECT)},
    PR_SPTD_FIELD(Length),          PR_SPTD_FIELD(ScsiStatus),
    PR_SPTD_FIELD(PathId),          PR_SPTD_FIELD(TargetId),
    PR_SPTD_FIELD(Lun),             PR_SPTD_FIELD(CdbLength),
    PR_SPTD_FIELD(SenseInfoLength), PR_SPTD_FIELD(DataIn),
    PR_SPTD_FIELD(DataTransferLength), PR_SPTD_FIELD(TimeOutValue),
    PR_SPTD_FIELD(DataBuffer),      PR_SPTD_FIELD(SenseInfoOffset),
    PR_SPTD_FIELD(Cdb),
    {"SCSI_PASS_THROUGH_DIRECT_WITH_SENSE", "sizeof", 0,
     (uint32_t)sizeof(struct pr_win_sptd_with_sense)},
    PR_SPTD_WITH_SENSE_FIELD(sptd), PR_SPTD_WITH_SENSE_FIELD(sense),
};

uint32_t pr_transport_layout(const struct pr_layout_field **fields)
{
    *fields = pr_sptd_layout;
    return (uint32_t)(sizeof(pr_sptd_layout) / sizeof(pr_sptd_layout[0]));
}
