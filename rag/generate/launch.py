"""How the embedded llama.cpp server is launched, and what is remembered about it per machine.

llama.cpp moves model weights into "extra buffer types" (AMX tiles on Intel Xeons, repacked
layouts elsewhere) when the build supports them. Some machines fault on that path: a Xeon VM
that advertises AMX but traps ``ldtilecfg`` kills the server with SIGSEGV on its first
completion. The launch therefore walks a short ladder of configurations — llama.cpp's defaults,
then extra buffer types off, then one thread without mmap — and keeps the first one whose
self-test (one tiny completion) succeeds. What worked is remembered per model file, CPU and
llama.cpp version in a small JSON file next to the assembled models, so later starts go straight
to it. ``local.extra_buffers`` ("auto" | "on" | "off") pins the choice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import signal
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("rag.generate.launch")

ExtraBuffers = Literal["auto", "on", "off"]
PROFILE_FILE = "llama-launch-profiles.json"
#: The environment variable the server's boot script reads (see ``local_server._BOOT``).
EXTRA_BUFFERS_ENV = "SCHOLIUM_LLAMA_EXTRA_BUFFERS"


@dataclass(frozen=True)
class LaunchConfig:
    """One way of starting the server."""

    name: str
    extra_buffers: bool
    threads: int
    mmap: bool

    def describe(self) -> str:
        """Human-readable summary, e.g. ``no-extra-buffers (extra buffer types off, 2 threads, mmap)``."""
        bufs = "extra buffer types on" if self.extra_buffers else "extra buffer types off"
        threads = f"{self.threads} thread{'s' if self.threads != 1 else ''}"
        return f"{self.name} ({bufs}, {threads}, {'mmap' if self.mmap else 'no mmap'})"

    def server_args(self) -> list[str]:
        """Flags for ``llama_cpp.server`` (the extra-buffer switch travels in the environment)."""
        return [
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--use_mmap", str(self.mmap),
        ]  # fmt: skip


def ladder(extra_buffers: ExtraBuffers, threads: int) -> list[LaunchConfig]:
    """Configurations to try, in order, for the ``local.extra_buffers`` setting."""
    threads = max(1, int(threads))
    default = LaunchConfig("default", True, threads, True)
    safe = LaunchConfig("no-extra-buffers", False, threads, True)
    minimal = LaunchConfig("minimal", False, 1, False)
    if extra_buffers == "on":
        return [default]
    if extra_buffers == "off":
        return [safe, minimal]
    return [default, safe, minimal]


def signal_name(returncode: int | None) -> str:
    """``SIGSEGV`` for -11, ``exit code 3`` for 3, ``still running`` for ``None``."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


# -- what is remembered ------------------------------------------------------------------------


def cpu_signature() -> str:
    """The CPU as llama.cpp sees it: architecture, model name and feature flags."""
    model = flags = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("model name", "cpu model", "hardware") and not model:
                model = value.strip()
            elif key in ("flags", "features") and not flags:
                flags = " ".join(sorted(value.split()))
            if model and flags:
                break
    return f"{platform.machine()}|{model or platform.processor()}|{flags}"


def _llama_cpp_version() -> str:
    try:
        return metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return "unknown"


def profile_key(model_path: Path) -> str:
    """Key of a (model file, CPU, llama.cpp build) combination."""
    try:
        st = model_path.stat()
        size = st.st_size
    except OSError:
        size = -1
    blob = f"{model_path.resolve()}|{size}|{cpu_signature()}|{_llama_cpp_version()}"
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


