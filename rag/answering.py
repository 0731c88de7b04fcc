"""Answering from retrieved passages, and the decision to refuse.

The built-in answerer is extractive: it picks the one to three sentences of the
passages that best answer the question and marks each with [n]. Before that,
``assess_evidence`` decides whether the passages hold an answer at all, from the
entities the question names and the kind of answer it expects (a number, a date, a
place, a reason ...). Thresholds were calibrated on the tune split of the project's
question set (see README, "Evaluation").
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from .chunking import split_sentences
from .errors import QuestionError
from .lexical import tokenize
from .schema import Answer, Passage

MAX_QUESTION_CHARS = 2000
REFUSAL_TEXT = "抱歉，现有文章中没有找到能回答这个问题的内容。"

IdfFn = Callable[[str], float]


class Answerer(Protocol):
    """Turns a question and its retrieved passages into a cited answer."""

    mode: str

    def answer(self, question: str, passages: list[Passage]) -> Answer: ...


def validate_question(question: str) -> tuple[str, list[str]]:
    """The question stripped, plus warnings; empty questions raise QuestionError."""
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, not {type(question).__name__}.")
    text = question.strip()
    if not text:
        raise QuestionError("The question is empty: type a question about the articles (问题不能为空).")
    warnings = []
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS]
        warnings.append(
            f"问题过长（{len(question.strip())} 字），只使用了前 {MAX_QUESTION_CHARS} 字。"
        )
    return text, warnings


# ---------------------------------------------------------------- question analysis

_QUESTION_WORDS = re.compile(
    "请问|请|一下|什么样|什么|哪些|哪个|哪家|哪位|哪里|哪儿|哪一|哪|多少|多大|多高|多长|多久|几个|几"
    "|怎么样|怎么|怎样|如何|为什么|为何|是否|是不是|有没有|能否|可以|吗|呢|呀|吧|啊"
    "|根据|文章|文中|报道|提到|提及|介绍|说明|讲述|谈到|指出|认为|表示|主要|具体|分别|都|有关|关于"
)
_STOP_CHARS = re.compile("[的了是在有和与及对把被也还就其该这那它他她们些个，。？！、：；“”‘’（）()?!,.:;\"' ]")

_TYPE_PATTERNS = [
    ("why", re.compile("为什么|为何|原因|怎么会|何以|理由")),
    ("list", re.compile("哪些|哪几|有哪|几大|几方面|哪[两三四五六七八九十]|包括什么|包括哪|分别是什么")),
    ("date", re.compile("哪一年|哪年|何时|什么时候|哪一天|哪天|日期|什么时间|几月|几号|哪个月|年份")),
    ("number", re.compile("多少|几[个家项次位名种亿万倍岁条批所类只台款年]|多大|多高|多长|多久|多远|比例|占比|比重|百分|金额|数量|增速|排名第几|第几")),
    ("place", re.compile("哪里|在哪|何地|何处|哪个(城市|省|国家|地方|地区|区)|哪座|位于|落户在")),
    ("person", re.compile("谁|哪位|什么人|哪一位|叫什么名字")),
    ("definition", re.compile("什么是|是什么|指什么|指的是|含义|意思|定义|是指|何谓|怎样界定|如何界定")),
]

_NUMBER_RE = re.compile(r"\d|[一二三四五六七八九十百千万亿两半]+[个家项次位名种亿万倍岁条批所类只台款%％年月日]|百分之")
_DATE_RE = re.compile(r"\d{2,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月|今年|去年|明年|近年|年初|年底|年末")
_PLACE_RE = re.compile(r"[\u4e00-\u9fff]{1,6}(?:省|市|区|县|镇|州|国|岛|湾|园|城|基地|中心|大学)|北京|上海|天津|重庆|香港|深圳|杭州|南京|苏州|武汉|青岛|美国|欧洲|日本|海外|全球")
_WHY_RE = re.compile("因为|由于|原因|为了|因此|所以|导致|使得|得益于|在于|旨在|目的|以便|从而|推动|促进|需要|意味着")
_LIST_RE = re.compile("[、；]|以及|包括|一是|二是|首先|其次")
_DEFINITION_RE = re.compile("即|是指|指的是|就是|称为|称作|叫做|定义|意味着|是一种|是一个|也就是|所谓")

_YEAR_OR_DATE_RE = re.compile(r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月\s*\d{1,2}\s*日")
_UNIT_RE = re.compile(r"(?:多少|几)([\u4e00-\u9fff%％]{1,2})")
# Measure words and units a number question can ask for ("多少数据" asks for no unit).
_MEASURE_WORDS = set("个家项次位名种倍岁条批所类只台款亿万千百元人件座米吨户年天月周%％")
_UNIT_ALIASES = {"岁数": "岁", "年龄": "岁", "钱": "元", "人民币": "元", "美金": "美元"}


def expected_unit(question: str) -> str:
    """The unit a number question asks for (多少亿美元 → 亿, 几个国家 → 个, 多大岁数 → 岁), or ''."""
    for word, unit in _UNIT_ALIASES.items():
        if word in question:
            return unit
    m = _UNIT_RE.search(question)
    if not m:
        return ""
    unit = m.group(1)[0]
    return unit if unit in _MEASURE_WORDS else ""


def carries_number(sentence: str, unit: str = "") -> bool:
    """A quantity (not just a year or a date), followed by ``unit`` when one is asked for."""
    text = _YEAR_OR_DATE_RE.sub(" ", sentence)
    if not unit:
        return bool(_NUMBER_RE.search(text))
    return bool(re.search(rf"[\d一二三四五六七八九十百千万亿两半几多余]\s*[^\s，。；]{{0,3}}{re.escape(unit)}", text))


_TYPE_MARKERS = {"date": _DATE_RE, "number": _NUMBER_RE, "place": _PLACE_RE, "why": _WHY_RE, "list": _LIST_RE,
                 "definition": _DEFINITION_RE}
# Kinds whose marker is reliable enough that an answer without it is no answer.
_REQUIRED_TYPES = ("date", "number", "place")


def answer_type(question: str) -> str:
    """The kind of answer a question expects: date, number, place, person, why, list, definition or other."""
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return name
    return "other"


_jieba_lock = threading.Lock()
_jieba_ready = False


def _posseg():
    global _jieba_ready
    import jieba
    import jieba.posseg

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba_ready = True
    return jieba.posseg


def _content(question: str) -> str:
    return _STOP_CHARS.sub(" ", _QUESTION_WORDS.sub(" ", question))


def extract_terms(question: str) -> list[str]:
    """Key terms of a question (content words, names, numbers), in order, without repeats."""
    terms: list[str] = []
    for word, flag in _posseg().lcut(_content(question)):
        word = word.strip()
        if not word or flag in ("x", "uj", "ul", "p", "c", "u", "r", "d", "y", "e"):
            continue
        if len(word) >= 2 or re.fullmatch(r"[A-Za-z0-9.]+", word):
            if word not in terms:
                terms.append(word)
    return terms


# A person's name right after a role ("局长卢五星", "创始人李天天"): jieba often misses these.
_ROLE_NAME_RE = re.compile(
    "(?:局长|创始人|董事长|总经理|院长|主任|教授|总裁|首席[\u4e00-\u9fff]{0,4}师|分析师|合伙人|书记|市长|区长|所长|理事长|研究员|负责人)"
    "([\u4e00-\u9fff]{2,3}?)(?=是|在|的|今年|认为|表示|说|提出|曾|为|有|，|？|$)"
)


def named_entities(question: str) -> list[str]:
    """Terms that name something specific (people, places, organisations, Latin names, years, quotes)."""
    entities: list[str] = []
    for quoted in re.findall(r"[“「『\"]([^”」』\"]{2,20})[”」』\"]", question):
        entities.append(quoted)
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9&/.+-]*[A-Za-z0-9]|\d{4}\s*年", question):
        entities.append(m.group().replace(" ", ""))
    for m in _ROLE_NAME_RE.finditer(question):
        entities.append(m.group(1))
    for word, flag in _posseg().lcut(_content(question)):
        if flag in ("nr", "ns", "nt", "nz", "nrt", "nrfg") and len(word) >= 2:
            entities.append(word)
    seen: list[str] = []
    for e in entities:
        if e not in seen:
            seen.append(e)
    return seen


# ---------------------------------------------------------------- evidence and scoring

@dataclass
class ScoredSentence:
    passage: int  # index into the passages list
    start: int  # offsets within the passage text
    end: int
    text: str
    coverage: float  # IDF-weighted share of the question's tokens in this sentence (with context)
    focus: float  # the same, for the tokens that are not named entities: what is asked about them
    typed: bool  # carries the kind of answer the question expects
    entities_ok: bool  # every entity the question names is in this sentence's neighbourhood
    score: float


@dataclass
class Evidence:
    """The decision whether the passages hold an answer, with the reason and the best sentences."""

    answerable: bool
    reason: str
    qtype: str = "other"
    missing: list[str] = field(default_factory=list)
    sentences: list[ScoredSentence] = field(default_factory=list)


@dataclass(frozen=True)
class RefusalPolicy:
    """Thresholds of the refusal decision, calibrated on the tune split (see README)."""

    min_coverage: float = 0.35  # a sentence (with context) must hold this share of the question's weight
    min_focus: float = 0.10  # ... and this share of what is asked (the non-entity terms)
    require_entities: bool = True


_ENDS_SENTENCE_RE = re.compile(r"[。！；!;…][”’」』）)]*$")


def _is_question(sentence: str) -> bool:
    return bool(re.search(r"[？?][”’」』）)]*$", sentence))


def _tokens(text: str) -> set[str]:
    return set(tokenize(text))


def _chars(text: str) -> set[str]:
    """Chinese characters and Latin/number tokens: catches paraphrases (营收 ~ 营业收入)."""
    out: set[str] = set()
    for tok in tokenize(text):
        if "\u3400" <= tok[0] <= "\ufaff":
            out.update(tok)
        else:
            out.add(tok)
    return out


def _query_weights(question: str, idf: IdfFn | None) -> dict[str, float]:
    toks = _tokens(_content(question))
    if not toks:
        toks = _tokens(question)
    return {t: (idf(t) if idf else 1.0) or 0.5 for t in toks}


def _char_coverage(chars: dict[str, float], text_chars: set[str]) -> float:
    """Share of ``chars`` in the text, counted only when two or more match (one is chance)."""
    hits = sum(1 for c in chars if c in text_chars)
    return hits / len(chars) if chars and (hits >= 2 or len(chars) == 1) else 0.0


def _coverage(weights: dict[str, float], text_tokens: set[str]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in text_tokens) / total


def score_sentences(
    question: str, passages: list[Passage], idf: IdfFn | None = None,
    entities: list[str] | None = None,
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored for how well it answers the question, best first."""
    weights = _query_weights(question, idf)
    if entities is None:
        entities = named_entities(question)
    entity_tokens = set().union(*(_tokens(e) for e in entities)) if entities else set()
    entity_chars = set().union(*(_chars(e) for e in entities)) if entities else set()
    focus = {t: w for t, w in weights.items() if t not in entity_tokens}
    focus_chars = {c: 1.0 for c in _chars(_content(question)) - entity_chars}
    qtype = answer_type(question)
    marker = _TYPE_MARKERS.get(qtype)
    unit = expected_unit(question) if qtype == "number" else ""
    # Years must appear somewhere in the passages, but need not sit next to the answer.
    local_entities = [e for e in entities if not re.fullmatch(r"\d{4}年", e)]
    scored: list[ScoredSentence] = []
    for pi, p in enumerate(passages):
        spans = split_sentences(p.text)
        title_tokens = _tokens(p.title)
        for si, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if len(text) < 6 or text == p.title or _is_question(text):
                continue  # an interviewer's question is never an answer
            own = _tokens(text)
            # A sentence often names its subject in the one before it or in the title: lend it some.
            context = own | title_tokens
            if si > 0:
                context |= _tokens(p.text[spans[si - 1][0]:spans[si - 1][1]])
            cov = max(_coverage(weights, own), 0.85 * _coverage(weights, context))
            foc = max(_coverage(focus, own), 0.6 * _char_coverage(focus_chars, _chars(text))) if focus else 1.0
            window = p.title + p.text[spans[max(si - 2, 0)][0]:spans[min(si + 2, len(spans) - 1)][1]]
            window = window.replace(" ", "")
            entities_ok = all(ent in window for ent in local_entities)
            if qtype == "number":
                typed = carries_number(text, unit)
            else:
                typed = bool(marker.search(text)) if marker else True
            score = cov + 0.5 * foc + (0.08 if typed and marker else 0.0) + (0.1 if entities_ok else 0.0) - 0.015 * pi
            if not _ENDS_SENTENCE_RE.search(text):
                score -= 0.15  # a heading or caption: it names the topic, rarely answers
            scored.append(ScoredSentence(pi, s, e, text, cov, foc, typed, entities_ok, score))
    scored.sort(key=lambda x: -x.score)
    return scored


