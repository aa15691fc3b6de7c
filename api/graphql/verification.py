"""``verifyCredential``'s answer: the contract's fields (valid, issuer, revoked, errors) plus every
rule that was run (``checks``) and every warning, as application/credentials.inspect reports them
(rule names after the 1EdTech validator's probes)."""

from __future__ import annotations

import enum

import strawberry

from api.graphql.errors import UserError, user_error
from application.credentials import Verification
from domain.errors import DomainError


@strawberry.enum(description="How a verification rule came out.")
class CheckOutcome(enum.Enum):
    PASSED = "PASSED"
    WARNING = "WARNING"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@strawberry.type(description="One verification rule as it was run on the credential.")
class VerificationCheck:
    name: str = strawberry.field(description="the rule, e.g. ExternalProofProbe, IssuanceProbe")
    outcome: CheckOutcome
    message: str


@strawberry.type(description="A warning (or error) with the rule that found it.")
class VerificationFinding:
    rule: str
    code: str
    message: str
    field: list[str] | None = None


@strawberry.type
class VerificationResult:
    valid: bool
    issuer: str | None
    revoked: bool
    errors: list[UserError]
    warnings: list[VerificationFinding] = strawberry.field(
        default_factory=list,
        description="valid, but not as the specifications prefer (e.g. VC 1.1 content)",
    )
    checks: list[VerificationCheck] = strawberry.field(
        default_factory=list, description="every rule run, in order, with its outcome"
    )

    @classmethod
    def of(cls, verification: Verification) -> VerificationResult:
        report = verification.report
        return cls(
            valid=verification.valid,
            issuer=verification.issuer if verification.valid else None,
            revoked=verification.revoked,
            errors=[user_error(error) for _, error in report.errors],
            warnings=[
                VerificationFinding(
                    rule=w.rule,
                    code=w.code,
                    message=w.message,
                    field=list(w.field) if w.field else None,
                )
                for w in report.warnings
            ],
            checks=[
                VerificationCheck(name=c.rule, outcome=CheckOutcome(c.outcome), message=c.message)
                for c in report.checks
            ],
        )

    @classmethod
    def refused(cls, error: DomainError) -> VerificationResult:
        """Refused before any rule ran (the anonymous size and rate limits)."""
        return cls(valid=False, issuer=None, revoked=False, errors=[user_error(error)])
