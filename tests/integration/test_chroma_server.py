"""The same index through a real `chroma run` server (HttpClient)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag import Assistant, Settings
from rag.index.vector_store import VectorStoreUnavailable

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield url
    proc.terminate()
    proc.wait(10)


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
    settings = small_settings.with_overrides(chroma={"url": f"http://127.0.0.1:{_free_port()}"})
    with pytest.raises(VectorStoreUnavailable, match="chroma run"):
        Assistant(settings).stats()
