/*
 * pr_windows.c - the Windows transports.
 *
 * IOCTL_SCSI_PASS_THROUGH_DIRECT (ntddscsi.h) sends the CDB unchanged, once,
 * with the caller's timeout (TimeOutValue), and returns the SCSI status and
 * the sense bytes.  IOCTL_STORAGE_PERSISTENT_RESERVE_IN/OUT (ntddstor.h) are
 * classpnp's own PR interface for \\.\PhysicalDriveN and \\.\TapeN: classpnp
 * rebuilds the CDB, accepts only READ KEYS, READ RESERVATION and the 24-byte
 * basic PR OUT parameter list with service actions 0-6 and types 1, 3, 5, 6
 * (ClasspPersistentReserve), sends it with the FDO's TimeOutValue instead of
 * the caller's, retries it itself (ClassSendSrbAsynchronous, MAXIMUM_RETRIES,
 * ClassInterpretSenseInfo: timeouts, unit attentions, bus resets), so one
 * PR OUT may be executed twice, and consumes the sense data.
 *
 * Hence, per device transport:
 *   PR_TRANSPORT_AUTO          pass-through for every command; a PR IN the
 *                              stack refuses to pass through (see
 *                              pr_win_pass_through_refused) is read again
 *                              through the storage IOCTL when it can carry
 *                              it; a PR OUT never is: it fails unsent.
 *   PR_TRANSPORT_STORAGE_IOCTL the storage IOCTLs only (the caller accepts
 *                              classpnp's retries and timeout);
 *                              PR_ERR_UNSUPPORTED, before any I/O, for what
 *                              they cannot carry.
 *   PR_TRANSPORT_PASS_THROUGH  pass-through only.
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
PR_WIN_STATIC_ASSERT(query_property_code, IOCTL_STORAGE_QUERY_PROPERTY == 0x002D1400);
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

/* SAM-5 status codes the storage IOCTLs report as Win32 errors. */
#define PR_WIN_STATUS_CHECK_CONDITION 0x02
#define PR_WIN_STATUS_RESERVATION_CONFLICT 0x18

/*
 * The one verdict of this file on a failed DeviceIoControl: whether the
 * command may have reached the device (result->dispatched), from the Win32
 * error alone, for both transports.  0 only for the errors raised before an
 * SRB is built or sent; 1 for every other error, named or not, because the
 * stack also returns them after the command went out.
 *
 * Before dispatch (NTSTATUS -> Win32 as RtlNtStatusToDosError maps it,
 * winerror.h values; raised by):
 *   ERROR_INVALID_FUNCTION 1       STATUS_INVALID_DEVICE_REQUEST, _NOT_IMPLEMENTED:
 *                                  no driver in the stack handles the control
 *                                  code; for pass-through also the port
 *                                  driver or miniport refusing the SRB
 *                                  (SRB_STATUS_INVALID_REQUEST, _BAD_FUNCTION).
 *                                  From the storage IOCTLs it is classpnp's
 *                                  ILLEGAL REQUEST, a device answer handled
 *                                  by pr_win_storage_status first.
 *   ERROR_PATH_NOT_FOUND 3         STATUS_OBJECT_PATH_NOT_FOUND: name lookup.
 *   ERROR_ACCESS_DENIED 5          STATUS_ACCESS_DENIED: the I/O manager, when
 *                                  the handle lacks the access bits of the
 *                                  control code (winioctl.h, ntddscsi.h:
 *                                  FILE_WRITE_ACCESS for PR OUT and for
 *                                  pass-through).  classpnp also maps DATA
 *                                  PROTECT sense on a non-WRITE CDB to it
 *                                  (ClassInterpretSenseInfo): a refusal by the
 *                                  device, so the command did not run either.
 *   ERROR_INVALID_HANDLE 6         STATUS_INVALID_HANDLE, _OBJECT_TYPE_MISMATCH:
 *                                  handle lookup.
 *   ERROR_NOT_ENOUGH_MEMORY 8,     STATUS_NO_MEMORY and the other allocation
 *   ERROR_OUTOFMEMORY 14           failures of the calling process.
 *   ERROR_BAD_LENGTH 24            STATUS_INFO_LENGTH_MISMATCH: the input
 *                                  length checks of ClasspPersistentReserve.
 *   ERROR_NOT_SUPPORTED 50         STATUS_NOT_SUPPORTED: a stack without the
 *                                  control code (Wine: the storage IOCTLs).
 *   ERROR_INVALID_PARAMETER 87     STATUS_INVALID_PARAMETER: ClasspPersistentReserve
 *                                  (service action, scope, type, lengths),
 *                                  ClassDeviceControl (pass-through buffer
 *                                  shorter than SCSI_PASS_THROUGH), the port
 *                                  driver's pass-through checks.
 *   ERROR_INSUFFICIENT_BUFFER 122  STATUS_BUFFER_TOO_SMALL: length checks.
 *   ERROR_NOACCESS 998             STATUS_ACCESS_VIOLATION, _DATATYPE_MISALIGNMENT:
 *                                  probing and locking the caller's buffers.
 *   ERROR_PRIVILEGE_NOT_HELD 1314  STATUS_PRIVILEGE_NOT_HELD: security check.
 *   ERROR_INVALID_USER_BUFFER 1784 STATUS_INVALID_USER_BUFFER: buffer
 *                                  alignment (ClasspPersistentReserve; the
 *                                  adapter's AlignmentMask for the data
 *                                  buffer of SCSI_PASS_THROUGH_DIRECT).
 * Sources: classpnp (microsoft/Windows-driver-samples,
 * storage/class/classpnp/src: utils.c ClasspPersistentReserve, class.c
 * ClassDeviceControl and ClassInterpretSenseInfo), the NTSTATUS -> Win32
 * table of Wine's dlls/ntdll/error.c, the IOCTL_SCSI_PASS_THROUGH_DIRECT
 * documentation (access, alignment).
 *
 * Not before dispatch, among others: ERROR_FILE_NOT_FOUND 2 (on an open
 * handle it is STATUS_NO_SUCH_DEVICE, which classpnp sets after the SRB came
 * back with SRB_STATUS_NO_DEVICE, _INVALID_LUN or ILLEGAL REQUEST 25h),
 * ERROR_NOT_READY 21, ERROR_CRC 23, ERROR_GEN_FAILURE 31,
 * ERROR_DEV_NOT_EXIST 55, ERROR_SEM_TIMEOUT 121, ERROR_BUSY 170 (from
 * pass-through: SRB_STATUS_BUSY), ERROR_NO_SUCH_DEVICE 433,
 * ERROR_OPERATION_ABORTED 995, ERROR_IO_DEVICE 1117,
 * ERROR_DEVICE_NOT_CONNECTED 1167, ERROR_REQUEST_ABORTED 1235,
 * ERROR_NO_SYSTEM_RESOURCES 1450 (STATUS_INSUFFICIENT_RESOURCES: also the
 * SystemStatus a port driver may complete an SRB with, which classpnp
 * returns as is for SRB_STATUS_INTERNAL_ERROR).
 */
