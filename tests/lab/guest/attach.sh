# shellcheck shell=sh
# Runs in the chroot (host userland) after the target side is configured:
# initiator side of the fabric, then maps every initiator X to its devices via
# sysfs, writes $PRLAB_OUT/lab.env (X_SG=... exports) and $PRLAB_OUT/info.json,
# drains pending unit attentions and adds the optional netem latency.
# PRLAB_DEV (configfs dir of the LU) comes from /init.

. /run/prlab/common.sh
. /run/prlab/job.sh
. "/run/prlab/setup-$PRLAB_FABRIC.sh"
[ "$PRLAB_VERBOSE" = 1 ] && set -x

log "initiator setup ($PRLAB_FABRIC)"
initiator_setup || { log "initiator_setup failed"; exit 1; }
log "waiting for the devices"

# all_ready: every initiator has its sg and sd device, and sd_probe (which
# runs asynchronously and includes the partition scan, i.e. READs on that
# nexus) has printed "[sdX] Attached SCSI disk".  Sets X_HCTL, X_SG, X_SD,
# and for each extra LU k (LUN k, same H:C:T) X_LUk_HCTL, X_LUk_SG, X_LUk_SD.
all_ready() {
    _dmesg=$(dmesg)
    for X in $PRLAB_LABELS; do
        if [ -z "$(var "${X}_SD")" ]; then
            HCTL=$(initiator_hctl "$X") && hctl_devs "$HCTL" || return 1
            case $_dmesg in
                *"[$SD] Attached SCSI disk"*) ;;
                *) return 1 ;;
            esac
            eval "${X}_HCTL=$HCTL ${X}_SG=$SG ${X}_SD=$SD"
        fi
        _k=1
        while [ "$_k" -le "${PRLAB_EXTRA_LUS:-0}" ]; do
            if [ -z "$(var "${X}_LU${_k}_SD")" ]; then
                _hctl=$(var "${X}_HCTL"); _hctl=${_hctl%:*}:$_k
                hctl_devs "$_hctl" || return 1
                case $_dmesg in
                    *"[$SD] Attached SCSI disk"*) ;;
                    *) return 1 ;;
                esac
                eval "${X}_LU${_k}_HCTL=$_hctl ${X}_LU${_k}_SG=$SG ${X}_LU${_k}_SD=$SD"
            fi
            _k=$((_k + 1))
        done
    done
}
wait_for 120 all_ready || {
    for X in $PRLAB_LABELS; do
        [ -n "$(var "${X}_SD")" ] || log "initiator $X: no device (hctl=$HCTL sg=$SG sd=$SD)"
    done
    exit 1
}
for X in $PRLAB_LABELS; do
    log "$X: $(var "PRLAB_NAME_$X") -> $(var "${X}_HCTL") /dev/$(var "${X}_SG") /dev/$(var "${X}_SD")"
done

INFO=$PRLAB_OUT/info.json
ENV=/run/prlab/lab.env
{
    echo "export PRLAB_IN_GUEST=1"
    echo "export PRLAB_FABRIC='$PRLAB_FABRIC'"
    echo "export PRLAB_DEV='$PRLAB_DEV'"
    echo "export PRLAB_INFO='$INFO'"
    echo "export PRLAB_OUT='$PRLAB_OUT'"
    echo "export PRLAB_CWD='$PRLAB_CWD'"
    echo "export PRLAB_DBROOT=/var/target"
    echo "export PRLAB_SERIAL='$PRLAB_SERIAL'"
    echo "export PRLAB_INITIATORS='$PRLAB_LABELS'"
    [ "$PRLAB_FABRIC" = iscsi ] && echo "export PRLAB_TARGET='$PRLAB_ISCSI_TARGET'"
    for X in $PRLAB_LABELS; do
        echo "export ${X}_SG=/dev/$(var "${X}_SG") ${X}_SD=/dev/$(var "${X}_SD")" \
             "${X}_NAME='$(var "PRLAB_NAME_$X")' ${X}_HCTL=$(var "${X}_HCTL")"
        _k=1
        while [ "$_k" -le "${PRLAB_EXTRA_LUS:-0}" ]; do
            echo "export ${X}_LU${_k}_SG=/dev/$(var "${X}_LU${_k}_SG")" \
                 "${X}_LU${_k}_SD=/dev/$(var "${X}_LU${_k}_SD")"
            _k=$((_k + 1))
        done
    done
} > "$ENV"

