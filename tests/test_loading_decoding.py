"""rag.loading.decoding: bytes of real files → text (BOMs, UTF-8, GB18030/GBK, mixed files, binary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loading import decode_bytes, load_file, read_text

SENTENCE = "中央经济工作会议12月11日至12日在北京举行，会议提出扩大有效需求。"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "encoded",
    [
        SENTENCE.encode("utf-8"),
        b"\xef\xbb\xbf" + SENTENCE.encode("utf-8"),
        SENTENCE.encode("gb18030"),
        SENTENCE.encode("gbk"),
        b"\xff\xfe" + SENTENCE.encode("utf-16-le"),
        b"\xfe\xff" + SENTENCE.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16le-bom", "utf16be-bom"],
)
def test_encodings_round_trip_through_a_real_file(tmp_path, encoded):
    path = _write(tmp_path, "note.txt", encoded)
    assert decode_bytes(encoded, "note.txt") == SENTENCE
    assert read_text(path) == SENTENCE
    [doc] = load_file(path)
    assert SENTENCE in doc.text
    assert doc.source == "note.txt"


def test_gb18030_text_longer_than_a_sentence_is_not_mistaken_for_binary():
    text = "\n".join([SENTENCE] * 50 + ["数据来源：国家统计局，2023年1—10月。"])
    assert decode_bytes(text.encode("gb18030")) == text


def test_utf8_with_one_damaged_byte_is_not_read_as_gb18030():
    data = (SENTENCE * 20).encode("utf-8")
    damaged = data[:100] + b"\xff" + data[101:]
    text = decode_bytes(damaged, "damaged.txt")
    assert 1 <= text.count("\ufffd") <= 3  # one broken character, not mojibake
    assert text.count(SENTENCE) == 19


def test_damaged_bytes_are_not_indexed(tmp_path):
    data = (SENTENCE * 20).encode("utf-8")
    path = _write(tmp_path, "damaged.txt", data[:100] + b"\xff" + data[101:])
    [doc] = load_file(path)
    assert "\ufffd" not in doc.text and doc.text.count(SENTENCE) == 19


def test_mixed_utf8_and_gbk_lines_are_each_decoded_in_their_own_encoding(tmp_path):
    utf8_lines = ["青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵头。"] * 3
    gbk_lines = ["合作社统一提供苗种和技术指导，去年海藻产量达到八百吨。"] * 3
    data = b"\n".join([l.encode("utf-8") for l in utf8_lines] + [l.encode("gbk") for l in gbk_lines])
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_bytes(data, "mixed.txt") == "\n".join(utf8_lines + gbk_lines)
    [doc] = load_file(_write(tmp_path, "mixed.txt", data))
    assert utf8_lines[0] in doc.text and gbk_lines[0] in doc.text


def test_crlf_line_ends_become_newlines():
    assert decode_bytes("第一行。\r\n第二行。\r\n".encode("utf-8")) == "第一行。\n第二行。\n"


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("picture.txt", PNG + bytes(range(256)) * 4, "PNG"),
        ("nul.txt", b"abc\x00\x00\x00def" * 20, "二进制"),
        ("controls.txt", ("正文" + "\x01\x02\x03\x04" * 10).encode("utf-8"), "二进制"),
        ("gibberish.txt", bytes([0x80, 0xFF, 0xFE, 0x81, 0x9F, 0xA0]) * 40, "不是可读的文本"),
    ],
)
def test_binary_or_undecodable_files_are_rejected_naming_the_file(tmp_path, name, data, words):
    path = _write(tmp_path, name, data)
    with pytest.raises(LoadError) as err:
        load_file(path)
    assert name in str(err.value)
    assert words in str(err.value)


def test_a_few_control_characters_are_cleaned_not_indexed(tmp_path):
    text = "合作社年报\n" + SENTENCE.replace("北京", "北\x07京") + SENTENCE * 30 + "\x1b\n"  # 2 in 1,100
    path = _write(tmp_path, "bell.txt", text.encode("utf-8"))
    [doc] = load_file(path)
    assert not any(ch in doc.text for ch in "\x07\x1b")
    assert SENTENCE in doc.text


def test_bad_utf16_after_bom_is_rejected():
    with pytest.raises(LoadError, match="utf-16-le"):
        decode_bytes(b"\xff\xfe" + b"\x00\xd8", "odd.txt")  # lone surrogate
