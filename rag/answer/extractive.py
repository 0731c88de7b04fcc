"""The extractive generator: answers with the best sentences of the passages, each marked [n].

It writes from the ranked ``Evidence`` (``rag/answer/evidence.py``), complete for the
question's type:

- list questions get every item: the lead sentence (often ending in a colon) and all
  the numbered items that follow it (一是/二是/三是, 首先/其次, （一）…), not only the first;
- definition questions (什么是…) lead with the sentence that defines the term;
- why questions keep the sentences that give the stated reasons;
- number, date, place and person questions lead with the short answer (「38.5万亿元：」)
  and keep the sentence that carries it.

The answerability decision is not made here: it is the judge's (``rag/answer/judge.py``);
this generator's gate policy (``refuses_unanswerable``) asks the pipeline to refuse
before it is called whenever the judge says the passages do not answer.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterator, Sequence

from ..chunking import split_sentences
from ..schema import Answer, Passage
from ..text import SPEECH_VERB_RE, clause_at
from .analysis import DATE_RE, PLACE_RE, YEAR_OR_DATE_RE, analyze, count_value, date_values, posseg, tokens
from .evidence import _LIST_ITEM_RE, _PERSON_RE, Evidence, SentenceEvidence, attribute_pairs, gather_evidence

REFUSAL_TEXT = "抱歉，现有文章中没有找到能回答这个问题的内容。"
MAX_ANSWER_CHARS = 220  # about three sentences: long enough for a reason or a definition
MAX_LIST_CHARS = 420  # a list answer keeps all its items (the longest list in the sample set is ~380 chars)
MAX_SENTENCES = {"list": 8, "why": 3, "definition": 3, "other": 3, "number": 2, "date": 2, "place": 2,
                 "person": 2}
# A further sentence joins the best one when the ranker gives it at least this probability of
# holding the answer. Tune split, evidence in answer: 0.5 → 0.737, 0.2 → 0.807, 0.1 → 0.842, 0.03 → 0.851.
EXTRA_SENTENCE_MIN_P = 0.03
# Words that state a reason (not 推动/促进/需要, which WHY_RE also reads as a why-sentence's kind).
_CAUSE_RE = re.compile("因为|由于|原因|之所以|在于|导致|得益于|源于|归功于|归因于|主要是|一方面")
CAUSE_SCAN = 4  # a why question's reason sentence is looked for among the best four, as the defining sentence is
REDUNDANT_OVERLAP = 0.7  # share of shared tokens above which a sentence repeats another
_COUNT = "[一二三四五六七八九十两]|[2-9]"
_LIST_LEAD_RE = re.compile(rf"[：:]$|包括|如下|分别|以下|几个方面|(?:{_COUNT})(?:个|大|项|种|类|条|点|方面|环节|步)")
_LIST_COUNT_RE = re.compile(rf"({_COUNT})(?:个|大|项|种|类|条|点)?(?:方面|环节|步骤|阶段|层次|任务|措施|重点|特点|原因|问题)")
_NUMBERED_START_RE = re.compile(r"一是|第一|首先|[（(][一1][)）]")
_CONTINUES_RE = re.compile(r"^(?:它|其|这|该|此|此外|同时|并且|而且|也)")
# 「“……。”日前，…董事长董玉锁介绍说。」: a sentence that only says who spoke; what they said is the quote before it.
# Ending such a sentence, 「…称。」 is speech too.
_ATTRIBUTION_RE = re.compile(rf"^[^“”「」]{{2,80}}(?:{SPEECH_VERB_RE}|称)(?:记者)?道?[。！]$")
_QUOTE_END_RE = re.compile(r"[。！？…]?[”」]$")
_SHORT_NUMBER_RE = re.compile(
    r"(?:约|近|超过|逾)?\d+(?:\.\d+)?(?:[万亿千百]+)?"
    r"(?:[%％‰]|美元|人民币|亿元|万元|元|[个家项次位名种倍岁条批所类只台款人件座米吨户天周]|万人|亿人)?"
)


def refusal(question: str, passages: list[Passage], reason: str = "", mode: str = "extractive",
            warnings: list[str] | None = None) -> Answer:
    """The answer given when the articles do not hold one: clear, and with no citations."""
    text = REFUSAL_TEXT + (f"（{reason}）" if reason else "")
    return Answer(text=text, citations=[], refused=True, mode=mode, warnings=list(warnings or []),
                  query=question, passages=list(passages))


def _p(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-score))


def _redundant(a: str, b: str) -> bool:
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) > REDUNDANT_OVERLAP


# jieba part-of-speech flags of a whole word that can lead a place or person answer.
_LEAD_FLAGS = {"place": ("ns",), "person": ("nr",)}
# A number lead must carry a unit or measure word: a bare "12" is as likely a month as an answer.
_HAS_UNIT_RE = re.compile(r"[^\d.约近超过逾]")


def short_answer(evidence: Evidence, sentence: str, *, beside_attribute: bool = False) -> str:
    """The asked-for value in ``sentence`` (a number with its unit, a date, a place, a name), or ''.

    Conservative on purpose: a wrong lead reads worse than none, so a place or a name must be a
    whole word that jieba tags as one, and a number must carry its unit and must not be part of a date.
    With ``beside_attribute``, only a number in the clause that names the asked-about attribute
    counts (「…民营企业贷款余额超过5万亿元」 for 贷款余额); other kinds give ''.
    """
    analysis = evidence.analysis
    q = re.sub(r"\s+", "", analysis.text)
    s = re.sub(r"\s+", "", sentence)
    kind = analysis.qtype
    if beside_attribute and (kind != "number" or not analysis.attribute):
        return ""
    if kind == "number":
        rest = DATE_RE.sub(lambda m: "#" * len(m.group()), YEAR_OR_DATE_RE.sub(lambda m: "#" * len(m.group()), s))
        pairs = attribute_pairs(analysis.attribute) if beside_attribute else frozenset()
        for m in _SHORT_NUMBER_RE.finditer(rest):
            value = m.group()
            digits = re.sub(r"[^\d.]", "", value)
            if not digits or digits in q or value in q or not _HAS_UNIT_RE.search(value):
                continue
            if analysis.unit and analysis.unit not in value:
                continue
            if beside_attribute and not any(p in clause_at(s, m.start()) for p in pairs):
                continue
            return value
        return ""
    if kind == "date":
        values = date_values(q)
        found = [m.group() for m in YEAR_OR_DATE_RE.finditer(s) if values.search(m.group())] or [
            m.group() for m in values.finditer(s)]
        return next((v for v in found if v not in q and len(v) <= 20), "")
    flags = _LEAD_FLAGS.get(kind)
    if flags is None:
        return ""
    pattern = PLACE_RE if kind == "place" else _PERSON_RE
    words = [(w, f) for w, f in posseg().lcut(s) if f.startswith(flags) and len(w) >= 2 and w not in q]
    whole = {w for w, _ in words}
    # Prefer a value the pattern also finds (a place with its suffix, a name after a title).
    for m in pattern.finditer(s):
        for w in whole:
            # A place must end the match (青岛市城阳区 → 城阳区); a name may stand anywhere in it.
            fits = m.group().endswith(w) if kind == "place" else w in m.group()
            if fits:
                return w
    return words[0][0] if words else ""


def lead_value(evidence: Evidence, sentences: list[str]) -> str:
    """The short answer an answer leads with: a number beside the asked-about attribute in any of the
    answer's sentences first, else the first value ``short_answer`` finds. Tune, number questions: the
    lead matches the gold answer for 52 of 102, where the first value did for 47, and no lead got worse."""
    for beside in (True, False):
        for sentence in sentences:
            value = short_answer(evidence, sentence, beside_attribute=beside)
            if value:
                return value
    return ""


class ExtractiveGenerator:
    """Answers with the best sentences of the passages (Generator protocol of ``rag/answer/base.py``)."""

    mode = "extractive"
    refuses_unanswerable = True

    def __init__(self, index: Any = None, embedder: Any = None, *, max_chars: int = MAX_ANSWER_CHARS,
                 translate: Callable[[str], Sequence[str]] | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.max_chars = max_chars
        self.translate = translate

    def stream(self, question: str, passages: list[Passage], evidence: Evidence | None = None
               ) -> Iterator[str | Answer]:
        """Extractive answers are ready at once: one piece per cited sentence, then the Answer."""
        answer = self.answer(question, passages, evidence)
        yield from re.findall(r".+?(?:\[\d+\])+|.+$", answer.text, flags=re.S) or [answer.text]
        yield answer

    def answer(self, question: str, passages: list[Passage], evidence: Evidence | None = None) -> Answer:
        if evidence is None:
            if self.embedder is None:
                raise ValueError("ExtractiveGenerator needs an embedder (or the evidence) to answer")
            evidence = gather_evidence(analyze(question), passages, self.index, self.embedder,
                                       translation=self.translate(question) if self.translate else ())
        return self.compose(question, passages, evidence)

    # -- choosing the sentences

    def choose(self, evidence: Evidence) -> list[SentenceEvidence]:
        """The sentences of the answer, in reading order."""
        ranked = evidence.sentences
        if not ranked:
            return []
        kind = evidence.qtype
        best = ranked[0]
        if kind == "definition":
            defining = [s for s in ranked[:4] if s.feature("defines")]
            if defining:
                best = defining[0]
        elif kind == "why" and not _CAUSE_RE.search(best.text):
            # the stated reason leads: the best-ranked sentence often sets the scene (「…增速高出3.1个百分点」) and
            # the one that says why (「主要是由于…」) ranks just below it
            causes = [s for s in ranked[1:CAUSE_SCAN] if _CAUSE_RE.search(s.text) and s.feature("entities_ok")]
            if causes:
                best = causes[0]
        chosen = [best]
        if kind == "list":
            chosen = self._list_items(evidence, best)
        budget = MAX_LIST_CHARS if kind == "list" else self.max_chars
        limit = MAX_SENTENCES.get(kind, 2)
        for s in ranked:
            if len(chosen) >= limit:
                break
            if s in chosen or _p(s.score) < EXTRA_SENTENCE_MIN_P:
                continue
            if kind in ("number", "date", "place", "person") and not s.feature("slot_new"):
                continue
            if any(_redundant(s.text, c.text) for c in chosen):
                continue
            if sum(len(c.text) for c in chosen) + len(s.text) > budget:
                continue
            chosen.append(s)
        if kind == "definition":
            chosen = self._continuation(evidence, chosen, best)
        chosen = self._quotes(evidence, chosen)
        chosen.sort(key=lambda s: (evidence.passages[s.passage].doc_id, evidence.passages[s.passage].start + s.start))
        if kind == "definition":  # the defining sentence leads; what follows keeps its order
            chosen.remove(best)
            chosen.insert(0, best)
        return chosen

    def _sentence_at(self, evidence: Evidence, passage: int, index: int) -> SentenceEvidence | None:
        p = evidence.passages[passage]
        spans = split_sentences(p.text)
        if not 0 <= index < len(spans):
            return None
        for s in evidence.sentences:
            if s.passage == passage and s.index == index:
                return s
        start, end = spans[index]
        return SentenceEvidence(passage, index, start, end, p.text[start:end])

    def _list_items(self, evidence: Evidence, best: SentenceEvidence) -> list[SentenceEvidence]:
        """The lead sentence and every item of the list it introduces (or belongs to)."""
        lead = best
        # If the best sentence is an item, go back to the sentence that introduces the list.
        while _LIST_ITEM_RE.search(lead.text):
            before = self._sentence_at(evidence, lead.passage, lead.index - 1)
            if before is None:
                break
            lead = before
            if not _LIST_ITEM_RE.search(before.text):
                break
        items = [lead]
        introduces = bool(_LIST_LEAD_RE.search(lead.text))
        # 「创新分为四个环节。」: the stated count says how many sentences the list runs on for.
        m = _LIST_COUNT_RE.search(lead.text)
        stated = count_value(m.group(1)) if m else 0
        i = lead.index + 1
        total = len(lead.text)
        # Once items are numbered (一是/第一/首先 …), only numbered sentences continue the list.
        numbered = bool(_NUMBERED_START_RE.search(lead.text))
        while True:
            nxt = self._sentence_at(evidence, lead.passage, i)
            follows = introduces and not numbered and (i == lead.index + 1 or i - lead.index <= stated)
            if nxt is None or not (_LIST_ITEM_RE.search(nxt.text) or follows):
                break
            numbered = numbered or bool(_LIST_ITEM_RE.search(nxt.text))
            if total + len(nxt.text) > MAX_LIST_CHARS:
                break
            items.append(nxt)
            total += len(nxt.text)
            i += 1
        if best not in items and best.passage == lead.passage and not any(c.index == best.index for c in items):
            items.append(best)
        return items

    def _quotes(self, evidence: Evidence, chosen: list[SentenceEvidence]) -> list[SentenceEvidence]:
        """A chosen sentence that only says who spoke (「…董玉锁介绍说。」) brings the quote before it."""
        out = list(chosen)
        for s in chosen:
            if not _ATTRIBUTION_RE.search(s.text):
                continue
            quote = self._sentence_at(evidence, s.passage, s.index - 1)
            if quote is not None and _QUOTE_END_RE.search(quote.text) and not any(
                    c.passage == quote.passage and c.index == quote.index for c in out):
                out.append(quote)
        return out

    def _continuation(self, evidence: Evidence, chosen: list[SentenceEvidence],
                      best: SentenceEvidence) -> list[SentenceEvidence]:
        """A definition that runs on (「它……」「其……」) keeps its next sentence."""
        nxt = self._sentence_at(evidence, best.passage, best.index + 1)
        if nxt is not None and _CONTINUES_RE.search(nxt.text) and not any(
                c.passage == nxt.passage and c.index == nxt.index for c in chosen):
            if sum(len(c.text) for c in chosen) + len(nxt.text) <= self.max_chars:
                chosen = chosen + [nxt]
        return chosen

    # -- writing the answer

    def compose(self, question: str, passages: list[Passage], evidence: Evidence) -> Answer:
        """Write the answer from the evidence's best sentences, citing each."""
        chosen = self.choose(evidence)
        if not chosen:
            return refusal(question, passages, "检索到的段落中没有可用的句子")
        citations: list[Passage] = []
        parts = []
        for s in chosen:
            p = passages[s.passage]
            if p not in citations:
                citations.append(p)
            parts.append(f"{s.text}[{citations.index(p) + 1}]")
        text = "".join(parts)
        if evidence.qtype in ("number", "date", "place", "person"):
            lead = lead_value(evidence, [s.text for s in chosen])
            if lead:
                text = f"{lead}：{text}"
        return Answer(text=text, citations=citations, refused=False, mode=self.mode,
                      query=question, passages=list(passages))
