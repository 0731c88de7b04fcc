"""Rendering answers and their sources for the browser: pure functions, no Gradio.

An answer's ``[n]`` marks become links to the n-th source card of that answer; each
card shows the passage with the sentence(s) the answer used highlighted. Extractive
answers quote passage sentences verbatim, so the quoted text is found exactly; for
generated (LLM) answers the passage sentence sharing the most character bigrams with
the answer sentence carrying the mark is highlighted.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ..chunking import split_sentences
from ..answer.citations import support_score
from ..schema import Answer, Passage

UNSUPPORTED_MARK = "⚠"  # what rag.answer.citations appends to a sentence its sources do not support
_MARK_RE = re.compile(r"\[(\d{1,3})\]")
_MARK_GROUP_RE = re.compile(r"(?:\[\d{1,3}\])+")
_EDGE_PUNCT = " \t\r\n，,、：:；;" + UNSUPPORTED_MARK
# Markdown characters that would change how an answer renders in the chat.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")
MIN_OVERLAP = 0.2  # below this share of shared bigrams, nothing is highlighted


@dataclass(frozen=True)
class Claim:
    """A piece of the answer and the source numbers its marks point at."""

    text: str
    marks: tuple[int, ...]


def claims(text: str) -> list[Claim]:
    """Split answer text at its mark groups: the text before each group is what it supports.

    ``"甲。[1]乙，丙[2][3]。"`` gives ``甲。`` → (1,), ``乙，丙`` → (2, 3).
    """
    out: list[Claim] = []
    pos = 0
    for m in _MARK_GROUP_RE.finditer(text):
        piece = text[pos:m.start()]
        # Sentence-ending punctuation left over from the previous claim ("[1]。乙") belongs to it.
        piece = piece.lstrip("。！？!?…" + _EDGE_PUNCT).strip(_EDGE_PUNCT)
        marks = tuple(int(n) for n in _MARK_RE.findall(m.group()))
        if piece:
            out.append(Claim(piece, marks))
        elif out:
            out[-1] = Claim(out[-1].text, out[-1].marks + marks)
        pos = m.end()
    return out


def _find_verbatim(claim: str, passage: str) -> tuple[int, int] | None:
    """The claim's span in the passage when it is quoted there (ignoring final punctuation)."""
    for candidate in (claim, claim.rstrip("。！？!?…；;")):
        if len(candidate) >= 4:
            i = passage.find(candidate)
            if i >= 0:
                return i, i + len(candidate)
    return None


def highlight_spans(answer: Answer) -> dict[int, list[tuple[int, int]]]:
    """For each citation number, the spans of its passage text the answer relied on."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for claim in claims(answer.text):
        for n in claim.marks:
            if not 1 <= n <= len(answer.citations):
                continue
            text = answer.citations[n - 1].text
            span = _find_verbatim(claim.text, text)
            if span is None:
                best, best_score = None, MIN_OVERLAP
                for s, e in split_sentences(text):
                    score = support_score(claim.text, text[s:e])
                    if score > best_score:
                        best, best_score = (s, e), score
                span = best
            if span and span not in spans.setdefault(n, []):
                spans[n].append(span)
    for n in spans:
        spans[n] = _merge(sorted(spans[n]))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def mark_passage(text: str, spans: list[tuple[int, int]]) -> str:
    """Passage text as HTML with the given spans wrapped in <mark>."""
    out, pos = [], 0
    for s, e in _merge(sorted(spans)):
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def source_anchor(answer_id: str, n: int) -> str:
    """The element id of source card ``n`` of one answer."""
    return f"src-{answer_id}-{n}"


def escape_markdown(text: str) -> str:
    """Text that renders literally in Markdown and HTML."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _link_marks(escaped: str, answer: Answer, answer_id: str) -> str:
    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(answer.citations):
            return m.group(0)
        title = html.escape(answer.citations[n - 1].title)
        return (f'<a class="cite" href="#{source_anchor(answer_id, n)}" '
                f'title="《{title}》">[{n}]</a>')

    return re.sub(r"\\\[(\d{1,3})\\\]", link, escaped)


