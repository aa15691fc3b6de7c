"""Open Badges 3.0 AchievementCredentials as compact VC-JWTs: verify, then map to an outcome.

Verification follows OB 3.0 §8.2: the issuer (``iss`` = ``issuer.id``) must be a registered,
active institution; the header's ``kid`` must name one of its keys valid when the credential was
issued (``validFrom``); the algorithm is the registered key's, never the token's (so ``none``,
HMAC and algorithm swaps fail); the signature must hold; ``jti``/``sub``/``nbf``/``exp`` must agree
with the credential; it must be valid now. Both the plain payload form and the older ``vc``-claim
form are accepted. PyJWT does the cryptography.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from application import data_integrity, status_lists
from application.standards import Standards
from application.text import UNSAFE_MESSAGE, first_unsafe
from application.vault import normalize_document_number
from domain.errors import (
    CredentialExpired,
    DomainError,
    InvalidCredential,
    InvalidInput,
    InvalidSignature,
    KeyNotValid,
    UnknownIssuer,
)
from domain.institution import Institution, SigningKey

MAX_CREDENTIAL_BYTES = 256 * 1024


@dataclass(frozen=True)
class VerifiedCredential:
    issuer: Institution
    credential: dict[str, Any]
    kid: str
    valid_from: datetime
    valid_until: datetime | None


def _b64json(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidCredential("the credential is not a compact JWS", ("credential",)) from None
    if not isinstance(value, dict):
        raise InvalidCredential("the credential is not a compact JWS", ("credential",))
    _check_text(value)
    return value


def _check_text(value: dict[str, Any]) -> None:
    """The decoded JSON of a credential holds no NUL or unpaired surrogate: inside a JWT payload
    or a JSON string argument, ``"\\u0000"`` and ``"\\ud800"`` are plain escapes the request's
    own check cannot see, and the stores cannot hold what they decode to (a title "Net\\ud800works"
    failed at save with an encoding error)."""
    if first_unsafe(value) is not None:
        raise InvalidCredential(f"the credential's {UNSAFE_MESSAGE}", ("credential",))


def moment_of(value: Any, field: str) -> datetime:
    try:  # NaN, out-of-range numbers and dates are not moments either
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidCredential(f"{field} is not a date-time", ("credential", field)) from None
    raise InvalidCredential(f"{field} needs a timezone", ("credential", field))


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


# -- the verifier that reports every finding ---------------------------------------------------
# Rules are named after the 1EdTech validator's probes (digital-credentials-public-validator,
# OB30Inspector) where one exists; JwtClaimsProbe is the bank's own (OB 3.0 §8.2.4.1).
PASSED, WARNING, FAILED, NOT_APPLICABLE = "PASSED", "WARNING", "FAILED", "NOT_APPLICABLE"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"  # the one expected
# Earlier names of the OB 3.0 context: the validator takes them at position 2, with a warning.
OB_CONTEXTS = re.compile(
    r"https://purl\.imsglobal\.org/spec/ob/v3p0/"
    r"(?:context(?:-\d+\.\d+\.\d+)?\.json|context/ob_v3p0\.jsonld)"
)
_SEVERITY = {NOT_APPLICABLE: 0, PASSED: 1, WARNING: 2, FAILED: 3}
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "exp", "iat", "aud")  # JWT claims, not the schema's


@dataclass(frozen=True)
class Check:
    """One rule as it was run: PASSED, WARNING, FAILED or NOT_APPLICABLE, and why."""

    rule: str
    outcome: str
    message: str


@dataclass(frozen=True)
class Finding:
    """An error or a warning, with the rule that found it."""

    rule: str
    code: str
    message: str
    field: tuple[str, ...] | None = None


@dataclass
class Report:
    """Every check run on a credential, every error and warning; ``verified`` when no error."""

    checks: list[Check] = dataclasses.field(default_factory=list)
    errors: list[tuple[str, DomainError]] = dataclasses.field(default_factory=list)
    warnings: list[Finding] = dataclasses.field(default_factory=list)
    verified: VerifiedCredential | None = None

    @property
    def valid(self) -> bool:
        return not self.errors and self.verified is not None

    @property
    def findings(self) -> list[Finding]:
        return [Finding(r, e.code, e.message, e.field) for r, e in self.errors]

    def result(self) -> VerifiedCredential:
        """The verified credential, or the first error (in the order the rules run: the order a
        deposit has always told refusals in)."""
        if self.errors:
            raise self.errors[0][1]
        assert self.verified is not None
        return self.verified


@dataclass(frozen=True)
class Verification:
    """What ``verifyCredential`` and ``creditbank credential verify`` answer: the report, the
    issuer when the credential verified, and whether its issuer (or the bank) revoked it."""

    report: Report
    issuer: str | None = None
    revoked: bool = False

    @property
    def valid(self) -> bool:
        return not self.report.errors and self.issuer is not None


class _Stop(Exception):
    """A fatal rule failed: what follows cannot be judged (the validator's ``abort``)."""


class _Inspection:
    def __init__(self) -> None:
        self.report = Report()
        self._rule = ""
        self._warned = False
        self._failed = False

    def probe(self, rule: str, run: Any, *, fatal: bool = False, quiet: bool = False) -> Any:
        """Runs one rule; a DomainError it raises is its finding. ``quiet``: a pass is not
        recorded (the rule is recorded again later, where it is judged whole)."""
        self._rule, self._warned, self._failed = rule, False, False
        self._pass_message = ""
        try:
            value = run()
        except DomainError as exc:
            self.fail(exc)
            self._record(rule, FAILED, exc.message)
            if fatal:
                raise _Stop from None
            return None
        if self._failed:
            if fatal:
                raise _Stop
        elif not quiet or self._warned:
            self._record(rule, WARNING if self._warned else PASSED, self._pass_message)
        return value

    def fail(self, error: DomainError) -> None:
        """A non-fatal error inside the running rule (the rule goes on)."""
        if not self._failed:
            self._record(self._rule, FAILED, error.message)
        self._failed = True
        self.report.errors.append((self._rule, error))

    def warn(self, message: str, field: tuple[str, ...] | None = None) -> None:
        self._warned = True
        self.report.warnings.append(Finding(self._rule, "WARNING", message, field))
        self._pass_message = message

    def passed(self, message: str) -> None:
        self._pass_message = message

    def not_applicable(self, rule: str, message: str) -> None:
        self._record(rule, NOT_APPLICABLE, message)

    _pass_message = ""

    def _record(self, rule: str, outcome: str, message: str) -> None:
        # One line a rule, the worst of what it found (a rule may be judged in two places).
        checks = self.report.checks
        earlier = next((c for c in checks if c.rule == rule), None)
        if earlier is None or _SEVERITY[outcome] >= _SEVERITY[earlier.outcome]:
            checks[:] = [c for c in checks if c.rule != rule]
            checks.append(Check(rule, outcome, message))
        self._pass_message = ""


def inspect(credential: str, issuer_by_uri: Any, now: datetime, standards: Standards) -> Report:
    """Verifies a VC-JWT or JSON with an eddsa-rdfc-2022 proof and reports every finding.

    Rules that everything after depends on (parsing, the issuer, the proof) stop the inspection
    when they fail, as the 1EdTech validator does; the others (claims, types, schema, dates) all
    run, so one answer lists every problem. ``verify`` is the same inspection, raising its first
    error: the deposit and ``verifyCredential`` cannot judge a credential differently."""
    standards.check()  # the bank's own material first: a server problem is never the credential's
    ins = _Inspection()
    try:
        text = credential.strip() if isinstance(credential, str) else ""
        form: _ExternalProof | _EmbeddedProof
        if text.startswith("{"):
            document = ins.probe("CredentialParseProbe", lambda: _parse_json(text), fatal=True)
            form = _EmbeddedProof(standards)
        else:
            header, payload, document = ins.probe(
                "CredentialParseProbe", lambda: _parse_jwt(text), fatal=True
            )
            form = _ExternalProof(text, header, payload)
        _inspect(ins, document, form, issuer_by_uri, now, standards)
    except _Stop:
        pass
    return ins.report


def _inspect(
    ins: _Inspection,
    credential: dict[str, Any],
    form: _ExternalProof | _EmbeddedProof,
    issuer_by_uri: Any,
    now: datetime,
    standards: Standards,
) -> None:
    """The rules in the validator's order, the same for both forms but for the proof."""
    ins.probe("ContextPropertyProbe", lambda: _context(ins, credential))
    issuer: Institution = ins.probe(
        "IssuerProbe", lambda: _issuer(credential, issuer_by_uri), fatal=True
    )
    ins.probe("IssuerProbe", lambda: _profile(credential), quiet=True)
    valid_from: datetime = ins.probe(
        "IssuanceProbe", lambda: _valid_from(ins, credential), fatal=True, quiet=True
    )
    kid: str = ins.probe(form.rule, lambda: form.verify(credential, issuer, valid_from), fatal=True)
    form.claims(ins, credential, valid_from)
    valid_until = ins.probe(
        "ExpirationProbe", lambda: form.until(credential), fatal=True, quiet=True
    )
    verified = VerifiedCredential(issuer, credential, kid, valid_from, valid_until)
    _content(ins, credential, verified, now, standards)
    # Last: the one costly content rule, run only on what its issuer's key signed.
    form.jsonld(ins, credential, standards)
    if not ins.report.errors:
        ins.report.verified = verified


def verify(
    credential: str, issuer_by_uri: Any, now: datetime, standards: Standards
) -> VerifiedCredential:
    """A VC-JWT, or JSON with an eddsa-rdfc-2022 Data Integrity proof; raises the first error."""
    return inspect(credential, issuer_by_uri, now, standards).result()


def _parse_json(text: str) -> dict[str, Any]:
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise InvalidCredential("the credential is too large", ("credential",))
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidCredential("the credential is not JSON", ("credential",)) from None
    if not isinstance(document, dict):
        raise InvalidCredential("the credential is not a JSON object", ("credential",))
    _check_text(document)
    return document


def _issuer(credential: dict[str, Any], issuer_by_uri: Any) -> Institution:
    issuer_uri = _id(credential.get("issuer"))
    if not isinstance(issuer_uri, str) or not issuer_uri:
        raise InvalidCredential("the credential names no issuer", ("credential", "issuer"))
    issuer: Institution | None = issuer_by_uri(issuer_uri)
    if issuer is None:
        raise UnknownIssuer(f"no registered institution has issuer URI {issuer_uri}")
    if not issuer.active:
        raise UnknownIssuer(f"{issuer.name} is suspended and cannot deposit")
    return issuer


def _context(ins: _Inspection, credential: dict[str, Any]) -> None:
    """ContextPropertyProbe: VC 2.0 first, then the OB 3.0.3 context. The VC 1.1 context is the
    validator's alias for VC 2.0, an earlier OB 3.0.x context (or its alias) one for OB 3.0.3:
    valid, with a warning. A missing or foreign context is the JSON Schema's and JSON-LD's to
    refuse."""
    contexts = credential.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    first = listed[0] if listed else None
    second = listed[1] if len(listed) > 1 else None
    found = []
    if first == VC_V1:
        found.append(
            f"expected @context uri {VC_V2} at position 1, gotten {VC_V1} instead "
            "(VC Data Model 1.1)"
        )
    if isinstance(second, str) and second != OB_CONTEXT and OB_CONTEXTS.fullmatch(second):
        found.append(
            f"expected @context uri {OB_CONTEXT} at position 2, gotten {second} instead "
            "(an earlier Open Badges 3.0 context)"
        )
    for message in found:
        ins.warn(message, ("credential", "@context"))
    if not found:
        ins.passed(
            "the @context starts with the VC 2.0 and OB 3.0.3 contexts"
            if (first, second) == (VC_V2, OB_CONTEXT)
            else "the @context is judged by the JSON Schema and JSON-LD"
        )


def _valid_from(ins: _Inspection, credential: dict[str, Any]) -> datetime:
    """``validFrom``; VC 1.1's ``issuanceDate`` stands for it, with a warning (1EdTech rates VC
    1.1 content valid with a warning)."""
    if credential.get("validFrom") is not None:
        return moment_of(credential["validFrom"], "validFrom")
    if credential.get("issuanceDate") is not None:
        moment = moment_of(credential["issuanceDate"], "issuanceDate")
        ins.warn(
            "VC Data Model 1.1 content: issuanceDate is read as validFrom",
            ("credential", "issuanceDate"),
        )
        return moment
    raise InvalidCredential("the credential has no validFrom", ("credential", "validFrom"))


def _schema_view(credential: dict[str, Any]) -> dict[str, Any]:
    """What the OB 3.0 (VC 2.0) schema judges: VC 1.1 dates and context as their VC 2.0 terms,
    without the JWT claims."""
    view = {k: v for k, v in credential.items() if k not in JWT_CLAIMS and k != "proof"}
    if "validFrom" not in view and "issuanceDate" in view:
        view["validFrom"] = view.pop("issuanceDate")
    if "validUntil" not in view and "expirationDate" in view:
        view["validUntil"] = view.pop("expirationDate")
    contexts = view.get("@context")
    if isinstance(contexts, list) and contexts and contexts[0] == VC_V1:
        view["@context"] = [VC_V2, *contexts[1:]]
    return view


def _content(
    ins: _Inspection,
    credential: dict[str, Any],
    verified: VerifiedCredential,
    now: datetime,
    standards: Standards,
) -> None:
    """The rules about the credential's content, all run (none stops the others)."""
    ins.probe("CredentialSubjectProbe", lambda: _subject(credential))
    ins.probe("TypePropertyProbe", lambda: _check_types(credential))
    ins.probe(
        "JsonSchemasProbe",
        lambda: standards.check_achievement_credential(_schema_view(credential)),
    )
    ins.probe("IssuanceProbe", lambda: _issued(verified, now))
    if verified.valid_until is None:
        ins.not_applicable("ExpirationProbe", "the credential has no validUntil")
    else:
        ins.probe("ExpirationProbe", lambda: _not_expired(verified, now))
    if credential.get("credentialStatus") is not None:
        # The entries' form only (the list itself is read by the deposit and verifyCredential):
        # a malformed entry is a finding here, never an exception out of the inspection.
        ins.probe("RevocationListProbe", lambda: status_lists.entries(credential), quiet=True)


def _profile(credential: dict[str, Any]) -> None:
    """IssuerProbe: an OB 3.0 AchievementCredential's issuer is a Profile. The schema's
    ProfileRef also takes a plain URL; the data model and the validator do not."""
    issuer = credential.get("issuer")
    if not isinstance(issuer, dict):
        raise InvalidCredential(
            "the issuer is not a Profile: OB 3.0 names the issuer as an object with an id and "
            'type "Profile", not a plain URL',
            ("credential", "issuer"),
        )
    types = issuer.get("type")
    if "Profile" not in (types if isinstance(types, list) else [types]):
        raise InvalidCredential(
            'the issuer is not of type "Profile"', ("credential", "issuer", "type")
        )


def _subject(credential: dict[str, Any]) -> None:
    """CredentialSubjectProbe, beyond the schema (the OB 3.0 data model's AchievementSubject and
    Criteria, as the validator checks them): an id or at least one identifier; criteria with an
    id or a narrative."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InvalidCredential("credentialSubject is missing", ("credential",))
    subject_id = subject.get("id")
    identifiers = subject.get("identifier")
    has_id = isinstance(subject_id, str) and bool(subject_id.strip())
    if not has_id and not (isinstance(identifiers, dict) or identifiers):
        raise InvalidCredential(
            "credentialSubject has neither an id nor an identifier (OB 3.0 requires one)",
            ("credential", "credentialSubject"),
        )
    achievement = subject.get("achievement")
    criteria = achievement.get("criteria") if isinstance(achievement, dict) else None
    if isinstance(criteria, dict) and all(criteria.get(k) is None for k in ("id", "narrative")):
        raise InvalidCredential(
            "the achievement's criteria have neither an id nor a narrative (OB 3.0 requires one)",
            ("credential", "credentialSubject", "achievement", "criteria"),
        )


def _issued(verified: VerifiedCredential, now: datetime) -> None:
    if verified.valid_from > now:
        raise InvalidCredential("the credential is not yet valid", ("credential", "validFrom"))


def _not_expired(verified: VerifiedCredential, now: datetime) -> None:
    if verified.valid_until is not None and verified.valid_until <= now:
        raise CredentialExpired(f"the credential expired at {verified.valid_until.isoformat()}")


# -- JSON with a Data Integrity proof ----------------------------------------------------------
class _EmbeddedProof:
    """JSON with an eddsa-rdfc-2022 Data Integrity proof."""

    rule = "EmbeddedProofProbe"

    def __init__(self, standards: Standards) -> None:
        self.standards = standards

    def verify(self, credential: dict[str, Any], issuer: Institution, valid_from: datetime) -> str:
        return _embedded_proof(credential, issuer, valid_from, self.standards)

    def claims(self, ins: _Inspection, credential: dict[str, Any], valid_from: datetime) -> None:
        """No claims beside the credential's own."""

    def jsonld(self, ins: _Inspection, credential: dict[str, Any], standards: Standards) -> None:
        """Already checked: the proof's canonicalisation runs JSON-LD safe mode on the whole
        document (a failure there is the proof's, EmbeddedProofProbe, and stops the rules)."""
        ins.probe(
            "JsonLDValidationProbe",
            lambda: ins.passed("valid in JSON-LD safe mode (canonicalised for the proof)"),
        )

    def until(self, credential: dict[str, Any]) -> datetime | None:
        until = credential.get("validUntil")
        return moment_of(until, "validUntil") if until else None


def controlled_by_issuer(method: str, issuer_uri: str) -> bool:
    """Whether a verification method belongs to the issuer: the URL before ``#`` is the issuer
    id, or a DID URL (path, query, fragment) whose DID is the issuer's id."""
    if method.split("#", 1)[0] == issuer_uri:
        return True
    return issuer_uri.startswith("did:") and re.split(r"[/?#]", method, maxsplit=1)[0] == (
        issuer_uri
    )


def _embedded_proof(
    document: dict[str, Any], issuer: Institution, valid_from: datetime, standards: Standards
) -> str:
    proof = data_integrity.find_proof(document)
    method = str(proof.get("verificationMethod") or "")
    # The controller first (cheap): a proof whose key sits under someone else's URL, or a
    # did:key of an issuer whose id is not that did:key, is not the issuer's assertion even when
    # the key material happens to be registered (VC Data Integrity §4.5, controller documents).
    if not controlled_by_issuer(method, issuer.issuer_uri):
        raise KeyNotValid(
            f"the proof's verificationMethod {method[:120]!r} is not controlled by the issuer "
            f"{issuer.issuer_uri}"
        )
    public = data_integrity.public_key_from_multikey(method.rsplit("#", 1)[-1])
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = next(
        (
            k.kid
            for k in issuer.keys.values()
            if k.public_jwk.get("crv") == "Ed25519" and k.public_jwk.get("x") == _b64url(raw)
        ),
        None,
    )
    if kid is None:
        raise KeyNotValid(f"the proof's key is not a registered key of {issuer.name}")
    issuer.key_for(kid, valid_from)
    data_integrity.verify(document, public, standards)
    return kid


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- VC-JWT ---------------------------------------------------------------------------------------
def _parse_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    if len(token) > MAX_CREDENTIAL_BYTES:
        raise InvalidCredential("the credential is too large", ("credential",))
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidCredential(
            "the credential is neither a compact JWS nor JSON with a proof", ("credential",)
        )
    header, payload = _b64json(parts[0]), _b64json(parts[1])
    if "jwk" in header and isinstance(header["jwk"], dict) and "d" in header["jwk"]:
        raise InvalidSignature("the header's jwk carries a private key")
    credential = payload.get("vc", payload)
    if not isinstance(credential, dict):
        raise InvalidCredential("the vc claim is not an object", ("credential",))
    return header, payload, credential


class _ExternalProof:
    """A VC-JWT: the credential in the payload, the JOSE header's key, the JWT claims."""

    rule = "ExternalProofProbe"

    def __init__(self, token: str, header: dict[str, Any], payload: dict[str, Any]) -> None:
        self.token, self.header, self.payload = token, header, payload

    def verify(self, credential: dict[str, Any], issuer: Institution, valid_from: datetime) -> str:
        return _external_proof(self.token, self.header, issuer, valid_from)

    def claims(self, ins: _Inspection, credential: dict[str, Any], valid_from: datetime) -> None:
        ins.probe(
            "JwtClaimsProbe", lambda: _check_claims(ins, self.payload, credential, valid_from)
        )

    def until(self, credential: dict[str, Any]) -> datetime | None:
        return _jwt_until(self.payload, credential)

    def jsonld(self, ins: _Inspection, credential: dict[str, Any], standards: Standards) -> None:
        # A deliberate deviation from the 1EdTech validator (docs/credentials.md): its content
        # is judged by the official JSON Schema, not expanded as JSON-LD. Safe mode in the
        # worker pool costs 4-6 ms a verification (measured), more than the rest of a deposit.
        ins.not_applicable(
            "JsonLDValidationProbe",
            "a VC-JWT's content is judged by the OB 3.0 JSON Schema; it is not JSON-LD processed",
        )


def _same_key(embedded: dict[str, Any], registered: dict[str, Any]) -> bool:
    """The same public key material: kty, and crv/x(/y) or n/e, all equal."""
    kty = embedded.get("kty")
    if kty != registered.get("kty"):
        return False
    members = ("n", "e") if kty == "RSA" else ("crv", "x", "y")
    return all(embedded.get(m) == registered.get(m) for m in members) and any(
        embedded.get(m) for m in members
    )


def _header_key(header: dict[str, Any], issuer: Institution, valid_from: datetime) -> SigningKey:
    """The registered key the header names: its ``kid``, else its ``jwk`` (OB 3.0 §8.2.3 allows
    either), matched to a registered key by key material, never trusted for itself."""
    embedded = header.get("jwk") if isinstance(header.get("jwk"), dict) else None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        kid = embedded.get("kid") if embedded is not None else None
    if isinstance(kid, str) and kid and kid in issuer.keys:
        key = issuer.key_for(kid, valid_from)
        if embedded is not None and not _same_key(embedded, key.public_jwk):
            raise KeyNotValid("the embedded jwk is not the registered key")
        return key
    if isinstance(kid, str) and kid and embedded is None:
        return issuer.key_for(kid, valid_from)  # unknown: the institution's own refusal
    if embedded is None:
        raise KeyNotValid("the credential's header names no key (kid or jwk)")
    matching = [k for k in issuer.keys.values() if _same_key(embedded, k.public_jwk)]
    if not matching:
        raise KeyNotValid(f"the header's jwk is not a registered key of {issuer.name}")
    refusal: DomainError | None = None
    for candidate in matching:  # the same key registered twice: the one valid then
        try:
            return issuer.key_for(candidate.kid, valid_from)
        except DomainError as exc:
            refusal = exc
    assert refusal is not None
    raise refusal


def _external_proof(
    token: str, header: dict[str, Any], issuer: Institution, valid_from: datetime
) -> str:
    key = _header_key(header, issuer, valid_from)
    if header.get("alg") != key.algorithm:
        raise InvalidSignature(
            f"the token says alg {header.get('alg')!r}; key {key.kid} is registered for "
            f"{key.algorithm}"
        )
    try:
        jwt.decode(
            token,
            verifying_key(key),
            algorithms=[key.algorithm],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidSignature("the signature does not hold") from None
    except jwt.PyJWTError as exc:
        raise InvalidCredential(f"the token is invalid: {exc}", ("credential",)) from None
    return key.kid


def _jwt_until(payload: dict[str, Any], credential: dict[str, Any]) -> datetime | None:
    valid_until = credential.get("validUntil") or credential.get("expirationDate")
    until = moment_of(valid_until, "validUntil") if valid_until else None
    if "exp" in payload:
        exp = moment_of(payload["exp"], "exp")
        until = exp if until is None else min(until, exp)
    return until


def verifying_key(key: SigningKey) -> Any:
    """The registered key as the cryptography object that verifies with it. Registration calls
    this too, so a key that cannot verify is refused then, never on a later deposit."""
    try:
        return jwt.PyJWK({**key.public_jwk, "alg": key.algorithm}).key
    except (jwt.PyJWKError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"publicKeyJwk is not a usable {key.algorithm} key: {exc}", ("publicKeyJwk",)
        ) from None


def _check_claims(
    ins: _Inspection, payload: dict[str, Any], credential: dict[str, Any], valid_from: datetime
) -> None:
    """OB 3.0 §8.2.4.1: the payload MUST carry iss (issuer.id), jti (id), nbf (validFrom) and
    sub (credentialSubject.id), and each must agree with the credential. A subject without an id
    has nothing ``sub`` could say: then its absence is a warning."""
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    required = ["iss", "jti", "nbf"] + (["sub"] if subject_id is not None else [])
    missing = [claim for claim in required if claim not in payload]
    if missing:
        ins.fail(
            InvalidCredential(
                f"the VC-JWT payload lacks {', '.join(missing)} (OB 3.0 requires iss, jti, nbf "
                "and sub)",
                ("credential", missing[0]),
            )
        )
    if "sub" not in payload and subject_id is None:
        ins.warn("the VC-JWT has no sub: its credentialSubject has no id", ("credential", "sub"))
    if "iss" in payload and payload["iss"] != _id(credential.get("issuer")):
        ins.fail(InvalidCredential("iss does not match issuer.id", ("credential", "iss")))
    if "jti" in payload and payload["jti"] != credential.get("id"):
        ins.fail(InvalidCredential("jti does not match the credential id", ("credential", "jti")))
    if "sub" in payload and subject_id is not None and payload["sub"] != subject_id:
        ins.fail(
            InvalidCredential("sub does not match credentialSubject.id", ("credential", "sub"))
        )
    if "nbf" in payload:
        try:
            nbf = moment_of(payload["nbf"], "nbf")
        except DomainError as exc:
            ins.fail(exc)
        else:
            if abs((nbf - valid_from).total_seconds()) >= 1:
                ins.fail(InvalidCredential("nbf does not match validFrom", ("credential", "nbf")))
    ins.passed("iss, jti, nbf and sub are present and agree with the credential")


def _check_types(credential: dict[str, Any]) -> None:
    types = credential.get("type")
    if not isinstance(types, list) or not {"OpenBadgeCredential", "AchievementCredential"} & set(
        types
    ):
        raise InvalidCredential("not an Open Badges AchievementCredential", ("credential", "type"))


MAX_IDENTITY_NUMBERS = 2  # a person's national number, plus one former or second document


def identity_numbers(credential: dict[str, Any]) -> list[dict[str, Any]]:
    """The subject's national identity numbers (IdentityObjects). More than a person holds is
    refused before any is compared: a list of candidates is how a document number is guessed."""
    subject = credential.get("credentialSubject") or {}
    identifiers = subject.get("identifier") if isinstance(subject, dict) else None
    if not isinstance(identifiers, list):
        return []
    numbers = [
        ident
        for ident in identifiers
        if isinstance(ident, dict) and ident.get("identityType") == "nationalIdentityNumber"
    ]
    if len(numbers) > MAX_IDENTITY_NUMBERS:
        raise InvalidCredential(
            f"the credential names more than {MAX_IDENTITY_NUMBERS} national identity numbers",
            ("credential", "credentialSubject", "identifier"),
        )
    return numbers


def identity_matches(numbers: list[dict[str, Any]], document_number: str) -> bool:
    """One of the subject's IdentityObjects (``identity_numbers``) must be the learner's national
    identity number (salted sha256, or plain); the number is tried as written and normalised.
    Every candidate is compared, so the time taken does not tell which matched."""
    candidates = {document_number.strip(), normalize_document_number(document_number)}
    found = False
    for ident in numbers:
        value = str(ident.get("identityHash", ""))
        if ident.get("hashed") is False:
            found |= any(hmac.compare_digest(value.encode(), c.encode()) for c in candidates)
            continue
        salt = str(ident.get("salt") or "")
        for number in candidates:
            digest = "sha256$" + hashlib.sha256((number + salt).encode()).hexdigest()
            found |= hmac.compare_digest(value.lower().encode(), digest.encode())
    return found
