"""Plain text (.txt): decoded, nothing else; the splitter finds titles by layout."""

from __future__ import annotations

from ..decoding import decode_bytes
from . import Extracted, register


class TextFormat:
    name = "text"
    suffixes = (".txt",)
    kind = "text"
    description = "纯文本"

    def detects(self, data: bytes) -> bool:
        return False

    def read(self, data: bytes, label: str) -> Extracted:
        return Extracted(decode_bytes(data, label))


register(TextFormat())
