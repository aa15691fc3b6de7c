"""Every command of CreditBank refuses malformed input with a typed DomainError and stores nothing.

Each case runs one command against a small prepared world and checks the error's class and
``code``, that the event store's highest notification id did not move, and that no learner key
was left behind in ``learner_keys``. The cases of one command share one world (a refusal leaves
it as it was), which keeps the suite fast on both databases. ``test_every_command_has_a_case``
keeps the table complete as commands are added.

Cases that show gaps in the domain's own validation (domain/ is owned elsewhere) are collected in
DOMAIN_GAPS; they were xfail until domain/ validated those inputs, and now pass.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application

from application.bank import CreditBank
from domain.credit_schemes import CreditEquivalence, CreditScheme
from domain.errors import (
    AlreadyRevoked,
    DomainError,
    DuplicateCredential,
    DuplicateIdentity,
    Forbidden,
    IdentityNotVerified,
    InvalidCredential,
    InvalidInput,
    InvalidSignature,
    KeyNotValid,
    NotFound,
    RequirementsNotMet,
    RuleConflict,
    RuleNotApplicable,
    UnknownIssuer,
)
from domain.qualification import (
    CategoryMinimum,
    KindMaximum,
    LevelMinimum,
    Requirements,
    Stacking,
)
from domain.records import EvidenceItem
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.standard import PassMark, StandardTerms
from domain.values import (
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    RuleModel,
)
from tests.builders import (
    SINCE,
    Issuer,
    agreed,
    deposit,
    ed25519_jwk,
    ed25519_private_jwk,
    evidence,
    learner_key_count,
    outcome,
    register_issuer,
    stranger,
)

D = Decimal
MAJOR = "HK-MAJOR"

# Reads, not commands: they change nothing, so they need no refusal case here.
QUERIES = frozenset(
    {
        "register_transcodings",
        "now",
        "tracking",
        "institution",
        "institution_by_issuer",
        "institutions",
        "learner",
        "learner_ids",
        "find_learner",
        "personal_data",
        "standards",
        "standard",
        "standard_by_code",
        "survivor_of",
        "credential_account",
        "recognition_rule",
        "recognition_rules",
        "conversion_rule",
        "conversion_rules",
        "qualification",
        "qualifications",
        "qualification_as_of",
        "goal_for",
        "pathway_for",
        "progress_as_of",
        "awarded_qualification",
        "study_plan",
        "account_id",
        "account",
        "assess",
        "conversion_options",
        "account_version_at",
        "account_history",
    }
)


@dataclass(frozen=True)
class World:
    uni: Issuer
    college: Issuer
    enterprise: UUID
    suspended: UUID
    learner: UUID  # verified (electronic id), consented to the enterprise
    unverified: UUID
    erased: UUID
    recognized: UUID  # the learner's outcome recognised by `rule`
    deposited: UUID  # the learner's outcome no rule decides
    college_outcome: UUID  # recognised, convertible under `conversion`
    revoked: UUID
    pending: UUID  # the unverified learner's deposited outcome
    rule: UUID
    retired_rule: UUID
    conversion: UUID
    retired_conversion: UUID
    qualification: UUID
    retired_qualification: UUID
    rule_terms: RecognitionTerms
    conversion_terms: ConversionTerms
    requirements: Requirements
    converted: UUID  # a conversion of another college outcome, under `conversion`
    graduate: UUID  # a learner holding `award` (of `certificate`)
    award: UUID


@pytest.fixture
def world(bank: CreditBank) -> World:
    uni = register_issuer(bank, "Hankuk University")
    college = register_issuer(bank, "Seoul Junior College", InstitutionKind.JUNIOR_COLLEGE)
    enterprise = register_issuer(bank, "Hanbit Corp", InstitutionKind.ENTERPRISE).id
    suspended = register_issuer(bank, "Closed Academy", InstitutionKind.TRAINING_PROVIDER).id
    bank.suspend_institution(suspended, "licence withdrawn")
    bank.add_institution_key(uni.id, ed25519_jwk("old-key"))
    bank.retire_institution_key(uni.id, "old-key")

    bank.define_standard(MAJOR, "Hankuk major course", 6, D("3"), (OutcomeKind.ACADEMIC_COURSE,))
    rule_terms = RecognitionTerms(
        valid_from=SINCE,
        criteria=OutcomeCriteria(
            institution_id=uni.id, kind=OutcomeKind.ACADEMIC_COURSE, standard_code=MAJOR
        ),
        level=6,
        category="major",
    )
    rule = bank.create_recognition_rule("Hankuk major", RuleModel.FRAMEWORK, rule_terms)
    college_rule = RecognitionTerms(
        valid_from=SINCE,
        criteria=OutcomeCriteria(institution_id=college.id),
        level=5,
        category="major",
    )
    bank.create_recognition_rule("Seoul JC", RuleModel.FRAMEWORK, college_rule)
    retired_rule = bank.create_recognition_rule(
        "Old rule", RuleModel.FRAMEWORK, replace(rule_terms, category="old", priority=-1)
    )
    bank.retire_recognition_rule(retired_rule)
    conversion_terms = ConversionTerms(
        criteria=OutcomeCriteria(institution_id=college.id),
        target_institution_id=uni.id,
        target_code="HK-TRANSFER",
        target_category="major",
        ratio=D("0.8"),
        max_credits_per_learner=D("12"),
    )
    conversion = agreed(
        bank, bank.create_conversion_rule("Transfer", RuleModel.AGREEMENT, conversion_terms)
    )
    retired_conversion = bank.create_conversion_rule(
        "Old transfer", RuleModel.AGREEMENT, replace(conversion_terms, target_code="OLD")
    )
    bank.retire_conversion_rule(retired_conversion)
    requirements = Requirements(
        total_credits=D("140"),
        minimum_by_category=(CategoryMinimum(category="major", credits=D("60")),),
    )
    qualification = bank.create_qualification("Bachelor", 6, uni.id, requirements)
    retired_qualification = bank.create_qualification("Old diploma", 5, uni.id, requirements)
    bank.retire_qualification(retired_qualification)
    bank.define_standard("STD-1", "Accounting I", 5, D("3"), (OutcomeKind.ACADEMIC_COURSE,))
    old_standard = bank.define_standard("STD-OLD", "Bookkeeping", 4, D("2"), (OutcomeKind.MOOC,))
    bank.withdraw_standard(old_standard)

    learner = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    bank.verify_learner_identity(learner, IdentityVerification.ELECTRONIC_ID, "officer")
    bank.grant_consent(learner, enterprise, ConsentScope.TRAINING)
    recognized = deposit(bank, learner, outcome(uni, "hk-1", standard_code=MAJOR))
    deposited = deposit(bank, learner, outcome(uni, "hk-2", kind=OutcomeKind.MOOC))
    college_outcome = deposit(bank, learner, outcome(college, "sjc-1", credits="10"))
    converted_source = deposit(bank, learner, outcome(college, "sjc-2", credits="2"))
    revoked = deposit(bank, learner, outcome(uni, "hk-3", standard_code=MAJOR))
    bank.revoke_outcome(learner, revoked, "issued in error", "officer")
    unverified = bank.register_learner("Lee", "PASSPORT", "M12345678", date(1995, 5, 5))
    pending = deposit(bank, unverified, outcome(uni, "hk-4", standard_code=MAJOR))
    erased = bank.register_learner("Park", "PASSPORT", "P99999999", date(1980, 1, 1))
    bank.erase_learner(erased, "dpo")
    graduate = bank.register_learner("Choi", "PASSPORT", "C12345678", date(1992, 2, 2))
    bank.verify_learner_identity(graduate, IdentityVerification.ELECTRONIC_ID, "officer")
    deposit(bank, graduate, outcome(college, "sjc-9", credits="4"))
    certificate = bank.create_qualification(
        "Certificate", 5, college.id, Requirements(total_credits=D("4"))
    )
    award = bank.redeem_qualification(graduate, certificate)
    return World(
        uni,
        college,
        enterprise,
        suspended,
        learner,
        unverified,
        erased,
        recognized,
        deposited,
        college_outcome,
        revoked,
        pending,
        rule,
        retired_rule,
        conversion,
        retired_conversion,
        qualification,
        retired_qualification,
        rule_terms,
        conversion_terms,
        requirements,
        bank.convert_credits(learner, [converted_source], conversion),
        graduate,
        award,
    )


Call = Callable[[CreditBank, World], object]


def case(command: str, what: str, call: Call, error: type[DomainError], code: str) -> Any:
    return pytest.param(command, call, error, code, id=f"{command}:{what}")


def deposit_with(**changes: Any) -> Call:
    """A deposit into the verified learner's account of a valid outcome with ``changes``."""

    def call(bank: CreditBank, w: World) -> object:
        deposited = replace(outcome(w.uni, "hk-new", standard_code=MAJOR), **changes)
        return bank.deposit(w.learner, deposited, evidence(deposited))

    return call


