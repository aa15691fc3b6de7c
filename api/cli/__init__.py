"""The ``creditbank`` command line (typer): the service and its operators' commands here, the
read models and audit in ``operations``, the issuers' tools in ``issuer``, bulk intake from a
registrar's CSV in ``intake``.

A dependency that is missing or wrong (``StartupError``) ends any command with one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.auth import (
    DEFAULT_TTL,
    MAX_TTL,
    MAX_TTL_BY_ROLE,
    Role,
    TokenService,
    load_or_create_signing_key,
    max_ttl,
)
from application.settings import Settings, StartupError

if TYPE_CHECKING:  # the commands import what they use: `creditbank token` starts in a blink
    from application.bank import CreditBank
    from application.bootstrap import Services

cli = typer.Typer(help="Credit Bank: a lifelong learning-record system.", no_args_is_help=True)
NEEDS_SUBJECT = (Role.LEARNER, Role.INSTITUTION, Role.ENTERPRISE)


def note(message: str) -> None:
    """Operator information on stderr, so stdout stays the command's result (a token, ids)."""
    typer.echo(message, err=True)


@contextmanager
def opened(settings: Settings) -> Iterator[Services]:
    """The services from the one composition root, closed afterwards."""
    from application.bootstrap import bootstrap

    services = bootstrap(settings)
    try:
        yield services
    finally:
        services.close()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    demo: Annotated[
        bool, typer.Option(help="load the demo world first (idempotent: once only)")
    ] = False,
) -> None:
    """Run the service (GraphQL at /graphql). Embedded SQLite unless CREDITBANK_DATABASE_URL."""
    import uvicorn

    from api.app import create_app
    from api.observability import configure_logging
    from api.server import uvicorn_options

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging()
    with opened(settings) as services:  # checks every dependency before listening
        if demo:
            _print_demo(services.bank, settings)
        note(f"Credit Bank: data directory {settings.data_dir}")
        note(f"Credit Bank on {settings.database}; GraphQL at {settings.base_url}/graphql")
        # serving: once ready, the start-up heap is frozen (full collections of it paused every
        # request for 90-190 ms every ~30 requests; api.app.settle_heap).
        app = create_app(services=services, serving=True)
        # Header-read deadline and size, keep-alive, concurrency and shutdown bounds.
        uvicorn.run(app, **uvicorn_options(settings))


@cli.command()
def token(
    role: Annotated[Role, typer.Option(case_sensitive=False, help="the caller's role")],
    subject: Annotated[
        str | None,
        typer.Option(
            help="learner id (LEARNER), institution id (INSTITUTION, ENTERPRISE), else a name"
        ),
    ] = None,
    hours: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_TTL // timedelta(hours=1),
            help=f"validity (ADMIN: at most {MAX_TTL_BY_ROLE[Role.ADMIN] // timedelta(hours=1)})",
        ),
    ] = DEFAULT_TTL // timedelta(hours=1),
) -> None:
    """Print a bearer token that the service in the same data dir accepts (its id, for
    `creditbank revoke-token`, goes to stderr)."""
    if role in NEEDS_SUBJECT and not (subject or "").strip():
        raise typer.BadParameter(
            f"a {role.value} token names whose it is: --subject <id>", param_hint="--subject"
        )
    if timedelta(hours=hours) > max_ttl(role):
        limit = max_ttl(role) // timedelta(hours=1)
        raise typer.BadParameter(
            f"{role.value} tokens live at most {limit} hours", param_hint="--hours"
        )
    settings = Settings()
    note(f"signed with the token key in {settings.data_dir}")
    if not settings.local_tokens_accepted:
        note("warning: this service accepts OIDC tokens only (CREDITBANK_LOCAL_TOKENS to allow)")
    minted = TokenService(load_or_create_signing_key(settings.data_dir)).mint(
        role, subject, ttl=timedelta(hours=hours)
    )
    note(f"token id {minted.jti}, valid until {minted.expires:%Y-%m-%d %H:%M} UTC")
    typer.echo(minted.token)


