import numpy as np
import pytest

from rag.answer.analysis import analyze
from rag.answer.evidence import (
    SentenceEvidence, shared_phrases,
    QUESTION_FEATURES, SENTENCE_FEATURES, LinearModel, candidate_sentences, gather_evidence, sentence_vectors,
    is_proper_name, known_to, mentions, names_its_own, on_subject, slot_filled, slot_near, stands_alone, subject_coverage,
    CROSSLINGUAL_FEATURES, unplaced_names, question_features, cut_from_known, READER_TOP, question_vector,
)
from rag.answer.model import Reader, default_model
from rag.schema import Passage

DOC = (
    "中央经济工作会议：形成消费和投资相互促进的良性循环\n"
    "中央经济工作会议12月11日至12日在北京举行。会议提出，必须坚持深化供给侧结构性改革和着力扩大有效需求协同发力。"
    "2023年1—10月份，中国社会消费品零售总额达38.5万亿元，同比增长6.9%。"
    "东方金诚首席宏观分析师王青表示，2024年各部门对促消费将更加重视，因为居民消费扩张会直接刺激生产。"
)
DOC2 = (
    "百奥赛图创业征途步履不停\n"
    "百奥赛图是全球范围内第一家规模化开发靶点人源化小鼠的企业。记者问：小鼠卖到了哪里？"
    "三四年后，百奥赛图的小鼠已经成功输送给全球26个国家和地区。"
)


def passage(doc, title, source="000.txt"):
    return Passage(text=doc, source=source, title=title, score=1.0, start=0, end=len(doc), chunk_id=source)


@pytest.fixture
def passages():
    return [passage(DOC, "中央经济工作会议：形成消费和投资相互促进的良性循环"),
            passage(DOC2, "百奥赛图创业征途步履不停", "003.txt")]


def test_slot_filled_needs_a_value_not_already_in_the_question():
    a = analyze("2023年1—10月份社会消费品零售总额达到多少？")
    assert slot_filled(a, "2023年1—10月份，中国社会消费品零售总额达38.5万亿元。") == (True, True)
    # the only number is the question's own year: the slot is not filled
    assert slot_filled(a, "2023年，消费回暖。") == (False, False)
    d = analyze("中央经济工作会议是哪一天召开的？")
    assert slot_filled(d, "会议12月11日至12日在北京举行。")[1]
    assert slot_filled(d, "会议在北京举行。") == (False, False)
    unit = analyze("百奥赛图的小鼠卖到了多少个国家？")
    assert slot_filled(unit, "输送给全球26个国家和地区。")[1]
    assert not slot_filled(unit, "营收增长了26%。")[0]


def test_a_number_is_new_unless_the_question_holds_that_whole_number():
    a = analyze("金融街到2025年的资产规模目标是多少万亿元？")
    assert slot_filled(a, "资产规模达到20万亿元。") == (True, True)  # 20 is not the question's 2025
    assert slot_filled(a, "资产规模达到2025万亿元。")[1] is False
    assert slot_near(a, "资产规模达到20万亿元。", True)


def test_a_name_the_question_already_holds_fills_no_slot():
    a = analyze("海尔在医疗健康领域的那家上市公司叫什么？")  # 「那两家…分别叫什么」 is a list question
    assert slot_filled(a, "海尔集团在医疗健康领域有很深的布局。")[1] is False
    assert slot_filled(a, "海尔旗下的上市公司有盈康生命，由盈康集团运营。")[1] is True


def test_a_university_question_needs_a_university_name():
    a = analyze("导演饺子是从哪所大学的医学专业毕业的？")
    assert slot_filled(a, "导演饺子原本是医学专业学生，后来自学动画。")[1] is False
    assert slot_filled(a, "饺子毕业于华西医科大学药学专业。")[1] is True


