"""`rag eval`: options, and the command body that prints the report and writes its files.

Bad input fails before any scoring with a one-line message: an unreadable question
file, an empty split, a ``--json``/``--markdown`` path that is a directory or cannot
be written (``report.check_output_path``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from ..errors import QuestionSetError, RagError
from .compare import compare_markdown, run_compare
from .questions import DEFAULT_QUESTIONS, load_questions, select_split
from .report import check_output_path, write_json, write_text
from .run import add_llm_gate, evaluate

if TYPE_CHECKING:
    from ..config import Settings

DEFAULT_RESULTS_DIR = DEFAULT_QUESTIONS.parent / "results"
DEFAULT_MAX_FAILURES = 40


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of `rag eval` (also used by `python -m rag.evaluation`)."""
    parser.add_argument(
        "questions", nargs="?", default=str(DEFAULT_QUESTIONS),
        help="question set, JSON Lines (default: eval/questions.jsonl)",
    )
    parser.add_argument("--split", choices=("tune", "test", "all"), default="all",
                        help="which part of the question set to score (default: all)")
    parser.add_argument("--top-k", type=int, default=None,
                        help="passages per answer and the k of the failure table (default: RAG_TOP_K or 5)")
    parser.add_argument("--json", metavar="OUT", help="write every metric and per-question row as JSON")
    parser.add_argument("--markdown", metavar="OUT", help="also write the Markdown report to a file")
    parser.add_argument("--index-dir", help="index to evaluate (default: RAG_INDEX_DIR or index/)")
    parser.add_argument("--corpus-dir", help="articles the index is built from (for --compare)")
    parser.add_argument("--fusion", choices=("rrf", "dense", "bm25"), help="retrieval fusion to use")
    parser.add_argument("--no-refuse-check", action="store_true",
                        help="turn the answerability check (and so the gate) off")
    parser.add_argument("--retrieval-only", action="store_true",
                        help="score retrieval only; skip answers (faster)")
    parser.add_argument("--no-llm-gate", dest="llm_gate", action="store_false",
                        help="skip the LLM-mode gate run (answerable questions refused before the model "
                             "is called, measured against a scripted model on 127.0.0.1)")
    parser.add_argument("--max-failures", type=int, default=DEFAULT_MAX_FAILURES,
                        help=f"failure rows shown in the Markdown report (default {DEFAULT_MAX_FAILURES}; "
                             "all in --json)")
    parser.add_argument("--compare", action="store_true",
                        help="evaluate several configurations side by side; writes compare.md/.json/.png")
    parser.add_argument("--chunk-sizes", default="200,300,500",
                        help="chunk sizes for --compare, comma-separated (default 200,300,500)")
    parser.add_argument("--results-dir", default=str(DEFAULT_RESULTS_DIR),
                        help="where --compare writes its table and chart (default eval/results)")
    parser.add_argument("--cache-dir", default=None,
                        help="where --compare builds extra indexes (default <index-dir>/../.cache/compare)")
    return parser


def _settings_from_args(args) -> "Settings":
    from ..config import Settings

    settings = Settings.from_env()
    changes: dict = {}
    if args.index_dir:
        changes["index_dir"] = Path(args.index_dir)
    if args.corpus_dir:
        changes["corpus_dir"] = Path(args.corpus_dir)
    if args.fusion:
        changes["fusion"] = args.fusion
    if args.no_refuse_check:
        changes["refuse_check"] = False
    if args.top_k is not None:
        changes["top_k"] = args.top_k
    return settings.replace(**changes) if changes else settings


def _progress_printer(label: str) -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _parse_sizes(raw: str) -> list[int]:
    try:
        sizes = [int(s) for s in raw.split(",") if s.strip()]
    except ValueError:
        raise QuestionSetError(f"--chunk-sizes {raw!r}: give whole numbers, e.g. 200,300,500") from None
    if not sizes:
        raise QuestionSetError("--chunk-sizes is empty; give e.g. 200,300,500")
    return sizes


def run_eval_command(args) -> int:
    """Body of `rag eval`: print the report; write JSON/Markdown/compare outputs as asked."""
    for out in (args.json, args.markdown):  # before anything is loaded or scored
        if out is not None:
            check_output_path(out)
    settings = _settings_from_args(args)
    top_k = settings.top_k
    questions = load_questions(args.questions)
    select_split(questions, args.split)  # fail early on an empty split
    if args.compare:
        cache_dir = Path(args.cache_dir) if args.cache_dir else settings.index_dir.parent / ".cache" / "compare"
        results = Path(args.results_dir)
        for name in ("compare.md", "compare.json", "compare.png"):
            check_output_path(results / name)
        reports = run_compare(
            settings, questions, top_k=top_k, split=args.split,
            chunk_sizes=_parse_sizes(args.chunk_sizes), cache_dir=cache_dir, results_dir=results,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
        print(compare_markdown(reports))
        print(f"wrote {results / 'compare.md'}, {results / 'compare.json'}, {results / 'compare.png'}")
        if args.json:
            write_json({"variants": [r.to_dict() for r in reports]}, args.json)
        return 0

    from ..assistant import Assistant

    answers = not args.retrieval_only
    assistant = Assistant(settings)
    report = evaluate(assistant, questions, top_k=top_k, split=args.split, answers=answers,
                      progress=_progress_printer("eval"))
    if answers and args.llm_gate:
        try:  # a failing gate run must not throw away the extractive figures measured so far
            add_llm_gate(report, settings, select_split(questions, args.split), top_k=top_k,
                         progress=_progress_printer("LLM gate"))
        except Exception as exc:  # noqa: BLE001 - reported in one line, the rest of the report stands
            print(f"警告：LLM 模式闸门测量失败（{type(exc).__name__}: {' '.join(str(exc).split())}），"
                  "报告中没有闸门数据。", file=sys.stderr)
    print(report.to_markdown(max_failures=args.max_failures))
    if args.markdown:
        write_text(report.to_markdown(), args.markdown)
    if args.json:
        write_json(report.to_dict(), args.json)
        print(f"wrote {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m rag.evaluation …`: the same as `rag eval …`."""
    parser = add_eval_arguments(argparse.ArgumentParser(prog="rag eval", description="score retrieval and answers"))
    args = parser.parse_args(argv)
    try:
        return run_eval_command(args)
    except RagError as exc:
        print(f"错误：{' '.join(str(exc).split())}", file=sys.stderr)
        return 2
