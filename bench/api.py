"""write_api, read_transcript, read_tail: the bank's GraphQL API over HTTP, served for real.

The bank runs as ``python -c "from api.cli import main; main()" serve --port P`` (uvicorn, inline
projections, read-your-writes) in a subprocess on a fresh PostgreSQL database; the baseline is
``bench.bare_app``, a tiny FastAPI app served by uvicorn in another subprocess on the same
database, doing one INSERT + COMMIT (or one SELECT) per request. The clients are 4 worker
processes (spawned, one ``httpx.Client`` per server each), or this process alone for single-client
latency; every figure is measured with the same clients against both servers.

- ``write_api``: signed Open Badges 3.0 VC-JWTs deposited with ``depositCredential`` by 4
  clients, each into its own identity-verified learners (the issuer's rule recognises every
  deposit: three events each), mutations/s ÷ ``POST /insert`` of the same bytes per second.
  Rounds alternate; each figure is the median of its rounds. The raw-SQL ratio (mutations/s ÷
  psycopg INSERT+COMMIT/s from the same 4 processes, no HTTP) is printed for the record.
- ``read_transcript``: one client, p50 of ``learner { account { transcript(first: 50) { edges
  { node { title credits issuer { name } } } } } }`` (a learner's own token; 60 outcomes from 3
  issuers) ÷ p50 of ``GET /transcript/{id}`` (the same 50 rows with their issuer's name from one
  SELECT). Interleaved; the raw-SQL ratio (÷ the SELECT itself over psycopg) for the record.
- ``read_tail``: p99 ÷ p50 of the same GraphQL query with 4 clients reading back to back (the
  bare endpoint's tail under the same load is printed for comparison).

The three share one served world per run (``bench.world.shared``): the database, both servers
and the client processes are set up once, in whichever of them runs first; when ``write_api``
runs first the reads see the database after its deposits. Signing of the credentials happens in
the clients before the rounds, not while they are timed. ``--es-env`` overrides reach the
served bank through ``bench.serve_app``.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from statistics import median

from bench.api_clients import Client
from bench.api_profile import READ_VARIANTS, WRITE_VARIANTS, compare_variants, profile_app
from bench.api_world import CLIENTS, single_spec, world_for
from bench.bare_app import PAGE, TRANSCRIPT_SQL
from bench.report import Context
from bench.timing import Op, Run, percentile
from bench.write_app import report_runs

WRITE_GOAL = 0.5
READ_GOAL = 1.5
TAIL_GOAL = 2.0  # issue 16: p99 <= 2 x p50 under 4 clients


# -- write_api -----------------------------------------------------------------------------------
def run_write(ctx: Context) -> None:
    world = world_for(ctx)
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    rounds = ctx.pick(1, 3)
    runs: dict[str, list[Run]] = {"raw": [], "insert": [], "deposit": []}
    for phase in runs:  # warm-up, not counted
        world.pool.run(phase, ctx.pick(0.2, 1.0))
    for _ in range(rounds):
        for phase, phase_runs in runs.items():
            phase_runs.append(world.pool.run(phase, seconds))
    deposits = report_runs(report, "api", "mutation", runs["deposit"])
    inserts = report_runs(report, "bare", "insert", runs["insert"])
    raw = report_runs(report, "sql", "commit", runs["raw"])
    report.raw("clients", CLIENTS, "processes")
    ratio = deposits / inserts if inserts else 0.0
    report.ratio("write_api", ratio, ">=", WRITE_GOAL)
    report.raw("sql_ratio", deposits / raw if raw else 0.0, "mutations/s ÷ INSERT+COMMIT/s")
    if ctx.profile:
        profile_app(ctx, world, "deposit", ctx.pick(60, 200))
        compare_variants(ctx, world, "deposit", WRITE_VARIANTS)


# -- read_transcript -----------------------------------------------------------------------------
def run_read(ctx: Context) -> None:
    import psycopg

    world = world_for(ctx)
    report = ctx.report
    spec = world.specs[0]
    with ExitStack() as stack:
        client = Client(single_spec(spec, world), stack)
        conn = stack.enter_context(psycopg.connect(world.database_url))

        def select() -> None:
            rows = conn.execute(TRANSCRIPT_SQL, (spec.reader, PAGE), prepare=True).fetchall()
            conn.commit()
            if len(rows) != PAGE:
                raise RuntimeError(f"the SELECT returned {len(rows)} rows")

        ops: dict[str, Op] = {"graphql": client.read, "bare": client.bare_read, "sql": select}
        for op in ops.values():
            for _ in range(10):
                op()
        times = interleave(ops, ctx.pick(150, 1000))
    for name, values in times.items():
        report.latencies(f"{name}_page", values)
    report.raw("requests", len(times["graphql"]), "each, interleaved, 1 client")
    p50 = {name: percentile(values, 50) for name, values in times.items()}
    ratio = p50["graphql"] / p50["bare"] if p50["bare"] else 0.0
    report.ratio("read_transcript", ratio, "<=", READ_GOAL)
    report.raw("sql_ratio", p50["graphql"] / p50["sql"] if p50["sql"] else 0.0, "p50 ÷ SELECT p50")
    if ctx.profile:
        profile_app(ctx, world, "read", ctx.pick(100, 300))
        compare_variants(ctx, world, "read", READ_VARIANTS, one=True)


def interleave(ops: dict[str, Op], repeats: int) -> dict[str, list[float]]:
    """Durations of ``repeats`` calls of each op, in rotating order so noise hits all alike."""
    names = list(ops)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            ops[name]()
            times[name].append(time.perf_counter() - start)
    return times


# -- read_tail -----------------------------------------------------------------------------------
def run_tail(ctx: Context) -> None:
    world = world_for(ctx)
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    rounds = ctx.pick(1, 3)
    runs: dict[str, list[Run]] = {"read": [], "bare_read": []}
    for phase in runs:
        world.pool.run(phase, ctx.pick(0.2, 1.0))
    for _ in range(rounds):
        for phase, phase_runs in runs.items():
            phase_runs.append(world.pool.run(phase, seconds))
    tails = {}
    for phase, phase_runs in runs.items():
        latencies = [x for r in phase_runs for x in r.latencies]
        prefix = "graphql" if phase == "read" else "bare"
        report.raw(f"{prefix}_reads_per_s", median(r.per_second for r in phase_runs), "ops/s")
        report.latencies(f"{prefix}_read", latencies)
        report.raw(f"{prefix}_reads", len(latencies), "count")
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        tails[phase] = p99 / p50 if p50 else 0.0
        busy = [r.machine_busy for r in phase_runs if r.machine_busy is not None]
        if busy:
            report.raw(f"{prefix}_machine_cpu_busy", round(100 * median(busy)), "%")
    report.raw("clients", CLIENTS, "processes")
    report.raw("bare_p99_over_p50", tails["bare_read"], "x")
    report.ratio("read_tail", tails["read"], "<=", TAIL_GOAL)
    if ctx.profile:
        compare_variants(ctx, world, "read", READ_VARIANTS)
