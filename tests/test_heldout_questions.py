"""The held-out knowledge base (eval/heldout/): three newsletter issues nobody tuned on, and their questions.

Nothing in the assistant was decided on these files or questions before they were scored once
(eval/heldout/README.md); these tests keep the set well formed: every row loads with the project's own
question loader, every evidence string is in its file (raw and cleaned), every unanswerable row says why.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from rag.evaluation.questions import load_questions
from rag.loading import load_file

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "eval" / "heldout"
QUESTIONS = HELDOUT / "questions.jsonl"
CORPUS = HELDOUT / "corpus"
README = HELDOUT / "README.md"

# Each issue's writer wrote 40 rows: 20 answerable (3 English), 14 near-miss (2 English), 6 off-topic (1 English).
ROWS_PER_ISSUE = 40
ISSUES = ("101", "102", "103")
EVIDENCE_CHARS = (8, 40)

QUESTION_ROWS = load_questions(QUESTIONS)
RAW_ROWS = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
ANSWERABLE = [q for q in QUESTION_ROWS if q.answerable]


def _strip(text: str) -> str:
    return re.sub(r"\s+", "", text)


@functools.lru_cache(maxsize=None)
def _raw(name: str) -> str:
    return _strip((CORPUS / name).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _clean(name: str) -> str:
    return "".join(_strip(d.text) for d in load_file(CORPUS / name))


def test_every_issue_has_its_rows_and_mix():
    by_batch = Counter(q.batch for q in QUESTION_ROWS)
    assert by_batch == {f"kb2-{issue}": ROWS_PER_ISSUE for issue in ISSUES}
    assert all(q.split == "test" for q in QUESTION_ROWS), "the held-out set is never tuned on"
    for issue in ISSUES:
        rows = [q for q in QUESTION_ROWS if q.batch == f"kb2-{issue}"]
        kinds = Counter("answerable" if q.answerable else "near-miss" if q.near_miss else "off-topic" for q in rows)
        assert kinds == {"answerable": 20, "near-miss": 14, "off-topic": 6}, (issue, kinds)
        assert sum(q.lang == "en" for q in rows) == 6, issue


def test_rows_name_only_the_heldout_files():
    files = {p.name for p in CORPUS.glob("*.txt")}
    assert files == {f.name for f in CORPUS.iterdir()}, "only article files in the held-out corpus"
    for q in ANSWERABLE:
        assert q.doc in files, q.id
        assert q.doc.startswith(q.batch.removeprefix("kb2-")), f"{q.id} is written from its own issue"


@pytest.mark.parametrize("q", ANSWERABLE, ids=[q.id for q in ANSWERABLE])
def test_evidence_is_in_the_file_raw_and_cleaned(q):
    for e in q.evidence:
        assert EVIDENCE_CHARS[0] <= len(e) <= EVIDENCE_CHARS[1], e
        assert e in _raw(q.doc), f"{e!r} is not in {q.doc}"
        assert e in _clean(q.doc), f"{e!r} does not survive cleaning of {q.doc}"


def test_every_unanswerable_row_says_why():
    readme = README.read_text(encoding="utf-8")
    missing = [q.id for q in QUESTION_ROWS if not q.answerable and not re.search(rf"^- {q.id} ", readme, re.M)]
    assert not missing, f"eval/heldout/README.md does not say why these are unanswerable: {missing}"


def test_rows_are_stored_as_the_loader_writes_them():
    assert [q.to_dict() for q in QUESTION_ROWS] == [
        {k: r[k] for k in ("id", "question", "answer", "evidence", "doc", "type", "split", "lang", "near_miss", "batch")
         if k in r} for r in RAW_ROWS]
