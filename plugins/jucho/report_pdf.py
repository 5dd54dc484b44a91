"""The PDF of a 重要事項調査報告書, laid out like 標準管理委託契約書 別表第5 on A4 portrait.

From the top: the title, 作成日 and the reference (依頼番号 第N版) on the right, the addressee (仲介業者 御中, 担当 様)
on the left and the issuer (管理会社名, マンション管理業者登録番号, 所在地, 担当) on the right, the statement line,
then sections 1–12 as item / content tables of one width, 特記事項 and a closing 「以上」. Every page has a footer
with the issuer, the reference and 「n / N」.

A section that does not fit the rest of a page continues on the next under its title marked 「（続き）」; an item
longer than a page (a long 大規模修繕 history) breaks inside its row. Items staff replaced for this report are
marked ※ with a note under their table. A draft carries a diagonal 「下書き」 watermark on every page and
「下書き（発行前）」 in the footer. Fonts and determinism come from ``app.pdf`` (same document → same bytes)."""
from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from app import pdf

from .formatting import day as jp_date
from .report_document import ReportDocument, ReportSection

DRAFT_MARK = "下書き"
DRAFT_FOOTER = "下書き（発行前）"
OVERRIDE_MARK = "※"
OVERRIDE_NOTE = "※ この報告書のために記載内容を個別に修正した項目です。"
CONTINUED = "（続き）"
NOTES_TITLE = "特記事項"
CLOSING = "以上"
STATEMENT = ("標準管理委託契約書 第14条に基づき、下記のマンションについて別表第5に定める事項を次のとおり報告します。"
             "本書の記載内容は作成日現在のものです。")
CONTENT_WIDTH = A4[0] - 2 * pdf.PAGE_MARGIN
LABEL_WIDTH = 52 * mm
COLUMN_WIDTHS = (LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH)
# Space a page may keep empty under a section's part before the next row is broken inside instead (≈ 4 lines).
ROW_BREAK_GAP = 60
TITLE_BAND = colors.HexColor("#dde5ef")
LABEL_BAND = colors.HexColor("#f2f5f9")


class SectionTable(Table):
    """A section's table whose first row is the section title; where the table breaks across pages the title row
    is repeated on the next page as 「…（続き）」."""

    continued_title: Paragraph | None = None
    continuation = False

    def split(self, availWidth, availHeight):  # noqa: N803 - reportlab's names
        """reportlab's split with the repeated title row of every later part marked （続き）; a row taller than the
        space left breaks inside (no gap), and a （続き） part only ever starts a page."""
        if self.continuation and availHeight < pdf.FRAME_HEIGHT - 1:
            # Platypus offers the rest of the page to the next part first: refusing sends it to the next page.
            return []
        parts = super().split(availWidth, availHeight)
        if len(parts) == 2 and availHeight - parts[0].wrap(availWidth, availHeight)[1] > ROW_BREAK_GAP:
            parts = self._split_inside_row(availWidth, availHeight) or parts
        for part in parts[1:]:
            # reportlab repeats row 0 in the later part (repeatRows=1) as the same list object as the first part's:
            # replace the row, never mutate it.
            part._cellvalues[0] = [self.continued_title, *part._cellvalues[0][1:]]
            part.continued_title = self.continued_title
            part.continuation = True
        return parts

    def _split_inside_row(self, availWidth, availHeight) -> list:  # noqa: N803
        self.splitByRow = 0  # reportlab then tries a break inside the row first
        try:
            parts = super().split(availWidth, availHeight)
        finally:
            self.splitByRow = 1
        for part in parts:
            part.splitByRow = 1
        return parts if len(parts) == 2 else []


def _styles(font: pdf.PdfFont) -> dict[str, ParagraphStyle]:
    styles = pdf.document_styles(font)
    body = styles["body"]

    def derive(name, parent=body, **changes):
        return ParagraphStyle(f"report-{name}", parent=parent, **changes)

    styles.update({
        "heading": derive("title", styles["title"], fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4,
                          textColor=colors.black),
        "meta": derive("meta", fontSize=9.5, leading=14, alignment=TA_RIGHT, spaceAfter=0),
        "addressee": derive("addressee", fontSize=12, leading=18, spaceAfter=0),
        "issuer": derive("issuer", fontSize=9.5, leading=14, alignment=TA_RIGHT, spaceAfter=0),
        "statement": derive("statement", fontSize=9.5, leading=15, spaceBefore=2, spaceAfter=6),
        "section": derive("section", fontSize=10.5, leading=15, spaceAfter=0, textColor=pdf.ACCENT),
        "label": derive("label", fontSize=9, leading=13, spaceAfter=0, textColor=colors.HexColor("#222222")),
        "cell": derive("cell", fontSize=9, leading=13, spaceAfter=0),
        # One entry of a multi-line value (大規模修繕の実施履歴): a wrapped entry hangs under its first line.
        "entry": derive("entry", fontSize=9, leading=13, spaceAfter=0, leftIndent=9, firstLineIndent=-9),
        "note": derive("note", fontSize=8.5, leading=12, spaceBefore=1, spaceAfter=0, textColor=pdf.MUTED),
        "notes": derive("notes", fontSize=9.5, leading=15, spaceAfter=0),
        "closing": derive("closing", alignment=TA_RIGHT, spaceBefore=8, spaceAfter=0),
    })
    return styles


