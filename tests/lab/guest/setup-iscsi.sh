# shellcheck shell=sh
# Fabric "iscsi": LIO iSCSI target on PRLAB_ISCSI_PORTAL (127.0.0.1:3260), one
# ACL per initiator, and open-iscsi (the host's iscsid/iscsiadm, run in the
# chroot) logging in once per initiator through one iface each
# (iface.initiatorname = PRLAB_NAME_<X>).
#
# SendTargets discovery with all the -I options creates one node record per
# iface; "iscsiadm -m node -o new" per iface would leave one record only.

# initramfs side (busybox); DEV = configfs dir of the LU, EXTRA_DEVS those
# of the extra LUs (LUN 1, 2, ...)
target_setup() {
    ip link set lo up || return 1
    _tp=$CFG/iscsi/$PRLAB_ISCSI_TARGET/tpgt_1
    mkdir -p "$_tp/lun/lun_0" || return 1
    ln -s "$DEV" "$_tp/lun/lun_0/$PRLAB_DEV_NAME" || return 1
    _k=0
    for _x in $EXTRA_DEVS; do
        _k=$((_k + 1))
        mkdir "$_tp/lun/lun_$_k" && ln -s "$_x" "$_tp/lun/lun_$_k/${_x##*/}" || return 1
    done
    mkdir "$_tp/np/$PRLAB_ISCSI_PORTAL" || return 1
    echo 0 > "$_tp/attrib/authentication"
    for X in $PRLAB_LABELS; do
        _acl=$_tp/acls/$(var "PRLAB_NAME_$X")
        mkdir -p "$_acl/lun_0" || return 1
        ln -s "$_tp/lun/lun_0" "$_acl/lun_0/lun_0" || return 1
        _k=0
        for _x in $EXTRA_DEVS; do
            _k=$((_k + 1))
            mkdir "$_acl/lun_$_k" && ln -s "$_tp/lun/lun_$_k" "$_acl/lun_$_k/lun_$_k" || return 1
        done
    done
    echo 1 > "$_tp/enable"
}

iscsid_up() {
    grep -q ISCSIADM_ABSTRACT_NAMESPACE /proc/net/unix
}

# chroot side
initiator_setup() {
    # host state must not leak in (this is the tmpfs overlay, not the host)
    rm -rf /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces
    mkdir -p /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces /run/lock/iscsi
    if [ ! -s /etc/iscsi/initiatorname.iscsi ]; then
        echo "InitiatorName=iqn.2003-01.org.linux-iscsi.prlab:default" \
            > /etc/iscsi/initiatorname.iscsi
    fi
    iscsid -f > /run/prlab/iscsid.log 2>&1 &
    wait_for 20 iscsid_up || { echo "iscsid did not start"; return 1; }
    log "iscsid up"
    _ifs=
    # iface records as "iscsiadm -m iface -I prlabX -o new" + "-o update -n
    # iface.initiatorname" write them (80 iscsiadm runs cost ~5 s for 40 initiators)
    for X in $PRLAB_LABELS; do
        printf '%s\n' "# BEGIN RECORD" "iface.iscsi_ifacename = prlab$X" \
            "iface.transport_name = tcp" "iface.initiatorname = $(var "PRLAB_NAME_$X")" \
            "# END RECORD" > "/etc/iscsi/ifaces/prlab$X"
        _ifs="$_ifs -I prlab$X"
    done
    # shellcheck disable=SC2086
    iscsiadm -m discovery -t st -p "$PRLAB_ISCSI_PORTAL" $_ifs > /dev/null || return 1
    log "discovery done"
    iscsiadm -m node -T "$PRLAB_ISCSI_TARGET" -p "$PRLAB_ISCSI_PORTAL" --login || return 1
}

# initiator_hctl X: H:C:T:L of initiator X's SCSI device (found through the
# iSCSI session whose initiatorname is PRLAB_NAME_<X>)
initiator_hctl() {
    _name=$(var "PRLAB_NAME_$1")
    for _s in /sys/class/iscsi_session/session*; do
        read -r _n < "$_s/initiatorname" 2>/dev/null && [ "$_n" = "$_name" ] || continue
        for _d in "$_s"/device/target*/*:*:*:0; do  # LUN 0: the shared LU
            [ -d "$_d/scsi_generic" ] || continue
            echo "${_d##*/}"
            return 0
        done
    done
    return 1
}
