"""The same learning counts once, over HTTP on both engines: an updated credential supersedes
the version before it, and the transcript keeps both (issue 11, finding 4)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.api.conftest import GraphQL, World
from tests.api.test_mutations import account


def test_an_update_supersedes_and_the_transcript_keeps_both(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    signed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    first = world.deposit(learner, credential_id=credential_id, credits=3, valid_from=signed)
    assert first["status"] == "RECOGNIZED"  # the university's courses rule
    replay = gql.mutate(
        "depositCredential",
        {
            "learnerId": learner.id,
            "credential": world.credential(
                learner, credential_id=credential_id, credits=3, valid_from=signed
            ),
        },
        world.institution_token(world.university),
        "outcome { id }",
    )
    assert [e["code"] for e in replay["errors"]] == ["DUPLICATE_CREDENTIAL"]
    update = world.deposit(
        learner, credential_id=credential_id, credits=4, valid_from=signed + timedelta(days=1)
    )
    state = account(gql, learner)
    old, new = state["outcomes"][first["id"]], state["outcomes"][update["id"]]
    assert (old["status"], old["supersededBy"]) == ("SUPERSEDED", update["id"])
    assert (new["status"], new["recognizedCredits"], new["supersededBy"]) == (
        "RECOGNIZED",
        "4.00",
        None,
    )
    assert state["balance"]["total"] == "4.00"
    assert [e["type"] for e in state["events"]][-2:] == ["OutcomeSuperseded", "OutcomeRecognized"]
