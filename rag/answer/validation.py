"""Checking what a caller hands the pipeline: the question and ``top_k``.

Run once, at the start of the pipeline. Messages are Chinese and say what to
type instead, because the CLI and the chat page show them to people as they are.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import QuestionError

# Questions longer than this are cut (with a warning): a pasted article is not a
# question, and the prompt and the rewrite have to stay within model limits.
MAX_QUESTION_CHARS = 2000
# top_k bounds: at least one passage; 50 passages of ~300 characters (ChunkSettings
# default) is ~15,000 characters, about the most an answer prompt should carry.
MIN_TOP_K = 1
MAX_TOP_K = 50

# Terminal escape sequences (colours, cursor moves) pasted along with a question.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")

_HINT = "请输入一个关于文章内容的问题，例如：中央经济工作会议在哪里举行？"


def _has_content(text: str) -> bool:
    """True when ``text`` holds a letter or a digit of any script (not only punctuation or symbols)."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def validate_question(question: object) -> tuple[str, list[str]]:
    """The question cleaned (control characters dropped, whitespace trimmed) and warnings.

    Raises QuestionError for non-text, empty questions, text with unpaired
    surrogates (bytes a non-UTF-8 terminal could not decode) and questions of only
    punctuation, emoji, symbols or control characters.
    """
    if not isinstance(question, str):
        raise QuestionError(f"问题必须是文本，而不是 {type(question).__name__}。{_HINT}")
    if any("\ud800" <= ch <= "\udfff" for ch in question):
        raise QuestionError(
            "问题里有无法识别的字符（终端的编码可能不是 UTF-8，例如 LANG=C）："
            f"把终端设为 UTF-8（export LANG=C.UTF-8）后重新输入。{_HINT}"
        )
    # Control and format characters (Cc, Cf) other than ordinary whitespace carry no
    # meaning in a question; line breaks and tabs become spaces.
    cleaned = "".join(
        " " if ch in "\t\n\r\x0b\x0c" else ch
        for ch in _ANSI_RE.sub("", question)
        if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\t\n\r\x0b\x0c"
    )
    text = " ".join(cleaned.split())
    if not text:
        raise QuestionError(f"问题不能为空。{_HINT}")
    if not _has_content(text):
        raise QuestionError(f"问题里没有文字，只有标点、表情或符号。{_HINT}")
    warnings = []
    if len(text) > MAX_QUESTION_CHARS:
        warnings.append(f"问题过长（{len(text)} 字），只使用了前 {MAX_QUESTION_CHARS} 字。")
        text = text[:MAX_QUESTION_CHARS]
    return text, warnings


def validate_top_k(top_k: object, default: int | None = None) -> int:
    """``top_k`` as an int in [MIN_TOP_K, MAX_TOP_K]; ``None`` means ``default``.

    Raises QuestionError (a ValueError) for anything else: ``"5"``, ``5.0``,
    ``True``, ``0``, ``-1``, ``51``.
    """
    if top_k is None:
        top_k = default
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise QuestionError(
            f"top_k 必须是 {MIN_TOP_K} 到 {MAX_TOP_K} 之间的整数，而不是 {top_k!r}"
            f"（{type(top_k).__name__}）。"
        )
    if not MIN_TOP_K <= top_k <= MAX_TOP_K:
        raise QuestionError(
            f"top_k={top_k} 超出范围：请用 {MIN_TOP_K} 到 {MAX_TOP_K} 之间的整数（默认 5）。"
        )
    return top_k
