"""Settings, read from CREDITBANK_* environment variables (pydantic-settings)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from platformdirs import user_data_path
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.private_files import private_dir, write_new_private

CHECKOUT = Path(__file__).resolve().parents[1]


class StartupError(Exception):
    """A dependency is missing or wrong (application/preflight.py); the message is one line
    saying which and what to do."""


def default_data_dir() -> Path:
    """One place, wherever the command is run from: ``var/`` in the project checkout (what
    ``uv run`` uses), else the platform's user data directory (an installed package)."""
    pyproject = CHECKOUT / "pyproject.toml"
    if pyproject.is_file() and 'name = "creditbank"' in pyproject.read_text(encoding="utf-8"):
        return CHECKOUT / "var"
    return user_data_path("creditbank", appauthor=False)


def redact(url: str | None) -> str | None:
    """A database URL without its password, for banners, logs and errors."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITBANK_", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development",
        description="production: GraphiQL and introspection off, the master secret and OIDC "
        "settings required where they matter (docs/security.md)",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="embedded data, keys and secrets; default: var/ in the project checkout, "
        "else the platform's user data directory; always made absolute",
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://user@host:port/dbname selects PostgreSQL; default: SQLite",
    )
    framework: str = Field(default="eqf", description="active qualifications framework preset")
    country: str = Field(
        default="CN",
        description="ISO 3166-1 alpha-2 country whose identity documents most learners hold: "
        "the default identityDocumentCountry (a learner's identity is country + number)",
    )
    secret_key: str | None = Field(
        default=None,
        description="master secret for personal-data keys and identity hashes; "
        "default: generated once into data_dir/secret.key",
    )
    snapshot_interval: int = Field(default=100, ge=2, description="events between snapshots")
    aggregate_cache_size: int = Field(
        default=1000, ge=0, description="aggregates kept in memory (fast-forwarded on each load)"
    )
    postgres_pool_size: int = Field(default=5, ge=1)
    projections: Literal["inline", "external"] = Field(
        default="inline",
        description="inline: serve runs the projection runner; external: `creditbank projections "
        "run` does (several API processes sharing one PostgreSQL)",
    )
    max_projection_lag: int = Field(default=1000, ge=0, description="/readyz fails above this lag")
    cors_origins: list[str] = Field(default_factory=list, description="allowed browser origins")
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None,
        description="the bank's public base URL (issuer id, status list); default http://host:port",
    )
    standards_dir: Path | None = Field(
        default=None,
        description="official schemas and JSON-LD contexts (a folder laid out like "
        "application/standards, with its manifest.json); default: the copy shipped in the package",
    )
    four_eyes_credits: Decimal | None = Field(
        default=Decimal(20),
        ge=0,
        description="an officer's recognition of more credits than this needs a written "
        "justification and a second officer (so does one beyond a standard's value or the "
        "credential's own claim, whatever this is)",
    )
    term_starts: str | None = Field(
        default=None,
        pattern=r"^\s*(1[0-2]|[1-9])(\s*,\s*(1[0-2]|[1-9]))*\s*$",
        description="months academic terms start, the first opening the academic year (Korea: "
        "'3,9'); yearly and semester caps count in it; default: the framework's calendar",
    )
    level_share: Decimal = Field(
        default=Decimal("0.5"),
        ge=0,
        le=1,
        description="a qualification at level L needs, unless it states its own, this share of "
        "its credits at level L-1 or above (docs/domain.md, awards)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="a bearer token /metrics asks for; unset: /metrics answers loopback callers "
        "only",
    )
    checkpoint_interval: float = Field(
        default=300, ge=0, description="seconds between signed audit checkpoints in serve (0: off)"
    )

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def database(self) -> str:
        """Where the events live, as an operator reads it (no password)."""
        if self.database_url:
            return f"PostgreSQL {redact(self.database_url)}"
        return f"SQLite at {self.sqlite_path}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "creditbank.sqlite3"

    def master_secret(self) -> bytes:
        if self.secret_key:
            return self.secret_key.encode()
        return read_or_create_secret(self.data_dir / "secret.key")


def read_or_create_secret(path: Path) -> bytes:
    """A random secret kept in the data dir, created on first use with owner-only permissions."""
    private_dir(path.parent)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    value = secrets.token_hex(32).encode()
    try:
        write_new_private(path, value)  # exclusive: two processes starting together agree
    except FileExistsError:
        return path.read_bytes().strip()
    return value
