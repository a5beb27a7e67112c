#!/bin/busybox sh
# PID 1 of the prlab guest (runs from the initramfs built by prlab.py).
#
#  1. loads the modules, mounts the results share (9p tag "prlabout") on /out
#     and reads the job the host left in /out/.prlab/ (job.sh, env.sh, cmd);
#  2. builds the root for the command: host / over 9p (read-only, tag
#     "hostroot") + a tmpfs overlay, on /newroot;
#  3. configures LIO through configfs (dbroot, one LU, the fabric's target side);
#  4. runs attach.sh in the chroot (initiator side, device mapping, info.json);
#  5. runs the command in the chroot, stdout/stderr on ttyS1 (the host streams it);
#  6. writes /out/.prlab/status and dmesg.txt, then powers off, whatever happened.
#
# The console (ttyS0, also this script's output) is the host's console.log.
# A guest-side watchdog powers off at PRLAB_GUEST_DEADLINE (uptime seconds).

/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run /out /lower /upper /newroot
. /prlab/common.sh

PHASE=boot
KVER=$(uname -r)
OUT_MOUNTED=

write_status() {  # RC PHASE MESSAGE
    [ -n "$OUT_MOUNTED" ] || return 0
    printf 'rc=%s\nphase=%s\nmessage=%s\nuptime=%s\n' "$1" "$2" "$3" \
        "$(cut -d' ' -f1 /proc/uptime)" > /out/.prlab/status.tmp
    mv /out/.prlab/status.tmp /out/.prlab/status
}

finish() {
    if [ -n "$OUT_MOUNTED" ]; then
        dmesg > /out/dmesg.txt 2>/dev/null
        for f in iscsid.log attach.log; do
            [ -f /newroot/run/prlab/$f ] && cp /newroot/run/prlab/$f /out/$f
        done
    fi
    # the last close of ttyS1 waits until the UART has sent everything
    exec 3>&- 2>/dev/null
    sync
    poweroff -f
    echo o > /proc/sysrq-trigger
    sleep 10
}

fail() {
    log "FAILED in $PHASE: $*"
    write_status 125 "$PHASE" "$*"
    finish
}

# load_group GROUP: insmod the modules listed (in dependency order) by the
# initramfs builder in /prlab/modules/GROUP ("name path" lines).
load_group() {
    [ -f "/prlab/modules/$1" ] || return 0
    while read -r _name _path; do
        [ -d "/sys/module/$_name" ] && continue
        insmod "/lib/modules/$KVER/$_path" || return 1
    done < "/prlab/modules/$1"
}

watchdog() {  # runs in the background; powers off at uptime $1
    while _left=$(( $1 - $(uptime_s) )) && [ "$_left" -gt 0 ]; do
        sleep "$_left"
    done
    _phase=$(cat /run/prlab-phase 2>/dev/null)
    log "guest watchdog: deadline reached during $_phase"
    echo 1 > /proc/sys/kernel/sysrq
    echo w > /proc/sysrq-trigger        # blocked tasks -> dmesg
    ps > /out/ps.txt 2>&1
    if [ "$_phase" = command ]; then
        write_status 124 command "timed out (guest watchdog)"
    else
        write_status 125 "$_phase" "timed out (guest watchdog)"
    fi
    finish
}

set_phase() {
    PHASE=$1
    echo "$1" > /run/prlab-phase
}

# ---------------------------------------------------------------- boot ----
load_group base || fail "loading base modules"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none prlabout /out \
    || fail "mounting the results share"
OUT_MOUNTED=1
[ -f /out/.prlab/job.sh ] || fail "no /out/.prlab/job.sh"
. /out/.prlab/job.sh
[ "$PRLAB_VERBOSE" = 1 ] && set -x

watchdog "$PRLAB_GUEST_DEADLINE" &
set_phase boot
log "kernel $KVER, fabric $PRLAB_FABRIC, initiators: $PRLAB_LABELS"

load_group "$PRLAB_FABRIC" || fail "loading $PRLAB_FABRIC modules"
if [ -n "$PRLAB_LATENCY" ]; then load_group netem || fail "loading sch_netem"; fi

# ---------------------------------------------------------- new root ----
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower \
    || fail "mounting the host root"
