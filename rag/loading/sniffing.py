"""What a file really holds, judged by its bytes: a registered format's kind, or a clear refusal.

A PNG renamed ``.txt`` or a PDF renamed ``.docx`` is rejected with a message that
says what it is, not indexed as garbage.
"""

from __future__ import annotations

import io
import zipfile

from ..errors import LoadError
from .decoding import decode_bytes, label
from .formats import format_for, formats, suffix_for_kind, suffixes
from .formats.html import looks_html

# Signatures of common binary files people drop into a folder by mistake.
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF87a", "GIF 图片"),
    (b"GIF89a", "GIF 图片"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版 Office（.doc/.xls）文件"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip 压缩包"),
    (b"Rar!", "RAR 压缩包"),
    (b"\x7fELF", "程序文件（ELF）"),
    (b"SQLite format 3\x00", "SQLite 数据库"),
    (b"ID3", "MP3 音频"),
    (b"OggS", "Ogg 媒体文件"),
    (b"RIFF", "RIFF 媒体文件（WAV/AVI/WebP）"),
    (b"%!PS", "PostScript 文件"),
    (b"{\\rtf", "RTF 文档"),
]


def supported_list() -> str:
    return " ".join(sorted(suffixes()))


def _zip_names(data: bytes) -> list[str] | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def sniff_kind(data: bytes, suffix: str, name: str = "") -> str:
    """What a file really holds: the ``kind`` of a registered format ("text", "html", "pdf", "docx").

    Raises LoadError when the bytes are binary, or do not match the suffix.
    """
    suffix = (suffix or "").lower()
    what = label(name, suffix)
    fmt = format_for(suffix) if suffix else None
    if suffix and fmt is None:
        raise LoadError(f"{what}：不支持 {suffix} 文件；请使用 {supported_list()} 之一")
    if not data or not data.strip():
        raise LoadError(f"{what} 是空文件，已跳过")
    kind = next((f.kind for f in formats() if f.detects(data)), None)
    if kind is None:
        names = _zip_names(data)
        if names is not None:
            what_zip = "损坏的 ZIP 文件" if not names else "ZIP 压缩包，不是 Word .docx 文档"
            raise LoadError(f"{what} 是{what_zip}，已跳过")
        for magic, desc in _MAGIC:
            if data.startswith(magic):
                raise LoadError(f"{what} 是{desc}，不是文本文档，已跳过；请另存为 {supported_list()} 之一")
        text = decode_bytes(data, what)  # raises for binary or undecodable bytes
        if fmt is not None and fmt.kind in ("text", "html"):
            kind = fmt.kind
        else:
            kind = "html" if looks_html(text) else "text"
    if fmt is not None and fmt.kind != kind:
        real = next((f.description for f in formats() if f.kind == kind), kind)
        raise LoadError(
            f"{what} 的内容是{real}，与扩展名 {suffix} 不符；"
            f"如果它确实是{real}，请改名为 {suffix_for_kind(kind)}"
        )
    return kind
