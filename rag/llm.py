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
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any, Callable, Iterator

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
        #                   | timeout | connection | other
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
        timeout=llm.timeout,
        max_retries=0,
        use_responses_api=False,
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
        "timeout": f"LLM 超时：{llm.timeout:g} 秒内没有响应{tries}；调大 RAG_LLM_TIMEOUT，"
        f"或检查 {url} 的服务是否过载",
        "connection": f"无法连接 LLM 服务 {url}{tries}：检查 OPENAI_BASE_URL，"
        "以及服务是否已经启动",
        "other": f"LLM 调用失败：{type(exc).__name__}：{detail}",
    }
    return LLMFailure(messages[kind], kind=kind, status=status, attempts=attempts)


# --- calls with retries -------------------------------------------------------

def _give_up_or_wait(
    exc: BaseException, llm: LLMSettings, attempt: int, sleep: Callable[[float], None],
    final: bool = False,
) -> None:
    """Raise the LLMFailure for ``exc`` when it is final, else back off before the next try."""
    if final or not is_retryable(exc) or attempt > llm.max_retries:
        failure = describe_failure(exc, llm, attempt)
        log.info("LLM call failed for good: %s", failure)
        raise failure from None
    delay = retry_delay(exc, attempt)
    log.info("LLM call failed (%s); retry %d in %.2fs", _kind(exc), attempt, delay)
    sleep(delay)


def invoke_with_retries(
    runnable,
    inputs: Any,
    llm: LLMSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """``runnable.invoke(inputs)``, retried on transient failures; raises LLMFailure."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return runnable.invoke(inputs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an LLMFailure
            _give_up_or_wait(exc, llm, attempt, sleep)


def stream_with_retries(
    runnable,
    inputs: Any,
    llm: LLMSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """Text pieces of ``runnable.stream(inputs)`` as they arrive.

    Retries transient failures until the first piece arrives; after that a
    failure is final (the caller has already shown the pieces). Raises LLMFailure.
    """
    attempt = 0
    while True:
        attempt += 1
        started = False
        try:
            for piece in runnable.stream(inputs):
                text = piece if isinstance(piece, str) else getattr(piece, "content", "")
                if text:
                    started = True
                    yield text
            return
        except Exception as exc:  # noqa: BLE001 - every failure becomes an LLMFailure
            _give_up_or_wait(exc, llm, attempt, sleep, final=started)
