"""One serving instance per spool: an exclusive lock held for the life of ``relay serve``.

Crash recovery releases every lease in the spool, which is only right when no other relay is
using it. Two instances on one spool (a second ``relay serve`` started by mistake, perhaps on
another port) would otherwise take each other's messages and deliver them twice. The lock is
``flock`` on ``SPOOL/serve.lock``: the kernel drops it when the holder dies, so a ``kill -9``
never leaves a stale lock behind. Worker processes inherit it across ``fork``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from relay.errors import SpoolError

LOCK_NAME = "serve.lock"


class ServeLock:
    def __init__(self, spool: Path) -> None:
        self._path = spool / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SpoolError(f"cannot open {self._path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SpoolError(
                f"another relay (pid {holder}) is already serving the spool {self._path.parent}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
