"""A `chroma run` server that dies, hangs, is restarted or loses its collection mid-session:
calls fail fast with a clear ``VectorStoreUnavailable`` (never a raw HTTP error or a hang), and
the same ``Assistant`` answers again once the server is back, without being recreated."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from rag import Assistant, Settings
from rag.index import store, vector_store
from rag.index.vector_store import VectorStoreUnavailable
from rag.types import Paper
from tests.support.chroma import ChromaServer
from ui.app import ChatHandler

pytestmark = pytest.mark.integration

FAIL_FAST_S = 5.0  # a refused connection must be reported at once


def _server_assistant(settings: Settings, server: ChromaServer) -> Assistant:
    assistant = Assistant(settings.with_overrides(chroma={"url": server.url}))
    assert assistant.ingest().papers_new == 6
    return assistant


def _cited(answer: Any) -> list[str]:
    return [c.paper_id for c in answer.citations]


def _fails_clearly(call: Callable[[], Any], match: str = "chroma run") -> float:
    """Run ``call``, expect a VectorStoreUnavailable whose message matches; return the seconds."""
    clock = time.monotonic()
    with pytest.raises(VectorStoreUnavailable, match=match) as err:
        call()
    assert "Traceback" not in str(err.value)
    return time.monotonic() - clock


def _answers_correctly(assistant: Assistant, papers: list[Paper]) -> None:
    for paper in papers[:3]:
        assert assistant.search(paper.title, k=1)[0].paper_id == paper.id
        answer = assistant.ask(f"What does {paper.title} propose?", mode="extractive")
        assert not answer.abstained and _cited(answer)[0] == paper.id, answer.text


def test_killed_then_restarted_server(
    chroma: ChromaServer, small_settings: Settings, real_papers: list[Paper]
) -> None:
    papers = real_papers[:6]
    assistant = _server_assistant(small_settings, chroma)
    _answers_correctly(assistant, papers)

    chroma.kill()
    question = f"What does {papers[1].title} propose?"
    assert _fails_clearly(lambda: assistant.search(papers[0].title)) < FAIL_FAST_S
    assert _fails_clearly(lambda: assistant.ask(question, mode="extractive")) < FAIL_FAST_S
    assert _fails_clearly(lambda: list(assistant.stream(question, mode="extractive"))) < FAIL_FAST_S
    assert _fails_clearly(assistant.stats) < FAIL_FAST_S
    # The chat UI shows it as an error of that turn, with the reason, and keeps going.
    updates = list(ChatHandler(assistant).respond(question, [], "extractive", 5, None))
    turn = updates[-1][2][-1]
    assert turn.answer is None and turn.error and "chroma run" in turn.error

    chroma.start()  # same folder, same port
    _answers_correctly(assistant, papers)
    assert assistant.stats()["papers"] == 6
    updates = list(ChatHandler(assistant).respond(question, [], "extractive", 5, None))
    turn = updates[-1][2][-1]
    assert turn.error is None and turn.answer is not None and _cited(turn.answer)[0] == papers[1].id


def test_hung_server_times_out(
    chroma: ChromaServer, small_settings: Settings, real_papers: list[Paper], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_store, "CHROMA_HTTP_TIMEOUT_S", 2.0)
    # Every lookup re-reads the collection's stamp, as when the last read is older than the
    # recheck interval: the search's language check (its words looked up in the index) then
    # meets the hung server too, and must report it as clearly.
    monkeypatch.setattr(store, "GENERATION_RECHECK_S", 0.0)
    assistant = _server_assistant(small_settings, chroma)
    chroma.pause()  # accepts connections, never answers
    try:
        seconds = _fails_clearly(lambda: assistant.search(real_papers[0].title), match="did not answer")
        assert seconds < 10
    finally:
        chroma.resume()
    _answers_correctly(assistant, real_papers[:6])


def test_server_hung_before_the_first_connect_times_out(
    chroma: ChromaServer, small_settings: Settings, real_papers: list[Paper], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new Assistant whose server is already frozen fails clearly on first use (the timeout is
    set before Chroma's first heartbeat), and works once the server answers again."""
    monkeypatch.setattr(vector_store, "CHROMA_HTTP_TIMEOUT_S", 2.0)
    _server_assistant(small_settings, chroma)  # ingest while the server is healthy
    fresh = Assistant(small_settings.with_overrides(chroma={"url": chroma.url}))
    chroma.pause()
    try:
        assert _fails_clearly(lambda: fresh.search(real_papers[0].title), match="(?i)chroma") < 10
    finally:
        chroma.resume()
    _answers_correctly(fresh, real_papers[:6])


def test_questions_in_flight_while_the_server_restarts(
    chroma: ChromaServer, small_settings: Settings, real_papers: list[Paper]
) -> None:
    """Four threads keep asking while the server is killed and restarted: every call either
    answers correctly or fails with VectorStoreUnavailable; none hangs or mixes answers up."""
    papers = real_papers[:6]
    assistant = _server_assistant(small_settings, chroma)
    assistant.ask(papers[0].title, mode="extractive")  # warm up the models
    stop = threading.Event()
    outcomes: list[tuple[str, str, float]] = []  # (phase, result, seconds)
    phase = ["up"]
    lock = threading.Lock()

    def client(n: int) -> None:
        i = n
        while not stop.is_set():
            paper = papers[i % len(papers)]
            i += 1
            clock = time.monotonic()
            try:
                answer = assistant.ask(f"What does {paper.title} propose?", mode="extractive")
                cited = _cited(answer)
                result = "ok" if cited[:1] == [paper.id] else f"wrong: {cited} vs {paper.id}"
            except VectorStoreUnavailable:
                result = "unavailable"
            except Exception as exc:  # anything else is a failure of this test
                result = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append((phase[0], result, time.monotonic() - clock))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(2)
    phase[0] = "down"
    chroma.kill()
    time.sleep(2)
    phase[0] = "restarting"
    chroma.start()
    phase[0] = "back"
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a question hung"
    bad = [o for o in outcomes if o[1] not in ("ok", "unavailable")]
    assert not bad, bad
    assert any(p == "down" and r == "unavailable" for p, r, _ in outcomes)
    assert max(s for _, _, s in outcomes) < 30
    back = [r for p, r, _ in outcomes if p == "back"]
    assert back and all(r == "ok" for r in back[4:]), back  # the first in flight may straddle


def test_collection_recreated_on_a_wiped_server(
    chroma: ChromaServer, small_settings: Settings, real_papers: list[Paper]
) -> None:
    """The server comes back empty and another client re-ingests: the old Assistant's open
    collection is gone; it reopens the new one by itself and answers."""
    papers = real_papers[:6]
    assistant = _server_assistant(small_settings, chroma)
    _answers_correctly(assistant, papers)
    chroma.kill()
    shutil.rmtree(chroma.path)
    chroma.start()
    other = Assistant(assistant.settings)  # another process, in real life
    assert other.ingest().papers_new == 6
    _answers_correctly(assistant, papers)
    assert assistant.stats()["generation"] == other.stats()["generation"]
