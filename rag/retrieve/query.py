"""What of a question the lexical index should match: its topic, not the way it asks.

"What papers look at grokking?" asks about grokking; "look" is how the user asks, and BM25 gives
it the weight of a rare word ("A Deep Look into Neural Ranking Models" ranked first). Words that
refer to the collection and its documents, or to the act of asking for them, are dropped from
the lexical query; a query with no other indexed term is kept as it is. Dense retrieval reads the
whole question (the embedding model weighs words in context).

The answer pipeline applies it to questions its plan reads as list requests ("What papers look
at X?", "Anything in here about X?"), where the frame is certain, and scores their evidence
sentences against the same topic (a paper saying "a study of gunshots" does not answer "which
papers study grokking?"). ``Assistant.search`` matches the query as given: on the eval's
questions of every kind, stripping these words everywhere raised dev nDCG@10 and lowered
held-out nDCG@10 slightly (0.951 -> 0.948).
"""

from __future__ import annotations

import re

from ..index.lexical.analysis import terms

#: Plural nouns naming the collection's documents ("Which works ...", "abstracts that ...").
#: One list for every layer that reads a question's frame: the lexical query drops them
#: (:data:`FRAME_WORDS`), the answer's word overlap ignores them (``answer.terms``) and the
#: plan reads "which <documents> ..." as a list request (``answer.plan``); each adds its own.
DOCUMENT_NOUNS = ("papers", "works", "abstracts", "articles", "publications", "preprints")

#: Words naming the documents or the collection, and verbs of asking/showing ("look at",
#: "anything in here about", "list the work that ...", "abstracts that mention ...", "papers
#: that study ...", "abstracts that deal with ...").
FRAME_WORDS = frozenset(
    {
        *DOCUMENT_NOUNS,
        *("paper", "work", "abstract", "article", "publication", "preprint"),
        *("corpus", "collection", "library"),
        *("anything", "something", "everything", "here", "look", "looks", "looking", "list", "show"),
        *("mention", "mentions", "discuss", "discusses"),
        *("study", "studies", "studied", "studying", "deal", "deals", "dealing"),
    }
)
_WORD = re.compile(r"[\w'-]+|[^\w\s]+")


def lexical_query(query: str) -> str:
    """``query`` without its :data:`FRAME_WORDS`; unchanged when no other term is left."""
    words = _WORD.findall(query)
    kept = [w for w in words if w.lower() not in FRAME_WORDS]
    topic = " ".join(kept)
    return topic if terms([topic])[0] else query
