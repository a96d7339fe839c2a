"""BM25 on Tantivy (a Lucene-style engine): changed in place, one atomic commit per write.

Layout under the index folder: ``tantivy/index/`` holds Tantivy's segments, ``tantivy/STAMP``
the ingest stamp of the last commit (written after it; see :mod:`rag.index.generation`).

* **Incremental:** :meth:`TantivyIndex.apply` deletes the given chunk ids and adds the new rows;
  nothing else is read or rewritten. Tantivy merges segments in the background as they pile up.
* **Kill-safe:** Tantivy publishes a commit by atomically replacing its ``meta.json``; a writer
  killed before that leaves the previous commit as it was. The ingest journal
  (:mod:`rag.index.journal`) says which chunks to re-sync after such a kill.
* **Shared:** any number of processes open the same folder and search memory-mapped
  segments; only one writes at a time (the index lock, and Tantivy's own writer lock).
* **Same terms as bm25s:** the text is analysed by :mod:`.analysis` and handed over as
  space-separated stems (Tantivy's ``whitespace`` tokenizer), and queries are built from the
  same stems. Tantivy's BM25 uses k1=1.2, b=0.75 (bm25s: k1=1.5), with the same idf.
* **Filters are queries:** year range, category and source terms, scored 0 so they only
  restrict. An author/venue filter ("part of the name, any case") first narrows to chunks
  with a word containing each of its words (a regular expression over the small dictionary
  of name *words*, not of whole author lists), then checks the stored names exactly.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Query

from ..filters import SearchFilters
from ..generation import TANTIVY_FOLDER, read_stamp_file, write_stamp_file
from ..ids import paper_of
from ..metadata import meta_list
from . import LexicalIndex, LexicalRow
from .analysis import terms

FOLDER = TANTIVY_FOLDER
#: Bumped whenever the schema or the analysis changes: an index of another format is not
#: loaded, so it is rebuilt from Chroma (a field read with the wrong options would silently
#: match the wrong chunks).
FORMAT = "scholium-tantivy-3"
FORMAT_FILE = "FORMAT"
#: Tantivy's indexing buffer; one thread (the embedding model needs the other core).
WRITER_HEAP = 64_000_000
BATCH = 5000  # rows analysed at a time


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("paper_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_text_field("category", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("source", fast=True, tokenizer_name="raw", index_option="basic")
    # Stored as written (for the exact check), indexed as lower-cased words.
    builder.add_text_field("authors", stored=True, tokenizer_name="default", index_option="basic")
    builder.add_text_field("venue", stored=True, tokenizer_name="default", index_option="basic")
    return builder.build()


SCHEMA = _schema()


def _documents(rows: Iterable[LexicalRow]) -> Iterator[tuple[str, tantivy.Document]]:
    """``(chunk id, document)`` for each row, analysed in batches."""
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        for row, stems in zip(batch, terms([r.text for r in batch]), strict=True):
            meta = row.meta
            fields: dict[str, Any] = {
                "chunk_id": row.chunk_id,
                "paper_id": str(meta.get("paper_id", "")),
                "body": " ".join(stems),
            }
            if meta.get("year") is not None:
                fields["year"] = int(meta["year"])
            if meta.get("categories"):
                fields["category"] = str(meta["categories"])
            sources = meta_list(meta, "sources")
            if sources:
                fields["source"] = sources
            for key in ("authors", "venue"):
                if meta.get(key):
                    fields[key] = str(meta[key])
            yield row.chunk_id, tantivy.Document(**fields)


_WORD = re.compile(r"\w+")


def _name_words(field: str, text: str) -> list[Query]:
    """Chunks whose ``field`` has, for each word of ``text``, a word containing it: every chunk
    whose name contains ``text`` is among them (Tantivy's default tokenizer splits names into
    lower-cased runs of letters and digits, as ``\\w+`` does)."""
    return [Query.regex_query(SCHEMA, field, f".*{word}.*") for word in _WORD.findall(text.lower())]


def _names_match(document: tantivy.Document, filters: SearchFilters) -> bool:
    """The exact rule (:meth:`SearchFilters.matches`) for the author/venue filters."""
    for field, wanted in (("authors", filters.author), ("venue", filters.venue)):
        if wanted:
            names = " ".join(str(v) for v in document.get_all(field))
            if wanted.casefold() not in names.casefold():
                return False
    return True


def filter_query(filters: SearchFilters) -> Query | None:
    """``filters`` as a query that matches the passing chunks (``None``: nothing filtered); with
    an author/venue filter it may match more, which :func:`_names_match` then removes."""
    parts: list[Query] = []
    if filters.source:
        parts.append(Query.term_query(SCHEMA, "source", filters.source))
    if filters.category:
        parts.append(Query.term_query(SCHEMA, "category", filters.category))
    if filters.author:
        parts.extend(_name_words("authors", filters.author) or [Query.all_query()])
    if filters.venue:
        parts.extend(_name_words("venue", filters.venue) or [Query.all_query()])
    if filters.year_min is not None or filters.year_max is not None:
        parts.append(
            Query.range_query(SCHEMA, "year", tantivy.FieldType.Integer, filters.year_min, filters.year_max)
        )
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])


def _restrict(query: Query, filters: SearchFilters | None) -> Query:
    only = filter_query(filters) if filters is not None else None
    if only is None:
        return query
    return Query.boolean_query([(Occur.Must, query), (Occur.Must, Query.const_score_query(only, 0.0))])


class TantivyIndex:
    """One committed state of the Tantivy index (searches see exactly that state)."""

    def __init__(self, index: tantivy.Index, folder: Path | None, stamp: str) -> None:
        self._index = index
        self._folder = folder  # holds ``index/`` and ``STAMP`` (``None``: in memory)
        self.stamp = stamp
        index.reload()
        self._searcher = index.searcher()

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._searcher.num_docs)

    def _chunk_ids_of(
        self, query: Query, limit: int, filters: SearchFilters | None = None
    ) -> list[tuple[str, float]]:
        """The best ``limit`` chunks for ``query`` that pass the exact name check of ``filters``.

        The query over-matches only on names, and rarely; if the check removes hits, the search
        is repeated with a larger limit until ``limit`` pass or nothing more matches.
        """
        if limit <= 0:
            return []
        searcher = self._searcher
        check = filters is not None and bool(filters.author or filters.venue)
        asked = limit
        while True:
            hits = searcher.search(query, asked, count=False).hits
            out: list[tuple[str, float]] = []
            for score, address in hits:
                document = searcher.doc(address)
                if not check or _names_match(document, filters):  # type: ignore[arg-type]
                    out.append((str(document["chunk_id"][0]), float(score)))
            if len(out) >= limit or len(hits) < asked:
                return out[:limit]
            asked *= 4

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Top ``k`` ``(chunk id, BM25 score)`` pairs, best first."""
        stems = terms([query])[0] if query.strip() else []
        if not stems or len(self) == 0:
            return []
        text = Query.boolean_query(
            [(Occur.Should, Query.term_query(SCHEMA, "body", s, index_option="freq")) for s in stems]
        )
        return [(c, s) for c, s in self._chunk_ids_of(_restrict(text, filters), k, filters) if s > 0]

    def passing(self, chunk_ids: Sequence[str], filters: SearchFilters) -> set[str]:
        """Which of ``chunk_ids`` pass ``filters``."""
        wanted = Query.term_set_query(SCHEMA, "chunk_id", list(chunk_ids))
        return {c for c, _ in self._chunk_ids_of(_restrict(wanted, filters), len(chunk_ids), filters)}

    def paper_ids(self, filters: SearchFilters) -> list[str]:
        """Every paper with a chunk that passes ``filters`` (a terms aggregation; with a name
        filter, the stored names of the candidate chunks are checked)."""
        query = filter_query(filters) or Query.all_query()
        if filters.author or filters.venue:
            found = self._searcher.search(query, 1, count=True)
            candidates = int(found.count or 0)  # type: ignore[attr-defined]  # (missing from the stubs)
            return sorted({paper_of(c) for c, _ in self._chunk_ids_of(query, candidates, filters)})
        size = max(len(self), 1)
        got = self._searcher.aggregate(query, {"papers": {"terms": {"field": "paper_id", "size": size}}})
        return sorted(str(b["key"]) for b in got["papers"]["buckets"])

    def sources(self) -> list[str]:
        """Every source file of the indexed chunks, sorted (a terms aggregation)."""
        size = max(len(self), 1)
        got = self._searcher.aggregate(
            Query.all_query(), {"files": {"terms": {"field": "source", "size": size}}}
        )
        return sorted(str(b["key"]) for b in got["files"]["buckets"])

    def doc_freq(self, term: str) -> int:
        """How many chunks contain the stem ``term`` (Tantivy's term dictionary)."""
        return int(self._searcher.doc_freq("body", term)) if term else 0

    def chunk_ids(self) -> list[str]:
        """Every chunk id (reads every stored document: for checks and tests)."""
        return [c for c, _ in self._chunk_ids_of(Query.all_query(), len(self))]

    # -- writing ---------------------------------------------------------------------------
    def apply(self, upsert: Iterable[LexicalRow], delete: Iterable[str], stamp: str) -> TantivyIndex:
        """Replace/add ``upsert``, remove ``delete``, commit, publish ``stamp``."""
        return self._write(upsert, delete, stamp, replace=True)

    def _write(
        self, rows: Iterable[LexicalRow], delete: Iterable[str], stamp: str, *, replace: bool
    ) -> TantivyIndex:
        """One commit: remove ``delete``, add ``rows`` (``replace``: removing any earlier copy)."""
        # The caller holds the index lock; Tantivy's own writer lock refuses a second writer.
        writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        try:
            for chunk_id in delete:
                writer.delete_documents_by_term("chunk_id", chunk_id)
            for chunk_id, document in _documents(rows):
                if replace:
                    writer.delete_documents_by_term("chunk_id", chunk_id)  # an upsert, not a copy
                writer.add_document(document)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # also releases the writer's lock
        if self._folder is not None:
            write_stamp_file(self._folder, stamp)
        return TantivyIndex(self._index, self._folder, stamp)

    @classmethod
    def build(cls, root: Path | None, rows: Iterable[LexicalRow], stamp: str) -> TantivyIndex:
        """A new index of ``rows`` (replacing any under ``root``; ``None``: in memory)."""
        if root is None:
            return cls(tantivy.Index(SCHEMA), None, "")._write(rows, (), stamp, replace=False)
        folder = root / FOLDER
        # Build next to the published index and swap it in, so readers keep theirs meanwhile.
        tmp = root / f".{FOLDER}-building"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "index").mkdir(parents=True)
        (tmp / FORMAT_FILE).write_text(FORMAT)
        fresh = TantivyIndex(tantivy.Index(SCHEMA, path=str(tmp / "index")), tmp, "")
        fresh._write(rows, (), stamp, replace=False)
        old = root / f".{FOLDER}-old"
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
        loaded = cls.load(root)
        if loaded is None:
            raise OSError(f"the Tantivy index just built under {folder} cannot be opened")
        return loaded

    @classmethod
    def load(cls, root: Path) -> TantivyIndex | None:
        """The committed index under ``root``, or ``None`` if there is none (or it is unreadable).

        The stamp is read before the index is opened: a commit that lands in between is then
        served under the older stamp (and picked up again later), never the other way round.
        """
        folder = root / FOLDER
        stamp = read_stamp_file(folder)
        if stamp is None or not (folder / "index" / "meta.json").exists():
            return None
        try:
            if (folder / FORMAT_FILE).read_text().strip() != FORMAT:
                return None
        except OSError:
            return None
        try:
            return cls(tantivy.Index.open(str(folder / "index")), folder, stamp)
        except (OSError, ValueError):
            return None


_: type[LexicalIndex] = TantivyIndex
