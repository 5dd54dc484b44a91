"""The settings form of the IP address restriction."""
from __future__ import annotations

from wtforms import SelectField, TextAreaField

from app.forms import KanriForm, choices

from .models import SCOPE_LABELS, SCOPE_OFF
from .rules import MAX_TEXT


class SettingsForm(KanriForm):
    """Whom the restriction applies to, and the allow list (one address or CIDR a line, ``# メモ`` after it)."""

    scope = SelectField("制限の対象", choices=choices(SCOPE_LABELS), default=SCOPE_OFF)
    # The length is checked by rules.parse with its own message; a far longer body is cut off by the request limit.
    entries = TextAreaField("許可するIPアドレス・CIDR", render_kw={"rows": 14, "spellcheck": "false",
                                                                "maxlength": MAX_TEXT})
