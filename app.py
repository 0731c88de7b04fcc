"""The browser app: chat with cited answers, and knowledge-base management.

    python app.py                     # http://127.0.0.1:7860 on the sample corpus
    python app.py --host 0.0.0.0 --port 8080
    RAG_HOST=0.0.0.0 RAG_PORT=8080 python app.py

Settings come from the environment once (``Settings.from_env()``: RAG_INDEX_DIR,
RAG_CORPUS_DIR, OPENAI_* ...); RAG_UPLOAD_MAX_MB caps uploads (default 10).
``Client(url).predict("问题", api_name="/ask")`` returns the answer with its sources.
"""

import argparse
import logging
import os
import sys
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline machine: no telemetry
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.config import Settings  # noqa: E402
from rag.errors import ConfigError, RagError  # noqa: E402
from rag.kb import DEFAULT_MAX_UPLOAD_BYTES, KnowledgeBase  # noqa: E402
from rag.ui import CSS, HEAD, build_app, theme  # noqa: E402

log = logging.getLogger("rag.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    p = argparse.ArgumentParser(description="Chat with the articles in your browser.")
    p.add_argument("--host", default=env.get("RAG_HOST") or "127.0.0.1", help="address to listen on (RAG_HOST)")
    p.add_argument("--port", type=int, default=int(env.get("RAG_PORT") or 7860), help="port (RAG_PORT)")
    p.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    p.add_argument("--concurrency", type=int, default=4, help="questions answered at the same time")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
        max_mb = float(os.environ.get("RAG_UPLOAD_MAX_MB") or DEFAULT_MAX_UPLOAD_BYTES / 1048576)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kb = KnowledgeBase(settings, max_upload_bytes=int(max_mb * 1048576))
    started = time.perf_counter()
    if kb.has_index():
        try:
            kb.warm()
            log.info("index and model loaded in %.1fs", time.perf_counter() - started)
        except RagError as exc:
            log.warning("%s", exc)
    else:
        log.warning("No index in %s: build it on the 知识库 tab or with `rag index`.", settings.index_dir)
    demo = build_app(kb, default_mode=settings.llm_mode, top_k=settings.top_k)
    demo.queue(default_concurrency_limit=args.concurrency)
    demo.launch(
        server_name=args.host, server_port=args.port, share=args.share,
        footer_links=["api", "settings"], show_error=True,
        max_file_size=kb.max_upload_bytes * 5,  # our own check gives the clear message below this
        theme=theme(),
        css=CSS, head=HEAD,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
