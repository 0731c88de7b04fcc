"""The Python API: rag.retrieve / rag.answer on real indexes, chosen by the environment."""

import subprocess
import sys

import pytest

import rag
from rag.assistant import Assistant
from rag.errors import IndexNotFoundError, QuestionError

pytestmark = pytest.mark.slow


def test_answer_cites_passages_whose_spans_slice_the_documents(small_assistant):
    a = small_assistant.answer("崂山区的“1134”模式指的是什么？")
    assert not a.refused and a.mode == "extractive" and a.citations
    index = small_assistant.index
    for p in a.citations:
        assert index.documents[p.doc_id].text[p.start:p.end] == p.text
        assert p.title and p.source
    assert "[1]" in a.text


def test_refuses_off_topic_questions_without_citations(small_assistant):
    a = small_assistant.answer("红烧肉怎么做才好吃？")
    assert a.refused and a.citations == [] and "没有找到" in a.text


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"])
def test_empty_questions_raise_value_error(small_assistant, bad):
    with pytest.raises(ValueError):
        small_assistant.answer(bad)
    with pytest.raises(QuestionError):
        small_assistant.retrieve(bad)


def test_top_k_defaults_to_the_setting_and_bad_values_say_what_is_allowed(small_settings, small_index_dir):
    assistant = Assistant(small_settings.replace(index_dir=small_index_dir, top_k=3))
    assert len(assistant.answer("科技金融体制有哪些结构性短板？").passages) == 3  # RAG_TOP_K
    assert len(assistant.retrieve("科技金融体制有哪些结构性短板？")) == 3
    assert len(assistant.answer("科技金融体制有哪些结构性短板？", top_k=2).passages) == 2
    for bad in (-1, 0, 51, "5", 2.5):
        with pytest.raises(QuestionError, match="top_k"):
            assistant.answer("科技金融体制有哪些结构性短板？", top_k=bad)
        with pytest.raises(QuestionError, match="top_k"):
            assistant.stream_answer("科技金融体制有哪些结构性短板？", top_k=bad)
        with pytest.raises(QuestionError, match="top_k"):
            assistant.retrieve("科技金融体制有哪些结构性短板？", top_k=bad)


def test_huge_question_is_truncated_and_said(small_assistant):
    a = small_assistant.answer("科技金融体制" * 1000)
    assert any("过长" in w for w in a.warnings)


def test_missing_index_says_how_to_build(tmp_path, small_settings):
    assistant = Assistant(small_settings.replace(index_dir=tmp_path / "none"))
    with pytest.raises(IndexNotFoundError, match="rag index"):
        assistant.answer("科技金融")


def test_constructing_is_cheap(small_settings, tmp_path):
    # nothing is loaded until the first question: a missing index does not fail construction
    assistant = Assistant(small_settings.replace(index_dir=tmp_path / "none"))
    assert assistant._index is None and assistant._retriever is None and assistant._pipeline is None
    with pytest.raises(IndexNotFoundError):
        assistant.retrieve("科技金融")


def test_module_level_api_uses_the_environment(small_index_dir, small_corpus_dir):
    code = (
        "import rag; ps = rag.retrieve('科技金融体制有哪些短板？', top_k=3);"
        "a = rag.answer('科技金融体制有哪些结构性短板？');"
        "print(len(ps), ps[0].source, a.mode, bool(a.citations), a.citations[0].chunk_id in [p.chunk_id for p in a.passages])"
    )
    env = {"RAG_INDEX_DIR": str(small_index_dir), "RAG_CORPUS_DIR": str(small_corpus_dir), "PATH": "/usr/bin:/bin",
           "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "004_a725a1633d20dd26.txt", "extractive", "True", "True"]


def test_default_index_answers_a_sample_question():
    a = rag.answer("中央经济工作会议在哪里举行？")
    assert "北京" in a.text and a.citations
    assert rag.default_assistant() is rag.default_assistant()


def test_stream_answer_yields_text_then_the_answer(small_assistant):
    pieces = list(small_assistant.stream_answer("崂山区的“1134”模式指的是什么？"))
    assert all(isinstance(p, str) for p in pieces[:-1]) and isinstance(pieces[-1], rag.Answer)
    assert "".join(pieces[:-1]).strip() == pieces[-1].text


def test_rebuilding_reloads_the_index(small_settings, tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(small_settings.corpus_dir, corpus)
    assistant = Assistant(small_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assistant.build_index()
    before = assistant.index.size
    (corpus / "extra.txt").write_text("甲市建设量子计算中心\n甲市今年建成了全国首个量子计算中心，投资八亿元。\n来源：测试日报\n", "utf-8")
    report = assistant.build_index()
    assert report.added == ["extra.txt"] and assistant.index.size > before
    a = assistant.answer("甲市的量子计算中心投资了多少钱？")
    assert "八亿元" in a.text and a.citations[0].source == "extra.txt"


def test_an_index_rebuilt_by_another_process_is_picked_up(small_settings, small_index_dir, tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(small_settings.corpus_dir, corpus)
    settings = small_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    shutil.copytree(small_index_dir, settings.index_dir)
    serving = Assistant(settings)
    assert serving.answer("甲市的量子计算中心投资了多少钱？").refused
    (corpus / "extra.txt").write_text("甲市建设量子计算中心\n甲市今年建成了全国首个量子计算中心，投资八亿元。\n来源：测试日报\n", "utf-8")
    out = subprocess.run([sys.executable, "-m", "rag", "index", "--quiet"], capture_output=True, text=True,
                         env={**__import__("os").environ, "RAG_INDEX_DIR": str(settings.index_dir),
                              "RAG_CORPUS_DIR": str(corpus)}, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "八亿元" in serving.answer("甲市的量子计算中心投资了多少钱？").text
