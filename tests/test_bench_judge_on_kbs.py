"""The held-out knowledge-base curve of bench/judge_on_kbs.py: knowledge-base groups apart from the sample's
batches, the first three batches left out, a question a rule refuses refused at every threshold."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
judge_on_kbs = pytest.importorskip("judge_on_kbs")


def _row(batch, kind, p, rules=(), crosslingual=False):
    return {"id": f"{batch}-{kind}-{p}", "batch": batch, "kind": kind, "crosslingual": crosslingual, "p": p,
            "threshold": 0.2, "rules": list(rules)}


def test_curve_reads_knowledge_bases_apart_from_new_writers(tmp_path, capsys):
    rows = [
        _row("kb2", "answerable", 0.10), _row("kb2", "answerable", 0.90), _row("kb3", "near-miss", 0.10),
        _row("kb3", "off-topic", 0.90, rules=("period",)),
        _row("7", "answerable", 0.90), _row("7", "near-miss", 0.10),
        _row("1-2", "answerable", 0.01),  # written alongside the code: not a new writer's
        _row("kb2", "near-miss", 0.01, crosslingual=True),  # the English model's: not in the Chinese curve
    ]
    oof = tmp_path / "oof.jsonl"
    oof.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    judge_on_kbs.curve(oof)
    out = capsys.readouterr().out
    kb_part, writers_part = out.split("new writers' batches held out")
    assert "(2 answerable, 2 unanswerable)" in kb_part
    assert "threshold 0.12: answerable refused 0.500, unanswerable refused 1.000" in kb_part
    assert "(1 answerable, 1 unanswerable)" in writers_part
    assert "threshold 0.12: answerable refused 0.000, unanswerable refused 1.000" in writers_part
