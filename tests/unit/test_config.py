"""Settings: sources and their priority, placeholder secrets, masking. No I/O beyond a TOML file
written to a temp dir."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from sodam.config import FileSettings, Settings

GOOD_KEY = "k" * 32


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SODAM_* variable from the machine running the tests leaks into these settings."""
    for name in list(os.environ):
        if name.startswith("SODAM_"):
            monkeypatch.delenv(name)
    yield


# --- placeholder and weak secrets ----------------------------------------------------------------


@pytest.mark.parametrize("placeholder", ["change-me", "CHANGE-ME", " changeme ", "secret", ""])
def test_placeholder_secret_key_is_refused_in_production(placeholder: str) -> None:
    with pytest.raises(ValidationError, match="secret_key is a placeholder"):
        Settings(secret_key=placeholder)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("admin_password", {"admin_password": "change-me"}),
        ("oidc.client_secret", {"oidc": {"client_secret": "changeme"}}),
        ("s3.secret_access_key", {"s3": {"secret_access_key": "placeholder"}}),
    ],
)
def test_other_placeholder_secrets_are_refused_in_production(
    field: str, value: dict[str, object]
) -> None:
    with pytest.raises(ValidationError, match=f"{field} is a placeholder"):
        Settings(secret_key=GOOD_KEY, **value)


def test_placeholder_secrets_are_accepted_in_development() -> None:
    settings = Settings(
        mode="development",
        secret_key="change-me",
        admin_password="change-me",
        s3={"secret_access_key": "change-me"},
    )
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "change-me"


def test_placeholder_in_the_environment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_SECRET_KEY", "change-me")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(secret_key="k" * 31)
    assert Settings(secret_key="k" * 32).secret_key is not None


def test_unset_secret_key_is_allowed_and_generated_later() -> None:
    assert Settings().secret_key is None


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(secret_key=GOOD_KEY, no_such_setting=1)


# --- sources -------------------------------------------------------------------------------------


def test_defaults_are_the_embedded_shape() -> None:
    settings = Settings()
    assert (settings.mode, settings.host, settings.port) == ("production", "127.0.0.1", 8080)
    assert settings.database_url == "sqlite:///var/sodam.db"
    assert settings.redis.url is None
    assert settings.s3.endpoint_url is None
    assert settings.files_dir == Path("var/files")


def test_file_bodies_can_live_apart_from_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_DATA_DIR", "/srv/sodam")
    monkeypatch.setenv("SODAM_FILES__LOCAL_DIR", "/mnt/files-disk/sodam")
    settings = Settings()
    assert settings.files_dir == Path("/mnt/files-disk/sodam")
    assert settings.database_url == "sqlite:////srv/sodam/sodam.db"


def test_an_empty_local_dir_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_DATA_DIR", "/srv/sodam")
    monkeypatch.setenv("SODAM_FILES__LOCAL_DIR", "")
    assert Settings().files_dir == Path("/srv/sodam/files")


def test_environment_variables_use_the_sodam_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_PORT", "9000")
    monkeypatch.setenv("SODAM_MODE", "development")
    monkeypatch.setenv("SODAM_DATA_DIR", "/srv/sodam")
    monkeypatch.setenv("PORT", "1234")  # no prefix: not ours
    settings = Settings()
    assert (settings.port, settings.mode) == (9000, "development")
    assert settings.database_url == "sqlite:////srv/sodam/sodam.db"


def test_nested_groups_use_double_underscores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_LIMITS__MESSAGE_MAX_CHARS", "500")
    monkeypatch.setenv("SODAM_DATABASE__URL", "postgresql+asyncpg://sodam:pw@db:5432/sodam")
    monkeypatch.setenv("SODAM_AUTH__ACCESS_TOKEN_TTL_S", "300")
    monkeypatch.setenv("SODAM_REDIS__URL", "redis://127.0.0.1:6379/0")
    settings = Settings()
    assert settings.limits.message_max_chars == 500
    assert settings.database_url == "postgresql+asyncpg://sodam:pw@db:5432/sodam"
    assert settings.auth.access_token_ttl_s == 300
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    # Other fields of a group keep their defaults.
    assert settings.limits.page_size_max == 200


def test_out_of_range_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_AUTH__ACCESS_TOKEN_TTL_S", "5")
    with pytest.raises(ValidationError):
        Settings()


def test_toml_file_named_by_sodam_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "sodam.toml"
    config.write_text(
        'port = 8443\nlog_level = "DEBUG"\n\n'
        '[database]\nurl = "postgresql+asyncpg://sodam@db/sodam"\n\n'
        "[limits]\nmessage_max_chars = 2000\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SODAM_CONFIG_FILE", str(config))
    settings = Settings()
    assert (settings.port, settings.log_level) == (8443, "DEBUG")
    assert settings.database_url == "postgresql+asyncpg://sodam@db/sodam"
    assert settings.limits.message_max_chars == 2000


