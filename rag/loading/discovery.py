"""File discovery: folders → the supported files in them, and what was skipped and why.

Inside a folder, hidden files and folders (``.name``, Office lock files ``~$name``),
unsupported types, broken links and symbolic links that lead outside the folder
are skipped; each skip is recorded with a reason (in Chinese, for the CLI and UI),
and links leading outside are also logged as warnings. Files named explicitly are
kept whatever they are, so loading them reports a clear error instead.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import LoadError
from .formats import suffixes

log = logging.getLogger(__name__)

HIDDEN_PREFIXES = (".", "~$")


@dataclass(frozen=True)
class Skipped:
    """A path found in a folder but not loaded, and why."""

    path: Path
    reason: str

    def __post_init__(self) -> None:
        if not self.reason:
            raise ValueError("Skipped.reason must say why the path was skipped")

    def to_dict(self) -> dict:
        return {"path": str(self.path), "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict) -> "Skipped":
        return cls(Path(data["path"]), str(data["reason"]))


@dataclass
class Discovery:
    """The files to load (sorted, each once) and the paths skipped on the way."""

    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"files": [str(p) for p in self.files], "skipped": [s.to_dict() for s in self.skipped]}

    @classmethod
    def from_dict(cls, data: dict) -> "Discovery":
        return cls([Path(p) for p in data.get("files", [])],
                   [Skipped.from_dict(s) for s in data.get("skipped", [])])


def _hidden(name: str) -> bool:
    return name.startswith(HIDDEN_PREFIXES)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _walk(folder: Path, out: Discovery) -> None:
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        keep_dirs = []
        for name in sorted(dirnames):
            path = here / name
            if _hidden(name):
                out.skipped.append(Skipped(path, "隐藏文件夹，已跳过"))
            elif path.is_symlink():
                target = path.resolve()
                if not _inside(target, root):
                    log.warning("跳过 %s：符号链接指向知识库文件夹之外（%s）", path, target)
                    out.skipped.append(Skipped(path, f"符号链接指向文件夹之外（{target}），已跳过"))
                else:
                    out.skipped.append(Skipped(path, "指向文件夹内的符号链接，其内容已按原位置读取"))
            else:
                keep_dirs.append(name)
        dirnames[:] = keep_dirs
        for name in sorted(filenames):
            path = here / name
            if _hidden(name):
                out.skipped.append(Skipped(path, "隐藏文件，已跳过"))
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.exists():
                    out.skipped.append(Skipped(path, "符号链接的目标不存在，已跳过"))
                    continue
                if not _inside(target, root):
                    log.warning("跳过 %s：符号链接指向知识库文件夹之外（%s）", path, target)
                    out.skipped.append(Skipped(path, f"符号链接指向文件夹之外（{target}），已跳过"))
                    continue
            if path.suffix.lower() not in suffixes():
                what = path.suffix or "无扩展名"
                out.skipped.append(Skipped(path, f"不支持的文件类型（{what}），已跳过"))
                continue
            if path.is_file():
                out.files.append(path)


def discover(paths: Iterable[Path]) -> Discovery:
    """Expand folders (recursively) to the supported files in them; record what was skipped.

    Raises LoadError for a path that does not exist.
    """
    found = Discovery()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            _walk(p, found)
        elif p.exists():
            found.files.append(p)
        else:
            raise LoadError(f"{p} 不存在；请检查路径")
    seen: set[Path] = set()
    unique = []
    for f in found.files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    found.files = sorted(unique)
    return found


def find_files(paths: Iterable[Path]) -> list[Path]:
    """The files ``discover`` finds (sorted); use ``discover`` to also learn what was skipped."""
    return discover(paths).files
