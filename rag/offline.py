"""Make libraries that like to download things at run time use the files they ship.

tiktoken fetches its BPE files on first use unless ``TIKTOKEN_CACHE_DIR`` points at a copy;
llama-index ships cl100k/o200k in its wheel. Chroma telemetry is switched off.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def configure_offline_caches() -> None:
    """Point tiktoken at llama-index's bundled cache (unless the user chose another)."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return
    cache = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    if cache.is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


configure_offline_caches()
