"""The ``creditbank`` command line (typer)."""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Annotated, Any

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
    from api.observability import configure_logging

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging()
    if demo:
        _load_demo(settings, only_if_empty=True)
    where = settings.database_url or f"SQLite at {settings.sqlite_path}"
    typer.echo(f"Credit Bank on {where}; GraphQL at {settings.base_url}/graphql")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


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


projections = typer.Typer(help="Read models: follow the events, rebuild views.")
cli.add_typer(projections, name="projections")


@projections.command("run")
def projections_run(
    poll: Annotated[float, typer.Option(help="seconds between polls (SQLite)")] = 0.5,
) -> None:
    """Follow the event log into the views (the production worker; serve does it inline)."""
    import signal
    import threading

    from application.bootstrap import build_bank
    from projections.runner import EventSource, ProjectionRunner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    bank = build_bank(Settings())
    runner = ProjectionRunner(EventSource(bank), bank.database)
    bank.database.availability.watch()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    runner.start(poll_interval=poll)
    typer.echo(f"following events from position {runner.positions()}")
    stopped.wait()
    runner.stop()
    bank.close()
    bank.database.close()


def _rate_column_class() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Events applied per second (rich's speed, once it has samples)."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} events/s" if speed else "... events/s")

    return RateColumn


def _rate_column() -> Any:
    return _rate_column_class()()


def _advance(bar: Any, task: Any, done: int, head: int) -> None:
    bar.update(task, completed=done, total=head)


@projections.command("rebuild")
def projections_rebuild(
    views: Annotated[
        list[str] | None, typer.Argument(help="views to rebuild (default: all)")
    ] = None,
) -> None:
    """Rebuild views from the events into fresh tables and swap them in."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from application.bootstrap import build_bank
    from projections.rebuild import rebuild
    from projections.runner import EventSource, views_named

    bank = build_bank(Settings())
    try:
        chosen = views_named(views or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    source = EventSource(bank)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _rate_column(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns) as bar:
            for view in chosen:
                task = bar.add_task(view.name, total=source.head() or 1)
                position = rebuild(
                    source,
                    bank.database,
                    view,
                    progress=partial(_advance, bar, task),
                )
                bar.update(task, completed=bar.tasks[task].total)
                typer.echo(f"{view.name}: swapped in at position {position}")
    finally:
        bank.close()
        bank.database.close()


audit = typer.Typer(help="Tamper-evident history: checkpoints and verification.")
cli.add_typer(audit, name="audit")


@audit.command("verify")
def audit_verify() -> None:
    """Walk every account's hash chain and the newest signed checkpoint; exit 1 naming what is
    broken."""
    from application.audit import verify
    from application.bootstrap import build_bank
    from application.signing import BankKeys

    settings = Settings()
    bank = build_bank(settings)
    try:
        report = verify(bank.recorder, bank.database, BankKeys.load_or_create(settings.data_dir))
    finally:
        bank.close()
        bank.database.close()
    checkpoint = report.checkpoint_id or "none"
    typer.echo(
        f"checked {report.accounts} accounts, {report.events} events; checkpoint {checkpoint}"
    )
    for problem in report.problems:
        typer.echo(f"BROKEN: {problem}")
    if not report.ok:
        raise typer.Exit(1)
    typer.echo("history intact")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of every account's chain head with the bank's key."""
    from application.audit import sign_checkpoint
    from application.bootstrap import build_bank
    from application.signing import BankKeys

    settings = Settings()
    bank = build_bank(settings)
    try:
        checkpoint_id = sign_checkpoint(
            bank.recorder, bank.database, BankKeys.load_or_create(settings.data_dir)
        )
    finally:
        bank.close()
        bank.database.close()
    typer.echo(f"checkpoint {checkpoint_id}")


def main() -> None:
    cli()
