"""Contract end and purge: `flask tenant terminate`, `flask tenant purge-expired`, the receipt and the anchor.

Two tenants per product get rows in every tenant-owned table through the products' own flows; one
of each is terminated and purged. Then every table of db.metadata with a tenant_id column is scanned
for rows of the purged tenants (a plugin table the purge misses fails here), and the other tenants'
rows are compared row for row with what they were before.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.builtins.lifecycle import purge
from app.builtins.lifecycle.purge import PurgeReceipt
from app.builtins.transparency import incidents, notices
from app.crypto import EncryptedText
from app.extensions import db
from app.mailer import MailAttempt, MailOutbox, send_mail
from app.models import ROLE_ADMIN, AuditEvent, Tenant, User
from app.tenancy import tenant_scope
from app.tenants import TenantError, create_tenant
from app.timeutil import jst_today, utcnow
from tests import jucho_helpers, mama_helpers
from tests.conftest import PASSWORD, cli_output, login, password_step, post_form

PRODUCTS = ("sample", "mama", "jucho")
GONE = {product: f"{product}-gone" for product in PRODUCTS}
KEPT = {product: f"{product}-kept" for product in PRODUCTS}
PERSONAL = ("管理 太郎", "boss さん", "staff さん", "理事長")


def _tenant(code: str) -> Tenant:
    return db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()


def _seed(app, code: str, product: str, outbox) -> None:
    """Rows in every table a tenant of this product can have, through the products' own flows."""
    client, other = app.test_client(), app.test_client()
    if product == "sample":
        assert login(client, code, "admin").status_code == 302        # session, pending login, audit
        password_step(other, code, "staff", PASSWORD)                 # a pending login left open
    elif product == "mama":
        mama_helpers.login_with_code(client, app, code, "admin")      # registration code, device, session
        mama_helpers.password_step(other, code, "staff")
    else:
        jucho_helpers.jucho_login(client, outbox, code, "admin")      # login code, mail, session
        jucho_helpers.start_login(other, code, "staff")
    assert post_form(client, "/account/export", {"note": "退会前に全データを"}).status_code == 302  # export request
    assert post_form(client, "/admin/security/password", {"min_length": "12", "history": "2"}).status_code == 302
    assert post_form(client, "/admin/security/ip", {"scope": "off", "entries": "203.0.113.0/24 # 本社"}
                     ).status_code == 302                                       # IP restriction, entries, undo
    with app.app_context():
        tenant = _tenant(code)
        with tenant_scope(tenant):
            admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
            staff = db.session.execute(sa.select(User).where(User.login_id == "staff")).scalar_one()
            from app.accounts import set_password

            set_password(staff, PASSWORD)  # the security policy row above, and a password_history row
            if product == "sample":
                from tests.plugins.sample_product import SampleNote

                db.session.add(SampleNote(title="メモ", body="個人的な内容"))
            elif product == "mama":
                from plugins.mama.cli import add_sample_associations
                from plugins.mama.models import (
                    MamaAssociation,
                    MamaPermissionSet,
                    MamaResetRequest,
                    MamaUserAssociation,
                )

                sales = MamaPermissionSet(name="営業", role="general")
                sales.levels = {"mama.associations": "view"}
                db.session.add(sales)
                db.session.add(MamaResetRequest(user_id=staff.id))
                add_sample_associations(3)
                db.session.flush()
                first = db.session.execute(sa.select(MamaAssociation).order_by(MamaAssociation.id)).scalars().first()
                db.session.add(MamaUserAssociation(user_id=staff.id, association_id=first.id))
            else:
                from plugins.jucho import unit_import
                from plugins.jucho.demo import seed_demo
                from plugins.jucho.models import JuchoBuilding

                seed_demo(tenant)
                building = db.session.execute(sa.select(JuchoBuilding).order_by(JuchoBuilding.id)).scalars().first()
                checked = unit_import.plan("住戸番号,滞納額 管理費（円）\r\n901,5000\r\n".encode(), building.id,
                                           include_personal=True)
                unit_import.save_pending(checked, building.id, admin.id, "units.csv")   # a pending 住戸 import
                from plugins.jucho import deliveries, reports
                from plugins.jucho.requests import REVIEW, JuchoRequest, set_status

                request = db.session.execute(sa.select(JuchoRequest)).scalars().first()
                report = reports.start_draft(request, admin)
                reports.set_override(report, "parking.spaces", "20台", admin)            # a report override
                set_status(request, REVIEW, admin)
                delivery = deliveries.create_delivery(reports.issue(report, admin), "broker@example.jp", admin)
                deliveries.take_download(delivery, "192.0.2.1", "test")                 # a delivery, a download
            send_mail(admin.email, "お知らせ", "password_changed", user=admin, tenant=tenant, changed_at=utcnow())
            _seed_strong_factors(admin, staff)
            db.session.commit()
        notice = notices.create_notice(title="お知らせ", body="本文", product=product, tenants=[tenant],
                                       operator="operator:test")                 # notice_targets
        db.session.commit()
        notice_id = notice.id
        incidents.notify(subject="インシデント", body="本文", tenant_codes=[code], operator="operator:test",
                         reason="テスト")                                          # incident_recipients
    assert client.get(f"/notices/{notice_id}").status_code == 200                   # notice_reads


