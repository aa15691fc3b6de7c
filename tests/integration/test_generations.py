"""Rows written by earlier versions of the bank keep loading (tests/generations/README.md).

Each generation's events, snapshots and learner keys go into a fresh store, on both engines,
byte for byte; today's code must load every aggregate at every version (upcasting what changed),
agree between snapshot and replay, answer what that version's readers answered, keep the hash
chain whole, and build the read models from those events.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.audit import verify as audit_verify
from application.bank import CreditBank
from application.bootstrap import build_bank, database_for
from application.settings import Settings
from application.signing import BankKeys
from domain.errors import DuplicateIdentity
from domain.values import AwardStatus
from projections.runner import EventSource, ProjectionRunner
from projections.transcript import row_of
from tests.builders import RawStore, replay, snapshots_table, state

GENERATIONS = Path(__file__).resolve().parents[1] / "generations"


def generation(n: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GENERATIONS / f"v{n}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(params=[1, 2, 3, 4], ids=lambda n: f"v{n}")
def written(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None
) -> Iterator[tuple[dict[str, Any], CreditBank, Settings]]:
    """A bank whose store holds exactly the rows generation N wrote."""
    data = generation(request.param)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=data["secret_key"],
        framework=data["framework"],
        snapshot_interval=1000,  # load what was written; take no new snapshots
        aggregate_cache_size=0,
    )
    setup = build_bank(settings)  # creates the tables
    raw = RawStore(setup, settings)
    snapshots = snapshots_table(setup)
    with raw.cursor() as cur:
        for e in data["events"]:
            raw_state = base64.b64decode(e["state"])
            cur.execute(
                f"INSERT INTO {raw.table} (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                [raw.key(e["originator_id"]), e["version"], e["topic"], raw_state],
            )
        for s in data["snapshots"]:
            cur.execute(
                f"INSERT INTO {snapshots} (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                [
                    raw.key(s["originator_id"]),
                    s["version"],
                    s["topic"],
                    base64.b64decode(s["state"]),
                ],
            )
    keys = setup.database
    for k in data["learner_keys"]:
        with keys.transaction() as cur:
            cur.execute(
                "INSERT INTO learner_keys (learner_id, wrapped_key, created_at) VALUES (?, ?, ?)",
                (
                    keys.dialect.key(UUID(k["learner_id"])),
                    base64.b64decode(k["wrapped_key"]),
                    k["created_at"],
                ),
            )
    setup.close()
    bank = build_bank(settings)
    try:
        yield data, bank, settings
    finally:
        bank.close()


def originators(data: dict[str, Any]) -> dict[str, int]:
    """Each aggregate's last version (the listing logs are sequences of entries, not aggregates:
    the catalogue reads below load through them)."""
    versions: dict[str, int] = {}
    for e in data["events"]:
        if not e["topic"].endswith(":Listed"):
            versions[e["originator_id"]] = max(versions.get(e["originator_id"], 0), e["version"])
    return versions


def test_every_aggregate_loads_at_every_version(written: Any) -> None:
    data, bank, _ = written
    for originator, last in originators(data).items():
        aggregate_id = UUID(originator)
        for version in range(1, last + 1):
            assert replay(bank, aggregate_id, version).version == version
        loaded = bank.repository.get(aggregate_id)  # from its newest snapshot, if any
        assert loaded.version == last
        assert state(loaded) == state(replay(bank, aggregate_id))


def test_the_accounts_answer_what_that_version_answered(written: Any) -> None:
    data, bank, _ = written
    for learner, expected in data["expected"]["accounts"].items():
        account = bank.account(UUID(learner))
        balance = account.balance()
        assert account.version == expected["version"]
        assert {
            "total": str(balance.total),
            "available": str(balance.available),
            "redeemed": str(balance.redeemed),
        } == expected["balance"]
        rows = [
            {k: str(v) for k, v in vars(row_of(UUID(learner), o, 0)).items() if k != "seq"}
            for o in account.outcomes.values()
        ]
        # Later versions may show more about an outcome; what was shown stays the same.
        assert [
            {k: r[k] for k in old} for r, old in zip(rows, expected["transcript"], strict=True)
        ] == expected["transcript"]
        assert sorted(map(str, account.conversions)) == expected["conversions"]
        assert sorted(map(str, account.redemptions)) == expected["redemptions"]


def test_the_history_stays_whole_and_the_views_build_from_it(written: Any) -> None:
    data, bank, settings = written
    report = audit_verify(bank.recorder, bank.database, BankKeys.load_or_create(settings.data_dir))
    assert report.ok, report.problems
    database = database_for(settings)
    try:
        runner = ProjectionRunner(EventSource(bank), database)
        assert runner.catch_up() >= len(data["events"])
        with database.transaction(readonly=True) as cur:
            cur.execute("SELECT COUNT(*) FROM transcript_entries")
            transcript = int(cur.fetchone()[0])
    finally:
        database.close()
    assert transcript == sum(len(a["transcript"]) for a in data["expected"]["accounts"].values())


def test_the_catalogue_lists_what_was_written(written: Any) -> None:
    data, bank, _ = written
    ids = data["ids"]
    assert [str(i.id) for i in bank.institutions()] == ids["institutions"]
    assert [str(s.id) for s in bank.standards()] == ids["standards"]
    assert [str(r.id) for r in bank.recognition_rules()] == ids["recognition_rules"]
    assert [str(r.id) for r in bank.conversion_rules()] == ids["conversion_rules"]
    assert [str(q.id) for q in bank.qualifications()] == ids["qualifications"]
    assert [str(i) for i in bank.learner_ids()] == ids["learners"]


def test_the_erased_learner_stays_erased_and_the_others_readable(written: Any) -> None:
    data, bank, _ = written
    kim, lee, gone = (UUID(i) for i in data["ids"]["learners"][:3])
    assert bank.personal_data(kim)["name"] == "Kim Minji"
    assert bank.personal_data(lee)["identityDocumentType"] == "PASSPORT"
    assert bank.personal_data(gone) is None
    assert bank.learner(gone).erased


def test_identities_claimed_by_earlier_generations_still_hold_and_release(written: Any) -> None:
    """Generation 1 keyed identities by document type and number; they count as documents of
    the bank's own country, under any type (issue 11, finding 5). Generation 2's claims (by
    country and number) hold and release the same way."""
    data, bank, _ = written
    kim, lee, gone = (UUID(i) for i in data["ids"]["learners"][:3])
    born = date(1990, 3, 7)
    assert bank.find_learner("900307-1777777") == kim
    assert bank.find_learner("M12345678") == lee
    with pytest.raises(DuplicateIdentity):
        bank.register_learner("Kim again", "NATIONAL_ID", "9003071777777", born)
    # Erased under generation 1: the person may return.
    back = bank.register_learner("Park Soo", "NATIONAL_ID", "750101-1234567", born)
    assert bank.find_learner("750101-1234567") == back != gone
    # Erased now: the old claim is released too.
    bank.erase_learner(lee, "officer-1")
    assert bank.find_learner("M12345678") is None
    assert bank.register_learner("Lee Jun", "PASSPORT", "M12345678", born) != lee


def test_awards_written_before_statuses_read_as_what_they_meant(written: Any) -> None:
    """Before awards had a status (generation 4), a redemption relying on revoked credit was
    only flagged: it reads back under review, the others standing; none stacked on another, and
    each still spends exactly what it counted."""
    data, bank, _ = written
    awards = [
        (learner, r)
        for learner in map(UUID, data["ids"]["learners"])
        for r in bank.account(learner).redemptions.values()
    ]
    assert awards, "every generation redeemed a qualification"
    if data["generation"] >= 4:
        return  # generation 4 wrote statuses, pathways and the new requirements itself
    for learner, r in awards:
        assert r.status is (AwardStatus.UNDER_REVIEW if r.flags else AwardStatus.STANDING)
        assert (r.stacks_from, r.reviews) == ((), [])
        for e in bank.events.get(bank.account_id(learner)):
            if type(e).__name__ == "CreditsRedeemed":
                assert e.stacks_from == ()  # upcast from version 1
    if data["generation"] == 2:  # it revoked a course under its award
        assert any(r.status is AwardStatus.UNDER_REVIEW for _, r in awards)
    for q in bank.qualifications():  # nothing new is asked of the qualifications written before
        req = q.requirements
        assert (req.max_credits_per_semester, req.min_level_share) == (None, None)
        assert (req.max_credits_by_kind, req.stacks_from) == ((), ())


def test_what_generation_1_did_not_record_is_upcast_to_what_it_meant(written: Any) -> None:
    """Outcomes took their claim as framework credits and said nothing of issue, expiry or
    pass; institutions counted framework credits (events and snapshots alike)."""
    data, bank, _ = written
    if data["generation"] != 1:
        pytest.skip("what generation 1 did not record")
    for learner in data["ids"]["learners"]:
        for o in bank.account(UUID(learner)).outcomes.values():
            assert o.framework_credits == o.credits_claimed
            assert (o.issued_at, o.expires_at, o.passed) == (None, None, None)
            # Its recognitions counted the code claimed: they keep counting it.
            recognised = o.recognized_credits is not None
            assert o.recognized_standard == (o.standard_code if recognised else None)
            assert o.standard_version is None
    for learner in data["ids"]["learners"]:  # nobody was merged
        assert (bank.learner(UUID(learner)).merged_into, bank.learner(UUID(learner)).absorbed) == (
            None,
            [],
        )
        assert bank.account(UUID(learner)).merged_into is None
    for institution in bank.institutions():
        assert institution.credit_schemes == []
    for standard in bank.standards():  # for all learning, any issuer, any result not failed
        assert [(v.version, v.effective_from) for v in standard.versions] == [(1, None)]
        first = standard.versions[0].terms
        assert (first.accepted_issuers, first.accepted_issuer_kinds, first.pass_mark) == (
            (),
            (),
            None,
        )
    for rule in [*bank.recognition_rules(), *bank.conversion_rules()]:
        # Generation 1 applied the newest terms to all learning: so do its versions now.
        assert all(v.effective_from is None for v in rule.versions)
        assert rule.versions[-1].version == rule.rule_version
    old = bank.standards()[1]  # withdrawn by generation 1: from the day it was withdrawn
    last = list(bank.events.get(old.id))[-1]
    assert old.withdrawn_on == last.timestamp.date()
    assert old.version_on(last.timestamp.date()) is None


def test_what_generation_2_recorded_reads_back(written: Any) -> None:
    """Supersession, a retake restored by a revocation, dated and failed credentials, versioned
    standards and rules, a credit scheme and a merge, as generation 2 wrote them."""
    data, bank, _ = written
    if data["generation"] != 2:
        pytest.skip("generation 2's story")
    _, lee, _, twin = (UUID(i) for i in data["ids"]["learners"])
    o = {k: UUID(v) for k, v in data["ids"]["outcomes"].items()}
    account = bank.account(lee)
    assert account.outcome(o["u1"]).superseded_by == o["u2"]
    assert account.outcome(o["p1"]).status.value == "RECOGNIZED"  # restored by the revocation
    assert account.outcome(o["failed"]).passed is False
    assert account.outcome(o["expired"]).expires_at is not None
    assert str(o["w"]) in account.outcomes  # taken over from the merged account
    assert bank.account(twin).merged_into == lee
    assert bank.learner(twin).merged_into == lee
    assert bank.find_learner("880211-1234567") == lee
    standard = bank.standards()[0]
    assert [v.version for v in standard.versions] == [1, 2]
    assert bank.standards()[1].withdrawn_on == date(2025, 9, 1)
    assert [v.effective_from for v in bank.recognition_rules()[0].versions] == [
        None,
        date(2024, 1, 1),
    ]
    college = bank.institutions()[1]
    assert college.credit_schemes[0].hours_per_credit == 15


def test_what_generation_3_recorded_reads_back(written: Any) -> None:
    """Partial conversions, an equivalence, reversals by a learner and by two officers, a
    decision approved and one declined, an appeal upheld, prior learning assessed, and rule
    governance, as generation 3 wrote them."""
    data, bank, _ = written
    if data["generation"] != 3:
        pytest.skip("generation 3's story")
    kim, lee, _ = (UUID(i) for i in data["ids"]["learners"])
    o = {k: UUID(v) for k, v in data["ids"]["outcomes"].items()}
    c = {k: UUID(v) for k, v in data["ids"]["conversions"].items()}
    account = bank.account(kim)
    assert account.outcome(o["a"]).available_credits == Decimal(12)  # 8 of 20 taken
    capped = account.conversions[str(c["capped"])]
    assert (capped.source_credits, capped.credits, len(capped.parts)) == (Decimal(8), Decimal(4), 1)
    equivalent = account.conversions[str(c["equivalent"])]
    assert (equivalent.equivalence, equivalent.credits, equivalent.level) == (True, Decimal(3), 6)
    m = account.outcome(o["m"])
    assert (m.recognized_by, m.approved_by, m.justification) == (
        "officer-1",
        "officer-2",
        "a level 6 capstone",
    )
    assert account.outcome(o["n"]).recognized_credits is None  # declined
    assert account.proposals == {}
    other = bank.account(lee)
    assert other.conversions[str(c["undone"])].reversed_by == "lee"
    assert other.conversions[str(c["later"])].reversed_by == "officer-1"
    assert other.outcome(o["b"]).available_credits == Decimal(6)  # both gave back what they took
    r = other.outcome(o["r"])
    assert r.appeal is not None
    assert (r.appeal.decided_by, r.appeal.heard_by, r.appeal.upheld, r.recognized_by) == (
        "officer-1",
        "officer-2",
        True,
        "officer-2",
    )
    rpl = other.outcome(o["rpl"])
    assert rpl.portfolio is not None
    assert (rpl.kind.value, rpl.recognized_standard, rpl.portfolio.hours) == (
        "PRIOR_LEARNING",
        "ACC-1",
        Decimal(400),
    )
    transfer, equivalence, declined = (
        bank.conversion_rule(UUID(i)) for i in data["ids"]["conversion_rules"]
    )
    assert (transfer.proposed_by, transfer.approved_by, transfer.awaiting()) == (
        "hankuk-registrar",
        "officer-2",
        None,
    )
    assert equivalence.terms.target_credits == Decimal(3)
    assert declined.retired
    assert [r.terms.priority for r in bank.recognition_rules()] == [1, 0]


def test_what_generation_4_recorded_reads_back(written: Any) -> None:
    """Awards spending exactly what they counted, a pathway counted again, reviews reaffirming
    and rescinding, and the new requirements, as generation 4 wrote them."""
    data, bank, _ = written
    if data["generation"] != 4:
        pytest.skip("generation 4's story")
    kim, lee, _ = (UUID(i) for i in data["ids"]["learners"])
    o = {k: UUID(v) for k, v in data["ids"]["outcomes"].items()}
    a = {k: UUID(v) for k, v in data["ids"]["awards"].items()}
    certificate, diploma = (UUID(i) for i in data["ids"]["qualifications"])
    account = bank.account(kim)
    cert = account.award(a["certificate"])
    assert cert.status is AwardStatus.STANDING
    assert [(r.decision.value, r.by) for r in cert.reviews] == [("REAFFIRM", "officer-2")]
    assert str(o["c1"]) not in cert.allocations  # re-allocated without the forged course
    assert cert.credits_counted == Decimal(6)
    dip = account.award(a["diploma"])
    assert dip.status is AwardStatus.RESCINDED
    assert dip.stacks_from == (certificate,)
    assert dip.requires == (certificate,)
    assert account.balance().redeemed == Decimal(6)  # only the reaffirmed certificate spends
    assert bank.account(lee).award(a["lee"]).status is AwardStatus.RESCINDED
    assert bank.account(lee).balance().redeemed == Decimal(0)
    req = bank.qualification(diploma).requirements
    assert req.min_credits_from_awarding == Decimal(3)
    assert [(s.qualification_id, s.counts_again, s.required) for s in req.stacks_from] == [
        (certificate, True, True)
    ]
    assert bank.qualification(certificate).requirements.max_credits_per_semester == 24
