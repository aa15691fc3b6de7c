"""Hypothesis on the application's commands: every public CreditBank command and read, called
with arbitrary values — real ids of a small world mixed with random ids, wrong types, None, odd
and huge strings, NaN/sNaN/infinite/huge/over-precise Decimals, naive and extreme dates, odd
JWKs, rules, requirements and outcomes.

A call either succeeds or raises a DomainError (a typed refusal) — never another exception —
and a refusal stores nothing: the event store's max_notification_id and the count of personal-
data keys are unchanged. Reads never store anything.
"""

from __future__ import annotations

import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.issuing import IssuerKey
from application.settings import Settings
from domain.errors import DomainError, InvalidInput
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.records import DepositedOutcome
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import (
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    RuleModel,
)
from tests.reliability import support
from tests.reliability.bankworld import BankWorld, build_bank_world

ENGINES = support.scale(
    ["sqlite"], ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
EXAMPLES = support.scale(600, 5000)


@dataclass(repr=False)
class Fixture:
    engine: str
    bank: CreditBank
    world: BankWorld
    outcomes: list[UUID]
    credentials: list[str]
    stats: Counter[str] = field(default_factory=Counter)

    def __repr__(self) -> str:
        return f"Fixture({self.engine})"


@pytest.fixture(scope="module", params=ENGINES)
def fx(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fixture]:
    tmp: Path = tmp_path_factory.mktemp("commands")
    url = None
    schema = None
    if request.param == "postgres":
        import psycopg

        base = request.getfixturevalue("postgres_url")
        schema = f"cmd_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{base}?schema={schema}"
    settings_ = Settings(
        data_dir=tmp / "data",
        database_url=url,
        secret_key="fuzz-" + uuid.uuid4().hex,
        snapshot_interval=5,
        checkpoint_interval=0,
    )
    bank = build_bank(settings_)
    world = build_bank_world(bank, learners=3)
    outcomes: list[UUID] = []
    credentials: list[str] = []
    for learner, document in world.learners:
        for issuer in ("university", "college", "mooc", "enterprise"):
            jwt, _ = world.credential(issuer, document, credits="3")
            outcomes.append(bank.deposit_credential(UUID(learner), jwt))
            credentials.append(world.credential(issuer, document, credits="2.5")[0])
    credentials.append(jwt)  # already deposited
    f = Fixture(request.param, bank, world, outcomes, credentials)
    try:
        yield f
    finally:
        bank.close()
        if schema is not None:
            import psycopg

            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        support.record(
            f"command fuzz ({request.param})",
            calls=sum(v for k, v in f.stats.items() if ":" in k),
            outcomes=dict(sorted(f.stats.items())),
        )


# -- arbitrary values ------------------------------------------------------------------------------
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just(object()),
)
ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\t", "\u200b", "\ufeff", "😀", "\u202e"]),
    st.integers(501, 20_000).map(lambda n: "x" * n),
)
TEXT = st.one_of(
    st.sampled_from(["Course", "major", "general", "elective", "A reason", "PASSPORT"]),
    ODD_TEXT,
)
ODD_DECIMALS = [
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("-Infinity"),
    Decimal("1e999999"),
    Decimal("-0"),
    Decimal("0.001"),
    Decimal("0.5"),
    Decimal("3"),
    Decimal("1000.01"),
    Decimal("9" * 40),
]
TYPED_DECIMAL = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from(ODD_DECIMALS)
)
LEVEL = st.one_of(st.integers(-3, 12), st.sampled_from([2**31, -(2**31)]))
BIG = st.sampled_from([2**63, -(2**63) - 1, 10**30])  # ints no 64-bit column holds
TYPED_DATE = st.one_of(st.dates(), st.sampled_from([date.min, date.max, date(2025, 6, 30)]))
TYPED_MOMENT = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),  # naive
    st.sampled_from(
        [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), datetime(2020, 1, 1)]
    ),
)


