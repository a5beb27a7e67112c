/*
 * pr_native.h - the one header of the pr_native C core.
 *
 * Read by every .c file of the core and, between the cdef markers below, by
 * cffi (pr_native/_build.py), so the C and the Python bindings can never
 * disagree about a struct or a prototype.  The text between the markers must
 * stay within what cffi's cdef parser accepts: plain declarations, fixed-width
 * integer types and "#define NAME integer" constants.
 *
 * Conventions: every function returns PR_OK (0) or a negative PR_ERR_* code,
 * except where its comment says what else it returns on success (a serial, a
 * count, a yes/no).
 * Multi-byte wire fields are big-endian (SPC-4 3.5.x) unless a comment says
 * otherwise; the core never reads past the bytes a device actually transferred.
 */
#ifndef PR_NATIVE_H
#define PR_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cdef-begin */

/* Return codes. */
#define PR_OK 0
#define PR_ERR_OS -1          /* the OS refused the request: see os_error */
#define PR_ERR_STATUS -2      /* the device returned a SCSI status other than GOOD */
#define PR_ERR_TRANSPORT -3   /* host adapter or driver reported a failure */
#define PR_ERR_TIMEOUT -4     /* the command timed out */
#define PR_ERR_SHORT -5       /* response longer than the buffer: see needed */
#define PR_ERR_MALFORMED -6   /* response violates the SPC format */
#define PR_ERR_ARGUMENT -7    /* invalid argument to a core function */
#define PR_ERR_UNSUPPORTED -8 /* no SCSI pass-through on this platform */
#define PR_ERR_NOT_SCSI -9    /* the opened file does not accept SCSI commands */
#define PR_ERR_INTERRUPTED -10 /* a signal interrupted the wait for a submitted command:
                                * it is still in flight, pr_resume() waits on for it */

/* Limits. */
#define PR_CDB_MAX 16
#define PR_SENSE_MAX 252            /* SPC-4 4.5.1: sense data is at most 252 bytes */
#define PR_ALLOCATION_MAX 65535     /* PR IN ALLOCATION LENGTH is 16 bits */
#define PR_BASIC_PARAMETERS_LEN 24  /* SPC-4 table 226 */
#define PR_TRANSPORT_ID_MAX 264     /* iSCSI: 4 + 260 (SPC-4 7.6.4.6) */
/* How long past its timeout the core waits for a submitted command before it
 * stops waiting (the request stays with the driver; see pr_execute). */
#define PR_WAIT_MARGIN_MS 1000

/* Operation codes and data directions. */
#define PR_OPCODE_IN 0x5E
#define PR_OPCODE_OUT 0x5F
#define PR_DIR_NONE 0
#define PR_DIR_FROM_DEVICE 1
#define PR_DIR_TO_DEVICE 2

/* pr_open() flags.  On Windows the transport is chosen per command unless
 * one of the FORCE flags is given: SCSI pass-through first, and for READ KEYS
 * and READ RESERVATION the storage PR IOCTLs when the stack refuses
 * pass-through before dispatch; a PR OUT never falls back (classpnp retries
 * the storage IOCTLs on its own, which would send it twice). */
#define PR_OPEN_READ_ONLY 1
#define PR_OPEN_FORCE_STORAGE_IOCTL 2
#define PR_OPEN_FORCE_PASS_THROUGH 4

/* pr_device.transport (what the device was opened for) and
 * pr_result.transport (what carried one command). */
#define PR_TRANSPORT_AUTO 0
#define PR_TRANSPORT_SG_IO 1
#define PR_TRANSPORT_STORAGE_IOCTL 2
#define PR_TRANSPORT_PASS_THROUGH 3

/* An open device: a file descriptor on POSIX, a HANDLE on Windows.  queue
 * is the transport's own state (Linux /dev/sgN: the requests submitted
 * through the sg driver's write() and not yet read back), NULL elsewhere;
 * pr_close() frees it. */
struct pr_device {
    intptr_t handle;
    uint32_t transport;
    uint32_t flags;
    void *queue;
};

