"""Run ``app.py`` as a real subprocess on a free local port, for browser and API tests.

The app gets its own corpus and index directories (copies made by the caller), so
tests may upload and delete files without touching the repository.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_dir(src: Path, dst: Path) -> Path:
    """A private copy of a corpus or index directory (without its build lock)."""
    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
    return dst


# Settings a test sets explicitly or not at all: never inherited from the developer's shell.
_APP_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM", "RAG_HOST", "RAG_PORT",
             "RAG_CORPUS_DIR", "RAG_INDEX_DIR", "RAG_HOME", "RAG_KB", "RAG_ADMIN_PASSWORD", "RAG_AUTH",
             "RAG_API_KEY")


class AppServer:
    """``python app.py`` on 127.0.0.1; a context manager.

    With ``corpus_dir``/``index_dir`` it serves that one knowledge base; with both None it
    uses the knowledge bases under ``RAG_HOME`` (pass ``RAG_HOME=...`` in ``env``).
    """

    def __init__(self, corpus_dir: Path | None, index_dir: Path | None, log_path: Path, **env: str) -> None:
        self.corpus_dir = Path(corpus_dir) if corpus_dir else None
        self.index_dir = Path(index_dir) if index_dir else None
        self.log_path = Path(log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.extra_env = env
        self.proc: subprocess.Popen | None = None
        self.ready_seconds = 0.0  # from process start to the page being served

    def start(self) -> "AppServer":
        env = {k: v for k, v in os.environ.items() if k not in _APP_VARS}
        if self.corpus_dir is not None:
            env.update(RAG_CORPUS_DIR=str(self.corpus_dir), RAG_INDEX_DIR=str(self.index_dir))
        env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **self.extra_env)
        self._log = open(self.log_path, "w")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        self.ready_seconds = time.perf_counter() - started
        return self

    def _wait_ready(self) -> None:
        # Poll until the page is served or the process dies; the loop bound only guards
        # against a hung CI job.
        for _ in range(1200):
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "gradio_api/info", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"app.py did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
