"""MAMA's operator commands: a registration code for a user, and sample associations for a demo."""
from __future__ import annotations

import random

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from app.cli import user_or_fail
from app.extensions import db
from app.models import Tenant
from app.operator import operator_command, operator_name, record_access
from app.tenancy import tenant_scope
from app.timeutil import jst_today

from . import PRODUCT, devices
from .models import MamaAssociation

mama_cli = AppGroup("mama", help="MAMAシステムの操作")

_AREAS = (("東京都", "新宿区", "160-0023"), ("東京都", "世田谷区", "154-0004"), ("神奈川県", "横浜市港北区", "222-0033"),
          ("埼玉県", "さいたま市浦和区", "330-0062"), ("千葉県", "船橋市", "273-0005"), ("大阪府", "大阪市北区", "530-0001"))
_NAMES = (("グランメゾン", "グランメゾン"), ("パークハイツ", "パークハイツ"), ("サンライズ", "サンライズ"),
          ("リバーサイド", "リバーサイド"), ("ライオンズマンション", "ライオンズマンション"), ("コスモ", "コスモ"))
_PLACES = (("新宿", "シンジュク"), ("世田谷", "セタガヤ"), ("港北", "コウホク"), ("浦和", "ウラワ"), ("船橋", "フナバシ"),
           ("梅田", "ウメダ"))  # one per area above


def _mama_tenant(code: str) -> Tenant:
    tenant = Tenant.by_code(code)
    if not PRODUCT.owns(tenant):
        raise click.UsageError(f"会社コード {code!r} のMAMAシステムのテナントはありません。")
    return tenant


@click.command("device-code")
@with_appcontext
@click.option("--tenant", "tenant_code", required=True, help="会社コード")
@click.option("--login", "login_id", required=True, help="ログインID")
@operator_command
def device_code(tenant_code, login_id, reason, operator):
    """MAMA のユーザーに1回限りの端末登録コード（24時間有効）を発行します（例: 端末をすべて失った管理者）。"""
    tenant = _mama_tenant(tenant_code)
    operator = operator_name(operator)
    with tenant_scope(tenant):
        user = user_or_fail(tenant, login_id)
        code = devices.issue_code(user, operator)
        record_access(tenant, "user device-code", reason, operator, login_id=login_id,
                      valid_hours=devices.CODE_HOURS)
        db.session.commit()
    click.echo(f"{tenant.code} / {login_id} の端末登録コード（{devices.CODE_HOURS}時間有効・1回限り・この一度だけ表示）: {code}")


_DIGIT_KANA = {1: "イチ", 2: "ニ", 3: "サン", 4: "ヨン", 5: "ゴ", 6: "ロク", 7: "ナナ", 8: "ハチ", 9: "キュウ"}
_UNIT_KANA = {1000: "セン", 100: "ヒャク", 10: "ジュウ"}
_SOUND_CHANGES = {(1, 1000): "セン", (3, 1000): "サンゼン", (8, 1000): "ハッセン", (1, 100): "ヒャク",
                  (3, 100): "サンビャク", (6, 100): "ロッピャク", (8, 100): "ハッピャク", (1, 10): "ジュウ"}


def _kana_below_10000(number: int) -> str:
    out = ""
    for unit in (1000, 100, 10):
        digit, number = divmod(number, unit)
        if digit:
            out += _SOUND_CHANGES.get((digit, unit), _DIGIT_KANA[digit] + _UNIT_KANA[unit])
    return out + _DIGIT_KANA.get(number, "")


def kana_number(number: int) -> str:
    """The reading of a positive number in katakana (第12 → ジュウニ): フリガナ may not contain digits."""
    man, rest = divmod(number, 10000)
    return (_kana_below_10000(man) + "マン" if man else "") + _kana_below_10000(rest)


def sample_association(number: int, rng: random.Random) -> MamaAssociation:
    """A plausible sample association numbered number (for demos and load tests)."""
    area = (number // len(_NAMES)) % len(_AREAS)
    prefecture, city, postal = _AREAS[area]
    (brand, brand_kana), (place, place_kana) = _NAMES[number % len(_NAMES)], _PLACES[area]
    return MamaAssociation(
        code=f"A{number:05d}", name=f"{brand}{place}第{number}管理組合",
        name_kana=f"{brand_kana}{place_kana}ダイ{kana_number(number)}カンリクミアイ", postal_code=postal, prefecture=prefecture,
        city=city, address_line=f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
        building_name=f"{brand}{place}", units=rng.randint(12, 400), building_year=rng.randint(1970, jst_today().year),
        fiscal_start_month=rng.choice((1, 4, 7, 10)), contact_name=f"理事長 {number}",
        contact_phone=f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        contact_email=f"rijicho{number}@example.jp",
    )


def add_sample_associations(count: int) -> int:
    """Add count sample associations to the current tenant (codes after the highest sample code)."""
    # Sample data for a demo, not a secret: a seeded, repeatable generator is what we want.
    rng = random.Random(count)  # noqa: S311  # nosec B311
    taken = set(db.session.execute(sa.select(MamaAssociation.code).where(MamaAssociation.code.like("A%"))).scalars())
    number, added = 0, 0
    while added < count:
        number += 1
        if f"A{number:05d}" in taken:
            continue
        db.session.add(sample_association(number, rng))
        added += 1
        if added % 500 == 0:
            db.session.flush()
    return added


@mama_cli.command("seed")
@click.option("--tenant", "tenant_code", required=True, help="会社コード")
@click.option("--count", default=30, show_default=True, type=click.IntRange(1, 50_000), help="作成する件数")
@operator_command
def seed(tenant_code, count, reason, operator):
    """MAMA のテナントにサンプルの管理組合を追加します（既存のサンプルの続きのコードで）。"""
    tenant = _mama_tenant(tenant_code)
    with tenant_scope(tenant):
        add_sample_associations(count)
        record_access(tenant, "mama seed", reason, operator_name(operator), added=count)
        db.session.commit()
    click.echo(f"{tenant.code} にサンプルの管理組合を{count}件登録しました。")