@cli.command("revoke-token")
def revoke_token(
    token_id: Annotated[
        str, typer.Argument(help="the id `creditbank token` printed (or the token itself)")
    ],
    reason: Annotated[str, typer.Option(help="why, for the record")] = "",
) -> None:
    """Revoke a local token: every API process on this database refuses it within seconds."""
    from api.auth import revoke_token as revoke
    from application.bootstrap import database_for, migrate
    from application.preflight import check_database

    jti = token_id.strip()
    if jti.count(".") == 2:  # a whole token: its id is inside (its signature does not matter)
        import jwt

        try:
            jti = str(jwt.decode(jti, options={"verify_signature": False})["jti"])
        except (jwt.PyJWTError, KeyError):
            raise typer.BadParameter("not a token with an id", param_hint="TOKEN_ID") from None
    if not jti or len(jti) > 200:
        raise typer.BadParameter("not a token id", param_hint="TOKEN_ID")
    settings = Settings()
    database = database_for(settings)
    try:
        check_database(database, settings.database_url)
        migrate(database)
        added = revoke(database, jti, reason)
    finally:
        database.close()
    typer.echo(f"token {jti} {'revoked' if added else 'was already revoked'}")


@cli.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from application.bootstrap import database_for
    from application.bootstrap import migrate as apply
    from application.preflight import check_database

    settings = Settings()
    database = database_for(settings)
    try:
        check_database(database, settings.database_url)
        applied = apply(database)
    finally:
        database.close()
    typer.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


@cli.command()
def demo() -> None:
    """Load a small realistic world (institutions, learners, rules, a bachelor qualification) and
    print its ids; a second run changes nothing and prints the same ids."""
    settings = Settings()
    with opened(settings) as services:
        _print_demo(services.bank, settings)


def _print_demo(bank: CreditBank, settings: Settings) -> None:
    from application.demo import load_demo

    note(f"demo world in {settings.database} (data directory {settings.data_dir})")
    world = load_demo(bank, settings.data_dir)
    typer.echo(json.dumps(world, indent=2, ensure_ascii=False))
    if settings.local_tokens_accepted:
        _print_demo_sign_in(world, settings)


def _print_demo_sign_in(world: dict[str, Any], settings: Settings) -> None:
    """A sign-in link per demo user for the portal: the token rides in the link's fragment,
    which the browser never sends (the login page reads it into its form)."""
    service = TokenService(load_or_create_signing_key(settings.data_dir))
    learners, institutions = world["learners"], world["institutions"]
    users = [
        ("learner Wang Fang", Role.LEARNER, learners.get("Wang Fang 王芳")),
        ("learner Li Wei", Role.LEARNER, learners.get("Li Wei 李伟")),
        ("enterprise Lianhua Training", Role.ENTERPRISE, institutions.get("lianhua-training")),
        (
            "institution Huadong University",
            Role.INSTITUTION,
            institutions.get("huadong-university"),
        ),
        ("officer", Role.OFFICER, "demo-officer"),
        ("auditor", Role.AUDITOR, "demo-auditor"),
        ("admin", Role.ADMIN, "demo-admin"),
    ]
    note("sign in to the portal (each link holds a 12-hour demo token):")
    for label, role, subject in users:
        if subject:
            minted = service.mint(role, subject, ttl=DEFAULT_TTL)
            note(f"  {label}: {settings.base_url}/app/login#token={minted.token}")


def _register_groups() -> None:
    from api.cli import intake, issuer, keys, operations

    cli.add_typer(operations.projections, name="projections")
    cli.add_typer(operations.audit, name="audit")
    cli.add_typer(issuer.issuer, name="issuer")
    issuer.credential.command("recheck-status")(operations.credential_recheck_status)
    cli.add_typer(issuer.credential, name="credential")
    cli.add_typer(keys.keys, name="keys")
    cli.add_typer(intake.intake, name="intake")


_register_groups()


def main() -> None:
    try:
        cli()
    except StartupError as exc:
        print(f"creditbank: {exc}", file=sys.stderr)
        sys.exit(2)
