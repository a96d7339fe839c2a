"""A ``chroma run`` server on loopback for the client/server benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.generate.local_server import free_port

from .common import proc_rss_mb

__all__ = ["free_port"]  # the one helper, re-exported for the benchmarks and tests


@dataclass
class ChromaServer:
    """A running server: its URL, process and how long it took to answer a heartbeat."""

    url: str
    process: subprocess.Popen[bytes]
    startup_s: float

    def memory(self) -> dict[str, float]:
        """Current and peak RSS of the server process (MiB)."""
        return proc_rss_mb(self.process.pid)


def chroma_exe() -> str:
    """The ``chroma`` command of this environment."""
    local = Path(sys.executable).with_name("chroma")
    return str(local) if local.exists() else (shutil.which("chroma") or "chroma")


@contextlib.contextmanager
def chroma_server(path: Path, timeout: float = 120.0) -> Iterator[ChromaServer]:
    """Run ``chroma run --path PATH`` on a free loopback port until the block exits."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    clock = time.perf_counter()
    log = (path.parent / "chroma-server.log").open("wb")
    process = subprocess.Popen(
        [chroma_exe(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - clock > timeout:
                raise RuntimeError(f"chroma run did not answer within {timeout:.0f} s")
            time.sleep(0.2)
        yield ChromaServer(url, process, time.perf_counter() - clock)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
