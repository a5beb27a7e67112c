"""A stand-in for ``pr_execute_batch``: scripted responses, no SCSI device.

``FakeBatch`` replaces ``pr_native._batch.lib``.  The commands of every
batch take the scripted ``answers`` in order: response bytes (GOOD status,
cut to the allocation length), or a ``Failure`` (rc, status, sense).  Every
command is recorded in ``sent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from pr_native._native import ffi, lib


@dataclass(frozen=True)
class Failure:
    rc: int
    status: int = 0
    sense: bytes = b""
    os_error: int = 0


Answer = Union[bytes, Failure]


@dataclass
class FakeBatch:
    real: Any
    answers: list[Answer] = field(default_factory=list)
    sent: list[tuple[int, bytes, int]] = field(default_factory=list)
    """(fd, CDB, allocation length) of every command."""
    rounds: int = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def pr_poll(self, commands: Any, decoded: Any, count: int) -> int:
        """pr_poll: this fake batch, then the real C decoding step."""
        self.pr_execute_batch(commands, count)
        return int(self.real.pr_poll_decode(commands, decoded, count))

    def pr_execute_batch(self, commands: Any, count: int) -> int:
        self.rounds += 1
        for i in range(count):
            entry = commands[i]
            fd = entry.device.handle
            cdb = bytes(entry.cdb[0 : entry.cdb_len])
            self.sent.append((fd, cdb, entry.data_len))
            answer = self.answers.pop(0)
            result = entry.result
            ffi.memmove(result.cdb, cdb, len(cdb))
            result.cdb_len = len(cdb)
            result.transport = lib.PR_TRANSPORT_SG_IO
            result.dispatched = 1
            if isinstance(answer, Failure):
                entry.rc = answer.rc
                result.scsi_status = answer.status
                result.os_error = answer.os_error
                ffi.memmove(result.sense, answer.sense, len(answer.sense))
                result.sense_len = len(answer.sense)
                continue
            n = min(len(answer), entry.data_len)
            ffi.memmove(entry.data, answer[:n], n)
            result.transferred = n
            entry.rc = lib.PR_OK
        return int(lib.PR_OK)
