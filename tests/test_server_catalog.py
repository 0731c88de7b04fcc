"""Which knowledge base a program's question goes to (rag.server.catalog), over a real Library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import DEFAULT_KB, Settings
from rag.errors import KnowledgeBaseError
from rag.kb import Library
from rag.kb.home import create_kb, remove_kb
from rag.server.catalog import KbCatalog


def library(home: Path, **settings) -> Library:
    return Library(Settings(home=home, kb=DEFAULT_KB, **settings))


@pytest.fixture
def home(tmp_path) -> Path:
    create_kb(tmp_path, "news")
    create_kb(tmp_path, "法规")
    return tmp_path


def test_names_default_first_and_check(home):
    catalog = KbCatalog(library(home))
    assert catalog.default_name == DEFAULT_KB
    assert catalog.names() == [DEFAULT_KB, "news", "法规"]
    assert catalog.check(None) == catalog.check("") == catalog.check("  ") == DEFAULT_KB
    assert catalog.check("news") == "news" and catalog.check(" 法规 ") == "法规"
    assert catalog.get("news").name == "news" and catalog.get().name == DEFAULT_KB


def test_the_app_default_comes_first(home):
    catalog = KbCatalog(Library(Settings(home=home, kb="news")))
    assert catalog.default_name == "news" and catalog.names()[0] == "news"
    assert catalog.check(None) == "news"


@pytest.mark.parametrize("name", ["nope", "../default", "a:b", "x" * 500, "DEFAULT"])
def test_unknown_names_say_what_exists_and_how_to_create(home, name):
    catalog = KbCatalog(library(home))
    before = sorted(p.name for p in (home / "kbs").iterdir())
    with pytest.raises(KnowledgeBaseError) as err:
        catalog.get(name)
    message = str(err.value)
    assert "不存在" in message and "default、news、法规" in message and "rag kb create" in message
    assert len(message) < 300  # a long name is cut, not echoed whole
    assert sorted(p.name for p in (home / "kbs").iterdir()) == before  # nothing created


def test_a_name_that_is_not_a_string(home):
    with pytest.raises(KnowledgeBaseError) as err:
        KbCatalog(library(home)).check(["news"])
    assert "字符串" in str(err.value)


def test_one_explicit_knowledge_base_says_how_to_get_several(tmp_path, small_corpus_dir, small_index_dir):
    lib = Library(Settings(corpus_dir=small_corpus_dir, index_dir=small_index_dir, home=tmp_path, kb=None))
    catalog = KbCatalog(lib)
    assert catalog.names() == [DEFAULT_KB] and catalog.check("") == DEFAULT_KB
    with pytest.raises(KnowledgeBaseError) as err:
        catalog.check("news")
    assert "RAG_CORPUS_DIR" in str(err.value) and "rag kb create news" in str(err.value)


def test_one_shared_catalog_per_source(home):
    lib = library(home)
    assert KbCatalog.of(lib) is KbCatalog.of(lib)
    assert KbCatalog.of(library(home)) is not KbCatalog.of(lib)


@pytest.mark.slow
def test_loaded_indexes_are_bounded_least_recent_unloaded(tmp_path, two_kb_home):
    """Three indexed knowledge bases besides the default, room for two: the least recently asked is unloaded."""
    for name in ("k1", "k2", "k3"):
        shutil.copytree(two_kb_home / "kbs" / "tiny", tmp_path / "kbs" / name)
    catalog = KbCatalog(library(tmp_path), max_loaded=2)
    question = "甲公司的机器人售价多少？"

    def ask(name: str) -> None:
        answer = catalog.get(name).assistant().answer(question)
        assert answer.citations[0].source == "a.txt"

    def loaded(name: str) -> bool:  # looked at through the library, which does not count as asking
        return catalog.source.get(name).assistant()._index is not None

    ask("k1"), ask("k2")
    assert catalog.loaded() == ["k1", "k2"]
    ask("k1")  # asked again: now the most recent
    assert catalog.loaded() == ["k2", "k1"]
    ask("k3")
    assert catalog.loaded() == ["k1", "k3"]
    assert loaded("k1") and loaded("k3") and not loaded("k2")  # k2 unloaded; the object stays the library's
    ask("k2")  # and loads again on its next question
    assert catalog.loaded() == ["k3", "k2"] and loaded("k2") and not loaded("k1")
    catalog.get(DEFAULT_KB)
    assert DEFAULT_KB not in catalog.loaded()  # the default knowledge base is never unloaded


def test_a_deleted_knowledge_base_is_let_go(home):
    lib = library(home)
    catalog = KbCatalog(lib)
    catalog.get("news")
    assert catalog.loaded() == ["news"]
    remove_kb(home, "news")  # as Library.delete does, after its administrator check
    with pytest.raises(KnowledgeBaseError):
        catalog.get("news")
    catalog.get("法规")
    assert catalog.loaded() == ["法规"]
