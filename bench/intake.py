"""intake, intake_vs_mutation: a semester's credentials through ``POST /intake`` to the views.

A fresh PostgreSQL database holds one issuing university (a real Ed25519 key, a rule recognising
its courses) and a semester's identity-verified learners (400, quick: 50); each learner gets 10
courses, signed Open Badges 3.0 VC-JWTs naming the learner's identity number (made with the issuer
tooling before anything is timed: ``bench.api_clients.CredentialSigner``). The bank is served for
real (``creditbank serve`` in a subprocess, with its intake worker and inline projections).

- ``intake``: the whole semester as one NDJSON upload with an institution's token, in course order
  (a registrar's rosters one course after another: a worker batch of 500 lines holds about 1.25
  lines a learner in full mode, 10 in quick; learner order measured 2.8x faster); timed from the
  request to 202 (the body stored), to the job DONE (``Query.intakeJob``, polled) and to the views
  caught up (``/readyz`` with ``projectionLag`` 0). Credentials/s to the views ÷ a bare pipeline
  run in this process on the same credentials: each VC-JWT's Ed25519 signature verified with
  ``cryptography`` directly (over ``header.payload``, its payload decoded for the credential id),
  then the same number of rows (learner id, credential id, token) COPied into a scratch table with
  psycopg's ``cursor.copy`` in one transaction.
- ``intake_vs_mutation``: the intake rate ÷ the rate of one ``depositCredential`` mutation per
  credential over HTTP (one client, sequential; a smaller sample of fresh credentials of the same
  learners), timed until the views caught up too.
"""

from __future__ import annotations

import base64
import json
import time
from contextlib import ExitStack
from typing import Any
from uuid import UUID

import httpx

from api.auth import Role, TokenService, load_or_create_signing_key
from bench.api_clients import DEPOSIT, CredentialSigner, check_deposit
from bench.report import Context
from bench.served import app_argv, app_env, free_port, server
from bench.synthetic import Issuer, create_issuer, register_documented_learners
from bench.world import bank_settings, fresh_postgres, open_bank, temp_dir

INTAKE_GOAL = 0.3
MUTATION_GOAL = 20.0
COURSES = 10  # credentials per learner in a semester
SLUG = "bench-intake"
JOB = "query($id: ID!) { intakeJob(id: $id) { state total processed accepted refused } }"
POLL = 0.02  # seconds between looks at the job and at /readyz


def run(ctx: Context) -> None:
    report = ctx.report
    learners_n = ctx.pick(50, 400)
    mutations_n = ctx.pick(40, 200)
    with ExitStack() as stack:
        started = time.perf_counter()
        url = stack.enter_context(fresh_postgres())
        data_dir = stack.enter_context(temp_dir())
        with open_bank(bank_settings(data_dir, url), ctx.es_env) as bank:
            issuer = create_issuer(bank, SLUG)
            learners = register_documented_learners(bank, learners_n)
        signer = CredentialSigner(issuer, f"https://{SLUG}.example.edu.cn/issuer")
        semester = [
            (str(learner), signer.sign(number))
            for _ in range(COURSES)
            for learner, number in learners
        ]
        singles = [
            (str(learners[i % learners_n][0]), signer.sign(learners[i % learners_n][1]))
            for i in range(mutations_n)
        ]
        warm = [(str(learner), signer.sign(number)) for learner, number in learners[:4]]
        token = TokenService(load_or_create_signing_key(data_dir)).issue(
            Role.INSTITUTION, issuer.institution_id
        )
        port = free_port()
        app = stack.enter_context(
            server(
                "app",
                app_argv(port, ctx.es_env),
                app_env(data_dir, url, ctx.es_env),
                data_dir / "app.log",
            )
        )
        app_url = f"http://127.0.0.1:{port}"
        app.wait_ready(app_url + "/readyz")
        client = stack.enter_context(
            httpx.Client(
                base_url=app_url, timeout=300, headers={"Authorization": f"Bearer {token}"}
            )
        )
        report.raw("world_setup", time.perf_counter() - started, "s")

        # Warm-up, not counted: two mutations, a small upload to DONE, the views caught up.
        for learner_id, credential in warm[:2]:
            deposit(client, learner_id, credential)
        intake(client, warm[2:])
        views_caught_up(client)

        n = len(semester)
        timing = intake(client, semester)
        total = timing["views"]
        intake_rate = n / total
        bare = bare_pipeline(url, issuer, semester)
        mutation_rate, mutation_views = mutations(client, singles)

    report.raw("credentials", n, "count")
    report.raw("learners", learners_n, "count")
    report.raw("intake_credentials_per_s", intake_rate, "credentials/s")
    report.raw("bare_credentials_per_s", n / bare["total"], "credentials/s")
    report.raw("bare_verify", bare["verify"], "s")
    report.raw("bare_copy", bare["copy"], "s")
    report.raw("mutation_credentials_per_s", mutation_rate, "credentials/s")
    report.raw("mutations", mutations_n, "count, 1 client, sequential")
    report.raw("mutation_views_wait", mutation_views, "s")
    report.raw("time_to_202", timing["accepted"], "s")
    report.raw("time_to_done", timing["done"], "s")
    report.raw("time_to_views", timing["views"], "s")
    report.raw("upload_bytes", int(timing["bytes"]), "bytes")
    report.ratio("intake", intake_rate / (n / bare["total"]), ">=", INTAKE_GOAL)
    report.ratio("intake_vs_mutation", intake_rate / mutation_rate, ">=", MUTATION_GOAL)