def assess_evidence(
    question: str, passages: list[Passage], idf: IdfFn | None = None,
    policy: RefusalPolicy = RefusalPolicy(),
) -> Evidence:
    """Decide whether ``passages`` answer ``question``; the reason says why not.

    A sentence answers when, together with its neighbours, it names every entity of
    the question, holds enough of the question's weight and of what is asked about
    those entities, and (for dates, numbers, places) carries that kind of answer.
    """
    qtype = answer_type(question)
    if not passages:
        return Evidence(False, "没有检索到任何段落", qtype)
    entities = named_entities(question)
    sentences = score_sentences(question, passages, idf, entities)
    if policy.require_entities:
        joined = "".join(p.title + p.text for p in passages).replace(" ", "")
        missing = [e for e in entities if e not in joined]
        if missing:
            return Evidence(False, f"文章中没有提到：{'、'.join(missing)}", qtype, missing, sentences)
    required = qtype in _REQUIRED_TYPES
    answering = [
        s for s in sentences
        if s.coverage >= policy.min_coverage and s.focus >= policy.min_focus
        and (s.entities_ok or not policy.require_entities) and (s.typed or not required)
    ]
    if answering:
        chosen = {id(s) for s in answering}
        rest = [s for s in sentences if id(s) not in chosen]
        return Evidence(True, "", qtype, [], answering + rest)
    if not sentences or max(s.coverage for s in sentences) < policy.min_coverage:
        best = max((s.coverage for s in sentences), default=0.0)
        reason = f"段落与问题的重合度过低（{best:.2f}）"
    elif required and not any(s.typed and s.focus >= policy.min_focus for s in sentences):
        reason = f"段落中没有与问题相关的{_TYPE_NAMES[qtype]}"
    else:
        reason = "段落提到了问题中的对象，但没有谈到所问的内容"
    return Evidence(False, reason, qtype, [], sentences)


