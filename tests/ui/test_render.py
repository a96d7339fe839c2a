"""The UI's pure formatting: markers ↔ source cards, highlighting, escaping, copy text, states."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answer.citations import markers_in
from rag.types import Answer, Citation, CollectionSummary, ModeInfo, Paper, SearchResult
from ui import render
from ui.render import Turn

MIXLN_ID = "p0aa1fb059b0f"
MIXLN_TITLE = "Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN and Post-LN"
MIXLN_ABSTRACT = (
    "Large Language Models (LLMs) have achieved remarkable success. We introduce Mix-LN, a novel "
    "normalization technique that combines the strengths of Pre-LN and Post-LN within the same model. "
    "Mix-LN applies Post-LN to the earlier layers and Pre-LN to the deeper layers, ensuring more uniform "
    "gradients across layers. Extensive experiments with various model sizes from 70M to 7B demonstrate "
    "that Mix-LN consistently outperforms both Pre-LN and Post-LN."
)
AEC_ID = "p3ad5e5a2ffd0"
AEC_TITLE = "End-to-End Complex-Valued Multidilated Convolutional Neural Network"
AEC_ABSTRACT = (
    "Echo and noise suppression is an integral part of a full-duplex communication system. The building "
    "block of the proposed model is a pseudocomplex extension based on the densely-connected multidilated "
    "DenseNet (D3Net) building block, resulting in a very small network of only 354K parameters."
)
AEC_QUOTE = (
    "The building block of the proposed model is a pseudocomplex extension based on the densely-connected "
    "multidilated DenseNet (D3Net) building block, resulting in a very small network of only 354K parameters."
)
MIXLN_QUOTE = (
    "Mix-LN applies Post-LN to the earlier layers and Pre-LN to the deeper layers, ensuring more uniform "
    "gradients across layers."
)


def _papers() -> dict[str, Paper]:
    return {
        MIXLN_ID: Paper(
            id=MIXLN_ID,
            title=MIXLN_TITLE,
            abstract=MIXLN_ABSTRACT,
            sources=("001.txt",),
            urls=("https://github.com/pixeli99/MixLN",),
        ),
        AEC_ID: Paper(id=AEC_ID, title=AEC_TITLE, abstract=AEC_ABSTRACT, sources=("000.txt",)),
    }


def _answer(**kw: object) -> Answer:
    base: dict[str, object] = {
        "question": "What do Mix-LN and the AEC network do?",
        "text": (
            "Mix-LN applies Post-LN to the earlier layers and Pre-LN to the deeper layers [1]. "
            "The AEC network has only 354K parameters [2]. Both are small changes [1][2]."
        ),
        "citations": [
            Citation(1, MIXLN_ID, MIXLN_TITLE, MIXLN_QUOTE, 0.0331, "https://github.com/pixeli99/MixLN"),
            Citation(2, AEC_ID, AEC_TITLE, AEC_QUOTE, 0.0313, None),
        ],
        "sources": [
            SearchResult(MIXLN_ID, MIXLN_TITLE, 0.0331, metadata={"sources": "001.txt"}),
            SearchResult(AEC_ID, AEC_TITLE, 0.0313, metadata={"sources": "000.txt"}),
        ],
        "timings": {"total": 0.42},
    }
    base.update(kw)
    return Answer(**base)  # type: ignore[arg-type]


def _done(answer: Answer, question: str | None = None) -> Turn:
    return Turn(question=question or answer.question, answer=answer, papers=_papers())


def _hrefs(html: str) -> list[str]:
    return re.findall(r'<a class="sch-cite" href="#([^"]+)"', html)


def _ids(html: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', html))


# -- markers and cards -------------------------------------------------------------------------------
def test_every_marker_links_to_the_card_with_its_number() -> None:
    turns = [_done(_answer())]
    page = render.transcript(turns)
    panel = render.sources_panel(turns)
    hrefs = _hrefs(page)
    assert hrefs == ["sch-src-1-1", "sch-src-1-2", "sch-src-1-1", "sch-src-1-2"]
    assert set(hrefs) <= _ids(panel)
    for n in (1, 2):
        pattern = rf'<article class="sch-card" id="sch-src-1-{n}" data-marker="{n}".*?</article>'
        card = re.search(pattern, panel)
        assert card and f'<span class="sch-num">[{n}]</span>' in card.group(0)
    # one card per cited paper, in marker order
    assert re.findall(r'data-paper="(p\w+)"', panel) == [MIXLN_ID, AEC_ID]


def test_card_numbers_follow_citations_not_retrieval_order() -> None:
    answer = _answer(
        text="The AEC network has only 354K parameters [1]. Mix-LN mixes norms [2].",
        citations=[
            Citation(1, AEC_ID, AEC_TITLE, AEC_QUOTE, 0.0313),
            Citation(2, MIXLN_ID, MIXLN_TITLE, MIXLN_QUOTE, 0.0331),
        ],
    )
    panel = render.sources_panel([_done(answer)])
    assert re.search(rf'id="sch-src-1-1" data-marker="1" data-paper="{AEC_ID}"', panel)
    assert re.search(rf'id="sch-src-1-2" data-marker="2" data-paper="{MIXLN_ID}"', panel)


def test_anchors_are_unique_per_turn() -> None:
    turns = [_done(_answer()), _done(_answer(), "And a follow-up?")]
    page, panel = render.transcript(turns), render.sources_panel(turns)
    assert "sch-src-2-1" in _hrefs(page) and "sch-src-1-1" in _hrefs(page)
    ids = re.findall(r'id="(sch-src-[^"]+)"', panel)
    assert len(ids) == len(set(ids)) == 4
    # the latest turn's sources come first and are unfolded
    assert panel.index('id="sch-group-2"') < panel.index('id="sch-group-1"')
    assert re.search(r'<details class="sch-group" id="sch-group-2" data-turn="2" open>', panel)
    assert re.search(r'<details class="sch-group" id="sch-group-1" data-turn="1">', panel)


def test_marker_ranges_and_lists_are_linked() -> None:
    html = render.answer_body("A claim [1, 2]. Another [1-2].", 3, {1, 2})
    assert _hrefs(html) == ["sch-src-3-1", "sch-src-3-2", "sch-src-3-1", "sch-src-3-2"]
    assert render.marker_numbers("x [2] y [1, 3] z [2]") == [2, 1, 3]


def test_marker_without_a_card_is_not_linked() -> None:
    html = render.answer_body("Supported [1]. Dangling [7].", 1, {1})
    assert _hrefs(html) == ["sch-src-1-1"]
    assert "[7]" in html


def _visible(page: str) -> str:
    """What a reader sees of an answer body: line breaks and paragraphs as newlines, no tags."""
    page = page.replace("<br>", "\n").replace("</p><p>", "\n\n")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# Found by the fuzz run (tests/unit/test_fuzz.py): "[0\n]" with no source. Bracket groups
# that are not a valid marker of a known source must read exactly as written.
@pytest.mark.parametrize("known", [set(), {0, 1, 2}], ids=["no-sources", "sources-0-1-2"])
@pytest.mark.parametrize("text", ["[0\n]", "[0 ]", "[ 1\n]", "[\n]", "a [0\n] b", "[1\n]"])
def test_bracket_group_that_is_not_a_marker_is_kept_as_written(text: str, known: set[int]) -> None:
    page = render.answer_body(text, 1, known)
    assert _hrefs(page) == []
    assert _visible(page) == text.strip()


def test_bracket_with_a_newline_is_escaped_text_on_two_lines() -> None:
    assert render.answer_body("[0\n]", 1, set()) == "<p>[0<br>]</p>"
    assert render.answer_body("<b>[0\n]</b>", 1, {0}) == "<p>&lt;b&gt;[0<br>]&lt;/b&gt;</p>"


def test_marker_across_a_line_break_is_linked_only_when_its_sources_exist() -> None:
    text = "Claim [1,\n2] here."
    assert markers_in(text) == {1, 2}  # the library reads it as one marker
    assert _hrefs(render.answer_body(text, 1, {1, 2})) == ["sch-src-1-1", "sch-src-1-2"]
    for known in (set(), {1}, {2}):
        page = render.answer_body(text, 1, known)
        assert _hrefs(page) == [] and _visible(page) == text


@pytest.mark.parametrize(
    ("text", "known"),
    [
        ("[1, 7]", {1}),  # one number has no card
        ("[7]", set()),
        ("[1, 1]", set()),  # was shown as "[1]"
        ("[1-3]", {1, 2}),  # was "[1][2]" linked plus an invented "[3]"
        ("[1-50]", set(range(1, 51))),  # the parser caps ranges: was 21 links, 22..50 lost
        ("[5-2]", {2, 5}),  # a reversed range expands to nothing
        ("[1,\n\n2]", {1, 2}),  # split over two paragraphs
    ],
)
def test_marker_group_not_fully_linkable_is_shown_as_written(text: str, known: set[int]) -> None:
    page = render.answer_body(text, 1, known)
    assert _hrefs(page) == []
    assert _visible(page) == text


def test_valid_markers_are_still_linked_and_respelled() -> None:
    page = render.answer_body("A [1, 2]. B [2-3]. C [1][3]. D [1;3].", 2, {1, 2, 3})
    assert [h[-1] for h in _hrefs(page)] == list("12231313")
    assert _visible(page) == "A [1][2]. B [2][3]. C [1][3]. D [1][3]."


# -- highlighting -----------------------------------------------------------------------------------
def test_quote_is_highlighted_inside_the_abstract() -> None:
    html, found = render.highlight(AEC_ABSTRACT, AEC_QUOTE)
    assert found
    assert html.count("<mark") == 1
    marked = re.search(r'<mark class="sch-quote">(.*?)</mark>', html)
    assert marked and "354K parameters." in marked.group(1)
    assert html.startswith("Echo and noise suppression")  # the rest of the abstract stays


def test_multi_sentence_quote_with_a_gap_gets_two_marks() -> None:
    first = "We introduce Mix-LN, a novel normalization technique that combines the strengths of Pre-LN and "
    first += "Post-LN within the same model."
    last = "Extensive experiments with various model sizes from 70M to 7B demonstrate that Mix-LN "
    last += "consistently outperforms both Pre-LN and Post-LN."
    html, found = render.highlight(MIXLN_ABSTRACT, f"{first} {last}")
    assert found and html.count("<mark") == 2
    assert MIXLN_QUOTE in re.sub(r"<[^>]+>", "", html)


def test_adjacent_sentences_merge_into_one_mark_and_whitespace_is_tolerated() -> None:
    abstract = "First sentence here.  Second   sentence\nhere. Third one."
    spans = render.quote_spans(abstract, "First sentence here. Second sentence here.")
    assert spans == [(0, abstract.index(" Third"))]


def test_quote_missing_from_the_abstract_is_shown_on_its_own() -> None:
    citation = Citation(1, AEC_ID, AEC_TITLE, "A sentence that is not in the abstract.", 0.03)
    card = render.citation_card(1, citation, _papers()[AEC_ID])
    assert '<blockquote class="sch-support"><mark class="sch-quote">A sentence that is not' in card
    assert "Echo and noise suppression" in card


def test_card_shows_title_code_link_score_and_source_file() -> None:
    panel = render.sources_panel([_done(_answer())])
    card = re.search(r'<article[^>]*id="sch-src-1-1".*?</article>', panel)
    assert card
    html = card.group(0)
    assert MIXLN_TITLE in html and "score 0.033" in html and "001.txt" in html
    assert 'href="https://github.com/pixeli99/MixLN"' in html and "code: pixeli99/MixLN" in html
    assert 'rel="noopener noreferrer"' in html
    assert '<mark class="sch-quote">Mix-LN applies Post-LN' in html


# -- escaping ---------------------------------------------------------------------------------------
EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


def test_html_in_titles_abstracts_answers_and_questions_is_escaped() -> None:
    paper = Paper(
        id=AEC_ID, title=f"Title {EVIL}", abstract=f"Abstract {EVIL_IMG}. {AEC_QUOTE}", sources=("a.txt",)
    )
    answer = _answer(
        question=f"{EVIL} what is Mix-LN?",
        text=f"It is {EVIL_IMG} something [1].",
        citations=[Citation(1, AEC_ID, f"Title {EVIL}", AEC_QUOTE, 0.03)],
        notice=f"Notice {EVIL}",
        flagged=[f"Flagged {EVIL}"],
        translation=f"Translated {EVIL}?",
    )
    turns = [Turn(question=answer.question, answer=answer, papers={AEC_ID: paper})]
    html = render.transcript(turns) + render.sources_panel(turns)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_pending_draft_status_and_errors_are_escaped() -> None:
    turns = [
        Turn(question=EVIL, status=f"searching {EVIL}", draft=f"Draft {EVIL} [1]"),
        Turn(question="q", error=f"failed {EVIL}"),
    ]
    html = render.transcript(turns)
    assert "<script" not in html
    assert html.count("&lt;script&gt;") == 4


def test_unsafe_urls_are_not_linked() -> None:
    paper = Paper(id=AEC_ID, title=AEC_TITLE, abstract=AEC_ABSTRACT, urls=("javascript:alert(1)",))
    citation = Citation(1, AEC_ID, AEC_TITLE, AEC_QUOTE, 0.03, url='https://x.org/"><script>')
    card = render.citation_card(1, citation, paper)
    assert "javascript:" not in card and "<script>" not in card
    assert 'href="https://x.org/&quot;&gt;&lt;script&gt;"' in card
    assert render.safe_url("ftp://x.org/a") is None and render.safe_url("https://github.com/a/b")


def test_links_are_the_urls_that_were_checked() -> None:
    """Found by the explore fuzz run: ``"\\x08HTTP://0"`` was checked as ``http://0`` (urlsplit
    and browsers drop leading control characters) but linked with the control character."""
    assert render.safe_url("\x08HTTP://0") == "HTTP://0"
    assert render.safe_url(" \x00https://git\thub.com/a/b\n") == "https://github.com/a/b"
    for url in ("\x08javascript:alert(1)", "java\tscript:alert(1)", "\x01 data:text/html,x"):
        assert render.safe_url(url) is None
    citation = Citation(1, AEC_ID, AEC_TITLE, AEC_QUOTE, 0.03, url="\x08HTTP://x.org/a")
    assert 'href="HTTP://x.org/a"' in render.citation_card(1, citation, None)
    answer = _answer(citations=[citation], text="A claim [1].")
    assert "[1] " + AEC_TITLE + ". HTTP://x.org/a" in render.copy_text(answer)


_OUR_TAGS = re.compile(
    r'</?p>|<br>|</a>|<a class="sch-cite" href="#sch-src-1-\d+" data-marker="\d+" title="Source \d+">'
)


@given(st.text(max_size=300))
def test_answer_text_never_produces_markup(text: str) -> None:
    html = render.answer_body(text, 1, {1, 2, 3})
    assert "<" not in _OUR_TAGS.sub("", html)


@given(st.text(max_size=200), st.text(max_size=80))
def test_highlight_never_produces_markup_and_keeps_the_text(abstract: str, quote: str) -> None:
    html, _ = render.highlight(abstract, quote)
    stripped = re.sub(r'<mark class="sch-quote">|</mark>', "", html)
    assert "<" not in stripped
    assert stripped == render.esc(abstract)


# -- states -----------------------------------------------------------------------------------------
def _abstained() -> Answer:
    closest = [
        SearchResult("p5dfe625c158d", "Sequence to Sequence Learning with Neural Networks", 0.0328),
        SearchResult("p18901c16870e", "Neural Machine Translation in Linear Time", 0.0323),
        SearchResult("p6bb6aea7456a", "Google's Neural Machine Translation System", 0.0308),
        SearchResult("p19660ff8fd9d", "Memory-Efficient Differentiable Transformer Search", 0.0288),
    ]
    return Answer(
        question="What BLEU score does ByteNet reach on WMT En-De?",
        text="The corpus does not answer this question. The closest papers are: Sequence to Sequence "
        "Learning with Neural Networks; Neural Machine Translation in Linear Time.",
        abstained=True,
        sources=closest,
    )


def test_abstained_answer_is_labelled_and_offers_the_closest_papers() -> None:
    turns = [Turn(question="What BLEU score does ByteNet reach?", answer=_abstained())]
    page, panel = render.transcript(turns), render.sources_panel(turns)
    assert 'data-state="abstained"' in page and "Not answered by the corpus" in page
    assert not _hrefs(page)
    links = re.findall(r'<li><a href="#(sch-near-1-\d)">', page)
    assert links == ["sch-near-1-1", "sch-near-1-2", "sch-near-1-3"]
    assert set(links) <= _ids(panel)
    assert "Closest papers (they do not answer the question)" in panel
    assert "Memory-Efficient" not in panel  # only the closest three
    assert "<mark" not in panel


def test_the_badge_says_why_a_question_was_not_answered_or_how_it_was_found() -> None:
    from dataclasses import replace

    from rag.answer.answerable import REASONS

    unread = replace(
        _abstained(),
        answerability={
            "answerable": False,
            "reason": REASONS["foreign_without_names"],
            "cause": "foreign_without_names",
        },
    )
    assert render.state_badge(unread) == ("unread", "Question not read: ask in English or name the work")
    page = render.transcript([Turn(question="Je cherche ...", answer=unread)])
    assert "Question not read" in page and "Not answered by the corpus" not in page
    assert render.state_badge(_abstained())[0] == "abstained"
    # The badge reads the cause key, not the words (which may be reworded).
    reworded = replace(unread, answerability={**unread.answerability, "reason": "reworded"})
    assert render.state_badge(reworded)[0] == "unread"
    withheld = replace(unread, answerability={"answerable": False, "cause": "unverified"})
    assert render.state_badge(withheld) == ("withheld", "Answer withheld: it could not be verified")
    across = replace(_abstained(), abstained=False, crosslingual=True, text="X — y [1].")
    assert render.state_badge(across) == ("crosslingual", "Found across languages")
    assert render.state_badge(replace(across, crosslingual=False)) is None


def test_notice_and_flagged_sentences_are_visible() -> None:
    answer = _answer(
        notice="The language model was unavailable (timeout); showing an extractive answer instead.",
        flagged=["An unsupported claim."],
        mode=ModeInfo(requested="llm", generator="extractive", fallback_reason="llm_unavailable"),
    )
    page = render.transcript([_done(answer)])
    assert '<div class="sch-notice" role="status"><strong>Note:</strong> The language model was' in page
    assert "1 unsupported sentence removed" in page and "An unsupported claim." in page
    assert "extractive (fallback)" in page


def test_translated_question_is_shown() -> None:
    answer = _answer(question="Qu'est-ce que Mix-LN ?", translation="What is Mix-LN?")
    page = render.transcript([_done(answer)])
    note = "Translated for the search: What is Mix-LN?"
    assert f'<div class="sch-how" data-translated="true">{note}</div>' in page
    assert "data-translated" not in render.transcript([_done(_answer())])


def test_pending_turn_shows_progress_and_the_draft() -> None:
    page = render.transcript([Turn(question="q?", status="searching the papers")])
    assert 'data-state="pending"' in page and "Searching the papers…" in page
    assert "sch-draft" not in page
    page = render.transcript([Turn(question="q?", status="writing the answer", draft="Mix-LN is [1")])
    assert '<div class="sch-draft"' in page and "Mix-LN is [1" in page
    assert "Looking for sources" in render.sources_panel([Turn(question="q?")])


def test_footer_shows_mode_and_timings() -> None:
    smol = ModeInfo(requested="llm", generator="llm", model="/site-packages/x/SmolLM2.gguf")
    answer = _answer(mode=smol, timings={"first_token": 1.25, "total": 3.5})
    page = render.transcript([_done(answer)])
    assert '<div class="sch-meta">llm:SmolLM2.gguf · first token 1.2 s · 3.5 s</div>' in page
    qwen = ModeInfo(requested="llm", generator="llm", model="qwen2.5-coder-1.5b")
    assert "llm:qwen2.5-coder-1.5b ·" in render.transcript([_done(_answer(mode=qwen))])


def test_empty_screen_and_alert() -> None:
    assert 'data-turns="0"' in render.transcript([]) and "Ask about the papers" in render.transcript([])
    assert "sch-alert-empty" in render.alert(None)
    assert render.alert("the question is empty") == (
        '<div class="sch-alert" role="alert">The question is empty</div>'
    )
    assert "&lt;b&gt;" in render.alert("<b>")


# -- plain text and history ----------------------------------------------------------------------------
def test_copy_text_has_the_answer_and_a_numbered_reference_list() -> None:
    answer = _answer(notice="A notice.")
    text = render.copy_text(answer, _papers())
    assert text == (
        f"{answer.text}\n\nNote: A notice.\n\nReferences:\n"
        f"[1] {MIXLN_TITLE}. https://github.com/pixeli99/MixLN\n"
        f'    "{MIXLN_QUOTE}"\n'
        f"[2] {AEC_TITLE}.\n"
        f'    "{AEC_QUOTE}"'
    )
    assert "<" not in text


def test_copy_text_of_an_abstained_answer_lists_the_closest_papers() -> None:
    text = render.copy_text(_abstained())
    assert text.endswith(
        "Closest papers:\n- Sequence to Sequence Learning with Neural Networks\n"
        "- Neural Machine Translation in Linear Time\n- Google's Neural Machine Translation System"
    )
    assert render.copy_text(None) == ""


def test_history_holds_finished_turns_as_messages() -> None:
    turns = [_done(_answer()), Turn(question="pending?"), Turn(question="bad", error="boom")]
    assert render.history(turns) == [
        {"role": "user", "content": "What do Mix-LN and the AEC network do?"},
        {"role": "assistant", "content": _answer().text},
    ]


def test_papers_to_fetch() -> None:
    assert render.papers_to_fetch(_answer()) == [MIXLN_ID, AEC_ID]
    assert render.papers_to_fetch(_abstained()) == ["p5dfe625c158d", "p18901c16870e", "p6bb6aea7456a"]


def test_a_paper_with_two_urls_gets_two_working_links() -> None:
    """Chunk metadata joins URLs with a space (rag/index/metadata.py); the card must split them the
    same way, not on "|" (which turned two URLs into one broken link)."""
    from rag.index.metadata import meta_list, paper_metadata

    urls = ("https://github.com/a/one", "https://example.org/two")
    paper = Paper(
        id="p2", title="Two links", abstract="An abstract.", sources=("a b.txt", "c.txt"), urls=urls
    )
    meta = paper_metadata(paper)
    assert meta_list(meta, "urls") == list(urls) and meta_list(meta, "sources") == ["a b.txt", "c.txt"]
    result = SearchResult("p2", "Two links", 0.5, metadata=meta)
    html_out = render.closest_card(1, 1, result, None)
    hrefs = re.findall(r'href="([^"]+)"', html_out)
    assert hrefs == list(urls)


def test_header_describes_the_loaded_collection() -> None:
    assert "260 papers from 3 files (000.txt, 001.txt, 002.txt)" in render.header(
        CollectionSummary(260, ("000.txt", "001.txt", "002.txt"))
    )
    many = render.header(CollectionSummary(1, tuple(f"f{i}.bib" for i in range(6))))
    assert "1 paper from 6 files (f0.bib, f1.bib, f2.bib, f3.bib and 2 more)" in many
    assert "Answers about 1,200 papers, citing" in render.header(CollectionSummary(1200))
    assert "your collection" in render.header()
    assert "<b>" not in render.header(CollectionSummary(2, ("<b>.csv",)))
