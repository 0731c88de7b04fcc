"""The `rag` command: index, ask, eval, kb. Errors print one line (exit 2), never a traceback.

``rag --kb NAME …`` works on knowledge base NAME under RAG_HOME (see docs/knowledge-bases.md);
without it the knowledge base is RAG_KB, else "default", unless RAG_CORPUS_DIR / RAG_INDEX_DIR
name one explicitly. ``RAG_DEBUG=1`` prints the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import Settings
from .errors import RagError

EXIT_USAGE = 2  # bad input, settings or files: the message says how to fix it
EXIT_INTERNAL = 1  # a bug: one line, RAG_DEBUG=1 shows the traceback


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one Chinese line (exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"错误：命令行参数有误（{message}）。用 `{self.prog} -h` 查看用法。\n")


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
    report = assistant.build_index(paths, rebuild=args.rebuild, prune=True if args.prune else None,
                                   progress=None if args.quiet else _progress_bar())
    for label, names in (("added", report.added), ("changed", report.changed),
                         ("removed", report.removed), ("skipped", report.skipped)):
        for name in names:
            print(f"{label:8} {name}")
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"index {assistant.settings.index_dir}: {report.summary()}")
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
    from .answer.validation import validate_question

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
    from .kb.health import STALE, check_health

    health = check_health(assistant)  # the index is loaded already: this reads its manifest
    if health.state == STALE:
        print("注意：索引是旧版本的程序建立的：运行 rag index 按当前版本更新后，回答会更准确。", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluation import run_eval_command

    return run_eval_command(args)


# ---------------------------------------------------------------- rag kb …

def _library(settings: Settings):
    from .kb import AccessPolicy, Library

    return Library(settings, policy=AccessPolicy.local())


def cmd_kb_list(args: argparse.Namespace, settings: Settings) -> int:
    lib = _library(settings)
    where = "（RAG_CORPUS_DIR / RAG_INDEX_DIR 指定的目录）" if lib.explicit else f"（{lib.home}）"
    print(f"知识库{where}：")
    for info in lib.infos():
        mark = "*" if info["default"] else " "
        created = f"  创建于 {info['created_at']}" if info["created_at"] else ""
        print(f"{mark} {info['name']}{created}")
    return 0


def cmd_kb_create(args: argparse.Namespace, settings: Settings) -> int:
    from .kb import Actor

    kb = _library(settings).create(args.name, Actor())
    print(f"已创建知识库 {kb.name}：{kb.corpus_dir.parent}")
    print(f"添加文章：把文件放进 {kb.corpus_dir} 后运行 rag --kb {kb.name} index")
    return 0


def cmd_kb_delete(args: argparse.Namespace, settings: Settings) -> int:
    from .kb import Actor

    lib = _library(settings)
    conf = lib.request_delete(args.name, Actor())
    if not args.yes:
        print(f"错误：{conf.message.split('请在')[0]}确认删除请加 --yes：rag kb delete {args.name} --yes",
              file=sys.stderr)
        return EXIT_USAGE
    lib.delete(args.name, Actor(), confirm=conf.token)
    print(f"已删除知识库 {args.name}。")
    return 0


def cmd_kb_status(args: argparse.Namespace, settings: Settings) -> int:
    kb = _library(settings).get(None)
    health = kb.health()
    print(f"知识库：{kb.name}")
    print(f"语料目录：{kb.corpus_dir}（{len(kb.files())} 个文件）")
    print(f"索引目录：{kb.index_dir}")
    if health.ok:
        articles = kb.articles()
        print(f"索引正常：{len(articles)} 篇文章，{sum(a.get('chunks', 0) for a in articles)} 个段落。")
        return 0
    print(f"索引状态：{health.message}")
    if health.detail:
        print(f"详情：{health.detail}")
    print(f"修复：rag --kb {kb.name} index --rebuild" if kb.settings.kb else "修复：rag index --rebuild")
    return 0 if health.can_answer else EXIT_USAGE


def _add_kb_option(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--kb", metavar="NAME", default=default,
                        help="knowledge base under RAG_HOME (default: RAG_KB or 'default')")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="rag", description="Question answering over Chinese articles, with citations.")
    _add_kb_option(parser, None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    p = sub.add_parser("index", help="build or update the index (incremental)")
    p.add_argument("paths", nargs="*", help="files or folders to index (default: the corpus directory)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of reusing the previous index")
    p.add_argument("--prune", action="store_true",
                   help="also remove indexed files that no longer exist (default only when indexing the whole corpus)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_kb_option(p, argparse.SUPPRESS)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question with numbered sources")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=None, help="passages to retrieve, 1–50 (default: RAG_TOP_K or 5)")
    p.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    p.add_argument("--show-passages", action="store_true", help="print each cited passage")
    _add_kb_option(p, argparse.SUPPRESS)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="score retrieval and answers on a question set (JSON Lines)")
    from .evaluation import add_eval_arguments

    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("kb", help="list, create, delete knowledge bases; show one's state")
    kb_sub = p.add_subparsers(dest="kb_command", required=True, parser_class=ArgumentParser)
    q = kb_sub.add_parser("list", help="the knowledge bases under RAG_HOME")
    q.set_defaults(func=cmd_kb_list)
    q = kb_sub.add_parser("create", help="a new, empty knowledge base")
    q.add_argument("name")
    q.set_defaults(func=cmd_kb_create)
    q = kb_sub.add_parser("delete", help="delete a knowledge base and all its files")
    q.add_argument("name")
    q.add_argument("--yes", action="store_true", help="confirm the deletion")
    q.set_defaults(func=cmd_kb_delete)
    q = kb_sub.add_parser("status", help="whether the index can answer, and how to repair it")
    _add_kb_option(q, argparse.SUPPRESS)
    q.set_defaults(func=cmd_kb_status)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error_message(exc: OSError) -> str:
    where = f"{exc.filename}" if exc.filename else "文件或目录"
    return (f"无法读写 {where}（{exc.strerror or exc}）。请检查该目录的权限和磁盘空间，"
            "或把 RAG_HOME / RAG_INDEX_DIR 设置为可写的目录。")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.kb:
            # `--kb` is configuration given at the edge: it names the knowledge base for this
            # process (also for `rag eval`, which reads the settings itself).
            from .config import check_kb_name

            os.environ["RAG_KB"] = check_kb_name(args.kb)
            os.environ.pop("RAG_CORPUS_DIR", None)
            os.environ.pop("RAG_INDEX_DIR", None)
        settings = Settings.from_env()
        return args.func(args, settings)
    except (RagError, ValueError) as exc:
        print(f"错误：{_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader of our output went away (`rag ask … | head -3`): nothing is wrong, and nothing more
        # can be written to it. Point stdout at devnull so the interpreter's final flush stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"错误：{_one_line(_os_error_message(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line unless RAG_DEBUG asks for more
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"错误：内部错误（{type(exc).__name__}: {_one_line(exc)}）。设置 RAG_DEBUG=1 可查看详细信息。",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
