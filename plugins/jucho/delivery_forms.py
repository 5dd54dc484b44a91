"""The form of 電子交付: the address the report's link is mailed to."""
from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired

from app.forms import REQUIRED, KanriForm, email_address, max_length, strip_filter


class DeliveryForm(KanriForm):
    """送付先メールアドレス (the request's address by default; staff may type another)."""

    recipient = StringField("送付先メールアドレス", filters=[strip_filter],
                            validators=[InputRequired(REQUIRED), max_length(254), email_address()])
    submit = SubmitField("電子交付（メールで送付）")
