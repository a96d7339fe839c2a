"""The embedded llama.cpp server: ``python -m llama_cpp.server`` as a child process.

:class:`LocalLLMServer` starts one server on 127.0.0.1 and a free port, waits until it serves
``GET /v1/models``, and stops it (terminate, then kill) on :meth:`~LocalLLMServer.stop` and at
interpreter exit. The child also watches its parent and exits if the parent dies without cleaning
up (``kill -9``), so no orphaned 1 GB server is left behind.

:func:`ensure_local_server` gives every caller in the process one shared server per
(model, threads, context) and returns its OpenAI-compatible base URL.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Self

from .model_files import resolve_gguf

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger("rag.generate.local_server")

SERVER_EXTRA = "llama-cpp-python[server]==0.3.36"
_SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context")

# Runs llama_cpp.server's __main__ with a watchdog thread: exit when the parent process is gone.
_BOOT = """\
import os, runpy, sys, threading, time
parent = int(sys.argv.pop(1))
def _watch():
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LocalServerError(RuntimeError):
    """The local llama.cpp server cannot be started (not installed, crashed, too slow)."""


def check_server_installed() -> None:
    """Raise :class:`LocalServerError` with the pip command if ``llama-cpp-python[server]`` is missing."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LocalServerError(
            f"the local LLM needs llama-cpp-python with its server extra (missing: "
            f"{', '.join(missing)}). Install it with: pip install '{SERVER_EXTRA}' "
            "(builds from source, ~10 min), or set llm.base_url to an OpenAI-compatible endpoint"
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


_LIVE: weakref.WeakSet[LocalLLMServer] = weakref.WeakSet()


class LocalLLMServer:
    """One ``llama_cpp.server`` child process serving ``model_path``."""

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 1,
        n_ctx: int = 4096,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 120.0,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = max(1, int(threads))
        self.n_ctx = int(n_ctx)
        self.host = host
        self.port = port
        self._requested_port = port
        self.startup_timeout_s = startup_timeout_s
        self.extra_args = tuple(extra_args)
        self.log_path = log_path
        self._own_log = log_path is None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL (``http://host:port/v1``)."""
        if self.port is None:
            raise LocalServerError("server not started")
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """Process id of the running server, or ``None``."""
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        """Whether the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def command(self, port: int) -> list[str]:
        """The child's command line."""
        return [
            sys.executable, "-c", _BOOT, str(os.getpid()),
            "--model", str(self.model_path),
            "--host", self.host,
            "--port", str(port),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--n_ctx", str(self.n_ctx),
            # llama-cpp-python's default cuts a streaming answer short as soon as another
            # request arrives: concurrent users would get truncated answers. Queue them instead.
            "--interrupt_requests", "False",
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> str:
        """Start the server (no-op if running) and wait until it is healthy; return the base URL."""
        with self._lock:
            if self.is_running():
                return self.base_url
            check_server_installed()
            if not self.model_path.is_file():
                raise LocalServerError(f"model file {self.model_path} does not exist")
            candidates = [self._requested_port] if self._requested_port else [0, 0, 0]
            for port in candidates:
                try:
                    self._launch(port or free_port(self.host))
                    return self.base_url
                except _PortTaken:
                    log.info("port %s was taken, trying another", port or "(random)")
            raise LocalServerError(f"could not bind a port on {self.host} ({candidates})")

    def _launch(self, port: int) -> None:
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="scholium-llama-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONUNBUFFERED="1")
        log.info(
            "starting llama.cpp server for %s on port %d (threads=%d, n_ctx=%d)",
            self.model_path.name,
            port,
            self.threads,
            self.n_ctx,
        )
        started = time.perf_counter()
        with open(self.log_path, "wb") as out:
            self._proc = subprocess.Popen(
                self.command(port),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                start_new_session=True,
            )
        self.port = port
        _LIVE.add(self)
        deadline = started + self.startup_timeout_s
        while time.perf_counter() < deadline:
            if self._proc.poll() is not None:
                tail = self.log_tail()
                self._proc = None
                if "address already in use" in tail.lower():
                    raise _PortTaken()
                raise LocalServerError(f"llama.cpp server exited during startup; last output:\n{tail}")
            if self._healthy():
                log.info(
                    "llama.cpp server up at %s in %.1f s",
                    self.base_url,
                    time.perf_counter() - started,
                )
                return
            time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise LocalServerError(
            f"llama.cpp server not ready after {self.startup_timeout_s:g} s; last output:\n{tail}"
        )

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2.0) as resp:
                data = json.load(resp)
            ids = {m.get("id") for m in data.get("data", [])}
        except (OSError, ValueError, AttributeError):
            return False
        return self._model_id() in ids  # not some other server that took the port

    def _model_id(self) -> str:
        args = list(self.extra_args)
        if "--model_alias" in args[:-1]:
            return args[args.index("--model_alias") + 1]
        return str(self.model_path)

    def log_tail(self, max_chars: int = 3000) -> str:
        """The end of the server's combined stdout/stderr."""
        if self.log_path is None or not self.log_path.is_file():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - max_chars))
            return fh.read().decode("utf-8", "replace")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the server, killing it if it does not exit within ``timeout_s``."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            self._drop_log()
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("llama.cpp server %d did not stop, killing it", proc.pid)
            proc.kill()
            proc.wait(timeout_s)
        log.info("llama.cpp server on port %s stopped", self.port)
        self._drop_log()

    def _drop_log(self) -> None:
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _PortTaken(Exception):
    pass


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        try:
            server.stop(timeout_s=3.0)
        except (OSError, subprocess.SubprocessError) as exc:  # at exit: best effort
            log.debug("could not stop llama.cpp server: %s", exc)


_SHARED: dict[tuple[str, int, int, str, int | None], LocalLLMServer] = {}
_SHARED_LOCK = threading.Lock()


def ensure_local_server(settings: Settings) -> str:
    """Base URL of this process's shared local server for ``settings.local``, started on first use.

    Thread-safe; one server per (model file, threads, n_ctx, host, port). A server that died is
    restarted. Assembling/verifying the model happens here (slow only the first time).
    """
    return get_local_server(settings).base_url


def get_local_server(settings: Settings) -> LocalLLMServer:
    """The running shared server for ``settings.local`` (see :func:`ensure_local_server`)."""
    local = settings.local
    with _SHARED_LOCK:
        check_server_installed()
        model = resolve_gguf(local.model, settings.models_dir)
        key = (str(model), local.threads, local.n_ctx, local.host, local.port)
        server = _SHARED.get(key)
        if server is None:
            server = LocalLLMServer(
                model,
                threads=local.threads,
                n_ctx=local.n_ctx,
                host=local.host,
                port=local.port,
                startup_timeout_s=local.startup_timeout_s,
            )
            _SHARED[key] = server
        elif not server.is_running():
            log.warning("local llama.cpp server had stopped; restarting it")
        server.start()
        return server


def stop_local_servers() -> None:
    """Stop every shared server of this process (they restart on the next request)."""
    with _SHARED_LOCK:
        for server in _SHARED.values():
            server.stop()
        _SHARED.clear()
