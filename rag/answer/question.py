"""Question hygiene and simple question analysis."""

from __future__ import annotations

import re
import unicodedata

from .language import is_english_text
from .measures import GLOSSARY, named_measures
from .sentences import split_sentences
from .terms import content_terms, measure_terms, method_names


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long); the message says why."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# "How many", "how much", "wie viele", "сколько", "多少": a question word asking a number, in
# English, German, French, Spanish, Italian, Portuguese, Russian, Dutch, Swedish, Polish, Turkish,
# Indonesian, Vietnamese, Chinese, Japanese and Korean.
_HOW_MUCH = (
    r"\b(?:how (?:many|much|large|big|small|fast|long|accurate|deep|wide|high|low)"
    r"|wie (?:viele?|hoch|gro(?:ß|ss)|schnell|lange?)|wieviele?|combien|cu[aá]nt[oa]s?|quant[oaie]s?"
    r"|скольк\w*|hoeveel|hur (?:många|mycket)|ile (?:wynosi\w*|ma|mają|miał\w*|jest|było|razy|procent\w*"
    r"|parametr\w*)|ne kadar\w*|kaç|berapa|bao nhiêu)\b"
    r"|多少|几|幾つ|いくつ|どのくらい|どれくらい|何倍|몇|얼마나"
)
_ASKS_HOW_MUCH = re.compile(_HOW_MUCH, re.IGNORECASE)
_QUANTITY = re.compile(
    _HOW_MUCH + r"|\b(what (is|was|are) the (number|size|score|accuracy)"
    r"|what (score|accuracy|percentage|number|size|speed-?up|bleu|f1|map|error))\b"
    # (Not "parameters" alone: "a random low-dimensional slice of the parameters", "what problem
    # does it solve for optimizing structural parameters" ask no number.)
    r"|\b(bleu|accuracy|f1|perplexity|percent|%|speed-?up|top-?1|top-?5|miou|bits-per-\w+)\b"
    # Their shorthand ("top1 acc", "#params").
    r"|\b(acc|params)\b"
    # "what is the measured water abundance", "what peak learning rate and batch size": a measure's noun.
    r"|\bwhat (?:is |was |are |were )?(?:the )?(?:[\w-]+ ){0,2}?(?:rates?|ratios?|precision|recall|latency"
    r"|throughput|abundances?|depth|width|speed|cost|batch size|numbers|figures|(?:parameter )?count)\b"
    r"(?!\s+(?:function|schedule|type|scheme|policy))"
    r"|\bwhat\b[^?]*\b(achieve|achieves|reach|reaches|obtain|obtains|attain|attains|score)\b"
    # Other languages' words for the number of / rate / accuracy / parameters.
    r"|\b(quel(le)?s? (est|sont) (le|la|les) (nombre|taux)|genauigkeit|précision|precisión|tasa|taux"
    r"|точност\w*|paramètres?|parámetros|nauwkeurigheid|dokładnoś\w*|doğruluk|akurasi|độ chính xác)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(it|its|it's|they|them|their|this|that|these|those|the (paper|method|model|approach|"
    r"authors|first|second|former|latter|one))\b",
    re.IGNORECASE,
)


def clean_question(text: str, max_chars: int) -> str:
    """Normalize a question; raise ``QuestionError`` if it is empty or too long.

    Unpaired surrogates and control characters are removed; whitespace is collapsed, except
    that line breaks between non-empty lines are kept as one ``\n`` (a line break ends what
    comes before it: an order on one line does not take the question on the next with it,
    see ``plan.strip_instructions``).
    """
    if not isinstance(text, str):
        raise QuestionError("the question must be text")
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # unpaired surrogates → "?"
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    if not text:
        raise QuestionError("the question is empty: please type a question about the papers")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is too long ({len(text):,} characters; the limit is {max_chars:,}). "
            "Please shorten it."
        )
    return text


def asks_for_quantity(question: str) -> bool:
    """Whether the question asks for a number (count, score, size ...)."""
    return bool(_QUANTITY.search(question))


def asks_how_much(question: str) -> bool:
    """Whether the question has a word asking a number ("how many", "wie viele", "多少"); a
    measure named only in a description ("the CNN with 2 to 25x less params") is not asked."""
    return bool(_ASKS_HOW_MUCH.search(question))


