"""POST /intake and Query.intakeJob through real HTTP, on both engines: an institution's upload
answers 202 at once and its job runs in the served app's worker; each refused line carries the
code depositCredential gives the same deposit; the job is the uploader's, officers' and
auditors' to read, and nobody else's."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from api.auth import Role
from tests.api.conftest import World

JOB = """query($id: ID!) { intakeJob(id: $id) {
  id state total processed accepted refused
  refusals(first: 2) {
    totalCount edges { cursor node { line code message } } pageInfo { hasNextPage endCursor }
  }
} }"""
NDJSON = {"Content-Type": "application/x-ndjson"}


def post(world: World, body: bytes | Any, token: str | None, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        world.served.base_url + "/intake",
        content=body,
        headers={**NDJSON, **auth, **headers},
        timeout=60,
    )


def line(learner_id: str, credential: Any) -> bytes:
    return json.dumps({"learnerId": learner_id, "credential": credential}).encode() + b"\n"


def wait_done(world: World, job_id: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job = world.gql(JOB, {"id": job_id}, token=token).ok()["intakeJob"]
        if job["state"] in ("DONE", "FAILED") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_an_upload_is_deposited_in_the_background_with_every_line_answered(world: World) -> None:
    uni = world.university
    learner, other = world.learner(), world.learner()
    good = [world.credential(learner, title=f"Course {n}") for n in range(5)]
    body = b"".join(line(learner.id, c) for c in good)
    body += line(other.id, good[0])  # already in another account
    body += b"\n"  # a blank line: skipped, but numbered
    body += b"{not json\n"
    body += line(learner.id, world.credential(learner, issuer=world.college))  # not its own
    body += line(learner.id, good[1])  # a repeat of line 2: held, so accepted

    answer = post(world, body, world.institution_token(uni))
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    job = wait_done(world, job_id, world.institution_token(uni))
    assert (job["state"], job["total"], job["processed"]) == ("DONE", 9, 9)
    assert (job["accepted"], job["refused"]) == (6, 3)
    refusals = job["refusals"]
    assert refusals["totalCount"] == 3
    assert [e["node"]["line"] for e in refusals["edges"]] == [6, 8]
    assert [e["node"]["code"] for e in refusals["edges"]] == [
        "DUPLICATE_CREDENTIAL",
        "INVALID_INPUT",
    ]
    assert refusals["pageInfo"]["hasNextPage"] is True
    after = refusals["pageInfo"]["endCursor"]
    rest = world.gql(
        "query($id: ID!, $after: String) { intakeJob(id: $id) { refusals(after: $after) "
        "{ edges { node { line code } } } } }",
        {"id": job_id, "after": after},
        token=world.officer,
    ).ok()["intakeJob"]["refusals"]["edges"]
    assert rest == [{"node": {"line": 9, "code": "FORBIDDEN"}}]
    # The learner's transcript holds the five, once each.
    data = world.gql(
        "query($id: ID!) { learner(id: $id) { account { transcript { totalCount } } } }",
        {"id": learner.id},
        token=learner.token,
    ).ok()
    assert data["learner"]["account"]["transcript"]["totalCount"] == 5


def test_who_may_upload_and_who_may_read_a_job(world: World) -> None:
    learner = world.learner()
    body = line(learner.id, world.credential(learner))
    assert post(world, body, None).status_code == 401
    assert post(world, body, "not-a-token").status_code == 401
    for role in (Role.LEARNER, Role.OFFICER, Role.AUDITOR, Role.ENTERPRISE, Role.ADMIN):
        subject = learner.id if role is Role.LEARNER else None
        answer = post(world, body, world.token(role, subject))
        assert answer.status_code == 403, (role, answer.text)
        assert answer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = world.institution_token(world.university)
    wrong_type = post(world, body, own, **{"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    job_id = post(world, body, own).json()["id"]
    assert wait_done(world, job_id, own)["accepted"] == 1

    for token in (world.officer, world.auditor):
        assert world.gql(JOB, {"id": job_id}, token=token).ok()["intakeJob"]["id"] == job_id
    another = world.gql(JOB, {"id": job_id}, token=world.institution_token(world.college))
    assert another.code == "FORBIDDEN"
    for role, subject in ((Role.LEARNER, learner.id), (Role.ENTERPRISE, None), (Role.ADMIN, None)):
        assert world.gql(JOB, {"id": job_id}, token=world.token(role, subject)).code == "FORBIDDEN"
    assert world.gql(JOB, {"id": job_id}).code == "UNAUTHENTICATED"
    unknown = world.gql(JOB, {"id": "00000000-0000-0000-0000-000000000000"}, token=world.officer)
    assert unknown.ok()["intakeJob"] is None
    assert world.gql(JOB, {"id": "nope"}, token=world.officer).code == "INVALID_INPUT"


def test_a_body_over_the_line_limit_is_refused_by_line_not_by_request(world: World) -> None:
    learner = world.learner()
    huge = line(learner.id, "x" * (1024 * 1024 + 1))
    body = huge + line(learner.id, world.credential(learner))
    own = world.institution_token(world.university)
    answer = post(world, body, own)
    assert answer.status_code == 202, answer.text
    job = wait_done(world, answer.json()["id"], own)
    assert (job["total"], job["accepted"], job["refused"]) == (2, 1, 1)
    first = job["refusals"]["edges"][0]["node"]
    assert (first["line"], first["code"]) == (1, "INVALID_INPUT")
    assert "longer than" in first["message"]
