"""Backups: encrypted snapshots at every site, retention, verify, and the restore drill (SQLite and PostgreSQL).

The drill writes tenants, users and product rows, backs up, changes and deletes, restores, and
compares every table row for row with what was backed up. Damaged copies (a flipped byte, a
truncated file) are named by ``verify`` and refused by ``restore``; a site that cannot be written
is reported, mailed to the operators, and does not stop the other site.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.builtins.lifecycle import backup, stream
from app.extensions import db
from app.models import Tenant, User
from app.tenancy import tenant_scope
from tests.conftest import cli_output
from tests.plugins.sample_product import SampleNote

OPS = "ops@kanri.example.jp"


def _all_rows() -> dict[str, list]:
    """Every row of every table, sorted, as plain tuples (the drill's yardstick)."""
    db.session.remove()
    with db.engine.connect() as connection:
        result = {}
        for name in sorted(sa.inspect(connection).get_table_names()):
            rows = connection.execute(sa.select(sa.table(name, *[sa.column(c["name"]) for c in
                                                                   sa.inspect(connection).get_columns(name)]))).all()
            result[name] = sorted(tuple(map(repr, row)) for row in rows)
        return result


def _seed(app, make_tenant, add_user) -> None:
    make_tenant("acme")
    make_tenant("beta", admin_login="boss")
    add_user("acme", "hanako")
    add_user("beta", "jiro")
    with app.app_context():
        for code in ("acme", "beta"):
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
            with tenant_scope(tenant):
                for number in range(3):
                    db.session.add(SampleNote(title=f"{code} note {number}", body=f"秘密 {code} {number}"))
                db.session.commit()


def _change_everything(app, add_user) -> None:
    add_user("acme", "newcomer")
    with app.app_context():
        acme = db.session.execute(sa.select(Tenant).where(Tenant.code == "acme")).scalar_one()
        with tenant_scope(acme):
            db.session.execute(sa.delete(SampleNote))
            db.session.execute(sa.update(User).where(User.login_id == "hanako").values(failed_logins=7))
            db.session.commit()


def _site_dirs(app) -> list[Path]:
    return [Path(part) for part in app.config["KANRI_BACKUP_SITES"].split(",")]


def _sites(tmp_path) -> str:
    return f"{tmp_path / 'tokyo'},{tmp_path / 'osaka'}"


@pytest.fixture
def sited(app, tmp_path):
    """The app with two fresh directory sites and an operators' address."""
    app.config["KANRI_BACKUP_SITES"] = _sites(tmp_path)
    app.config["KANRI_OPS_EMAIL"] = OPS
    return app


def _run(runner):
    result = runner.invoke(args=["backup", "run"])
    return result, cli_output(result)


def _only_id(site: Path) -> str:
    ids = sorted(name[len("kanri-"):-len(".json")] for name in os.listdir(site) if name.endswith(".json"))
    assert len(ids) == 1, ids
    return ids[0]


# --- the encrypted stream --------------------------------------------------------------------


def test_stream_round_trip_and_every_kind_of_damage_is_refused(tmp_path):
    source = tmp_path / "plain"
    source.write_bytes(os.urandom(50_000) + b"kanri" * 20_000)
    key = stream.generate_key()
    sealed, out = tmp_path / "sealed", tmp_path / "out"
    stream.encrypt_file(source, sealed, key, chunk_size=4096)  # many chunks
    stream.decrypt_file(sealed, out, key)
    assert out.read_bytes() == source.read_bytes()
    assert b"kanri" * 10 not in sealed.read_bytes()
    data = sealed.read_bytes()

    def refused(blob: bytes, with_key: bytes = key) -> str:
        sealed.write_bytes(blob)
        with pytest.raises(stream.BackupCryptoError) as caught:
            stream.decrypt_file(sealed, out, with_key)
        return str(caught.value)

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    assert "damaged" in refused(bytes(flipped))
    assert refused(data[:len(data) - 5000])  # cut inside a chunk
    # cut exactly after a whole chunk: the last remaining chunk is not the final one
    first_length = int.from_bytes(data[stream.HEADER_LENGTH:stream.HEADER_LENGTH + 4], "big")
    assert refused(data[:stream.HEADER_LENGTH + 4 + first_length])
    assert refused(data + data[stream.HEADER_LENGTH:stream.HEADER_LENGTH + 4 + first_length])  # appended
    assert "another backup key" in refused(data, stream.generate_key())
    assert stream.decode_key(stream.encode_key(key)) == key
    with pytest.raises(ValueError):
        stream.decode_key("c2hvcnQ=")


# --- the drill -------------------------------------------------------------------------------


def test_restore_drill_brings_back_exactly_the_backed_up_rows(sited, runner, client, make_tenant, add_user,
                                                              monkeypatch):
    app = sited
    _seed(app, make_tenant, add_user)
    with app.app_context():
        before = _all_rows()
    result, output = _run(runner)
    assert result.exit_code == 0, output
    tokyo, osaka = _site_dirs(app)
    backup_id = _only_id(tokyo)
    assert _only_id(osaka) == backup_id
    manifest = json.loads((tokyo / f"kanri-{backup_id}.json").read_text())
    assert manifest["id"] == backup_id and manifest["created_at"].endswith("+09:00")
    assert manifest["tables"]["sample_notes"] == 6 and manifest["tables"]["users"] == 4
    assert manifest["size"] == (tokyo / f"kanri-{backup_id}.kbk").stat().st_size
    assert {chain["tenant"] for chain in manifest["chains"]} >= {"acme", "beta"}
    assert "秘密".encode() not in (tokyo / f"kanri-{backup_id}.kbk").read_bytes()
    assert oct((tokyo / f"kanri-{backup_id}.kbk").stat().st_mode & 0o777) == "0o600"

    _change_everything(app, add_user)
    with app.app_context():
        assert _all_rows() != before

    seen = []
    original = backup._restore_live

    def restore_while_a_request_arrives(manifest, dump):
        response = client.get("/login")
        seen.append((response.status_code, response.headers.get("Retry-After"), response.get_data(as_text=True)))
        original(manifest, dump)

    monkeypatch.setattr(backup, "_restore_live", restore_while_a_request_arrives)
    refused = runner.invoke(args=["backup", "restore", backup_id, "--reason", "テスト"], input="n\n")
    assert refused.exit_code != 0 and not seen  # no --yes: asks, and "n" changes nothing
    result = runner.invoke(args=["backup", "restore", backup_id, "--yes", "--reason", "障害 #7 からの復旧",
                                 "--operator", "ops-sato"])
    assert result.exit_code == 0, cli_output(result)
    assert seen and seen[0][0] == 503 and seen[0][1] == "300" and "メンテナンス中" in seen[0][2]
    assert not Path(app.config["KANRI_MAINTENANCE_FLAG"]).exists()
    with app.app_context():
        after = _all_rows()
        # Exactly the backed-up rows, plus one event per tenant saying who restored which generation and why.
        assert {k: v for k, v in after.items() if k != "audit_events"} == {
            k: v for k, v in before.items() if k != "audit_events"}
        assert set(before["audit_events"]) <= set(after["audit_events"])
        added = db.session.execute(sa.text(
            "SELECT t.code, e.actor_login, e.details FROM audit_events e JOIN tenants t ON t.id = e.chain_id"
            " WHERE e.action = 'operator.access' ORDER BY t.code")).all()
        assert len(after["audit_events"]) - len(before["audit_events"]) == len(added) == 2
        assert [(code, actor) for code, actor, _ in added] == [("acme", "operator:ops-sato"), ("beta", "operator:ops-sato")]
        for _, _, details in added:
            info = json.loads(details)
            assert info["command"] == "backup restore" and info["reason"] == "障害 #7 からの復旧"
            assert info["backup"] == backup_id and info["backup_created_at"] == manifest["created_at"]
        acme = db.session.execute(sa.select(Tenant).where(Tenant.code == "acme")).scalar_one()
        with tenant_scope(acme):  # encrypted columns decrypt again with the (unchanged) keyset
            assert sorted(note.body for note in db.session.execute(sa.select(SampleNote)).scalars()) == [
                "秘密 acme 0", "秘密 acme 1", "秘密 acme 2"]
    assert client.get("/login").status_code == 200

    verified = runner.invoke(args=["backup", "verify"])
    assert verified.exit_code == 0, cli_output(verified)
    assert cli_output(verified).count("OK:") == 2


def test_a_flipped_byte_or_a_truncated_file_is_found_by_verify_and_refused_by_restore(sited, runner, make_tenant,
                                                                                     add_user):
    app = sited
    _seed(app, make_tenant, add_user)
    assert _run(runner)[0].exit_code == 0
    tokyo, osaka = _site_dirs(app)
    backup_id = _only_id(tokyo)
    data = tokyo / f"kanri-{backup_id}.kbk"
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    data.write_bytes(bytes(blob))
    cut = osaka / f"kanri-{backup_id}.kbk"
    cut.write_bytes(cut.read_bytes()[:-100])

    result = runner.invoke(args=["backup", "verify", backup_id])
    output = cli_output(result)
    assert result.exit_code == 1, output
    assert f"[1] {tokyo}: SHA-256 が一致しません" in output
    assert f"[2] {osaka}: サイズが違います" in output
    assert "復号できません" in output

    _change_everything(app, add_user)
    with app.app_context():
        changed = _all_rows()
    for site in ("1", "2"):
        refused = runner.invoke(args=["backup", "restore", backup_id, "--site", site, "--yes", "--reason", "テスト"])
        assert refused.exit_code == 1
        assert "検証に失敗したため復元しません" in cli_output(refused)
    with app.app_context():
        assert _all_rows() == changed
    assert not Path(app.config["KANRI_MAINTENANCE_FLAG"]).exists()

    # A manifest edited to match different data fails its MAC.
    manifest_file = tokyo / f"kanri-{backup_id}.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["users"] += 1
    manifest_file.write_text(json.dumps(manifest))
    result = runner.invoke(args=["backup", "verify", backup_id, "--site", "1"])
    assert result.exit_code == 1 and "MAC" in cli_output(result)


def test_an_unwritable_site_is_reported_mailed_and_the_other_site_still_gets_the_backup(sited, runner, tmp_path,
                                                                                      make_tenant, outbox, caplog):
    app = sited
    make_tenant("acme")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the site's parent should be")
    app.config["KANRI_BACKUP_SITES"] = f"{blocker / 'tokyo'},{tmp_path / 'osaka'}"
    with caplog.at_level(logging.ERROR, logger="kanri.backup"):
        result, output = _run(runner)
    assert result.exit_code == 1, output
    assert f"NG [1] {blocker / 'tokyo'}" in output
    assert f"OK [2] {tmp_path / 'osaka'}" in output
    _only_id(tmp_path / "osaka")
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "kanri.backup"]
    assert lines and lines[0]["event"] == "backup.failed" and str(tmp_path / "osaka") in lines[0]["written"]
    mails = [message for message in outbox if OPS in message.recipients]
    assert len(mails) == 1 and "バックアップに失敗しました" in mails[0].subject
    assert str(blocker / "tokyo") in mails[0].body and mails[0].html

    listing = runner.invoke(args=["backup", "list"])
    assert listing.exit_code == 1 and "読めません" in cli_output(listing)

    app.config["KANRI_BACKUP_SITES"] = " , "  # nothing could be written at all: reported and mailed too
    result, output = _run(runner)
    assert result.exit_code == 1 and "バックアップ先がありません" in output
    assert len([message for message in outbox if OPS in message.recipients]) == 2


