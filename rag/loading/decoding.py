"""Bytes of a text file → str: byte-order marks, UTF-8, GB18030/GBK, mixed files.

A file written partly in UTF-8 and partly in GBK (lines pasted from two editors)
is decoded line by line, each line in the encoding that explains it, instead of
turning half of it into plausible-looking but wrong Chinese.
"""

from __future__ import annotations

import re

from ..errors import LoadError

_BOMS = [
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
]

# Share of characters that must be ordinary Chinese/English text for a guessed
# encoding to be believed (set on the sample corpus read as GB18030: all ≥ 0.99).
PLAUSIBLE_SHARE = 0.97
# More control characters than this share of the text means binary data, not text
# with a few stray controls (which are removed by rag.loading.normalize).
MAX_CONTROL_SHARE = 0.01
# UTF-8 with at most this many damaged bytes (or one per this many characters)
# stays UTF-8, with U+FFFD where the bytes were broken.
MAX_DAMAGED_BYTES = 3
DAMAGED_BYTES_PER_CHARS = 1000


# Control characters (Unicode category Cc) other than \t \n \f \r.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def label(name: str, suffix: str = "") -> str:
    """How a file is named in messages."""
    return name or (f"{suffix} 文件" if suffix else "该文件")


def _char_ok(ch: str) -> bool:
    """A character that ordinary Chinese or English text is made of."""
    o = ord(ch)
    return (
        0x20 <= o < 0x7F
        or ch in "\n\r\t\f"
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF
        or 0x3000 <= o <= 0x303F  # CJK punctuation
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x2000 <= o <= 0x206F  # general punctuation: “” — …
        or 0x00A0 <= o <= 0x024F  # Latin-1, Latin extended
        or 0x2460 <= o <= 0x24FF  # circled numbers ①
        or 0x2100 <= o <= 0x22FF  # letterlike, arrows, math
        or 0x25A0 <= o <= 0x27BF  # shapes ◎ ■ ★
        or 0x2F00 <= o <= 0x2FDF  # Kangxi radicals (PDF text; normalised later)
        or 0x0370 <= o <= 0x03FF  # Greek
        or 0x0400 <= o <= 0x04FF  # Cyrillic
        or 0x3040 <= o <= 0x30FF  # kana
        or 0xAC00 <= o <= 0xD7AF  # Hangul
        or ch == "\ufeff"
    )


def plausible(text: str) -> bool:
    if not text:
        return True
    ok = sum(map(_char_ok, text))
    return ok / len(text) >= PLAUSIBLE_SHARE


def control_share(text: str) -> float:
    if not text:
        return 0.0
    return len(_CONTROL_RE.findall(text)) / len(text)


def _decode_lines(data: bytes) -> tuple[str, int, int] | None:
    """Each line in UTF-8 if it is valid UTF-8, else GB18030: (text, utf8 lines, gb lines)."""
    parts: list[str] = []
    utf8 = gb = 0
    for line in data.split(b"\n"):
        try:
            parts.append(line.decode("utf-8"))
            utf8 += not line.isascii()
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("gb18030"))
                gb += 1
            except UnicodeDecodeError:
                return None
    return "\n".join(parts), utf8, gb


def decode_bytes(data: bytes, name: str = "") -> str:
    """Bytes of a text file → str: BOM, UTF-8, mixed UTF-8/GBK lines, GB18030, charset-normalizer.

    Binary data (NUL bytes without a UTF-16/32 BOM, many control characters) and bytes
    no encoding explains raise LoadError naming the file.
    """
    what = label(name)
    text: str | None = None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(enc)
            except UnicodeDecodeError:
                raise LoadError(
                    f"{what} 以 {enc} 字节序标记开头，但内容不是有效的 {enc} 文本；请另存为 UTF-8 后重新加载"
                ) from None
            break
    if text is None:
        if b"\x00" in data:
            raise LoadError(
                f"{what} 含有 NUL 字节，看起来是二进制文件，不是文本，已跳过"
                "（如果它是 UTF-16 文本，请带字节序标记保存，或另存为 UTF-8）"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if text is None:
        # UTF-8 with a few damaged bytes (a truncated download) stays UTF-8: read as
        # GB18030 it would turn into plausible-looking but wrong Chinese.
        candidate = data.decode("utf-8", errors="replace")
        if candidate.count("\ufffd") <= max(MAX_DAMAGED_BYTES, len(candidate) // DAMAGED_BYTES_PER_CHARS):
            text = candidate
    if text is None:
        mixed = _decode_lines(data)
        if mixed is not None and mixed[1] and mixed[2] and plausible(mixed[0]):
            text = mixed[0]  # some lines UTF-8 Chinese, others GBK: each in its own encoding
    if text is None:
        try:
            candidate = data.decode("gb18030")
            if plausible(candidate):
                text = candidate
        except UnicodeDecodeError:
            pass
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        candidate = str(best) if best is not None else None
        if candidate is not None and plausible(candidate):
            text = candidate
    if text is None:
        raise LoadError(
            f"{what} 不是可读的文本（已尝试 UTF-8、带 BOM 的 UTF-16、GB18030）；"
            "请另存为 UTF-8 后重新加载"
        )
    if control_share(text) > MAX_CONTROL_SHARE:
        raise LoadError(f"{what} 含有大量控制字符，看起来是二进制文件，不是文本，已跳过")
    return text.replace("\r\n", "\n").replace("\r", "\n")
