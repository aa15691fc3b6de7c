"""Stored events and snapshots round-trip every value type the domain uses: Decimal, date,
timezone-aware UTC datetime, UUID, every Enum and the state dataclasses. Checked by a bank built
afresh from the settings, reading what the first bank wrote."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.bank import CreditBank
from application.transcodings import STATE_DATACLASSES
from domain import values
from domain.conversion import part_id
from domain.institution import SigningKey
from domain.learner import Consent
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.records import Conversion, ConvertedPart, Outcome, Redemption
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.standard import PassMark, StandardTerms, StandardVersion
from domain.values import (
    ENUM_TYPES,
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    RuleModel,
)
from tests.builders import agreed, deposit, ed25519_jwk, outcome, register_issuer
from tests.conftest import Clock

D = Decimal
KST = timezone(timedelta(hours=9))


def _is_utc(moment: object) -> bool:
    return (
        isinstance(moment, datetime)
        and moment.tzinfo is not None
        and moment.utcoffset() == timedelta(0)
    )


def _events(app: CreditBank, aggregate_id: UUID) -> dict[str, Any]:
    """The aggregate's events by type name (the last of each type)."""
    return {type(e).__name__: e for e in app.events.get(aggregate_id)}


def test_events_and_snapshots_round_trip_every_value_type(
    bank: CreditBank, clock: Clock, reopen: Callable[[], CreditBank]
) -> None:
    clock.now = datetime(2026, 3, 1, 18, 30, 15, 123456, tzinfo=KST)  # not UTC: stored as UTC
    moment = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    jwk = ed25519_jwk("ou-key-1")
    open_u = bank.register_institution(
        "Korea National Open University",
        InstitutionKind.OPEN_UNIVERSITY,
        jwk,
        issuer_uri="https://knou.example.ac.kr",
        key_valid_from=datetime(2015, 1, 1, tzinfo=UTC),
    )
    for n in range(4):  # past the snapshot interval (5)
        bank.add_institution_key(open_u, ed25519_jwk(f"ou-key-{n + 2}"))
    issuer = register_issuer(bank, "Open U (issuer)", InstitutionKind.CERTIFICATION_BODY)
    enterprise = register_issuer(bank, "Hanbit Corp", InstitutionKind.ENTERPRISE).id
    standard = bank.define_standard(
        "VC-1",
        "Vocational certificate",
        4,
        D("4"),
        (OutcomeKind.VOCATIONAL_CERTIFICATE,),
        accepted_issuers=(issuer.id,),
        accepted_issuer_kinds=(InstitutionKind.CERTIFICATION_BODY,),
        pass_mark=PassMark(results=("Pass",), minimum_score=D("60")),
        effective_from=date(2015, 1, 1),
    )
    bank.amend_standard(
        standard,
        StandardTerms(
            title="Vocational certificate (2024)",
            level=4,
            credits=D("3.5"),
            accepted_kinds=(OutcomeKind.VOCATIONAL_CERTIFICATE,),
            pass_mark=PassMark(results=("Pass", "Merit")),
        ),
        effective_from=date(2024, 1, 1),
    )
    criteria = OutcomeCriteria(institution_id=issuer.id, kind=OutcomeKind.VOCATIONAL_CERTIFICATE)
    recognition_terms = RecognitionTerms(
        criteria=criteria,
        credits=D("2.50"),
        level=4,
        category="vocational",
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 12, 31),
    )
    recognition = bank.create_recognition_rule("Certs", RuleModel.FRAMEWORK, recognition_terms)
    conversion_terms = ConversionTerms(
        criteria=OutcomeCriteria(institution_id=issuer.id),
        target_institution_id=open_u,
        target_code="OU-200",
        target_category="vocational",
        ratio=D("1.5"),
        max_credits_per_learner=D("30.5"),
        valid_from=date(2021, 1, 1),
    )
    conversion = agreed(
        bank,
        bank.create_conversion_rule(
            "Certs -> OU",
            RuleModel.AGREEMENT,
            conversion_terms,
            justification="vocational hours are worth more at the Open University",
        ),
    )
    requirements = Requirements(
        total_credits=D("5"),
        minimum_by_category=(CategoryMinimum(category="vocational", credits=D("2.5")),),
        minimum_at_level=(LevelMinimum(level=4, credits=D("1.25")),),
        required_standards=("OU-200",),
        max_converted_share=D("0.75"),
        max_credits_per_institution=D("100"),
        max_credits_per_year=D("42"),
    )
    qualification = bank.create_qualification("OU certificate", 4, open_u, requirements)

    kim = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    bank.verify_learner_identity(kim, IdentityVerification.ELECTRONIC_ID, "officer")
    bank.grant_consent(kim, enterprise, ConsentScope.TRAINING, date(2027, 12, 31))
    bank.revoke_consent(kim, enterprise)
    bank.grant_consent(kim, enterprise, ConsentScope.ALL, date(2028, 1, 31))
    deposited = outcome(
        issuer,
        "vc-1",
        credits="3.25",
        kind=OutcomeKind.VOCATIONAL_CERTIFICATE,
        standard_code="VC-1",
        level=4,
        hours="97.5",
        result="Pass",
        completed_on=date(2025, 6, 30),
    )
    first = deposit(bank, kim, deposited)
    # Three different certificates (one certificate twice would count once).
    second = deposit(
        bank, kim, dataclasses.replace(deposited, credential_id="vc-2", standard_code="VC-2")
    )
    third = deposit(
        bank, kim, dataclasses.replace(deposited, credential_id="vc-3", standard_code="VC-3")
    )
    converted = bank.convert_credits(kim, [first, second], conversion)
    redemption = bank.redeem_qualification(kim, qualification)

    fresh = reopen()
    # -- institution ----------------------------------------------------------------------------
    inst = _events(fresh, open_u)
    assert inst["Registered"].kind is InstitutionKind.OPEN_UNIVERSITY
    assert inst["Registered"].registered_at == moment
    assert _is_utc(inst["Registered"].registered_at)
    assert fresh.institution(open_u).keys["ou-key-1"].public_jwk == jwk
    assert _is_utc(fresh.institution(open_u).keys["ou-key-1"].valid_from)
    # -- learner --------------------------------------------------------------------------------
    learner = _events(fresh, kim)
    assert learner["IdentityVerified"].method is IdentityVerification.ELECTRONIC_ID
    assert learner["IdentityVerified"].verified_at == moment
    granted = learner["ConsentGranted"]
    assert granted.scope is ConsentScope.ALL
    assert type(granted.expires_on) is date
    assert granted.expires_on == date(2028, 1, 31)
    assert isinstance(granted.organization_id, UUID)
    assert granted.organization_id == enterprise
    # -- rules and qualification ------------------------------------------------------------------
    rule_created = _events(fresh, recognition)["Created"]
    assert rule_created.model is RuleModel.FRAMEWORK
    assert type(rule_created.terms) is RecognitionTerms
    assert rule_created.terms == recognition_terms
    assert type(rule_created.terms.criteria) is OutcomeCriteria
    assert rule_created.terms.criteria.kind is OutcomeKind.VOCATIONAL_CERTIFICATE
    assert str(rule_created.terms.credits) == "2.50"
    conversion_created = _events(fresh, conversion)["Created"]
    assert conversion_created.model is RuleModel.AGREEMENT
    assert conversion_created.terms == dataclasses.replace(
        conversion_terms, ratio=D("1.50"), max_credits_per_learner=D("30.50")
    )
    standard_events = _events(fresh, standard)
    defined = standard_events["Defined"]
    assert defined.pass_mark == PassMark(results=("Pass",), minimum_score=D("60"))
    assert type(defined.pass_mark.minimum_score) is Decimal
    assert tuple(defined.accepted_issuers) == (issuer.id,)  # JSON: a list until the aggregate
    assert tuple(defined.accepted_issuer_kinds) == (InstitutionKind.CERTIFICATION_BODY,)
    assert type(defined.effective_from) is date
    amended = standard_events["Amended"].terms
    assert type(amended) is StandardTerms
    assert type(amended.pass_mark) is PassMark
    assert amended.accepted_kinds == (OutcomeKind.VOCATIONAL_CERTIFICATE,)
    versions = fresh.standard(standard).versions
    assert all(type(v) is StandardVersion for v in versions)
    assert [(v.version, v.effective_from) for v in versions] == [
        (1, date(2015, 1, 1)),
        (2, date(2024, 1, 1)),
    ]
    stored_requirements = _events(fresh, qualification)["Created"].requirements
    assert type(stored_requirements) is Requirements
    assert type(stored_requirements.minimum_by_category) is tuple
    assert type(stored_requirements.minimum_by_category[0]) is CategoryMinimum
    assert type(stored_requirements.minimum_at_level[0]) is LevelMinimum
    assert stored_requirements.required_standards == ("OU-200",)
    assert stored_requirements == requirements
    # -- account events -------------------------------------------------------------------------
    account_events = list(fresh.events.get(fresh.account_id(kim)))
    dep = next(e for e in account_events if type(e).__name__ == "OutcomeDeposited")
    assert dep.outcome_id == first
    assert isinstance(dep.outcome_id, UUID)
    assert dep.issuer_id == issuer.id
    assert dep.kind is OutcomeKind.VOCATIONAL_CERTIFICATE
    assert (str(dep.credits), str(dep.hours)) == ("3.25", "97.50")
    assert type(dep.completed_on) is date
    assert dep.completed_on == date(2025, 6, 30)
    assert dep.deposited_at == moment
    assert _is_utc(dep.deposited_at)
    assert all(e.timestamp == moment and _is_utc(e.timestamp) for e in account_events)
    conv = next(e for e in account_events if type(e).__name__ == "CreditsConverted")
    assert list(conv.outcome_ids) == [first, second]
    # The rule recognises each certificate at 2.50 credits, whatever it claims (3.25).
    assert (conv.ratio, conv.source_credits, conv.credits) == (D("1.50"), D("5.00"), D("7.50"))
    redeemed = next(e for e in account_events if type(e).__name__ == "CreditsRedeemed")
    # Exactly the 5 credits required count (a redemption spends what it counts), at most 75%
    # of them (3.75) from conversions. Each source's part (3.75 each) keeps its own date and
    # institution; the cap is filled from one part (of two completed the same day, the first
    # by id), the rest from the third outcome.
    parts = sorted(str(part_id(converted, source)) for source in (first, second))
    assert redeemed.allocations == {
        parts[0]: D("3.75"),
        str(third): D("1.25"),
    }

    # -- snapshots hold the state dataclasses ---------------------------------------------------
    account = fresh.account(kim)
    assert type(account.outcomes[str(first)]) is Outcome
    assert type(account.conversions[str(converted)]) is Conversion
    assert account.conversions[str(converted)].source_ids == (first, second)
    assert all(type(p) is ConvertedPart for p in account.conversions[str(converted)].parts)
    assert type(account.redemptions[str(redemption)]) is Redemption
    kinds = {
        "account": [fresh.snapshots.get(fresh.account_id(kim))],  # type: ignore[union-attr]
        "learner": [fresh.snapshots.get(kim)],  # type: ignore[union-attr]
        "institution": [fresh.snapshots.get(open_u)],  # type: ignore[union-attr]
    }
    snapshots = {name: [s for it in its for s in it] for name, its in kinds.items()}
    assert all(snapshots.values()), {k: len(v) for k, v in snapshots.items()}
    account_state = snapshots["account"][-1].state
    assert all(type(o) is Outcome for o in account_state["outcomes"].values())
    learner_state = snapshots["learner"][-1].state
    assert all(type(c) is Consent for c in learner_state["consents"].values())
    assert learner_state["verification"] is IdentityVerification.ELECTRONIC_ID
    institution_state = snapshots["institution"][-1].state
    assert all(type(k) is SigningKey for k in institution_state["keys"].values())
    assert institution_state["kind"] is InstitutionKind.OPEN_UNIVERSITY

    # -- how they are written (a persistence contract: renaming breaks stored data) ------------
    raw = fresh.recorder.select_events(fresh.account_id(kim), gt=1, lte=2)[0]
    assert raw.topic.endswith("CreditAccount.OutcomeDeposited")
    stored = json.loads(raw.state)
    assert stored["kind"] == {"_type_": "enum:OutcomeKind", "_data_": "VOCATIONAL_CERTIFICATE"}
    assert stored["credits"] == {"_type_": "decimal_str", "_data_": "3.25"}
    assert stored["completed_on"] == {"_type_": "date_iso", "_data_": "2025-06-30"}
    assert stored["outcome_id"] == {"_type_": "uuid_hex", "_data_": first.hex}
    assert stored["deposited_at"]["_type_"] == "datetime_iso"


def test_every_enum_and_state_dataclass_is_registered(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    domain_enums = {
        v
        for v in vars(values).values()
        if isinstance(v, type) and issubclass(v, enum.Enum) and v.__module__ == values.__name__
    }
    assert domain_enums == set(ENUM_TYPES)
    transcoder = reopen().mapper.transcoder
    for enum_type in ENUM_TYPES:
        for member in enum_type:
            assert transcoder.decode(transcoder.encode({"v": member}))["v"] is member
    samples = {
        Consent: Consent(
            organization_id=UUID(int=1),
            scope=ConsentScope.TRAINING,
            expires_on=date(2027, 1, 1),
            granted_at=datetime(2026, 3, 1, tzinfo=UTC),
        ),
        SigningKey: SigningKey(
            kid="k",
            algorithm="EdDSA",
            public_jwk=ed25519_jwk("k"),
            valid_from=datetime(2026, 3, 1, tzinfo=UTC),
            valid_until=None,
            retired_at=datetime(2026, 4, 1, tzinfo=UTC),
        ),
    }
    for cls in (Consent, SigningKey):
        assert cls in STATE_DATACLASSES
        assert transcoder.decode(transcoder.encode(samples[cls])) == samples[cls]