/* Everything known about one command after it ran (or failed to run). */
struct pr_result {
    int32_t os_error;        /* errno / GetLastError() when PR_ERR_OS */
    int32_t resid;           /* requested minus transferred data bytes */
    uint32_t transferred;    /* data bytes actually transferred */
    uint32_t duration_ms;    /* as measured by the driver, 0 if unknown */
    uint64_t needed;         /* PR IN: bytes the complete response needs */
    uint16_t host_status;    /* Linux DID_* */
    uint16_t driver_status;  /* Linux DRIVER_* */
    uint8_t scsi_status;     /* SAM status byte */
    uint8_t dispatched;      /* 1 once the command may have reached the device */
    uint8_t cdb_len;
    uint8_t sense_len;
    uint8_t transport;       /* PR_TRANSPORT_* that carried the command */
    uint8_t sense_hidden;    /* 1 when the driver consumed the sense data */
    uint8_t cdb[PR_CDB_MAX];
    uint8_t sense[PR_SENSE_MAX];
};

/* Decoded PR IN responses (SPC-4 6.15). */
struct pr_keys {
    uint32_t generation;
    uint32_t additional_length;
    uint32_t count;            /* keys decoded into the caller's array */
};

struct pr_reservation {
    uint32_t generation;
    uint32_t additional_length;
    uint64_t key;
    uint32_t scope_specific_address;
    uint8_t reserved;          /* 1 when a reservation descriptor is present */
    uint8_t scope;
    uint8_t type;
};

struct pr_capabilities {
    uint16_t length;
    uint16_t type_mask;        /* bytes 4-5 as a big-endian 16-bit value */
    uint8_t replace_lost_reservation_capable;   /* RLR_C */
    uint8_t compatible_reservation_handling;    /* CRH */
    uint8_t specify_initiator_ports_capable;    /* SIP_C */
    uint8_t all_target_ports_capable;           /* ATP_C */
    uint8_t persist_through_power_loss_capable; /* PTPL_C */
    uint8_t type_mask_valid;                    /* TMV */
    uint8_t allow_commands;                     /* 3-bit ALLOW COMMANDS */
    uint8_t persist_through_power_loss_active;  /* PTPL_A */
};

struct pr_full_status {
    uint32_t generation;
    uint32_t additional_length;
    uint32_t count;            /* descriptors decoded into the caller's array */
};

struct pr_registrant {
    uint64_t key;
    uint32_t transport_id_offset;  /* offset of the TransportID in the buffer */
    uint32_t transport_id_length;
    uint16_t relative_target_port;
    uint8_t all_target_ports;
    uint8_t holder;                /* R_HOLDER */
    uint8_t scope;
    uint8_t type;
};

/* Decoded sense data, fixed (70h/71h) or descriptor (72h/73h) format. */
struct pr_sense {
    uint64_t information;
    uint64_t command_specific;
    uint32_t sense_key_specific;  /* the 3 SKS bytes, big-endian, SKSV included */
    uint8_t response_code;
    uint8_t descriptor_format;
    uint8_t deferred;
    uint8_t sense_key;
    uint8_t asc;
    uint8_t ascq;
    uint8_t information_valid;
    uint8_t sense_key_specific_valid;
    uint8_t field_replaceable_unit;
    uint8_t filemark;
    uint8_t end_of_medium;
    uint8_t incorrect_length;
    uint8_t overflow;             /* descriptor format SDAT_OVFL */
};

/* What a PERSISTENT RESERVE OUT sends (SPC-4 6.16).  transport_ids holds the
 * SPEC_I_PT TransportID list for REGISTER, or the single TransportID of
 * REGISTER AND MOVE; it is not copied before the call returns. */
struct pr_out_request {
    uint64_t key;
    uint64_t service_action_key;
    const uint8_t *transport_ids;
    uint32_t transport_ids_length;
    uint16_t relative_target_port;
    uint8_t service_action;
    uint8_t scope;
    uint8_t type;
    uint8_t aptpl;
    uint8_t all_target_ports;
    uint8_t unregister;
};

/* One row of the layout table printed by `python -m pr_native.layout`. */
struct pr_layout_field {
    const char *structure;
    const char *field;
    uint32_t offset;
    uint32_t size;
};

