"""Comparing configurations (`rag eval --compare`): a table, a JSON file and a bar chart.

Hybrid vs dense vs BM25 retrieval, the refusal check on and off, and extra chunk
sizes (each built into its own index under the cache folder, seeded from the base
index so repeated chunk texts keep their vectors).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from .questions import Question
from .report import EvalReport, _f, write_json, write_text
from .run import evaluate

if TYPE_CHECKING:
    from ..config import Settings

CHART_SIZE_INCHES = (14, 5.5)
CHART_DPI = 120


@dataclass(frozen=True)
class Variant:
    """One configuration of a --compare run: a label and the Settings changes it makes."""

    label: str
    changes: dict


def compare_variants(base: "Settings", chunk_sizes: Sequence[int], cache_dir: Path) -> list[Variant]:
    """Hybrid vs dense vs BM25, refusal check on/off, and the extra chunk sizes."""
    from ..config import ChunkSettings

    size = base.chunk.size
    variants = [
        Variant(f"hybrid RRF (chunk {size})", {"fusion": "rrf", "refuse_check": True}),
        Variant("dense only", {"fusion": "dense", "refuse_check": True}),
        Variant("BM25 only", {"fusion": "bm25", "refuse_check": True}),
        Variant("hybrid, no refusal check", {"fusion": "rrf", "refuse_check": False}),
    ]
    for other in chunk_sizes:
        if other == size:
            continue
        overlap = min(base.chunk.overlap, max(0, other // 2 - 1))
        chunk = ChunkSettings(size=other, overlap=overlap)
        variants.append(Variant(
            f"hybrid, chunk {other}",
            {"fusion": "rrf", "refuse_check": True, "chunk": chunk,
             "index_dir": cache_dir / f"chunk-{other}-{overlap}"},
        ))
    return variants


def run_compare(
    base: "Settings",
    questions: Sequence[Question],
    *,
    top_k: int,
    split: str,
    chunk_sizes: Sequence[int],
    cache_dir: Path,
    results_dir: Path,
    log: Callable[[str], None] = lambda msg: None,
) -> list[EvalReport]:
    """Evaluate every variant and write compare.md, compare.json and compare.png."""
    from ..assistant import Assistant
    from ..index import copy_live_snapshot

    reports = []
    for variant in compare_variants(base, chunk_sizes, cache_dir):
        settings = base.replace(**variant.changes)
        assistant = Assistant(settings)
        if "index_dir" in variant.changes:
            log(f"building index for {variant.label} in {settings.index_dir} …")
            copy_live_snapshot(base.index_dir, settings.index_dir)  # repeated chunk texts keep their vectors
            assistant.build_index()
        log(f"evaluating {variant.label} …")
        reports.append(evaluate(assistant, questions, top_k=top_k, split=split, label=variant.label))
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    write_text(compare_markdown(reports), results_dir / "compare.md")
    write_json({"variants": [r.to_dict() for r in reports]}, results_dir / "compare.json")
    compare_chart(reports, results_dir / "compare.png")
    return reports


COMPARE_COLUMNS = (
    ("R@1", "retrieval", "recall@1"),
    ("R@5", "retrieval", "recall@5"),
    ("MRR", "retrieval", "mrr"),
    ("evidence in answer", "answer", "evidence_rate"),
    ("relaxed evidence", "answer", "evidence_rate_relaxed"),
    ("char F1", "answer", "char_f1"),
    ("refusal acc.", "answer", "refusal_accuracy"),
    ("false refusals", "answer", "false_refusal_rate"),
    ("citation validity", "answer", "citation_validity"),
    ("retrieve p50 ms", "latency_ms", "retrieve_p50"),
    ("answer p50 ms", "latency_ms", "answer_p50"),
)


def compare_markdown(reports: Sequence[EvalReport]) -> str:
    """One row per configuration, the headline metrics as columns."""
    if not reports:
        return ""
    c = reports[0].config
    lines = [
        "## Configurations compared",
        "",
        f"{c['n_questions']} questions (split `{c['split']}`, {c['n_answerable']} answerable, "
        f"{c['n_unanswerable']} unanswerable), top_k {c['top_k']}, embedding `{c.get('embed_model')}`.",
        "",
        "| configuration | chunks | " + " | ".join(name for name, _, _ in COMPARE_COLUMNS) + " |",
        "|---|---|" + "---|" * len(COMPARE_COLUMNS),
    ]
    for r in reports:
        cells = []
        for _, section, key in COMPARE_COLUMNS:
            value = getattr(r, section).get(key)
            cells.append(_f(value, 1 if section == "latency_ms" else 3))
        chunk = f"{r.config.get('chunk_size')}/{r.config.get('chunk_overlap')}"
        lines.append(f"| {r.config['label']} | {chunk} | " + " | ".join(cells) + " |")
    lines += ["", "Chunks: size/overlap in characters. Definitions: see `rag/evaluation/metrics.py`."]
    return "\n".join(lines) + "\n"


def compare_chart(reports: Sequence[EvalReport], path: Path) -> Path:
    """Grouped bars of the quality metrics per configuration, plus answer latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [
        ("R@1", lambda r: r.retrieval["recall@1"]),
        ("R@5", lambda r: r.retrieval["recall@5"]),
        ("MRR", lambda r: r.retrieval["mrr"]),
        ("evidence in answer", lambda r: r.answer["evidence_rate"]),
        ("refusal accuracy", lambda r: r.answer["refusal_accuracy"]),
        ("1 − false refusals", lambda r: 1 - r.answer["false_refusal_rate"]),
    ]
    fig, (ax, ax_lat) = plt.subplots(
        1, 2, figsize=CHART_SIZE_INCHES, gridspec_kw={"width_ratios": [3, 1]}
    )
    n = len(reports)
    width = 0.8 / max(n, 1)
    xs = range(len(metrics))
    for i, report in enumerate(reports):
        values = [_nan0(fn(report)) for _, fn in metrics]
        ax.bar([x + (i - (n - 1) / 2) * width for x in xs], values, width, label=report.config["label"])
    ax.set_xticks(list(xs))
    ax.set_xticklabels([name for name, _ in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of questions")
    ax.set_title(f"Quality by configuration ({reports[0].config['n_questions']} questions)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(n, 4), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    labels = [r.config["label"] for r in reports]
    ax_lat.barh(labels, [_nan0(r.latency_ms["answer_p50"]) for r in reports], color="tab:gray")
    ax_lat.set_xlabel("answer p50 (ms)")
    ax_lat.invert_yaxis()
    ax_lat.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, dpi=CHART_DPI, format="png")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return path


def _nan0(value) -> float:
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
