"""Sweep the refusal thresholds on a split of the question set (default: tune).

For each (min_coverage, min_focus) pair it reports refusal accuracy on unanswerable
questions and the false-refusal rate on answerable ones, best first among the pairs that
keep false refusals under 10%. Retrieval runs once per question.

    python bench/calibrate_refusal.py [--split tune]
"""

from __future__ import annotations

import argparse
import itertools

from rag.answering import RefusalPolicy, assess_evidence
from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluation import load_questions, select_split

COVERAGE = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
FOCUS = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="tune", choices=("tune", "test", "all"))
    parser.add_argument("--questions", default="eval/questions.jsonl")
    parser.add_argument("--rows", type=int, default=10)
    args = parser.parse_args()

    assistant = Assistant(Settings.from_env())
    idf = assistant.index.idf
    questions = select_split(load_questions(args.questions), args.split)
    retrieved = [(q, assistant.retrieve(q.question, top_k=5)) for q in questions]
    rows = []
    for cov, focus in itertools.product(COVERAGE, FOCUS):
        policy = RefusalPolicy(min_coverage=cov, min_focus=focus)
        refused_u, refused_a, wrong = [], [], []
        for q, passages in retrieved:
            answerable = assess_evidence(q.question, passages, idf, policy).answerable
            (refused_u if not q.evidence else refused_a).append(not answerable)
            if answerable != bool(q.evidence):
                wrong.append(q.id)
        acc = sum(refused_u) / max(len(refused_u), 1)
        false = sum(refused_a) / max(len(refused_a), 1)
        rows.append((false >= 0.1, -acc, false, cov, focus, wrong))
    print("| min_coverage | min_focus | refusal accuracy | false refusals | wrong decisions |")
    print("|---|---|---|---|---|")
    for _, neg_acc, false, cov, focus, wrong in sorted(rows)[: args.rows]:
        print(f"| {cov:.2f} | {focus:.2f} | {-neg_acc:.3f} | {false:.3f} | {' '.join(wrong)} |")


if __name__ == "__main__":
    main()
