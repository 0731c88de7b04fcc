"""List questions: how many items the passages enumerate, and whether they list all the question asks for.

``list_items(sentence)`` counts the items one sentence enumerates; ``enumerates(analysis, sentences)``
is the share of the asked-for items the best sentences give (a judge feature).

``list_shortfall(analysis, passages, ranked, documents)`` reads a list question that names how many
items it wants (「那18所高校具体是哪几所」): where the best sentences state that count (「…等地的18所高校」)
and the items beside it fall short of it (six places, no school), the articles do not list them, and the
judge refuses with 「文章提到了“18所高校”，但没有一一列出」. The items are read where a writer puts
them: in the clause with the count (「A、B、C三项政策」), the clauses after a colon or 即/包括, a clause
next to it whose items carry the counted noun (「…三片区…，A片区、B片区、C片区…」), or numbered
sentences after it (「两大功能。首先是…其次是…」), read on past the passage's end in the article.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Mapping, Protocol, Sequence

from ..chunking import split_sentences
from ..text import CLAUSE_BREAKS, clause_spans
from .analysis import CHINESE_COUNTS, QuestionAnalysis


class RankedSentence(Protocol):
    """What these rules read of a ranked sentence (``SentenceEvidence`` in ``rag/answer/evidence.py``)."""

    passage: int
    index: int
    text: str


LIST_SENTENCES = 3  # the composer answers a list question with up to three ranked sentences
_ITEM_SEPARATORS = "、；;"
_ITEM_SEP_RE = re.compile(f"[{_ITEM_SEPARATORS}]")
_ITEM_JOIN_RE = re.compile("和|及|与|以及")
_ITEM_SPLIT_RE = re.compile(f"{_ITEM_SEP_RE.pattern}|{_ITEM_JOIN_RE.pattern}")
# Where one run of items ends inside a sentence: a clause break that does not separate items (not ；).
_ITEM_RUN_END_RE = re.compile(f"[{''.join(c for c in CLAUSE_BREAKS if c not in _ITEM_SEPARATORS)}]")
_QUOTED_RE = re.compile("[“「][^”」]{1,40}[”」]")  # 「“优化IPO…”“规范减持”“调降…”三项政策」: quoted items, no 、
# Markers of numbered items that stand one to a sentence (一是…, 首先…其次…, 第一，…): counted once each.
_ORDINAL_RE = re.compile("(?<!第)[一二三四五六七八九十]是|其[一二三四五六七八九十](?![他中])"
                         "|第[一二三四五六七八九十](?=[，,、是])|首先|其次|\n[（(]?[一二三四五六七八九十1-9][)）、.．]")


def _clause_items(clause: str, *, pairs: bool = True) -> int:
    """Items one clause enumerates: 「A、B和C」 (a run of 、 or ；, one more for a last 和), or quoted items.
    With ``pairs``, 「A和B」 alone is two: so it is beside a stated count (「信息不对称和缺乏抵押物两大瓶颈」);
    elsewhere a 和 joins items too rarely to count."""
    seps = len(_ITEM_SEP_RE.findall(clause))
    joined = bool(_ITEM_JOIN_RE.search(clause))
    items = seps + 1 + joined if seps else 2 * joined * pairs
    quoted = len(_QUOTED_RE.findall(clause))
    return max(items, quoted if quoted >= 2 else 0)


def _ordinals(texts: Sequence[str]) -> int:
    """Distinct numbered-item markers in ``texts`` (一是, 首先, 第一 …)."""
    return len({m for text in texts for m in _ORDINAL_RE.findall(text)})


def list_items(sentence: str) -> int:
    """How many items the sentence enumerates: the longest run of 「A、B和C」, or its numbered items."""
    runs = max((_clause_items(run, pairs=False) for run in _ITEM_RUN_END_RE.split(sentence)), default=0)
    return max(runs, _ordinals([sentence]))


def enumerates(analysis: QuestionAnalysis, sentences: Sequence[RankedSentence]) -> float:
    """For a list question, the share of the asked-for items (at least two) the best sentences enumerate;
    1.0 for other questions. 「那12个行业大模型都有哪些」 answered by 「发布了12个…大模型」 enumerates none.
    Numbered items (一是…二是…) often stand one to a sentence: they add up over the sentences."""
    if analysis.qtype != "list" or analysis.crosslingual:
        return 1.0
    wanted = max(analysis.count, 2)
    found = max(max((list_items(s.text) for s in sentences), default=0), _ordinals([s.text for s in sentences]))
    return min(found / wanted, 1.0)


# ---------------------------------------------------------------- a stated count and its items

# Measure words that stand for one another between a question and the article: 「哪两种作用」 for
# 「两大功能」, 「三个工程」 for 「三大工程」; 「24位院士」 for 「院士24人」.
GENERIC_MEASURES = frozenset("个大项种类点方条块")
PEOPLE_MEASURES = frozenset("位人名")
ORDINAL_SENTENCES = 8  # numbered items after a count (「两大功能。首先是…」) are read this many sentences on
ARTICLE_READ_ON_CHARS = 800  # …and past the passage's end in the article (~2.5 chunks): lists outrun chunks
_ASKED_NOUN_END = "分别|都|是|有|具体|指|的|里|中|包括|，|,|？|\\?|$"
MAX_NOUN_CHARS = 8


def _numerals(n: int) -> str:
    """The ways an article writes the count ``n``: 18; 三; 二, 两 or 双 (「双轴」) for two."""
    forms = [str(n)] + [c for c, v in CHINESE_COUNTS.items() if v == n] + (["双"] if n == 2 else [])
    return "|".join(forms)


@dataclass(frozen=True)
class CountPhrase:
    """How a list question names its count: 「18所高校」 → measure 所, noun 高校."""

    text: str  # as a reason quotes it: the quoted name that holds the count, else the phrase
    measure: str
    noun: str

    @classmethod
    def of(cls, question: str, n: int) -> "CountPhrase | None":
        m = re.search(rf"(?<![\d.第])(?:{_numerals(n)})(?![\d.])\s*([\u4e00-\u9fff])([\u4e00-\u9fff（）()]{{0,{MAX_NOUN_CHARS}}}?)"
                      rf"(?={_ASKED_NOUN_END})", question)
        if m is None:
            return None
        noun = re.sub("[（）()]", "", m.group(2))
        # A quoted name holding the count reads better in a reason: “四个一万亩”, not “四个”.
        quoted = [q for q in re.findall("[“「]([^”」]{2,20})[”」]", question) if re.search(_numerals(n), q)]
        return cls(quoted[0] if quoted else m.group(0), m.group(1), noun[-2:])

    def matches(self, measure: str) -> bool:
        """The article's word after the numeral counts the same thing (「三大工程」 for 「三个工程」)."""
        return (measure == self.measure or (measure in GENERIC_MEASURES and self.measure in GENERIC_MEASURES)
                or (measure in PEOPLE_MEASURES and self.measure in PEOPLE_MEASURES) or measure in self.noun)


