"""URL converters: ids in URLs stay within the range a row id can have."""
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1  # INTEGER primary keys on SQLite and PostgreSQL


class RowIdConverter(IntegerConverter):
    """``<int:...>`` limited to 1..MAX_ROW_ID: a larger number names no row, so the URL is a 404.

    Without the bound, such an id reaches the database driver and overflows (a 500 on PostgreSQL).
    """

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ROW_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
