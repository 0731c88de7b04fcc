"""Question analysis: what kind of answer a question asks for, and about what.

``analyze(question)`` returns a ``QuestionAnalysis``: the answer type (date, number,
place, person, why, list, definition, other), the asked-for *slot* in words a person
reads (「金额」「年份」「地点」…), the named entities and content terms the answer must be
about, the unit a number question wants, and whether the question is written in a
language other than Chinese (then lexical overlap with the Chinese articles means
nothing and only the multilingual embedding model can match it).

Everything here is pure text processing (regular expressions and jieba's part-of-speech
tagger); nothing is loaded but jieba's dictionary, once per process.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from ..lexical import tokenize
from ..glossary import common_words
from ..text import CONTENT_RE, ENGLISH_STOP_WORDS, MIN_CJK_FOR_LEXICAL, is_crosslingual, jieba  # noqa: F401  (re-exported)

# ---------------------------------------------------------------- patterns

# 「有什么办法」「怎么办」 ask how: 办法 names what is asked, not what the question is about.
_QUESTION_WORDS = re.compile(
    "请问|请|一下|是谁|谁|叫什么|什么好?(?:办法|方法)|怎么办|什么样|什么|哪些|哪个|哪家|哪位|哪里|哪儿|哪一|哪|多少|多大|多高|多长|多久|几个|几"
    "|怎么样|怎么|怎样|如何|为什么|为何|为啥|干嘛|干吗|是否|是不是|有没有|能否|可以|吗|呢|呀|吧|啊"
    "|根据|文章|文中|报道|提到|提及|介绍|说明|讲述|谈到|指出|认为|表示|主要|具体|分别|都|有关|关于"
)
_STOP_CHARS = re.compile("[的了是在有和与及对把被也还就其该这那它他她们些个，。？！、：；“”‘’（）()?!,.:;\"' ]")

_TYPE_PATTERNS = [
    ("why", re.compile("为什么|为何|为啥|干嘛|干吗|咋会|凭什么|缘何|何故|原因|怎么会|何以|理由|\\bwhy\\b|\\breasons?\\b", re.I)),
    ("list", re.compile(
        "哪些|哪几|有哪|几大|几方面|哪[两三四五六七八九十]|包括什么|包括哪|分别是什么|分别是(?!多少|几|多大|多久)|分别有(?!多少|几)|分别叫"
        "|\\bwhat are\\b|\\bwhich\\b.*\\b(are|were)\\b|\\blist\\b|\\bname (the|some)\\b", re.I)),
    ("date", re.compile(
        "哪一年|哪年|何时|什么时候|哪一天|哪天|日期|什么时间|几月|几号|哪个月|年份"
        "|\\bwhen\\b|\\bwhat year\\b|\\bwhich year\\b|\\bwhat date\\b", re.I)),
    ("number", re.compile(
        "多少|几[个家项次位名种亿万倍岁条批所类只台款年]|几(?:分钟|小时|天|周|秒|公里|公斤|斤|吨|块|层|户|成)|多大|多高|多长|多久|多远|排名第几|第几"
        "|\\bhow (many|much|long|large|big|old|far)\\b|\\bwhat (percentage|share|proportion)\\b", re.I)),
    ("place", re.compile(
        # 「在哪家单位工作」「在哪所大学」 ask for an organisation's name (the person pattern below), not a place.
        "哪里|在哪(?![家所位]|个(?:机构|公司|企业|部门|单位|组织|银行|团队|大学|学校|医院))|何地|何处"
        "|哪个(城市|省|国家|地方|地区|区)|哪座|位于|落户在|\\bwhere\\b|\\bwhich (city|country|province)\\b",
        re.I)),
    ("person", re.compile(
        "谁|哪位|什么人|哪一位|叫什么|哪家|哪所|哪个(机构|公司|企业|部门|单位|组织|银行|团队|大学|学校|医院)"
        "|什么(机构|公司|企业|部门|组织|大学|学校|医院)"
        "|\\bwho\\b|\\bwhose\\b|\\bwhich (company|organi[sz]ation|institution|firm|agency)\\b", re.I)),
    # A number named by a noun (比例, 金额) asks for a number only when no question word asks for a name
    # or a place: 「投资…数量最多的是哪家机构」 asks for an organisation.
    ("number", re.compile("比例|占比|比重|百分|金额|数量|增速|量级")),
    ("definition", re.compile(
        "什么是|是什么|指什么|指的是|含义|意思|定义|是指|何谓|怎样界定|如何界定|怎么解释|如何解释|怎么理解|如何理解|\\bwhat is\\b|\\bwhat does\\b.*\\bmean\\b",
        re.I)),
]

# What a person would call the missing piece, for refusal reasons (「…但没有给出{slot}」).
SLOT_NAMES = {
    "date": "具体时间", "number": "具体数字", "place": "具体地点", "person": "具体人物",
    "why": "原因", "list": "具体包括哪些", "definition": "明确的定义", "other": "所问的具体内容",
}
_SLOT_WORDS = [  # a more precise name when the question uses one of these words: (word, name, answer types)
    ("金额", "金额", "number"), ("营收", "营收数字", "number"), ("收入", "收入数字", "number"),
    ("投资", "投资金额", "number"), ("融资", "融资金额", "number"), ("人数", "人数", "number"),
    ("员工", "人数", "number"), ("比例", "比例", "number"), ("占比", "比例", "number"), ("增速", "增速", "number"),
    ("增长", "增长幅度", "number"), ("价格", "价格", "number"), ("年龄", "年龄", "number"), ("岁", "年龄", "number"),
    ("哪一年", "年份", "date"), ("哪年", "年份", "date"), ("年份", "年份", "date"), ("日期", "日期", "date"),
    ("几月", "月份", "date"), ("总部", "总部所在地", "place"), ("城市", "城市", "place"), ("国家", "国家", "place"),
    ("创始人", "创始人", "person"), ("负责人", "负责人", "person"), ("名字", "名字", "person"),
    ("机构", "机构名称", "person"), ("公司", "公司名称", "person"), ("企业", "企业名称", "person"),
    ("单位", "单位名称", "person"), ("银行", "银行名称", "person"), ("大学", "学校名称", "person"),
    ("学校", "学校名称", "person"), ("医院", "医院名称", "person"), ("部门", "部门名称", "person"),
    ("媒体", "媒体名称", "person"), ("谁家", "企业名称", "person"),  # 「用的是谁家的产品」 asks for a maker, not a person
]

NUMBER_RE = re.compile(r"\d|[一二三四五六七八九十百千万亿两半]+[个家项次位名种亿万倍岁条批所类只台款成%％年月日]|百分之")
DATE_RE = re.compile(
    r"\d{2,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月|今年|去年|明年|近年|年初|年底|年末|[上下]半年"
)
PLACE_RE = re.compile(  # a place's own characters: no particle that joins it to the words before (的黄小芸在杭州)
    r"(?:(?![的了是在和与及从到由被把对为向于也都而并或])[\u4e00-\u9fff]){1,6}(?:省|市|区|县|镇|州|国|岛|湾|园|城|基地|中心|大学)"
    r"|北京|上海|天津|重庆|香港|深圳|杭州"
    r"|南京|苏州|武汉|青岛|美国|欧洲|日本|海外|全球"
)
WHY_RE = re.compile("因为|由于|原因|为了|因此|所以|导致|使得|得益于|在于|旨在|目的|以便|从而|推动|促进|需要|意味着|源于|归功于")
LIST_RE = re.compile("[、；]|以及|包括|一是|二是|首先|其次|第一|第二|[：:]$")
DEFINITION_RE = re.compile("即|是指|指的是|就是|称为|称作|叫做|定义|意味着|是一种|是一个|也就是|所谓|是[^，。]{2,30}的[^，。]{0,8}(技术|方法|现象|机制|模式|概念|过程|体系|平台|理念)")

# A year, for a question that asks which year (哪一年, what year): a month or a day alone (9月1日) does not answer it.
YEAR_RE = re.compile(r"\d{4}\s*年|今年|去年|明年|前年")
_ASKS_YEAR_RE = re.compile(r"哪一年|哪年|年份|\b(?:what|which) year\b", re.I)


def date_values(question: str) -> re.Pattern:
    """The values that answer a date question: years only when it asks which year, else any date (DATE_RE)."""
    return YEAR_RE if _ASKS_YEAR_RE.search(question) else DATE_RE


YEAR_OR_DATE_RE = re.compile(r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月\s*\d{1,2}\s*日")
_UNIT_RE = re.compile(r"(?:多少|几)([\u4e00-\u9fff%％]{1,2})")
# Measure words and units a number question can ask for ("多少数据" asks for no unit).
_MEASURE_WORDS = set("个家项次位名种倍岁条批所类只台款亿万千百元人件座米吨户年天月周%％亩张枚辆股节克斤升秒度瓦头箱份支场套栋间部篇盒")
# Units written with two characters, whose first alone would name another (公斤 not 公司, 分钟 not 分公司).
_TWO_CHAR_UNITS = frozenset("公斤 公里 公顷 千克 千米 分钟 小时 立方 平方 标箱 千瓦 兆瓦".split())
_UNIT_ALIASES = {"岁数": "岁", "年龄": "岁", "钱": "元", "人民币": "元", "美金": "美元", "资金": "元", "金额": "元",
                 "投资额": "元", "总投资": "元", "营收": "元", "营业收入": "元", "产值": "元", "市值": "元",
                 "估值": "元", "募资": "元", "融资": "元", "补贴": "元", "售价": "元", "价格": "元"}
# The attribute a question asks about sits right before its question word (「…的营业收入是多少」)
# or right after 多少/几 (「多少粉丝」): the value must come with it.
_ASK_RE = re.compile("多少|几[个家项次位名种倍岁条批所类只台款年天月]?|多大|多高|多长|多久|多远|哪一年|哪年|哪一天|哪天|何时"
                     "|什么时候|在哪里|在哪|哪里|哪家|哪个|哪所|哪位|谁|为什么|为何|什么")
_FILLER_TAIL_RE = re.compile("(?:一共|总共|大概|大约|分别|究竟|到底|最后|最终|目前|现在|具体|已经|累计|共|是|有|为|达|要|了|的|在|由"
                             "|从|被|卖|花|投|拿|到|能|用|占|涨|降)+$")
_FILLER_HEAD_RE = re.compile("^(?:的|是|有)+")
_PERFECTIVE_LE_RE = re.compile("了(?!解)")  # 「拿到了江苏省…」: the perfective 了 is no part of what is asked about

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

TYPES = ("date", "number", "place", "person", "why", "list", "definition", "other")
FACTOID_TYPES = ("number", "date", "place", "person")  # the types that ask for one value


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks: the answer type, the slot to fill, and what it is about."""

    text: str
    qtype: str = "other"
    slot: str = ""  # the asked-for piece in plain Chinese, for refusal reasons
    unit: str = ""  # the unit a number question asks for (亿, 个, 岁 …), or ""
    entities: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    content: str = ""  # the question without question words and function characters
    crosslingual: bool = False  # too little Chinese to match the articles word by word
    attribute: str = ""  # the asked-about attribute next to the question word (营业收入, 粉丝), or ""
    value_class: str = ""  # the kind of name asked for when every such name ends with it (哪所大学 → 大学), or ""
    count: int = 0  # how many items a list question names (「那12个行业大模型都有哪些」 → 12), or 0

    def __post_init__(self) -> None:
        if self.qtype not in TYPES:
            raise ValueError(f"unknown answer type {self.qtype!r}; expected one of {TYPES}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "QuestionAnalysis":
        data = dict(data)
        data["entities"] = tuple(data.get("entities", ()))
        data["terms"] = tuple(data.get("terms", ()))
        return cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})

    @property
    def anchors(self) -> tuple[str, ...]:
        """What the answer must be about: entities first, then the other terms."""
        return self.entities + tuple(t for t in self.terms if t not in self.entities)


