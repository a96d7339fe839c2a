"""A SYNTHETIC corpus in the arXiv metadata JSON Lines format, made from the real abstracts.

    python -m bench.synth N OUT.jsonl [--seed S]

The bundled corpus has only 260 papers; to measure how costs grow, the benchmarks need 10k and
100k. Each synthetic paper is built from the real ones:

* **abstract** — as many sentences as a randomly chosen real abstract has, drawn from all real
  abstracts and kept in position (openings from openings, closings from closings, the rest from
  the middle), so lengths, chunk counts and vocabulary match the real corpus. The text is wrapped
  at ~80 columns with a leading indent, as in the arXiv metadata dump.
* **title** — the head of one real title + a connective + the tail of another, often behind a
  generated acronym ("KorVet: ..."); titles are unique after normalization, so every paper gets
  its own content-derived id.
* **id** — a unique arXiv-style ``YYMM.NNNNN`` id; ``update_date``, ``categories`` and
  ``authors`` are drawn from plausible distributions.

The result is NOT real data: sentences do not follow each other and no claim is true. Its
vocabulary is the real corpus's (~15k distinct words), smaller than a real 100k-paper corpus's,
so BM25 posting lists are denser than they would be (a pessimistic bias for lexical latency).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

from rag.answer.sentences import split_sentences
from rag.corpus import load_corpus, normalize_title
from rag.settings import BUNDLED_CORPUS
from rag.types import Paper

VERSION = "1"  # bump when the generator changes: cached corpora are then regenerated
CATEGORIES = [
    ("cs.LG", 30),
    ("cs.CV", 20),
    ("cs.CL", 15),
    ("cs.AI", 10),
    ("stat.ML", 8),
    ("cs.NE", 4),
    ("eess.AS", 3),
    ("eess.IV", 3),
    ("cs.RO", 3),
    ("cs.IR", 2),
    ("math.OC", 2),
]
FIRST = [
    "Ada",
    "Bo",
    "Chen",
    "Dana",
    "Eli",
    "Farah",
    "Gita",
    "Hugo",
    "Ines",
    "Jun",
    "Kai",
    "Lena",
    "Mei",
    "Nils",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tao",
]
LAST = [
    "Abe",
    "Brandt",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fujita",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kim",
    "Li",
    "Moreau",
    "Novak",
    "Okafor",
]
CONNECTIVES = ["for", "with", "via", "using", "through", "in", "from", "on", "towards", "beyond"]
SYLLABLES = "ka ro ne vi lu ta mo ser dex tri nova gra phi zen quo bel mar tor lin"
_SPLIT = re.compile(r"\s+(?:for|with|via|using|through|in|from|on)\s+", re.IGNORECASE)


def _pools(papers: list[Paper]) -> dict[str, list[Any]]:
    first: list[str] = []
    middle: list[str] = []
    last: list[str] = []
    lengths: list[int] = []
    heads: list[str] = []
    tails: list[str] = []
    for paper in papers:
        sentences = split_sentences(paper.abstract)
        lengths.append(len(sentences))
        if sentences:
            first.append(sentences[0])
        if len(sentences) > 1:
            last.append(sentences[-1])
        middle.extend(sentences[1:-1])
        title = paper.title.split(":", 1)[-1].strip()
        parts = _SPLIT.split(title, maxsplit=1)
        heads.append(parts[0])
        tails.append(parts[1] if len(parts) > 1 else title)
    return {
        "first": first,
        "middle": middle or first,
        "last": last or first,
        "lengths": lengths,
        "heads": heads,
        "tails": tails,
    }


def _acronym(rng: random.Random) -> str:
    syl = SYLLABLES.split()
    word = "".join(rng.choice(syl) for _ in range(rng.randint(2, 3)))
    style = rng.random()
    if style < 0.4:
        return word.capitalize()
    if style < 0.7:
        return word[:4].upper() + rng.choice(["", "-2", "++", "Net", "Former"])
    return word.capitalize() + rng.choice(["Net", "GAN", "BERT", "Diff", "Nav"])


def _title(rng: random.Random, pools: dict[str, list[Any]]) -> str:
    head = rng.choice(pools["heads"])
    tail = rng.choice(pools["tails"])
    first = tail.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():  # "Neural ..." -> "neural ...", keep "ImageNet"
        tail = tail[:1].lower() + tail[1:]
    title = f"{head} {rng.choice(CONNECTIVES)} {tail}"
    if rng.random() < 0.5:
        title = f"{_acronym(rng)}: {title}"
    return title


def _categories(rng: random.Random) -> str:
    names = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    picked = rng.choices(names, weights, k=rng.randint(1, 3))
    return " ".join(dict.fromkeys(picked))


def _wrap(text: str, width: int = 80) -> str:
    """Greedy word wrap with the dump's two-space indent (textwrap is 10x slower)."""
    lines: list[str] = []
    line = " "
    for word in text.split():
        if len(line) + 1 + len(word) > width and line.strip():
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}"
    lines.append(line)
    return "\n".join(lines)


def generate(n: int, seed: int = 0, papers: list[Paper] | None = None) -> list[dict[str, Any]]:
    """``n`` synthetic records (arXiv metadata format) built from ``papers`` (default: bundled)."""
    papers = papers if papers is not None else load_corpus([BUNDLED_CORPUS]).papers
    rng = random.Random(seed)
    pools = _pools(papers)
    seen: set[str] = set()
    serial: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    while len(records) < n:
        title = _title(rng, pools)
        key = normalize_title(title)
        if key in seen:
            continue
        seen.add(key)
        count = max(1, rng.choice(pools["lengths"]))
        sentences = [rng.choice(pools["first"])]
        sentences += [rng.choice(pools["middle"]) for _ in range(max(0, count - 2))]
        if count > 1:
            sentences.append(rng.choice(pools["last"]))
        abstract = _wrap(" ".join(sentences))
        year = rng.choices(range(2018, 2026), [1, 1, 2, 3, 4, 5, 6, 6])[0]
        month = rng.randint(1, 12)
        yymm = f"{year % 100:02d}{month:02d}"
        serial[yymm] = serial.get(yymm, 0) + 1
        authors = ", ".join(
            f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.choice([1, 2, 3, 3, 4, 5, 6]))
        )
        records.append(
            {
                "id": f"{yymm}.{serial[yymm]:05d}",
                "submitter": authors.split(", ")[0],
                "authors": authors,
                "title": title,
                "comments": f"{rng.randint(6, 40)} pages, {rng.randint(1, 12)} figures",
                "journal-ref": None,
                "doi": None,
                "categories": _categories(rng),
                "license": None,
                "abstract": abstract + "\n",
                "update_date": f"{year}-{month:02d}-{rng.randint(1, 28):02d}",
            }
        )
    return records


def write(n: int, path: Path, seed: int = 0) -> Path:
    """Write ``n`` synthetic records to ``path`` (skipped if the same file is already there)."""
    stamp = path.with_suffix(".sha1")
    if path.exists() and stamp.exists() and stamp.read_text() == f"{VERSION} {seed} {_digest(path)}":
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for record in generate(n, seed):
            out.write(json.dumps(record) + "\n")
    tmp.replace(path)
    stamp.write_text(f"{VERSION} {seed} {_digest(path)}")
    return path


def _digest(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write(args.n, args.out, args.seed))


if __name__ == "__main__":
    main()
