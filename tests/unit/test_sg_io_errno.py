"""An SG_IO that fails on a node without sg's asynchronous interface
(/dev/sdX, /dev/stN): EFAULT may come after the command ran (the sense
bytes, the data or the header copied back: scsi_complete_sghdr_rq and
put_sg_io_hdr, drivers/scsi/scsi_ioctl.c), so a PR OUT that gets it may have
reached the device; the errors that precede the queueing do not.  The C core
is linked with its ioctl() replaced (sg_io_errno.c)."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from .c_seam import build, needs_linux_core

pytestmark = needs_linux_core


@pytest.fixture
def driver(need_tool: Callable[[str], str], tmp_path: Path) -> Path:
    return build(need_tool("gcc"), tmp_path, "sg_io_errno", "ioctl")


@pytest.mark.parametrize(
    ("code", "dispatched"),
    [
        (errno.EFAULT, 1),  # may follow the command: OutcomeUnknown for a PR OUT
        (errno.EINVAL, 0),
        (errno.ENOMEM, 0),
        (errno.EPERM, 0),
        (errno.EINTR, 0),  # st's mutex_lock_interruptible, before anything is sent
    ],
)
def test_what_an_sg_io_error_says_about_dispatch(driver: Path, code: int, dispatched: int) -> None:
    done = subprocess.run(
        [str(driver), str(code)], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.split() == ["-1", str(dispatched), str(code)]
