"""What state a knowledge base's index is in, in words a person can act on.

``check_health`` never raises for a missing, damaged or mismatched index: it says what is
wrong (Chinese) and that a rebuild repairs it, so the app starts and offers the repair.
An index built by an older version of the program (other cleaning code, an older format)
still answers, but from text cleaned by the old rules and without what newer formats store
(sentence vectors): it is ``stale``, and the rebuild is offered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, RagError
from ..index.manifest import FORMAT_VERSION, loader_id

OK, MISSING, DAMAGED, MISMATCH, EMPTY, STALE = "ok", "missing", "damaged", "mismatch", "empty", "stale"
STALE_MESSAGE = ("索引是旧版本的程序建立的（文章清洗规则或索引格式已更新）：仍可回答，"
                 "点击“重建索引”（或运行 rag index）按当前版本更新后，回答会更准确。")


@dataclass(frozen=True)
class Health:
    """``state``: ok | missing | damaged | mismatch | empty | stale; ``message``: Chinese, for the UI."""

    state: str
    message: str
    detail: str = ""  # the underlying error message, for the curious

    @property
    def ok(self) -> bool:
        return self.state == OK

    @property
    def can_answer(self) -> bool:
        return self.state in (OK, EMPTY, STALE)

    @property
    def needs_rebuild(self) -> bool:
        return self.state in (MISSING, DAMAGED, MISMATCH, STALE)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(ok=self.ok, can_answer=self.can_answer, needs_rebuild=self.needs_rebuild)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Health":
        return cls(d["state"], d["message"], d.get("detail", ""))


def diagnose(exc: Exception) -> Health:
    """The Health an index-loading error means."""
    detail = str(exc)
    if isinstance(exc, IndexNotFoundError):
        return Health(MISSING, "还没有索引：请点击“重建索引”（或运行 rag index）建立索引。", detail)
    if isinstance(exc, IndexMismatchError):
        return Health(MISMATCH, "索引与当前设置不符（嵌入模型、分块参数或索引格式不同）："
                                "请点击“重建索引”按当前设置重建。", detail)
    if isinstance(exc, IndexCorruptError):
        return Health(DAMAGED, "索引已损坏（文件缺失或校验不符）：请点击“重建索引”修复。", detail)
    return Health(DAMAGED, "索引无法读取：请点击“重建索引”修复。", detail)


def check_health(assistant) -> Health:
    """Load ``assistant``'s live index (a no-op when already loaded) and say what state it is in."""
    try:
        index = assistant.index
    except RagError as exc:
        return diagnose(exc)
    except (OSError, ValueError) as exc:
        return diagnose(exc)
    n = len(getattr(index, "chunks", []) or [])
    if not n and not index.articles():
        return Health(EMPTY, "索引为空：请上传文章。")
    manifest = getattr(index, "manifest", None)
    if manifest is not None and (manifest.loader != loader_id() or manifest.format_version != FORMAT_VERSION):
        return Health(STALE, STALE_MESSAGE, f"loader {manifest.loader or '?'} → {loader_id()}, "
                                            f"format {manifest.format_version} → {FORMAT_VERSION}")
    return Health(OK, "")
