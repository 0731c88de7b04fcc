"""Snapshots and the ``CURRENT`` pointer — the only module that reads or writes it.

Layout under an index directory::

    CURRENT                 name of the live snapshot (replaced atomically)
    snap-<time>-<id>/       one complete, immutable snapshot
    .tmp-snap-…/            a snapshot being written (removed at the next build if a crash left it)
    .lock                   serialises builds across threads and processes

A build writes a whole new snapshot under a temporary name, renames it, then switches
``CURRENT`` with one ``os.replace``: a crash at any point leaves the previous snapshot live.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..errors import IndexCorruptError, IndexNotFoundError, IndexWriteError

POINTER = "CURRENT"
SNAPSHOT_PREFIX = "snap-"
TEMP_PREFIX = ".tmp-"
BUILD_HINT = "请先运行 `rag index` 建立索引（样例语料约需几分钟）。"
REBUILD_HINT = "请运行 `rag index --rebuild` 重建索引。"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def live_snapshot_name(index_dir: Path) -> str | None:
    """Name of the live snapshot, or None when the directory has no index (no error)."""
    try:
        name = (Path(index_dir) / POINTER).read_text("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return None
    return name or None


def has_index(index_dir: Path) -> bool:
    """True when ``index_dir`` has a ``CURRENT`` pointer (not checked further)."""
    return (Path(index_dir) / POINTER).is_file()


def current_snapshot(index_dir: Path) -> Path:
    """The live snapshot directory, or IndexNotFoundError / IndexCorruptError saying what to do."""
    index_dir = Path(index_dir)
    pointer = index_dir / POINTER
    if not pointer.is_file():
        raise IndexNotFoundError(f"{index_dir} 中没有索引。{BUILD_HINT}")
    name = live_snapshot_name(index_dir) or ""
    snap = index_dir / name
    if not name or "/" in name or not snap.is_dir():
        raise IndexCorruptError(f"{pointer} 指向的快照 {name!r} 不存在。{REBUILD_HINT}")
    return snap


def ensure_writable(index_dir: Path) -> Path:
    """Create ``index_dir`` if needed; IndexWriteError (one line, in Chinese) when it cannot be written."""
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        probe = index_dir / f"{TEMP_PREFIX}probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = "没有写权限"
        raise IndexWriteError(
            f"索引目录 {index_dir} 无法写入（{reason}）：请改用可写的目录（设置 RAG_INDEX_DIR）或修改目录权限。"
        ) from None
    return index_dir


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Serialise builds of one index directory across threads and processes."""
    index_dir = ensure_writable(index_dir)
    with open(index_dir / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def clean_leftovers(index_dir: Path) -> list[str]:
    """Remove temporary snapshots and pointer files a crashed build left behind (call under the lock)."""
    removed = []
    for entry in Path(index_dir).iterdir():
        if entry.name.startswith(TEMP_PREFIX):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


def new_snapshot_name(digest: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return f"{SNAPSHOT_PREFIX}{stamp}-{digest[:8]}-{os.getpid()}"


def staging_dir(index_dir: Path, name: str) -> Path:
    """A fresh temporary directory in which the snapshot ``name`` is written."""
    tmp = Path(index_dir) / f"{TEMP_PREFIX}{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: Path, staging: Path, name: str) -> Path:
    """Make the fully written ``staging`` directory the live snapshot ``name``, atomically."""
    index_dir = Path(index_dir)
    for f in staging.iterdir():
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    final = index_dir / name
    os.replace(staging, final)
    switch_to(index_dir, name)
    return final


def switch_to(index_dir: Path, name: str) -> None:
    """Point ``CURRENT`` at the snapshot ``name`` with one atomic rename."""
    index_dir = Path(index_dir)
    pointer_tmp = index_dir / f"{TEMP_PREFIX}{POINTER}-{os.getpid()}"
    with open(pointer_tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / POINTER)
    _fsync_dir(index_dir)


def remove_stale(index_dir: Path, keep: str) -> None:
    """Delete every snapshot but ``keep`` (and leftovers of crashed builds)."""
    for entry in Path(index_dir).iterdir():
        if entry.is_dir() and entry.name != keep and (
            entry.name.startswith(SNAPSHOT_PREFIX) or entry.name.startswith(TEMP_PREFIX)
        ):
            shutil.rmtree(entry, ignore_errors=True)


def copy_live_snapshot(source_index: Path, target_index: Path) -> bool:
    """Seed ``target_index`` with a copy of ``source_index``'s live snapshot (for vector reuse).

    Does nothing (returns False) when the target already has an index or the source has none.
    """
    source_index, target_index = Path(source_index), Path(target_index)
    name = live_snapshot_name(source_index)
    if has_index(target_index) or not name or not (source_index / name).is_dir():
        return False
    target_index.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source_index / name, target_index / name, dirs_exist_ok=True)
    switch_to(target_index, name)
    return True