def _seed_strong_factors(admin, staff) -> None:
    """A factor policy, a TOTP secret, recovery codes, a passkey and a wrong-code count (strong_factor_* tables)."""
    from app.builtins.strong_factors import authenticator, policy, recovery
    from app.builtins.strong_factors.models import FactorFailure, Passkey

    policy.set_policy(policy.MODE_REPLACE, False, admin)
    authenticator.start(staff)
    recovery.regenerate(staff)
    # Registering a passkey needs a browser's authenticator (tests/browser/test_strong_factors_browser.py).
    db.session.add(Passkey(user_id=staff.id, name="鍵", credential_id=f"seed-{staff.id}", public_key=b"\x01"))
    db.session.add(FactorFailure(user_id=staff.id, pending_id=1))


@pytest.fixture
def world(app, make_tenant, add_user, outbox):
    """Six tenants (two per product) with rows in every table; all mail delivered (attempts recorded)."""
    for product in PRODUCTS:
        for code in (GONE[product], KEPT[product]):
            make_tenant(code, product=product)
            add_user(code, "staff")
            add_user(code, "boss", role=ROLE_ADMIN)
            add_user(code, "quiet", role=ROLE_ADMIN)
            with app.app_context():
                with tenant_scope(_tenant(code)):
                    quiet = db.session.execute(sa.select(User).where(User.login_id == "quiet")).scalar_one()
                    quiet.status = "suspended"  # a suspended admin is not mailed
                    db.session.commit()
            _seed(app, code, product, outbox)
    len(outbox)  # deliver everything now: mail_attempts rows exist, and nothing changes behind the snapshots
    outbox.clear()
    with app.app_context():
        ids = {t.code: t.id for t in db.session.execute(sa.select(Tenant)).scalars()}
    return ids


def _raw(table: sa.Table):
    """SELECT every column as stored (encrypted columns as their ciphertext, which compares exactly)."""
    return sa.select(*[sa.type_coerce(c, sa.Text) if isinstance(c.type, EncryptedText) else c for c in table.c])


def _tables_of_this_app() -> set[str]:
    """Tables of the core and of the plugins this app loaded (another test may have imported a test-only
    product's models into the shared metadata)."""
    from app.products import plugin_manager

    packages = {plugin.__name__ for plugin in plugin_manager().get_plugins()} | {"app"}
    return {mapper.local_table.name for mapper in db.Model.registry.mappers
            if any(mapper.class_.__module__ == name or mapper.class_.__module__.startswith(f"{name}.")
                   for name in packages)}


def _tenant_tables() -> list[sa.Table]:
    return [table for table in db.metadata.sorted_tables if "tenant_id" in table.c]


def _rows(tenant_ids) -> dict[str, list[tuple]]:
    """Every row of these tenants in every table with a tenant_id column, the tenants themselves and
    the delivery attempts of their mail, ordered by primary key."""
    ids = list(tenant_ids)
    result = {}
    for table in _tenant_tables():
        if table.name == "purge_receipts":
            continue
        result[table.name] = [tuple(row) for row in db.session.execute(
            _raw(table).where(table.c.tenant_id.in_(ids)).order_by(*table.primary_key.columns))]
    tenants = Tenant.__table__
    result["tenants"] = [tuple(row) for row in db.session.execute(
        sa.select(tenants).where(tenants.c.id.in_(ids)).order_by(tenants.c.id))]
    attempts, mails = MailAttempt.__table__, MailOutbox.__table__
    result["mail_attempts"] = [tuple(row) for row in db.session.execute(
        sa.select(attempts).join(mails, attempts.c.mail_id == mails.c.id).where(mails.c.tenant_id.in_(ids))
        .order_by(attempts.c.id))]
    return result


