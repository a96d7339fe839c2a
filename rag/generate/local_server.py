"""The embedded llama.cpp server: ``python -m llama_cpp.server`` as a child process.

:class:`LocalLLMServer` starts one server on 127.0.0.1 and a free port, waits until it serves
``GET /v1/models``, runs one tiny completion (the self-test) before any user request, and stops it
(terminate, then kill) on :meth:`~LocalLLMServer.stop` and at interpreter exit. The child also
watches its parent and exits if the parent dies without cleaning up (``kill -9``), so no orphaned
1 GB server is left behind.

Self-healing (see :mod:`rag.generate.launch`): a server that dies or fails its self-test is
relaunched in the next, safer configuration (extra buffer types off; then one thread, no mmap), and
the configuration that worked is remembered for this model file and CPU. A crash while serving
requests is relaunched once; after a second crash in one process the server is given up, with one
clear message (what crashed, the signal, the configurations tried, how to override), instead of a
relaunch per question.

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
from typing import TYPE_CHECKING, Any, Self

from .launch import (
    EXTRA_BUFFERS_ENV,
    PROFILE_FILE,
    ExtraBuffers,
    LaunchConfig,
    LaunchProfiles,
    SelfTest,
    ladder,
    profile_key,
    self_test,
    signal_name,
    start_index,
)
from .model_files import resolve_gguf

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger("rag.generate.local_server")

SERVER_EXTRA = "llama-cpp-python[server]==0.3.36"
_SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context")

#: The OpenAI-compatible server module the boot script runs (it must take llama_cpp.server's flags).
SERVER_MODULE = "llama_cpp.server"

# Runs the server module's __main__ with a watchdog thread (exit when the parent process is gone).
# With SCHOLIUM_LLAMA_EXTRA_BUFFERS=0 the model is loaded with llama.cpp's extra buffer types off
# (llama_model_params.use_extra_bufts, which llama-cpp-python's server settings do not expose).
_BOOT = """\
import os, runpy, sys, threading, time
parent = int(sys.argv.pop(1))
module = sys.argv.pop(1)
def _watch():
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
if os.environ.get("EXTRA_BUFFERS_ENV") == "0":
    import llama_cpp, llama_cpp.llama_cpp as _ll
    _defaults = _ll.llama_model_default_params
    def _no_extra_bufts():
        params = _defaults()
        params.use_extra_bufts = False
        return params
    _ll.llama_model_default_params = _no_extra_bufts
    llama_cpp.llama_model_default_params = _no_extra_bufts
