"""Answering: evidence selection, generation (LLM or extractive), citation checking."""

from .pipeline import AnswerMode, AnswerPipeline
from .question import QuestionError

__all__ = ["AnswerMode", "AnswerPipeline", "QuestionError"]