class Values:
    """Strategies that mix the fixture world's real values with odd ones. ``typed``: every value
    has the Python type the command declares (as the API layer passes them); else about one
    value in seven is of any type at all (None, bytes, floats, dicts, a date for a datetime...).
    """

    def __init__(self, f: Fixture, typed: bool) -> None:
        self.typed = typed
        w = f.world
        self.learners = [UUID(lid) for lid, _ in w.learners]
        self.institutions = [UUID(i) for i in w.issuers.values()]
        self.rules = [UUID(r) for r in w.recognition_rules]
        self.conversion = UUID(w.conversion_rule)
        self.qualification = UUID(w.qualification)
        self.outcomes = f.outcomes
        self.credentials = f.credentials
        self.kids = list(w.kids.values())
        self.uris = list(w.uris.values())

    def maybe(self, strategy: st.SearchStrategy[Any], garbage: int = 15) -> Any:
        """``strategy``; unless typed, ``garbage`` percent of the time anything at all."""
        if self.typed:
            return strategy
        return st.integers(0, 99).flatmap(lambda r: ANY if r < garbage else strategy)

    @property
    def decimal(self) -> st.SearchStrategy[Any]:
        if self.typed:
            return TYPED_DECIMAL
        return st.one_of(TYPED_DECIMAL, st.floats(), st.integers(-5, 2000))

    @property
    def level(self) -> st.SearchStrategy[Any]:
        return LEVEL if self.typed else st.one_of(LEVEL, BIG)

    @property
    def day(self) -> st.SearchStrategy[Any]:
        # A datetime is a date too, for Python: only when not typed (the API never sends one).
        return TYPED_DATE if self.typed else st.one_of(TYPED_DATE, st.datetimes())

    @property
    def moment(self) -> st.SearchStrategy[Any]:
        return TYPED_MOMENT if self.typed else st.one_of(TYPED_MOMENT, st.dates())

    def ids(self, *pools: list[UUID]) -> st.SearchStrategy[Any]:
        real = [i for p in pools for i in p]
        options = [st.sampled_from(real), st.sampled_from(real), st.uuids()]
        if not self.typed:
            options.append(st.sampled_from(real).map(str))  # a str, not a UUID
        return self.maybe(st.one_of(*options))

    def learner(self) -> st.SearchStrategy[Any]:
        return self.ids(self.learners)

    def institution(self) -> st.SearchStrategy[Any]:
        return self.ids(self.institutions)

    def jwk(self) -> st.SearchStrategy[Any]:
        return self.maybe(
            st.one_of(
                st.builds(lambda: IssuerKey.ed25519().jwk),
                st.builds(lambda k: {**IssuerKey.ed25519().jwk, "kid": k}, ODD_TEXT),
                st.builds(lambda: {**IssuerKey.ed25519().jwk, "d": "secret"}),
                st.dictionaries(st.text(max_size=5), ANY, max_size=4),
                st.just({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}),
                st.integers(1, 400).map(lambda n: {"kty": "OKP", "kid": "x" * n * 100}),
            )
        )

    def criteria(self) -> st.SearchStrategy[Any]:
        return self.maybe(
            st.builds(
                OutcomeCriteria,
                institution_id=st.one_of(st.none(), self.institution()),
                kind=st.one_of(st.none(), self.maybe(st.sampled_from(OutcomeKind))),
                standard_code=st.one_of(st.none(), TEXT),
            )
        )

    def recognition_terms(self) -> st.SearchStrategy[Any]:
        return self.maybe(
            st.builds(
                RecognitionTerms,
                criteria=self.criteria(),
                credits=st.one_of(st.none(), self.decimal),
                level=self.level,
                category=TEXT,
                valid_from=st.one_of(st.none(), self.day),
                valid_until=st.one_of(st.none(), self.day),
            )
        )

    def conversion_terms(self) -> st.SearchStrategy[Any]:
        return self.maybe(
            st.builds(
                ConversionTerms,
                criteria=self.criteria(),
                target_institution_id=self.institution(),
                target_code=TEXT,
                target_category=TEXT,
                ratio=self.decimal,
                max_credits_per_learner=st.one_of(st.none(), self.decimal),
                valid_from=st.one_of(st.none(), self.day),
                valid_until=st.one_of(st.none(), self.day),
            )
        )

    def requirements(self) -> st.SearchStrategy[Any]:
        return self.maybe(
            st.builds(
                Requirements,
                total_credits=self.decimal,
                minimum_by_category=self.maybe(
                    st.lists(
                        st.builds(CategoryMinimum, category=TEXT, credits=self.decimal),
                        max_size=3,
                    ).map(tuple)
                ),
                minimum_at_level=self.maybe(
                    st.lists(
                        st.builds(LevelMinimum, level=self.level, credits=self.decimal),
                        max_size=3,
                    ).map(tuple)
                ),
                required_standards=self.maybe(st.lists(TEXT, max_size=3).map(tuple)),
                max_converted_share=st.one_of(st.none(), self.decimal),
                max_credits_per_institution=st.one_of(st.none(), self.decimal),
                max_credits_per_year=st.one_of(st.none(), self.decimal),
            )
        )

    def outcome(self) -> st.SearchStrategy[Any]:
        return self.maybe(
            st.builds(
                DepositedOutcome,
                issuer_id=self.institution(),
                credential_id=self.maybe(st.one_of(st.uuids().map(str), ODD_TEXT)),
                kind=self.maybe(st.sampled_from(OutcomeKind)),
                title=TEXT,
                credits=self.decimal,
                completed_on=self.day,
                evidence_digest=st.just(""),
                standard_code=st.one_of(st.none(), TEXT),
                level=st.one_of(st.none(), self.level),
                hours=st.one_of(st.none(), self.decimal),
                result=st.one_of(st.none(), TEXT),
                key_id=st.one_of(st.none(), st.sampled_from(self.kids), ODD_TEXT),
                issued_at=st.one_of(st.none(), self.moment),
            )
        )

    def commands(self) -> dict[str, tuple[st.SearchStrategy[tuple[Any, ...]], bool]]:
        """name -> (arguments, is_read)."""
        learner, inst = self.learner(), self.institution()
        outcome = self.ids(self.outcomes)
        rule, conv = self.ids(self.rules), self.ids([self.conversion])
        qual = self.ids([self.qualification])
        kind = self.maybe(st.sampled_from(InstitutionKind))
        actor = self.maybe(st.sampled_from(["officer:f", "learner"]))
        t = st.tuples
        return {
            "register_institution": (
                t(
                    TEXT,
                    kind,
                    self.jwk(),
                    st.one_of(st.none(), self.maybe(st.sampled_from(self.uris)), ODD_TEXT),
                    st.one_of(st.none(), self.moment),
                    st.one_of(st.none(), self.moment),
                ),
                False,
            ),
            "add_institution_key": (
                t(
                    inst,
                    self.jwk(),
                    st.one_of(st.none(), self.moment),
                    st.one_of(st.none(), self.moment),
                ),
                False,
            ),
            "retire_institution_key": (t(inst, self.maybe(st.sampled_from(self.kids))), False),
            "suspend_institution": (t(inst, TEXT), False),
            "reactivate_institution": (t(inst), False),
            "register_learner": (
                t(
                    TEXT,
                    self.maybe(st.sampled_from(["PASSPORT", "NATIONAL_ID", "passport"])),
                    self.maybe(st.one_of(st.uuids().map(lambda u: u.hex[:10]), ODD_TEXT)),
                    self.day,
                ),
                False,
            ),
            "verify_learner_identity": (
                t(learner, self.maybe(st.sampled_from(IdentityVerification)), actor),
                False,
            ),
            "grant_consent": (
                t(
                    learner,
                    inst,
                    self.maybe(st.sampled_from(ConsentScope)),
                    st.one_of(st.none(), self.day),
                ),
                False,
            ),
            "revoke_consent": (t(learner, inst), False),
            "erase_learner": (t(learner, actor), False),
            "define_standard": (
                t(
                    TEXT,
                    TEXT,
                    self.level,
                    self.decimal,
                    self.maybe(st.lists(st.sampled_from(OutcomeKind), max_size=3).map(tuple)),
                ),
                False,
            ),
            "create_recognition_rule": (
                t(TEXT, self.maybe(st.sampled_from(RuleModel)), self.recognition_terms()),
                False,
            ),
            "amend_recognition_rule": (t(rule, self.recognition_terms()), False),
            "retire_recognition_rule": (t(rule), False),
            "create_conversion_rule": (
                t(TEXT, self.maybe(st.sampled_from(RuleModel)), self.conversion_terms()),
                False,
            ),
            "amend_conversion_rule": (t(conv, self.conversion_terms()), False),
            "retire_conversion_rule": (t(conv), False),
            "create_qualification": (t(TEXT, self.level, inst, self.requirements()), False),
            "amend_qualification": (t(qual, self.requirements()), False),
            "retire_qualification": (t(qual), False),
            "deposit": (
                t(learner, self.outcome(), self.maybe(st.binary(min_size=1, max_size=20)), actor),
                False,
            ),
            "deposit_credential": (
                t(
                    learner,
                    self.maybe(st.one_of(st.sampled_from(self.credentials), ODD_TEXT)),
                    actor,
                    st.one_of(st.none(), inst),
                ),
                False,
            ),
            "apply_recognition_rules": (t(learner), False),
            "recognize_outcome": (
                t(
                    learner,
                    outcome,
                    actor,
                    st.one_of(st.none(), self.decimal),
                    st.one_of(st.none(), self.level),
                    st.one_of(st.none(), TEXT),
                ),
                False,
            ),
            "reject_outcome": (t(learner, outcome, TEXT, actor), False),
            "convert_credits": (
                t(learner, self.maybe(st.lists(outcome, max_size=3)), conv, actor),
                False,
            ),
            "redeem_qualification": (t(learner, qual, actor), False),
            "revoke_outcome": (t(learner, outcome, TEXT, actor, st.one_of(st.none(), inst)), False),
            "verify_credential": (
                t(self.maybe(st.one_of(st.sampled_from(self.credentials), ODD_TEXT))),
                True,
            ),
            "conversion_options": (t(learner, qual), True),
            "assess": (t(learner, qual), True),
            "account": (t(learner, st.one_of(st.none(), self.level, BIG)), True),
            "account_version_at": (t(learner, self.moment), True),
            "account_history": (
                t(
                    learner,
                    self.maybe(st.one_of(st.integers(-5, 50), BIG)),
                    st.one_of(st.none(), self.level, BIG),
                ),
                True,
            ),
            "personal_data": (t(learner), True),
            "institution_by_issuer": (
                t(self.maybe(st.one_of(st.sampled_from(self.uris), ODD_TEXT))),
                True,
            ),
        }


