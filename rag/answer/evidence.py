"""Sentence-level evidence: which sentences of the retrieved passages answer the question.

``gather_evidence(question, passages, index, embedder)`` splits the passages into
sentences and describes each one by

- its e5 similarity to the question (``query:`` for the question, ``passage:`` for the
  sentence; sentence vectors come from the index when it stores them, else they are
  embedded here once per process and cached),
- its lexical coverage of the question (IDF-weighted, with the sentence before it and
  the title as context, because a sentence often names its subject there),
- its answer-type fit: whether it carries the asked-for *slot* (a number, a date, a
  place, a person, a reason, list items, a definition) with a value that is not
  already in the question, near the entities the question names.

The sentences are ranked by a small linear model learned from the tune split (the
``ranker`` section of ``judge_model.json``, see ``bench/train_judge.py``); the
question-level features the answerability judge reads are computed from them.
``Evidence.subject_found`` says whether retrieval found anything on the question's
subject at all: the LLM-mode gate refuses before calling the model only when it is False.
It is False when the passages are too far from the question (``on_subject``) or never
mention one of its proper names (``is_proper_name``: 厦门, SU7). Three slot
checks read the ranked sentences and are carried on the Evidence for the judge:
``period_mismatch`` (2023年全年 asked, 2023年1—10月 given) and ``day_missing`` (哪一天 asked, 3月下旬
given) from ``rag/answer/periods.py``, which the judge's rules refuse on, and ``list_shortfall`` (18所高校
stated, six places listed) from ``rag/answer/lists.py``, which the classifier weighs as the feature
``list_short``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from ..chunking import split_sentences
from ..glossary import MIN_PINYIN_KEY as MIN_PINYIN_NAME, common_words, english_name_forms, pinyin_of, proper_nouns
from ..embedding.cache import VectorLRU, cache_key, query_vector
from ..schema import Passage
from ..text import ANAPHOR_RE, CJK_RANGES, CJK_RE, LATIN_WORD_RE, SPEECH_VERB_RE, jieba, sentence_before, squash
from .analysis import (
    DEFINITION_RE, FACTOID_TYPES, LIST_RE, MEASURES, PLACE_RE, WHY_RE, YEAR_OR_DATE_RE, QuestionAnalysis, analyze,
    asked_measure, asks_superlative, carries_number, date_values, tokens,
)
from .lists import LIST_SENTENCES, ListShortfall, enumerates, list_shortfall
from .model import LinearModel, Reader, default_model
from .periods import day_missing, period_mismatch

IdfFn = Callable[[str], float]

MIN_SENTENCE_CHARS = 6  # shorter pieces are labels and list numbers, never answers
CONTEXT_DISCOUNT = 0.85  # words found only in the previous sentence or the title count this much
NEIGHBOURHOOD = 2  # sentences either side in which the question's entities must appear
SENTENCE_CACHE_SIZE = 20000  # ~30 MB of 384-d float32 vectors: every sentence of a 100-article corpus
# The ranker's best sentences the reader (``rag.answer.model.Reader``) reads: ``reader_max`` is its best logit among
# them. Held out by writing batch on 3068 tune questions, the top 3 gave AUC 0.9363 and the English model 0.8771,
# the top 1 0.9354 and 0.8745, every candidate 0.9379 and 0.8734 (bench/train_judge.py): 3 is the middle, and was
# the setting checked with each held-out knowledge base as a group (AUC there 0.8786 → 0.8860, English 0.781 → 0.809).
READER_TOP = 3

SENTENCE_FEATURES = (
    "similarity", "similarity_gap", "coverage", "own_coverage", "char_coverage", "focus", "typed", "slot_new",
    "entities_ok", "heading", "passage_rank", "defines", "attribute", "slot_near",
)
QUESTION_FEATURES = (
    "best_similarity", "similarity_contrast", "best_score", "best_coverage", "entity_share", "slot_support",
    "slot_similarity", "dense_top", "best_focus", "slot_attribute", "top_slot_attribute", "slot_near_support",
    "factoid", "factoid_slot_near", "factoid_slot_attribute", "subject_coverage", "enumerates", "list_short",
    "superlative_unstated", "measure_unstated", "reader_max",
)
# A question in another language is judged on these and on whether it names something the passages never
# place (``unplaced_names``: Nike, Etsy), which a Chinese question's missing proper names already tell.
CROSSLINGUAL_FEATURES = QUESTION_FEATURES + ("unplaced_names",)

_ENDS_SENTENCE_RE = re.compile(r"[。！；!;…][”’」』）)]*$")
_QUESTION_END_RE = re.compile(r"[？?][”’」』）)]*$")
_NUMBER_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?")
_PERSON_RE = re.compile(
    r"(?:局长|创始人|董事长|总经理|院长|主任|教授|总裁|首席[\u4e00-\u9fff]{0,4}师|分析师|合伙人|书记|市长|区长|所长|理事长"
    r"|研究员|负责人|专家|记者|主席|经理|医生|工程师|老师|博士)[\u4e00-\u9fff]{2,3}"
    rf"|[\u4e00-\u9fff]{{2,3}}(?:{SPEECH_VERB_RE})"
    r"|[\u4e00-\u9fff]{2,12}(?:公司|集团|银行|机构|协会|委员会|研究院|研究所|大学|学院|中心|基金|部|局|署)"
)
# A sentence that ranks something (最大, 居首, 排名第一, 领先): what a superlative question needs.
_RANKING_RE = re.compile(r"最|第一|首位|榜首|之冠|居[^，。；]{0,4}[首前]|领先|冠军|排名|位列|名列")
RANKING_SENTENCES = 3  # the best-ranked sentences read for a ranking: the answer's own sentence and its neighbours
_LIST_ITEM_RE = re.compile(r"^(?:[一二三四五六七八九十]是|第[一二三四五六七八九十]|首先|其次|再次|最后|此外|[（(]?[一二三四五六七八九十\d][)）、.．])")


@dataclass
class SentenceEvidence:
    """One candidate sentence with what the ranker and the composer need to know."""

    passage: int  # index into the passages list
    index: int  # position among the passage's sentences
    start: int  # offsets within the passage text
    end: int
    text: str
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0  # the ranker's logit: higher answers better

    def feature(self, name: str) -> float:
        return self.features.get(name, 0.0)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Evidence:
    """What the passages hold for a question: ranked sentences and question-level features."""

    analysis: QuestionAnalysis
    passages: list[Passage]
    sentences: list[SentenceEvidence]  # best first
    features: dict[str, float]
    missing_entities: list[str] = field(default_factory=list)
    found_anchors: list[str] = field(default_factory=list)  # entities/terms the passages do mention
    subject_found: bool = False
    missing_names: list[str] = field(default_factory=list)  # proper names among missing_entities
    # (asked, stated): the question names a period (2023年全年) and the best sentences give their figures for
    # another one (2023年1—10月) only; None otherwise
    period_mismatch: tuple[str, str] | None = None
    # a list question's count (「那18所高校」) stated with fewer items beside it (``rag/answer/lists.py``)
    list_shortfall: ListShortfall | None = None
    # the date the best sentences give (「3月下旬」) when the question asks for the day and none names one
    day_missing: str | None = None
    # an English question's capitalised names neither the glossary nor the passages place (Nike, Etsy)
    unplaced: list[str] = field(default_factory=list)
    # a name of the question is missing (``missing_names``), but the passages are on its subject and name another of
    # its names, one the dictionary does not know (澜康 in 「澜康生物那款ADC…授给了哪家公司」, where the article
    # writes 抗体偶联药物 for ADC): not an off-corpus question, so the LLM-mode gate leaves it to the model
    subject_named: bool = False

    @property
    def qtype(self) -> str:
        return self.analysis.qtype

    @property
    def best(self) -> SentenceEvidence | None:
        return self.sentences[0] if self.sentences else None

    def vector(self, names: Sequence[str]) -> np.ndarray:
        return np.array([self.features.get(n, 0.0) for n in names], dtype=np.float64)

    def to_dict(self) -> dict:
        return {
            "analysis": self.analysis.to_dict(),
            "sentences": [s.to_dict() for s in self.sentences[:5]],
            "features": dict(self.features),
            "missing_entities": list(self.missing_entities),
            "found_anchors": list(self.found_anchors),
            "subject_found": self.subject_found,
            "missing_names": list(self.missing_names),
            "period_mismatch": list(self.period_mismatch) if self.period_mismatch else None,
            "list_shortfall": self.list_shortfall.to_dict() if self.list_shortfall else None,
            "day_missing": self.day_missing,
            "unplaced": list(self.unplaced),
            "subject_named": self.subject_named,
        }


# ---------------------------------------------------------------- vectors

_sentence_cache = VectorLRU(SENTENCE_CACHE_SIZE)


def sentence_vectors(texts: Sequence[str], index: Any, embedder: Any) -> np.ndarray:
    """Passage-side vectors of ``texts``: stored in the index where it has them, else embedded once and cached."""
    out: list[np.ndarray | None] = [None] * len(texts)
    lookup = getattr(index, "sentence_vectors", None) if index is not None else None
    if lookup is not None:
        try:
            stored = lookup(list(texts))
        except Exception:  # an index without sentence vectors answers like one that has none
            stored = [None] * len(texts)
        for i, v in enumerate(stored):
            if v is not None:
                out[i] = np.asarray(v, dtype=np.float32)
    missing = []
    for i, text in enumerate(texts):
        if out[i] is None:
            cached = _sentence_cache.get(cache_key(embedder, text))
            if cached is not None:
                out[i] = cached
            else:
                missing.append(i)
    if missing:
        unique = list(dict.fromkeys(texts[i] for i in missing))
        vecs = embedder.embed(unique, query=False)
        by_text = {}
        for text, v in zip(unique, vecs):
            v = np.asarray(v, dtype=np.float32)
            _sentence_cache.put(cache_key(embedder, text), v)
            by_text[text] = v
        for i in missing:
            out[i] = by_text[texts[i]]
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack(out)


def question_vector(question: str, embedder: Any) -> np.ndarray:
    """The query-side vector of ``question``, shared with retrieval (``rag.embedding.cache``)."""
    return query_vector(embedder, question)


# ---------------------------------------------------------------- lexical helpers

def _idf_of(index: Any) -> IdfFn | None:
    if index is None:
        return None
    fn = getattr(index, "idf", None)
    if callable(fn):
        return fn
    bm25 = getattr(index, "bm25", None)
    return getattr(bm25, "idf", None)


def _weights(analysis: QuestionAnalysis, idf: IdfFn | None) -> dict[str, float]:
    toks = tokens(analysis.content) or tokens(analysis.text)
    return {t: (idf(t) if idf else 1.0) or 0.5 for t in toks}


def _coverage(weights: dict[str, float], text_tokens: set[str]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in text_tokens) / total


def _chars(text: str) -> set[str]:
    out: set[str] = set()
    for tok in tokens(text):
        if "\u3400" <= tok[0] <= "\ufaff":
            out.update(tok)
        else:
            out.add(tok)
    return out


# A term the corpus never contains (idf 0 from the index) is the most specific term there is: it weighs as much
# as the question's rarest known term times this factor, at least UNKNOWN_TERM_MIN_WEIGHT (BM25 idf of a term in
# 1 of ~100 documents is ~4.6).
UNKNOWN_TERM_FACTOR = 1.0
UNKNOWN_TERM_MIN_WEIGHT = 4.6


def subject_terms(analysis: QuestionAnalysis) -> set[str]:
    """The lexical tokens inside the question's content words and entities (no bigram spans two words)."""
    out: set[str] = set()
    for term in (*analysis.terms, *analysis.entities):
        out |= tokens(term)
    return out


