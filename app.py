"""The browser app and the programs' API in one process.

    python app.py                     # http://127.0.0.1:7860 on the default knowledge base
    python app.py --host 0.0.0.0 --port 8080
    RAG_HOST=0.0.0.0 RAG_PORT=8080 python app.py

Served by uvicorn from one FastAPI app:
- ``/``: the Gradio page (chat, knowledge bases) and its API for ``gradio_client``
  (/chat, /chat_stream, /ask, /articles; see ``rag.ui.api``);
- ``/v1``: an OpenAI-compatible endpoint (``GET /v1/models``, ``POST /v1/chat/completions``;
  see ``rag.server``), guarded by ``RAG_API_KEY`` when it is set.

Settings come from the environment once (``Settings.from_env()``); RAG_UPLOAD_MAX_MB caps
uploads (default 10). Bad settings end the program with one line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline machine: no telemetry
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.config import Settings  # noqa: E402
from rag.errors import ConfigError, RagError  # noqa: E402
from rag.kb import DEFAULT_MAX_UPLOAD_BYTES, AccessPolicy, Library  # noqa: E402

log = logging.getLogger("rag.app")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860  # Gradio's default port
DEFAULT_CONCURRENCY = 4  # questions answered at once: 2 CPU cores, answers mostly wait on the embedder/LLM
DEFAULT_QUEUE_SIZE = 64  # waiting requests beyond this get Gradio's "queue is full" message
UPLOAD_CHECK_FACTOR = 5  # Gradio refuses above this × our limit; below it our own check explains


def _port(value: str) -> int:
    try:
        port = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"端口 {value!r} 不是整数：请把 RAG_PORT 或 --port 设为 1 到 65535 之间的数，例如 7860。") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"端口 {port} 超出范围：请把 RAG_PORT 或 --port 设为 1 到 65535 之间的数，例如 7860。")
    return port


def _positive(name: str, value: str, minimum: int = 1) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} 不是整数：请设为不小于 {minimum} 的整数。") from None
    if n < minimum:
        raise ConfigError(f"{name}={n} 必须至少为 {minimum}。")
    return n


def _upload_mb(value: str | None) -> float:
    if not value:
        return DEFAULT_MAX_UPLOAD_BYTES / 1048576
    try:
        mb = float(value)
    except ValueError:
        mb = 0.0
    if not mb > 0:
        raise ConfigError(f"RAG_UPLOAD_MAX_MB={value!r} 不可用：请设为正数（单位 MB），例如 10。")
    return mb


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit code 2, as argparse does, in our words
        raise ConfigError(f"参数有误：{message}（用 --help 查看用法）")


def parse_args(argv: list[str] | None = None, env: dict | None = None) -> argparse.Namespace:
    """Command line over the environment (RAG_HOST, RAG_PORT); ConfigError with a one-line message."""
    env = os.environ if env is None else env
    p = _Parser(description="Chat with the articles in your browser; OpenAI-compatible API at /v1.")
    p.add_argument("--host", default=env.get("RAG_HOST") or DEFAULT_HOST, help="address to listen on (RAG_HOST)")
    p.add_argument("--port", default=env.get("RAG_PORT") or str(DEFAULT_PORT), help="port (RAG_PORT)")
    p.add_argument("--concurrency", default=env.get("RAG_CONCURRENCY") or str(DEFAULT_CONCURRENCY),
                   help="questions answered at the same time, on the page and on /v1 (RAG_CONCURRENCY)")
    p.add_argument("--queue-size", default=env.get("RAG_QUEUE_SIZE") or str(DEFAULT_QUEUE_SIZE),
                   help="questions that may wait; more are told the server is busy (RAG_QUEUE_SIZE)")
    args = p.parse_args(argv)
    args.port = _port(args.port)
    args.concurrency = _positive("--concurrency", args.concurrency)
    args.queue_size = _positive("--queue-size", args.queue_size, minimum=0)
    return args


def check_port_free(host: str, port: int) -> None:
    """ConfigError (one line) when ``host:port`` cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"无法在 {host}:{port} 上监听（{exc.strerror or exc}）：端口可能已被占用，"
                              f"请换一个端口（--port 或 RAG_PORT）或检查地址（--host 或 RAG_HOST）。") from None


def create_app(library: Library, settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
               concurrency: int = DEFAULT_CONCURRENCY, queue_size: int = DEFAULT_QUEUE_SIZE):
    """The FastAPI app: the /v1 routes, then the Gradio page mounted at ``/``."""
    import gradio as gr
    from fastapi import FastAPI

    from rag.kb.access import parse_auth
    from rag.server import ChatService, PageLanguageMiddleware, openai_router
    from rag.ui import build_app, launch_options

    demo = build_app(library, default_mode=settings.llm_mode, top_k=settings.top_k)  # rag.ui: the page switches knowledge bases
    # Gradio counts the waiting events and refuses everything at max_size=0: keep it at least 1.
    demo.queue(default_concurrency_limit=concurrency, max_size=max(queue_size, 1))
    api = FastAPI(title="rag-zh", docs_url=None, redoc_url=None, openapi_url=None)
    service = ChatService.over(library, default_mode=settings.llm_mode)
    # With a login on the page (RAG_AUTH) and no API key, /v1 stays closed rather than open.
    api.include_router(openai_router(service, api_key=settings.api_key, required=bool(settings.auth),
                                     max_active=concurrency, max_waiting=queue_size))
    auth = parse_auth(settings.auth)
    app = gr.mount_gradio_app(
        api, demo, path="/", server_name=host, server_port=port, auth=auth, show_error=True,
        max_file_size=library.max_upload_bytes * UPLOAD_CHECK_FACTOR,
        **launch_options(),  # theme, CSS, head script, i18n, footer links (rag/ui)
    )
    app.add_middleware(PageLanguageMiddleware)  # <html lang="zh-CN"> from the first byte
    return app


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = parse_args(argv)
        settings = Settings.from_env()
        max_mb = _upload_mb(os.environ.get("RAG_UPLOAD_MAX_MB"))
        check_port_free(args.host, args.port)
        library = Library(settings, policy=AccessPolicy.from_settings(settings, args.host),
                          max_upload_bytes=int(max_mb * 1048576))
        started = time.perf_counter()
        health = library.get().warm()
        if health.ok:
            log.info("index and model loaded in %.1fs", time.perf_counter() - started)
        else:
            log.warning("%s", health.message)
        app = create_app(library, settings, host=args.host, port=args.port,
                         concurrency=args.concurrency, queue_size=args.queue_size)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    print(f"* 页面 http://{args.host}:{args.port}/   OpenAI 兼容接口 http://{args.host}:{args.port}/v1", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