def render_answer(answer: Answer, answer_id: str, question: str = "") -> str:
    """The chat message for a finished answer: linked [n] marks, refusal styling, quiet warnings."""
    if answer.refused:
        body = (f'<div class="refusal"><span class="refusal-tag">未找到答案</span> '
                f"{html.escape(answer.text)}</div>")
    else:
        body = _link_marks(escape_markdown(answer.text), answer, answer_id)
        body = body.replace(UNSUPPORTED_MARK, f'<span class="unsupported" title="来源不能支持这句话">{UNSUPPORTED_MARK}</span>')
    notes = []
    if question and answer.query and answer.query.strip() != question.strip():
        notes.append(f"检索用的问题：{html.escape(answer.query)}")
    notes.extend(html.escape(w) for w in answer.warnings)
    if notes:
        body += '\n\n<div class="answer-notes">' + "<br>".join(f"ⓘ {n}" for n in notes) + "</div>"
    return body


def render_streaming(partial: str) -> str:
    """The chat message while an answer is still arriving."""
    return escape_markdown(partial) + " ▌"


def render_sources(answer: Answer, answer_id: str, question: str = "", *, open_: bool = True) -> str:
    """The sources panel section of one answer: one card per citation, evidence highlighted."""
    head = f"<summary>{html.escape(question or answer.query or '回答')}</summary>"
    if answer.refused or not answer.citations:
        body = '<div class="src-none">这个回答没有引用任何来源。</div>'
        if answer.passages:
            body += ('<div class="src-none">检索到的最接近的段落不足以回答：'
                     + "；".join(f"《{html.escape(p.title)}》" for p in _unique_titles(answer.passages)[:3])
                     + "</div>")
    else:
        spans = highlight_spans(answer)
        cards = [_card(answer_id, n, p, spans.get(n, [])) for n, p in enumerate(answer.citations, 1)]
        body = "".join(cards)
    opened = " open" if open_ else ""
    return f'<details class="src-group" id="grp-{answer_id}"{opened}>{head}{body}</details>'


def _unique_titles(passages: list[Passage]) -> list[Passage]:
    seen, out = set(), []
    for p in passages:
        if p.title not in seen:
            seen.add(p.title)
            out.append(p)
    return out


def _card(answer_id: str, n: int, p: Passage, spans: list[tuple[int, int]]) -> str:
    pub = f" · {html.escape(p.publication)}" if p.publication else ""
    return (
        f'<div class="src-card" id="{source_anchor(answer_id, n)}">'
        f'<div class="src-title"><span class="src-n">[{n}]</span> 《{html.escape(p.title)}》</div>'
        f'<div class="src-meta">文件 {html.escape(p.source)} · 字符 {p.start}–{p.end}{pub}</div>'
        f'<div class="src-text">{mark_passage(p.text, spans)}</div>'
        "</div>"
    )


def render_sources_panel(sections: list[str]) -> str:
    """The whole panel: newest answer first."""
    if not sections:
        return '<div class="src-empty">提问后，这里会列出回答引用的段落；点击回答中的 [n] 可跳转到对应来源。</div>'
    return '<div class="src-panel">' + "".join(reversed(sections)) + "</div>"


def render_status(lines: list[tuple[str, str]]) -> str:
    """Knowledge-base messages as HTML, one line each; kind is ok, error, warn or info."""
    if not lines:
        return ""
    return "".join(f'<div class="kb-msg kb-{html.escape(kind)}">{html.escape(text)}</div>'
                   for kind, text in lines)


def render_plain(answer: Answer) -> str:
    """Answer text with [n] marks, then its numbered sources, as Markdown (the /ask endpoint)."""
    return answer.to_markdown()
