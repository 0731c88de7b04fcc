"""Character clean-up applied to every file's text before cleaning and splitting.

Compatibility characters that PDF fonts and some editors produce are mapped to the
ordinary ones with NFKC — but only where that is safe for Chinese text:

- Kangxi radicals and CJK radical supplements (⼀⽆⼈⾼ → 一无人高), which look like
  the ideographs but are different code points, so searches and citations miss;
- CJK compatibility ideographs (豈 U+F900 … → their unified ideograph);
- full-width Latin letters and digits (ＡＩ２０２４ → AI2024);
- Latin ligatures (ﬁ → fi).

Full-width punctuation (，；：？！（）), the ellipsis, circled numbers and superscripts
are left alone: in Chinese text they are the right characters, and NFKC would turn
「，」 into「,」 or ② into 2. Control characters and U+FFFD (bytes that could not be
decoded) are removed rather than indexed. The result is the stored document text, so
chunk spans are computed against it and ``doc.text[start:end] == chunk.text`` holds.
"""

from __future__ import annotations

import re
import unicodedata

# (first, last) code points whose NFKC form is safe to use in Chinese text.
SAFE_NFKC_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2EFF),  # CJK Radicals Supplement
    (0x2F00, 0x2FDF),  # Kangxi Radicals
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x2F800, 0x2FA1F),  # CJK Compatibility Ideographs Supplement
    (0xFF10, 0xFF19),  # full-width digits ０-９
    (0xFF21, 0xFF3A),  # full-width Latin capitals Ａ-Ｚ
    (0xFF41, 0xFF5A),  # full-width Latin small letters ａ-ｚ
    (0xFB00, 0xFB06),  # Latin ligatures ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
)
_KEEP_CONTROLS = "\n\t\f"


_SAFE_RE = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in SAFE_NFKC_RANGES) + "]")
# Unicode category Cc is exactly U+0000–U+001F and U+007F–U+009F.
_CONTROLS_RE = re.compile("[" + "".join(
    re.escape(chr(c)) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in _KEEP_CONTROLS
) + "\ufffd]")


def compat_normalize(text: str) -> str:
    """NFKC for the compatibility characters that are safe in Chinese text; the rest unchanged.

    Also useful on questions, so a question typed with the same compatibility
    characters still matches the stored text.
    """
    return _SAFE_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def strip_controls(text: str) -> str:
    """Drop control characters (except newline, tab, form feed) and U+FFFD replacement marks."""
    return _CONTROLS_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def normalize_text(text: str) -> str:
    """The character clean-up every loaded text goes through (see the module docstring)."""
    return compat_normalize(strip_controls(text))