/* pr_cdb.c: CDB and parameter-list builders (pure). */
int pr_build_in_cdb(uint8_t *cdb, uint32_t service_action, uint32_t allocation_length);
int pr_build_out_cdb(uint8_t *cdb, uint32_t service_action, uint32_t scope, uint32_t type,
                     uint32_t parameter_list_length);
int pr_out_parameters_length(const struct pr_out_request *request, uint32_t *length);
int pr_build_out_parameters(const struct pr_out_request *request, uint8_t *buffer,
                            uint32_t capacity, uint32_t *length);

/* pr_decode.c: PR IN and sense decoders (pure, bounds-checked). */
int pr_decode_read_keys(const uint8_t *data, uint32_t length, uint64_t *keys, uint32_t max_keys,
                        struct pr_keys *out, uint64_t *needed);
int pr_decode_read_reservation(const uint8_t *data, uint32_t length,
                               struct pr_reservation *out, uint64_t *needed);
int pr_decode_report_capabilities(const uint8_t *data, uint32_t length,
                                  struct pr_capabilities *out, uint64_t *needed);
int pr_decode_read_full_status(const uint8_t *data, uint32_t length,
                               struct pr_registrant *registrants, uint32_t max_registrants,
                               struct pr_full_status *out, uint64_t *needed);
int pr_decode_sense(const uint8_t *sense, uint32_t length, struct pr_sense *out);

/* pr_winbuf.c: the Windows DDK PERSISTENT_RESERVE_COMMAND input buffers (pure). */
#define PR_WIN_IN_COMMAND_LEN 12
#define PR_WIN_OUT_COMMAND_LEN 36
int pr_win_in_command(uint8_t *buffer, uint32_t service_action, uint32_t allocation_length);
int pr_win_out_command(uint8_t *buffer, uint32_t service_action, uint32_t type, uint32_t scope,
                       uint64_t key, uint64_t service_action_key, uint32_t aptpl,
                       uint32_t all_target_ports);

/* pr_ops.c: one call per operation: build, execute, decode. */
int pr_read_keys(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                 uint32_t timeout_ms, uint64_t *keys, uint32_t max_keys, struct pr_keys *out,
                 struct pr_result *result);
int pr_read_reservation(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                        uint32_t timeout_ms, struct pr_reservation *out,
                        struct pr_result *result);

/* The previous response to one query, kept so that an unchanged response is
 * told by its bytes alone (what a monitor polls for): the caller then reuses
 * the result it built for that response.  data holds capacity bytes, which
 * the caller owns; a zeroed struct has none kept (serial 0). */
struct pr_previous {
    uint8_t *data;
    uint32_t capacity;
    uint32_t length;
    int32_t serial;
};

/* The serial, 1 and up, of the response data[0..length): the previous
 * response's when the bytes are the same, else the next serial (after
 * INT32_MAX, 1), this response then kept as the previous one.  Within one
 * struct the serial is the whole verdict: the same serial, the same bytes
 * (a caller that replaces the struct forgets the serials it had).  A
 * response longer than capacity gets a new serial and is not kept.
 * PR_ERR_ARGUMENT for a NULL previous, or NULL data with a length. */
int pr_response_serial(struct pr_previous *previous, const uint8_t *data, uint32_t length);

/* pr_read_keys() and pr_read_reservation(), returning on success the
 * response's serial (pr_response_serial) instead of PR_OK; their errors are
 * as theirs, and PR_ERR_ARGUMENT, nothing sent, for a NULL previous. */
int pr_read_keys_serial(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                        uint32_t timeout_ms, uint64_t *keys, uint32_t max_keys,
                        struct pr_keys *out, struct pr_result *result,
                        struct pr_previous *previous);
int pr_read_reservation_serial(const struct pr_device *device, uint8_t *buffer,
                               uint32_t capacity, uint32_t timeout_ms,
                               struct pr_reservation *out, struct pr_result *result,
                               struct pr_previous *previous);
int pr_report_capabilities(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                           uint32_t timeout_ms, struct pr_capabilities *out,
                           struct pr_result *result);
int pr_read_full_status(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                        uint32_t timeout_ms, struct pr_registrant *registrants,
                        uint32_t max_registrants, struct pr_full_status *out,
                        struct pr_result *result);
