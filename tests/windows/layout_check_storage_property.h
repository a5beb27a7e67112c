/*
 * layout_check_storage_property.h - compile-time check of the
 * IOCTL_STORAGE_QUERY_PROPERTY offsets in csrc/pr_ddk_layout.h (the query,
 * STORAGE_DEVICE_DESCRIPTOR, STORAGE_DEVICE_ID_DESCRIPTOR, STORAGE_IDENTIFIER)
 * and of the property ids in csrc/pr_native.h.  Included by
 * layout_check_user.c (after <winioctl.h>) and layout_check_ddk.c (after
 * <ntddstor.h>): the same assertions against both copies of the structs.
 */
#include <stddef.h>

#include "pr_ddk_layout.h"
#include "pr_native.h"

#ifndef MEMBER_SIZE
#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)
#endif
_Static_assert(IOCTL_STORAGE_QUERY_PROPERTY == 0x002D1400, "query property code");
_Static_assert(sizeof(STORAGE_PROPERTY_QUERY) == SPQ_SIZE, "STORAGE_PROPERTY_QUERY size");
_Static_assert(offsetof(STORAGE_PROPERTY_QUERY, PropertyId) == SPQ_PROPERTY_ID_OFFSET &&
                   MEMBER_SIZE(STORAGE_PROPERTY_QUERY, PropertyId) == 4, "PropertyId");
_Static_assert(offsetof(STORAGE_PROPERTY_QUERY, QueryType) == SPQ_QUERY_TYPE_OFFSET &&
                   MEMBER_SIZE(STORAGE_PROPERTY_QUERY, QueryType) == 4, "QueryType");
_Static_assert(StorageDeviceProperty == PR_WIN_STORAGE_DEVICE_PROPERTY &&
                   StorageDeviceIdProperty == PR_WIN_STORAGE_DEVICE_ID_PROPERTY &&
                   PropertyStandardQuery == SPQ_PROPERTY_STANDARD_QUERY, "property ids");

_Static_assert(sizeof(STORAGE_DESCRIPTOR_HEADER) == SDH_SIZE, "header size");
_Static_assert(offsetof(STORAGE_DESCRIPTOR_HEADER, Version) == SDH_VERSION_OFFSET, "Version");
_Static_assert(offsetof(STORAGE_DESCRIPTOR_HEADER, Size) == SDH_SIZE_OFFSET &&
                   MEMBER_SIZE(STORAGE_DESCRIPTOR_HEADER, Size) == 4, "Size");

#define SDD_FIELD(member, offset, size)                                          \
    _Static_assert(offsetof(STORAGE_DEVICE_DESCRIPTOR, member) == (offset) &&    \
                       MEMBER_SIZE(STORAGE_DEVICE_DESCRIPTOR, member) == (size), \
                   "STORAGE_DEVICE_DESCRIPTOR." #member)
SDD_FIELD(Version, SDH_VERSION_OFFSET, 4);
SDD_FIELD(Size, SDH_SIZE_OFFSET, 4);
SDD_FIELD(DeviceType, SDD_DEVICE_TYPE_OFFSET, 1);
SDD_FIELD(DeviceTypeModifier, SDD_DEVICE_TYPE_MODIFIER_OFFSET, 1);
SDD_FIELD(RemovableMedia, SDD_REMOVABLE_MEDIA_OFFSET, 1);
SDD_FIELD(CommandQueueing, SDD_COMMAND_QUEUEING_OFFSET, 1);
SDD_FIELD(VendorIdOffset, SDD_VENDOR_ID_OFFSET, 4);
SDD_FIELD(ProductIdOffset, SDD_PRODUCT_ID_OFFSET, 4);
SDD_FIELD(ProductRevisionOffset, SDD_PRODUCT_REVISION_OFFSET, 4);
SDD_FIELD(SerialNumberOffset, SDD_SERIAL_NUMBER_OFFSET, 4);
SDD_FIELD(BusType, SDD_BUS_TYPE_OFFSET, 4);
SDD_FIELD(RawPropertiesLength, SDD_RAW_PROPERTIES_LENGTH_OFFSET, 4);
SDD_FIELD(RawDeviceProperties, SDD_RAW_DEVICE_PROPERTIES_OFFSET, 1);
_Static_assert(sizeof(STORAGE_DEVICE_DESCRIPTOR) == SDD_SIZE, "STORAGE_DEVICE_DESCRIPTOR size");

_Static_assert(offsetof(STORAGE_DEVICE_ID_DESCRIPTOR, Size) == SDH_SIZE_OFFSET, "ID Size");
_Static_assert(offsetof(STORAGE_DEVICE_ID_DESCRIPTOR, NumberOfIdentifiers) ==
                       SDID_NUMBER_OF_IDENTIFIERS_OFFSET &&
                   MEMBER_SIZE(STORAGE_DEVICE_ID_DESCRIPTOR, NumberOfIdentifiers) == 4,
               "NumberOfIdentifiers");
_Static_assert(offsetof(STORAGE_DEVICE_ID_DESCRIPTOR, Identifiers) == SDID_IDENTIFIERS_OFFSET,
               "Identifiers");
_Static_assert(sizeof(STORAGE_DEVICE_ID_DESCRIPTOR) == SDID_SIZE, "ID descriptor size");

#define SID_FIELD(member, offset, size)                                   \
    _Static_assert(offsetof(STORAGE_IDENTIFIER, member) == (offset) &&    \
                       MEMBER_SIZE(STORAGE_IDENTIFIER, member) == (size), \
                   "STORAGE_IDENTIFIER." #member)
SID_FIELD(CodeSet, SID_CODE_SET_OFFSET, 4);
SID_FIELD(Type, SID_TYPE_OFFSET, 4);
SID_FIELD(IdentifierSize, SID_IDENTIFIER_SIZE_OFFSET, 2);
SID_FIELD(NextOffset, SID_NEXT_OFFSET_OFFSET, 2);
SID_FIELD(Association, SID_ASSOCIATION_OFFSET, 4);
SID_FIELD(Identifier, SID_IDENTIFIER_OFFSET, 1);
_Static_assert(sizeof(STORAGE_IDENTIFIER) == SID_SIZE, "STORAGE_IDENTIFIER size");
/* The enums carry SPC's values (SPC-4 7.8.6.1): DESIGNATOR TYPE, CODE SET, ASSOCIATION. */
_Static_assert(StorageIdTypeVendorSpecific == 0 && StorageIdTypeVendorId == 1 &&
                   StorageIdTypeEUI64 == 2 && StorageIdTypeFCPHName == 3 &&
                   StorageIdTypePortRelative == 4 && StorageIdTypeTargetPortGroup == 5 &&
                   StorageIdTypeLogicalUnitGroup == 6 &&
                   StorageIdTypeMD5LogicalUnitIdentifier == 7 &&
                   StorageIdTypeScsiNameString == 8, "designator types");
_Static_assert(StorageIdCodeSetBinary == 1 && StorageIdCodeSetAscii == 2 &&
                   StorageIdCodeSetUtf8 == 3, "code sets");
_Static_assert(StorageIdAssocDevice == 0 && StorageIdAssocPort == 1 && StorageIdAssocTarget == 2,
               "associations");