static int pr_win_dispatched(DWORD error)
{
    switch (error) {
    case ERROR_INVALID_FUNCTION:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_ACCESS_DENIED:
    case ERROR_INVALID_HANDLE:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_BAD_LENGTH:
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_PARAMETER:
    case ERROR_INSUFFICIENT_BUFFER:
    case ERROR_NOACCESS:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_INVALID_USER_BUFFER:
        return 0;
    default:
        return 1;
    }
}

/* A failed DeviceIoControl of either transport. */
static int pr_win_failed(DWORD error, struct pr_result *result)
{
    result->os_error = (int32_t)error;
    result->dispatched = (uint8_t)pr_win_dispatched(error);
    return error == ERROR_SEM_TIMEOUT ? PR_ERR_TIMEOUT : PR_ERR_OS;
}

/*
 * The SCSI status a storage PR IOCTL error stands for, 0 for none
 * (ClassInterpretSenseInfo; RtlNtStatusToDosError):
 *   ERROR_BUSY (170)            STATUS_DEVICE_BUSY: RESERVATION CONFLICT
 *   ERROR_INVALID_FUNCTION (1)  STATUS_INVALID_DEVICE_REQUEST: CHECK CONDITION
 *                               with ILLEGAL REQUEST (also what a stack
 *                               without the IOCTL returns: not told apart)
 * Either way nothing ran, so the device's answer is PR_ERR_STATUS.
 */
static uint8_t pr_win_storage_status(DWORD error)
{
    if (error == ERROR_BUSY)
        return PR_WIN_STATUS_RESERVATION_CONFLICT;
    if (error == ERROR_INVALID_FUNCTION)
        return PR_WIN_STATUS_CHECK_CONDITION;
    return 0;
}

/*
 * ERROR_MORE_DATA (234) on PR IN is no failure: the bytes returned are
 * valid, and the decoder sees ADDITIONAL LENGTH beyond them and reports
 * PR_ERR_SHORT with the size needed.
 */
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
    if (ok || (direction == PR_DIR_FROM_DEVICE && error == ERROR_MORE_DATA)) {
        result->os_error = (int32_t)error;
        result->dispatched = 1;
        /* PR OUT returns no bytes; its parameter list went out whole. */
        result->transferred = direction == PR_DIR_FROM_DEVICE
                                  ? (returned < data_len ? (uint32_t)returned : data_len)
                                  : data_len;
        result->resid = (int32_t)(data_len - result->transferred);
        return PR_OK;
    }
    result->scsi_status = pr_win_storage_status(error);
    if (result->scsi_status != 0) {
        result->os_error = (int32_t)error;
        result->dispatched = 1;
        return PR_ERR_STATUS;
    }
    return pr_win_failed(error, result);
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
                                  &returned, NULL))
        return pr_win_failed(GetLastError(), result);
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
 * The errors with which a stack refuses IOCTL_SCSI_PASS_THROUGH_DIRECT
 * before dispatch: no pass-through in the stack (ERROR_INVALID_FUNCTION,
 * ERROR_NOT_SUPPORTED), or a handle or policy that does not allow it
 * (ERROR_ACCESS_DENIED: it needs read-write access, the PR IN IOCTL only
 * read access).  Only then does PR_TRANSPORT_AUTO read through the storage
 * IOCTL instead.
 */
