"""Lexical retrieval: BM25 over Chinese character bigrams and Latin/number tokens.

Character bigrams need no dictionary and match Chinese words of any length; Latin
words and numbers stay whole. Scores are precomputed per (chunk, term) into a sparse
matrix, so a query is one column slice and a sum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse

TOKENIZER_ID = "cjk-bigram+latin-v1"

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[A-Za-z]+|\d+(?:\.\d+)?")
_CJK_RE = re.compile(rf"[{_CJK}]")


def tokenize(text: str) -> list[str]:
    """Bigrams of each run of Chinese characters (a lone character stays), plus Latin words and numbers."""
    tokens: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        run = m.group()
        if _CJK_RE.match(run):
            if len(run) == 1:
                tokens.append(run)
            else:
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run.lower())
    return tokens


def bm25_idf(n: int, df):
    """Okapi BM25 idf with the +1 that keeps it positive (Lucene's form); ``df`` may be an array."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


class TermStats:
    """Document frequencies of the lexical terms of a set of texts: what ``idf`` needs, no more.

    Stores that rank lexically with their own analyzer (Milvus: jieba) keep these beside
    their collection, so the answer judge weighs terms exactly as with the in-process BM25.
    """

    FILES = ("lexical_df.npy", "lexical_vocab.json")

    def __init__(self, vocab: dict[str, int], df: np.ndarray, n: int) -> None:
        self.vocab = vocab
        self.df = df
        self.n = n

    @classmethod
    def build(cls, texts: Sequence[str]) -> "TermStats":
        vocab: dict[str, int] = {}
        counts: list[int] = []
        for text in texts:
            for tok in set(tokenize(text)):
                j = vocab.setdefault(tok, len(vocab))
                if j == len(counts):
                    counts.append(0)
                counts[j] += 1
        return cls(vocab, np.asarray(counts, dtype=np.int64), len(texts))

    def idf(self, term: str) -> float:
        j = self.vocab.get(term)
        if j is None:
            return 0.0
        return float(bm25_idf(self.n, float(self.df[j])))

    def save(self, directory: Path) -> list[str]:
        np.save(directory / self.FILES[0], self.df, allow_pickle=False)
        meta = {"tokenizer": TOKENIZER_ID, "n": self.n, "vocab": sorted(self.vocab, key=self.vocab.__getitem__)}
        (directory / self.FILES[1]).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        return list(self.FILES)

    @classmethod
    def load(cls, directory: Path) -> "TermStats":
        meta = json.loads((directory / cls.FILES[1]).read_text("utf-8"))
        if meta.get("tokenizer") != TOKENIZER_ID:
            raise ValueError(f"term statistics use tokenizer {meta.get('tokenizer')!r}, expected {TOKENIZER_ID!r}")
        df = np.load(directory / cls.FILES[0], allow_pickle=False)
        vocab = {t: i for i, t in enumerate(meta["vocab"])}
        if len(df) != len(vocab):
            raise ValueError("term statistics vocabulary does not match its counts")
        return cls(vocab, df, int(meta["n"]))


class BM25Index:
    """BM25 (k1, b) over a fixed set of texts, persisted as a sparse matrix plus vocabulary."""

    # k1 = 1.2, b = 0.75: the defaults of Robertson & Zaragoza (2009) and of Lucene.
    K1 = 1.2
    B = 0.75

    def __init__(self, weights: sparse.csc_matrix, vocab: dict[str, int], k1: float, b: float) -> None:
        self.weights = weights  # (n_texts, n_terms), csc for fast column slicing
        self.vocab = vocab
        self.k1 = k1
        self.b = b

    @property
    def size(self) -> int:
        return self.weights.shape[0]

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = K1, b: float = B) -> "BM25Index":
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            counts: dict[int, int] = {}
            toks = tokenize(text)
            lengths[i] = len(toks)
            for tok in toks:
                j = vocab.setdefault(tok, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            rows.extend([i] * len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())
        n = len(texts)
        tf = np.asarray(tfs, dtype=np.float32)
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        df = np.bincount(cols_a, minlength=len(vocab)).astype(np.float32)
        idf = bm25_idf(n, df)
        avgdl = float(lengths.mean()) if n else 1.0
        norm = k1 * (1 - b + b * lengths[rows_a] / max(avgdl, 1e-9))
        w = idf[cols_a] * tf * (k1 + 1) / (tf + norm)
        matrix = sparse.csc_matrix((w, (rows_a, cols_a)), shape=(n, len(vocab)), dtype=np.float32)
        return cls(matrix, vocab, k1, b)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (0 for unknown terms); used to weight overlap."""
        j = self.vocab.get(term)
        if j is None:
            return 0.0
        n = self.size
        df = self.weights.indptr[j + 1] - self.weights.indptr[j]
        return float(bm25_idf(n, df))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query`` (a term repeated in the query counts once)."""
        cols = sorted({self.vocab[t] for t in tokenize(query) if t in self.vocab})
        if not cols or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.weights[:, cols].sum(axis=1)).ravel()

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the best ``k`` texts with a positive score."""
        scores = self.scores(query)
        k = min(k, int((scores > 0).sum()))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]

    def save(self, directory: Path) -> list[str]:
        sparse.save_npz(directory / "bm25.npz", self.weights.tocsc(), compressed=False)
        meta = {"tokenizer": TOKENIZER_ID, "k1": self.k1, "b": self.b,
                "vocab": sorted(self.vocab, key=self.vocab.__getitem__)}
        (directory / "bm25_vocab.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        return ["bm25.npz", "bm25_vocab.json"]

    @classmethod
    def load(cls, directory: Path) -> "BM25Index":
        meta = json.loads((directory / "bm25_vocab.json").read_text("utf-8"))
        if meta.get("tokenizer") != TOKENIZER_ID:
            raise ValueError(f"lexical index uses tokenizer {meta.get('tokenizer')!r}, expected {TOKENIZER_ID!r}")
        weights = sparse.load_npz(directory / "bm25.npz").tocsc()
        vocab = {t: i for i, t in enumerate(meta["vocab"])}
        if weights.shape[1] != len(vocab):
            raise ValueError("lexical index vocabulary does not match its matrix")
        return cls(weights, vocab, meta["k1"], meta["b"])