_TARGET = re.compile(
    r"\b(?:how many|how much|what(?: is| was| are| were)?(?: the)?)\s+(?P<target>[^?]+?)\s+"
    r"(?:does|do|did|is|are|was|were|has|have|had|can|could|would|will)\b",
    re.IGNORECASE,
)
# "How big was its ImageNet accuracy gap?": the measure after the copula, to the end of the ask.
_TARGET_AFTER_COPULA = re.compile(
    r"\bhow (?:big|large|small|high|low|wide|great)\s+(?:is|was|are|were)\s+"
    r"(?:(?:the|its|their|this|that)\s+)?(?P<target>[^?,;]+?)\s*"
    r"(?:[?,;]|$|\s(?:between|of|in|on|at|for|with|from|than|over|across|compared|when|if)\b)",
    re.IGNORECASE,
)
# "What is the measured water abundance in Saturn's atmosphere?": with no verb closing the
# phrase for ``_TARGET``, the measure runs from "what is the" to the first word saying what or
# where it is measured.
_TARGET_AFTER_WHAT_IS = re.compile(
    r"\bwhat(?:'s| is| was| are| were)\s+(?:(?:the|its|their|this|that)\s+)?(?P<target>[^?,;]+?)\s*"
    r"(?:[?,;]|$|\s(?:of|in|on|at|for|with|from|between|by|under|across|when|if|reported|achieved"
    r"|obtained|measured|reached)\b)",
    re.IGNORECASE,
)
# "Quantas GPUs foram usadas ...", "Wie viele FLOPs ...", "How many GPUs?": a name right after the
# word asking a number is what is counted, where no English verb closes the phrase for ``_TARGET``.
_TARGET_AFTER_HOW_MUCH = re.compile(
    r"(?i:" + _HOW_MUCH + r")\s+(?P<target>[A-Za-z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*)(?=[\s?,.;:]|$)"
)
# "wat acc on the hardest category", "also per-digit svhn acc pls": with no phrase around it,
# the measure's noun (and the two words before it, which may qualify it) is the asked measure.
_MEASURE_NOUN = re.compile(
    r"(?P<target>(?:[\w-]+\s+){0,2}?\b(?:acc|accuracy|params|parameters|perplexity|bleu|f1|fid|miou|latency"
    r"|error|err|throughput|speed-?up)\b)",
    re.IGNORECASE,
)
_LEADING_FUNCTION_WORDS = re.compile(r"^(?:(?:what'?s?|wat|whats|the|a|an|its|their|our)\s+)+", re.IGNORECASE)
_MEASURE_HEADS = content_terms(
    "gap difference improvement gain drop reduction increase decrease margin advantage boost speedup "
    "speed-up overhead error accuracy loss cost latency footprint"
)
_WORDS = re.compile(r"[^\W\d_][\w-]*")
_GENERIC_TARGETS = frozenset(
    {"score", "number", "valu", "result", "perform", "amount", "size"}
) | content_terms(
    # "the actual numbers", "the exact reported accuracy": words vouching for a value name no measure.
    "actual exact exactly precise reported measured obtained achieved final"
)


def _measure_phrase(question: str) -> tuple[str, bool]:
    """The words naming the asked measure ("" if none), and whether only a name after the word
    asking a number says it (:func:`counts_a_name`); the forms in order of precedence."""
    match = _TARGET.search(question)
    if match:
        return match.group("target").strip(), False
    copula = _TARGET_AFTER_COPULA.search(question)
    # "How big was its accuracy gap?" asks the gap; "How big is the benchmark?" asks a size the
    # abstract gives in other words ("15 tasks and 2,553 samples"), not a number of "benchmark".
    if copula and content_terms(copula.group("target").split()[-1]) & _MEASURE_HEADS:
        return copula.group("target").strip(), False
    match = _TARGET_AFTER_HOW_MUCH.search(question)
    if match:
        return match.group("target"), copula is None
    match = _TARGET_AFTER_WHAT_IS.search(question)
    # "What is the number of parameters ...": a generic head says nothing; the noun after it does.
    if match and content_terms(match.group("target")) - _GENERIC_TARGETS and is_english_text(question):
        return match.group("target").strip(), False
    # In another language the one measure noun English shares ("che errore di test ... e che
    # perplexity ...") may be one of several asked: there it says nothing of what is asked.
    match = _MEASURE_NOUN.search(question) if is_english_text(question) else None
    return (_LEADING_FUNCTION_WORDS.sub("", match.group("target").strip()) if match else ""), False


