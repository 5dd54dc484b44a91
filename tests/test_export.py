"""Tenant export: `flask tenant export`, the 「データ書き出し」 request screen and the operator's decisions."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.builtins.lifecycle.export import ExportRequest, is_secret_column, plan
from app.extensions import db
from app.models import AuditEvent, User
from app.tenancy import all_tenants, tenant_models
from app.timeutil import utcnow
from tests.conftest import cli_output, csrf_from, login, post_form
from tests.mama_helpers import in_tenant

EXPORT_PAGE = "/account/export"


def _seed_mama(app, make_tenant, add_user):
    from plugins.mama.models import MamaAssociation, MamaDevice

    make_tenant("mamaco", product="mama")
    add_user("mamaco", "staff1", email="staff1@mamaco.example.jp")
    with in_tenant(app, "mamaco"):
        staff = db.session.execute(sa.select(User).where(User.login_id == "staff1")).scalar_one()
        token_hash = hashlib.sha256(b"device-cookie-token-of-staff1").hexdigest()
        db.session.add(MamaDevice(user_id=staff.id, token_hash=token_hash, status="approved", name="事務所PC",
                                  expires_at=utcnow() + timedelta(days=30)))
        db.session.add(MamaAssociation(code="A001", name="グリーンハイツ管理組合", name_kana="グリーンハイツ",
                                       postal_code="150-0001", prefecture="東京都", city="渋谷区",
                                       address_line="神宮前1-2-3", units=40, building_year=1998,
                                       fiscal_start_month=4, contact_name="理事長 山田花子",
                                       contact_phone="03-1234-5678", contact_email="yamada@green.example.jp",
                                       notes="=HYPERLINK(\"x\")"))
        db.session.commit()
        hashes = [u.password_hash for u in db.session.execute(sa.select(User)).scalars()]
    return token_hash, hashes


def _seed_jucho(app, make_tenant, add_user):
    from plugins.jucho.models import JuchoAssociation

    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "emp1", email="emp1@juchoco.example.jp")
    with in_tenant(app, "juchoco"):
        db.session.add(JuchoAssociation(name="ブルーコート管理組合", kana="ブルーコート", management_form="full",
                                        contact_person="他社 次郎", contact_email="jiro@blue.example.jp"))
        db.session.commit()


def _export(runner, tmp_path, code="mamaco", *extra):
    out = tmp_path / f"{code}.zip"
    result = runner.invoke(args=["tenant", "export", code, "--out", str(out), *extra, "--reason", "テスト"])
    return result, out


def test_export_holds_every_tenant_table_decrypted_without_secrets(app, runner, make_tenant, add_user, tmp_path):
    token_hash, password_hashes = _seed_mama(app, make_tenant, add_user)
    _seed_jucho(app, make_tenant, add_user)

    result, out = _export(runner, tmp_path)
    assert result.exit_code == 0, cli_output(result)
    assert "OK:" in result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600

    raw = out.read_bytes()
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        contents = b"".join(archive.read(name) for name in names)
        data_files = b"".join(archive.read(name) for name in names if name != "manifest.json")
        manifest = json.loads(archive.read("manifest.json"))
        with app.app_context():
            tables, skipped = plan()
            expected = {table.name for table in tables}
            every = {model.__tablename__ for model in tenant_models()}
        # every tenant-owned table is either exported or named as left out
        assert expected | {entry["table"] for entry in skipped} >= every
        assert {"users", "audit_events", "mama_associations", "mama_devices", "mama_permission_sets",
                "mama_user_settings", "mama_user_associations", "jucho_associations", "jucho_buildings",
                "jucho_building_profiles", "jucho_repair_records", "jucho_units", "export_requests"} <= expected
        assert {"user_sessions", "pending_logins", "jucho_login_codes", "mama_registration_codes",
                "mail_outbox", "jucho_unit_imports"} <= {entry["table"] for entry in skipped}
        for table in expected:
            assert f"csv/{table}.csv" in names and f"json/{table}.json" in names
            assert archive.read(f"csv/{table}.csv").startswith(b"\xef\xbb\xbf")
            assert hashlib.sha256(archive.read(f"csv/{table}.csv")).hexdigest() == manifest["sha256"][f"csv/{table}.csv"]
            assert hashlib.sha256(archive.read(f"json/{table}.json")).hexdigest() == manifest["sha256"][f"json/{table}.json"]
        # manifest counts match the files
        for entry in manifest["tables"]:
            rows = json.loads(archive.read(entry["files"]["json"]))
            lines = list(csv.reader(io.StringIO(archive.read(entry["files"]["csv"]).decode("utf-8-sig"))))
            assert len(rows) == entry["rows"] == len(lines) - 1
            assert lines[0] == entry["columns"]
        assert manifest["tenant"]["code"] == "mamaco" and manifest["tenant"]["product"] == "mama"
        assert manifest["exported_at"].endswith("JST")
        assert archive.getinfo("manifest.json").date_time[0] >= 2026       # entries carry the JST export time

        users = json.loads(archive.read("json/users.json"))
        assert {user["login_id"] for user in users} == {"admin", "staff1"}
        assert "staff1 さん" in {user["name"] for user in users}             # decrypted
        assert "staff1@mamaco.example.jp" in {user["email"] for user in users}
        assert not {"password_hash", "email_bidx", "row_key"} & set(users[0])
        association = json.loads(archive.read("json/mama_associations.json"))[0]
        assert association["contact_name"] == "理事長 山田花子"
        assert association["created_at"].endswith("+09:00")
        association_csv = archive.read("csv/mama_associations.csv").decode("utf-8-sig")
        assert "理事長 山田花子" in association_csv and "\r\n" in association_csv
        assert "'=HYPERLINK" in association_csv                                  # formula-safe cell
        devices = json.loads(archive.read("json/mama_devices.json"))
        assert devices[0]["name"] == "事務所PC" and "token_hash" not in devices[0]
        assert json.loads(archive.read("json/audit_events.json"))                 # the operation log
        assert "JST" in archive.read("csv/audit_events.csv").decode("utf-8-sig").splitlines()[1]

    # no secret, anywhere, compressed or not; nothing of the other tenant
    for secret in [token_hash, *password_hashes]:
        assert secret.encode() not in raw and secret.encode() not in contents
    for column in ("password_hash", "token_hash", "email_bidx", "row_key", "nonce_hash", "code_hash"):
        assert column.encode() not in data_files    # (the manifest names what was left out)
    for other in ("juchoco", "emp1", "ブルーコート", "他社 次郎", "jiro@blue.example.jp"):
        assert other.encode() not in contents

    with in_tenant(app, "mamaco"):
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "tenant.export")).scalar_one()
        details = json.loads(event.details)
        assert details["rows"] == sum(entry["rows"] for entry in manifest["tables"])
        assert "users=2" in details["counts"]   # a list: table names are not audit detail keys


def test_jucho_export_holds_the_profile_repairs_and_units_with_the_arrears_decrypted(app, runner, make_tenant,
                                                                                    add_user, tmp_path):
    from plugins.jucho.demo import seed_demo

    make_tenant("juchoco", product="jucho")
    with in_tenant(app, "juchoco") as tenant:
        seed_demo(tenant)
        db.session.commit()
    result, out = _export(runner, tmp_path, "juchoco")
    assert result.exit_code == 0, cli_output(result)
    with zipfile.ZipFile(out) as archive:
        profiles = json.loads(archive.read("json/jucho_building_profiles.json"))
        repairs = json.loads(archive.read("json/jucho_repair_records.json"))
        units = json.loads(archive.read("json/jucho_units.json"))
        assert "json/jucho_unit_imports.json" not in archive.namelist()
    assert len(profiles) == 5 and profiles[0]["company_registration"] == "国土交通大臣(5)第012345号"
    assert len(repairs) == 10 and len(units) == 40
    late = next(unit for unit in units if unit["number"] == "302")
    assert late["arrears_management"] == "45000" and late["late_charge"] == "1230"   # decrypted for the tenant
    assert "row_key" not in late


def test_export_refuses_to_overwrite_and_unknown_tenant(app, runner, make_tenant, tmp_path):
    make_tenant("acme")
    out = tmp_path / "x.zip"
    out.write_bytes(b"keep me")
    result = runner.invoke(args=["tenant", "export", "acme", "--out", str(out), "--reason", "テスト"])
    assert result.exit_code != 0 and "上書きはしません" in cli_output(result)
    assert out.read_bytes() == b"keep me"
    result = runner.invoke(args=["tenant", "export", "nope", "--out", str(tmp_path / "y.zip"), "--reason", "テスト"])
    assert result.exit_code != 0 and not (tmp_path / "y.zip").exists()


def test_secret_column_rule():
    for name in ("password_hash", "token_hash", "nonce_hash", "code_hash", "email_bidx", "row_key", "hash",
                 "prev_hash", "token", "nonce", "password_changed_at"):
        assert is_secret_column(name)
    for name in ("name", "email", "login_id", "status", "created_at", "contact_email"):
        assert not is_secret_column(name)

    class OptOut:
        __export_exclude__ = ("memo",)

    assert is_secret_column("memo", OptOut) and not is_secret_column("memo")


def _admin_client(app, make_tenant, add_user):
    make_tenant("acme", admin_email="admin@acme.example.jp")
    add_user("acme", "staff")
    client = app.test_client()
    login(client, "acme", "admin")
    return client


def test_request_screen_fulfil_flow(app, runner, make_tenant, add_user, outbox, tmp_path):
    client = _admin_client(app, make_tenant, add_user)
    assert "データ書き出し" in client.get("/").get_data(as_text=True)     # the account menu
    page = client.get(EXPORT_PAGE)
    assert page.status_code == 200 and "申請はまだありません" in page.get_data(as_text=True)

    response = post_form(client, EXPORT_PAGE, {"note": "CD-Rで受け取りたい"}, follow_redirects=True)
    assert response.status_code == 200
    assert "申請中" in response.get_data(as_text=True)
    with in_tenant(app, "acme"):
        item = db.session.execute(sa.select(ExportRequest)).scalar_one()
        request_id = item.id
        assert item.note == "CD-Rで受け取りたい" and item.requested_login == "admin"

    # a second open request is refused in Japanese
    token = csrf_from(client.get(EXPORT_PAGE).get_data(as_text=True))
    second = client.post(EXPORT_PAGE, data={"csrf_token": token, "note": "もう一度"})
    assert second.status_code == 409
    assert "申請中のデータ書き出しがあります" in second.get_data(as_text=True)
    # no CSRF token, no request
    assert client.post(EXPORT_PAGE, data={"note": "x"}).status_code == 400

    listing = runner.invoke(args=["tenant", "export-requests", "--reason", "テスト"])
    assert listing.exit_code == 0 and "acme" in listing.output and str(request_id) in listing.output
    assert "CD-Rで受け取りたい" in listing.output      # the admin's note, decrypted for the operator

    outbox.clear()
    result, out = _export(runner, tmp_path, "acme", "--request", str(request_id), "--note", "別途郵送します")
    assert result.exit_code == 0, cli_output(result)
    assert zipfile.ZipFile(out).testzip() is None
    page = client.get(f"{EXPORT_PAGE}/{request_id}").get_data(as_text=True)
    assert "対応済み" in page and "別途郵送します" in page
    assert "対応済み" in client.get(EXPORT_PAGE).get_data(as_text=True)
    assert len(outbox) == 1
    assert outbox[0].recipients == ["admin@acme.example.jp"]
    assert "対応しました" in outbox[0].subject and "別途郵送します" in outbox[0].body

    with in_tenant(app, "acme"):
        actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
        assert {"export.request", "tenant.export", "export.fulfil"} <= set(actions)
    # a request is fulfilled once
    (tmp_path / "again").mkdir()
    again, _ = _export(runner, tmp_path / "again", "acme", "--request", str(request_id))
    assert again.exit_code != 0 and "既に対応済み" in cli_output(again)
    # and a new one may be filed now
    assert post_form(client, EXPORT_PAGE, {"note": ""}).status_code == 302


@pytest.mark.config(KANRI_OPS_EMAIL="ops@kanri-test.example.jp")
def test_operators_are_mailed_of_a_new_request_without_the_admins_note(app, make_tenant, add_user, outbox):
    client = _admin_client(app, make_tenant, add_user)
    outbox.clear()
    assert post_form(client, EXPORT_PAGE, {"note": "社外秘: 解約理由のメモ"}).status_code == 302
    with in_tenant(app, "acme"):
        request_id = db.session.execute(sa.select(ExportRequest.id)).scalar_one()
    mails = [m for m in outbox if m.recipients == ["ops@kanri-test.example.jp"]]
    assert len(mails) == 1 and "acme" in mails[0].subject
    assert f"申請番号: {request_id}" in mails[0].body and "flask tenant export-requests" in mails[0].body
    assert "解約理由" not in mails[0].body and "解約理由" not in mails[0].html  # read through the audited command


def test_reject_mails_the_reason(app, runner, make_tenant, add_user, outbox):
    client = _admin_client(app, make_tenant, add_user)
    post_form(client, EXPORT_PAGE, {"note": ""})
    with in_tenant(app, "acme"):
        request_id = db.session.execute(sa.select(ExportRequest.id)).scalar_one()
    outbox.clear()
    result = runner.invoke(args=["tenant", "export-reject", str(request_id), "--reason", "契約内容の確認が必要です"])
    assert result.exit_code == 0, cli_output(result)
    assert "却下" in client.get(EXPORT_PAGE).get_data(as_text=True)
    assert len(outbox) == 1 and "契約内容の確認が必要です" in outbox[0].body
    assert runner.invoke(args=["tenant", "export-reject", str(request_id), "--reason", "x"]).exit_code != 0
    with in_tenant(app, "acme"):
        assert db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "export.reject")).scalar_one()


def test_general_user_gets_403_and_no_menu(app, make_tenant, add_user):
    make_tenant("acme")
    add_user("acme", "staff")
    client = app.test_client()
    login(client, "acme", "staff")
    assert "データ書き出し" not in client.get("/").get_data(as_text=True)
    assert client.get(EXPORT_PAGE).status_code == 403
    assert client.get("/account/export/1").status_code == 403


def test_other_tenants_request_is_404(app, runner, make_tenant, add_user, tmp_path):
    client = _admin_client(app, make_tenant, add_user)
    make_tenant("other")
    other = app.test_client()
    login(other, "other", "admin")
    assert post_form(other, EXPORT_PAGE, {"note": "他社の申請"}).status_code == 302
    with app.app_context(), all_tenants():
        foreign = db.session.execute(sa.select(ExportRequest.id)).scalar_one()
    response = client.get(f"{EXPORT_PAGE}/{foreign}")
    assert response.status_code == 404
    assert "他社の申請" not in client.get(EXPORT_PAGE).get_data(as_text=True)
    # the operator cannot fulfil it with another tenant's export either
    result, out = _export(runner, tmp_path, "acme", "--request", str(foreign))
    assert result.exit_code != 0 and not out.exists()


def test_export_of_a_jucho_tenant_holds_its_requests_fees_and_settings_decrypted(app, runner, make_tenant, tmp_path):
    from plugins.jucho.demo import seed_demo

    for code in ("juchoco", "otherco"):
        make_tenant(code, product="jucho")
        with in_tenant(app, code) as tenant:
            seed_demo(tenant)
            db.session.commit()
    with in_tenant(app, "otherco"):
        from plugins.jucho.requests import JuchoRequest

        db.session.execute(sa.select(JuchoRequest)).scalar_one().contact_name = "他社 仲介"
        db.session.commit()
    result, out = _export(runner, tmp_path, "juchoco")
    assert result.exit_code == 0, cli_output(result)
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        for table in ("jucho_requests", "jucho_request_lines", "jucho_fee_items", "jucho_request_settings"):
            assert f"json/{table}.json" in names
        [request] = json.loads(archive.read("json/jucho_requests.json"))
        assert request["contact_name"] == "仲介 一郎" and request["email"] == "chukai@sample-fudosan.example.jp"
        assert request["number"].startswith("R") and "row_key" not in request
        lines = json.loads(archive.read("json/jucho_request_lines.json"))
        assert [line["amount"] for line in lines] == [11000]
        assert len(json.loads(archive.read("json/jucho_fee_items.json"))) == 6
        contents = b"".join(archive.read(name) for name in names)
    assert "他社 仲介".encode() not in contents
