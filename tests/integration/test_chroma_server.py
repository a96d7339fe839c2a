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


def test_plain_http_client_loads_no_certificates(chroma_server: str, small_settings: Settings) -> None:
    """An http:// server has no certificate to check: the client must not load the CA bundle
    (~50 ms per HTTP client, three per process at cold start); https keeps verification."""
    import ssl

    import httpx

    from rag.index.vector_store import make_client

    client = make_client(small_settings.with_overrides(chroma={"url": chroma_server}))
    session = client._server._session  # type: ignore[attr-defined]
    assert isinstance(session, httpx.Client)
    context = session._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode == ssl.CERT_NONE
    assert context.cert_store_stats()["x509_ca"] == 0
    assert client.heartbeat() > 0
