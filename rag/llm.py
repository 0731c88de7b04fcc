"""The chat model behind LLM answers: any OpenAI-compatible endpoint, with bounded retries.

``chat_model`` builds a LangChain ``ChatOpenAI`` from ``LLMSettings``. The
``openai`` client's own retries are switched off: ``invoke_with_retries`` and
``stream_with_retries`` retry only what retrying can fix (429, 5xx, 408/409,
timeouts, refused connections), with exponential backoff capped at
``MAX_BACKOFF`` seconds (a server's Retry-After is honoured up to that cap, so a
"come back in two minutes" never turns into a hang). Everything else (401, 403,
404, 400) fails at once. Every failure becomes an ``LLMFailure`` whose Chinese
message names the cause and the setting to check. The API key is never logged
nor put into a message.

One **deadline** bounds a whole answer's waiting for the model
(``LLMSettings.deadline``, ``RAG_LLM_DEADLINE``, default 30 s): the answer
pipeline makes one ``Deadline`` per answer and passes it (``deadline=``) to the
follow-up's rewrite and to the answer's generation, so the rewrite, every
attempt, backoff and the whole stream share it. The model runs in a worker
thread and the caller stops waiting when the deadline passes — a slow server, a
stream that stalls or one that trickles forever — and gets an ``LLMFailure`` of
kind ``"deadline"``; the pipeline then answers extractively with that message in
``Answer.warnings``. An answer's deadline is a budget (``running=False``): it
runs only while a call waits for the model, not while the pipeline retrieves
and judges between the two calls. A call without ``deadline=`` gets a fresh one
of its own. The per-request timeout is ``min(timeout, deadline)``, so an
abandoned worker ends by then too.
"""

from __future__ import annotations

import contextvars
from contextlib import closing
import logging
import queue
import random
import re
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from .config import LLMSettings
from .errors import ConfigError, LLMError

log = logging.getLogger(__name__)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
REWRITE_MAX_TOKENS = 200