def _keys(bank: CreditBank) -> int:
    with bank.database.transaction(readonly=True) as cur:
        cur.execute("SELECT COUNT(*) FROM learner_keys")
        return int(cur.fetchone()[0])


def _call(bank: CreditBank, name: str, args: tuple[Any, ...]) -> Any:
    result = getattr(bank, name)(*args)
    if name == "account_history":
        result = list(result)
    return result


def _check(fx: Fixture, data: st.DataObject, typed: bool) -> None:
    commands = Values(fx, typed).commands()
    name = data.draw(st.sampled_from(sorted(commands)), label="command")
    arguments, is_read = commands[name]
    args = data.draw(arguments, label="arguments")
    bank = fx.bank
    before, keys_before = support.head(bank), _keys(bank)
    form = "typed" if typed else "any"
    refusal: DomainError | None = None
    escaped: Exception | None = None
    try:
        _call(bank, name, args)
    except DomainError as exc:
        refusal = exc
    except Exception as exc:
        escaped = exc
        trace = traceback.format_exc()
    if refusal is None and escaped is None:
        fx.stats[f"{form} {name}:OK"] += 1
        if is_read:
            assert support.head(bank) == before, f"the read {name} stored events"
        return
    # Refused, or failed: nothing may have been stored.
    what = f"{name} {refusal.code if refusal else repr(escaped)}"
    assert support.head(bank) == before, f"{what}: stored events"
    assert _keys(bank) == keys_before, f"{what}: left a personal-data key"
    if refusal is not None:
        fx.stats[f"{form} {name}:{refusal.code}"] += 1
        return
    assert escaped is not None
    raise AssertionError(f"{name}{args!r:.600} raised {escaped!r}\n{trace}")


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