# An everyday question shares a word or two with the articles (分钟, 方便, 孩子) and nothing else: most of its words
# the knowledge base never uses (溏心蛋, 水垢, 布洛芬, 暖气片). Measured: no answerable Chinese question of `tune` (1585)
# or of the held-out development bases (255) has more than 0.57 of its subject tokens unknown to its knowledge base;
# 72 of `tune`'s 336 off-topic questions have 0.7 or more, and no near-miss one.
MAX_UNKNOWN_SHARE = 0.7


def unknown_share(analysis: QuestionAnalysis, idf: IdfFn | None) -> float:
    """The share of the question's subject tokens (``subject_terms``) the knowledge base never uses (IDF 0);
    0 without an index."""
    toks = subject_terms(analysis)
    if idf is None or not toks:
        return 0.0
    return sum(1 for t in toks if idf(t) <= 0) / len(toks)


def subject_coverage(analysis: QuestionAnalysis, joined: str, idf: IdfFn | None) -> float:
    """IDF-weighted share of the question's subject tokens found anywhere in the retrieved passages.

    e5 similarity is compressed (every sentence scores ≥ 0.75 against every question), so it
    cannot tell "nothing on this subject" apart; the words can: an off-corpus question's specific
    words (火星, 世界杯) are absent from the passages, and weigh most because the corpus never holds
    them. Without an index every token weighs the same.
    """
    toks = subject_terms(analysis) or tokens(analysis.content)
    if not toks:
        return 1.0
    known = {t: (idf(t) if idf else 1.0) for t in toks}
    rare = max(max(known.values()) * UNKNOWN_TERM_FACTOR, UNKNOWN_TERM_MIN_WEIGHT if idf else 1.0)
    weights = {t: (w if w > 0 else rare) for t, w in known.items()}
    present = tokens(joined)
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total > 0 else 1.0


