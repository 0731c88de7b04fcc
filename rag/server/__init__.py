"""The programs' API served beside the page: an OpenAI-compatible ``/v1`` and the shared answering service.

``app.py`` wires it: FastAPI app → ``include_router(openai_router(service, api_key))`` →
``gr.mount_gradio_app(app, demo, path="/")`` → uvicorn. The Gradio endpoints (/chat,
/chat_stream, /ask) in ``rag.ui.api`` use the same ``ChatService``. Both answer from any
knowledge base (``catalog.KbCatalog``: ``kb=`` on Gradio, model ``rag-zh:<kb>`` on /v1), and
/v1 reports ``usage`` (``usage``: the LLM's own counts, or counted). See docs/api.md.
"""

from .auth import BearerAuth
from .catalog import KbCatalog
from .page_lang import PageLanguageMiddleware
from .routes import model_ids, model_names, openai_router, question_and_history, resolve_model
from .service import ChatService, check_history, reply_text
from .usage import Usage, UsageMeter, count_tokens

__all__ = ["BearerAuth", "ChatService", "KbCatalog", "PageLanguageMiddleware", "Usage", "UsageMeter", "check_history",
           "count_tokens", "model_ids", "model_names", "openai_router", "question_and_history", "reply_text",
           "resolve_model"]
