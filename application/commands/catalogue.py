"""The catalogue: learning-outcome standards, recognition and conversion rules, qualifications.
Each is a versioned record; every decision cites the version it applied."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.base import Pending
from application.commands.institutions import InstitutionCommands
from domain.errors import Forbidden, InvalidInput, NotFound, RuleConflict, RuleNotApplicable
from domain.qualification import Qualification, Requirements
from domain.rules import ConversionRule, ConversionTerms, RecognitionRule, RecognitionTerms
from domain.standard import OutcomeStandard, PassMark, StandardTerms
from domain.values import InstitutionKind, OutcomeKind, RuleModel


def check_no_conflict(rule: Any, others: list[Any]) -> None:
    """Refuses a rule that covers outcomes another covers, in overlapping windows, with other
    terms, unless one is more specific or their priorities differ (RuleConflict). Conversion
    rules conflict only into the same target."""
    mine = rule.terms
    for other in others:
        if other.id == rule.id or other.retired:
            continue
        theirs = other.terms
        if isinstance(mine, ConversionTerms) and (
            theirs.target_institution_id,
            theirs.target_code,
        ) != (mine.target_institution_id, mine.target_code):
            continue
        if not mine.criteria.overlaps(theirs.criteria) or not windows_meet(mine, theirs):
            continue
        if _same_terms(mine, theirs) or mine.priority != theirs.priority:
            continue
        if mine.criteria.narrower_than(theirs.criteria) or theirs.criteria.narrower_than(
            mine.criteria
        ):
            continue
        raise RuleConflict(
            f"rule {other.name!r} covers the same outcomes with other terms: make one more "
            f"specific, or give them different priorities (both {mine.priority})",
            ("priority",),
        )


def windows_meet(a: Any, b: Any) -> bool:
    start = max(a.valid_from or date.min, b.valid_from or date.min)
    end = min(a.valid_until or date.max, b.valid_until or date.max)
    return start <= end


def _same_terms(a: Any, b: Any) -> bool:
    ignore = {"valid_from", "valid_until", "priority"}
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(a) if f.name not in ignore)


class CatalogueCommands(InstitutionCommands):
    # -- standards ------------------------------------------------------------------------------
    def define_standard(
        self,
        code: str,
        title: str,
        level: int,
        credits: Decimal,
        accepted_kinds: tuple[OutcomeKind, ...],
        *,
        accepted_issuers: tuple[UUID, ...] = (),
        accepted_issuer_kinds: tuple[InstitutionKind, ...] = (),
        pass_mark: PassMark | None = None,
        effective_from: date | None = None,
    ) -> UUID:
        """Adds a standard to the catalogue (version 1, for the learning completed from
        ``effective_from``; default: all of it)."""
        terms = StandardTerms(
            title=title,
            level=level,
            credits=credits,
            accepted_kinds=accepted_kinds,
            accepted_issuers=accepted_issuers,
            accepted_issuer_kinds=accepted_issuer_kinds,
            pass_mark=pass_mark,
        )

        def decide() -> tuple[UUID, Pending]:
            standard = OutcomeStandard.define(
                code=code,
                terms=terms,
                max_level=self.framework.max_level,
                effective_from=effective_from,
            )
            if self._exists(standard.id):
                raise InvalidInput(f"standard {standard.code} exists", ("code",))
            self._check_accepted_issuers(standard.current.terms)
            return standard.id, (standard, self._listed("standards", standard.id))

        return self._command(decide)

    def amend_standard(
        self, standard_id: UUID, terms: StandardTerms, effective_from: date | None = None
    ) -> int:
        """A new version of the standard for the learning completed from ``effective_from``
        (default: today); returns its number."""

        def amend(standard: OutcomeStandard) -> int:
            version = standard.amend(
                terms, self.framework.max_level, effective_from, self.now().date()
            )
            self._check_accepted_issuers(standard.current.terms)
            return version

        return self._update(OutcomeStandard, standard_id, "standard", amend)

    def withdraw_standard(self, standard_id: UUID, effective_on: date | None = None) -> None:
        """Nothing completed from ``effective_on`` (default: today) is recognised against it."""
        self._update(
            OutcomeStandard,
            standard_id,
            "standard",
            lambda s: s.withdraw(effective_on, self.now().date()),
        )

    def standard(self, standard_id: UUID) -> OutcomeStandard:
        return self._get(OutcomeStandard, standard_id, "standard")

    def standard_by_code(self, code: str) -> OutcomeStandard | None:
        return self._find(OutcomeStandard, OutcomeStandard.create_id(code))

    def standards(self) -> list[OutcomeStandard]:
        return self._list("standards", OutcomeStandard)

    def _check_accepted_issuers(self, terms: StandardTerms) -> None:
        for issuer in terms.accepted_issuers:
            self._check_institution(issuer, "acceptedIssuerIds")

    # -- recognition rules ----------------------------------------------------------------------
    def create_recognition_rule(self, name: str, model: RuleModel, terms: RecognitionTerms) -> UUID:
        def decide() -> tuple[UUID, Pending]:
            rule = RecognitionRule.create(
                name=name,
                model=model,
                terms=terms,
                max_level=self.framework.max_level,
                today=self.now().date(),
            )
            self._check_recognition_parties(rule)
            check_no_conflict(rule, self.recognition_rules())
            return rule.id, (rule, self._listed("recognition-rules", rule.id))

        return self._command(decide)

    def amend_recognition_rule(
        self, rule_id: UUID, terms: RecognitionTerms, effective_from: date | None = None
    ) -> int:
        """A new version, for the learning completed from ``effective_from`` (default: today;
        earlier: an explicit retroactive amendment); returns its number."""

        def amend(rule: RecognitionRule) -> int:
            rule.amend(terms, self.framework.max_level, effective_from, self.now().date())
            self._check_recognition_parties(rule)
            check_no_conflict(rule, self.recognition_rules())
            return rule.rule_version

        return self._update(RecognitionRule, rule_id, "recognition rule", amend)

    def retire_recognition_rule(self, rule_id: UUID) -> None:
        self._update(RecognitionRule, rule_id, "recognition rule", RecognitionRule.retire)

    def recognition_rule(self, rule_id: UUID, version: int | None = None) -> RecognitionRule:
        return self._get(RecognitionRule, rule_id, "recognition rule", version)

    def recognition_rules(self) -> list[RecognitionRule]:
        return self._list("recognition-rules", RecognitionRule)

    def _check_recognition_parties(self, rule: RecognitionRule) -> None:
        """The terms the domain validated name only registered institutions; a framework rule's
        code names a standard of the catalogue, one not withdrawn (an agreement's code may be a
        course of the issuer's own)."""
        self._check_institution(rule.terms.criteria.institution_id, "issuerId")
        code = rule.terms.criteria.standard_code
        if code is not None and rule.model is RuleModel.FRAMEWORK:
            standard = self.standard_by_code(code)
            if standard is None:
                raise NotFound(f"no standard {code} in the catalogue", ("standardCode",))
            if standard.withdrawn:
                raise RuleNotApplicable(f"standard {code} is withdrawn")

    # -- conversion rules -----------------------------------------------------------------------
    def _check_conversion_parties(self, rule: ConversionRule) -> None:
        self._check_institution(rule.terms.criteria.institution_id, "sourceInstitutionId")
        self._check_institution(rule.terms.target_institution_id, "targetInstitutionId")

    def create_conversion_rule(
        self,
        name: str,
        model: RuleModel,
        terms: ConversionTerms,
        proposed_by: str = "officer",
        proposer_institution: UUID | None = None,
        justification: str | None = None,
    ) -> UUID:
        """A rule proposed by an officer or by an institution party to the agreement; it is in
        force once the other party accepts and, if it creates credit, an officer approves."""

        def decide() -> tuple[UUID, Pending]:
            rule = ConversionRule.create(
                name=name,
                model=model,
                terms=terms,
                proposed_by=proposed_by,
                proposer_institution=proposer_institution,
                justification=justification,
                max_level=self.framework.max_level,
            )
            self._check_conversion_parties(rule)
            check_no_conflict(rule, self.conversion_rules())
            return rule.id, (rule, self._listed("conversion-rules", rule.id))

        return self._command(decide)

    def amend_conversion_rule(
        self,
        rule_id: UUID,
        terms: ConversionTerms,
        proposed_by: str = "officer",
        justification: str | None = None,
    ) -> int:
        def amend(rule: ConversionRule) -> int:
            rule.amend(terms, proposed_by, justification, self.framework.max_level)
            self._check_conversion_parties(rule)
            check_no_conflict(rule, self.conversion_rules())
            return rule.rule_version

        return self._update(ConversionRule, rule_id, "conversion rule", amend)

    def accept_conversion_rule(self, rule_id: UUID, institution_id: UUID, actor: str) -> None:
        """A party to an agreement accepts it."""
        self._update(
            ConversionRule,
            rule_id,
            "conversion rule",
            lambda rule: rule.accept(institution_id, actor),
        )

    def approve_conversion_rule(self, rule_id: UUID, officer: str) -> None:
        """An officer other than its proposer approves a rule that creates credit."""
        self._update(ConversionRule, rule_id, "conversion rule", lambda rule: rule.approve(officer))

    def decline_conversion_rule(
        self, rule_id: UUID, actor: str, reason: str, institution_id: UUID | None = None
    ) -> None:
        """A party whose acceptance it awaits, or an officer, declines a rule not yet in
        force."""

        def decline(rule: ConversionRule) -> None:
            if institution_id is not None and institution_id not in rule.awaiting_parties:
                raise Forbidden("only a party whose acceptance it awaits declines it")
            rule.decline(actor, reason)

        self._update(ConversionRule, rule_id, "conversion rule", decline)

    def retire_conversion_rule(self, rule_id: UUID) -> None:
        self._update(ConversionRule, rule_id, "conversion rule", ConversionRule.retire)

    def conversion_rule(self, rule_id: UUID, version: int | None = None) -> ConversionRule:
        return self._get(ConversionRule, rule_id, "conversion rule", version)

    def conversion_rules(self) -> list[ConversionRule]:
        return self._list("conversion-rules", ConversionRule)

    # -- qualifications -------------------------------------------------------------------------
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
            self._check_pathway(qualification)
            return qualification.id, (
                qualification,
                self._listed("qualifications", qualification.id),
            )

        return self._command(decide)

    def amend_qualification(self, qualification_id: UUID, requirements: Requirements) -> int:
        def amend(qualification: Qualification) -> int:
            qualification.amend(requirements, self.framework.max_level)
            self._check_pathway(qualification)
            return qualification.requirements_version

        return self._update(Qualification, qualification_id, "qualification", amend)

    def _check_pathway(self, qualification: Qualification) -> None:
        """What stacks into a qualification exists, and never stacks (through others) into
        what it stacks into: a pathway has no cycles."""
        seen: set[UUID] = set()
        todo = [s.qualification_id for s in qualification.requirements.stacks_from]
        while todo:
            qid = todo.pop()
            if qid == qualification.id:
                raise InvalidInput(
                    "a qualification cannot stack into itself, directly or through others",
                    ("stacksFrom",),
                )
            if qid in seen:
                continue
            seen.add(qid)
            try:
                below = self.qualification(qid)
            except NotFound:
                raise NotFound(f"no qualification {qid}", ("stacksFrom",)) from None
            todo += [s.qualification_id for s in below.requirements.stacks_from]

    def retire_qualification(self, qualification_id: UUID) -> None:
        self._update(Qualification, qualification_id, "qualification", Qualification.retire)

    def qualification(self, qualification_id: UUID, version: int | None = None) -> Qualification:
        return self._get(Qualification, qualification_id, "qualification", version)

    def qualifications(self) -> list[Qualification]:
        return self._list("qualifications", Qualification)

    def _active_qualification(self, qualification_id: UUID) -> Qualification:
        qualification = self.qualification(qualification_id)
        if qualification.retired:
            raise RuleNotApplicable(f"qualification {qualification.name!r} is retired")
        return qualification
