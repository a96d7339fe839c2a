"""Text from the corpus and from users is data, never prompt structure.

llama.cpp (like most chat servers) renders the chat template and then tokenizes the result with
special-token parsing on, so the literal text ``<|im_start|>system`` inside an abstract or a
question becomes Qwen's real control token and opens a forged system turn. Before any such
text goes into a prompt, chat-template control tokens are rewritten into inert look-alikes
(``<|im_start|>`` → ``(im_start)``), and, in evidence, a sentence that opens with a chat role
or prompt-section label (``System:``, ``Question:``) loses the colon that makes it one.

Ordinary text is returned unchanged, so prompts (and recorded responses) without such
tokens stay byte-identical.
"""

from __future__ import annotations

import re

# <|im_start|>, <|eot_id|>, <|endoftext|>, <|start_header_id|> ... and DeepSeek's full-width
# <｜begin▁of▁sentence｜>; also the bare </|...|> and <|...> halves some templates use.
_PIPE_TOKEN = re.compile(r"<\s*/?\s*[|｜]\s*([^<>|｜\n]{0,64}?)\s*[|｜]?\s*>")
# Named control tokens of the common chat templates (Llama 2, Mistral, Gemma, Qwen tools, R1).
_NAMED_TOKEN = re.compile(
    r"<\s*(/?)\s*(s|unk|pad|bos|eos|start_of_turn|end_of_turn|tool_call|tool_response|think"
    r"|im_start|im_end|endoftext|eot|system|user|assistant)\s*>"
    r"|\[\s*(/?)\s*(INST|SYS|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|SYSTEM_PROMPT)\s*\]"
    r"|<<\s*(/?)\s*SYS\s*>>",
    re.IGNORECASE,
)
# A chat role or a section label of our prompts at the start of a sentence.
_ROLE_LABEL = re.compile(
    r"(^|(?<=[.!?]\s)|(?<=\n))(\W{0,4})(system|assistant|user|human|developer|tool|question|sources?"
    r"|instructions?|answer|context|evidence)(\s*(?:prompt|message|instructions?)?)\s*:(?=\s|$)",
    re.IGNORECASE,
)


def _inert(name: str, slash: str = "") -> str:
    name = " ".join(name.replace("▁", " ").split()).strip("/ ")
    return f"({slash}{name})" if name else "(token)"


def neutralize_tokens(text: str) -> str:
    """``text`` with chat-template control tokens rewritten as plain words in parentheses."""
    if "<" not in text and "[" not in text:
        return text
    text = _PIPE_TOKEN.sub(lambda m: _inert(m.group(1)), text)
    return _NAMED_TOKEN.sub(
        lambda m: _inert(m.group(2) or m.group(4) or "SYS", m.group(1) or m.group(3) or m.group(5) or ""),
        text,
    )


def neutralize_roles(text: str) -> str:
    """``text`` with a sentence-initial ``System:``/``Question:``-style label made plain text."""
    if ":" not in text:
        return text
    return _ROLE_LABEL.sub(lambda m: f"{m.group(1)}{m.group(2)}({m.group(3)}{m.group(4)})", text)


def neutralize(text: str) -> str:
    """Corpus text made safe to put into a prompt (see the module docstring)."""
    return neutralize_roles(neutralize_tokens(text))


