"""Ablation: embed and BM25-index chunks without their article title in front.

The shipped index prefixes each chunk's embedded (and BM25) text with its article title
(``rag.index.embedding_text``); the stored chunk text stays exact either way. This script
builds the sample corpus without the prefix into a scratch index and scores the tune split,
so the two can be compared with ``rag eval --split tune``.

    python bench/ablate_title.py [--index-dir /tmp/notitle-index] [--split tune]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluation import evaluate, load_questions, select_split

KEYS = ["retrieval.recall@1", "retrieval.recall@5", "retrieval.mrr", "answer.evidence_rate",
        "answer.refusal_accuracy", "answer.false_refusal_rate"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default="/tmp/notitle-index")
    parser.add_argument("--split", default="tune", choices=("tune", "test", "all"))
    parser.add_argument("--questions", default="eval/questions.jsonl")
    args = parser.parse_args()

    import rag.index.build

    rag.index.build.embedding_text = lambda chunk: chunk.text  # the variant under test (build step)
    assistant = Assistant(Settings.from_env().replace(index_dir=Path(args.index_dir)))
    assistant.build_index()
    questions = select_split(load_questions(args.questions), args.split)
    report = evaluate(assistant, questions, top_k=5).to_dict()
    print(json.dumps({k: round(report[k], 3) for k in KEYS}, indent=1))


if __name__ == "__main__":
    main()