def _char_coverage(chars: set[str], text_chars: set[str]) -> float:
    """Share of ``chars`` in the text, counted only when two or more match (one is chance)."""
    hits = sum(1 for c in chars if c in text_chars)
    return hits / len(chars) if chars and (hits >= 2 or len(chars) == 1) else 0.0


def _share_in(pieces: Sequence[str], text: str) -> float:
    return sum(p in text for p in pieces) / len(pieces) if pieces else 1.0


# At least this share of the question's own numbers near the answer: 「2023年那69个项目」 needs 2023 or 69
# there, while 「3月和12月的两次签约分别…」 is answered from two places, each holding half.
MIN_QUESTION_NUMBERS_NEAR = 0.5


# ---------------------------------------------------------------- the asked-for slot

def slot_filled(analysis: QuestionAnalysis, sentence: str) -> tuple[bool, bool]:
    """(typed, new): the sentence carries the asked-for kind of answer; and a value of it not in the question."""
    q = squash(analysis.text)
    s = squash(sentence)
    kind = analysis.qtype
    if kind == "number":
        typed = carries_number(s, analysis.unit)
        if not typed:
            return False, False
        rest = YEAR_OR_DATE_RE.sub(" ", s)
        asked = set(_NUMBER_TOKEN_RE.findall(q))  # whole numbers: 20 is new beside a question's 2025
        numbers = [n for n in _NUMBER_TOKEN_RE.findall(rest) if n not in asked]
        if analysis.unit:
            new = any(re.search(rf"{re.escape(n)}\s*[^\s，。；]{{0,3}}{re.escape(analysis.unit)}", rest)
                      or re.search(rf"{re.escape(analysis.unit)}[^\s，。；\d]{{0,3}}{re.escape(n)}", rest) for n in numbers)
            if not new:  # Chinese numerals: 三家, 两倍, 八亿元
                new = bool(_cn_amount(analysis.unit).search(rest)) and not _cn_amount(analysis.unit).search(q)
        else:
            new = bool(numbers) or bool(re.search(r"[一二三四五六七八九十百千万亿两半]+[个家项次位名种亿万倍条批所类只台款成]", rest))
        return True, new
    if kind == "date":
        found = [m.group() for m in date_values(analysis.text).finditer(s)]
        return bool(found), any(f not in q for f in found)
    if kind == "place":
        found = [m.group() for m in PLACE_RE.finditer(s)]
        return bool(found), any(_new_name(analysis, q, f) for f in found)
    if kind == "person":
        found = [m.group() for m in _person_pattern(analysis).finditer(s)]
        if not analysis.value_class:
            found += person_names(s) + [name for _, name in organisation_names(s)]
        return bool(found), any(_new_name(analysis, q, f) for f in found)
    if kind == "why":
        found = [m.group() for m in WHY_RE.finditer(s)]
        return bool(found), any(f not in q for f in found) or bool(found)
    if kind == "list":
        typed = bool(LIST_RE.search(s)) or bool(_LIST_ITEM_RE.search(s)) or s.endswith(("：", ":"))
        return typed, typed
    if kind == "definition":
        typed = bool(DEFINITION_RE.search(s))
        return typed, typed
    return False, True


def _person_pattern(analysis: QuestionAnalysis) -> re.Pattern:
    """Names that answer a who/which question: any person or organisation, or only names ending with the
    asked kind (「哪所大学」 → …大学)."""
    return _class_name_pattern(analysis.value_class) if analysis.value_class else _PERSON_RE


# Short forms a kind of name is also written with: 「朔州农商行」「阳泉商行」 are banks.
_CLASS_SHORT_FORMS = {"银行": ("商行",)}


@lru_cache(maxsize=None)
def _class_name_pattern(value_class: str) -> re.Pattern:
    # the name's own characters: no particles or verbs that join it to the words before (毕业于华西医科大学)
    ends = "|".join(re.escape(e) for e in (value_class, *_CLASS_SHORT_FORMS.get(value_class, ())))
    return re.compile(rf"(?:(?![于在是的从和与及到了由被])[{CJK_RANGES}A-Za-z]){{2,10}}(?:{ends})")


# The words of the asked kind (「哪家冷链公司」 → 冷链): a name holding them (鲜达冷链) is still a new one.
_ASKED_KIND_WORDS_RE = re.compile(
    f"(?:哪|什么)[一个家所座位]?([{CJK_RANGES}]{{1,4}}?)(?:公司|企业|机构|品牌|厂家|厂子|厂商|单位|集团)")
