"""Finding 1: an institution could learn a learner's identity number from the answers to
deposits that failed anyway. Identity is now told last, candidate lists are refused, failures
are limited per institution and recorded for officers. Both engines."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from application.issuing import sign_vc_jwt
from application.settings import Settings
from domain.errors import DomainError
from tests.builders import NOW, Issuer, Learner, World


def plain(number: str) -> dict[str, Any]:
    return {
        "type": "IdentityObject",
        "identityType": "nationalIdentityNumber",
        "hashed": False,
        "identityHash": number,
    }


def naming(world: World, issuer: Issuer, learner: Learner, numbers: list[str], **spec: Any) -> str:
    """A credential by ``issuer`` whose subject lists ``numbers`` (unhashed), signed."""
    credential = copy.deepcopy(world.credential(issuer, learner, **spec))
    credential["credentialSubject"]["identifier"] = [plain(n) for n in numbers]
    return sign_vc_jwt(credential, issuer.keys)


def answer(world: World, learner: Learner, credential: str) -> tuple[str, str]:
    before = world.stored(learner)
    with pytest.raises(DomainError) as err:
        world.bank.deposit_credential(learner.id, credential)
    assert world.stored(learner) == before  # nothing written either way
    return err.value.code, err.value.message


def test_a_refused_deposit_answers_the_same_whether_the_guess_was_right(trust: World) -> None:
    uni, wang, li = trust.issuer(), trust.learner(), trust.learner()
    right, wrong = wang.document_number, "110105198001010000"
    taken = "urn:uuid:5e0c1c1e-0000-4000-8000-000000000001"
    trust.bank.deposit_credential(li.id, trust.token(uni, li, credential_id=taken))
    otherwise_refused: list[dict[str, Any]] = [
        {"credits": None},  # states no credits (the reported probe)
        {"valid_until": NOW.replace(year=2025)},  # expired
        {"credential_id": taken},  # already in another account (checked with the account)
    ]
    for spec in otherwise_refused:
        answers = {
            guess: answer(trust, wang, naming(trust, uni, wang, [guess], **spec))
            for guess in (wrong, right)
        }
        assert answers[wrong] == answers[right], spec
        assert answers[wrong][0] != "IDENTITY_MISMATCH", spec
    # Nothing of that was an identity failure.
    assert trust.bank.identity_guard.log.recent(None, 10) == []


def test_a_list_of_candidate_numbers_is_refused_before_any_is_compared(trust: World) -> None:
    uni, wang = trust.issuer(), trust.learner()
    candidates = [f"11010519900307{n:04d}" for n in range(1400)] + [wang.document_number]
    code, message = answer(trust, wang, naming(trust, uni, wang, candidates))
    assert (code, "national identity numbers" in message) == ("INVALID_CREDENTIAL", True)
    # Two numbers (a person's current and former document) are still fine.
    pair = naming(trust, uni, wang, ["110105198001010000", wang.document_number])
    assert trust.bank.deposit_credential(wang.id, pair)


def test_identity_failures_are_recorded_and_then_pause_the_institution(trust: World) -> None:
    bank = trust.bank
    prober, honest = trust.issuer("Prober College"), trust.issuer("Honest University")
    limit = Settings().identity_failures_per_hour
    per_learner = Settings().identity_failures_per_learner
    learners = [trust.learner() for _ in range(limit // per_learner + 1)]
    n = 0
    for learner in learners:
        for _ in range(per_learner):
            if n == limit:
                break
            guess = f"1101051980010{n:05d}"
            code, _ = answer(trust, learner, naming(trust, prober, learner, [guess]))
            assert code == "IDENTITY_MISMATCH"
            n += 1
    recorded = bank.identity_guard.log.recent(prober.id, 100)
    assert len(recorded) == limit
    assert {f.institution_id for f in recorded} == {prober.id}
    assert {f.learner_id for f in recorded} <= {lr.id for lr in learners}

    # Past the limit every deposit of that institution is refused, even a right one: the
    # answer no longer depends on the identity. Other institutions are not affected.
    wang = learners[-1]
    for guess in ("110105198001019999", wang.document_number):
        code, _ = answer(trust, wang, naming(trust, prober, wang, [guess]))
        assert code == "RATE_LIMITED"
    assert bank.deposit_credential(wang.id, trust.token(honest, wang))
    assert len(bank.identity_guard.log.recent(None, 100)) == limit


def test_one_learner_can_be_probed_only_a_few_times_a_day(trust: World) -> None:
    prober, wang, li = trust.issuer("Prober College"), trust.learner(), trust.learner()
    for n in range(Settings().identity_failures_per_learner):
        code, _ = answer(trust, wang, naming(trust, prober, wang, [f"1101051980010{n:05d}"]))
        assert code == "IDENTITY_MISMATCH"
    right = naming(trust, prober, wang, [wang.document_number])
    assert answer(trust, wang, right)[0] == "RATE_LIMITED"
    assert trust.bank.deposit_credential(li.id, trust.token(prober, li))  # others still fine


def test_deposits_sent_at_once_cannot_all_pass_the_check(trust: World) -> None:
    """Check, decide and record are one step per institution: of many wrong guesses sent
    together, no more than the limit are told IDENTITY_MISMATCH."""
    prober = trust.issuer("Prober College")
    learners = [trust.learner() for _ in range(12)]
    credentials = [
        (lr, naming(trust, prober, lr, [f"1101051980020{i:05d}"]))
        for i, lr in enumerate(learners)
        for _ in range(2)
    ]

    def send(item: tuple[Learner, str]) -> str:
        try:
            trust.bank.deposit_credential(item[0].id, item[1])
        except DomainError as exc:
            return str(exc.code)
        return "ACCEPTED"

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(send, credentials))
    assert codes.count("IDENTITY_MISMATCH") == Settings().identity_failures_per_hour
    assert set(codes) == {"IDENTITY_MISMATCH", "RATE_LIMITED"}
