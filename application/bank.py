"""The CreditBank application: commands that load aggregates, decide, and save atomically.

Every command runs in ``_transact``: it loads what it needs, lets the aggregates decide, and saves
all new events (including uniqueness-index aggregates and listing logs) in one transaction. A
concurrent writer makes the save fail on the aggregate's version; the command is then decided again
on fresh state (safe, because deciding has no side effects), and after a few tries the caller gets
a CONFLICT error instead of a lost update.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, EventSourcedLog
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
)

from application.chain import ChainingMapper, stored_hash
from application.credentials import (
    VerifiedCredential,
    identity_matches,
    to_outcome,
    verify,
    verifying_key,
)
from application.database import Database
from application.standards import Standards
from application.transcodings import register_all
from application.vault import PersonalDataVault
from application.verification import DepositVerifier, RegisteredIssuerVerifier
from domain.credit_account import ConversionOption, CreditAccount, DepositedOutcome, Outcome
from domain.errors import (
    Conflict,
    DuplicateCredential,
    DuplicateIdentity,
    Forbidden,
    IdentityMismatch,
    InvalidCredential,
    InvalidInput,
    NotFound,
    RuleNotApplicable,
)
from domain.framework import Framework
from domain.indexes import CredentialIndex, IdentityIndex, IssuerIndex
from domain.institution import Institution
from domain.learner import DOCUMENT_TYPES, Learner, LearnerErased
from domain.qualification import Assessment, Qualification, Requirements
from domain.rules import (
    ConversionRule,
    ConversionTerms,
    RecognitionRule,
    RecognitionTerms,
    RuleVersion,
    check_conversion_terms,
    check_recognition_terms,
)
from domain.standard import OutcomeStandard
from domain.values import (
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
    text,
    utc,
    whole,
)

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
Pending = Sequence[Aggregate | DomainEvent | None]


class Listed(DomainEvent):
    """An entry of a listing log: how the bank finds every aggregate of one type."""

    aggregate_id: UUID


def _log_id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"creditbank:/logs/{name}")


@dataclass(frozen=True)
class AccountEvent:
    version: int
    type: str
    at: datetime
    actor: str | None
    data: dict[str, Any]
    hash: str  # this event's link in the account's hash chain


class CreditBank(Application[UUID]):
    name = "CreditBank"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        CreditAccount: 100,
        Learner: 100,
        Institution: 100,
    }
    max_attempts = 16  # a starved writer gets many tries, within about two seconds of backoff

    def __init__(
        self,
        database: Database,
        framework: Framework,
        vault: PersonalDataVault,
        verifier: DepositVerifier | None = None,
        clock: Callable[[], datetime] | None = None,
        snapshot_interval: int = 100,
        aggregate_cache_size: int = 0,
        standards: Standards | None = None,
    ) -> None:
        self.database = database
        # Not ``self.standards``: that name is the catalogue query ``standards()`` below.
        self.standards_material = standards or Standards()
        self.framework = framework
        self.vault = vault
        self.verifier = verifier or RegisteredIssuerVerifier()
        self.clock = clock or (lambda: datetime.now(UTC))
        intervals = {agg: snapshot_interval for agg in self.snapshotting_intervals}
        self.snapshotting_intervals = intervals  # type: ignore[misc]  # set per bank, from settings
        self.on_saved: list[Callable[[int], None]] = []
        self._saved = threading.local()
        env = database.eventsourcing_env()
        if aggregate_cache_size:
            # The library's cache fast-forwards from the store on every load (so other processes'
            # writes are seen) and hands out deep copies (so a refused command changes nothing).
            env["AGGREGATE_CACHE_MAXSIZE"] = str(aggregate_cache_size)
        with database.setup_lock():  # the event store creates its tables here
            super().__init__(env=env)
        self._logs = {
            name: EventSourcedLog(self.events, _log_id(name), Listed)
            for name in (
                "institutions",
                "learners",
                "recognition-rules",
                "conversion-rules",
                "qualifications",
                "standards",
            )
        }

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=ChainingMapper
        )

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        cast(ChainingMapper, self.mapper).recorder = recorder  # to fetch a chain's last link
        self.database.guard(getattr(self.factory, "datastore", None))
        return recorder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    # -- plumbing -----------------------------------------------------------------------------
    def _transact(self, decide: Callable[[], tuple[T, Pending]]) -> T:
        for attempt in range(self.max_attempts):
            result, pending = decide()
            cast(ChainingMapper, self.mapper).begin()
            try:
                self.save(*self._stamped(pending))
            except IntegrityError:
                # Someone saved first. Deciding again on fresh state is safe: nothing was stored.
                backoff = min(0.005 * 2**attempt, 0.2)
                time.sleep(random.uniform(0, backoff))  # noqa: S311 - jitter only
                continue
            return result
        raise Conflict("the account changed concurrently too often; send the command again")

    def _stamped(self, pending: Pending) -> Pending:
        """Dates new events by the bank's clock (the library would use the wall clock), so an
        event's timestamp agrees with the times the bank records and decides by."""
        now = self.now()
        stamped: list[Aggregate | DomainEvent | None] = []
        for item in pending:
            if isinstance(item, Aggregate):
                events: list[Any] = item.pending_events
                events[:] = [replace(e, timestamp=now) for e in events]
            elif isinstance(item, DomainEvent):
                item = replace(item, timestamp=now)
            stamped.append(item)
        return stamped

    def _get(self, cls: type[A], aggregate_id: UUID, what: str, version: int | None = None) -> A:
        if not isinstance(aggregate_id, UUID):  # PostgreSQL would fail on the uuid column
            raise NotFound(f"no {what} {aggregate_id!r}")
        try:
            aggregate: object = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"no {what} {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} {aggregate_id}")
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return isinstance(aggregate_id, UUID) and aggregate_id in self.repository

    def _list(self, log: str, cls: type[A]) -> list[A]:
        return [self._get(cls, entry.aggregate_id, log) for entry in self._logs[log].get()]

    def _listed(self, log: str, aggregate_id: UUID) -> Listed:
        return self._logs[log].trigger_event(aggregate_id=aggregate_id)

    @staticmethod
    def _check_active(learner: Learner) -> None:
        """An erased learner's account serves audits (and revocations) only: nothing new."""
        if learner.erased:
            raise LearnerErased("the learner was erased; the account only serves audits now")

    def now(self) -> datetime:
        return utc(self.clock())

    # -- after a save: read-your-writes and waking the projections -------------------------------
    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if not recordings:
            return
        position = max(r.notification.id for r in recordings)
        mapper = cast(ChainingMapper, self.mapper)
        for r in recordings:
            mapper.committed(r.domain_event.originator_id, r.domain_event.originator_version)
        self._saved.position = max(getattr(self._saved, "position", 0), position)
        for listener in self.on_saved:
            listener(position)

    def saved_position(self) -> int:
        """The highest notification id this thread has saved (what a reader must wait for)."""
        return int(getattr(self._saved, "position", 0))

    # -- institutions -------------------------------------------------------------------------
    def register_institution(
        self,
        name: str,
        kind: InstitutionKind,
        public_key_jwk: dict[str, Any],
        issuer_uri: str | None = None,
        key_valid_from: datetime | None = None,
        key_valid_until: datetime | None = None,
    ) -> UUID:
        institution_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            now = self.now()
            institution = Institution.register(
                id=institution_id, name=name, kind=kind, issuer_uri=issuer_uri, at=now
            )
            _add_usable_key(institution, public_key_jwk, key_valid_from or now, key_valid_until)
            index_id = IssuerIndex.create_id(institution.issuer_uri)
            if self._exists(index_id):
                raise InvalidInput(
                    f"issuer URI {institution.issuer_uri} belongs to another institution",
                    ("issuerUri",),
                )
            index = IssuerIndex(issuer_uri=institution.issuer_uri, institution_id=institution_id)
            return institution_id, (
                institution,
                index,
                self._listed("institutions", institution_id),
            )

        return self._transact(decide)

    def institution(self, institution_id: UUID) -> Institution:
        return self._get(Institution, institution_id, "institution")

    def institution_by_issuer(self, issuer_uri: str) -> Institution | None:
        try:
            index: object = self.repository.get(IssuerIndex.create_id(issuer_uri))
        except AggregateNotFoundError:
            return None
        return self.institution(cast(IssuerIndex, index).institution_id)

    def institutions(self) -> list[Institution]:
        return self._list("institutions", Institution)

    def _change_institution(self, institution_id: UUID, change: Callable[[Institution], T]) -> T:
        def decide() -> tuple[T, Pending]:
            institution = self.institution(institution_id)
            return change(institution), (institution,)

        return self._transact(decide)

    def add_institution_key(
        self,
        institution_id: UUID,
        public_key_jwk: dict[str, Any],
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> str:
        return self._change_institution(
            institution_id,
            lambda i: _add_usable_key(i, public_key_jwk, valid_from or self.now(), valid_until),
        )

    def retire_institution_key(self, institution_id: UUID, kid: str) -> None:
        self._change_institution(institution_id, lambda i: i.retire_key(kid, self.now()))

    def suspend_institution(self, institution_id: UUID, reason: str) -> None:
        self._change_institution(institution_id, lambda i: i.suspend(reason))

    def reactivate_institution(self, institution_id: UUID) -> None:
        self._change_institution(institution_id, lambda i: i.reactivate())

    # -- learners -----------------------------------------------------------------------------
    def register_learner(
        self,
        name: str,
        identity_document_type: str,
        identity_document_number: str,
        birth_date: date,
    ) -> UUID:
        name = text(name, "name", max_length=200)
        doc_type = text(identity_document_type, "identityDocumentType", max_length=40).upper()
        if doc_type not in DOCUMENT_TYPES:
            raise InvalidInput(
                f"identityDocumentType must be one of {', '.join(sorted(DOCUMENT_TYPES))}",
                ("identityDocumentType",),
            )
        number = text(identity_document_number, "identityDocumentNumber", max_length=64)
        if not any(c.isalnum() for c in number):
            raise InvalidInput(
                "identityDocumentNumber is not a document number", ("identityDocumentNumber",)
            )
        if not isinstance(birth_date, date) or isinstance(birth_date, datetime):
            raise InvalidInput("birthDate must be a date", ("birthDate",))
        today = self.now().date()
        if not date(1900, 1, 1) <= birth_date <= today:
            raise InvalidInput("birthDate is not plausible", ("birthDate",))
        document_hash = self.vault.document_hash(doc_type, number)
        index_id = IdentityIndex.create_id(document_hash)
        if self._exists(index_id):
            raise DuplicateIdentity("this identity document already opened a learner account")
        learner_id = uuid4()
        sealed = self.vault.seal(
            learner_id,
            {
                "name": name,
                "identityDocumentType": doc_type,
                "identityDocumentNumber": number,
                "birthDate": birth_date.isoformat(),
            },
        )

        def decide() -> tuple[UUID, Pending]:
            if self._exists(index_id):
                raise DuplicateIdentity("this identity document already opened a learner account")
            learner = Learner.register(
                id=learner_id,
                document_hash=document_hash,
                sealed_personal_data=sealed,
                at=self.now(),
            )
            account = CreditAccount(learner_id=learner_id)
            index = IdentityIndex(document_hash=document_hash, learner_id=learner_id)
            return learner_id, (learner, account, index, self._listed("learners", learner_id))

        try:
            return self._transact(decide)
        except BaseException:
            self.vault.shred(learner_id)  # the key of a learner that was never stored
            raise

    def find_learner(
        self, identity_document_type: str, identity_document_number: str
    ) -> UUID | None:
        """The learner whose account this identity document opened, if any."""
        document_hash = self.vault.document_hash(
            str(identity_document_type).upper(), str(identity_document_number)
        )
        try:
            index: object = self.repository.get(IdentityIndex.create_id(document_hash))
        except AggregateNotFoundError:
            return None
        return cast(IdentityIndex, index).learner_id

    def learner(self, learner_id: UUID) -> Learner:
        return self._get(Learner, learner_id, "learner")

    def learner_ids(self) -> list[UUID]:
        return [entry.aggregate_id for entry in self._logs["learners"].get()]

    def personal_data(self, learner_id: UUID) -> dict[str, Any] | None:
        learner = self.learner(learner_id)
        return self.vault.open(learner_id, learner.sealed_personal_data)

    def verify_learner_identity(
        self, learner_id: UUID, method: IdentityVerification, officer: str
    ) -> None:
        def decide() -> tuple[None, Pending]:
            learner = self.learner(learner_id)
            learner.verify_identity(method, officer, self.now())
            return None, (learner,)

        self._transact(decide)
        self.apply_recognition_rules(learner_id)

    def grant_consent(
        self,
        learner_id: UUID,
        organization_id: UUID,
        scope: ConsentScope,
        expires_on: date | None = None,
    ) -> None:
        organization = self.institution(organization_id)
        if organization.kind is not InstitutionKind.ENTERPRISE:
            raise InvalidInput("consents are granted to enterprises", ("organizationId",))

        def decide() -> tuple[None, Pending]:
            learner = self.learner(learner_id)
            learner.grant_consent(organization_id, scope, expires_on, self.now())
            return None, (learner,)

        self._transact(decide)

    def revoke_consent(self, learner_id: UUID, organization_id: UUID) -> None:
        def decide() -> tuple[None, Pending]:
            learner = self.learner(learner_id)
            learner.revoke_consent(organization_id)
            return None, (learner,)

        self._transact(decide)

    def erase_learner(self, learner_id: UUID, by: str) -> None:
        def decide() -> tuple[None, Pending]:
            learner = self.learner(learner_id)
            learner.erase(by, self.now())
            return None, (learner,)

        self._transact(decide)
        self.vault.shred(learner_id)

    # -- catalogue: standards, rules, qualifications ------------------------------------------
    def define_standard(
        self,
        code: str,
        title: str,
        level: int,
        credits: Decimal,
        accepted_kinds: tuple[OutcomeKind, ...],
    ) -> UUID:
        def decide() -> tuple[UUID, Pending]:
            standard = OutcomeStandard.define(
                code=code,
                title=title,
                level=level,
                credits_=credits,
                accepted_kinds=accepted_kinds,
                max_level=self.framework.max_level,
            )
            if self._exists(standard.id):
                raise InvalidInput(f"standard {standard.code} exists", ("code",))
            return standard.id, (standard, self._listed("standards", standard.id))

        return self._transact(decide)

    def standards(self) -> list[OutcomeStandard]:
        return self._list("standards", OutcomeStandard)

    def _check_institution(self, institution_id: UUID | None, field: str) -> None:
        if institution_id is not None and not self._exists(institution_id):
            raise NotFound(f"no institution {institution_id}", (field,))

    def create_recognition_rule(self, name: str, model: RuleModel, terms: RecognitionTerms) -> UUID:
        terms = check_recognition_terms(terms, self.framework.max_level)
        self._check_institution(terms.criteria.institution_id, "issuerId")

        def decide() -> tuple[UUID, Pending]:
            rule = RecognitionRule.create(
                name=name, model=model, terms=terms, max_level=self.framework.max_level
            )
            return rule.id, (rule, self._listed("recognition-rules", rule.id))

        return self._transact(decide)

    def amend_recognition_rule(self, rule_id: UUID, terms: RecognitionTerms) -> int:
        terms = check_recognition_terms(terms, self.framework.max_level)
        self._check_institution(terms.criteria.institution_id, "issuerId")

        def decide() -> tuple[int, Pending]:
            rule = self.recognition_rule(rule_id)
            rule.amend(terms, self.framework.max_level)
            return rule.rule_version, (rule,)

        return self._transact(decide)

    def retire_recognition_rule(self, rule_id: UUID) -> None:
        def decide() -> tuple[None, Pending]:
            rule = self.recognition_rule(rule_id)
            rule.retire()
            return None, (rule,)

        self._transact(decide)

    def recognition_rule(self, rule_id: UUID, version: int | None = None) -> RecognitionRule:
        return self._get(RecognitionRule, rule_id, "recognition rule", version)

    def recognition_rules(self) -> list[RecognitionRule]:
        return self._list("recognition-rules", RecognitionRule)

    def create_conversion_rule(self, name: str, model: RuleModel, terms: ConversionTerms) -> UUID:
        terms = check_conversion_terms(terms)
        self._check_institution(terms.criteria.institution_id, "sourceInstitutionId")
        self._check_institution(terms.target_institution_id, "targetInstitutionId")

        def decide() -> tuple[UUID, Pending]:
            rule = ConversionRule.create(name=name, model=model, terms=terms)
            return rule.id, (rule, self._listed("conversion-rules", rule.id))

        return self._transact(decide)

    def amend_conversion_rule(self, rule_id: UUID, terms: ConversionTerms) -> int:
        terms = check_conversion_terms(terms)
        self._check_institution(terms.criteria.institution_id, "sourceInstitutionId")
        self._check_institution(terms.target_institution_id, "targetInstitutionId")

        def decide() -> tuple[int, Pending]:
            rule = self.conversion_rule(rule_id)
            rule.amend(terms)
            return rule.rule_version, (rule,)

        return self._transact(decide)

    def retire_conversion_rule(self, rule_id: UUID) -> None:
        def decide() -> tuple[None, Pending]:
            rule = self.conversion_rule(rule_id)
            rule.retire()
            return None, (rule,)

        self._transact(decide)

    def conversion_rule(self, rule_id: UUID, version: int | None = None) -> ConversionRule:
        return self._get(ConversionRule, rule_id, "conversion rule", version)

    def conversion_rules(self) -> list[ConversionRule]:
        return self._list("conversion-rules", ConversionRule)

    def create_qualification(
        self, name: str, level: int, awarding_institution_id: UUID, requirements: Requirements
    ) -> UUID:
        self._check_institution(awarding_institution_id, "awardingInstitutionId")

        def decide() -> tuple[UUID, Pending]:
            qualification = Qualification.create(
                name=name,
                level=level,
                awarding_institution_id=awarding_institution_id,
                requirements=requirements,
                max_level=self.framework.max_level,
            )
            return qualification.id, (
                qualification,
                self._listed("qualifications", qualification.id),
            )

        return self._transact(decide)

    def amend_qualification(self, qualification_id: UUID, requirements: Requirements) -> int:
        def decide() -> tuple[int, Pending]:
            qualification = self.qualification(qualification_id)
            qualification.amend(requirements, self.framework.max_level)
            return qualification.requirements_version, (qualification,)

        return self._transact(decide)

    def retire_qualification(self, qualification_id: UUID) -> None:
        def decide() -> tuple[None, Pending]:
            qualification = self.qualification(qualification_id)
            qualification.retire()
            return None, (qualification,)

        self._transact(decide)

    def qualification(self, qualification_id: UUID, version: int | None = None) -> Qualification:
        return self._get(Qualification, qualification_id, "qualification", version)

    def qualifications(self) -> list[Qualification]:
        return self._list("qualifications", Qualification)

    # -- the account --------------------------------------------------------------------------
    def account_id(self, learner_id: UUID) -> UUID:
        return CreditAccount.create_id(learner_id)

    def account(self, learner_id: UUID, version: int | None = None) -> CreditAccount:
        if version is not None:
            whole(version, "version", minimum=1)
        return self._get(CreditAccount, self.account_id(learner_id), "account for learner", version)

    def deposit(
        self,
        learner_id: UUID,
        outcome: DepositedOutcome,
        evidence: bytes,
        actor: str | None = None,
    ) -> UUID:
        """Accepts a verified outcome into the learner's account; returns the outcome id.

        The verifier runs first; the credential index and the account are saved together, so a
        credential enters at most one account even when pushed into two at once.
        """
        if not isinstance(evidence, bytes) or not evidence:
            raise InvalidInput("the deposit needs the credential as evidence", ("credential",))
        if not isinstance(outcome, DepositedOutcome):
            raise InvalidInput("the deposit needs the outcome the credential states", ("outcome",))
        outcome = replace(outcome, evidence_digest="sha256:" + hashlib.sha256(evidence).hexdigest())
        issuer = self._get(Institution, outcome.issuer_id, "issuer")
        self.verifier.check(issuer, outcome, evidence, self.now())
        index_id = CredentialIndex.create_id(outcome.issuer_id, outcome.credential_id)
        outcome_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            if self._exists(index_id):
                raise DuplicateCredential("this credential was already deposited")
            learner = self.learner(learner_id)
            self._check_active(learner)
            account = self.account(learner_id)
            account.deposit(outcome, outcome_id, self.now(), self.framework.max_level, actor=actor)
            index = CredentialIndex(
                issuer_id=outcome.issuer_id,
                credential_id=outcome.credential_id,
                account_id=account.id,
                outcome_id=outcome_id,
            )
            if learner.identity_verified:
                self._auto_recognize(account, account.outcome(outcome_id))
            return outcome_id, (account, index)

        return self._transact(decide)

    def verify_credential(self, credential: str) -> VerifiedCredential:
        """Verifies a signed credential against the registered issuers' keys (no deposit)."""
        if not isinstance(credential, str) or not credential.strip():
            raise InvalidCredential("credential must not be empty", ("credential",))
        return verify(credential, self.institution_by_issuer, self.now(), self.standards_material)

    def deposit_credential(
        self,
        learner_id: UUID,
        credential: str,
        actor: str | None = None,
        by_institution: UUID | None = None,
    ) -> UUID:
        """Verifies an Open Badges 3.0 VC-JWT, checks it names this learner, and deposits it."""
        verified = self.verify_credential(credential)
        if by_institution is not None and verified.issuer.id != by_institution:
            raise Forbidden("an institution deposits only the credentials it issued")
        data = self.personal_data(learner_id)
        if data is None:
            raise IdentityMismatch("the learner's identity data was erased")
        if not identity_matches(verified.credential, str(data["identityDocumentNumber"])):
            raise IdentityMismatch("the credential's subject is not this learner")
        outcome = to_outcome(verified, self.framework)
        return self.deposit(learner_id, outcome, credential.strip().encode(), actor=actor)

    def _matching_rule(self, outcome: Outcome, on: date) -> RuleVersion | None:
        candidates = [
            rule.current()
            for rule in self.recognition_rules()
            if not rule.retired
            and rule.terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code)
        ]
        candidates = [c for c in candidates if _valid_on(c, on)]
        if not candidates:
            return None
        # The most specific rule decides; among equals, the oldest (listing order).
        return max(candidates, key=lambda c: c.terms.criteria.specificity)

    def _auto_recognize(self, account: CreditAccount, outcome: Outcome) -> bool:
        rule = self._matching_rule(outcome, self.now().date())
        if rule is None:
            return False
        account.recognize_by_rule(outcome.id, rule, self.now().date(), identity_verified=True)
        return True

    def apply_recognition_rules(self, learner_id: UUID) -> int:
        """Recognises every deposited outcome that a rule decides; returns how many."""

        def decide() -> tuple[int, Pending]:
            learner = self.learner(learner_id)
            account = self.account(learner_id)
            if not learner.identity_verified:
                return 0, ()
            pending = [o for o in account.outcomes.values() if o.status is OutcomeStatus.DEPOSITED]
            done = sum(self._auto_recognize(account, o) for o in pending)
            return done, (account,)

        return self._transact(decide)

    def recognize_outcome(
        self,
        learner_id: UUID,
        outcome_id: UUID,
        officer: str,
        credits: Decimal | None = None,
        level: int | None = None,
        category: str | None = None,
    ) -> None:
        """By rule when no values are given, else an officer's decision with those values."""

        def decide() -> tuple[None, Pending]:
            learner = self.learner(learner_id)
            self._check_active(learner)
            account = self.account(learner_id)
            outcome = account.outcome(outcome_id)
            if credits is None and level is None and category is None:
                rule = self._matching_rule(outcome, self.now().date())
                if rule is None:
                    raise RuleNotApplicable(
                        "no recognition rule applies to this outcome; give credits, level and "
                        "category to recognise it as an officer"
                    )
                account.recognize_by_rule(
                    outcome_id, rule, self.now().date(), learner.identity_verified
                )
            else:
                if category is None:
                    raise InvalidInput("an officer's recognition names a category", ("category",))
                account.recognize_by_officer(
                    outcome_id,
                    credits_=credits,
                    level=level,
                    category=category,
                    officer=officer,
                    max_level=self.framework.max_level,
                    identity_verified=learner.identity_verified,
                )
            return None, (account,)

        self._transact(decide)

    def reject_outcome(self, learner_id: UUID, outcome_id: UUID, reason: str, officer: str) -> None:
        def decide() -> tuple[None, Pending]:
            account = self.account(learner_id)
            account.reject(outcome_id, reason, officer)
            return None, (account,)

        self._transact(decide)

    def convert_credits(
        self,
        learner_id: UUID,
        outcome_ids: list[UUID],
        conversion_rule_id: UUID,
        actor: str | None = None,
    ) -> UUID:
        conversion_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            self._check_active(self.learner(learner_id))
            rule = self.conversion_rule(conversion_rule_id).current()
            account = self.account(learner_id)
            account.convert(outcome_ids, rule, conversion_id, self.now(), actor=actor)
            return conversion_id, (account,)

        return self._transact(decide)

    def conversion_options(
        self, learner_id: UUID, qualification_id: UUID
    ) -> list[ConversionOption]:
        """Conversions the learner could make now, best first for this qualification."""
        qualification = self.qualification(qualification_id)
        rules = [r.current() for r in self.conversion_rules() if not r.retired]
        return self.account(learner_id).conversion_options(
            rules, qualification.requirements, self.now().date()
        )

    def assess(self, learner_id: UUID, qualification_id: UUID) -> Assessment:
        qualification = self.qualification(qualification_id)
        return self.account(learner_id).assess(qualification.requirements)

    def redeem_qualification(
        self, learner_id: UUID, qualification_id: UUID, actor: str | None = None
    ) -> UUID:
        redemption_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            qualification = self.qualification(qualification_id)
            if qualification.retired:
                raise RuleNotApplicable(f"qualification {qualification.name!r} is retired")
            self._check_active(self.learner(learner_id))
            account = self.account(learner_id)
            account.redeem(
                qualification_id,
                qualification.requirements_version,
                qualification.requirements,
                redemption_id,
                self.now(),
                actor=actor,
            )
            return redemption_id, (account,)

        return self._transact(decide)

    def revoke_outcome(
        self,
        learner_id: UUID,
        outcome_id: UUID,
        reason: str,
        actor: str,
        by_institution: UUID | None = None,
    ) -> tuple[UUID, ...]:
        """By its issuer (``by_institution``) or an officer; returns the redemptions flagged."""

        def decide() -> tuple[tuple[UUID, ...], Pending]:
            account = self.account(learner_id)
            outcome = account.outcome(outcome_id)
            if by_institution is not None and outcome.issuer_id != by_institution:
                raise Forbidden("only the issuer or an officer can revoke an outcome")
            flagged = account.revoke(outcome_id, reason, actor)
            return flagged, (account,)

        return self._transact(decide)

    # -- history --------------------------------------------------------------------------------
    def account_version_at(self, learner_id: UUID, at: datetime) -> int:
        """The account's version as it stood at a moment (0: not yet opened)."""
        at = utc(at)
        version = 0
        for e in self.events.get(self.account_id(learner_id)):
            if cast(DomainEvent, e).timestamp > at:
                break
            version = e.originator_version
        return version

    def account_history(
        self, learner_id: UUID, after_version: int = 0, limit: int | None = None
    ) -> Iterator[AccountEvent]:
        whole(after_version, "afterVersion")
        if limit is not None:
            whole(limit, "limit")
        stored_events = self.recorder.select_events(
            self.account_id(learner_id), gt=after_version, limit=limit
        )
        for stored in stored_events:
            e: Any = self.mapper.to_domain_event(stored)
            data = {
                k: v
                for k, v in vars(e).items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
            }
            yield AccountEvent(
                version=e.originator_version,
                type=type(e).__name__,
                at=e.timestamp,
                actor=cast(str | None, data.pop("actor", None)),
                data=data,
                hash=stored_hash(stored),
            )


def _add_usable_key(
    institution: Institution, jwk: object, valid_from: datetime, valid_until: datetime | None
) -> str:
    """Adds the key only if it constructs as a verifying key (checked before anything is saved)."""
    key = institution.add_key(jwk, valid_from, valid_until)
    verifying_key(key)
    return key.kid


def _valid_on(rule: RuleVersion, on: date) -> bool:
    try:
        rule.check_applicable(on)
    except RuleNotApplicable:
        return False
    return True