# ... and the kind itself (「哪家公司」 → 公司): every company's name holds it, so it is no sign of an old one.
_ASKED_KIND_RE = re.compile(f"(?:哪|什么)[一个家所座位]?[{CJK_RANGES}]{{0,4}}?(公司|企业|机构|品牌|厂家|厂商|单位|集团|平台)")


def _new_name(analysis: QuestionAnalysis, question: str, name: str) -> bool:
    """A name the question does not already hold: 「海尔集团」 does not answer 「海尔的两家上市公司叫什么」."""
    if name in question:
        return False
    kind = (analysis.value_class, *_CLASS_SHORT_FORMS.get(analysis.value_class, ()),  # the kind names nothing
            *_ASKED_KIND_WORDS_RE.findall(question), *_ASKED_KIND_RE.findall(question))
    return not any(len(a) >= 2 and a not in kind and (a in name or name in a) for a in analysis.anchors)


_CN_DIGIT = "零〇一二三四五六七八九十两半"  # a number starts with one of these (「亿元」 alone is no amount)
_CN_NUMERAL = _CN_DIGIT + "百千万亿"


def _cn_amount(unit: str) -> re.Pattern:
    """A number in Chinese numerals followed by ``unit`` (「八亿元」, 「三家」)."""
    return re.compile(rf"[{_CN_DIGIT}][{_CN_NUMERAL}]*\s*{re.escape(unit)}")


SLOT_WINDOW = 12  # characters between the asked-about attribute and its value (「营业收入达38.5亿元」)


def _values(analysis: QuestionAnalysis, sentence: str) -> list[int]:
    """Positions of values of the asked-for kind in ``sentence`` that the question does not already hold."""
    q = squash(analysis.text)
    kind = analysis.qtype
    if kind == "number":
        rest = YEAR_OR_DATE_RE.sub(lambda m: "#" * len(m.group()), sentence)
        asked = set(_NUMBER_TOKEN_RE.findall(q))
        found = [m.start() for m in _NUMBER_TOKEN_RE.finditer(rest) if m.group() not in asked]
        if analysis.unit:
            found += [m.start() for m in _cn_amount(analysis.unit).finditer(rest) if m.group() not in q]
        return found
    pattern = {"date": date_values(analysis.text), "place": PLACE_RE, "person": _person_pattern(analysis)}.get(kind)
    if pattern is None:
        return []
    found = [m.start() for m in pattern.finditer(sentence) if m.group() not in q]
    if kind == "person" and not analysis.value_class:
        found += [i for i, name in organisation_names(sentence) if name not in q]
    return found


@lru_cache(maxsize=1024)
def attribute_pairs(attribute: str) -> frozenset[str]:
    """Every two characters of a Chinese attribute in their order (营业收入 → 营业, 营收, 收入, …): the
    words and the abbreviations a writer may use for it; Latin words stay whole."""
    pairs = {t for t in tokens(attribute) if len(t) >= 2 and not CJK_RE.match(t)}
    for run in re.findall(f"[{CJK_RANGES}]+", attribute):
        pairs |= {run[i] + run[j] for i in range(len(run)) for j in range(i + 1, len(run))}
    return frozenset(pairs)


def slot_near(analysis: QuestionAnalysis, sentence: str, new: bool) -> bool:
    """A new value of the asked-for kind within SLOT_WINDOW characters of the asked-about attribute."""
    if not new:
        return False
    if analysis.qtype not in ("number", "date", "place", "person") or not analysis.attribute:
        return new
    # Two characters of the attribute, in its order, side by side in the sentence (营业, 产值, and the
    # abbreviation 营收 of 营业收入), not one: a lone 年 or 产 is everywhere.
    pieces = attribute_pairs(analysis.attribute) or set(_chars(analysis.attribute))
    marks = [m.start() for piece in pieces for m in re.finditer(re.escape(piece), sentence, re.I)]  # tokens are lower case
    values = _values(analysis, sentence)
    return any(abs(i - j) <= SLOT_WINDOW for i in marks for j in values)


# A company's name is its trade name and its trade (企业名称登记管理规定: 字号 + 行业 + 组织形式), and running text
# drops the form: 鲜达冷链, 江能新能源, 金域医学, 软体机器人. These are the trades a name ends with.
ORGANISATION_TRADES = (
    "科技|新能源|能源|医疗|医药|医学|健康|生物|制药|药业|物流|冷链|电子|电气|汽车|动力|智能|股份|控股|种业|食品|航运"
    "|资本|证券|保险|地产|置业|环保|环境|材料|化工|机械|装备|通信|网络|信息|软件|传媒|文化|实业|重工|电力|光伏|储能"
    "|半导体|康养|农业|渔业|精密|水务|固废|换电|金控|投资|创投|航空|航天|数据|光电|芯片|机器人|新材料|氢能|健身|物业|餐饮"
    "|旅行|出行|娱乐|文创|影业|零售|电商"
)
COMMON_TRADE_NAME_FREQ = 100  # jieba dictionary count above which two characters are an ordinary word (发展, 国内), not a
# trade name; the made-up and real trade names read here (鲜达, 翼农, 金域, 安澜 21, 北辰 15, 软体 30) are below it
_TRADE_RE = re.compile(f"(?<=[{CJK_RANGES}]{{2}})(?:{ORGANISATION_TRADES})")
_NAME_BREAK_RE = re.compile("[的了是在和与及从由被把对为将向于或等其这那个们并也都而以之所]")


# ... or in quotation marks after what it is (「本地连锁养老企业“颐年汇”」, 「健身品牌“优跃”」)
_QUOTED_ORGANISATION_RE = re.compile("(?:企业|公司|品牌|机构|平台|集团|厂家|厂商|商家)[“「]([^”」]{2,8})[”」]")