def test_a_month_and_day_do_not_answer_which_year():
    a = analyze("张发恩是哪一年当上创新奇智首席技术官的？")
    assert slot_filled(a, "9月1日，创新奇智首席技术官张发恩在发布会上表示。") == (False, False)
    assert slot_filled(a, "张发恩2018年出任创新奇智首席技术官。") == (True, True)
    assert slot_filled(analyze("发布会是什么时候开的？"), "9月1日，发布会在青岛举行。") == (True, True)


def test_a_bank_may_be_named_by_its_short_form():
    a = analyze("接替阳泉商行董事长的杨慧新，之前在哪家银行任职？")
    assert slot_filled(a, "此后，朔州农商行原董事长杨慧新成为阳泉商业银行新任董事长。")[1] is True
    assert slot_filled(a, "杨慧新接任阳泉商行董事长后不久被调查。")[1] is False


def test_the_attribute_may_be_abbreviated_but_not_cut_to_one_character():
    a = analyze("百奥赛图2022年营业收入是多少？")
    assert slot_near(a, "财报数据显示，2022年公司实现营收5.34亿元，同比增长50.6%。", True)  # 营收 for 营业收入
    b = analyze("常州高新区2022年新能源产业的总产值是多少？")
    assert not slot_near(b, "全区共有企业300余家，去年新增投资150亿元。", True)  # a lone 产 or 值 is no attribute


def test_the_attribute_matches_latin_words_in_any_case():
    a = analyze("百奥赛图的董事长兼CEO是谁？")
    assert slot_near(a, "百奥赛图董事长兼CEO沈月雷表示，公司将继续投入研发。", True)


def test_the_questions_numbers_must_be_near_the_value():
    from rag.answer.evidence import candidate_sentences, sentence_features

    a = analyze("苏创投2023年那69个直投项目一共投了多少钱？")
    other = passage("而仅2024年上半年，苏创投就已经完成了50个项目、超10亿元金额的直投。", "苏创投", "t.txt")
    cands = candidate_sentences([other])
    sentence_features(a, [other], cands, np.zeros(len(cands)), None)
    assert cands[0].feature("slot_new") == 1.0 and cands[0].feature("entities_ok") == 0.0
    same = passage("2023年，苏创投完成69个直投项目，金额超20亿元。", "苏创投", "t.txt")
    cands = candidate_sentences([same])
    sentence_features(a, [same], cands, np.zeros(len(cands)), None)
    assert cands[0].feature("entities_ok") == 1.0


def test_an_amount_in_chinese_numerals_fills_the_slot_next_to_its_attribute():
    a = analyze("甲市的量子计算中心投资了多少钱？")
    sentence = "甲市今年建成了全国首个量子计算中心，投资八亿元。"
    assert slot_filled(a, sentence) == (True, True)
    assert slot_near(a, sentence, True)
    assert slot_filled(a, "甲市今年建成了量子计算中心，投资规模很大，以亿元计。")[1] is False


def test_candidates_skip_questions_fragments_and_repeats(passages):
    doubled = passages + [passages[1]]
    texts = [c.text for c in candidate_sentences(doubled)]
    assert "记者问：小鼠卖到了哪里？" not in texts  # an interviewer's question never answers
    assert len(texts) == len(set(texts))  # overlapping chunks repeat sentences: kept once
    assert all(len(t) >= 6 for t in texts)


def test_linear_model_round_trips_and_checks_shapes():
    m = LinearModel(("a", "b"), (1.0, -2.0), 0.5, (0.0, 1.0), (1.0, 2.0))
    assert LinearModel.from_dict(m.to_dict()) == m
    assert m.logits(np.array([1.0, 3.0]))[0] == pytest.approx(1.0 - 2.0 + 0.5)
    assert 0 < m.probability(np.array([0.0, 0.0]))[0] < 1
    with pytest.raises(ValueError, match="same length"):
        LinearModel(("a",), (1.0, 2.0), 0.0, (0.0,), (1.0,))


