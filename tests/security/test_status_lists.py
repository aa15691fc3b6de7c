"""Status lists that grow (issue 14, finding 8): past 131,072 exports the index was skipped
silently, so ``verifyCredential`` said revoked and outside verifiers never could. A new list now
starts when one fills (``/status/N``), on both engines."""

from __future__ import annotations

import base64
import gzip
from urllib.parse import urlparse

import jwt

from application.export import STATUS_LIST_BITS
from tests.api.conftest import GraphQL, Served, World

VERIFY = "query($c: String!) { verifyCredential(credential: $c) { valid revoked } }"


def advance_past_the_first_list(served: Served) -> None:
    """The next export gets the first index of the second list."""
    database = served.app.state.running.services.bank.database
    with database.transaction() as cur:
        cur.execute(
            "INSERT INTO status_list_entries (status_index, outcome_id) VALUES (?, ?)",
            [STATUS_LIST_BITS - 1, "filler: the first list is full"],
        )
        if served.engine == "postgres":
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('status_list_entries', 'status_index'), ?)",
                [STATUS_LIST_BITS - 1],
            )


def bit(gql: GraphQL, url: str, index: int) -> int:
    answer = gql.http.get(urlparse(url).path)  # the bank's public URL names it; ask this server
    assert answer.status_code == 200, answer.text
    subject = jwt.decode(answer.text, options={"verify_signature": False})["credentialSubject"]
    body = subject["encodedList"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert len(bits) * 8 == STATUS_LIST_BITS
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_a_second_list_starts_when_the_first_fills(
    served: Served, gql: GraphQL, world: World
) -> None:
    learner = world.learner()
    outcome = world.deposit(learner, credits=3, title="Course on a full list", human_code="SL-1")
    advance_past_the_first_list(served)
    exported = gql.mutate(
        "exportOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"]},
        learner.token,
        "credential",
    )["credential"]
    status = jwt.decode(exported, options={"verify_signature": False})["credentialStatus"]
    assert status["statusListCredential"].endswith("/status/2")
    assert status["statusListIndex"] == "0"
    assert bit(gql, status["statusListCredential"], 0) == 0
    assert gql(VERIFY, {"c": exported}).ok()["verifyCredential"] == {
        "valid": True,
        "revoked": False,
    }
    gql.mutate(
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"], "reason": "issued in error"},
        world.officer,
        "outcome { status }",
    )
    # The outside verifier's view (the list) and the bank's (verifyCredential) agree.
    assert bit(gql, status["statusListCredential"], 0) == 1
    assert gql(VERIFY, {"c": exported}).ok()["verifyCredential"] == {"valid": True, "revoked": True}
    assert gql.http.get("/status/3").status_code == 404  # not in use yet
    assert gql.http.get("/status/1").status_code == 200
