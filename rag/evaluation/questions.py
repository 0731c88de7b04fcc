"""The question set: JSON Lines, one question a line, validated with errors that name the line.

Keys: ``id``, ``question``, ``answer`` (``""`` when unanswerable), ``evidence`` (1–3
strings copied from the article with all whitespace removed; ``[]`` when
unanswerable), ``doc``, ``type``, optionally ``split`` (``"tune"``/``"test"``),
``lang`` (``"en"`` for English questions; absent = Chinese) and ``near_miss``
(``true`` on unanswerable questions about something the articles cover). The
format and how the project's set was written: ``eval/README.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..config import PROJECT_ROOT
from ..errors import QuestionSetError
from ..text import squash
from .metrics import QUESTION_TYPES

SPLITS = ("tune", "test")
LANGS = ("zh", "en")
REQUIRED_KEYS = ("id", "question", "answer", "evidence", "doc", "type")
DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"


@dataclass(frozen=True)
class Question:
    """One evaluation question; ``evidence`` strings are stored whitespace-free."""

    id: str
    question: str
    answer: str
    evidence: tuple[str, ...]
    doc: Any
    type: str
    split: str = ""
    lang: str = "zh"
    near_miss: bool = False
    batch: str = ""  # the writing batch (eval/README.md); the judge's operating point holds each one out

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @classmethod
    def from_dict(cls, obj: Any, where: str = "question") -> "Question":
        """Validate one question object; ``where`` (file:line) starts every error message."""
        return _question_from_dict(obj, where)

    def to_dict(self) -> dict:
        out = {"id": self.id, "question": self.question, "answer": self.answer,
               "evidence": list(self.evidence), "doc": self.doc, "type": self.type}
        if self.split:
            out["split"] = self.split
        if self.lang != "zh":
            out["lang"] = self.lang
        if self.near_miss:
            out["near_miss"] = True
        if self.batch:
            out["batch"] = self.batch
        return out


def _question_from_dict(obj: Any, where: str) -> Question:
    if not isinstance(obj, dict):
        raise QuestionSetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise QuestionSetError(
            f"{where}: missing key(s) {', '.join(missing)}; every question needs "
            f"{', '.join(REQUIRED_KEYS)}"
        )
    qid = str(obj["id"]).strip()
    if not qid:
        raise QuestionSetError(f"{where}: 'id' is empty")
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        raise QuestionSetError(f"{where} (id {qid}): 'question' must be a non-empty string")
    gold = obj["answer"]
    if not isinstance(gold, str):
        raise QuestionSetError(f"{where} (id {qid}): 'answer' must be a string ('' if unanswerable)")
    qtype = obj["type"]
    if qtype not in QUESTION_TYPES:
        raise QuestionSetError(
            f"{where} (id {qid}): type {qtype!r} is not one of {', '.join(QUESTION_TYPES)}"
        )
    evidence = obj["evidence"]
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise QuestionSetError(f"{where} (id {qid}): 'evidence' must be a list of strings")
    evidence = tuple(e for e in (squash(e) for e in evidence) if e)
    if qtype == "unanswerable" and evidence:
        raise QuestionSetError(f"{where} (id {qid}): an unanswerable question has evidence []")
    if qtype != "unanswerable" and not evidence:
        raise QuestionSetError(
            f"{where} (id {qid}): an answerable question needs 1–3 non-empty evidence strings"
        )
    split = obj.get("split", "") or ""
    if split and split not in SPLITS:
        raise QuestionSetError(f"{where} (id {qid}): split {split!r} must be 'tune' or 'test'")
    lang = obj.get("lang", "zh") or "zh"
    if lang not in LANGS:
        raise QuestionSetError(f"{where} (id {qid}): lang {lang!r} must be 'en' (or absent for Chinese)")
    near_miss = obj.get("near_miss", False)
    if not isinstance(near_miss, bool):
        raise QuestionSetError(f"{where} (id {qid}): near_miss must be true or false")
    if near_miss and qtype != "unanswerable":
        raise QuestionSetError(f"{where} (id {qid}): near_miss marks unanswerable questions only")
    batch = obj.get("batch", "")
    if not isinstance(batch, str):
        raise QuestionSetError(f"{where} (id {qid}): batch must be a string naming the writing batch, e.g. \"4\"")
    return Question(qid, question.strip(), gold, evidence, obj["doc"], qtype, split, lang, near_miss, batch.strip())


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate a JSON Lines question file; errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise QuestionSetError(f"question file {path} not found; pass the path to a .jsonl file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise QuestionSetError(f"{path} is not UTF-8 text; save the question file as UTF-8") from None
    questions = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        questions.append(_question_from_dict(obj, where))
    return _check_unique(questions, str(path))


def coerce_questions(questions: str | Path | Iterable[Any]) -> list[Question]:
    """Accept a path, a list of dicts or a list of Question values."""
    if isinstance(questions, (str, Path)):
        return load_questions(questions)
    out = []
    for i, q in enumerate(questions, 1):
        out.append(q if isinstance(q, Question) else _question_from_dict(q, f"question #{i}"))
    return _check_unique(out, "question list")


def _check_unique(questions: list[Question], where: str) -> list[Question]:
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise QuestionSetError(f"{where}: id {q.id!r} appears twice; ids must be unique")
        seen.add(q.id)
    if not questions:
        raise QuestionSetError(f"{where} holds no questions")
    return questions


def select_split(questions: Sequence[Question], split: str) -> list[Question]:
    """Questions of one split (``tune``/``test``), or all of them for ``all``."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise QuestionSetError(f"split {split!r}: use tune, test or all")
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise QuestionSetError(f"no question has split {split!r}; use --split all")
    return chosen