class LLMFailure(LLMError):
    """An LLM call that failed for good. ``kind`` names the cause for programs."""

    def __init__(self, message: str, kind: str, status: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.kind = kind  # auth | forbidden | not_found | bad_request | rate_limit | server
        #                   | timeout | connection | deadline | other
        self.status = status
        self.attempts = attempts


def chat_model(llm: LLMSettings, *, max_tokens: int | None = None):
    """A LangChain ChatOpenAI for ``llm`` (retries are ours, not the client's)."""
    from langchain_openai import ChatOpenAI

    if not llm.model:
        raise ConfigError("RAG_LLM_MODEL is not set; name the model, e.g. gpt-4o-mini")
    if not llm.api_key:
        raise ConfigError(
            "OPENAI_API_KEY is not set; local servers (vLLM, Ollama) accept any value, "
            "e.g. OPENAI_API_KEY=local"
        )
    if llm.timeout <= 0:
        raise ConfigError(f"RAG_LLM_TIMEOUT={llm.timeout} must be a positive number of seconds")
    if llm.max_retries < 0:
        raise ConfigError(f"RAG_LLM_MAX_RETRIES={llm.max_retries} must be 0 or more")
    if llm.deadline <= 0:
        raise ConfigError(f"RAG_LLM_DEADLINE={llm.deadline} must be a positive number of seconds")
    base_url = llm.base_url or OPENAI_DEFAULT_BASE_URL
    if not re.match(r"^https?://", base_url):
        raise ConfigError(
            f"OPENAI_BASE_URL={base_url!r} is not an http(s) URL; use e.g. "
            "http://localhost:8000/v1"
        )
    tokens = max_tokens or llm.max_tokens
    kwargs: dict[str, Any] = {}
    if llm.base_url is None:
        kwargs["max_tokens"] = tokens  # sent as max_completion_tokens, what OpenAI wants
    else:
        # Compatible servers (vLLM, Ollama, DeepSeek, DashScope) all read max_tokens;
        # not all of them read max_completion_tokens.
        kwargs["extra_body"] = {"max_tokens": tokens}
    return ChatOpenAI(
        model=llm.model,
        api_key=llm.api_key,
        base_url=base_url,
        temperature=llm.temperature,
        timeout=min(llm.timeout, llm.deadline),  # no request outlives the answer's deadline
        max_retries=0,
        use_responses_api=False,
        stream_usage=True,  # ask for the token counts in streams too (/v1 passes them on as ``usage``)
        **kwargs,
    )


# --- failures -----------------------------------------------------------------

def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _kind(exc: BaseException) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    status = _status(exc)
    if status is None:
        name = type(exc).__name__.lower()
        if "timeout" in name:
            return "timeout"
        if "connect" in name:
            return "connection"
        return "other"
    if status == 401:
        return "auth"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if status in (408, 409):
        return "timeout" if status == 408 else "server"
    if status == 429:
        return "rate_limit"
    if status >= 500:
        return "server"
    return "bad_request"


RETRYABLE = frozenset({"rate_limit", "server", "timeout", "connection"})


def is_retryable(exc: BaseException) -> bool:
    """True for failures a later attempt can fix (429, 5xx, timeouts, connections)."""
    return _kind(exc) in RETRYABLE


def retry_delay(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): Retry-After, else backoff."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name) if hasattr(headers, "get") else None
        if raw:
            try:
                return min(max(float(raw) * scale, 0.0), MAX_BACKOFF)
            except ValueError:
                pass  # an HTTP date; fall back to our own backoff
    backoff = min(INITIAL_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)
    return backoff * (1 - 0.25 * random.random())


def redact(text: str, llm: LLMSettings) -> str:
    """``text`` without the API key (or anything that looks like a bearer key)."""
    if llm.api_key:
        text = text.replace(llm.api_key, "***")
    text = re.sub(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}", r"\1***", text)
    return re.sub(r"(?i)(bearer\s+)\S+", r"\1***", text)


def _server_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:200]
    return str(getattr(exc, "message", "") or exc)[:200]


def describe_failure(exc: BaseException, llm: LLMSettings, attempts: int = 1) -> LLMFailure:
    """An LLMFailure whose message names the cause and what to check."""
    if isinstance(exc, LLMFailure):
        return exc
    kind = _kind(exc)
    status = _status(exc)
    url = llm.base_url or OPENAI_DEFAULT_BASE_URL
    model = llm.model
    tries = f"（共尝试 {attempts} 次）" if attempts > 1 else ""
    detail = redact(_server_message(exc), llm)
    messages = {
        "auth": f"LLM 认证失败 ({status})：检查 OPENAI_API_KEY 是否正确、是否属于 {url}",
        "forbidden": f"LLM 拒绝访问 ({status})：这个 API key 无权使用模型 {model}；"
        "检查账户权限，或换一个 RAG_LLM_MODEL",
        "not_found": f"LLM 找不到模型或接口 ({status})：检查 RAG_LLM_MODEL={model} 是否为该服务"
        f"提供的模型名，以及 OPENAI_BASE_URL={url}（通常以 /v1 结尾）",
        "bad_request": f"LLM 拒绝了请求 ({status})：{detail}；检查 RAG_LLM_MODEL 与 "
        "RAG_LLM_MAX_TOKENS 是否适合该模型",
        "rate_limit": f"LLM 请求过于频繁或额度不足 ({status}){tries}：稍后再试，或检查账户额度",
        "server": f"LLM 服务端出错 ({status}){tries}：稍后再试，或检查 {url} 的服务状态",
        "timeout": f"LLM 超时：{min(llm.timeout, llm.deadline):g} 秒内没有响应{tries}；调大 RAG_LLM_TIMEOUT，"
        f"或检查 {url} 的服务是否过载",
        "connection": f"无法连接 LLM 服务 {url}{tries}：检查 OPENAI_BASE_URL，"
        "以及服务是否已经启动",
        "other": f"LLM 调用失败：{type(exc).__name__}：{detail}",
    }
    return LLMFailure(messages[kind], kind=kind, status=status, attempts=attempts)


