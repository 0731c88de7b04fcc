"""rag.loading (package) and rag.loading.loader: one file → its articles; the sample corpus.

The corpus tests pin what today's loader made of the five sample issues: 34
articles with the same titles, publications and — through their content-hash
ids — exactly the same text.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import rag.loading
from rag.errors import LoadError
from rag.loading import SUPPORTED_SUFFIXES, fingerprint, load_file, read_text, source_hash
from rag.schema import Document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SENTENCE = "中央经济工作会议12月11日至12日在北京举行，会议提出扩大有效需求。"
CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]")


# ------------------------------------------------------------------ package


def test_public_names_keep_working_for_callers():
    for name in ("load_file", "find_files", "SUPPORTED_SUFFIXES", "fingerprint", "discover", "clean_text",
                 "split_articles", "decode_bytes", "sniff_kind", "read_text"):
        assert hasattr(rag.loading, name), name
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".pdf", ".docx", ".html", ".htm")


def test_fingerprint_covers_every_module_of_the_package(tmp_path):
    package = Path(rag.loading.__file__).parent
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint())
    assert fingerprint() == fingerprint() == source_hash(package)
    copy = tmp_path / "loading"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_hash(copy) == fingerprint()
    pdf = copy / "formats" / "pdf.py"
    pdf.write_text(pdf.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert source_hash(copy) != fingerprint()  # a change in a submodule changes the fingerprint


# ------------------------------------------------------------------ load_file


def test_unsupported_suffix_is_rejected(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"table\.csv.*\.csv"):
        load_file(path)


@pytest.mark.parametrize("data", [b"", b"   \n\t\n  ", "\ufeff".encode("utf-8") + b"\n\n"])
def test_empty_files_are_rejected(tmp_path, data):
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    with pytest.raises(LoadError, match="empty.txt"):
        load_file(path)


def test_missing_file_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="不存在"):
        read_text(tmp_path / "nope.txt")


def test_load_file_source_is_relative_to_root(tmp_path):
    sub = tmp_path / "2024" / "十二月"
    sub.mkdir(parents=True)
    path = sub / "news.txt"
    path.write_text("标题\n" + SENTENCE, encoding="utf-8")
    [doc] = load_file(path, root=tmp_path)
    assert doc.source == "2024/十二月/news.txt"
    assert load_file(path)[0].source == "news.txt"


def test_an_upload_without_a_title_is_named_after_the_file(tmp_path):
    text = ("青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵头，带动周边三个渔村的一百二十户渔民参与养殖。"
            "合作社统一提供苗种和技术指导。\n去年海藻产量达到八百吨，社员人均增收一万二千元。")
    path = tmp_path / "青澜湾合作社.txt"
    path.write_text(text, encoding="utf-8")
    [doc] = load_file(path)
    assert doc.title == "青澜湾合作社"
    assert "…" not in doc.title


# ------------------------------------------------------------------ the sample corpus

EXPECTED = {
    "000_3556a2b9438e57bc.txt": [
        ("中央经济工作会议：形成消费和投资相互促进的良性循环", "21世纪经济报道"),
        ("易会满：更好发挥资本市场枢纽功能 推出更多务实举措", "21世纪经济报道"),
        ("VC/PE行业进入投资范式调整期 “专精特新”企业成投资香饽饽", "21世纪经济报道"),
        ("专访中科院创投刘克峰：发挥创投机构的发现与链接作用 助力科技成果转化", "21世纪经济报道"),
        ("建设新型科技孵化体系 推动专精特新企业发展", "经济参考报"),
        ("以法治保障民营经济高质量发展", "经济参考报"),
        ("人工智能辅助科研要从可用走向可信", "科技日报"),
        ("算力紧缺背景下提升训练推理效率迫在眉睫 “技术升级+一站构建”助大模型降本增效", "科技日报"),
        ("用“三心”服务打造引才品牌 昆山高新区构建人才引育“强磁场”", "中国高新技术产业导报报"),
        ("工业园到科创城精彩蝶变 无锡新加坡工业园踏上二次创业路", "中国高新技术产业导报报"),
    ],
    "001_ded5f9605ad5baf4.txt": [
        ("优化IPO等政策牵动一级市场：VC/PE投资出手愈加谨慎 退出寻求多元化方式", "21世纪经济报道"),
        ("美国大型PE调降管理费 破解募资难困局任重道远", "21世纪经济报道"),
        ("金融支持民营经济发展文件即将出台：多家头部银行已发布行动方案", "21世纪经济报道"),
        ("集聚1900多家金融机构 北京金融街有何魅力？", "21世纪经济报道"),
        ("专家：促进新经济新业态新就业联动发展", "经济参考报"),
        ("整合国家战略科技力量提升创新体系效能", "经济参考报"),
        ("AI大模型成企业智能化转型重要推手", "科技日报"),
        ("当“望闻问切”遇上人工智能", "科技日报"),
        ("南京高新区：党建激发创新澎湃动能", "中国高新技术产业导报"),
        ("南京“硅巷”为城市发展注入新动能", "中国高新技术产业导报"),
    ],
    "002_628442f445b26fe3.txt": [
        ("培育发展新质生产力 实现高水平科技创新", ""),
    ],
    "003_5e837ad3237b6fa0.txt": [
        ("从引领“养鼠”生意到探路全球新药发源地：百奥赛图创业征途步履不停", "21世纪经济报道"),
        ("海尔资本：兼具产业资源与市场化能力 探路CVC发展最佳形态", "21世纪经济报道"),
        ("武汉筑起“中国氢都” 跑出高质量发展加速度", "21世纪经济报道"),
        ("风光企业集体奔赴储能新事业 各自策略有何不同？", "21世纪经济报道"),
        ("着力打造企业主导的产学研深度融合创新联合体", "经济参考报"),
        ("发展未来产业要牢牢把握四个“未来”", "经济参考报"),
        ("AI赋能，让大城市会“思考”，更“聪明”", "科技日报"),
        ("人工智能从“大炼模型”到“炼大模型”", "科技日报"),
        ("无锡高新区：54个项目落户太湖湾科创城", "中国高新技术产业导报"),
        ("聚焦三大领域推进五大工程 常州高新区打造新能源之都核心区", "中国高新技术产业导报"),
    ],
    "004_a725a1633d20dd26.txt": [
        ("加快构建同创新相适应的科技金融体制", ""),
        ("营造良好的创新生态", ""),  # its headline is printed after the article
        ("青岛崂山区：在“更新”中让城市更聪明更智慧", "青岛市崂山区委宣传部"),
    ],
}


@pytest.fixture(scope="module")
def corpus_docs() -> dict[str, list[Document]]:
    return {name: load_file(CORPUS / name, root=CORPUS) for name in EXPECTED}


def test_corpus_files_are_all_covered():
    assert sorted(p.name for p in CORPUS.glob("*.txt")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_articles_titles_and_publications(corpus_docs, name):
    got = [(d.title, d.publication) for d in corpus_docs[name]]
    assert got == EXPECTED[name]


def _toc_titles(name: str) -> list[str]:
    """Titles as the issue's own table of contents prints them (tab-led or tab+page lines)."""
    lines = (CORPUS / name).read_text(encoding="utf-8").split("\n")
    toc = [re.sub(r"\t\s*\d*\s*$", "", l).strip() for l in lines if "\t" in l]
    return [re.sub(r"\s+", "", t) for t in toc if len(re.sub(r"\s+", "", t)) > 6]


