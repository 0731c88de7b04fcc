"""One file on disk → its articles: read (by registered format), normalise, clean, split."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoadError
from ..schema import Document
from .articles import split_articles
from .cleaning import clean_text
from .formats import Extracted, Heading, format_for
from .normalize import normalize_text
from .sniffing import sniff_kind, supported_list

_LETTERS_RE = re.compile(r"[A-Za-z\u4e00-\u9fff]")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"{path} 不存在；请检查路径") from None
    except IsADirectoryError:
        raise LoadError(f"{path} 是文件夹，不是文件") from None
    except OSError as exc:
        raise LoadError(f"{path} 无法读取（{exc.strerror or exc}）") from None


def extract(path: Path) -> Extracted:
    """The text of a file and the title and headings its structure gives, by what the file really is."""
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = format_for(suffix)
    if fmt is None:
        raise LoadError(
            f"{path.name}：不支持{suffix or '无扩展名的'}文件；请使用 {supported_list()} 之一"
        )
    data = _read_bytes(path)
    sniff_kind(data, suffix, path.name)
    extracted = fmt.read(data, path.name)
    text = normalize_text(extracted.text)
    if not text.strip():
        raise LoadError(f"{path.name} 没有文字内容")
    headings = tuple(Heading(t, h.level) for h in extracted.headings if (t := normalize_text(h.text).strip()))
    return Extracted(text, normalize_text(extracted.title).strip(), headings)


def read_text(path: Path) -> str:
    """The raw (normalised, not yet cleaned) text of a file."""
    return extract(path).text


def _relative_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).name


def load_file(path: Path, root: Path | None = None) -> list[Document]:
    """Read, clean and split one file into articles. LoadError for unusable files.

    ``Document.source`` is the path relative to ``root`` (else the file name).
    """
    path = Path(path)
    extracted = extract(path)
    cleaned = clean_text(extracted.text)
    if not _LETTERS_RE.search(cleaned):
        raise LoadError(f"{path.name} 没有文字内容（只有数字或版面信息）")
    docs = split_articles(cleaned, _relative_name(path, root), title=extracted.title,
                          headings=extracted.headings)
    if not docs:
        raise LoadError(f"{path.name} 没有正文（只有标题或版面行）")
    return docs