def test_each_site_keeps_seven_generations_and_list_flags_a_missing_one(sited, runner, make_tenant):
    app = sited
    make_tenant("acme")
    for _ in range(8):
        result, output = _run(runner)
        assert result.exit_code == 0, output
    assert "古い世代を削除" in output
    for site in _site_dirs(app):
        names = sorted(os.listdir(site))
        assert len(names) == 14, names  # 7 generations × (data + manifest)
    tokyo, osaka = _site_dirs(app)
    ids = sorted(name[6:-5] for name in os.listdir(tokyo) if name.endswith(".json"))
    listing = runner.invoke(args=["backup", "list"])
    assert listing.exit_code == 0, cli_output(listing)
    assert all(backup_id in listing.output for backup_id in ids)

    (osaka / f"kanri-{ids[2]}.kbk").unlink()
    (osaka / f"kanri-{ids[2]}.json").unlink()
    listing = runner.invoke(args=["backup", "list"])
    assert listing.exit_code == 1
    flagged = [line for line in listing.output.splitlines() if "にありません" in line]
    assert len(flagged) == 1 and flagged[0].startswith(ids[2]) and "バックアップ先 2" in flagged[0]
    result = runner.invoke(args=["backup", "verify", ids[2], "--site", "2"])
    assert result.exit_code == 1 and "この世代がありません" in cli_output(result)

    for hostile in ("../../etc/passwd", "20261130-030000-123456\n"):
        result = runner.invoke(args=["backup", "restore", hostile, "--yes", "--reason", "テスト"])
        assert result.exit_code == 1 and "バックアップ ID の形式が正しくありません" in cli_output(result)
    result = runner.invoke(args=["backup", "verify", ids[0], "--site", "3"])
    assert result.exit_code == 1 and "バックアップ先 3 はありません" in cli_output(result)

    app.config["KANRI_BACKUP_KEY"] = stream.encode_key(stream.generate_key())  # the key was changed
    result = runner.invoke(args=["backup", "verify", ids[-1], "--site", "1"])
    assert result.exit_code == 1 and "別のバックアップ鍵で暗号化されています" in cli_output(result)