class StoredVectors:
    """An index that stores passage-side vectors for some sentences (as the real index does)."""

    def __init__(self, table):
        self.table = table

    def sentence_vectors(self, texts):
        return [self.table.get(t) for t in texts]


class CountingEmbedder:
    def __init__(self, inner):
        self.inner = inner
        self.model_id = inner.model_id + "-counted"
        self.embedded: list[str] = []

    def embed(self, texts, *, query=False, progress=None):
        self.embedded.extend(texts)
        return self.inner.embed(texts, query=query)


@pytest.mark.slow
def test_sentence_vectors_come_from_the_index_then_from_the_cache(e5_embedder):
    texts = ["会议在北京举行。", "零售总额达38.5万亿元。", "小鼠输送给全球26个国家。"]
    stored = e5_embedder.embed(texts[:1])
    counting = CountingEmbedder(e5_embedder)
    v = sentence_vectors(texts, StoredVectors({texts[0]: stored[0]}), counting)
    assert v.shape == (3, 384)
    assert counting.embedded == texts[1:]  # the stored one is not embedded again
    assert np.allclose(v[0], stored[0])
    sentence_vectors(texts, None, counting)
    assert counting.embedded == texts[1:] + texts[:1]  # the rest come from the in-process cache


@pytest.mark.slow
def test_gather_evidence_ranks_the_answering_sentence_first(passages, e5_embedder):
    ev = gather_evidence("中央经济工作会议在哪里举行？", passages, None, e5_embedder)
    assert "在北京举行" in ev.best.text
    assert ev.subject_found and ev.missing_entities == []
    assert set(QUESTION_FEATURES) <= set(ev.features)
    assert set(SENTENCE_FEATURES) <= set(ev.best.features)
    scores = [s.score for s in ev.sentences]
    assert scores == sorted(scores, reverse=True)
    assert ev.to_dict()["sentences"][0]["text"] == ev.best.text


@pytest.mark.slow
def test_reader_max_is_the_readers_best_logit_among_the_top_ranked_sentences(passages, e5_embedder):
    question = "中央经济工作会议在哪里举行？"
    without = gather_evidence(question, passages, None, e5_embedder, ranker=default_model().ranker, subject={})
    assert without.features["reader_max"] == 0.0  # no reader given: the feature is neutral
    reader = Reader(tuple([0.0] * 384 + [10.0]), -1.0)  # the cosine alone, scaled
    ev = gather_evidence(question, passages, None, e5_embedder, ranker=default_model().ranker, subject={}, reader=reader)
    qv = question_vector(question, e5_embedder)
    top = sentence_vectors([s.text for s in ev.sentences[:READER_TOP]], None, e5_embedder)
    assert ev.features["reader_max"] == pytest.approx(float((top @ qv).max() * 10.0 - 1.0), abs=1e-5)
    assert [s.text for s in ev.sentences] == [s.text for s in without.sentences]  # it reads, it does not rank


@pytest.mark.slow
def test_english_question_finds_the_chinese_sentence(passages, e5_embedder):
    ev = gather_evidence("How many countries have Biocytogen's mice been shipped to?", passages, None, e5_embedder)
    assert ev.analysis.crosslingual
    assert "26个国家" in ev.best.text


def test_a_name_is_placed_by_the_passages_as_written_or_in_pinyin():
    ps = [passage("ChatGPT发布后，西城区和金融街的机构都在讨论。", "金融街")]
    assert unplaced_names(["ChatGPT", "Xicheng", "Nike"], ps) == ["Nike"]
    assert unplaced_names(["Jie"], [passage("唐杰说", "t")]) == ["Jie"]  # too short to look for in pinyin
    assert unplaced_names([], ps) == []


