"""Prompt templates live in ``prompts/<name>.md`` (shipped in the package as
``rag/_bundled/prompts``) and are loaded by name; ``SCHOLIUM_PROMPTS_DIR`` points at your own.

Templates use ``$name`` placeholders (``string.Template``), so JSON braces in a prompt need no
escaping. Rendering checks that exactly the declared inputs are supplied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from ..settings import BUNDLED

PROMPTS_DIR = Path(os.environ.get("SCHOLIUM_PROMPTS_DIR") or BUNDLED / "prompts")

# The inputs each prompt takes: a typed contract checked at load and render time.
PROMPT_INPUTS: dict[str, frozenset[str]] = {
    "system": frozenset(),
    "answer": frozenset({"evidence", "question", "guidance"}),
    "guidance_quantity": frozenset(),
    "guidance_compare": frozenset({"works"}),
    "guidance_parts": frozenset({"count", "parts"}),
    "translate": frozenset({"question"}),
}


class PromptError(ValueError):
    """A prompt file is missing or its placeholders do not match its declared inputs."""


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt template."""

    name: str
    template: Template

    @property
    def inputs(self) -> frozenset[str]:
        """Placeholders used in the file."""
        return frozenset(self.template.get_identifiers())

    def render(self, **values: str) -> str:
        """Fill the placeholders; every declared input must be given, and nothing else."""
        expected = PROMPT_INPUTS.get(self.name, self.inputs)
        if set(values) != expected:
            raise PromptError(f"prompt {self.name!r} takes {sorted(expected)}, got {sorted(values)}")
        return self.template.substitute(values).strip()


@cache
def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> Prompt:
    """Load ``<folder>/<name>.md``; raise ``PromptError`` if missing or inconsistent."""
    path = folder / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"prompt file {path} not found")
    prompt = Prompt(name, Template(path.read_text(encoding="utf-8")))
    if not prompt.template.is_valid():
        raise PromptError(f"prompt {path} has an invalid $placeholder")
    expected = PROMPT_INPUTS.get(name)
    if expected is not None and prompt.inputs != expected:
        raise PromptError(f"prompt {path} uses {sorted(prompt.inputs)}, expected {sorted(expected)}")
    return prompt
