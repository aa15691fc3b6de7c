"""Signed xAPI statements as evidence of non-formal learning (docs/xapi.md).

A registered learning platform sends ``{"statement": {...}, "signature": "<compact JWS>"}``: the
statement as its LRS holds it, with the signature attachment of xAPI's "Signed Statements"
(IEEE 9274.1.1 / xAPI 1.0.3 Data §2.6), and the JWS that attachment describes (in JSON there is
no multipart body to carry the attachment's bytes, so they travel beside the statement).

Verification, each refusal with the credential path's errors (``domain.errors``):

1. the statement validates against the xAPI 2.0 Statement schema shipped in
   ``application/standards`` (INVALID_CREDENTIAL);
2. exactly one attachment has usageType ``SIGNATURE_USAGE`` and contentType
   application/octet-stream, and its ``sha2`` (SHA-256, -384 or -512, by its length) and
   ``length`` are those of the JWS given (none: the statement is unsigned, INVALID_CREDENTIAL;
   another hash or length: INVALID_SIGNATURE);
3. the platform is the registered, active institution whose issuer URI the *signed* statement
   names, as ``authority.account.homePage``, else as ``context.platform`` (UNKNOWN_ISSUER); the
   JWS header's ``kid`` names one of its keys valid at the statement's ``timestamp``, not
   revoked (``Institution.key_for``: KEY_NOT_VALID); the algorithm fits the registered key (an
   RSA key: RS256, RS384 or RS512 as xAPI requires; an Ed25519 key: EdDSA) and the signature
   holds (INVALID_SIGNATURE);
4. the JWS payload is the statement as it was signed: the statement received must be logically
   equivalent to it under ``equivalence_difference`` (INVALID_SIGNATURE).

Everything the bank reads (``to_outcome``) is read from the signed payload, never from what an
LRS may have added or changed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import jwt

from application.credentials import MAX_CREDENTIAL_BYTES, moment_of, verifying_key
from application.standards import Standards
from application.text import UNSAFE_MESSAGE, first_unsafe
from domain.errors import InvalidCredential, InvalidSignature, KeyNotValid, UnknownIssuer
from domain.institution import Institution, SigningKey
from domain.records import DepositedOutcome
from domain.values import CREDIT_QUANTUM, InstitutionKind, OutcomeKind

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
CREDITED_VERBS = frozenset({COMPLETED, PASSED})
# The account system of the actor that names a bank learner: its ``name`` is the learner's
# national identity number as a (salted) SHA-256 hash, as an OB 3.0 IdentityObject states it.
IDENTITY_HOMEPAGE = "https://w3id.org/creditbank/national-identity-number"
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
MAX_STATEMENT_HOURS = Decimal(2000)  # a year of full-time study; a longer "duration" is absurd
MAX_ACTIVITY_ID = 400  # the credential id (at most 500) is the activity id and an actor digest
SHA2 = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}  # hex length -> SHA-2
# Properties an LRS assigns when absent (``id``, ``version``) or always overwrites (``stored``,
# ``authority``): xAPI's comparison ignores the differences its processing could cause.
LRS_ASSIGNED = ("id", "version")
LRS_OVERWRITTEN = ("stored", "authority")


@dataclass(frozen=True)
class Submission:
    """What the platform sends: the statement as received, and the compact JWS."""

    statement: dict[str, Any]
    signature: str

    def evidence(self) -> bytes:
        """The deposit's evidence: canonical JSON (sorted keys, no spaces, UTF-8) of both."""
        return json.dumps(
            {"signature": self.signature, "statement": self.statement},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()


@dataclass(frozen=True)
class VerifiedStatement:
    issuer: Institution
    statement: dict[str, Any]  # the signed payload: what the mapping reads
    kid: str
    timestamp: datetime


# -- the submission -------------------------------------------------------------------------------
def parse_submission(value: object) -> Submission:
    """``{"statement": {...}, "signature": "..."}`` as a dict or as JSON text."""
    if isinstance(value, str):
        if len(value) > 2 * MAX_CREDENTIAL_BYTES:
            raise InvalidCredential("the statement is too large", ("statement",))
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise InvalidCredential("the statement is not JSON", ("statement",)) from None
    if not isinstance(value, dict):
        raise InvalidCredential(
            'send {"statement": {...}, "signature": "<compact JWS>"}', ("statement",)
        )
    unknown = sorted(set(value) - {"statement", "signature"})
    if unknown:
        raise InvalidCredential(
            f"unexpected members {', '.join(map(str, unknown))}", ("statement",)
        )
    statement, signature = value.get("statement"), value.get("signature")
    if not isinstance(statement, dict):
        raise InvalidCredential("statement must be a JSON object", ("statement",))
    if len(json.dumps(statement, ensure_ascii=False)) > MAX_CREDENTIAL_BYTES:
        raise InvalidCredential("the statement is too large", ("statement",))
    if first_unsafe(statement) is not None:
        raise InvalidCredential(f"the statement's {UNSAFE_MESSAGE}", ("statement",))
    if signature is None:
        raise InvalidCredential(
            "the statement is unsigned: the bank takes only signed statements", ("signature",)
        )
    if not isinstance(signature, str) or len(signature) > MAX_CREDENTIAL_BYTES:
        raise InvalidCredential("signature must be a compact JWS", ("signature",))
    return Submission(statement, signature.strip())


# -- verification ---------------------------------------------------------------------------------
def verify(
    submission: Submission, issuer_by_uri: Any, now: datetime, standards: Standards
) -> VerifiedStatement:
    """Verifies a signed statement (the module's docstring lists the steps); raises the first
    refusal."""
    standards.check()  # the bank's own material first: a server problem is never the statement's
    received = submission.statement
    standards.check_xapi_statement(received)
    attachment = signature_attachment(received)
    check_attachment(attachment, submission.signature)
    header, signed = _decode(submission.signature)
    issuer = _platform(signed, issuer_by_uri)
    timestamp = _timestamp(signed, now)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise KeyNotValid("the JWS header names no key (kid)", ("signature", "kid"))
    key = issuer.key_for(kid, timestamp)  # unknown, revoked, retired or not yet valid: refused
    _check_signature(submission.signature, header, key)
    difference = equivalence_difference(received, signed)
    if difference is not None:
        raise InvalidSignature(f"the statement is not the one signed: {difference}")
    return VerifiedStatement(issuer, signed, key.kid, timestamp)


def signature_attachment(statement: dict[str, Any]) -> dict[str, Any]:
    found = [
        a
        for a in statement.get("attachments") or []
        if isinstance(a, dict) and a.get("usageType") == SIGNATURE_USAGE
    ]
    if not found:
        raise InvalidCredential(
            "the statement is unsigned (no attachment of usageType "
            f"{SIGNATURE_USAGE}): the bank takes only signed statements",
            ("statement", "attachments"),
        )
    if len(found) > 1:
        raise InvalidCredential(
            "the statement has more than one signature attachment", ("statement", "attachments")
        )
    return found[0]


def check_attachment(attachment: dict[str, Any], signature: str) -> None:
    """The attachment describes this JWS: its content type, its length and its SHA-2."""
    if attachment.get("contentType") != SIGNATURE_CONTENT_TYPE:
        raise InvalidCredential(
            f"the signature attachment's contentType must be {SIGNATURE_CONTENT_TYPE}",
            ("statement", "attachments"),
        )
    if not signature:
        raise InvalidCredential(
            "the statement is unsigned: its signature attachment came without the JWS",
            ("signature",),
        )
    data = signature.encode()
    sha2 = str(attachment.get("sha2", "")).lower()
    digest = SHA2.get(len(sha2))
    if digest is None or digest(data).hexdigest() != sha2:
        raise InvalidSignature("the signature attachment's sha2 is not that of the JWS sent")
    if attachment.get("length") != len(data):
        raise InvalidSignature("the signature attachment's length is not that of the JWS sent")


def _b64(segment: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", segment):
        raise InvalidCredential("the signature is not a compact JWS", ("signature",))
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, binascii.Error):
        raise InvalidCredential("the signature is not a compact JWS", ("signature",)) from None


def _decode(signature: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JWS header and the statement it signs (not yet verified)."""
    parts = signature.split(".")
    if len(parts) != 3 or not all(parts):  # no detached payload, no JSON serialisation
        raise InvalidCredential("the signature is not a compact JWS", ("signature",))
    values = []
    for segment in parts[:2]:
        try:
            value = json.loads(_b64(segment))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidCredential("the signature is not a compact JWS", ("signature",)) from None
        if not isinstance(value, dict):
            raise InvalidCredential(
                "the JWS payload must be the statement (a JSON object)", ("signature",)
            )
        if first_unsafe(value) is not None:
            raise InvalidCredential(f"the signed statement's {UNSAFE_MESSAGE}", ("signature",))
        values.append(value)
    header, signed = values
    if "crit" in header or "b64" in header:
        raise InvalidSignature("the JWS header asks for extensions the bank does not process")
    return header, signed


def _platform(signed: dict[str, Any], issuer_by_uri: Any) -> Institution:
    """The learning platform the signed statement names: ``authority.account.homePage``, else
    ``context.platform``; both, when given, must name the same platform."""
    authority = signed.get("authority")
    account = authority.get("account") if isinstance(authority, dict) else None
    named = [
        uri
        for uri in (
            account.get("homePage") if isinstance(account, dict) else None,
            (signed.get("context") or {}).get("platform")
            if isinstance(signed.get("context"), dict)
            else None,
        )
        if isinstance(uri, str) and uri.strip()
    ]
    if not named:
        raise InvalidCredential(
            "the signed statement names no platform (authority.account.homePage or "
            "context.platform)",
            ("statement", "context", "platform"),
        )
    if len(set(named)) > 1:
        raise InvalidCredential(
            "authority.account.homePage and context.platform name different platforms",
            ("statement", "context", "platform"),
        )
    issuer: Institution | None = issuer_by_uri(named[0])
    if issuer is None:
        raise UnknownIssuer(f"no registered institution has issuer URI {named[0][:200]}")
    if not issuer.active:
        raise UnknownIssuer(f"{issuer.name} is suspended and cannot deposit")
    return issuer


def _timestamp(signed: dict[str, Any], now: datetime) -> datetime:
    """When the learning ended: the signed ``timestamp`` (an LRS would stamp an absent one, but
    what the bank dates learning by must be signed)."""
    if signed.get("timestamp") is None:
        raise InvalidCredential(
            "the signed statement has no timestamp (when the learning was completed)",
            ("statement", "timestamp"),
        )
    moment = moment_of(signed["timestamp"], "timestamp")
    if moment > now:
        raise InvalidCredential("the statement's timestamp is in the future", ("statement",))
    return moment


def _check_signature(signature: str, header: dict[str, Any], key: SigningKey) -> None:
    """The algorithm fits the registered key, never the other way round: an RSA key verifies
    RS256/RS384/RS512 (xAPI's algorithms, PKCS#1 v1.5 with that key), an Ed25519 key EdDSA."""
    alg = header.get("alg")
    allowed = RSA_ALGORITHMS if key.algorithm in RSA_ALGORITHMS else frozenset({key.algorithm})
    if not isinstance(alg, str) or alg not in allowed:
        raise InvalidSignature(
            f"the JWS says alg {alg!r}; key {key.kid} is registered for "
            f"{', '.join(sorted(allowed))}"
        )
    try:
        jwt.api_jws.PyJWS().decode_complete(signature, verifying_key(key), algorithms=[alg])
    except jwt.InvalidSignatureError:
        raise InvalidSignature("the signature does not hold") from None
    except jwt.PyJWTError as exc:
        raise InvalidSignature(f"the JWS is invalid: {exc}") from None


# -- the comparison rule ------------------------------------------------------------------------
def equivalence_difference(received: dict[str, Any], signed: dict[str, Any]) -> str | None:
    """Where the statement received differs from the signed one (None: logically equivalent).

    xAPI (Data §2.6, with the Statement Comparison Requirements of §2.3): the JWS payload is the
    complete statement before the signature was added, and differences that LRS processing of
    ``id``, ``authority``, ``stored``, ``timestamp`` or ``version`` could cause are ignored. So:

    - ``stored`` and ``authority`` are ignored (an LRS sets or overwrites them);
    - ``id`` and ``version``: when signed, the same (an id as a UUID, whatever its case); when
      not signed, anything (an LRS assigns them);
    - ``timestamp`` is signed (``verify`` requires it) and must be the same instant (an LRS may
      write it in another time zone);
    - ``attachments``: the received ones less the one signature attachment are the signed ones,
      in order (none signed: none but the signature);
    - everything else is the same JSON: members in any order, arrays in order, numbers by value,
      ``true`` never ``1``. Stricter than an LRS's immutability exceptions on purpose: Activity
      Definitions and Verb displays must be as signed, since the bank reads the title there.
    """
    unsigned = [
        a
        for a in received.get("attachments") or []
        if not (isinstance(a, dict) and a.get("usageType") == SIGNATURE_USAGE)
    ]
    if not _same(unsigned, signed.get("attachments") or []):
        return "attachments differ"
    for name in sorted(set(received) | set(signed)):
        if name in LRS_OVERWRITTEN or name == "attachments":
            continue
        if name in LRS_ASSIGNED and name not in signed:
            continue
        if name not in received or name not in signed:
            return f"{name} is {'not signed' if name in received else 'missing'}"
        mine, theirs = received[name], signed[name]
        if name == "id":
            if _uuid(mine) is None or _uuid(mine) != _uuid(theirs):
                return "id differs"
        elif name == "timestamp":
            try:
                same = moment_of(mine, "timestamp") == moment_of(theirs, "timestamp")
            except InvalidCredential:
                same = False
            if not same:
                return "timestamp differs"
        elif not _same(mine, theirs):
            return f"{name} differs"
    return None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: objects by members, arrays in order, numbers by value, booleans apart."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# -- the learner ------------------------------------------------------------------------------
def identity_numbers(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """The actor's national identity number, as the IdentityObject the credential path compares
    (``application.credentials.identity_matches``). The actor must be one Agent whose one
    identifier is an ``account`` on ``IDENTITY_HOMEPAGE`` named ``sha256$<hex>`` (the hash of
    the number) or ``sha256$<hex>$<salt>`` (of the number followed by the salt). The bank
    knows no learner's e-mail: an ``mbox`` names no one it holds; a number in clear is refused
    (a statement passes through LRSs that should not learn it)."""
    actor = statement.get("actor")
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        raise InvalidCredential("the actor must be an Agent (one learner)", ("statement", "actor"))
    identifiers = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    if identifiers != ["account"]:
        raise InvalidCredential(
            f"the actor must be identified by one account on {IDENTITY_HOMEPAGE} (the bank "
            "holds no e-mail or OpenID of its learners)",
            ("statement", "actor"),
        )
    account = actor["account"]
    if not isinstance(account, dict) or account.get("homePage") != IDENTITY_HOMEPAGE:
        raise InvalidCredential(
            f"the actor's account must be on {IDENTITY_HOMEPAGE}", ("statement", "actor")
        )
    parts = str(account.get("name", "")).split("$", 2)
    if len(parts) < 2 or parts[0] != "sha256" or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[1]):
        raise InvalidCredential(
            "the actor's account name must be sha256$<hex> or sha256$<hex>$<salt> (the "
            "identity number hashed, never in clear)",
            ("statement", "actor"),
        )
    return [
        {
            "identityType": "nationalIdentityNumber",
            "hashed": True,
            "identityHash": f"sha256${parts[1]}",
            "salt": parts[2] if len(parts) == 3 else "",
        }
    ]


# -- mapping ------------------------------------------------------------------------------------
def to_outcome(verified: VerifiedStatement) -> DepositedOutcome:
    """The signed statement as a non-formal outcome claiming no credits of its own: hours
    (from ``result.duration``) are what the bank gives credits for, through the framework."""
    s = verified.statement
    verb = s["verb"].get("id") if isinstance(s.get("verb"), dict) else None
    if verb not in CREDITED_VERBS:
        raise InvalidCredential(
            f"verb {str(verb)[:200]!r} is not credited: only completed and passed statements "
            f"({COMPLETED}, {PASSED}) are learning outcomes",
            ("statement", "verb"),
        )
    activity = s.get("object")
    if not isinstance(activity, dict) or activity.get("objectType", "Activity") != "Activity":
        raise InvalidCredential("the statement's object must be an Activity", ("statement",))
    activity_id = activity.get("id")
    if not isinstance(activity_id, str) or not activity_id.strip():
        raise InvalidCredential("the activity has no id", ("statement", "object", "id"))
    if len(activity_id) > MAX_ACTIVITY_ID:
        raise InvalidCredential(
            f"the activity id is longer than {MAX_ACTIVITY_ID} characters",
            ("statement", "object", "id"),
        )
    result = s.get("result")
    if not isinstance(result, dict):
        raise InvalidCredential(
            "the statement has no result (its duration gives the learning hours)",
            ("statement", "result"),
        )
    if result.get("success") is False or result.get("completion") is False:
        raise InvalidCredential(
            "the result is not a success: a failed or unfinished result never earns credit",
            ("statement", "result"),
        )
    if result.get("duration") is None:
        raise InvalidCredential(
            "the result states no duration: learning hours are what credits come from",
            ("statement", "result", "duration"),
        )
    return DepositedOutcome(
        issuer_id=verified.issuer.id,
        credential_id=credential_id(activity_id, s["actor"]),
        kind=kind_for(verified.issuer),
        title=title(activity),
        credits=Decimal(0),  # hours alone: the framework's hours per credit give the credits
        completed_on=verified.timestamp.date(),
        evidence_digest="",
        hours=duration_hours(result["duration"]),
        result=score(result.get("score")),
        key_id=verified.kid,
        issued_at=verified.timestamp,
        passed=True,
    )


def kind_for(issuer: Institution) -> OutcomeKind:
    """Non-formal learning: a MOOC platform's is a MOOC; any other platform's a non-degree
    course. (An enterprise's stays a non-degree course here: a statement says what was
    completed on a platform, not that it was the employer's own training.)"""
    return (
        OutcomeKind.MOOC
        if issuer.kind is InstitutionKind.MOOC_PLATFORM
        else (OutcomeKind.NON_DEGREE_COURSE)
    )


def credential_id(activity_id: str, actor: dict[str, Any]) -> str:
    """Stable for this learning: the activity, and the learner as the statement names them (a
    digest of the actor's account, never the account itself). The same statement sent twice
    is a repeat; another learner's completion of the activity is another credential."""
    digest = hashlib.sha256(
        json.dumps(actor.get("account"), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()[:32]
    return f"{activity_id.strip()}#xapi-actor-{digest}"


def title(activity: dict[str, Any]) -> str:
    """The activity definition's name (English first, else the first language tag in order),
    else the activity id."""
    definition = activity.get("definition")
    names = definition.get("name") if isinstance(definition, dict) else None
    if isinstance(names, dict):
        for tag in ("en", "en-US", "en-GB", *sorted(names)):
            name = names.get(tag)
            if isinstance(name, str) and name.strip():
                return name.strip()[:300]
    return str(activity["id"]).strip()[:300]


_N = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    rf"P(?!$)(?:(?P<W>{_N})W|"
    rf"(?:(?P<Y>{_N})Y)?(?:(?P<Mo>{_N})M)?(?:(?P<D>{_N})D)?"
    rf"(?:T(?=[0-9])(?:(?P<H>{_N})H)?(?:(?P<Mi>{_N})M)?(?:(?P<S>{_N})S)?)?)"
)
_HOURS_PER = {"W": Decimal(168), "D": Decimal(24), "H": Decimal(1)}
_MINUTES, _SECONDS = Decimal(60), Decimal(3600)


def duration_hours(value: object) -> Decimal:
    """Hours, rounded down to the hundredth, of an ISO 8601 duration (ISO 8601:2004 §4.4.3.2, as
    xAPI requires: ``PT4H35M59.14S``, ``P2DT3H``, ``P4W``). A fraction only on the last
    component; days are 24 hours, weeks 7 days. Refused: years and months (no fixed number of
    hours), a sign, the alternative format, no time at all, more than MAX_STATEMENT_HOURS."""
    field = ("statement", "result", "duration")
    text = value.strip() if isinstance(value, str) else None
    match = _DURATION.fullmatch(text) if text is not None and len(text) <= 64 else None
    if match is None:
        raise InvalidCredential(
            f"result.duration {str(value)[:64]!r} is not an ISO 8601 duration (such as PT4H30M)",
            field,
        )
    given = {k: v for k, v in match.groupdict().items() if v is not None}
    order = ["W", "Y", "Mo", "D", "H", "Mi", "S"]
    fractional = [k for k, v in given.items() if "." in v or "," in v]
    if fractional and fractional != [max(given, key=order.index)]:
        raise InvalidCredential("only the last component of a duration may have a fraction", field)
    if "Y" in given or "Mo" in given:
        raise InvalidCredential(
            "a duration in years or months states no number of hours; give days, hours, "
            "minutes or seconds",
            field,
        )
    try:
        amounts = {k: Decimal(v.replace(",", ".")) for k, v in given.items()}
    except InvalidOperation:
        raise InvalidCredential("result.duration is not a number of hours", field) from None
    hours = sum(
        (amounts.get(k, Decimal(0)) * per for k, per in _HOURS_PER.items()),
        Decimal(0),
    )
    hours += amounts.get("Mi", Decimal(0)) / _MINUTES + amounts.get("S", Decimal(0)) / _SECONDS
    if hours > MAX_STATEMENT_HOURS:
        raise InvalidCredential(
            f"result.duration is {hours.quantize(CREDIT_QUANTUM, ROUND_DOWN)} hours, more than "
            f"the {MAX_STATEMENT_HOURS} one statement may claim",
            field,
        )
    hours = hours.quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)
    if hours <= 0:
        raise InvalidCredential("result.duration is no learning time", field)
    return hours


def score(value: object) -> str | None:
    """The score as the bank records a result: a percentage from ``scaled`` (-1..1), else from
    ``raw`` within ``min``..``max``, else ``raw`` as given. Out of its bounds: refused."""
    if not isinstance(value, dict):
        return None
    numbers = {
        k: Decimal(str(v))
        for k, v in value.items()
        if k in ("scaled", "raw", "min", "max")
        and isinstance(v, int | float)
        and not isinstance(v, bool)
    }
    field = ("statement", "result", "score")
    if any(not n.is_finite() for n in numbers.values()):
        raise InvalidCredential("the score is not a number", field)
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        raise InvalidCredential("score.min must be below score.max", field)
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise InvalidCredential("score.raw is outside score.min..score.max", field)
    scaled = numbers.get("scaled")
    if scaled is not None:
        if not -1 <= scaled <= 1:
            raise InvalidCredential("score.scaled must be between -1 and 1", field)
        return _decimal(scaled * 100)
    if raw is not None and low is not None and high is not None:
        return _decimal((raw - low) / (high - low) * 100)
    return None if raw is None else _decimal(raw)


def _decimal(value: Decimal) -> str:
    text = format(value.quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN).normalize(), "f")
    return text[:50]