@pytest.mark.parametrize("name", ["000_3556a2b9438e57bc.txt", "003_5e837ad3237b6fa0.txt"])
def test_titles_agree_with_the_issues_own_table_of_contents(corpus_docs, name):
    titles = [re.sub(r"\s+", "", d.title) for d in corpus_docs[name]]
    toc = [t for t in _toc_titles(name) if not t.startswith("常州高新区")]  # a subtitle line
    assert len(toc) == len(titles)
    for entry, title in zip(toc, titles):
        n = min(len(entry), len(title))
        assert entry[:n - 1] == title[:n - 1], (entry, title)  # TOC lines are sometimes cut short


def test_corpus_documents_are_clean(corpus_docs):
    for name, docs in corpus_docs.items():
        for doc in docs:
            assert doc.source == name
            assert doc.title.strip() and not doc.title.strip().isdigit()
            lines = doc.text.split("\n")
            assert lines[0] == doc.title
            for line in lines:
                assert line == line.strip() and line, (name, line)
                assert not re.fullmatch(r"\d{1,3}", line), f"page number left in {name}"
                assert "\t" not in line, f"table of contents left in {name}: {line!r}"
                assert not line.startswith("来源"), f"来源 line inside the text of {name}"
                assert "JIANGSU VENTURE CAPITAL" not in line
                assert "图片来源" not in line and not line.endswith("供图")
                headline = len(line) <= 40 and "。" not in line
                if not headline:  # headings may keep "title subtitle" spacing
                    assert not CJK_SPACE_CJK.search(line), (name, line)


