"""The conversation the browser keeps: JSON round trip, bad storage dropped, Markdown export."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from rag.schema import Answer, Passage
from rag.ui.conversation import (
    MAX_STORED_TURNS, STORAGE_VERSION, Turn, answer_from_dict, answer_to_dict, dump_turns, history,
    load_turns, to_markdown,
)

TEXT = "瞄准影响数据流通使用的卡点、堵点，崂山区打造了“1134”模式，即1套机制、1个中心、3项能力、4大场景。"


def passage(text: str = TEXT, title: str = "青岛崂山区", start: int = 595) -> Passage:
    return Passage(text=text, source="004.txt", title=title, score=0.7, start=start, end=start + len(text),
                   chunk_id="c1", publication="青岛市崂山区委宣传部")


def answered() -> Answer:
    return Answer(text=TEXT + "[1]", citations=[passage()], query="崂山区“1134”模式", warnings=["注意：示例"],
                  passages=[passage()])


def refused() -> Answer:
    return Answer(text="抱歉，文章中没有提到世界杯冠军。", refused=True,
                  passages=[passage(title="甲"), passage(title="甲", start=900), passage(title="乙", start=2000)])


def test_answer_round_trip_keeps_what_the_page_draws():
    a = answer_from_dict(json.loads(json.dumps(answer_to_dict(answered()))))
    assert a.text.endswith("[1]") and a.query == "崂山区“1134”模式" and a.warnings == ["注意：示例"]
    c = a.citations[0]
    assert (c.text, c.title, c.source, c.start, c.end, c.publication) == (
        TEXT, "青岛崂山区", "004.txt", 595, 595 + len(TEXT), "青岛市崂山区委宣传部")


def test_refusal_keeps_the_nearest_titles_once_each():
    a = answer_from_dict(answer_to_dict(refused()))
    assert a.refused and a.citations == []
    assert [p.title for p in a.passages] == ["甲", "乙"]


def test_turns_round_trip_through_storage():
    turns = [Turn("崂山区的“1134”模式指的是什么？", answered(), "a1-abc"), Turn("世界杯冠军？", refused(), "a2-def")]
    back = load_turns(json.loads(json.dumps(dump_turns(turns))))
    assert [(t.question, t.aid, t.answer.text, t.answer.refused) for t in back] == [
        (t.question, t.aid, t.answer.text, t.answer.refused) for t in turns]
    assert history(back) == [(t.question, t.answer.text) for t in turns]


def test_storage_keeps_only_the_newest_turns():
    turns = [Turn(f"问题{i}", answered(), f"a{i}") for i in range(MAX_STORED_TURNS + 5)]
    stored = dump_turns(turns)
    assert len(stored["turns"]) == MAX_STORED_TURNS
    assert stored["turns"][0]["question"] == "问题5"


@pytest.mark.parametrize("stored", [None, "test", [], {"version": STORAGE_VERSION + 1, "turns": []},
                                    {"version": STORAGE_VERSION, "turns": "x"}])
def test_unreadable_storage_is_an_empty_conversation(stored):
    assert load_turns(stored) == []


def test_a_damaged_turn_is_dropped_and_the_rest_kept():
    good = Turn("问题", answered(), "a1").to_dict()
    bad_span = json.loads(json.dumps(good))
    bad_span["answer"]["refused"] = True  # a refusal with citations cannot exist
    stored = {"version": STORAGE_VERSION, "turns": [good, {"question": "x"}, bad_span, {**good, "aid": "<script>"}]}
    assert [t.aid for t in load_turns(stored)] == ["a1"]


def test_markdown_export_has_questions_answers_and_quoted_sources():
    turns = [Turn("崂山区的“1134”模式指的是什么？", answered(), "a1"), Turn("世界杯冠军？", refused(), "a2")]
    md = to_markdown(turns, exported_at=datetime(2026, 11, 22, 9, 30))
    assert md.startswith("# 对话记录\n\n导出时间：2026-11-22 09:30，共 2 个问题。")
    assert "## 1. 崂山区的“1134”模式指的是什么？" in md and "## 2. 世界杯冠军？" in md
    assert "*检索用的问题：崂山区“1134”模式*" in md
    assert f"[1] 《青岛崂山区》（004.txt，字符 595–{595 + len(TEXT)}，青岛市崂山区委宣传部）\n\n> {TEXT}" in md
    assert "**未找到答案：** 抱歉，文章中没有提到世界杯冠军。" in md
    assert "- ⚠ 注意：示例" in md
