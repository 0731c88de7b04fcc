"""rag.evaluation.questions: the question-set format, errors that name the line, splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import QuestionSetError, RagError
from rag.evaluation.questions import DEFAULT_QUESTIONS, Question, coerce_questions, load_questions, select_split


def _q(**over):
    base = {
        "id": "q1", "question": "会议在哪里举行？", "answer": "北京",
        "evidence": ["在北京举行"], "doc": "a.txt", "type": "entity", "split": "test",
    }
    base.update(over)
    return base


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_questions_reads_valid_file_and_splits(tmp_path):
    path = _write(tmp_path, [
        json.dumps(_q(), ensure_ascii=False),
        "",
        json.dumps(_q(id="q2", split="tune", evidence=["在 北京\n举行"]), ensure_ascii=False),
    ])
    qs = load_questions(path)
    assert [q.id for q in qs] == ["q1", "q2"]
    assert qs[1].evidence == ("在北京举行",)  # whitespace removed
    assert [q.id for q in select_split(qs, "tune")] == ["q2"]
    assert len(select_split(qs, "all")) == 2


def test_bad_json_line_is_named(tmp_path):
    path = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False), '{"id": "q2", "question": '])
    with pytest.raises(RagError, match=r"q\.jsonl:2: not valid JSON"):
        load_questions(path)


def test_missing_key_is_named(tmp_path):
    bad = _q(id="q2")
    del bad["evidence"]
    path = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False), json.dumps(bad, ensure_ascii=False)])
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:2: missing key\(s\) evidence"):
        load_questions(path)


@pytest.mark.parametrize("over, message", [
    ({"type": "trivia"}, "type 'trivia'"),
    ({"evidence": []}, "needs 1–3 non-empty evidence"),
    ({"type": "unanswerable"}, "unanswerable question has evidence"),
    ({"split": "train"}, "split 'train'"),
    ({"question": "  "}, "'question' must be a non-empty string"),
])
def test_invalid_fields_are_rejected(tmp_path, over, message):
    path = _write(tmp_path, [json.dumps(_q(**over), ensure_ascii=False)])
    with pytest.raises(QuestionSetError, match=message):
        load_questions(path)


def test_duplicate_ids_and_missing_file(tmp_path):
    path = _write(tmp_path, [json.dumps(_q(), ensure_ascii=False)] * 2)
    with pytest.raises(QuestionSetError, match="appears twice"):
        load_questions(path)
    with pytest.raises(QuestionSetError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(QuestionSetError, match="no question has split 'tune'"):
        select_split(load_questions(_write(tmp_path, [json.dumps(_q(), ensure_ascii=False)])), "tune")


@pytest.mark.parametrize("over, message", [
    ({"lang": "fr"}, "lang 'fr'"),
    ({"near_miss": True}, "near_miss marks unanswerable questions only"),
    ({"type": "unanswerable", "answer": "", "evidence": [], "doc": None, "near_miss": "yes"},
     "near_miss must be true or false"),
    ({"batch": 4}, "batch must be a string"),
])
def test_lang_and_near_miss_are_checked(tmp_path, over, message):
    path = _write(tmp_path, [json.dumps(_q(**over), ensure_ascii=False)])
    with pytest.raises(QuestionSetError, match=message):
        load_questions(path)


def test_lang_and_near_miss_are_read_and_round_trip():
    rows = [
        _q(id="e1", question="Where was the meeting held?", lang="en"),
        _q(id="n1", type="unanswerable", answer="", evidence=[], doc=None, near_miss=True),
        _q(id="o1", type="unanswerable", answer="", evidence=[], doc=None, batch="4"),
    ]
    english, near, off = coerce_questions(rows)
    assert (english.batch, off.batch) == ("", "4")
    assert (english.lang, english.near_miss, english.answerable) == ("en", False, True)
    assert (near.lang, near.near_miss, near.answerable) == ("zh", True, False)
    assert not off.near_miss
    for q, row in zip((english, near, off), rows):
        assert Question.from_dict(q.to_dict()) == q
        assert q.to_dict() == row


def test_the_project_question_set_loads_with_its_flags():
    questions = load_questions(DEFAULT_QUESTIONS)
    assert len(questions) >= 310
    assert sum(q.near_miss for q in questions) >= 75
    assert sum(q.lang == "en" for q in questions) >= 22
    assert {q.batch for q in select_split(questions, "tune")} == {"1-2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38"}
    tune, test = select_split(questions, "tune"), select_split(questions, "test")
    assert len(tune) + len(test) == len(questions)
