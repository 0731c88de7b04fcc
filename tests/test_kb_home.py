"""Knowledge bases on disk (rag/kb/home.py, Settings.from_env/for_kb): RAG_HOME, seeding the
default one from the checkout without re-embedding, create/list/delete, and the checkout untouched."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import pytest

from rag.config import DEFAULT_KB, PROJECT_ROOT, Settings
from rag.errors import ConfigError, KnowledgeBaseError
from rag.kb import AccessPolicy, Actor, Library, ensure_kb
from rag.kb.home import create_kb, list_names, remove_kb


def test_settings_point_at_a_knowledge_base_under_rag_home(tmp_path):
    s = Settings.from_env({"RAG_HOME": str(tmp_path)})
    assert s.kb == DEFAULT_KB and s.home == tmp_path
    assert s.corpus_dir == tmp_path / "kbs" / "default" / "corpus"
    assert s.index_dir == tmp_path / "kbs" / "default" / "index"
    other = Settings.from_env({"RAG_HOME": str(tmp_path), "RAG_KB": "新闻"})
    assert other.kb == "新闻" and other.index_dir == tmp_path / "kbs" / "新闻" / "index"
    assert s.for_kb("新闻") == other


def test_default_home_is_the_users_data_directory_not_the_checkout():
    s = Settings.from_env({})
    assert s.home is not None and PROJECT_ROOT not in Path(s.home).parents
    assert "rag-zh" in str(s.home)


def test_explicit_directories_are_one_knowledge_base(tmp_path):
    s = Settings.from_env({"RAG_HOME": str(tmp_path), "RAG_INDEX_DIR": str(tmp_path / "i")})
    assert s.kb is None and s.index_dir == tmp_path / "i" and s.corpus_dir == PROJECT_ROOT / "corpus"
    lib = Library(s, policy=AccessPolicy.local())
    assert lib.explicit and lib.names() == ["default"]
    with pytest.raises(KnowledgeBaseError, match="RAG_CORPUS_DIR"):
        lib.create("x", Actor())
    assert not (tmp_path / "kbs").exists()


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "-x", "a b", "x" * 41, "名字.txt"])
def test_bad_knowledge_base_names_are_refused(bad, tmp_path):
    with pytest.raises(ConfigError, match="知识库名称"):
        Settings.from_env({"RAG_HOME": str(tmp_path), "RAG_KB": bad}) if bad else Settings().for_kb(bad)


def test_default_knowledge_base_is_seeded_by_copying_the_committed_index(tmp_path):
    s = Settings.from_env({"RAG_HOME": str(tmp_path)})
    ensure_kb(s)
    corpus = sorted(p.name for p in (PROJECT_ROOT / "corpus").iterdir())
    assert sorted(p.name for p in s.corpus_dir.iterdir()) == corpus
    live = (PROJECT_ROOT / "index" / "CURRENT").read_text("utf-8").strip()
    assert (s.index_dir / "CURRENT").read_text("utf-8").strip() == live
    match, mismatch, errors = filecmp.cmpfiles(
        PROJECT_ROOT / "index" / live, s.index_dir / live,
        [p.name for p in (PROJECT_ROOT / "index" / live).iterdir()], shallow=False)
    assert match and not mismatch and not errors
    # a second call does not copy again
    (s.corpus_dir / corpus[0]).write_text("已修改", "utf-8")
    ensure_kb(s)
    assert (s.corpus_dir / corpus[0]).read_text("utf-8") == "已修改"
    assert not [p for p in (tmp_path / "kbs").iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_other_knowledge_bases_must_be_created(tmp_path):
    s = Settings.from_env({"RAG_HOME": str(tmp_path), "RAG_KB": "新闻"})
    with pytest.raises(KnowledgeBaseError, match="rag kb create 新闻"):
        ensure_kb(s)
    create_kb(tmp_path, "新闻")
    ensure_kb(s)
    assert s.corpus_dir.is_dir() and s.index_dir.is_dir() and list(s.corpus_dir.iterdir()) == []
    assert list_names(tmp_path) == ["default", "新闻"]
    with pytest.raises(KnowledgeBaseError, match="已存在"):
        create_kb(tmp_path, "新闻")
    remove_kb(tmp_path, "新闻")
    assert list_names(tmp_path) == ["default"] and not (tmp_path / "kbs" / "新闻").exists()
    with pytest.raises(KnowledgeBaseError, match="不存在"):
        remove_kb(tmp_path, "新闻")


def test_unwritable_home_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    s = Settings.from_env({"RAG_HOME": str(blocker / "home")})
    with pytest.raises(KnowledgeBaseError, match="RAG_HOME"):
        ensure_kb(s)


def test_library_creates_switches_and_deletes_in_two_steps(tmp_path):
    lib = Library(Settings.from_env({"RAG_HOME": str(tmp_path)}), policy=AccessPolicy.local())
    admin = Actor()
    a = lib.create("甲", admin)
    assert lib.get("甲") is a and lib.get() is not a and lib.get().name == "default"
    assert [i["name"] for i in lib.infos()] == ["default", "甲"]
    with pytest.raises(KnowledgeBaseError, match="默认知识库不能删除"):
        lib.request_delete("default", admin)
    conf = lib.request_delete("甲", admin)
    assert "甲" in conf.message and "确认" in conf.message
    with pytest.raises(KnowledgeBaseError, match="确认"):
        lib.delete("甲", admin, confirm=None)
    with pytest.raises(KnowledgeBaseError, match="确认"):
        lib.delete("甲", admin, confirm="forged")
    assert "甲" in lib.names() and (tmp_path / "kbs" / "甲").is_dir()
    lib.delete("甲", admin, confirm=conf.token)
    with pytest.raises(KnowledgeBaseError):
        lib.delete("甲", admin, confirm=conf.token)  # single use (and gone)
    assert lib.names() == ["default"] and not (tmp_path / "kbs" / "甲").exists()


def _checkout_state() -> tuple[str, list]:
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "corpus", "index"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    files = sorted((p.relative_to(PROJECT_ROOT).as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
                   for d in ("corpus", "index") for p in (PROJECT_ROOT / d).rglob("*"))
    return status, files


@pytest.mark.slow
def test_using_the_default_knowledge_base_leaves_the_checkout_untouched(tmp_path):
    """Seed, answer, upload, delete and rebuild: git status of corpus/ and index/ is unchanged."""
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    before = _checkout_state()
    lib = Library(Settings.from_env({"RAG_HOME": str(tmp_path)}), policy=AccessPolicy.local())
    kb = lib.get()
    assert kb.health().ok
    answer = kb.assistant().answer("中央经济工作会议在哪里举行？")
    assert "北京" in answer.text and answer.citations
    change = kb.upload([("图书馆.txt", "松鼠镇图书馆完成扩建\n新馆面积达到3200平方米。\n".encode())], Actor())
    assert change.saved == ["图书馆.txt"]
    conf = kb.request_delete("图书馆.txt", Actor())
    kb.delete("图书馆.txt", Actor(), confirm=conf.token)
    final = kb.wait_for_build()
    assert final.state == "done", final.error
    assert _checkout_state() == before
    assert (tmp_path / "kbs" / "default" / "corpus").is_dir()


def test_assistant_answers_from_a_named_knowledge_base(tmp_path):
    from rag.assistant import Assistant

    settings = Settings.from_env({"RAG_HOME": str(tmp_path)})
    with pytest.raises(KnowledgeBaseError, match="rag kb create 甲"):
        Assistant(settings, kb="甲")
    create_kb(tmp_path, "甲")
    a = Assistant(settings, kb="甲")
    assert a.settings.kb == "甲" and a.settings.corpus_dir == tmp_path / "kbs" / "甲" / "corpus"
    default = Assistant(settings)  # seeds the default knowledge base, loads nothing yet
    assert (default.settings.index_dir / "CURRENT").is_file() and default._index is None