int pr_out(const struct pr_device *device, const struct pr_out_request *request,
           uint8_t *buffer, uint32_t capacity, uint32_t timeout_ms, struct pr_result *result);
int pr_test_unit_ready(const struct pr_device *device, uint32_t timeout_ms,
                       struct pr_result *result);

/* Transport (pr_linux.c, pr_windows.c or pr_unsupported.c). */
int pr_open(const char *path, uint32_t flags, struct pr_device *device, struct pr_result *result);
int pr_close(struct pr_device *device);
/* pr_execute: run one command.  Each command is submitted to the device at
 * most once.  On Linux a data-out command (PR OUT) on /dev/sgN goes through
 * the sg driver's write() and is collected with poll()/read(), because an
 * interrupted SG_IO on sg is restarted by the kernel, which queues the CDB a
 * second time; the wait ends at timeout_ms + PR_WAIT_MARGIN_MS even if the
 * transport holds the command (PR_ERR_TIMEOUT, dispatched), and a signal
 * ends it with PR_ERR_INTERRUPTED (see pr_resume).  Every other command uses
 * SG_IO: re-reading is harmless, and SG_IO on /dev/sdX and /dev/stN waits
 * uninterruptibly (blk_execute_rq). */
int pr_execute(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
               int direction, uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
               struct pr_result *result);
/* Wait on for the command whose wait returned PR_ERR_INTERRUPTED, with the
 * same result (and its deadline); returns as pr_execute.  PR_ERR_ARGUMENT when
 * the device has no such command (it completed, or another was started). */
int pr_resume(const struct pr_device *device, struct pr_result *result);

/* One command in two steps, for an event loop (pr_native.aio): Linux /dev/sgN
 * opened read-write only (PR_ERR_UNSUPPORTED elsewhere, before any I/O).
 * pr_submit() queues the command through the sg driver's write(), exactly
 * once, and returns its ticket.  pr_collect() is called when the descriptor
 * is readable or *wait_ms has passed: PR_ERR_PENDING while the command is in
 * flight (*wait_ms: until its deadline, timeout_ms + PR_WAIT_MARGIN_MS),
 * else as pr_execute() (data-in bytes copied to data).  pr_abandon() stops
 * waiting: the request stays with the driver and is discarded when it
 * completes.  Commands on one device are collected one at a time. */
#define PR_ERR_PENDING -11
int pr_submit(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
              int direction, const uint8_t *data, uint32_t data_len, uint32_t timeout_ms,
              struct pr_result *result, int32_t *ticket);
int pr_collect(const struct pr_device *device, int32_t ticket, uint8_t *data, uint32_t data_len,
               struct pr_result *result, uint32_t *wait_ms);
void pr_abandon(const struct pr_device *device, int32_t ticket);

/* The verdict of the last command of pr_execute(), pr_resume() or
 * pr_collect() on device, from the core's own state, for a caller that
 * could not keep the return code (an exception raised as the call
 * returned): PR_ERR_PENDING while a command whose wait a signal ended is
 * still in flight, else the code the call returned for result.  Where the
 * transport cannot tell (no sg queue outside Linux): PR_ERR_PENDING. */
int pr_settled(const struct pr_device *device, const struct pr_result *result);

/* Sizes and offsets of the buffers the core builds: the portable ones
 * (pr_layout.c) and the transport's own OS structs (the transport file). */
uint32_t pr_layout(const struct pr_layout_field **fields);
uint32_t pr_transport_layout(const struct pr_layout_field **fields);

/* The pr_native version this core was compiled for (pr_layout.c; the build
 * passes it as PR_NATIVE_VERSION).  The Python package refuses to import a
 * core whose version is not its own. */
const char *pr_core_version(void);

