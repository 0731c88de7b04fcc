"""rag.loading.sniffing: what a file really holds, by its bytes; mismatches are refused by name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loading import load_file, sniff_kind

SENTENCE = "中央经济工作会议12月11日至12日在北京举行，会议提出扩大有效需求。"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"


def test_sniff_kind_by_content():
    assert sniff_kind(SENTENCE.encode("utf-8"), ".txt") == "text"
    assert sniff_kind(SENTENCE.encode("utf-8"), ".md") == "text"
    assert sniff_kind(b"<!DOCTYPE html><html><body><p>hi</p></body></html>", ".html") == "html"
    assert sniff_kind(b"<html><body><p>hi</p></body></html>", "") == "html"
    assert sniff_kind(b"%PDF-1.7\n...", ".pdf") == "pdf"
    assert sniff_kind(SENTENCE.encode("utf-8"), "") == "text"


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("photo.txt", PNG, "PNG 图片"),
        ("scan.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("fake.pdf", SENTENCE.encode("utf-8"), "与扩展名 .pdf 不符"),
        ("fake.docx", SENTENCE.encode("utf-8"), "与扩展名 .docx 不符"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Office"),
    ],
)
def test_sniff_kind_rejects_content_that_does_not_match_the_suffix(name, data, message):
    with pytest.raises(LoadError) as err:
        sniff_kind(data, Path(name).suffix, name)
    assert name in str(err.value) and message in str(err.value)


def test_zip_that_is_not_a_word_document_is_rejected(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match="archive.docx 是ZIP 压缩包"):
        load_file(path)


def test_sniff_kind_refuses_unsupported_suffixes_listing_the_supported_ones():
    with pytest.raises(LoadError) as err:
        sniff_kind(b"a,b\n1,2\n", ".csv", "table.csv")
    assert "table.csv" in str(err.value) and ".csv" in str(err.value)
    assert all(s in str(err.value) for s in (".txt", ".md", ".pdf", ".docx", ".html"))


@pytest.mark.parametrize("data", [b"", b"   \n\t\n  "])
def test_empty_content_is_refused(data):
    with pytest.raises(LoadError, match="empty.txt 是空文件"):
        sniff_kind(data, ".txt", "empty.txt")