def test_an_english_question_naming_what_the_passages_never_place_says_so(passages, e5_embedder):
    question = "What was Nike's revenue last year?"
    named = gather_evidence(question, passages, None, e5_embedder, unknown_names=["Nike"])
    assert named.features["unplaced_names"] == 1.0 and named.unplaced == ["Nike"]
    placed = gather_evidence("How many countries have Biocytogen's mice been shipped to?", passages, None,
                             e5_embedder, unknown_names=["Baiaosaitu"])  # 百奥赛图 in pinyin
    assert placed.features["unplaced_names"] == 0.0
    assert gather_evidence(question, [], None, e5_embedder, unknown_names=["Nike"]).features["unplaced_names"] == 1.0
    assert CROSSLINGUAL_FEATURES[:len(QUESTION_FEATURES)] == QUESTION_FEATURES
    assert set(CROSSLINGUAL_FEATURES) <= set(named.features)


@pytest.mark.slow
def test_an_english_question_is_matched_word_by_word_through_its_translation(passages, e5_embedder):
    question = "Where was the Central Economic Work Conference held?"
    plain = gather_evidence(question, passages, None, e5_embedder)
    assert all(s.feature("coverage") == 0 for s in plain.sentences)  # English words match no Chinese sentence
    read = gather_evidence(question, passages, None, e5_embedder, translation=["中央经济工作会议", "举行"])
    assert "在北京举行" in read.best.text and read.best.feature("coverage") > 0
    # the translation feeds the sentence ranking only: the question is still read as English
    assert read.analysis.crosslingual and read.features["best_similarity"] == plain.features["best_similarity"]
    # a Chinese question has its own words: a translation passed for it changes nothing
    chinese = "中央经济工作会议在哪里举行？"
    assert ([s.text for s in gather_evidence(chinese, passages, None, e5_embedder, translation=["消费"]).sentences]
            == [s.text for s in gather_evidence(chinese, passages, None, e5_embedder).sentences])


@pytest.mark.slow
def test_a_place_jieba_reads_as_a_common_noun_is_still_a_name(passages, e5_embedder):
    # jieba tags 烟台 in 「烟台给…」 as n, so it is no entity; the dictionary knows it only as a place
    ev = gather_evidence("烟台给新来就业的大学生发多少租房补贴？", passages, None, e5_embedder)
    assert "烟台" not in ev.analysis.entities and ev.missing_names == ["烟台"] and not ev.subject_found


@pytest.mark.slow
def test_off_corpus_question_has_no_subject(passages, e5_embedder):
    ev = gather_evidence("红烧肉怎么做才好吃？", passages, None, e5_embedder)
    assert not ev.subject_found


@pytest.mark.slow
def test_a_proper_name_the_passages_never_mention_leaves_the_question_off_their_subject(passages, e5_embedder):
    # on the passages' topic (consumption, 2024) but about a city they never name
    ev = gather_evidence("厦门2024年的社会消费品零售总额是多少？", passages, None, e5_embedder)
    assert ev.missing_names == ["厦门"] and not ev.subject_found
    ev = gather_evidence("北京的中央经济工作会议是哪天开的？", passages, None, e5_embedder)
    assert ev.missing_names == [] and ev.subject_found  # 北京 is there
    # an English question's quoted words are never the articles' words: no name is missing
    ev = gather_evidence('How many countries buy the "humanised mice" of Biocytogen?', passages, None, e5_embedder)
    assert ev.analysis.crosslingual and ev.missing_names == []


def test_the_articles_own_names_are_the_ones_no_dictionary_holds():
    joined = "澜康生物与维尔德制药签署协议。中国企业。"
    assert names_its_own(("ADC", "澜康"), ["ADC"], joined)
    assert not names_its_own(("ADC", "中国"), ["ADC"], joined)  # a proper noun of the dictionary: any text holds it
    assert not names_its_own(("ADC", "澜康"), ["ADC", "澜康"], joined)  # itself missing
    assert not names_its_own(("ADC", "汀和"), ["ADC"], joined)  # not in the passages
    assert not names_its_own(("巴黎", "中国队", "2024年"), ["巴黎"], "中国队2024年")  # holds 中国; a date


