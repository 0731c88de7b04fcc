from types import SimpleNamespace

from rag.answer.analysis import analyze
from rag.answer.evidence import SentenceEvidence
from rag.answer.lists import CountPhrase, ListShortfall, enumerates, list_items, list_shortfall
from rag.chunking import split_sentences
from rag.schema import Passage


def test_a_list_answer_enumerates_the_items_asked_for():
    assert list_items("梦想小镇建成了互联网村、天使村、创业集市和创业大街。") == 4
    assert list_items("一是降低印花税，二是规范减持，三是调降融资保证金比例。") == 3
    assert list_items("科大讯飞一口气发布了12个面向行业的专用大模型。") == 0
    a = analyze("讯飞发布星火V3.0时一起推出的那12个行业大模型都有哪些？")
    said = [SentenceEvidence(0, 0, 0, 1, "科大讯飞一口气发布了12个面向行业的专用大模型。")]
    named = [SentenceEvidence(0, 0, 0, 1, "包括教育、医疗、金融、汽车、工业和文旅大模型。")]
    assert enumerates(a, said) == 0.0
    assert enumerates(a, named) == 0.5  # six of the twelve
    assert enumerates(analyze("百奥赛图的营收是多少？"), said) == 1.0  # not a list question
    one_each = [SentenceEvidence(0, i, 0, 1, f"{n}是{t}。") for i, (n, t) in enumerate(zip("一二三", "甲乙丙"))]
    assert enumerates(analyze("证监会发布了哪三项政策？"), one_each) == 1.0  # 一是… 二是… 三是… add up


def test_a_count_phrase_names_its_measure_and_noun():
    p = CountPhrase.of("昆山高新区去开专场校招的那18所高校，具体是哪几所学校？", 18)
    assert (p.text, p.measure, p.noun) == ("18所高校", "所", "高校")
    assert CountPhrase.of("2024年上市的那4家浙大校友企业分别是哪几家？", 4).text == "4家浙大校友企业"  # not 2024's 4
    assert CountPhrase.of("常州高新区的“四个一万亩”具体是指哪四个？", 4).text == "四个一万亩"  # the quoted name reads best
    assert CountPhrase.of("秦淮硅巷那13家上市（挂牌）企业具体是哪几家？", 13).noun == "企业"
    generic = CountPhrase.of("主要起哪两种作用？", 2)
    assert generic.matches("大") and not generic.matches("家")  # 两大功能 counts what 两种作用 counts
    assert CountPhrase.of("那24位院士分别是谁？", 24).matches("人")  # 院士24人
    assert CountPhrase.of("“双轴”指的是哪两条轴？", 2).matches("轴")  # the counted noun itself


def passages_of(*docs):
    return [Passage(text=d, source=f"00{i}.txt", title="t", score=1.0, start=0, end=len(d), chunk_id=str(i),
                    doc_id=f"d{i}") for i, d in enumerate(docs)]


def ranked(passages, *texts):
    """Sentences of ``passages`` in the given order, as the evidence ranker would hand them over."""
    out = []
    for text in texts:
        for pi, p in enumerate(passages):
            for si, (s, e) in enumerate(split_sentences(p.text)):
                if p.text[s:e] == text:
                    out.append(SentenceEvidence(pi, si, s, e, text))
    assert len(out) == len(texts)
    return out


SCHOOLS = "2023年以来，昆山高新区先后前往陕西、黑龙江、云南、重庆、武汉、徐州等地的18所高校开展专场校园招聘会。"


def test_a_count_stated_with_fewer_items_beside_it_falls_short():
    ps = passages_of(SCHOOLS)
    a = analyze("昆山高新区去开专场校招的那18所高校，具体是哪几所学校？")
    short = list_shortfall(a, ps, ranked(ps, SCHOOLS))
    assert short == ListShortfall("18所高校", 18, 6)
    assert short.to_dict() == {"asked": "18所高校", "wanted": 18, "found": 6}
    # a count the sentence does not state (六个地方) leaves the question to the classifier
    assert list_shortfall(analyze("昆山高新区去了哪六个地方的高校招聘？"), ps, ranked(ps, SCHOOLS)) is None
    # not a list question, or a list question that names no count: nothing to fall short of
    assert list_shortfall(analyze("昆山高新区去了多少所高校？"), ps, ranked(ps, SCHOOLS)) is None
    assert list_shortfall(analyze("昆山高新区去了哪些地方招聘？"), ps, ranked(ps, SCHOOLS)) is None


def test_a_count_only_stated_is_not_a_list():
    doc = "如今，秦淮硅巷已累计新增科技型企业超1200家，上市（挂牌）企业13家，集聚院士24人。"
    ps = passages_of(doc)
    assert list_shortfall(analyze("秦淮硅巷集聚的那24位院士分别是谁？"), ps, ranked(ps, doc)) == ListShortfall(
        "24位院士", 24, 0)
    # a count the best sentences never state (the article's word after the numeral counts something else)
    other = "常州高新区实施产业集群培育、创新能力提升、重点项目攻坚、产业赛道拓展、要素资源保障等五大工程。"
    ps = passages_of(other)
    assert list_shortfall(analyze("常州高新区的那5家龙头企业是哪几家？"), ps, ranked(ps, other)) is None


def test_items_are_read_where_writers_put_them():
    policies = "8月27日傍晚，证监会接连发布“优化IPO、再融资监管安排”“进一步规范股份减持行为”“调降融资保证金比例”三项重磅政策。"
    ps = passages_of(policies)
    assert list_shortfall(analyze("证监会发布了哪三项重磅政策？"), ps, ranked(ps, policies)) is None  # quoted items
    areas = "在玄武区“一中心三片区”的布局中，板仓街片区、中山门大街片区、红山片区作为创新脉络的延伸。"
    ps = passages_of(areas)
    assert list_shortfall(analyze("三个片区分别是哪几个？"), ps, ranked(ps, areas)) is None  # the next clause
    pair = "科技企业融资往往面临信息不对称和缺乏抵押物两大瓶颈。"
    ps = passages_of(pair)
    assert list_shortfall(analyze("科技企业融资通常卡在哪两个瓶颈上？"), ps, ranked(ps, pair)) is None  # A和B


def test_numbered_items_are_read_on_past_the_passage_into_the_article():
    head = "刘克峰：创投机构主要发挥两大功能。首先是发现功能，在众多项目中筛选出最好的项目。"
    rest = "其次是陪伴功能，长期陪跑科学家。"
    ps = passages_of(head)
    a = analyze("刘克峰认为创投机构主要起哪两种作用？")
    said = ranked(ps, "刘克峰：创投机构主要发挥两大功能。")
    assert list_shortfall(a, ps, said) == ListShortfall("两种作用", 2, 1)  # the passage ends after 首先
    documents = {"d0": SimpleNamespace(text=head + rest)}
    assert list_shortfall(a, ps, said, documents) is None  # 其次 follows in the article