/* --- pr_execute_batch: several data-in commands at once (pr_poll_linux.c on
 * Linux, pr_poll_fallback.c elsewhere).  Each entry names its device, CDB,
 * data buffer and timeout; the call fills each entry's rc (PR_OK or a
 * PR_ERR_* code, as pr_execute() returns) and result.  On Linux, entries on
 * /dev/sgN opened read-write run concurrently through the sg driver's
 * asynchronous write()/poll()/read() interface and every other entry runs
 * with pr_execute() meanwhile (as do sg entries whose write() the driver
 * refuses with EPERM); elsewhere all run one after another.  An sg
 * entry's wait ends at its timeout + PR_WAIT_MARGIN_MS (PR_ERR_TIMEOUT), when
 * its node hangs up (PR_ERR_OS, ENODEV) or at a signal (PR_ERR_INTERRUPTED);
 * the request then stays with the driver, and the next identical command on
 * that device takes it over instead of queueing another (re-issued with
 * ``resuming`` after a signal, it gets the answer that came back meanwhile,
 * a unit attention included).  Returns
 * PR_ERR_ARGUMENT for an invalid entry (nothing is sent), else PR_OK once
 * every entry has its rc. */
struct pr_batch_command {
    const struct pr_device *device;
    uint8_t *data;
    uint32_t data_len;
    uint32_t timeout_ms;
    uint8_t cdb[PR_CDB_MAX];
    uint8_t cdb_len;
    uint8_t resuming;  /* re-issued after PR_ERR_INTERRUPTED: the same wait, the same end */
    int32_t rc;
    struct pr_result result;
};

int pr_execute_batch(struct pr_batch_command *commands, uint32_t count);

/* pr_poll (pr_ops.c): pr_execute_batch() of READ KEYS / READ RESERVATION
 * commands, then each GOOD response decoded in the same call: a polling
 * round is one crossing into C whatever the number of devices.  decoded[i]
 * belongs to commands[i]; its rc is the decoder's (PR_OK, PR_ERR_SHORT,
 * PR_ERR_MALFORMED), set only when commands[i].rc is PR_OK. */
struct pr_poll_decoded {
    uint64_t *keys;             /* READ KEYS: room for max_keys keys */
    uint32_t max_keys;
    int32_t rc;
    uint64_t needed;
    struct pr_keys keys_out;
    struct pr_reservation reservation;
};

int pr_poll(struct pr_batch_command *commands, struct pr_poll_decoded *decoded, uint32_t count);
/* pr_poll's second half: decode the GOOD responses of a batch that ran. */
int pr_poll_decode(const struct pr_batch_command *commands, struct pr_poll_decoded *decoded,
                   uint32_t count);
/* --- end of pr_execute_batch */

/* --- Device identity: INQUIRY (SPC-4 6.6) and the VPD pages 00h, 80h and
 * 83h (SPC-4 7.8).  INQUIRY changes nothing and neither reports nor clears a
 * unit attention (SPC-4 5.14, SAM-5 5.14).  The decoders follow the PR IN
 * rules: nothing at or past `length` (what the device transferred) is read,
 * *needed is the size of the complete data (5 + ADDITIONAL LENGTH, 4 + PAGE
 * LENGTH), and PR_ERR_SHORT means "read again with that allocation" after
 * what arrived whole was decoded. */
#define PR_OPCODE_INQUIRY 0x12
/* The first ALLOCATION LENGTH: below 256, so that a device that still reads
 * only byte 4 (the SPC-2 8-bit field) sees the same value. */
#define PR_INQUIRY_ALLOCATION 255
#define PR_VPD_SUPPORTED_PAGES 0x00
#define PR_VPD_UNIT_SERIAL_NUMBER 0x80
#define PR_VPD_DEVICE_IDENTIFICATION 0x83

/* Standard INQUIRY data (SPC-4 6.6.2).  A field is decoded only when all
 * its bytes arrived within 5 + ADDITIONAL LENGTH; vendor, product and
 * revision are otherwise left as spaces, the other fields as 0. */
struct pr_inquiry {
    uint32_t additional_length;         /* byte 4 */
    uint8_t peripheral_qualifier;       /* byte 0, bits 7-5 */
    uint8_t peripheral_type;            /* byte 0, bits 4-0 */
    uint8_t removable;                  /* RMB */
    uint8_t version;
    uint8_t response_data_format;
    uint8_t target_port_group_support;  /* TPGS (0-3): ALUA */
    uint8_t multi_port;                 /* MULTIP */
    uint8_t vendor[8];                  /* T10 VENDOR IDENTIFICATION (ASCII) */
    uint8_t product[16];                /* PRODUCT IDENTIFICATION */
    uint8_t revision[4];                /* PRODUCT REVISION LEVEL */
};

