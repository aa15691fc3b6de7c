"""Finding 7: exports carried sha256(national ID + salt) with the salt beside it; from a known
birth date and district the number fell to a search of a few thousand candidates. Exports now
name the learner by the bank's own identifier. Over HTTP, on both engines."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import jwt

from tests.api.conftest import World

TRANSCRIPT_SELECTION = "credential"


def strings(value: Any) -> Iterator[str]:
    """Every string in a document, keys included, nested credentials (JWTs) decoded too."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        yield value
        if value.count(".") == 2 and value.startswith("ey"):
            yield from strings(jwt.decode(value, options={"verify_signature": False}))


def candidates(number: str) -> Iterator[str]:
    """What an attacker who knows the birth date and district tries: every serial."""
    head = number[:-4]
    for serial in range(10_000):
        yield f"{head}{serial:04d}"


def test_an_export_gives_nothing_to_search_the_identity_number_with(world: World) -> None:
    gql = world.gql
    learner = world.learner()
    outcome = world.deposit(learner)  # recognised by the university's rule
    exported = [
        gql.mutate("exportTranscript", {"learnerId": learner.id}, learner.token, "credential"),
        gql.mutate(
            "exportOutcome",
            {"learnerId": learner.id, "outcomeId": outcome["id"]},
            learner.token,
            "credential",
        ),
    ]
    for payload in exported:
        assert payload["errors"] == [], payload
        claims = jwt.decode(payload["credential"], options={"verify_signature": False})
        found = set(strings(claims))
        text = json.dumps(claims)
        assert learner.document_number not in text
        assert "salt" not in found  # no salted hash, no salt
        subject = claims.get("vc", claims)["credentialSubject"]
        assert subject["identifier"] == [
            {
                "type": "IdentityObject",
                "identityType": "identifier",
                "hashed": False,
                "identityHash": f"urn:uuid:{learner.id}",
            }
        ]
        # The attack itself: no value in the export is a hash of any candidate number.
        hashes = {s.removeprefix("sha256$").lower() for s in found if len(s) >= 64}
        for guess in candidates(learner.document_number):
            assert hashlib.sha256(guess.encode()).hexdigest() not in hashes
