"""What the reader costs: the judge's evidence step with and without it, interleaved in one process.

    python bench/bench_reader.py [--questions 400] [--rounds 3]

The machine is shared and noisy, so the two are timed as a pair on the same questions, in alternating order
(the first of a pair would otherwise pay for what the second finds cached), after one warm-up pass.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--index-dir", type=Path, default=ROOT / "index")
    args = ap.parse_args(argv)

    from rag.answer.analysis import analyze
    from rag.answer.evidence import gather_evidence
    from rag.answer.model import default_model
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.retrieval import HybridRetriever

    assistant = Assistant(Settings.from_env().replace(index_dir=args.index_dir))
    retriever = HybridRetriever(assistant.index, assistant.embedder, fusion=assistant.settings.fusion)
    model = default_model()
    lines = (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()[:args.questions]
    items = [(analyze(q), retriever.retrieve(q, top_k=5)) for q in (json.loads(line)["question"] for line in lines)]

    def evidence(analysis, passages, reader):
        return gather_evidence(analysis, passages, assistant.index, assistant.embedder, ranker=model.ranker,
                               subject=model.subject, reader=reader)

    for analysis, passages in items:  # warm-up: vectors, question readings
        evidence(analysis, passages, model.reader)
    times: dict[bool, list[float]] = {True: [], False: []}
    for r in range(args.rounds):
        for analysis, passages in items:
            for use in ((True, False) if r % 2 == 0 else (False, True)):
                t0 = time.perf_counter()
                evidence(analysis, passages, model.reader if use else None)
                times[use].append((time.perf_counter() - t0) * 1000)
    for use, label in ((False, "without the reader"), (True, "with the reader")):
        v = np.array(times[use])
        print(f"evidence step {label}: p50 {np.median(v):.2f} ms, mean {v.mean():.2f} ms ({len(v)} runs)")
    q = np.ones(384, dtype=np.float32) / np.sqrt(384)
    t0 = time.perf_counter()
    for _ in range(10000):
        model.reader.logits(q, np.tile(q, (3, 1)))
    print(f"Reader.logits on 3 sentences: {(time.perf_counter() - t0) / 10000 * 1e6:.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
