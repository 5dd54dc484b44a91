"""A test-only product: a blueprint, a tenant-scoped encrypted table, a menu link, a second factor, a purge hook."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template_string, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import StringField

from app import hookimpl
from app.auth.factors import SecondFactor, complete_login, pending_login
from app.crypto import EncryptedText
from app.extensions import db
from app.products import MenuLink, Panel, Product
from app.tenancy import TenantScoped

PRODUCT = Product("sample", "サンプル製品", "テスト用の製品")
FACTOR = SecondFactor("sample-confirm", "確認ボタン", "sample.confirm")
PURGED: list[str] = []
CREATED_USERS: list[str] = []

bp = Blueprint("sample", __name__, url_prefix="/sample")


class SampleNote(TenantScoped, db.Model):
    """A tenant-owned row with an encrypted body."""

    __tablename__ = "sample_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(EncryptedText())


class AnswerForm(FlaskForm):
    answer = StringField("答え")


PAGE = """{% extends "base.html" %}{% block content %}<h1>確認</h1>
<form method="post">{{ form.csrf_token }}{{ form.answer() }}<button type="submit">確認</button></form>{% endblock %}"""


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    """The sample second factor: answer 'ok'."""
    pending = pending_login()
    if pending is None:
        flash("もう一度ログインしてください。", "warning")
        return redirect(url_for("auth.login"))
    form = AnswerForm()
    if form.validate_on_submit() and form.answer.data == "ok":
        return complete_login(pending, FACTOR.name)
    return render_template_string(PAGE, form=form)


@bp.route("/notes")
@login_required
def notes_index():
    """List the tenant's notes."""
    notes = db.session.execute(sa.select(SampleNote).order_by(SampleNote.id)).scalars().all()
    return {"notes": [{"id": n.id, "title": n.title, "body": n.body} for n in notes]}


@bp.route("/notes/<int:note_id>")
@login_required
def note_show(note_id: int):
    """Show one note; another tenant's id is 404."""
    note = db.session.get(SampleNote, note_id)
    if note is None:
        abort(404)
    return {"id": note.id, "title": note.title, "body": note.body}


@bp.route("/notes/<int:note_id>/edit", methods=["POST"])
@login_required
def note_edit(note_id: int):
    """Change a note's title; another tenant's id is 404."""
    note = db.session.get(SampleNote, note_id)
    if note is None:
        abort(404)
    note.title = request.form.get("title", note.title)
    db.session.commit()
    return {"id": note.id, "title": note.title}


@hookimpl
def register_products():
    return [PRODUCT]


@hookimpl
def register_blueprints(app):
    app.register_blueprint(bp)


@hookimpl
def second_factor(tenant, user):
    if tenant.product == PRODUCT.code:
        return FACTOR
    return None


@hookimpl
def menu_links(tenant, user):
    if tenant is None or tenant.product != PRODUCT.code:
        return []
    return [MenuLink("サンプルノート", "sample.notes_index", menu_id="sample.notes", description="テスト用メニュー")]


@hookimpl
def dashboard_panels(tenant, user):
    if tenant is None or tenant.product != PRODUCT.code:
        return []
    from markupsafe import Markup

    return [Panel("サンプルのお知らせ", Markup("<p>サンプルパネル</p>"))]


@hookimpl
def login_links():
    return [MenuLink("サンプルのリンク", "sample.confirm", section="login")]


@hookimpl
def user_created(tenant, user, actor):
    CREATED_USERS.append(user.login_id)


@hookimpl
def purge_tenant(tenant):
    PURGED.append(tenant.code)


@hookimpl
def tenant_created(tenant, admin):
    if tenant.product == PRODUCT.code:
        return [f"サンプル: {admin.login_id} の準備ができました"]
    return None
