"""The held-out knowledge bases (eval/heldout/kb2 … kb7): newsletter issues nobody tuned on, and their questions.

Nothing in the assistant was decided on these files or questions before they were first scored
(eval/heldout/README.md); these tests keep the sets well formed: every row loads with the project's own
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
README = HELDOUT / "README.md"
# knowledge base -> its issues; each issue's writer wrote 40 rows: 20 answerable (3 English), 14 near-miss
# (2 English), 6 off-topic (1 English)
ISSUES = {"kb2": ("101", "102", "103"), "kb3": ("104", "105", "106"), "kb4": ("107", "108", "109"),
          "kb5": ("110", "111", "112"), "kb6": ("113", "114", "115"),
          "kb7": ("116", "117", "118"), "kb8": ("119", "120", "121"),
          "kb9": ("122", "123", "124")}
ROWS_PER_ISSUE = 40
EVIDENCE_CHARS = (8, 40)

QUESTIONS = {kb: load_questions(HELDOUT / kb / "questions.jsonl") for kb in ISSUES}
RAW_ROWS = {kb: [json.loads(line) for line in (HELDOUT / kb / "questions.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()] for kb in ISSUES}
ANSWERABLE = [(kb, q) for kb, rows in QUESTIONS.items() for q in rows if q.answerable]


def _strip(text: str) -> str:
    return re.sub(r"\s+", "", text)


@functools.lru_cache(maxsize=None)
def _raw(kb: str, name: str) -> str:
    """The file's text as its writer wrote it: a Word file's paragraphs (python-docx), any other file as it is."""
    path = HELDOUT / kb / "corpus" / name
    if path.suffix == ".docx":
        import docx

        return _strip("".join(p.text for p in docx.Document(str(path)).paragraphs))
    return _strip(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _clean(kb: str, name: str) -> str:
    return "".join(_strip(d.text) for d in load_file(HELDOUT / kb / "corpus" / name))


@pytest.mark.parametrize("kb", ISSUES)
def test_every_issue_has_its_rows_and_mix(kb):
    rows = QUESTIONS[kb]
    assert Counter(q.batch for q in rows) == {f"{kb}-{issue}": ROWS_PER_ISSUE for issue in ISSUES[kb]}
    assert all(q.split == "test" for q in rows), "a held-out set is never tuned on"
    for issue in ISSUES[kb]:
        part = [q for q in rows if q.batch == f"{kb}-{issue}"]
        kinds = Counter("answerable" if q.answerable else "near-miss" if q.near_miss else "off-topic" for q in part)
        assert kinds == {"answerable": 20, "near-miss": 14, "off-topic": 6}, (issue, kinds)
        assert sum(q.lang == "en" for q in part) == 6, issue


@pytest.mark.parametrize("kb", ISSUES)
def test_rows_name_only_their_own_files(kb):
    corpus = HELDOUT / kb / "corpus"
    files = {p.name for p in corpus.iterdir()}
    assert all(name.endswith((".txt", ".md", ".html", ".docx")) for name in files), "only article files in a held-out corpus"
    assert sorted(name.split("_")[0] for name in files) == list(ISSUES[kb])
    for q in QUESTIONS[kb]:
        if q.answerable:
            assert q.doc in files, q.id
            assert q.doc.startswith(q.batch.removeprefix(f"{kb}-")), f"{q.id} is written from its own issue"


def test_ids_are_unique_across_the_heldout_sets():
    ids = [q.id for rows in QUESTIONS.values() for q in rows]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("kb, q", ANSWERABLE, ids=[q.id for _, q in ANSWERABLE])
def test_evidence_is_in_the_file_raw_and_cleaned(kb, q):
    for e in q.evidence:
        assert EVIDENCE_CHARS[0] <= len(e) <= EVIDENCE_CHARS[1], e
        assert e in _raw(kb, q.doc), f"{e!r} is not in {q.doc}"
        assert e in _clean(kb, q.doc), f"{e!r} does not survive cleaning of {q.doc}"


def test_every_unanswerable_row_says_why():
    readme = README.read_text(encoding="utf-8")
    missing = [q.id for rows in QUESTIONS.values() for q in rows
               if not q.answerable and not re.search(rf"^- {q.id} ", readme, re.M)]
    assert not missing, f"eval/heldout/README.md does not say why these are unanswerable: {missing}"


@pytest.mark.parametrize("kb", ISSUES)
def test_rows_are_stored_as_the_loader_writes_them(kb):
    assert [q.to_dict() for q in QUESTIONS[kb]] == [
        {k: r[k] for k in ("id", "question", "answer", "evidence", "doc", "type", "split", "lang", "near_miss", "batch")
         if k in r} for r in RAW_ROWS[kb]]
