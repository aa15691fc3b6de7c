"""Issuer tooling: what an institution needs to produce credentials the bank accepts.

Key pairs (Ed25519, or RSA for RS256), Open Badges 3.0 AchievementCredentials built from a short
JSON description of the achievement and its recipient, and the two signed forms the bank verifies:
a compact VC-JWT (OB 3.0 §8.2: the credential plus ``iss``/``jti``/``nbf``/``sub``/``exp``) and
JSON with an eddsa-rdfc-2022 Data Integrity proof. The CLI (``creditbank issuer keygen``,
``creditbank credential sign``), the demo and the tests all build credentials here, so what the
docs show is what an issuer really runs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application import data_integrity
from application.private_files import write_new_private
from application.signing import b64url, multikey
from application.standards import Standards
from domain.errors import InvalidInput

OB3_CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class IssuerKey:
    """An issuer's key pair; ``jwk`` is the public JWK to register with the bank."""

    kid: str
    algorithm: str
    private: Any
    jwk: dict[str, Any]

    @classmethod
    def ed25519(cls, kid: str | None = None) -> IssuerKey:
        return cls.of(Ed25519PrivateKey.generate(), kid or f"ed-{uuid.uuid4().hex[:8]}")

    @classmethod
    def rsa(cls, kid: str | None = None, bits: int = 2048) -> IssuerKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return cls.of(private, kid or f"rsa-{uuid.uuid4().hex[:8]}")

    @classmethod
    def of(cls, private: Any, kid: str) -> IssuerKey:
        if isinstance(private, Ed25519PrivateKey):
            raw = private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid}
            return cls(kid, "EdDSA", private, jwk)
        if isinstance(private, rsa.RSAPrivateKey):
            numbers = private.public_key().public_numbers()
            jwk = {"kty": "RSA", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e), "kid": kid}
            return cls(kid, "RS256", private, jwk)
        raise InvalidInput("the key is neither Ed25519 nor RSA", ("key",))

    def pem(self) -> bytes:
        return bytes(
            self.private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def __reduce__(self) -> tuple[Any, tuple[bytes, str]]:
        """Picklable (worker processes sign too): as its PEM and kid."""
        return _from_pem, (self.pem(), self.kid)

    # -- files: <name>.pem (private, owner-only) and <name>.jwk.json (public, to register) ----
    def save(self, directory: Path, name: str) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        pem, public = directory / f"{name}.pem", directory / f"{name}.jwk.json"
        if pem.exists() or public.exists():
            raise InvalidInput(f"{pem} or {public} exists; keys are never overwritten", ("out",))
        write_new_private(pem, self.pem())  # owner-only from the start
        public.write_text(json.dumps(self.jwk, indent=2) + "\n", encoding="utf-8")
        return pem, public

    @classmethod
    def load(cls, pem: Path, kid: str | None = None) -> IssuerKey:
        """The private key in ``pem``; its kid from ``kid``, else from the ``.jwk.json`` beside."""
        try:
            private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidInput(f"cannot read a private key from {pem}: {exc}", ("key",)) from None
        if kid is None:
            public = pem.with_name(pem.name.removesuffix(".pem") + ".jwk.json")
            try:
                kid = str(json.loads(public.read_text(encoding="utf-8"))["kid"])
            except (OSError, ValueError, KeyError):
                raise InvalidInput(
                    f"no kid: give one, or keep {public.name} beside the key", ("kid",)
                ) from None
        return cls.of(private, kid)


def _from_pem(pem: bytes, kid: str) -> IssuerKey:
    return IssuerKey.of(serialization.load_pem_private_key(pem, password=None), kid)


def identity_object(document_number: str, salt: str | None = None) -> dict[str, Any]:
    """The recipient's national identity number as an OB 3.0 IdentityObject (salted sha256)."""
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256((document_number + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": "sha256$" + digest,
        "identityType": "nationalIdentityNumber",
        "hashed": True,
        "salt": salt,
    }


@dataclass(frozen=True, kw_only=True)
class Achievement:
    """What was achieved, by whom, when: the parts of a credential an issuer decides."""

    issuer_uri: str
    document_number: str
    title: str
    credits: Decimal | int | float | str | None  # None: hours alone (work experience)
    achievement_type: str = "Course"
    human_code: str | None = None
    eqf_level: int | None = None
    hours: Decimal | int | float | str | None = None
    result: str | None = None
    result_status: str | None = None  # OB 3.0 ResultStatusType: Completed, Failed, ...
    completed_on: date | None = None  # when the learning ended (activityEndDate)
    term: str | None = None  # the term it was taken in, as the issuer writes it
    issuer_name: str = "Issuer"
    credential_id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")
    valid_from: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    valid_until: datetime | None = None
    subject_id: str = "did:example:learner"
    salt: str | None = None


def _number(value: Decimal | int | float | str) -> Any:
    """Credits as a JSON number where they are one (the OB 3.0 schema's type); anything else is
    left as given, for the verifier to refuse (tests build such credentials on purpose)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return value
    if not amount.is_finite():
        return value
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def achievement_id(issuer_uri: str, achievement_type: str, code_or_title: str) -> str:
    """An OB 3.0 Achievement is the definition every recipient shares: one course, one id under
    its issuer (from its code, else its title), whoever earned it and whenever."""
    named = f"{achievement_type}\n{code_or_title}".encode(errors="surrogatepass")  # any text
    key = hashlib.sha256(named).hexdigest()[:16]
    return f"{issuer_uri.rstrip('/')}/achievements/{key}"


def achievement_credential(a: Achievement) -> dict[str, Any]:
    achievement: dict[str, Any] = {
        "id": achievement_id(a.issuer_uri, a.achievement_type, a.human_code or a.title),
        "type": ["Achievement"],
        "achievementType": a.achievement_type,
        "name": a.title,
        "description": f"{a.title} (assessed)",
        # what earns the achievement, the same for every recipient; the recipient's own outcome
        # is in the result (a Failed one included), never in the criteria
        "criteria": {"narrative": f"Complete {a.title} and pass its assessment."},
    }
    if a.credits is not None:
        achievement["creditsAvailable"] = _number(a.credits)
    if a.human_code:
        achievement["humanCode"] = a.human_code
    alignments: list[dict[str, Any]] = []
    if a.eqf_level is not None:
        alignments.append(
            {
                "type": ["Alignment"],
                "targetType": "ext:EQF",
                "targetName": f"EQF level {a.eqf_level}",
                "targetCode": str(a.eqf_level),
                "targetUrl": "https://europa.eu/europass/en/eqf",
            }
        )
    if a.hours is not None:  # how the bank reads notional hours (docs/credentials.md)
        alignments.append(
            {
                "type": ["Alignment"],
                "targetType": "ext:LearningHours",
                "targetName": f"{a.hours} hours of learning",
                "targetCode": str(a.hours),
                "targetUrl": "https://purl.imsglobal.org/spec/ob/v3p0/",
            }
        )
    if alignments:
        achievement["alignment"] = alignments
    subject: dict[str, Any] = {
        "id": a.subject_id,
        "type": ["AchievementSubject"],
        "identifier": [identity_object(a.document_number, a.salt)],
        "achievement": achievement,
    }
    if a.credits is not None:
        subject["creditsEarned"] = _number(a.credits)
    if a.completed_on is not None:
        subject["activityEndDate"] = f"{a.completed_on.isoformat()}T00:00:00Z"
    if a.term is not None:
        subject["term"] = a.term
    if a.result is not None or a.result_status is not None:
        result: dict[str, Any] = {"type": ["Result"]}
        if a.result is not None:
            result["value"] = a.result
        if a.result_status is not None:
            result["status"] = a.result_status
        subject["result"] = [result]
    credential: dict[str, Any] = {
        "@context": list(OB3_CONTEXTS),
        "id": a.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": a.issuer_uri, "type": ["Profile"], "name": a.issuer_name},
        "validFrom": _timestamp(a.valid_from),
        "name": a.title,
        "credentialSubject": subject,
    }
    if a.valid_until is not None:
        credential["validUntil"] = _timestamp(a.valid_until)
    return credential


# -- the JSON description the CLI signs -----------------------------------------------------------
DESCRIPTION_FIELDS = {
    "id": "the credential id (default: a new urn:uuid)",
    "issuerName": "the issuer's display name",
    "validFrom": "when it is issued, ISO 8601 with a timezone (default: now)",
    "validUntil": "expiry, ISO 8601 with a timezone (optional)",
    "recipient": "{identityNumber (required), id, salt}",
    "achievement": "{name (required), credits (or hours), type, code, eqfLevel, hours}",
    "result": "the grade or result, e.g. 'A' or 'pass' (optional)",
    "resultStatus": "Completed, Failed, Withdrew, ... (OB 3.0 ResultStatusType; optional)",
    "completedOn": "when the learning ended, an ISO date (default: validFrom's date)",
    "term": "the term it was taken in, e.g. '2023-2024 第一学期' or 'Fall 2024' (optional)",
}


def _moment(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is not an ISO 8601 date-time", (name,)) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} needs a timezone", (name,))
    return moment


def _required(section: dict[str, Any], key: str, where: str) -> Any:
    value = section.get(key)
    if value in (None, ""):
        raise InvalidInput(f"{where}.{key} is required", (where, key))
    return value


def from_description(description: Any, issuer_uri: str, now: datetime) -> dict[str, Any]:
    """An OB 3.0 AchievementCredential from a description (DESCRIPTION_FIELDS); a document that
    already has an ``@context`` is taken as the credential itself, its issuer set to ``issuer_uri``.
    """
    if not isinstance(description, dict):
        raise InvalidInput("the description is a JSON object", ("file",))
    if "@context" in description:
        credential = {k: v for k, v in description.items() if k != "proof"}
        issuer = credential.get("issuer")
        # Always a Profile: OB 3.0 (and the bank) refuse a plain-URL issuer.
        credential["issuer"] = (
            {**issuer, "id": issuer_uri}
            if isinstance(issuer, dict)
            else {"id": issuer_uri, "type": ["Profile"]}
        )
        return credential
    unknown = set(description) - set(DESCRIPTION_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))}", ("file",))
    recipient = description.get("recipient")
    achievement = description.get("achievement")
    if not isinstance(recipient, dict) or not isinstance(achievement, dict):
        raise InvalidInput("recipient and achievement are JSON objects", ("file",))
    credits: Decimal | None = None
    if achievement.get("credits") is not None or achievement.get("hours") is None:
        try:
            credits = Decimal(str(_required(achievement, "credits", "achievement")))
        except InvalidOperation:
            raise InvalidInput("achievement.credits is not a number", ("achievement",)) from None
    completed = description.get("completedOn")
    try:
        completed_on = None if completed is None else date.fromisoformat(str(completed))
    except ValueError:
        raise InvalidInput("completedOn is not an ISO date", ("completedOn",)) from None
    level = achievement.get("eqfLevel")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool)):
        raise InvalidInput("achievement.eqfLevel is a whole number", ("achievement",))
    result = description.get("result")
    return achievement_credential(
        Achievement(
            issuer_uri=issuer_uri,
            issuer_name=str(description.get("issuerName") or "Issuer"),
            document_number=str(_required(recipient, "identityNumber", "recipient")),
            subject_id=str(recipient.get("id") or f"urn:uuid:{uuid.uuid4()}"),
            salt=recipient.get("salt"),
            title=str(_required(achievement, "name", "achievement")),
            credits=credits,
            achievement_type=str(achievement.get("type") or "Course"),
            human_code=achievement.get("code"),
            eqf_level=level,
            hours=achievement.get("hours"),
            result=None if result is None else str(result),
            result_status=description.get("resultStatus"),
            completed_on=completed_on,
            term=description.get("term"),
            credential_id=str(description.get("id") or f"urn:uuid:{uuid.uuid4()}"),
            valid_from=_moment(description["validFrom"], "validFrom")
            if description.get("validFrom")
            else now.replace(microsecond=0),
            valid_until=_moment(description["validUntil"], "validUntil")
            if description.get("validUntil")
            else None,
        )
    )


# -- signing ------------------------------------------------------------------------------------
def sign_vc_jwt(
    credential: dict[str, Any],
    key: IssuerKey,
    *,
    vc_claim: bool = False,
    headers: dict[str, Any] | None = None,
    algorithm: str | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    """OB 3.0 VC-JWT (§8.2.4.1): the credential plus iss (issuer.id), jti (id), nbf (validFrom),
    sub (credentialSubject.id: omitted only when the subject has no id, as OB 3.0 allows) and
    exp (validUntil); or the older ``vc`` claim form. ``headers``, ``algorithm`` and ``claims``
    let tests forge what an attacker would."""
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    issuer = credential["issuer"]
    registered: dict[str, Any] = {
        "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
        "jti": credential["id"],
        "nbf": int(valid_from.timestamp()),
    }
    subject = credential["credentialSubject"]
    if isinstance(subject, dict) and subject.get("id") is not None:
        registered["sub"] = subject["id"]
    if "validUntil" in credential:
        until = datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00"))
        registered["exp"] = int(until.timestamp())
    payload = {**registered, "vc": credential} if vc_claim else {**credential, **registered}
    payload.update(claims or {})
    return jwt.encode(
        payload,
        key.private,
        algorithm=algorithm or key.algorithm,
        headers={"kid": key.kid, "typ": "JWT", **(headers or {})},
    )


def sign_data_integrity(
    credential: dict[str, Any], key: IssuerKey, standards: Standards, created: datetime
) -> dict[str, Any]:
    """The credential with an eddsa-rdfc-2022 proof; the verification method is the issuer URI
    with the key's Multikey as fragment (how the bank finds the registered key)."""
    if not isinstance(key.private, Ed25519PrivateKey):
        raise InvalidInput("eddsa-rdfc-2022 needs an Ed25519 key", ("key",))
    issuer = credential["issuer"]
    uri = issuer["id"] if isinstance(issuer, dict) else issuer
    method = f"{uri}#{multikey(key.private.public_key())}"
    return data_integrity.sign(credential, key.private, method, _timestamp(created), standards)


def today() -> date:
    return datetime.now(UTC).date()