/* A VPD page: the header (SPC-4 7.8.1) and where its value is in the
 * caller's buffer.  00h: value = the page codes that arrived; 80h: value =
 * PRODUCT SERIAL NUMBER without leading and trailing spaces and NULs (only
 * when the whole page arrived); 83h: count designators decoded. */
struct pr_vpd_page {
    uint32_t page_length;      /* PAGE LENGTH: the page is 4 + page_length bytes */
    uint32_t value_offset;
    uint32_t value_length;
    uint32_t count;
    uint8_t peripheral_qualifier;
    uint8_t peripheral_type;
    uint8_t page_code;
};

/* One designation descriptor of VPD page 83h (SPC-4 7.8.6.1).
 * Every descriptor is listed, whatever its type; well_formed is 1 when
 * DESIGNATOR LENGTH (and the NAA or UUID TYPE field) is one the type's
 * format defines: T10 vendor ID >= 8, EUI-64 8/12/16, NAA 2h/3h/5h 8 and
 * 6h 16, relative target port/target port group/logical unit group 4, MD5
 * 16, SCSI name string a multiple of 4 up to 256, protocol specific port 4
 * or 8, UUID 18 with UUID TYPE 1h, vendor specific any. */
struct pr_designator {
    uint32_t offset;              /* the DESIGNATOR bytes in the caller's buffer */
    uint32_t length;              /* DESIGNATOR LENGTH */
    uint8_t type;                 /* DESIGNATOR TYPE */
    uint8_t association;          /* 0 logical unit, 1 target port, 2 target device */
    uint8_t code_set;             /* 1 binary, 2 ASCII, 3 UTF-8 */
    uint8_t piv;                  /* PIV: protocol_identifier is meaningful when set */
    uint8_t protocol_identifier;  /*   and the association is 1 or 2 */
    uint8_t well_formed;
};

/* pr_cdb.c: the 6-byte INQUIRY CDB; evpd 0 needs page_code 0. */
int pr_build_inquiry_cdb(uint8_t *cdb, uint32_t evpd, uint32_t page_code,
                         uint32_t allocation_length);
/* pr_decode.c.  A VPD page whose PAGE CODE is not the one decoded is
 * PR_ERR_MALFORMED; so is a designator that overruns PAGE LENGTH.  One cut
 * by the allocation length is not decoded (PR_ERR_SHORT). */
int pr_decode_inquiry(const uint8_t *data, uint32_t length, struct pr_inquiry *out,
                      uint64_t *needed);
int pr_decode_supported_vpd_pages(const uint8_t *data, uint32_t length,
                                  struct pr_vpd_page *out, uint64_t *needed);
int pr_decode_unit_serial_number(const uint8_t *data, uint32_t length,
                                 struct pr_vpd_page *out, uint64_t *needed);
int pr_decode_device_identification(const uint8_t *data, uint32_t length,
                                    struct pr_designator *designators,
                                    uint32_t max_designators, struct pr_vpd_page *out,
                                    uint64_t *needed);
/* pr_ops.c: INQUIRY with ALLOCATION LENGTH min(capacity, 65535), then the decoder. */
int pr_inquiry(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
               uint32_t timeout_ms, struct pr_inquiry *out, struct pr_result *result);
int pr_supported_vpd_pages(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                           uint32_t timeout_ms, struct pr_vpd_page *out,
                           struct pr_result *result);
int pr_unit_serial_number(const struct pr_device *device, uint8_t *buffer, uint32_t capacity,
                          uint32_t timeout_ms, struct pr_vpd_page *out,
                          struct pr_result *result);
int pr_device_identification(const struct pr_device *device, uint8_t *buffer,
                             uint32_t capacity, uint32_t timeout_ms,
                             struct pr_designator *designators, uint32_t max_designators,
                             struct pr_vpd_page *out, struct pr_result *result);
/* --- end of device identity */