def raised(answer: object) -> object:
    """An intake line's answer, a refusal raised as the single command raises it."""
    if isinstance(answer, DomainError):
        raise answer
    return answer


def jwk_with(**changes: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = ed25519_jwk("new-key")
    jwk.update(changes)
    return {k: v for k, v in jwk.items() if v is not None}


def vc_jwt(issuer_uri: str, kid: str, key: Ed25519PrivateKey) -> str:
    """A well-formed OB 3.0 AchievementCredential as a VC-JWT, signed with ``key``."""
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0b0e6f0c-5a4e-4c5e-9c1a-3f3e9b1d2a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_uri, "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2025-06-30T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {"id": "urn:example:course", "type": ["Achievement"], "name": "C"},
            "creditsEarned": 3,
        },
    }
    return jwt.encode(credential, key, algorithm="EdDSA", headers={"kid": kid})


RSA_PRIVATE = {"kty": "RSA", "kid": "rsa-1", "n": "sXch", "e": "AQAB", "p": "x", "q": "y"}
SECRET = {"kty": "oct", "kid": "hmac-1", "k": "c2VjcmV0"}
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the clock fixture's time


def reg_inst(
    name: Any = "New College", kind: Any = InstitutionKind.JUNIOR_COLLEGE, **kw: Any
) -> Call:
    jwk = kw.pop("jwk", None) or ed25519_jwk("k1")
    return lambda bank, w: bank.register_institution(name, kind, jwk, **kw)


def reg_learner(
    name: Any = "Choi",
    doc_type: Any = "PASSPORT",
    number: Any = "C7777777",
    born: Any = None,
    country: Any = None,
) -> Call:
    birth = date(1999, 9, 9) if born is None else born
    return lambda bank, w: bank.register_learner(name, doc_type, number, birth, country)


def std_terms(**changes: Any) -> StandardTerms:
    """STD-1's terms (Accounting I, level 5, 3 credits), with ``changes``."""
    fields: dict[str, Any] = dict(
        title="Accounting I (2026)",
        level=5,
        credits=D("3"),
        accepted_kinds=(OutcomeKind.ACADEMIC_COURSE,),
    )
    return StandardTerms(**{**fields, **changes})


def std_1(bank: CreditBank, code: str = "STD-1") -> UUID:
    standard = bank.standard_by_code(code)
    assert standard is not None
    return standard.id


def rec_rule(**changes: Any) -> Call:
    return lambda bank, w: bank.create_recognition_rule(
        "New rule", RuleModel.FRAMEWORK, replace(w.rule_terms, **changes)
    )


def conv_rule(**changes: Any) -> Call:
    return lambda bank, w: bank.create_conversion_rule(
        "New transfer", RuleModel.AGREEMENT, replace(w.conversion_terms, **changes)
    )


def qual(level: Any = 6, awarding: UUID | None = None, **changes: Any) -> Call:
    return lambda bank, w: bank.create_qualification(
        "Associate",
        level,
        awarding or w.uni.id,
        replace(w.requirements, **changes),
    )


