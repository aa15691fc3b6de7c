"""OIDC and local tokens (issue 14, finding 4): a JWKS fetch blocked the event loop (a slow
provider froze every request for 30 s, and a failed fetch was retried by the next request);
issuer and audience were optional, so a provider token with any ``iss`` and no ``aud`` was
accepted as ADMIN; locally minted 30-day ADMIN tokens stayed valid in OIDC mode with no way to
revoke them; 401 messages echoed fetch errors.

The provider here is a real HTTP server on 127.0.0.1 serving a JWKS, slow or failing on demand;
the app is the real one, served by uvicorn.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from api.app import create_app
from api.auth import (
    AuthenticationError,
    ProviderKeys,
    Role,
    TokenService,
    load_or_create_signing_key,
)
from api.cli import cli
from application.settings import Settings, StartupError
from tests.api.conftest import GraphQL, Reply, Served, ThreadedServer

ISSUER = "https://login.example.test/realms/bank"
AUDIENCE = "creditbank-api"
VIEWER = "query { viewer { role subject } }"


# -- the provider ----------------------------------------------------------------------------------
@dataclass
class Provider:
    """An OIDC provider's JWKS endpoint: ``delay`` seconds before answering, ``status`` to fail."""

    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    delay: float = 0.0
    status: int = 200
    hits: int = 0
    url: str = ""

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, **overrides: Any) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice@example.test",
            "role": "ADMIN",
            "iat": now,
            "exp": now + timedelta(minutes=5),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@contextmanager
