"""Generic Japanese error pages that carry the request id and never a stack trace."""
from __future__ import annotations

import json
import logging

from flask import Flask, current_app, g, has_request_context, render_template
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

from .display import error_reference

log = logging.getLogger("kanri.error")

MESSAGES = {
    400: ("リクエストが正しくありません", "入力内容をご確認のうえ、もう一度お試しください。"),
    403: ("アクセスできません", "このページを表示する権限がありません。"),
    404: ("ページが見つかりません", "お探しのページは存在しないか、移動した可能性があります。"),
    405: ("この操作はできません", "画面のボタンから操作してください。"),
    409: ("保存できませんでした", "他の操作と重なりました。もう一度お試しください。"),
    429: ("しばらくお待ちください", "短時間に多くの操作がありました。時間をおいてから、もう一度お試しください。"),
    500: ("システムエラーが発生しました", "ご不便をおかけします。時間をおいてもう一度お試しください。"),
}


def maintenance_response(message: str, retry_after: int, ends_jst: str | None = None):
    """The 503 maintenance page (message, expected end in JST) with Retry-After, never cached."""
    response = current_app.make_response(
        (render_template("errors/maintenance.html", message=message, ends_jst=ends_jst), 503))
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def render_error(status: int, detail: str | None = None):
    """Render the error page with the request's 8-character reference as お問い合わせ番号 (the log has both)."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    # A request for an untrusted Host has no URL adapter: no link can be built, so a page without any.
    bare = has_request_context() and request_ctx.url_adapter is None
    html = render_template("errors/bare.html" if bare else "errors/error.html", status=status, title=title, message=detail or message,
                           support_id=error_reference(g.get("request_id")))
    return html, status


def _http_error(error: HTTPException):
    return render_error(error.code or 500)


def _csrf_error(error: CSRFError):
    return render_error(400, "フォームの有効期限が切れたか、不正な送信です。画面を再読み込みしてからお試しください。")


def _conflict(error: Exception):
    # Two people saving the same unique value at the same instant: the form checks passed for both,
    # the database refused the second. Nothing was saved for this request; say so plainly.
    from .extensions import db

    db.session.rollback()
    log.warning(json.dumps({"event": "conflict", "request_id": g.get("request_id"), "error": type(error).__name__}))
    return render_error(409, "他の操作と同時に保存されたため、保存できませんでした。"
                             "内容を確認して、もう一度お試しください。")


def _unexpected(error: Exception):
    original = getattr(error, "original_exception", None) or error
    log.error(json.dumps({"event": "unhandled", "request_id": g.get("request_id"),
                          "ref": error_reference(g.get("request_id")), "error": type(original).__name__}))
    log.exception("unhandled exception (request_id=%s)", g.get("request_id"))
    return render_error(500)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(IntegrityError, _conflict)
    app.register_error_handler(InternalServerError, _unexpected)
