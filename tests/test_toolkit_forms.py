"""The core's form toolkit: kana normaliser and validator, phone, e-mail, login id, max_length, ConfirmForm."""
from __future__ import annotations

import pytest
from flask import Blueprint
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from wtforms import Form, SelectField, StringField
from wtforms.validators import InputRequired

from app.forms import (
    EMAIL_MESSAGE,
    KANA_LATIN_MESSAGE,
    KANA_MESSAGE,
    LOGIN_ID_MESSAGE,
    PHONE_MESSAGE,
    ConfirmForm,
    KanriForm,
    LongSelect,
    choices,
    email_address,
    katakana,
    login_id,
    max_length,
    normalize_kana,
    phone,
    phone_number_is_valid,
    require_confirm,
)
from tests.conftest import csrf_from


class SampleForm(KanriForm):
    class Meta:
        csrf = False

    kana = StringField("フリガナ", filters=[normalize_kana], validators=[max_length(10), katakana()])
    tel = StringField("電話番号", validators=[phone()])
    mail = StringField("メールアドレス", validators=[email_address()])
    user = StringField("ログインID", validators=[login_id()])


def _form(app, **data) -> SampleForm:
    with app.test_request_context(method="POST", data=data):
        form = SampleForm(formdata=MultiDict(data))
        form.validate()
        return form


@pytest.mark.parametrize("typed, stored", [
    ("ｸﾞﾗﾝﾄﾞﾒｿﾞﾝ", "グランドメゾン"),          # half-width (with dakuten) → full-width
    ("ぐらんどめぞん", "グランドメゾン"),          # hiragana → katakana
    ("  サクラ　", "サクラ"),                      # trimmed, also the ideographic space
    ("ﾊﾟｰｸ･ﾋﾙｽﾞ", "パーク・ヒルズ"),
    ("ゔぁ", "ヴァ"),
    ("ｻｸﾗ２", "サクラ2"),                        # normalised (the validator then refuses the digit)
    ("ｺｰﾎﾟ", "コーポ"),                          # the long-vowel mark is kept
    ("さくら　　ハイツ", "サクラ ハイツ"),
    (None, None),
])
def test_normalize_kana(typed, stored):
    assert normalize_kana(typed) == stored


def test_kana_field_accepts_every_spelling_and_refuses_the_rest(app):
    assert _form(app, kana="ぱーく ﾊｲﾂ").kana.data == "パーク ハイツ"
    assert _form(app, kana="さくら3").kana.errors == [KANA_LATIN_MESSAGE]  # digits: write how they are read
    assert _form(app, kana="さくら３").kana.errors == [KANA_LATIN_MESSAGE]
    assert not _form(app, kana="さくらだい ー").kana.errors
    assert _form(app, kana="Park").kana.errors == [KANA_LATIN_MESSAGE]
    assert _form(app, kana="ＰＡＲＫ").kana.errors == [KANA_LATIN_MESSAGE]  # full-width Latin too
    assert _form(app, kana="山田").kana.errors == [KANA_MESSAGE]
    assert _form(app, kana="ア" * 11).kana.errors == ["10文字以内で入力してください。"]
    assert "全角カタカナ" in KANA_MESSAGE and "全角カタカナ" in KANA_LATIN_MESSAGE


@pytest.mark.parametrize("number", [
    "03-1234-5678", "0312345678", "090-1234-5678", "09012345678", "0120-123-456", "0570-01-2345",
    "(03)1234-5678", "03 1234 5678", "+81-3-1234-5678", "+81 90 1234 5678", "０３－１２３４－５６７８",
])
def test_real_japanese_numbers_are_accepted(number):
    assert phone_number_is_valid(number)


@pytest.mark.parametrize("number", [
    "abc", "call me", "電話してください", "x", "123", "03-1234", "3-1234-5678", "03-1234-5678-9999",
    "03-1234-5678 内線12", "+81", "03_1234_5678", "0" * 21,
])
def test_anything_else_is_refused(number):
    assert not phone_number_is_valid(number)


def test_phone_validator_message(app):
    assert _form(app, tel="abc").tel.errors == [PHONE_MESSAGE]
    assert not _form(app, tel="").tel.errors  # optional
    assert not _form(app, tel="03-1234-5678").tel.errors


def test_email_address_is_checked_and_normalised(app):
    form = _form(app, mail="Taro@Example.CO.JP")
    assert not form.mail.errors and form.mail.data == "Taro@example.co.jp"
    for bad in ("nope", "yamada@", "@example.jp", "a b@example.jp"):
        assert _form(app, mail=bad).mail.errors == [EMAIL_MESSAGE], bad
    assert not _form(app, mail="").mail.errors


def test_messages_can_be_worded_by_the_product(app):
    class Worded(KanriForm):
        class Meta:
            csrf = False

        tel = StringField("電話番号", validators=[phone("電話番号は半角数字で入力してください。")])
        user = StringField("ログインID", validators=[login_id("ログインIDは半角英数字で入力してください。")])

    with app.test_request_context(method="POST"):
        form = Worded(formdata=MultiDict({"tel": "x", "user": "x"}))
        assert not form.validate()
        assert form.tel.errors == ["電話番号は半角数字で入力してください。"]
        assert form.user.errors == ["ログインIDは半角英数字で入力してください。"]


def test_login_id(app):
    for good in ("abc", "taro.yamada", "user_1@acme", "a-b"):
        assert not _form(app, user=good).user.errors, good
    for bad in ("a", "ab", "-abc", "日本語", "a" * 65, "a b"):
        assert _form(app, user=bad).user.errors == [LOGIN_ID_MESSAGE], bad


def test_require_confirm_checks_the_csrf_token(app):
    bp = Blueprint("confirming", __name__)

    @bp.route("/confirming", methods=["GET", "POST"])
    def confirming():
        form = ConfirmForm()
        if form.is_submitted():
            require_confirm()
            return "done"
        return f'<form method="post">{form.csrf_token()}</form>'

    app.register_blueprint(bp)
    client = app.test_client()
    token = csrf_from(client.get("/confirming").get_data(as_text=True))
    assert client.post("/confirming", data={"csrf_token": token}).get_data(as_text=True) == "done"
    assert client.post("/confirming", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/confirming", data={}).status_code == 400
    with app.test_request_context(method="POST", data={}), pytest.raises(BadRequest):
        require_confirm()


def test_confirm_form_is_one_class():
    from app.auth.forms import ConfirmForm as AuthConfirmForm

    assert AuthConfirmForm is ConfirmForm


HOSTILE_CHOICES = [("", "すべて"), ('x"><script>', "<b>太字</b> & 記号"), ("plain", "")]


class _WTFormsSelect(Form):
    pick = SelectField("選択", choices=choices(HOSTILE_CHOICES), validators=[InputRequired()])


class _LongSelect(Form):
    pick = SelectField("選択", choices=choices(HOSTILE_CHOICES), validators=[InputRequired()], widget=LongSelect())


@pytest.mark.parametrize("picked", [None, 'x"><script>', "plain", "not-a-choice"])
def test_long_select_writes_the_same_html_as_wtforms(picked):
    """LongSelect only writes options faster: same tag, attributes, selection and escaping as WTForms' Select."""
    data = MultiDict({} if picked is None else {"pick": picked})
    ours, theirs = _LongSelect(data).pick(class_="wide"), _WTFormsSelect(data).pick(class_="wide")
    assert str(ours) == str(theirs)
    assert "<script>" not in ours and "&lt;b&gt;太字&lt;/b&gt; &amp; 記号" in ours and " required" in ours
    assert ours.count(" selected ") == (0 if picked in (None, "not-a-choice") else 1)
