"""app/pdf.py: Markdown to an A4 PDF whose text a reader extracts, Japanese font embedded (or the CID fallback)."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app import pdf

IPAEX = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
needs_ipaex = pytest.mark.skipif(not pdf.is_truetype(IPAEX), reason="fonts-ipaexfont-gothic is not installed")

GUIDE = """# 第1章 ログイン

ログイン画面で**会社コード**、*ログインID*、パスワードを入力します。改行のない長い日本語の文章は、ページの幅で正しく折り返されなければなりません。折り返しの位置が崩れると読みにくくなります。

- 登録コードで登録する
- 登録を申請する
  - 管理者が承認する

1. 一つ目の手順
2. 二つ目の手順

| 画面 | できること |
|---|---|
| 端末管理 | 承認と無効化 |

<script>alert(1)</script>
"""


def _reader(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return PdfReader(io.BytesIO(data))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _fonts(reader: PdfReader) -> set[str]:
    return {str(font.get_object()["/BaseFont"]) for page in reader.pages
            for font in page["/Resources"]["/Font"].values()}


def _embedded(reader: PdfReader) -> bool:
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    for font in fonts:
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor")
        if descriptor is not None and any(key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            return True
    return False


@needs_ipaex
def test_markdown_becomes_a_pdf_with_the_text_the_title_and_page_numbers():
    data = pdf.markdown_to_pdf(GUIDE * 4, title="MAMAシステム 操作マニュアル", footer="MAMAシステム 操作マニュアル 第1.0版")
    reader = _reader(data)
    text = _text(reader)
    assert reader.metadata.title == "MAMAシステム 操作マニュアル"
    for expected in ("MAMAシステム 操作マニュアル", "第1章 ログイン", "会社コード", "登録コードで登録する",
                     "管理者が承認する", "1. 一つ目の手順", "端末管理", "承認と無効化", "第1.0版"):
        assert expected in text
    pages = len(reader.pages)
    assert pages >= 2
    assert f"1 / {pages}" in reader.pages[0].extract_text()
    assert f"{pages} / {pages}" in reader.pages[-1].extract_text()
    # Raw HTML in the Markdown is text, never markup.
    assert "<script>alert(1)</script>" in text
    # Markdown markers are gone: emphasis became formatting.
    assert "**" not in text and "| 画面 |" not in text


@needs_ipaex
def test_long_japanese_lines_wrap_inside_the_page():
    sentence = "重要事項調査報告書の作成に使う管理組合と物件の情報を共有します。" * 8
    reader = _reader(pdf.markdown_to_pdf(sentence, title="折り返し"))
    lines = [line for line in reader.pages[0].extract_text().splitlines() if "管理組合" in line or "共有" in line]
    assert len(lines) >= 4  # wrapped, not one line running off the page
    assert all(len(line) <= 50 for line in lines)


@needs_ipaex
def test_ipaex_is_found_and_embedded_as_a_subset(app):
    with app.app_context():
        font = pdf.japanese_font()
        assert font.embedded and font.path.endswith("ipaexg.ttf")
        reader = _reader(pdf.markdown_to_pdf("# 見出し\n\n本文", title="題名"))
    fonts = _fonts(reader)
    assert any(name.endswith("+IPAexGothic") for name in fonts), fonts
    assert not any("Helvetica" in name for name in fonts)
    assert _embedded(reader)


@needs_ipaex
def test_kanri_pdf_font_names_the_file(app):
    app.config["KANRI_PDF_FONT"] = IPAEX
    with app.app_context():
        assert pdf.japanese_font().path == IPAEX


def test_an_unusable_kanri_pdf_font_is_refused_in_japanese(app, tmp_path):
    otf = tmp_path / "noto.otf"
    otf.write_bytes(b"OTTO" + b"\0" * 64)  # CFF-based OpenType: reportlab cannot embed it
    app.config["KANRI_PDF_FONT"] = str(otf)
    with app.app_context(), pytest.raises(pdf.PdfError, match="TrueType"):
        pdf.japanese_font()
    app.config["KANRI_PDF_FONT"] = str(tmp_path / "missing.ttf")
    with app.app_context(), pytest.raises(pdf.PdfError, match="TrueType"):
        pdf.japanese_font()


def test_without_a_truetype_font_the_cid_font_draws_japanese(monkeypatch):
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ())
    font = pdf.japanese_font("")
    assert font == pdf.PdfFont("HeiseiKakuGo-W5", None, False)
    reader = _reader(pdf.markdown_to_pdf("# 認証コード\n\nメールに届いた6桁の数字を入力します。", title="重調@CITY", font=font))
    assert "HeiseiKakuGo-W5" in " ".join(_fonts(reader))
    assert not _embedded(reader)
    text = _text(reader)
    assert "認証コード" in text and "6桁の数字" in text


@needs_ipaex
def test_the_same_document_gives_the_same_bytes():
    first = pdf.markdown_to_pdf(GUIDE, title="同じ", footer="足")
    assert first == pdf.markdown_to_pdf(GUIDE, title="同じ", footer="足")


def test_unsafe_links_are_not_made_links():
    md = "[危険](javascript:alert(1)) と [安全](https://example.jp/) と <b>太字</b>"
    token = next(t for t in pdf._MARKDOWN.parse(md) if t.type == "inline")
    markup = pdf.inline_markup(token)
    assert 'href="https://example.jp/"' in markup
    assert "<a href=\"javascript" not in markup and markup.count("<a ") == 1
    assert "&lt;b&gt;" in markup


def test_printable_values_are_text_not_markup_and_missing_glyphs_show():
    cid = pdf.PdfFont("HeiseiKakuGo-W5", None, False)
    assert pdf.printable("<b>太字</b> & 改行\r\nあり\x00\x1b\tタブ", cid) == "&lt;b&gt;太字&lt;/b&gt; &amp; 改行<br/>あり タブ"
    assert pdf.plain_text("絵文字😀", cid) == "絵文字😀"               # the CID font: the viewer picks the glyphs


@needs_ipaex
def test_characters_the_embedded_font_lacks_print_as_geta():
    font = pdf.japanese_font(IPAEX)
    assert pdf.plain_text("😀\ufe0f 𠮷野家 ①\u200b㎡", font) == "〓 〓野家 ①㎡"
    assert pdf.printable("A\nB", font) == "A<br/>B"
