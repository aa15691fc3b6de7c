"""Operators' commands: the read models (follow, rebuild) and the tamper-evident history."""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated, Any

import typer

from api.cli import note, opened
from application.settings import Settings

projections = typer.Typer(help="Read models: follow the events, rebuild views.")
audit = typer.Typer(help="Tamper-evident history: checkpoints and verification.")


@projections.command("run")
def projections_run(
    poll: Annotated[float, typer.Option(help="seconds between polls (SQLite)")] = 0.5,
    parent: Annotated[
        int | None,
        typer.Option(help="stop when the process with this id is gone (serve's own runner)"),
    ] = None,
) -> None:
    """Follow the event log into the views (the production worker; `serve` starts one of its
    own on PostgreSQL, see CREDITBANK_PROJECTIONS)."""
    import os
    import signal
    import threading

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with opened(Settings()) as services:
        runner = services.runner
        services.bank.database.availability.watch()
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        runner.start(poll_interval=poll)
        note(f"following events from position {runner.positions()}")
        if parent is None:
            stopped.wait()
        else:  # a server killed outright (SIGKILL) cannot stop its runner: it notices here
            while os.getppid() == parent and not stopped.wait(1.0):
                pass
        runner.stop()


@projections.command("replay-parked")
def projections_replay_parked() -> None:
    """Apply the events the views parked (after the fix: an upcaster, a view repaired), oldest
    first; exit 1 if some still fail (they stay parked, with the new error)."""
    from projections.runner import parked_events

    with opened(Settings()) as services:
        replayed, left = services.runner.replay_parked()
        typer.echo(f"replayed {replayed} parked event(s); {left} still parked")
        if left:
            with services.bank.database.transaction() as cur:
                for p in parked_events(cur, limit=20):
                    typer.echo(f"  {p.notification_id} {p.topic}: {p.error[:200]}")
            raise typer.Exit(1)


def _rate_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Events applied per second (rich's speed, once it has samples)."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} events/s" if speed else "... events/s")

    return RateColumn()


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

    from projections.rebuild import rebuild
    from projections.runner import EventSource, views_named

    try:
        chosen = views_named(views or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _rate_column(),
        TimeRemainingColumn(),
    )
    with opened(Settings()) as services, Progress(*columns) as bar:
        bank = services.bank
        source = EventSource(bank)
        for view in chosen:
            task = bar.add_task(view.name, total=source.head() or 1)
            position = rebuild(source, bank.database, view, progress=partial(_advance, bar, task))
            bar.update(task, completed=bar.tasks[task].total)
            typer.echo(f"{view.name}: swapped in at position {position}")


@audit.command("verify")
def audit_verify() -> None:
    """Walk every account's hash chain and the newest signed checkpoint; exit 1 naming what is
    broken."""
    from application.audit import verify

    with opened(Settings()) as services:
        bank = services.bank
        report = verify(bank.recorder, bank.database, services.keys)
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

    with opened(Settings()) as services:
        bank = services.bank
        checkpoint_id = sign_checkpoint(bank.recorder, bank.database, services.keys, bank.now())
    typer.echo(f"checkpoint {checkpoint_id}")


def credential_recheck_status(
    unknown_only: Annotated[
        bool, typer.Option("--unknown-only", help="only credentials whose status is unknown")
    ] = False,
) -> None:
    """Read every watched credential's status list again (serve does it periodically): an
    unknown status that now stands is established, a credential its issuer revoked is revoked."""
    from application.status_watch import recheck

    with opened(Settings()) as services:
        services.runner.catch_up()  # the watch list is a view: bring it up to date first
        done = recheck(services.bank, unknown_only=unknown_only)
    typer.echo(
        f"checked {done.checked}: {len(done.established)} established, {len(done.revoked)} "
        f"revoked, {done.unknown} still unknown, {done.failed} failed"
    )
    for outcome_id in done.revoked:
        typer.echo(f"revoked {outcome_id}")
    if done.failed:
        raise typer.Exit(1)