# 「X的核心标志是什么」「饺子的本名是什么」ask for an attribute of X, not for a definition of it.
_ATTRIBUTE_QUESTION_RE = re.compile(r"的[\u4e00-\u9fff]{1,6}(?:是什么|指什么)")


# 几 that points back at things already named asks nothing: 「几位作者里…是谁」, 「这几项行动…什么样的生态」.
# So does 几 after 的 or as "several" (好几, 十几), and one inside a time clause: 「讲创新的几个环节时，…怎么解释」.
# 「是去年的几倍」 still asks.
_REFERRING_JI_RE = re.compile(r"(?:这|那|其中|好|十)几|的几(?![倍成])"
                              r"|几[个家项次位名种条批所类只台款][\u4e00-\u9fff]{0,6}?(?:里|当中|之中|中|时)")


# 「好在哪儿」「难处到底在哪儿」「瓶颈卡在哪儿」「要害在哪儿」 ask what the strength, difficulty or crux is, not where.
_ASPECT_WHERE_RE = re.compile(r"(?:[好难差强妙]|长处|短处|好处|难处|难点|痛点|要害|关键|症结|瓶颈|差距|区别|不同|优势|亮点"
                              r"|短板|重点|核心|意义|价值|根子|根源|根本|原因|问题|毛病|出路|突破口|着力点)"
                              r"(?:卡|就|到底|究竟|主要|又|也|出){0,2}在哪(?:儿|里)?")