def quantity_phrase(question: str) -> str:
    """The words naming what a quantity question measures, as written ("GPU hours"); "" if none."""
    return _measure_phrase(question)[0]


def counts_a_name(question: str) -> bool:
    """Whether the measure is only a name after the word asking a number ("Quantas GPUs ...",
    "hoeveel FPS haalt die?"): the rest of the question may be in words no abstract uses."""
    return _measure_phrase(question)[1]


_SUBJECT = re.compile(
    r"\b(?:does|do|did|can|could|will|would)\s+(?P<subject>.+?)\s+"
    r"(?:reach|achieve|obtain|attain|get|have|use|need|require|report|score|take|contain|gain|"
    r"improve|beat|outperform|reduce|cut|save|win|run|cost|train|hit|deliver|yield)\b",
    re.IGNORECASE,
)


def asked_subject(question: str) -> str:
    """Who a question asks about, as written ("What BLEU score does *ByteNet* reach on
    WMT?"); "" when the question has no such phrase."""
    match = _SUBJECT.search(question)
    return match.group("subject").strip() if match else ""


#: Measures written like names ("mIoU"): what is measured, never what it is measured on.
_MEASURE_NAMES = frozenset(n.lower() for names in GLOSSARY for n in names.split())


def _names_a_thing(name: str) -> bool:
    """Whether a name in a measure phrase is a dataset, model or tool ("ImageNet", "WikiText-2",
    "LightHGNN": written with lower-case letters), not a measure or unit ("F1", "GPUs", "FLOPs",
    "mIoU")."""
    return sum(c.islower() for c in name) >= 2 and name.lower() not in _MEASURE_NAMES


def quantity_target(question: str) -> frozenset[str]:
    """Stemmed content words naming what a quantity question measures ("training tokens",
    "GPU hours", "BLEU score" → {"bleu"}); empty when there is no such phrase."""
    phrase = quantity_phrase(question)
    if not phrase:
        return frozenset()
    target = content_terms(phrase) - _GENERIC_TARGETS
    # A name in the phrase says what is measured on, not what is measured: "ImageNet top-1
    # accuracy" measures accuracy (a sentence "trained on ImageNet in 72 hours" states no
    # accuracy); a name alone ("What BLEU score") is the measure.
    names = method_names(phrase)
    on = [w for w in re.findall(r"[\w-]+", phrase) if w.lower() in names and _names_a_thing(w)]
    target = (target - content_terms(" ".join(on))) or target
    # A measure of three or more words is also written as its acronym: "Fréchet Inception
    # Distance" → "fid", "mean average precision" → "map", "word error rate" → "wer".
    words = [w for w in _WORDS.findall(phrase) if content_terms(w) & target]
    if len(words) >= 3:
        target |= {"".join(w[0] for w in words).lower()}
    # A measure described in words ("segmentation overlap score") is stated under its name (mIoU).
    return target | named_measures(measure_terms(phrase))


# "..., and what latency does it reach?", "... and how much larger is the bound?": where a
# question goes on to ask a second thing.
_NEXT_PART = re.compile(
    r",?\s+(?:and|plus|as well as)\s+(?=(?:(?:by|at|on|in|for|with|over|across|under|from|against|to|through)"
    r"\s+)?(?:what|which|how)\b|(?:where|when|who|whose)\b"
    # "..., and did it help on any published model?": a yes/no question about the same subject.
    r"|(?:does|did|do|is|are|was|were|has|have|can|could)\s+(?:it|they|this|that|these|those|each|either|both)\b)",
    re.IGNORECASE,
)
_AFTER_QUESTION_MARK = re.compile(r"(?<=\?)\s+")
_ASKING = re.compile(
    r"^\W*(?:(?:and|also|plus)\s+)?(?:what|which|how|by how much|where|when|who|whose|is|are|does|do|did)\b",
    re.IGNORECASE,
)

_ALSO = re.compile(r"^\W*(?:and|also|plus)\b", re.IGNORECASE)

#: "what headline results do they report", "what gains does each claim": the answer is the
#: paper's reported numbers.
_REPORTED_RESULTS = re.compile(
    r"\b(?:what|which)\s+(?:\w+[\s-]+){0,2}?(?:results?|gains?|improvements?|speed-?ups?|savings|numbers"
    r"|performance)\s+(?:do|does|did|is|are|was|were)\b",
    re.IGNORECASE,
)


