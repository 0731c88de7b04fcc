import statistics

import pytest

from rag.chunking import chunk_document, chunk_text, split_sentences
from rag.config import ChunkSettings
from rag.errors import ConfigError
from rag.schema import Document


def texts(text, spans):
    return [text[s:e] for s, e in spans]


def test_sentences_end_at_chinese_marks_and_closing_quotes():
    text = "第一句话。第二句！他说：“好的。”然后呢？最后；\n新段落没有句号\n"
    assert texts(text, split_sentences(text)) == [
        "第一句话。", "第二句！", "他说：“好的。”", "然后呢？", "最后；", "新段落没有句号",
    ]


def test_ellipsis_and_whitespace_trimmed():
    text = "  等等……  还有\n\n  下一段。"
    assert texts(text, split_sentences(text)) == ["等等……", "还有", "下一段。"]


def test_chunks_never_cut_a_sentence_and_respect_size():
    sentences = [f"这是第{i}个句子，内容长短不一{'很' * (i % 7)}。" for i in range(60)]
    text = "".join(sentences)
    settings = ChunkSettings(size=120, overlap=30)
    spans = chunk_text(text, settings)
    for s, e in spans:
        assert e - s <= 120
        chunk = text[s:e]
        assert chunk.endswith("。") and chunk.startswith("这是第")
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    assert covered == set(range(len(text)))  # nothing lost


def test_overlap_repeats_whole_trailing_sentences():
    text = "".join(f"句子{i:02d}。" for i in range(40))  # 5 chars each
    spans = chunk_text(text, ChunkSettings(size=50, overlap=12))
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert s2 < e1  # overlaps
        assert e1 - s2 <= 12
        assert e2 > e1  # always progresses
    no_overlap = chunk_text(text, ChunkSettings(size=50, overlap=0))
    assert all(a[1] <= b[0] for a, b in zip(no_overlap, no_overlap[1:]))


def test_a_sentence_longer_than_the_limit_is_cut_at_commas_first():
    long_sentence = "，".join(["甲乙丙丁戊己庚辛"] * 30) + "。"
    text = "短句。" + long_sentence + "尾句。"
    spans = chunk_text(text, ChunkSettings(size=60, overlap=0))
    assert all(e - s <= 60 for s, e in spans)
    assert "".join(texts(text, spans)) == text
    assert any(text[s:e].endswith("，") for s, e in spans)


def test_chunk_document_offsets_slice_the_document_exactly():
    doc = Document(source="a.txt", title="标题", text="标题\n" + "第一段的句子。" * 40 + "\n" + "第二段。" * 30)
    chunks = chunk_document(doc, ChunkSettings(size=100, overlap=20))
    assert len(chunks) > 3
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.source == "a.txt" and c.title == "标题" and c.doc_id == doc.doc_id
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_chunk_ids_are_content_hashes():
    doc = Document(source="a.txt", title="标题", text="标题\n一句话。两句话。")
    a = chunk_document(doc, ChunkSettings(size=100, overlap=0))
    b = chunk_document(doc, ChunkSettings(size=100, overlap=0))
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    other = Document(source="a.txt", title="标题", text="标题\n一句话。三句话。")
    assert chunk_document(other, ChunkSettings(size=100, overlap=0))[0].chunk_id != a[0].chunk_id


def test_sample_corpus_chunks_are_short_enough_to_check(corpus_dir):
    from rag.loading import load_file

    lengths = []
    for path in sorted(corpus_dir.glob("*.txt")):
        for doc in load_file(path, corpus_dir):
            for c in chunk_document(doc, ChunkSettings()):
                assert doc.text[c.start:c.end] == c.text
                lengths.append(len(c.text))
    assert statistics.median(lengths) <= 600


def test_bad_settings_say_how_to_fix():
    with pytest.raises(ConfigError, match="at least 50"):
        ChunkSettings(size=10)
    with pytest.raises(ConfigError, match="overlap"):
        ChunkSettings(size=100, overlap=80)
