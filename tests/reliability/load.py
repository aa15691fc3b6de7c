"""A load thread over HTTP: registers learners, verifies them, deposits signed credentials,
recognises, revokes, converts, grants consents and reads, and keeps two ledgers — every mutation
the service acknowledged (status 200, no top-level errors, an empty ``errors`` payload), and the
form of every answer (status, codes, and what was wrong with it: an HTML 5xx, a body that is not
JSON, an error without a code, a leaked traceback or SQL).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.auth import Role
from tests.api.conftest import LEAK_MARKERS, LearnerRef, World

USER_ERROR = "errors { code message field }"


@dataclass
class Answer:
    action: str
    at: float  # time.monotonic() when it was sent
    took: float
    status: int | None  # None: no HTTP answer (connection refused or cut)
    codes: list[str] = field(default_factory=list)  # top-level and UserError codes
    acked: bool = False
    problems: list[str] = field(default_factory=list)
    excerpt: str = ""


def inspect(status: int, headers: httpx.Headers, text: str) -> tuple[Any, list[str], list[str]]:
    """(body, codes, problems) of one answer."""
    problems: list[str] = []
    for marker in LEAK_MARKERS:
        if marker in text:
            problems.append(f"leaks {marker!r}")
    try:
        body = json.loads(text)
    except ValueError:
        kind = headers.get("content-type", "?")
        problems.append(f"status {status} with a body that is not JSON ({kind})")
        return None, [], problems
    codes: list[str] = []
    errors = body.get("errors") if isinstance(body, dict) else None
    for e in errors or []:
        code = (e.get("extensions") or {}).get("code") if isinstance(e, dict) else None
        if not code:
            problems.append(f"an error without extensions.code: {str(e)[:200]}")
        codes.append(str(code))
    data = body.get("data") if isinstance(body, dict) else None
    for payload in (data or {}).values() if isinstance(data, dict) else ():
        if isinstance(payload, dict):
            codes += [str(e.get("code")) for e in payload.get("errors") or []]
    if status >= 500 and not errors:
        problems.append(f"status {status} without a typed error")
    return body, codes, problems


class Load(threading.Thread):
    """Drives mutations (and, with ``reads``, queries) until ``stop()``."""

    def __init__(self, world: World, seed: int, reads: bool = False, pause: float = 0.0) -> None:
        super().__init__(name="load", daemon=True)
        self.world = world
        self.base_url = world.served.base_url
        self.rng = random.Random(seed)
        self.reads = reads
        self.pause = pause
        self.http = httpx.Client(base_url=self.base_url, timeout=60)
        self._stop_event = threading.Event()
        self.answers: list[Answer] = []
        self.acks: list[tuple[Any, ...]] = []
        self.learners: list[LearnerRef] = []
        self.verified: list[LearnerRef] = []
        self.outcomes: list[dict[str, Any]] = []  # {learner, id, issuer, status}
        self.lock = threading.Lock()
        self.failure: BaseException | None = None

    # -- running -------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=120)
        self.http.close()

    def acked_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for a in self.answers if a.acked and a.at >= moment)

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                self.step()
                if self.pause:
                    time.sleep(self.pause)
        except BaseException as exc:  # surfaced by the test
            self.failure = exc

    def step(self) -> None:
        actions = ["register", "deposit", "deposit", "deposit", "recognize", "revoke"]
        actions += ["convert", "consent"]
        if self.reads:
            actions += ["read_public", "read_account", "read_ready"]
        if len(self.verified) < 2:
            actions = ["register"]
        getattr(self, "do_" + self.rng.choice(actions))()

    # -- sending ---------------------------------------------------------------------------------
    def send(
        self, action: str, query: str, variables: dict[str, Any] | None, token: str | None
    ) -> tuple[Answer, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        try:
            response = self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        except httpx.HTTPError as exc:
            answer = Answer(action, started, time.monotonic() - started, None, [type(exc).__name__])
            self._keep(answer)
            time.sleep(0.05)
            return answer, None
        body, codes, problems = inspect(response.status_code, response.headers, response.text)
        answer = Answer(
            action,
            started,
            time.monotonic() - started,
            response.status_code,
            codes,
            False,
            problems,
            response.text[:300] if (problems or codes) else "",
        )
        self._keep(answer)
        return answer, body

    def _keep(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def mutate(
        self, action: str, name: str, input_: dict[str, Any], token: str, selection: str = ""
    ) -> Any:
        """The payload when the mutation was acknowledged, else None."""
        type_name = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation M($input: {type_name}!) {{ {name}(input: $input) "
            f"{{ {selection} {USER_ERROR} }} }}"
        )
        answer, body = self.send(action, query, {"input": input_}, token)
        if answer.status != 200 or body is None or body.get("errors"):
            return None
        payload = (body.get("data") or {}).get(name)
        if not isinstance(payload, dict) or payload.get("errors"):
            return None
        answer.acked = True
        return payload

    # -- actions ---------------------------------------------------------------------------------
    def do_register(self) -> None:
        number = f"L{uuid.uuid4().int % 10**15:015d}"
        payload = self.mutate(
            "register",
            "registerLearner",
            {
                "name": f"Load {number[-5:]}",
                "identityDocumentType": "NATIONAL_ID",
                "identityDocumentNumber": number,
                "birthDate": "1994-03-02",
            },
            self.world.officer,
            "learner { id }",
        )
        if payload is None:
            return
        self.acks.append(("register", number))
        learner = payload.get("learner")
        if not learner:  # acknowledged, but the views did not include it in time
            return
        ref = LearnerRef(
            learner["id"], "Load", number, self.world.token(Role.LEARNER, learner["id"])
        )
        self.learners.append(ref)
        verified = self.mutate(
            "verify",
            "verifyLearnerIdentity",
            {"learnerId": ref.id, "method": "DOCUMENT_CHECKED"},
            self.world.officer,
        )
        if verified is not None:
            self.acks.append(("verify", ref.id))
            self.verified.append(ref)

    def do_deposit(self) -> None:
        learner = self.rng.choice(self.verified)
        issuer = self.rng.choice([self.world.university, self.world.college, self.world.mooc])
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        jwt = self.world.credential(
            learner, issuer, credential_id=credential_id, credits=self.rng.choice([1, 2.5, 3])
        )
        payload = self.mutate(
            "deposit",
            "depositCredential",
            {"learnerId": learner.id, "credential": jwt},
            self.world.institution_token(issuer),
            "outcome { id status }",
        )
        if payload is None:
            return
        self.acks.append(("deposit", learner.id, issuer.id, credential_id))
        outcome = payload.get("outcome")
        if outcome:
            self.outcomes.append(
                {
                    "learner": learner,
                    "id": outcome["id"],
                    "issuer": issuer.id,
                    "status": outcome["status"],
                }
            )

    def _pick(self, issuer: str | None, *statuses: str) -> dict[str, Any] | None:
        found = [
            o
            for o in self.outcomes
            if (issuer is None or o["issuer"] == issuer) and o["status"] in statuses
        ]
        return self.rng.choice(found) if found else None

    def do_recognize(self) -> None:
        o = self._pick(self.world.mooc.id, "DEPOSITED")
        if o is None:
            return
        payload = self.mutate(
            "recognize",
            "recognizeOutcome",
            {
                "learnerId": o["learner"].id,
                "outcomeId": o["id"],
                "credits": "2",
                "level": 5,
                "category": "elective",
            },
            self.world.officer,
        )
        if payload is not None:
            o["status"] = "RECOGNIZED"
            self.acks.append(("recognize", o["learner"].id, o["id"]))

    def do_revoke(self) -> None:
        o = self._pick(None, "DEPOSITED", "RECOGNIZED")
        if o is None:
            return
        payload = self.mutate(
            "revoke",
            "revokeOutcome",
            {"learnerId": o["learner"].id, "outcomeId": o["id"], "reason": "issued in error"},
            self.world.officer,
        )
        if payload is not None:
            o["status"] = "REVOKED"
            self.acks.append(("revoke", o["learner"].id, o["id"]))

    def do_convert(self) -> None:
        o = self._pick(self.world.college.id, "RECOGNIZED")
        if o is None:
            return
        payload = self.mutate(
            "convert",
            "convertCredits",
            {
                "learnerId": o["learner"].id,
                "outcomeIds": [o["id"]],
                "conversionRuleId": self.world.conversion_rule,
            },
            o["learner"].token,
        )
        if payload is not None:
            o["status"] = "CONVERTED"
            self.acks.append(("convert", o["learner"].id, o["id"]))

    def do_consent(self) -> None:
        learner = self.rng.choice(self.verified)
        payload = self.mutate(
            "consent",
            "grantConsent",
            {
                "learnerId": learner.id,
                "organizationId": self.world.enterprise.id,
                "scope": "TRAINING",
            },
            learner.token,
        )
        if payload is not None:
            self.acks.append(("consent", learner.id, self.world.enterprise.id))

    def do_read_public(self) -> None:
        self.send(
            "read_public", "{ institutions(first: 5) { edges { node { id name } } } }", None, None
        )

    def do_read_account(self) -> None:
        learner = self.rng.choice(self.verified)
        query = "query($id: ID!) { learner(id: $id) { account { version balance { total } } } }"
        self.send("read_account", query, {"id": learner.id}, learner.token)

    def do_read_ready(self) -> None:
        started = time.monotonic()
        try:
            r = self.http.get("/readyz")
        except httpx.HTTPError as exc:
            self._keep(
                Answer("readyz", started, time.monotonic() - started, None, [type(exc).__name__])
            )
            return
        _, codes, problems = inspect(r.status_code, r.headers, r.text)
        if r.status_code not in (200, 503):
            problems.append(f"/readyz answered {r.status_code}")
        self._keep(
            Answer(
                "readyz",
                started,
                time.monotonic() - started,
                r.status_code,
                codes,
                r.status_code == 200,
                problems,
                r.text[:200],
            )
        )


def tally(answers: list[Answer]) -> dict[str, Any]:
    statuses = Counter(str(a.status) for a in answers)
    codes = Counter(c for a in answers for c in a.codes)
    return {
        "requests": len(answers),
        "acknowledged": sum(a.acked for a in answers),
        "statuses": dict(statuses),
        "codes": dict(codes),
        "problems": sum(bool(a.problems) for a in answers),
    }


def lost(bank: Any, acks: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The acknowledged mutations the event store does not hold (should be none)."""
    from uuid import UUID

    from domain.indexes import CredentialIndex

    def events(aggregate_id: UUID) -> list[Any]:
        return list(bank.events.get(aggregate_id))

    def has(aggregate_id: UUID, name: str, **fields: str) -> bool:
        return any(
            type(e).__name__ == name
            and all(str(getattr(e, k, None)) == v for k, v in fields.items())
            for e in events(aggregate_id)
        )

    missing = []
    for ack in acks:
        kind, *args = ack
        if kind == "register":
            ok = bank.find_learner(args[0]) is not None
        elif kind == "verify":
            ok = bank.learner(UUID(args[0])).identity_verified
        elif kind == "deposit":
            learner, issuer, credential_id = args
            index_id = CredentialIndex.create_id(UUID(issuer), credential_id)
            ok = bank._exists(index_id) and bank.repository.get(
                index_id
            ).account_id == bank.account_id(UUID(learner))
        elif kind in ("recognize", "revoke", "convert"):
            learner, outcome_id = args
            name = {"recognize": "OutcomeRecognized", "revoke": "OutcomeRevoked"}.get(kind)
            account_id = bank.account_id(UUID(learner))
            if name is not None:
                ok = has(account_id, name, outcome_id=outcome_id)
            else:
                ok = any(
                    type(e).__name__ == "CreditsConverted"
                    and outcome_id in {str(o) for o in e.outcome_ids}
                    for e in events(account_id)
                )
        elif kind == "consent":
            learner, organization = args
            ok = has(UUID(learner), "ConsentGranted", organization_id=organization)
        else:
            raise AssertionError(f"unknown acknowledgement {ack}")
        if not ok:
            missing.append(ack)
    return missing
