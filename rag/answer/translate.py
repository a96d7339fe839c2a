"""Questions in other languages, put into English by the model (``llm`` mode).

The search, the sentence scorer and the checks read English (:mod:`language`): a question in
French or Chinese is otherwise searched by its readable part only (names, acronyms, loan words),
and one that names nothing is abstained on ("Je cherche un article qui propose de décrire ...").
In ``llm`` mode the model is there anyway, so such a question is first translated, and the
whole pipeline (plan, retrieval, sentence choice, checks) runs on the English question. The
answer is in English, as its sentences are checked against English abstracts, and says what was
searched for.

A small model may answer instead of translating, drop a name, or reply in its own language
again. Its reply is kept only if it reads as English (and has English words), is a question
where the original is one, and is not much longer than a translation can be; the original's
names (method names, acronyms, numbers: what retrieval finds papers by) that it lost are
appended. Otherwise the question is searched by its readable part, as in ``extractive`` mode.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .language import english_words, is_english_text, name_words
from .prompts import load_prompt
from .terms import names_found

if TYPE_CHECKING:
    from ..generate.client import LLMClient

#: A reply longer than this many times the question (plus :data:`SLACK_CHARS`) is an answer or
#: a ramble, not a translation (English is rarely more than ~1.5x as long; Chinese text is short
#: per meaning, hence the slack).
MAX_GROWTH = 3
SLACK_CHARS = 120
#: A translation of a question has at least this many English words ("What is Mix-LN?").
MIN_ENGLISH_WORDS = 2
#: Tokens the model may spend on a translation: a 2000-character question in English is ~500.
MAX_TOKENS = 600

_QUESTION_MARK = re.compile(r"[?？¿؟]")
_LABEL = re.compile(r"^(?:english(?: question)?|question|translation)\s*:\s*", re.IGNORECASE)


def translation_messages(question: str) -> list[dict[str, str]]:
    """The chat request that asks the model for the English question."""
    return [{"role": "user", "content": load_prompt("translate").render(question=question)}]


def accept(question: str, reply: str) -> str | None:
    """The model's ``reply`` as the English question to search for, or ``None`` when it is not a
    usable translation (see the module docstring)."""
    text = _LABEL.sub("", " ".join(reply.split())).strip().strip("\"'“”„«»")
    if not text or len(text) > MAX_GROWTH * len(question) + SLACK_CHARS:
        return None
    if not is_english_text(text) or english_words(text) < MIN_ENGLISH_WORDS:
        return None  # still the other language, or not words at all ("256 × 256 / 10 (FPS)")
    if _QUESTION_MARK.search(question) and "?" not in text:
        return None  # the model answered (or described) the question instead of translating it
    # A name counts as kept in any of its forms ("Transformer-Modelle" as "Transformer models").
    missing = [name for name in name_words(question) if not names_found((name.lower(),), text)]
    if missing:
        text = f"{text} ({', '.join(missing)})"
    return text


def translate(llm: LLMClient, question: str) -> str | None:
    """The English question for ``question`` (which is not English), or ``None`` when the
    model's reply is not a usable translation. Raises the client's ``LLMError`` when the model
    cannot be reached."""
    reply = llm.chat(translation_messages(question), max_tokens=MAX_TOKENS, temperature=0.0)
    return accept(question, reply)
