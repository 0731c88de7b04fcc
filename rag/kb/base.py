"""One knowledge base: a corpus directory, its index, and the assistants answering from it.

Reading (``assistant``, ``articles``, ``files``, ``health``, ``build_status``) is open.
Every changing method takes the ``actor`` asking for it, and its first step is the access
check (``AccessPolicy.check``), so no caller can change anything by forgetting a check.
Uploads are checked completely before anything is written; deletions need a second call
with the token the first returned; builds run in a separate process, one at a time, with
repeated requests coalesced, while questions keep being answered from the old snapshot.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..assistant import Assistant
from ..config import DEFAULT_KB, PROJECT_ROOT, Settings
from ..errors import KnowledgeBaseError, RagError, UploadError
from .access import AccessPolicy, Actor
from .builds import BuildRunner, BuildStatus
from .confirm import CONFIRM_TTL_SECONDS, Confirmation, Confirmations
from .health import Health, check_health
from .home import ensure_kb
from .uploads import (
    CONFIRM_EMBED_SECONDS, DEFAULT_MAX_UPLOAD_BYTES, MAX_EMBED_SECONDS, CheckedUpload, check_type,
    estimate_embed_seconds, format_duration, read_articles, sanitize_filename, too_big,
)

MAX_FILES_PER_UPLOAD = 20  # one upload request checks at most this many files (bounded work)
WARM_QUESTION = "知识库里有哪些文章？"  # loads the model and segmenter before the first real question


@dataclass
class Change:
    """What an upload, delete or rebuild did, for the UI to show.

    ``lines`` are (kind, text) with kind "ok", "error", "warn" or "info". ``status`` is the
    build the change started (builds run in the background: poll ``KnowledgeBase.build_status``).
    ``confirmation`` is set when the change needs a second call with its token.
    """

    lines: list[tuple[str, str]] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    status: BuildStatus | None = None
    confirmation: Confirmation | None = None

    @property
    def message(self) -> str:
        return "\n".join(text for _, text in self.lines)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.lines if kind == "error"]

    def to_dict(self) -> dict:
        return {
            "lines": [list(line) for line in self.lines], "saved": list(self.saved),
            "rejected": list(self.rejected), "message": self.message,
            "status": self.status.to_dict() if self.status else None,
            "confirmation": self.confirmation.to_dict() if self.confirmation else None,
        }


def inside_checkout(path: Path) -> bool:
    """True when ``path`` lies in this git checkout (which the app never changes)."""
    if not (PROJECT_ROOT / ".git").exists():
        return False
    resolved = Path(path).resolve()
    return resolved == PROJECT_ROOT or PROJECT_ROOT in resolved.parents


class KnowledgeBase:
    """The corpus directory and index of one knowledge base, shared by every session.

    ``assistant(mode)`` returns the assistant answering in that mode ("extractive" or
    "openai"); after a build, new assistants load the new snapshot and are swapped in,
    so a question never waits for or sees a half-built index.
    """

    def __init__(
        self, settings: Settings, *, policy: AccessPolicy | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, name: str | None = None,
        confirm_embed_seconds: float = CONFIRM_EMBED_SECONDS, max_embed_seconds: float = MAX_EMBED_SECONDS,
    ) -> None:
        ensure_kb(settings)
        self.settings = settings
        self.name = name or settings.kb or DEFAULT_KB
        self.corpus_dir = Path(settings.corpus_dir)
        self.index_dir = Path(settings.index_dir)
        self.policy = policy if policy is not None else AccessPolicy.from_settings(settings)
        self.max_upload_bytes = int(max_upload_bytes)
        self.confirm_embed_seconds = float(confirm_embed_seconds)
        self.max_embed_seconds = float(max_embed_seconds)
        self.modes = ["extractive"] + (["openai"] if settings.llm.configured else [])
        self._assistants = self._make_assistants()
        self._confirmations = Confirmations()
        self._write_lock = threading.Lock()
        self._health: tuple[str, Health] | None = None
        self._builds = BuildRunner(settings.replace(llm_mode="extractive"), on_success=self._swap)

    # -- answering and reading (open to everyone)

    def _make_assistants(self) -> dict[str, Assistant]:
        return {mode: Assistant(self.settings.replace(llm_mode=mode)) for mode in self.modes}

    def assistant(self, mode: str = "extractive") -> Assistant:
        if mode not in self._assistants:
            raise RagError(f"回答方式 {mode!r} 不可用；可用：{'、'.join(self.modes)}。")
        return self._assistants[mode]

    def health(self) -> Health:
        """Whether the index can answer, and if not what is wrong (never raises)."""
        key = self._pointer()
        cached = self._health
        if cached is not None and cached[0] == key:
            return cached[1]
        health = check_health(self.assistant())
        self._health = (key, health)
        return health

    def warm(self) -> Health:
        """Load index, model and segmenter now when the index is usable; the health (never raises)."""
        health = self.health()
        if health.ok:
            try:
                self.assistant().answer(WARM_QUESTION)
                for other in self._assistants.values():
                    other.retriever  # noqa: B018 - loads the index
            except RagError:
                pass
        return health

    def has_index(self) -> bool:
        from ..index import has_index

        return has_index(self.index_dir)

    def articles(self) -> list[dict]:
        """The indexed articles (empty when the index is missing or unusable)."""
        try:
            return self.assistant().articles()
        except (RagError, OSError):
            return []

    def files(self) -> list[str]:
        """The article files in the corpus directory, by name."""
        from ..loading import find_files

        if not self.corpus_dir.is_dir():
            return []
        return sorted(p.relative_to(self.corpus_dir).as_posix() for p in find_files([self.corpus_dir]))

    def build_status(self) -> BuildStatus:
        return self._builds.status()

    def wait_for_build(self, timeout: float | None = None) -> BuildStatus:
        """Block until no build runs or is pending; the final status. For the CLI and tests."""
        return self._builds.wait(timeout)

    def can_change(self, actor: Actor | None = None) -> bool:
        """Whether ``actor`` may change this knowledge base (for enabling buttons; the methods check again)."""
        return self.policy.allows(actor) and not inside_checkout(self.corpus_dir)

    def notice(self) -> str:
        """A Chinese sentence for the UI about who may change (empty when anyone may)."""
        if inside_checkout(self.corpus_dir):
            return self._checkout_message()
        return self.policy.notice()

    def check_upload(self, data: bytes, name: str) -> str:
        """The safe name to save ``data`` under (no write, no access check); UploadError says why not."""
        return self._check_one(name, data, taken=()).name

    # -- changes (administrator only)

    def upload(self, files: list[tuple[str, bytes | Path]], actor: Actor | None, *,
               confirm: str | None = None) -> Change:
        """Check uploaded files (name, content or path), save the good ones, start a build.

        Nothing is written before every check passed: size (from the size alone), name, type by
        content, articles, projected embedding time. A file whose embedding would take more than
        ``confirm_embed_seconds`` (default CONFIRM_EMBED_SECONDS) holds the batch back and returns ``change.confirmation``; call
        again with ``confirm=change.confirmation.token`` to save it. Refused files change nothing.
        """
        self.policy.check(actor, "上传文章")
        self._check_writable(self.corpus_dir)
        change = Change()
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise UploadError(f"一次最多上传 {MAX_FILES_PER_UPLOAD} 个文件（这次有 {len(files)} 个）；请分批上传。")
        accepted: list[CheckedUpload] = []
        for name, data in files:
            try:
                accepted.append(self._check_one(name, data, taken=[c.name for c in accepted]))
            except UploadError as exc:
                change.rejected.append(str(name))
                change.lines.append(("error", f"未上传 {exc}"))
        slow = [c for c in accepted if c.embed_seconds > self.confirm_embed_seconds]
        if slow:
            target = _batch_digest(slow)
            if not self._confirmations.redeem(confirm, "upload-long", target):
                names = "、".join(f"{c.name}（{format_duration(c.embed_seconds)}）" for c in slow)
                conf = self._confirmations.issue(
                    "upload-long", target,
                    f"{names}：计算向量需要较长时间，期间不能再建索引。确定要上传吗？"
                    f"请在 {CONFIRM_TTL_SECONDS:.0f} 秒内确认（尚未保存任何文件）。",
                )
                change.confirmation = conf
                change.lines.append(("warn", conf.message))
                return change
        with self._write_lock:
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            for c in accepted:
                if (self.corpus_dir / c.name).exists():
                    change.rejected.append(c.name)
                    change.lines.append(("error", f"未上传 {c.name}：知识库中已有同名文件。"))
                    continue
                _write_atomic(self.corpus_dir / c.name, c.data)
                change.saved.append(c.name)
                change.lines.append(("ok", f"已保存 {c.name}：{c.articles} 篇文章，"
                                           f"预计计算向量{format_duration(c.embed_seconds)}。"))
        if change.saved:
            change.status = self._builds.request()
            change.lines.append(("info", change.status.message))
        return change

    def request_delete(self, source: str, actor: Actor | None) -> Confirmation:
        """Step one of deleting a file: a token to pass to ``delete`` within CONFIRM_TTL_SECONDS."""
        self.policy.check(actor, "删除文章")
        self._check_writable(self.corpus_dir)
        self._corpus_file(source)
        return self._confirmations.issue(
            "delete-file", source,
            f"确定要从知识库“{self.name}”删除 {source} 吗？文件会从语料目录中删除。"
            f"请在 {CONFIRM_TTL_SECONDS:.0f} 秒内确认。",
        )

    def delete(self, source: str, actor: Actor | None, *, confirm: str | None) -> Change:
        """Step two: remove one article file (``confirm`` = the token from ``request_delete``), start a build."""
        self.policy.check(actor, "删除文章")
        self._check_writable(self.corpus_dir)
        with self._write_lock:
            path = self._corpus_file(source)
            if not self._confirmations.redeem(confirm, "delete-file", source):
                raise KnowledgeBaseError("删除需要确认：确认已过期或无效，没有删除任何文件。请重新点击删除并确认。")
            path.unlink()
        status = self._builds.request()
        return Change([("ok", f"已删除 {source}。"), ("info", status.message)], status=status)

    def rebuild(self, actor: Actor | None, *, full: bool = False) -> Change:
        """Bring the index up to date with the corpus (``full``: re-embed everything), in the background."""
        self.policy.check(actor, "重建索引")
        self._check_writable(self.index_dir)
        status = self._builds.request(full=full)
        return Change([("info", status.message)], status=status)

    def close(self) -> None:
        """Stop a running build (used when the knowledge base is deleted or the program exits)."""
        self._builds.stop()

    # -- internals

    def _pointer(self) -> str:
        from ..index import live_snapshot_name

        return live_snapshot_name(self.index_dir) or ""

    def _swap(self, report: dict) -> None:
        fresh = self._make_assistants()
        for a in fresh.values():
            a.retriever  # noqa: B018 - load the new snapshot before anyone is sent to it
        self._assistants = fresh
        self._health = None

    def _check_one(self, name: str, data: bytes | Path, taken) -> CheckedUpload:
        label = Path(str(name)).name or str(name)
        if isinstance(data, (bytes, bytearray)):
            size = len(data)
        else:
            try:
                size = Path(data).stat().st_size
            except OSError as exc:
                raise UploadError(f"{label}：读取上传的文件失败（{exc.strerror or exc}）。") from exc
        if size > self.max_upload_bytes:  # before reading or writing anything
            raise too_big(label, size, self.max_upload_bytes)
        safe = sanitize_filename(name)
        if not isinstance(data, (bytes, bytearray)):
            try:
                data = Path(data).read_bytes()
            except OSError as exc:
                raise UploadError(f"{label}：读取上传的文件失败（{exc.strerror or exc}）。") from exc
        data = bytes(data)
        check_type(data, safe)
        if safe in taken:
            raise UploadError(f"{safe}：同一批上传中有重名文件。")
        if (self.corpus_dir / safe).exists():
            raise UploadError(f"{safe}：知识库中已有同名文件。如要替换，请先删除旧文件再上传。")
        articles, chars = read_articles(data, safe)
        seconds = estimate_embed_seconds(chars)
        if seconds > self.max_embed_seconds:
            raise UploadError(
                f"{safe}：{chars} 个字，预计计算向量{format_duration(seconds)}，超过上限"
                f"（{format_duration(self.max_embed_seconds)}）。请拆分成较小的文件后再上传。"
            )
        return CheckedUpload(safe, data, articles, chars, seconds)

    def _corpus_file(self, source: str) -> Path:
        if not source or source not in self.files():
            raise KnowledgeBaseError(f"知识库中没有文件 {source!r}；请从列表中选择要删除的文件。")
        path = (self.corpus_dir / source).resolve()
        if self.corpus_dir.resolve() not in path.parents:
            raise KnowledgeBaseError(f"{source!r} 不在知识库目录中。")
        return path

    def _checkout_message(self) -> str:
        return (f"知识库目录在代码仓库（{PROJECT_ROOT}）中，应用不会修改仓库里的文件。"
                "请去掉 RAG_CORPUS_DIR / RAG_INDEX_DIR 改用 RAG_HOME 下的知识库，或把它们指向仓库外的目录。")

    def _check_writable(self, path: Path) -> None:
        if inside_checkout(path):
            raise KnowledgeBaseError(self._checkout_message())


def _batch_digest(uploads: list[CheckedUpload]) -> str:
    h = hashlib.sha256()
    for c in sorted(uploads, key=lambda c: c.name):
        h.update(c.name.encode("utf-8") + b"\0" + hashlib.sha256(c.data).digest())
    return h.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-upload-{os.getpid()}-{threading.get_ident()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
