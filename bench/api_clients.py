"""The clients of the API benchmarks: what each of the 4 worker processes (or this process, for
single-client latency) does against the served bank, the bare app and the database."""

from __future__ import annotations

import itertools
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from bench.bare_app import PAGE
from bench.raw import raw_inserter
from bench.synthetic import Issuer
from bench.timing import Op

DEPOSIT = (
    "mutation Deposit($input: DepositCredentialInput!) { depositCredential(input: $input) "
    "{ outcome { id status } errors { code message } } }"
)
TRANSCRIPT = (
    "query Transcript($id: ID!) { learner(id: $id) { account { transcript(first: 50) "
    "{ edges { node { title credits issuer { name } } } } } } }"
)


@dataclass(frozen=True)
class ClientSpec:
    index: int
    app_url: str
    bare_url: str
    database_url: str  # for the raw INSERT+COMMIT baseline
    issuer: Issuer
    issuer_uri: str
    institution_token: str
    learners: tuple[tuple[str, str], ...]  # (learner id, identity-document number), own ones
    reader: str  # the learner whose transcript is read
    reader_token: str
    credentials: int  # signed before the rounds


class CredentialSigner:
    """Open Badges 3.0 VC-JWTs of the issuer for a learner's document number, made with the
    issuer tooling (application/issuing.py): real EdDSA signatures, the shape the bank verifies."""

    def __init__(self, issuer: Issuer, uri: str) -> None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        from application.issuing import IssuerKey

        self._keys = IssuerKey.of(
            load_pem_private_key(issuer.private_pem, password=None), issuer.kid
        )
        self._uri = uri
        self._serial = itertools.count(1)

    def sign(self, document_number: str) -> str:
        from datetime import UTC, datetime, timedelta

        from application.issuing import Achievement, achievement_credential, sign_vc_jwt

        n = next(self._serial)
        achievement = Achievement(
            issuer_uri=self._uri,
            document_number=document_number,
            title=f"Course {n} 课程",
            credits=3 if n % 2 else 2.5,
            eqf_level=6,
            valid_from=datetime.now(UTC).replace(microsecond=0) - timedelta(days=30),
        )
        return sign_vc_jwt(achievement_credential(achievement), self._keys)


def check_deposit(response: httpx.Response) -> dict[str, Any]:
    """The mutation's outcome; raises on any error (a failing benchmark must not report)."""
    body = response.json() if response.status_code == 200 else {}
    payload = (body.get("data") or {}).get("depositCredential") or {}
    if response.status_code != 200 or body.get("errors") or payload.get("errors"):
        raise RuntimeError(f"depositCredential failed: {response.status_code} {response.text}")
    outcome: dict[str, Any] = payload["outcome"]
    return outcome


def check_page(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"transcript read failed: {response.status_code} {response.text}")
    body = response.json()
    edges = body["data"]["learner"]["account"]["transcript"]["edges"]
    if body.get("errors") or len(edges) != PAGE:
        raise RuntimeError(f"transcript read returned {len(edges)} rows: {response.text[:500]}")


def wait_until_up(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200")
        time.sleep(0.1)


class Client:
    """One client's operations against the app, the bare app and the database."""

    def __init__(self, spec: ClientSpec, stack: ExitStack) -> None:
        self.spec = spec
        self.app = stack.enter_context(httpx.Client(base_url=spec.app_url, timeout=60))
        self.bare = stack.enter_context(httpx.Client(base_url=spec.bare_url, timeout=60))
        self._signer = CredentialSigner(spec.issuer, spec.issuer_uri)
        self._learners = itertools.cycle(spec.learners)
        self._signed: deque[tuple[str, str]] = deque(
            self._next_signed() for _ in range(spec.credentials)
        )
        # What the bare app stores: the bytes of a credential like those deposited.
        self._sample = self._signed[0][1] if self._signed else self._next_signed()[1]
        self._institution = {"Authorization": f"Bearer {spec.institution_token}"}
        self._reader = {"Authorization": f"Bearer {spec.reader_token}"}
        self.raw: Op = raw_inserter(spec.database_url, stack)

    def _next_signed(self) -> tuple[str, str]:
        learner_id, number = next(self._learners)
        return learner_id, self._signer.sign(number)

    def deposit(self) -> dict[str, Any]:
        learner_id, credential = self._signed.popleft() if self._signed else self._next_signed()
        variables = {"input": {"learnerId": learner_id, "credential": credential}}
        response = self.app.post(
            "/graphql", json={"query": DEPOSIT, "variables": variables}, headers=self._institution
        )
        return check_deposit(response)

    def insert(self) -> None:
        response = self.bare.post("/insert", json={"credential": self._sample})
        if response.status_code != 200:
            raise RuntimeError(f"bare insert failed: {response.status_code} {response.text}")

    def read(self) -> None:
        variables = {"id": self.spec.reader}
        check_page(
            self.app.post(
                "/graphql", json={"query": TRANSCRIPT, "variables": variables}, headers=self._reader
            )
        )

    def bare_read(self) -> None:
        response = self.bare.get(f"/transcript/{self.spec.reader}")
        ok = response.status_code == 200
        edges = response.json()["data"]["learner"]["account"]["transcript"]["edges"] if ok else []
        if len(edges) != PAGE:
            raise RuntimeError(f"bare read failed: {response.status_code} {response.text[:300]}")

    def ops(self) -> dict[str, Op]:
        return {
            "deposit": self.deposit,
            "insert": self.insert,
            "raw": self.raw,
            "read": self.read,
            "bare_read": self.bare_read,
        }

    def warm_up(self) -> None:
        outcome = self.deposit()
        if outcome["status"] != "RECOGNIZED":
            raise RuntimeError(f"a bench deposit was not recognised automatically: {outcome}")
        for op in self.ops().values():
            for _ in range(3):
                op()


def setup_client(spec: ClientSpec, stack: ExitStack) -> dict[str, Op]:
    """In a worker: sign the credentials, wait for both servers, warm up."""
    client = Client(spec, stack)
    wait_until_up(spec.app_url + "/readyz")
    wait_until_up(spec.bare_url + "/healthz")
    client.warm_up()
    return client.ops()
