"""The answerability judge alone on the held-out knowledge bases (eval/heldout/kbN).

    python bench/judge_on_kbs.py score MODEL.json [MODEL.json …] [--kb kb2 --kb kb3 …]
    python bench/judge_on_kbs.py curve OOF.jsonl

``score`` runs each judge model file (as ``bench/train_judge.py --out`` writes it) on the questions of each
knowledge base, retrieved from its own index (/tmp/kbN-index, built as the README says), and counts the
unanswerable questions it refuses and the answerable ones it refuses: the classifier, its refusal rules and the
subject floor, without the pipeline's part-by-part retry, so two models compare on the same footing.

``curve`` reads the held-out predictions ``bench/train_judge.py --extra-kb … --oof-out OOF.jsonl`` writes and
prints the Chinese classifier's refusal curve on the knowledge-base groups (each predicted by a model trained
without it) beside the sample's new writers' batches, at a few thresholds.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KNOWLEDGE_BASES = ("kb2", "kb3", "kb4", "kb5", "kb6", "kb7", "kb8")
THRESHOLDS = (0.12, 0.15, 0.18, 0.20, 0.22, 0.24)


def score(models: list[Path], kbs: list[str], index_root: Path) -> dict:
    from rag.answer.analysis import analyze
    from rag.answer.evidence import gather_evidence
    from rag.answer.judge import Judge
    from rag.answer.model import JudgeModel
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.retrieval import HybridRetriever

    loaded = [(str(m), JudgeModel.load(m)) for m in models]
    counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for kb in kbs:
        assistant = Assistant(Settings.from_env().replace(index_dir=index_root / f"{kb}-index"))
        retriever = HybridRetriever(assistant.index, assistant.embedder, fusion=assistant.settings.fusion)
        for line in (ROOT / "eval" / "heldout" / kb / "questions.jsonl").read_text("utf-8").splitlines():
            q = json.loads(line)
            analysis = analyze(q["question"])
            passages = retriever.retrieve(q["question"], top_k=5)
            cross = analysis.crosslingual
            for name, model in loaded:
                evidence = gather_evidence(analysis, passages, assistant.index, assistant.embedder, ranker=model.ranker,
                                           subject=model.subject, reader=model.reader,
                                           translation=retriever.translation(q["question"]) if cross else (),
                                           unknown_names=retriever.unknown_names(q["question"]) if cross else ())
                refused = not Judge(model).decide(analysis, evidence).answerable
                kind = "answerable" if q["type"] != "unanswerable" else "unanswerable"
                counts[(name, kb)][kind] += 1
                counts[(name, kb)][kind + "_refused"] += refused
    report = {}
    for name, _ in loaded:
        total = collections.Counter()
        for kb in kbs:
            c = counts[(name, kb)]
            total.update(c)
            report[f"{name} {kb}"] = dict(c)
        report[f"{name} all"] = dict(total)
        for kb in [*kbs, "all"]:
            c = report[f"{name} {kb}"]
            print(f"{name} {kb}: unanswerable refused {c['unanswerable_refused']}/{c['unanswerable']}, "
                  f"answerable refused {c['answerable_refused']}/{c['answerable']}")
    return report


def curve(oof: Path) -> None:
    rows = [json.loads(line) for line in oof.read_text("utf-8").splitlines() if line.strip()]
    chinese = [r for r in rows if not r["crosslingual"]]
    groups = {"knowledge bases held out": [r for r in chinese if str(r["batch"]).startswith("kb")],
              "new writers' batches held out": [r for r in chinese if not str(r["batch"]).startswith("kb")
                                                and r["batch"] not in ("1-2", "3")]}
    for label, picked in groups.items():
        answerable = [r for r in picked if r["kind"] == "answerable"]
        unanswerable = [r for r in picked if r["kind"] != "answerable"]
        print(f"{label} ({len(answerable)} answerable, {len(unanswerable)} unanswerable):")
        for t in THRESHOLDS:
            def refused(r: dict) -> bool:
                return r["p"] < t or bool(r["rules"])
            print(f"  threshold {t:.2f}: answerable refused {sum(map(refused, answerable)) / len(answerable):.3f}, "
                  f"unanswerable refused {sum(map(refused, unanswerable)) / len(unanswerable):.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="each model's refusals on each knowledge base")
    s.add_argument("models", nargs="+", type=Path)
    s.add_argument("--kb", action="append", choices=KNOWLEDGE_BASES, help="default: kb2 to kb7")
    s.add_argument("--index-root", type=Path, default=Path("/tmp"), help="where the kbN-index folders are")
    s.add_argument("--json", type=Path, default=None, help="also write the counts here")
    c = sub.add_parser("curve", help="the refusal curve on held-out knowledge bases, from --oof-out")
    c.add_argument("oof", type=Path)
    args = ap.parse_args(argv)
    if args.command == "curve":
        curve(args.oof)
        return 0
    report = score(args.models, args.kb or list(KNOWLEDGE_BASES[:-1]), args.index_root)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
