"""Bulk intake, the institution's side (docs/intake-csv.md): ``build`` signs a registrar's CSV
of grades into NDJSON on the institution's own machine, with its own key; ``upload`` streams that
file to the bank's ``POST /intake`` and follows the job over GraphQL until it is done.

Neither needs the bank's database. Problems are told in one line each, never a traceback.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli import note
from domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx
    from rich.progress import Progress

intake = typer.Typer(help="Bulk intake: build signed credentials from a CSV, upload them.")

CHUNK = 64 * 1024
REFUSALS_SHOWN = 20
JOB_QUERY = (
    "query($id: ID!) { intakeJob(id: $id) { state total processed accepted refused "
    f"refusals(first: {REFUSALS_SHOWN}) {{ edges {{ node {{ line code message }} }} }} }} }}"
)
FINISHED = ("DONE", "FAILED")
POLL_RETRIES = 5  # consecutive network failures while polling before giving up


def _fail(message: str) -> typer.Exit:
    typer.echo(f"creditbank: {message}", err=True)
    return typer.Exit(1)


# -- build ----------------------------------------------------------------------------------------
@intake.command("build")
def build(
    csv_file: Annotated[
        Path, typer.Option("--csv", help="the registrar's CSV (header line first)")
    ],
    template: Annotated[Path, typer.Option(help="the TOML template: columns and constants")],
    key: Annotated[Path, typer.Option(help="the institution's private key (.pem)")],
    issuer_uri: Annotated[str, typer.Option("--issuer", help="the issuer id at the bank")],
    out: Annotated[Path, typer.Option(help="the NDJSON file to write")],
    kid: Annotated[str | None, typer.Option(help="key id (default: <key>.jwk.json's)")] = None,
    valid_from: Annotated[
        str | None,
        typer.Option(help="when the credentials are issued (replaces the template's valid_from)"),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(help="write the good rows even when some rows fail (exit 0; bad rows listed)"),
    ] = False,
    encoding: Annotated[
        str, typer.Option(help="the CSV's encoding (utf-8-sig takes a BOM or none)")
    ] = "utf-8-sig",
) -> None:
    """Sign every row of a CSV of grades as an OB 3.0 VC-JWT, one {"learnerId", "credential"}
    line per row, for `creditbank intake upload`.

    Rows are counted from 1 after the header (row 1 is line 2 of the file). Every problem is
    printed as `row N (line L), column "C": ...`; if any row fails nothing is written and the exit
    code is 1, unless --skip-bad. An existing --out file is replaced only when the build succeeds.
    """
    from application.intake.grades import TemplateError, parse_template
    from application.issuing import IssuerKey

    try:
        text = template.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(
            f"cannot read {template}: {exc}", param_hint="--template"
        ) from None
    try:
        "".encode(encoding)
    except LookupError:
        raise typer.BadParameter(f"unknown encoding {encoding}", param_hint="--encoding") from None
    try:
        parsed = parse_template(text, valid_from=valid_from)
        signing_key = IssuerKey.load(key, kid)
    except TemplateError as exc:
        for problem in exc.problems:
            typer.echo(f"template {template.name}: {problem}", err=True)
        raise typer.Exit(1) from None
    except DomainError as exc:
        raise _fail(f"{exc.code}: {exc.message}") from None
    try:
        written, failed = _write(csv_file, parsed, signing_key, issuer_uri, out, encoding, skip_bad)
    except TemplateError as exc:
        for problem in exc.problems:
            typer.echo(f"{csv_file.name}: {problem}", err=True)
        raise _fail(f"nothing written to {out}") from None
    except OSError as exc:
        raise _fail(f"{exc.strerror or exc}: {exc.filename or csv_file}") from None
    rows = written + failed
    if failed and not skip_bad:
        raise _fail(f"{failed} of {rows} rows cannot be built: nothing written to {out}")
    if written == 0:
        raise _fail(f"no row to build in {csv_file}: nothing written to {out}")
    if failed:
        note(f"skipped {failed} of {rows} rows (--skip-bad): see above")
    typer.echo(f"wrote {written} credentials to {out}")


def _write(
    csv_file: Path,
    template: Any,
    key: Any,
    issuer_uri: str,
    out: Path,
    encoding: str,
    skip_bad: bool,
) -> tuple[int, int]:
    """Builds into a file beside ``out``, moved over it only on success: a failed build leaves
    ``out`` as it was. Problems go to stderr as they are found. Returns (written, failed)."""
    from application.intake.grades import build as build_rows

    written = failed = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    try:
        with (
            os.fdopen(handle, "w", encoding="utf-8", newline="\n") as sink,
            csv_file.open(encoding=encoding, newline="") as source,
        ):
            for result in build_rows(template, source, issuer_uri, key, datetime.now(UTC)):
                if result.built is None:
                    failed += 1
                    for problem in result.problems:
                        typer.echo(str(problem), err=True)
                else:
                    sink.write(result.built.ndjson() + "\n")
                    written += 1
        if failed and not skip_bad:
            return written, failed
        if written:
            os.replace(partial, out)
        return written, failed
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


# -- upload ---------------------------------------------------------------------------------------
@intake.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(help="the NDJSON file `creditbank intake build` wrote")],
    url: Annotated[str, typer.Option(help="the bank's base URL, e.g. https://bank.example.org")],
    token: Annotated[
        str,
        typer.Option(envvar="CREDITBANK_TOKEN", help="the institution's bearer token"),
    ],
    poll: Annotated[float, typer.Option(min=0.05, help="seconds between looks at the job")] = 2.0,
) -> None:
    """Stream the file to POST {URL}/intake, then follow the job until DONE or FAILED.

    Prints the job id, then the counts and the first refusals. Exit code 0 when the job is DONE
    (refusals included), 1 when it FAILED or the bank answered with an error."""
    import httpx

    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise typer.BadParameter("an http:// or https:// URL", param_hint="--url")
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}", param_hint="FILE") from None
    headers = {"Authorization": f"Bearer {token.strip()}"}
    timeout = httpx.Timeout(30.0, read=300.0)  # the answer comes once the whole body is in
    try:
        with httpx.Client(headers=headers, timeout=timeout) as client:
            job_id = _send(client, f"{base}/intake", file, size)
            typer.echo(f"job {job_id}")
            job = _follow(client, f"{base}/graphql", job_id, poll)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {base}: {exc or type(exc).__name__}") from None
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None
    _report(job)
    if job.get("state") != "DONE":
        raise typer.Exit(1)


def _progress() -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _send(client: httpx.Client, endpoint: str, file: Path, size: int) -> str:
    """Streams the file in CHUNK pieces (never whole in memory); the job id from the 202."""
    from rich.filesize import decimal

    with _progress() as progress, file.open("rb") as source:
        task = progress.add_task("sending", total=size or None, done=f"0/{decimal(size)}")

        def chunks() -> Iterator[bytes]:
            sent = 0
            while chunk := source.read(CHUNK):
                sent += len(chunk)
                progress.update(task, completed=sent, done=f"{decimal(sent)}/{decimal(size)}")
                yield chunk

        response = client.post(
            endpoint,
            content=chunks(),
            headers={"Content-Type": "application/x-ndjson", "Content-Length": str(size)},
        )
    if not response.is_success:
        raise _fail(f"the bank refused the upload: {_server_message(response)}")
    body = _json(response)
    job_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(job_id, str) or not job_id:
        raise _fail(f"the bank's answer names no job: {_server_message(response)}")
    return job_id


def _follow(client: httpx.Client, endpoint: str, job_id: str, poll: float) -> dict[str, Any]:
    """Asks for the job every ``poll`` seconds until it is DONE or FAILED."""
    import httpx

    payload = {"query": JOB_QUERY, "variables": {"id": job_id}}
    with _progress() as progress:
        task = progress.add_task("QUEUED", total=None, done="")
        failures = 0
        while True:
            try:
                response = client.post(endpoint, json=payload)
            except httpx.TransportError:
                failures += 1
                if failures > POLL_RETRIES:
                    raise
                time.sleep(poll)
                continue
            failures = 0
            job = _job(response, job_id)
            total, processed = job.get("total"), job.get("processed") or 0
            progress.update(
                task,
                description=str(job.get("state")),
                total=total or None,
                completed=processed,
                done=f"{processed}/{total if total is not None else '?'} lines",
            )
            if job.get("state") in FINISHED:
                return job
            time.sleep(poll)


def _job(response: httpx.Response, job_id: str) -> dict[str, Any]:
    if not response.is_success:
        raise _fail(f"the bank refused to tell the job: {_server_message(response)}")
    body = _json(response)
    if not isinstance(body, dict):
        raise _fail(f"the bank's GraphQL answer is not JSON: {_server_message(response)}")
    if body.get("errors"):
        raise _fail(f"the bank refused to tell the job: {_errors(body['errors'])}")
    job = (body.get("data") or {}).get("intakeJob")
    if not isinstance(job, dict):
        raise _fail(f"the bank knows no intake job {job_id}")
    return job


def _report(job: dict[str, Any]) -> None:
    state = job.get("state")
    typer.echo(
        f"{state}: {job.get('total')} lines, {job.get('accepted')} accepted, "
        f"{job.get('refused')} refused"
    )
    edges = ((job.get("refusals") or {}).get("edges")) or []
    refusals = [edge.get("node") or {} for edge in edges if isinstance(edge, dict)]
    if refusals:
        refused = job.get("refused")
        shown = f"first {len(refusals)} of {refused}" if refused != len(refusals) else "all"
        typer.echo(f"refusals ({shown}):")
        for node in refusals:
            typer.echo(f"  line {node.get('line')}: {node.get('code')}: {node.get('message')}")
    if state == "FAILED":
        typer.echo("creditbank: the intake job FAILED", err=True)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _errors(errors: Any) -> str:
    if not isinstance(errors, list):
        return str(errors)[:500]
    parts = []
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            message = str(error.get("message", ""))
            parts.append(f"{code}: {message}" if code else message)
        else:
            parts.append(str(error))
    return "; ".join(parts)[:1000]


def _server_message(response: httpx.Response) -> str:
    """The status and what the server said: its GraphQL-shaped errors, a FastAPI detail, or
    the start of its text."""
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    body = _json(response)
    said: str = ""
    if isinstance(body, dict):
        if body.get("errors"):
            said = _errors(body["errors"])
        else:
            said = str(body.get("detail") or body.get("message") or body.get("error") or "")
    if not said:
        said = " ".join(response.text.split())[:500]
    return f"{status}: {said}" if said else status


@intake.command("work")
def work(
    once: Annotated[bool, typer.Option(help="work every queued job, then exit")] = False,
) -> None:
    """Run the intake worker in this process (serve runs one unless CREDITBANK_INTAKE_WORKER is
    false): it takes queued jobs by lease and deposits their lines."""
    import signal
    import threading

    from api.cli import opened
    from application.intake.verifying import VerifyPool
    from application.intake.worker import IntakeWorker
    from application.settings import Settings

    settings = Settings()
    with opened(settings) as services:
        pool = VerifyPool.sized(settings.intake_verifiers)
        worker = IntakeWorker(services.bank, pool=pool)
        if once:
            worker.run_until_idle()
            worker.stop()
            return
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        worker.start()
        stopped.wait()
        worker.stop()
