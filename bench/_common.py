"""Shared helpers of the benchmark scripts: question filtering, timing, result files."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rag.evaluation import Question, load_questions, percentile, write_json  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def questions_for_corpus(path: Path, corpus_dir: Path, split: str = "all") -> list[Question]:
    """Answerable questions whose source files all lie in ``corpus_dir``."""
    present = {p.name for p in Path(corpus_dir).iterdir() if p.is_file()}
    out = []
    for q in load_questions(path):
        if not q.answerable or (split != "all" and q.split != split):
            continue
        docs = q.doc if isinstance(q.doc, list) else [q.doc]
        if all(d in present for d in docs):
            out.append(q)
    return out


def timed(fn, *args, **kwargs):
    """(result, milliseconds) of one call."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - t0) * 1000


def p50_p95(values) -> dict:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}


def machine() -> dict:
    import os

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg_1_5_15": os.getloadavg(),  # the machine is shared: read latencies with this
    }


def write_results(name: str, data: dict, markdown: str, out_dir: Path = RESULTS) -> None:
    """bench/results/<name>.json and <name>.md, and the Markdown on stdout."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json({"machine": machine(), **data}, out_dir / f"{name}.json")
    (out_dir / f"{name}.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"wrote {out_dir / (name + '.md')} and {out_dir / (name + '.json')}")


def fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{value:.{digits}f}"


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def answerable_questions_of_split(doc: str, out_name: str):
    """The shared command line of the retrieval sweeps: ``--split``, ``--questions``, ``--out`` (default
    ``bench/results/<out_name>``). Returns (args, the answerable questions of the split)."""
    import argparse

    from rag.evaluation import select_split

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--split", default="tune", choices=("tune", "test", "all"))
    parser.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    parser.add_argument("--out", default=str(RESULTS / out_name))
    args = parser.parse_args()
    return args, [q for q in select_split(load_questions(args.questions), args.split) if q.answerable]
