"""Questions about time: the period a figure belongs to, and the day an event happened.

``period_mismatch(analysis, passages, ranked)`` reads a factoid question that names a period
(2023年全年, 去年) against the best sentences with a value: when they give their figures for another period
only (2023年1—10月, 今年), the articles do not answer it. ``day_missing(analysis, ranked)`` reads a
question that asks for the day (哪一天, 几号) against the best sentences: when none names a day and they date
the event to a month at most (「3月下旬」), it says which date they give. The judge refuses on either, with
the reason in words (``rag/answer/judge.py``). ``Period`` and the date patterns are plain text rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, Sequence

from ..chunking import split_sentences
from ..schema import Passage
from ..text import sentence_before
from .analysis import FACTOID_TYPES, QuestionAnalysis


class ValuedSentence(Protocol):
    """What these rules read of a ranked sentence (``SentenceEvidence`` in ``rag/answer/evidence.py``)."""

    passage: int
    index: int
    text: str

    def feature(self, name: str) -> float: ...


# The period a figure belongs to: a calendar year, a year relative to the article's date, a part of a year.
# 「2023年全年的…是多少」 is not answered by a figure for 「2023年1—10月份」, nor 「去年的销售额」 by this year's.
_PERIOD_YEAR_RE = re.compile(r"(?:19|20)\d{2}\s*年")
_PERIOD_RELATIVE_RE = re.compile("今年|去年|明年|前年|上年|当年")
_PERIOD_PART_RE = re.compile(r"全年|[上下]半年|前三季度|[一二三四1-4]季度|\d{1,2}\s*[—\-–~～至到]\s*\d{1,2}\s*月|年初|年底|年末"
                             r"|\d{1,2}\s*月")
_PERIOD_DASH_RE = re.compile(r"\s+|[—\-–~～至到]")
# Two names of one period: 年末 is 年底 (「到2025年底…有多少」 answered by 「2025年末…」), 上年 is 去年.
_PERIOD_SYNONYMS = {"年末": "年底", "上年": "去年"}
# A year a figure is compared with (「较2022年增长10%」) is not the figure's own period.
_PERIOD_BASE_RE = re.compile(r"(?:较|比|相比|相较|对比)于?\s*(?:19|20)\d{2}\s*年(?:同期)?")


@dataclass(frozen=True)
class Period:
    """The periods a text names: calendar years (2023年), relative years (去年), parts of a year (全年, 1—10月)."""

    years: frozenset[str] = frozenset()
    relative: frozenset[str] = frozenset()
    parts: frozenset[str] = frozenset()
    label: str = ""  # the names in the order the text gives them (「2023年1—10月」), for a refusal reason

    @classmethod
    def of(cls, text: str) -> "Period":
        text = _PERIOD_BASE_RE.sub(lambda m: " " * len(m.group()), text)
        found = sorted((m.start(), m.end(), kind, m.group()) for kind, pattern in
                       (("years", _PERIOD_YEAR_RE), ("relative", _PERIOD_RELATIVE_RE), ("parts", _PERIOD_PART_RE))
                       for m in pattern.finditer(text))
        groups: dict[str, set[str]] = {"years": set(), "relative": set(), "parts": set()}
        label, end = "", -1
        for start, stop, kind, name in found:
            canonical = _PERIOD_DASH_RE.sub(lambda m: "-" if m.group().strip() else "", name)
            groups[kind].add(_PERIOD_SYNONYMS.get(canonical, canonical))
            if name not in label:  # 「2023年1—10月」 stays one phrase; 「今年…明年」 reads 「今年、明年」
                label += ("" if start == end or not label else "、") + name
            end = stop
        return cls(frozenset(groups["years"]), frozenset(groups["relative"]), frozenset(groups["parts"]), label)

    def __bool__(self) -> bool:
        return bool(self.years or self.relative or self.parts)

    def within(self, context: "Period") -> "Period":
        """This text's periods, each kind it does not name taken from ``context`` (the sentence before, which
        often says 「2023年，…」 for the sentence that gives the figure)."""
        return Period(self.years or context.years, self.relative or context.relative, self.parts or context.parts,
                      self.label)

    def comparable(self, stated: "Period") -> bool:
        """Both name a period of the same kind, so ``conflicts`` can tell whether they differ."""
        return bool((self.years and stated.years) or (self.relative and stated.relative and not stated.years)
                    or (self.parts and stated.parts))

    def conflicts(self, stated: "Period") -> bool:
        """``stated`` (a sentence's periods) names periods of a kind this one names, and none of this one's.
        A relative year is compared only with relative years: the article's own date is unknown."""
        if self.years and stated.years and not self.years & stated.years:
            return True
        if self.relative and stated.relative and not stated.years and not self.relative & stated.relative:
            return True
        return bool(self.parts and stated.parts and not self.parts & stated.parts)


# How precisely a date question asks and a text dates: 「哪一天印发的」 asks for a day, and 「3月下旬」 or
# 「2023年上半年」 does not give one. Only Arabic days count: 「今日」「日前」「日本」 are no dates.
_ASKS_DAY_RE = re.compile("哪一天|哪天|哪一日|几号|几月几[日号]|具体日期", re.I)
_DAY_RE = re.compile(r"\d{1,2}\s*[日号]")
_COARSE_DATE_RE = re.compile(r"(?:(?:19|20)\d{2}\s*年)?(?:\d{1,2}\s*月(?:份)?)?(?:[上中下]旬|[上下]半年|年初|年底|年末|初|底|末)?")


def asks_day(question: str) -> bool:
    """The question asks on which day something happened (哪一天, 几号)."""
    return bool(_ASKS_DAY_RE.search(question))


def names_day(text: str) -> bool:
    """The text names a day of the month (10月11日, 6号)."""
    return bool(_DAY_RE.search(text))


def coarse_date(text: str) -> str:
    """The first date of ``text`` no finer than a month (「3月下旬」「2023年上半年」), or ''."""
    for m in _COARSE_DATE_RE.finditer(text):
        if len(m.group()) >= 2 and re.search(r"\d|[上中下]旬|半年", m.group()):
            return m.group()
    return ""


# Sentences with a value of the asked-for kind read for their period: the best one, which must give
# another period for a mismatch, and the runner-up, which can clear the question.
PERIOD_SENTENCES = 2


def period_mismatch(analysis: QuestionAnalysis, passages: Sequence[Passage],
                    ranked: Sequence[ValuedSentence]) -> tuple[str, str] | None:
    """(asked, stated) when a factoid question names a period (2023年全年, 去年) and the best sentence with a new
    value of the asked-for kind gives another one (2023年1—10月, 今年), the kinds of period it does not name
    read from the sentence before it. The best sentence overall and the runner-up with a value can only clear
    the question: one that names a period of the asked kind, and not another, may hold the figure (the value
    pattern misses some answers: 「HPS Investment Partners在二季度…」)."""
    if analysis.qtype not in FACTOID_TYPES or analysis.crosslingual:
        return None
    asked = Period.of(analysis.text)
    if not asked:
        return None
    valued = [c for c in ranked if c.feature("slot_new")][:PERIOD_SENTENCES]
    if not valued:
        return None

    def stated(c: ValuedSentence) -> Period:
        text = passages[c.passage].text
        return Period.of(c.text).within(Period.of(sentence_before(text, split_sentences(text), c.index)))

    own = Period.of(valued[0].text)
    if not own or not asked.conflicts(stated(valued[0])):
        return None
    for c in [ranked[0], *valued[1:]]:
        if c is not valued[0] and asked.comparable(stated(c)) and not asked.conflicts(stated(c)):
            return None
    return asked.label, own.label


DAY_SENTENCES = 3  # the sentences the composer could answer from: none of them names the asked day


def day_missing(analysis: QuestionAnalysis, ranked: Sequence[ValuedSentence]) -> str | None:
    """The coarser date the best dated sentence gives (「3月下旬」「2023年上半年」) when a Chinese date question
    asks for the day (哪一天, 几号) and none of the best sentences names a day; None otherwise (also when they
    give no date at all: then the judge decides as before)."""
    if analysis.qtype != "date" or analysis.crosslingual or not asks_day(analysis.text):
        return None
    best = ranked[:DAY_SENTENCES]
    if any(names_day(c.text) for c in best):
        return None
    dates = [date for c in best if (date := coarse_date(c.text))]
    # The date of the asked event carries the question's own month or year (「3月下旬」 for 「3月哪一天」);
    # another sentence's date (「今年6月」 for the next model) would make a wrong reason.
    own = re.findall(r"\d{1,2}\s*月|(?:19|20)\d{2}\s*年", analysis.text)
    return next((d for d in dates if any(o in d for o in own)), dates[0] if dates else None)
