# shellcheck shell=sh
# Helpers shared by the prlab guest scripts.  Sourced both by /init (busybox
# ash, in the initramfs) and by attach.sh (the host's /bin/sh, in the chroot),
# so keep it POSIX.

CFG=/sys/kernel/config/target

log() {
    read -r _up _ < /proc/uptime
    echo "prlab[$_up]: $*"
}

# var NAME: print the value of the variable whose name is NAME.
var() {
    eval "printf '%s' \"\${$1-}\""
}

# Guest uptime in whole seconds.
uptime_s() {
    read -r _up _ < /proc/uptime
    echo "${_up%%.*}"
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds.
wait_for() {
    _limit=$(( $(uptime_s) + $1 )); shift
    until "$@"; do
        [ "$(uptime_s)" -ge "$_limit" ] && return 1
        sleep 0.1
    done
}

# first_entry DIR: name of the first entry of DIR (shell builtins only: every
# exec of a host binary over 9p costs milliseconds under TCG)
first_entry() {
    for _e in "$1"/*; do
        [ -e "$_e" ] && { echo "${_e##*/}"; return 0; }
    done
    return 1
}

# hctl_devs H:C:T:L -> sets SG and SD (device names without /dev/).
hctl_devs() {
    SG= SD=
    _d=/sys/class/scsi_device/$1/device
    SG=$(first_entry "$_d/scsi_generic") && SD=$(first_entry "$_d/block")
}
