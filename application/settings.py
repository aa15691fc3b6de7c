"""Settings, read from CREDITBANK_* environment variables (pydantic-settings)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from platformdirs import user_data_path
from pydantic import Field, SecretStr, field_validator, model_validator
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
        description="master secret for personal-data keys and identity hashes; default: "
        "generated once into data_dir/secret.key (SQLite in development only)",
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="a file holding the master secret instead (e.g. a mounted secret), kept "
        "outside data_dir: production refuses one inside it",
    )
    snapshot_interval: int = Field(default=100, ge=2, description="events between snapshots")
    aggregate_cache_size: int = Field(
        default=1000, ge=0, description="aggregates kept in memory (fast-forwarded on each load)"
    )
    postgres_pool_size: int = Field(default=5, ge=1)
    projections: Literal["auto", "inline", "process", "external"] = Field(
        default="auto",
        description="who runs the projection runner. inline: the serving process; process: "
        "serve starts and supervises `creditbank projections run` as a process of its own (on "
        "PostgreSQL: read-your-writes woken by NOTIFY, the views' work off the API's GIL); "
        "external: another process does (several API processes sharing one PostgreSQL); auto: "
        "process for `creditbank serve` on PostgreSQL, else inline",
    )
    max_projection_lag: int = Field(default=1000, ge=0, description="/readyz fails above this lag")
    cors_origins: list[str] = Field(default_factory=list, description="allowed browser origins")
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = Field(
        default=None,
        description="the OpenID Connect provider's JWKS; with it, oidc_issuer and oidc_audience "
        "are required (and https in production)",
    )
    oidc_jwks_timeout: float = Field(
        default=5.0, gt=0, le=60, description="seconds a JWKS fetch may take (off the event loop)"
    )
    oidc_jwks_retry_after: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="seconds after a failed JWKS fetch before the next: tokens needing a key not "
        "yet fetched are refused at once meanwhile",
    )
    local_tokens: bool | None = Field(
        default=None,
        description="accept the instance's own tokens (`creditbank token`); default: yes "
        "without OIDC, no with it",
    )
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
    identity_failures_per_hour: int = Field(
        default=20,
        ge=1,
        description="deposits an institution may see refused as naming the wrong learner in an "
        "hour; past it, all its deposits are refused (RATE_LIMITED) until the hour moves on",
    )
    identity_failures_per_learner: int = Field(
        default=5,
        ge=1,
        description="the same, into one learner's account in a day (a search for one number)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="a bearer token /metrics asks for; unset: /metrics answers loopback callers "
        "only",
    )
    http_header_timeout: float = Field(
        default=10,
        gt=0,
        description="seconds a connection has to send a request's line and headers, from its "
        "first byte (or from connecting); then it is closed (half-open connections)",
    )
    http_max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="request line and headers, at most (else 400)"
    )
    http_keep_alive_timeout: int = Field(
        default=5, ge=1, description="seconds an idle keep-alive connection stays open"
    )
    http_limit_concurrency: int | None = Field(
        default=1000,
        ge=1,
        description="connections or requests in flight beyond which serve answers 503",
    )
    http_graceful_shutdown: int = Field(
        default=20, ge=0, description="seconds requests in flight get to finish on shutdown"
    )
    verify_anonymous_max_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="the largest credential an anonymous verifyCredential accepts (UTF-8 bytes)",
    )
    verify_anonymous_per_minute: int = Field(
        default=30,
        ge=1,
        description="anonymous verifyCredential calls one client address may make a minute",
    )
    checkpoint_interval: float = Field(
        default=300, ge=0, description="seconds between signed audit checkpoints in serve (0: off)"
    )
    status_recheck_interval: float = Field(
        default=900,
        ge=0,
        description="seconds between re-reads of incoming credentials' status lists in serve: an "
        "unknown status is established, a credential its issuer revoked is revoked (0: off)",
    )
    intake_worker: bool = Field(
        default=True,
        description="serve runs the intake worker (POST /intake jobs); off where another process "
        "runs `creditbank intake work`",
    )
    intake_verifiers: int = Field(
        default=0,
        ge=0,
        description="processes verifying uploads' VC-JWTs ahead of their deposits (0: one per "
        "core but one; none on a single core)",
    )
    intake_max_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="the largest upload POST /intake accepts, in bytes"
    )
    export_algorithm: Literal["EdDSA", "ES256", "RS256"] = Field(
        default="EdDSA",
        description="how the bank signs its exports (VC-JWT): EdDSA (Ed25519), ES256 (P-256) or "
        "RS256 (RSA 3072); the key is made on first use, `creditbank keys rotate` makes a new one",
    )
    canonicalisation_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="seconds a worker may spend canonicalising one Data Integrity credential",
    )

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        """Half an OIDC configuration would accept a provider's token for any issuer or any
        audience (another application's tokens): refuse to start instead."""
        named = {
            "CREDITBANK_OIDC_ISSUER": self.oidc_issuer,
            "CREDITBANK_OIDC_AUDIENCE": self.oidc_audience,
            "CREDITBANK_OIDC_JWKS_URL": self.oidc_jwks_url,
        }
        missing = [name for name, value in named.items() if not (value or "").strip()]
        if missing and len(missing) < len(named):
            raise StartupError(
                f"OIDC needs an issuer, an audience and a JWKS URL: set {', '.join(missing)}"
            )
        url = self.oidc_jwks_url or ""
        if self.production and url and not url.lower().startswith("https://"):
            raise StartupError("CREDITBANK_OIDC_JWKS_URL must be https in production")
        return self

    @property
    def oidc(self) -> bool:
        return bool((self.oidc_jwks_url or "").strip())

    @property
    def local_tokens_accepted(self) -> bool:
        return self.local_tokens if self.local_tokens is not None else not self.oidc

    @field_validator("secret_key_file", mode="after")
    @classmethod
    def _absolute_file(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser().resolve()

    @property
    def secret_is_explicit(self) -> bool:
        """The master secret is given (a value or a file), not generated into the data dir."""
        return bool(self.secret_key) or self.secret_key_file is not None

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

    def projection_mode(self, serving: bool) -> Literal["inline", "process", "external"]:
        """Who runs the projection runner for an app (``serving``: `creditbank serve`'s)."""
        if self.projections != "auto":
            return self.projections
        return "process" if serving and self.database_url else "inline"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "creditbank.sqlite3"

    def master_secret(self) -> bytes:
        """The secret that wraps every learner's key. Generated beside the data only for the
        embedded development database: a copy of the data directory (or of PostgreSQL's files)
        must not carry what unwraps the keys in it, so production and PostgreSQL take it from
        outside (StartupError, one line, when they are not given one)."""
        if self.secret_key and self.secret_key_file is not None:
            raise StartupError("set CREDITBANK_SECRET_KEY or CREDITBANK_SECRET_KEY_FILE, not both")
        if self.secret_key:
            secret = self.secret_key.encode()
        elif self.secret_key_file is not None:
            secret = self._secret_from_file(self.secret_key_file)
        elif self.database_url or self.production:
            where = "PostgreSQL" if self.database_url else "production"
            raise StartupError(
                f"{where} needs the master secret from outside the data directory: set "
                "CREDITBANK_SECRET_KEY or CREDITBANK_SECRET_KEY_FILE (the same in every process)"
            )
        else:
            return read_or_create_secret(self.data_dir / "secret.key")
        if self.production and len(secret) < MIN_SECRET_LENGTH:
            raise StartupError(
                f"the master secret is shorter than {MIN_SECRET_LENGTH} characters: use a random "
                "one (e.g. `openssl rand -hex 32`)"
            )
        return secret

    def _secret_from_file(self, path: Path) -> bytes:
        if self.production and path.is_relative_to(self.data_dir):
            raise StartupError(
                f"CREDITBANK_SECRET_KEY_FILE {path} is inside the data directory: keep the master "
                "secret apart from the data it protects"
            )
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StartupError(f"cannot read CREDITBANK_SECRET_KEY_FILE {path}: {reason}") from None
        if not secret:
            raise StartupError(f"CREDITBANK_SECRET_KEY_FILE {path} is empty")
        return secret


# Characters a production master secret has at least (32 hex digits: 128 bits).
MIN_SECRET_LENGTH = 32


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