/* --- Windows identity without pass-through: IOCTL_STORAGE_QUERY_PROPERTY
 * (ntddstor.h), for identify() where the stack refuses SCSI pass-through.
 * The descriptors come from the port or miniport driver and are decoded as
 * untrusted input: every offset and size is checked against the bytes that
 * arrived and the descriptor's own Size, nothing outside them is read, and
 * *needed is Size (PR_ERR_SHORT: query again with that much room). */
#define PR_WIN_STORAGE_DEVICE_PROPERTY 0     /* StorageDeviceProperty */
#define PR_WIN_STORAGE_DEVICE_ID_PROPERTY 2  /* StorageDeviceIdProperty */
#define PR_WIN_PROPERTY_ALLOCATION 1024      /* the first output buffer */

/* STORAGE_DEVICE_DESCRIPTOR.  Each string is at its offset in the caller's
 * buffer, `length` bytes before its NUL; offset 0: the driver gave none. */
struct pr_win_device_descriptor {
    uint32_t size;                  /* Size: the whole descriptor */
    uint32_t bus_type;              /* STORAGE_BUS_TYPE */
    uint32_t vendor_offset;
    uint32_t vendor_length;
    uint32_t product_offset;
    uint32_t product_length;
    uint32_t revision_offset;
    uint32_t revision_length;
    uint32_t serial_offset;
    uint32_t serial_length;
    uint8_t device_type;            /* the INQUIRY PERIPHERAL DEVICE TYPE */
    uint8_t device_type_modifier;
    uint8_t removable;              /* RemovableMedia */
    uint8_t command_queueing;
};

/* pr_winbuf.c (pure, every OS).  A descriptor shorter than its fixed part,
 * a DeviceType beyond 5 bits, a string offset inside the fixed part or past
 * Size, or a string without its NUL before Size is PR_ERR_MALFORMED. */
int pr_win_decode_device_descriptor(const uint8_t *data, uint32_t length,
                                    struct pr_win_device_descriptor *out, uint64_t *needed);
/* STORAGE_DEVICE_ID_DESCRIPTOR -> the VPD page 83h its identifiers were
 * copied from, for pr_decode_device_identification: each STORAGE_IDENTIFIER
 * becomes a designation descriptor with its CodeSet, Association, Type and
 * Identifier (PROTOCOL IDENTIFIER and PIV are not carried: 0).  An
 * identifier that overruns Size or the next one, a NextOffset that does not
 * move past it, an IdentifierSize beyond 255 or a field beyond its SPC
 * width is PR_ERR_MALFORMED.  capacity >= length always suffices. */
int pr_win_device_id_page(const uint8_t *data, uint32_t length, uint8_t *page,
                          uint32_t capacity, uint32_t *page_length, uint64_t *needed);
/* pr_windows.c (PR_ERR_UNSUPPORTED elsewhere, from pr_winbuf.c):
 * PropertyStandardQuery of property_id into buffer; result->transferred is
 * what came back (ERROR_MORE_DATA: the part that fit).  FILE_ANY_ACCESS;
 * the port driver answers from the INQUIRY data and VPD pages it read (at
 * most an INQUIRY reaches the device: no PR state, no unit attention). */
int pr_win_query_property(const struct pr_device *device, uint32_t property_id,
                          uint8_t *buffer, uint32_t capacity, struct pr_result *result);
/* 1 when identify() reads IOCTL_STORAGE_QUERY_PROPERTY instead of INQUIRY:
 * the device was opened for the storage IOCTLs (which cannot carry
 * INQUIRY), or in auto mode `result` is the standard INQUIRY that the stack
 * refused to pass through before dispatch (ERROR_INVALID_FUNCTION,
 * ERROR_NOT_SUPPORTED, ERROR_ACCESS_DENIED); else 0, always 0 off Windows. */
int pr_win_identify_by_property(const struct pr_device *device, const struct pr_result *result);
/* --- end of the Windows identity */

/* cdef-end */

/* Internal to the core (pr_ops.c), for the transports' pr_execute(): checks
 * the arguments, zeroes *result and records the CDB in it. */
int pr_execute_begin(const struct pr_device *device, const uint8_t *cdb, uint32_t cdb_len,
                     int direction, const uint8_t *data, uint32_t data_len,
                     struct pr_result *result);

#ifdef __cplusplus
}
#endif

#endif /* PR_NATIVE_H */