@FUZZ
@given(data=st.data())
def test_well_typed_arguments(fx: Fixture, data: st.DataObject) -> None:
    """Values of the declared types, odd in value: a DomainError or success, nothing else."""
    _check(fx, data, typed=True)


@FUZZ
@given(data=st.data())
def test_arguments_of_any_type(fx: Fixture, data: st.DataObject) -> None:
    """Values of any type, too: a DomainError or success, nothing else; never anything stored
    by a call that did not succeed."""
    _check(fx, data, typed=False)


# -- the fuzzer's finds, fixed and pinned: each raised a built-in exception, not a DomainError ----
def _institution(fx: Fixture) -> UUID:
    return UUID(fx.world.issuers["university"])


@pytest.mark.parametrize("value", [None, {"level": 6}, "terms"])
@pytest.mark.parametrize("command", ["create_recognition_rule", "create_qualification"])
def test_structured_arguments_of_the_wrong_type_are_refused(
    fx: Fixture, command: str, value: Any
) -> None:
    """Terms or requirements that are not the domain's dataclasses raised AttributeError."""
    if command == "create_recognition_rule":
        call = partial(fx.bank.create_recognition_rule, "rule", RuleModel.FRAMEWORK, value)
    else:
        call = partial(fx.bank.create_qualification, "q", 6, _institution(fx), value)
    with pytest.raises(DomainError):
        call()


