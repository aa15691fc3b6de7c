"""Typed errors: mutations return ``UserError``s; queries raise GraphQL errors with a stable
``extensions.code``. Nothing internal (traceback, SQL) ever reaches a response."""

from __future__ import annotations

import enum
import logging
from typing import Any

import strawberry
from graphql import GraphQLError

from application.availability import is_connection_failure
from domain.errors import DomainError

log = logging.getLogger("creditbank.api")


@strawberry.enum(description="Stable error codes; clients branch on these, never on messages.")
class ErrorCode(enum.Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    CONFLICT = "CONFLICT"
    INVALID_CREDENTIAL = "INVALID_CREDENTIAL"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    UNKNOWN_ISSUER = "UNKNOWN_ISSUER"
    KEY_NOT_VALID = "KEY_NOT_VALID"
    CREDENTIAL_EXPIRED = "CREDENTIAL_EXPIRED"
    DUPLICATE_CREDENTIAL = "DUPLICATE_CREDENTIAL"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    IDENTITY_NOT_VERIFIED = "IDENTITY_NOT_VERIFIED"
    DUPLICATE_IDENTITY = "DUPLICATE_IDENTITY"
    RULE_NOT_APPLICABLE = "RULE_NOT_APPLICABLE"
    RULE_CONFLICT = "RULE_CONFLICT"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    REQUIREMENTS_NOT_MET = "REQUIREMENTS_NOT_MET"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    UNAVAILABLE = "UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"


@strawberry.type(description="A refusal of a mutation: nothing was changed.")
class UserError:
    code: ErrorCode
    message: str
    field: list[str] | None = None


class ApiError(GraphQLError):
    """A query-level error with ``extensions.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


def user_error(exc: DomainError) -> UserError:
    return UserError(
        code=ErrorCode(exc.code),
        message=exc.message,
        field=list(exc.field) if exc.field else None,
    )


def as_api_error(exc: DomainError) -> ApiError:
    return ApiError(exc.code, exc.message)


def invalid(message: str, *field: str) -> UserError:
    return UserError(code=ErrorCode.INVALID_INPUT, message=message, field=list(field) or None)


def mask(error: GraphQLError) -> dict[str, Any]:
    """Formats an error for the response; unexpected exceptions become INTERNAL without detail."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # Validation and parse errors (and ApiError, which carries its own code).
        formatted: dict[str, Any] = dict(error.formatted)
        extensions: dict[str, Any] = dict(formatted.get("extensions") or {})
        extensions.setdefault("code", getattr(original, "code", None) or "INVALID_INPUT")
        formatted["extensions"] = extensions
        return formatted
    if isinstance(original, DomainError):
        return {
            **error.formatted,
            "message": original.message,
            "extensions": {"code": original.code},
        }
    if is_connection_failure(original):
        log.warning("database unavailable in %s: %s", error.path, original)
        return {
            "message": "the database is unavailable; send the request again shortly",
            "path": error.path,
            "extensions": {"code": "UNAVAILABLE"},
        }
    log.error("unexpected error in %s", error.path, exc_info=original)
    return {
        "message": "internal error",
        "path": error.path,
        "extensions": {"code": "INTERNAL"},
    }