CASES = [
    # -- institutions -------------------------------------------------------------------------
    case("register_institution", "empty-name", reg_inst(name="  "), InvalidInput, "INVALID_INPUT"),
    case("register_institution", "name-not-text", reg_inst(name=42), InvalidInput, "INVALID_INPUT"),
    case(
        "register_institution",
        "zero-hours-per-credit",
        reg_inst(hours_per_credit=D("0")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "private-ed25519-jwk",
        reg_inst(jwk=ed25519_private_jwk("k1")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "private-rsa-jwk",
        reg_inst(jwk=RSA_PRIVATE),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution", "symmetric-jwk", reg_inst(jwk=SECRET), InvalidInput, "INVALID_INPUT"
    ),
    case(
        "register_institution",
        "jwk-without-kid",
        reg_inst(jwk=jwk_with(kid=None)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "jwk-wrong-curve",
        reg_inst(jwk=jwk_with(crv="X25519")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "jwk-not-an-object",
        reg_inst(jwk='{"kty": "OKP"}'),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "issuer-uri-not-absolute",
        reg_inst(issuer_uri="hankuk.ac.kr"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "key-window-reversed",
        reg_inst(key_valid_from=NOW, key_valid_until=datetime(2020, 1, 1, tzinfo=UTC)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_institution",
        "naive-key-date",
        reg_inst(key_valid_from=datetime(2020, 1, 1)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "add_institution_key",
        "private-key-material",
        lambda b, w: b.add_institution_key(w.uni.id, ed25519_private_jwk("k2")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "add_institution_key",
        "kid-taken",
        lambda b, w: b.add_institution_key(w.uni.id, ed25519_jwk(w.uni.kid)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "add_institution_key",
        "unknown-institution",
        lambda b, w: b.add_institution_key(uuid4(), ed25519_jwk("k2")),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "add_institution_key",
        "institution-id-not-a-uuid",
        lambda b, w: b.add_institution_key("hankuk", ed25519_jwk("k2")),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "retire_institution_key",
        "unknown-kid",
        lambda b, w: b.retire_institution_key(w.uni.id, "nope"),
        KeyNotValid,
        "KEY_NOT_VALID",
    ),
    case(
        "retire_institution_key",
        "already-retired",
        lambda b, w: b.retire_institution_key(w.uni.id, "old-key"),
        KeyNotValid,
        "KEY_NOT_VALID",
    ),
    case(
        "retire_institution_key",
        "unknown-institution",
        lambda b, w: b.retire_institution_key(uuid4(), "k1"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "revoke_institution_key",
        "unknown-kid",
        lambda b, w: b.revoke_institution_key(w.uni.id, "nope", NOW, "leaked"),
        KeyNotValid,
        "KEY_NOT_VALID",
    ),
    case(
        "revoke_institution_key",
        "compromised-in-the-future",
        lambda b, w: b.revoke_institution_key(w.uni.id, "old-key", NOW.replace(year=2099), "x"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "revoke_institution_key",
        "empty-reason",
        lambda b, w: b.revoke_institution_key(w.uni.id, "old-key", NOW, " "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "revoke_institution_key",
        "unknown-institution",
        lambda b, w: b.revoke_institution_key(uuid4(), "k1", NOW, "leaked"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "review_compromised",
        "key-not-revoked",
        lambda b, w: b.review_compromised(w.uni.id, "old-key", [], "admin"),
        KeyNotValid,
        "KEY_NOT_VALID",
    ),
    case(
        "clear_outcome_review",
        "not-under-review",
        lambda b, w: b.clear_outcome_review(w.learner, w.recognized, "checked", "officer"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "clear_outcome_review",
        "unknown-outcome",
        lambda b, w: b.clear_outcome_review(w.learner, uuid4(), "checked", "officer"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "establish_status",
        "unknown-outcome",
        lambda b, w: b.establish_status(w.learner, uuid4(), "read"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "establish_status",
        "unknown-learner",
        lambda b, w: b.establish_status(uuid4(), w.recognized, "read"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "declare_credit_scheme",
        "neither-hours-nor-table",
        lambda b, w: b.declare_credit_scheme(w.uni.id, CreditScheme()),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "hours-and-table",
        lambda b, w: b.declare_credit_scheme(
            w.uni.id,
            CreditScheme(
                hours_per_credit=D("15"),
                table=(CreditEquivalence(native=D("3"), framework=D("2")),),
            ),
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "zero-hours",
        lambda b, w: b.declare_credit_scheme(w.uni.id, CreditScheme(hours_per_credit=D("0"))),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "absurd-hours",
        lambda b, w: b.declare_credit_scheme(w.uni.id, CreditScheme(hours_per_credit=D("5000"))),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "a-value-twice-in-the-table",
        lambda b, w: b.declare_credit_scheme(
            w.uni.id,
            CreditScheme(
                table=(
                    CreditEquivalence(native=D("3"), framework=D("2")),
                    CreditEquivalence(native=D("3.00"), framework=D("1")),
                )
            ),
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "effective-from-as-text",
        lambda b, w: b.declare_credit_scheme(
            w.uni.id,
            CreditScheme(hours_per_credit=D("15"), effective_from="2020-01-01"),  # type: ignore[arg-type]
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "not-a-scheme",
        lambda b, w: b.declare_credit_scheme(w.uni.id, {"hoursPerCredit": 15}),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "declare_credit_scheme",
        "unknown-institution",
        lambda b, w: b.declare_credit_scheme(uuid4(), CreditScheme(hours_per_credit=D("15"))),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "suspend_institution",
        "empty-reason",
        lambda b, w: b.suspend_institution(w.uni.id, " "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "suspend_institution",
        "already-suspended",
        lambda b, w: b.suspend_institution(w.suspended, "again"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "suspend_institution",
        "unknown-institution",
        lambda b, w: b.suspend_institution(uuid4(), "why"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "reactivate_institution",
        "already-active",
        lambda b, w: b.reactivate_institution(w.uni.id),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "reactivate_institution",
        "unknown-institution",
        lambda b, w: b.reactivate_institution(uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    # -- learners -----------------------------------------------------------------------------
    case("register_learner", "empty-name", reg_learner(name=""), InvalidInput, "INVALID_INPUT"),
    case(
        "register_learner",
        "name-not-text",
        reg_learner(name=["Choi"]),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "name-with-control-character",
        reg_learner(name="Choi\x00"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "name-too-long",
        reg_learner(name="C" * 201),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "unknown-document-type",
        reg_learner(doc_type="DRIVING_LICENCE"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "document-number-without-characters",
        reg_learner(number=" -- "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "unknown-country",
        reg_learner(country="ZZ"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "country-not-text",
        reg_learner(country=156),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "same-number-under-another-type",
        reg_learner(doc_type="NATIONAL_ID", number="900307-1777777"),
        DuplicateIdentity,
        "DUPLICATE_IDENTITY",
    ),
    case(
        "register_learner",
        "birth-date-in-future",
        reg_learner(born=date(2026, 3, 2)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "birth-date-implausible",
        reg_learner(born=date(1850, 1, 1)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "birth-date-as-text",
        reg_learner(born="1999-09-09"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "birth-date-as-datetime",
        reg_learner(born=NOW),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "register_learner",
        "identity-taken",
        reg_learner(doc_type="passport", number="m1234-5678"),
        DuplicateIdentity,
        "DUPLICATE_IDENTITY",
    ),
    case(
        "verify_learner_identity",
        "unverified-is-no-method",
        lambda b, w: b.verify_learner_identity(w.unverified, IdentityVerification.UNVERIFIED, "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "verify_learner_identity",
        "downgrade",
        lambda b, w: b.verify_learner_identity(
            w.learner, IdentityVerification.DOCUMENT_CHECKED, "o"
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "verify_learner_identity",
        "erased-learner",
        lambda b, w: b.verify_learner_identity(w.erased, IdentityVerification.ELECTRONIC_ID, "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "verify_learner_identity",
        "unknown-learner",
        lambda b, w: b.verify_learner_identity(uuid4(), IdentityVerification.ELECTRONIC_ID, "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "verify_learner_identity",
        "learner-id-not-a-uuid",
        lambda b, w: b.verify_learner_identity("kim", IdentityVerification.ELECTRONIC_ID, "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "grant_consent",
        "not-an-enterprise",
        lambda b, w: b.grant_consent(w.learner, w.uni.id, ConsentScope.ALL),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "grant_consent",
        "expired-already",
        lambda b, w: b.grant_consent(w.learner, w.enterprise, ConsentScope.ALL, date(2026, 2, 28)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "grant_consent",
        "unknown-organisation",
        lambda b, w: b.grant_consent(w.learner, uuid4(), ConsentScope.ALL),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "grant_consent",
        "erased-learner",
        lambda b, w: b.grant_consent(w.erased, w.enterprise, ConsentScope.ALL),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "revoke_consent",
        "no-such-consent",
        lambda b, w: b.revoke_consent(w.unverified, w.enterprise),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "revoke_consent",
        "unknown-learner",
        lambda b, w: b.revoke_consent(uuid4(), w.enterprise),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "erase_learner",
        "already-erased",
        lambda b, w: b.erase_learner(w.erased, "dpo"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "erase_learner",
        "unknown-learner",
        lambda b, w: b.erase_learner(uuid4(), "dpo"),
        NotFound,
        "NOT_FOUND",
    ),
    # -- catalogue ----------------------------------------------------------------------------
    case(
        "define_standard",
        "level-above-framework",
        lambda b, w: b.define_standard("STD-2", "T", 9, D("3"), (OutcomeKind.MOOC,)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "level-zero",
        lambda b, w: b.define_standard("STD-2", "T", 0, D("3"), (OutcomeKind.MOOC,)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "nan-credits",
        lambda b, w: b.define_standard("STD-2", "T", 3, D("NaN"), (OutcomeKind.MOOC,)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "no-kinds",
        lambda b, w: b.define_standard("STD-2", "T", 3, D("3"), ()),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "empty-code",
        lambda b, w: b.define_standard("", "T", 3, D("3"), (OutcomeKind.MOOC,)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_recognition_rule",
        "effective-from-as-text",
        lambda b, w: b.amend_recognition_rule(
            w.rule,
            replace(w.rule_terms, category="other"),
            "2025-01-01",  # type: ignore[arg-type]
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "merge_learners",
        "into-itself",
        lambda b, w: b.merge_learners(w.learner, w.learner, "same", "officer-1"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "merge_learners",
        "unknown-survivor",
        lambda b, w: b.merge_learners(uuid4(), w.unverified, "same person", "officer-1"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "merge_learners",
        "unknown-duplicate",
        lambda b, w: b.merge_learners(w.learner, uuid4(), "same person", "officer-1"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "merge_learners",
        "erased-duplicate",
        lambda b, w: b.merge_learners(w.learner, w.erased, "same person", "officer-1"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "merge_learners",
        "no-reason",
        lambda b, w: b.merge_learners(w.learner, w.unverified, " ", "officer-1"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "unknown-accepted-issuer",
        lambda b, w: b.define_standard(
            "STD-2", "T", 3, D("3"), (OutcomeKind.MOOC,), accepted_issuers=(uuid4(),)
        ),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "define_standard",
        "empty-pass-mark",
        lambda b, w: b.define_standard(
            "STD-2", "T", 3, D("3"), (OutcomeKind.MOOC,), pass_mark=PassMark()
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "effective-from-as-text",
        lambda b, w: b.define_standard(
            "STD-2",
            "T",
            3,
            D("3"),
            (OutcomeKind.MOOC,),
            effective_from="soon",  # type: ignore[arg-type]
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_standard",
        "unknown-standard",
        lambda b, w: b.amend_standard(uuid4(), std_terms()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "amend_standard",
        "changes-nothing",
        lambda b, w: b.amend_standard(std_1(b), std_terms(title="Accounting I", level=5)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_standard",
        "level-above-framework",
        lambda b, w: b.amend_standard(std_1(b), std_terms(level=9)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_standard",
        "withdrawn",
        lambda b, w: b.amend_standard(std_1(b, "STD-OLD"), std_terms()),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "withdraw_standard",
        "unknown-standard",
        lambda b, w: b.withdraw_standard(uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "withdraw_standard",
        "twice",
        lambda b, w: b.withdraw_standard(std_1(b, "STD-OLD")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "withdraw_standard",
        "date-as-text",
        lambda b, w: b.withdraw_standard(std_1(b), "tomorrow"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "define_standard",
        "code-taken",
        lambda b, w: b.define_standard(" STD-1 ", "T", 3, D("3"), (OutcomeKind.MOOC,)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_recognition_rule",
        "level-above-framework",
        rec_rule(level=9),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_recognition_rule",
        "negative-credits",
        rec_rule(credits=D("-1")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_recognition_rule",
        "too-precise-credits",
        rec_rule(credits=D("2.555")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_recognition_rule",
        "empty-category",
        rec_rule(category=""),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_recognition_rule",
        "window-reversed",
        rec_rule(valid_from=date(2026, 1, 1), valid_until=date(2025, 1, 1)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_recognition_rule",
        "unknown-issuer",
        rec_rule(criteria=OutcomeCriteria(institution_id=uuid4())),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "create_recognition_rule",
        "issuer-id-not-a-uuid",
        rec_rule(criteria=OutcomeCriteria(institution_id="hankuk")),  # type: ignore[arg-type]
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "amend_recognition_rule",
        "unchanged",
        lambda b, w: b.amend_recognition_rule(w.rule, w.rule_terms),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_recognition_rule",
        "level-zero",
        lambda b, w: b.amend_recognition_rule(w.rule, replace(w.rule_terms, level=0)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_recognition_rule",
        "retired",
        lambda b, w: b.amend_recognition_rule(w.retired_rule, replace(w.rule_terms, level=5)),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "amend_recognition_rule",
        "unknown-rule",
        lambda b, w: b.amend_recognition_rule(uuid4(), w.rule_terms),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "amend_recognition_rule",
        "a-conversion-rule-id",
        lambda b, w: b.amend_recognition_rule(w.conversion, w.rule_terms),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "retire_recognition_rule",
        "already-retired",
        lambda b, w: b.retire_recognition_rule(w.retired_rule),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "retire_recognition_rule",
        "unknown-rule",
        lambda b, w: b.retire_recognition_rule(uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "create_conversion_rule",
        "zero-ratio",
        conv_rule(ratio=D("0")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "nan-ratio",
        conv_rule(ratio=D("NaN")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "ratio-above-ten",
        conv_rule(ratio=D("11")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "too-precise-ratio",
        conv_rule(ratio=D("0.333")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "negative-cap",
        conv_rule(max_credits_per_learner=D("-5")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "empty-target-code",
        conv_rule(target_code=" "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "agreement-without-source",
        conv_rule(criteria=OutcomeCriteria()),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "unknown-target",
        conv_rule(target_institution_id=uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "amend_conversion_rule",
        "unchanged",
        lambda b, w: b.amend_conversion_rule(w.conversion, w.conversion_terms),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_conversion_rule",
        "negative-ratio",
        lambda b, w: b.amend_conversion_rule(
            w.conversion, replace(w.conversion_terms, ratio=D("-0.5"))
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_conversion_rule",
        "unknown-rule",
        lambda b, w: b.amend_conversion_rule(uuid4(), w.conversion_terms),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "retire_conversion_rule",
        "already-retired",
        lambda b, w: b.retire_conversion_rule(w.retired_conversion),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "retire_conversion_rule",
        "a-recognition-rule-id",
        lambda b, w: b.retire_conversion_rule(w.rule),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "create_qualification",
        "level-above-framework",
        qual(level=9),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "level-share-above-one",
        qual(min_level_share=D("1.5")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "negative-semester-cap",
        qual(max_credits_per_semester=D("-3")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "a-kind-capped-twice",
        qual(
            max_credits_by_kind=(
                KindMaximum(kind=OutcomeKind.MOOC, credits=D(3)),
                KindMaximum(kind=OutcomeKind.MOOC, credits=D(6)),
            )
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "not-a-kind",
        qual(max_credits_by_kind=(KindMaximum(kind="DIPLOMA", credits=D(3)),)),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "stacks-from-an-unknown-qualification",
        qual(stacks_from=(Stacking(qualification_id=UUID(int=7)),)),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "create_qualification",
        "stacks-from-a-rule",
        lambda bank, w: bank.create_qualification(
            "Associate",
            6,
            w.uni.id,
            replace(w.requirements, stacks_from=(Stacking(qualification_id=w.rule),)),
        ),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "create_qualification",
        "stacked-twice",
        lambda bank, w: bank.create_qualification(
            "Associate",
            6,
            w.uni.id,
            replace(
                w.requirements,
                stacks_from=(
                    Stacking(qualification_id=w.qualification),
                    Stacking(qualification_id=w.qualification, required=True),
                ),
            ),
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_qualification",
        "stacks-into-itself",
        lambda bank, w: bank.amend_qualification(
            w.qualification,
            replace(w.requirements, stacks_from=(Stacking(qualification_id=w.qualification),)),
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "nan-total",
        qual(total_credits=D("NaN")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "infinite-total",
        qual(total_credits=D("Infinity")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "category-twice",
        qual(
            minimum_by_category=(
                CategoryMinimum(category="major", credits=D("30")),
                CategoryMinimum(category="major", credits=D("20")),
            )
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "minimum-at-level-above-framework",
        qual(minimum_at_level=(LevelMinimum(level=9, credits=D("30")),)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "converted-share-above-one",
        qual(max_converted_share=D("1.5")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "negative-yearly-cap",
        qual(max_credits_per_year=D("-42")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_qualification",
        "unknown-awarding-institution",
        qual(awarding=uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "amend_qualification",
        "unchanged",
        lambda b, w: b.amend_qualification(w.qualification, w.requirements),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_qualification",
        "too-precise-total",
        lambda b, w: b.amend_qualification(
            w.qualification, replace(w.requirements, total_credits=D("139.999"))
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "amend_qualification",
        "retired",
        lambda b, w: b.amend_qualification(
            w.retired_qualification, replace(w.requirements, total_credits=D("80"))
        ),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "amend_qualification",
        "unknown-qualification",
        lambda b, w: b.amend_qualification(uuid4(), w.requirements),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "retire_qualification",
        "already-retired",
        lambda b, w: b.retire_qualification(w.retired_qualification),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "retire_qualification",
        "unknown-qualification",
        lambda b, w: b.retire_qualification(uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    # -- deposits -----------------------------------------------------------------------------
    case("deposit", "nan-credits", deposit_with(credits=D("NaN")), InvalidInput, "INVALID_INPUT"),
    case(
        "deposit",
        "infinite-credits",
        deposit_with(credits=D("-Infinity")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit", "negative-credits", deposit_with(credits=D("-3")), InvalidInput, "INVALID_INPUT"
    ),
    case("deposit", "zero-credits", deposit_with(credits=D("0")), InvalidInput, "INVALID_INPUT"),
    case(
        "deposit",
        "too-precise-credits",
        deposit_with(credits=D("1.005")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "too-many-credits",
        deposit_with(credits=D("1000.01")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "credits-not-a-number",
        deposit_with(credits="three"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case("deposit", "nan-hours", deposit_with(hours=D("NaN")), InvalidInput, "INVALID_INPUT"),
    case(
        "deposit",
        "completed-in-future",
        deposit_with(completed_on=date(2026, 3, 2)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "completed-on-as-text",
        deposit_with(completed_on="2025-06-30"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case("deposit", "level-above-framework", deposit_with(level=9), InvalidInput, "INVALID_INPUT"),
    case("deposit", "level-zero", deposit_with(level=0), InvalidInput, "INVALID_INPUT"),
    case(
        "deposit",
        "empty-credential-id",
        deposit_with(credential_id="  "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "credential-id-not-text",
        deposit_with(credential_id=101),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case("deposit", "empty-title", deposit_with(title=""), InvalidInput, "INVALID_INPUT"),
    case(
        "deposit",
        "naive-issued-at",
        deposit_with(issued_at=datetime(2025, 6, 30)),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case("deposit", "unknown-key", deposit_with(key_id="stolen-key"), KeyNotValid, "KEY_NOT_VALID"),
    case("deposit", "no-key", deposit_with(key_id=None), KeyNotValid, "KEY_NOT_VALID"),
    case(
        "deposit",
        "before-key-valid",
        deposit_with(completed_on=date(2014, 12, 31)),
        KeyNotValid,
        "KEY_NOT_VALID",
    ),
    case(
        "deposit",
        "retired-key",
        deposit_with(key_id="old-key", issued_at=datetime(2026, 3, 1, 10, tzinfo=UTC)),
        KeyNotValid,
        "KEY_NOT_VALID",
    ),
    case(
        "deposit",
        "suspended-issuer",
        lambda b, w: deposit(b, w.learner, replace(outcome(w.uni, "x"), issuer_id=w.suspended)),
        UnknownIssuer,
        "UNKNOWN_ISSUER",
    ),
    case(
        "deposit",
        "unknown-issuer",
        lambda b, w: deposit(b, w.learner, outcome(stranger(uuid4()), "x")),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "deposit",
        "issuer-id-not-a-uuid",
        lambda b, w: deposit(b, w.learner, outcome(stranger("hankuk"), "x")),  # type: ignore[arg-type]
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "deposit",
        "unknown-learner",
        lambda b, w: deposit(b, uuid4(), outcome(w.uni, "x")),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "deposit",
        "learner-id-not-a-uuid",
        lambda b, w: deposit(b, "kim", outcome(w.uni, "x")),  # type: ignore[arg-type]
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "deposit",
        "erased-learner",
        lambda b, w: deposit(b, w.erased, outcome(w.uni, "x")),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "duplicate",
        lambda b, w: deposit(b, w.learner, outcome(w.uni, "hk-1")),
        DuplicateCredential,
        "DUPLICATE_CREDENTIAL",
    ),
    case(
        "deposit",
        "empty-evidence",
        lambda b, w: b.deposit(w.learner, outcome(w.uni, "x"), b""),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "evidence-as-text",
        lambda b, w: b.deposit(w.learner, outcome(w.uni, "x"), "{}"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "deposit",
        "not-an-outcome",
        lambda b, w: b.deposit(w.learner, {"issuer_id": w.uni.id}, b"{}"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
    ),
    # -- recognition, conversion, redemption, revocation --------------------------------------
    case(
        "apply_recognition_rules",
        "unknown-learner",
        lambda b, w: b.apply_recognition_rules(uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "apply_recognition_rules",
        "learner-id-not-a-uuid",
        lambda b, w: b.apply_recognition_rules("kim"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "recognize_outcome",
        "identity-not-verified",
        lambda b, w: b.recognize_outcome(w.unverified, w.pending, "o", D("3"), 6, "major"),
        IdentityNotVerified,
        "IDENTITY_NOT_VERIFIED",
    ),
    case(
        "recognize_outcome",
        "already-recognised",
        lambda b, w: b.recognize_outcome(w.learner, w.recognized, "o", D("3"), 6, "major"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "recognize_outcome",
        "no-rule-applies",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o"),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "recognize_outcome",
        "officer-without-category",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o", D("3"), 5),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "recognize_outcome",
        "nan-credits",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o", D("NaN"), 5, "elective"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "recognize_outcome",
        "too-precise-credits",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o", D("0.125"), 5, "elective"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "recognize_outcome",
        "level-above-framework",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o", D("3"), 9, "elective"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "recognize_outcome",
        "empty-category",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o", D("3"), 5, " "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "recognize_outcome",
        "unknown-outcome",
        lambda b, w: b.recognize_outcome(w.learner, uuid4(), "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "recognize_outcome",
        "another-learners-outcome",
        lambda b, w: b.recognize_outcome(w.learner, w.pending, "o", D("3"), 6, "major"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "reject_outcome",
        "empty-reason",
        lambda b, w: b.reject_outcome(w.learner, w.deposited, "", "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "reject_outcome",
        "already-recognised",
        lambda b, w: b.reject_outcome(w.learner, w.recognized, "late", "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "reject_outcome",
        "unknown-outcome",
        lambda b, w: b.reject_outcome(w.learner, uuid4(), "why", "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "convert_credits",
        "nothing-to-convert",
        lambda b, w: b.convert_credits(w.learner, [], w.conversion),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "convert_credits",
        "outcome-listed-twice",
        lambda b, w: b.convert_credits(
            w.learner, [w.college_outcome, w.college_outcome], w.conversion
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "convert_credits",
        "outcome-of-another-institution",
        lambda b, w: b.convert_credits(w.learner, [w.recognized], w.conversion),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "convert_credits",
        "outcome-not-recognised",
        lambda b, w: b.convert_credits(w.learner, [w.deposited], w.conversion),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "convert_credits",
        "revoked-outcome",
        lambda b, w: b.convert_credits(w.learner, [w.revoked], w.conversion),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "convert_credits",
        "retired-rule",
        lambda b, w: b.convert_credits(w.learner, [w.college_outcome], w.retired_conversion),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "convert_credits",
        "unknown-rule",
        lambda b, w: b.convert_credits(w.learner, [w.college_outcome], uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "convert_credits",
        "unknown-outcome",
        lambda b, w: b.convert_credits(w.learner, [uuid4()], w.conversion),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "redeem_qualification",
        "requirements-not-met",
        lambda b, w: b.redeem_qualification(w.learner, w.qualification),
        RequirementsNotMet,
        "REQUIREMENTS_NOT_MET",
    ),
    case(
        "redeem_qualification",
        "retired-qualification",
        lambda b, w: b.redeem_qualification(w.learner, w.retired_qualification),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "redeem_qualification",
        "unknown-qualification",
        lambda b, w: b.redeem_qualification(w.learner, uuid4()),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "redeem_qualification",
        "a-rule-id",
        lambda b, w: b.redeem_qualification(w.learner, w.rule),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "redeem_qualification",
        "unknown-learner",
        lambda b, w: b.redeem_qualification(uuid4(), w.qualification),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "review_award",
        "unknown-decision",
        lambda b, w: b.review_award(w.graduate, w.award, "MAYBE", "x", "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "review_award",
        "decision-not-text",
        lambda b, w: b.review_award(w.graduate, w.award, 1, "x", "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "review_award",
        "empty-reason",
        lambda b, w: b.review_award(w.graduate, w.award, "RESCIND", "  ", "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "review_award",
        "reaffirm-a-standing-award",
        lambda b, w: b.review_award(w.graduate, w.award, "REAFFIRM", "fine", "o"),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "review_award",
        "unknown-award",
        lambda b, w: b.review_award(w.graduate, uuid4(), "RESCIND", "x", "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "review_award",
        "another-learners-award",
        lambda b, w: b.review_award(w.learner, w.award, "RESCIND", "x", "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "review_award",
        "unknown-learner",
        lambda b, w: b.review_award(uuid4(), w.award, "RESCIND", "x", "o"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "revoke_outcome",
        "empty-reason",
        lambda b, w: b.revoke_outcome(w.learner, w.recognized, " ", "o"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "revoke_outcome",
        "reason-not-text",
        lambda b, w: b.revoke_outcome(w.learner, w.recognized, None, "o"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "revoke_outcome",
        "not-the-issuer",
        lambda b, w: b.revoke_outcome(w.learner, w.recognized, "r", "o", w.college.id),
        Forbidden,
        "FORBIDDEN",
    ),
    case(
        "revoke_outcome",
        "already-revoked",
        lambda b, w: b.revoke_outcome(w.learner, w.revoked, "again", "o"),
        AlreadyRevoked,
        "ALREADY_REVOKED",
    ),
    # -- signed credentials (Open Badges VC-JWT) ------------------------------------------------
    case(
        "verify_credential",
        "empty",
        lambda b, w: b.verify_credential("  "),
        InvalidCredential,
        "INVALID_CREDENTIAL",
    ),
    case(
        "verify_credential",
        "not-a-jws",
        lambda b, w: b.verify_credential("a.b"),
        InvalidCredential,
        "INVALID_CREDENTIAL",
    ),
    case(
        "deposit_credential",
        "not-a-jws",
        lambda b, w: b.deposit_credential(w.learner, "not-a-jwt"),
        InvalidCredential,
        "INVALID_CREDENTIAL",
    ),
    case(
        "deposit_credential",
        "unregistered-issuer",
        lambda b, w: b.deposit_credential(
            w.learner, vc_jwt("https://diploma-mill.example", "k1", Ed25519PrivateKey.generate())
        ),
        UnknownIssuer,
        "UNKNOWN_ISSUER",
    ),
    case(
        "deposit_credential",
        "signed-by-another-key",
        lambda b, w: b.deposit_credential(
            w.learner, vc_jwt(f"urn:uuid:{w.uni.id}", w.uni.kid, Ed25519PrivateKey.generate())
        ),
        InvalidSignature,
        "INVALID_SIGNATURE",
    ),
    case(
        "verify_statement",
        "unsigned",
        lambda b, w: b.verify_statement({"actor": {}, "verb": {}, "object": {}}),
        InvalidCredential,
        "INVALID_CREDENTIAL",
    ),
    case(
        "deposit_statement",
        "not-json",
        lambda b, w: b.deposit_statement(w.learner, "{not json", None, None),
        InvalidCredential,
        "INVALID_CREDENTIAL",
    ),
    case(
        "deposit_statement_line",
        "not-json",
        lambda b, w: raised(b.deposit_statement_line(w.learner, "{not json", None, w.uni.id)),
        InvalidCredential,
        "INVALID_CREDENTIAL",
    ),
    case(
        "deposit_groups",
        "no-learner",
        lambda b, w: b.deposit_groups({}, None, w.uni.id),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "revoke_outcome",
        "unknown-outcome",
        lambda b, w: b.revoke_outcome(w.learner, uuid4(), "r", "o"),
        NotFound,
        "NOT_FOUND",
    ),
    # -- governance: rules in force, decisions seen twice, reversals, appeals, RPL ------------
    case(
        "accept_conversion_rule",
        "not-a-party",
        lambda b, w: b.accept_conversion_rule(w.conversion, w.enterprise, "hr"),
        Forbidden,
        "FORBIDDEN",
    ),
    case(
        "accept_conversion_rule",
        "unknown-rule",
        lambda b, w: b.accept_conversion_rule(uuid4(), w.uni.id, "registrar"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "approve_conversion_rule",
        "needs-no-approval",
        lambda b, w: b.approve_conversion_rule(w.conversion, "officer-2"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "approve_conversion_rule",
        "retired",
        lambda b, w: b.approve_conversion_rule(w.retired_conversion, "officer-2"),
        RuleNotApplicable,
        "RULE_NOT_APPLICABLE",
    ),
    case(
        "decline_conversion_rule",
        "in-force",
        lambda b, w: b.decline_conversion_rule(w.conversion, "officer", "no"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "decline_conversion_rule",
        "not-awaited-party",
        lambda b, w: b.decline_conversion_rule(w.conversion, "hr", "no", w.enterprise),
        Forbidden,
        "FORBIDDEN",
    ),
    case(
        "create_conversion_rule",
        "credit-creating-without-justification",
        conv_rule(ratio=D("1.5"), target_code="HK-MORE"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "equivalence-without-level",
        conv_rule(target_credits=D("3"), target_code="HK-EQ"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "equivalence-with-a-ratio",
        conv_rule(target_credits=D("3"), target_level=6, ratio=D("0.5"), target_code="HK-EQ"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "create_conversion_rule",
        "overlapping-same-target-same-priority",
        conv_rule(ratio=D("0.5")),
        RuleConflict,
        "RULE_CONFLICT",
    ),
    case(
        "create_recognition_rule",
        "overlapping-same-priority",
        lambda b, w: b.create_recognition_rule(
            "Rival", RuleModel.FRAMEWORK, replace(w.rule_terms, category="rival")
        ),
        RuleConflict,
        "RULE_CONFLICT",
    ),
    case(
        "approve_decision",
        "nothing-waits",
        lambda b, w: b.approve_decision(w.learner, uuid4(), "officer-2"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "decline_decision",
        "nothing-waits",
        lambda b, w: b.decline_decision(w.learner, uuid4(), "officer-2", "no"),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "recognize_outcome",
        "beyond-the-claim-without-justification",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "officer", D("99"), 5, "x"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "reverse_conversion",
        "unknown-conversion",
        lambda b, w: b.reverse_conversion(w.learner, uuid4(), "learner", by_officer=False),
        NotFound,
        "NOT_FOUND",
    ),
    case(
        "reverse_conversion",
        "officer-without-justification",
        lambda b, w: b.reverse_conversion(w.learner, w.converted, "officer", by_officer=True),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "appeal_decision",
        "nothing-decided",
        lambda b, w: b.appeal_decision(w.learner, w.deposited, "unfair"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "appeal_decision",
        "empty-grounds",
        lambda b, w: b.appeal_decision(w.learner, w.recognized, "  "),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "hear_appeal",
        "no-appeal",
        lambda b, w: b.hear_appeal(w.learner, w.recognized, "officer-2", False, "stands"),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "apply_for_prior_learning",
        "no-evidence",
        lambda b, w: b.apply_for_prior_learning(
            w.learner, "Bookkeeping at work", date(2024, 1, 1), "ten years of ledgers", []
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "apply_for_prior_learning",
        "future-completion",
        lambda b, w: b.apply_for_prior_learning(
            w.learner,
            "Bookkeeping at work",
            date(2999, 1, 1),
            "ten years of ledgers",
            [EvidenceItem(description="employer letter")],
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
    case(
        "apply_for_prior_learning",
        "bad-digest",
        lambda b, w: b.apply_for_prior_learning(
            w.learner,
            "Bookkeeping at work",
            date(2024, 1, 1),
            "ten years of ledgers",
            [EvidenceItem(description="employer letter", digest="md5:abc")],
        ),
        InvalidInput,
        "INVALID_INPUT",
    ),
]


def _run(bank: CreditBank, w: World, call: Call, error: type[DomainError], code: str) -> None:
    before = bank.recorder.max_notification_id()
    keys = learner_key_count(bank)
    with pytest.raises(DomainError) as refused:
        call(bank, w)
    assert isinstance(refused.value, error), f"{type(refused.value).__name__}: {refused.value}"
    assert refused.value.code == code
    assert refused.value.message
    assert bank.recorder.max_notification_id() == before, "the refused command stored events"
    assert learner_key_count(bank) == keys, "the refused command left a learner key behind"


@pytest.mark.parametrize("command", sorted({p.values[0] for p in CASES}))
def test_refused_and_nothing_stored(bank: CreditBank, world: World, command: str) -> None:
    """All cases of one command in turn, on one world: since a refused command stores nothing,
    each case finds the world as prepared (and one that does store something is reported)."""
    failures: list[str] = []
    cases = [p for p in CASES if p.values[0] == command]
    for p in cases:
        _, call, error, code = p.values
        try:
            _run(bank, world, call, error, code)  # type: ignore[arg-type]
        except (Exception, pytest.fail.Exception) as exc:
            failures.append(f"{p.id}: {type(exc).__name__}: {exc}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)


def _commands() -> set[str]:
    """Every public method the bank's areas add to the library's Application."""
    inherited = set(dir(Application))
    return {
        name
        for cls in CreditBank.__mro__
        if cls.__module__.startswith("application.")
        for name, member in vars(cls).items()
        if inspect.isfunction(member)
        and not name.startswith("_")
        and name not in inherited
        and name not in QUERIES
    }


def test_every_command_has_a_case() -> None:
    covered = {p.values[0] for p in CASES}
    assert _commands() - covered == set()
    assert covered - _commands() == set()


# -- gaps in domain/ validation (owned elsewhere): each documents one bug ------------------------
def gap(command: str, what: str, call: Call, error: type[DomainError], code: str, bug: str) -> Any:
    """A case that once found a gap in domain/ validation (``bug`` says what it was); fixed."""
    return pytest.param(command, call, error, code, id=f"{command}:{what}")


DOMAIN_GAPS = [
    gap(
        "register_institution",
        "unknown-kind",
        reg_inst(kind="CASINO"),
        InvalidInput,
        "INVALID_INPUT",
        "Institution.register never checks `kind`: any value (here the string 'CASINO') is "
        "stored in Institution.Registered",
    ),
    gap(
        "verify_learner_identity",
        "unknown-method",
        lambda b, w: b.verify_learner_identity(w.unverified, "SELFIE", "officer"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "Learner.verify_identity calls list(IdentityVerification).index(method): an unknown "
        "method raises a bare ValueError, not a DomainError",
    ),
    gap(
        "verify_learner_identity",
        "empty-officer",
        lambda b, w: b.verify_learner_identity(
            w.unverified, IdentityVerification.ELECTRONIC_ID, " "
        ),
        InvalidInput,
        "INVALID_INPUT",
        "Learner.verify_identity stores `by` unchecked: an empty officer is recorded as who "
        "verified the identity",
    ),
    gap(
        "grant_consent",
        "unknown-scope",
        lambda b, w: b.grant_consent(w.unverified, w.enterprise, "EVERYTHING"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "Learner.grant_consent never checks `scope`: the string 'EVERYTHING' is stored in "
        "ConsentGranted",
    ),
    gap(
        "grant_consent",
        "expiry-as-text",
        lambda b, w: b.grant_consent(w.unverified, w.enterprise, ConsentScope.ALL, "2027-01-01"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "Learner.grant_consent compares `expires_on` with a date without checking its type: a "
        "string raises TypeError",
    ),
    gap(
        "create_recognition_rule",
        "unknown-model",
        lambda b, w: b.create_recognition_rule("R", "GUESSWORK", w.rule_terms),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "RecognitionRule.create never checks `model`: the string 'GUESSWORK' is stored",
    ),
    gap(
        "create_conversion_rule",
        "unknown-model",
        lambda b, w: b.create_conversion_rule("C", "HANDSHAKE", w.conversion_terms),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "ConversionRule.create never checks `model`: the string 'HANDSHAKE' is stored",
    ),
    gap(
        "define_standard",
        "unknown-kind",
        lambda b, w: b.define_standard("STD-2", "T", 3, D("3"), ("PODCAST",)),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "OutcomeStandard.define never checks the members of `accepted_kinds`: 'PODCAST' is stored",
    ),
    gap(
        "define_standard",
        "level-as-text",
        lambda b, w: b.define_standard("STD-2", "T", "3", D("3"), (OutcomeKind.MOOC,)),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "OutcomeStandard.define compares `level` with ints without checking its type: TypeError "
        "(Framework.check_level does this right but is not used)",
    ),
    gap(
        "create_qualification",
        "level-as-text",
        qual(level="6"),
        InvalidInput,
        "INVALID_INPUT",
        "Qualification.create compares `level` with ints without checking its type: TypeError",
    ),
    gap(
        "deposit",
        "unknown-kind",
        deposit_with(kind="PODCAST"),
        InvalidInput,
        "INVALID_INPUT",
        "CreditAccount.deposit never checks `outcome.kind`: 'PODCAST' is stored in "
        "OutcomeDeposited (and later `o.kind is ...` comparisons silently fail)",
    ),
    gap(
        "deposit",
        "level-as-text",
        deposit_with(level="6"),
        InvalidInput,
        "INVALID_INPUT",
        "CreditAccount.deposit compares `outcome.level` with ints without checking its type: "
        "TypeError",
    ),
    gap(
        "recognize_outcome",
        "level-as-text",
        lambda b, w: b.recognize_outcome(w.learner, w.deposited, "o", D("3"), "5", "elective"),  # type: ignore[arg-type]
        InvalidInput,
        "INVALID_INPUT",
        "CreditAccount.recognize_by_officer compares `level` with ints without checking its "
        "type: TypeError",
    ),
]


@pytest.mark.parametrize(("command", "call", "error", "code"), DOMAIN_GAPS)
def test_domain_validation_gaps(
    bank: CreditBank, world: World, command: str, call: Call, error: type[DomainError], code: str
) -> None:
    _run(bank, world, call, error, code)
