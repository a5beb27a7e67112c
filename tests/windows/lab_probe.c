/*
 * lab_probe.c - the Windows pass-through transport against a real SCSI
 * target: built with mingw-w64, run under Wine inside the lab guest, where
 * Wine turns IOCTL_SCSI_PASS_THROUGH_DIRECT on a raw drive (a dosdevices
 * "x::" link to /dev/sgN) into Linux SG_IO on the LIO initiator.
 *
 * usage: lab_probe.exe \\.\X: KEY    (KEY in hex)
 * Registers KEY (and leaves it registered, for a peer initiator to see),
 * reads it back, checks the sense data of a command LIO rejects, and that
 * the default (auto) mode sends a PR OUT the storage IOCTL could carry
 * through pass-through too.
 * Prints one line per check and "N passed, M failed"; exits 1 on failure.
 */
#define WIN32_LEAN_AND_MEAN

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "pr_native.h"

#define TIMEOUT_MS 20000
#define BUFFER_LEN 8192

static unsigned passed;
static unsigned failed;

static void check(int ok, const char *what, int rc)
{
    printf("%s %s (rc %d)\n", ok ? "ok  " : "FAIL", what, rc);
    if (ok)
        passed++;
    else
        failed++;
}

static uint8_t buffer[BUFFER_LEN];
static uint64_t keys[BUFFER_LEN / 8];
static struct pr_registrant registrants[BUFFER_LEN / 24];

static int register_key(const struct pr_device *device, uint64_t key, uint64_t new_key,
                        struct pr_result *result)
{
    struct pr_out_request request;

    memset(&request, 0, sizeof(request));
    request.service_action = 0; /* REGISTER */
    request.key = key;
    request.service_action_key = new_key;
    return pr_out(device, &request, buffer, BUFFER_LEN, TIMEOUT_MS, result);
}

int main(int argc, char **argv)
{
    struct pr_device device;
    struct pr_result result;
    struct pr_keys listed;
    struct pr_full_status status;
    struct pr_out_request request;
    struct pr_sense sense;
    uint64_t key;
    uint32_t i;
    int found = 0;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s \\\\.\\X: KEY\n", argv[0]);
        return 2;
    }
    key = strtoull(argv[2], NULL, 16);

    rc = pr_open(argv[1], PR_OPEN_FORCE_PASS_THROUGH, &device, &result);
    check(rc == PR_OK, "open the raw drive for SCSI pass-through", rc);
    if (rc != PR_OK) {
        printf("os_error %d\n", (int)result.os_error);
        printf("%u passed, %u failed\n", passed, failed);
        return 1;
    }

    rc = register_key(&device, 0, key, &result);
    check(rc == PR_OK && result.transport == PR_TRANSPORT_PASS_THROUGH,
          "REGISTER through pass-through", rc);

    rc = pr_read_keys(&device, buffer, BUFFER_LEN, TIMEOUT_MS, keys, BUFFER_LEN / 8, &listed,
                      &result);
    for (i = 0; rc == PR_OK && i < listed.count; i++) {
        printf("     key 0x%llx\n", (unsigned long long)keys[i]);
        found |= keys[i] == key;
    }
    check(rc == PR_OK && found, "READ KEYS lists the new key", rc);

    rc = pr_read_full_status(&device, buffer, BUFFER_LEN, TIMEOUT_MS, registrants,
                             BUFFER_LEN / 24, &status, &result);
    check(rc == PR_OK && status.count == listed.count &&
              registrants[0].transport_id_length >= 24,
          "READ FULL STATUS (refused by the storage IOCTLs) with TransportIDs", rc);

    memset(&request, 0, sizeof(request));
    request.service_action = 8; /* REPLACE LOST RESERVATION: LIO has none */
    request.key = key;
    request.type = 3;
    rc = pr_out(&device, &request, buffer, BUFFER_LEN, TIMEOUT_MS, &result);
    pr_decode_sense(result.sense, result.sense_len, &sense);
    printf("     status 0x%02x, sense %02x/%02x/%02x\n", result.scsi_status, sense.sense_key,
           sense.asc, sense.ascq);
    check(rc == PR_ERR_STATUS && result.scsi_status == 0x02 && sense.sense_key == 0x5 &&
              sense.asc == 0x24,
          "CHECK CONDITION with real sense data (ILLEGAL REQUEST 24h/00h)", rc);

    pr_close(&device);

    rc = pr_open(argv[1], 0, &device, &result);
    check(rc == PR_OK && device.transport == PR_TRANSPORT_AUTO, "open the raw drive, auto", rc);
    if (rc == PR_OK) {
        memset(&request, 0, sizeof(request));
        request.service_action = 6; /* REGISTER AND IGNORE EXISTING KEY, to the same key */
        request.service_action_key = key;
        rc = pr_out(&device, &request, buffer, BUFFER_LEN, TIMEOUT_MS, &result);
        check(rc == PR_OK && result.transport == PR_TRANSPORT_PASS_THROUGH,
              "auto REGISTER AND IGNORE EXISTING KEY through pass-through", rc);
        rc = pr_read_keys(&device, buffer, BUFFER_LEN, TIMEOUT_MS, keys, BUFFER_LEN / 8,
                          &listed, &result);
        check(rc == PR_OK && listed.count > 0 && result.transport == PR_TRANSPORT_PASS_THROUGH,
              "auto READ KEYS through pass-through", rc);
        pr_close(&device);
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
