"""Loading: files → cleaned text → articles (one ``Document`` per article).

One module per job:

- ``formats/``   the registry of file formats, one module per format (``.txt .md .pdf
  .docx .html .htm``); ``SUPPORTED_SUFFIXES`` comes from it;
- ``sniffing``   what a file really holds, judged by its bytes;
- ``decoding``   bytes → str (BOMs, UTF-8, GB18030/GBK, mixed files);
- ``normalize``  control characters out, safe NFKC for compatibility characters;
- ``cleaning``   PDF clean-up: hard wraps, page numbers, headers, stray spaces;
- ``articles``   article splitting, titles and publications in either layout;
- ``headings``   which heading level, if any, starts the articles of a file;
- ``loader``     one file → its articles (``load_file``);
- ``discovery``  folders → files, and what was skipped and why (``find_files``, ``discover``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .articles import split_articles
from .cleaning import clean_text
from .decoding import decode_bytes
from .discovery import Discovery, Skipped, discover, find_files
from .formats import SUPPORTED_SUFFIXES, Extracted, Format, Heading, format_for, register
from .loader import extract, load_file, read_text
from .normalize import compat_normalize, normalize_text
from .sniffing import sniff_kind

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Discovery",
    "Extracted",
    "Format",
    "Heading",
    "Skipped",
    "clean_text",
    "compat_normalize",
    "decode_bytes",
    "discover",
    "extract",
    "find_files",
    "fingerprint",
    "format_for",
    "load_file",
    "normalize_text",
    "read_text",
    "register",
    "sniff_kind",
    "source_hash",
    "split_articles",
]


def fingerprint() -> str:
    """A hash of the source of every module of this package.

    Any change to how files are read, cleaned or split changes it, so an index
    built by other loading code is recognised as stale (the index manifest uses it).
    """
    return source_hash(Path(__file__).resolve().parent)


def source_hash(package_dir: Path) -> str:
    """16 hex digits of SHA-256 over every ``*.py`` file under ``package_dir`` (path and bytes)."""
    h = hashlib.sha256()
    for module in sorted(package_dir.rglob("*.py")):
        h.update(module.relative_to(package_dir).as_posix().encode("utf-8"))
        h.update(b"\x00")
        h.update(module.read_bytes())
        h.update(b"\x00")
    return h.hexdigest()[:16]
