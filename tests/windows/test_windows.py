"""The Windows transport (csrc/pr_windows.c), built with mingw-w64 and run under Wine.

* layout_check_user.c / layout_check_ddk.c: compile-time asserts of
  csrc/pr_ddk_layout.h and of the pass-through buffer against the SDK and DDK
  headers, for x86_64 and i686.
* pr_windows.c: warning-free with -Werror on both.
* driver.c: linked with the C core and run under Wine; it checks the real
  CreateFileW/DeviceIoControl behaviour of Wine and, through the
  DeviceIoControl seam, the exact buffers of every command on both transports,
  how many DeviceIoControl calls each command makes (auto mode sends a PR OUT
  once, through pass-through, and never through the storage IOCTL) and the
  dispatched verdict for each Win32 error.
* lab_probe.c: the pass-through transport end to end against LIO, under Wine
  inside the lab guest (Wine maps SCSI pass-through on a raw drive to SG_IO).

The Wine prefix is kept in ``$XDG_CACHE_HOME/pr_native-wine`` (override with
``PR_NATIVE_WINEPREFIX``): creating it takes seconds, reusing it well under one.
Without the toolchain the module is skipped, except under CI=true where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent.parent / "csrc"
ARCHES = ("x86_64", "i686")
CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
LAYOUT_CFLAGS = ("-std=c11", "-Wall", "-Wextra", "-Werror")  # C11 for _Static_assert
CORE_SOURCES = (
    "pr_winbuf.c",
    "pr_cdb.c",
    "pr_decode.c",
    "pr_ops.c",
    "pr_layout.c",
    "pr_poll_fallback.c",  # pr_poll (pr_ops.c) runs pr_execute_batch
)
INSTALL_HINT = "apt-get install gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 wine64"
WINE_TIMEOUT_S = 600  # the first run creates the prefix
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


@dataclass(frozen=True)
class Toolchain:
    compilers: dict[str, str]  # arch -> cross gcc
    wine: str


def _find_wine() -> str | None:
    for name in ("wine", "wine64"):
        path = shutil.which(name)
        if path is not None:
            return path
    loader = Path("/usr/lib/wine/wine64")  # Debian's wine64 without the wrapper package
    return str(loader) if os.access(loader, os.X_OK) else None


@pytest.fixture(scope="module")
def toolchain() -> Toolchain:
    compilers = {arch: shutil.which(f"{arch}-w64-mingw32-gcc") for arch in ARCHES}
    wine = _find_wine()
    missing = [f"{arch}-w64-mingw32-gcc" for arch, cc in compilers.items() if cc is None]
    if wine is None:
        missing.append("wine")
    if missing or wine is None:
        message = f"missing {', '.join(missing)}: {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Toolchain({arch: cc for arch, cc in compilers.items() if cc is not None}, wine)


def _run(command: list[str], stdin: str | None = None) -> str:
    completed = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{' '.join(command)} exited {completed.returncode}\n{output}"
    return output


def _ddk_include(compiler: str) -> Path:
    """<mingw include>/ddk, found where the compiler finds <windows.h>."""
    deps = _run([compiler, "-M", "-x", "c", "-"], stdin="#include <windows.h>\n")
    windows_h = next(p for p in deps.replace("\\\n", " ").split() if p.endswith("/windows.h"))
    return Path(windows_h).parent / "ddk"


@pytest.mark.parametrize("arch", ARCHES)
def test_layout_check_user(toolchain: Toolchain, arch: str) -> None:
    cc = toolchain.compilers[arch]
    _run([cc, *LAYOUT_CFLAGS, f"-I{CSRC}", "-fsyntax-only", str(HERE / "layout_check_user.c")])


@pytest.mark.parametrize("arch", ARCHES)
def test_layout_check_ddk(toolchain: Toolchain, arch: str) -> None:
    cc = toolchain.compilers[arch]
    ddk = _ddk_include(cc)
    source = HERE / "layout_check_ddk.c"
    _run([cc, *LAYOUT_CFLAGS, f"-I{CSRC}", f"-I{ddk}", "-fsyntax-only", str(source)])


def _build_driver(compiler: str, exe: Path, main: str = "driver.c") -> Path:
    sources = [str(CSRC / name) for name in (*CORE_SOURCES, "pr_windows.c")]
    _run([compiler, *CFLAGS, f"-I{CSRC}", "-o", str(exe), str(HERE / main), *sources])
    return exe


def test_driver_builds_for_x86(toolchain: Toolchain, tmp_path: Path) -> None:
    """pr_windows.c and the driver are -Werror clean on 32-bit too (Wine here runs x64 only)."""
    _build_driver(toolchain.compilers["i686"], tmp_path / "driver-i686.exe")


def _wine_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    prefix = Path(os.environ.get("PR_NATIVE_WINEPREFIX") or cache / "pr_native-wine")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    env.update(
        WINEPREFIX=str(prefix),
        WINEARCH="win64",
        WINEDEBUG="-all",
        WINEDLLOVERRIDES="mscoree,mshtml=",  # no Mono or Gecko installer on first start
    )
    return env


def test_driver_under_wine(toolchain: Toolchain, tmp_path: Path) -> None:
    exe = _build_driver(toolchain.compilers["x86_64"], tmp_path / "driver.exe")
    completed = subprocess.run(
        [toolchain.wine, str(exe)],
        capture_output=True,
        text=True,
        timeout=WINE_TIMEOUT_S,
        check=False,
        cwd=tmp_path,
        env=_wine_env(),
    )
    lines = completed.stdout.splitlines()
    report = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    summary = SUMMARY.match(lines[-1]) if lines else None
    assert summary is not None, f"no summary line\n{report}"
    assert completed.returncode == 0 and summary.group(2) == "0", report
    assert int(summary.group(1)) > 0 and not any(line.startswith("FAIL") for line in lines), report


def test_pass_through_against_lio_under_wine(toolchain: Toolchain, tmp_path: Path) -> None:
    """The Windows pass-through code drives the real target: in the lab guest,
    a dosdevices link makes \\\\.\\X: the raw drive behind /dev/sgN of
    initiator A, Wine turns IOCTL_SCSI_PASS_THROUGH_DIRECT into SG_IO, and
    sg_persist on the same node sees the key the Windows code registered."""
    from lab import prlab  # the LIO lab harness (tests/lab)

    prlab.require_lab("loop")
    exe = _build_driver(toolchain.compilers["x86_64"], tmp_path / "lab_probe.exe", "lab_probe.c")
    prefix = tmp_path / "prefix"
    shutil.copytree(_wine_env()["WINEPREFIX"], prefix, symlinks=True)
    guest = (
        f"export WINEPREFIX={prefix} WINEARCH=win64 WINEDEBUG=-all; unset DISPLAY; "
        f"ln -sfn $A_SG {prefix}/dosdevices/x:: && ln -sfn /tmp {prefix}/dosdevices/x: && "
        f"{toolchain.wine} {exe} '\\\\.\\X:' abcd1234 > {tmp_path}/probe.txt; "
        f"echo probe=$?; sg_persist -n -i -k $A_SG"
    )
    result = prlab.run(guest, prlab.LabConfig(initiators=2, shares=(str(tmp_path),)))
    probe = (tmp_path / "probe.txt").read_text()
    report = f"probe:\n{probe}\nguest:\n{result.output}"
    assert result.returncode == 0 and "probe=0" in result.output, report
    summary = SUMMARY.match(probe.splitlines()[-1])
    assert summary is not None and summary.group(2) == "0", report
    assert "0xabcd1234" in result.output, report  # sg_persist, a peer initiator, agrees
