"""The core's CSV download: BOM + CRLF for Excel, JST times, formula cells made inert, streamed."""
from datetime import UTC, datetime

from app.csv_export import csv_response, safe_cell


def test_safe_cell():
    assert safe_cell(None) == ""
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("+81 3") == "'+81 3" and safe_cell("@cmd") == "'@cmd"
    assert safe_cell("-1200") == "-1200"  # a plain negative number stays a number
    assert safe_cell(datetime(2026, 11, 29, 15, 0, tzinfo=UTC)) == "2026-11-30 00:00:00 JST"


def test_csv_response_is_an_excel_friendly_attachment(app):
    with app.test_request_context():
        response = csv_response("notes", "ノート", ["名前", "式"], iter([("山田", "=1+1"), ("佐藤", "ok")]),
                                lambda row: list(row))
        body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=notes_") and "UTF-8''" in disposition
    assert body.startswith("\ufeff名前,式\r\n")
    assert "山田,'=1+1\r\n" in body and body.endswith("佐藤,ok\r\n")
