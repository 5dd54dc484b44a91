"""A4 PDF documents in Japanese: a Markdown text (or the caller's own flowables) rendered with reportlab.

The toolkit every product uses for printable documents (操作マニュアル, 重要事項調査報告書):

- ``japanese_font()`` — the font: ``KANRI_PDF_FONT`` (a TrueType file, embedded as a subset), else IPAex
  Gothic when installed, else reportlab's CID font ``HeiseiKakuGo-W5`` (needs no file, is not embedded:
  the viewer substitutes a local Japanese font).
- ``document_styles(font)`` — paragraph styles with CJK line breaking (``wordWrap="CJK"``).
- ``printable(text, font)`` — paragraph markup for a plain value from the database: escaped, control characters
  dropped, line breaks kept, characters the embedded font has no glyph for printed as 〓 (never silently blank);
  ``plain_text`` the same without markup, for strings drawn on the canvas.
- ``markdown_flowables(text, styles)`` — headings, paragraphs, lists, tables, emphasis, code and rules
  from markdown-it-py's tokens (raw HTML is not interpreted).
- ``render(flowables, title=…, footer=…)`` — the PDF: a title heading, a running header, a footer with
  ``page / pages`` on every page; deterministic output (``invariant=1``).
- ``markdown_to_pdf(text, title=…, footer=…)`` — the three together.
"""
from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    HRFlowable,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

CID_FONT = "HeiseiKakuGo-W5"
# TrueType Japanese fonts Debian installs (fonts-ipaexfont-gothic; the alternatives link of fonts-japanese-gothic).
FONT_CANDIDATES = ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
                   "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")