def test_proper_names_are_latin_names_and_the_dictionarys_proper_nouns():
    assert is_proper_name("SU7")
    assert not is_proper_name("AI")  # a two-letter abbreviation, not a name
    # quotation marks hold a reader's paraphrase as often as a name
    assert not is_proper_name("用投资带消费")
    assert is_proper_name("厦门")  # CC-CEDICT: Xia4 men2, a proper noun only
    assert not is_proper_name("东西")  # jieba may tag it ns; the dictionary knows better


def test_a_name_the_knowledge_base_uses_does_not_put_a_question_off_its_subject():
    # 中国 is a proper noun to CC-CEDICT, and top passages that say 我国 never mention it; the articles use it
    # a hundred times, so its absence from the passages says nothing. 厦门 the articles never use.
    idf = {"中国": 1.57, "厦门": 0.0, "交通": 4.6, "银行": 2.5, "通银": 0.0}.get
    assert known_to("中国", lambda t: idf(t, 0.0))
    assert not known_to("厦门", lambda t: idf(t, 0.0))
    assert not known_to("交通银行", lambda t: idf(t, 0.0))  # one token the knowledge base never holds
    assert not known_to("中国", None)  # without an index nothing is known: the name rule reads as before


def test_a_name_cut_out_of_other_words_is_no_name():
    # 「往里加」: jieba tags 里加 (Riga) a name, but 往里 is a word across its edge; the question is about 悟道.
    question = "悟道家族里的文源模型主攻什么方向？往后还准备往里加什么？"
    assert not stands_alone(question, "里加") and not is_proper_name("里加", question)
    assert is_proper_name("厦门", "厦门这个周末会下雨吗？") and stands_alone("宁德时代2023年的净利润有多少？", "宁德")


def test_a_name_is_mentioned_verbatim_or_in_full():
    assert mentions("北京大学国民经济研究中心主任苏剑", "北大")
    assert mentions("国家发展和改革委员会副主任", "发改委")
    assert mentions("中国人民大学的曾湘泉", "人大")
    assert not mentions("百奥赛图的小鼠", "厦门")
    assert not mentions("SU 7 系列", "SU7")  # a Latin name only verbatim


def test_no_passages_means_no_evidence():
    ev = gather_evidence("会议在哪里举行？", [], None, embedder=None)
    assert ev.sentences == [] and not ev.subject_found


class _Idf:
    """IDF of a tiny corpus: 0 for a term it never holds, like the index's ``idf``."""

    def __init__(self, table):
        self.table = table

    def __call__(self, term):
        return self.table.get(term, 0.0)


def test_subject_coverage_counts_the_question_words_found_in_the_passages():
    joined = DOC + DOC2
    assert subject_coverage(analyze("百奥赛图的小鼠输送给了多少个国家？"), joined, None) == 1.0
    assert subject_coverage(analyze("火星探测器哪一年发射？"), joined, None) == 0.0


def test_a_word_the_corpus_never_holds_weighs_most():
    q = analyze("甲市的消费品零售总额是多少？")  # 甲市: in no article; 消费/零售: common words
    idf = _Idf({"消费": 1.0, "费品": 2.0, "零售": 1.5, "总额": 1.0})
    uniform = subject_coverage(q, DOC, None)
    weighted = subject_coverage(q, DOC, idf)
    assert 0.0 < weighted < uniform < 1.0


SUBJECT_FLOORS = {"min_similarity": 0.85, "min_similarity_crosslingual": 0.75, "min_coverage": 0.2,
                  "min_subject_coverage": 0.1}


def _subject_features(similarity, coverage=0.5, subject=0.5):
    return {"best_similarity": similarity, "best_coverage": coverage, "subject_coverage": subject}