# -- through the served bank ---------------------------------------------------------------------
def deposit(client: httpx.Client, learner_id: str, credential: str) -> None:
    variables = {"input": {"learnerId": learner_id, "credential": credential}}
    outcome = check_deposit(
        client.post("/graphql", json={"query": DEPOSIT, "variables": variables})
    )
    if outcome["status"] != "RECOGNIZED":
        raise RuntimeError(f"a bench deposit was not recognised automatically: {outcome}")


def intake(client: httpx.Client, lines: list[tuple[str, str]]) -> dict[str, float]:
    """Uploads ``lines`` as one NDJSON body; seconds from the request to 202, to the job DONE and
    to the views caught up. Raises unless every line was accepted."""
    body = "".join(
        json.dumps({"learnerId": learner_id, "credential": credential}) + "\n"
        for learner_id, credential in lines
    ).encode()
    start = time.perf_counter()
    response = client.post(
        "/intake", content=body, headers={"Content-Type": "application/x-ndjson"}
    )
    accepted = time.perf_counter() - start
    if response.status_code != 202:
        raise RuntimeError(f"POST /intake: {response.status_code} {response.text[:500]}")
    job_id = response.json()["id"]
    while True:
        job = intake_job(client, job_id)
        if job["state"] in ("DONE", "FAILED"):
            break
        time.sleep(POLL)
    done = time.perf_counter() - start
    if job["state"] != "DONE" or job["accepted"] != len(lines) or job["refused"]:
        raise RuntimeError(f"the intake job did not accept every line: {job}")
    views_caught_up(client)
    views = time.perf_counter() - start
    return {"accepted": accepted, "done": done, "views": views, "bytes": len(body)}


def intake_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": JOB, "variables": {"id": job_id}})
    body = response.json() if response.status_code == 200 else {}
    job = (body.get("data") or {}).get("intakeJob")
    if response.status_code != 200 or body.get("errors") or not isinstance(job, dict):
        raise RuntimeError(f"intakeJob: {response.status_code} {response.text[:500]}")
    return job


def views_caught_up(client: httpx.Client, timeout: float = 600) -> None:
    """Until /readyz answers 200 with projectionLag 0."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 and response.json().get("projectionLag") == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the views did not catch up: {response.text[:300]}")
        time.sleep(POLL)


def mutations(client: httpx.Client, lines: list[tuple[str, str]]) -> tuple[float, float]:
    """Credentials/s of one depositCredential per credential, sequential, until the views caught
    up; and the seconds of that last wait."""
    start = time.perf_counter()
    for learner_id, credential in lines:
        deposit(client, learner_id, credential)
    deposited = time.perf_counter()
    views_caught_up(client)
    end = time.perf_counter()
    return len(lines) / (end - start), end - deposited


# -- the bare pipeline ---------------------------------------------------------------------------
def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def bare_pipeline(url: str, issuer: Issuer, lines: list[tuple[str, str]]) -> dict[str, float]:
    """Seconds to verify every token's Ed25519 signature with ``cryptography`` and COPY one row a
    credential (learner id, credential id, token) into a scratch table in one transaction."""
    import psycopg
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    private = load_pem_private_key(issuer.private_pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    public = private.public_key()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE bench_intake_bare (learner_id uuid NOT NULL, "
            "credential_id text NOT NULL, token text NOT NULL)"
        )
        conn.commit()
        start = time.perf_counter()
        rows = []
        for learner_id, token in lines:
            header, payload, signature = token.split(".")
            public.verify(_b64decode(signature), f"{header}.{payload}".encode())
            credential_id = json.loads(_b64decode(payload))["jti"]
            rows.append((UUID(learner_id), credential_id, token))
        verified = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY bench_intake_bare (learner_id, credential_id, token) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        end = time.perf_counter()
        (count,) = conn.execute("SELECT count(*) FROM bench_intake_bare").fetchone() or (0,)
        if count != len(lines):
            raise RuntimeError(f"the bare pipeline copied {count} rows of {len(lines)}")
    return {"verify": verified - start, "copy": end - verified, "total": end - start}
