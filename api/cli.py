"""The ``creditbank`` command line (typer)."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from api.auth import Role, TokenService, load_or_create_signing_key
from application.settings import Settings

cli = typer.Typer(help="Credit Bank: a lifelong learning-record system.", no_args_is_help=True)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    demo: Annotated[
        bool, typer.Option(help="load the demo world first if the bank is empty")
    ] = False,
) -> None:
    """Run the service (GraphQL at /graphql). Embedded SQLite unless CREDITBANK_DATABASE_URL."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if demo:
        _load_demo(settings, only_if_empty=True)
    where = settings.database_url or f"SQLite at {settings.sqlite_path}"
    host, port = host or settings.host, port or settings.port
    typer.echo(f"Credit Bank on {where}; GraphQL at http://{host}:{port}/graphql")
    uvicorn.run(create_app(settings), host=host, port=port)


@cli.command()
def token(
    role: Annotated[Role, typer.Option(case_sensitive=False, help="the caller's role")],
    subject: Annotated[str | None, typer.Option(help="learner or institution id")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30, help="validity")] = 12,
) -> None:
    """Print a bearer token that the service in the same data dir accepts."""
    from datetime import timedelta

    settings = Settings()
    tokens = TokenService(load_or_create_signing_key(settings.data_dir))
    typer.echo(tokens.issue(role, subject, ttl=timedelta(hours=hours)))


@cli.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from application.bootstrap import database_for
    from application.bootstrap import migrate as apply

    database = database_for(Settings())
    applied = apply(database)
    typer.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


@cli.command()
def demo() -> None:
    """Load a small realistic world: institutions, learners, rules and a bachelor qualification."""
    _load_demo(Settings(), only_if_empty=False)


def _load_demo(settings: Settings, only_if_empty: bool) -> None:
    from application.bootstrap import build_bank
    from application.demo import load_demo

    bank = build_bank(settings)
    try:
        if only_if_empty and bank.institutions():
            return
        summary = load_demo(bank, settings.data_dir)
    finally:
        bank.close()
        bank.database.close()
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))


def main() -> None:
    cli()