def organisation_names(sentence: str, *, common_heads: bool = False) -> list[tuple[int, str]]:
    """(position, name) of the companies ``sentence`` names by trade name and trade (鲜达冷链, 深圳翼农科技 → 翼农科技):
    two characters that are no ordinary word (``COMMON_TRADE_NAME_FREQ``; any two with ``common_heads``: 首创环保,
    光大环境) and hold no particle, then a trade; or by a quoted name after the kind of organisation it is
    (养老企业“颐年汇”)."""
    freq = jieba().dt.FREQ
    found = [(m.start(1), m.group(1)) for m in _QUOTED_ORGANISATION_RE.finditer(sentence)]
    for m in _TRADE_RE.finditer(sentence):
        head = sentence[m.start() - 2:m.start()]
        if (common_heads or freq.get(head, 0) < COMMON_TRADE_NAME_FREQ) and not _NAME_BREAK_RE.search(head):
            found.append((m.start() - 2, head + m.group()))
    return found


def resolve_anaphor(analysis: QuestionAnalysis, sentence: str, before: str) -> str:
    """``sentence`` with the organisation it refers back to (该公司, 这家银行: ``ANAPHOR_RE``) written in, when a
    which-organisation question asks for it and the sentence before names one (「…蓝盾监测仪器有限公司，主营…。」
    「…有17个由该公司提供设备…」); otherwise ``sentence`` as it is."""
    if analysis.qtype != "person" or not before:
        return sentence
    anaphor = ANAPHOR_RE.search(sentence)
    if not anaphor:
        return sentence
    names = [(m.start(), m.group()) for m in _person_pattern(analysis).finditer(before)]
    if not analysis.value_class:
        names += organisation_names(before)
    names = [(i, name) for i, name in names if _new_name(analysis, analysis.text, name)]
    if not names:
        return sentence
    name = max(names)[1]  # the nearest: the last named before the sentence
    return sentence[:anaphor.start()] + name + sentence[anaphor.end():]


# jieba's tags of a trade name that names something (北控/j, 立讯/nz, 牧原/n), not a verb or a count read as one
# (切进/v 储能, 几批/m 科技, 掂量/v 资本: 「怎么切进储能这个行当」).
_TRADE_NAME_FLAGS = ("n", "nr", "nrt", "ns", "nt", "nz", "j")


def unknown_organisations(question: str, idf: IdfFn | None) -> list[str]:
    """The companies ``question`` names by trade name and trade (``organisation_names``: 北控水务, 牧原股份, and a trade
    name that is also an ordinary word, 首创环保, 光大环境) whose trade name, a noun of its own to the segmenter, the
    knowledge base never uses (IDF 0): they are not in the articles, which may well hold other companies' figures of
    the same trade. Unknown without an index."""
    if idf is None:
        return []
    from .analysis import posseg

    words, offset = {}, 0
    for word, flag in posseg().lcut(question):
        words[offset] = (word, flag)
        offset += len(word)
    return [name for i, name in organisation_names(question, common_heads=True)
            if words.get(i, ("", ""))[0] == name[:2] and words[i][1] in _TRADE_NAME_FLAGS and not known_to(name[:2], idf)]


def person_names(sentence: str) -> list[str]:
    """Names of people and organisations jieba tags in ``sentence`` (only person questions pay for this)."""
    from .analysis import posseg

    return [w for w, flag in posseg().lcut(sentence) if flag in ("nr", "nrfg", "nrt", "nt") and len(w) >= 2]


def _defines(analysis: QuestionAnalysis, sentence: str) -> bool:
    """A definition question's term followed closely by 是/指/即/称为 (the defining sentence)."""
    if analysis.qtype != "definition":
        return False
    for term in analysis.anchors[:3]:
        if re.search(rf"{re.escape(term)}[”」』\"]?[，,]?(?:[^，。；]{{0,6}})(?:是指|指的是|是一种|是一个|即|就是|是|指)", sentence):
            return True
    return False


# ---------------------------------------------------------------- the ranker

# ---------------------------------------------------------------- gathering

def candidate_sentences(passages: Sequence[Passage]) -> list[SentenceEvidence]:
    """Every sentence of the passages that could be an answer (no interviewer's questions, no fragments)."""
    out: list[SentenceEvidence] = []
    seen: set[str] = set()
    for pi, p in enumerate(passages):
        for si, (s, e) in enumerate(split_sentences(p.text)):
            text = p.text[s:e]
            if len(text) < MIN_SENTENCE_CHARS or text == p.title or _QUESTION_END_RE.search(text):
                continue
            key = squash(text)
            if key in seen:  # overlapping chunks repeat sentences: keep the higher-ranked passage's copy
                continue
            seen.add(key)
            out.append(SentenceEvidence(pi, si, s, e, text))
    return out


def sentence_features(
    analysis: QuestionAnalysis, passages: Sequence[Passage], candidates: list[SentenceEvidence],
    similarities: np.ndarray, idf: IdfFn | None,
) -> None:
    """Fill ``features`` of every candidate (in place)."""
    weights = _weights(analysis, idf)
    entity_tokens = set().union(*(tokens(e) for e in analysis.entities)) if analysis.entities else set()
    focus = {t: w for t, w in weights.items() if t not in entity_tokens}
    qchars = _chars(analysis.content)
    attribute_chars = _chars(analysis.attribute)
    # The question's own numbers (2023, 69) pin which instance it asks about: the answer's neighbourhood
    # must hold at least half of them (digits only, so 「2023年上半年」 matches 「2023上半年」).
    local_entities = [e for e in analysis.entities if not re.fullmatch(r"\d{4}年", e)]
    question_numbers = list(dict.fromkeys(_NUMBER_TOKEN_RE.findall(analysis.text)))
    spans_of = {pi: split_sentences(p.text) for pi, p in enumerate(passages)}
    title_tokens = {pi: tokens(p.title) for pi, p in enumerate(passages)}
    best_sim = float(similarities.max()) if len(similarities) else 0.0
    n_passages = max(len(passages) - 1, 1)
    for c, sim in zip(candidates, similarities.tolist()):
        p = passages[c.passage]
        spans = spans_of[c.passage]
        own = tokens(c.text)
        context = own | title_tokens[c.passage]
        context |= tokens(sentence_before(p.text, spans, c.index))
        own_cov = _coverage(weights, own)
        lo = spans[max(c.index - NEIGHBOURHOOD, 0)][0]
        hi = spans[min(c.index + NEIGHBOURHOOD, len(spans) - 1)][1]
        window = squash(p.title + p.text[lo:hi])
        slot_text = resolve_anaphor(analysis, c.text, sentence_before(p.text, spans, c.index))
        typed, new = slot_filled(analysis, slot_text)
        own_chars = _chars(c.text)
        c.features = {
            "similarity": sim,
            "similarity_gap": sim - best_sim,
            "coverage": max(own_cov, CONTEXT_DISCOUNT * _coverage(weights, context)),
            "own_coverage": own_cov,
            "char_coverage": _char_coverage(qchars, own_chars),
            "focus": _coverage(focus, own) if focus else 1.0,
            "typed": float(typed),
            "slot_new": float(new),
            "entities_ok": float(all(e in window for e in local_entities)
                                 and _share_in(question_numbers, window) >= MIN_QUESTION_NUMBERS_NEAR),
            "heading": float(not _ENDS_SENTENCE_RE.search(c.text) and not c.text.endswith(("：", ":"))),
            "passage_rank": c.passage / n_passages,
            "defines": float(_defines(analysis, c.text)),
            # the asked-about attribute (营业收入, 粉丝) in this very sentence: where the value must sit
            "slot_near": float(slot_near(analysis, slot_text, new)),
            "attribute": (sum(ch in own_chars for ch in attribute_chars) / len(attribute_chars)
                          if attribute_chars else 1.0),
        }