mount -t tmpfs -o mode=0755 upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot \
    || fail "mounting the overlay"
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t configfs configfs /sys/kernel/config
mount -t configfs configfs $R/sys/kernel/config
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t tmpfs -o mode=0755 run $R/run
mkdir -p "$R$PRLAB_OUT" && mount --bind /out "$R$PRLAB_OUT" || fail "binding the results share"
for _share in $PRLAB_SHARES; do
    _tag=${_share%%=*}; _path=${_share#*=}
    mkdir -p "$R$_path" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none \
        "$_tag" "$R$_path" || fail "mounting share $_path"
done
mkdir -p "$R/lib/modules/$KVER" && mount --bind "/lib/modules/$KVER" "$R/lib/modules/$KVER"
mkdir -p $R/run/prlab $R/run/lock
cp /prlab/*.sh /out/.prlab/job.sh /out/.prlab/env.sh /out/.prlab/cmd $R/run/prlab/

# ------------------------------------------------------------- target ----
set_phase target
# db_root first: APTPL files go to <dbroot>/pr/aptpl_<serial>; without the
# directory every REGISTER ends in CHECK CONDITION 02/08/00.  The kernel
# resolves the path in the initramfs root (kworkers/kthreads live there).
mkdir -p /var/target/pr
echo /var/target > $CFG/dbroot || fail "setting dbroot"
mkdir -p $R/var/target && mount --bind /var/target $R/var/target

case $PRLAB_BACKSTORE in
    rd)
        DEV=$CFG/core/rd_mcp_0/$PRLAB_DEV_NAME
        mkdir -p $DEV || fail "mkdir $DEV"
        echo "rd_pages=$PRLAB_RD_PAGES" > $DEV/control || fail "rd_mcp control"
        ;;
    nullb)
        load_group iblock || fail "loading target_core_iblock"
        _nb=$(sed -n 's/^null_blk //p' /prlab/modules/nullb)
        insmod "/lib/modules/$KVER/$_nb" $PRLAB_NULLB_ARGS || fail "insmod null_blk"
        wait_for 10 test -b /dev/nullb0 || fail "no /dev/nullb0"
        DEV=$CFG/core/iblock_0/$PRLAB_DEV_NAME
        mkdir -p $DEV || fail "mkdir $DEV"
        echo "udev_path=/dev/nullb0" > $DEV/control || fail "iblock control"
        ;;
    *) fail "unknown backstore $PRLAB_BACKSTORE" ;;
esac
echo 1 > $DEV/enable || fail "enabling the LU"
# before the first LUN link (EINVAL afterwards)
echo "$PRLAB_SERIAL" > $DEV/wwn/vpd_unit_serial || fail "vpd_unit_serial"
# TPGS=0: keeps scsi_dh_alua (and its RTPG, which eats UAs) away
echo 0 > $DEV/alua/default_tg_pt_gp/alua_access_type || fail "alua_access_type"
# Device attributes: most (emulate_tas, ...) are refused once the LU is exported.
for _a in $PRLAB_ATTRS; do
    echo "${_a#*=}" > "$DEV/attrib/${_a%%=*}" || fail "setting attrib $_a"
done
export DEV

# Extra LUs (LabConfig.extra_lus): 1 MiB ramdisks prlab1, prlab2, ... with
# their own serial, exported to every initiator as LUN 1, 2, ... (setup-*.sh).
EXTRA_DEVS=
_k=1
while [ "$_k" -le "${PRLAB_EXTRA_LUS:-0}" ]; do
    _x=$CFG/core/rd_mcp_0/prlab$_k
    mkdir -p "$_x" && echo "rd_pages=256" > "$_x/control" && echo 1 > "$_x/enable" &&
        echo "$PRLAB_SERIAL-$_k" > "$_x/wwn/vpd_unit_serial" &&
        echo 0 > "$_x/alua/default_tg_pt_gp/alua_access_type" || fail "extra LU $_k"
    EXTRA_DEVS="$EXTRA_DEVS $_x"
    _k=$((_k + 1))
done
export EXTRA_DEVS

. /prlab/setup-$PRLAB_FABRIC.sh
target_setup || fail "target_setup ($PRLAB_FABRIC)"

# ---------------------------------------------------------- initiator ----
set_phase attach
chroot $R /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PRLAB_DEV="$DEV" /bin/sh /run/prlab/attach.sh > $R/run/prlab/attach.log 2>&1
_rc=$?
[ "$PRLAB_VERBOSE" = 1 ] && cat $R/run/prlab/attach.log
[ $_rc = 0 ] || { tail -n 30 $R/run/prlab/attach.log; fail "attach.sh exit $_rc (see attach.log)"; }

# ------------------------------------------------------------ command ----
set_phase command
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1                       # keep the port (and its termios) open
log "running the command"
chroot $R /usr/bin/env -i /bin/sh -c '. /run/prlab/env.sh; . /run/prlab/lab.env
    cd "$PRLAB_CWD" || exit 125
    exec /bin/sh -c "$(cat /run/prlab/cmd)"' < /dev/null > /dev/ttyS1 2>&1 &
_cmd=$!
wait $_cmd
_rc=$?
set_phase done
log "command exit status $_rc"
write_status "$_rc" command ""
finish
