"""Faithfulness judges: does the text of the papers an answer sentence cites support it?

Three judges, reported separately (each result names the judge that produced it):

* ``PipelineJudge`` — Scholium's own ``SupportScorer`` (0.5 × best embedding cosine + 0.5 ×
  content-word coverage; numbers must occur verbatim; a named method must be mentioned) at the
  pipeline's threshold. A lexical+embedding judge, *not independent* of the pipeline's checker.
* ``StrictJudge`` — independent and stricter, no model: every number (with its unit) and *every*
  method name of the sentence occurs in the cited abstracts, and ≥ 60 % of its content words do.
* ``LLMJudge`` — RAGAS-style claim verification by an LLM (yes/no per sentence), only when
  ``SCHOLIUM_EVAL_JUDGE_URL`` and ``SCHOLIUM_EVAL_JUDGE_MODEL`` are set.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.answer.pipeline import SUPPORT_THRESHOLD
from rag.answer.sentences import split_sentences
from rag.answer.support import SupportScorer, lexical_coverage
from rag.answer.terms import bare_numbers, method_names, numbers
from rag.settings import Settings

log = logging.getLogger(__name__)
STRICT_COVERAGE = 0.6
JUDGE_URL_ENV = "SCHOLIUM_EVAL_JUDGE_URL"
JUDGE_MODEL_ENV = "SCHOLIUM_EVAL_JUDGE_MODEL"


@dataclass(frozen=True)
class Source:
    """The text a sentence is judged against: a cited paper's title and abstract (or quote)."""

    paper_id: str
    title: str
    text: str


class Judge(Protocol):
    """Decides whether ``sources`` support ``claim``; ``None`` means "could not judge"."""

    name: str

    def supports(self, claim: str, sources: Sequence[Source]) -> bool | None: ...


class PipelineJudge:
    """Scholium's ``SupportScorer`` at the pipeline's threshold (not independent of the pipeline)."""

    name = "lexical+embedding (Scholium SupportScorer; not independent of the pipeline's checker)"

    def __init__(self, scorer: SupportScorer, threshold: float = SUPPORT_THRESHOLD) -> None:
        self.scorer = scorer
        self.threshold = threshold

    def score(self, claim: str, sources: Sequence[Source]) -> float:
        """Support of ``claim`` by all ``sources`` together (0..1)."""
        sentences = [s for source in sources for s in split_sentences(source.text)]
        context = " ".join(source.title for source in sources)
        return self.scorer.support(claim, sentences, context=context)

    def supports(self, claim: str, sources: Sequence[Source]) -> bool | None:
        if not sources:
            return False
        return self.score(claim, sources) >= self.threshold


@dataclass(frozen=True)
class StrictVerdict:
    """Why the strict judge accepted or rejected a sentence."""

    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    coverage: float

    @property
    def supported(self) -> bool:
        """All numbers and names present and coverage ≥ ``STRICT_COVERAGE``."""
        return not self.missing_numbers and not self.missing_names and self.coverage >= STRICT_COVERAGE


def strict_verdict(claim: str, source_text: str) -> StrictVerdict:
    """Check ``claim`` against ``source_text`` (titles and abstracts of the cited papers).

    A number with a unit ("354K", "45%", "10x") must occur with that unit; a bare number must
    occur as a number. Every method name (``rag.answer.terms.method_names``) must occur.
    """
    source_numbers = numbers(source_text)
    source_bare = bare_numbers(source_text)
    missing_numbers = []
    for value in sorted(numbers(claim)):
        bare = re.sub(r"[%kmbx]$", "", value)
        ok = value in source_numbers if bare != value else bare in source_bare
        if not ok:
            missing_numbers.append(value)
    haystack = source_text.lower()
    missing_names = sorted(name for name in method_names(claim) if name not in haystack)
    return StrictVerdict(tuple(missing_numbers), tuple(missing_names), lexical_coverage(claim, source_text))


class StrictJudge:
    """Independent offline check: numbers, method names and ≥ 60 % content words in the sources."""

    name = "strict lexical (all numbers + all method names verbatim, content-word coverage >= 0.6)"

    def supports(self, claim: str, sources: Sequence[Source]) -> bool | None:
        if not sources:
            return False
        joined = " ".join(f"{s.title}. {s.text}" for s in sources)
        return strict_verdict(claim, joined).supported


class ChatClient(Protocol):
    """What ``LLMJudge`` needs from ``rag.generate.LLMClient``."""

    def chat(
        self,
        messages: Sequence[Mapping[str, object]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str: ...


JUDGE_PROMPT = """You verify claims against research-paper abstracts.

Abstract(s):
{sources}

Claim: {claim}

Is every part of the claim directly supported by the abstract(s) above? Numbers must match exactly.
Answer with one word: yes or no."""


class LLMJudge:
    """RAGAS-style claim verification: ask an LLM whether the cited abstracts support a sentence."""

    def __init__(self, client: ChatClient, name: str) -> None:
        self.client = client
        self.name = name
        self.errors = 0

    def supports(self, claim: str, sources: Sequence[Source]) -> bool | None:
        if not sources:
            return False
        from rag.generate import LLMError

        body = "\n\n".join(f"[{i}] {s.title}\n{s.text}" for i, s in enumerate(sources, start=1))
        prompt = JUDGE_PROMPT.format(sources=body, claim=claim)
        try:
            reply = self.client.chat([{"role": "user", "content": prompt}], max_tokens=4, temperature=0.0)
        except LLMError as exc:
            self.errors += 1
            log.warning("LLM judge failed: %s", exc)
            return None
        return parse_yes_no(reply)


def parse_yes_no(reply: str) -> bool | None:
    """``True`` for a reply starting with "yes", ``False`` for "no", else ``None``."""
    word = reply.strip().strip("*\"'`.").lower()
    if word.startswith("yes"):
        return True
    if word.startswith("no"):
        return False
    return None


def llm_judge_from_env(settings: Settings) -> LLMJudge | None:
    """An ``LLMJudge`` when ``SCHOLIUM_EVAL_JUDGE_URL`` and ``SCHOLIUM_EVAL_JUDGE_MODEL`` are set
    (``OPENAI_API_KEY`` is sent if present), else ``None``."""
    url = os.environ.get(JUDGE_URL_ENV)
    model = os.environ.get(JUDGE_MODEL_ENV)
    if not url or not model:
        return None
    from rag.generate import LLMClient
    from rag.generate.client import redact_url

    key = os.environ.get("OPENAI_API_KEY")
    judge_settings = settings.with_overrides(
        llm={"base_url": url, "model": model, "api_key": key, "temperature": 0.0, "max_retries": 2}
    )
    client = LLMClient(judge_settings)
    return LLMJudge(client, f"LLM claim verification ({model} at {redact_url(url)})")


def judge_sentences(
    sentences: Sequence[tuple[str, Sequence[str]]], sources: Mapping[str, Source], judge: Judge
) -> list[bool | None]:
    """A verdict per ``(sentence, cited paper ids)``; a sentence citing nothing is unsupported."""
    verdicts: list[bool | None] = []
    for claim, cited in sentences:
        cited_sources = [sources[p] for p in dict.fromkeys(cited) if p in sources]
        verdicts.append(judge.supports(claim, cited_sources) if cited_sources else False)
    return verdicts


def supported_share(verdicts: Sequence[bool | None]) -> float | None:
    """Share of judged sentences that are supported; ``None`` if none could be judged."""
    judged = [v for v in verdicts if v is not None]
    return sum(judged) / len(judged) if judged else None
