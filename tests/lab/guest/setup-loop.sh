# shellcheck shell=sh
# Fabric "loop": one tcm_loop WWN (= one SCSI host in the guest) per initiator,
# each with TPG 1, an I_T nexus named PRLAB_NAME_<X> and LUN 0 -> the shared LU.
#
# The nexus must exist before the LUN is linked: the link calls
# scsi_add_device() at once, and without a nexus the probe fails and is never
# retried (tcm_loop refuses rescans of explicit LUNs).
# naa. nexus names give SAS TransportIDs (the 16 hex digits are the SAS
# address; anything else silently truncates READ FULL STATUS), iqn. names
# (with an iqn. WWN) give iSCSI TransportIDs.
# Known limit: PREEMPT AND ABORT self-deadlocks LIO on tcm_loop (the PR OUT
# runs in the submission work item that core_tmr_lun_reset() flushes).

LOOP=$CFG/loopback

# initramfs side (busybox); DEV = configfs dir of the LU, EXTRA_DEVS those
# of the extra LUs (LUN 1, 2, ...)
target_setup() {
    for X in $PRLAB_LABELS; do
        _tpg=$LOOP/$(var "PRLAB_WWN_$X")/tpgt_1
        mkdir -p "$_tpg" || return 1
        var "PRLAB_NAME_$X" > "$_tpg/nexus" || return 1
        mkdir "$_tpg/lun/lun_0" || return 1
        ln -s "$DEV" "$_tpg/lun/lun_0/$PRLAB_DEV_NAME" || return 1
        _k=0
        for _x in $EXTRA_DEVS; do
            _k=$((_k + 1))
            mkdir "$_tpg/lun/lun_$_k" && ln -s "$_x" "$_tpg/lun/lun_$_k/${_x##*/}" || return 1
        done
    done
}

# chroot side: nothing to log in, the LUN link already attached the disks
initiator_setup() {
    :
}

# initiator_hctl X: H:C:T:L of initiator X's SCSI device
initiator_hctl() {
    read -r _addr < "$LOOP/$(var "PRLAB_WWN_$1")/tpgt_1/address" || return 1
    echo "$_addr:0"
}
