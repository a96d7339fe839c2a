"""The answering pipeline: question → standalone query → retrieval → evidence → generation
(LLM or extractive) → citation checking → Answer. Emits events so callers can stream."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from ..generate.errors import LLMError
from ..index.store import ScholiumIndex
from ..retrieve import HybridRetriever, RetrievalTrace, SearchFilters
from ..settings import Settings
from ..types import Answer, AnswerEvent, FinalAnswer, SearchResult, StatusEvent, TextDelta
from .citations import CheckedSentence, check_citations, render
from .evidence import EvidenceItem, render_evidence, select_evidence
from .extractive import extract
from .prompts import load_prompt
from .question import asks_for_papers, clean_question, needs_context, rule_based_standalone
from .sanitize import neutralize, neutralize_tokens
from .sentences import split_sentences
from .support import SentenceEmbedder, SupportScorer

if TYPE_CHECKING:
    from ..generate.client import LLMClient

log = logging.getLogger(__name__)
AnswerMode = Literal["llm", "extractive"]
SUPPORT_THRESHOLD = 0.45
_REFUSAL = re.compile(
    r"NOT_IN_CORPUS|not (in|covered by) the (corpus|sources|abstracts)"
    r"|(sources|abstracts|corpus|context)( provided)? (do|does) not (contain|provide|mention|include|say"
    r"|state|report|specify|answer)|no information (about|on|regarding)"
    r"|(is|are) not (mentioned|stated|specified|reported|provided|given) in",
    re.IGNORECASE,
)
NO_ANSWER = "The corpus does not answer this question."
Message = dict[str, str]


class AnswerPipeline:
    """Answers questions over a ScholiumIndex; one instance serves many questions."""

    def __init__(self, settings: Settings, index: ScholiumIndex, retriever: HybridRetriever) -> None:
        self.settings = settings
        self.index = index
        self.retriever = retriever
        self._scorer: SupportScorer | None = None
        self._llm: LLMClient | None = None

    @property
    def scorer(self) -> SupportScorer:
        """Support/relevance scorer sharing the index's embedding model."""
        if self._scorer is None:
            self._scorer = SupportScorer(SentenceEmbedder(self.index.embed_model))
        return self._scorer

    @property
    def llm(self) -> LLMClient:
        """The generator client (the local server starts on first request)."""
        if self._llm is None:
            from ..generate.client import LLMClient  # imports openai (~1 s): only when used

            self._llm = LLMClient(self.settings)
        return self._llm

    # -- stages ----------------------------------------------------------------------------
    def standalone(self, question: str, history: list[Message], mode: AnswerMode) -> str:
        """A question retrieval can use without the conversation."""
        if not history or not needs_context(question):
            return question
        if mode == "llm":
            turns = "\n".join(f"{m['role']}: {neutralize(m['content'][:1500])}" for m in history[-6:])
            prompt = load_prompt("condense").render(history=turns, question=neutralize_tokens(question))
            try:
                text = self.llm.chat([{"role": "user", "content": prompt}], max_tokens=96).strip()
                text = text.splitlines()[0].strip().strip('"') if text else ""
                if 3 <= len(text) <= 4 * len(question) + 400:
                    return text
            except LLMError as exc:
                log.warning("condense failed (%s); using the rule-based rewrite", exc)
        return rule_based_standalone(question, history)

    def abstain(self, answer: Answer, results: list[SearchResult]) -> Answer:
        """Turn ``answer`` into "the corpus does not answer this", listing the closest papers."""
        answer.abstained = True
        answer.citations = []
        closest = "; ".join(r.title for r in results[:3] if r.title)
        answer.text = NO_ANSWER + (f" The closest papers are: {closest}." if closest else "")
        return answer

    def _finish(self, answer: Answer, checked: list[CheckedSentence], evidence: list[EvidenceItem]) -> Answer:
        answer.text, answer.citations = render(checked, evidence, self.scorer)
        return answer

    # -- main entry ------------------------------------------------------------------------
    def run(
        self,
        question: str,
        history: list[Message] | None = None,
        *,
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer ``question``; yields StatusEvent/TextDelta events and ends with FinalAnswer.

        Raises ``QuestionError`` (a ``ValueError``) for an empty or oversized question.
        """
        started = time.perf_counter()
        cfg = self.settings.answer
        question = clean_question(question, cfg.max_question_chars)
        history = [
            {"role": m["role"], "content": str(m.get("content") or "")}
            for m in (history or [])
            if m.get("role") in ("user", "assistant")
        ]
        mode = mode or cfg.mode
        answer = Answer(question=question, text="", mode=mode)
        timings = answer.timings

        clock = time.perf_counter()
        standalone = self.standalone(question, history, mode)
        timings["condense"] = time.perf_counter() - clock
        answer.standalone_question = standalone

        yield StatusEvent("searching the papers")
        trace = RetrievalTrace()
        clock = time.perf_counter()
        results = self.retriever.search(standalone, k, filters=filters, trace=trace)
        timings.update(trace.timings)
        timings["retrieve"] = time.perf_counter() - clock
        answer.sources = results

        clock = time.perf_counter()
        papers = self.index.papers.get([r.paper_id for r in results])
        # Extractive follow-ups: retrieval uses the rewrite, sentences are scored against the
        # question itself within the paper the conversation is about (the top hit).
        focus = standalone if mode == "llm" else question
        evidence = select_evidence(
            focus,
            results,
            papers,
            self.scorer,
            sentences_per_paper=cfg.sentences_per_paper,
            token_budget=cfg.evidence_token_budget,
        )
        timings["evidence"] = time.perf_counter() - clock
        best = max((e.best_relevance for e in evidence), default=0.0)
        if best < cfg.min_relevance:
            log.info("abstaining before generation: best evidence relevance %.3f", best)
            timings["total"] = time.perf_counter() - started
            yield FinalAnswer(self.abstain(answer, results))
            return

        if mode == "llm":
            try:
                yield from self._generate(answer, standalone, question, evidence)
            except LLMError as exc:
                log.warning("LLM failed: %s; falling back to the extractive answer", exc)
                answer.notice = (
                    f"The language model was unavailable ({exc}); showing an extractive answer instead."
                )
                answer.mode = "extractive (fallback)"
                mode = "extractive"
        if mode == "extractive":
            clock = time.perf_counter()
            follow_up = standalone != question
            picked = extract(
                focus,
                evidence[:1] if follow_up else evidence,
                max_sentences=cfg.extractive_sentences,
                min_relevance=cfg.extractive_min_relevance,
            )
            if picked:
                self._finish(answer, picked, evidence)
            else:
                self.abstain(answer, results)
            timings["generate"] = time.perf_counter() - clock
        timings["total"] = time.perf_counter() - started
        yield FinalAnswer(answer)

    def _generate(
        self, answer: Answer, standalone: str, question: str, evidence: list[EvidenceItem]
    ) -> Iterator[AnswerEvent]:
        timings = answer.timings
        asked = question if standalone == question else f"{standalone} (asked as: {question})"
        messages = [
            {"role": "system", "content": load_prompt("system").render()},
            {
                "role": "user",
                "content": load_prompt("answer").render(
                    evidence=render_evidence(evidence), question=neutralize_tokens(asked)
                ),
            },
        ]
        yield StatusEvent("writing the answer")
        clock = time.perf_counter()
        parts: list[str] = []
        for delta in self.llm.stream(messages, max_tokens=self.settings.llm.max_tokens):
            if not parts:
                timings["first_token"] = time.perf_counter() - clock
            parts.append(delta)
            yield TextDelta(delta)
        timings["generate"] = time.perf_counter() - clock
        answer.mode = (
            f"llm:{self.settings.llm.model if self.settings.llm.base_url else self.settings.local.model}"
        )
        raw = "".join(parts).strip()
        log.debug("raw model answer: %r", raw)
        clock = time.perf_counter()
        refused = not raw or raw.upper().startswith("NOT_IN_CORPUS")
        kept_text = _expand_bare_markers(" ".join(_sentences_without_refusals(raw)), evidence)
        checked = check_citations(kept_text, evidence, self.scorer, SUPPORT_THRESHOLD)
        timings["verify"] = time.perf_counter() - clock
        answer.flagged = checked.flagged
        if (refused or not checked.sentences) and asks_for_papers(standalone):
            # Small models often refuse "which paper ..." questions that retrieval answers; the
            # extractive answer quotes the matching papers, so it cannot invent anything.
            picked = extract(
                standalone,
                evidence,
                max_sentences=self.settings.answer.extractive_sentences,
                min_relevance=self.settings.answer.extractive_min_relevance,
            )
            if picked:
                answer.mode = "extractive (the model found no answer)"
                self._finish(answer, picked, evidence)
                return
        if refused or not checked.sentences:
            self.abstain(answer, answer.sources)
            if not refused and checked.flagged:
                answer.notice = (
                    "The model's answer could not be verified against the sources, so it was withheld."
                )
            return
        self._finish(answer, checked.sentences, evidence)


_ONLY_MARKERS = re.compile(r"^[\s\[\]\d,;.:\-–]*$")


def _expand_bare_markers(text: str, evidence: list[EvidenceItem]) -> str:
    """A reply made only of markers ("[1], [2][3]") points at papers: name them, so the
    citations can be checked like any sentence."""
    if not text or not _ONLY_MARKERS.match(text) or not re.search(r"\d", text):
        return text
    by_marker = {item.marker: item for item in evidence}
    wanted = [int(n) for n in re.findall(r"\d+", text)]
    return " ".join(f"{by_marker[n].title} [{n}]." for n in dict.fromkeys(wanted) if n in by_marker)


def _sentences_without_refusals(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for sentence in split_sentences(line):
            if not _REFUSAL.search(sentence):
                out.append(sentence)
    return out