def _tomorrow() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def test_terminate_then_purge_deletes_every_row_of_the_ended_tenants_only(app, runner, world, outbox):
    gone_ids = {world[code] for code in GONE.values()}
    kept_ids = {world[code] for code in KEPT.values()}
    with app.app_context():
        before_gone = _rows(gone_ids)
        # Every table with a tenant_id (and the mail attempts) has rows of the tenants about to go.
        empty = [name for name, rows in before_gone.items() if not rows and name in _tables_of_this_app()]
        assert empty == [], f"the seed misses {empty}"
        assert {"jucho_requests", "jucho_request_lines", "jucho_fee_items", "jucho_request_settings"} <= {
            name for name, rows in before_gone.items() if rows}  # 重調's 依頼 and 手数料 are seeded, so purged below
        before_kept = _rows(kept_ids)
        addresses = {code: sorted({f"admin@{code}.example.jp", f"boss@{code}.example.jp"}) for code in GONE.values()}
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0

    today = jst_today().isoformat()
    for code in GONE.values():
        result = runner.invoke(args=["tenant", "terminate", code, "--on", today, "--reason", "テスト"])
        assert result.exit_code == 0, cli_output(result)
        assert f"契約終了日を 2099-12-31 から {today}（JST）に変更しました" in result.output

    # The contract end day itself is still within the contract: nothing to purge yet.
    result = runner.invoke(args=["tenant", "purge-expired", "--reason", "テスト"])
    assert result.exit_code == 0 and "削除するテナントはありません" in result.output

    with time_machine.travel(_tomorrow(), tick=True):
        # From the day after the end nobody of the tenant can log in.
        refused = password_step(app.test_client(), GONE["sample"], "admin", PASSWORD)
        assert "ご契約期間が終了しているため" in refused.get_data(as_text=True)

        with app.app_context():
            before_gone = _rows(gone_ids)  # terminate and the refused login added audit events
        dry = runner.invoke(args=["tenant", "purge-expired", "--dry-run", "--reason", "テスト"])
        assert dry.exit_code == 0, cli_output(dry)
        with app.app_context():
            assert _rows(gone_ids) == before_gone  # --dry-run changes nothing
            assert db.session.execute(sa.select(sa.func.count()).select_from(PurgeReceipt)).scalar_one() == 0
        for code in GONE.values():
            assert f"[dry-run] {code}" in dry.output
        assert "  users: 4" in dry.output

        result = runner.invoke(args=["tenant", "purge-expired", "--operator", "ops-suzuki", "--reason", "テスト"])
        assert result.exit_code == 0, cli_output(result)
        for code in GONE.values():
            assert f"{code}（" in result.output
        assert "実行者 operator:ops-suzuki" in result.output

        with app.app_context():
            # The scan: no table with a tenant_id keeps a row of a purged tenant.
            for table in db.metadata.sorted_tables:
                if "tenant_id" not in table.c or table.name == "purge_receipts":
                    continue
                left = db.session.execute(sa.select(sa.func.count()).select_from(table)
                                          .where(table.c.tenant_id.in_(gone_ids))).scalar_one()
                assert left == 0, f"{table.name} keeps {left} rows of purged tenants"
            after = _rows(gone_ids)
            assert all(not rows for name, rows in after.items() if name != "tenants")

            # The other tenants' rows are unchanged, row for row.
            assert _rows(kept_ids) == before_kept

            # Tombstones keep code, product and dates; the receipts hold counts only.
            receipts = {r.tenant_code: r for r in db.session.execute(sa.select(PurgeReceipt)).scalars()}
            assert set(receipts) == set(GONE.values())
            for product, code in GONE.items():
                tomb = _tenant(code)
                assert (tomb.status, tomb.product, tomb.contract_end.isoformat()) == ("purged", product, today)
                assert tomb.purged_at is not None
                receipt = receipts[code]
                assert receipt.operator == "operator:ops-suzuki" and receipt.product == product
                mine = receipt.counts
                assert mine["users"] == 4 and receipt.total == sum(mine.values())
                assert receipt.mailed_to == 2
                assert set(mine) <= {name for name, rows in before_gone.items() if rows and name != "tenants"}
            total = sum(r.total for r in receipts.values())
            assert total == sum(len(rows) for name, rows in before_gone.items() if name != "tenants")

            # A tenant.purge event in the system chain, with counts and no personal data.
            events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "tenant.purge")
                                        .execution_options(all_tenants=True)).scalars().all()
            assert sorted(e.target for e in events) == sorted(f"tenant:{c}" for c in GONE.values())
            assert {e.chain_id for e in events} == {0} and {e.tenant_id for e in events} == {None}
            for event in events:
                details = json.loads(event.details)
                assert details["total"] == receipts[event.target.split(":")[1]].total
                assert not any(word in event.details for word in PERSONAL + ("@",))

            # The receipt mails survive the purge (no tenant) and are delivered.
            mails = db.session.execute(sa.select(MailOutbox)).scalars().all()
            assert {m.tenant_id for m in mails if "データ削除" in m.subject} == {None}

        sent = [m for m in outbox if "データ削除" in m.subject]
        by_code = {}
        for message in sent:
            assert len(message.recipients) == 1
            code = next(c for c in GONE.values() if f"（会社コード {c}）" in message.subject)
            by_code.setdefault(code, []).append(message.recipients[0])
            for word in PERSONAL:
                assert word not in message.body and word not in message.html
            others = {a for c in addresses for a in addresses[c]} - {message.recipients[0]}
            assert not any(a in message.body or a in message.html for a in others)
            assert "users: 4" in message.body
        assert {c: sorted(v) for c, v in by_code.items()} == addresses  # active admins only, read before the purge

        # A second run does nothing.
        again = runner.invoke(args=["tenant", "purge-expired", "--reason", "テスト"])
        assert again.exit_code == 0 and "削除するテナントはありません" in again.output
        with app.app_context():
            assert db.session.execute(sa.select(sa.func.count()).select_from(PurgeReceipt)).scalar_one() == 3
            assert _rows(kept_ids) == before_kept

        # A purged code is never reused.
        with app.app_context(), pytest.raises(TenantError, match="既に使われています"):
            create_tenant(code=GONE["mama"], name="別会社", product="mama", contract_end="2099-12-31",
                          admin_login="admin", admin_email="x@example.jp")
        reuse = runner.invoke(args=["tenant", "create", "--code", GONE["jucho"], "--name", "別会社", "--product",
                                    "jucho", "--contract-end", "2099-12-31", "--admin-login", "admin",
                                    "--admin-email", "x@example.jp"])
        assert reuse.exit_code == 2 and "既に使われています" in cli_output(reuse)
        listed = runner.invoke(args=["tenant", "list"])
        assert "削除済み" in listed.output

        # The anchor knows the purged chains are gone on purpose.
        verify = runner.invoke(args=["audit", "verify"])
        assert verify.exit_code == 0, cli_output(verify)
        purged_on = jst_today().isoformat()
        for code in GONE.values():
            assert f"テナント {code}（id {world[code]}）の監査ログは契約終了により {purged_on}（JST）に削除済みです" \
                in verify.output
        assert "NG" not in cli_output(verify)
        assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
        verify = runner.invoke(args=["audit", "verify"])
        assert verify.exit_code == 0 and "NG" not in cli_output(verify), cli_output(verify)


