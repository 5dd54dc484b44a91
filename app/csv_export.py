"""Streamed CSV downloads for every product: UTF-8 with BOM and CRLF (opens in Excel), formula-safe cells."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote

from flask import Response, stream_with_context

from .extensions import db
from .timeutil import format_jst, jst_today

BOM = "\ufeff"
BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Render a value for a spreadsheet: times in JST; text Excel would run as a formula is quoted with '."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return format_jst(value, seconds=True)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def in_batches(model, query, size: int = BATCH) -> Iterator:
    """Yield the rows of query by ascending id, one short query per batch (no cursor held open)."""
    last_id = 0
    while True:
        rows = db.session.execute(query.where(model.id > last_id).order_by(model.id).limit(size)).scalars().all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def csv_lines(header: list[str], rows: Iterable, to_cells: Callable) -> Iterator[str]:
    """The CSV as text pieces: BOM + header first, then one piece per BATCH rows (CRLF, formula-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + _drain(buffer)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in to_cells(row)])
        count += 1
        if count % BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text


def csv_response(ascii_name: str, japanese_name: str, header: list[str], rows: Iterable,
                 to_cells: Callable) -> Response:
    """A streamed text/csv download named '<name>_<JST date>.csv' (Japanese name for browsers that read it).

    rows must be lazy (e.g. ``in_batches``): it is read while the response streams.
    """
    day = jst_today().strftime("%Y%m%d")
    body = stream_with_context(csv_lines(header, rows, to_cells))
    response = Response(body, mimetype="text/csv", content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f"attachment; filename={ascii_name}_{day}.csv; filename*=UTF-8''{quote(japanese_name)}_{day}.csv")
    return response
