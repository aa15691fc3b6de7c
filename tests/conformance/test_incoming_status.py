"""Issue 15, item 4: an incoming credential's credentialStatus is checked against its issuer's
list (W3C Bitstring Status List v1.0, 1EdTech's revocation list), fetched from a local HTTP
server as the issuer would publish it. Both engines."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from application.issuing import sign_vc_jwt
from domain.errors import DomainError
from tests.builders import Issuer, Learner, World


class Publisher:
    """What the issuer's web server answers: path -> (status, body, headers); hits counted."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                status, body, headers = outer.pages.get(self.path, (404, b"", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    p = Publisher()
    yield p
    p.server.shutdown()


def encoded(revoked: set[int], size: int = 131_072) -> str:
    bits = bytearray(size // 8)
    for i in revoked:
        bits[i // 8] |= 0x80 >> (i % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")


def status_list(issuer: Issuer, url: str, revoked: set[int], **subject: Any) -> bytes:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.uri,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded(revoked),
            **subject,
        },
    }
    return sign_vc_jwt(credential, issuer.keys).encode()


def with_status(world: World, issuer: Issuer, learner: Learner, status: dict[str, Any]) -> str:
    credential = world.credential(issuer, learner)
    credential["credentialStatus"] = status
    return sign_vc_jwt(credential, issuer.keys)


def entry(url: str, index: int) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


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
    # Unreachable, not published yet, or the server failing: nothing deposited, try later.
    closed = entry("http://127.0.0.1:9/status/2", 1)  # nothing listens there
    assert "UNAVAILABLE" in refused(trust, wang, with_status(trust, uni, wang, closed))
    assert "UNAVAILABLE" in refused(trust, wang, with_status(trust, uni, wang, entry(url, 1)))
    publisher.pages["/status/2"] = (503, b"", {})
    assert "UNAVAILABLE" in refused(trust, wang, with_status(trust, uni, wang, entry(url, 1)))
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
    revoked["credentialStatus"] = status
    assert "ALREADY_REVOKED" in refused(trust, wang, sign_vc_jwt(revoked, uni.keys))
    assert trust.bank.deposit_credential(wang.id, with_status(trust, uni, wang, status))