def test_a_kept_tenants_truncated_chain_is_still_an_alarm_after_a_purge(app, runner, world):
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    assert runner.invoke(args=["tenant", "terminate", GONE["sample"], "--on", jst_today().isoformat(), "--reason", "テスト"]).exit_code == 0
    with time_machine.travel(_tomorrow(), tick=True):
        assert runner.invoke(args=["tenant", "purge-expired", "--reason", "テスト"]).exit_code == 0
        with app.app_context():
            table = AuditEvent.__table__
            kept = world[KEPT["sample"]]
            last = db.session.execute(sa.select(sa.func.max(table.c.seq)).where(table.c.chain_id == kept)).scalar_one()
            db.session.execute(table.delete().where(table.c.chain_id == kept, table.c.seq == last))
            db.session.commit()
        verify = runner.invoke(args=["audit", "verify"])
        assert verify.exit_code == 1
        assert f"テナント {KEPT['sample']} の監査ログが切り詰められています" in cli_output(verify)
        assert f"テナント {GONE['sample']}（id {world[GONE['sample']]}）の監査ログは契約終了により" in verify.output


def test_a_failing_tenant_is_rolled_back_and_reported_and_the_others_still_go(app, runner, world, monkeypatch):
    for code in GONE.values():
        assert runner.invoke(args=["tenant", "terminate", code, "--on", jst_today().isoformat(), "--reason", "テスト"]).exit_code == 0
    real = purge.plugin_manager

    class _Hooks:
        @staticmethod
        def purge_tenant(tenant):
            if tenant.code == GONE["mama"]:
                raise OSError("upload directory not removable")
            return real().hook.purge_tenant(tenant=tenant)

    class _Manager:
        hook = _Hooks()

    monkeypatch.setattr(purge, "plugin_manager", lambda: _Manager())
    from tests.plugins import sample_product

    sample_product.PURGED.clear()
    with time_machine.travel(_tomorrow(), tick=True):
        with app.app_context():
            before = _rows([world[GONE["mama"]]])
        result = runner.invoke(args=["tenant", "purge-expired", "--reason", "テスト"])
        assert result.exit_code == 1
        assert f"NG: {GONE['mama']}（mama）の削除に失敗しました" in cli_output(result)
        assert "OSError: upload directory not removable" in cli_output(result)
        with app.app_context():
            assert _rows([world[GONE["mama"]]]) == before  # rolled back: every row, not purged
            assert _tenant(GONE["mama"]).purged_at is None
            assert _tenant(GONE["sample"]).purged_at is not None and _tenant(GONE["jucho"]).purged_at is not None
        assert sorted(sample_product.PURGED) == [GONE["jucho"], GONE["sample"]]  # the hook has its caller (every tenant)

        monkeypatch.setattr(purge, "plugin_manager", real)
        retry = runner.invoke(args=["tenant", "purge-expired", "--reason", "テスト"])
        assert retry.exit_code == 0 and f"{GONE['mama']}（mama）" in retry.output
        with app.app_context():
            assert _tenant(GONE["mama"]).status == "purged"


