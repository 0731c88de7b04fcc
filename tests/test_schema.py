import pytest

from rag.schema import Answer, Chunk, Document, Passage, content_hash


def test_document_id_is_a_content_hash():
    a = Document(source="a.txt", title="标题", text="正文。")
    assert a.doc_id == Document(source="a.txt", title="标题", text="正文。").doc_id
    assert a.doc_id != Document(source="a.txt", title="标题", text="正文！").doc_id
    assert a.doc_id == content_hash("a.txt", "标题", "正文。")


@pytest.mark.parametrize("kwargs", [
    dict(source="", title="t", text="x"), dict(source="a", title=" ", text="x"), dict(source="a", title="t", text="  "),
])
def test_document_rejects_missing_parts(kwargs):
    with pytest.raises(ValueError):
        Document(**kwargs)


def test_chunk_and_passage_spans_must_match_text():
    with pytest.raises(ValueError):
        Chunk(doc_id="d", source="a", title="t", start=0, end=3, text="四个字符")
    with pytest.raises(ValueError):
        Chunk(doc_id="d", source="a", title="t", start=5, end=5, text="")
    with pytest.raises(ValueError):
        Passage(text="abc", source="a", title="t", score=1.0, start=0, end=2, chunk_id="c")


def test_answer_validates_mode_and_refusal():
    p = Passage(text="abc", source="a.txt", title="标题", score=1.0, start=3, end=6, chunk_id="c")
    with pytest.raises(ValueError):
        Answer(text="x", mode="magic")
    with pytest.raises(ValueError):
        Answer(text="没有", refused=True, citations=[p])
    a = Answer(text="答案[1]", citations=[p])
    assert a.to_markdown() == "答案[1]\n\n**来源**\n\n[1] 《标题》（a.txt，字符 3–6）  "
