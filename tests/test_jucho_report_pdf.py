"""The 重要事項調査報告書 PDF: a building with 400 住戸 and a long 大規模修繕 history printed in the 別表第5 layout, read
back with pypdf (every section, the fixture's values, 「以上」, 「n / N」 on every page), the font embedded, the draft's
watermark, ※ on overridden items, the same bytes for the same document, hostile values, and page 1 as a PNG."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess  # nosec B404 - pdftoppm with fixed arguments
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from app import pdf
from plugins.jucho.report_document import ReportDocument, ReportItem, ReportSection
from plugins.jucho.report_pdf import CONTINUED, DRAFT_FOOTER, OVERRIDE_NOTE, render_report
from tests.jucho_fixtures import *  # noqa: F403  (the shared 重調 fixtures)
from tests.jucho_report_data import REPAIR_LINES, create_large_building, document_of, sections_of
from tests.test_jucho_report_items import TITLES

IPAEX = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
needs_ipaex = pytest.mark.skipif(not pdf.is_truetype(IPAEX), reason="fonts-ipaexfont-gothic is not installed")
PDFTOPPM = shutil.which("pdftoppm")
ARTIFACTS = Path(__file__).resolve().parent / "browser" / "artifacts"  # with the browser screenshots


@pytest.fixture
def large(jucho, in_tenant):
    """juchoco's building with the full profile, 400 住戸 and a long history; returns a sections factory."""
    with in_tenant("juchoco"):
        building_id = create_large_building()

    def _sections(**overrides):
        with in_tenant("juchoco"):
            return sections_of(building_id, overrides=overrides)

    return _sections


def _pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _flat(text: str) -> str:
    """The text without spaces and line breaks (a value may wrap anywhere inside its cell)."""
    return "".join(text.split())


def _has(text: str, *values: str) -> list[str]:
    """The values missing from the text (compared without spaces and line breaks)."""
    flat = _flat(text)
    return [value for value in values if _flat(value) not in flat]


def _fonts(data: bytes) -> list[dict]:
    fonts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.append(font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)
    return fonts


def test_the_full_report_prints_every_section_and_the_buildings_values_with_page_numbers(app, large):
    pages = _pages(render_report(document_of(large(), issued=True, notes="駐車場の空き区画は先着順です。")))
    text = "\n".join(pages)
    flat = _flat(text)
    positions = [flat.find(_flat(title)) for title in TITLES]
    assert -1 not in positions and positions == sorted(positions), positions    # 1–12, in the form's order
    assert not _has(text, "重要事項調査報告書", "作成日 2026年11月30日", "依頼番号 R2026-000123 第1版",
                    "青葉不動産販売株式会社 御中", "担当 佐藤 一郎 様", "デモ不動産管理株式会社",
                    "マンション管理業者登録番号 国土交通大臣(5)第012345号", "東京都千代田区丸の内1-1-1", "担当 管理 太郎",
                    "別表第5に定める事項", "グランドメゾン青葉", "東京都青葉区1-2-3", "400戸", "1503", "76.75㎡",
                    "駐車場 15,000円、駐輪場 200円", "34台", "12,000円〜18,500円", "15,350円",
                    "97,000,000円", "小型犬・猫 1匹まで", "1992年10月 第1回大規模修繕（外壁塗装・屋上防水・鉄部塗装）",
                    *REPAIR_LINES, "2040年 第23回大規模修繕（予定・長期修繕計画による）", "特記事項",
                    "駐車場の空き区画は先着順です。", "以上")
    assert "以上" in pages[-1] and flat.rfind("以上") > positions[-1]            # closes the report
    total = len(pages)
    assert total >= 3
    for number, page in enumerate(pages, start=1):
        assert f"{number} / {total}" in page                                     # on every page
        assert "デモ不動産管理株式会社　R2026-000123 第1版" in page                 # the footer
    assert "下書き" not in text and "※" not in text


def test_a_section_longer_than_a_page_continues_under_its_title(app, large):
    history = "\n".join(f"{1950 + n}年4月 第{n + 1}回 外壁・屋上・給排水の点検と部分補修（第{n + 1}期）" for n in range(120))
    pages = _pages(render_report(document_of(large(**{"repairs.done": history}), issued=True)))
    continued = [page for page in pages if _flat("7. 大規模修繕" + CONTINUED) in _flat(page)]
    assert len(continued) >= 2                                  # the history alone fills more than two pages
    assert not _has("\n".join(pages), *history.splitlines(), "8. アスベスト使用調査・耐震診断", "以上")
    for page in pages:                                          # a （続き） title only ever opens a page
        assert page.count(CONTINUED) <= 1 and (CONTINUED not in page or CONTINUED in page.splitlines()[0])
    start = next(page for page in pages if "7. 大規模修繕\n" in page)
    assert "1950年4月 第1回" in start                             # the history starts where its section does: no gap


def test_a_draft_carries_the_watermark_on_every_page_and_an_issued_report_none(app, large):
    sections = large()
    draft = _pages(render_report(document_of(sections, issued=False)))
    for page in draft:
        assert DRAFT_FOOTER in page
        assert page.count("下書き") >= 2                          # the footer and the diagonal watermark
    issued = _pages(render_report(document_of(sections, issued=True)))
    assert all("下書き" not in page for page in issued)


