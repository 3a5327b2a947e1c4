"""The one Settings model.

Built once in ``__main__`` (or by a test) and passed down explicitly; nothing reads the
environment at import time. Sources, highest priority first: keyword arguments, ``SODAM_*``
environment variables (nested groups use ``__``, e.g. ``SODAM_LIMITS__MESSAGE_MAX_CHARS``), the
TOML file named by ``SODAM_CONFIG_FILE``, then the embedded defaults (SQLite and local disk under
``./var``).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

_QUERY_PASSWORD_RE = re.compile(r"(?i)([?&]password=)[^&]*")
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "placeholder", "sodam"})
ATTACHMENT_MAX_BYTES_DEFAULT = 300 * 1024 * 1024


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:5432/sodam or sqlite:///path/sodam.db. "
        "Default: SQLite at <data_dir>/sodam.db.",
    )
    pool_size: int = Field(default=10, ge=1, le=200)
    statement_timeout_s: float = Field(default=10.0, gt=0)
    migrate_on_start: bool = True
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="FULL: an acknowledged commit survives power loss (see ADR 0002).",
    )


class RedisSettings(BaseModel):
    url: str | None = Field(default=None, description="redis://host:port/db; unset = in-memory bus")
    key_prefix: str = "sodam:"


class S3Settings(BaseModel):
    endpoint_url: str | None = Field(
        default=None,
        description="e.g. http://minio:9000; unset (and no bucket set) = local disk under "
        "files.local_dir (default data_dir/files)",
    )
    bucket: str = Field(
        default="sodam", description="setting it without endpoint_url uses AWS S3 itself"
    )
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    presigned_downloads: bool = False
    presign_expiry_s: int = Field(default=300, ge=10, le=3600)
    public_endpoint_url: str | None = Field(
        default=None,
        description="the S3 address browsers reach, for presigned downloads; unset = endpoint_url",
    )
    part_size_mb: int = Field(
        default=8,
        ge=5,
        le=512,
        description="multipart part size in MiB (S3 needs at least 5); an app node holds about "
        "two parts per upload in progress",
    )
    create_bucket: bool = Field(
        default=False, description="create the bucket on first use (development, tests)"
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, le=60)
    read_timeout_s: float = Field(default=60.0, gt=0, le=600)
    max_attempts: int = Field(default=3, ge=1, le=10, description="tries per S3 request")

    @property
    def enabled(self) -> bool:
        """Whether files go to S3: an endpoint is set, or the bucket was chosen explicitly."""
        return self.endpoint_url is not None or "bucket" in self.model_fields_set


class OidcSettings(BaseModel):
    issuer: str | None = Field(
        default=None, description="OpenID Connect issuer; unset = local accounts only"
    )
    client_id: str | None = None
    client_secret: SecretStr | None = None


class AuthSettings(BaseModel):
    access_token_ttl_s: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_s: int = Field(default=30 * 86_400, ge=300)
    token_leeway_s: int = Field(default=30, ge=0, le=600)
    login_max_failures_per_account: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_window_s: int = Field(default=900, ge=1)
    password_min_length: int = Field(default=10, ge=8, le=256)


class LimitSettings(BaseModel):
    message_max_chars: int = Field(default=10_000, ge=1, le=100_000)
    attachment_max_bytes: int = Field(default=ATTACHMENT_MAX_BYTES_DEFAULT, ge=1)
    edit_window_s: int = Field(default=24 * 3600, ge=0)
    unsend_window_s: int = Field(default=24 * 3600, ge=0)
    request_body_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    page_size_max: int = Field(default=200, ge=1, le=1000)


MiB = 1024 * 1024
# Pillow's own decompression-bomb threshold (PIL.Image.MAX_IMAGE_PIXELS): above it Pillow warns,
# above twice it refuses. Keeping image_max_pixels under it means the two checks never disagree.
PILLOW_MAX_IMAGE_PIXELS = 89_478_485
_CLAMD_URL_RE = re.compile(r"^(tcp://[^/\s]+:\d{1,5}|unix:///\S+)$")
_EXTENSION_RE = re.compile(r"^[a-z0-9][a-z0-9_+-]{0,15}$")


MIN_INGEST_MB_S = 10


class FileSettings(BaseModel):
    """Attachments: virus scanning, thumbnails, quotas and retention (docs/media.md)."""

    local_dir: Path | None = Field(
        default=None,
        description="where file bodies are kept when no S3 store is configured; unset = "
        "<data_dir>/files. A disk of its own keeps the database's commits from queueing behind "
        "upload writes (docs/storage.md)",
    )
    clamd_url: str | None = Field(
        default=None,
        description="clamd address, tcp://127.0.0.1:3310 or unix:///run/clamav/clamd.ctl; "
        "unset = no scanning (files are 'unscanned' with reason scanner_disabled)",
    )
    scan_timeout_s: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="longest one scan may take (connect, stream, scan, answer); on timeout the "
        "file stays pending and is retried",
    )
    scan_retry_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="clamd (or the file store) unreachable: the first delay before the scan is "
        "tried again; it doubles with each attempt up to scan_retry_max_s (the file stays "
        "pending meanwhile)",
    )
    scan_retry_max_s: float = Field(
        default=1800.0,
        gt=0,
        le=86_400,
        description="the longest delay between two scan attempts",
    )
    scan_max_bytes: int = Field(
        default=400 * MiB,
        ge=1,
        description="larger files are never sent to clamd and stay 'unscanned' (too_large); must "
        "not exceed clamd's StreamMaxLength (docs/media.md)",
    )
    download_requires_clean: bool = Field(
        default=True,
        description="with a scanner configured, members other than the uploader may download "
        "a file only once it is scanned clean",
    )
    image_max_pixels: int = Field(
        default=50_000_000,
        ge=1,
        le=PILLOW_MAX_IMAGE_PIXELS,
        description="images declaring more pixels (width x height, read from the header) get no "
        "thumbnail and are never decoded",
    )
    thumbnail_sizes: list[int] = Field(
        default_factory=lambda: [320, 1280],
        min_length=2,
        max_length=2,
        description="longest side in pixels of the small and the large thumbnail",
    )
    ffmpeg_path: str | None = Field(
        default=None,
        description="ffmpeg binary for video poster frames; unset = 'ffmpeg' found on PATH "
        "(none found = videos get no thumbnail)",
    )
    user_quota_bytes: int = Field(
        default=20 * 1024 * MiB, ge=1, description="total size of the files one user may keep"
    )
    upload_bodies: int = Field(
        default=1,
        ge=0,
        le=10_000,
        description="upload request bodies one node reads at full speed at once; more wait "
        "before their first byte (0 = no limit). Keeps the chat responsive while many files arrive "
        "(docs/files.md)",
    )
    upload_requests: int = Field(
        default=4,
        ge=0,
        le=10_000,
        description="requests to the upload endpoints one node handles at once, each until it "
        "starts reading its body, queues for a body slot or answers; more wait for a place "
        "(0 = no limit). Spreads out the burst of many uploads starting together, which halved "
        "the chat's p95 meanwhile (docs/files.md)",
    )
    upload_ingest_mb_s: float = Field(
        default=160,
        ge=0,
        le=1_000_000,
        description="the most upload bytes one node reads per second, all uploads together, in "
        "MB/s (10^6 bytes; 0 = no ceiling, else at least 10). Above it uploads wait, so that they "
        "leave the chat its share of the CPU (docs/files.md)",
    )
    upload_slot_check_s: float = Field(
        default=1.0,
        gt=0,
        le=600,
        description="how often each upload body's rate is checked: one that brought less than "
        "4 MiB/s gives its slot up and reads on without one (slow clients cannot hold the "
        "slots)",
    )
    max_pending_uploads: int = Field(
        default=20, ge=1, le=1000, description="unfinished uploads one user may have at a time"
    )
    upload_expiry_s: int = Field(
        default=24 * 3600,
        ge=60,
        le=30 * 86_400,
        description="an unfinished upload untouched for this long is removed",
    )
    allowed_extensions: list[str] = Field(
        default_factory=list,
        description="file name extensions that may be uploaded, lower-case without dots "
        "(e.g. ['pdf', 'hwp', 'jpg']); empty = all",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="files older than this many days are deleted; unset = kept forever",
    )

    @field_validator("local_dir", mode="before")
    @classmethod
    def _empty_local_dir_is_unset(cls, value: object) -> object:
        # An empty variable (compose files write ``SODAM_FILES__LOCAL_DIR=`` for "unset") would
        # otherwise be Path("."): the files in whatever directory the server was started from.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("clamd_url")
    @classmethod
    def _check_clamd_url(cls, value: str | None) -> str | None:
        if value is not None and not _CLAMD_URL_RE.match(value):
            raise ValueError("clamd_url must be tcp://host:port or unix:///path/to/socket")
        return value

    @field_validator("upload_ingest_mb_s")
    @classmethod
    def _check_ingest_ceiling(cls, value: float) -> float:
        # Lower would make every body "slow" to the slots (below 4 MiB/s) and leave a single
        # chunk owing seconds of wait, longer than proxies and tus HEADs wait.
        if 0 < value < MIN_INGEST_MB_S:
            raise ValueError(f"upload_ingest_mb_s must be 0 (no ceiling) or {MIN_INGEST_MB_S}+")
        return value

    @field_validator("thumbnail_sizes")
    @classmethod
    def _check_thumbnail_sizes(cls, value: list[int]) -> list[int]:
        small, large = value
        if not 16 <= small < large <= 4096:
            raise ValueError(
                "thumbnail_sizes must be [small, large] with 16 <= small < large <= 4096"
            )
        return value

    @field_validator("allowed_extensions")
    @classmethod
    def _normalise_extensions(cls, value: list[str]) -> list[str]:
        normalised = []
        for item in value:
            ext = item.strip().lower().removeprefix(".")
            if not _EXTENSION_RE.match(ext):
                raise ValueError(f"not a file name extension: {item!r}")
            normalised.append(ext)
        return sorted(set(normalised))

    @model_validator(mode="after")
    def _scan_retry_max_not_below_first(self) -> FileSettings:
        if self.scan_retry_max_s < self.scan_retry_s:
            raise ValueError("files.scan_retry_max_s must not be below files.scan_retry_s")
        return self


class RealtimeSettings(BaseModel):
    """WebSocket gateway timings and limits (docs/protocol.md documents each)."""

    auth_timeout_s: float = Field(default=5.0, gt=0, le=60)
    heartbeat_s: float = Field(default=20.0, gt=0, le=300)
    session_check_s: float = Field(default=60.0, gt=0)
    frame_max_bytes: int = Field(default=128 * 1024, ge=1024, le=16 * 1024 * 1024)
    compression: bool = Field(
        default=False,
        description="permessage-deflate: ~45 KiB more memory per socket and one compression per "
        "receiver of every frame; off by default for a company LAN (docs/performance.md)",
    )
    queue_max_frames: int = Field(default=2000, ge=10)
    queue_max_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024)
    ephemeral_max_frames: int = Field(default=500, ge=1)
    pending_max_frames: int = Field(default=1000, ge=1)
    resume_page_size: int = Field(default=200, ge=1, le=500)
    resume_max_events: int = Field(default=1000, ge=1)
    gap_fill_max_events: int = Field(default=1000, ge=1)
    heads_check_s: float = Field(default=5.0, gt=0)
    frames_per_s: float = Field(default=20.0, gt=0)
    frames_burst: int = Field(default=60, ge=1)
    sends_per_s: float = Field(default=5.0, gt=0)
    sends_burst: int = Field(default=30, ge=1)
    max_connections_per_user: int = Field(default=10, ge=1)
    typing_interval_s: float = Field(default=3.0, gt=0)
    read_coalesce_s: float = Field(default=0.25, ge=0)
    presence_refresh_s: float = Field(default=30.0, gt=0)
    presence_watch_max: int = Field(default=500, ge=1)


class JobSettings(BaseModel):
    """Background jobs taken from the ``outbox`` table (docs/jobs.md)."""

    concurrency: int = Field(
        default=2, ge=1, le=64, description="jobs one runner (one process) runs at the same time"
    )
    poll_s: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="how often an idle runner looks for due jobs (a commit in the same process "
        "wakes it at once)",
    )
    lease_s: float = Field(
        default=300.0,
        ge=3,
        le=86_400,
        description="a claimed job belongs to its runner this long; the runner renews the lease "
        "every lease_s/3 while the handler runs, and a job whose runner died is taken again "
        "once it expires",
    )
    max_attempts: int = Field(
        default=10, ge=1, le=1000, description="attempts before a job is dead (dead letter)"
    )
    backoff_base_s: float = Field(
        default=2.0, gt=0, description="delay after the first failed attempt; doubles each time"
    )
    backoff_max_s: float = Field(
        default=3600.0, gt=0, description="the longest delay between tries"
    )
    shutdown_grace_s: float = Field(
        default=20.0,
        ge=0,
        le=3600,
        description="on shutdown, running jobs get this long to finish before they are cancelled "
        "and handed back to the queue",
    )

    @model_validator(mode="after")
    def _backoff_max_not_below_base(self) -> JobSettings:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("jobs.backoff_max_s must not be below jobs.backoff_base_s")
        return self


class Settings(BaseSettings):
    """Every setting Sodam reads. See ``sodam config show`` for the effective values."""

    model_config = SettingsConfigDict(
        env_prefix="SODAM_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    mode: Literal["development", "production"] = Field(
        default="production",
        description="development allows placeholder secrets and verbose errors",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    data_dir: Path = Path("./var")
    public_base_url: str | None = Field(default=None, description="e.g. https://chat.example.co.kr")
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs access tokens; unset = generated once and kept in <data_dir>/secret_key "
        "(several nodes must share one value)",
    )
    admin_password: SecretStr | None = Field(
        default=None, description="password of the first admin; unset = generated and printed once"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="extra Origins allowed for WebSocket handshakes "
        "(the public base URL always is)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses whose X-Forwarded-For is believed"
    )
    embedded_workers: bool = Field(
        default=True,
        description="run background jobs in this process (`sodam serve`); turn off where "
        "`sodam worker` processes run them (docs/jobs.md)",
    )
    web_dir: Path | None = Field(
        default=None, description="the built web client; unset = web/dist of the checkout"
    )
    failpoints: str = Field(
        default="",
        description="fault tests only: failpoints armed from the start (docs/fault-tests.md)",
    )
    failpoints_file: Path | None = Field(
        default=None,
        description="fault tests only: a file of failpoints, re-read when it changes",
    )

    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    s3: S3Settings = S3Settings()
    oidc: OidcSettings = OidcSettings()
    auth: AuthSettings = AuthSettings()
    limits: LimitSettings = LimitSettings()
    realtime: RealtimeSettings = RealtimeSettings()
    files: FileSettings = FileSettings()
    jobs: JobSettings = JobSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("SODAM_CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.mode == "development":
            return self
        for name, value in (
            ("secret_key", self.secret_key),
            ("admin_password", self.admin_password),
            ("oidc.client_secret", self.oidc.client_secret),
            ("s3.secret_access_key", self.s3.secret_access_key),
        ):
            if (
                value is not None
                and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
            ):
                raise ValueError(
                    f"{name} is a placeholder; set a real secret or SODAM_MODE=development"
                )
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("secret_key must be at least 32 characters")
        return self

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'sodam.db').as_posix()}"

    @property
    def files_dir(self) -> Path:
        """The local blob store's root: ``files.local_dir``, else ``<data_dir>/files``."""
        return self.files.local_dir or self.data_dir / "files"

    def resolved_secret_key(self) -> str:
        """The token signing key: the configured one, else one generated once under data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key)
        return key

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data with every secret masked."""
        data: dict[str, Any] = self.model_dump(mode="json")
        data["database"]["url"] = _mask_url(self.database_url)
        if data["redis"]["url"]:
            data["redis"]["url"] = _mask_url(data["redis"]["url"])
        return data


def _mask_url(url: str) -> str:
    """Hide the password in a URL such as postgresql://user:pw@host/db (or ?password=pw)."""
    url = _QUERY_PASSWORD_RE.sub(r"\1**********", url)
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:**********@{host}"
