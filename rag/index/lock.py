"""An inter-process lock so two ingests never write the same index at once."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class IndexBusy(RuntimeError):
    """Another process is writing this index."""


@contextmanager
def index_lock(folder: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock`` (released when the process dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexBusy(f"another ingest is writing {folder}; try again when it finishes") from exc
        yield
    finally:
        os.close(fd)
