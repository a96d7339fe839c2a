"""Chat sessions with known answers, for the load benchmark (``bench/load.py``) and the
concurrency tests: conversations about papers of the bundled corpus, the answer each turn
must get (computed alone, before any load), sessions over the Python API and over the Gradio
app's HTTP API, and the check that an answer under load is its own question's.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger("tests.support.sessions")

FOLLOW_UPS = (
    "What results does it report?",
    "What problem does it address?",
    "How is it evaluated?",
    "What is new about it?",
)
ALL_SOURCES = "All source files"  # ui.app.ALL_SOURCES (not imported: the client process stays light)


# -- conversations ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Conversation:
    """A question about one paper and its follow-ups."""

    key: str
    paper_id: str
    title: str
    questions: tuple[str, ...]


def conversations(n: int, turns: int) -> list[Conversation]:
    """``n`` conversations about ``n`` different papers of the bundled corpus, spread over it."""
    from rag.corpus import load_corpus
    from rag.settings import BUNDLED_CORPUS

    papers = load_corpus([BUNDLED_CORPUS]).papers
    if n > len(papers):
        raise ValueError(f"at most {len(papers)} conversations (one paper each)")
    out = []
    for i in range(n):
        paper = papers[(i * len(papers)) // n]
        follow = [FOLLOW_UPS[(i + j) % len(FOLLOW_UPS)] for j in range(turns - 1)]
        question = f"What does the paper {paper.title} propose?"
        out.append(Conversation(f"c{i:03d}", paper.id, paper.title, (question, *follow)))
    return out


@dataclass
class Expected:
    """What one turn must look like under load."""

    question: str
    sources: tuple[str, ...]
    copy: str | None = None  # the whole answer as plain text (extractive: exact)


@dataclass
class TurnResult:
    """One answered (or failed) turn of a session."""

    session: int
    via: str  # "api" | "ui"
    conversation: str
    turn: int
    question: str
    start: float  # time.monotonic() (system-wide on Linux: comparable across processes)
    end: float
    error: str | None = None
    echo: str = ""  # the question the answer says it answers
    turns_shown: int | None = None  # UI: turns in the session's transcript
    cited: tuple[str, ...] = ()
    abstained: bool = False
    fallback: bool = False  # the LLM failed and an extractive answer was given instead
    copy: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Latency of the turn as its client saw it."""
        return self.end - self.start


def _norm(text: str) -> str:
    return " ".join(text.split())


def answer_copy(assistant: Any, answer: Any) -> str:
    """The answer as the UI's "copy with references" text (text, notice, citations, quotes)."""
    from ui import render

    return render.copy_text(answer, assistant.papers(render.papers_to_fetch(answer)))


def expected_answers(
    assistant: Any, convs: list[Conversation], mode: str
) -> tuple[dict[tuple[str, int], Expected], list[float]]:
    """Every turn answered once, alone (extractive), or its retrieval (llm); also the warm-up."""
    expected: dict[tuple[str, int], Expected] = {}
    seconds: list[float] = []
    for conv in convs:
        history: list[dict[str, str]] = []
        for turn, question in enumerate(conv.questions):
            clock = time.perf_counter()
            if mode == "extractive":
                answer = assistant.ask(question, history=history, mode="extractive")
                expected[conv.key, turn] = Expected(
                    _norm(answer.question),
                    tuple(s.paper_id for s in answer.sources),
                    answer_copy(assistant, answer),
                )
                history += [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer.text},
                ]
            else:
                # LLM follow-ups are rewritten by the LLM itself: only first turns are checked
                # against retrieval (and the papers of any turn must be ones retrieved for it).
                hits = assistant.search(question) if turn == 0 else []
                expected[conv.key, turn] = Expected(_norm(question), tuple(h.paper_id for h in hits))
            seconds.append(time.perf_counter() - clock)
    return expected, seconds


def check(result: TurnResult, expected: Expected, mode: str) -> list[str]:
    """Why ``result`` is not the answer to its own question (empty: it is)."""
    if result.error:
        return [f"error: {result.error}"]
    problems = []
    if _norm(result.echo) != expected.question:
        problems.append(f"answered another question: {result.echo[:120]!r}")
    if result.turns_shown is not None and result.turns_shown != result.turn + 1:
        problems.append(f"transcript shows {result.turns_shown} turns, expected {result.turn + 1}")
    if expected.copy is not None:
        if result.copy != expected.copy:
            problems.append("answer differs from the one this question gets alone")
    elif expected.sources and not set(result.cited) <= set(expected.sources):
        problems.append(f"cites papers not retrieved for this question: {result.cited}")
    return problems


