"""The `rag` command: index, ask, eval. Errors print their message (exit 2), never a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import Settings
from .errors import RagError


def _progress_bar():
    """A tqdm bar per build stage, written to stderr."""
    from tqdm import tqdm

    bars: dict[str, "tqdm"] = {}
    labels = {"load": "读取文件", "embed": "计算向量", "write": "写入索引"}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=labels.get(stage, stage), unit="项", file=sys.stderr, leave=True)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    assistant = Assistant(settings)
    paths = [Path(p) for p in args.paths] or None
    report = assistant.build_index(paths, rebuild=args.rebuild, progress=None if args.quiet else _progress_bar())
    for label, names in (("added", report.added), ("changed", report.changed),
                         ("removed", report.removed), ("skipped", report.skipped)):
        for name in names:
            print(f"{label:8} {name}")
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"index {settings.index_dir}: {report.summary()}")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    assistant = Assistant(settings)
    history = None
    if args.stream:
        final, shown = None, []
        for piece in assistant.stream_answer(args.question, top_k=args.top_k):
            if isinstance(piece, str):
                shown.append(piece)
                print(piece, end="", flush=True)
            else:
                final = piece
        print()
        if final is not None and final.text != "".join(shown).strip():
            # The citation check changed the text (marks removed or renumbered, ⚠ added).
            print(f"\n核对引用后的答案：\n{final.text}")
    else:
        final = assistant.answer(args.question, top_k=args.top_k, history=history)
        print(final.text)
    if final is None:
        return 1
    from .answering import validate_question

    if final.query and final.query != validate_question(args.question)[0]:
        print(f"\n（检索所用问题：{final.query}）")
    if final.citations:
        print("\n来源：")
        for line, p in zip(final.sources_markdown().splitlines(), final.citations):
            print(line)
            if args.show_passages:
                print("    " + p.text.replace("\n", "\n    "))
    for w in final.warnings:
        print(f"注意：{w}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluation import run_eval_command

    return run_eval_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Question answering over Chinese articles, with citations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or update the index (incremental)")
    p.add_argument("paths", nargs="*", help="files or folders to index (default: the corpus directory)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of reusing the previous index")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question with numbered sources")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    p.add_argument("--show-passages", action="store_true", help="print each cited passage")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="score retrieval and answers on a question set (JSON Lines)")
    from .evaluation import add_eval_arguments

    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except (RagError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