class LaunchProfiles:
    """``llama-launch-profiles.json``: the configuration that worked per :func:`profile_key`,
    and the crashes seen. Written atomically; an unreadable file is treated as empty."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any]:
        """The entry for ``key`` (empty if none)."""
        entry = self._read().get(key)
        return entry if isinstance(entry, dict) else {}

    def working(self, key: str) -> str | None:
        """Name of the configuration that passed its self-test last, or ``None``."""
        name = self.get(key).get("config")
        return name if isinstance(name, str) else None

    def remember(
        self,
        key: str,
        *,
        model: Path,
        config: str | None = None,
        crash: dict[str, Any] | None = None,
    ) -> None:
        """Record the working configuration and/or a crash (best effort: never raises)."""
        try:
            data = self._read()
            entry = data.get(key) if isinstance(data.get(key), dict) else {}
            assert isinstance(entry, dict)
            entry["model"] = str(model)
            entry["cpu"] = cpu_signature().split("|")[1] or platform.machine()
            entry["llama_cpp_python"] = _llama_cpp_version()
            if config is not None:
                entry["config"] = config
                entry["verified_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if crash is not None:
                entry["crashes"] = [*entry.get("crashes", [])[-9:], crash]
            data[key] = entry
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".launch-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not write %s: %s", self.path, exc)


def start_index(configs: list[LaunchConfig], remembered: str | None) -> int:
    """Where to start in ``configs``: at the remembered working configuration, if it is one."""
    names = [c.name for c in configs]
    return names.index(remembered) if remembered in names else 0


# -- self-test ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfTest:
    """Result of one small request to a freshly started server."""

    ok: bool
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    error: str | None = None

    @property
    def prompt_tps(self) -> float | None:
        """Prompt evaluation speed (tokens/s), from the time to the first streamed token."""
        if not self.prompt_tokens or not self.first_token_s:
            return None
        return self.prompt_tokens / self.first_token_s

    @property
    def generation_tps(self) -> float | None:
        """Generation speed (tokens/s) after the first token."""
        if self.first_token_s is None or self.completion_tokens < 2:
            return None
        spent = self.seconds - self.first_token_s
        return (self.completion_tokens - 1) / spent if spent > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with the derived speeds."""
        return {**asdict(self), "prompt_tps": self.prompt_tps, "generation_tps": self.generation_tps}


SELF_TEST_PROMPT = "Reply with the single word OK."


def _post(url: str, body: dict[str, Any], timeout_s: float, api_key: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    return urllib.request.urlopen(req, timeout=timeout_s)


def count_prompt_tokens(base_url: str, text: str, timeout_s: float = 10.0) -> int:
    """Tokens of ``text`` per the server's tokenizer (llama-cpp-python's ``/extras/tokenize``);
    0 when the server has no such endpoint."""
    root = base_url.removesuffix("/v1")
    try:
        with _post(f"{root}/extras/tokenize", {"input": text}, timeout_s, None) as resp:
            return len(json.load(resp).get("tokens", []))
    except (OSError, ValueError, AttributeError):
        return 0


def self_test(
    base_url: str,
    *,
    model: str,
    timeout_s: float = 120.0,
    prompt: str = SELF_TEST_PROMPT,
    max_tokens: int = 4,
    embedding: bool = False,
    api_key: str | None = None,
    count_prompt: bool = False,
) -> SelfTest:
    """One small request: a streamed chat completion (or an embedding for an embeddings server).

    With ``count_prompt`` the prompt's tokens are counted first (for :attr:`SelfTest.prompt_tps`).
    Never raises: a dead server, an HTTP error or a malformed reply is a failed :class:`SelfTest`.
    """
    prompt_tokens = count_prompt_tokens(base_url, prompt) if count_prompt and not embedding else 0
    started = time.perf_counter()
    try:
        if embedding:
            with _post(f"{base_url}/embeddings", {"model": model, "input": prompt}, timeout_s, api_key) as r:
                data = json.load(r)
            ok = bool(data.get("data")) and bool(data["data"][0].get("embedding"))
            return SelfTest(ok, time.perf_counter() - started, error=None if ok else "no embedding")
        body = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": True,
        }
        first: float | None = None
        pieces = 0
        finished = False
        with _post(f"{base_url}/chat/completions", body, timeout_s, api_key) as resp:
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[5:])
                choice = (chunk.get("choices") or [{}])[0]
                if (choice.get("delta") or {}).get("content"):
                    pieces += 1
                    if first is None:
                        first = time.perf_counter() - started
                finished = finished or choice.get("finish_reason") is not None
        elapsed = time.perf_counter() - started
        if not finished:
            return SelfTest(False, elapsed, error="the reply stream ended early")
        if pieces == 0:
            return SelfTest(False, elapsed, error="the reply was empty")
        return SelfTest(True, elapsed, prompt_tokens, pieces, first)
    except urllib.error.HTTPError as exc:
        return SelfTest(False, time.perf_counter() - started, error=f"HTTP {exc.code}")
    except (OSError, ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        return SelfTest(False, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}")
