"""The answering pipeline, in explicit stages, each a small typed step that returns a value:

``plan`` (:mod:`.plan`: question kind, what the answer must contain) → ``gather`` (:mod:`.gather`:
retrieval shaped by the plan, numbered evidence sentences) → ``generate`` (:mod:`.generate`: from
retrieval's ranking, quoted sentences, or the LLM) → ``verify`` (:mod:`.verify`: citations
checked, plan enforced, repairs) → ``render`` (:func:`citations.render`: markers renumbered, one
citation per paper) → :class:`~rag.types.Answer`.

:meth:`AnswerPipeline.run` yields events so callers can stream (status, the model's raw text,
then the checked answer).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from ..generate.errors import LLMError
from ..index.ids import paper_of
from ..index.store import ScholiumIndex
from ..retrieve import HybridRetriever, RetrievalTrace, SearchFilters
from ..retrieve.query import lexical_query
from ..retrieve.spelling import Correction, chunk_count, correct_spelling
from ..settings import Settings
from ..tokens import count_tokens
from ..types import Answer, AnswerEvent, FinalAnswer, ModeInfo, SearchResult, StatusEvent, TextDelta
from .answerable import Answerability, after_answer_stage, decide, relevance_gate
from .citations import CheckedSentence, render
from .evidence import EvidenceItem, render_item
from .gather import Evidence, gather
from .generate import Draft, Generator, extractive_answer, list_answer, llm_messages, lookup_answer
from .language import has_english_frame, is_english_text
from .plan import Plan, make_plan
from .question import (
    cited_claim,
    clean_question,
    name_reference,
    needs_context,
    referenced_marker,
    rule_based_standalone,
)
from .support import CrossLingualScorer, SentenceEmbedder, SupportScorer
from .translate import translate
from .verify import SUPPORT_THRESHOLD, Verified, verify_llm

if TYPE_CHECKING:
    from ..generate.client import LLMClient

log = logging.getLogger(__name__)
AnswerMode = Literal["llm", "extractive"]
NO_ANSWER = "The corpus does not answer this question."
#: An abstention because the model's answer failed verification (and no sentence could be
#: quoted instead): the sources may answer; what the model said could not be checked.
UNVERIFIED = "No answer could be verified against the sources."
#: An abstention on a question the search could not read says so: that the corpus lacks the
#: answer is not known then.
UNREADABLE = (
    "The search could not read this question{why}. Ask it in English, or name the method, model "
    "or dataset it is about."
)
#: Said with an answer to a question in another language found by cross-language search.
CROSSLINGUAL_NOTICE = (
    "The question is not in English: its papers were found with a multilingual model, and the "
    "answer quotes their English sentences. Check that they answer what you asked."
)
Message = dict[str, Any]
__all__ = ["NO_ANSWER", "SUPPORT_THRESHOLD", "UNREADABLE", "AnswerMode", "AnswerPipeline"]


@dataclass
class _Run:
    """Per-question state the stages hand on (timings are filled as they go)."""

    question: str
    plan: Plan
    query: str
    timings: dict[str, float] = field(default_factory=dict)
    answerability: Answerability | None = None
    #: Spelling fixes applied before planning (``{"SpcaeEvo": "SpaceEvo"}``).
    corrections: dict[str, str] = field(default_factory=dict)
    #: The English question the pipeline answered, for a question in another language.
    translation: str | None = None


def _history(history: Sequence[Mapping[str, Any]] | None) -> list[Message]:
    """Earlier turns as ``{"role", "content"}`` messages; an assistant message may carry
    ``paper_ids`` (the papers it cited, see ``Answer.as_history``)."""
    out: list[Message] = []
    for m in history or []:
        if m.get("role") not in ("user", "assistant"):
            continue
        message: Message = {"role": m["role"], "content": str(m.get("content") or "")}
        ids = m.get("paper_ids")
        if isinstance(ids, list | tuple) and all(isinstance(i, str) for i in ids):
            message["paper_ids"] = list(ids)
        out.append(message)
    return out


def _answer_stage_cause(mode: ModeInfo) -> str:
    """Why an answer the decision let through came out empty (a key of ``REASONS``)."""
    if mode.fallback_reason == "unverified":
        return "unverified"
    return "model_declined" if mode.generator == "llm" else "no_sentence"


class AnswerPipeline:
    """Answers questions over a ScholiumIndex; one instance serves many questions."""

    def __init__(self, settings: Settings, index: ScholiumIndex, retriever: HybridRetriever) -> None:
        self.settings = settings
        self.index = index
        self.retriever = retriever
        self._scorer: SupportScorer | None = None
        self._crosslingual: CrossLingualScorer | None = None
        self._llm: LLMClient | None = None

    @property
    def scorer(self) -> SupportScorer:
        """Support/relevance scorer sharing the index's embedding model."""
        if self._scorer is None:
            self._scorer = SupportScorer(SentenceEmbedder(self.index.embed_model))
        return self._scorer

    @property
    def crosslingual_scorer(self) -> CrossLingualScorer | None:
        """Relevance across languages (``retrieval.crosslingual``), or ``None`` where the
        multilingual encoder is off or cannot run."""
        if self._crosslingual is None and self.index.crosslingual is not None:
            self._crosslingual = CrossLingualScorer(self.scorer.embedder, self.index.crosslingual.encoder)
        return self._crosslingual

    @property
    def llm(self) -> LLMClient:
        """The generator client (the local server starts on first request)."""
        if self._llm is None:
            from ..generate.client import LLMClient  # imports openai (~1 s): only when used

            self._llm = LLMClient(self.settings)
        return self._llm

    @property
    def model_name(self) -> str:
        """The LLM that answers: the endpoint's model, or the local model setting."""
        return self.settings.llm.model if self.settings.llm.base_url else self.settings.local.model

    # -- follow-ups ------------------------------------------------------------------------
    def standalone(
        self, question: str, history: Sequence[Mapping[str, Any]], mode: AnswerMode = "extractive"
    ) -> str:
        """A question retrieval can use without the conversation (rule-based; no model call)."""
        del mode  # both modes use the same rewrite: the model call cost seconds and drifted
        history = _history(history)
        if not history or not needs_context(question):
            return question
        focus = self.focus(history, SearchFilters(), RetrievalTrace(), question)
        if focus:
            return f"{question} ({'; '.join(r.title for r in focus)})"
        return rule_based_standalone(question, history)

    def focus(
        self, history: list[Message], filters: SearchFilters, trace: RetrievalTrace, question: str = ""
    ) -> list[SearchResult]:
        """The papers the previous turn was about: its ``paper_ids`` if the history carries them,
        else retrieval's first hit for the previous question and answer. A follow-up that points
        at one of several cited papers ("the second one", "the speech one") gets that one."""
        last = next((m for m in reversed(history) if m["role"] == "assistant"), None)
        ids = list(last.get("paper_ids") or []) if last else []
        marker = referenced_marker(question, last["content"]) if last and question else None
        if ids:
            if marker is not None and marker <= len(ids):
                ids = [ids[marker - 1]]
            papers = self.index.papers.get(ids)
            return [SearchResult(pid, papers[pid].title, 0.0) for pid in ids if pid in papers][:2]
        if last and marker is not None:
            said = cited_claim(last["content"], marker)
            if said:
                return self.retriever.search(said, 1, filters=filters, trace=trace)[:1]
        users = [m["content"] for m in history if m["role"] == "user" and m["content"]]
        if not users:
            return []
        # The last few questions (a chain of follow-ups names the paper only in its first one)
        # and the start of the last answer.
        text = f"{' '.join(users[-3:])} {last['content'][:300] if last else ''}".strip()
        return self.retriever.search(text, 1, filters=filters, trace=trace)[:1]

    def correct(self, question: str) -> Correction:
        """``question`` with the words no indexed chunk contains replaced by the closest word
        the collection uses (:mod:`rag.retrieve.spelling`); unchanged if ``answer.correct_spelling``
        is off."""
        if not self.settings.answer.correct_spelling:
            return Correction(question)
        # In another language only names are corrected: its words are not misspelled English.
        names_only = not is_english_text(question, self.known_word)
        if names_only and has_english_frame(question):
            # English with more typos than words ("wats the latncy n energy per inferenc"): it
            # reads as English once corrected.
            full = correct_spelling(question, self.index.lexical.doc_freq, self._occurs)
            if is_english_text(full.text, self.known_word):
                return full
        return correct_spelling(question, self.index.lexical.doc_freq, self._occurs, names_only=names_only)

    def reads_as_english(self, question: str) -> bool:
        """Whether ``question`` is English, also where it has more typos than words but reads as
        English once corrected (:meth:`correct`): such a question is not for the model to
        translate ("wats the latncy n energy per inferenc ..." is no foreign language)."""
        if is_english_text(question, self.known_word):
            return True
        return has_english_frame(question) and is_english_text(self.correct(question).text, self.known_word)

    def known_word(self, word: str) -> bool:
        """Whether some indexed chunk contains ``word`` (its stem)."""
        return chunk_count(word, self.index.lexical.doc_freq) > 0

    def _occurs(self, word: str) -> str | None:
        """``word`` as a paper's title or abstract writes it as a whole word ("spaceevo" →
        "SpaceEvo"; the papers the lexical index ranks first for it), or ``None``."""
        hits = self.index.lexical.search(word, 5)
        papers = self.index.papers.get(list(dict.fromkeys(paper_of(c) for c, _ in hits)))
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
        found = (pattern.search(f"{p.title} {p.abstract}") for p in papers.values())
        return next((m.group(0) for m in found if m), None)

    def translate(self, question: str) -> str | None:
        """``question`` (not English) in English, by the model (:mod:`.translate`); ``None``
        when the model is unreachable or its reply is not a usable translation."""
        try:
            english = translate(self.llm, question)
        except LLMError as exc:
            log.warning("could not translate the question (%s); searching its readable part", exc)
            return None
        if english is None:
            log.info("the model's translation was not usable; searching the question's readable part")
        return english

    # -- stages ----------------------------------------------------------------------------
    def _plan(
        self, question: str, turns: list[Message], filters: SearchFilters, english: str | None = None
    ) -> tuple[_Run, list[SearchResult]]:
        """Stage 1: the plan (of the question with its spelling corrected, see :meth:`correct`,
        or of its translation ``english``; the answer keeps the user's words); for a follow-up
        also the papers the conversation is about."""
        fixed = self.correct(english or question)
        run, focus = self._plan_corrected(fixed.text, turns, filters)
        run.question = question
        run.corrections = fixed.changes
        run.translation = english
        return run, focus

    def _plan_corrected(
        self, question: str, turns: list[Message], filters: SearchFilters
    ) -> tuple[_Run, list[SearchResult]]:
        plan = make_plan(question, has_history=bool(turns), known=self.known_word)
        focus: list[SearchResult] = []
        query = plan.readable  # a question in another language: the part retrieval can read
        if plan.kind == "followup":
            focus = self.focus(turns, filters, RetrievalTrace(), plan.question)
            if focus:
                query = f"{plan.question} ({'; '.join(r.title for r in focus)})"
                plan = make_plan(
                    question, has_history=True, focus=tuple(r.paper_id for r in focus), known=self.known_word
                )
            else:
                query = rule_based_standalone(plan.question, turns)
        return _Run(question, plan, query), focus

    def prepare(
        self,
        question: str,
        history: Sequence[Mapping[str, Any]] | None = None,
        *,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> tuple[Plan, Evidence]:
        """Stages 1-2 only: the plan and the evidence an answer would be built from (no decision,
        no generation). The abstention calibration (``python -m eval.calibrate``) fits on these."""
        filters = filters or SearchFilters()
        question = clean_question(question, self.settings.answer.max_question_chars)
        run, focus = self._plan(question, _history(history), filters)
        return run.plan, self._gather(run, k, filters, focus)

    def _across(self, run: _Run) -> CrossLingualScorer | None:
        """The cross-language scorer for a question in another language (not translated by the
        model) that names nothing the English search can match, where the multilingual encoder
        runs; else ``None``. A question naming a method, acronym or dataset ("在SVHN…") is
        searched by those names: on the dev questions in other languages that name one, that
        found the gold paper for 29 of 29, the multilingual encoder for 26."""
        if run.translation or not run.plan.names_nothing_readable:
            return None
        return self.crosslingual_scorer

    def _gather(
        self, run: _Run, k: int | None, filters: SearchFilters, focus: list[SearchResult]
    ) -> Evidence:
        cfg = self.settings.answer
        trace = RetrievalTrace()
        across = self._across(run)

        def search(query: str, n: int, flt: SearchFilters, tr: RetrievalTrace) -> list[SearchResult]:
            # A list request's frame ("What papers look at ...") is not its topic.
            topic = lexical_query(query) if run.plan.kind == "list" else None
            foreign = run.question if across is not None and query == run.query else None
            return self.retriever.search(query, n, filters=flt, trace=tr, topic=topic, foreign=foreign)

        evidence = gather(
            run.plan,
            run.query,
            k=k or self.settings.retrieval.k,
            filters=filters,
            search=search,
            papers=self.index.papers.get,
            scorer=across if across is not None else self.scorer,
            sentences_per_paper=cfg.sentences_per_paper,
            token_budget=cfg.evidence_token_budget,
            trace=trace,
            focus_results=focus,
            focus_tokens=cfg.focus_paper_tokens,
        )
        run.timings.update(trace.timings)
        return replace(evidence, crosslingual=True) if across is not None else evidence

    def _quote_draft(self, run: _Run, evidence: Evidence) -> Draft:
        """Drafts that need no model: lookups and lists from retrieval, else quoted sentences."""
        cfg = self.settings.answer
        floor = cfg.extractive_min_relevance
        if run.plan.kind == "lookup":
            return Draft("retrieval", tuple(lookup_answer(run.plan, evidence, floor)))
        if run.plan.kind == "list":
            return Draft("retrieval", tuple(list_answer(run.plan, evidence, floor)))
        picked = extractive_answer(run.plan, evidence, max_sentences=cfg.extractive_sentences, floor=floor)
        return Draft("extractive", tuple(picked))

    def _prompt_items(self, plan: Plan, evidence: Evidence) -> list[EvidenceItem]:
        """The evidence the model is shown: must-cover items, then the best-ranked papers up to
        ``answer.prompt_papers``, within ``answer.evidence_token_budget``.

        A follow-up about the conversation's papers is shown those papers only: beside other
        sources, a small model reads "the second one" as source [2] of the evidence. So is a
        fact question about a paper it names by its title.
        """
        cfg = self.settings.answer
        must = evidence.covered
        if evidence.only_covered:
            return must
        rest = [e for e in evidence.items if e.marker not in evidence.must_cover]
        shown: list[EvidenceItem] = []
        used = 0
        for item in [*must, *rest]:
            cost = count_tokens(render_item(item))
            if item not in must and (
                len(shown) >= cfg.prompt_papers or (shown and used + cost > cfg.evidence_token_budget)
            ):
                continue
            shown.append(item)
            used += cost
        return sorted(shown, key=lambda e: e.marker)

    def _generate_llm(self, run: _Run, evidence: Evidence) -> Iterator[AnswerEvent | str]:
        """Stream the model's reply (``TextDelta`` events); the last item is the raw text."""
        asked = run.plan.question
        if run.plan.kind == "followup" and run.query != asked:
            about = run.query[len(run.plan.question) :].strip(" ()")
            if len(run.plan.focus) == 1:
                # The model is shown that one paper as [1]: "the second one" would read as a
                # second source (or a second dataset), so the pointer becomes "this paper".
                asked = name_reference(asked, "this paper")
            asked = f"{asked} (asked about: {about})"
        messages = llm_messages(run.plan, evidence, asked, self._prompt_items(run.plan, evidence))
        yield StatusEvent("writing the answer")
        clock = time.perf_counter()
        parts: list[str] = []
        for delta in self.llm.stream(messages, max_tokens=self.settings.llm.max_tokens):
            if not parts:
                run.timings["first_token"] = time.perf_counter() - clock
            parts.append(delta)
            yield TextDelta(delta)
        run.timings["generate"] = time.perf_counter() - clock
        yield "".join(parts)

    def _verify(self, run: _Run, evidence: Evidence, raw: str) -> Verified:
        cfg = self.settings.answer
        clock = time.perf_counter()
        verified = verify_llm(
            run.plan,
            evidence,
            raw,
            self.scorer,
            max_sentences=cfg.extractive_sentences,
            floor=cfg.extractive_min_relevance,
        )
        run.timings["verify"] = time.perf_counter() - clock
        return verified

    def _render(
        self,
        run: _Run,
        evidence: Evidence | None,
        sentences: tuple[CheckedSentence, ...],
        mode: ModeInfo,
        *,
        flagged: tuple[str, ...] = (),
        notice: str | None = None,
    ) -> Answer:
        """The final :class:`Answer` (abstention when ``sentences`` is empty)."""
        results = evidence.results if evidence else []
        common: dict[str, Any] = {
            "question": run.question,
            "sources": results,
            "timings": run.timings,
            "flagged": list(flagged),
            "standalone_question": run.query,
            "plan": run.plan.to_dict(),
            "answerability": run.answerability.to_dict() if run.answerability else None,
            "corrections": dict(run.corrections),
            "translation": run.translation,
            "crosslingual": bool(evidence and evidence.crosslingual),
        }
        if evidence is not None and evidence.crosslingual and notice is None:
            notice = CROSSLINGUAL_NOTICE
        common["notice"] = notice
        if not sentences or evidence is None:
            closest = "; ".join(r.title for r in results[:3] if r.title)
            decided = run.answerability
            if decided is not None and decided.answerable:
                # The decision let the question through; the answer stage found nothing to say.
                decided = after_answer_stage(decided, _answer_stage_cause(mode), run.plan)
                common["answerability"] = decided.to_dict()
            why = f" ({decided.reason})" if decided and not decided.answerable and decided.reason else ""
            if decided is not None and decided.cause == "foreign_without_names":
                text = UNREADABLE.format(why=why)
            elif decided is not None and decided.cause == "unverified":
                text = UNVERIFIED  # whether the corpus answers is not known
            else:
                text = NO_ANSWER[:-1] + why + "."
            text += f" The closest papers are: {closest}." if closest else ""
            return Answer(text=text, abstained=True, mode=ModeInfo(**{**mode.__dict__, "generator": "none"}),
                          **common)  # fmt: skip
        text, citations = render(list(sentences), evidence.items, self.scorer)
        if evidence.missing_works:
            text += " " + " ".join(f"The corpus has no paper on “{w}”." for w in evidence.missing_works)
        return Answer(text=text, citations=citations, mode=mode, **common)

    # -- main entry ------------------------------------------------------------------------
    def run(
        self,
        question: str,
        history: Sequence[Mapping[str, Any]] | None = None,
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
        filters = filters or SearchFilters()
        question = clean_question(question, cfg.max_question_chars)
        turns = _history(history)
        requested: AnswerMode = mode or cfg.mode

        # 0. a question in another language: the model translates it (llm mode only: the
        # extractive mode makes no model call)
        english: str | None = None
        translated_in = 0.0
        if requested == "llm" and cfg.translate_questions and not self.reads_as_english(question):
            yield StatusEvent("translating the question")
            clock = time.perf_counter()
            english = self.translate(question)
            translated_in = time.perf_counter() - clock

        # 1. plan
        clock = time.perf_counter()
        run, focus = self._plan(question, turns, filters, english)
        plan = run.plan
        run.timings["plan"] = time.perf_counter() - clock
        if translated_in:
            run.timings["translate"] = translated_in

        # 2. gather evidence, and decide whether it answers the question
        if self._across(run) is not None:
            pending = self.retriever.crosslingual_pending()
            if pending:
                yield StatusEvent(f"preparing cross-language search: encoding {pending} papers (once)")
        yield StatusEvent("searching the papers")
        clock = time.perf_counter()
        evidence = self._gather(run, k, filters, focus)
        run.answerability = decide(plan, evidence, threshold=cfg.answerable_threshold)
        if cfg.abstention == "relevance":
            run.answerability = relevance_gate(run.answerability, evidence, cfg.min_relevance, plan)
        run.timings["retrieve"] = time.perf_counter() - clock
        base = ModeInfo(requested=requested, generator="extractive", kind=plan.kind)
        if not run.answerability.answerable:
            decided = run.answerability
            log.info(
                "abstaining before generation (%s rule: %s; P(answerable) %.3f, threshold %.3f)",
                decided.rule,
                decided.reason,
                decided.probability,
                decided.threshold,
            )
            run.timings["total"] = time.perf_counter() - started
            yield FinalAnswer(self._render(run, evidence, (), base))
            return

        # 3. generate, 4. verify
        answer: Answer | None = None
        if requested == "llm" and plan.kind not in ("lookup", "list"):
            model = self.model_name
            try:
                raw = ""
                for item in self._generate_llm(run, evidence):
                    if isinstance(item, str):
                        raw = item
                    else:
                        yield item
                log.debug("raw model answer: %r", raw)
                verified = self._verify(run, evidence, raw)
                info = ModeInfo(requested, verified.generator, model, plan.kind, verified.fallback_reason,
                                verified.repairs)  # fmt: skip
                notice = None
                sentences = verified.sentences
                if verified.abstain and not verified.refused and verified.flagged:
                    # The evidence passed the answer-or-abstain decision; only the model's wording
                    # failed the check: answer with the sources' own sentences instead.
                    draft = self._quote_draft(run, evidence)
                    sentences = draft.sentences
                    info = ModeInfo(requested, draft.generator if sentences else "llm", model, plan.kind,
                                    "unverified")  # fmt: skip
                    notice = (
                        "The model's answer could not be verified against the sources, so it was withheld"
                        + ("; showing the sources' sentences instead." if sentences else ".")
                    )
                answer = self._render(run, evidence, sentences, info, flagged=verified.flagged,
                                      notice=notice)  # fmt: skip
            except LLMError as exc:
                log.warning("LLM failed: %s; falling back to the extractive answer", exc)
                run.timings.pop("first_token", None)
                notice = f"The language model was unavailable ({exc}); showing an extractive answer instead."
                clock = time.perf_counter()
                draft = self._quote_draft(run, evidence)
                run.timings["generate"] = time.perf_counter() - clock
                info = ModeInfo(requested, draft.generator, model, plan.kind, "llm_unavailable")
                answer = self._render(run, evidence, draft.sentences, info, notice=notice)
        if answer is None:
            clock = time.perf_counter()
            draft = self._quote_draft(run, evidence)
            run.timings["generate"] = time.perf_counter() - clock
            generator: Generator = draft.generator
            info = ModeInfo(requested, generator, None, plan.kind)
            answer = self._render(run, evidence, draft.sentences, info)
        run.timings["total"] = time.perf_counter() - started
        yield FinalAnswer(answer)
