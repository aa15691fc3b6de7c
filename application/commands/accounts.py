"""The account: deposits (verified credentials), recognition, conversion, redemption, revocation.
Recognition waits for the learner's identity, so verifying it is decided here too."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.base import Pending
from application.commands.catalogue import CatalogueCommands
from application.commands.learners import LearnerCommands
from application.credentials import (
    VerifiedCredential,
    identity_matches,
    identity_numbers,
    verify,
)
from application.identity_attempts import IdentityFailure
from application.outcome_mapping import to_outcome
from application.status_lists import StatusWatch, Verdict, entries, stated
from domain.credit_account import CreditAccount
from domain.credit_schemes import framework_credits
from domain.errors import (
    AlreadyRevoked,
    DomainError,
    DuplicateCredential,
    Forbidden,
    IdentityMismatch,
    InvalidCredential,
    InvalidInput,
    NotFound,
    RuleNotApplicable,
)
from domain.indexes import CredentialIndex
from domain.institution import Institution
from domain.learner import Learner
from domain.records import DepositedOutcome, Outcome
from domain.rules import ConversionRule, RuleVersion
from domain.values import IdentityVerification, OutcomeStatus, parse_text, parse_whole


@dataclass(frozen=True)
class PreparedDeposit:
    """A deposit checked as far as it can be outside its transaction."""

    outcome: DepositedOutcome  # with its evidence digest and framework credits
    evidence: bytes
    identity: IdentityMismatch | None  # the finding that it names someone else, told last
    status: StatusWatch | None


class AccountCommands(LearnerCommands, CatalogueCommands):
    def account_id(self, learner_id: UUID) -> UUID:
        return CreditAccount.create_id(learner_id)

    def credential_account(self, index: CredentialIndex) -> CreditAccount:
        """The account that holds a deposited credential now (following merges)."""
        account: CreditAccount = self._get(CreditAccount, index.account_id, "account")
        if account.merged_into is None:
            return account
        return self.account(self.survivor_of(account.merged_into))

    def _held_outcome(
        self,
        learner_id: UUID,
        issuer_id: UUID,
        credential_id: str,
        indexes: Mapping[UUID, CredentialIndex] | None = None,
    ) -> UUID | None:
        """For a deposit refused as a duplicate: the outcome the learner's account holds under
        the same issuer's same credential id (the deposit repeats one), else None (another
        account holds it, or none). ``indexes``: ones already read in this transaction."""
        index_id = CredentialIndex.create_id(issuer_id, credential_id)
        index = (indexes or {}).get(index_id) or self._find(CredentialIndex, index_id)
        if index is None or self.credential_account(index).id != self.account_id(learner_id):
            return None
        return index.outcome_id

    def account(self, learner_id: UUID, version: int | None = None) -> CreditAccount:
        if version is not None:
            parse_whole(version, "version", minimum=1)
        return self._get(CreditAccount, self.account_id(learner_id), "account for learner", version)

    # -- deposits -------------------------------------------------------------------------------
    def deposit(
        self,
        learner_id: UUID,
        outcome: DepositedOutcome,
        evidence: bytes,
        actor: str | None = None,
        identity: IdentityMismatch | None = None,
        status: StatusWatch | None = None,
    ) -> UUID:
        """Accepts a verified outcome into the learner's account; returns the outcome id.

        The verifier runs first; the credential index and the account are saved together, so a
        credential enters at most one account even when pushed into two at once. ``identity``,
        the caller's finding that the credential names someone else, is raised only once every
        other check has passed, so a refusal says nothing about who the learner is.
        """
        return self._deposit_prepared(
            learner_id, self._prepare(outcome, evidence, identity, status), actor
        )

    def _prepare(
        self,
        outcome: DepositedOutcome,
        evidence: bytes,
        identity: IdentityMismatch | None = None,
        status: StatusWatch | None = None,
    ) -> PreparedDeposit:
        """A deposit's checks before its transaction: the evidence, the issuer's key, the
        outcome's own rules, and its credits on the framework."""
        if not isinstance(evidence, bytes) or not evidence:
            raise InvalidInput("the deposit needs the credential as evidence", ("credential",))
        if not isinstance(outcome, DepositedOutcome):
            raise InvalidInput("the deposit needs the outcome the credential states", ("outcome",))
        outcome = replace(outcome, evidence_digest="sha256:" + hashlib.sha256(evidence).hexdigest())
        issuer = self._get(Institution, outcome.issuer_id, "issuer")
        self.verifier.check(issuer, outcome, evidence, self.now())
        outcome = outcome.checked(self.framework.max_level)
        scheme = issuer.credit_scheme_on(outcome.completed_on)
        outcome = replace(
            outcome,
            framework_credits=framework_credits(
                outcome.credits, outcome.hours, scheme, self.framework
            ),
        )
        return PreparedDeposit(outcome, evidence, identity, status)

    def _deposit_prepared(
        self, learner_id: UUID, prepared: PreparedDeposit, actor: str | None
    ) -> UUID:
        def decide() -> tuple[UUID, Pending]:
            with self._read_once():  # afresh on each attempt
                learner = self.learner(learner_id)
                self._check_active(learner)
                account = self.account(learner_id)
                outcome_id, index = self._deposit_into(learner, account, prepared, actor, {})
            return outcome_id, (account, index)

        with self.identity_guard.guarding(prepared.outcome.issuer_id, learner_id):
            try:
                outcome_id = self._command(decide)
            except IdentityMismatch:
                self._identity_failed(prepared, learner_id, actor)
                raise
        self.identity_guard.deposited(prepared.outcome.issuer_id)
        return outcome_id

    def _identity_failed(
        self, prepared: PreparedDeposit, learner_id: UUID, actor: str | None
    ) -> None:
        failure = IdentityFailure(self.now(), prepared.outcome.issuer_id, learner_id, actor)
        self.identity_guard.failed(failure, prepared.outcome.evidence_digest)

    def _deposit_into(
        self,
        learner: Learner,
        account: CreditAccount,
        prepared: PreparedDeposit,
        actor: str | None,
        indexes: dict[UUID, CredentialIndex],
    ) -> tuple[UUID, CredentialIndex]:
        """The deposit's decision inside its transaction, on the loaded learner and account.
        ``indexes``: credential indexes made earlier in the same transaction (a batch).

        A refusal leaves ``account`` as it was: the identity finding, told after every other
        check, is decided on a copy."""
        outcome = prepared.outcome
        # Again inside the transaction: a key revoked as compromised while the credential
        # was being verified lets nothing in after its revocation (review_compromised only
        # looks at what the views held when the key was revoked).
        self.verifier.check(
            self._get(Institution, outcome.issuer_id, "issuer"),
            outcome,
            prepared.evidence,
            self.now(),
        )
        index_id = CredentialIndex.create_id(outcome.issuer_id, outcome.credential_id)
        index = indexes.get(index_id) or self._find(CredentialIndex, index_id)
        if index is not None and self.credential_account(index).id != account.id:
            raise DuplicateCredential("this credential was already deposited")
        outcome_id = uuid4()
        max_level = self.framework.max_level
        if prepared.identity is not None:  # last: what the account would say, then the finding
            deepcopy(account).deposit(outcome, outcome_id, self.now(), max_level, actor=actor)
            raise prepared.identity
        # The account refuses a repeat, and lets an update (signed later) supersede.
        account.deposit(outcome, outcome_id, self.now(), max_level, actor=actor)
        if prepared.status is not None:  # before recognition: an unknown status waits
            account.watch_status(outcome_id, prepared.status.entries, prepared.status.unknown)
        if index is None:
            index = CredentialIndex(
                issuer_id=outcome.issuer_id,
                credential_id=outcome.credential_id,
                account_id=account.id,
                outcome_id=outcome_id,
            )
        else:
            index.updated(outcome_id, account.id)
        indexes[index_id] = index
        if learner.identity_verified:
            self._auto_recognize(account, account.outcome(outcome_id))
        return outcome_id, index

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
        """Verifies an Open Badges 3.0 credential, checks it names this learner, and deposits it.

        Whether it names the learner is worked out here, at the same cost either way, and told
        last (``deposit``): otherwise an institution could learn a learner's document number by
        sending otherwise-refused credentials listing candidates (security finding 1)."""
        if by_institution is not None:  # before the costly verification
            self.identity_guard.check(by_institution, learner_id)
        with self._read_once():  # the issuer and the learner, read once (nothing is changed)
            prepared = self._prepare_credential(learner_id, credential, by_institution)
        return self._deposit_prepared(learner_id, prepared, actor)

    def _prepare_credential(
        self,
        learner_id: UUID,
        credential: str,
        by_institution: UUID | None,
        verdict: VerifiedCredential | DomainError | None = None,
    ) -> PreparedDeposit:
        """Everything a credential's deposit checks before its transaction; ``verdict``: its
        verification, when it was done already (elsewhere, in parallel)."""
        if isinstance(verdict, DomainError):
            raise verdict
        verified = verdict or self.verify_credential(credential)
        if by_institution is not None and verified.issuer.id != by_institution:
            raise Forbidden("an institution deposits only the credentials it issued")
        watch = self._check_status(verified)
        identity = self._identity_finding(learner_id, verified.credential)
        outcome = to_outcome(verified, self.framework)
        return self._prepare(outcome, credential.strip().encode(), identity, watch)

    def _check_status(self, verified: VerifiedCredential) -> StatusWatch | None:
        """What the issuer's status list says of the credential: revoked is refused, and so is
        a list that cannot be trusted. A list that cannot be read now (unreachable, not yet
        published, failing) lets the credential in with its status unknown: deposited, never
        recognised until the list is read again (``application.status_watch``). None: the
        credential states no status."""
        status = self.status_lists.check(verified.issuer, verified.credential)
        if status.verdict is Verdict.NOT_APPLICABLE:
            return None
        if status.verdict is Verdict.REVOKED:
            raise AlreadyRevoked(f"the credential is revoked by its issuer ({status.reason})")
        if status.verdict is Verdict.UNKNOWN and not status.transient:
            raise InvalidCredential(f"the credential's status cannot be trusted: {status.reason}")
        unknown = status.reason if status.verdict is Verdict.UNKNOWN else None
        return StatusWatch(stated(entries(verified.credential)), unknown)

    def _identity_finding(
        self, learner_id: UUID, credential: dict[str, Any]
    ) -> IdentityMismatch | None:
        """None when the credential names this learner (or a learner merged into it)."""
        # identity_numbers refuses a list of candidates outright
        return self._numbers_finding(learner_id, identity_numbers(credential))

    def _numbers_finding(
        self, learner_id: UUID, numbers: list[dict[str, Any]]
    ) -> IdentityMismatch | None:
        """None when one of the IdentityObjects ``numbers`` is this learner's (or a merged
        learner's) national identity number; compared at the same cost either way."""
        data = self.personal_data(learner_id)
        # The person's documents: this account's, and those of the accounts merged into it.
        documents = [] if data is None else [data]
        documents += [
            merged
            for absorbed in self.learner(learner_id).absorbed
            if (merged := self.personal_data(absorbed)) is not None
        ]
        matched = [identity_matches(numbers, str(d["identityDocumentNumber"])) for d in documents]
        if data is None or not any(matched):  # one answer: erasure is not told apart either
            return IdentityMismatch("the credential's subject is not this learner")
        return None

    # -- identity and recognition -----------------------------------------------------------
    def verify_learner_identity(
        self, learner_id: UUID, method: IdentityVerification, officer: str
    ) -> None:
        """Records how the identity was verified, then recognises what waited for it."""
        self._update(
            Learner,
            learner_id,
            "learner",
            lambda learner: learner.verify_identity(method, officer, self.now()),
        )
        self.apply_recognition_rules(learner_id)

    def _matching_rule(self, outcome: Outcome) -> RuleVersion | None:
        """The rule version that governs the outcome: of each rule, the version in force when
        the learning was completed, if its window covers that day and its criteria match."""
        day = outcome.completed_on
        candidates = [
            v
            for v in (rule.version_on(day) for rule in self.recognition_rules())
            if v is not None
            and v.applies_on(day)
            and v.terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code)
        ]
        if not candidates:
            return None
        # The higher priority decides, then the more specific rule (rules that could tie were
        # refused when created).
        return max(candidates, key=lambda c: (c.terms.priority, c.terms.criteria.specificity))

    def _auto_recognize(self, account: CreditAccount, outcome: Outcome) -> bool:
        """Recognition without an officer: only while the issuer is active (a suspended
        issuer's outcomes wait for an officer's decision)."""
        if not self.institution(outcome.issuer_id).active:
            return False
        rule = self._matching_rule(outcome)
        if rule is None:
            return False
        try:
            self._recognize_by(account, outcome, rule, identity_verified=True)
        except RuleNotApplicable:
            return False  # the rule cannot decide this one (no pass, expired, no value): officer
        return True

    def _recognize_by(
        self, account: CreditAccount, outcome: Outcome, rule: RuleVersion, identity_verified: bool
    ) -> None:
        """The rule decides, measured against the standard it cites (if any)."""
        code = rule.terms.criteria.standard_code
        account.recognize_by_rule(
            outcome.id,
            rule,
            self.now().date(),
            identity_verified,
            standard=None if code is None else self.standard_by_code(code),
            issuer_kind=self.institution(outcome.issuer_id).kind,
        )

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

        return self._command(decide)

    def recognize_outcome(
        self,
        learner_id: UUID,
        outcome_id: UUID,
        officer: str,
        credits: Decimal | None = None,
        level: int | None = None,
        category: str | None = None,
        standard_code: str | None = None,
        justification: str | None = None,
    ) -> UUID | None:
        """By rule when no values are given, else an officer's decision with those values
        (against ``standard_code``, a standard of the catalogue, when given). An officer's
        decision beyond its bounds needs ``justification`` and waits for a second officer
        (returns the waiting decision's id)."""
        standard = None
        if standard_code is not None:
            standard = self.standard_by_code(
                parse_text(standard_code, "standardCode", max_length=50)
            )
            if standard is None:
                raise NotFound(f"no standard {standard_code} in the catalogue", ("standardCode",))

        def decide() -> tuple[UUID | None, Pending]:
            learner = self.learner(learner_id)
            self._check_active(learner)
            account = self.account(learner_id)
            outcome = account.outcome(outcome_id)
            waiting = None
            if credits is None and level is None and category is None and standard is None:
                rule = self._matching_rule(outcome)
                if rule is None:
                    raise RuleNotApplicable(
                        "no recognition rule applies to this outcome; give credits, level and "
                        "category to recognise it as an officer"
                    )
                self._recognize_by(account, outcome, rule, learner.identity_verified)
            else:
                if category is None:
                    raise InvalidInput("an officer's recognition names a category", ("category",))
                waiting = account.recognize_by_officer(
                    outcome_id,
                    credits=credits,
                    level=level,
                    category=category,
                    officer=officer,
                    max_level=self.framework.max_level,
                    identity_verified=learner.identity_verified,
                    on=self.now().date(),
                    standard=standard,
                    justification=justification,
                    threshold=self.four_eyes_credits,
                    at=self.now(),
                )
            return waiting, (account,)

        return self._command(decide)

    def reject_outcome(self, learner_id: UUID, outcome_id: UUID, reason: str, officer: str) -> None:
        self._update(
            CreditAccount,
            self.account_id(learner_id),
            "account for learner",
            lambda account: account.reject(outcome_id, reason, officer),
        )

    # -- conversion, redemption, revocation ---------------------------------------------------
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
            rules = self.conversion_rules()  # loaded once for every source
            for oid in outcome_ids:
                self._check_priority(rule, account.outcome(oid), rules)
            account.convert(outcome_ids, rule, conversion_id, self.now(), actor=actor)
            return conversion_id, (account,)

        return self._command(decide)

    def _check_priority(
        self, rule: RuleVersion, outcome: Outcome, rules: list[ConversionRule]
    ) -> None:
        """One rule governs an outcome into a target: of the rules in force into it that cover
        the outcome, the higher priority, then the more specific, then the first created (so
        two rules never add up their caps for the same learning)."""
        terms = rule.terms
        target = (terms.target_institution_id, terms.target_code)
        ranked = [
            ((r.terms.priority, r.terms.criteria.specificity, -i), r)
            for i, r in enumerate(rules)
            if not r.retired
            and r.awaiting() is None
            and (r.terms.target_institution_id, r.terms.target_code) == target
            and r.terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code)
        ]
        if not ranked:
            return
        _, governing = max(ranked, key=lambda ranked_rule: ranked_rule[0])
        if governing.id != rule.rule_id:
            raise RuleNotApplicable(
                f"rule {governing.name!r} governs outcome {outcome.id} into {terms.target_code}",
                ("conversionRuleId",),
            )

    def revoke_outcome(
        self,
        learner_id: UUID,
        outcome_id: UUID,
        reason: str,
        actor: str,
        by_institution: UUID | None = None,
    ) -> tuple[UUID, ...]:
        """By its issuer (``by_institution``) or an officer; returns the redemptions flagged."""

        def revoke(account: CreditAccount) -> tuple[UUID, ...]:
            outcome = account.outcome(outcome_id)
            if by_institution is not None and outcome.issuer_id != by_institution:
                raise Forbidden("only the issuer or an officer can revoke an outcome")
            return account.revoke(outcome_id, reason, actor)

        # An issuer may name the account it deposited into, since merged into another.
        account_id = self.account_id(self.survivor_of(learner_id))
        return self._update(CreditAccount, account_id, "account for learner", revoke)
