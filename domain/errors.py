"""Domain errors. Each carries a stable ``code`` that the API exposes unchanged."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by a business rule. Nothing was stored."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, field: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    """A concurrent change won; the command may be sent again."""

    code = "CONFLICT"


class Unavailable(DomainError):
    """The store could not be reached; nothing was stored. The command may be sent again."""

    code = "UNAVAILABLE"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class RateLimited(DomainError):
    """Too many attempts from one caller in a window; nothing was stored. Send again later."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RuleNotApplicable(DomainError):
    code = "RULE_NOT_APPLICABLE"


class RuleConflict(DomainError):
    """Another rule covers the same outcomes with different terms and the same priority."""

    code = "RULE_CONFLICT"


class InsufficientCredits(DomainError):
    code = "INSUFFICIENT_CREDITS"


class RequirementsNotMet(DomainError):
    code = "REQUIREMENTS_NOT_MET"

    def __init__(self, unmet: list[str]) -> None:
        super().__init__("requirements not met: " + "; ".join(unmet))
        self.unmet = unmet


class AlreadyRevoked(DomainError):
    code = "ALREADY_REVOKED"


class DuplicateCredential(DomainError):
    code = "DUPLICATE_CREDENTIAL"


class DuplicateIdentity(DomainError):
    code = "DUPLICATE_IDENTITY"


class IdentityNotVerified(DomainError):
    code = "IDENTITY_NOT_VERIFIED"


class IdentityMismatch(DomainError):
    code = "IDENTITY_MISMATCH"


class UnknownIssuer(DomainError):
    code = "UNKNOWN_ISSUER"


class KeyNotValid(DomainError):
    code = "KEY_NOT_VALID"


class InvalidCredential(DomainError):
    code = "INVALID_CREDENTIAL"


class InvalidSignature(DomainError):
    code = "INVALID_SIGNATURE"


class CredentialExpired(DomainError):
    code = "CREDENTIAL_EXPIRED"
