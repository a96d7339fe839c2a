"""The same index through a real `chroma run` server (HttpClient; fixture in conftest.py)."""

from __future__ import annotations

import pytest

from rag import Assistant, Settings
from rag.generate.local_server import free_port
from rag.index.vector_store import VectorStoreUnavailable

pytestmark = pytest.mark.integration


def test_ingest_and_search_through_server(chroma_server: str, small_settings: Settings) -> None:
    settings = small_settings.with_overrides(chroma={"url": chroma_server})
    assistant = Assistant(settings)
    report = assistant.ingest()
    assert report.papers_new == 6
    assert not (settings.data_dir / "chroma").exists()  # nothing embedded locally
    title = assistant.papers(
        [assistant.stats() and next(iter(assistant.index.chroma.chunk_metadata())).split(":")[0]]
    )
    assert title
    # A second client (another process in real life) sees the same data.
    other = Assistant(settings)
    assert other.stats()["papers"] == 6
    assert other.ingest().chunks_embedded == 0
    first = next(iter(title.values()))
    assert other.search(first.title, k=1)[0].paper_id == first.id


def test_unreachable_server_gives_a_clear_error(small_settings: Settings) -> None:
    settings = small_settings.with_overrides(chroma={"url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(VectorStoreUnavailable, match="chroma run"):
        Assistant(settings).stats()