_TYPE_NAMES = {"date": "时间", "number": "数字", "place": "地点", "why": "原因", "list": "列举"}


# ---------------------------------------------------------------- the extractive answerer

def refusal(question: str, passages: list[Passage], reason: str = "", mode: str = "extractive",
            warnings: list[str] | None = None) -> Answer:
    """The answer given when the articles do not hold one: clear, and with no citations."""
    text = REFUSAL_TEXT + (f"（{reason}）" if reason else "")
    return Answer(text=text, citations=[], refused=True, mode=mode, warnings=list(warnings or []),
                  query=question, passages=list(passages))


class ExtractiveAnswerer:
    """Answers with the best one to three sentences of the passages, each marked [n]."""

    mode = "extractive"

    def __init__(self, idf: IdfFn | None = None, *, refuse_check: bool = True,
                 policy: RefusalPolicy = RefusalPolicy(), max_sentences: int = 3,
                 max_chars: int = 220) -> None:
        self.idf = idf
        self.refuse_check = refuse_check
        self.policy = policy
        self.max_sentences = max_sentences
        self.max_chars = max_chars

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        evidence = assess_evidence(question, passages, self.idf, self.policy)
        if self.refuse_check and not evidence.answerable:
            return refusal(question, passages, evidence.reason)
        return self.compose(question, passages, evidence)

    def compose(self, question: str, passages: list[Passage], evidence: Evidence) -> Answer:
        """Write the answer from the evidence's best sentences, citing each."""
        sentences = evidence.sentences
        if not sentences:
            return refusal(question, passages, "段落中没有可用的句子")
        best = sentences[0]
        if evidence.qtype in _TYPE_MARKERS:
            typed = [s for s in sentences if s.typed]
            if typed and typed[0].coverage >= best.coverage - 0.15:
                best = typed[0]
        chosen = [best]
        limit = self.max_sentences if evidence.qtype in ("list", "why", "other", "definition") else 2
        for s in sentences:
            if len(chosen) >= limit:
                break
            if s is best or s.score < 0.8 * best.score or s.coverage < self.policy.min_coverage:
                continue
            # For a date, number or place, a second sentence must carry one too.
            if evidence.qtype in _REQUIRED_TYPES and not (s.typed and s.score >= 0.9 * best.score):
                continue
            if any(_tokens(s.text) <= _tokens(c.text) or _redundant(s.text, c.text) for c in chosen):
                continue
            if sum(len(c.text) for c in chosen) + len(s.text) > self.max_chars:
                continue
            chosen.append(s)
        # Keep the document order within one passage so the answer reads naturally.
        chosen.sort(key=lambda s: (passages[s.passage].doc_id, passages[s.passage].start + s.start))
        citations: list[Passage] = []
        parts = []
        for s in chosen:
            p = passages[s.passage]
            if p not in citations:
                citations.append(p)
            parts.append(f"{s.text}[{citations.index(p) + 1}]")
        return Answer(text="".join(parts), citations=citations, refused=False, mode=self.mode,
                      query=question, passages=list(passages))

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """Extractive answers are ready at once: one piece, then the Answer."""
        result = self.answer(question, passages)
        yield result.text
        yield result


def _redundant(a: str, b: str) -> bool:
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) > 0.7
