"""Standard output whose reader may go away (``pr-native read-keys ... | head``).

Once the pipe's reader has closed it, further output is dropped instead of
raising ``BrokenPipeError``: the command goes on and exits with its own
status (a PR OUT that ran exits 0, not with a traceback that the exit-status
table would read as "nothing was sent").  Long-running commands (``watch``)
ask ``reader_gone()`` and stop.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ._record import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, TextIO


class _Guard:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self.reader_gone = True
        # What is still buffered, and the interpreter's flush at exit, go to
        # /dev/null instead of raising again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded() -> Iterator[None]:
    """sys.stdout, guarded, for the duration of a command line's main()."""
    original = sys.stdout
    if isinstance(original, _Guard):
        yield
        return
    sys.stdout = _Guard(original)
    try:
        yield
    finally:
        sys.stdout = original


def reader_gone() -> bool:
    """True once the reader of the guarded standard output has gone."""
    return bool(getattr(sys.stdout, "reader_gone", False))
