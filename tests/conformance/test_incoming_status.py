"""Issue 15, item 4: an incoming credential's credentialStatus is checked against its issuer's
list (W3C Bitstring Status List v1.0, 1EdTech's revocation list), fetched from a local HTTP
server as the issuer would publish it. Both engines."""

from __future__ import annotations

import json

import pytest

from application.issuing import sign_vc_jwt
from domain.errors import DomainError
from tests.builders import Learner, World
from tests.conformance.publisher import Publisher, encoded, entry, status_list, with_status

OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


def refused(world: World, learner: Learner, credential: str) -> str:
    before = world.stored(learner)
    with pytest.raises(DomainError) as err:
        world.bank.deposit_credential(learner.id, credential)
    assert world.stored(learner) == before
    return f"{err.value.code}: {err.value.message}"


def test_a_credential_its_issuer_revoked_is_refused_and_an_active_one_deposits(
    trust: World, publisher: Publisher
) -> None:
    uni, wang = trust.issuer(uri=f"{publisher.base}/issuer"), trust.learner()
    url = f"{publisher.base}/status/1"
    publisher.pages["/status/1"] = (200, status_list(uni, url, {7}), {})
    assert "ALREADY_REVOKED" in refused(trust, wang, with_status(trust, uni, wang, entry(url, 7)))
    assert trust.bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 8)))
    assert publisher.hits["/status/1"] == 1  # cached for the list's lifetime (5 min default)


def test_a_status_that_cannot_be_established_is_never_taken_as_active(
    trust: World, publisher: Publisher
) -> None:
    uni, rival, wang = (
        trust.issuer(uri=f"{publisher.base}/issuer"),
        trust.issuer(),
        trust.learner(),
    )
    url = f"{publisher.base}/status/2"
    # Unreachable, not published yet, or the server failing: deposited with its status unknown
    # (never recognised until the list is read: tests/conformance/test_status_recheck.py).
    closed = entry("http://127.0.0.1:9/status/2", 1)  # nothing listens there
    publisher.pages["/status/5"] = (503, b"", {})
    for unreadable in (closed, entry(url, 1), entry(f"{publisher.base}/status/5", 1)):
        outcome_id = trust.bank.deposit_credential(
            wang.id, with_status(trust, uni, wang, unreadable)
        )
        assert trust.bank.account(wang.id).outcome(outcome_id).status_unknown
    # Signed by someone else, unsigned, or on a host that is not the issuer's: not trusted.
    publisher.pages["/status/2"] = (200, status_list(rival, url, set()), {})
    assert "not the issuer's" in refused(trust, wang, with_status(trust, uni, wang, entry(url, 1)))
    publisher.pages["/status/3"] = (200, json.dumps({"type": "x"}).encode(), {})
    url3 = f"{publisher.base}/status/3"
    assert "not signed" in refused(trust, wang, with_status(trust, uni, wang, entry(url3, 1)))
    elsewhere = entry("https://attacker.example/status/1", 1)
    message = refused(trust, wang, with_status(trust, uni, wang, elsewhere))
    assert "INVALID_CREDENTIAL" in message
    assert "not the issuer's" in message
    assert "/status/1" not in publisher.hits  # never fetched


def test_a_list_shorter_than_the_minimum_is_not_trusted(trust: World, publisher: Publisher) -> None:
    """Bitstring Status List v1.0: at least 131,072 entries (16 KiB), so that an entry tells
    little of whose credential it is. A byte short is refused, as an untrusted list is."""
    uni, wang = trust.issuer(uri=f"{publisher.base}/issuer"), trust.learner()
    url = f"{publisher.base}/status/6"
    short = encoded(set(), size=131_072 - 8)
    publisher.pages["/status/6"] = (200, status_list(uni, url, set(), encodedList=short), {})
    message = refused(trust, wang, with_status(trust, uni, wang, entry(url, 3)))
    assert message.startswith("INVALID_CREDENTIAL: the credential's status cannot be trusted")
    assert "131,064 entries, fewer than the 131,072" in message


def test_the_list_lifetime_is_honoured(trust: World, publisher: Publisher) -> None:
    uni, wang = trust.issuer(uri=f"{publisher.base}/issuer"), trust.learner()
    url = f"{publisher.base}/status/4"
    lists = trust.bank.status_lists
    clock = [0.0]
    lists._clock = lambda: clock[0]  # the cache's clock (monotonic seconds)
    publisher.pages["/status/4"] = (200, status_list(uni, url, set(), ttl=60_000), {})
    assert trust.bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 3)))
    publisher.pages["/status/4"] = (200, status_list(uni, url, {3}), {})
    clock[0] = 30  # within the list's ttl (60 s): the cached list answers
    assert trust.bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 9)))
    clock[0] = 61  # past it: fetched again, and index 3 is now set
    assert "ALREADY_REVOKED" in refused(trust, wang, with_status(trust, uni, wang, entry(url, 3)))
    assert publisher.hits["/status/4"] == 2


def test_1edtech_revocation_list(trust: World, publisher: Publisher) -> None:
    uni, wang = trust.issuer(uri=f"{publisher.base}/issuer"), trust.learner()
    url = f"{publisher.base}/revocations"
    revoked = trust.credential(uni, wang)
    publisher.pages["/revocations"] = (
        200,
        json.dumps(
            {
                "id": url,
                "type": "1EdTechRevocationList",
                "issuer": uni.uri,
                "revokedCredentials": [{"id": revoked["id"], "revocationReason": "error"}],
            }
        ).encode(),
        {},
    )
    status = {"id": url, "type": "1EdTechRevocationList"}
    # OB 3.0 defines 1EdTechRevocationList in its extensions context.
    revoked["@context"].append(OB_EXTENSIONS)
    revoked["credentialStatus"] = status
    assert "ALREADY_REVOKED" in refused(trust, wang, sign_vc_jwt(revoked, uni.keys))
    standing = trust.credential(uni, wang)
    standing["@context"].append(OB_EXTENSIONS)
    standing["credentialStatus"] = status
    assert trust.bank.deposit_credential(wang.id, sign_vc_jwt(standing, uni.keys))