sys.argv[0] = module
runpy.run_module(module, run_name="__main__", alter_sys=True)
""".replace("EXTRA_BUFFERS_ENV", EXTRA_BUFFERS_ENV)


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
        extra_buffers: ExtraBuffers = "auto",
        profiles: LaunchProfiles | None = None,
        self_test_timeout_s: float = 120.0,
        server_module: str | None = None,
    ) -> None:
        """``extra_buffers`` and ``profiles`` drive the self-healing launch (module docstring);
        ``server_module`` replaces :data:`SERVER_MODULE` (it must accept llama_cpp.server's flags)."""
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
        self.server_module = server_module or SERVER_MODULE
        self.extra_buffers: ExtraBuffers = extra_buffers
        self.profiles = profiles
        self.self_test_timeout_s = self_test_timeout_s
        self.configs = ladder(extra_buffers, self.threads)
        self._key = profile_key(self.model_path)
        remembered = profiles.working(self._key) if profiles is not None and extra_buffers == "auto" else None
        self._config_index = start_index(self.configs, remembered)
        #: What happened in this process: one line per failed launch or crash.
        self.failures: list[str] = []
        self.crashes = 0  # crashes while serving (after a passed self-test)
        self.gave_up: str | None = None
        self.last_self_test: SelfTest | None = None
        self._serving = False  # a launch passed its self-test and the process may have crashed since

    @property
    def config(self) -> LaunchConfig:
        """The configuration the server runs (or will start) with."""
        return self.configs[min(self._config_index, len(self.configs) - 1)]

    @property
    def embedding(self) -> bool:
        """Whether this is an embeddings server (``--embedding true``): self-tested with an embedding."""
        args = [a.lower() for a in self.extra_args]
        return "--embedding" in args[:-1] and args[args.index("--embedding") + 1] in ("true", "1")

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

    def command(self, port: int, config: LaunchConfig | None = None) -> list[str]:
        """The child's command line for ``config`` (default: the current configuration)."""
        config = config or self.config
        return [
            sys.executable, "-c", _BOOT, str(os.getpid()), self.server_module,
            "--model", str(self.model_path),
            "--host", self.host,
            "--port", str(port),
            *config.server_args(),
            "--n_ctx", str(self.n_ctx),
            # llama-cpp-python's default cuts a streaming answer short as soon as another
            # request arrives: concurrent users would get truncated answers. Queue them instead.
            "--interrupt_requests", "False",
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> str:
        """Start the server (no-op if running), wait until it is healthy and has passed its
        self-test, and return the base URL.

        A server that died since the last start counts as a crash: it is relaunched once in the
        next configuration; after a second crash in this process (or when every configuration
        failed) :class:`LocalServerError` is raised at once, without a relaunch.
        """
        with self._lock:
            if self.is_running():
                return self.base_url
            if self._serving and self._proc is not None:
                self._crashed_while_serving(self._proc.returncode)
            if self.gave_up:
                raise LocalServerError(self.gave_up)
            check_server_installed()
            if not self.model_path.is_file():
                raise LocalServerError(f"model file {self.model_path} does not exist")
            while self._config_index < len(self.configs):
                config = self.configs[self._config_index]
                if self._start_with(config):
                    return self.base_url
                self._config_index += 1
            self._give_up("it failed in every configuration tried")
            raise LocalServerError(self.gave_up or "llama.cpp server failed")

    def _start_with(self, config: LaunchConfig) -> bool:
        """Launch in ``config`` and self-test; ``False`` (server stopped) if either fails."""
        candidates = [self._requested_port] if self._requested_port else [0, 0, 0]
        for port in candidates:
            try:
                self._launch(port or free_port(self.host), config)
                break
            except _PortTaken:
                log.info("port %s was taken, trying another", port or "(random)")
            except _DiedAtStartup as exc:
                self._note_failure(config, exc.returncode, "during start-up")
                log.warning(
                    "llama.cpp server died during start-up in configuration %s (%s); last output:\n%s",
                    config.describe(), signal_name(exc.returncode), exc.tail,
                )  # fmt: skip
                if exc.returncode is not None and exc.returncode > 0:
                    # A clean error exit (bad model file, bad flag) is not a CPU problem.
                    raise LocalServerError(
                        f"llama.cpp server exited during startup; last output:\n{exc.tail}"
                    ) from None
                return False
        else:
            raise LocalServerError(f"could not bind a port on {self.host} ({candidates})")
        result = self.self_test()
        if result.ok:
            log.info(
                "llama.cpp server self-test passed in %.1f s (configuration %s)",
                result.seconds, config.describe(),
            )  # fmt: skip
            self._serving = True
            if self.profiles is not None and self.extra_buffers == "auto":
                self.profiles.remember(self._key, model=self.model_path, config=config.name)
            return True
        proc = self._proc
        returncode = proc.returncode if proc is not None and _wait_quietly(proc, 2.0) else None
        why = signal_name(returncode) if returncode is not None else f"self-test failed: {result.error}"
        self._note_failure(config, returncode, "during its self-test", why)
        log.warning(
            "llama.cpp server failed its self-test in configuration %s (%s); last output:\n%s",
            config.describe(), why, self.log_tail(1500),
        )  # fmt: skip
        self.stop()
        return False

    def settle(self, wait_s: float = 3.0) -> None:
        """After a failed request: give a dying server up to ``wait_s`` to exit, so the next
        :meth:`start` sees the crash (a segfaulting process can take a moment to be reaped)."""
        proc = self._proc
        deadline = time.monotonic() + wait_s
        while proc is not None and time.monotonic() < deadline:
            if proc.poll() is not None or self._healthy():
                return
            time.sleep(0.05)

    def self_test(self, **kwargs: Any) -> SelfTest:
        """One tiny completion (or embedding) against the running server; never raises."""
        result = self_test(
            self.base_url,
            model=self._model_id(),
            timeout_s=self.self_test_timeout_s,
            embedding=self.embedding,
            api_key=self._api_key(),
            **kwargs,
        )
        self.last_self_test = result
        return result

    def _api_key(self) -> str | None:
        args = list(self.extra_args)
        return args[args.index("--api_key") + 1] if "--api_key" in args[:-1] else None

    def _note_failure(
        self, config: LaunchConfig, returncode: int | None, when: str, why: str | None = None
    ) -> None:
        what = why or signal_name(returncode)
        self.failures.append(f"{config.name}: {what} {when}")
        if self.profiles is not None:
            crash = {
                "config": config.name,
                "signal": signal_name(returncode),
                "when": when,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self.profiles.remember(self._key, model=self.model_path, crash=crash)

    def _crashed_while_serving(self, returncode: int | None) -> None:
        self._serving = False
        self.crashes += 1
        config = self.config
        self._note_failure(config, returncode, "while serving")
        if self.crashes >= 2:
            self._give_up("it crashed twice in this process")
            return
        log.warning(
            "local llama.cpp server crashed while serving (%s, configuration %s); relaunching it once",
            signal_name(returncode), config.describe(),
        )  # fmt: skip
        if self._config_index + 1 < len(self.configs):
            self._config_index += 1

    def _give_up(self, reason: str) -> None:
        tried = "; ".join(self.failures) or "none"
        self.gave_up = (
            f"the local llama.cpp server for {self.model_path.name} is not restarted again: {reason} "
            f"({tried}). Run `scholium doctor` for details; override with "
            "SCHOLIUM_LOCAL__EXTRA_BUFFERS=off (or on), SCHOLIUM_LOCAL__THREADS=1, or point "
            "SCHOLIUM_LLM__BASE_URL at another OpenAI-compatible endpoint"
        )
        log.error("%s", self.gave_up)

    def _launch(self, port: int, config: LaunchConfig) -> None:
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="scholium-llama-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONUNBUFFERED="1")
        env[EXTRA_BUFFERS_ENV] = "1" if config.extra_buffers else "0"
        log.info(
            "starting llama.cpp server for %s on port %d (configuration %s, n_ctx=%d)",
            self.model_path.name,
            port,
            config.describe(),
            self.n_ctx,
        )
        started = time.perf_counter()
        with open(self.log_path, "wb") as out:
            self._proc = subprocess.Popen(
                self.command(port, config),
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
                returncode = self._proc.returncode
                self._proc = None
                if "address already in use" in tail.lower():
                    raise _PortTaken()
                raise _DiedAtStartup(returncode, tail)
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
        self._serving = False
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


class _DiedAtStartup(Exception):
    def __init__(self, returncode: int | None, tail: str) -> None:
        super().__init__(f"died during start-up ({signal_name(returncode)})")
        self.returncode = returncode
        self.tail = tail


def _wait_quietly(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Whether ``proc`` has exited within ``timeout_s`` (a failed self-test may be a dying server)."""
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        return False
    return True


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        try:
            server.stop(timeout_s=3.0)
        except (OSError, subprocess.SubprocessError) as exc:  # at exit: best effort
            log.debug("could not stop llama.cpp server: %s", exc)


_SHARED: dict[tuple[str, int, int, str, int | None, str], LocalLLMServer] = {}
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
        key = (str(model), local.threads, local.n_ctx, local.host, local.port, local.extra_buffers)
        server = _SHARED.get(key)
        if server is None:
            server = LocalLLMServer(
                model,
                threads=local.threads,
                n_ctx=local.n_ctx,
                host=local.host,
                port=local.port,
                startup_timeout_s=local.startup_timeout_s,
                extra_buffers=local.extra_buffers,
                profiles=LaunchProfiles(settings.models_dir / PROFILE_FILE),
                self_test_timeout_s=local.self_test_timeout_s,
                server_module=local.server_module,
            )
            _SHARED[key] = server
        elif not server.is_running() and not server.gave_up:
            log.warning("local llama.cpp server had stopped; restarting it")
        server.start()
        return server


def settle_local_server(base_url: str, wait_s: float = 3.0) -> None:
    """A request to the shared server at ``base_url`` failed: see :meth:`LocalLLMServer.settle`."""
    with _SHARED_LOCK:
        servers = [s for s in _SHARED.values() if s.port is not None and s.base_url == base_url]
    for server in servers:
        server.settle(wait_s)


def stop_local_servers() -> None:
    """Stop every shared server of this process (they restart on the next request)."""
    with _SHARED_LOCK:
        for server in _SHARED.values():
            server.stop()
        _SHARED.clear()