{
    echo "{"
    echo "  \"fabric\": \"$PRLAB_FABRIC\","
    echo "  \"kernel\": \"$(uname -r)\","
    echo "  \"device\": \"$PRLAB_DEV\","
    echo "  \"serial\": \"$PRLAB_SERIAL\","
    echo "  \"dbroot\": \"/var/target\","
    echo "  \"backstore\": \"$PRLAB_BACKSTORE\","
    echo "  \"target\": \"${PRLAB_ISCSI_TARGET:-}\","
    echo "  \"latency\": \"${PRLAB_LATENCY:-}\","
    echo "  \"out\": \"$PRLAB_OUT\","
    echo "  \"initiators\": ["
    _sep=
    for X in $PRLAB_LABELS; do
        if [ "$PRLAB_FABRIC" = loop ]; then _tgt=$(var "PRLAB_WWN_$X"); else _tgt=$PRLAB_ISCSI_TARGET; fi
        printf '%s    {"label": "%s", "name": "%s", "sg": "/dev/%s", "sd": "/dev/%s", "hctl": "%s", "target": "%s"}' \
            "$_sep" "$X" "$(var "PRLAB_NAME_$X")" "$(var "${X}_SG")" "$(var "${X}_SD")" \
            "$(var "${X}_HCTL")" "$_tgt"
        _sep=",
"
    done
    echo
    echo "  ],"
    echo "  \"extra_lus\": ["
    _k=1
    while [ "$_k" -le "${PRLAB_EXTRA_LUS:-0}" ]; do
        [ "$_k" -gt 1 ] && echo "    ,"
        printf '    {"lun": %s, "device": "%s", "serial": "%s", "initiators": [' \
            "$_k" "$CFG/core/rd_mcp_0/prlab$_k" "$PRLAB_SERIAL-$_k"
        _sep=
        for X in $PRLAB_LABELS; do
            printf '%s\n      {"label": "%s", "sg": "/dev/%s", "sd": "/dev/%s", "hctl": "%s"}' \
                "$_sep" "$X" "$(var "${X}_LU${_k}_SG")" "$(var "${X}_LU${_k}_SD")" \
                "$(var "${X}_LU${_k}_HCTL")"
            _sep=,
        done
        echo "]}"
        _k=$((_k + 1))
    done
    echo "  ]"
    echo "}"
} > "$INFO.tmp"
mv "$INFO.tmp" "$INFO"
cp "$ENV" "$PRLAB_OUT/lab.env"

log "draining unit attentions"
# Fresh nexuses may carry unit attentions: TUR until GOOD so that the command
# starts from a clean state.  sg_turs -n N sends N TURs and stops at the first
# error, so retry a few times.
. "$ENV"
for X in $PRLAB_LABELS; do
    _k=0
    while [ "$_k" -le "${PRLAB_EXTRA_LUS:-0}" ]; do
        if [ "$_k" = 0 ]; then _sg=$(var "${X}_SG"); else _sg=$(var "${X}_LU${_k}_SG"); fi
        _n=0
        until sg_turs "$_sg" > /dev/null 2>&1; do
            _n=$((_n + 1))
            log "$X: unit attention drained ($_sg)"
            [ $_n -ge 10 ] && { log "$X: $_sg never reached GOOD"; exit 1; }
        done
        _k=$((_k + 1))
    done
done

if [ -n "$PRLAB_LATENCY" ]; then
    tc qdisc add dev lo root netem delay "$PRLAB_LATENCY" || exit 1
fi
log "attach done"
