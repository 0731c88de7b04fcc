"""The `rag` command, run as a real subprocess."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run(args, env_extra=None, timeout=600):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_ask_prints_answer_and_numbered_sources(small_index_dir, small_corpus_dir):
    out = run(["ask", "崂山区的“1134”模式指的是什么？"],
              {"RAG_INDEX_DIR": str(small_index_dir), "RAG_CORPUS_DIR": str(small_corpus_dir)})
    assert out.returncode == 0, out.stderr
    assert "[1]" in out.stdout and "来源：" in out.stdout and "004_a725a1633d20dd26.txt" in out.stdout


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_message_and_exit_2(question, small_index_dir):
    out = run(["ask", question], {"RAG_INDEX_DIR": str(small_index_dir)})
    assert out.returncode == 2 and "empty" in out.stderr and "Traceback" not in out.stderr


def test_missing_index_is_a_message_not_a_traceback(tmp_path):
    out = run(["ask", "问题"], {"RAG_INDEX_DIR": str(tmp_path / "none")})
    assert out.returncode == 2 and "rag index" in out.stderr and "Traceback" not in out.stderr


def test_bad_setting_is_a_message(tmp_path):
    out = run(["ask", "问题"], {"RAG_CHUNK_SIZE": "huge"})
    assert out.returncode == 2 and "RAG_CHUNK_SIZE" in out.stderr


def test_index_reports_added_unchanged_and_skipped(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("甲公司发布新产品\n甲公司发布了新款机器人。\n来源：测试\n", "utf-8")
    (corpus / "bad.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    env = {"RAG_INDEX_DIR": str(tmp_path / "i"), "RAG_CORPUS_DIR": str(corpus)}
    first = run(["index", "--quiet"], env)
    assert first.returncode == 0, first.stderr
    assert "added    a.txt" in first.stdout and "skipped  bad.txt" in first.stdout
    assert "bad.txt" in first.stderr  # the warning names the file
    second = run(["index", "--quiet"], env)
    assert "unchanged 1" in second.stdout and "0 embedded" in second.stdout