_TRUETYPE_MAGIC = (b"\x00\x01\x00\x00", b"true")
# The geta mark: Japanese typesetting's sign for a character the font cannot print.
MISSING_GLYPH = "〓"
_CONTROL = {code: None for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
PAGE_MARGIN = 18 * mm
BOTTOM_MARGIN = PAGE_MARGIN + 2 * mm  # room for the footer
FRAME_PADDING = 6  # reportlab's default padding inside a page's frame
# The height a flowable has at the top of a page: less than this means the page already holds something.
FRAME_HEIGHT = A4[1] - PAGE_MARGIN - BOTTOM_MARGIN - 2 * FRAME_PADDING
ACCENT_HEX = "#1f3a68"
ACCENT = colors.HexColor(ACCENT_HEX)
MUTED = colors.HexColor("#666666")
LINE = colors.HexColor("#b8c2cc")


class PdfError(RuntimeError):
    """A document cannot be made (message in Japanese), e.g. KANRI_PDF_FONT names an unusable file."""


@dataclass(frozen=True)
class PdfFont:
    """The Japanese font a document uses: its reportlab name, the file (None for the CID font), embedded or not."""

    name: str
    path: str | None
    embedded: bool


def is_truetype(path: str) -> bool:
    """True when ``path`` is a readable TrueType font file (not CFF-based OpenType, which reportlab cannot embed)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) in _TRUETYPE_MAGIC
    except OSError:
        return False


def _font_setting() -> str:
    try:
        from flask import current_app

        return (current_app.config.get("KANRI_PDF_FONT") or "").strip()
    except RuntimeError:  # no application context (a script)
        return (os.environ.get("KANRI_PDF_FONT") or "").strip()


def _register_truetype(path: str) -> PdfFont:
    resolved = os.path.realpath(path)
    name = "Kanri-" + os.path.splitext(os.path.basename(resolved))[0]
    if name not in pdfmetrics.getRegisteredFontNames():
        try:
            pdfmetrics.registerFont(TTFont(name, resolved))
        except (TTFError, OSError) as exc:
            raise PdfError(f"フォントファイルを読み込めません: {path}（{exc}）") from exc
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    return PdfFont(name, resolved, True)


def japanese_font(setting: str | None = None) -> PdfFont:
    """The font for Japanese text: the TrueType file ``setting`` (default ``KANRI_PDF_FONT``), else an installed
    IPAex Gothic, else the CID font HeiseiKakuGo-W5 (not embedded). A set but unusable file is an error."""
    path = (setting if setting is not None else _font_setting()).strip()
    if path:
        if not is_truetype(path):
            raise PdfError(f"KANRI_PDF_FONT は TrueType フォント（.ttf）のファイルを指定してください: {path}")
        return _register_truetype(path)
    for candidate in FONT_CANDIDATES:
        if is_truetype(candidate):
            return _register_truetype(candidate)
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
        pdfmetrics.registerFontFamily(CID_FONT, normal=CID_FONT, bold=CID_FONT, italic=CID_FONT, boldItalic=CID_FONT)
    return PdfFont(CID_FONT, None, False)


def document_styles(font: PdfFont) -> dict[str, ParagraphStyle]:
    """Paragraph styles for a document in ``font``, every one breaking lines the Japanese way."""
    base = ParagraphStyle("body", fontName=font.name, fontSize=10.5, leading=17, wordWrap="CJK",
                          spaceAfter=5, bulletFontName=font.name)

    def derive(name, **changes):
        return ParagraphStyle(name, parent=base, **changes)

    return {
        "body": base,
        "title": derive("title", fontSize=20, leading=28, spaceAfter=10, textColor=ACCENT),
        "h1": derive("h1", fontSize=16, leading=23, spaceBefore=12, spaceAfter=7, textColor=ACCENT),
        "h2": derive("h2", fontSize=13.5, leading=20, spaceBefore=10, spaceAfter=5, textColor=ACCENT),
        "h3": derive("h3", fontSize=11.5, leading=18, spaceBefore=7, spaceAfter=3),
        "cell": derive("cell", fontSize=9.5, leading=14, spaceAfter=0),
        "code": derive("code", fontSize=9, leading=13, backColor=colors.HexColor("#f2f2f2"), borderPadding=4,
                       spaceBefore=3, spaceAfter=7),
        "quote": derive("quote", leftIndent=10 * mm, textColor=MUTED),
    }


def _glyphs(font: PdfFont) -> dict | None:
    """The code point → glyph map of an embedded TrueType font (None for the CID font: the viewer picks glyphs)."""
    if not font.embedded:
        return None
    return pdfmetrics.getFont(font.name).face.charToGlyph


def plain_text(text: str | None, font: PdfFont) -> str:
    """A plain value as ``font`` can draw it: control characters dropped, tabs as spaces, line breaks as ``\\n``,
    characters the embedded font lacks (emoji, rare kanji) as 〓 (for canvas strings such as a footer)."""
    value = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").translate(_CONTROL)
    glyphs = _glyphs(font)
    if glyphs is None:
        return value
    return "".join(_drawable(char, glyphs) for char in value)


def printable(text: str | None, font: PdfFont) -> str:
    """Paragraph markup for a plain value: ``plain_text`` escaped (``<b>`` and ``&`` print as typed), line breaks
    as ``<br/>``."""
    return escape(plain_text(text, font)).replace("\n", "<br/>")


def _drawable(char: str, glyphs: dict) -> str:
    if char == "\n" or ord(char) in glyphs:
        return char
    # Invisible marks the font lacks (zero-width space, emoji variation selectors) are dropped, not shown as 〓.
    return "" if unicodedata.category(char) in ("Mn", "Cf") else MISSING_GLYPH


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def inline_markup(token) -> str:
    """reportlab paragraph markup for one markdown-it ``inline`` token (text escaped; emphasis, code, links)."""
    parts: list[str] = []
    open_links: list[bool] = []
    for child in token.children or ():
        kind = child.type
        if kind == "text":
            parts.append(escape(child.content))
        elif kind == "softbreak":
            # A line break inside Japanese text joins without a space; between Latin words it is one.
            previous = parts[-1][-1:] if parts and parts[-1] else ""
            parts.append("" if previous and ord(previous) > 0x2E7F else " ")
        elif kind == "hardbreak":
            parts.append("<br/>")
        elif kind == "strong_open":
            parts.append(f'<b><font color="{ACCENT_HEX}">')
        elif kind == "strong_close":
            parts.append("</font></b>")
        elif kind == "em_open":
            parts.append("<u>")
        elif kind == "em_close":
            parts.append("</u>")
        elif kind == "code_inline":
            parts.append(f'<font backColor="#eeeeee">{escape(child.content)}</font>')
        elif kind == "link_open":
            href = str(child.attrs.get("href") or "")
            safe = href.startswith(("https://", "http://", "mailto:"))
            open_links.append(safe)
            if safe:
                parts.append(f'<a href="{_attr(href)}" color="#1f5fa8">')
        elif kind == "link_close":
            if open_links and open_links.pop():
                parts.append("</a>")
        elif kind == "image":
            parts.append(escape(child.content or ""))
        elif child.content:
            parts.append(escape(child.content))
    return "".join(parts)


def column_widths(rows: list[list[Paragraph]], width: float) -> list[float]:
    """Widths sharing ``width`` by each column's longest text (a short column still gets 40% of the mean)."""
    columns = len(rows[0]) if rows else 1
    longest = [max((len(row[i].getPlainText()) for row in rows), default=1) or 1 for i in range(columns)]
    floor = 0.4 * sum(longest) / columns
    weights = [max(length, floor) for length in longest]
    total = sum(weights)
    return [width * weight / total for weight in weights]


def _table(tokens, start: int, styles, width: float) -> tuple[Table, int]:
    rows: list[list[Paragraph]] = []
    header_rows = 0
    index = start + 1
    row: list[Paragraph] | None = None
    while tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            rows.append(row or [])
        elif token.type == "thead_close":
            header_rows = len(rows)
        elif token.type == "inline" and row is not None:
            row.append(Paragraph(inline_markup(token), styles["cell"]))
        index += 1
    columns = max((len(r) for r in rows), default=1)
    rows = [r + [Paragraph("", styles["cell"])] * (columns - len(r)) for r in rows]
    table = Table(rows, colWidths=column_widths(rows, width), repeatRows=header_rows, hAlign="LEFT")
    commands = [("FONTNAME", (0, 0), (-1, -1), styles["cell"].fontName), ("GRID", (0, 0), (-1, -1), 0.5, LINE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8edf3")))
    table.setStyle(TableStyle(commands))
    return table, index


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_flowables(text: str, styles: dict[str, ParagraphStyle], width: float = A4[0] - 2 * PAGE_MARGIN) -> list:
    """reportlab flowables for a Markdown text: headings, paragraphs, (nested) lists, tables, quotes, code, rules."""
    tokens = _MARKDOWN.parse(text or "")
    flowables: list = []
    lists: list[dict] = []
    bullet: str | None = None
    quote_depth = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            level = min(int(token.tag[1]), 3)
            flowables.append(Paragraph(inline_markup(tokens[index + 1]), styles[f"h{level}"]))
            index += 2
        elif kind == "paragraph_open":
            style = styles["quote"] if quote_depth else styles["body"]
            if lists:
                depth = len(lists)
                style = ParagraphStyle(f"list{depth}", parent=style, leftIndent=6 * mm * depth,
                                       bulletIndent=6 * mm * (depth - 1) + 1 * mm, spaceAfter=2)
            flowables.append(Paragraph(inline_markup(tokens[index + 1]), style, bulletText=bullet))
            bullet = None
            index += 2
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append({"ordered": kind == "ordered_list_open", "number": int(token.attrs.get("start") or 1) - 1})
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                flowables.append(Spacer(1, 3))
        elif kind == "list_item_open":
            current = lists[-1]
            current["number"] += 1
            bullet = f"{current['number']}." if current["ordered"] else ("・" if len(lists) == 1 else "－")
        elif kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
        elif kind in ("fence", "code_block"):
            flowables.append(Preformatted(token.content.rstrip("\n"), styles["code"]))
        elif kind == "hr":
            flowables.append(HRFlowable(width="100%", thickness=0.6, color=LINE, spaceBefore=4, spaceAfter=8))
        elif kind == "table_open":
            table, index = _table(tokens, index, styles, width)
            flowables += [table, Spacer(1, 8)]
        index += 1
    return flowables


def _page_canvas(title: str, footer: str, font: PdfFont, watermark: str = ""):
    """A canvas class that, once the page count is known, draws the header, the ``n / total`` footer and, when
    given, a large diagonal watermark (「下書き」) across every page."""

    class PagedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFont(font.name, 8)
            self.setFillColor(MUTED)
            self.setStrokeColor(LINE)
            self.setLineWidth(0.5)
            if number > 1:
                self.drawString(PAGE_MARGIN, height - 11 * mm, title)
                self.line(PAGE_MARGIN, height - 12.5 * mm, width - PAGE_MARGIN, height - 12.5 * mm)
            self.line(PAGE_MARGIN, 13 * mm, width - PAGE_MARGIN, 13 * mm)
            if footer:
                self.drawString(PAGE_MARGIN, 9 * mm, footer)
            self.drawRightString(width - PAGE_MARGIN, 9 * mm, f"{number} / {total}")
            self.restoreState()
            if watermark:
                self._watermark(width, height)

        def _watermark(self, width: float, height: float) -> None:
            self.saveState()
            self.setFont(font.name, 96)
            self.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.16))
            self.translate(width / 2, height / 2)
            self.rotate(40)
            self.drawCentredString(0, -32, watermark)
            self.restoreState()

    return PagedCanvas


def render(flowables: list, *, title: str, footer: str = "", subject: str = "", font: PdfFont | None = None,
           styles: dict[str, ParagraphStyle] | None = None, author: str = "kanri", watermark: str = "",
           heading: bool = True) -> bytes:
    """The A4 PDF of ``flowables`` under a title heading (``heading=False``: the flowables bring their own), with a
    running header, ``page / pages`` footer and an optional diagonal ``watermark`` on every page."""
    font = font or japanese_font()
    styles = styles or document_styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=PAGE_MARGIN, rightMargin=PAGE_MARGIN,
                                 topMargin=PAGE_MARGIN, bottomMargin=BOTTOM_MARGIN, title=title,
                                 author=author, subject=subject, creator="kanri", lang="ja-JP", invariant=1,
                                 initialFontName=font.name)
    story = [Paragraph(escape(title), styles["title"]),
             HRFlowable(width="100%", thickness=1, color=ACCENT, spaceAfter=10)] if heading else []
    document.build([*story, *flowables], canvasmaker=_page_canvas(title, footer, font, watermark))
    return buffer.getvalue()


def markdown_to_pdf(text: str, *, title: str, footer: str = "", subject: str = "", font: PdfFont | None = None) -> bytes:
    """The A4 PDF of a Markdown text (see ``markdown_flowables``), titled and footed."""
    font = font or japanese_font()
    styles = document_styles(font)
    return render(markdown_flowables(text, styles), title=title, footer=footer, subject=subject, font=font,
                  styles=styles)
