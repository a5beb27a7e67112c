/*
 * layout_check_ddk.c - compile-time check of the PRI_/PRO_ offsets in
 * csrc/pr_ddk_layout.h against mingw-w64 <ddk/scsi.h>, and of the
 * IOCTL_STORAGE_QUERY_PROPERTY structs against <ntddstor.h>.  Those are
 * kernel headers: they compile only after <ddk/ntddk.h> and with
 * -I<mingw include>/ddk, so they get a translation unit of their own.
 */
#include <ddk/ntddk.h>
#include <ddk/scsi.h>
#include <ntddstor.h>

#include <stddef.h>

#include "pr_ddk_layout.h"

#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

/* PRO_PARAMETER_LIST: byte 20 holds bitfields (APTPL bit 0 in mingw's
 * ActivatePersistThroughPowerLoss), so it is located between its neighbours. */
_Static_assert(sizeof(PRO_PARAMETER_LIST) == PRO_SIZE, "PRO size");
_Static_assert(offsetof(PRO_PARAMETER_LIST, ReservationKey) == PRO_RESERVATION_KEY_OFFSET,
               "PRO ReservationKey");
_Static_assert(MEMBER_SIZE(PRO_PARAMETER_LIST, ReservationKey) == 8, "PRO key size");
_Static_assert(offsetof(PRO_PARAMETER_LIST, ServiceActionReservationKey) ==
                   PRO_SERVICE_ACTION_RESERVATION_KEY_OFFSET, "PRO ServiceActionReservationKey");
_Static_assert(MEMBER_SIZE(PRO_PARAMETER_LIST, ServiceActionReservationKey) == 8,
               "PRO SARK size");
_Static_assert(offsetof(PRO_PARAMETER_LIST, ScopeSpecificAddress) ==
                   PRO_SCOPE_SPECIFIC_ADDRESS_OFFSET, "PRO ScopeSpecificAddress");
_Static_assert(offsetof(PRO_PARAMETER_LIST, ScopeSpecificAddress) +
                   MEMBER_SIZE(PRO_PARAMETER_LIST, ScopeSpecificAddress) == PRO_FLAGS_OFFSET,
               "PRO flags byte follows ScopeSpecificAddress");
_Static_assert(offsetof(PRO_PARAMETER_LIST, Reserved2) == PRO_FLAGS_OFFSET + 1,
               "PRO flags byte is one byte");
_Static_assert(offsetof(PRO_PARAMETER_LIST, Obsolete) == PRO_OBSOLETE_OFFSET, "PRO Obsolete");

/* PRI_REGISTRATION_LIST */
_Static_assert(sizeof(PRI_REGISTRATION_LIST) == PRI_LIST_HEADER_SIZE, "PRI reg list size");
_Static_assert(offsetof(PRI_REGISTRATION_LIST, Generation) == PRI_GENERATION_OFFSET,
               "PRI reg Generation");
_Static_assert(offsetof(PRI_REGISTRATION_LIST, AdditionalLength) == PRI_ADDITIONAL_LENGTH_OFFSET,
               "PRI reg AdditionalLength");
_Static_assert(offsetof(PRI_REGISTRATION_LIST, ReservationKeyList) == PRI_LIST_OFFSET,
               "PRI reg ReservationKeyList");
_Static_assert(MEMBER_SIZE(PRI_REGISTRATION_LIST, ReservationKeyList[0]) == 8, "key size");

/* PRI_RESERVATION_LIST */
_Static_assert(sizeof(PRI_RESERVATION_LIST) == PRI_LIST_HEADER_SIZE, "PRI res list size");
_Static_assert(offsetof(PRI_RESERVATION_LIST, Generation) == PRI_GENERATION_OFFSET,
               "PRI res Generation");
_Static_assert(offsetof(PRI_RESERVATION_LIST, AdditionalLength) == PRI_ADDITIONAL_LENGTH_OFFSET,
               "PRI res AdditionalLength");
_Static_assert(offsetof(PRI_RESERVATION_LIST, Reservations) == PRI_LIST_OFFSET,
               "PRI res Reservations");

/* PRI_RESERVATION_DESCRIPTOR: byte 13 is the Type:4/Scope:4 bitfield byte. */
_Static_assert(sizeof(PRI_RESERVATION_DESCRIPTOR) == PRI_DESCRIPTOR_SIZE, "PRI desc size");
_Static_assert(MEMBER_SIZE(PRI_RESERVATION_LIST, Reservations[0]) == PRI_DESCRIPTOR_SIZE,
               "PRI desc in list");
_Static_assert(offsetof(PRI_RESERVATION_DESCRIPTOR, ReservationKey) == PRI_DESCRIPTOR_KEY_OFFSET,
               "PRI desc ReservationKey");
_Static_assert(offsetof(PRI_RESERVATION_DESCRIPTOR, ScopeSpecificAddress) ==
                   PRI_DESCRIPTOR_SCOPE_SPECIFIC_ADDRESS_OFFSET, "PRI desc ScopeSpecificAddress");
_Static_assert(offsetof(PRI_RESERVATION_DESCRIPTOR, Reserved) + 1 ==
                   PRI_DESCRIPTOR_TYPE_SCOPE_OFFSET, "PRI desc Type|Scope after Reserved");
_Static_assert(offsetof(PRI_RESERVATION_DESCRIPTOR, Obsolete) ==
                   PRI_DESCRIPTOR_TYPE_SCOPE_OFFSET + 1, "PRI desc Type|Scope is one byte");

/* IOCTL_STORAGE_QUERY_PROPERTY's structs, as ntddstor.h declares them. */
#include "layout_check_storage_property.h"
