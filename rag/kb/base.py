"""The knowledge base behind the browser app: list, upload, delete, rebuild.

Uploads are checked before anything touches the corpus: the size, the suffix, the
content (``sniff_kind``: a binary file renamed ``.txt`` is refused) and that the file
yields at least one article. File names are reduced to a plain name inside the corpus
directory. Every change is followed by an incremental index build; questions keep
being answered from the previous index until the new one is loaded, then the
assistants are swapped in one step. Builds and swaps are serialised by one lock.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .assistant import Assistant
from .config import Settings
from .errors import IndexNotFoundError, LoadError, RagError
from .index import BuildProgress, BuildReport

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_NAME_CHARS = 120
_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f\x7f-\x9f]')


class UploadError(RagError):
    """An uploaded file was refused; the message says why and what to do."""


def sanitize_filename(name: str) -> str:
    """A plain file name that can only land directly inside the corpus directory.

    Directory parts (``/`` or ``\\``) and ``..`` are dropped, control and reserved
    characters removed, leading dots stripped (no hidden files); Chinese is kept.
    Raises UploadError when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _FORBIDDEN.sub("", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip().lstrip(".").strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem.strip(" .")
    if len(stem) > MAX_NAME_CHARS:
        stem = stem[:MAX_NAME_CHARS]
    if not stem:
        raise UploadError(f"文件名 {name!r} 不可用：请改成普通的文件名（例如 文章.txt）再上传。")
    return f"{stem}.{suffix.lower()}" if suffix else stem


@dataclass
class Change:
    """What an upload, delete or rebuild did, for the UI to show.

    ``lines`` are (kind, text) with kind "ok", "error", "warn" or "info".
    """

    lines: list[tuple[str, str]] = field(default_factory=list)
    report: BuildReport | None = None
    saved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "\n".join(text for _, text in self.lines)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.lines if kind == "error"]