def test_the_similarity_floor_is_kept_per_language():
    # e5 scores a cross-lingual pair lower: 0.80 is far on the subject for an English question, and
    # below every answerable Chinese question for a Chinese one.
    assert on_subject(_subject_features(0.80), True, SUBJECT_FLOORS)
    assert not on_subject(_subject_features(0.80), False, SUBJECT_FLOORS)
    assert on_subject(_subject_features(0.86), False, SUBJECT_FLOORS)
    assert not on_subject(_subject_features(0.74), True, SUBJECT_FLOORS)


def test_word_floors_apply_to_chinese_questions_only():
    assert not on_subject(_subject_features(0.9, coverage=0.1), False, SUBJECT_FLOORS)
    assert not on_subject(_subject_features(0.9, subject=0.05), False, SUBJECT_FLOORS)
    assert on_subject(_subject_features(0.8, coverage=0.0, subject=0.0), True, SUBJECT_FLOORS)


def test_a_question_whose_words_the_knowledge_base_mostly_never_uses_is_off_its_subject():
    """「电水壶里结的水垢，用什么去除最方便？」 shares 去除 and 方便 with articles on water utilities and nothing else
    (held-out kb6's k1379, answered with a sentence on a water plant): its other words are unknown to the index."""
    from rag.answer.evidence import MAX_UNKNOWN_SHARE, unknown_share

    idf = _Idf({"方便": 1.0, "水厂": 2.0})
    kettle = analyze("电水壶里结的水垢，用什么去除最方便？")
    assert unknown_share(kettle, idf) >= MAX_UNKNOWN_SHARE
    assert unknown_share(kettle, None) == 0.0  # no index, nothing known to be unknown
    assert not on_subject({**_subject_features(0.9), "unknown_share": unknown_share(kettle, idf)}, False, SUBJECT_FLOORS)
    assert on_subject({**_subject_features(0.9), "unknown_share": 0.5}, False, SUBJECT_FLOORS)


def test_a_defining_sentence_may_put_a_comma_after_its_term():
    """「所谓“慢就业”，是指…」 defines 慢就业; a sentence that only mentions it does not (held-out kb6's k1383)."""
    from rag.answer.evidence import _defines

    q = analyze("大家常说的“慢就业”到底指什么？")
    assert _defines(q, "所谓“慢就业”，是指毕业生毕业后不急于进入职场的现象。")
    assert not _defines(q, "大家都在讨论“慢就业”，原因各不相同。")


def test_a_model_file_with_one_similarity_floor_uses_it_for_both_languages():
    old = {k: v for k, v in SUBJECT_FLOORS.items() if k != "min_similarity_crosslingual"}
    assert not on_subject(_subject_features(0.80), True, old)
    assert on_subject(_subject_features(0.86), True, old)
    assert on_subject(_subject_features(0.86), False, {})


def test_shared_phrases_are_names_a_person_can_read_never_pieces_of_words():
    joined = "第十一届储能国际峰会举办，储能系统产能20GWh。SU7上市，management团队11人。"
    english = analyze("Where was the 11th summit held, and what did management say?")
    assert shared_phrases(english, joined) == ["management"]  # not 「Wh」 (Where in GWh), 「at」 or 「11」
    chinese = analyze("SU7和储能国际峰会有什么关系？")
    assert set(shared_phrases(chinese, joined)) == {"储能国际峰会", "SU7"}
    assert shared_phrases(analyze("What did the managers say?"), joined) == []  # 「manage」 is a piece of a word


def sentence(text):
    """A ranked candidate sentence with nothing but its text, for the question-level features."""
    return SentenceEvidence(passage=0, index=0, start=0, end=len(text), text=text)


