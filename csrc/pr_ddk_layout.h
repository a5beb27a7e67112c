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

/* IOCTL_STORAGE_QUERY_PROPERTY (ntddstor.h / winioctl.h).  Every field is
 * little-endian (the byte order of every Windows target). */

/* STORAGE_PROPERTY_QUERY, the input: PropertyId, QueryType (enums, 4 bytes),
 * AdditionalParameters[1], padded to 12. */
#define SPQ_PROPERTY_ID_OFFSET 0
#define SPQ_QUERY_TYPE_OFFSET 4
#define SPQ_SIZE 12
#define SPQ_PROPERTY_STANDARD_QUERY 0

/* STORAGE_DESCRIPTOR_HEADER, first in every output: Size is the length of
 * the whole descriptor, also when the buffer held only part of it. */
#define SDH_VERSION_OFFSET 0
#define SDH_SIZE_OFFSET 4
#define SDH_SIZE 8

/* STORAGE_DEVICE_DESCRIPTOR (StorageDeviceProperty): the strings are
 * NUL-terminated ASCII at their offsets from the start; offset 0: absent. */
#define SDD_DEVICE_TYPE_OFFSET 8
#define SDD_DEVICE_TYPE_MODIFIER_OFFSET 9
#define SDD_REMOVABLE_MEDIA_OFFSET 10
#define SDD_COMMAND_QUEUEING_OFFSET 11
#define SDD_VENDOR_ID_OFFSET 12
#define SDD_PRODUCT_ID_OFFSET 16
#define SDD_PRODUCT_REVISION_OFFSET 20
#define SDD_SERIAL_NUMBER_OFFSET 24
#define SDD_BUS_TYPE_OFFSET 28
#define SDD_RAW_PROPERTIES_LENGTH_OFFSET 32
#define SDD_RAW_DEVICE_PROPERTIES_OFFSET 36  /* the fixed part ends here */
#define SDD_SIZE 40

/* STORAGE_DEVICE_ID_DESCRIPTOR (StorageDeviceIdProperty): NumberOfIdentifiers
 * STORAGE_IDENTIFIERs from Identifiers[], each NextOffset bytes after the
 * previous one's start. */
#define SDID_NUMBER_OF_IDENTIFIERS_OFFSET 8
#define SDID_IDENTIFIERS_OFFSET 12
#define SDID_SIZE 16

/* STORAGE_IDENTIFIER: CodeSet, Type (enums), IdentifierSize, NextOffset
 * (USHORTs), Association (enum), Identifier[]. */
#define SID_CODE_SET_OFFSET 0
#define SID_TYPE_OFFSET 4
#define SID_IDENTIFIER_SIZE_OFFSET 8
#define SID_NEXT_OFFSET_OFFSET 10
#define SID_ASSOCIATION_OFFSET 12
#define SID_IDENTIFIER_OFFSET 16
#define SID_SIZE 20

#endif /* PR_DDK_LAYOUT_H */
