"""Checking the [n] marks of a generated answer against the passages it was given.

After generation, ``check_citations``:

1. normalises mark variants (``[1,2]``, ``[1-3]``, ``【1】``, ``[资料1]``) to ``[1][2]``;
2. removes marks pointing at passages that were not supplied (``[7]`` of five);
3. measures, per sentence, how well the cited passages support it
   (``support_score``: the share of the sentence's character bigrams, Latin words
   and numbers found in the passage), and requires every number the sentence
   states to appear in a cited passage;
4. marks an unsupported sentence visibly with ``UNSUPPORTED_MARK`` (⚠) after its
   citations and reports it in the warnings;
5. gives a factual sentence without marks the best-supporting passage when that
   one supports it well enough, else marks and reports it;
6. keeps only cited passages, renumbered [1], [2], … in order of first mention.

Marks always end up after their sentence and its closing quote (``举行[1]。`` and
``举行。[1]”`` both become ``举行。”[1]``-style), and a mark that landed inside a
sentence, even inside a word (``智能快递[1]柜…。``), moves to the sentence's end.

Thresholds were calibrated on paraphrased sentences of the sample corpus against
their own passage and against the other passages of the same article (see
tests/test_citations.py and docs/llm.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..lexical import tokenize
from ..schema import Passage
from ..text import CLOSERS, CONTENT_RE, MARK_RE, UNSUPPORTED_MARK, marks_after_closers

# A sentence counts as supported by its cited passages from this share on.
SUPPORT_THRESHOLD = 0.45
# An unmarked sentence gets a passage attached only when support is this strong.
ATTACH_THRESHOLD = 0.6
# Sentences with fewer content characters (CJK, letters, digits) are not checked.
MIN_FACT_CHARS = 8

_MARK_RE = MARK_RE
_NUM = r"(?:资料|来源|文献|段落|片段|passage|source)?\s*#?\s*\d{1,3}"
_VARIANT_RE = re.compile(
    rf"(?:\[\^?|【|［|〔)\s*({_NUM}(?:\s*(?:[,，、;；]|-|–|~|～|至|到)\s*{_NUM})*)\s*(?:\]|】|］|〕)",
    re.IGNORECASE,
)
_SENTENCE_END = "。！？；!?;"
_CLOSERS = CLOSERS
# A sentence: text up to an end mark (plus closers), then any citation marks and the
# warning sign that belong to it; or up to a line break.
_SENTENCE_RE = re.compile(
    rf"[^{_SENTENCE_END}\n]*(?:[{_SENTENCE_END}]+[{re.escape(_CLOSERS)}]*)?"
    rf"(?:[ \t]*(?:\[\d{{1,3}}\]|{UNSUPPORTED_MARK}))*"
)
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_ENUMERATOR_RE = re.compile(r"^\s*(?:\d{1,2}[.、)）]\s|\d{1,2}、|[（(]\d{1,2}[)）]|[-*•·]\s)")
_CONTENT_RE = CONTENT_RE
# Sentences that talk about the passages rather than state a fact.
_META_RE = re.compile(
    r"(资料|材料|文章|原文|段落|来源|文中|上文|以上)(中|里|内)?[^。！？]{0,12}"
    r"(没有|未|并未|无|不包含|不涉及|没提|找不到|未能|无法)"
    r"|(没有|未|并未|无法)(找到|提到|提及|说明|给出|涉及|披露|确定|回答|判断)"
    r"|^(根据|依据|按照)(以上|上述|所给|提供的)?(资料|材料|文章)[，,：:]?$"
    r"|^(综上|总之|总的来说|总体来看)[，,：:]?$"
)


@dataclass
class SentenceCheck:
    """How one sentence of an answer fared: its text, marks and support."""

    text: str  # without marks
    cited: list[int]  # its marks in the final text: [n] is CheckedText.citations[n-1]
    support: float | None  # None for sentences that state no checkable fact
    supported: bool
    note: str = ""  # "attached", "unsupported", "uncited", "number" ...


@dataclass
class CheckedText:
    """An answer text after checking: final marks, cited passages, warnings."""

    text: str
    citations: list[Passage]
    warnings: list[str] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    removed_marks: list[int] = field(default_factory=list)

    @property
    def unsupported(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if not s.supported]


def _tokens(text: str) -> set[str]:
    return set(tokenize(text))


def support_score(sentence: str, passage_text: str) -> float:
    """Share of the sentence's bigrams/words/numbers that occur in the passage (0..1).

    Marks like [1] are ignored. A sentence with no such tokens scores 0.
    """
    s = _tokens(_MARK_RE.sub("", sentence))
    if not s:
        return 0.0
    return len(s & _tokens(passage_text)) / len(s)


def normalize_marks(text: str) -> str:
    """Rewrite citation variants (``[1,2]``, ``[1-3]``, ``【1】``, ``[资料2]``) as ``[1][2]``."""

    def expand(match: re.Match) -> str:
        body = match.group(1)
        numbers: list[int] = []
        for part in re.split(r"\s*[,，、;；]\s*", body):
            ends = [int(n) for n in re.findall(r"\d{1,3}", part)]
            if len(ends) == 2 and ends[0] <= ends[1] and ends[1] - ends[0] <= 20:
                numbers.extend(range(ends[0], ends[1] + 1))
            else:
                numbers.extend(ends)
        return "".join(f"[{n}]" for n in numbers)

    return _VARIANT_RE.sub(expand, text)


def _is_factual(content: str) -> bool:
    if len(_CONTENT_RE.findall(content)) < MIN_FACT_CHARS:
        return False
    stripped = content.strip()
    if stripped.endswith(("：", ":")):
        return False  # a lead-in to a list
    return not _META_RE.search(stripped)


def _numbers(text: str) -> set[str]:
    return {n.rstrip("0").rstrip(".") if "." in n else n for n in _NUMBER_RE.findall(text)}


def _split(text: str) -> list[str]:
    """Sentences (each with its trailing marks) and the line breaks between them."""
    parts: list[str] = []
    pos = 0
    for m in _SENTENCE_RE.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        if m.end() > m.start():
            parts.append(m.group())
        pos = max(pos, m.end())
    if pos < len(text):
        parts.append(text[pos:])
    return parts


def _short(text: str, n: int = 30) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n] + "…"


def check_citations(
    text: str,
    passages: list[Passage],
    *,
    support_threshold: float = SUPPORT_THRESHOLD,
    attach_threshold: float = ATTACH_THRESHOLD,
) -> CheckedText:
    """Check and repair the [n] marks of ``text``; [n] refers to ``passages[n-1]``."""
    # Marks go after their sentence, after its closing quote: one place, whatever the writer did.
    text = marks_after_closers(normalize_marks(text).replace(UNSUPPORTED_MARK, ""))
    k = len(passages)
    removed: list[int] = []
    passage_tokens = [_tokens(p.text) for p in passages]
    passage_numbers = [_numbers(p.text) for p in passages]
    warnings: list[str] = []
    checks: list[SentenceCheck] = []
    out: list[str] = []

    for part in _split(text):
        marks = [int(n) for n in _MARK_RE.findall(part)]
        if not marks and not _CONTENT_RE.search(part):
            out.append(part)
            continue
        bogus = [n for n in marks if not 1 <= n <= k]
        removed.extend(bogus)
        cited = list(dict.fromkeys(n for n in marks if 1 <= n <= k))
        # The sentence body without marks; trailing whitespace is kept for the layout.
        body = _MARK_RE.sub("", part)
        trailing = body[len(body.rstrip()) :]
        body = body.rstrip()
        if not _is_factual(body):
            checks.append(SentenceCheck(body.strip(), cited, None, True))
            out.append(body + "".join(f"[{n}]" for n in cited) + trailing)
            continue
        tokens = _tokens(body)
        numbers = _numbers(_ENUMERATOR_RE.sub("", body))
        note = ""
        if cited:
            union: set[str] = set().union(*(passage_tokens[n - 1] for n in cited))
            support = len(tokens & union) / len(tokens) if tokens else 0.0
            cited_numbers = set().union(*(passage_numbers[n - 1] for n in cited))
            missing_numbers = sorted(numbers - cited_numbers)
            supported = support >= support_threshold and not missing_numbers
            if not supported:
                note = "number" if support >= support_threshold else "unsupported"
                marks_text = "".join(f"[{n}]" for n in cited)
                why = (
                    f"数字 {'、'.join(missing_numbers)} 不在所引资料中"
                    if note == "number"
                    else f"与所引资料的重合度 {support:.2f} 低于 {support_threshold:.2f}"
                )
                warnings.append(f"“{_short(body)}”{marks_text} 未得到所引资料的支持（{why}）")
        else:
            scores = [
                (len(tokens & pt) / len(tokens) if tokens else 0.0, i + 1)
                for i, pt in enumerate(passage_tokens)
            ]
            support, best = max(scores, default=(0.0, 0))
            numbers_ok = best and numbers <= passage_numbers[best - 1]
            if best and support >= attach_threshold and numbers_ok:
                cited = [best]
                supported = True
                note = "attached"
            else:
                supported = False
                note = "uncited"
                warnings.append(f"“{_short(body)}” 没有标注来源，资料中也找不到足够的依据")
        checks.append(SentenceCheck(body.strip(), cited, round(support, 3), supported, note))
        marks_text = "".join(f"[{n}]" for n in cited)
        out.append(body + marks_text + ("" if supported else UNSUPPORTED_MARK) + trailing)

    if removed:
        shown = "、".join(f"[{n}]" for n in dict.fromkeys(removed))
        warnings.insert(0, f"删除了指向不存在资料的引用 {shown}（只提供了 {k} 份资料）")

    # Renumber in order of first mention; citations hold only what is cited.
    joined = "".join(out)
    order: list[int] = []
    for m in _MARK_RE.finditer(joined):
        n = int(m.group(1))
        if n not in order:
            order.append(n)
    new_number = {old: new for new, old in enumerate(order, 1)}
    final = _MARK_RE.sub(lambda m: f"[{new_number[int(m.group(1))]}]", joined)
    for check in checks:
        check.cited = [new_number[n] for n in check.cited]
    return CheckedText(
        text=final.strip(),
        citations=[passages[n - 1] for n in order],
        warnings=warnings,
        sentences=checks,
        removed_marks=removed,
    )
