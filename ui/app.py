"""The Gradio app: a chat whose answers stream in, with the cited papers in a sources panel.

``launch(settings)`` serves it (``scholium chat``); ``build_app(assistant)`` builds the Blocks
for tests, which start it with :func:`serve`. The UI only calls :class:`rag.Assistant`: all
answering happens there; this module turns its events into page updates.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI

from rag import Assistant, SearchFilters, Settings
from rag.answer import QuestionError
from rag.settings import UISettings
from rag.types import Answer, CollectionSummary, FinalAnswer, Paper, StatusEvent, TextDelta

from . import render
from .render import Turn
from .theme import COPY_JS, CSS, SCROLL_JS, TOGGLE_THEME_JS, make_theme

log = logging.getLogger(__name__)

EXAMPLES = [
    "How many parameters does the complex-valued AEC network built on D3Net blocks have?",
    "What is Mix-LN and which problem of LayerNorm placement does it address?",
    "What BLEU score does the LSTM sequence-to-sequence model reach on WMT'14 English to French?",
    "Does global magnitude pruning need complex pruning heuristics?",
]
ALL_SOURCES = "All source files"
MODES = [("LLM (generated, citations verified)", "llm"), ("Extractive (quotes only, instant)", "extractive")]
STREAM_INTERVAL_S = 0.05
MAX_K = 10


def collection_summary(assistant: Assistant) -> CollectionSummary | None:
    """What the index holds, for the header and the source filter (``None`` if the index cannot
    say: the page stays generic rather than failing)."""
    try:
        return assistant.summary()
    except Exception:
        log.exception("could not describe the collection")
        return None


class ChatHandler:
    """Turns one question into a stream of page updates (runs in Gradio's worker threads)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        # Markdown files offered by "Download answer" (Gradio serves files from the temp dir).
        self.export_dir = Path(tempfile.mkdtemp(prefix="scholium-answers-"))

    def exports(self, answer: Answer, papers: dict[str, Paper]) -> tuple[str, str, Any]:
        """(plain text with references, BibTeX of the cited papers, download-button update)."""
        path = self.export_dir / f"scholium-answer-{uuid.uuid4().hex[:8]}.md"
        path.write_text(answer.to_markdown(), encoding="utf-8")
        download = gr.update(value=str(path), visible=True)
        return render.copy_text(answer, papers), answer.to_bibtex(), download

    def respond(
        self,
        question: str,
        turns: list[Turn] | None,
        mode: str,
        k: float,
        source: str | None,
        author: str | None = None,
        venue: str | None = None,
        year_min: float | None = None,
        year_max: float | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Yields (transcript, sources, turns, question box, alert, copy text, BibTeX, download,
        examples)."""
        turns = list(turns or [])
        question = question or ""
        history = render.history(turns)
        turn = Turn(question=question, status="reading the question")
        turns.append(turn)
        yield self._page(turns, "", gr.skip())

        filters = SearchFilters(
            source=source if source and source != ALL_SOURCES else None,
            author=(author or "").strip() or None,
            venue=(venue or "").strip() or None,
            year_min=int(year_min) if year_min else None,
            year_max=int(year_max) if year_max else None,
        )
        events = self.assistant.stream(
            question,
            history=history,
            mode="llm" if mode == "llm" else "extractive",
            k=max(1, min(MAX_K, int(k))) if k else None,
            filters=None if filters.empty else filters,
        )
        last = 0.0
        try:
            for event in events:
                if isinstance(event, StatusEvent):
                    turn.status = event.message
                    last = time.monotonic()
                    yield self._page(turns, gr.skip(), gr.skip(), panel=False)
                elif isinstance(event, TextDelta):
                    first = not turn.draft
                    turn.draft += event.text
                    now = time.monotonic()
                    if first or now - last >= STREAM_INTERVAL_S:
                        last = now
                        yield self._page(turns, gr.skip(), gr.skip(), panel=False)
                elif isinstance(event, FinalAnswer):
                    turn.answer = event.answer
                    turn.papers = self.assistant.papers(render.papers_to_fetch(event.answer))
                    yield self._page(turns, gr.skip(), self.exports(turn.answer, turn.papers))
                    return
        except QuestionError as exc:
            # An empty or oversized question: give it back for editing, with the reason.
            turns.pop()
            yield self._page(turns, question, gr.skip(), error=str(exc))
            return
        except Exception as exc:
            log.exception("answering %r failed", question[:200])
            turn.error = f"Something went wrong while answering ({type(exc).__name__}: {exc})."
            yield self._page(turns, gr.skip(), gr.skip())
            return
        turn.error = "The answer was interrupted before it was complete."
        yield self._page(turns, gr.skip(), gr.skip())

    @staticmethod
    def _page(
        turns: list[Turn], box: Any, exports: Any, *, error: str | None = None, panel: bool = True
    ) -> tuple[Any, ...]:
        # Progress and streamed text leave the sources panel as it is (``panel=False``); the
        # exports (copy text, BibTeX, download) change only with a final answer. Every update
        # states the example buttons' visibility (shown only on an empty screen).
        copy, bibtex, download = exports if isinstance(exports, tuple) else (gr.skip(),) * 3
        return (
            render.transcript(turns),
            render.sources_panel(turns) if panel else gr.skip(),
            turns,
            box,
            render.alert(error),
            copy,
            bibtex,
            download,
            gr.update(visible=not turns),
        )


def _export_box(elem_id: str) -> Any:
    """A read-only text box with a copy button (the answer as text, its BibTeX)."""
    return gr.Textbox(show_label=False, lines=6, interactive=False, buttons=["copy"], elem_id=elem_id)


def _fill(question: str) -> Any:
    def fill() -> str:
        return question

    return fill


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks of the chat UI over ``assistant`` (start it with :func:`serve`)."""
    settings = assistant.settings
    handler = ChatHandler(assistant)
    with gr.Blocks(title="Scholium", analytics_enabled=False, fill_width=True) as demo:
        with gr.Row(elem_id="sch-header"):
            title = gr.HTML(render.header(), js_on_load=None, elem_id="sch-title")
            theme_button = gr.Button("Light / dark", size="sm", elem_id="sch-theme", scale=0)
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                transcript = gr.HTML(
                    render.transcript([]), elem_id="sch-transcript", js_on_load=None, padding=True
                )
                with gr.Column(elem_id="sch-examples", visible=True) as examples:
                    gr.HTML("<strong>Try one of these:</strong>", js_on_load=None)
                    example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask a question about the papers…",
                        show_label=False,
                        lines=2,
                        max_lines=8,
                        scale=5,
                        autofocus=True,
                        elem_id="sch-question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="sch-ask")
                alert = gr.HTML(render.alert(None), elem_id="sch-alert", js_on_load=None)
                with gr.Row():
                    copy_button = gr.Button(
                        "Copy answer with references", size="sm", elem_id="sch-copy", scale=0
                    )
                    download = gr.DownloadButton(
                        "Download answer (Markdown)",
                        size="sm",
                        elem_id="sch-download",
                        scale=0,
                        visible=False,
                    )
                    clear = gr.Button("New conversation", size="sm", elem_id="sch-clear", scale=0)
                with gr.Accordion("Settings", open=False, elem_id="sch-settings"):
                    mode = gr.Radio(
                        MODES, value=settings.answer.mode, label="Answer mode", elem_id="sch-mode"
                    )
                    k = gr.Slider(
                        1,
                        MAX_K,
                        value=min(settings.retrieval.k, MAX_K),
                        step=1,
                        label="Number of papers to search (k)",
                        elem_id="sch-k",
                    )
                    source = gr.Dropdown(
                        [ALL_SOURCES],
                        value=ALL_SOURCES,
                        label="Only papers from source file",
                        elem_id="sch-source",
                    )
                    with gr.Row():
                        author = gr.Textbox(label="Author contains", elem_id="sch-author", max_lines=1)
                        venue = gr.Textbox(label="Venue contains", elem_id="sch-venue", max_lines=1)
                    with gr.Row():
                        year_min = gr.Number(label="From year", precision=0, elem_id="sch-year-min")
                        year_max = gr.Number(label="To year", precision=0, elem_id="sch-year-max")
                with gr.Accordion("Answer with references (plain text)", open=False):
                    copy_box = _export_box("sch-copy-text")
                with gr.Accordion("BibTeX of the cited papers", open=False, elem_id="sch-bibtex-box"):
                    bibtex_box = _export_box("sch-bibtex")
            with gr.Column(scale=2, min_width=320, elem_id="sch-sources-box"):
                gr.HTML("<h3 style='margin:0'>Sources</h3>", js_on_load=None)
                sources = gr.HTML(render.sources_panel([]), elem_id="sch-sources", js_on_load=None)

        outputs = [transcript, sources, turns, question, alert, copy_box, bibtex_box, download, examples]
        inputs = [question, turns, mode, k, source, author, venue, year_min, year_max]
        options: dict[str, Any] = {"show_progress": "hidden", "concurrency_id": "answer"}
        question.submit(handler.respond, inputs, outputs, **options)
        ask.click(handler.respond, inputs, outputs, **options)
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(_fill(text), None, question, queue=False).then(
                handler.respond, inputs, outputs, **options
            )
        transcript.change(None, None, None, js=SCROLL_JS)

        def new_conversation() -> tuple[Any, ...]:
            empty: list[Turn] = []
            page = (render.transcript(empty), render.sources_panel(empty), "", "", render.alert(None))
            return (empty, *page, gr.update(value=None, visible=False), gr.update(visible=True))

        clear.click(
            new_conversation,
            None,
            [turns, transcript, sources, copy_box, bibtex_box, alert, download, examples],
            queue=False,
        )
        copy_button.click(None, [copy_box], None, js=COPY_JS)
        theme_button.click(None, None, None, js=TOGGLE_THEME_JS)

        def load_sources() -> tuple[Any, str]:
            summary = collection_summary(assistant)
            files = list(summary.files) if summary else []
            return gr.update(choices=[ALL_SOURCES, *files]), render.header(summary)

        demo.load(load_sources, None, [source, title], show_progress="hidden")
    return demo  # type: ignore[no-any-return]


def serve(
    demo: gr.Blocks,
    ui_settings: UISettings,
    *,
    host: str | None = None,
    port: int | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> tuple[FastAPI, str, str]:
    """Queue and launch ``demo`` with Scholium's theme: bound to ``ui_settings.host`` (loopback
    by default), basic auth when both user and password are set, nothing fetched online."""
    demo.queue(default_concurrency_limit=ui_settings.concurrency)
    auth = None
    if ui_settings.auth_user and ui_settings.auth_password:
        auth = (ui_settings.auth_user, ui_settings.auth_password.get_secret_value())
    app, local_url, share_url = demo.launch(
        server_name=host or ui_settings.host,
        server_port=port or ui_settings.port,
        auth=auth,
        share=False,
        inbrowser=False,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        footer_links=["settings"],
        theme=make_theme(),
        css=CSS,
    )
    return app, local_url, share_url or ""


def _warm_up(assistant: Assistant) -> None:
    """Load the index and the embedding model before the first question arrives."""
    try:
        assistant.ask("warm up", mode="extractive")
    except Exception:
        log.exception("warm-up failed (the first question will be slower)")


def launch(settings: Settings | None = None) -> None:
    """Serve the UI until interrupted (``scholium chat``)."""
    settings = settings or Settings()
    assistant = Assistant(settings)
    demo = build_app(assistant)
    threading.Thread(target=_warm_up, args=(assistant,), name="scholium-warm-up", daemon=True).start()
    serve(demo, settings.ui)