def test_the_maintenance_flag_answers_503_in_japanese_with_retry_after(app, client):
    flag = Path(app.config["KANRI_MAINTENANCE_FLAG"])
    flag.write_text("{}")
    try:
        response = client.get("/login")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "300"
        assert "ただいまメンテナンス中です" in response.get_data(as_text=True)
        assert client.get("/healthz").status_code == 503
    finally:
        flag.unlink()
    assert client.get("/login").status_code == 200


def test_production_requires_a_backup_key_apart_from_the_keyset(base_config, tmp_path):
    from app import create_app
    from app.config import ConfigError

    production = {**base_config, "KANRI_ENV": "production", "DEBUG": False, "KANRI_BASE_URL": "https://kanri.example.jp",
                  "SECRET_KEY": "p" * 12 + "-a-long-random-production-secret-value"}
    with pytest.raises(ConfigError, match="バックアップ鍵がありません"):
        create_app({**production, "KANRI_BACKUP_KEY_FILE": str(tmp_path / "absent.key")})
    with pytest.raises(ConfigError, match="鍵セットとは別"):
        create_app({**production, "KANRI_BACKUP_KEY_FILE": base_config["KANRI_KEYSET_FILE"]})
    create_app({**production, "KANRI_BACKUP_KEY_FILE": str(tmp_path / "absent.key"),
                "KANRI_BACKUP_KEY": stream.encode_key(stream.generate_key())})