def _asks(name: str, pattern: re.Pattern, question: str) -> bool:
    """``pattern`` asks in ``question``: for a number, some match of it is not a referring 几; for a place, some
    match is not an aspect's 「在哪儿」 (「难处在哪儿」)."""
    if name not in ("number", "place"):
        return bool(pattern.search(question))
    spans = [m.span() for m in (_REFERRING_JI_RE if name == "number" else _ASPECT_WHERE_RE).finditer(question)]
    return any(not any(a <= m.start() < b for a, b in spans) for m in pattern.finditer(question))


# 「What is the name of…」「What is X's job title」「What is X developing」 ask for an attribute or an activity, as
# 「X的Y是什么」 does (_ATTRIBUTE_QUESTION_RE): a definition question names only the term ("What is AI hallucination?",
# "What is Laoshan's 1134 model?").
_EN_WHAT_IS_RE = re.compile(r"\bwhat is (.+?)(?:[?,;]|$)", re.I)
_EN_OF_RE = re.compile(r"^the ([\w -]+?) of\b", re.I)
_EN_OWN_RE = re.compile(r"'s? ((?:[\w-]+ ?){1,3}?)(?= (?:for|of|in|on|at|to|with|that|which|used|from|by)\b|$)", re.I)
_EN_ACTIVITY_RE = re.compile(r"^[\w. ()'-]+? (?:mainly |now |currently )?\w+ing\b", re.I)
# Heads that name a defined thing, not an attribute: "X's 1134 model" asks what the model is.
_EN_DEFINED_HEADS = {"model", "plan", "policy", "programme", "program", "strategy", "mechanism", "concept", "system",
                     "approach", "idea", "principle", "framework", "initiative", "project"}
