"""rag.loading.discovery: folders → supported files; hidden files, symlinks and other types reported as skipped."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loading import Discovery, Skipped, discover, find_files


def _touch(root: Path, *rels: str) -> None:
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def _rel(paths, root: Path) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in paths]


def test_find_files_expands_folders_sorted_and_skips_hidden(tmp_path):
    _touch(tmp_path, "b/z.txt", "a.md", "b/c.HTML", "x.png", ".hidden.txt", ".git/config.txt", "~$lock.docx", "b/d.pdf")
    assert _rel(find_files([tmp_path]), tmp_path) == ["a.md", "b/c.HTML", "b/d.pdf", "b/z.txt"]


def test_discover_reports_what_it_skipped_and_why(tmp_path):
    _touch(tmp_path, "a.md", "x.png", ".hidden.txt", ".git/config.txt", "~$lock.docx", "notes")
    found = discover([tmp_path])
    assert _rel(found.files, tmp_path) == ["a.md"]
    reasons = {Path(s.path).relative_to(tmp_path).as_posix(): s.reason for s in found.skipped}
    assert set(reasons) == {"x.png", ".hidden.txt", ".git", "~$lock.docx", "notes"}
    assert "隐藏文件" in reasons[".hidden.txt"] and "隐藏文件" in reasons["~$lock.docx"]
    assert "隐藏文件夹" in reasons[".git"]
    assert "不支持" in reasons["x.png"] and ".png" in reasons["x.png"]
    assert "无扩展名" in reasons["notes"]


def test_symlinks_leading_outside_the_folder_are_skipped_with_a_warning(tmp_path, caplog):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    _touch(corpus, "a.txt")
    _touch(outside, "secret.txt", "dir/more.txt")
    os.symlink(outside / "secret.txt", corpus / "link.txt")
    os.symlink(outside / "dir", corpus / "linked-dir")
    os.symlink(corpus / "a.txt", corpus / "alias.txt")  # inside: the same file, listed once
    os.symlink(corpus / "gone.txt", corpus / "broken.txt")
    with caplog.at_level(logging.WARNING, logger="rag.loading.discovery"):
        found = discover([corpus])
    assert _rel(found.files, corpus) == ["a.txt"]
    reasons = {p.name: r for p, r in ((Path(s.path), s.reason) for s in found.skipped)}
    assert "文件夹之外" in reasons["link.txt"] and "文件夹之外" in reasons["linked-dir"]
    assert "不存在" in reasons["broken.txt"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "link.txt" in warned and "linked-dir" in warned
    assert all("secret" not in str(p) and "more" not in str(p) for p in found.files)


def test_find_files_keeps_explicit_files_and_reports_missing_paths(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("a,b")
    hidden = tmp_path / ".draft.txt"
    hidden.write_text("草稿")
    assert find_files([f, f]) == [f]
    assert find_files([hidden]) == [hidden]  # named explicitly: the user meant it
    with pytest.raises(LoadError, match="不存在"):
        find_files([tmp_path / "missing"])


def test_discovery_serialises_itself(tmp_path):
    found = Discovery([tmp_path / "a.txt"], [Skipped(tmp_path / ".b.txt", "隐藏文件，已跳过")])
    assert Discovery.from_dict(found.to_dict()) == found
    with pytest.raises(ValueError):
        Skipped(tmp_path / "c.txt", "")
