/*
 * pr_windows_seam.h - what pr_windows.c shares with its tests.
 *
 * Internal to the Windows transport; never part of the cdef.  Include after
 * <windows.h>, <winioctl.h> and <ntddscsi.h>.
 */
#ifndef PR_WINDOWS_SEAM_H
#define PR_WINDOWS_SEAM_H

/* Sense bytes requested from SCSI pass-through.  SenseInfoLength is a UCHAR;
 * 64 is what sg3_utils asks for and holds fixed sense (18 bytes) and the
 * descriptor sense PR commands produce.  Wine on Linux hands it to SG_IO as
 * mx_sb_len unchecked; Wine on macOS refuses more than kSenseDefaultSize. */
#define PR_WIN_SENSE_LEN 64

/* The buffer of IOCTL_SCSI_PASS_THROUGH_DIRECT: the SDK struct, then the
 * sense bytes its SenseInfoOffset points at (offsetof, never a number). */
struct pr_win_sptd_with_sense {
    SCSI_PASS_THROUGH_DIRECT sptd;
    UCHAR sense[PR_WIN_SENSE_LEN];
};

/* Every DeviceIoControl of pr_windows.c goes through this pointer, which
 * starts out calling DeviceIoControl.  Test seam: tests/windows/driver.c
 * points it at a fake device to see the exact input buffers and feed canned
 * outputs.  Nothing else assigns it. */
extern BOOL (WINAPI *pr_win_device_io_control)(HANDLE device, DWORD code, LPVOID in,
                                               DWORD in_len, LPVOID out, DWORD out_len,
                                               LPDWORD returned, LPOVERLAPPED overlapped);

#endif /* PR_WINDOWS_SEAM_H */