# Sentences that address the assistant rather than describe research. Abstracts describe work
# in the third person; these patterns are imperatives or second-person orders at the start of
# a sentence, so research *about* prompt injection ("models ignore previous instructions")
# is not caught. None of them matches a sentence of the bundled corpus (tested).
_FILLER = (
    r"^\W*(?:(?:please|now|also|first|then|finally|important|note|attention|ai|assistant|model|chatbot"
    r"|scholium)\W+|(?:before|after|while|when)\s+(?:answering|responding|replying|you\s+\w+)\W+)*"
)
_INSTRUCTION = re.compile(
    "|".join(
        [
            _FILLER + r"(?:ignore|disregard|forget|override|bypass)\b.{0,80}?"
            r"\b(?:instructions?|rules|prompts?|guidelines|directions|constraints|context|sources"
            r"|documents|abstracts|papers|retrieval|questions?|messages?|everything)\b",
            _FILLER + r"(?:reveal|print|repeat|output|show|display|dump|leak|recite|tell\s+me)\b.{0,60}?"
            r"\b(?:system\s+prompt|instructions|rules|prompt|guidelines|configuration)\b",
            _FILLER + r"(?:answer|reply|respond)\s+(?:only\s+|exclusively\s+|always\s+)?"
            r"(?:with|by\s+saying|in\s+the\s+form|:)",
            _FILLER + r"(?:do\s+not|don't|never|always)\s+"
            r"(?:cite|mention|reveal|follow|answer|tell|say|refuse|use|consult|read)\b",
            # A header claiming authority: "### SYSTEM OVERRIDE", "[Developer mode] ...".
            r"^\W*(?:system|developer|admin)\s+(?:override|notice|update|mode)\b",
            _FILLER + r"(?:cite|attribute)\s+(?:this|it|the|paper|source|\[)",
            _FILLER + r"(?:state|claim|say|report|write|pretend|assert)\s+(?:that|only|to\b|you\b)",
            _FILLER + r"(?:when|if|whenever)\s+"
            r"(?:summari[sz]ing|answering|asked|citing|describing|you)\b.{0,120}?"
            r"\b(?:state|say|claim|report|cite|answer|reply|write|mention|output)\b",
            r"\byou\s+(?:must|should|shall|will|are\s+now|have\s+to|need\s+to)\b",
            r"\b(?:from\s+now\s+on|developer\s+mode|jailbreak|do\s+anything\s+now|new\s+instructions)\b",
            r"\b(?:instructions|rules|guidelines|restrictions|safeguards)\s+(?:are|is)\s+(?:now\s+)?"
            r"(?:void|null|cancell?ed|revoked|lifted|suspended|disabled|off|over|gone)\b",
            r"^\W*(?:system|assistant|user|developer)(?:\s+(?:prompt|message))?\s*:",
            # Role play: "Let's play a game: you are Captain Byte, a pirate who ...", "Pretend
            # you are ...", "Act as ...", "Stay in character".
            r"\blet'?s\s+(?:play\s+a\s+game|pretend|role-?play)\b",
            _FILLER + r"(?:pretend|imagine)\s+(?:to\s+be|you(?:'re|\s+are))\b",
            _FILLER + r"(?:act|behave|respond|answer|speak|talk|reply)\s+(?:only\s+)?(?:as|like)"
            r"\s+(?:a|an|if)\b",
            r"\b(?:stay|remain|staying)\s+in\s+character\b|\brole-?play(?:ing)?\s+as\b",
            r"^\W*you(?:'re|\s+are)\s+(?:now\s+)?(?:a|an|my)\s",
            # Creative writing: "Write me a poem about ...", "compose a haiku on ..." asks for
            # text the papers cannot support, whatever its topic.
            _FILLER + r"(?:write|compose|create|generate|make|give\s+me)\s+(?:me\s+|us\s+)?"
            r"(?:a|an|some|one|two|three|\d+)?\s*(?:[\w-]+\s+){0,3}?"
            r"(?:poems?|poetry|songs?|lyrics|raps?|stor(?:y|ies)|limericks?|haikus?|sonnets?|jokes?"
            r"|ballads?|odes?|verses?|fairy\s+tales?)\b",
            # The same two orders in German, French, Spanish, Italian and Portuguese: "Vergiss die
            # Dokumente ...", "Ignora le istruzioni ...", "Schreib mir ein Gedicht ...".
            # (At the start of a sentence, after at most three words: "Bitte vergiss ...".)
            r"^\W*(?:[^\W\d_]+\W+){0,3}?(?:ignorier(?:e|en|t)?|vergiss|vergessen|ignorez|oublie[zs]?"
            r"|ignora|ignoren|olvida|olvide|olviden|dimentica(?:te)?|esque[cç]a|esque[cç]am)\b.{0,80}?\b(?:anweisungen|dokumente|regeln|quellen|kontext"
            r"|instructions|documents|règles|consignes|sources|instrucciones|documentos|reglas|fuentes"
            r"|istruzioni|documenti|regole|fonti|instruções|instrucoes|regras|fontes)\b",
            r"(?:^|[\s,;:(])(?:schreib\w*|verfass\w*|écri[st]\w*|ecri[st]\w*|escrib\w*|scriv\w*|escrev\w*)\b"
            r".{0,40}?\b(?:gedicht\w*|lied|liedtext|geschichte|märchen|witz|poèmes?|chansons?|histoire"
            r"|blagues?|poemas?|canci[oó]n|cuentos?|chistes?|poesi[ae]|canzon[ei]|barzellett[ae]|can[cç][aã]o"
            r"|piadas?)\b",
        ]
    ),
    re.IGNORECASE,
)


def looks_like_instruction(sentence: str) -> bool:
    """Whether a corpus sentence is an order to the assistant (a prompt-injection attempt) or
    carries chat-template control tokens, rather than a statement about research."""
    return bool(_INSTRUCTION.search(sentence) or neutralize_tokens(sentence) != sentence)
