/*
 * driver.c - run-time tests of csrc/pr_windows.c, built with mingw-w64 and
 * run under Wine by tests/windows/test_windows.py.
 *
 * Part 1 uses the real Wine: CreateFileW on \\.\PhysicalDrive0 and files,
 * and the storage PR IOCTLs, which Wine does not implement (ERROR_NOT_SUPPORTED).
 * Part 2 replaces DeviceIoControl through pr_win_device_io_control with a fake
 * device that records the exact input buffers, counts the calls and returns
 * canned outputs.
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 */
#define WIN32_LEAN_AND_MEAN

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>
#include <ntddscsi.h>

#include "pr_native.h"
#include "pr_windows_seam.h"

#define FAKE_HANDLE ((intptr_t)0x4242)
#define MAX_CALLS 4
#define TIMEOUT_MS 30000
#define SPTD_SENSE_OFFSET offsetof(struct pr_win_sptd_with_sense, sense)

static unsigned passed;
static unsigned failed;

static void check(int ok, const char *format, ...)
{
    va_list args;

    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    printf("\n");
    if (ok)
        passed++;
    else
        failed++;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* Not in the mingw-w64 winerror.h. */
#ifndef ERROR_NO_SUCH_DEVICE
#define ERROR_NO_SUCH_DEVICE 433L
#endif

/* ---- the fake device ---------------------------------------------------- */

static struct {
    /* what pr_windows.c sent: every control code, the last call's buffers */
    unsigned calls;
    DWORD codes[MAX_CALLS];
    HANDLE handle;
    DWORD code;
    uint8_t in[sizeof(struct pr_win_sptd_with_sense)];
    DWORD in_len;
    const void *in_ptr;
    const void *out_ptr;
    DWORD out_len;
    int returned_given;
    int overlapped_given;
    SCSI_PASS_THROUGH_DIRECT sptd;
    uint8_t data_out[512];
    DWORD data_out_len;
    /* what it answers */
    DWORD error;             /* 0: success, else FALSE with this GetLastError() */
    DWORD pass_through_error; /* when not 0, pass-through fails with it instead */
    const uint8_t *reply;    /* PR IN / data-in bytes */
    DWORD reply_len;
    UCHAR scsi_status;
    const uint8_t *sense;
    DWORD sense_len;         /* bytes written at SenseInfoOffset */
    UCHAR sense_len_reported;
} fake;

static void fake_reset(void)
{
    memset(&fake, 0, sizeof(fake));
}

static BOOL WINAPI fake_device_io_control(HANDLE handle, DWORD code, LPVOID in, DWORD in_len,
                                          LPVOID out, DWORD out_len, LPDWORD returned,
                                          LPOVERLAPPED overlapped)
{
    DWORD n;

    if (fake.calls < MAX_CALLS)
        fake.codes[fake.calls] = code;
    fake.calls++;
    fake.handle = handle;
    fake.code = code;
    fake.in_len = in_len;
    fake.in_ptr = in;
    fake.out_ptr = out;
    fake.out_len = out_len;
    fake.returned_given = returned != NULL;
    fake.overlapped_given = overlapped != NULL;
    memcpy(fake.in, in, in_len < sizeof(fake.in) ? in_len : sizeof(fake.in));
    if (returned != NULL)
        *returned = 0;
    if (code == IOCTL_SCSI_PASS_THROUGH_DIRECT) {
        SCSI_PASS_THROUGH_DIRECT *sptd = (SCSI_PASS_THROUGH_DIRECT *)out;

        memcpy(&fake.sptd, in, sizeof(fake.sptd));
        if (sptd->DataIn == SCSI_IOCTL_DATA_OUT && sptd->DataBuffer != NULL &&
            sptd->DataTransferLength <= sizeof(fake.data_out)) {
            memcpy(fake.data_out, sptd->DataBuffer, sptd->DataTransferLength);
            fake.data_out_len = sptd->DataTransferLength;
        }
        if (fake.pass_through_error != 0 || fake.error != 0) {
            SetLastError(fake.pass_through_error != 0 ? fake.pass_through_error : fake.error);
            return FALSE;
        }
        if (sptd->DataIn == SCSI_IOCTL_DATA_IN) {
            n = fake.reply_len < sptd->DataTransferLength ? fake.reply_len
                                                          : sptd->DataTransferLength;
            memcpy(sptd->DataBuffer, fake.reply, n);
            sptd->DataTransferLength = n;
        }
        sptd->ScsiStatus = fake.scsi_status;
        if (fake.sense_len > 0)
            memcpy((uint8_t *)out + sptd->SenseInfoOffset, fake.sense, fake.sense_len);
        sptd->SenseInfoLength = fake.sense_len_reported;
        if (returned != NULL)
            *returned = out_len;
        return TRUE;
    }
    if ((code == IOCTL_STORAGE_PERSISTENT_RESERVE_IN || code == IOCTL_STORAGE_QUERY_PROPERTY) &&
        fake.reply != NULL) {
        n = fake.reply_len < out_len ? fake.reply_len : out_len;
        memcpy(out, fake.reply, n);
        if (returned != NULL)
            *returned = n;
    }
    if (fake.error != 0) {
        SetLastError(fake.error);
        return FALSE;
    }
    return TRUE;
}

static const struct pr_device auto_device = {FAKE_HANDLE, PR_TRANSPORT_AUTO, 0, NULL};
static const struct pr_device storage_device = {FAKE_HANDLE, PR_TRANSPORT_STORAGE_IOCTL,
                                                PR_OPEN_FORCE_STORAGE_IOCTL, NULL};
static const struct pr_device pass_device = {FAKE_HANDLE, PR_TRANSPORT_PASS_THROUGH,
                                             PR_OPEN_FORCE_PASS_THROUGH, NULL};

/* ---- expected bytes, written out independently of pr_winbuf.c ----------- */

static void expect_in_command(uint8_t *b, uint8_t service_action, uint16_t allocation_length)
{
    memset(b, 0, PR_WIN_IN_COMMAND_LEN);
    b[0] = 12;  /* Version = sizeof(PERSISTENT_RESERVE_COMMAND) */
    b[4] = 12;  /* Size */
    b[8] = service_action;
    b[10] = (uint8_t)allocation_length;  /* little-endian */
    b[11] = (uint8_t)(allocation_length >> 8);
}

static void expect_out_command(uint8_t *b, const struct pr_out_request *r)
{
    memset(b, 0, PR_WIN_OUT_COMMAND_LEN);
    b[0] = 12;
    b[4] = 36;
    b[8] = r->service_action;
    b[9] = (uint8_t)(r->scope << 4 | r->type);
    put_be64(b + 10, r->key);
    put_be64(b + 18, r->service_action_key);
    b[30] = (uint8_t)((r->aptpl ? 0x01 : 0) | (r->all_target_ports ? 0x04 : 0));
}

static void expect_cdb(uint8_t *cdb, uint8_t opcode, uint8_t service_action, uint8_t scope_type,
                       uint16_t length)
{
    memset(cdb, 0, 10);
    cdb[0] = opcode;
    cdb[1] = service_action;
    cdb[2] = scope_type;
    cdb[7] = (uint8_t)(length >> 8);
    cdb[8] = (uint8_t)length;
}

static const char *const out_names[] = {
    "REGISTER", "RESERVE", "RELEASE", "CLEAR", "PREEMPT", "PREEMPT AND ABORT",
    "REGISTER AND IGNORE EXISTING KEY", "REGISTER AND MOVE", "REPLACE LOST RESERVATION",
};

static struct pr_out_request out_request(uint8_t service_action, uint8_t type)
{
    struct pr_out_request r;

    memset(&r, 0, sizeof(r));
    r.service_action = service_action;
    r.type = type;
    r.key = 0x0102030405060708ull + service_action;
    r.service_action_key = 0xA1A2A3A4A5A6A7A8ull;
    r.aptpl = (uint8_t)(service_action == 0 || service_action == 6);
    r.all_target_ports = (uint8_t)(service_action == 0);
    return r;
}

/* ---- part 0: layouts ---------------------------------------------------- */

static void check_layout_row(const struct pr_layout_field *rows, uint32_t count,
                             const char *structure, const char *field, size_t offset,
                             size_t size)
{
    uint32_t i;

    for (i = 0; i < count; i++)
        if (strcmp(rows[i].structure, structure) == 0 && strcmp(rows[i].field, field) == 0) {
            check(rows[i].offset == offset && rows[i].size == size,
                  "layout %s.%s offset %u size %u", structure, field, rows[i].offset,
                  rows[i].size);
            return;
        }
    check(0, "layout %s.%s missing", structure, field);
}

#define SPTD_ROW(rows, n, f) \
    check_layout_row(rows, n, "SCSI_PASS_THROUGH_DIRECT", #f, \
                     offsetof(SCSI_PASS_THROUGH_DIRECT, f), \
                     sizeof(((SCSI_PASS_THROUGH_DIRECT *)0)->f))

static void test_layouts(void)
{
    const struct pr_layout_field *rows;
    uint32_t n = pr_transport_layout(&rows);
    union {
        PERSISTENT_RESERVE_COMMAND command;
        uint8_t bytes[PR_WIN_OUT_COMMAND_LEN];
    } sdk;
    uint8_t ours[PR_WIN_OUT_COMMAND_LEN];
    uint8_t list[24];

    check(n == 17, "pr_transport_layout has 17 rows (%u)", n);
    check_layout_row(rows, n, "SCSI_PASS_THROUGH_DIRECT", "sizeof", 0,
                     sizeof(SCSI_PASS_THROUGH_DIRECT));
    SPTD_ROW(rows, n, Length);
    SPTD_ROW(rows, n, ScsiStatus);
    SPTD_ROW(rows, n, PathId);
    SPTD_ROW(rows, n, TargetId);
    SPTD_ROW(rows, n, Lun);
    SPTD_ROW(rows, n, CdbLength);
    SPTD_ROW(rows, n, SenseInfoLength);
    SPTD_ROW(rows, n, DataIn);
    SPTD_ROW(rows, n, DataTransferLength);
    SPTD_ROW(rows, n, TimeOutValue);
    SPTD_ROW(rows, n, DataBuffer);
    SPTD_ROW(rows, n, SenseInfoOffset);
    SPTD_ROW(rows, n, Cdb);
    check_layout_row(rows, n, "SCSI_PASS_THROUGH_DIRECT_WITH_SENSE", "sizeof", 0,
                     sizeof(struct pr_win_sptd_with_sense));
    check_layout_row(rows, n, "SCSI_PASS_THROUGH_DIRECT_WITH_SENSE", "sptd", 0,
                     sizeof(SCSI_PASS_THROUGH_DIRECT));
    check_layout_row(rows, n, "SCSI_PASS_THROUGH_DIRECT_WITH_SENSE", "sense",
                     SPTD_SENSE_OFFSET, PR_WIN_SENSE_LEN);

    /* The SDK bitfields land where pr_ddk_layout.h says. */
    memset(&sdk, 0, sizeof(sdk));
    sdk.command.PR_OUT.Type = 3;
    check(sdk.bytes[9] == 0x03, "SDK PR_OUT.Type=3 -> byte 9 = 0x%02x", sdk.bytes[9]);
    sdk.command.PR_OUT.Type = 0;
    sdk.command.PR_OUT.Scope = 2;
    check(sdk.bytes[9] == 0x20, "SDK PR_OUT.Scope=2 -> byte 9 = 0x%02x", sdk.bytes[9]);
    sdk.command.PR_OUT.ServiceAction = 4;
    check(sdk.bytes[8] == 0x04, "SDK PR_OUT.ServiceAction=4 -> byte 8 = 0x%02x", sdk.bytes[8]);
    memset(&sdk, 0, sizeof(sdk));
    sdk.command.PR_IN.AllocationLength = 0x1234;
    check(sdk.bytes[10] == 0x34 && sdk.bytes[11] == 0x12,
          "SDK PR_IN.AllocationLength=0x1234 -> bytes 10-11 = %02x %02x", sdk.bytes[10],
          sdk.bytes[11]);

    /* A whole PR OUT buffer built with the SDK struct equals pr_win_out_command's. */
    memset(&sdk, 0, sizeof(sdk));
    sdk.command.Version = sizeof(PERSISTENT_RESERVE_COMMAND);
    sdk.command.Size = PR_WIN_OUT_COMMAND_LEN;
    sdk.command.PR_OUT.ServiceAction = 4;
    sdk.command.PR_OUT.Type = 3;
    sdk.command.PR_OUT.Scope = 0;
    memset(list, 0, sizeof(list));
    put_be64(list, 0x1122334455667788ull);
    put_be64(list + 8, 0x99AABBCCDDEEFF00ull);
    list[20] = 0x05;
    memcpy(sdk.command.PR_OUT.ParameterList, list, sizeof(list));
    pr_win_out_command(ours, 4, 3, 0, 0x1122334455667788ull, 0x99AABBCCDDEEFF00ull, 1, 1);
    check(memcmp(sdk.bytes, ours, sizeof(ours)) == 0,
          "SDK-built PREEMPT buffer == pr_win_out_command");
    memset(&sdk, 0, sizeof(sdk));
    sdk.command.Version = sizeof(PERSISTENT_RESERVE_COMMAND);
    sdk.command.Size = sizeof(PERSISTENT_RESERVE_COMMAND);
    sdk.command.PR_IN.ServiceAction = 1;
    sdk.command.PR_IN.AllocationLength = 520;
    pr_win_in_command(ours, 1, 520);
    check(memcmp(sdk.bytes, ours, PR_WIN_IN_COMMAND_LEN) == 0,
          "SDK-built READ RESERVATION buffer == pr_win_in_command");
}

/* ---- part 1: the real Wine ---------------------------------------------- */

static void test_wine_physical_drive(void)
{
    struct pr_device device;
    struct pr_device storage;
    struct pr_result result;
    uint8_t buffer[64];
    uint64_t keys[4];
    struct pr_keys out;
    DWORD pass_through_error;
    int rc;

    rc = pr_open("\\\\.\\PhysicalDrive0", 0, &device, &result);
    check(rc == PR_OK && device.transport == PR_TRANSPORT_AUTO,
          "wine: pr_open(\\\\.\\PhysicalDrive0) rc %d os_error %d", rc, result.os_error);
    if (rc != PR_OK)
        return;
    rc = pr_open("\\\\.\\PhysicalDrive0", PR_OPEN_FORCE_STORAGE_IOCTL, &storage, &result);
    check(rc == PR_OK && storage.transport == PR_TRANSPORT_STORAGE_IOCTL,
          "wine: pr_open(\\\\.\\PhysicalDrive0, FORCE_STORAGE_IOCTL) rc %d", rc);
    if (rc == PR_OK) {
        rc = pr_read_keys(&storage, buffer, sizeof(buffer), TIMEOUT_MS, keys, 4, &out, &result);
        check(rc == PR_ERR_OS && result.os_error == ERROR_NOT_SUPPORTED &&
                  result.transport == PR_TRANSPORT_STORAGE_IOCTL && result.dispatched == 0 &&
                  result.sense_hidden == 1,
              "wine: storage READ KEYS -> rc %d os_error %d transport %u dispatched %u", rc,
              result.os_error, result.transport, result.dispatched);
        pr_close(&storage);
    }
    /* Wine routes SPTD to its cdrom code, which needs a Unix device that
     * answers SG_IO: where it has none, it refuses pass-through, and auto
     * mode then reads through the storage IOCTL (which Wine lacks too).  No
     * PR OUT is sent to a real drive here. */
    rc = pr_test_unit_ready(&device, TIMEOUT_MS, &result);
    pass_through_error = rc == PR_ERR_OS ? (DWORD)result.os_error : 0;
    printf("info wine: pass-through TEST UNIT READY on PhysicalDrive0 -> rc %d os_error %d "
           "status 0x%02x\n", rc, result.os_error, result.scsi_status);
    rc = pr_read_keys(&device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 4, &out, &result);
    if (pass_through_error == ERROR_NOT_SUPPORTED || pass_through_error == ERROR_INVALID_FUNCTION ||
        pass_through_error == ERROR_ACCESS_DENIED)
        check(rc == PR_ERR_OS && result.os_error == ERROR_NOT_SUPPORTED &&
                  result.transport == PR_TRANSPORT_STORAGE_IOCTL && result.dispatched == 0,
              "wine: auto READ KEYS, pass-through refused -> storage IOCTL: rc %d os_error %d "
              "transport %u", rc, result.os_error, result.transport);
    else
        check(result.transport == PR_TRANSPORT_PASS_THROUGH,
              "wine: auto READ KEYS -> pass-through: rc %d os_error %d", rc, result.os_error);
    check(pr_close(&device) == PR_OK, "wine: pr_close");
    check(device.handle == (intptr_t)INVALID_HANDLE_VALUE && pr_close(&device) == PR_ERR_ARGUMENT,
          "wine: second pr_close -> PR_ERR_ARGUMENT");
}

static int temp_path(char *utf8, size_t size, const wchar_t *name, wchar_t *wide, size_t wsize)
{
    DWORD n = GetTempPathW((DWORD)wsize, wide);

    if (n == 0 || n + wcslen(name) + 1 > wsize)
        return 0;
    wcscat(wide, name);
    return WideCharToMultiByte(CP_UTF8, 0, wide, -1, utf8, (int)size, NULL, NULL) > 0;
}

/* ERROR_SUCCESS when one byte can be written through the handle, else the error. */
static DWORD handle_writes(HANDLE handle)
{
    DWORD written = 0;

    return WriteFile(handle, "x", 1, &written, NULL) ? ERROR_SUCCESS : GetLastError();
}

static void test_wine_open(void)
{
    static const wchar_t missing_name[] = L"pr_native_missing.bin";
    static const wchar_t utf8_name[] = L"pr_native_\x00fc\x20ac.bin"; /* u-umlaut, euro */
    static const wchar_t access_name[] = L"pr_native_access.bin";
    wchar_t wide[MAX_PATH];
    char path[4 * MAX_PATH];
    struct pr_device device;
    struct pr_result result;
    HANDLE h;
    int rc;

    if (!temp_path(path, sizeof(path), missing_name, wide, MAX_PATH)) {
        check(0, "wine: temp path");
        return;
    }
    DeleteFileW(wide);
    rc = pr_open(path, 0, &device, &result);
    check(rc == PR_ERR_OS && result.os_error == ERROR_FILE_NOT_FOUND &&
              GetFileAttributesW(wide) == INVALID_FILE_ATTRIBUTES,
          "wine: pr_open(missing file) -> rc %d os_error %d, nothing created (OPEN_EXISTING)",
          rc, result.os_error);

    temp_path(path, sizeof(path), utf8_name, wide, MAX_PATH);
    h = CreateFileW(wide, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    CloseHandle(h);
    rc = pr_open(path, PR_OPEN_FORCE_PASS_THROUGH, &device, &result);
    check(rc == PR_OK && device.transport == PR_TRANSPORT_PASS_THROUGH &&
              device.flags == PR_OPEN_FORCE_PASS_THROUGH,
          "wine: pr_open(UTF-8 name, FORCE_PASS_THROUGH) rc %d os_error %d", rc,
          result.os_error);
    if (rc == PR_OK)
        pr_close(&device);
    DeleteFileW(wide);

    /* The access mask shows in what the handle may do: write only without
     * PR_OPEN_READ_ONLY.  Both share modes: another opener for read-write works. */
    temp_path(path, sizeof(path), access_name, wide, MAX_PATH);
    h = CreateFileW(wide, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    CloseHandle(h);
    rc = pr_open(path, PR_OPEN_FORCE_STORAGE_IOCTL, &device, &result);
    check(rc == PR_OK && device.transport == PR_TRANSPORT_STORAGE_IOCTL &&
              handle_writes((HANDLE)device.handle) == ERROR_SUCCESS,
          "wine: pr_open(file, FORCE_STORAGE_IOCTL) rc %d: handle writable", rc);
    h = CreateFileW(wide, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    check(h != INVALID_HANDLE_VALUE, "wine: pr_open shares read and write with other openers");
    CloseHandle(h);
    if (rc == PR_OK)
        pr_close(&device);
    rc = pr_open(path, PR_OPEN_READ_ONLY, &device, &result);
    check(rc == PR_OK && handle_writes((HANDLE)device.handle) == ERROR_ACCESS_DENIED,
          "wine: pr_open(file, READ_ONLY) rc %d: WriteFile -> ERROR_ACCESS_DENIED", rc);
    if (rc == PR_OK)
        pr_close(&device);
    DeleteFileW(wide);

    rc = pr_open("\\\\.\\Physical\xff", 0, &device, &result);
    check(rc == PR_ERR_ARGUMENT && result.os_error == ERROR_NO_UNICODE_TRANSLATION,
          "pr_open(invalid UTF-8) -> rc %d os_error %d", rc, result.os_error);
    rc = pr_open("\\\\.\\PhysicalDrive0", PR_OPEN_FORCE_STORAGE_IOCTL | PR_OPEN_FORCE_PASS_THROUGH,
                 &device, &result);
    check(rc == PR_ERR_ARGUMENT, "pr_open(both FORCE flags) -> PR_ERR_ARGUMENT");
}

/* ---- part 2: the fake device -------------------------------------------- */

/* The last call was a storage PR IN of these exact bytes. */
static int storage_in_last(uint8_t service_action, const uint8_t *buffer, uint16_t length)
{
    uint8_t expected[PR_WIN_IN_COMMAND_LEN];

    expect_in_command(expected, service_action, length);
    return fake.handle == (HANDLE)FAKE_HANDLE &&
           fake.code == IOCTL_STORAGE_PERSISTENT_RESERVE_IN && fake.in_len == sizeof(expected) &&
           memcmp(fake.in, expected, sizeof(expected)) == 0 && fake.out_ptr == buffer &&
           fake.out_len == length && fake.returned_given && !fake.overlapped_given;
}

static int storage_in_sent(uint8_t service_action, const uint8_t *buffer, uint16_t length)
{
    return fake.calls == 1 && storage_in_last(service_action, buffer, length);
}

static int sptd_sent(const uint8_t *cdb, UCHAR cdb_len, UCHAR data_in, const void *data,
                     ULONG data_len, ULONG timeout_s)
{
    const SCSI_PASS_THROUGH_DIRECT *s = &fake.sptd;

    return fake.calls == 1 && fake.handle == (HANDLE)FAKE_HANDLE &&
           fake.code == IOCTL_SCSI_PASS_THROUGH_DIRECT && fake.in_ptr == fake.out_ptr &&
           fake.in_len == sizeof(struct pr_win_sptd_with_sense) &&
           fake.out_len == sizeof(struct pr_win_sptd_with_sense) && !fake.overlapped_given &&
           s->Length == sizeof(SCSI_PASS_THROUGH_DIRECT) && s->ScsiStatus == 0 &&
           s->PathId == 0 && s->TargetId == 0 && s->Lun == 0 && s->CdbLength == cdb_len &&
           s->SenseInfoLength == PR_WIN_SENSE_LEN && s->SenseInfoOffset == SPTD_SENSE_OFFSET &&
           s->DataIn == data_in && s->DataTransferLength == data_len && s->DataBuffer == data &&
           s->TimeOutValue == timeout_s && memcmp(s->Cdb, cdb, cdb_len) == 0;
}

static void test_storage_in(void)
{
    static const uint8_t keys_reply[] = {
        0, 0, 0, 5, 0, 0, 0, 16,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0, 0, 0, 0, 0, 0, 0, 0x2A,
    };
    static const uint8_t reservation_reply[] = {
        0, 0, 0, 9, 0, 0, 0, 16,
        0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0x03, 0, 0,
    };
    uint8_t buffer[64];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_reservation r;
    struct pr_result result;
    int rc;

    fake_reset();
    fake.reply = keys_reply;
    fake.reply_len = sizeof(keys_reply);
    rc = pr_read_keys(&storage_device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k, &result);
    check(storage_in_sent(0, buffer, sizeof(buffer)),
          "storage READ KEYS: IOCTL 0x%08lx, 12-byte PERSISTENT_RESERVE_COMMAND, out = buffer/64",
          (unsigned long)fake.code);
    check(rc == PR_OK && k.generation == 5 && k.count == 2 && keys[0] == 0x1122334455667788ull &&
              keys[1] == 0x2A && result.transferred == 24 && result.resid == 40 &&
              result.transport == PR_TRANSPORT_STORAGE_IOCTL && result.dispatched == 1 &&
              result.sense_hidden == 1 && result.cdb_len == 10 && result.cdb[0] == 0x5E,
          "storage READ KEYS: rc %d, %u keys decoded, transferred %u", rc, k.count,
          result.transferred);

    fake_reset();
    fake.reply = reservation_reply;
    fake.reply_len = sizeof(reservation_reply);
    rc = pr_read_reservation(&storage_device, buffer, sizeof(buffer), TIMEOUT_MS, &r, &result);
    check(storage_in_sent(1, buffer, sizeof(buffer)), "storage READ RESERVATION: input bytes");
    check(rc == PR_OK && r.reserved == 1 && r.generation == 9 && r.key == 0xDEADBEEF00000001ull &&
              r.type == 3 && r.scope == 0 && result.transport == PR_TRANSPORT_STORAGE_IOCTL,
          "storage READ RESERVATION: rc %d key %llx type %u", rc, (unsigned long long)r.key,
          r.type);
}

static void test_storage_more_data(void)
{
    uint8_t reply[8 + 4 * 8];
    uint8_t small[16];
    uint8_t big[64];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_result result;
    unsigned i;
    int rc;

    memset(reply, 0, sizeof(reply));
    put_be32(reply, 77);
    put_be32(reply + 4, 4 * 8);
    for (i = 0; i < 4; i++)
        put_be64(reply + 8 + 8 * i, 0x1000 + i);

    fake_reset();
    fake.reply = reply;
    fake.reply_len = sizeof(reply);
    fake.error = ERROR_MORE_DATA;
    rc = pr_read_keys(&storage_device, small, sizeof(small), TIMEOUT_MS, keys, 8, &k, &result);
    check(storage_in_sent(0, small, sizeof(small)), "ERROR_MORE_DATA: storage READ KEYS of 16");
    check(rc == PR_ERR_SHORT && result.needed == sizeof(reply) && result.transferred == 16 &&
              result.os_error == ERROR_MORE_DATA && result.dispatched == 1 && k.count == 1 &&
              keys[0] == 0x1000,
          "ERROR_MORE_DATA: rc %d needed %llu transferred %u count %u", rc,
          (unsigned long long)result.needed, result.transferred, k.count);

    fake_reset();
    fake.reply = reply;
    fake.reply_len = sizeof(reply);
    rc = pr_read_keys(&storage_device, big, sizeof(big), TIMEOUT_MS, keys, 8, &k, &result);
    check(rc == PR_OK && k.count == 4 && k.generation == 77 && keys[3] == 0x1003 &&
              result.transferred == sizeof(reply) && storage_in_sent(0, big, sizeof(big)),
          "ERROR_MORE_DATA: retry with 64 bytes decodes %u keys", k.count);
}

static void test_storage_out(void)
{
    static const uint8_t register_bytes[PR_WIN_OUT_COMMAND_LEN] = {
        0x0C, 0, 0, 0, 0x24, 0, 0, 0,                   /* Version 12, Size 36 */
        0x00, 0x00,                                     /* REGISTER, scope|type */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* ReservationKey */
        0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, /* ServiceActionReservationKey */
        0, 0, 0, 0,                                     /* ScopeSpecificAddress */
        0x05, 0, 0, 0,                                  /* APTPL|ALL_TG_PT, reserved, obsolete */
        0, 0,                                           /* past the list */
    };
    static const uint8_t types[] = {0, 1, 1, 0, 3, 5, 0};
    uint8_t expected[PR_WIN_OUT_COMMAND_LEN];
    uint8_t list[64];
    struct pr_out_request r;
    struct pr_result result;
    uint8_t sa;
    int rc;

    for (sa = 0; sa <= 6; sa++) {
        r = out_request(sa, types[sa]);
        expect_out_command(expected, &r);
        if (sa == 0)
            check(memcmp(expected, register_bytes, sizeof(expected)) == 0,
                  "storage REGISTER: expected buffer matches the literal bytes");
        fake_reset();
        rc = pr_out(&storage_device, &r, list, sizeof(list), TIMEOUT_MS, &result);
        check(rc == PR_OK && fake.calls == 1 && fake.code == IOCTL_STORAGE_PERSISTENT_RESERVE_OUT &&
                  fake.in_len == PR_WIN_OUT_COMMAND_LEN &&
                  memcmp(fake.in, expected, sizeof(expected)) == 0 && fake.out_ptr == NULL &&
                  fake.out_len == 0 && result.transport == PR_TRANSPORT_STORAGE_IOCTL &&
                  result.transferred == 24 && result.dispatched == 1 && result.sense_hidden == 1,
              "storage %s type %u: IOCTL 0x%08lx, 36-byte buffer, rc %d", out_names[sa],
              types[sa], (unsigned long)fake.code, rc);
    }
}

/* classpnp's Win32 errors for a device's answer: PR_ERR_STATUS with the status
 * byte they stand for, never a transport failure. */
static void test_storage_status(void)
{
    static const struct {
        DWORD error;
        uint8_t status;
        const char *name;
    } cases[] = {
        {ERROR_BUSY, 0x18, "ERROR_BUSY -> RESERVATION CONFLICT"},
        {ERROR_INVALID_FUNCTION, 0x02, "ERROR_INVALID_FUNCTION -> CHECK CONDITION"},
    };
    uint8_t buffer[64];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_out_request r = out_request(1, 1);
    struct pr_result result;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_reset();
        fake.error = cases[i].error;
        rc = pr_out(&storage_device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
        check(rc == PR_ERR_STATUS && fake.calls == 1 &&
                  fake.code == IOCTL_STORAGE_PERSISTENT_RESERVE_OUT &&
                  result.scsi_status == cases[i].status &&
                  result.os_error == (int32_t)cases[i].error && result.dispatched == 1 &&
                  result.sense_hidden == 1 && result.sense_len == 0 &&
                  result.transport == PR_TRANSPORT_STORAGE_IOCTL,
              "storage RESERVE, %s: rc %d status 0x%02x os_error %d dispatched %u",
              cases[i].name, rc, result.scsi_status, result.os_error, result.dispatched);
        fake_reset();
        fake.error = cases[i].error;
        rc = pr_read_keys(&storage_device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k,
                          &result);
        check(rc == PR_ERR_STATUS && storage_in_sent(0, buffer, sizeof(buffer)) &&
                  result.scsi_status == cases[i].status &&
                  result.os_error == (int32_t)cases[i].error && result.dispatched == 1 &&
                  result.sense_hidden == 1,
              "storage READ KEYS, %s: rc %d status 0x%02x", cases[i].name, rc,
              result.scsi_status);
    }
}

/* The before-dispatch table of pr_windows.c (pr_win_dispatched), whole. */
static const struct {
    DWORD error;
    const char *name;
} before_dispatch[] = {
    {ERROR_INVALID_FUNCTION, "ERROR_INVALID_FUNCTION"},
    {ERROR_PATH_NOT_FOUND, "ERROR_PATH_NOT_FOUND"},
    {ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED"},
    {ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE"},
    {ERROR_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY"},
    {ERROR_OUTOFMEMORY, "ERROR_OUTOFMEMORY"},
    {ERROR_BAD_LENGTH, "ERROR_BAD_LENGTH"},
    {ERROR_NOT_SUPPORTED, "ERROR_NOT_SUPPORTED"},
    {ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER"},
    {ERROR_INSUFFICIENT_BUFFER, "ERROR_INSUFFICIENT_BUFFER"},
    {ERROR_NOACCESS, "ERROR_NOACCESS"},
    {ERROR_PRIVILEGE_NOT_HELD, "ERROR_PRIVILEGE_NOT_HELD"},
    {ERROR_INVALID_USER_BUFFER, "ERROR_INVALID_USER_BUFFER"},
};

/* A sample of the rest: each may follow a command that reached the device. */
static const struct {
    DWORD error;
    const char *name;
} after_dispatch[] = {
    {ERROR_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND (STATUS_NO_SUCH_DEVICE)"},
    {ERROR_NOT_READY, "ERROR_NOT_READY"},
    {ERROR_CRC, "ERROR_CRC"},
    {ERROR_GEN_FAILURE, "ERROR_GEN_FAILURE"},
    {ERROR_DEV_NOT_EXIST, "ERROR_DEV_NOT_EXIST"},
    {ERROR_SEM_TIMEOUT, "ERROR_SEM_TIMEOUT"},
    {ERROR_MORE_DATA, "ERROR_MORE_DATA"},
    {ERROR_NO_SUCH_DEVICE, "ERROR_NO_SUCH_DEVICE"},
    {ERROR_OPERATION_ABORTED, "ERROR_OPERATION_ABORTED"},
    {ERROR_IO_DEVICE, "ERROR_IO_DEVICE"},
    {ERROR_DEVICE_NOT_CONNECTED, "ERROR_DEVICE_NOT_CONNECTED"},
    {ERROR_REQUEST_ABORTED, "ERROR_REQUEST_ABORTED"},
    {ERROR_NO_SYSTEM_RESOURCES, "ERROR_NO_SYSTEM_RESOURCES"},
    {12345, "unknown error 12345"},
};

/* One failed DeviceIoControl: rc, os_error and dispatched as the table says. */
static int verdict_holds(const struct pr_device *device, int out, DWORD error,
                         uint8_t dispatched)
{
    uint8_t buffer[64];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_out_request r = out_request(1, 1);
    struct pr_result result;
    int storage = device->transport == PR_TRANSPORT_STORAGE_IOCTL;
    int rc;

    fake_reset();
    fake.error = error;
    if (out)
        rc = pr_out(device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
    else
        rc = pr_read_keys(device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k, &result);
    return fake.calls == 1 &&
           fake.code == (storage ? (out ? IOCTL_STORAGE_PERSISTENT_RESERVE_OUT
                                        : IOCTL_STORAGE_PERSISTENT_RESERVE_IN)
                                 : IOCTL_SCSI_PASS_THROUGH_DIRECT) &&
           rc == (error == ERROR_SEM_TIMEOUT ? PR_ERR_TIMEOUT : PR_ERR_OS) &&
           result.os_error == (int32_t)error && result.dispatched == dispatched &&
           result.scsi_status == 0 && result.sense_len == 0 &&
           result.sense_hidden == (uint8_t)storage &&
           result.transport == (storage ? PR_TRANSPORT_STORAGE_IOCTL : PR_TRANSPORT_PASS_THROUGH);
}

/* Every transport and direction reaches the same verdict for an error (the
 * storage IOCTL's device answers and its ERROR_MORE_DATA on PR IN aside). */
static void check_verdict(DWORD error, const char *name, uint8_t dispatched)
{
    int storage_answer = error == ERROR_BUSY || error == ERROR_INVALID_FUNCTION;
    int ok = verdict_holds(&pass_device, 1, error, dispatched) &&
             verdict_holds(&pass_device, 0, error, dispatched) &&
             (storage_answer || verdict_holds(&storage_device, 1, error, dispatched)) &&
             (storage_answer || error == ERROR_MORE_DATA ||
              verdict_holds(&storage_device, 0, error, dispatched));

    check(ok, "%s (%lu): dispatched %u, PR OUT and PR IN, pass-through%s", name,
          (unsigned long)error, dispatched, storage_answer ? "" : " and storage IOCTL");
}

static void test_verdicts(void)
{
    size_t i;

    for (i = 0; i < sizeof(before_dispatch) / sizeof(before_dispatch[0]); i++)
        check_verdict(before_dispatch[i].error, before_dispatch[i].name, 0);
    for (i = 0; i < sizeof(after_dispatch) / sizeof(after_dispatch[0]); i++)
        check_verdict(after_dispatch[i].error, after_dispatch[i].name, 1);
    check_verdict(ERROR_BUSY, "ERROR_BUSY from pass-through (SRB_STATUS_BUSY)", 1);
}

static void test_pass_through_in(void)
{
    static const uint8_t capabilities_reply[] = {0, 8, 0x1D, 0x81, 0xEA, 0x01, 0, 0};
    static const uint8_t no_keys_reply[] = {0, 0, 0, 1, 0, 0, 0, 0};
    static const uint8_t full_status_reply[] = {
        0, 0, 0, 3, 0, 0, 0, 48,
        0, 0, 0, 0, 0, 0, 0, 0xAB, 0, 0, 0, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 2, 0, 0, 0, 24,
        0x06, 0, 0, 0, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    uint8_t buffer[256];
    uint8_t cdb[10];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_capabilities c;
    struct pr_registrant registrants[2];
    struct pr_full_status fs;
    struct pr_result result;
    int rc;

    fake_reset();
    fake.reply = capabilities_reply;
    fake.reply_len = sizeof(capabilities_reply);
    rc = pr_report_capabilities(&auto_device, buffer, 64, TIMEOUT_MS, &c, &result);
    expect_cdb(cdb, 0x5E, 2, 0, 64);
    check(sptd_sent(cdb, 10, SCSI_IOCTL_DATA_IN, buffer, 64, 30),
          "auto REPORT CAPABILITIES -> pass-through: SPTD Length %u CdbLength %u DataIn %u "
          "DataTransferLength %lu TimeOutValue %lu SenseInfoOffset %lu",
          fake.sptd.Length, fake.sptd.CdbLength, fake.sptd.DataIn,
          (unsigned long)fake.sptd.DataTransferLength, (unsigned long)fake.sptd.TimeOutValue,
          (unsigned long)fake.sptd.SenseInfoOffset);
    check(rc == PR_OK && c.length == 8 && c.type_mask == 0xEA01 && c.type_mask_valid == 1 &&
              result.transport == PR_TRANSPORT_PASS_THROUGH && result.transferred == 8 &&
              result.resid == 56 && result.sense_hidden == 0 && result.dispatched == 1,
          "pass-through REPORT CAPABILITIES: rc %d type_mask 0x%04x transferred %u resid %d", rc,
          c.type_mask, result.transferred, result.resid);

    fake_reset();
    fake.reply = full_status_reply;
    fake.reply_len = sizeof(full_status_reply);
    rc = pr_read_full_status(&auto_device, buffer, sizeof(buffer), TIMEOUT_MS, registrants, 2,
                             &fs, &result);
    expect_cdb(cdb, 0x5E, 3, 0, sizeof(buffer));
    check(sptd_sent(cdb, 10, SCSI_IOCTL_DATA_IN, buffer, sizeof(buffer), 30),
          "auto READ FULL STATUS -> pass-through: SPTD fields and CDB");
    check(rc == PR_OK && fs.count == 1 && registrants[0].key == 0xAB &&
              registrants[0].holder == 1 && registrants[0].type == 5 &&
              registrants[0].transport_id_length == 24 &&
              result.transport == PR_TRANSPORT_PASS_THROUGH,
          "pass-through READ FULL STATUS: rc %d, %u registrant(s)", rc, fs.count);

    fake_reset();
    fake.reply = no_keys_reply;
    fake.reply_len = sizeof(no_keys_reply);
    rc = pr_read_keys(&pass_device, buffer, 40, 1500, keys, 8, &k, &result);
    expect_cdb(cdb, 0x5E, 0, 0, 40);
    check(sptd_sent(cdb, 10, SCSI_IOCTL_DATA_IN, buffer, 40, 2),
          "forced pass-through READ KEYS, 1500 ms -> TimeOutValue %lu s",
          (unsigned long)fake.sptd.TimeOutValue);
    check(rc == PR_OK && k.count == 0 && k.generation == 1 &&
              result.transport == PR_TRANSPORT_PASS_THROUGH,
          "forced pass-through READ KEYS: rc %d, no keys", rc);
}

static void test_pass_through_out(void)
{
    static const uint8_t sas_tid[24] = {0x06, 0, 0, 0, 0x50, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
                                        0x0F, 0x10};
    static const uint8_t types[] = {0, 1, 1, 0, 3, 5, 0, 0, 3};
    uint8_t list[128];
    uint8_t expected_list[128];
    uint8_t cdb[10];
    uint32_t length;
    struct pr_out_request r;
    struct pr_result result;
    uint8_t sa;
    int rc;

    for (sa = 0; sa <= 8; sa++) {
        r = out_request(sa, types[sa]);
        if (sa == 7) {
            r.transport_ids = sas_tid;
            r.transport_ids_length = sizeof(sas_tid);
            r.relative_target_port = 2;
        }
        pr_build_out_parameters(&r, expected_list, sizeof(expected_list), &length);
        fake_reset();
        rc = pr_out(&pass_device, &r, list, sizeof(list), 1, &result);
        expect_cdb(cdb, 0x5F, sa, types[sa], (uint16_t)length);
        check(rc == PR_OK && sptd_sent(cdb, 10, SCSI_IOCTL_DATA_OUT, list, length, 1) &&
                  fake.data_out_len == length &&
                  memcmp(fake.data_out, expected_list, length) == 0 &&
                  result.transport == PR_TRANSPORT_PASS_THROUGH && result.transferred == length,
              "forced pass-through %s: CDB %02x %02x %02x .. %02x, %u-byte list, DataIn %u",
              out_names[sa], fake.sptd.Cdb[0], fake.sptd.Cdb[1], fake.sptd.Cdb[2],
              fake.sptd.Cdb[8], (unsigned)length, fake.sptd.DataIn);
    }

    fake_reset();
    rc = pr_test_unit_ready(&auto_device, 0, &result);
    memset(cdb, 0, sizeof(cdb));
    check(rc == PR_OK && sptd_sent(cdb, 6, SCSI_IOCTL_DATA_UNSPECIFIED, NULL, 0, 1) &&
              result.transport == PR_TRANSPORT_PASS_THROUGH,
          "auto TEST UNIT READY -> pass-through, CdbLength 6, DataIn UNSPECIFIED, timeout 0 -> 1 s");
}

static void test_pass_through_status(void)
{
    static const uint8_t descriptor_sense[] = {0x72, 0x05, 0x24, 0x00, 0, 0, 0, 0};
    uint8_t sense[PR_WIN_SENSE_LEN];
    uint8_t buffer[64];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_out_request r = out_request(1, 7);
    struct pr_sense decoded;
    struct pr_result result;
    int rc;

    fake_reset();
    fake.scsi_status = 0x02;
    fake.sense = descriptor_sense;
    fake.sense_len = sizeof(descriptor_sense);
    fake.sense_len_reported = sizeof(descriptor_sense);
    rc = pr_out(&auto_device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
    check(rc == PR_ERR_STATUS && result.scsi_status == 0x02 && result.sense_len == 8 &&
              memcmp(result.sense, descriptor_sense, 8) == 0 && result.sense_hidden == 0 &&
              result.dispatched == 1 && result.transport == PR_TRANSPORT_PASS_THROUGH,
          "CHECK CONDITION via pass-through: rc %d status 0x%02x sense_len %u", rc,
          result.scsi_status, result.sense_len);
    rc = pr_decode_sense(result.sense, result.sense_len, &decoded);
    check(rc == PR_OK && decoded.descriptor_format == 1 && decoded.response_code == 0x72 &&
              decoded.sense_key == 5 && decoded.asc == 0x24 && decoded.ascq == 0,
          "descriptor sense decoded: key %u asc 0x%02x ascq 0x%02x", decoded.sense_key,
          decoded.asc, decoded.ascq);

    fake_reset();
    fake.scsi_status = 0x18;
    rc = pr_out(&pass_device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
    check(rc == PR_ERR_STATUS && result.scsi_status == 0x18 && result.sense_len == 0,
          "RESERVATION CONFLICT via pass-through: rc %d status 0x%02x", rc, result.scsi_status);

    memset(sense, 0x70, sizeof(sense));
    fake_reset();
    fake.scsi_status = 0x02;
    fake.sense = sense;
    fake.sense_len = sizeof(sense);
    fake.sense_len_reported = 200;
    rc = pr_test_unit_ready(&pass_device, TIMEOUT_MS, &result);
    check(rc == PR_ERR_STATUS && result.sense_len == PR_WIN_SENSE_LEN,
          "SenseInfoLength 200 clamped to %u", result.sense_len);

    fake_reset();
    fake.reply = descriptor_sense;
    fake.reply_len = 4;
    rc = pr_read_keys(&pass_device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k, &result);
    check(rc == PR_ERR_MALFORMED && result.transferred == 4 && result.resid == 60,
          "short pass-through transfer: transferred %u resid %d rc %d", result.transferred,
          result.resid, rc);

    fake_reset();
    fake.error = ERROR_SEM_TIMEOUT;
    rc = pr_test_unit_ready(&pass_device, TIMEOUT_MS, &result);
    check(rc == PR_ERR_TIMEOUT && result.os_error == ERROR_SEM_TIMEOUT && result.dispatched == 1,
          "pass-through ERROR_SEM_TIMEOUT -> rc %d dispatched %u", rc, result.dispatched);

    fake_reset();
    fake.error = ERROR_INVALID_FUNCTION;
    rc = pr_test_unit_ready(&pass_device, TIMEOUT_MS, &result);
    check(rc == PR_ERR_OS && result.os_error == ERROR_INVALID_FUNCTION && result.dispatched == 0 &&
              result.transport == PR_TRANSPORT_PASS_THROUGH,
          "pass-through ERROR_INVALID_FUNCTION -> rc %d dispatched %u", rc, result.dispatched);
}

/* Auto mode: every PR OUT through pass-through, once, with the caller's
 * timeout; forced storage mode carries what the storage IOCTLs can and
 * refuses the rest before any I/O. */
static void test_selection(void)
{
    static const uint8_t tid[24] = {0x06, 0, 0, 0, 0x50, 1, 2, 3, 4, 5, 6, 7};
    static const struct {
        uint8_t service_action;
        uint8_t type;
        uint8_t scope;
        int spec_i_pt;
        int storage;      /* the storage IOCTL can carry it */
        const char *name;
    } outs[] = {
        {0, 0, 0, 0, 1, "REGISTER"},
        {1, 1, 0, 0, 1, "RESERVE type 1"},
        {2, 5, 0, 0, 1, "RELEASE type 5"},
        {3, 0, 0, 0, 1, "CLEAR"},
        {4, 3, 0, 0, 1, "PREEMPT type 3"},
        {5, 6, 0, 0, 1, "PREEMPT AND ABORT type 6"},
        {6, 0, 0, 0, 1, "REGISTER AND IGNORE EXISTING KEY"},
        {1, 7, 0, 0, 0, "RESERVE type 7"},
        {1, 8, 0, 0, 0, "RESERVE type 8"},
        {4, 8, 0, 0, 0, "PREEMPT type 8"},
        {2, 1, 2, 0, 0, "RELEASE scope 2"},
        {7, 0, 0, 0, 0, "REGISTER AND MOVE"},
        {8, 3, 0, 0, 0, "REPLACE LOST RESERVATION"},
        {0, 0, 0, 1, 0, "SPEC_I_PT REGISTER"},
    };
    uint8_t buffer[128];
    uint8_t expected_list[128];
    uint8_t cdb[10];
    uint32_t length;
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_full_status fs;
    struct pr_registrant reg[1];
    struct pr_out_request r;
    struct pr_result result;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        r = out_request(outs[i].service_action, outs[i].type);
        r.scope = outs[i].scope;
        if (outs[i].service_action == 7 || outs[i].spec_i_pt) {
            r.transport_ids = tid;
            r.transport_ids_length = sizeof(tid);
        }
        pr_build_out_parameters(&r, expected_list, sizeof(expected_list), &length);
        expect_cdb(cdb, 0x5F, outs[i].service_action,
                   (uint8_t)(outs[i].scope << 4 | outs[i].type), (uint16_t)length);
        fake_reset();
        rc = pr_out(&auto_device, &r, buffer, sizeof(buffer), 45000, &result);
        check(rc == PR_OK && sptd_sent(cdb, 10, SCSI_IOCTL_DATA_OUT, buffer, length, 45) &&
                  fake.data_out_len == length &&
                  memcmp(fake.data_out, expected_list, length) == 0 &&
                  result.transport == PR_TRANSPORT_PASS_THROUGH && result.dispatched == 1,
              "auto %s -> one pass-through call (%u), CDB and %u-byte list exact, "
              "TimeOutValue %lu s",
              outs[i].name, fake.calls, (unsigned)length, (unsigned long)fake.sptd.TimeOutValue);
        fake_reset();
        rc = pr_out(&storage_device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
        if (outs[i].storage)
            check(rc == PR_OK && fake.calls == 1 &&
                      fake.code == IOCTL_STORAGE_PERSISTENT_RESERVE_OUT &&
                      result.transport == PR_TRANSPORT_STORAGE_IOCTL,
                  "forced storage %s -> storage IOCTL", outs[i].name);
        else
            check(rc == PR_ERR_UNSUPPORTED && fake.calls == 0 && result.dispatched == 0 &&
                      result.transport == PR_TRANSPORT_STORAGE_IOCTL,
                  "forced storage %s -> PR_ERR_UNSUPPORTED, no I/O (rc %d)", outs[i].name, rc);
    }

    fake_reset();
    rc = pr_read_full_status(&storage_device, buffer, sizeof(buffer), TIMEOUT_MS, reg, 1, &fs,
                             &result);
    check(rc == PR_ERR_UNSUPPORTED && fake.calls == 0 && result.dispatched == 0,
          "forced storage READ FULL STATUS -> PR_ERR_UNSUPPORTED (rc %d)", rc);
    fake_reset();
    rc = pr_read_keys(&storage_device, buffer, 4, TIMEOUT_MS, keys, 8, &k, &result);
    check(rc == PR_ERR_UNSUPPORTED && fake.calls == 0,
          "forced storage READ KEYS with allocation length 4 -> PR_ERR_UNSUPPORTED");

    /* CDBs the class driver would not rebuild byte for byte. */
    expect_cdb(cdb, 0x5E, 0, 0, 64);
    cdb[9] = 0x04;
    fake_reset();
    rc = pr_execute(&storage_device, cdb, sizeof(cdb), PR_DIR_FROM_DEVICE, buffer, 64,
                    TIMEOUT_MS, &result);
    check(rc == PR_ERR_UNSUPPORTED && fake.calls == 0,
          "forced storage READ KEYS with CONTROL byte 0x04 -> PR_ERR_UNSUPPORTED");
    fake_reset();
    pr_execute(&auto_device, cdb, sizeof(cdb), PR_DIR_FROM_DEVICE, buffer, 64, TIMEOUT_MS,
               &result);
    check(fake.code == IOCTL_SCSI_PASS_THROUGH_DIRECT && memcmp(fake.sptd.Cdb, cdb, 10) == 0,
          "auto READ KEYS with CONTROL byte 0x04 -> pass-through, CDB unchanged");
    expect_cdb(cdb, 0x5E, 0, 0, 64);
    fake_reset();
    rc = pr_execute(&storage_device, cdb, sizeof(cdb), PR_DIR_FROM_DEVICE, buffer, 32,
                    TIMEOUT_MS, &result);
    check(rc == PR_ERR_UNSUPPORTED && fake.calls == 0,
          "forced storage READ KEYS with ALLOCATION LENGTH 64 but a 32-byte buffer -> "
          "PR_ERR_UNSUPPORTED");

    fake_reset();
    rc = pr_execute(&auto_device, cdb, sizeof(cdb), PR_DIR_NONE, buffer, 8, TIMEOUT_MS, &result);
    check(rc == PR_ERR_ARGUMENT && fake.calls == 0, "data with PR_DIR_NONE -> PR_ERR_ARGUMENT");
    rc = pr_execute(&auto_device, cdb, 17, PR_DIR_FROM_DEVICE, buffer, 8, TIMEOUT_MS, &result);
    check(rc == PR_ERR_ARGUMENT && fake.calls == 0, "17-byte CDB -> PR_ERR_ARGUMENT");
}

/* Auto mode when the stack refuses pass-through before dispatch: a PR OUT
 * fails unsent after one call; READ KEYS and READ RESERVATION are read
 * through the storage IOCTL; nothing else falls back. */
static void test_auto_refused(void)
{
    static const DWORD refusals[] = {ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED,
                                     ERROR_ACCESS_DENIED};
    static const DWORD others[] = {ERROR_INVALID_PARAMETER, ERROR_NOT_READY, ERROR_SEM_TIMEOUT,
                                   ERROR_IO_DEVICE};
    static const uint8_t keys_reply[] = {0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x2A};
    static const uint8_t reservation_reply[] = {0, 0, 0, 7, 0, 0, 0, 0};
    uint8_t buffer[64];
    uint8_t cdb[10];
    uint64_t keys[8];
    struct pr_keys k;
    struct pr_reservation res;
    struct pr_capabilities c;
    struct pr_out_request r = out_request(1, 1);
    struct pr_result result;
    size_t i;
    int rc;

    fake_reset();
    fake.reply = keys_reply;
    fake.reply_len = sizeof(keys_reply);
    rc = pr_read_keys(&auto_device, buffer, sizeof(buffer), 20000, keys, 8, &k, &result);
    expect_cdb(cdb, 0x5E, 0, 0, sizeof(buffer));
    check(rc == PR_OK && sptd_sent(cdb, 10, SCSI_IOCTL_DATA_IN, buffer, sizeof(buffer), 20) &&
              k.count == 1 && keys[0] == 0x2A && result.transport == PR_TRANSPORT_PASS_THROUGH,
          "auto READ KEYS -> one pass-through call, TimeOutValue %lu s",
          (unsigned long)fake.sptd.TimeOutValue);

    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        fake_reset();
        fake.pass_through_error = refusals[i];
        rc = pr_out(&auto_device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
        check(rc == PR_ERR_OS && fake.calls == 1 && fake.codes[0] == IOCTL_SCSI_PASS_THROUGH_DIRECT &&
                  result.os_error == (int32_t)refusals[i] && result.dispatched == 0 &&
                  result.transport == PR_TRANSPORT_PASS_THROUGH,
              "auto RESERVE, pass-through refused with %lu -> not sent, %u call(s), no storage "
              "IOCTL", (unsigned long)refusals[i], fake.calls);

        fake_reset();
        fake.pass_through_error = refusals[i];
        fake.reply = keys_reply;
        fake.reply_len = sizeof(keys_reply);
        rc = pr_read_keys(&auto_device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k, &result);
        check(rc == PR_OK && fake.calls == 2 && fake.codes[0] == IOCTL_SCSI_PASS_THROUGH_DIRECT &&
                  storage_in_last(0, buffer, sizeof(buffer)) && k.count == 1 && keys[0] == 0x2A &&
                  result.transport == PR_TRANSPORT_STORAGE_IOCTL && result.os_error == 0 &&
                  result.dispatched == 1 && result.sense_hidden == 1 && result.cdb[0] == 0x5E,
              "auto READ KEYS, pass-through refused with %lu -> storage IOCTL, exact bytes",
              (unsigned long)refusals[i]);

        fake_reset();
        fake.pass_through_error = refusals[i];
        fake.reply = reservation_reply;
        fake.reply_len = sizeof(reservation_reply);
        rc = pr_read_reservation(&auto_device, buffer, sizeof(buffer), TIMEOUT_MS, &res, &result);
        check(rc == PR_OK && fake.calls == 2 && storage_in_last(1, buffer, sizeof(buffer)) &&
                  res.reserved == 0 && result.transport == PR_TRANSPORT_STORAGE_IOCTL,
              "auto READ RESERVATION, pass-through refused with %lu -> storage IOCTL",
              (unsigned long)refusals[i]);

        fake_reset();
        fake.pass_through_error = refusals[i];
        rc = pr_report_capabilities(&auto_device, buffer, sizeof(buffer), TIMEOUT_MS, &c,
                                    &result);
        check(rc == PR_ERR_OS && fake.calls == 1 && result.dispatched == 0 &&
                  result.transport == PR_TRANSPORT_PASS_THROUGH,
              "auto REPORT CAPABILITIES, pass-through refused with %lu -> no fallback",
              (unsigned long)refusals[i]);
    }

    /* The stack refuses both, as Wine does: the storage IOCTL's error is reported. */
    fake_reset();
    fake.error = ERROR_NOT_SUPPORTED;
    rc = pr_read_keys(&auto_device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k, &result);
    check(rc == PR_ERR_OS && fake.calls == 2 && result.os_error == ERROR_NOT_SUPPORTED &&
              result.transport == PR_TRANSPORT_STORAGE_IOCTL && result.dispatched == 0,
          "auto READ KEYS, both refused -> storage IOCTL's ERROR_NOT_SUPPORTED");
    fake_reset();
    fake.pass_through_error = ERROR_NOT_SUPPORTED;
    rc = pr_read_keys(&auto_device, buffer, 4, TIMEOUT_MS, keys, 8, &k, &result);
    check(rc == PR_ERR_OS && fake.calls == 1 && result.transport == PR_TRANSPORT_PASS_THROUGH,
          "auto READ KEYS of 4 bytes (beyond the storage IOCTL), refused -> no fallback");

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        fake_reset();
        fake.pass_through_error = others[i];
        pr_read_keys(&auto_device, buffer, sizeof(buffer), TIMEOUT_MS, keys, 8, &k, &result);
        check(fake.calls == 1 && result.os_error == (int32_t)others[i] &&
                  result.transport == PR_TRANSPORT_PASS_THROUGH,
              "auto READ KEYS, pass-through error %lu -> reported, no fallback",
              (unsigned long)others[i]);
        fake_reset();
        fake.pass_through_error = others[i];
        pr_out(&auto_device, &r, buffer, sizeof(buffer), TIMEOUT_MS, &result);
        check(fake.calls == 1 && result.os_error == (int32_t)others[i] &&
                  result.transport == PR_TRANSPORT_PASS_THROUGH,
              "auto RESERVE, pass-through error %lu -> one call", (unsigned long)others[i]);
    }
}

/* ---- identity without pass-through: IOCTL_STORAGE_QUERY_PROPERTY -------- */

static int query_sent(DWORD property_id, const uint8_t *buffer, DWORD capacity)
{
    uint8_t expected[12];

    memset(expected, 0, sizeof(expected));
    expected[0] = (uint8_t)property_id;  /* PropertyId; QueryType 0 = PropertyStandardQuery */
    return fake.calls == 1 && fake.handle == (HANDLE)FAKE_HANDLE &&
           fake.code == IOCTL_STORAGE_QUERY_PROPERTY && fake.code == 0x002D1400 &&
           fake.in_len == sizeof(expected) && memcmp(fake.in, expected, sizeof(expected)) == 0 &&
           fake.out_ptr == buffer && fake.out_len == capacity && fake.returned_given &&
           !fake.overlapped_given;
}

static void test_query_property(void)
{
    /* A STORAGE_DEVICE_ID_DESCRIPTOR as the DDK lays it out, built here
     * through the SDK struct (not pr_ddk_layout.h): one NAA identifier. */
    uint8_t reply[64];
    uint8_t buffer[128];
    uint8_t page[128];
    uint32_t page_length = 0;
    uint64_t needed = 0;
    STORAGE_DEVICE_ID_DESCRIPTOR *descriptor = (STORAGE_DEVICE_ID_DESCRIPTOR *)reply;
    STORAGE_IDENTIFIER *id;
    static const uint8_t naa[16] = {0x60, 0x01, 0x40, 0x5a, 0xb0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t expected_page[] = {0, 0x83, 0, 20, 1, 0x03, 0, 16, 0x60, 0x01, 0x40, 0x5a,
                                            0xb0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    struct pr_result result;
    DWORD errors[] = {ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED, ERROR_ACCESS_DENIED};
    const uint8_t inquiry_cdb[6] = {0x12, 0, 0, 0, 0xFF, 0};
    const uint8_t read_keys_cdb[10] = {0x5E, 0, 0, 0, 0, 0, 0, 0, 0x10, 0};
    uint8_t data[255];
    unsigned i;
    int rc;

    memset(reply, 0, sizeof(reply));
    descriptor->Version = sizeof(STORAGE_DEVICE_ID_DESCRIPTOR);
    descriptor->NumberOfIdentifiers = 1;
    id = (STORAGE_IDENTIFIER *)descriptor->Identifiers;
    id->CodeSet = StorageIdCodeSetBinary;
    id->Type = StorageIdTypeFCPHName;  /* NAA */
    id->Association = StorageIdAssocDevice;
    id->IdentifierSize = sizeof(naa);
    id->NextOffset = 0;
    memcpy(id->Identifier, naa, sizeof(naa));
    descriptor->Size = (DWORD)(offsetof(STORAGE_DEVICE_ID_DESCRIPTOR, Identifiers) +
                               offsetof(STORAGE_IDENTIFIER, Identifier) + sizeof(naa));

    fake_reset();
    fake.reply = reply;
    fake.reply_len = descriptor->Size;
    rc = pr_win_query_property(&auto_device, PR_WIN_STORAGE_DEVICE_ID_PROPERTY, buffer,
                               sizeof(buffer), &result);
    check(rc == PR_OK && query_sent(2, buffer, sizeof(buffer)) &&
              result.transferred == descriptor->Size && result.dispatched == 1 &&
              result.transport == PR_TRANSPORT_STORAGE_IOCTL && result.cdb_len == 0,
          "query StorageDeviceIdProperty: 12-byte STORAGE_PROPERTY_QUERY, %u bytes back",
          result.transferred);
    rc = pr_win_device_id_page(buffer, result.transferred, page, sizeof(page), &page_length,
                               &needed);
    check(rc == PR_OK && page_length == sizeof(expected_page) &&
              memcmp(page, expected_page, sizeof(expected_page)) == 0,
          "the SDK's STORAGE_DEVICE_ID_DESCRIPTOR -> VPD page 83h, exact bytes");

    /* Too small: ERROR_MORE_DATA with the part that fit; Size says how much. */
    fake_reset();
    fake.reply = reply;
    fake.reply_len = descriptor->Size;
    fake.error = ERROR_MORE_DATA;
    rc = pr_win_query_property(&storage_device, PR_WIN_STORAGE_DEVICE_ID_PROPERTY, buffer, 16,
                               &result);
    check(rc == PR_OK && result.transferred == 16 && result.os_error == ERROR_MORE_DATA &&
              pr_win_device_id_page(buffer, 16, page, sizeof(page), &page_length, &needed) ==
                  PR_ERR_SHORT &&
              needed == descriptor->Size,
          "ERROR_MORE_DATA: 16 bytes kept, the decoder asks for Size %lu",
          (unsigned long)descriptor->Size);

    fake_reset();
    fake.error = ERROR_INVALID_FUNCTION;
    rc = pr_win_query_property(&auto_device, PR_WIN_STORAGE_DEVICE_PROPERTY, buffer,
                               sizeof(buffer), &result);
    check(rc == PR_ERR_OS && query_sent(0, buffer, sizeof(buffer)) &&
              result.os_error == ERROR_INVALID_FUNCTION && result.dispatched == 0,
          "query StorageDeviceProperty refused: PR_ERR_OS, not dispatched");
    fake_reset();
    check(pr_win_query_property(&auto_device, 1, buffer, sizeof(buffer), &result) ==
                  PR_ERR_ARGUMENT &&
              pr_win_query_property(&auto_device, 0, buffer, 7, &result) == PR_ERR_ARGUMENT &&
              fake.calls == 0,
          "query property: another property id or a buffer below the header: nothing sent");

    /* When identify() takes the property route: the one rule. */
    for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        fake_reset();
        fake.pass_through_error = errors[i];
        rc = pr_execute(&auto_device, inquiry_cdb, 6, PR_DIR_FROM_DEVICE, data, sizeof(data),
                        TIMEOUT_MS, &result);
        check(rc == PR_ERR_OS && fake.calls == 1 &&
                  pr_win_identify_by_property(&auto_device, &result) == 1 &&
                  pr_win_identify_by_property(&pass_device, &result) == 0,
              "auto INQUIRY refused with %lu: identify by property (forced pass-through: no)",
              (unsigned long)errors[i]);
        fake_reset();
        fake.pass_through_error = errors[i];
        pr_execute(&auto_device, read_keys_cdb, 10, PR_DIR_FROM_DEVICE, data, 16, TIMEOUT_MS,
                   &result);
        check(pr_win_identify_by_property(&auto_device, &result) == 0,
              "a refused PR IN is no INQUIRY: no property route");
    }
    fake_reset();
    fake.pass_through_error = ERROR_SEM_TIMEOUT;
    pr_execute(&auto_device, inquiry_cdb, 6, PR_DIR_FROM_DEVICE, data, sizeof(data), TIMEOUT_MS,
               &result);
    check(pr_win_identify_by_property(&auto_device, &result) == 0,
          "auto INQUIRY that timed out (dispatched): reported, no property route");
    fake_reset();
    rc = pr_execute(&storage_device, inquiry_cdb, 6, PR_DIR_FROM_DEVICE, data, sizeof(data),
                    TIMEOUT_MS, &result);
    check(rc == PR_ERR_UNSUPPORTED && fake.calls == 0 &&
              pr_win_identify_by_property(&storage_device, &result) == 1,
          "storage-IOCTL device: INQUIRY unsupported, nothing sent, identify by property");
}

int main(void)
{
    test_layouts();
    test_wine_physical_drive();
    test_wine_open();

    pr_win_device_io_control = fake_device_io_control;
    test_storage_in();
    test_storage_more_data();
    test_storage_out();
    test_storage_status();
    test_verdicts();
    test_pass_through_in();
    test_pass_through_out();
    test_pass_through_status();
    test_selection();
    test_auto_refused();
    test_query_property();

    printf("%u passed, %u failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}
