"""Papers → llama-index Documents → chunks (nodes) with stable ids and self-describing text."""

from __future__ import annotations

from collections.abc import Iterable

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, MetadataMode, TextNode

from ..settings import ChunkSettings
from ..tokens import encoding
from ..types import Paper
from .ids import chunk_id, paper_of
from .metadata import paper_metadata

__all__ = ["Chunker", "chunk_id", "embed_text", "paper_metadata", "paper_of", "to_document"]

EMBED_TEMPLATE = "{value}"


def to_document(paper: Paper) -> Document:
    """One Document per paper; only the title goes into the embedded/LLM text besides the
    abstract, the rest of the metadata is for filtering and display."""
    meta = paper_metadata(paper)
    hidden = [key for key in meta if key != "title"]
    return Document(
        id_=paper.id,
        text=paper.abstract,
        metadata=meta,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=hidden,
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )


class Chunker:
    """SentenceSplitter with cl100k token counts; the title travels with every chunk."""

    def __init__(self, settings: ChunkSettings) -> None:
        self.splitter = SentenceSplitter(
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            tokenizer=lambda text: encoding().encode(text, disallowed_special=()),
            include_prev_next_rel=False,
            id_func=lambda i, doc: chunk_id(doc.doc_id, str(doc.metadata["content_hash"]), i),
        )

    def chunk(self, papers: Iterable[Paper]) -> list[TextNode]:
        """Chunks of ``papers`` in order."""
        nodes: list[BaseNode] = self.splitter.get_nodes_from_documents([to_document(p) for p in papers])
        return [n for n in nodes if isinstance(n, TextNode)]


def embed_text(node: BaseNode) -> str:
    """What gets embedded and lexically indexed for a chunk: "title\\nchunk"."""
    return node.get_content(metadata_mode=MetadataMode.EMBED)
