"""The OpenAI chat-completions wire format, as pydantic models (requests checked, responses built).

Only what this server reads is declared strictly (model, messages, stream,
stream_options.include_usage, n, top_k); the many optional parameters clients send
(temperature, max_tokens, user, …) are accepted and ignored, as other
OpenAI-compatible servers do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from .service import MAX_HISTORY_TURNS, MAX_TURN_CHARS

# A conversation of MAX_HISTORY_TURNS turns, plus system prompts and the question.
MAX_MESSAGES = 2 * MAX_HISTORY_TURNS + 8
CONVERSATION_ROLES = ("user", "assistant")
INSTRUCTION_ROLES = ("system", "developer")  # accepted and ignored: the answer prompt is the project's own


class TextPart(BaseModel):
    """One part of a message's content in the list form ({"type": "text", "text": ...})."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    text: StrictStr = Field(max_length=MAX_TURN_CHARS)


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: StrictStr | list[TextPart] = Field(
        description="the message text; a list may hold text parts only")
    name: StrictStr | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = Field(default=False, description="end the stream with a chunk carrying usage")


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: StrictStr
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1, description="one answer per question")
    top_k: int | None = Field(default=None, description="passages to retrieve (1–50; extension)")

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with a usage chunk (plain responses always carry ``usage``)."""
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)


def describe_validation_error(exc: ValidationError) -> str:
    """One readable line per problem: ``messages.0.role: Input should be 'system', …``."""
    lines = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        lines.append(f"{where}: {err.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    if more > 0:
        lines.append(f"… and {more} more")
    return "; ".join(lines)


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict:
    """The OpenAI error shape, which the openai SDK turns into its exception's message."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
