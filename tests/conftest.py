"""Shared fixtures: settings isolated in temporary folders, a tiny corpus, the full index.

Also the hypothesis profiles (loaded here, before any test module builds its ``settings``):

* ``ci`` (the default, what ``make test`` runs): derandomized, so every run tries the same
  examples and the suite never fails by chance; no example database (a local
  ``.hypothesis/`` folder does not change what runs); no deadline and no too-slow health
  check (the box is slow and shared); 100 examples unless a test sets its own count.
* ``explore``: random, 2000 examples per test (``tests/unit/test_fuzz.py`` raises its own
  counts to that), failures saved to the local example database and printed with a
  ``@reproduce_failure`` blob. Choose it with ``SCHOLIUM_HYPOTHESIS_PROFILE=explore`` or
  ``--hypothesis-profile=explore``.

Tests may set their own ``@settings(max_examples=...)``: values they do not set, such as
``derandomize``, come from the profile. None may pass ``derandomize=False``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from rag import Assistant, Settings
from rag.corpus import load_corpus
from rag.types import Paper

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    max_examples=2000,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("SCHOLIUM_HYPOTHESIS_PROFILE") or "ci")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No user config or SCHOLIUM_* variable leaks into tests."""
    for key in list(os.environ):
        if key.startswith("SCHOLIUM_") and key != "SCHOLIUM_TEST_INDEX_DIR":
            monkeypatch.delenv(key)
    monkeypatch.setenv("SCHOLIUM_CONFIG", str(tmp_path_factory.getbasetemp() / "no-config.toml"))
    (tmp_path_factory.getbasetemp() / "no-config.toml").write_text("")


@pytest.fixture(scope="session")
def real_papers() -> list[Paper]:
    """The 260 papers of the bundled corpus."""
    return load_corpus([CORPUS]).papers


def write_listing(path: Path, papers: list[Paper]) -> Path:
    """A listing page in the bundled format for ``papers``."""
    lines = ["Get trending papers in your email inbox!", "", "Subscribe", "", "Mar 13", ""]
    for paper in papers:
        lines += [paper.title, "", paper.abstract, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def small_settings(tmp_path: Path, real_papers: list[Paper]) -> Settings:
    """Settings over a 6-paper corpus in a fresh data folder."""
    corpus = write_listing(tmp_path / "small.txt", real_papers[:6])
    return Settings(data_dir=tmp_path / "data", progress=False, corpus={"paths": [corpus]})


@pytest.fixture(scope="session")
def full_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over the bundled corpus; SCHOLIUM_TEST_INDEX_DIR reuses an index across runs."""
    folder = os.environ.get("SCHOLIUM_TEST_INDEX_DIR")
    data_dir = Path(folder) if folder else tmp_path_factory.mktemp("full-index")
    # Cross-language search encodes every paper once (~4 min for the bundled corpus on one
    # core): it is tested over a small corpus (tests/integration/test_crosslingual.py) and on
    # every question of the eval; here questions in other languages take the English-only path.
    return Settings(
        data_dir=data_dir, progress=False, corpus={"paths": [CORPUS]}, retrieval={"crosslingual": False}
    )


@pytest.fixture(scope="session")
def full_assistant(full_settings: Settings) -> Iterator[Assistant]:
    """An assistant over the whole bundled corpus (ingested once per session)."""
    assistant = Assistant(full_settings)
    assistant.ingest()
    yield assistant


@pytest.fixture
def copy_of_full_index(full_assistant: Assistant, tmp_path: Path) -> Settings:
    """A private copy of the full index, for tests that modify it."""
    target = tmp_path / "data"
    shutil.copytree(full_assistant.settings.data_dir, target)
    return full_assistant.settings.with_overrides(data_dir=target)