# --- an S3 site ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's standalone S3 server on a free loopback port, with a bucket in ap-northeast-1."""
    server_module = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="ap-northeast-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # noqa: S106 - moto's dummy keys
    client.create_bucket(Bucket="kanri-backups", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    yield endpoint, client
    server.stop()


def test_an_s3_site_gets_every_generation_and_verifies(sited, runner, tmp_path, make_tenant, add_user, s3_endpoint,
                                                       monkeypatch):
    endpoint, client = s3_endpoint
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    app = sited
    app.config["KANRI_BACKUP_SITES"] = f"{tmp_path / 'tokyo'},s3://kanri-backups/daily?region=ap-northeast-1"
    app.config["KANRI_BACKUP_S3_ENDPOINT"] = endpoint
    app.config["KANRI_BACKUP_GENERATIONS"] = 2
    _seed(app, make_tenant, add_user)
    for _ in range(3):
        result, output = _run(runner)
        assert result.exit_code == 0, output
    keys = sorted(item["Key"] for item in client.list_objects_v2(Bucket="kanri-backups", Prefix="daily/")["Contents"])
    assert len(keys) == 4 and all(key.startswith("daily/kanri-") for key in keys)
    listing = runner.invoke(args=["backup", "list"])
    assert listing.exit_code == 0, cli_output(listing)
    assert "s3://kanri-backups/daily" in listing.output
    result = runner.invoke(args=["backup", "verify", "--site", "2"])
    assert result.exit_code == 0, cli_output(result)
    assert "[2] s3://kanri-backups/daily" in result.output

    newest = [key for key in keys if key.endswith(".json")][-1][len("daily/kanri-"):-len(".json")]
    _change_everything(app, add_user)
    result = runner.invoke(args=["backup", "restore", newest, "--site", "2", "--yes", "--reason", "テスト"])
    assert result.exit_code == 0, cli_output(result)

    app.config["KANRI_BACKUP_SITES"] = f"{tmp_path / 'tokyo'},s3://no-such-bucket/x?region=ap-northeast-1"
    result, output = _run(runner)
    assert result.exit_code == 1 and "NG [2] s3://no-such-bucket/x" in output and "NoSuchBucket" in output
