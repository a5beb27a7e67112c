"""The lab harness's backstore settings (tests/lab/prlab.py), without a boot:
what each ``backstore`` value makes the guest load, and what it refuses."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from . import prlab


def _job(tmp_path: Path, backstore: str) -> dict[str, str]:
    """The job.sh variables the guest's /init reads, for ``backstore``."""
    config = prlab.LabConfig(backstore=backstore)
    config.validate()
    prlab._write_job(config, tmp_path, tmp_path, "true", 100, False)
    lines = (tmp_path / "job.sh").read_text().splitlines()
    return {k: shlex.split(v)[0] if v else "" for k, v in (ln.split("=", 1) for ln in lines)}


def test_ramdisk_loads_no_null_blk(tmp_path: Path) -> None:
    job = _job(tmp_path, "rd")
    assert (job["PRLAB_BACKSTORE"], job["PRLAB_NULLB_ARGS"]) == ("rd", "")


def test_null_blk_with_a_delay(tmp_path: Path) -> None:
    job = _job(tmp_path, "nullb:1000")
    assert job["PRLAB_BACKSTORE"] == "nullb"
    assert job["PRLAB_NULLB_ARGS"] == (
        "nr_devices=1 queue_mode=2 irqmode=2 completion_nsec=1000000000 gb=1 bs=512"
    )


def test_null_blk_with_a_delay_and_one_tag(tmp_path: Path) -> None:
    job = _job(tmp_path, "nullb:250:1")
    assert job["PRLAB_BACKSTORE"] == "nullb"
    assert job["PRLAB_NULLB_ARGS"] == (
        "nr_devices=1 queue_mode=2 irqmode=2 completion_nsec=250000000 gb=1 bs=512 "
        "submit_queues=1 hw_queue_depth=1"
    )


@pytest.mark.parametrize("backstore", ["nullb", "nullb:", "nullb:1000:0", "nullb:1:2:3", "file"])
def test_bad_backstores_are_refused(backstore: str) -> None:
    with pytest.raises(ValueError, match="backstore must be"):
        prlab.LabConfig(backstore=backstore).validate()
