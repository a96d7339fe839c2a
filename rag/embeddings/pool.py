"""Embedding large batches in worker processes (one BLAS thread each).

A NumPy forward pass keeps one core busy; BLAS threads scale poorly on a small, shared machine
(and collapse when another process competes). Separate processes, each with its own copy of the
model and one thread, scale with the cores. Used for ingest-sized batches only: a query is
embedded in the calling process.

Workers are plain subprocesses (``python -m rag.embeddings.worker``) talking over their
stdin/stdout, not ``multiprocessing``: its ``spawn`` start method re-imports the caller's main
script, which breaks user scripts without an ``if __name__ == "__main__"`` guard, and ``fork``
copies the threads of Chroma or a web server in an unknown state.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!Q")


def default_workers() -> int:
    """Usable cores (affinity-aware), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("embedding worker closed its pipe")
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))  # our own child process


class WorkerFailed(RuntimeError):
    """An embedding worker process died or reported an error."""


class _Worker:
    def __init__(self, folder: Path, max_length: int) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rag.embeddings.worker", str(folder), str(max_length)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def encode(self, texts: list[str], batch_size: int) -> npt.NDArray[np.float32]:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            send(self.process.stdin, (texts, batch_size))
            status, payload = receive(self.process.stdout)
        except (OSError, EOFError) as exc:
            raise WorkerFailed(f"embedding worker exited (code {self.process.poll()})") from exc
        if status != "ok":
            raise WorkerFailed(f"embedding worker failed: {payload}")
        vectors: npt.NDArray[np.float32] = payload
        return vectors

    def close(self) -> None:
        if self.process.poll() is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class EncoderPool:
    """``workers`` processes, each holding the model in ``folder``; started on creation."""

    def __init__(self, folder: Path, *, max_length: int, workers: int) -> None:
        self._workers = [_Worker(folder, max_length) for _ in range(workers)]
        self._lock = threading.Lock()
        atexit.register(self.close)
        log.info("embedding with %d worker processes", workers)

    def encode(self, texts: list[str], *, batch_size: int) -> npt.NDArray[np.float32]:
        """Vectors of ``texts`` in order. Texts are sorted by length and handed out in slices
        of two batches, so workers stay evenly busy and padding stays small."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        step = batch_size * 2
        todo: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        for start in range(0, len(order), step):
            todo.put(order[start : start + step])
        results: list[tuple[list[int], npt.NDArray[np.float32]]] = []
        errors: list[BaseException] = []

        def run(worker: _Worker) -> None:
            while not errors:
                try:
                    idx = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results.append((idx, worker.encode([texts[i] for i in idx], batch_size)))
                except BaseException as exc:  # reported to the caller below
                    errors.append(exc)

        with self._lock:  # one batch job at a time per pool
            threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in self._workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            self.close()
            raise errors[0]
        dim = results[0][1].shape[1] if results else 0
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for idx, part in results:
            out[idx] = part
        return out

    def close(self) -> None:
        """Stop the workers."""
        for worker in self._workers:
            worker.close()
