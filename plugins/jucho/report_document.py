"""A 重要事項調査報告書 as one plain value: who issues it to whom, about which unit, and its sections of items.

The draft screen, the PDF and the issued snapshot all read this one shape. ``to_dict`` / ``from_dict`` give the JSON
that an issued report keeps for ever (``jucho_reports.snapshot``), so an issued report is printed again from exactly
what was issued, whatever the masters say later."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

SCHEMA_VERSION = 1
TITLE = "重要事項調査報告書"


@dataclass(frozen=True)
class ReportItem:
    """One printed line: the stable key, the label, the value, and whether staff replaced the assembled value."""

    key: str
    label: str
    value: str
    overridden: bool = False
    personal: bool = False


@dataclass(frozen=True)
class ReportSection:
    """One 別表第5 group with its items in print order."""

    title: str
    items: list[ReportItem]


@dataclass(frozen=True)
class ReportDocument:
    """Everything a report prints. ``issued`` is False for a draft (the PDF then carries a 「下書き」 watermark)."""

    request_number: str
    version: int
    as_of: date
    issuer_name: str
    issuer_registration: str
    issuer_address: str
    author: str
    recipient_company: str
    recipient_license: str
    recipient_person: str
    building_name: str
    unit_number: str
    purpose: str
    seller_consent: bool
    sections: list[ReportSection]
    notes: str = ""
    issued: bool = False
    supersedes_version: int | None = None
    title: str = TITLE
    schema: int = field(default=SCHEMA_VERSION)

    @property
    def reference(self) -> str:
        """「R2026-000123 第2版」: the request number and the version."""
        return f"{self.request_number} 第{self.version}版"

    def items(self) -> list[ReportItem]:
        """Every item of every section in print order."""
        return [item for section in self.sections for item in section.items]

    def to_dict(self) -> dict:
        """The JSON-ready form kept as an issued report's snapshot."""
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ReportDocument:
        """The document of a stored snapshot (the inverse of ``to_dict``)."""
        data = dict(data)
        data["as_of"] = date.fromisoformat(data["as_of"])
        data["sections"] = [ReportSection(section["title"], [ReportItem(**item) for item in section["items"]])
                            for section in data["sections"]]
        return cls(**data)
