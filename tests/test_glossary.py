"""The glossary maps a question's pinyin and English names to the articles' Chinese terms."""

from rag.glossary import Glossary

ARTICLES = [
    "青岛崂山区发布城市云脑。崂山的数字道路共14公里。崂山的城市大脑由浪潮卓数建设。",
    "2008年，他在美国创办了Biocytogen (百奥赛图)。百奥赛图的小鼠卖到全球。",
    "那么问题来了：北京金融街集聚了大量金融机构。北京是首都。北京的背景不同。",
    "丁香园（DXY）在杭州成立。丁香园拥有550万专业用户。",
]


def test_pinyin_names_map_to_the_articles_words():
    g = Glossary.from_texts(ARTICLES)
    assert "崂山" in g.expand("How many kilometres of digital roads has Laoshan District built?")
    assert g.expand("How many financial institutions are on Beijing's Financial Street?") == ["北京"]  # not 背景


def test_bracketed_english_names_map_both_ways():
    g = Glossary.from_texts(ARTICLES)
    assert "百奥赛图" in g.expand("When did Biocytogen list in Hong Kong?")
    assert any("丁香园" in t for t in g.expand("How many users does DXY have?"))


def test_ordinary_english_words_are_not_looked_up():
    g = Glossary.from_texts(ARTICLES)
    # 「那么」 is spelled "name" in pinyin: only capitalised words (names) are looked up
    assert g.expand("what is the name of the platform?") == []
    assert g.expand("") == []


def test_terms_the_question_already_holds_are_not_added():
    g = Glossary.from_texts(ARTICLES)
    assert g.expand("How big is Laoshan 崂山?") == []