static int pr_win_pass_through_refused(DWORD error)
{
    return error == ERROR_INVALID_FUNCTION || error == ERROR_NOT_SUPPORTED ||
           error == ERROR_ACCESS_DENIED;
}

int pr_execute(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
               int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
               struct pr_result *result)
{
    uint8_t command[PR_WIN_OUT_COMMAND_LEN];
    uint32_t command_len;
    HANDLE handle;
    int rc = pr_execute_begin(device, cdb, cdb_len, direction, data, data_len, result);

    if (rc != PR_OK)
        return rc;
    handle = (HANDLE)device->handle;
    if (device->transport == PR_TRANSPORT_STORAGE_IOCTL) {
        command_len = pr_win_storage_command(cdb, cdb_len, direction, data, data_len, command);
        if (command_len == 0) {
            result->transport = PR_TRANSPORT_STORAGE_IOCTL;
            return PR_ERR_UNSUPPORTED;
        }
        return pr_win_storage_ioctl(handle, direction, command, command_len, data, data_len,
                                    result);
    }
    rc = pr_win_pass_through(handle, cdb, cdb_len, direction, data, data_len, timeout_ms,
                             result);
    /* Re-reading is harmless; resending a PR OUT is not (see the top). */
    if (device->transport != PR_TRANSPORT_AUTO || direction != PR_DIR_FROM_DEVICE ||
        rc != PR_ERR_OS || result->dispatched ||
        !pr_win_pass_through_refused((DWORD)result->os_error))
        return rc;
    command_len = pr_win_storage_command(cdb, cdb_len, direction, data, data_len, command);
    if (command_len == 0)
        return rc;
    (void)pr_execute_begin(device, cdb, cdb_len, direction, data, data_len, result);
    return pr_win_storage_ioctl(handle, direction, command, command_len, data, data_len,
                                result);
}

/*
 * Identity without pass-through.  IOCTL_STORAGE_QUERY_PROPERTY is
 * METHOD_BUFFERED and FILE_ANY_ACCESS: a read-only handle, or one a policy
 * keeps from pass-through, may still ask.  classpnp answers
 * StorageDeviceProperty from the INQUIRY data (and VPD page 80h) the port
 * driver read when it enumerated the device, and passes
 * StorageDeviceIdProperty down to the port driver, which builds it from VPD
 * page 83h.  ERROR_MORE_DATA: the part that fit came back, its header's Size
 * says how much is needed.
 */
int pr_win_query_property(const struct pr_device *device, uint32_t property_id,
                          uint8_t *buffer, uint32_t capacity, struct pr_result *result)
{
    uint8_t query[SPQ_SIZE];
    DWORD returned = 0;
    DWORD error;

    if (result == NULL)
        return PR_ERR_ARGUMENT;
    memset(result, 0, sizeof(*result));
    if (device == NULL || device->handle == (intptr_t)INVALID_HANDLE_VALUE || buffer == NULL ||
        capacity < SDH_SIZE ||
        (property_id != PR_WIN_STORAGE_DEVICE_PROPERTY &&
         property_id != PR_WIN_STORAGE_DEVICE_ID_PROPERTY))
        return PR_ERR_ARGUMENT;
    result->transport = PR_TRANSPORT_STORAGE_IOCTL;
    memset(query, 0, sizeof(query));
    pr_put_le32(query + SPQ_PROPERTY_ID_OFFSET, property_id);
    pr_put_le32(query + SPQ_QUERY_TYPE_OFFSET, SPQ_PROPERTY_STANDARD_QUERY);
    if (!pr_win_device_io_control((HANDLE)device->handle, IOCTL_STORAGE_QUERY_PROPERTY, query,
                                  (DWORD)sizeof(query), buffer, (DWORD)capacity, &returned,
                                  NULL)) {
        error = GetLastError();
        if (error != ERROR_MORE_DATA)
            return pr_win_failed(error, result);
        result->os_error = (int32_t)error;
    }
    result->dispatched = 1;
    result->transferred = returned < capacity ? (uint32_t)returned : capacity;
    result->resid = (int32_t)(capacity - result->transferred);
    return PR_OK;
}

/* See pr_native.h: the one rule for "identify() through the storage property". */
int pr_win_identify_by_property(const struct pr_device *device, const struct pr_result *result)
{
    if (device == NULL || result == NULL)
        return 0;
    if (device->transport == PR_TRANSPORT_STORAGE_IOCTL)
        return 1;
    return device->transport == PR_TRANSPORT_AUTO && result->cdb_len > 0 &&
           result->cdb[0] == PR_OPCODE_INQUIRY &&
           result->transport == PR_TRANSPORT_PASS_THROUGH && !result->dispatched &&
           pr_win_pass_through_refused((DWORD)result->os_error);
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
    device->queue = NULL;
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
