"""File downloads with a Japanese name: the Content-Disposition of RFC 6266 with an RFC 5987 ``filename*``."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response


def attachment_disposition(ascii_name: str, name: str, kind: str = "attachment") -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded name>`` (old browsers use the first);
    ``kind="inline"`` for a file the browser shows itself (a PDF preview)."""
    fallback = "".join(ch for ch in ascii_name if ch.isascii() and ch.isprintable() and ch not in '"\\') or "download"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_download(data: bytes, mimetype: str, ascii_name: str, name: str) -> Response:
    """A download of ``data`` as an attachment named ``name`` (never rendered inline, never sniffed)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment_disposition(ascii_name, name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def inline_file(data: bytes, mimetype: str, ascii_name: str, name: str) -> Response:
    """``data`` shown by the browser itself (a PDF preview in its viewer), with the name used if the user saves it."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment_disposition(ascii_name, name, kind="inline")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