def provider_server(provider: Provider) -> Iterator[Provider]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.hits += 1
            time.sleep(provider.delay)
            body = json.dumps(provider.jwks()).encode()
            if provider.status != 200:
                body = b'{"error": "provider-internal-detail"}'
            try:
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (its timeout): nothing to answer
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/realms/bank/certs"
    thread = threading.Thread(target=server.serve_forever, name="jwks", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    with provider_server(Provider()) as p:
        yield p


@contextmanager
def oidc_app(tmp: Path, provider: Provider, **overrides: Any) -> Iterator[tuple[Any, GraphQL]]:
    settings = Settings(
        data_dir=tmp / "data",
        secret_key="oidc-test-" + uuid.uuid4().hex,
        checkpoint_interval=0,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=provider.url,
        **overrides,
    )
    app = create_app(settings)
    server = ThreadedServer(app)
    server.start()
    client = GraphQL(server.base_url)
    try:
        yield app, client
    finally:
        client.close()
        server.stop()


def refused(reply: Reply) -> str:
    assert reply.status == 401, reply.text
    assert reply.code == "UNAUTHENTICATED"
    message: str = reply.errors[0]["message"]
    assert message.startswith("invalid bearer token")
    return message


def timed(call: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


# -- the event loop --------------------------------------------------------------------------------
def test_a_slow_provider_delays_only_the_requests_that_need_its_keys(
    tmp_path: Path, provider: Provider
) -> None:
    provider.delay = 4.0
    with oidc_app(tmp_path, provider, local_tokens=True, oidc_jwks_timeout=10) as (app, gql):
        local = app.state.tokens.issue(Role.OFFICER, "officer-1")
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(timed, lambda: gql(VIEWER, token=provider.token()))
            deadline = time.monotonic() + 5
            while provider.hits == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert provider.hits == 1  # the fetch is in flight now
            anonymous, anonymous_took = timed(lambda: gql(VIEWER))
            officer, officer_took = timed(lambda: gql(VIEWER, token=local))
            reply, took = waiting.result()
        # Answered while the fetch slept (before: after it, the loop being blocked by it).
        assert anonymous.ok()["viewer"] == {"role": None, "subject": None}
        assert officer.ok()["viewer"] == {"role": "OFFICER", "subject": "officer-1"}
        assert anonymous_took < 1.5, anonymous_took
        assert officer_took < 1.5, officer_took
        assert reply.ok()["viewer"] == {"role": "ADMIN", "subject": "alice@example.test"}
        assert took >= 3.0
        # The keys are kept: the next provider token needs no fetch.
        again, again_took = timed(lambda: gql(VIEWER, token=provider.token(sub="bob")))
        assert again.ok()["viewer"]["subject"] == "bob"
        assert again_took < 1.5
        assert provider.hits == 1


def test_concurrent_requests_for_a_new_key_share_one_fetch(
    tmp_path: Path, provider: Provider
) -> None:
    provider.delay = 1.5
    with oidc_app(tmp_path, provider) as (_, gql):
        tokens = [provider.token(sub=f"user-{i}") for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda t: gql(VIEWER, token=t), tokens))
        assert [r.ok()["viewer"]["subject"] for r in replies] == [f"user-{i}" for i in range(8)]
        assert provider.hits == 1


def test_a_failed_fetch_is_not_retried_by_every_request_and_never_echoed(
    tmp_path: Path, provider: Provider
) -> None:
    provider.status = 500
    with oidc_app(tmp_path, provider, oidc_jwks_retry_after=30) as (_, gql):
        first = gql(VIEWER, token=provider.token())
        message = refused(first)
        assert message == "invalid bearer token: signing keys unavailable"
        for leak in ("127.0.0.1", "http", "500", "Fail to fetch", "provider-internal", "certs"):
            assert leak not in first.text
        assert provider.hits == 1
        provider.status = 200  # the provider is back, but the cooldown holds
        for _ in range(5):
            reply, took = timed(lambda: gql(VIEWER, token=provider.token()))
            assert refused(reply) == message
            assert took < 1.0
        assert provider.hits == 1


def test_random_key_ids_cannot_make_the_bank_hammer_the_provider(
    tmp_path: Path, provider: Provider
) -> None:
    with oidc_app(tmp_path, provider) as (_, gql):
        gql(VIEWER, token=provider.token()).ok()
        stranger = Provider()
        for _ in range(5):
            assert refused(gql(VIEWER, token=stranger.token())).endswith("unknown signing key")
        assert provider.hits == 1


def test_during_an_outage_known_keys_stay_usable_and_unknown_ones_are_refused(
    provider: Provider,
) -> None:
    keys = ProviderKeys(provider.url, timeout=1.0, retry_after=30.0, lifespan=0.2)

    async def scenario() -> None:
        assert (await keys.key(provider.kid)).key_id == provider.kid
        await asyncio.sleep(0.3)  # past the lifespan: the next use fetches again, and fails
        provider.status = 503
        assert (await keys.key(provider.kid)).key_id == provider.kid  # stale, within the grace
        with pytest.raises(AuthenticationError, match=r"unknown signing key$"):
            await keys.key("rotated-in-meanwhile")  # refused without another fetch

    asyncio.run(scenario())
    assert provider.hits == 2


# -- issuer and audience ---------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["oidc_issuer", "oidc_audience"])
def test_an_oidc_configuration_without_issuer_or_audience_does_not_start(
    tmp_path: Path, missing: str
) -> None:
    given = {
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": "http://127.0.0.1:9/certs",
    }
    del given[missing]
    with pytest.raises(StartupError, match=f"set CREDITBANK_{missing.upper()}$"):
        Settings(data_dir=tmp_path, **given)
    with pytest.raises(ValueError):  # nor can the service be built around the setting
        TokenService(load_or_create_signing_key(tmp_path), oidc_jwks_url=given["oidc_jwks_url"])


def test_production_wants_the_jwks_over_https(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="https"):
        Settings(
            data_dir=tmp_path,
            env="production",
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
            oidc_jwks_url="http://idp.example.test/certs",
        )


def test_a_provider_token_counts_only_for_this_issuer_and_audience(
    tmp_path: Path, provider: Provider
) -> None:
    with oidc_app(tmp_path, provider) as (_, gql):
        assert gql(VIEWER, token=provider.token()).ok()["viewer"]["role"] == "ADMIN"
        cases = {
            "wrong issuer": provider.token(iss="https://elsewhere.example.test"),
            "missing claim aud": provider.token(aud=None),
            "wrong audience": provider.token(aud="another-app"),
            "missing claim iss": provider.token(iss=None),
            "missing claim exp": provider.token(exp=None),
            "missing claim iat": provider.token(iat=None),
            "missing claim sub": provider.token(sub=None),
            "expired": provider.token(exp=datetime.now(UTC) - timedelta(minutes=5)),
        }
        for reason, token in cases.items():
            assert refused(gql(VIEWER, token=token)) == f"invalid bearer token: {reason}"


# -- local tokens ----------------------------------------------------------------------------------
def test_local_tokens_are_refused_in_oidc_mode_unless_allowed(
    tmp_path: Path, provider: Provider
) -> None:
    with oidc_app(tmp_path, provider) as (app, gql):
        admin = app.state.tokens.issue(Role.ADMIN, "root")
        message = refused(gql(VIEWER, token=admin))
        assert message == "invalid bearer token: local tokens are not accepted here"
    assert provider.hits == 0  # a local token never asks the provider


@pytest.mark.parametrize("engine", ["sqlite"])
def test_local_tokens_are_short_lived(served: Served, engine: str) -> None:
    if served.engine != engine:
        pytest.skip("storage plays no part: one engine")
    tokens = served.app.state.tokens
    with pytest.raises(ValueError, match="at most"):
        tokens.issue(Role.ADMIN, "root", ttl=timedelta(days=30))
    assert tokens.issue(Role.OFFICER, "o", ttl=timedelta(days=30))  # other roles: a month
    key = load_or_create_signing_key(served.settings.data_dir)
    now = datetime.now(UTC)
    claims = {
        "iss": "creditbank-local",
        "aud": "creditbank",
        "iat": now,
        "exp": now + timedelta(days=30),
        "role": "ADMIN",
        "sub": "root",
        "jti": uuid.uuid4().hex,
    }
    # Signed with the instance's own key: what the old `creditbank token --hours 720` minted.
    month = jwt.encode(claims, key, algorithm="EdDSA")
    assert refused(served.gql(VIEWER, token=month)).endswith("lifetime too long")
    without_id = jwt.encode(
        {k: v for k, v in claims.items() if k != "jti"} | {"exp": now + timedelta(hours=1)},
        key,
        algorithm="EdDSA",
    )
    assert refused(served.gql(VIEWER, token=without_id)).endswith("missing claim jti")


def test_the_cli_caps_admin_tokens_and_prints_the_token_id(tmp_path: Path) -> None:
    env = {"CREDITBANK_DATA_DIR": str(tmp_path)}
    too_long = CliRunner().invoke(cli, ["token", "--role", "admin", "--hours", "24"], env=env)
    assert too_long.exit_code == 2
    assert "ADMIN tokens live at most 12 hours" in too_long.output
    minted = CliRunner().invoke(cli, ["token", "--role", "admin"], env=env)
    assert minted.exit_code == 0, minted.output
    token = minted.stdout.strip()
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert f"token id {jti}" in minted.stderr


def test_a_revoked_local_token_is_refused_within_seconds(served: Served) -> None:
    tokens = served.app.state.tokens
    doomed = tokens.mint(Role.ADMIN, "ops-laptop")
    kept = tokens.issue(Role.ADMIN, "ops-desk")
    assert served.gql(VIEWER, token=doomed.token).ok()["viewer"]["subject"] == "ops-laptop"
    env = {
        "CREDITBANK_DATA_DIR": str(served.settings.data_dir),
        "CREDITBANK_DATABASE_URL": served.settings.database_url or "",
    }
    done = CliRunner().invoke(cli, ["revoke-token", doomed.jti, "--reason", "lost"], env=env)
    assert done.exit_code == 0, done.output
    assert f"token {doomed.jti} revoked" in done.stdout
    deadline = time.monotonic() + 10  # the API re-reads the list every 5 s
    while time.monotonic() < deadline:
        reply = served.gql(VIEWER, token=doomed.token)
        if reply.status == 401:
            break
        time.sleep(0.25)
    assert refused(reply) == "invalid bearer token: revoked"
    assert served.gql(VIEWER, token=kept).ok()["viewer"]["subject"] == "ops-desk"
    again = CliRunner().invoke(cli, ["revoke-token", doomed.token], env=env)  # the whole token
    assert again.exit_code == 0
    assert "already revoked" in again.stdout
