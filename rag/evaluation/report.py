"""The report of a run: ``QuestionResult`` rows and ``EvalReport`` (figures, per-type table, failures) as Markdown or JSON.

``EvalReport.to_dict()`` is nested (``{"retrieval": {"recall@1": ...}}``) and also
carries every leaf under its flat dotted name (``"retrieval.recall@1"``), so both
``d["retrieval"]["recall@1"]`` and ``d["retrieval.recall@1"]`` work. JSON files are
written atomically (a temporary file in the target folder, then ``os.replace``), and
``check_output_path`` rejects a path that cannot take the file before any scoring.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import EvalOutputError

FAILURE_CELL_CHARS = 60  # question text shown in the failure table
ANSWER_CELL_CHARS = 80
FLAT_SECTIONS = ("retrieval", "answer", "gate", "latency_ms")


@dataclass
class QuestionResult:
    """Everything measured for one question: the rows of the failure table."""

    id: str
    type: str
    split: str
    question: str
    gold: str
    answerable: bool
    lang: str = "zh"
    near_miss: bool = False
    rank: int | None = None  # first hit within MRR_DEPTH
    all_rank: int | None = None  # all evidence covered
    top_source: str = ""
    answer: str = ""
    refused: bool = False
    evidence_hit: bool = False
    evidence_hit_relaxed: bool = False
    f1: float = 0.0
    citations_valid: int = 0
    citations_total: int = 0
    answer_chars: int = 0
    embed_ms: float | None = None
    search_ms: float | None = None
    retrieve_ms: float = 0.0
    answer_ms: float | None = None
    llm_gate: str = ""  # Answer.gate in LLM mode: "" not measured, "pass", "refuse"

    def failures(self, top_k: int) -> list[str]:
        """Why this question counts as a failure (empty when it does not)."""
        why = []
        if self.answerable:
            if self.rank is None or self.rank > top_k:
                why.append(f"evidence not in top {top_k}")
            if self.refused:
                why.append("wrongly refused")
            elif not self.evidence_hit_relaxed:
                why.append("answer lacks evidence")
            if self.llm_gate == "refuse":
                why.append("LLM mode: refused before the model")
        elif not self.refused:
            why.append("answered an unanswerable question")
        return why

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvalReport:
    """Metrics of one run, with per-type figures and per-question rows."""

    config: dict
    retrieval: dict
    answer: dict
    latency_ms: dict
    by_type: dict
    rows: list[QuestionResult] = field(default_factory=list)
    gate: dict = field(default_factory=dict)  # LLM-mode gate figures; {} when not measured

    def to_dict(self) -> dict:
        """Nested sections plus every leaf under its flat dotted name."""
        nested = {
            "config": self.config,
            "retrieval": self.retrieval,
            "answer": self.answer,
            "gate": self.gate,
            "latency_ms": self.latency_ms,
            "by_type": self.by_type,
            "questions": [
                {**r.to_dict(), "failures": r.failures(self.config["top_k"])} for r in self.rows
            ],
        }
        flat = {}
        for section in FLAT_SECTIONS:
            for key, value in getattr(self, section).items():
                flat[f"{section}.{key}"] = value
        return {**nested, **flat}

    def get(self, dotted: str):
        """A metric by its dotted name, e.g. ``report.get("retrieval.recall@5")``."""
        section, _, key = dotted.partition(".")
        return getattr(self, section)[key]

    def failures(self) -> list[tuple[QuestionResult, list[str]]]:
        k = self.config["top_k"]
        return [(r, r.failures(k)) for r in self.rows if r.failures(k)]

    def to_markdown(self, max_failures: int | None = None) -> str:
        """A readable report: headline metrics, refusal/language/gate figures, per type, failures."""
        c, r, a, lat = self.config, self.retrieval, self.answer, self.latency_ms
        lines = [
            f"## Evaluation: {c.get('label', 'run')}",
            "",
            f"{c['n_questions']} questions ({c['n_answerable']} answerable, "
            f"{c['n_unanswerable']} unanswerable), split `{c.get('split', 'all')}`, "
            f"top_k {c['top_k']}, fusion `{c.get('fusion', '?')}`, chunk size "
            f"{c.get('chunk_size', '?')}, refusal check {c.get('refuse_check', '?')}.",
            "",
            "| Retrieval | R@1 | R@3 | R@5 | R@10 | MRR | all-evidence R@5 |",
            "|---|---|---|---|---|---|---|",
            f"| any evidence hit | {_f(r['recall@1'])} | {_f(r['recall@3'])} | {_f(r['recall@5'])} "
            f"| {_f(r['recall@10'])} | {_f(r['mrr'])} | {_f(r['recall_all@5'])} |",
            "",
            "| Answers | value |",
            "|---|---|",
            f"| evidence in answer (strict) | {_f(a['evidence_rate'])} |",
            f"| evidence in answer (relaxed, ≥60% bigrams) | {_f(a['evidence_rate_relaxed'])} |",
            f"| char F1 vs gold (answerable) | {_f(a['char_f1'])} |",
            f"| refusal accuracy (unanswerable) | {_f(a['refusal_accuracy'])} |",
            f"| — near-miss refused ({a['n_near_miss']}) | {_f(a['near_miss_refusal'])} |",
            f"| — off-topic refused ({a['n_unanswerable'] - a['n_near_miss']}) | {_f(a['off_topic_refusal'])} |",
            f"| false-refusal rate (answerable) | {_f(a['false_refusal_rate'])} |",
            f"| English answered ({a['n_english_answerable']} answerable) | {_f(a['english_answered_rate'])} |",
            f"| English evidence in answer | {_f(a['english_evidence_rate'])} |",
            f"| citation validity ({a['citations_total']} marks) | {_f(a['citation_validity'])} |",
            f"| median answer length (chars) | {_f(a['median_answer_chars'], 0)} |",
        ]
        if self.gate:
            g = self.gate
            lines += [
                "",
                "| LLM mode (scripted model on 127.0.0.1) | value |",
                "|---|---|",
                f"| answerable refused before the model is called | {_f(g['false_refusal_rate'])} "
                f"({g['refused_answerable']} of {g['n_answerable']}) |",
                f"| near-miss kept from the model | {_f(g['refused_near_miss'])} |",
                f"| off-topic kept from the model | {_f(g['refused_off_topic'])} |",
            ]
            if not g.get("n_run"):
                lines.append("\nThe gate did not run (refusal check off), so these figures are empty.")
        lines += ["", "| Latency (ms) | p50 | p95 |", "|---|---|---|"]
        for stage in ("embed", "search", "retrieve", "answer"):
            lines.append(
                f"| {stage} | {_f(lat.get(f'{stage}_p50'), 1)} | {_f(lat.get(f'{stage}_p95'), 1)} |"
            )
        lines += [
            "",
            "| Type | n | R@1 | R@5 | MRR | evidence | F1 | refused |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for t, m in self.by_type.items():
            lines.append(
                f"| {t} | {m['n']} | {_f(m.get('recall@1'))} | {_f(m.get('recall@5'))} "
                f"| {_f(m.get('mrr'))} | {_f(m.get('evidence_rate'))} | {_f(m.get('char_f1'))} "
                f"| {_f(m['refused_rate'])} |"
            )
        failures = self.failures()
        lines += ["", f"### Failures ({len(failures)})", ""]
        if failures:
            lines += [
                "| id | type | rank | refused | why | question | answer |",
                "|---|---|---|---|---|---|---|",
            ]
            for row, why in failures[: max_failures or len(failures)]:
                lines.append(
                    f"| {row.id} | {row.type} | {row.rank or '–'} | {'yes' if row.refused else 'no'} "
                    f"| {'; '.join(why)} | {_cell(row.question, FAILURE_CELL_CHARS)} "
                    f"| {_cell(row.answer, ANSWER_CELL_CHARS)} |"
                )
            if max_failures and len(failures) > max_failures:
                lines.append(f"\n… {len(failures) - max_failures} more in the JSON output.")
        return "\n".join(lines) + "\n"


def _f(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _cell(text: str, limit: int) -> str:
    """One table cell: whitespace runs become one space (an English question keeps its word breaks), a pipe
    becomes a full-width one, and a long text is cut at ``limit`` characters."""
    text = " ".join(text.split()).replace("|", "｜")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- writing files


def _jsonable(value):
    """NaN becomes null so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def check_output_path(path: str | Path) -> Path:
    """``path`` if a file can be written there, else ``EvalOutputError`` (nothing is created).

    Called before scoring, so a bad ``--json``/``--markdown`` path fails in a second,
    not after the whole run.
    """
    raw = str(path)
    path = Path(path)
    if not raw.strip():
        raise EvalOutputError("输出文件路径为空：请在 --json 后写一个文件名，例如 --json eval/results/test.json。")
    if raw.endswith(("/", os.sep)) or path.is_dir():
        raise EvalOutputError(f"输出路径 {path} 是一个目录：请给出文件名，例如 {path / 'report.json'}。")
    ancestor = path.parent
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise EvalOutputError(f"无法写入 {path}：{ancestor} 是一个文件而不是目录，请换一个输出路径。")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise EvalOutputError(f"无法写入 {path}：没有目录 {ancestor} 的写权限，请换一个可写的输出路径。")
    return path


_FILE_MODE = 0o666  # what open() would create, before the umask


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` atomically (temporary file in the same folder, then os.replace)."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _FILE_MODE & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(data: dict, path: str | Path) -> Path:
    """Write strict JSON (UTF-8, Chinese kept readable) atomically, creating parent folders."""
    return write_text(json.dumps(_jsonable(data), ensure_ascii=False, indent=2) + "\n", path)
