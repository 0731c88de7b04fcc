"""The OpenAI-compatible endpoint: ``GET /v1/models`` and ``POST /v1/chat/completions``.

The last user message is the question; earlier user/assistant messages are the history
(our own replies' source lists are dropped from them); system messages are ignored (the
answer prompt is the project's). The reply text carries the ``[n]`` marks, any warning
(e.g. the LLM fallback) and a numbered sources list; the structured citations travel in
the extra top-level fields ``citations`` (the /chat shape) and ``rag`` (refused, mode,
warnings, query, gate, kb, usage_source). ``stream: true`` sends chat.completion.chunk
server-sent events and ``data: [DONE]``; the last chunk carries ``citations`` and ``rag``,
followed by a ``usage`` chunk when the client asked (``stream_options.include_usage``).

Model ids pick the answer mode and the knowledge base, in Ollama's ``name:tag`` form:
``rag-zh`` (default mode, default knowledge base), ``rag-zh-extractive``, ``rag-zh-llm``,
and each of them ``:<kb>`` for knowledge base ``<kb>`` (``rag-zh:news``). ``usage`` is the
LLM server's own count when an LLM wrote the answer, else counted (rag.server.usage).

    app.include_router(openai_router(ChatService.over(library), api_key=settings.api_key))
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from ..errors import (
    IndexCorruptError, IndexMismatchError, IndexNotFoundError, KnowledgeBaseError, QuestionError, RagError,
)
from ..schema import Answer
from .auth import BearerAuth
from .models import (
    CONVERSATION_ROLES, ChatCompletionRequest, Message, describe_validation_error, error_body,
)
from .service import ChatService, check_history, reply_text, strip_sources
from .usage import Usage, UsageMeter

log = logging.getLogger("rag.server")

MODEL_PREFIX = "rag-zh"
OWNER = "rag-zh"
# A request body this large is not a conversation: refused before it is parsed.
MAX_BODY_BYTES = 4 * 1024 * 1024
# Pipeline modes as model names: "openai" (an OpenAI-compatible LLM writes) is served as "llm".
MODE_MODEL_NAMES = {"extractive": "extractive", "openai": "llm"}
BUSY = "The server is busy answering other questions; retry in a few seconds. 服务器正忙，请稍后再试。"
BUSY_RETRY_AFTER_S = 5
# Precedes the checked answer in a stream whose text the citation check changed.
CHECKED_NOTE = "（以下是核对引用后的回答）"


KB_SEPARATOR = ":"  # rag-zh:<kb>, as Ollama's name:tag (LightRAG serves "lightrag:latest" the same way)


def model_names(service: ChatService) -> dict[str, str]:
    """Model id → pipeline mode for the default knowledge base. ``rag-zh`` is the app's default mode."""
    names = {MODEL_PREFIX: service.default_mode}
    for mode in service.modes:
        names[f"{MODEL_PREFIX}-{MODE_MODEL_NAMES.get(mode, mode)}"] = mode
    return names


def model_ids(service: ChatService) -> list[tuple[str, str, str]]:
    """Every model id served, as (id, mode, knowledge base): the plain ids, then each with ``:<kb>``."""
    plain = model_names(service)
    ids = [(name, mode, service.default_kb) for name, mode in plain.items()]
    for kb in service.kb_names():
        ids += [(f"{name}{KB_SEPARATOR}{kb}", mode, kb) for name, mode in plain.items()]
    return ids


class ModelNotFound(RagError):
    """The model id names no answer mode, or no knowledge base that exists."""


def resolve_model(service: ChatService, model: str) -> tuple[str, str]:
    """(pipeline mode, knowledge base) for a model id; ModelNotFound saying what exists."""
    base, sep, kb = model.partition(KB_SEPARATOR)
    modes = model_names(service)
    if base not in modes:
        raise ModelNotFound(f"The model {model!r} does not exist. Available models: "
                            f"{', '.join(i for i, _, _ in model_ids(service))}. 模型 {model!r} 不存在。")
    if not sep:
        return modes[base], service.default_kb
    try:
        return modes[base], service.check_kb(kb)
    except KnowledgeBaseError as exc:
        raise ModelNotFound(f"{exc} 模型名写作 {MODEL_PREFIX}{KB_SEPARATOR}<知识库名>，"
                            f"例如 {MODEL_PREFIX}{KB_SEPARATOR}{service.default_kb}。") from None