def test_a_date_for_a_datetime_is_refused(fx: Fixture) -> None:
    """domain.values.utc raised AttributeError ('datetime.date' has no attribute 'tzinfo')."""
    with pytest.raises(InvalidInput):
        fx.bank.add_institution_key(
            _institution(fx), IssuerKey.ed25519().jwk, None, date(2031, 1, 1)
        )


def test_a_datetime_for_a_date_is_refused(fx: Fixture) -> None:
    """A datetime is a date in Python: comparing the window's bounds raised TypeError."""
    terms = RecognitionTerms(
        criteria=OutcomeCriteria(institution_id=_institution(fx)),
        level=6,
        category="major",
        valid_from=datetime(2020, 1, 1),
        valid_until=date(2030, 1, 1),
    )
    with pytest.raises(DomainError):
        fx.bank.create_recognition_rule("rule", RuleModel.FRAMEWORK, terms)


@pytest.mark.parametrize(
    ("after", "limit"), [(2**63, None), (0, 2**63), (-1, None), (0, -1), (0, True), ("1", None)]
)
def test_history_bounds_out_of_range_are_refused(fx: Fixture, after: Any, limit: Any) -> None:
    """Found by the fuzzer: on SQLite a number beyond 64 bits raised OverflowError, on
    PostgreSQL a negative limit raised DataError (SQLite read it as no limit). Now the same
    InvalidInput on both engines."""
    learner = UUID(fx.world.learners[0][0])
    with pytest.raises(InvalidInput):
        list(fx.bank.account_history(learner, after, limit))


@pytest.mark.parametrize("version", [0, 2**63, -1, "2", 1.0])
def test_account_version_out_of_range_is_refused(fx: Fixture, version: Any) -> None:
    learner = UUID(fx.world.learners[0][0])
    with pytest.raises(InvalidInput):
        fx.bank.account(learner, version)