# An English attribute that is a quantity: the question asks for a number.
_EN_MEASURE_RE = re.compile(r"\b(?:price|rate|capacity|balance|revenue|value|share|size|output|fee|cost|number|amount"
                            r"|percentage|ratio|capitali[sz]ation|capital|count|total|growth)\b", re.I)


def _english_attribute_type(question: str) -> str:
    """For an English 「what is …」 question that asks for an attribute or an activity: number or other; '' when it
    asks what a term means."""
    m = _EN_WHAT_IS_RE.search(question)
    if not m:
        return ""
    phrase = m.group(1).strip()
    attribute = _EN_OF_RE.match(phrase) or _EN_OWN_RE.search(phrase)
    if attribute:
        words = attribute.group(1).lower().split()
        if words and words[-1] in _EN_DEFINED_HEADS:
            return ""
        return "number" if _EN_MEASURE_RE.search(attribute.group(1)) else "other"
    return "other" if _EN_ACTIVITY_RE.match(phrase) else ""


def answer_type(question: str) -> str:
    """The kind of answer a question expects: date, number, place, person, why, list, definition or other."""
    for name, pattern in _TYPE_PATTERNS:
        if _asks(name, pattern, question):
            if name == "definition" and "什么是" not in question and _ATTRIBUTE_QUESTION_RE.search(question):
                return "other"
            if name == "definition" and is_crosslingual(question):
                return _english_attribute_type(question) or name
            return name
    return "other"


# An alias names the unit only when it names the asked-about thing, i.e. sits this close to 多少/几:
# 「…的营业收入是多少」 (6 characters before) asks for 元; 「拿到股权融资后…的企业有多少家」 asks for 家.
UNIT_ALIAS_SPAN = 8  # longest attribute+filler before 多少 in the tune split's number questions ("的营业收入一共是")


def _points_back(question: str, ask: re.Match) -> bool:
    """The 几 of 「那几份」「这几年」「其中几家」: it points back at things already named and asks nothing."""
    return ask.group().startswith("几") and re.search("(?:这|那|其中|好|十)$", question[:ask.start()]) is not None


