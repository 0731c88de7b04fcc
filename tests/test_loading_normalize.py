"""rag.loading.normalize: safe NFKC for compatibility characters, controls removed, spans exact."""

from __future__ import annotations

import unicodedata

import pytest

from rag.chunking import chunk_document
from rag.config import ChunkSettings
from rag.loading import compat_normalize, load_file, normalize_text

KANGXI = "\u2f00\u2f46\u2f08\u2fbc"  # ⼀⽆⼈⾼ — Kangxi radicals as PDF fonts emit them


@pytest.mark.parametrize(
    "raw, expected",
    [
        (KANGXI, "一无人高"),
        ("\u2e9f\u2ef3", "母龟"),  # CJK radicals supplement
        ("\uf900\uf91d", "豈欄"),  # CJK compatibility ideographs
        ("ＡＩ大模型２０２４年", "AI大模型2024年"),  # full-width Latin letters and digits
        ("ｅ５模型", "e5模型"),
        ("\ufb01nance", "finance"),  # ligature
    ],
)
def test_compatibility_characters_become_ordinary_ones(raw, expected):
    assert compat_normalize(raw) == expected


@pytest.mark.parametrize("kept", ["，。；：？！（）“”《》、", "……", "①②③", "m²", "％＋－"])
def test_chinese_punctuation_and_meaningful_forms_are_kept(kept):
    assert compat_normalize(kept) == kept
    assert unicodedata.normalize("NFKC", kept) != kept  # plain NFKC would change them


def test_controls_and_replacement_marks_are_removed():
    assert normalize_text("合\x07作\ufffd社\r\n年报\x00") == "合作社\n年报"
    assert normalize_text("表\t格\f分页") == "表\t格\f分页"


def test_a_file_with_compatibility_characters_is_stored_normalised_with_exact_spans(tmp_path):
    raw = (
        "⼈⼯智能助⼒⾼质量发展\n\n"
        "２０２４年，⼈⼯智能⼤模型在⾦融、医疗等⾏业加速落地，ＡＩ应⽤从可⽤⾛向可信。"
        "专家表示，⾼质量数据是模型能⼒提升的关键。" * 6
    )
    path = tmp_path / "kangxi.txt"
    path.write_text(raw, encoding="utf-8")
    [doc] = load_file(path)
    assert doc.title == "人工智能助力高质量发展"
    assert "2024年，人工智能大模型在金融、医疗等行业加速落地，AI应用从可用走向可信。" in doc.text
    assert not any(0x2F00 <= ord(ch) <= 0x2FDF or 0xFF10 <= ord(ch) <= 0xFF5A for ch in doc.text)
    chunks = chunk_document(doc, ChunkSettings())
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
    assert any("高质量数据是模型能力提升的关键" in c.text for c in chunks)
