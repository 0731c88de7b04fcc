"""Sweep the dense ranking's weight in reciprocal rank fusion, by question language and writing batch.

Hybrid retrieval fuses the dense (e5) and lexical rankings by weighted RRF; ``rag.retrieval``
picks the dense weight by the question's language (the store's ``same_language_dense_weight``,
``CROSSLINGUAL_DENSE_WEIGHT``). This script scores each weight on the answerable questions of a
split, Chinese and cross-lingual ones apart, and Chinese ones per writing batch, on the index and
store the environment configures.

    RAG_INDEX_DIR=index python bench/fusion_weights.py [--split tune]
    RAG_VECTOR_STORE=milvus RAG_MILVUS_URI=/tmp/m.db RAG_INDEX_DIR=/tmp/m python bench/fusion_weights.py \
        --out bench/results/fusion_weights_milvus.json

Writes bench/results/fusion_weights.json (FAISS + the in-process bigram BM25 by default).
"""

from __future__ import annotations

from _common import answerable_questions_of_split

from rag.assistant import Assistant
from rag.evaluation import write_json
from rag.evaluation.metrics import first_hit_rank, mean_reciprocal_rank, recall_at_k
from rag.retrieval import HybridRetriever
from rag.text import is_crosslingual

WEIGHTS = (1.0, 0.75, 0.5, 0.35, 0.25, 0.0)  # 0: BM25 ranks, dense only adds candidates BM25 missed
DEPTH = 10


def scores(ranks: list) -> dict:
    return {"n": len(ranks), "recall@1": round(recall_at_k(ranks, 1), 3), "recall@5": round(recall_at_k(ranks, 5), 3),
            "mrr": round(mean_reciprocal_rank(ranks), 3)}


def main() -> None:
    args, questions = answerable_questions_of_split(__doc__, "fusion_weights.json")

    assistant = Assistant()
    results = {}
    for weight in WEIGHTS:
        retriever = HybridRetriever(assistant.index, assistant.embedder, fusion="rrf", dense_weight=weight)
        groups: dict[str, list] = {}
        for q in questions:
            rank = first_hit_rank([p.text for p in retriever.retrieve(q.question, top_k=DEPTH)], q.evidence)
            lang = "crosslingual" if is_crosslingual(q.question) else "same-language"
            groups.setdefault(lang, []).append(rank)
            if lang == "same-language":
                groups.setdefault(f"same-language, batch {q.batch or '?'}", []).append(rank)
        results[str(weight)] = {name: scores(ranks) for name, ranks in sorted(groups.items())}
        same, cross = results[str(weight)]["same-language"], results[str(weight)].get("crosslingual", {})
        print(f"dense weight {weight:>4}: Chinese R@1 {same['recall@1']:.3f} R@5 {same['recall@5']:.3f} "
              f"MRR {same['mrr']:.3f} | cross-lingual R@1 {cross.get('recall@1', 0):.3f} "
              f"R@5 {cross.get('recall@5', 0):.3f} MRR {cross.get('mrr', 0):.3f}")
    write_json({"split": args.split, "weights": results}, args.out)


if __name__ == "__main__":
    main()