# --- the deadline -------------------------------------------------------------

class Deadline:
    """How long the model may still be waited for.

    ``Deadline(seconds)`` runs from now, like a clock on the wall: every call given
    it ends by the same moment. ``Deadline(seconds, running=False)`` is an answer's
    budget: it runs only while a call (``invoke_with_retries``,
    ``stream_with_retries``) waits on it and stands still between calls, so the
    pipeline's own work between a follow-up's rewrite and its answer (retrieval,
    judging, loading the embedder for a first question) costs the model no time.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic,
                 *, running: bool = True) -> None:
        self.seconds = seconds
        self._clock = clock
        self._left = float(seconds)  # what was left when it last stood still
        self._since: float | None = None  # when it last started running
        if running:
            self.resume()

    @classmethod
    def for_settings(cls, llm: LLMSettings, *, running: bool = True) -> Deadline:
        return cls(llm.deadline, running=running)

    @property
    def running(self) -> bool:
        return self._since is not None

    def resume(self) -> bool:
        """Run the clock; True when it stood still until now (the caller pauses it again)."""
        if self._since is not None:
            return False
        self._since = self._clock()
        return True

    def pause(self) -> None:
        """Stop the clock, keeping what is left."""
        if self._since is not None:
            self._left = self.remaining()
            self._since = None

    def remaining(self) -> float:
        """Seconds left (0 once it has passed)."""
        spent = self._clock() - self._since if self._since is not None else 0.0
        return max(0.0, self._left - spent)

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def deadline_failure(llm: LLMSettings, attempts: int, last: BaseException | None = None
                     ) -> LLMFailure:
    """The failure for a call the deadline ended; names the last cause when there was one."""
    url = llm.base_url or OPENAI_DEFAULT_BASE_URL
    tries = f"，共尝试 {attempts} 次" if attempts > 1 else ""
    cause = f"；最后一次的问题：{describe_failure(last, llm)}" if last is not None else ""
    return LLMFailure(
        f"LLM 没有在 {llm.deadline:g} 秒的总时限内答完{tries}{cause}；"
        f"调大 RAG_LLM_DEADLINE（现为 {llm.deadline:g} 秒），或检查 {url} 的服务是否过载",
        kind="deadline", status=_status(last) if last is not None else None, attempts=attempts,
    )


_PIECE, _DONE, _ERROR = "piece", "done", "error"


def _text(piece: Any) -> str:
    """The text of a streamed piece (a str, or a message chunk's content)."""
    text = piece if isinstance(piece, str) else getattr(piece, "content", "")
    return text if isinstance(text, str) else ""


class _Worker:
    """Runs ``produce()`` (an iterable) in a daemon thread; the caller reads with a time limit.

    Stopping (``stop``) makes the worker close the iterable at its next item, which
    closes the HTTP response; a worker blocked on a silent server ends at the
    request timeout, which ``chat_model`` caps at the deadline.
    """

    def __init__(self, produce: Callable[[], Iterable[Any]]) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        context = contextvars.copy_context()  # LangChain callbacks and tracing follow the call
        self._thread = threading.Thread(target=context.run, args=(self._run, produce),
                                        name="llm-call", daemon=True)
        self._thread.start()

    def _run(self, produce: Callable[[], Iterable[Any]]) -> None:
        items = None
        try:
            items = iter(produce())
            for item in items:
                if self._stop.is_set():
                    return
                self._queue.put((_PIECE, item))
            self._queue.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._queue.put((_ERROR, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a broken stream
                    pass

    def get(self, timeout: float) -> tuple[str, Any]:
        """The next (kind, value); raises queue.Empty when ``timeout`` passes first."""
        return self._queue.get(timeout=max(timeout, 0.0))

    def stop(self) -> None:
        self._stop.set()


# --- calls with retries -------------------------------------------------------

def _give_up_or_wait(
    exc: BaseException, llm: LLMSettings, attempt: int, sleep: Callable[[float], None],
    final: bool = False, deadline: Deadline | None = None,
) -> None:
    """Raise the LLMFailure for ``exc`` when it is final, else back off before the next try."""
    if final or not is_retryable(exc) or attempt > llm.max_retries:
        failure = describe_failure(exc, llm, attempt)
        log.info("LLM call failed for good: %s", failure)
        raise failure from None
    delay = retry_delay(exc, attempt)
    if deadline is not None and delay >= deadline.remaining():
        failure = deadline_failure(llm, attempt, exc)  # no time left for another try
        log.info("LLM call stopped by the deadline: %s", failure)
        raise failure from None
    log.info("LLM call failed (%s); retry %d in %.2fs", _kind(exc), attempt, delay)
    sleep(delay)


def _attempts(produce: Callable[[], Iterable[Any]], llm: LLMSettings, deadline: Deadline,
              sleep: Callable[[float], None]) -> Iterator[Any]:
    """Items of ``produce()``, retried on transient failures until the first item arrives,
    all within ``deadline``. Raises LLMFailure."""
    resumed = deadline.resume()  # an answer's budget runs only while a call waits on it
    try:
        attempt = 0
        while True:
            attempt += 1
            if deadline.expired:  # spent by an earlier call of the same answer: send nothing
                failure = deadline_failure(llm, max(attempt - 1, 1))
                log.info("LLM call not started, the deadline has passed: %s", failure)
                raise failure
            started = False
            worker = _Worker(produce)
            try:
                while True:
                    try:
                        kind, value = worker.get(deadline.remaining())
                    except queue.Empty:
                        failure = deadline_failure(llm, attempt)
                        log.info("LLM call stopped by the deadline: %s", failure)
                        raise failure from None
                    if kind == _DONE:
                        return
                    if kind == _ERROR:
                        _give_up_or_wait(value, llm, attempt, sleep, final=started,
                                         deadline=deadline)
                        break  # retry
                    started = started or bool(_text(value))  # shown to the person: no retry after
                    yield value
            finally:
                worker.stop()
    finally:
        if resumed:
            deadline.pause()


def invoke_with_retries(
    runnable,
    inputs: Any,
    llm: LLMSettings,
    sleep: Callable[[float], None] = time.sleep,
    *,
    deadline: Deadline | None = None,
) -> Any:
    """``runnable.invoke(inputs)``, retried on transient failures, within the deadline
    (``deadline``, else a fresh one of ``llm.deadline`` seconds); raises LLMFailure."""
    deadline = deadline or Deadline.for_settings(llm)
    with closing(_attempts(lambda: [runnable.invoke(inputs)], llm, deadline, sleep)) as results:
        for result in results:
            return result  # closing: the worker stops and the budget pauses now
    raise LLMFailure("LLM 没有返回结果", kind="other")  # unreachable: invoke returns or raises


def stream_with_retries(
    runnable,
    inputs: Any,
    llm: LLMSettings,
    sleep: Callable[[float], None] = time.sleep,
    *,
    deadline: Deadline | None = None,
) -> Iterator[str]:
    """Text pieces of ``runnable.stream(inputs)`` as they arrive.

    Retries transient failures until the first piece arrives; after that a
    failure is final (the caller has already shown the pieces). The whole of it —
    attempts, backoff and stream — ends by ``deadline`` (else a fresh one of
    ``llm.deadline`` seconds). Raises LLMFailure.
    """
    deadline = deadline or Deadline.for_settings(llm)
    for piece in _attempts(lambda: runnable.stream(inputs), llm, deadline, sleep):
        text = _text(piece)
        if text:
            yield text
