import numpy as np

from rag.lexical import BM25Index, tokenize


def test_tokenize_chinese_bigrams_latin_words_numbers():
    assert tokenize("会议在北京举行") == ["会议", "议在", "在北", "北京", "京举", "举行"]
    assert tokenize("VC/PE 机构") == ["vc", "pe", "机构"]
    assert tokenize("增长 6.9%，达 38.5 万亿") == ["增长", "6.9", "达", "38.5", "万亿"]
    assert tokenize("甲") == ["甲"]


def test_bm25_ranks_the_matching_text_first():
    texts = ["中央经济工作会议在北京举行", "百奥赛图是全球第一家规模化开发靶点人源化小鼠的企业", "会议提出扩大国内需求"]
    bm25 = BM25Index.build(texts)
    ids, scores = bm25.search("哪家企业开发人源化小鼠", 3)
    assert ids[0] == 1
    assert list(scores) == sorted(scores, reverse=True)
    ids, _ = bm25.search("北京的会议", 3)
    assert ids[0] == 0


def test_rare_terms_weigh_more():
    bm25 = BM25Index.build(["会议 会议 北京", "会议 上海", "会议 广州"])
    assert bm25.idf("北京") > bm25.idf("会议")
    assert bm25.idf("不存在的词") == 0.0


def test_unknown_query_gives_no_results():
    bm25 = BM25Index.build(["中文文本"])
    ids, scores = bm25.search("完全无关 xyz", 5)
    assert len(ids) == 0 and len(scores) == 0


def test_save_and_load_round_trip(tmp_path):
    bm25 = BM25Index.build(["中央经济工作会议在北京举行", "扩大国内需求"])
    bm25.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    np.testing.assert_allclose(loaded.scores("北京会议"), bm25.scores("北京会议"))
    assert loaded.vocab == bm25.vocab