def question_features(analysis: QuestionAnalysis, passages: Sequence[Passage],
                      ranked: list[SentenceEvidence], entity_share: float) -> dict[str, float]:
    """The judge's inputs: how well the best sentences answer, and whether the asked-for slot is filled."""
    if not ranked:
        return {name: 0.0 for name in QUESTION_FEATURES}
    sims = np.array([c.feature("similarity") for c in ranked])
    best = ranked[0]
    slotted = [c for c in ranked if c.feature("slot_new") and c.feature("entities_ok")]
    dense = [p.dense_score for p in passages if p.dense_score is not None]
    features = {
        "best_similarity": float(sims.max()),
        "similarity_contrast": float(sims.max() - sims.mean()),
        "best_score": float(best.score),
        "best_coverage": max(c.feature("coverage") for c in ranked),
        "entity_share": entity_share,
        "slot_support": max((c.feature("coverage") for c in slotted), default=0.0),
        "slot_similarity": max((c.feature("similarity") for c in slotted), default=float(sims.min())) - float(sims.max()),
        "dense_top": float(max(dense)) if dense else float(sims.max()),
        "best_focus": max(c.feature("focus") for c in ranked[:3]),
        "slot_attribute": max((c.feature("attribute") for c in slotted), default=0.0),
        "top_slot_attribute": max(c.feature("attribute") * c.feature("slot_new") for c in ranked[:3]),
        "slot_near_support": max((c.feature("coverage") * c.feature("slot_near") for c in ranked
                                  if c.feature("entities_ok")), default=0.0),
    }
    features["enumerates"] = enumerates(analysis, ranked[:LIST_SENTENCES])
    # The slot signal means most for questions that ask for one value (a number, a date, a place, a name).
    factoid = float(analysis.qtype in FACTOID_TYPES)
    features["factoid"] = factoid
    features["factoid_slot_near"] = factoid * features["slot_near_support"]
    features["factoid_slot_attribute"] = factoid * features["slot_attribute"]
    # A number asked of one measure (净利润) while the best sentences state figures of others only (营业收入): the
    # near-miss a reader writes about a company whose revenue the article gives and profit it does not.
    measure = asked_measure(analysis.text) if analysis.qtype not in ("why", "list", "definition") else ""
    features["measure_unstated"] = float(bool(measure) and not any(
        word in c.text for word in MEASURES[measure][0] for c in ranked[:RANKING_SENTENCES]))
    features["superlative_unstated"] = float(asks_superlative(analysis.text) and not any(
        _RANKING_RE.search(c.text) for c in ranked[:RANKING_SENTENCES]))
    return features


MAX_PHRASE_CHARS = 12  # a longer shared phrase reads badly inside a refusal reason


def _readable_piece(piece: str, i: int, sub: str, joined: str) -> bool:
    """``sub`` (at ``i`` in ``piece``) could name something to a person: it holds a Chinese character or a whole
    Latin word of MIN_LATIN_NAME_CHARS or more, and cuts no Latin word in two, neither in the question nor in the
    passages (「Wh」 of Where inside 「MWh」, 「ment」 of management, 「11」 alone name nothing)."""
    if not CJK_RE.search(sub) and not any(len(w) >= MIN_LATIN_NAME_CHARS for w in LATIN_WORD_RE.findall(sub)):
        return False
    if not LATIN_WORD_RE.search(sub):
        return True
    end = i + len(sub)
    if (i > 0 and LATIN_WORD_RE.match(sub[0]) and LATIN_WORD_RE.match(piece[i - 1])) or (
            end < len(piece) and LATIN_WORD_RE.match(sub[-1]) and LATIN_WORD_RE.match(piece[end])):
        return False
    return re.search(f"(?<![A-Za-z]){re.escape(sub)}(?![A-Za-z])", joined) is not None


def shared_phrases(analysis: QuestionAnalysis, joined: str) -> list[str]:
    """The longest pieces of the question the passages also contain (「百奥赛图」, not 「奥赛」), longest first;
    only pieces a person could read as a name or a phrase (``_readable_piece``)."""
    pieces = [p for p in re.split(r"\s+", analysis.content) if len(p) >= 2]
    found: list[str] = []
    for piece in pieces:
        n = len(piece)
        best = ""
        for size in range(min(n, MAX_PHRASE_CHARS), 1, -1):
            for i in range(0, n - size + 1):
                sub = piece[i:i + size]
                if sub in joined and sub not in analysis.attribute and _readable_piece(piece, i, sub, joined):
                    best = sub
                    break
            if best:
                break
        if best and best not in found:
            found.append(best)
    entities = [e for e in analysis.entities if e in joined and not any(e in f for f in found)]
    return sorted(found + entities, key=len, reverse=True)


