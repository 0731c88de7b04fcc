"""The evaluation question set (eval/questions.jsonl): format, and evidence that really is in the articles.

Evidence strings are copied from the article text with all whitespace removed, so
they survive the hard line breaks and stray spaces of PDF extraction. They must
also survive cleaning: once rag.loading exists, every evidence string has to be
found in the cleaned articles, which proves it never spans a removed page header,
page number, photo caption or table-of-contents line.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions.jsonl"
CORPUS = ROOT / "corpus"

KEYS = {"id", "question", "answer", "evidence", "doc", "type", "split"}
OPTIONAL_KEYS = {"lang", "near_miss"}  # "lang": "en" on English rows; "near_miss": true on near-miss rows
TYPES = {"number", "entity", "definition", "list", "why", "multi", "unanswerable"}
SPLITS = {"tune", "test"}
MIN_QUESTIONS = 90
MIN_UNANSWERABLE = 15
EVIDENCE_CHARS = (8, 40)


def _strip(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _load_rows() -> list[dict]:
    rows = []
    for lineno, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:  # reported by test_every_line_is_json
            rows.append({"_bad_line": lineno, "_error": str(exc)})
    return rows


ROWS = _load_rows()
GOOD = [r for r in ROWS if "_bad_line" not in r]
ANSWERABLE = [r for r in GOOD if r.get("type") != "unanswerable"]


def _docs(row: dict) -> list[str]:
    doc = row["doc"]
    return [doc] if isinstance(doc, str) else list(doc)


@functools.lru_cache(maxsize=None)
def _raw_stripped(name: str) -> str:
    return _strip((CORPUS / name).read_text(encoding="utf-8"))


def _ids(rows: list[dict]) -> list[str]:
    return [str(r.get("id")) for r in rows]


# ---------------------------------------------------------------- format


def test_every_line_is_json():
    bad = [r for r in ROWS if "_bad_line" in r]
    assert not bad, f"lines that are not JSON: {bad}"


@pytest.mark.parametrize("row", GOOD, ids=_ids(GOOD))
def test_row_format(row):
    assert KEYS <= set(row) <= KEYS | OPTIONAL_KEYS, f"keys must be {sorted(KEYS)} plus optional {sorted(OPTIONAL_KEYS)}"
    assert row.get("lang", "zh") in {"zh", "en"}
    assert row.get("near_miss", False) in {True, False}
    if row.get("near_miss"):
        assert row["type"] == "unanswerable", "near_miss marks unanswerable questions only"
    assert re.fullmatch(r"q\d{3}", row["id"])
    assert isinstance(row["question"], str) and len(row["question"].strip()) >= 4
    assert row["type"] in TYPES
    assert row["split"] in SPLITS
    assert isinstance(row["answer"], str)
    assert isinstance(row["evidence"], list)
    assert all(isinstance(e, str) for e in row["evidence"])
    if row["type"] == "unanswerable":
        assert row["answer"] == "" and row["evidence"] == [] and row["doc"] is None
    else:
        assert row["answer"].strip(), "an answerable question needs a gold answer"
        assert 1 <= len(row["evidence"]) <= 3
        assert row["doc"] is not None
        docs = _docs(row)
        assert docs and all(isinstance(d, str) for d in docs)
        assert len(set(docs)) == len(docs)
        for d in docs:
            assert (CORPUS / d).is_file(), f"{d} is not a file in corpus/"
        for e in row["evidence"]:
            assert not re.search(r"\s", e), "evidence is copied with whitespace removed"
            assert EVIDENCE_CHARS[0] <= len(e) <= EVIDENCE_CHARS[1], e


def test_ids_and_questions_are_unique():
    ids = [r["id"] for r in GOOD]
    assert len(set(ids)) == len(ids), [i for i, c in Counter(ids).items() if c > 1]
    qs = [r["question"] for r in GOOD]
    assert len(set(qs)) == len(qs), [q for q, c in Counter(qs).items() if c > 1]


def test_coverage_and_split():
    assert len(GOOD) >= MIN_QUESTIONS
    types = Counter(r["type"] for r in GOOD)
    assert set(types) == TYPES, f"every type must occur: {types}"
    assert types["unanswerable"] >= MIN_UNANSWERABLE
    files = {p.name for p in CORPUS.glob("*.txt")}
    covered = {d for r in ANSWERABLE for d in _docs(r)}
    assert files <= covered, f"files without a question: {files - covered}"
    tune = sum(r["split"] == "tune" for r in GOOD) / len(GOOD)
    assert 0.3 <= tune <= 0.5, f"tune share {tune:.2f} should be about 40%"
    for typ in TYPES:  # stratified: every type sits in both splits
        assert {r["split"] for r in GOOD if r["type"] == typ} == SPLITS, typ


# ---------------------------------------------------------------- evidence in the raw files


@pytest.mark.parametrize("row", ANSWERABLE, ids=_ids(ANSWERABLE))
def test_evidence_is_in_raw_text(row):
    texts = {d: _raw_stripped(d) for d in _docs(row)}
    for e in row["evidence"]:
        assert any(e in t for t in texts.values()), f"{e!r} is not in {list(texts)}"
    for d, t in texts.items():  # every listed file holds some of the evidence
        assert any(e in t for e in row["evidence"]), f"no evidence from {d}"


# ---------------------------------------------------------------- evidence survives cleaning


@functools.lru_cache(maxsize=None)
def _clean_stripped(name: str) -> str:
    loading = pytest.importorskip("rag.loading")
    docs = loading.load_file(CORPUS / name)
    assert docs, f"load_file returned no articles for {name}"
    return "".join(_strip(d.text) for d in docs)


@pytest.mark.parametrize("row", ANSWERABLE, ids=_ids(ANSWERABLE))
def test_evidence_survives_cleaning(row):
    texts = {d: _clean_stripped(d) for d in _docs(row)}
    for e in row["evidence"]:
        assert any(e in t for t in texts.values()), (
            f"{e!r} is missing from the cleaned articles of {list(texts)}: "
            "it spans text that cleaning removes, or cleaning drops a real sentence"
        )
