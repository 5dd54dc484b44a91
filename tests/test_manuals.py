"""マニュアル: ``flask manual publish | list | build``, the マニュアル page, the audited download, and another
product's manual being 404."""
from __future__ import annotations

import hashlib
import io
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app import pdf
from app.builtins.manuals import service
from app.builtins.manuals.models import Manual
from app.extensions import db
from app.models import AuditEvent
from tests.conftest import cli_output, login
from tests.mama_helpers import audit_actions, login_with_code, mama_tenant


@pytest.fixture(scope="module")
def good_pdf() -> bytes:
    return pdf.markdown_to_pdf("# テスト用マニュアル\n\n本文です。", title="テスト用マニュアル")


def _file(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _publish(runner, product, version, path, *extra):
    return runner.invoke(args=["manual", "publish", "--product", product, "--version", version, path,
                               "--operator", "ops", *extra])


def _manuals(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(Manual.product, Manual.version).order_by(Manual.id))]


def test_publish_keeps_every_version_and_list_shows_them(app, runner, tmp_path, good_pdf):
    path = _file(tmp_path, "manual.pdf", good_pdf)
    first = _publish(runner, "mama", "1.0", path)
    assert first.exit_code == 0, cli_output(first)
    assert "マニュアルを公開しました" in first.output and "MAMAシステム_操作マニュアル_v1.0.pdf" in first.output
    second = _publish(runner, "mama", "1.1", path, "--title", "MAMAシステム 操作マニュアル（改訂）")
    assert second.exit_code == 0, cli_output(second)
    assert _manuals(app) == [("mama", "1.0"), ("mama", "1.1")]
    with app.app_context():
        row = db.session.scalars(sa.select(Manual).where(Manual.version == "1.1")).one()
        assert row.content == good_pdf and row.size == len(good_pdf)
        assert row.sha256 == hashlib.sha256(good_pdf).hexdigest()
        assert row.file_name == "MAMAシステム_操作マニュアル（改訂）_v1.1.pdf"
        assert row.published_by == "operator:ops"
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "manual.publish")
                                   .execution_options(all_tenants=True)).first()
        assert event.tenant_id is None and event.target == "manual:mama:1.0"
    listed = runner.invoke(args=["manual", "list", "--product", "mama"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert len(lines) == 2 and "1.1" in lines[0] and "1.0" in lines[1] and "JST" in lines[0]
    assert runner.invoke(args=["manual", "list", "--product", "jucho"]).output.strip() == "公開されているマニュアルはありません。"


@pytest.mark.parametrize("name,data,message", [
    ("renamed.pdf", "これはテキストファイルです。拡張子だけ pdf です。\n".encode(), "PDFファイルではありません"),
    ("word.pdf", b"PK\x03\x04" + b"\0" * 200, "PDFファイルではありません"),
    ("cut.pdf", None, "完結していません"),
    ("empty.pdf", b"", "ファイルが空です"),
])
def test_publish_refuses_what_is_not_a_whole_pdf(app, runner, tmp_path, good_pdf, name, data, message):
    data = good_pdf[: len(good_pdf) // 2] if data is None else data
    result = _publish(runner, "mama", "1.0", _file(tmp_path, name, data))
    assert result.exit_code == 2
    assert message in cli_output(result)
    assert _manuals(app) == []


@pytest.mark.config(KANRI_MANUAL_MAX_BYTES=1000)
def test_publish_refuses_a_file_over_the_size_limit(app, runner, tmp_path, good_pdf):
    result = _publish(runner, "mama", "1.0", _file(tmp_path, "big.pdf", good_pdf))
    assert result.exit_code == 2 and "大きすぎます" in cli_output(result)
    assert _manuals(app) == []


def test_publish_refuses_a_duplicate_version_an_unknown_product_and_bad_arguments(app, runner, tmp_path, good_pdf):
    path = _file(tmp_path, "manual.pdf", good_pdf)
    assert _publish(runner, "mama", "1.0", path).exit_code == 0
    again = _publish(runner, "mama", "1.0", path)
    assert again.exit_code == 2 and "版 1.0 は既に公開されています" in cli_output(again)
    unknown = _publish(runner, "nosuch", "1.0", path)
    assert unknown.exit_code == 2 and "製品コード 'nosuch' の製品はありません" in cli_output(unknown)
    assert "jucho" in cli_output(unknown) and "mama" in cli_output(unknown)
    bad_version = _publish(runner, "mama", "1.0/../x", path)
    assert bad_version.exit_code == 2 and "版（--version）" in cli_output(bad_version)
    missing = _publish(runner, "mama", "2.0", str(tmp_path / "nothing.pdf"))
    assert missing.exit_code == 2 and "ファイルがありません" in cli_output(missing)
    long_title = _publish(runner, "mama", "2.0", path, "--title", "長" * 101)
    assert long_title.exit_code == 2 and "100文字以内" in cli_output(long_title)
    assert _manuals(app) == [("mama", "1.0")]


def test_build_makes_the_manual_from_the_guide(app, runner):
    result = runner.invoke(args=["manual", "build", "--product", "mama", "--version", "1.0", "--operator", "ops"])
    assert result.exit_code == 0, cli_output(result)
    assert "MAMAシステム_操作マニュアル_v1.0.pdf" in result.output
    with app.app_context():
        manual = db.session.scalars(sa.select(Manual).where(Manual.product == "mama")).one()
        reader = PdfReader(io.BytesIO(manual.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 3
    for heading in ("MAMAシステム 操作マニュアル", "ログイン", "端末の確認", "方法1: 登録コードで登録する", "管理組合登録",
                    "端末管理", "ユーザーマスタ", "メニュー権限マスタ", "物件参照権限登録", "操作ログ", "データ書き出し",
                    "ログイン履歴", "第1.0版"):
        assert heading in text, heading


def test_build_and_publish_is_a_plain_function_with_a_default_version(app):
    with app.app_context():
        manual = service.build_and_publish("jucho")
        assert re.fullmatch(r"\d+\.\d+\.\d+-\d{8}|1\.0", manual.version)
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(manual.content)).pages)
        for heading in ("重調@CITY 操作マニュアル", "認証コードの入力", "パスワードをお忘れの方", "物件一覧・物件マスタ登録",
                        "社員一覧・社員登録（管理者）"):
            assert heading in text, heading
        with pytest.raises(service.ManualError, match="既に公開されています"):
            service.build_and_publish("jucho", manual.version)


def test_build_needs_a_guide(app, runner):
    result = runner.invoke(args=["manual", "build", "--product", "sample"])
    assert result.exit_code == 2 and "操作ガイド" in cli_output(result)
    assert _manuals(app) == []


def test_manual_pages_need_a_login(app, client, runner, tmp_path, good_pdf):
    assert _publish(runner, "sample", "1.0", _file(tmp_path, "m.pdf", good_pdf)).exit_code == 0
    with app.app_context():
        manual_id = db.session.scalar(sa.select(Manual.id))
    for url in ("/manual", f"/manual/{manual_id}/download"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_user_sees_latest_and_older_versions_and_downloads_the_pdf(app, client, runner, make_tenant, add_user,
                                                                   tmp_path, good_pdf):
    older = pdf.markdown_to_pdf("# 旧版\n\n古い本文", title="旧版")
    assert _publish(runner, "sample", "1.0", _file(tmp_path, "old.pdf", older)).exit_code == 0
    assert _publish(runner, "sample", "1.1", _file(tmp_path, "new.pdf", good_pdf)).exit_code == 0
    make_tenant("acme")
    add_user("acme", "staff")
    login(client, "acme", "staff")
    assert 'href="/manual"' in client.get("/").get_data(as_text=True)  # in the navigation
    page = client.get("/manual")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.app_context():
        new, old = db.session.scalars(sa.select(Manual).order_by(Manual.version.desc())).all()
        new_id, old_id, old_date = new.id, old.id, old.published_jst
    latest = html.split('data-testid="manual-latest"')[1].split("</section>")[0]
    assert "1.1（最新）" in latest and f"/manual/{new_id}/download" in latest
    listed = html.split('data-testid="manual-older"')[1]
    assert "1.0" in listed and old_date in listed and old_date.endswith("JST") and f"/manual/{old_id}/download" in listed

    response = client.get(f"/manual/{new_id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == good_pdf
    expected_name = quote("サンプル製品_操作マニュアル_v1.1.pdf", safe="")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"manual.pdf\"; filename*=UTF-8''{expected_name}")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/manual/{old_id}/download").data == older

    downloads = [row for row in audit_actions(app, "acme") if row[0] == "manual.download"]
    assert downloads == [("manual.download", "success", "manual:sample:1.1"),
                         ("manual.download", "success", "manual:sample:1.0")]
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "manual.download")
                                   .execution_options(all_tenants=True)).first()
        assert event.actor_login == "staff"
    # The tenant's 操作ログ names it in Japanese.
    admin = app.test_client()
    login(admin, "acme", "admin")
    assert "マニュアルのダウンロード" in admin.get("/admin/oplog").get_data(as_text=True)


def test_another_products_manual_is_not_found(app, client, runner, make_tenant, tmp_path, good_pdf):
    mama = mama_tenant(make_tenant, "mama1")
    assert _publish(runner, "jucho", "1.0", _file(tmp_path, "j.pdf", good_pdf)).exit_code == 0
    with app.app_context():
        jucho_id = db.session.scalar(sa.select(Manual.id))
    login_with_code(client, app, mama.code, "admin")
    page = client.get("/manual").get_data(as_text=True)
    assert "MAMAシステムのマニュアルはまだ公開されていません" in page and f"/manual/{jucho_id}/" not in page
    assert client.get(f"/manual/{jucho_id}/download").status_code == 404
    assert client.get("/manual/999999/download").status_code == 404
    assert not [row for row in audit_actions(app, mama.code) if row[0] == "manual.download"]
