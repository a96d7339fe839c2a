"""A real ``chroma run`` server on loopback, for the integration tests (which kill, freeze and
restart it on the same folder and port) and the client/server benchmarks."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from rag.generate.local_server import free_port


def chroma_exe() -> str:
    """The ``chroma`` command of this environment."""
    local = Path(sys.executable).with_name("chroma")
    return str(local) if local.exists() else (shutil.which("chroma") or "chroma")


class ChromaServer:
    """A ``chroma run`` process over ``path`` on a fixed loopback port."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = path.parent / f"chroma-{self.port}.log"
        self.startup_s = 0.0

    def start(self, timeout_s: float = 60) -> None:
        """Start the server and wait until it answers its heartbeat (``RuntimeError`` with the
        server's output if it does not)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        clock = time.perf_counter()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        command = [chroma_exe(), "run", "--path", str(self.path), "--host", "127.0.0.1"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    self.startup_s = time.perf_counter() - clock
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        self.kill()
        raise RuntimeError(f"chroma run did not start on port {self.port}:\n{tail}")

    def kill(self) -> None:
        """SIGKILL the server (a crash) and wait for it to be gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung server)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Terminate gracefully (kill if it does not exit)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def running(path: Path, timeout_s: float = 120.0) -> Iterator[ChromaServer]:
    """A started server over ``path`` until the block exits."""
    server = ChromaServer(path)
    server.start(timeout_s)
    try:
        yield server
    finally:
        server.stop()
