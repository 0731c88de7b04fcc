"""Shared text rules: what counts as Chinese, where a sentence ends, what a citation mark is.

One place for the character classes that chunking, answering, citations and the UI
all need, so that "a sentence ends here" means the same thing everywhere.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Sequence

# CJK Unified Ideographs with Extension A (U+3400–U+4DBF) and the compatibility
# block (U+F900–U+FAFF); what tokenisers and coverage measures treat as Chinese.
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK_RANGES}]")
# Marks that end a sentence (Chinese and ASCII; ； ends a clause that reads as one).
SENTENCE_END = "。！？；!?;…"
# Marks that end a clause: commas, colons, semicolons and sentence ends (Chinese and ASCII).
CLAUSE_BREAKS = "，,：:；;。！？"
_CLAUSE_RE = re.compile(f"[^{CLAUSE_BREAKS}]+[{CLAUSE_BREAKS}]?")
# Closing quotes and brackets that belong to the sentence they follow.
CLOSERS = "”’」』）)】》\"'"
SENTENCE_END_RE = re.compile(rf"[{SENTENCE_END}]+[{re.escape(CLOSERS)}]*")

# A citation mark: [n] points at citations[n-1] of an Answer.
MARK_RE = re.compile(r"\[(\d{1,3})\]")
# Several marks in a row, with optional spaces between them.
MARKS_RUN_RE = re.compile(r"(?:[ \t]*\[\d{1,3}\])+")
# Shown after the marks of a sentence the cited passages do not support.
UNSUPPORTED_MARK = "⚠"

# Verbs that attribute words to a speaker (「董玉锁介绍说」, 「刘真告诉记者」): a person stands before them.
# 称 is not among them: inside a sentence it is mostly 被称为/号称, not speech.
SPEECH_VERBS = ("表示", "说", "认为", "介绍", "指出", "坦言", "透露", "强调", "告诉")
SPEECH_VERB_RE = "|".join(SPEECH_VERBS)

# Content characters: Chinese, Latin letters, digits.
CONTENT_RE = re.compile(f"[{CJK_RANGES}A-Za-z0-9]")
LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
# English function words: no term of a question, nothing to look up in a dictionary.
ENGLISH_STOP_WORDS = frozenset(
    "a an the of in on at to for from by with and or is are was were be been do does did what which who whom whose"
    " when where why how many much long according article articles say says said mentioned mention does about"
    " it its this that these those there their they he she his her as than into".split()
)
# A question with fewer Chinese characters than this is matched by meaning only (English).
MIN_CJK_FOR_LEXICAL = 4  # shortest Chinese question in the set has 6 characters; 4 leaves room


_WHITESPACE_RE = re.compile(r"\s+")


def squash(text: str) -> str:
    """The text with all whitespace removed: how evidence strings, titles and contents entries are compared
    (Chinese runs words together; a PDF's hard wraps and spaces mean nothing)."""
    return _WHITESPACE_RE.sub("", text)


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of ``text``, the mark that ends it included."""
    return [m.span() for m in _CLAUSE_RE.finditer(text)]


def clause_at(text: str, pos: int) -> str:
    """The clause of ``text`` around position ``pos``, without the marks around it."""
    start = max(text.rfind(ch, 0, pos) for ch in CLAUSE_BREAKS) + 1
    ends = [i for i in (text.find(ch, pos) for ch in CLAUSE_BREAKS) if i >= 0]
    return text[start:min(ends, default=len(text))]


def marks(numbers) -> str:
    """``[1][3]`` for ``[1, 3]``."""
    return "".join(f"[{n}]" for n in numbers)


def strip_marks(text: str) -> str:
    """``text`` without citation marks and warning signs."""
    return MARK_RE.sub("", text).replace(UNSUPPORTED_MARK, "")


def is_word_char(ch: str) -> bool:
    """A character that continues a word: Chinese, a letter or a digit (not punctuation or space)."""
    if not ch:
        return False
    if CJK_RE.match(ch):
        return True
    return unicodedata.category(ch)[0] in ("L", "N")


def ends_sentence(text: str) -> bool:
    """True when ``text`` (marks ignored) ends with a sentence end, closers allowed after it."""
    body = strip_marks(text).rstrip()
    return bool(re.search(rf"[{SENTENCE_END}][{re.escape(CLOSERS)}]*$", body))


# A sentence that names its organisation only by referring back (「有17个由该公司提供设备」, 「这家银行」): the name is in
# the sentence before.
ANAPHOR_RE = re.compile("(?:该|这家|此)(?:公司|企业|集团|机构|银行|平台|品牌|厂商|单位)")


def sentence_before(text: str, spans: Sequence[tuple[int, int]], index: int) -> str:
    """The sentence before sentence ``index`` of ``text`` (``spans`` from ``rag.chunking.split_sentences``),
    or ''. It lives here, not in ``chunking.py``, whose source fingerprints the index (``loader_id``)."""
    if not 0 < index <= len(spans):
        return ""
    start, end = spans[index - 1]
    return text[start:end]


def mark_sentence(sentence: str, numbers) -> str:
    """``sentence`` with its marks after the closing punctuation: ``会议在北京举行。[1]``.

    A sentence that was cut short (a passage ending mid-sentence) keeps its text and
    gets the marks after an ellipsis, so a mark never sits against a word that the
    next text would continue (never ``智能快递[1]柜``).
    """
    body = sentence.rstrip()
    if not numbers:
        return body
    if not ends_sentence(body) and body and is_word_char(body[-1]):
        body += "…"
    return body + marks(numbers)


_MARKS_BEFORE_CLOSERS_RE = re.compile(
    rf"([{SENTENCE_END}]+)((?:\[\d{{1,3}}\])+)([{re.escape(CLOSERS)}]+)"
)


def marks_after_closers(text: str) -> str:
    """Marks between a sentence end and its closing quote go after the quote: ``。[1]”`` → ``。”[1]``."""
    return _MARKS_BEFORE_CLOSERS_RE.sub(lambda m: m.group(1) + m.group(3) + m.group(2), text)


def is_crosslingual(question: str) -> bool:
    """Written mostly in another script: fewer than MIN_CJK_FOR_LEXICAL Chinese characters and several Latin words."""
    cjk = len(CJK_RE.findall(question))
    words = LATIN_WORD_RE.findall(question)
    if cjk < MIN_CJK_FOR_LEXICAL:
        return len(words) >= 2
    # An English sentence with a Chinese name in it: 「Who founded Deep Robotics (云深处科技)?」
    return len(words) >= 3 and sum(map(len, words)) > 2 * cjk


_jieba_lock = threading.Lock()
_jieba_ready = False


def jieba():
    """The jieba word segmenter, its dictionary loaded once per process (thread-safe) and quietly:
    jieba prints 「Building prefix dict …」 to stderr on first use, which is no message for a person."""
    global _jieba_ready
    import jieba as segmenter

    with _jieba_lock:
        if not _jieba_ready:
            segmenter.setLogLevel(logging.WARNING)
            segmenter.initialize()
            _jieba_ready = True
    return segmenter
