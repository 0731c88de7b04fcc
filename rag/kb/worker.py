"""The build process: ``python -m rag.kb.worker`` reads one pickled job on stdin, builds the
index in its own process (its own embedder, lower CPU priority) and writes JSON lines on
stdout: ``{"progress": [stage, done, total]}`` …, then ``{"report": {...}}`` or ``{"error": "..."}``.

Run by ``rag.kb.builds.BuildRunner``; the job is ``{"settings": Settings, "full": bool}``
from the parent process only (never from the network).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import threading
import time
import traceback
from dataclasses import asdict

BUILD_NICENESS = 10  # builds yield the CPU to answering (nice(2): 0 normal … 19 lowest)
PROGRESS_INTERVAL_SECONDS = 0.5  # at most two progress lines a second per stage
PARENT_CHECK_SECONDS = 2.0  # how soon a build notices that the program that started it has gone


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def run(job: dict) -> int:
    from ..assistant import Assistant
    from ..errors import RagError

    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last.get(stage, 0.0) < PROGRESS_INTERVAL_SECONDS:
            return
        last[stage] = now
        _emit({"progress": [stage, int(done), int(total)]})

    try:
        report = Assistant(job["settings"]).build_index(rebuild=bool(job.get("full")), progress=progress)
    except RagError as exc:
        _emit({"error": str(exc)})
        return 2
    except OSError as exc:
        _emit({"error": f"建索引时读写文件失败（{exc.strerror or exc}：{exc.filename or ''}）。"
                        "请检查目录权限和磁盘空间；若是文件在建索引时被删除，稍后的重建会补上。"})
        return 2
    except Exception as exc:  # noqa: BLE001 - reported to the parent, traceback to the log
        traceback.print_exc(file=sys.stderr)
        _emit({"error": f"建索引时出现内部错误（{type(exc).__name__}: {exc}）。"})
        return 1
    _emit({"report": asdict(report)})
    return 0


def _exit_with_parent(parent: int) -> None:
    """Stop when the parent dies (a killed app leaves no orphan build; its temporary snapshot
    is cleaned by the next build)."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(3)


def main() -> int:
    try:
        os.nice(BUILD_NICENESS)
    except OSError:
        pass
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    job = pickle.loads(sys.stdin.buffer.read())
    return run(job)


if __name__ == "__main__":
    sys.exit(main())