def test_corpus_has_no_sentence_broken_across_lines(corpus_docs):
    """Every line is a finished paragraph, or short enough to be a heading."""
    broken = []
    for name, docs in corpus_docs.items():
        for doc in docs:
            for line in doc.text.split("\n")[1:]:
                finished = re.search(r"[。！？；…][”’）)]*$|[）)]$|……$", line)
                if not finished and len(line) > 40:
                    broken.append((name, line[-30:]))
    assert not broken


def test_corpus_keeps_all_the_article_text(corpus_docs):
    """Cleaning drops layout, not content: almost every raw character survives."""
    for name, docs in corpus_docs.items():
        raw = re.sub(r"\s+", "", (CORPUS / name).read_text(encoding="utf-8"))
        kept = sum(len(re.sub(r"\s+", "", d.text)) for d in docs)
        assert 0.9 * len(raw) <= kept <= len(raw) + sum(len(d.title) for d in docs), name


def test_corpus_spot_checks(corpus_docs):
    first = corpus_docs["000_3556a2b9438e57bc.txt"][0].text
    assert "中央经济工作会议12月11日至12日在北京举行。" in first
    hydrogen = corpus_docs["003_5e837ad3237b6fa0.txt"][2].text
    assert "至2035年，产业规模在2025年的基础上力争再翻一番" not in hydrogen  # other article
    last = corpus_docs["003_5e837ad3237b6fa0.txt"][-1].text
    assert "“发、储、送、用”四大环节实现深层次、高浓度的融合发展" in last
    medicine = corpus_docs["001_ded5f9605ad5baf4.txt"][7].text
    assert "成了大家现在关注的焦点。”广州金域医学检验集团股份有限公司" in medicine
    usa = corpus_docs["001_ded5f9605ad5baf4.txt"][1].text  # Latin words wrapped across lines
    assert "Tiger Global Private Investment Partners XVI的首次关账" in usa
    assert "包括将Messer Industries股份出售给梅塞尔" in usa
    report = corpus_docs["002_628442f445b26fe3.txt"][0].text
    assert "劳动对象的范围扩大。" in report and "(第3期)" not in report


# Content-hash ids (source, title, text) of the 34 articles as the loader made them
# before rag/loading became a package: the same split, titles and text, character for character.
BASELINE_DOC_IDS = {
    "000_3556a2b9438e57bc.txt": ["62cd005fa8859501", "451aef1fd2c7f901", "b651fe94419faf00", "b0d390351b86e3bc",
                                 "724c1d0c7c2f30ca", "10aa50911e2fa8b6", "28aa1d856a9fa289", "35884355188f1fe8",
                                 "99e6591158e7fd76", "f523dcacbdfe80e0"],
    "001_ded5f9605ad5baf4.txt": ["3dc985eace5c97b5", "0d1201ff7cdc5545", "801ed57a0918d6db", "3c5e38bb65800a8c",
                                 "bd80be92cb4ce083", "72c65235a860ab1b", "746c80225d527657", "a93b9ad011a3a5df",
                                 "9885f171a69693fd", "6c1ff776e98a270e"],
    "002_628442f445b26fe3.txt": ["b10970a32ed4e5dc"],
    "003_5e837ad3237b6fa0.txt": ["0b3ccafc078f0214", "f76c192822a0236d", "9636c868b36fbc9e", "c65db2afa9f2fe3e",
                                 "17ce7b3d9240f722", "f47a2155a555a826", "aa6dde89d5973d20", "9ff75f5a99a65918",
                                 "345c87aac80a63f4", "f65c9472154f78d2"],
    "004_a725a1633d20dd26.txt": ["739200092d2666fa", "bb50945fca6ec5f3", "38a5382a5667be70"],
}


def test_corpus_yields_34_articles_identical_to_the_loader_before_the_package(corpus_docs):
    assert sum(len(docs) for docs in corpus_docs.values()) == 34
    assert {name: [d.doc_id for d in docs] for name, docs in corpus_docs.items()} == BASELINE_DOC_IDS


def test_doc_ids_are_unique_and_stable(corpus_docs):
    ids = [d.doc_id for docs in corpus_docs.values() for d in docs]
    assert len(set(ids)) == len(ids)
    again = load_file(CORPUS / "004_a725a1633d20dd26.txt", root=CORPUS)
    assert [d.doc_id for d in again] == [d.doc_id for d in corpus_docs["004_a725a1633d20dd26.txt"]]
