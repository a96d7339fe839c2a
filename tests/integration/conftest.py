"""Fixtures for the integration tests: a real `chroma run` server that tests can kill,
freeze and restart on the same folder and port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chroma import ChromaServer


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A started `chroma run` server over a fresh folder; stopped after the test."""
    server = ChromaServer(tmp_path / "server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def chroma_server(chroma: ChromaServer) -> str:
    """The URL of a started `chroma run` server."""
    return chroma.url