class Admission:
    """At most ``active`` answers at once and ``waiting`` more queued; beyond that, "busy" at once.

    The same bound as the page's Gradio queue (``app.py --concurrency/--queue-size``), so
    /v1 clients cannot pile up unbounded work either.
    """

    def __init__(self, active: int | None, waiting: int = 0) -> None:
        self._run = threading.Semaphore(active) if active else None
        self._admit = threading.Semaphore(active + waiting) if active else None

    def admit(self) -> bool:
        return self._admit is None or self._admit.acquire(blocking=False)

    def leave(self) -> None:
        if self._admit is not None:
            self._admit.release()

    @contextmanager
    def running(self):
        """Wait for a free slot, run, then leave (the admission taken by ``admit`` is returned)."""
        try:
            if self._run is None:
                yield
            else:
                with self._run:
                    yield
        finally:
            self.leave()


def _error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
           param: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, type_, code, param), status_code=status, headers=headers)


def question_and_history(messages: list[Message]) -> tuple[str, list[list[str]]]:
    """The last user message and the (question, answer) pairs before it; QuestionError otherwise."""
    turns = [m for m in messages if m.role in CONVERSATION_ROLES]
    if not turns or turns[-1].role != "user":
        raise QuestionError("messages 的最后一条对话消息必须是 user（要回答的问题）。")
    pairs: list[list[str]] = []
    pending: str | None = None
    for m in turns[:-1]:
        if m.role == "user":
            if pending is not None:
                pairs.append([pending, ""])
            pending = m.text
        elif pending is not None:  # an assistant message answers the user message before it
            pairs.append([pending, strip_sources(m.text)])
            pending = None
    if pending is not None:
        pairs.append([pending, ""])
    return turns[-1].text, pairs


def _citation_fields(answer: Answer, kb: str, **rag: Any) -> dict:
    d = answer.to_dict()
    fields = {k: d[k] for k in ("refused", "mode", "warnings", "query", "gate") if k in d}
    return {"citations": d.pop("citations"), "rag": {**fields, "kb": kb, **rag}}


def _prompt_texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


def _usage_fields(usage: Usage | None) -> dict:
    """``usage`` for the wire (null when unknown) and its source for ``rag.usage_source``."""
    return {"usage": usage.to_dict() if usage else None, "usage_source": usage.source if usage else None}