def asks_for_reported_results(question: str) -> bool:
    """Whether the question asks what results a paper reports ("what headline results do they
    report?"): its answer is a sentence stating numbers, though no one measure is named."""
    return bool(_REPORTED_RESULTS.search(question))


def question_parts(question: str) -> tuple[str, ...]:
    """The things a question asks, when it asks several ("What accuracy does X reach, and what
    latency?" → two parts); ``()`` when it asks one thing.

    Sentences that ask nothing ("Given that X needs GPUs, ...?" asks once) are context, not parts,
    and so is what precedes a colon. Each part must carry a content word ("..., and what do
    they test on?" asks about testing; "..., and how?" asks nothing new).
    """
    # A "?" ends an ask even when what follows is written in lower case ("... trix?? and what
    # does resnet18 go to"), which the sentence splitter does not take for a new sentence.
    pieces = [p for s in split_sentences(question) for p in _AFTER_QUESTION_MARK.split(s)]
    asks = [
        s
        for s in pieces
        # "... hardest category? also per-digit svhn acc pls": a measure asked for after "also".
        if s.rstrip().endswith("?") or _ASKING.match(s) or (_ALSO.match(s) and asks_for_quantity(s))
    ]
    # "Compare the two UniFormer papers: what does each target": what precedes a colon names
    # the subject, not a thing asked.
    parts = [p.split(": ")[-1].strip(" ,;?") for s in asks for p in _NEXT_PART.split(s)]
    parts = [p for p in parts if content_terms(p)]
    return tuple(parts) if len(parts) >= 2 else ()


def needs_context(question: str) -> bool:
    """Whether a follow-up question leans on earlier turns (pronouns, or very short)."""
    if _PRONOUN.search(question):
        return True
    return len(content_terms(question)) <= 1 and not method_names(question)


def rule_based_standalone(question: str, history: list[dict[str, str]]) -> str:
    """Extractive-mode follow-up rewrite: add the previous question and the start of the previous
    answer, so retrieval sees what "it" refers to."""
    if not history or not needs_context(question):
        return question
    users = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    answers = [m["content"] for m in history if m.get("role") == "assistant" and m.get("content")]
    if not users:
        return question
    context = users[-1] + (f" {answers[-1][:150]}" if answers else "")
    return f"{question} (context: {context})"


_FINDS_PAPERS = re.compile(
    r"\b(which|what|any|find|list|name)\b[^?]{0,40}\b(papers?|works?|studies|study|articles?|methods?)\b"
    r"|\bis there (a |any )?(paper|work|study|method)\b",
    re.IGNORECASE,
)


def asks_for_papers(question: str) -> bool:
    """Whether the question asks which paper(s) do something (answerable from retrieval)."""
    return bool(_FINDS_PAPERS.search(question))


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3}
_ORDINAL_REF = re.compile(
    r"\bthe (?P<ord>first|second|third|fourth|fifth|1st|2nd|3rd|last|latter|former)"
    r"(?: (?:one|paper|work|study|method|model|approach|article))?\b"
    r"|\b(?:paper|reference|source|number|no\.|#)\s*\[?(?P<num>\d{1,2})\]?(?!\s*%)"
    r"|(?<!\w)\[(?P<marker>\d{1,2})\]",
    re.IGNORECASE,
)
# "the speech one", "the one about speech", "the one on lane detection": a paper picked by topic.
_TOPIC_REF = re.compile(
    r"\bthe (?P<a>[\w-]+(?: [\w-]+)?) one\b"
    r"|\bthe one (?:about|on|for|with|using|that uses) (?P<b>[\w -]+?)\b(?=[,?.;]|$)",
    re.IGNORECASE,
)
# One segment of an answer per citation marker: the text since the previous marker.
_SEGMENT = re.compile(r"(?P<text>[^\[\]]*?)\[(?P<n>\d+)\]")


def cited_segments(answer: str) -> dict[int, str]:
    """What an answer says about each cited paper: marker number → the text ending in that marker."""
    out: dict[int, str] = {}
    for match in _SEGMENT.finditer(answer):
        n = int(match.group("n"))
        out[n] = f"{out.get(n, '')} {match.group('text').strip(' ;,.')}".strip()
    return out


