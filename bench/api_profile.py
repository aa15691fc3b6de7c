"""What ``--profile`` adds to the API benchmarks: the served bank under the profiler (every
thread, CPU time) and served with one lever moved at a time (``Variant``), with its garbage
collections."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.api_clients import Client
from bench.api_world import ApiWorld, Variant, single_spec
from bench.profiling import Profile, where
from bench.report import Context, Report
from bench.timing import Op, Run, percentile, run_for


@dataclass(frozen=True)
class Collections:
    """Garbage collections of the served bank in a time window."""

    full: int
    pause_total: float  # seconds, all generations
    pause_max: float

    @staticmethod
    def read(log: Path, started: float, ended: float) -> Collections:
        rows = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
        window = [(int(r[1]), float(r[2])) for r in rows if started <= float(r[0]) <= ended]
        return Collections(
            full=sum(1 for generation, _ in window if generation == 2),
            pause_total=sum(pause for _, pause in window),
            pause_max=max((pause for _, pause in window), default=0.0),
        )


def compare_variants(
    ctx: Context, world: ApiWorld, phase: str, variants: tuple[Variant, ...], one: bool = False
) -> None:
    """One round of ``phase`` against each variant of the served bank, by the 4 clients or
    (``one``) by one client in this process; a restart each (rounds minutes apart on a busy
    machine compare less well than the interleaved ones above); then the plain bank again."""
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    try:
        with ExitStack() as stack:
            single = Client(single_spec(world.specs[0], world), stack) if one else None
            for variant in variants:
                world.restart_app(variant=variant)
                if single is not None:
                    op = single.ops()[phase]
                    run_for(op, ctx.pick(0.2, 1.0))
                    run = run_for(op, seconds)
                else:
                    world.pool.run(phase, ctx.pick(0.2, 1.0))
                    run = world.pool.run(phase, seconds)
                report_variant(report, f"lever_{variant.name}", phase, run, world.gc_log(variant))
    finally:
        world.restart_app()


def report_variant(report: Report, key: str, phase: str, run: Run, gc_log: Path) -> None:
    p50, p99 = percentile(run.latencies, 50), percentile(run.latencies, 99)
    gc = Collections.read(gc_log, run.started, run.ended)
    report.raw(f"{key}_{phase}s_per_s", run.per_second, "ops/s")
    report.raw(f"{key}_{phase}_p50", 1000 * p50, "ms")
    report.raw(f"{key}_{phase}_p99", 1000 * p99, "ms")
    report.raw(f"{key}_p99_over_p50", p99 / p50 if p50 else 0.0, "x")
    report.raw(f"{key}_full_collections", gc.full, "count")
    report.raw(f"{key}_gc_pause_share", 100 * gc.pause_total / run.seconds, "% of the window")
    report.raw(f"{key}_gc_pause_max", 1000 * gc.pause_max, "ms")


WRITE_VARIANTS = (
    Variant("default"),
    Variant("no_deepcopy", es_env={"DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}),
    Variant("no_aggregate_cache", env={"CREDITBANK_AGGREGATE_CACHE_SIZE": "0"}),
    Variant("gc_gen0_700", env={"BENCH_GEN0_THRESHOLD": "700"}),  # Python's default
)
READ_VARIANTS = (
    Variant("default"),  # the heap frozen once ready, young collections every 10,000
    Variant("gc_gen0_700", env={"BENCH_GEN0_THRESHOLD": "700"}),  # Python's default
)


SERVER_FIGURES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("asgi_request", where("uvicorn/protocols/http/httptools_impl.py", "run_asgi")),
    ("strawberry_request", where("strawberry/http/async_base_view.py", "run")),
    ("graphql_parse", where("graphql/language/parser.py", "parse")),
    ("graphql_validate", where("graphql/validation/validate.py", "validate")),
    ("graphql_execute", where("strawberry/schema/schema.py", "_execute_operation")),
    ("payload_error_scan", where("api/app.py", "_payload_error_codes")),
    ("bearer_token_verify", where("api/auth.py", "verify")),
    ("threadpool_work", where("api/graphql/context.py", "go")),
    ("rows_to_objects", where("api/graphql/learners.py", "of_row")),
    ("deposit_credential", where("application/bank.py", "deposit_credential")),
    ("credential_verify", where("application/credentials.py", "verify")),
    ("json_schema_validate", where("jsonschema/validators.py", "iter_errors")),
    ("bank_deposit", where("application/bank.py", "deposit")),
    ("aggregate_loads", where("eventsourcing/application.py", "_reconstruct_aggregate")),
    ("event_store_save", where("eventsourcing/application.py", "save")),
    ("projection_batch", where("projections/runner.py", "_run_once")),
    ("psycopg_execute", where("psycopg/cursor.py", "execute")),
    ("json_log_lines", where("api/observability.py", "format")),
    ("protocol_isinstance", where("typing.py", "__instancecheck__")),
)


def profile_app(
    ctx: Context, world: ApiWorld, what: str, ops: int, variant: Variant | None = None
) -> None:
    """The served bank under the profiler (every thread, CPU time), one client from this process
    doing ``ops`` deposits or reads; then the bank is served plainly again."""
    out = world.data_dir / f"profile-{what}-{uuid.uuid4().hex[:6]}.prof"
    world.restart_app(out, variant)
    try:
        with ExitStack() as stack:
            client = Client(single_spec(world.specs[0], world), stack)
            op: Op = client.deposit if what == "deposit" else client.read
            for _ in range(5):
                op()
            world.app.mark_profile(out)  # forget start-up and warm-up
            started = time.perf_counter()
            for _ in range(ops):
                op()
            wall = (time.perf_counter() - started) / ops
    finally:
        profiled = world.app
        world.restart_app(None)
    if not out.exists():
        raise RuntimeError(
            f"the profiled server wrote no profile; its log ends:\n{profiled.tail()}"
        )
    report_server_profile(ctx.report, what, Profile(str(out), ops), wall)


def report_server_profile(report: Report, what: str, result: Profile, wall: float) -> None:
    report.profile(
        f"served bank, {result.ops} {what}s from one client, all threads, CPU time, "
        "top 20 by own time",
        result.top(20, sort="tottime"),
    )
    report.profile("the same, top 25 cumulative", result.top(25))
    report.raw(f"profile_{what}_wall_per_request", 1000 * wall, "ms (profiled)")
    report.raw(f"profile_{what}_server_cpu", 1000 * result.total_seconds_per_op(), "ms/request")
    for key, predicate in SERVER_FIGURES:
        cpu = result.seconds_per_op(predicate)
        if cpu:
            report.raw(f"profile_{what}_{key}_cpu", 1000 * cpu, "ms/request")
    threads = Path(str(result.profiler) + ".threads.json")
    if threads.exists():
        for name, seconds in json.loads(threads.read_text()).items():
            key = name.lower().replace(" ", "_").replace("-", "_")
            report.raw(
                f"profile_{what}_thread_{key}_cpu", 1000 * seconds / result.ops, "ms/request"
            )