class KnowledgeBase:
    """The corpus directory and its index, shared by every browser session.

    ``assistant(mode)`` returns the assistant currently answering in that mode
    ("extractive" or "openai"); after a build, new assistants are loaded and
    swapped in, so a question never waits for or sees a half-built index.
    """

    def __init__(self, settings: Settings, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
        self.settings = settings
        self.corpus_dir = Path(settings.corpus_dir)
        self.max_upload_bytes = max_upload_bytes
        self.modes = ["extractive"] + (["openai"] if settings.llm.configured else [])
        self._lock = threading.Lock()  # one build + swap at a time
        self._assistants = self._make_assistants()

    # -- answering

    def _make_assistants(self) -> dict[str, Assistant]:
        return {mode: Assistant(self.settings.replace(llm_mode=mode)) for mode in self.modes}

    def assistant(self, mode: str = "extractive") -> Assistant:
        if mode not in self._assistants:
            raise RagError(f"回答方式 {mode!r} 不可用；可用：{'、'.join(self.modes)}。")
        return self._assistants[mode]

    def warm(self) -> None:
        """Load index, model and word segmenter now, so the first question does not wait."""
        a = self.assistant("extractive")
        a.answer("知识库里有哪些文章？")
        for other in self._assistants.values():
            other.retriever  # noqa: B018 - loads the index

    def has_index(self) -> bool:
        return (Path(self.settings.index_dir) / "CURRENT").is_file()

    # -- listing

    def articles(self) -> list[dict]:
        """The indexed articles (empty when there is no index yet)."""
        try:
            return self.assistant().articles()
        except IndexNotFoundError:
            return []

    def files(self) -> list[str]:
        """The article files in the corpus directory, by name."""
        from .loading import find_files

        if not self.corpus_dir.is_dir():
            return []
        return sorted(p.relative_to(self.corpus_dir).as_posix() for p in find_files([self.corpus_dir]))

    # -- changes

    def check_upload(self, data: bytes, name: str) -> str:
        """The safe name to save ``data`` under; UploadError says why it cannot be saved."""
        from .loading import SUPPORTED_SUFFIXES, sniff_kind

        safe = sanitize_filename(name)
        suffix = Path(safe).suffix.lower()
        kinds = " ".join(sorted(SUPPORTED_SUFFIXES))
        if suffix not in SUPPORTED_SUFFIXES:
            raise UploadError(f"{safe}：不支持 {suffix or '无扩展名'} 文件，请上传 {kinds} 文件。")
        if len(data) > self.max_upload_bytes:
            raise UploadError(
                f"{safe}：文件太大（{_mb(len(data))} MB），上限为 "
                f"{_mb(self.max_upload_bytes)} MB。请拆分后再上传。"
            )
        try:
            sniff_kind(data, suffix, safe)
        except LoadError as exc:
            raise UploadError(f"{safe}：内容与文件类型不符或无法读取（{exc}）。") from exc
        if (self.corpus_dir / safe).exists():
            raise UploadError(f"{safe}：知识库中已有同名文件。如要替换，请先删除旧文件再上传。")
        return safe

    def _check_articles(self, data: bytes, safe: str) -> int:
        """Number of articles the file yields; UploadError when none."""
        from .loading import load_file

        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            path = Path(tmp) / safe
            path.write_bytes(data)
            try:
                return len(load_file(path, Path(tmp)))
            except LoadError as exc:
                raise UploadError(f"{safe}：读不出文章内容（{exc}）。") from exc

    def upload(self, files: list[tuple[str, bytes | Path]], progress: BuildProgress | None = None) -> Change:
        """Check and save uploaded files (name, content or path), then index them.

        Refused files change nothing; the message has one line per file.
        """
        change = Change()
        with self._lock:
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            for name, data in files:
                try:
                    data = self._read(data, name)
                    safe = self.check_upload(data, name)
                    if safe in change.saved:
                        raise UploadError(f"{safe}：同一批上传中有重名文件。")
                    n = self._check_articles(data, safe)
                except UploadError as exc:
                    change.rejected.append(str(name))
                    change.lines.append(("error", f"未上传 {exc}"))
                    continue
                _write_atomic(self.corpus_dir / safe, data)
                change.saved.append(safe)
                renamed = f"（原文件名 {name}）" if str(name) != safe else ""
                change.lines.append(("ok", f"已保存 {safe}{renamed}：{n} 篇文章。"))
            if change.saved:
                try:
                    change.report = self._build_and_swap(progress=progress)
                except Exception:
                    for s in change.saved:  # the corpus goes back to what the index describes
                        (self.corpus_dir / s).unlink(missing_ok=True)
                    raise
                change.lines.extend(_report_lines(change.report))
        return change

    def delete(self, source: str, progress: BuildProgress | None = None) -> Change:
        """Remove one article file from the corpus and from the index."""
        with self._lock:
            path = self._corpus_file(source)
            backup = path.read_bytes()
            path.unlink()
            try:
                report = self._build_and_swap(progress=progress)
            except Exception:
                _write_atomic(path, backup)
                raise
        return Change([("ok", f"已删除 {source}。")] + _report_lines(report), report)

    def rebuild(self, full: bool = False, progress: BuildProgress | None = None) -> Change:
        """Bring the index up to date with the corpus directory (``full``: re-embed everything)."""
        with self._lock:
            report = self._build_and_swap(rebuild=full, progress=progress)
        return Change(_report_lines(report), report)

    # -- internals

    def _read(self, data: bytes | Path, name: str) -> bytes:
        """The upload's bytes; a file over the limit is refused before it is read."""
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
        try:
            size = Path(data).stat().st_size
            if size > self.max_upload_bytes:
                raise UploadError(
                    f"{Path(str(name)).name}：文件太大（{_mb(size)} MB），上限为 "
                    f"{_mb(self.max_upload_bytes)} MB。请拆分后再上传。"
                )
            return Path(data).read_bytes()
        except OSError as exc:
            raise UploadError(f"{name}：读取上传的文件失败（{exc}）。") from exc

    def _corpus_file(self, source: str) -> Path:
        if not source or source not in self.files():
            raise RagError(f"知识库中没有文件 {source!r}；请从列表中选择要删除的文件。")
        path = (self.corpus_dir / source).resolve()
        if self.corpus_dir.resolve() not in path.parents:
            raise RagError(f"{source!r} 不在知识库目录中。")
        return path

    def _build_and_swap(self, rebuild: bool = False, progress: BuildProgress | None = None) -> BuildReport:
        builder = Assistant(self.settings.replace(llm_mode="extractive"))
        report = builder.build_index(rebuild=rebuild, progress=progress)
        fresh = self._make_assistants()
        for a in fresh.values():
            a.retriever  # noqa: B018 - load the new snapshot before anyone is sent to it
        self._assistants = fresh
        return report


def _mb(n: int) -> str:
    return f"{n / 1048576:.2f}".rstrip("0").rstrip(".")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-upload-{os.getpid()}-{threading.get_ident()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _report_lines(report: BuildReport) -> list[tuple[str, str]]:
    parts = [f"新增 {len(report.added)}", f"更新 {len(report.changed)}", f"删除 {len(report.removed)}",
             f"未变 {len(report.unchanged)}"]
    if report.skipped:
        parts.append(f"跳过 {len(report.skipped)}")
    line = (f"索引已更新：{'，'.join(parts)}；共 {report.chunks} 个段落"
            f"（新计算 {report.embedded}，复用 {report.reused}），用时 {report.seconds:.1f} 秒。")
    return [("info", line)] + [("warn", f"⚠ {w}") for w in report.warnings]

