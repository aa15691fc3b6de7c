"""freshness: the read-your-writes wait a command adds ÷ the command's own latency (p50 each).

What the serving process does (``api/app.py``, inline projections): the projection runner
follows in a thread of the same process (``runner.start()``), woken by the bank after each save
(``bank.on_saved.append(lambda p: runner.wake())``) and, on PostgreSQL, by LISTEN. A command is a
``CreditBank.deposit`` of a signed outcome into an identity-verified learner (recognised
automatically: three events); the evidence is signed before the clock starts. Its latency runs
from the call to the save returning; the added latency from there to ``runner.wait_for``(the
position its ``bank.tracking()`` scope saw) returning, i.e. until every view includes the deposit
— what a mutation waits for before it answers. One command at a time, on PostgreSQL.
"""

from __future__ import annotations

import itertools
import threading
import time
from uuid import UUID

from application.bank import CreditBank
from bench.profiling import ThreadProfiles, where
from bench.report import Context, Report
from bench.synthetic import OutcomeFactory, create_issuer, register_learners
from bench.timing import percentile
from bench.world import bank_settings, fresh_postgres, open_bank, temp_dir
from projections.runner import EventSource, ProjectionRunner, all_views

GOAL = 0.2


class Follower:
    """A runner following the bank as in the serving process."""

    def __init__(self, bank: CreditBank) -> None:
        self.bank = bank
        self.runner = ProjectionRunner(EventSource(bank), bank.database)
        self.runner.catch_up()

    def __enter__(self) -> Follower:
        self._wake = lambda _position: self.runner.wake()
        self.bank.on_saved.append(self._wake)
        self.runner.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.stop()
        self.bank.on_saved.remove(self._wake)
        # runner.stop() does not wait for its LISTEN thread (it ends within its 1 s poll): wait
        # here, or dropping the database next would cut its connection (a logged traceback).
        for thread in threading.enumerate():
            if thread.name == "projection-listen":
                thread.join(timeout=5)


def timed_deposits(
    bank: CreditBank, factory: OutcomeFactory, follower: Follower, learners: list[UUID], n: int
) -> tuple[list[float], list[float]]:
    """(command latencies, added read-your-writes latencies) of ``n`` deposits, in seconds."""
    cycle = itertools.cycle(learners)
    commands, added = [], []
    for _ in range(n):
        learner = next(cycle)
        outcome = factory.outcome()
        evidence = factory.evidence(outcome, learner)
        started = time.perf_counter()
        with bank.tracking() as position:
            bank.deposit(learner, outcome, evidence, actor="institution:bench")
        saved = time.perf_counter()
        if not follower.runner.wait_for(position.position, timeout=30):
            raise RuntimeError("the views did not include a deposit within 30 s")
        fresh = time.perf_counter()
        commands.append(saved - started)
        added.append(fresh - saved)
    return commands, added


def run(ctx: Context) -> None:
    report = ctx.report
    with fresh_postgres() as url, temp_dir() as data_dir:
        settings = bank_settings(data_dir, url)
        with open_bank(settings, ctx.es_env) as bank:
            issuer = create_issuer(bank)
            learners: list[UUID] = list(register_learners(bank, 10))
            factory = OutcomeFactory(issuer)
            with Follower(bank) as follower:
                timed_deposits(bank, factory, follower, learners, 20)  # warm-up
                commands, added = timed_deposits(
                    bank, factory, follower, learners, ctx.pick(40, 400)
                )
            report.latencies("command", commands)
            report.latencies("added_wait", added)
            report.latencies(
                "command_and_wait", [c + a for c, a in zip(commands, added, strict=True)]
            )
            report.raw("commands", len(commands), "deposits, one at a time")
            p50_command, p50_added = percentile(commands, 50), percentile(added, 50)
            report.ratio("freshness", p50_added / p50_command if p50_command else 0.0, "<=", GOAL)
            if ctx.profile:
                profile_freshness(report, bank, factory, learners, ctx.pick(60, 200))


def profile_freshness(
    report: Report, bank: CreditBank, factory: OutcomeFactory, learners: list[UUID], n: int
) -> None:
    """Wall-clock profiles of the two threads on the path (this one deciding and saving, the
    runner applying) over ``n`` deposits, with a new runner so that its thread is profiled; the
    LISTEN thread, which only waits, is left out."""
    with ThreadProfiles() as profiles, Follower(bank) as follower:
        timed_deposits(bank, factory, follower, learners, 5)
        profiles.clear()
        timed_deposits(bank, factory, follower, learners, n)
        command = profiles.profile(n, ("MainThread",))  # taken now: not the follower's stop
        runner = profiles.profile(n, ("projection-runner",))
    report.profile(f"command thread, {n} deposits, wall, top 20 cumulative", command.top(20))
    report.profile(f"runner thread, {n} deposits, wall, top 25 cumulative", runner.top(25))
    figures = {
        "command_deposit": command.seconds_per_op(where("application/bank.py", "deposit")),
        "command_save": command.seconds_per_op(where("eventsourcing/application.py", "save")),
        "command_db_wait": command.seconds_per_op(where("psycopg/connection.py", "wait")),
        "runner_batches": runner.seconds_per_op(where("projections/runner.py", "_run_once")),
        "runner_read": runner.seconds_per_op(where("projections/runner.py", "read")),
        "runner_state_loads": runner.seconds_per_op(where("projections/runner.py", "load")),
        "runner_positions": runner.seconds_per_op(where("projections/runner.py", "positions")),
        "runner_claim": runner.seconds_per_op(where("projections/runner.py", "_claim")),
        "runner_db_wait": runner.seconds_per_op(where("psycopg/connection.py", "wait")),
        "runner_pool_checks": runner.seconds_per_op(
            where("psycopg_pool/pool.py", "check_connection")
        ),
    }
    for view in all_views():
        module = type(view).__module__.replace(".", "/") + ".py"
        figures[f"runner_view_{view.name}"] = runner.seconds_per_op(where(module, "apply"))
    for key, value in figures.items():
        report.raw(f"profile_{key}", 1000 * value, "ms per deposit")
    for key, predicate in (
        ("runner_batches", where("projections/runner.py", "_run_once")),
        ("runner_positions_reads", where("projections/runner.py", "positions")),
        ("runner_sql_statements", where("psycopg/cursor.py", "execute")),
        ("runner_transactions", where("psycopg/transaction.py", "__enter__")),
        ("runner_pool_checks", where("psycopg_pool/pool.py", "check_connection")),
    ):
        report.raw(f"profile_{key}", runner.calls_per_op(predicate, primitive=True), "per deposit")
