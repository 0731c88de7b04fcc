"""Knowledge bases on disk: ``RAG_HOME/kbs/<name>/{corpus,index,kb.json}``.

RAG_HOME defaults to the user's data directory (``platformdirs.user_data_dir("rag-zh")``),
never the git checkout. The default knowledge base is seeded on first use by copying the
checkout's ``corpus/`` and the live snapshot of ``index/`` (a few MB, milliseconds; nothing
is re-embedded), so the first answer on a fresh clone is as fast as before. Directories
appear and disappear in one ``os.rename``: a crash never leaves half a knowledge base.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path

from ..config import DEFAULT_KB, KB_SUBDIR, PROJECT_ROOT, Settings, check_kb_name, default_home
from ..errors import KnowledgeBaseError

SEED_CORPUS = PROJECT_ROOT / "corpus"
SEED_INDEX = PROJECT_ROOT / "index"
META_FILE = "kb.json"


def home_of(settings: Settings) -> Path:
    return Path(settings.home or default_home())


def kbs_dir(home: Path) -> Path:
    return Path(home) / KB_SUBDIR


def kb_dir(home: Path, name: str) -> Path:
    return kbs_dir(home) / check_kb_name(name)


def list_names(home: Path) -> list[str]:
    """The knowledge bases under ``home``, the default first (listed even before it is seeded)."""
    names = {DEFAULT_KB}
    root = kbs_dir(home)
    if root.is_dir():
        for entry in root.iterdir():
            if entry.is_dir() and not entry.name.startswith(".") and (entry / META_FILE).is_file():
                names.add(entry.name)
    return [DEFAULT_KB] + sorted(names - {DEFAULT_KB})


def read_meta(home: Path, name: str) -> dict:
    try:
        return json.loads((kb_dir(home, name) / META_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {"name": name}


def _unwritable(home: Path, exc: OSError) -> KnowledgeBaseError:
    return KnowledgeBaseError(
        f"无法在 {home} 中创建知识库（{exc.strerror or exc}）。"
        "请把 RAG_HOME 设置为一个可写的目录，或检查该目录的权限。"
    )


def _new_dir(home: Path, name: str, *, seed: bool) -> Path:
    """Make knowledge base ``name`` in a temporary directory, then rename it into place."""
    root = kbs_dir(home)
    final = root / name
    tmp = root / f".tmp-{name}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        (tmp / "corpus").mkdir()
        (tmp / "index").mkdir()
        seeded = ""
        if seed:
            seeded = _copy_seed(tmp)
        meta = {"name": name, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "seeded_from": seeded}
        (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        try:
            os.rename(tmp, final)
        except OSError:
            if final.is_dir():  # another process made it first: use theirs
                return final
            raise
    except OSError as exc:
        raise _unwritable(home, exc) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _copy_seed(tmp: Path) -> str:
    """Copy the checkout's corpus files and live index snapshot into ``tmp``; what was copied."""
    copied = []
    if SEED_CORPUS.is_dir():
        for path in sorted(SEED_CORPUS.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                shutil.copy2(path, tmp / "corpus" / path.name)
        copied.append(str(SEED_CORPUS))
    from ..index import copy_live_snapshot, live_snapshot_name

    if copy_live_snapshot(SEED_INDEX, tmp / "index"):
        copied.append(str(SEED_INDEX / (live_snapshot_name(SEED_INDEX) or "")))
    return ", ".join(copied)


def ensure_kb(settings: Settings) -> None:
    """Make sure ``settings.kb`` exists on disk: seed the default one; others must be created.

    Does nothing for explicit directories (``settings.kb is None``).
    """
    if settings.kb is None:
        return
    home = home_of(settings)
    if (kb_dir(home, settings.kb) / META_FILE).is_file():
        return
    if settings.kb != DEFAULT_KB:
        raise KnowledgeBaseError(
            f"知识库 {settings.kb!r} 不存在。请先创建：rag kb create {settings.kb}"
            f"（现有：{'、'.join(list_names(home))}）。"
        )
    _new_dir(home, DEFAULT_KB, seed=True)


def create_kb(home: Path, name: str) -> Path:
    """A new, empty knowledge base; KnowledgeBaseError if the name is taken."""
    name = check_kb_name(name)
    if name == DEFAULT_KB or (kb_dir(home, name) / META_FILE).is_file():
        raise KnowledgeBaseError(f"知识库 {name!r} 已存在：请换一个名称。")
    return _new_dir(home, name, seed=False)


def remove_kb(home: Path, name: str) -> None:
    """Delete knowledge base ``name`` and all its files (renamed away first, so it vanishes at once)."""
    name = check_kb_name(name)
    path = kb_dir(home, name)
    if not path.is_dir():
        raise KnowledgeBaseError(f"知识库 {name!r} 不存在。")
    trash = kbs_dir(home) / f".trash-{name}-{secrets.token_hex(4)}"
    try:
        os.rename(path, trash)
    except OSError as exc:
        raise KnowledgeBaseError(f"无法删除知识库 {name!r}（{exc.strerror or exc}）。请检查目录权限。") from exc
    shutil.rmtree(trash, ignore_errors=True)
