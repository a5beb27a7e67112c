/*
 * pr_ddk_layout.h - byte offsets of the Windows DDK persistent reservation
 * structures, as the core builds and decodes them.
 *
 * The core never uses the DDK's C bitfields: it packs bytes at these offsets,
 * which is portable to every compiler and OS.  tests/windows/ checks each
 * value against offsetof()/sizeof() in the mingw-w64 copies of ntddstor.h,
 * winioctl.h and ddk/scsi.h.
 */
#ifndef PR_DDK_LAYOUT_H
#define PR_DDK_LAYOUT_H

/* PERSISTENT_RESERVE_COMMAND (ntddstor.h / winioctl.h). */
#define PRC_VERSION_OFFSET 0
#define PRC_SIZE_OFFSET 4
#define PRC_SERVICE_ACTION_OFFSET 8   /* ServiceAction:5, bits 0-4 */
#define PRC_TYPE_SCOPE_OFFSET 9       /* PR_OUT Type:4 (bits 0-3), Scope:4 (bits 4-7) */
#define PRC_ALLOCATION_LENGTH_OFFSET 10  /* PR_IN, USHORT in host (little-endian) order */
#define PRC_PARAMETER_LIST_OFFSET 10  /* PR_OUT.ParameterList[] */
#define PRC_SIZE 12

/* PRO_PARAMETER_LIST (ddk/scsi.h): big-endian keys, as on the wire. */
#define PRO_RESERVATION_KEY_OFFSET 0
#define PRO_SERVICE_ACTION_RESERVATION_KEY_OFFSET 8
#define PRO_SCOPE_SPECIFIC_ADDRESS_OFFSET 16
#define PRO_FLAGS_OFFSET 20           /* APTPL bit 0, ALL_TG_PT bit 2, SPEC_I_PT bit 3 */
#define PRO_OBSOLETE_OFFSET 22
#define PRO_SIZE 24

/* PRI_REGISTRATION_LIST / PRI_RESERVATION_LIST / PRI_RESERVATION_DESCRIPTOR. */
#define PRI_GENERATION_OFFSET 0
#define PRI_ADDITIONAL_LENGTH_OFFSET 4
#define PRI_LIST_OFFSET 8             /* ReservationKeyList[] / Reservations[] */
#define PRI_LIST_HEADER_SIZE 8
#define PRI_DESCRIPTOR_KEY_OFFSET 0
#define PRI_DESCRIPTOR_SCOPE_SPECIFIC_ADDRESS_OFFSET 8
#define PRI_DESCRIPTOR_TYPE_SCOPE_OFFSET 13  /* Type:4 (bits 0-3), Scope:4 (bits 4-7) */
#define PRI_DESCRIPTOR_SIZE 16

#endif /* PR_DDK_LAYOUT_H */
