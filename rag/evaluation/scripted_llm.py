"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1.

It speaks ``POST /v1/chat/completions`` (JSON, or server-sent events when the
request says ``"stream": true``) and ``GET /v1/models``, replies from a script,
records every request, and can be slow or answer with error codes. `rag eval`
runs the question set in LLM mode against it to count the questions the answer
pipeline refuses before the model is called (the LLM-mode gate); the tests use it
(``tests/_openai_server.py``) to drive the real ``openai`` client over real sockets.

    with OpenAIServer(api_key="sk-test") as server:
        server.script(Reply("会议在北京举行。[1]"), Reply(status=429))
        ... server.url ...   # "http://127.0.0.1:PORT/v1"
        server.requests[0].body["messages"]
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


@dataclass
class Reply:
    """One scripted response.

    ``text`` is the assistant message; when streamed it is sent as ``pieces``
    (default: a few characters each). ``status`` other than 200 sends an OpenAI
    error body. ``delay`` waits before the headers; ``piece_delay`` between the
    content pieces (a slow or stalling stream).
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    piece_delay: float = 0.0
    pieces: list[str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error_message: str = ""
    # Streaming proof: after the first piece the server waits until the client sets
    # ``gate`` (having received that piece), then records whether it did.
    gate: threading.Event | None = None
    gate_released: bool | None = None

    def stream_pieces(self) -> list[str]:
        if self.pieces is not None:
            return list(self.pieces)
        return [self.text[i : i + 4] for i in range(0, len(self.text), 4)] or [""]


@dataclass
class Request:
    """A recorded request: what the client sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    received_at: float

    @property
    def messages(self) -> list[dict]:
        return (self.body or {}).get("messages", [])

    def header(self, name: str) -> str | None:
        """A request header, looked up case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def message_text(self, role: str) -> str:
        return "\n".join(
            m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
            for m in self.messages
            if m["role"] == role
        )


class OpenAIServer:
    """A scripted chat-completions server in a background thread."""

    def __init__(self, api_key: str | None = None, default: Reply | None = None):
        self.api_key = api_key
        self.default = default or Reply("资料中没有找到这个问题的答案。")
        self.requests: list[Request] = []
        self._script: deque[Reply] = deque()
        self._responder: Callable[[Request], Reply] | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------
    def start(self) -> "OpenAIServer":
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> "OpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()  # wakes handlers sleeping in a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to give the client (OPENAI_BASE_URL)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies, used in order; afterwards ``default`` answers."""
        with self._lock:
            self._script.extend(replies)

    def respond_with(self, responder: Callable[[Request], Reply] | None) -> None:
        """Compute each reply from the request (used when the script is empty)."""
        self._responder = responder

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
        self._responder = None
        self._closing.clear()

    @property
    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- internals -----------------------------------------------------------
    def _next_reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        if self._responder is not None:
            return self._responder(request)
        return self.default

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)


def _make_handler(server: OpenAIServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _read_body(self) -> dict | None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                return json.loads(raw.decode("utf-8"))
            except ValueError:
                return {"_unparsed": raw.decode("utf-8", "replace")}

        def _send_json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _send_error(self, status: int, message: str, headers: dict | None = None) -> None:
            kind = ERROR_TYPES.get(status, "server_error")
            self._send_json(
                status,
                {"error": {"message": message or kind, "type": kind, "code": kind}},
                headers,
            )

        def _authorized(self) -> bool:
            if server.api_key is None:
                return True
            return self.headers.get("Authorization") == f"Bearer {server.api_key}"

        def do_GET(self) -> None:
            request = Request("GET", self.path, dict(self.headers), None, time.time())
            with server._lock:
                server.requests.append(request)
            if not self._authorized():
                self._send_error(401, "Incorrect API key provided.")
            elif self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [{"id": "test-model",
                                                                   "object": "model"}]})
            else:
                self._send_error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            body = self._read_body()
            request = Request("POST", self.path, dict(self.headers), body, time.time())
            if not self.path.rstrip("/").endswith("/chat/completions"):
                with server._lock:
                    server.requests.append(request)
                self._send_error(404, f"no route {self.path}")
                return
            if not self._authorized():
                with server._lock:
                    server.requests.append(request)
                self._send_error(401, "Incorrect API key provided.")
                return
            reply = server._next_reply(request)
            server._sleep(reply.delay)
            if server._closing.is_set():
                return
            if reply.status != 200:
                self._send_error(reply.status, reply.error_message, reply.headers)
                return
            model = (body or {}).get("model", "test-model")
            try:
                if (body or {}).get("stream"):
                    self._stream(reply, model)
                else:
                    self._send_json(200, _completion(reply.text, model), reply.headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); nothing to do

        def _stream(self, reply: Reply, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.close_connection = True
            first = {"role": "assistant", "content": ""}
            self._event(_chunk(first, model))
            for i, piece in enumerate(reply.stream_pieces()):
                if i == 1 and reply.gate is not None:
                    reply.gate_released = reply.gate.wait(10)
                if i > 0:
                    server._sleep(reply.piece_delay)
                if server._closing.is_set():
                    return
                self._event(_chunk({"content": piece}, model))
            self._event(_chunk({}, model, finish="stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False)
            self.wfile.write(f"data: {data}\n\n".encode("utf-8"))
            self.wfile.flush()

    return Handler


def _completion(text: str, model: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text), "total_tokens": 10
                  + len(text)},
    }


def _chunk(delta: dict, model: str, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
