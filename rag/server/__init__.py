"""The programs' API served beside the page: an OpenAI-compatible ``/v1`` and the shared answering service.

``app.py`` wires it: FastAPI app → ``include_router(openai_router(service, api_key))`` →
``gr.mount_gradio_app(app, demo, path="/")`` → uvicorn. The Gradio endpoints (/chat,
/chat_stream, /ask) in ``rag.ui.api`` use the same ``ChatService``. See docs/api.md.
"""

from .auth import BearerAuth
from .page_lang import PageLanguageMiddleware
from .routes import model_names, openai_router, question_and_history
from .service import ChatService, check_history, reply_text

__all__ = ["BearerAuth", "ChatService", "PageLanguageMiddleware", "check_history", "model_names", "openai_router",
           "question_and_history", "reply_text"]
