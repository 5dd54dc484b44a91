"""Configuration: development defaults, production refusals with a one-line reason."""
import pytest

from app import create_app
from app.config import ConfigError


def _production(base_config, tmp_path, **overrides):
    keyset = tmp_path / "missing.json"
    config = {**base_config, "KANRI_ENV": "production", "DEBUG": False, "KANRI_BASE_URL": "https://kanri.example.jp",
              "SECRET_KEY": "p" * 12 + "-a-long-random-production-secret-value", **overrides}
    if overrides.get("KANRI_KEYSET_FILE") == "missing":
        config["KANRI_KEYSET_FILE"] = str(keyset)
    return config


@pytest.mark.parametrize("overrides,reason", [
    ({"DEBUG": True}, "DEBUG"),
    ({"SECRET_KEY": None}, "SECRET_KEY is missing"),
    ({"SECRET_KEY": "changeme"}, "default or short"),
    ({"SECRET_KEY": "short-key"}, "default or short"),
    ({"KANRI_KEYSET_FILE": "missing"}, "keysets are missing"),
])
def test_production_refuses_unsafe_settings(base_config, tmp_path, overrides, reason):
    with pytest.raises(ConfigError) as error:
        create_app(_production(base_config, tmp_path, **overrides))
    message = str(error.value)
    assert reason in message and "\n" not in message


def test_production_starts_with_safe_settings(base_config, tmp_path):
    app = create_app(_production(base_config, tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_generates_secret_and_keyset_once(base_config, tmp_path, monkeypatch):
    monkeypatch.setenv("KANRI_INSTANCE_PATH", str(tmp_path))
    config = {**base_config, "SECRET_KEY": None, "KANRI_KEYSET_FILE": str(tmp_path / "keyset.json"),
              "KANRI_ENV": "development"}
    first = create_app(config)
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] and len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keyset.json").stat().st_mode & 0o777 == 0o600
    assert first.extensions["kanri_keyset"].keys == second.extensions["kanri_keyset"].keys


def test_environment_variables_are_read(monkeypatch, tmp_path):
    from app.config import from_environment

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("BCRYPT_ROUNDS", "13")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("KANRI_PLUGINS", "mama")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.jp")
    monkeypatch.setenv("KANRI_COOKIE_SECURE", "true")
    settings = from_environment(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["BCRYPT_ROUNDS"] == 13
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert settings["KANRI_PLUGINS"] == "mama"
    assert settings["MAIL_SUPPRESS_SEND"] is False and settings["KANRI_MAIL_CONSOLE"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_bad_integer_setting_is_a_clear_error(monkeypatch, tmp_path):
    from app.config import from_environment

    monkeypatch.setenv("BCRYPT_ROUNDS", "twelve")
    with pytest.raises(ConfigError, match="BCRYPT_ROUNDS must be an integer"):
        from_environment(str(tmp_path))