def openai_router(service: ChatService, api_key: str | None = None, *, required: bool = False,
                  max_active: int | None = None, max_waiting: int = 0) -> APIRouter:
    """The /v1 routes over ``service``; with ``api_key`` every route needs ``Authorization: Bearer <key>``.

    ``required``: refuse every request while no key is set (for an app behind a login).
    ``max_active``/``max_waiting``: answers at once and queued; more get 429 (None: no bound).
    """
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])
    auth = BearerAuth(api_key, required=required)
    admission = Admission(max_active, max_waiting)
    if auth.required and not api_key:
        log.warning("/v1 is closed: the page has a login (RAG_AUTH) but RAG_API_KEY is not set")
    created = int(time.time())

    @router.get("/models")
    def list_models(request: Request):
        """The models this server answers with: one per answer mode, and each per knowledge base."""
        if (denied := auth.check(request)) is not None:
            return denied
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": OWNER,
             "rag": {"kb": kb, "mode": MODE_MODEL_NAMES.get(mode, mode)}}
            for name, mode, kb in model_ids(service)
        ]}

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        """A cited answer to the last user message (``stream: true`` for server-sent events)."""
        if (denied := auth.check(request)) is not None:
            return denied
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, f"Request body too large: at most {MAX_BODY_BYTES} bytes.")
        try:
            data = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"The request body is not valid JSON: {exc}.")
        if not isinstance(data, dict):
            return _error(400, "The request body must be a JSON object with 'model' and 'messages'.")
        try:
            body = ChatCompletionRequest.model_validate(data)
        except ValidationError as exc:
            return _error(400, f"Invalid request: {describe_validation_error(exc)}")
        try:
            mode, kb = resolve_model(service, body.model)
        except ModelNotFound as exc:
            return _error(404, str(exc), code="model_not_found", param="model")
        try:
            question, history = question_and_history(body.messages)
            check_history(history)
        except QuestionError as exc:
            return _error(400, str(exc), param="messages")
        if not admission.admit():
            return _error(429, BUSY, type_="rate_limit_exceeded", code="busy",
                          headers={"Retry-After": str(BUSY_RETRY_AFTER_S)})
        meter = UsageMeter()
        prompt = _prompt_texts(body.messages)
        try:
            if body.stream:
                # Checks the question and loads the knowledge base's index (off the event loop);
                # the answer itself runs when the response is pulled, in an answer slot.
                stream = await _run_in_thread(meter.call, service.stream, question, history, body.top_k, mode, kb)
            else:
                answer, reply, usage = await _run_in_thread(
                    _admitted, admission, _answer_with_usage, meter, service, prompt,
                    question, history, body.top_k, mode, kb)
        except (QuestionError, RagError) as exc:
            if body.stream:
                admission.leave()  # the slot taken by admit(): no answer will run
            if isinstance(exc, QuestionError):
                return _error(400, str(exc), param="messages")
            return _rag_error(exc)
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        now = int(time.time())
        if body.stream:
            report = _UsageReport(meter, prompt) if body.include_usage else None
            return StreamingResponse(_sse(meter.iterate(stream), cid, now, body.model, kb, admission, report),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        fields = _usage_fields(usage)
        return {
            "id": cid, "object": "chat.completion", "created": now, "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": fields["usage"],
            **_citation_fields(answer, kb, usage_source=fields["usage_source"]),
        }

    return router


def _answer_with_usage(meter: UsageMeter, service: ChatService, prompt: list[str], *args) -> tuple:
    """The answer, its reply text and its usage (counting runs in the answer's slot too)."""
    answer = meter.call(service.answer, *args)
    reply = reply_text(answer)
    return answer, reply, meter.usage(answer, prompt, reply)


@dataclass
class _UsageReport:
    """What a stream needs to end with a usage chunk: the request's meter and its messages' texts."""

    meter: UsageMeter
    prompt: list[str]

    def fields(self, answer: Answer, sent: str) -> dict:
        return _usage_fields(self.meter.usage(answer, self.prompt, sent))


def _admitted(admission: Admission, fn, *args):
    with admission.running():
        return fn(*args)


async def _run_in_thread(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _rag_error(exc: RagError) -> JSONResponse:
    if isinstance(exc, (IndexNotFoundError, IndexCorruptError, IndexMismatchError)):
        return _error(503, str(exc), type_="server_error", code="index_unavailable")
    log.warning("answer failed: %s", exc)
    return _error(500, str(exc), type_="server_error")


def _chunk(cid: str, created: int, model: str, delta: dict, finish: str | None = None, **extra: Any) -> str:
    payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
               "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _sse(stream: Iterator, cid: str, created: int, model: str, kb: str, admission: Admission | None = None,
         usage: _UsageReport | None = None) -> Iterator[str]:
    # The slot is given back before [DONE], so a client that asks again at once finds it free.
    with admission.running() if admission is not None else _nothing():
        yield from _events(stream, cid, created, model, kb, usage)
    yield "data: [DONE]\n\n"


@contextmanager
def _nothing():
    yield


def _events(stream: Iterator, cid: str, created: int, model: str, kb: str,
            usage: _UsageReport | None = None) -> Iterator[str]:
    """Server-sent events: the role, the text as it comes, the rest of the reply (then [DONE]).

    The pipeline's final Answer is the checked one. When its text continues what was
    streamed (always for extractive answers) only the rest is sent; when the check changed
    it (an LLM's marks renumbered, or a fallback after a broken stream), the checked answer
    follows in full under a note, so the marks always match the sources sent with it.
    With ``usage`` (the client sent ``stream_options.include_usage``) every chunk has
    ``"usage": null`` and one more chunk with no choices carries the request's usage.
    """
    extra: dict[str, Any] = {"usage": None} if usage is not None else {}
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""}, **extra)
    sent = ""
    try:
        for item in stream:
            if isinstance(item, Answer):
                final = reply_text(item)
                if final.startswith(sent):
                    rest = final[len(sent):]
                else:
                    rest = "\n\n" + CHECKED_NOTE + "\n\n" + final
                if rest:
                    sent += rest
                    yield _chunk(cid, created, model, {"content": rest}, **extra)
                counted = usage.fields(item, sent) if usage is not None else {}
                rag_extra = {"usage_source": counted["usage_source"]} if usage is not None else {}
                yield _chunk(cid, created, model, {}, "stop", **extra, **_citation_fields(item, kb, **rag_extra))
                if usage is not None:
                    yield _usage_chunk(cid, created, model, counted["usage"])
                break
            if item:
                sent += item
                yield _chunk(cid, created, model, {"content": item}, **extra)
    except RagError as exc:
        yield f"data: {json.dumps(error_body(str(exc), 'server_error'), ensure_ascii=False)}\n\n"
    except Exception:  # never a traceback to the client; the log has it
        log.exception("streamed answer failed")
        yield f"data: {json.dumps(error_body('Internal error while answering; see the server log.', 'server_error'))}\n\n"


def _usage_chunk(cid: str, created: int, model: str, usage: dict | None) -> str:
    """The chunk OpenAI sends last with ``include_usage``: no choices, the whole request's usage."""
    payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
               "choices": [], "usage": usage}
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