def expected_unit(question: str) -> str:
    """The unit a number question asks for (多少亿美元 → 元, 几个国家 → 个, 多大岁数 → 岁), or ''.

    Only words next to the question word count: a money word elsewhere in the question
    (「拿到股权融资后…有多少家」) does not make a count question ask for 元.
    """
    # not the 几 that points back (「那几份氢能政策…多少补贴」 asks for 元, not for 份)
    ask = next((m for m in re.finditer("多少|几|多大|多高|多长|多久|多远", question) if not _points_back(question, m)), None)
    if ask is None:
        return ""
    near = question[max(0, ask.start() - UNIT_ALIAS_SPAN):ask.end() + UNIT_ALIAS_SPAN]
    for word, unit in _UNIT_ALIASES.items():
        if word in near:
            return unit
    m = next((m for m in _UNIT_RE.finditer(question) if not _points_back(question, m)), None)
    if not m:
        return ""
    if m.group(1) in _TWO_CHAR_UNITS:
        return m.group(1)
    unit = m.group(1)[0]
    return unit if unit in _MEASURE_WORDS else ""


def carries_number(sentence: str, unit: str = "") -> bool:
    """A quantity (not just a year or a date), followed by ``unit`` when one is asked for."""
    text = YEAR_OR_DATE_RE.sub(" ", sentence)
    if not unit:
        return bool(NUMBER_RE.search(text))
    return bool(re.search(rf"[\d一二三四五六七八九十百千万亿两半几多余]\s*[^\s，。；]{{0,3}}{re.escape(unit)}", text)
                or re.search(rf"{re.escape(unit)}[^\s，。；\d]{{0,3}}\d", text))  # the unit first: 「观看人数近10万」


# A number question's measure word names what is counted (「隔了几年」 asks for years, whatever else it mentions).
_UNIT_SLOT_NAMES = {"年": "年数", "天": "天数", "月": "月数", "周": "周数", "岁": "年龄", "人": "人数", "倍": "倍数",
                    "次": "次数", "元": "金额", "%": "比例", "％": "比例"}


def slot_name(question: str, qtype: str) -> str:
    """What a person would call the missing piece: the measure word a number question asks in, else the
    slot word nearest the question word (「拿过股权融资的占比是多少」 → 比例, not 融资金额), else the type's name."""
    counted = _UNIT_RE.search(question)  # the word after 多少/几; its first character is the measure word
    if qtype == "number" and counted and counted.group(1)[0] in _UNIT_SLOT_NAMES:
        return _UNIT_SLOT_NAMES[counted.group(1)[0]]
    ask = _ASK_RE.search(question)
    where = ask.start() if ask else len(question)
    found = [(min(abs(m.start() - where), abs(m.end() - where)), name)
             for word, name, kind in _SLOT_WORDS if kind == qtype for m in re.finditer(re.escape(word), question)]
    if found:
        return min(found)[1]
    if qtype == "person" and ask and ask.group() in ("哪家", "哪个", "哪所"):  # 「在哪家单位」 asks for a name, not a person
        return "具体名称"
    return SLOT_NAMES[qtype]


def posseg():
    """jieba's part-of-speech tagger, its dictionary loaded once per process (``rag.text.jieba``)."""
    jieba()
    from jieba import posseg as tagger

    return tagger


# Questions whose content text and tagged words are kept (``content_text``, ``tagged_content``): ``analyze`` reads a
# question three times (content, terms, entities), and the tagger is the slow part (1.9 → 0.8 ms a question on 1500
# tune questions). 4096 entries of a few hundred bytes each.
QUESTION_CACHE_SIZE = 4096