@dataclass(frozen=True)
class ListShortfall:
    """A list question's count stated in the articles with fewer items beside it than it names."""

    asked: str  # the question's count phrase, 「18所高校」
    wanted: int
    found: int  # the most items listed beside any statement of the count

    def to_dict(self) -> dict:
        return asdict(self)


def _items_beside(sentence: str, at: int, noun: str) -> int:
    """Items listed in the clause of ``sentence`` holding position ``at``, the clauses after a colon (or 即,
    包括) there, or one clause either side whose items carry ``noun`` (「A片区、B片区、C片区」)."""
    clauses = clause_spans(sentence)
    for j, (start, end) in enumerate(clauses):
        if not start <= at < end:
            continue
        clause = sentence[start:end]
        best = _clause_items(clause)
        if re.search("[：:]$|即|分别是|包括", clause):
            return max([best] + [_clause_items(sentence[a:b]) for a, b in clauses[j + 1:j + 3]])
        if noun:
            for a, b in clauses[max(0, j - 1):j] + clauses[j + 1:j + 2]:
                items = [x for x in _ITEM_SPLIT_RE.split(sentence[a:b]) if x.strip()]
                if len(items) >= 2 and 2 * sum(noun[-1] in x for x in items) >= len(items):
                    best = max(best, _clause_items(sentence[a:b]))
        return best
    return 0


def _numbered_after(sentences: Sequence[str], i: int, at: int, read_on: str) -> int:
    """Distinct numbered-item markers from position ``at`` of sentence ``i`` on (一是, 首先, 第一 …)."""
    texts = [sentences[i][at:], *sentences[i + 1:i + 1 + ORDINAL_SENTENCES]]
    return _ordinals(texts + [read_on] if len(sentences) - i - 1 < ORDINAL_SENTENCES else texts)


def list_shortfall(analysis: QuestionAnalysis, passages: Sequence, ranked: Sequence[RankedSentence],
                   documents: Mapping | None = None) -> ListShortfall | None:
    """A ``ListShortfall`` when a Chinese list question names its count (two or more), one of the best
    sentences states that count, and no statement of it has that many items beside it; else None.
    ``documents`` (``Index.documents``: doc_id → Document) lets numbered items be read past a passage's end."""
    n = analysis.count
    if analysis.qtype != "list" or n < 2 or analysis.crosslingual:
        return None
    phrase = CountPhrase.of(analysis.text, n)
    if phrase is None:
        return None
    stated = re.compile(rf"(?<![\d.第])(?:{_numerals(n)})(?![\d.%％年月日号是])([\u4e00-\u9fff])")
    found: list[int] = []
    for c in ranked[:LIST_SENTENCES]:
        for m in stated.finditer(c.text):
            if not phrase.matches(m.group(1)):
                continue
            p = passages[c.passage]
            sentences = [p.text[s:e] for s, e in split_sentences(p.text)]
            doc = (documents or {}).get(getattr(p, "doc_id", ""))
            read_on = doc.text[p.end:p.end + ARTICLE_READ_ON_CHARS] if doc is not None else ""
            found.append(max(_items_beside(c.text, m.start(), phrase.noun),
                             _numbered_after(sentences, c.index, m.start(), read_on)))
    if not found or max(found) >= n:
        return None
    return ListShortfall(phrase.text, n, max(found))