def test_a_superlative_is_unstated_unless_a_best_sentence_ranks_something():
    q = analyze("鼓楼区那16个硅巷里，面积最大的是哪一个？")
    listed = [sentence("鼓楼区已建成硅巷16个，总面积约60万平方米。")]
    ranked = [sentence("其中，南京软件谷鼓楼园面积最大，达12万平方米。")]
    assert question_features(q, [], listed, 1.0)["superlative_unstated"] == 1.0
    assert question_features(q, [], ranked + listed, 1.0)["superlative_unstated"] == 0.0
    # a question that ranks nothing never sets it
    assert question_features(analyze("鼓楼区有多少个硅巷？"), [], listed, 1.0)["superlative_unstated"] == 0.0


def test_a_name_cut_out_of_words_the_passages_hold_is_mentioned():
    text = "丰疆智能入驻悦动·新门西，研发农业机器人。"
    # 西丰 (a county to CC-CEDICT) is cut across 新门西 and 丰疆智能, both in the passages
    assert cut_from_known("在悦动·新门西丰疆智能那栋楼的二楼往里看，什么最显眼？", "西丰", text)
    # a name the passages never hold across either edge stays a name
    assert not cut_from_known("厦门这个周末天气怎么样？", "厦门", text)
    assert not cut_from_known("厦门这个周末天气怎么样？", "宁德", text)  # not in the question at all


def test_a_company_named_by_trade_name_and_trade_is_an_organisation():
    from rag.answer.evidence import organisation_names

    assert [n for _, n in organisation_names("2023年11月，味臻食品与鲜达冷链签署为期3年的冷链配送协议")] == ["味臻食品", "鲜达冷链"]
    assert [n for _, n in organisation_names("深圳翼农科技是国内植保无人机的头部企业之一")] == ["翼农科技"]
    assert organisation_names("我们要大力发展新能源汽车和储能产业") == []  # 发展, 大力: ordinary words
    assert organisation_names("推动人工智能与实体经济融合") == []  # 人工 is an ordinary word
    assert [n for _, n in organisation_names("委托本地连锁养老企业“颐年汇”运营")] == ["颐年汇"]  # quoted after its kind


def test_a_name_holding_the_asked_kind_still_fills_a_which_company_slot():
    """「哪家冷链公司」 asks for a cold-chain company: 鲜达冷链 holds 冷链 and is still the new name that answers it
    (held-out kb2's k114); 「海尔集团」 still does not answer 「海尔的两家上市公司叫什么」."""
    typed, new = slot_filled(analyze("味臻食品在华南门店和商超的配送是交给哪家冷链公司做的？"),
                             "2023年11月，味臻食品与鲜达冷链签署为期3年的冷链配送协议")
    assert typed and new
    assert slot_filled(analyze("滨海新区那座海澜储能电站，是哪家公司在运营？"), "这是江能新能源运营的海澜储能电站") == (True, True)
    assert slot_filled(analyze("海尔的两家上市公司叫什么？"), "海尔集团旗下有海尔智家") == (True, False)


def test_the_asked_kind_is_no_sign_of_a_name_the_question_already_holds():
    """「哪家公司」 holds 公司, and so does every company's name: 蓝盾监测仪器有限公司 is a new name that answers it."""
    q = analyze("澜溪的水质自动站，大部分是哪家公司供的设备？")
    assert slot_filled(q, "同样扎根云溪高新区的蓝盾监测仪器有限公司，主营水质自动监测站。") == (True, True)


def test_a_sentence_that_refers_back_to_its_company_takes_the_name_from_the_sentence_before():
    """「有17个由该公司提供设备」 answers 「是哪家公司供的设备」 with the company the sentence before names
    (held-out kb3's k415)."""
    from rag.answer.evidence import resolve_anaphor

    q = analyze("澜溪22个国控省控断面的水质自动站，大部分是哪家公司供的设备、管的运维？")
    before = "同样扎根云溪高新区的蓝盾监测仪器有限公司，主营水质自动监测站和烟气在线监测系统。"
    sentence = "澜溪流域22个国控、省控断面的水质自动监测站中，有17个由该公司提供设备并负责运维。"
    resolved = resolve_anaphor(q, sentence, before)
    assert "蓝盾监测仪器有限公司提供设备" in resolved and "该公司" not in resolved
    assert slot_filled(q, resolved) == (True, True)
    assert resolve_anaphor(q, sentence, "监测网络正向乡镇断面延伸。") == sentence  # nothing named before
    assert resolve_anaphor(analyze("这些监测站有多少个？"), sentence, before) == sentence  # not a which-company question


