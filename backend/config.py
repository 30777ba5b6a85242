"""Settings, read from the environment with the MUTUAL_ prefix."""

import contextlib
import os
import secrets
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"
WEAK_SECRETS = {"changethis", "secret", "changeme", ""}
LOCAL_URL = "http://127.0.0.1:8000"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MUTUAL_", extra="ignore")

    database_url: str = f"sqlite:///{VAR_DIR / 'mutual.db'}"
    # PostgreSQL only: where each process's LISTEN connection goes, when
    # database_url points at a transaction-mode pooler (unset: database_url)
    listen_database_url: str | None = None
    secret_key: str | None = None
    # the public address; unset, links and same-origin checks follow the address
    # the browser used (reset mails, sent without a browser, use LOCAL_URL)
    base_url: str | None = None
    cookie_secure: bool | None = None
    log_level: str = "info"
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    invite_days: int = Field(default=7, ge=1)
    reset_minutes: int = Field(default=30, ge=1)
    paper: Literal["a4", "letter"] = "a4"
    # argon2id cost; the defaults are RFC 9106's low-memory profile, above OWASP's floor
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    hash_concurrency: int = Field(default=2, ge=1)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "Mutual <mutual@localhost>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    rate_limits: bool = True
    sse_max_seconds: int = Field(default=1800, ge=1)
    # Open live streams: in all, per account, per network address (see README)
    streams_total: int = Field(default=400, ge=1)
    streams_per_account: int = Field(default=10, ge=1)
    streams_per_address: int = Field(default=30, ge=1)
    # With several processes (PostgreSQL): each renews its open streams this
    # often; a stream not renewed for live_expire_seconds stops counting
    live_renew_seconds: float = Field(default=10.0, gt=0)
    live_expire_seconds: float = Field(default=30.0, gt=0)
    # Pages and saves running at once; more wait up to request_wait_seconds
    request_concurrency: int = Field(default=64, ge=1)
    request_wait_seconds: float = Field(default=5.0, ge=0)
    # A request's head must arrive within this; a body must keep arriving
    request_header_seconds: float = Field(default=10.0, gt=0)
    request_body_seconds: float = Field(default=30.0, gt=0)
    # PDF renders: worker processes, time limit each, wait for a free worker,
    # renders one person may have running or waiting at once
    pdf_workers: int = Field(default=2, ge=1)
    pdf_seconds: float = Field(default=20.0, gt=0)
    pdf_wait_seconds: float = Field(default=10.0, ge=0)
    pdf_per_account: int = Field(default=2, ge=1)
    # Fernet keys for the words at rest, newest first, comma-separated
    # (backend/crypto.py); required where base_url is https://
    encryption_keys: str | None = None
    # how often expired sessions, links, saved forms and counters are deleted
    retention_minutes: float = Field(default=60, gt=0)

    @field_validator("secret_key")
    @classmethod
    def _reject_weak_secret(cls, value: str | None) -> str | None:
        if value is not None and (value.lower() in WEAK_SECRETS or len(value) < 32):
            raise ValueError("MUTUAL_SECRET_KEY must be at least 32 random characters")
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _check_keys(cls, value: str | None) -> str | None:
        if not value:
            return None
        for key in filter(None, (k.strip() for k in value.split(","))):
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(
                    "MUTUAL_ENCRYPTION_KEYS holds a key that is not a Fernet key "
                    "(32 random bytes, url-safe base64)"
                ) from None
        return value

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return (self.base_url or "").startswith("https://")

    def origin(self, request_origin: str) -> str:
        """Where people reach Mutual: the configured address, else the request's."""
        return (self.base_url or request_origin).rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret(self, folder: Path = VAR_DIR) -> str:
        """The secret key: from the environment, or generated once into var/.

        Several processes may start at once: each writes a candidate to a file
        of its own and links it into place, which only the first can do, so all
        of them read the same key (a link appears whole or not at all)."""
        if self.secret_key:
            return self.secret_key
        path = folder / "secret_key"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            candidate = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(descriptor, "w") as file:
                    file.write(secrets.token_urlsafe(48))
                    file.flush()
                    os.fsync(file.fileno())
                with contextlib.suppress(FileExistsError):
                    os.link(candidate, path)
            finally:
                candidate.unlink(missing_ok=True)
        return path.read_text().strip()
