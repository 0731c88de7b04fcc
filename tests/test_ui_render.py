"""Rendering answers and sources: marks, links, highlights, refusals, escaping."""

from __future__ import annotations

import re

import pytest

from rag.answer.extractive import ExtractiveGenerator, refusal
from rag.answer.judge import EvidenceJudge
from rag.schema import Answer, Passage
from rag.answer.citations import support_score
from rag.ui.render import (
    Claim,
    claims,
    escape_markdown,
    highlight_spans,
    mark_passage,
    render_answer,
    render_plain,
    render_sources,
    render_sources_panel,
    render_status,
    source_anchor,
)

P1_TEXT = (
    "瞄准影响数据流通使用的卡点、堵点，崂山区打造了“1134”模式，即1套机制、1个中心、3项能力、4大场景。"
    "“1套机制”，即通过有关部门统一领导，建立政务信息化项目管理机制。"
)
P2_TEXT = "崂山区依托卫星、无人机等手段，实现了395平方公里陆域和2880平方公里海域的全域监测。该区还建设了城市云脑。"


def passage(text: str, title: str = "青岛崂山区", source: str = "004.txt", start: int = 100) -> Passage:
    return Passage(text=text, source=source, title=title, score=0.5, start=start,
                   end=start + len(text), chunk_id=f"c{start}")


P1, P2 = passage(P1_TEXT), passage(P2_TEXT, title="城市云脑", start=900)


def test_claims_split_at_mark_groups():
    assert claims("甲说了一件事。[1]乙，丙[2][3]。") == [
        Claim("甲说了一件事。", (1,)), Claim("乙，丙", (2, 3)),
    ]
    assert claims("没有标记的文字") == []


def test_extractive_sentence_is_highlighted_verbatim():
    sentence = P1_TEXT[: P1_TEXT.index("。") + 1]
    answer = Answer(text=f"{sentence}[1]", citations=[P1])
    assert highlight_spans(answer) == {1: [(0, len(sentence))]}


@pytest.mark.slow
def test_real_extractive_answer_highlights_the_quoted_sentences(e5_embedder):
    question, passages = "崂山区的“1134”模式指的是什么？", [P1, P2]
    verdict = EvidenceJudge(None, e5_embedder)(question, passages)
    assert verdict.answerable, verdict.reason
    answer = ExtractiveGenerator(None, e5_embedder).answer(question, passages, verdict.evidence)
    assert not answer.refused
    spans = highlight_spans(answer)
    assert spans, answer.text
    quoted = re.sub(r"\[\d+\]", "", answer.text)  # adjacent quoted sentences merge into one highlight
    for n, ranges in spans.items():
        for s, e in ranges:
            assert answer.citations[n - 1].text[s:e] in quoted


def test_paraphrase_highlights_the_closest_sentence():
    # An LLM-style paraphrase of the first sentence of P2, cited [1], plus a claim about P1.
    answer = Answer(
        text="崂山区用卫星和无人机对395平方公里陆域、2880平方公里海域做了全域监测[1]。它还有“1134”模式[2]。",
        citations=[P2, P1], mode="llm",
    )
    spans = highlight_spans(answer)
    first = P2_TEXT[: P2_TEXT.index("。") + 1]
    assert spans[1] == [(0, len(first))]
    (s, e), = spans[2]
    assert "1134" in P1_TEXT[s:e]


def test_unrelated_claim_highlights_nothing():
    answer = Answer(text="今天天气晴朗，适合出门散步[1]。", citations=[P2], mode="llm")
    assert highlight_spans(answer) == {}
    assert support_score("今天天气晴朗", P2_TEXT) == 0.0


def test_mark_passage_escapes_html_and_wraps_spans():
    html_out = mark_passage("<b>甲</b>乙丙。丁", [(8, 11)])
    assert html_out == "&lt;b&gt;甲&lt;/b&gt;<mark>乙丙。</mark>丁"


def test_answer_marks_link_to_their_source_cards():
    answer = Answer(text="第一句。[1]第二句。[2]不存在的[7]", citations=[P1, P2])
    out = render_answer(answer, "a1")
    assert f'href="#{source_anchor("a1", 1)}"' in out
    assert f'href="#{source_anchor("a1", 2)}"' in out
    assert "#src-a1-7" not in out and r"\[7\]" in out  # an out-of-range mark stays plain text
    panel = render_sources(answer, "a1", "问题")
    for n in (1, 2):
        assert f'id="{source_anchor("a1", n)}"' in panel
    assert "004.txt" in panel and "字符 100–" in panel


def test_sources_panel_highlights_the_used_sentence():
    sentence = P1_TEXT[: P1_TEXT.index("。") + 1]
    panel = render_sources(Answer(text=f"{sentence}[1]", citations=[P1]), "a2", "问题")
    marked = re.findall(r"<mark>(.*?)</mark>", panel)
    assert marked == [sentence]


def test_refusal_is_styled_and_has_no_links():
    answer = refusal("世界杯冠军是谁？", [P1], "文章中没有提到：世界杯")
    out = render_answer(answer, "a3", "世界杯冠军是谁？")
    assert 'class="refusal"' in out and "cite" not in out
    panel = render_sources(answer, "a3", "世界杯冠军是谁？")
    assert "没有引用" in panel and "src-card" not in panel


def test_warnings_and_rewritten_question_are_quiet_notes():
    answer = Answer(text="甲。[1]", citations=[P1], warnings=["LLM 不可用，已改用抽取式回答"],
                    query="崂山区的1134模式包括哪些？")
    out = render_answer(answer, "a4", "它包括哪些？")
    notes = out.split('<div class="answer-notes">', 1)[1]
    assert "LLM 不可用" in notes and "检索用的问题：崂山区的1134模式包括哪些？" in notes
    same = render_answer(Answer(text="甲。[1]", citations=[P1], query="问题"), "a5", "问题")
    assert "answer-notes" not in same


def test_unsupported_mark_gets_a_tooltip():
    out = render_answer(Answer(text="没有依据的话[1]⚠。", citations=[P1], mode="llm"), "a6")
    assert 'class="unsupported"' in out


def test_answer_text_cannot_inject_markup():
    out = render_answer(Answer(text="<script>alert(1)</script>**粗**[1]", citations=[P1]), "a7")
    assert "<script>" not in out and "**" not in out.replace("\\*", "")


def test_escape_markdown_keeps_text_literal():
    assert escape_markdown("# 标题 *星* [1]") == r"\# 标题 \*星\* \[1\]"


def test_panel_lists_newest_first_and_empty_hint():
    assert "点击回答中的 [n]" in render_sources_panel([])
    panel = render_sources_panel(["<details>旧</details>", "<details>新</details>"])
    assert panel.index("新") < panel.index("旧")


def test_status_lines_are_escaped_and_classed():
    out = render_status([("ok", "已保存 <a>.txt"), ("error", "未上传 x")])
    assert 'class="kb-msg kb-ok"' in out and "&lt;a&gt;" in out and "kb-error" in out
    assert render_status([]) == ""


def test_plain_markdown_lists_numbered_sources():
    answer = Answer(text="甲。[1]乙。[2]", citations=[P1, P2])
    text = render_plain(answer)
    assert text.startswith("甲。[1]乙。[2]")
    assert "[1] 《青岛崂山区》（004.txt，字符 100–" in text
    assert "[2] 《城市云脑》（004.txt，字符 900–" in text