def test_environment_beats_the_file_and_arguments_beat_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "sodam.toml"
    config.write_text("port = 8001\nhost = '127.0.0.2'\n[limits]\nmessage_max_chars = 2000\n")
    monkeypatch.setenv("SODAM_CONFIG_FILE", str(config))
    monkeypatch.setenv("SODAM_PORT", "8002")
    monkeypatch.setenv("SODAM_LIMITS__MESSAGE_MAX_CHARS", "3000")
    assert Settings().port == 8002
    assert Settings().host == "127.0.0.2"
    assert Settings().limits.message_max_chars == 3000
    assert Settings(port=8003).port == 8003


def test_placeholder_secret_in_the_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "sodam.toml"
    config.write_text('secret_key = "change-me"\n')
    monkeypatch.setenv("SODAM_CONFIG_FILE", str(config))
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


# --- masking -------------------------------------------------------------------------------------


def test_masked_hides_the_database_password_and_every_secret() -> None:
    settings = Settings(
        secret_key="s" * 40,
        admin_password="first-admin-password",
        database={"url": "postgresql+asyncpg://sodam:db-password@db:5432/sodam"},
        redis={"url": "redis://:redis-password@cache:6379/0"},
        s3={"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3-secret-value"},
        oidc={"client_secret": "oidc-secret-value"},
    )
    masked = settings.masked()
    text = json.dumps(masked)
    for secret in (
        "s" * 40,
        "first-admin-password",
        "db-password",
        "redis-password",
        "AKIAEXAMPLE",
        "s3-secret-value",
        "oidc-secret-value",
    ):
        assert secret not in text
    assert masked["database"]["url"] == "postgresql+asyncpg://sodam:**********@db:5432/sodam"
    assert masked["redis"]["url"] == "redis://:**********@cache:6379/0"
    # What is not secret stays readable.
    assert masked["port"] == 8080
    assert masked["limits"]["request_body_max_bytes"] == 1024 * 1024


def test_masked_shows_the_default_sqlite_path() -> None:
    assert Settings().masked()["database"]["url"] == "sqlite:///var/sodam.db"


def test_masked_keeps_a_url_without_credentials() -> None:
    settings = Settings(database={"url": "postgresql+asyncpg://db/sodam"})
    assert settings.masked()["database"]["url"] == "postgresql+asyncpg://db/sodam"


def test_masked_hides_a_password_given_as_a_query_parameter() -> None:
    settings = Settings(
        database={"url": "postgresql://sodam@db/sodam?sslmode=require&password=query-secret"}
    )
    masked = settings.masked()["database"]["url"]
    assert "query-secret" not in masked
    assert masked == "postgresql://sodam:**********@db/sodam?sslmode=require&password=**********"


# --- files ---------------------------------------------------------------------------------------


def test_file_settings_defaults() -> None:
    files = Settings().files
    assert files.clamd_url is None
    assert files.scan_max_bytes == 400 * 1024 * 1024
    assert files.download_requires_clean is True
    assert files.thumbnail_sizes == [320, 1280]
    assert files.user_quota_bytes == 20 * 1024**3
    assert files.allowed_extensions == []
    assert files.retention_days is None
    assert (files.scan_retry_s, files.scan_retry_max_s) == (30.0, 1800.0)


def test_file_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAM_FILES__CLAMD_URL", "unix:///run/clamav/clamd.ctl")
    monkeypatch.setenv("SODAM_FILES__ALLOWED_EXTENSIONS", '["PDF", ".hwp", "jpg", "pdf"]')
    monkeypatch.setenv("SODAM_FILES__THUMBNAIL_SIZES", "[256, 1024]")
    files = Settings().files
    assert files.clamd_url == "unix:///run/clamav/clamd.ctl"
    assert files.allowed_extensions == ["hwp", "jpg", "pdf"]
    assert files.thumbnail_sizes == [256, 1024]


@pytest.mark.parametrize(
    "files",
    [
        {"clamd_url": "127.0.0.1:3310"},
        {"clamd_url": "http://clamd:3310"},
        {"clamd_url": "tcp://clamd"},
        {"thumbnail_sizes": [1280, 320]},
        {"thumbnail_sizes": [320]},
        {"thumbnail_sizes": [8, 320]},
        {"image_max_pixels": 200_000_000},
        {"allowed_extensions": ["tar.gz"]},
        {"allowed_extensions": [""]},
        {"scan_timeout_s": 0},
        {"retention_days": 0},
        {"scan_retry_s": 0},
        {"scan_retry_s": 60, "scan_retry_max_s": 30},
    ],
)
def test_bad_file_settings_are_refused(files: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(files=files)


def test_image_max_pixels_bound_is_pillows_own_limit() -> None:
    from PIL import Image

    from sodam.config import PILLOW_MAX_IMAGE_PIXELS

    assert Image.MAX_IMAGE_PIXELS == PILLOW_MAX_IMAGE_PIXELS


@pytest.mark.parametrize("value", [0.5, 9.9])
def test_an_upload_ingest_ceiling_too_low_to_work_is_refused(value: float) -> None:
    with pytest.raises(ValidationError, match="upload_ingest_mb_s must be 0"):
        FileSettings(upload_ingest_mb_s=value)


@pytest.mark.parametrize("value", [0, 10, 160, 2500])
def test_no_ingest_ceiling_or_a_workable_one_is_accepted(value: float) -> None:
    assert FileSettings(upload_ingest_mb_s=value).upload_ingest_mb_s == value