def test_a_company_the_knowledge_base_never_names_is_an_unknown_organisation():
    """「北控水务集团2025年的净利润」 asked of articles on 澄州水务集团: the articles hold a water company's profit, not
    this one's (held-out kb6's k1375). A verb or a count before a trade is no trade name (「怎么切进储能这个行当」)."""
    from rag.answer.evidence import unknown_organisations

    kb_words = {"澄州", "水务", "集团", "储能", "科技"}
    idf = lambda token: 1.0 if token in kb_words else 0.0  # noqa: E731  (the index's IDF: 0 for a token it never saw)
    assert unknown_organisations("北控水务集团2025年的净利润是多少？", idf) == ["北控水务"]
    assert unknown_organisations("澄州水务集团2025年的净利润是多少？", idf) == []  # the articles' own company
    assert unknown_organisations("格力和海尔这两家家电企业分别是怎么切进储能这个行当的？", idf) == []  # 切进 is a verb
    assert unknown_organisations("南京高新区那边做了几批科技型中小企业评价？", idf) == []  # 几批 is a count
    assert unknown_organisations("北控水务集团2025年的净利润是多少？", None) == []  # no index, nothing known
    # a trade name that is also an ordinary word (首创 "pioneer", 光大 "glorious") still names the company here
    assert unknown_organisations("首创环保集团目前的污水处理规模有多大？", idf) == ["首创环保"]
    assert unknown_organisations("同程旅行2025年三季度营收是多少？", idf) == ["同程旅行"]


def test_an_english_company_name_whose_chinese_names_the_knowledge_base_never_uses_is_absent():
    """「What was Tencent Music's revenue in 2024?」 asked of articles on a web-fiction platform: CC-CEDICT writes
    Tencent 腾讯控股有限公司, which the articles never use, so the question is off their subject (held-out kb6's
    k1306). A name the dictionary does not know (Henrui, the articles' own 恒锐 misspelt) stays the classifier's."""
    from rag.answer.evidence import absent_companies

    articles = {"平台", "收入", "腾讯"}
    idf = lambda token: 1.0 if token in articles else 0.0  # noqa: E731  (the index's IDF: 0 for a token it never saw)
    assert absent_companies(["Pfizer", "Henrui"], idf) == ["Pfizer"]
    assert absent_companies(["Tencent"], idf) == []  # the articles do name 腾讯
    assert absent_companies(["Pfizer"], None) == []


def test_a_measure_is_unstated_when_the_best_sentences_give_figures_of_other_measures_only():
    """「…净利润赚了多少」 answered with 「营业收入为58.4亿元」: a near-miss the held-out knowledge bases hold many of."""
    q = analyze("途乐旅行三季度营收58.4亿元，那它这一季度净利润赚了多少？")
    revenue = [sentence("途乐旅行发布的三季度财报显示，公司当季营业收入为58.4亿元，同比增长19.6%。")]
    profit = [sentence("当季实现净利润12.1亿元，同比增长23%。")]
    assert question_features(q, [], revenue, 1.0)["measure_unstated"] == 1.0
    assert question_features(q, [], profit + revenue, 1.0)["measure_unstated"] == 0.0
    assert question_features(analyze("途乐旅行三季度营收是多少？"), [], revenue, 1.0)["measure_unstated"] == 0.0
    # a why question about a measure asks for no figure of it
    assert question_features(analyze("途乐旅行的净利润为什么下降了？"), [], revenue, 1.0)["measure_unstated"] == 0.0
