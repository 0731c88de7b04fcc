"""Chinese names for the Latin words of a question in another language.

An English question about Chinese articles names places, companies and people in pinyin
(Laoshan, Wuxi, WuDao) or by an English name the articles give in brackets
(「百奥赛图（Biocytogen）」). The multilingual embedding model matches meaning, but the lexical
half of hybrid retrieval finds nothing for such words. ``Glossary`` maps them back:

- every 2–4 character word of the articles (jieba) under its toneless pinyin, keeping the
  most frequent word where two share a spelling (北京 beijing, not 背景);
- every bracketed pair 「中文（English）」 or 「English（中文）」 in the articles.

Only capitalised words of the question are looked up (English proper nouns are), runs of up
to three of them together (Dingxiang Yuan → 丁香园). ``expand(question)`` returns the Chinese
terms; the retriever adds them to the lexical query of a cross-lingual question. Built once per
index from its documents (about 2 s for the sample), on the first such question.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from .text import CJK_RANGES

MIN_PINYIN_KEY = 4  # shorter keys (an, li, ma) match ordinary English words and single syllables
MAX_RUN = 3  # words of a name written apart: Dingxiang Yuan, Zhejiang University
MAX_PAIR_CHINESE = 6  # characters kept before a bracketed English name (「海王星能源集团」 → 「王星能源集团」 is enough for bigrams)
_WORD_RE = re.compile(f"^[{CJK_RANGES}]{{2,4}}$")
_CAPITALISED_RE = re.compile(r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
_ZH_EN_RE = re.compile(f"([{CJK_RANGES}]{{2,}})\\s*[（(]\\s*([A-Za-z][A-Za-z0-9 .&\\-]{{1,40}}?)\\s*[）)]")
_EN_ZH_RE = re.compile(f"([A-Za-z][A-Za-z0-9.&\\-]*(?: [A-Za-z][A-Za-z0-9.&\\-]*){{0,4}})\\s*[（(]\\s*([{CJK_RANGES}]{{2,10}})\\s*[）)]")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class Glossary:
    """Latin spelling (lower case, no spaces) → Chinese terms of the articles."""

    terms: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Glossary":
        import jieba
        from pypinyin import lazy_pinyin

        counts: Counter[str] = Counter()
        pairs: dict[str, list[str]] = {}
        for text in texts:
            counts.update(w for w in jieba.lcut(text) if _WORD_RE.match(w))
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
        return cls(terms)

    def expand(self, question: str) -> list[str]:
        """Chinese terms for the capitalised Latin words of ``question`` (longest runs first)."""
        words = _CAPITALISED_RE.findall(question)
        found: list[str] = []
        used: set[int] = set()
        for n in range(MAX_RUN, 0, -1):
            for i in range(len(words) - n + 1):
                if used & set(range(i, i + n)):
                    continue
                hit = self.terms.get(_key("".join(words[i:i + n])))
                if hit:
                    found += [t for t in hit if t not in question]
                    used |= set(range(i, i + n))
        return list(dict.fromkeys(found))


__all__ = ["Glossary"]