_CLAUSE_START = re.compile(r"[;:]\s*|,\s*(?:and|while|whereas|but)\s+|\s+(?:while|whereas)\s+", re.IGNORECASE)
#: A quoted title or name ('Make Deep Networks Shallow Again', "JointNet"); an apostrophe inside
#: a word ("LLM's") opens none.
QUOTED = re.compile(r"(?<!\w)'([^']{4,})'(?!\w)|\"([^\"]{4,})\"|“([^”]{4,})”")


def _named_before(answer: str, marker: int) -> str | None:
    """The paper's name when the answer names it right before its marker, in mid-sentence:
    "XNect [2] does multi-person 3D capture", "A couple: <title> [1] finds that ...", "...;
    SpaceTime [2] uses ...": the words since the sentence (or a colon/semicolon) began, when the
    sentence goes on with the paper's verb after the marker."""
    pattern = (
        r"(?:^|[.!?][\"'”)\]]*\s+|[;:]\s+)(?P<name>[^.!?;:\[\]]{2,160}?)\s*\[" + str(marker) + r"\]"
        r"\s+(?=[a-z])(?!(?:and|or|but|while|whereas)\b)"
    )
    match = re.search(pattern, answer)
    if not match:
        return None
    name = re.sub(r"^(?:and|while|whereas|but)\s+", "", match.group("name").strip(" \"'“”"))
    return name if 0 < len(name.split()) <= 12 else None


def cited_claim(answer: str, marker: int) -> str:
    """What an answer says about the paper cited as ``[marker]``, for finding that paper: its
    name where the answer names it right before the marker (:func:`_named_before`), else the
    title (three or more words) quoted last before the marker ("..., and 'Make Deep Networks
    Shallow Again' [2]"), else the last clause before it ("X does A [1], while Y does B [2]" →
    "Y does B"; "..., and EMoE [2]" → "EMoE"), else the whole segment since the previous marker.
    The segment alone also holds what the clause before said about the previous paper when the
    answer names each paper before its marker."""
    named = _named_before(answer, marker)
    if named:
        return named
    segment = cited_segments(answer).get(marker, "")
    quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(segment)]
    # A title has several words; a single quoted word is a term in scare quotes ('neurons').
    titles = [q for q in quoted if len(q.split()) >= 3]
    if titles:
        return titles[-1]
    clause = re.sub(r"^(?:and|while|whereas|but)\s+", "", _CLAUSE_START.split(segment)[-1].strip())
    return clause if len(content_terms(clause)) >= 2 or method_names(clause) else segment


def referenced_marker(question: str, answer: str) -> int | None:
    """Which of the previous answer's citations a follow-up points at — "the second one",
    "the latter", "paper [2]", "the speech one" — as its marker number; ``None`` if it points at
    none in particular (then "it" means the answer's main paper)."""
    segments = cited_segments(answer)
    if len(segments) < 2:
        return None
    order = sorted(segments)
    match = _ORDINAL_REF.search(question)
    if match:
        word = (match.group("ord") or "").lower()
        if word in ("last", "latter"):
            return order[-1]
        if word == "former":
            return order[0]
        n = _ORDINALS.get(word) or int(match.group("num") or match.group("marker") or 0)
        return n if n in segments else None
    topic = _TOPIC_REF.search(question)
    if topic:
        words = content_terms(topic.group("a") or topic.group("b") or "")
        around = _around_markers(answer)
        hits = [n for n in order if words and words <= content_terms(around.get(n, ""))]
        return hits[0] if len(hits) == 1 else None
    return None


def name_reference(question: str, name: str) -> str:
    """The follow-up with its pointer at one cited paper ("the second one", "the latter", "paper
    [2]", "the speech one") replaced by ``name``; unchanged if it has none."""
    match = _ORDINAL_REF.search(question) or _TOPIC_REF.search(question)
    if not match:
        return question
    start = match.start()
    word = name[:1].upper() + name[1:] if not question[:start].strip() else name
    return f"{question[:start]}{word}{question[match.end() :]}"


def _around_markers(answer: str) -> dict[int, str]:
    """Marker number → the text on both sides of it, up to the neighbouring markers (a marker
    may follow the claim, "... on speech [2]", or the name, "Spikformer V2 [1] brings ...")."""
    parts = re.split(r"\[(\d+)\]", answer)
    out: dict[int, str] = {}
    for i in range(1, len(parts), 2):
        n = int(parts[i])
        out[n] = f"{out.get(n, '')} {parts[i - 1]} {parts[i + 1]}".strip()
    return out
