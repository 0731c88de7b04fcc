"""Shared text rules: word characters, sentence ends, where citation marks go."""

from __future__ import annotations

from rag.text import (
    CJK_RE,
    MARK_RE,
    ends_sentence,
    is_word_char,
    mark_sentence,
    marks,
    marks_after_closers,
    squash,
    strip_marks,
)


def test_squash_removes_every_kind_of_whitespace():
    assert squash(" 澜江 生物\n医药\t2100 亿元\u3000 ") == "澜江生物医药2100亿元"
    assert squash("") == ""


def test_word_characters_are_chinese_letters_and_digits():
    assert all(is_word_char(c) for c in "柜aZ9㐀")
    assert not any(is_word_char(c) for c in "，。？ ”[\n")
    assert not is_word_char("")
    assert CJK_RE.match("柜") and not CJK_RE.match("A")


def test_sentence_ends_allow_closing_quotes_and_ignore_marks():
    assert ends_sentence("会议在北京举行。")
    assert ends_sentence("他说：“会议在北京举行。”")
    assert ends_sentence("会议在北京举行。[1]")
    assert not ends_sentence("智能快递")
    assert not ends_sentence("包括以下几点：")


def test_mark_sentence_puts_marks_after_the_sentence_never_against_a_cut_word():
    assert mark_sentence("会议在北京举行。", [1]) == "会议在北京举行。[1]"
    assert mark_sentence("“会议在北京举行。”", [1, 3]) == "“会议在北京举行。”[1][3]"
    # A passage that ends mid-sentence: the cut is shown, the mark follows it.
    assert mark_sentence("全市已建成智能快递", [2]) == "全市已建成智能快递…[2]"
    assert mark_sentence("会议在北京举行。", []) == "会议在北京举行。"


def test_marks_after_closers_and_stripping():
    assert marks_after_closers("“举行。[1][2]”下一句") == "“举行。”[1][2]下一句"
    assert marks_after_closers("举行。[1]") == "举行。[1]"
    assert strip_marks("举行。[1]⚠") == "举行。"
    assert marks([1, 2]) == "[1][2]" and MARK_RE.findall("a[1]b[12]") == ["1", "12"]


def test_clauses_break_at_commas_colons_semicolons_and_sentence_ends():
    from rag.text import clause_at, clause_spans

    text = "营收12亿元，同比增长5%；净利润：3亿元。"
    assert [text[a:b] for a, b in clause_spans(text)] == ["营收12亿元，", "同比增长5%；", "净利润：", "3亿元。"]
    assert clause_at(text, text.index("5%")) == "同比增长5%"
    assert clause_at(text, text.index("3亿")) == "3亿元"
    assert clause_at("no breaks at all", 3) == "no breaks at all"