# jieba's tags of words that keep their function characters: 就业, 参与, 有限公司, 对策, 美的 are content words of its
# dictionary, not 就 + 业; 那场 (mq), 这种 (r), 为了 (p), 还要 (c) are not, nor a word only its tagger guessed (和行长,
# 和海 in 「梦想小镇和海创园」), and lose them as before.
_CONTENT_FLAGS = frozenset({"n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "nw", "vn", "v", "j", "l", "i", "b", "s", "z"})
_DECIMAL_RE = re.compile(r"\d+\.\d+")  # 工业4.0, 1.0版: a number, not 4 and 0


@lru_cache(maxsize=QUESTION_CACHE_SIZE)
def content_text(question: str) -> str:
    """The question without question words and function characters; a content word keeps the function characters
    inside it (就业, 参与, 有限公司, 4.0)."""
    kept = []
    known = jieba().dt.FREQ  # the segmenter's dictionary: 就业 is a word of it, 和行长 (和 + 行长) only its guess
    for word, flag in posseg().lcut(_QUESTION_WORDS.sub(" ", question)):
        if len(word) > 1 and (_DECIMAL_RE.fullmatch(word)
                              or flag in _CONTENT_FLAGS and known.get(word, 0) > 0 and _STOP_CHARS.sub("", word)):
            kept.append(word)
        else:
            kept.append(_STOP_CHARS.sub(" ", word))
    return "".join(kept)


@lru_cache(maxsize=QUESTION_CACHE_SIZE)
def tagged_content(question: str) -> tuple[tuple[str, str], ...]:
    """The words of ``content_text(question)`` with jieba's part-of-speech tags: read by ``extract_terms`` and
    ``named_entities`` both, tagged once."""
    return tuple((word, flag) for word, flag in posseg().lcut(content_text(question)))


def clear_question_cache() -> None:
    """Forget every question read so far (``content_text``, ``tagged_content``): a benchmark times each question as
    a new one."""
    content_text.cache_clear()
    tagged_content.cache_clear()


def extract_terms(question: str) -> list[str]:
    """Key terms of a question (content words, names, numbers), in order, without repeats."""
    terms: list[str] = []
    for word, flag in tagged_content(question):
        word = word.strip()
        if not word or flag in ("x", "uj", "ul", "p", "c", "u", "r", "d", "y", "e"):
            continue
        if re.fullmatch(r"[A-Za-z]+", word) and word.lower() in ENGLISH_STOP_WORDS:
            continue
        if len(word) >= 2 or re.fullmatch(r"[A-Za-z0-9.]+", word):
            if word not in terms:
                terms.append(word)
    return terms


# A person's name right after a role ("局长卢五星", "创始人李天天"): jieba often misses these.
ROLE_NAME_RE = re.compile(
    "(?:局长|创始人|董事长|总经理|院长|主任|教授|总裁|首席[\u4e00-\u9fff]{0,4}师|分析师|合伙人|书记|市长|区长|所长|理事长|研究员|负责人)"
    "(?!是|为|在|的|谁|哪|什么|怎|叫|和|与|及|跟)([\u4e00-\u9fff]{2,3}?)(?=是|在|的|今年|认为|表示|说|提出|曾|为|有|，|？|$)"
)


def _familiar_common(word: str, common: frozenset[str]) -> bool:
    """老/小 before a common word calls someone by what they are (老师傅, 老板, 老乡, 小伙), not by name (老王, 小张):
    jieba tags 老师傅 a person's name."""
    return word[0] in "老小" and word[1:] in common


def named_entities(question: str) -> list[str]:
    """Terms that name something specific (people, places, organisations, Latin names, years, quotes)."""
    entities: list[str] = []
    for quoted in re.findall(r"[“「『\"]([^”」』\"]{2,20})[”」』\"]", question):
        entities.append(quoted)
    if not is_crosslingual(question):  # in an English question every word is Latin: none is a name by script
        for m in re.finditer(r"[A-Za-z][A-Za-z0-9&/.+-]*[A-Za-z0-9]|\d{4}\s*年", question):
            entities.append(m.group().replace(" ", ""))
    for m in ROLE_NAME_RE.finditer(question):
        entities.append(m.group(1))
    # jieba tags some common words as names (扎根/ns, 孵化器/nz, 上市/ns): a word CC-CEDICT knows only as a
    # common word names nothing.
    common = common_words()
    for word, flag in tagged_content(question):
        if (flag in ("nr", "ns", "nt", "nz", "nrt", "nrfg") and len(word) >= 2 and _CJK_RE.search(word)
                and word not in common and not _familiar_common(word, common)):
            entities.append(word)
    seen: list[str] = []
    for e in entities:
        if e not in seen:
            seen.append(e)
    return seen


# Words after the question word that only repeat what kind of thing is asked (哪家公司, 什么名字).
_ASKED_KIND_RE = re.compile("^(?:一|个|家|所|位|座|天|年|月|时候|地方|人|名字|名称|机构|公司|企业|部门|单位|组织|银行|团队|大学"
                            "|学校|学院|医院|城市|国家|省份|省|问题|变化|情况|作用|影响|意义|特点|内容|样子|时间)+")
_PREDICATE_FILLER_RE = re.compile("[的了呢吗呀吧啊是]")
MAX_PREDICATE_CHARS = 6  # 「开始担任局长」「医学专业毕业」: a verb phrase, not the rest of a long question


def asked_attribute(question: str) -> str:
    """The words a question's slot is about, next to its question word.

    「百奥赛图的营业收入是多少」 → 营业收入 (before 多少), 「有多少粉丝」 → 粉丝 (the counted noun),
    「新鼎资本是哪一年成立的」 → 成立 and 「哪家公司承建的」 → 承建 (the predicate after the question
    word: for a date, place or name the subject before it is not what the value must sit next to).
    """
    m = _ASK_RE.search(question)
    if not m or m.group() in ("为什么", "为何"):  # a reason is no value next to an attribute
        return ""
    before = re.split(r"[，,。？?！!、；;：:“”\"（）()\s]", question[:m.start()])[-1]
    before = _FILLER_TAIL_RE.sub("", before.rstrip("叫"))
    before = before.split("的")[-1] if "的" in before else before[-4:]
    rest = re.split(r"[，,。？?！!、；;：:“”\"（）()\s]", question[m.end():])[0]
    if m.group().startswith(("多少", "几")):  # the counted noun: 多少粉丝, 几张GPU
        after = re.match(r"[\u4e00-\u9fffA-Za-z]{1,4}", _PERFECTIVE_LE_RE.sub("", rest))
        after_text = _FILLER_HEAD_RE.sub("", after.group()) if after else ""
        after_text = re.split("是|在|的|有|呢|吗", after_text)[0] if after_text else ""
        if after_text[:1] in _MEASURE_WORDS:
            after_text = after_text[1:]
        parts = [p for p in (before[-4:], after_text) if len(p) >= 2]
        return "".join(parts)
    predicate = _PREDICATE_FILLER_RE.sub("", _ASKED_KIND_RE.sub("", rest))[:MAX_PREDICATE_CHARS]
    if len(predicate) >= 2:
        return predicate
    return before[-4:] if len(before) >= 2 else ""


# Kinds of name whose every instance ends with the kind (北京大学, 协和医院, 招商银行): when a question asks
# 「哪所大学」, only such a name fills the slot. Companies and organisations are named without a suffix
# (科陆电子) and are left to the person/organisation patterns.
NAME_CLASSES = ("大学", "学院", "学校", "医院", "银行")
_VALUE_CLASS_RE = re.compile(f"(?:哪|什么)[一个家所座]?({'|'.join(NAME_CLASSES)})")


# A question that asks which one ranks first (「规模最大的是哪一只」, 「排第一的是哪家」): only a passage that states
# a ranking can answer it; one that lists the candidates without ranking them cannot.
_SUPERLATIVE_RE = re.compile(r"最(?:大|多|高|低|少|小|强|快|好|重要|成功|受欢迎)|(?:排名?|位居|位列)第一|第一名")


# Business measures a figure is of: a question asking one (净利润) is not answered by a figure of another (营业收入).
# Each group: (Chinese words a sentence states it with, English words a question asks it with).
MEASURES = {
    "profit": (("净利润", "净利", "利润", "盈利", "亏损", "净亏", "毛利"), ("net profit", "profit", "net loss", "earnings")),
    "revenue": (("营业收入", "营收", "收入", "销售额", "营业额", "成交额", "GMV"), ("revenue", "turnover", "sales")),
    "valuation": (("估值", "市值"), ("valuation", "market value", "market cap")),
    "premium": (("保费",), ("premium",)),
}


def asked_measure(question: str) -> str:
    """The business measure a question asks for (``MEASURES``), or ''. Profit before revenue: 「净利润」 holds 利润 and
    「营业收入」 holds 收入, but a question naming both asks for the profit (「营收58.4亿元，那净利润呢」)."""
    lower = question.lower()
    for name, (chinese, english) in MEASURES.items():
        if any(w in question for w in chinese) or any(re.search(rf"\b{w}\b", lower) for w in english):
            return name
    return ""


def asks_superlative(question: str) -> bool:
    """The question asks for the top (or bottom) of a ranking: 最大, 最多, 排第一."""
    return bool(_SUPERLATIVE_RE.search(question))


def value_class(question: str) -> str:
    """The suffix every answer name carries (「哪所大学」 → 大学), or ''."""
    m = _VALUE_CLASS_RE.search(question)
    return m.group(1) if m else ""


_PART_END_RE = re.compile(r"(?<=[？?])")
MIN_PART_CHARS = 5  # content characters of a sub-question: 「净利润呢？」 (4) leans on the one before it


# 「A和B各自/分别…」: a question that asks the same of two things. The marker must follow the conjunction in the
# same sentence; 各 alone only before a verb it distributes (各有, 各是, 各启用), not in 各地, 各类, 各部门.
_DISTRIBUTIVE_RE = re.compile("各自|分别|各(?=[是有为占要做起带提出启用建设花了多])")
_CONJUNCTION_RE = re.compile("以及|和|与|跟|及")
# Where a conjunct ends: its modifier (的), a clause break, a preposition that opens the shared predicate (在墨西哥…).
_LEFT_CONJUNCT_STOP = "的，,、；;：:。？?在对给把从和与跟及"
_RIGHT_CONJUNCT_STOP = "的，,、；;：:。？?"


def coordinated_parts(question: str) -> list[tuple[str, str]]:
    """The two questions in 「A和B各自/分别 X」, each with its conjunct (「秦淮硅巷和鼓楼硅巷各自攒下了多少人才？」 →
    (「秦淮硅巷攒下了多少人才？」, 秦淮硅巷), (「鼓楼硅巷攒下了多少人才？」, 鼓楼硅巷)), or [] when the question does not
    distribute one ask over two conjuncts."""
    marker = _DISTRIBUTIVE_RE.search(question)
    if not marker:
        return []
    before = question[:marker.start()]
    # a conjunction the segmenter reads as a word of its own: not 与 in 参与, 和 in 和平
    words, offset = set(), 0
    for word in jieba().lcut(before):
        words.add((offset, word))
        offset += len(word)
    conjunctions = [m for m in _CONJUNCTION_RE.finditer(before)
                    if (m.start(), m.group()) in words and not re.search("[。？?；;]", before[m.end():])]
    if not conjunctions:
        return []
    conj = conjunctions[-1]
    left_end = conj.start() - 1 if before[conj.start() - 1:conj.start()] in "，," else conj.start()
    a_start = left_end
    while a_start > 0 and question[a_start - 1] not in _LEFT_CONJUNCT_STOP:
        a_start -= 1
    b_end = conj.end()
    while b_end < marker.start() and question[b_end] not in _RIGHT_CONJUNCT_STOP:
        b_end += 1
    a, b = question[a_start:left_end], question[conj.end():b_end]
    if not a or not b:
        return []
    rest = question[b_end:marker.start()] + question[marker.end():]
    parts = [(question[:a_start] + a + rest, a), (question[:a_start] + b + rest, b)]
    return parts if all(len(CONTENT_RE.findall(p)) >= MIN_PART_CHARS for p, _ in parts) else []


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks two things (「…连着多少年全国第一了？它2023年…搞了多大面积？」),
    each ending with its question mark; [] when it asks one thing, or when a part is too short to stand alone."""
    parts = [p.strip() for p in _PART_END_RE.split(question.strip()) if p.strip()]
    if len(parts) < 2 or any(len(CONTENT_RE.findall(p)) < MIN_PART_CHARS for p in parts):
        return []
    return parts


# Chinese numerals a count is written with (「哪三项」, 「两大」); 双 only in names (「双轴」), see lists.py.
CHINESE_COUNTS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# Not an ordinal (第二批) nor the end of a longer numeral (二十大).
_COUNT_RE = re.compile(r"(?<![第\d.两二三四五六七八九十百])(\d+|[两二三四五六七八九十])\s*"
                       r"(?:个|家|位|项|大|款|类|种|条|所|座|名|只|支|批|方面|板块|工程)")


def count_value(numeral: str) -> int:
    """The number a count is written with: 「18」 → 18, 「三」 → 3, 「两」 → 2, 「一」 → 1."""
    return int(numeral) if numeral.isdigit() else 1 if numeral == "一" else CHINESE_COUNTS[numeral]


def asked_count(question: str) -> int:
    """The number of items a question names (「哪三项重磅政策」 → 3, 「那24位院士」 → 24), or 0."""
    m = _COUNT_RE.search(question)
    return count_value(m.group(1)) if m else 0


def analyze(question: str) -> QuestionAnalysis:
    """Answer type, slot, unit, entities and terms of ``question``."""
    qtype = answer_type(question)
    return QuestionAnalysis(
        text=question,
        qtype=qtype,
        slot=slot_name(question, qtype),
        unit=expected_unit(question) if qtype == "number" else "",
        entities=tuple(named_entities(question)),
        terms=tuple(extract_terms(question)),
        content=content_text(question),
        crosslingual=is_crosslingual(question),
        attribute=asked_attribute(question),
        value_class=value_class(question),
        count=asked_count(question) if qtype == "list" else 0,
    )


def tokens(text: str) -> set[str]:
    """The lexical tokens of ``text`` (character bigrams, Latin words, numbers), as a set."""
    return set(tokenize(text))