# Two-letter Latin words (AI, VC, PE, 5G) abbreviate things the articles may write in Chinese; a name is longer.
MIN_LATIN_NAME_CHARS = 3
# A Chinese abbreviation keeps characters of the full name in order (北大 北京大学, 发改委 国家发展和改革委员会,
# 工信部 工业和信息化部): at most this many characters of the full name between two it keeps (two in those).
# A chance match (大厦的门口 for 厦门) only lets the judge decide as before.
MAX_ABBREVIATION_GAP = 2


def mentions(text: str, name: str) -> bool:
    """``text`` names ``name``: verbatim, or for a Chinese name in full (北京大学 for 北大, 中国人民大学 for 人大)."""
    if name in text:
        return True
    if not CJK_RE.fullmatch(name[:1]) or LATIN_WORD_RE.search(name):
        return False
    return re.search(f".{{0,{MAX_ABBREVIATION_GAP}}}".join(map(re.escape, name)), text) is not None


def is_proper_name(entity: str, question: str = "") -> bool:
    """A named entity that is a proper name: a Latin name (SU7, Biocytogen) or a word CC-CEDICT knows only as a
    proper noun (厦门, 宁德) that stands in ``question`` as a word of its own (``stands_alone``). Passages that
    never mention it cannot be about it.

    A quoted term is not enough: Chinese quotation marks hold a reader's own paraphrase as often as a name
    (「各部门会把“用投资带消费”的劲使在哪些地方」, answered by the passage on 「三大工程」), and no tune
    question was kept from the model by one."""
    if LATIN_WORD_RE.search(entity):
        return len(re.sub(r"[^A-Za-z0-9]", "", entity)) >= MIN_LATIN_NAME_CHARS
    return entity in proper_nouns() and (not question or stands_alone(question, entity))


def names_its_own(entities: Sequence[str], missing: Sequence[str], joined: str) -> bool:
    """Whether ``joined`` (the passages) holds one of the question's Chinese ``entities`` besides the ``missing``
    names that CC-CEDICT knows neither as a proper noun nor as a common word, nor holds a proper noun of: a name of
    the articles' own (澜康), not one any text may hold (中国, 华为, 中国队) and not a date (2023年)."""
    names, words = proper_nouns(), common_words()

    def own(e: str) -> bool:
        return (bool(CJK_RE.search(e)) and not re.search(r"\d", e) and e not in names and e not in words
                and not any(e[i:j] in names for i in range(len(e)) for j in range(i + 2, len(e) + 1)))
    return any(e not in missing and own(e) and e in joined for e in entities)


def known_to(name: str, idf: IdfFn | None) -> bool:
    """Whether the knowledge base holds every token of ``name`` (IDF above 0). Top passages that do not
    mention a name the articles use a hundred times (中国, for 「我国」 passages) are no sign the question is
    off the articles' subject: the judge decides. Unknown without an index."""
    toks = tokens(name)
    return idf is not None and bool(toks) and all(idf(t) > 0 for t in toks)


def stands_alone(question: str, word: str) -> bool:
    """Whether ``word`` occurs in ``question`` with no dictionary word across either of its edges.

    「往后还准备往里加什么」 holds 里加 (Riga to CC-CEDICT, and jieba tags it a name) only across the words
    往里 and 加: the segmenter cut it out of other words, and the question is not about a city. Names read
    as names: 「厦门这个周末」, 「宁德时代」, 「在南宁」 have no word across an edge."""
    words = jieba().dt.FREQ  # jieba's dictionary; a prefix of a longer word is listed with count 0
    for m in re.finditer(re.escape(word), question):
        start, end = m.span()
        edges = (question[start - 1:start + 1] if start else "", question[end - 1:end + 1])
        if not any(len(edge) == 2 and words.get(edge, 0) > 0 for edge in edges):
            return True
    return False


MIN_KNOWN_SPAN = 3  # characters of a question the passages hold across a name's edge: longer than any one word's edge


def cut_from_known(question: str, name: str, text: str) -> bool:
    """Whether every occurrence of ``name`` in ``question`` sits inside a longer string the passages (``text``)
    hold across one of its edges: the segmenter cut it out of words the articles use (「悦动·新门西丰疆智能」 holds
    西丰, a county to CC-CEDICT, across 新门西 and 丰疆智能), so the passages do mention what the question names."""
    found = False
    for m in re.finditer(re.escape(name), question):
        found = True
        start, end = m.span()
        # any longer string across the edge holds the shortest one, so only that one is looked up
        left = start >= MIN_KNOWN_SPAN - 1 and question[start - MIN_KNOWN_SPAN + 1:start + 1] in text
        right = end + MIN_KNOWN_SPAN - 1 <= len(question) and question[end - 1:end + MIN_KNOWN_SPAN - 1] in text
        if not (left or right):
            return False
    return found


def unplaced_names(names: Sequence[str], passages: Sequence[Passage]) -> list[str]:
    """The ``names`` (Latin, from an English question) the passages hold neither as written (ChatGPT) nor
    in pinyin (Xicheng in 西城区: ``pinyin_of``); a name too short for pinyin (MIN_PINYIN_NAME) as written only."""
    if not names:
        return []
    text = "".join(p.title + p.text for p in passages)
    lower = text.lower()
    spelled: str | None = None
    left = []
    for name in names:
        if name.lower() in lower:
            continue
        letters = re.sub("[^a-z]", "", name.lower())
        if len(letters) >= MIN_PINYIN_NAME:
            spelled = pinyin_of(text) if spelled is None else spelled
            if letters in spelled:
                continue
        left.append(name)
    return left


def absent_companies(names: Sequence[str], idf: IdfFn | None) -> list[str]:
    """The ``names`` (Latin, unplaced in the passages) that CC-CEDICT gives as a company under Chinese names none of
    which the knowledge base ever uses (Pfizer 辉瑞, BYD 比亚迪, Tencent 腾讯…: ``english_name_forms``): the articles
    never name it, whatever else they say of its trade. A name the dictionary does not know stays the classifier's
    to weigh (most of them are the articles' own, in pinyin the glossary keys otherwise). Unknown without an index."""
    if idf is None:
        return []
    forms = english_name_forms()
    return [n for n in names if forms.get(n.lower()) and not any(known_to(f[:2], idf) for f in forms[n.lower()])]


