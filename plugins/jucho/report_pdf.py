"""The PDF of a 重要事項調査報告書, laid out like 標準管理委託契約書 別表第5: the addressee and issuer block, then each
section as an item / content table in the form's order; A4 portrait, page numbers, fonts from ``app.pdf``.

A draft carries a diagonal 「下書き」 watermark on every page and says so in its footer; items staff replaced for this
report are marked ※ with a note under the table."""
from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from app import pdf

from .formatting import day as jp_date
from .report_document import ReportDocument, ReportSection

DRAFT_MARK = "下書き"
OVERRIDE_MARK = "※"
LABEL_WIDTH = 52 * mm
CONTENT_WIDTH = A4[0] - 2 * pdf.PAGE_MARGIN


def _text(value: str) -> str:
    return escape(value or "").replace("\n", "<br/>")


def _styles(font: pdf.PdfFont) -> dict[str, ParagraphStyle]:
    styles = pdf.document_styles(font)
    base = styles["body"]
    styles["cell"] = ParagraphStyle("report-cell", parent=base, fontSize=9, leading=13, spaceAfter=0)
    styles["label"] = ParagraphStyle("report-label", parent=styles["cell"], textColor=colors.HexColor("#222222"))
    styles["section"] = ParagraphStyle("report-section", parent=base, fontSize=11, leading=16, spaceBefore=8,
                                       spaceAfter=3, textColor=pdf.ACCENT)
    styles["small"] = ParagraphStyle("report-small", parent=base, fontSize=8.5, leading=12, textColor=pdf.MUTED)
    styles["right"] = ParagraphStyle("report-right", parent=base, alignment=2, spaceAfter=0)
    styles["heading"] = ParagraphStyle("report-title", parent=styles["title"], alignment=1)
    return styles


def _head(document: ReportDocument, styles) -> list:
    issued = jp_date(document.as_of)
    addressee = f"{_text(document.recipient_company)} 御中"
    if document.recipient_person:
        addressee += f"<br/>{_text(document.recipient_person)} 様"
    issuer = [_text(document.issuer_name)]
    if document.issuer_registration:
        issuer.append(f"マンション管理業者登録番号 {_text(document.issuer_registration)}")
    if document.issuer_address:
        issuer.append(_text(document.issuer_address))
    if document.author:
        issuer.append(f"担当 {_text(document.author)}")
    lines = [
        Paragraph(escape(document.title), styles["heading"]),
        Paragraph(f"作成日 {issued}　　{_text(document.reference)}", styles["right"]),
        Spacer(1, 4 * mm),
        Table([[Paragraph(addressee, styles["body"]), Paragraph("<br/>".join(issuer), styles["right"])]],
              colWidths=[CONTENT_WIDTH * 0.5, CONTENT_WIDTH * 0.5],
              style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("RIGHTPADDING", (0, 0), (-1, -1), 0)])),
        Spacer(1, 3 * mm),
        Paragraph("標準管理委託契約書 第14条に基づき、下記のマンションについて別表第5に定める事項を報告します。"
                  f"（対象住戸 {_text(document.building_name)} {_text(document.unit_number)}、"
                  f"依頼目的 {_text(document.purpose)}）", styles["body"]),
    ]
    if document.supersedes_version:
        lines.append(Paragraph(f"本書は第{document.supersedes_version}版を訂正するものです。", styles["body"]))
    return lines


def _section(section: ReportSection, styles) -> list:
    rows = []
    marked = False
    for item in section.items:
        label = _text(item.label)
        if item.overridden:
            label = f"{label} {OVERRIDE_MARK}"
            marked = True
        rows.append([Paragraph(label, styles["label"]), Paragraph(_text(item.value), styles["cell"])])
    table = Table(rows, colWidths=[LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH], repeatRows=0)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f7")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    parts = [KeepTogether([Paragraph(escape(section.title), styles["section"]), table])]
    if marked:
        parts.append(Paragraph(f"{OVERRIDE_MARK} この報告書のために記載内容を個別に修正した項目です。", styles["small"]))
    return parts


def render_report(document: ReportDocument) -> bytes:
    """The PDF of ``document`` (a draft gets the 「下書き」 watermark)."""
    font = pdf.japanese_font()
    styles = _styles(font)
    story = _head(document, styles)
    for section in document.sections:
        story += _section(section, styles)
    if document.notes:
        story += [Paragraph("特記事項", styles["section"]), Paragraph(_text(document.notes), styles["body"])]
    footer = f"{document.issuer_name}　{document.reference}"
    if not document.issued:
        footer += f"（{DRAFT_MARK}・発行前）"
    return pdf.render(story, title=f"{document.title} {document.building_name} {document.unit_number}",
                      footer=footer, subject=document.reference, font=font, styles=styles,
                      author=document.issuer_name, watermark="" if document.issued else DRAFT_MARK,
                      heading=False)
