"""The app's event handler and launch options, with a stand-in Assistant (no index, no browser)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import SearchFilters, Settings
from rag.answer import QuestionError
from rag.types import (
    Answer,
    AnswerEvent,
    Citation,
    FinalAnswer,
    ModeInfo,
    Paper,
    SearchResult,
    StatusEvent,
    TextDelta,
)

gr = pytest.importorskip("gradio")

from ui import app as ui_app  # noqa: E402
from ui.render import Turn  # noqa: E402
from ui.theme import make_theme  # noqa: E402

PAPER = Paper(
    id="p1",
    title="A <b>bold</b> paper",
    abstract="Intro sentence. The model has 354K parameters. Outro.",
    sources=("000.txt",),
)


class FakeAssistant:
    """Records calls and replays scripted events."""

    def __init__(self, settings: Settings, script: list[AnswerEvent] | Exception) -> None:
        self.settings = settings
        self.script = script
        self.calls: list[dict[str, Any]] = []

    def stream(self, question: str, **kwargs: Any) -> Iterator[AnswerEvent]:
        self.calls.append({"question": question, **kwargs})
        if isinstance(self.script, Exception):
            raise self.script
        yield from self.script

    def papers(self, ids: list[str]) -> dict[str, Paper]:
        return {i: PAPER for i in ids if i == PAPER.id}


def _answer(text: str = "It has 354K parameters [1].") -> Answer:
    return Answer(
        question="q",
        text=text,
        citations=[Citation(1, "p1", PAPER.title, "The model has 354K parameters.", 0.03)],
        sources=[SearchResult("p1", PAPER.title, 0.03)],
        mode=ModeInfo(requested="llm", generator="llm", model="test"),
        timings={"first_token": 0.5, "total": 1.5},
    )


def _script() -> list[AnswerEvent]:
    return [
        StatusEvent("searching the papers"),
        StatusEvent("writing the answer"),
        TextDelta("It has "),
        TextDelta("354K parameters [1]."),
        FinalAnswer(_answer()),
    ]


def _run(
    assistant: FakeAssistant, question: str, turns: list[Turn] | None = None, **kw: Any
) -> list[tuple[Any, ...]]:
    handler = ui_app.ChatHandler(assistant)  # type: ignore[arg-type]
    args = {"mode": "llm", "k": 5, "source": ui_app.ALL_SOURCES, **kw}
    mode, k, source = args.pop("mode"), args.pop("k"), args.pop("source")
    return list(handler.respond(question, turns or [], mode, k, source, **args))


def test_streamed_deltas_are_shown_then_replaced_by_the_checked_answer() -> None:
    assistant = FakeAssistant(Settings(), _script())
    updates = _run(assistant, "How many parameters?")
    transcripts = [u[0] for u in updates]
    assert "Reading the question…" in transcripts[0]
    assert any("Searching the papers…" in t for t in transcripts)
    drafts = [t for t in transcripts if "sch-draft" in t]
    assert drafts and "<p>It has</p>" in drafts[0]
    # progress and streamed text do not re-send the sources panel
    assert "Looking for sources" in updates[0][1]
    assert all(u[1] == gr.skip() for u in updates[1:-1])
    final, sources, turns, _box, alert, copy, bibtex, download, _examples = updates[-1]
    assert 'data-state="answered"' in final and "sch-draft" not in final
    assert 'href="#sch-src-1-1"' in final and 'id="sch-src-1-1"' in sources
    assert '<mark class="sch-quote">The model has 354K parameters.</mark>' in sources
    assert "&lt;b&gt;bold&lt;/b&gt;" in sources
    assert copy.startswith("It has 354K parameters [1].\n\nReferences:\n[1] A <b>bold</b> paper.")
    assert bibtex.startswith("@misc{") and "A <b>bold</b> paper" in bibtex
    markdown = Path(download["value"]).read_text(encoding="utf-8")
    assert (
        download["visible"] is True
        and "## References" in markdown
        and "[1] *A <b>bold</b> paper*" in markdown
    )
    assert all(u[6] == gr.skip() and u[7] == gr.skip() for u in updates[:-1])
    assert "sch-alert-empty" in alert
    assert updates[0][3] == ""  # the question box is cleared when work starts
    assert len(turns) == 1 and turns[0].answer is not None


def test_follow_up_sends_the_conversation_as_history() -> None:
    assistant = FakeAssistant(Settings(), _script())
    turns = _run(assistant, "How many parameters?")[-1][2]
    assistant.script = _script()
    _run(assistant, "And what block?", turns)
    assert assistant.calls[0]["history"] == []
    assert assistant.calls[1]["history"] == [
        {"role": "user", "content": "How many parameters?"},
        {"role": "assistant", "content": "It has 354K parameters [1]."},
    ]


def test_settings_are_passed_to_the_assistant() -> None:
    assistant = FakeAssistant(Settings(), _script())
    _run(assistant, "q?", mode="extractive", k=3.0, source="001.txt")
    call = assistant.calls[0]
    assert call["mode"] == "extractive" and call["k"] == 3
    assert call["filters"] == SearchFilters(source="001.txt")
    _run(assistant, "q?", mode="llm", k=99, source=ui_app.ALL_SOURCES)
    assert assistant.calls[1]["filters"] is None and assistant.calls[1]["k"] == ui_app.MAX_K
    _run(assistant, "q?", author=" Hinton ", venue="", year_min=2014.0, year_max=None)
    assert assistant.calls[2]["filters"] == SearchFilters(author="Hinton", year_min=2014)


def test_question_error_is_shown_as_a_message_and_the_question_kept() -> None:
    assistant = FakeAssistant(Settings(), QuestionError("the question is empty: please type a question"))
    updates = _run(assistant, "   ")
    transcript, _sources, turns, box, alert, _copy, _bibtex, _download, examples = updates[-1]
    assert turns == [] and 'data-turns="0"' in transcript
    assert box == "   "
    assert alert == '<div class="sch-alert" role="alert">The question is empty: please type a question</div>'
    assert examples["visible"] is True


def test_unexpected_failure_is_reported_without_a_traceback() -> None:
    assistant = FakeAssistant(Settings(), RuntimeError("index <broken>"))
    transcript = _run(assistant, "q?")[-1][0]
    assert 'data-state="error"' in transcript
    assert "RuntimeError: index &lt;broken&gt;" in transcript and "Traceback" not in transcript


def test_stream_ending_without_an_answer_is_an_error() -> None:
    assistant = FakeAssistant(Settings(), [StatusEvent("searching the papers")])
    assert "interrupted" in _run(assistant, "q?")[-1][0]


def test_build_app_without_an_index() -> None:
    assistant = FakeAssistant(Settings(answer={"mode": "extractive"}, retrieval={"k": 7}), _script())
    demo = ui_app.build_app(assistant)  # type: ignore[arg-type]
    assert isinstance(demo, gr.Blocks)
    config = demo.get_config_file()
    by_id = {c.get("props", {}).get("elem_id"): c for c in config["components"]}
    assert by_id["sch-mode"]["props"]["value"] == "extractive"
    assert by_id["sch-k"]["props"]["value"] == 7
    assert ui_app.collection_summary(assistant) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ui", "auth"),
    [
        ({}, None),
        ({"auth_user": "ann"}, None),
        ({"auth_password": "secret"}, None),
        ({"auth_user": "ann", "auth_password": "secret"}, ("ann", "secret")),
    ],
)
def test_serve_binds_loopback_queues_and_uses_auth_only_when_complete(
    monkeypatch: pytest.MonkeyPatch, ui: dict[str, Any], auth: tuple[str, str] | None
) -> None:
    settings = Settings(ui={"concurrency": 3, **ui})
    demo = ui_app.build_app(FakeAssistant(settings, _script()))  # type: ignore[arg-type]
    seen: dict[str, Any] = {}

    def fake_launch(**kw: Any) -> tuple[None, str, None]:
        seen.update(kw)
        return None, "http://127.0.0.1:7860/", None

    monkeypatch.setattr(demo, "launch", fake_launch)
    _, url, share = ui_app.serve(demo, settings.ui)
    assert url.startswith("http://127.0.0.1") and share == ""
    assert seen["server_name"] == "127.0.0.1" and seen["server_port"] == 7860
    assert seen["auth"] == auth and seen["share"] is False and seen["ssr_mode"] is False
    assert demo._queue.default_concurrency_limit == 3


def test_offline_theme_and_analytics() -> None:
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    theme = make_theme()
    assert theme._stylesheets == []
    css = theme._get_theme_css()
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?https?:", css)
    assert "Inter" not in str(theme.font) and "system-ui" in str(theme.font)