def gather_evidence(
    question: str | QuestionAnalysis, passages: Sequence[Passage], index: Any, embedder: Any,
    *, ranker: LinearModel | None = None, subject: dict | None = None, translation: Sequence[str] = (),
    unknown_names: Sequence[str] = (), reader: Reader | None = None,
) -> Evidence:
    """Rank the sentences of ``passages`` for ``question`` and describe how well they answer it.

    ``index`` supplies IDF weights and stored sentence vectors (either may be missing:
    ``None`` works, with uniform weights and vectors embedded here); ``embedder`` is the
    e5 model the index was built with. ``ranker`` and ``subject`` default to the trained
    model file's. ``translation`` holds the articles' Chinese words for a question in another
    language (the retriever's glossary: Laoshan → 崂山, revenue → 收入): its sentences are then
    matched word by word through them, where an English question's own words match nothing.
    ``unknown_names`` are its capitalised names the glossary cannot place (``Glossary.unknown_names``):
    the feature ``unplaced_names`` says whether the passages do not place one of them either. ``reader`` reads the
    best-ranked sentences' vectors against the question's (``reader_max``; 0 without one). With neither ``ranker``
    nor ``subject`` given, all three come from the packaged model.
    """
    analysis = question if isinstance(question, QuestionAnalysis) else analyze(question)
    passages = list(passages)
    if ranker is None or subject is None:
        model = default_model()
        ranker = ranker or model.ranker
        subject = subject if subject is not None else model.subject
        reader = reader or model.reader
    candidates = candidate_sentences(passages)
    joined = squash("".join(p.title + p.text for p in passages))
    missing = [e for e in analysis.entities if e not in joined]
    # Only a Chinese question: an English one's quoted words are not the articles' words. The question's other
    # terms are read too: jieba tags some place names as common nouns (「烟台给…」: 烟台/n), the dictionary does not.
    idf = _idf_of(index)
    names = [] if analysis.crosslingual else [
        e for e in dict.fromkeys(missing + [t for t in analysis.terms if t not in joined])
        if is_proper_name(e, analysis.text) and not mentions(joined, e) and not known_to(e, idf)
        and not cut_from_known(analysis.text, e, joined)]
    if not analysis.crosslingual:
        names += [n for n in unknown_organisations(analysis.text, idf) if n not in names and not mentions(joined, n)]
    found = shared_phrases(analysis, joined)
    entity_share = 1.0 - len(missing) / len(analysis.entities) if analysis.entities else 1.0
    unplaced = unplaced_names(unknown_names, passages)
    names += [n for n in absent_companies(unplaced, idf) if n not in names]
    if not candidates:
        return Evidence(analysis, passages, [], {**question_features(analysis, passages, [], entity_share),
                                                 "unplaced_names": 1.0 if unplaced else 0.0},
                        missing, found, subject_found=False, missing_names=names, unplaced=unplaced)
    qv = question_vector(analysis.text, embedder)
    sv = sentence_vectors([c.text for c in candidates], index, embedder)
    sims = sv @ qv
    lexical = (replace(analysis, content=" ".join(translation)) if analysis.crosslingual and translation
               else analysis)
    sentence_features(lexical, passages, candidates, sims, idf)
    x = np.array([[c.feature(f) for f in ranker.features] for c in candidates])
    for c, score in zip(candidates, ranker.logits(x).tolist()):
        c.score = float(score)
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
    ranked = [candidates[i] for i in order]
    features = question_features(analysis, passages, ranked, entity_share)
    # another embedding model's vectors are not what the reader learned to read: neutral then, as without one
    features["reader_max"] = (float(reader.logits(qv, sv[order[:READER_TOP]]).max())
                              if reader is not None and reader.reads(embedder) else 0.0)
    features["subject_coverage"] = subject_coverage(analysis, joined, idf)
    features["unknown_share"] = 0.0 if analysis.crosslingual else unknown_share(analysis, idf)
    shortfall = list_shortfall(analysis, passages, ranked, getattr(index, "documents", None))
    features["list_short"] = 1.0 if shortfall else 0.0
    features["unplaced_names"] = 1.0 if unplaced else 0.0
    # A proper name of the question the passages never mention (厦门, SU7): they are about something else.
    topical = on_subject(features, analysis.crosslingual, subject or {})
    return Evidence(analysis, passages, ranked, features, missing, found,
                    subject_found=not names and topical,
                    missing_names=names, period_mismatch=period_mismatch(analysis, passages, ranked),
                    list_shortfall=shortfall, day_missing=day_missing(analysis, ranked), unplaced=unplaced,
                    subject_named=bool(names) and topical and names_its_own(analysis.entities, names, joined))


def on_subject(features: dict[str, float], crosslingual: bool, subject: dict) -> bool:
    """Retrieval found something on the question's subject: close enough in meaning and (for a Chinese
    question) sharing enough of its words, and its specific words at all (``subject_coverage``).
    Every floor lies below every answerable tune question of its language.

    The similarity floor is kept per language: e5 scores an English question against a Chinese
    sentence about 0.13 lower than a Chinese question against the same sentence (the lowest answerable
    tune question is at 0.776 in English, 0.877 in Chinese). One shared floor, set by the English
    questions, was no floor for a Chinese question: off-topic Chinese questions score 0.83–0.89
    (``bench/train_judge.py`` reports what each floor stops).
    """
    key = "min_similarity_crosslingual" if crosslingual else "min_similarity"
    if features["best_similarity"] < subject.get(key, subject.get("min_similarity", 0.0)):
        return False
    if crosslingual:
        return True
    return (features["best_coverage"] >= subject.get("min_coverage", 0.0)
            and features.get("subject_coverage", 1.0) >= subject.get("min_subject_coverage", 0.0)
            and features.get("unknown_share", 0.0) < MAX_UNKNOWN_SHARE)
