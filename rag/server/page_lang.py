"""Serve the page's HTML as Chinese from the first byte: ``<html lang="zh-CN">``.

Gradio's page template hard-codes ``lang="en"``; the head script (rag/ui) switches Gradio's
own strings to zh-CN, but screen readers and translators read the attribute of the HTML that
arrives. This ASGI middleware rewrites only that attribute, only in ``text/html`` responses.
"""

from __future__ import annotations

import re

PAGE_LANG = "zh-CN"
_HTML_LANG = re.compile(rb'(<html\b[^>]*?\blang=")[^"]*(")', re.S)


class PageLanguageMiddleware:
    """Rewrites ``<html lang="…">`` in HTML responses; everything else streams through untouched."""

    def __init__(self, app, lang: str = PAGE_LANG) -> None:
        self.app = app
        self.lang = lang.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body = bytearray()

        async def rewrite(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    await send(message)
                    start = {}  # not HTML: pass the body through
                else:
                    start = message
                return
            if message["type"] != "http.response.body" or start == {}:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            new = _HTML_LANG.sub(rb"\g<1>" + self.lang + rb"\g<2>", bytes(body), count=1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(new)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": new})

        await self.app(scope, receive, rewrite)
