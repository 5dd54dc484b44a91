"""Operator commands: tenant create/list/suspend/resume, user unlock, demo."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User, UserSession
from app.passwords import verify_password
from app.tenancy import all_tenants, tenant_scope
from app.timeutil import jst_today, utcnow
from tests.conftest import PASSWORD, cli_output, login, password_step

CREATE = ["tenant", "create", "--code", "newco", "--name", "新会社株式会社", "--product", "sample",
          "--contract-end", "2099-12-31", "--admin-login", "boss", "--admin-email", "boss@newco.example.jp"]


def _with(args: list[str], **changes: str) -> list[str]:
    args = list(args)
    for option, value in changes.items():
        flag = "--" + option.replace("_", "-")
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
                     for t in ("tenants", "users", "audit_events"))




def test_tenant_create(app, runner, client):
    result = runner.invoke(args=CREATE)
    assert result.exit_code == 0, cli_output(result)
    match = re.search(r"仮パスワード.*: (\S+)$", result.output, re.MULTILINE)
    assert match, result.output
    temporary = match.group(1)
    assert len(temporary) >= 16
    assert result.output.count(temporary) == 1
    assert "サンプル: boss の準備ができました" in result.output
    assert "newco" in result.output and "2099-12-31" in result.output

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "newco")).scalar_one()
        assert (tenant.name, tenant.product, tenant.status) == ("新会社株式会社", "sample", "active")
        assert tenant.contract_start == jst_today() and tenant.contract_end.isoformat() == "2099-12-31"
        with tenant_scope(tenant):
            admin = db.session.execute(sa.select(User)).scalar_one()
            assert (admin.login_id, admin.role, admin.email) == ("boss", "admin", "boss@newco.example.jp")
            assert admin.must_change_password
            assert timedelta(hours=71) < admin.temp_password_expires_at - utcnow() <= timedelta(hours=72)
            assert verify_password(temporary, admin.password_hash)
        audit_text = str(db.session.execute(sa.text("SELECT * FROM audit_events")).all())
        assert temporary not in audit_text and "tenant.create" in audit_text

    # the temporary password works once and forces the change screen first
    response = login(client, "newco", "boss", temporary)
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/").headers["Location"].endswith("/account/password")


def test_tenant_create_normalises_code_and_accepts_a_start_date(app, runner):
    result = runner.invoke(args=_with(CREATE, code="  NewCo2 ", contract_start="2030-04-01"))
    assert result.exit_code == 0, cli_output(result)
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "newco2")).scalar_one()
        assert tenant.contract_start.isoformat() == "2030-04-01"


BAD_INPUT = {
    "code with symbols": ({"code": "bad_co!"}, "会社コード"),
    "code too short": ({"code": "ab"}, "会社コード"),
    "duplicate code": ({"code": "taken"}, "既に使われています"),
    "unknown product": ({"product": "nosuch"}, "製品"),
    "contract end not a date": ({"contract_end": "2099-13-45"}, "契約終了日"),
    "contract end in words": ({"contract_end": "next year"}, "契約終了日"),
    "contract end in the past": ({"contract_end": "2001-01-01"}, "契約終了日"),
    "contract in the past": ({"contract_start": "2000-04-01", "contract_end": "2001-03-31"}, "過去"),
    "contract start not a date": ({"contract_start": "2026/04/01"}, "契約開始日"),
    "end before start": ({"contract_start": "2099-06-01", "contract_end": "2099-05-31"}, "契約開始日より後"),
    "login id too short": ({"admin_login": "ab"}, "ログインID"),
    "login id with space": ({"admin_login": "bad login"}, "ログインID"),
    "bad email": ({"admin_email": "not-an-email"}, "メールアドレス"),
    "email without domain": ({"admin_email": "boss@"}, "メールアドレス"),
    "blank name": ({"name": "   "}, "会社名"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_tenant_create_bad_input(app, runner, make_tenant, case):
    make_tenant("taken")
    before = _counts(app)
    changes, message = BAD_INPUT[case]
    result = runner.invoke(args=_with(CREATE, **changes))
    assert result.exit_code == 2, cli_output(result)
    assert message in cli_output(result)
    assert "仮パスワード" not in result.output
    assert _counts(app) == before


def test_tenant_list(app, runner, make_tenant):
    result = runner.invoke(args=["tenant", "list"])
    assert result.exit_code == 0 and "テナントはありません" in result.output
    make_tenant("alpha-co")
    make_tenant("beta-co")
    runner.invoke(args=["tenant", "suspend", "beta-co", "--reason", "テスト"])
    result = runner.invoke(args=["tenant", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    alpha = next(line for line in lines if line.startswith("alpha-co"))
    beta = next(line for line in lines if line.startswith("beta-co"))
    assert "sample" in alpha and "有効" in alpha and "2099-12-31" in alpha and "alpha-co 株式会社" in alpha
    assert "停止" in beta
    assert lines.index(alpha) < lines.index(beta)


def test_suspend_blocks_login_and_live_sessions_then_resume(app, runner, make_tenant):
    make_tenant("susp-co")
    live = app.test_client()
    login(live, "susp-co", "admin")
    assert live.get("/").status_code == 200

    result = runner.invoke(args=["tenant", "suspend", "susp-co", "--reason", "テスト"])
    assert result.exit_code == 0 and "susp-co" in result.output

    # the live session stops working on its next request and is ended on the server
    response = live.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context(), all_tenants():
        record = db.session.execute(sa.select(UserSession)).scalar_one()
        assert record.ended_at is not None and record.end_reason == "account_unavailable"

    # the right password is refused with the suspension message; no pending login
    fresh = app.test_client()
    response = password_step(fresh, "susp-co", "admin", PASSWORD)
    assert response.status_code == 200
    assert "ご契約が停止されている" in response.get_data(as_text=True)
    assert fresh.get("/sample/confirm").status_code == 302
    # a wrong password gets only the generic message (suspension is told only to who knows the password)
    response = password_step(fresh, "susp-co", "admin", "wrong password " * 2)
    assert "ご契約が停止されている" not in response.get_data(as_text=True)

    result = runner.invoke(args=["tenant", "resume", "susp-co", "--reason", "テスト"])
    assert result.exit_code == 0
    assert login(fresh, "susp-co", "admin").status_code == 302
    assert fresh.get("/").status_code == 200
    with app.app_context():
        actions = db.session.execute(sa.text("SELECT action FROM audit_events")).scalars().all()
    assert "tenant.suspend" in actions and "tenant.resume" in actions


def test_suspend_unknown_tenant(runner):
    result = runner.invoke(args=["tenant", "suspend", "ghost-co", "--reason", "テスト"])
    assert result.exit_code == 2 and "ghost-co" in cli_output(result)


def test_user_unlock(app, runner, make_tenant, add_user):
    make_tenant("lock-co")
    add_user("lock-co", "staff")
    client = app.test_client()
    for i in range(10):
        password_step(client, "lock-co", "staff", f"wrong password number {i}")
    response = password_step(client, "lock-co", "staff", PASSWORD)
    assert response.status_code == 200  # locked: the right password is refused

    result = runner.invoke(args=["user", "unlock", "--tenant", "lock-co", "--login", "staff", "--reason", "テスト"])
    assert result.exit_code == 0, cli_output(result)
    assert "lock-co" in result.output and "staff" in result.output
    assert login(client, "lock-co", "staff").status_code == 302
    with app.app_context():
        assert "account.unlock" in db.session.execute(sa.text("SELECT action FROM audit_events")).scalars().all()


@pytest.mark.parametrize("tenant_code,login_id,message", [("ghost-co", "staff", "ghost-co"),
                                                         ("lock-co", "ghost", "ghost")])
def test_user_unlock_unknown(app, runner, make_tenant, tenant_code, login_id, message):
    make_tenant("lock-co")
    result = runner.invoke(args=["user", "unlock", "--tenant", tenant_code, "--login", login_id, "--reason", "テスト"])
    assert result.exit_code == 2 and message in cli_output(result)


def test_demo_creates_two_tenants_once(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, cli_output(result)
    logins = re.findall(r"ログインID: (\w+)\s+パスワード: (\S+)", result.output)
    assert [login_id for login_id, _ in logins] == ["admin", "staff", "admin", "staff"]
    assert "demo-mama" in result.output and "demo-jucho" in result.output
    # the product is printed once, not repeated in a company name made up of it
    assert "【MAMAシステム】さくら管理サービス株式会社  会社コード: demo-mama" in result.output
    assert "【重調@CITY】みなと住宅管理株式会社  会社コード: demo-jucho" in result.output
    with app.app_context():
        tenants = {t.code: t for t in db.session.execute(sa.select(Tenant)).scalars()}
        assert set(tenants) == {"demo-mama", "demo-jucho"}
        assert (tenants["demo-mama"].product, tenants["demo-jucho"].product) == ("mama", "jucho")
        for index, code in enumerate(("demo-mama", "demo-jucho")):
            with tenant_scope(tenants[code]):
                users = {u.login_id: u for u in db.session.execute(sa.select(User)).scalars()}
                assert {k: u.role for k, u in users.items()} == {"admin": "admin", "staff": "general"}
                for login_id, password in logins[2 * index: 2 * index + 2]:
                    assert verify_password(password, users[login_id].password_hash)
    before = _counts(app)

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, cli_output(again)
    assert "作成済み" in again.output
    assert "パスワード:" not in again.output
    assert _counts(app) == before


def test_the_commands_demo_prints_run_as_printed(app, runner):
    """The device-code and seed commands flask demo suggests work when copied (their --reason included)."""
    import shlex

    result = runner.invoke(args=["demo"])
    suggested = re.findall(r"(?:するには|入れるには): flask (.+)", result.output)
    assert len(suggested) == 2, result.output
    for command in suggested:
        args = shlex.split(command.replace("<ログインID>", "staff").replace("<理由>", "デモ"))
        again = runner.invoke(args=args)
        assert again.exit_code == 0, (command, cli_output(again))


def test_demo_tenants_come_from_the_plugins_with_sample_records(app, runner):
    """Each product seeds its own demo tenant through the demo_tenant hook, lists included."""
    from plugins.jucho.models import JuchoAssociation, JuchoBuilding
    from plugins.mama.models import MamaAssociation

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, cli_output(result)
    with app.app_context():
        tenants = {t.code: t for t in db.session.execute(sa.select(Tenant)).scalars()}
        with tenant_scope(tenants["demo-mama"]):
            assert db.session.execute(sa.select(sa.func.count()).select_from(MamaAssociation)).scalar_one() == 30
        with tenant_scope(tenants["demo-jucho"]):
            buildings = db.session.execute(sa.select(JuchoBuilding)).scalars().all()
            assert len(buildings) == 5 and all(b.association.contact_email for b in buildings)
            assert db.session.execute(sa.select(sa.func.count()).select_from(JuchoAssociation)).scalar_one() == 5


@pytest.mark.config(KANRI_PLUGINS="tests.plugins.sample_product")
def test_demo_without_a_product_offering_one_says_so(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    assert "デモテナントを提供する製品プラグイン" in result.output
