"""Checking the question and top_k before anything runs: clear Chinese messages, nothing lost."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rag.answer.validation import MAX_QUESTION_CHARS, MAX_TOP_K, validate_question, validate_top_k
from rag.errors import QuestionError


def test_a_question_is_trimmed_and_control_characters_dropped():
    assert validate_question("  会议在哪里举行？\n") == ("会议在哪里举行？", [])
    assert validate_question("会议\x00在\u200b哪里\t举行？") == ("会议在哪里 举行？", [])
    assert validate_question("Where was the meeting held?")[0] == "Where was the meeting held?"


@pytest.mark.parametrize("question", ["", "   ", "？？？", "。，！", "😀😀", "🙂 ?", "\x07\x1b[0m", "\u200b\u200d", "——……"])
def test_questions_without_words_are_refused_with_what_to_type(question):
    with pytest.raises(QuestionError) as err:
        validate_question(question)
    message = str(err.value)
    assert "请输入" in message and "例如" in message


def test_unpaired_surrogates_from_a_non_utf8_terminal_say_how_to_fix_it():
    garbled = "会议在\udce5\udc93哪里举行？"  # what Python makes of bad bytes (surrogateescape)
    with pytest.raises(QuestionError, match="UTF-8"):
        validate_question(garbled)


def test_not_text_is_refused():
    with pytest.raises(QuestionError, match="文本"):
        validate_question(None)
    with pytest.raises(ValueError):  # QuestionError is also a ValueError
        validate_question(42)


def test_an_overlong_question_is_cut_with_a_warning():
    text, warnings = validate_question("问" * (MAX_QUESTION_CHARS + 5))
    assert len(text) == MAX_QUESTION_CHARS and "过长" in warnings[0]


def test_top_k_is_an_int_between_1_and_50():
    assert validate_top_k(None, 5) == 5
    assert validate_top_k(1) == 1 and validate_top_k(MAX_TOP_K) == MAX_TOP_K
    for bad in (0, -1, 51, 1000):
        with pytest.raises(QuestionError, match="超出范围"):
            validate_top_k(bad)
    for bad in ("5", 5.0, True, [5]):
        with pytest.raises(QuestionError, match="整数"):
            validate_top_k(bad)


@pytest.mark.parametrize("args, words", [
    (["--top-k", "-1", "会议在哪里举行？"], ["top_k=-1", "1 到 50"]),
    (["--top-k", "51", "会议在哪里举行？"], ["top_k=51"]),
    (["？！。"], ["请输入"]),
])
def test_cli_reports_bad_input_in_one_line(args, words, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_HOME": str(tmp_path / "home"),
           "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "rag", "ask", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1
    for word in words:
        assert word in lines[0]


def test_cli_with_bytes_a_utf8_terminal_cannot_decode(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_HOME": str(tmp_path / "home"),
           "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    # GBK bytes for 会议 passed to a UTF-8 Python: argv gets unpaired surrogates.
    done = subprocess.run([sys.executable.encode(), b"-m", b"rag", b"ask", "会议".encode("gbk") + b"?"],
                          capture_output=True, env=env, cwd=tmp_path)
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2 and "Traceback" not in err and "UTF-8" in err
