"""Answering: plan (kinds, injection stripping, questions in other languages: :mod:`.language`),
evidence selection, the answer-or-abstain decision, generation (LLM or extractive), citation
checking; :mod:`.pipeline` runs the stages in order."""

from .pipeline import AnswerMode, AnswerPipeline
from .question import QuestionError

__all__ = ["AnswerMode", "AnswerPipeline", "QuestionError"]