def _head(document: ReportDocument, styles, font: pdf.PdfFont) -> list:
    def text(value: str) -> str:
        return pdf.printable(value, font)

    addressee = [Paragraph(f"{text(document.recipient_company)} 御中", styles["addressee"])]
    if document.recipient_person:
        addressee.append(Paragraph(f"担当 {text(document.recipient_person)} 様", styles["addressee"]))
    issuer = [text(document.issuer_name)]
    if document.issuer_registration:
        issuer.append(f"マンション管理業者登録番号 {text(document.issuer_registration)}")
    if document.issuer_address:
        issuer.append(text(document.issuer_address))
    if document.author:
        issuer.append(f"担当 {text(document.author)}")
    parties = Table([[addressee, Paragraph("<br/>".join(issuer), styles["issuer"])]],
                    colWidths=[CONTENT_WIDTH * 0.48, CONTENT_WIDTH * 0.52],
                    style=TableStyle([("FONTNAME", (0, 0), (-1, -1), font.name), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                      ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    subject = (f"対象住戸: {text(document.building_name)} {text(document.unit_number)}"
               f"　依頼目的: {text(document.purpose)}")
    lines = [
        Paragraph(text(document.title), styles["heading"]),
        Paragraph(f"作成日 {jp_date(document.as_of)}<br/>依頼番号 {text(document.reference)}", styles["meta"]),
        Spacer(1, 3 * mm),
        parties,
        Spacer(1, 5 * mm),
        Paragraph(STATEMENT, styles["statement"]),
        Paragraph(subject, styles["statement"]),
    ]
    if document.supersedes_version:
        lines.append(Paragraph(f"本書は第{document.supersedes_version}版を訂正するものです。", styles["statement"]))
    return lines


def _value(value: str, styles, font: pdf.PdfFont):
    """One paragraph, or one per line of a multi-line value (each entry wraps under itself)."""
    lines = pdf.plain_text(value, font).split("\n")
    if len(lines) == 1:
        return Paragraph(pdf.printable(value, font), styles["cell"])
    return [Paragraph(pdf.printable(line, font), styles["entry"]) for line in lines]


def _titled_table(title: str, rows: list[list], widths, styles, font: pdf.PdfFont) -> SectionTable:
    """A boxed table under a title row spanning its columns (``title`` is markup), repeated as （続き）."""
    columns = len(widths)
    table = SectionTable([[Paragraph(title, styles["section"])] + [""] * (columns - 1), *rows], colWidths=widths,
                         repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.continued_title = Paragraph(title + CONTINUED, styles["section"])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font.name),  # reportlab sets each cell's font (Helvetica unless told)
        ("SPAN", (0, 0), (-1, 0)),
        ("BACKGROUND", (0, 0), (-1, 0), TITLE_BAND),
        ("BOX", (0, 0), (-1, -1), 0.8, pdf.ACCENT),
        ("INNERGRID", (0, 0), (-1, -1), 0.5, pdf.LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 5), ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]))
    return table


def section_table(section: ReportSection, styles, font: pdf.PdfFont) -> tuple[SectionTable, bool]:
    """The section's title row and item / content rows (overridden items marked ※); True when one is marked."""
    rows = []
    marked = False
    for item in section.items:
        label = pdf.printable(item.label, font)
        if item.overridden:
            label = f"{label} {OVERRIDE_MARK}"
            marked = True
        rows.append([Paragraph(label, styles["label"]), _value(item.value, styles, font)])
    table = _titled_table(pdf.printable(section.title, font), rows, COLUMN_WIDTHS, styles, font)
    table.setStyle(TableStyle([("BACKGROUND", (0, 1), (0, -1), LABEL_BAND)]))
    return table, marked


def _notes(document: ReportDocument, styles, font: pdf.PdfFont) -> list:
    body = pdf.printable(document.notes, font) if document.notes.strip() else "なし"
    table = _titled_table(NOTES_TITLE, [[Paragraph(body, styles["notes"])]], [CONTENT_WIDTH], styles, font)
    return [Spacer(1, 4 * mm), table]


def footer_text(document: ReportDocument, font: pdf.PdfFont) -> str:
    """The footer left of the page number: issuer and reference, and 「下書き（発行前）」 on a draft."""
    footer = pdf.plain_text(f"{document.issuer_name}　{document.reference}", font).replace("\n", " ")
    return footer if document.issued else f"{footer}　{DRAFT_FOOTER}"


def render_report(document: ReportDocument) -> bytes:
    """The PDF of ``document`` (a draft gets the 「下書き」 watermark); the same document gives the same bytes."""
    font = pdf.japanese_font()
    styles = _styles(font)
    story = _head(document, styles, font)
    for section in document.sections:
        table, marked = section_table(section, styles, font)
        story += [Spacer(1, 3 * mm), table]
        if marked:
            story.append(Paragraph(OVERRIDE_NOTE, styles["note"]))
    story += _notes(document, styles, font)
    story.append(Paragraph(CLOSING, styles["closing"]))
    running_title = pdf.plain_text(f"{document.title} {document.building_name} {document.unit_number}", font)
    return pdf.render(story, title=running_title.replace("\n", " "), footer=footer_text(document, font),
                      subject=document.reference, font=font, styles=styles, author=document.issuer_name,
                      watermark="" if document.issued else DRAFT_MARK, heading=False)