def test_an_overridden_item_is_marked_and_explained(app, large):
    pages = _pages(render_report(document_of(large(**{"parking.vacant": "2台（うち1台は2027年1月から）"}), issued=True)))
    text = "\n".join(pages)
    assert not _has(text, "駐車場 空き区画 ※", "2台（うち1台は2027年1月から）", OVERRIDE_NOTE)
    assert _flat(text).count("※") == 2                           # the mark and its note, nothing else


@needs_ipaex
def test_ipaex_is_embedded_as_a_truetype_subset(app, large):
    with app.app_context():
        fonts = _fonts(render_report(document_of(large(), issued=False)))
    assert {str(font["/BaseFont"]).split("+")[-1] for font in fonts} == {"IPAexGothic"}
    assert all("/FontFile2" in font["/FontDescriptor"].get_object() for font in fonts)


def test_without_a_font_file_the_cid_font_still_prints_the_report(app, large, monkeypatch):
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ())
    app.config["KANRI_PDF_FONT"] = None
    with app.app_context():
        data = render_report(document_of(large(**{"remarks.text": "絵文字 😀 と 𠮷"}), issued=False))
    fonts = _fonts(data)
    assert {str(font["/BaseFont"]) for font in fonts} == {f"/{pdf.CID_FONT}"}
    assert not any("/FontFile2" in font.get("/FontDescriptor", {}) for font in fonts)
    text = "\n".join(_pages(data))
    assert not _has(text, *TITLES, "400戸", "駐車場 15,000円、駐輪場 200円", "以上", DRAFT_FOOTER)


def test_the_same_document_gives_the_same_bytes_also_from_its_snapshot(app, large):
    document = document_of(large(**{"parking.vacant": "2台"}), issued=True, notes="特記")
    first = render_report(document)
    render_report(replace(document, issued=False))                # another document in between
    assert render_report(document) == first
    assert render_report(ReportDocument.from_dict(document.to_dict())) == first   # reprinted from the snapshot


REPRINT = ("import json, sys\n"
           "from plugins.jucho.report_document import ReportDocument\n"
           "from plugins.jucho.report_pdf import render_report\n"
           "sys.stdout.buffer.write(render_report(ReportDocument.from_dict(json.loads(sys.stdin.read()))))\n")


def test_another_process_prints_the_same_bytes_from_the_snapshot(app, large):
    document = document_of(large(**{"parking.vacant": "2台"}), issued=True, notes="特記事項の本文")
    with app.app_context():
        here = render_report(document)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", REPRINT], input=json.dumps(document.to_dict()).encode(),  # nosec B603
                           capture_output=True, check=True, cwd=root, env=env, timeout=120).stdout
    assert hashlib.sha256(there).hexdigest() == hashlib.sha256(here).hexdigest()


def test_hostile_values_print_as_typed_without_breaking_the_page(app, large):
    unbroken = "X" * 2000
    document = document_of(large(**{
        "building.name": "<b>太字</b> & <script>alert(1)</script>",
        "use.other": unbroken,
        "remarks.text": "絵文字 😀👍🏽 と 𠮷野家 と 制御\x00\x1b文字\u200bと\ttab",
    }), issued=False, recipient_company="<i>悪意</i> & Co.", recipient_person="]]></para>", notes="&amp;" * 900)  # 4,500 characters
    pages = _pages(render_report(document))
    text = "\n".join(pages)
    assert not _has(text, "<b>太字</b> & <script>alert(1)</script>", "<i>悪意</i> & Co. 御中", "]]></para> 様",
                    "制御文字とtab", "以上")
    assert _flat(text).count("X") == 2000 and "&amp;" * 20 in _flat(text) and "&&" not in _flat(text)
    if pdf.japanese_font().embedded:                               # a glyph the font lacks prints as 〓, not blank
        assert not _has(text, f"絵文字 {pdf.MISSING_GLYPH}{pdf.MISSING_GLYPH}{pdf.MISSING_GLYPH} と {pdf.MISSING_GLYPH}野家")
    assert all(f"{n} / {len(pages)}" in page for n, page in enumerate(pages, start=1))


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")
def test_page_one_renders_to_a_picture_kept_in_the_test_artifacts(app, large):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / "jucho-report.pdf"
    source.write_bytes(render_report(document_of(large(), issued=False)))
    subprocess.run([PDFTOPPM, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source),  # nosec B603
                    str(ARTIFACTS / "jucho-report-page1")], check=True, timeout=60)
    picture = ARTIFACTS / "jucho-report-page1.png"
    assert picture.stat().st_size > 10_000
    with Image.open(picture) as image:
        width, height = image.size
        assert abs(height / width - 297 / 210) < 0.01 and height > 680    # A4 portrait at 60 dpi
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])
    assert dark > width * height // 100                            # text and rules, not a blank page


def test_a_nearly_empty_report_prints_on_one_page(app, jucho):
    empty = document_of([ReportSection("1. 物件の表示", [ReportItem("building.name", "マンションの名称", "")])],
                        issued=True, recipient_person="", issuer_registration="", issuer_address="", author="")
    with app.app_context():
        pages = _pages(render_report(empty))
    assert len(pages) == 1 and not _has(pages[0], "1. 物件の表示", "マンションの名称", "以上", "1 / 1")
