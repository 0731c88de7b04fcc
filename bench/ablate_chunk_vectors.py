"""Ablation: how a chunk's vector is made, scored by retrieval on a split of the question set.

The index stores one vector per title and sentence and pools each chunk's vector from them,
weighted by the tokens each fed the model (``rag.index.vectors.pool``). This script swaps the
live index's chunk vectors for other recipes and scores hybrid retrieval (dense + BM25, RRF) on
the answerable questions of a split:

- ``pooled``: as stored (token-weighted mean of the title and sentence vectors);
- ``whole``: the chunk embedded whole (title + text, one pass: the recipe before format 3);
- ``unweighted``: plain mean of the title and sentence vectors;
- ``chars``: weighted by characters (what an embedder without ``token_counts`` gets).

    RAG_INDEX_DIR=index python bench/ablate_chunk_vectors.py [--split tune]

Writes bench/results/chunk_vectors.json. Only the FAISS store is swapped, so run it on a
FAISS index (the default).
"""

from __future__ import annotations

import time

import numpy as np
from _common import answerable_questions_of_split

from rag.assistant import Assistant
from rag.embedding import passage_token_counts
from rag.evaluation import write_json
from rag.evaluation.metrics import first_hit_rank, mean_reciprocal_rank, recall_at_k
from rag.index import chunk_pieces, embedding_text, pool
from rag.retrieval import HybridRetriever
from rag.stores.faiss_store import make_faiss_index

DEPTH = 10  # passages retrieved per question: enough for MRR@10 and R@5


def variants(index, embedder) -> dict[str, np.ndarray]:
    pieces = [chunk_pieces(c) for c in index.chunks]
    distinct = list(dict.fromkeys(t for p in pieces for t in p))
    stored = index.sentence_vectors(distinct)
    missing = [t for t, v in zip(distinct, stored) if v is None]
    fresh = dict(zip(missing, embedder.embed(missing))) if missing else {}
    vec = {t: (v if v is not None else fresh[t]) for t, v in zip(distinct, stored)}
    tokens = dict(zip(distinct, passage_token_counts(embedder, distinct)))

    def pooled_with(weight) -> np.ndarray:
        return np.vstack([pool(np.vstack([vec[t] for t in p]), [weight(t) for t in p]) for p in pieces])

    t0 = time.perf_counter()
    whole = embedder.embed([embedding_text(c) for c in index.chunks])
    print(f"embedded {len(index.chunks)} chunks whole in {time.perf_counter() - t0:.0f} s")
    return {
        "pooled": pooled_with(tokens.__getitem__),
        "whole": whole,
        "unweighted": pooled_with(lambda t: 1.0),
        "chars": pooled_with(len),
    }


def main() -> None:
    args, questions = answerable_questions_of_split(__doc__, "chunk_vectors.json")

    assistant = Assistant()
    index, embedder = assistant.index, assistant.embedder
    live = index.vectors.copy()
    results = {}
    for name, vectors in variants(index, embedder).items():
        index.store.faiss_index = make_faiss_index(vectors, vectors.shape[1])[0]
        index.vectors = vectors
        retriever = HybridRetriever(index, embedder, fusion=assistant.settings.fusion)
        ranks = [first_hit_rank([p.text for p in retriever.retrieve(q.question, top_k=DEPTH)], q.evidence)
                 for q in questions]
        cos = float((vectors * live).sum(axis=1).mean())
        results[name] = {"recall@1": round(recall_at_k(ranks, 1), 3), "recall@5": round(recall_at_k(ranks, 5), 3),
                         "mrr": round(mean_reciprocal_rank(ranks), 3), "n": len(ranks)}
        print(f"{name:>10}: R@1 {results[name]['recall@1']:.3f}  R@5 {results[name]['recall@5']:.3f}  "
              f"MRR {results[name]['mrr']:.3f}  (n={len(ranks)}, mean cosine to the live vectors {cos:.3f})")
    write_json({"split": args.split, "variants": results}, args.out)


if __name__ == "__main__":
    main()