def test_terminate_refuses_a_date_before_the_contract_start_and_confirms_a_past_one(app, runner):
    with app.app_context():
        create_tenant(code="old-co", name="旧株式会社", product="sample", contract_start="2026-01-05",
                      contract_end="2099-12-31", admin_login="admin", admin_email="admin@old.example.jp")
    result = runner.invoke(args=["tenant", "terminate", "old-co", "--on", "2026-01-04", "--reason", "テスト"])
    assert result.exit_code == 2 and "契約開始日 2026-01-05 より前です" in cli_output(result)
    result = runner.invoke(args=["tenant", "terminate", "old-co", "--on", "2026-13-01", "--reason", "テスト"])
    assert result.exit_code == 2 and "YYYY-MM-DD 形式の日付ではありません" in cli_output(result)
    result = runner.invoke(args=["tenant", "terminate", "nobody", "--on", "2026-02-01", "--reason", "テスト"])
    assert result.exit_code == 2

    past = (jst_today() - timedelta(days=1)).isoformat()
    declined = runner.invoke(args=["tenant", "terminate", "old-co", "--on", past, "--reason", "テスト"], input="n\n")
    assert declined.exit_code == 1 and "過去の日付です" in declined.output
    with app.app_context():
        assert _tenant("old-co").contract_end.isoformat() == "2099-12-31"
    accepted = runner.invoke(args=["tenant", "terminate", "old-co", "--on", past, "--reason", "テスト"], input="y\n")
    assert accepted.exit_code == 0, cli_output(accepted)
    with app.app_context():
        tenant = _tenant("old-co")
        assert tenant.contract_end.isoformat() == past and tenant.contract_over
        with tenant_scope(tenant):
            event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "tenant.terminate")).scalar_one()
        details = json.loads(event.details)
        assert details == {"before": {"contract_end": "2099-12-31"}, "after": {"contract_end": past}}
    assert runner.invoke(args=["tenant", "terminate", "old-co", "--on", "2026-03-01", "--yes", "--reason", "テスト"]).exit_code == 0


def test_a_purged_tenant_cannot_be_terminated_again(app, runner, make_tenant):
    make_tenant("short-co")
    assert runner.invoke(args=["tenant", "terminate", "short-co", "--on", jst_today().isoformat(), "--reason", "テスト"]).exit_code == 0
    with time_machine.travel(_tomorrow(), tick=True):
        assert runner.invoke(args=["tenant", "purge-expired", "--operator", "ops", "--reason", "テスト"]).exit_code == 0
        result = runner.invoke(args=["tenant", "terminate", "short-co", "--on", "2099-01-01", "--yes", "--reason", "テスト"])
        assert result.exit_code == 2 and "削除済み" in cli_output(result)


def test_purge_covers_every_table_with_a_tenant_id_and_the_scoped_models():
    """tenant_tables() lists every table with a tenant_id (children first) and their key-only children."""
    from app import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "KANRI_ENV": "testing",
                      "SECRET_KEY": "x" * 48, "KANRI_PLUGINS": "mama,jucho,tests.plugins.sample_product"})
    with app.app_context():
        names = [table.name for table, _, _ in purge.tenant_tables()]
        with_tenant = {t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c} - {"purge_receipts"}
        assert with_tenant <= set(names) and "mail_attempts" in names
        assert "tenants" not in names and "purge_receipts" not in names
        assert names.index("mail_attempts") < names.index("mail_outbox")
        assert names.index("jucho_buildings") < names.index("jucho_associations")
        assert names.index("user_sessions") < names.index("users")
