"""The plain llama-index default over the same Chroma collection, for a side-by-side baseline.

Retrieval: ``VectorStoreIndex.from_vector_store(ChromaVectorStore(<the same collection>))`` and
``index.as_retriever(similarity_top_k=10)``; chunks are mapped to papers (metadata ``paper_id``),
first occurrence wins. Answers: ``index.as_query_engine(llm=...)`` with its default prompt and
top-k, in ``llm`` mode through a ``CustomLLM`` wrapping Scholium's ``LLMClient`` (the
``llama-index-llms-openai`` package pins openai<3). In ``extractive`` mode the baseline answer is
the top retrieved chunk, citing its paper — what a default pipeline without an LLM returns.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core import VectorStoreIndex
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.schema import NodeWithScore
from pydantic import PrivateAttr

from rag import Assistant
from rag.embeddings import to_llama_index
from rag.generate import LLMClient
from rag.index.ids import paper_of


class ScholiumLLM(CustomLLM):
    """A llama-index LLM backed by ``rag.generate.LLMClient`` (remote endpoint or local server)."""

    context_window: int = 4096
    num_output: int = 384
    model_name: str = "scholium-llm"
    _client: Any = PrivateAttr()

    def __init__(self, client: LLMClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window, num_output=self.num_output, model_name=self.model_name
        )

    @llm_completion_callback()  # type: ignore[untyped-decorator,misc]
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        text = self._client.chat([{"role": "user", "content": prompt}], max_tokens=self.num_output)
        return CompletionResponse(text=str(text))

    @llm_completion_callback()  # type: ignore[untyped-decorator,misc]
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for delta in self._client.stream(
                [{"role": "user", "content": prompt}], max_tokens=self.num_output
            ):
                text += delta
                yield CompletionResponse(text=text, delta=delta)

        return gen()


@dataclass
class BaselineAnswer:
    """The baseline's answer: free text and the papers of its source nodes (no markers)."""

    text: str
    cited: list[str]
    quotes: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def _papers_of(nodes: Sequence[NodeWithScore]) -> list[str]:
    out: list[str] = []
    for hit in nodes:
        pid = str(hit.node.metadata.get("paper_id") or paper_of(hit.node.node_id))
        if pid not in out:
            out.append(pid)
    return out


def _quotes(nodes: Sequence[NodeWithScore]) -> dict[str, str]:
    out: dict[str, str] = {}
    for hit in nodes:
        pid = str(hit.node.metadata.get("paper_id") or paper_of(hit.node.node_id))
        out.setdefault(pid, " ".join(hit.node.get_content().split()))
    return out


class Baseline:
    """llama-index defaults over Scholium's Chroma collection and embedding model."""

    def __init__(self, assistant: Assistant, *, top_k: int = 10) -> None:
        store = assistant.index.chroma.store
        self.index = VectorStoreIndex.from_vector_store(
            store, embed_model=to_llama_index(assistant.index.embed_model)
        )
        self.retriever = self.index.as_retriever(similarity_top_k=top_k)
        self.settings = assistant.settings
        self._llm: ScholiumLLM | None = None
        self._engine: Any = None

    def retrieve(self, query: str) -> list[str]:
        """Paper ids of the top-``k`` chunks, in rank order, de-duplicated."""
        return _papers_of(self.retriever.retrieve(query))

    def llm(self) -> ScholiumLLM:
        """The wrapped generator (shares the embedded server with the pipeline when local)."""
        if self._llm is None:
            s = self.settings
            name = s.llm.model if s.llm.base_url else s.local.model
            self._llm = ScholiumLLM(
                LLMClient(s), context_window=s.local.n_ctx, num_output=s.llm.max_tokens, model_name=name
            )
        return self._llm

    def answer(self, query: str, mode: str) -> BaselineAnswer:
        """The baseline's answer to ``query`` (``mode``: ``llm`` or ``extractive``)."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        if mode == "llm":
            if self._engine is None:
                self._engine = self.index.as_query_engine(llm=self.llm())
            response = self._engine.query(query)
            nodes = list(response.source_nodes or [])
            text = str(response.response or "")
            timings["total"] = time.perf_counter() - started
            return BaselineAnswer(
                text=text,
                cited=_papers_of(nodes),
                quotes=_quotes(nodes),
                timings=timings,
            )
        nodes = self.retriever.retrieve(query)
        timings["retrieve"] = time.perf_counter() - started
        timings["total"] = timings["retrieve"]
        if not nodes:
            return BaselineAnswer(text="", cited=[], timings=timings)
        top = nodes[0]
        pid = _papers_of([top])[0]
        text = " ".join(top.node.get_content().split())
        return BaselineAnswer(text=text, cited=[pid], quotes={pid: text}, timings=timings)
