"""One build at a time per knowledge base, in a separate process, with coalescing.

``BuildRunner.request()`` starts a build when none runs. A request while one runs marks a
single follow-up build (however many requests arrive), which starts when the current one
has finished: the follow-up sees every change made meanwhile, and the work stays bounded.
Answers keep coming from the old snapshot; ``on_success`` (the knowledge base's swap)
loads the new snapshot before anyone is sent to it.
"""

from __future__ import annotations

import atexit
import json
import pickle
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import asdict, dataclass, field, fields
from typing import Callable

from ..config import Settings

IDLE, RUNNING, DONE, FAILED = "idle", "running", "done", "failed"
STAGE_LABELS = {"load": "读取文件", "embed": "计算向量", "write": "写入索引"}

_RUNNERS: "weakref.WeakSet[BuildRunner]" = weakref.WeakSet()


@dataclass
class BuildStatus:
    """A knowledge base's build state, for the UI to poll (``to_dict`` is JSON-ready)."""

    state: str = IDLE  # idle | running | done | failed
    stage: str = ""  # load | embed | write while running
    done: int = 0
    total: int = 0
    follow_up: bool = False  # another build will run after this one (changes arrived meanwhile)
    builds: int = 0  # builds started by this program for this knowledge base
    started_at: float = 0.0
    finished_at: float = 0.0
    error: str = ""
    report: dict = field(default_factory=dict)  # the last successful build's BuildReport, as a dict

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def message(self) -> str:
        """One Chinese line saying what the build is doing or did."""
        if self.state == RUNNING:
            label = STAGE_LABELS.get(self.stage, "准备中")
            count = f" {self.done}/{self.total}" if self.total else ""
            text = f"正在建索引：{label}{count}。期间仍用旧索引回答问题。"
            return text + ("完成后会再建一次，包含刚才的修改。" if self.follow_up else "")
        if self.state == FAILED:
            return f"建索引失败：{self.error}"
        if self.state == DONE:
            return report_line(self.report)
        return ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(running=self.running, message=self.message)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "BuildStatus":
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


def report_line(report: dict) -> str:
    """The Chinese summary of a BuildReport dict."""
    if not report:
        return ""
    n = lambda key: len(report.get(key) or [])  # noqa: E731
    parts = [f"新增 {n('added')}", f"更新 {n('changed')}", f"删除 {n('removed')}", f"未变 {n('unchanged')}"]
    if n("skipped"):
        parts.append(f"跳过 {n('skipped')}")
    return (f"索引已更新：{'，'.join(parts)}；共 {report.get('chunks', 0)} 个段落"
            f"（新计算 {report.get('embedded', 0)}，复用 {report.get('reused', 0)}），"
            f"用时 {float(report.get('seconds', 0.0)):.1f} 秒。")


class BuildRunner:
    """Runs ``python -m rag.kb.worker`` for one knowledge base; see the module docstring."""

    def __init__(self, settings: Settings, on_success: Callable[[dict], None] | None = None) -> None:
        self.settings = settings
        self.on_success = on_success
        self._status = BuildStatus()
        self._pending_full: bool | None = None  # None: no follow-up; else whether it re-embeds all
        self._cond = threading.Condition()
        self._proc: subprocess.Popen | None = None
        _RUNNERS.add(self)

    def status(self) -> BuildStatus:
        with self._cond:
            return BuildStatus.from_dict(asdict(self._status))

    def request(self, full: bool = False) -> BuildStatus:
        """Start a build, or mark one follow-up if a build is running; returns the status."""
        with self._cond:
            if self._status.running:
                self._pending_full = bool(full or self._pending_full)
                self._status.follow_up = True
            else:
                self._start(full)
            return BuildStatus.from_dict(asdict(self._status))

    def wait(self, timeout: float | None = None) -> BuildStatus:
        """Block until no build runs or is pending (or ``timeout`` seconds pass); the status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._status.running:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            return BuildStatus.from_dict(asdict(self._status))

    def stop(self) -> None:
        """Terminate a running build (its snapshot is never switched in) and drop the follow-up."""
        with self._cond:
            self._pending_full = None
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    # -- internals (called with the condition held)

    def _start(self, full: bool) -> None:
        s = self._status
        s.state, s.stage, s.done, s.total, s.error = RUNNING, "", 0, 0, ""
        s.follow_up, s.builds, s.started_at, s.finished_at = False, s.builds + 1, time.time(), 0.0
        self._pending_full = None
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rag.kb.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=None, close_fds=True,
            )
        except OSError as exc:
            s.state, s.error, s.finished_at = FAILED, f"无法启动建索引进程（{exc}）。", time.time()
            self._cond.notify_all()
            return
        self._proc = proc
        threading.Thread(target=self._follow, args=(proc, full), name="rag-kb-build", daemon=True).start()

    def _follow(self, proc: subprocess.Popen, full: bool) -> None:
        report, error = None, ""
        try:
            proc.stdin.write(pickle.dumps({"settings": self.settings, "full": full}))
            proc.stdin.close()
            for raw in proc.stdout:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if "progress" in msg:
                    stage, done, total = msg["progress"]
                    with self._cond:
                        self._status.stage, self._status.done, self._status.total = stage, done, total
                        self._cond.notify_all()
                elif "report" in msg:
                    report = msg["report"]
                elif "error" in msg:
                    error = str(msg["error"])
            code = proc.wait()
        except OSError as exc:
            code, error = -1, f"与建索引进程通信失败（{exc}）。"
        if report is None and not error:
            error = f"建索引进程意外退出（退出码 {code}）。"
        if report is not None and self.on_success is not None:
            try:
                self.on_success(report)
            except Exception as exc:  # noqa: BLE001 - shown in the status, the old index stays live
                error, report = f"新索引无法加载（{exc}）。", None
        with self._cond:
            self._proc = None
            s = self._status
            s.finished_at = time.time()
            if report is not None:
                s.state, s.report, s.error = DONE, report, ""
            else:
                s.state, s.error = FAILED, error
            if self._pending_full is not None:
                self._start(self._pending_full)
            self._cond.notify_all()


@atexit.register
def _stop_all() -> None:
    for runner in list(_RUNNERS):
        runner.stop()
