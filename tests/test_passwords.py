"""Password hashing and policy (SECURITY-BASELINE: Passwords)."""
import bcrypt
import pytest

from app.passwords import (
    TEMPORARY_LENGTH,
    generate_temporary_password,
    hash_password,
    policy_errors,
    verify_password,
)


def test_hash_is_bcrypt_at_configured_cost(app):
    with app.app_context():
        hashed = hash_password("a long and unusual passphrase")
    assert hashed.startswith("$2b$04$")  # tests run at cost 4; production default is 12


def test_default_cost_is_12(base_config):
    from app import create_app

    config = {k: v for k, v in base_config.items() if k != "BCRYPT_ROUNDS"}
    app = create_app(config)
    assert app.config["BCRYPT_ROUNDS"] == 12


def test_no_truncation_beyond_72_bytes(app):
    base = "あ" * 30  # 90 bytes in UTF-8: bcrypt alone would ignore the tail
    with app.app_context():
        hashed = hash_password(base + "tail-one")
        assert verify_password(base + "tail-one", hashed)
        assert not verify_password(base + "tail-two", hashed)


def test_pepper_is_applied(app):
    """The stored hash is not a plain bcrypt of the password: a stolen table needs the pepper too."""
    with app.app_context():
        hashed = hash_password("pepper check passphrase")
    assert not bcrypt.checkpw(b"pepper check passphrase", hashed.encode())


def test_unicode_is_nfkc_normalised(app):
    with app.app_context():
        hashed = hash_password("ＡＢＣパスワード長い文章です")  # full-width letters
        assert verify_password("ABCパスワード長い文章です", hashed)


@pytest.mark.parametrize("password,expected", [
    ("short", "12文字以上"),
    ("x" * 129, "128文字以内"),
    ("password1234", "よく使われる"),
    ("aaaaaaaaaaaaaaaa", "繰り返し"),
])
def test_policy_rejects_with_japanese_reason(app, password, expected):
    with app.app_context():
        errors = policy_errors(password)
    assert errors and expected in errors[0]


def test_policy_rejects_context_words(app):
    with app.app_context():
        errors = policy_errors("my-acme-corp-admin-2026!", ["acme-corp", "yamada"])
    assert errors and "推測されやすい語" in errors[0]


def test_policy_accepts_long_passphrase_without_composition_rules(app):
    with app.app_context():
        assert policy_errors("correct horse battery staple") == []
        assert policy_errors("すいかとめろんとぶどうをたべる") == []
        assert policy_errors("z" * 2 + "q8!Kd#2m@Lp0vX") == []


def test_policy_bounds_are_12_and_128(app):
    with app.app_context():
        assert policy_errors("Kq8#mZ2@pL0v") == []  # exactly 12, random
        assert "12文字以上" in policy_errors("Kq8#mZ2@pL0")[0]


def test_temporary_passwords_are_random_and_long():
    values = {generate_temporary_password() for _ in range(200)}
    assert len(values) == 200
    assert TEMPORARY_LENGTH >= 16
    assert all(len(v) >= TEMPORARY_LENGTH for v in values)