# -- sessions ---------------------------------------------------------------------------------------
def api_session(
    assistant: Any,
    session: int,
    convs: list[Conversation],
    mode: str,
    deadline: float,
    max_turns: int,
    report: Any = None,
) -> list[TurnResult]:
    """One scripted client of the Python API: its conversations, in a loop, until the deadline.
    ``report`` is called with each result as soon as it is known."""
    results: list[TurnResult] = []
    while True:
        for conv in convs:
            history: list[dict[str, str]] = []
            for turn, question in enumerate(conv.questions):
                if time.monotonic() >= deadline or len(results) >= max_turns:
                    return results
                start = time.monotonic()
                result = TurnResult(session, "api", conv.key, turn, question, start, start)
                try:
                    answer = assistant.ask(question, history=history, mode=mode)
                    result.echo = answer.question
                    result.cited = tuple(c.paper_id for c in answer.citations)
                    result.abstained = answer.abstained
                    result.fallback = answer.mode.fallback_reason == "llm_unavailable"
                    result.copy = answer_copy(assistant, answer)
                    history += [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": answer.text},
                    ]
                except Exception as exc:
                    result.error = f"{type(exc).__name__}: {exc}"[:500]
                result.end = time.monotonic()
                results.append(result)
                if report is not None:
                    report(result)
                if result.error:
                    break  # start the next conversation afresh


_TURN = re.compile(r'<div class="sch-turn" id="sch-turn-(\d+)"')
_CARD = re.compile(r'<article class="sch-card" id="[^"]*" data-marker="\d+" data-paper="([^"]+)"')


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def parse_ui(outputs: Any) -> dict[str, Any]:
    """What the page shows after a turn: the last turn's question, state and cited papers."""
    transcript, sources, _box, alert, copy, *_exports = outputs  # then BibTeX, download
    turns = int(m.group(1)) if (m := re.search(r'data-turns="(\d+)"', transcript)) else 0
    blocks = _TURN.split(transcript)
    last = blocks[-1] if len(blocks) > 1 else ""
    echo = re.search(r'<div class="sch-question">(.*?)</div>', last, re.S)
    state = re.search(r'data-state="(\w+)"', last)
    error = re.search(r'<div class="sch-error"[^>]*>(.*?)</div>', last, re.S)
    alert_text = _text(alert).strip() if isinstance(alert, str) else ""
    group = sources.split('<details class="sch-group"')[1] if "sch-group" in sources else ""
    return {
        "turns": turns,
        "echo": _norm(_text(echo.group(1))) if echo else "",
        "state": state.group(1) if state else "",
        "error": _norm(_text(error.group(1))) if error else (alert_text or None),
        "cited": tuple(dict.fromkeys(_CARD.findall(group))),
        "notice": "sch-notice" in last,
        "copy": copy if isinstance(copy, str) else "",
    }


def ui_session(
    url: str,
    session: int,
    convs: list[Conversation],
    mode: str,
    k: int,
    deadline: float,
    max_turns: int,
    report: Any = None,
) -> list[TurnResult]:
    """One browser stand-in: a gradio_client session (its own server-side state). ``report``
    is called with each result as soon as it is known."""
    from gradio_client import Client

    results: list[TurnResult] = []
    try:
        client = Client(url, verbose=False, download_files=False)
    except Exception as exc:
        now = time.monotonic()
        error = f"connect: {type(exc).__name__}: {exc}"
        failed = TurnResult(session, "ui", "-", 0, "", now, now, error=error)
        if report is not None:
            report(failed)
        return [failed]
    fresh = True
    while True:
        for conv in convs:
            if not fresh:
                client.predict(api_name="/new_conversation")
            fresh = False
            for turn, question in enumerate(conv.questions):
                if time.monotonic() >= deadline or len(results) >= max_turns:
                    return results
                start = time.monotonic()
                result = TurnResult(session, "ui", conv.key, turn, question, start, start)
                try:
                    page = parse_ui(client.predict(question, mode, k, ALL_SOURCES, api_name="/respond"))
                    result.turns_shown = page["turns"]
                    result.echo = page["echo"]
                    result.cited = page["cited"]
                    result.abstained = page["state"] == "abstained"
                    result.fallback = page["notice"]
                    result.copy = page["copy"]
                    if page["state"] not in ("answered", "abstained"):
                        result.error = f"page state {page['state']!r}: {page['error']}"
                except Exception as exc:
                    result.error = f"{type(exc).__name__}: {exc}"[:500]
                result.end = time.monotonic()
                results.append(result)
                if report is not None:
                    report(result)
                if result.error:
                    break


def ui_client_process(
    url: str, plans: list[tuple[int, list[Conversation]]], mode: str, k: int, go: float,
    deadline: float, max_turns: int, queue: Any,
) -> None:  # fmt: skip
    """Entry of the client process: one thread per UI session. Each finished turn is put on
    ``queue`` as it happens (a dict), then ``("done", session)`` when the session ends."""

    def run(session: int, convs: list[Conversation]) -> None:
        time.sleep(max(0.0, go - time.monotonic()))
        ui_session(url, session, convs, mode, k, deadline, max_turns, lambda r: queue.put(asdict(r)))
        queue.put(("done", session))

    threads = [threading.Thread(target=run, args=plan, daemon=True) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# -- memory -----------------------------------------------------------------------------------------
