"""The 1EdTech validator's probes, ported to Python: the reference rules the bank is held to.

Ported from ``1EdTech/digital-credentials-public-validator`` at commit
``38254719cf0a490a403c9c812b01e6ab0678f2f3`` (``inspector-vc``, ``inspector-clr``; the JSON-LD
check from ``foundation.identity.jsonld.validation.Validation``, which its JsonLDValidationProbe
calls). Each function names the Java class it ports. The rules are ported, not the code: what a
probe checks, in what order, and whether a failure is an ERROR, a FATAL (which stops the
inspection), an EXCEPTION (an uncaught Java exception, also a stop) or a WARNING. Quirks that
decide an outcome are kept and said where they are.

Only what judges the bank's exports and the incoming fixtures is ported: JSON and compact JWS
payloads (not PNG/SVG), OB 3.0, CLR 2.0 and Bitstring Status List credentials, Ed25519 embedded
proofs (not ecdsa-sd-2023, RsaSignature2018) and the did:key, did:jwk and did:web methods (not the
universal resolver). Refresh services and endorsements are not run.

Nothing here imports the bank's verifier (``application.credentials``, ``data_integrity``,
``status_lists``): the port must be able to disagree with it. The JSON-LD contexts and JSON
Schemas are the official files the bank ships (``application/standards``; the contexts are the
validator's own bundled copies, byte for byte). Everything the validator fetches (contexts it
does not bundle, keys, DID documents, schemas, status lists, the issuer's ``url``) is asked of a
``fetch`` function, so a test decides what the network answers and sees what was asked.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jsonschema import Draft201909Validator
from pyld import jsonld

VALIDATOR_COMMIT = "38254719cf0a490a403c9c812b01e6ab0678f2f3"
STANDARDS = Path(__file__).resolve().parents[2] / "application" / "standards"
ERROR, FATAL, EXCEPTION, WARNING = "ERROR", "FATAL", "EXCEPTION", "WARNING"

VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR201 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
ACHIEVEMENT = "AchievementCredential"
CLR = "ClrCredential"
STATUS_LIST = "BitstringStatusListCredential"


@dataclass(frozen=True)
class Finding:
    """One report item of a probe: ``str()`` is ``Probe: what failed``."""

    probe: str
    message: str
    outcome: str = ERROR

    def __str__(self) -> str:
        return f"{self.probe}: {self.message}"


def failures(findings: list[Finding]) -> list[str]:
    """What makes the validator's report invalid: every item but the warnings."""
    return [str(f) for f in findings if f.outcome != WARNING]


def warnings(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings if f.outcome == WARNING]


def probes(findings: list[Finding]) -> set[str]:
    """The probes that failed (warnings aside)."""
    return {f.probe for f in findings if f.outcome != WARNING}


class Unreachable(Exception):
    """What ``fetch`` raises for a URL that does not answer 200."""


Fetch = Callable[[str], bytes]


def offline(url: str) -> bytes:
    """A network where nothing answers."""
    raise Unreachable(url)


def _one(probe: str, message: str, outcome: str = ERROR) -> list[Finding]:
    return [Finding(probe, message, outcome)]


def _stops(findings: list[Finding]) -> bool:
    """VCInspector.broken: a FATAL or an EXCEPTION aborts the inspection."""
    return any(f.outcome in (FATAL, EXCEPTION) for f in findings)


def _run(steps: list[tuple[Callable[[], list[Finding]], bool]]) -> list[Finding]:
    """Probes in order; after one whose flag is set, a FATAL or EXCEPTION so far stops."""
    found: list[Finding] = []
    for step, checked in steps:
        found += step()
        if checked and _stops(found):
            break
    return found


class _NullNode(Exception):
    """A node the probe reads is missing: a NullPointerException in Java."""


def _strings(node: Any) -> list[str]:
    """JsonNodeUtil.asStringList: an array's items as text, an object as nothing, a value as
    itself; a missing node throws."""
    if node is None:
        raise _NullNode
    if isinstance(node, list):
        return [_text(n).strip() for n in node]
    return [] if isinstance(node, dict) else [_text(node)]


def _types(node: Any) -> list[str]:
    """The ``type`` values of a node (a node that is not an object has none: throws)."""
    return _strings(node.get("type") if isinstance(node, dict) else None)


def _text(node: Any) -> str:
    """Jackson's ``asText``: containers are empty text, booleans lower case."""
    if isinstance(node, (dict, list)) or node is None:
        return ""
    return json.dumps(node) if isinstance(node, bool) else str(node)


def _nodes(node: Any) -> list[Any]:
    """JsonNodeUtil.asNodeList, where a missing node is no nodes: a value is a list of one."""
    if node is None:
        return []
    return node if isinstance(node, list) else [node]


def _guarded(probe: str, run: Callable[[], list[Finding]]) -> list[Finding]:
    """ReportUtil.onProbeException: a probe that throws reports an EXCEPTION."""
    try:
        return run()
    except _NullNode:
        return _one(probe, "NullPointerException (a node the probe reads is missing)", EXCEPTION)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return _one(probe, f"{type(exc).__name__}: {exc}", EXCEPTION)


def version(credential: dict[str, Any]) -> str:
    """VerifiableCredential.VCVersion.of: VC 2.0 when the VC 2.0 context is listed, else 1.1
    (whose dates are ``issuanceDate`` / ``expirationDate``)."""
    return "2.0" if VC2 in _nodes(credential.get("@context")) else "1.1"


def credential_type(credential: dict[str, Any]) -> str:
    """VerifiableCredential.Type.valueOf: the first type value the validator knows."""
    known = {"OpenBadgeCredential": ACHIEVEMENT, ACHIEVEMENT: ACHIEVEMENT, CLR: CLR}
    known[STATUS_LIST] = STATUS_LIST
    types = credential.get("type")
    values = [] if types is None else _strings(types)
    return next((known[t] for t in values if t in known), "Unknown")


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _issuer_id(credential: dict[str, Any]) -> str | None:
    node = credential.get("issuer")
    if isinstance(node, str):
        return node
    return node.get("id") if isinstance(node, dict) and isinstance(node.get("id"), str) else None


# -- CredentialParseProbe ----------------------------------------------------------------------
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def credential_parse(text: str) -> tuple[dict[str, Any] | None, str | None, list[Finding]]:
    """CredentialParseProbe (with TypeDetector, JsonParser, JwtParser, PayloadParser.fromJwt):
    a JSON object, or a compact JWS whose payload's ``vc`` claim (else the whole payload, as
    OB30Inspector allows) is the credential; anything else is FATAL. Returns (credential, the
    JWS or None, findings)."""
    probe, body = "CredentialParseProbe", text.strip()
    try:
        if body.startswith("{"):
            document = json.loads(body)
            if isinstance(document, dict):
                return document, None, []
        elif _JWS.match(body):
            payload = json.loads(_b64(body.split(".")[1]))
            credential = payload.get("vc", payload) if isinstance(payload, dict) else None
            if isinstance(credential, dict):
                return credential, body, []
        else:
            return None, None, _one(probe, "Could not detect credential payload type", FATAL)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, None, _one(probe, f"Error while parsing credential: {exc}", FATAL)
    return None, None, _one(probe, "Error while parsing credential: not an object", FATAL)


# -- JsonLDValidationProbe ---------------------------------------------------------------------
UNDEFINED_TERM = "urn:UNDEFINEDTERM"


@cache
def bundled_contexts() -> dict[str, Any]:
    """The contexts the validator bundles (CachingDocumentLoader.bundled) that the bank ships."""
    manifest = json.loads((STANDARDS / "manifest.json").read_text(encoding="utf-8"))["files"]
    return {
        url: json.loads((STANDARDS / relative).read_text(encoding="utf-8"))
        for relative, entry in manifest.items()
        if "1EdTech/digital-credentials-public-validator" in entry.get("source", "")
        for url in entry.get("urls", ())
    }


def document_loader(fetch: Fetch) -> Callable[..., dict[str, Any]]:
    """CachingDocumentLoader: the bundled copies, else over the network (``fetch``)."""

    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = bundled_contexts().get(url)
        if document is None:
            try:
                document = json.loads(fetch(url))
            except (Unreachable, ValueError) as exc:
                failed = "loading document failed"
                raise jsonld.JsonLdError(url, "jsonld.LoadDocumentError", code=failed) from exc
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


def _undefined(node: Any) -> Iterator[str]:
    if isinstance(node, str) and node.startswith(UNDEFINED_TERM):
        yield node[len(UNDEFINED_TERM) :]
    elif isinstance(node, list):
        for item in node:
            yield from _undefined(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _undefined(key)
            yield from _undefined(value)


def jsonld_validation(credential: dict[str, Any], fetch: Fetch = offline) -> list[Finding]:
    """JsonLDValidationProbe (danubetech Validation.validate): the credential expands as JSON-LD
    with ``@vocab`` set to ``urn:UNDEFINEDTERM`` beforehand, and no key or value expands to it
    (a term no context defines). A context that cannot be loaded, or that breaks JSON-LD (a
    protected term redefined), is the same ERROR."""
    probe = "JsonLDValidationProbe"
    options = {
        "documentLoader": document_loader(fetch),
        "expandContext": {"@vocab": UNDEFINED_TERM},
    }
    try:
        expanded = jsonld.expand(credential, options)
    except jsonld.JsonLdError as exc:
        problem = getattr(exc, "code", None) or exc.type
        return _one(probe, f"Error while validation JSON LD object: JSON-LD problem ({problem})")
    undefined = sorted(set(_undefined(expanded)))
    return _one(probe, f"Undefined JSON-LD term: {undefined[0]}") if undefined else []


# -- ContextPropertyProbe, TypePropertyProbe ---------------------------------------------------
CONTEXTS = {ACHIEVEMENT: [VC2, OB303], CLR: [VC2, CLR201, OB303], STATUS_LIST: [VC2]}
ALIASES = {
    OB303: [
        "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    ],
    CLR201: ["https://purl.imsglobal.org/spec/clr/v2p0/context.json"],
    VC2: [VC1],
}
VERSIONS = {
    OB303: re.compile(r"https://purl\.imsglobal\.org/spec/ob/v3p0/context(-\d+\.\d+\.\d+)*\.json"),
    CLR201: re.compile(
        r"https://purl\.imsglobal\.org/spec/clr/v2p0/context(-\d+\.\d+\.\d+)*\.json"
    ),
}
ALLOWED_TYPES = {
    ACHIEVEMENT: ["OpenBadgeCredential", "AchievementCredential"],
    CLR: ["ClrCredential"],
    STATUS_LIST: ["BitstringStatusListCredential"],
}


def context_property(credential: dict[str, Any], kind: str) -> list[Finding]:
    """ContextPropertyProbe: the kind's context URIs in order, each the URI itself, else an
    alias or a version of it (a WARNING "expected ... instead"), else an ERROR "missing required
    @context uri ... at position n". No @context: not run (the schema says it)."""
    probe = "ContextPropertyProbe"
    if "@context" not in credential:
        return []

    def run() -> list[Finding]:
        values = _strings(credential["@context"])
        if not values:  # an inline context only
            return []
        found = []
        for position, uri in enumerate(CONTEXTS[kind], start=1):
            value = values[position - 1] if position <= len(values) else ""
            pattern = VERSIONS.get(uri)
            versioned = pattern is not None and pattern.fullmatch(value) is not None
            if value != uri and value not in ALIASES.get(uri, ()) and not versioned:
                return _one(probe, f"missing required @context uri {uri} at position {position}")
            if value != uri:
                message = (
                    f"expected @context uri {uri} at position {position}, gotten {value} instead"
                )
                found.append(Finding(probe, message, WARNING))
        return found

    return _guarded(probe, run)


def type_property(credential: dict[str, Any], kind: str) -> list[Finding]:
    """TypePropertyProbe: ``VerifiableCredential`` and one of the kind's types, else FATAL."""
    probe = "TypePropertyProbe"
    if "type" not in credential:
        return _one(probe, "No type property", FATAL)

    def run() -> list[Finding]:
        values = _strings(credential["type"])
        if "VerifiableCredential" not in values:
            missing = "The type property does not contain the entry 'VerifiableCredential'"
            return _one(probe, missing, FATAL)
        if not set(values) & set(ALLOWED_TYPES[kind]):
            missing = f"The type property does not contain one of {ALLOWED_TYPES[kind]}"
            return _one(probe, missing, FATAL)
        return []

    return _guarded(probe, run)


# -- JsonSchemasProbe, InlineJsonSchemaProbe ---------------------------------------------------
SCHEMAS = {
    ACHIEVEMENT: "schemas/ob3/ob_v3p0_achievementcredential_schema.json",
    CLR: "schemas/clr2/clr_v2p0_clrcredential_schema.json",
}


@cache
def _schema(relative: str) -> Draft201909Validator:
    return Draft201909Validator(json.loads((STANDARDS / relative).read_text(encoding="utf-8")))


def _schema_findings(probe: str, validator: Draft201909Validator, document: Any) -> list[Finding]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    return [
        Finding(probe, f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message[:160]}")
        for e in errors
    ]


def json_schemas(credential: dict[str, Any], kind: str) -> list[Finding]:
    """JsonSchemasProbe: the credential JSON (of a VC-JWT without a ``vc`` claim, the whole
    payload, JWT claims included) against the kind's official JSON Schema for VC 2.0 content
    (OB_30_ACHIEVEMENTCREDENTIAL_JSON, CLR_20_CLRCREDENTIAL_JSON)."""
    return _schema_findings("JsonSchemasProbe", _schema(SCHEMAS[kind]), credential)


def inline_json_schema(
    credential: dict[str, Any], kind: str, fetch: Fetch = offline
) -> list[Finding]:
    """InlineJsonSchemaProbe: each ``credentialSchema`` of type 1EdTechJsonSchemaValidator2019
    with an id (but the kind's own canonical schema) is fetched and applied; one that cannot be
    read is an ERROR "Could not read schema resource"."""
    probe = "InlineJsonSchemaProbe"
    skip = _schema(SCHEMAS[kind]).schema.get("$id")
    found: list[Finding] = []
    unreadable: set[str] = set()
    for node in _nodes(credential.get("credentialSchema")):
        if (
            not isinstance(node, dict)
            or _text(node.get("type")) != "1EdTechJsonSchemaValidator2019"
        ):
            continue
        schema_id = _text(node.get("id")).strip()
        if node.get("id") is None or schema_id in unreadable or schema_id == skip:
            continue
        try:
            validator = Draft201909Validator(json.loads(fetch(schema_id)))
        except (Unreachable, ValueError):
            unreadable.add(schema_id)
            found.append(Finding(probe, f"Could not read schema resource {schema_id}"))
            continue
        found += _schema_findings(probe, validator, credential)
    return found


# -- CredentialSubjectProbe, ClrSubjectProbe, EvidenceProbe, IssuerProbe -----------------------
def credential_subject(
    credential: dict[str, Any],
    required_type: str,
    achievement_required: bool = True,
    identifier_required: bool = True,
    clr: bool = False,
) -> list[Finding]:
    """CredentialSubjectProbe (``clr``: ClrSubjectProbe, whose ``achievement`` may be a list):
    the subject's type has ``required_type``; an id or an identifier (quirk kept: only an
    *empty* identifier array counts as none); identifiers are IdentityObjects, results Results;
    an achievement (if required) whose resultDescriptions are ResultDescriptions and whose
    criteria have an id or a narrative; a source is a Profile. The first failure is the ERROR."""
    probe = "CredentialSubjectProbe"
    subject = credential.get("credentialSubject")
    if subject is None:
        return []  # not run: the schema reports it

    def run() -> list[Finding]:
        if required_type not in _types(subject):
            return _one(probe, f'credentialSubject is not of type "{required_type}"')
        if identifier_required and _id_and_identifier_empty(subject):
            return _one(probe, "no id in credentialSubject")
        for key, kind in (("identifier", "IdentityObject"), ("result", "Result")):
            if any(kind not in _types(node) for node in _nodes(subject.get(key))):
                return _one(probe, f'{key} in credentialSubject is not of type "{kind}"')
        achievement = subject.get("achievement")
        if achievement is None and achievement_required:
            return _one(probe, "missing required achievement in credentialSubject")
        # An array is ClrSubjectProbe's (its objects checked); CredentialSubjectProbe throws.
        items = achievement if clr and isinstance(achievement, list) else [achievement]
        for item in items if achievement is not None else []:
            if clr and not isinstance(item, dict):
                continue
            found = _achievement(probe, item)
            if found:
                return found
        source = subject.get("source")
        if source is not None and "Profile" not in _types(source):
            return _one(probe, 'source in credentialSubject is not of type "Profile"')
        return []

    return _guarded(probe, run)


def _id_and_identifier_empty(subject: dict[str, Any]) -> bool:
    subject_id = subject.get("id")
    if subject_id is not None:
        if not isinstance(subject_id, str):
            raise _NullNode  # textValue() of a node that is not text
        if subject_id.strip():
            return False
    return subject.get("identifier") is not None and not _nodes(subject["identifier"])


def _achievement(probe: str, achievement: Any) -> list[Finding]:
    descriptions = _nodes(achievement.get("resultDescription"))
    if any("ResultDescription" not in _types(d) for d in descriptions):
        kind = '"ResultDescription"'
        return _one(
            probe, f"resultDescription in achievement of credentialSubject is not of type {kind}"
        )
    criteria = achievement.get("criteria")
    if not isinstance(criteria, dict):
        raise _NullNode
    if criteria.get("id") is None and criteria.get("narrative") is None:
        return _one(probe, "criteria in achievement of credentialSubject must have id or narrative")
    return []


def evidence(credential: dict[str, Any]) -> list[Finding]:
    """EvidenceProbe: each ``evidence`` item's type has ``Evidence``."""

    def run() -> list[Finding]:
        if any("Evidence" not in _types(node) for node in _nodes(credential.get("evidence"))):
            return _one("EvidenceProbe", 'evidence is not of type "Evidence"')
        return []

    return _guarded("EvidenceProbe", run)


def issuer(credential: dict[str, Any], fetch: Fetch = offline) -> list[Finding]:
    """IssuerProbe: an issuer whose type has ``Profile`` (a plain URL has no type: the probe
    throws), its ``url`` fetched (a WARNING when it does not answer; no url, no warning), its
    otherIdentifiers IdentifierEntries and its parentOrg a Profile."""
    probe = "IssuerProbe"
    node = credential.get("issuer")
    if node is None:
        return _one(probe, "no issuer node found")

    def run() -> list[Finding]:
        if "Profile" not in _types(node):
            return _one(probe, 'issuer is not of type "Profile"')
        if node.get("url") is not None:
            url = _text(node["url"]).strip()
            try:
                fetch(url)
            except Unreachable:
                return _one(probe, f'url "{url}" in issuer is not accessible', WARNING)
        if any("IdentifierEntry" not in _types(n) for n in _nodes(node.get("otherIdentifier"))):
            return _one(probe, 'otherIdentifier in issuer is not of type "IdentifierEntry"')
        if node.get("parentOrg") is not None and "Profile" not in _types(node["parentOrg"]):
            return _one(probe, 'parentOrg in issuer is not of type "Profile"')
        return []

    return _guarded(probe, run)


# -- SimpleDidResolver -------------------------------------------------------------------------
@dataclass(frozen=True)
class DidResolution:
    public_key_multibase: str | None = None
    public_key_jwk: dict[str, Any] | None = None
    controller: str | None = None


class DidResolutionError(Exception):
    pass


def did_web_url(did_url: str) -> str:
    """SimpleDidResolver, did:web read: ':' to '/', a percent-encoded port decoded (quirk kept:
    only when a path follows it), https, then ``/.well-known/did.json`` or ``<path>/did.json``."""
    specific = did_url.split("#", 1)[0].removeprefix("did:web:").replace(":", "/")
    if 0 <= specific.find("%3A") < specific.find("/"):
        specific = specific.replace("%3A", ":")
    parts = urlsplit("https://" + specific)
    return f"https://{parts.netloc}{parts.path or '/.well-known'}/did.json"


def resolve_did(did_url: str, fetch: Fetch) -> DidResolution:
    """SimpleDidResolver.resolve: did:key (the key is the method-specific id), did:jwk (the JWK
    is in it) and did:web (the DID document fetched, ``did_url`` one of its assertionMethods,
    and the verification method of that id giving controller, publicKeyJwk and
    publicKeyMultibase). Other methods go to the universal resolver, which the port has not."""
    specific = did_url.removeprefix("did:").split("#", 1)[0]
    if specific.startswith("key:"):
        return DidResolution(public_key_multibase=specific.removeprefix("key:"))
    if specific.startswith("jwk:"):
        return DidResolution(public_key_jwk=json.loads(_b64(specific.removeprefix("jwk:"))))
    if not specific.startswith("web:"):
        raise DidResolutionError(f"Error solvig did: {did_url} (no universal resolver here)")
    url = did_web_url(did_url)
    try:
        document = json.loads(fetch(url))
    except (Unreachable, ValueError) as exc:
        raise DidResolutionError(f"Key document not found at {did_url}. URI: {url}") from exc
    if did_url not in (document.get("assertionMethod") or []):
        raise DidResolutionError(f"Assertion method {did_url} not found in DID document.")
    methods = [m for m in document.get("verificationMethod") or [] if m.get("id") == did_url]
    if not methods:
        raise DidResolutionError(f"Verification method {did_url} not found in DID document.")
    method = methods[0]
    return DidResolution(
        method.get("publicKeyMultibase"), method.get("publicKeyJwk"), method.get("controller")
    )


# -- ExternalProofProbe ------------------------------------------------------------------------
class _JwsError(Exception):
    pass


def external_proof(
    token: str,
    credential: dict[str, Any],
    now: datetime,
    fetch: Fetch = offline,
    allow_kid_as_hint: bool = False,
) -> list[Finding]:
    """ExternalProofProbe: the header's ``alg`` is RS256 or ES256; the key is the header's
    ``jwk`` or, when there is a ``kid``, what the kid dereferences to (a DID URL through the DID
    resolver; a bare kid as a fragment of a did: issuer when ``allow_kid_as_hint``; any other
    URL fetched, its body the JWK); RSA or P-256 only; then java-jwt's verify: the algorithm
    matches, the signature holds, ``exp`` is not past and ``nbf``/``iat`` are not in the future
    (no leeway). Any failure is FATAL."""
    try:
        _verify_jws(token, credential, now, fetch, allow_kid_as_hint)
    except _JwsError as exc:
        return _one("ExternalProofProbe", f"Error verifying jwt signature: {exc}", FATAL)
    return []


def _verify_jws(
    token: str, credential: dict[str, Any], now: datetime, fetch: Fetch, hint: bool
) -> None:
    parts = token.split(".")
    if len(parts) != 3:
        raise _JwsError("invalid jwt")
    header = json.loads(_b64(parts[0]))
    if header.get("alg") not in ("RS256", "ES256"):
        raise _JwsError("alg must be present and must be either 'RS256' or 'ES256'")
    jwk, kid = header.get("jwk"), header.get("kid")
    if jwk is None and kid is None:
        raise _JwsError("Key must present in either jwk or kid value.")
    if kid is not None:  # the kid wins over an embedded jwk
        try:
            jwk = _dereference(kid, credential, fetch, hint) if isinstance(kid, str) else None
        except (DidResolutionError, Unreachable, ValueError) as exc:
            raise _JwsError("Unable to retrieve jwk value from url specified in kid.") from exc
        if not isinstance(jwk, dict):
            raise _JwsError("Unable to retrieve jwk value from url specified in kid.")
    try:
        key, algorithm = _public_key(jwk)
        payload = jwt.decode(
            token,
            key,
            algorithms=[algorithm],  # the key's: any other header alg is a mismatch
            options={  # java-jwt checks the times below, and no audience unless asked
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
            },
        )
    except jwt.InvalidAlgorithmError as exc:
        raise _JwsError("JWT Algorithm mismatch") from exc
    except jwt.InvalidSignatureError as exc:
        raise _JwsError("JWT Invalid signature") from exc
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise _JwsError(str(exc)) from exc
    moment = now.timestamp()
    if isinstance(payload.get("exp"), (int, float)) and moment > payload["exp"]:
        raise _JwsError("JWT Token expired")
    for claim in ("nbf", "iat"):
        if isinstance(payload.get(claim), (int, float)) and moment < payload[claim]:
            raise _JwsError(f"JWT, one or more claims are invalid ({claim} is in the future)")


def _dereference(kid: str, credential: dict[str, Any], fetch: Fetch, hint: bool) -> Any:
    scheme = urlsplit(kid).scheme
    if scheme and scheme != "did":
        return json.loads(fetch(kid))
    issuer_id = _issuer_id(credential)
    if not scheme and hint and issuer_id is not None and issuer_id.startswith("did:"):
        return resolve_did(f"{issuer_id}#{kid}", fetch).public_key_jwk
    return resolve_did(kid, fetch).public_key_jwk


def _int(segment: str) -> int:
    return int.from_bytes(_b64(segment), "big")


def _public_key(jwk: dict[str, Any]) -> tuple[Any, str]:
    """The RSA or P-256 key of a JWK, with the algorithm the probe verifies it with."""
    kty = str(jwk.get("kty", "")).upper()
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key(), "RS256"
    if kty == "EC" and jwk.get("crv") == "P-256":
        numbers = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), ec.SECP256R1())
        return numbers.public_key(), "ES256"
    raise ValueError(f"Unsupported key type or curve: {jwk.get('kty')} {jwk.get('crv')}")


# -- EmbeddedProofProbe ------------------------------------------------------------------------
# Ed25519Signature2020 and DataIntegrityProof (whatever its cryptosuite: the type alone selects
# it) for AchievementCredential, ClrCredential and BitstringStatusListCredential alike.
SUPPORTED_PROOF_TYPES = ("Ed25519Signature2020", "DataIntegrityProof")
ED25519, P256, P384 = b"\xed\x01", b"\x80\x24", b"\x81\x24"  # multicodec public key prefixes
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def multibase(text: str) -> bytes:
    """Multibase decoding: ``z`` base58btc and ``u`` base64url (what keys and lists use)."""
    if text.startswith("u"):
        return _b64(text[1:])
    if not text.startswith("z"):
        raise ValueError(f"unsupported multibase {text[:1]!r}")
    number = 0
    for char in text[1:]:
        number = number * 58 + _BASE58.index(char)
    zeros = len(text[1:]) - len(text[1:].lstrip("1"))
    return b"\x00" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _public_key_multibase(text: str | None) -> bytes | None:
    """IsValidPublicKeyMultibase: an Ed25519, P-256 or P-384 public key multicodec, or None."""
    try:
        raw = multibase(text or "")
    except ValueError:
        return None
    return raw if raw[:2] in (ED25519, P256, P384) else None


def embedded_proof(credential: dict[str, Any], fetch: Fetch = offline) -> list[Finding]:
    """EmbeddedProofProbe: a proof for ``assertionMethod`` of a supported type; its verification
    method a ``controller#publicKeyMultibase`` URI, else dereferenced (did: through the
    resolver, http(s) as a key document with controller and publicKeyMultibase); an Ed25519,
    P-256 or P-384 key; the controller, when known, the issuer id; then the signature over the
    RDFC-1.0 canonical proof options and document (not in safe mode: the validator drops what
    its contexts do not define). The port verifies Ed25519 (eddsa-rdfc-2022) only."""
    probe = "EmbeddedProofProbe"
    proofs = [p for p in _nodes(credential.get("proof")) if isinstance(p, dict)]
    if not proofs:
        return _one(probe, "The verifiable credential is missing a proof.")
    chosen = [
        p
        for p in proofs
        if p.get("proofPurpose") == "assertionMethod" and p.get("type") in SUPPORTED_PROOF_TYPES
    ]
    if not chosen:
        return _one(probe, 'No proof of a supported type with proof purpose "assertionMethod"')
    proof, controller = chosen[0], None
    method = str(proof.get("verificationMethod") or "")
    before, hash_, fragment = method.partition("#")
    key = _public_key_multibase(fragment) if hash_ else None
    if key is not None:
        controller = before
    else:
        scheme = urlsplit(method).scheme
        if not scheme:
            return _one(probe, "The verification method must be a valid URI (missing scheme)")
        if scheme not in ("did", "http", "https"):
            return _one(probe, f"Unknown verification method scheme: {scheme}")
        try:
            if scheme == "did":
                resolution = resolve_did(method, fetch)
                stated, controller = resolution.public_key_multibase, resolution.controller
            else:  # a key document: its controller and its key
                document = json.loads(fetch(method))
                stated, controller = document["publicKeyMultibase"], document["controller"]
        except DidResolutionError as exc:
            return _one(probe, str(exc))
        except (Unreachable, ValueError, KeyError, TypeError) as exc:
            return _one(probe, f"Invalid verification key URL: {exc}")
        key = _public_key_multibase(stated)
        if key is None:
            return _one(probe, "Verification method does not contain an Ed25519, P256 or P384 key")
    issuer_id = _issuer_id(credential)
    if controller is not None and issuer_id is not None and controller != issuer_id:
        return _one(probe, f"Key controller does not match issuer: {issuer_id}")
    if key[:2] != ED25519:
        return _one(probe, "not ported: only Ed25519 proofs are verified here", EXCEPTION)
    try:
        signature = multibase(str(proof.get("proofValue") or ""))
        public = Ed25519PublicKey.from_public_bytes(key[2:])
        public.verify(signature, _signing_input(credential, proof, fetch))
    except InvalidSignature:
        return _one(probe, "Embedded proof verification failed.")
    except (ValueError, jsonld.JsonLdError) as exc:
        return _one(probe, f"Embedded proof verification failed: {exc}", FATAL)
    return []


def _signing_input(credential: dict[str, Any], proof: dict[str, Any], fetch: Fetch) -> bytes:
    """eddsa-rdfc-2022: sha256(canonical proof options, with the document's @context), then
    sha256(canonical document without its proof)."""
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    options["@context"] = credential.get("@context")
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    canon: dict[str, Any] = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    canon["documentLoader"] = document_loader(fetch)
    return b"".join(
        hashlib.sha256(str(jsonld.normalize(document, canon)).encode()).digest()
        for document in (options, unsecured)
    )


# -- RevocationListProbe, BitstringStatusListProbe ---------------------------------------------
MINIMUM_ENTRIES = 131_072
_NOT_URI = re.compile(r'[\s"<>\\^`{|}]')  # what java.net.URI refuses


def revocation_list(
    credential: dict[str, Any], now: datetime, fetch: Fetch = offline
) -> list[Finding]:
    """RevocationListProbe: for each ``credentialStatus``: a ``1EdTechRevocationList`` is fetched
    from its id (one that cannot be fetched is a WARNING; the credential's id listed under
    ``revokedCredential``, sic, with ``revoked`` absent or true is FATAL); a
    ``BitstringStatusListEntry`` for ``revocation`` goes to BitstringStatusListProbe. The first
    entry that reports anything decides."""
    probe = "RevocationListProbe"
    if credential.get("credentialStatus") is None:
        return []

    def run() -> list[Finding]:
        credential_id = _text(credential["id"])
        for status in _nodes(credential["credentialStatus"]):
            if not isinstance(status, dict) or status.get("type") is None:
                continue  # no type: not a status this probe reads
            kind = _text(status["type"]).strip()
            if kind == "1EdTechRevocationList" and status.get("id") is not None:
                try:
                    listed = json.loads(fetch(_text(status["id"]).strip()))
                except (Unreachable, ValueError) as exc:
                    message = f"Error when fetching credentialStatus resource {exc}"
                    return _one(probe, message, WARNING)
                for item in _nodes(listed.get("revokedCredential")):
                    revoked = item.get("revoked") in (None, True, "true")
                    if _text(item.get("id")) == credential_id and revoked:
                        return _one(probe, "Credential has been revoked", FATAL)
            elif kind == "BitstringStatusListEntry" and (
                _text(status.get("statusPurpose")).strip() == "revocation"
            ):
                return bitstring_status_list(status, now, fetch)
        return []

    return _guarded(probe, run)


def bitstring_status_list(
    status: dict[str, Any], now: datetime, fetch: Fetch = offline
) -> list[Finding]:
    """BitstringStatusListProbe (the W3C validate algorithm): ``statusListCredential`` a valid
    URI, fetched and passing BitstringStatusListCredentialInspector (whose report, if not clean,
    is the answer: quirk kept, a warning there stops the check too); the purposes agree; a
    non-empty ``encodedList`` of at least 131,072 entries of ``statusSize`` bits; the index
    (``asInt``: text that is not a number reads 0) within it; its bit (index 0 the leftmost)
    set is FATAL "Credential has been revoked"."""
    probe = "BitstringStatusListProbe"
    purpose = _text(status.get("statusPurpose")).strip()
    size = status.get("statusSize", 1)
    if not isinstance(size, int) or size < 0:
        return _one(probe, "statusSize must be a non-negative integer")
    url = _text(status.get("statusListCredential"))
    if status.get("statusListCredential") is None or _NOT_URI.search(url):
        return _one(probe, "statusListCredential is not a valid URI")
    try:
        text = fetch(url).decode()
    except (Unreachable, UnicodeDecodeError) as exc:
        return _one("CredentialParseProbe", f"Error while parsing credential: {exc}", FATAL)
    listed, inspected = status_list_credential(text, now, fetch)
    if inspected or listed is None:
        return inspected
    subject = listed.get("credentialSubject") or {}
    stated = _text(subject.get("statusPurpose")).strip()
    if stated != purpose:
        return _one(probe, f"statusPurpose mismatch (credential: {purpose}, list: {stated})")
    if not _text(subject.get("encodedList")):
        return _one(probe, "encodedList is empty")
    try:
        bits = gzip.decompress(multibase(_text(subject["encodedList"])))
    except (ValueError, OSError, EOFError) as exc:
        return _one(probe, f"Error expanding bitstring:{exc}", FATAL)
    if len(bits) * 8 // size < MINIMUM_ENTRIES:
        return _one(probe, "revocation bitstring length is less than minimumNumberOfEntries")
    position = _as_int(status.get("statusListIndex")) * size
    if position >= len(bits) * 8:
        return _one(probe, "credentialIndex multiplied by the size is outside the bitstring")
    if bits[position // 8] & (0x80 >> (position % 8)):
        return _one(probe, "Credential has been revoked", FATAL)
    return []


def _as_int(node: Any) -> int:
    """Jackson's ``asInt``: a number, or text that parses as one; anything else 0."""
    if isinstance(node, int):
        return int(node)
    try:
        return int(str(node).strip())
    except ValueError:
        return 0


def status_list_credential(
    text: str, now: datetime, fetch: Fetch = offline
) -> tuple[dict[str, Any] | None, list[Finding]]:
    """BitstringStatusListCredentialInspector: parsed, ContextPropertyProbe and
    TypePropertyProbe as a BitstringStatusListCredential, CredentialSubjectProbe
    (``BitstringStatusList``, no achievement or id required), and its proof: ExternalProofProbe
    with the kid as a hint, or EmbeddedProofProbe."""
    listed, token, found = credential_parse(text)
    if listed is None:
        return None, found
    proof = (
        (lambda: external_proof(token, listed, now, fetch, allow_kid_as_hint=True))
        if token is not None
        else (lambda: embedded_proof(listed, fetch))
    )
    return listed, _run(
        [
            (lambda: context_property(listed, STATUS_LIST), True),
            (lambda: type_property(listed, STATUS_LIST), True),
            (lambda: credential_subject(listed, "BitstringStatusList", False, False), False),
            (proof, True),
        ]
    )


# -- ExpirationProbe, IssuanceProbe ------------------------------------------------------------
def _zoned(value: Any) -> datetime:
    """ZonedDateTime.parse: an ISO date-time with an offset or zone."""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value} has no zone")
    return moment


def expiration(credential: dict[str, Any], now: datetime) -> list[Finding]:
    """ExpirationProbe: ``validUntil`` (VC 1.1: ``expirationDate``) past is FATAL."""
    probe = "ExpirationProbe"
    value = credential.get("validUntil" if version(credential) == "2.0" else "expirationDate")
    if value is None:
        return []
    try:
        if now > _zoned(value):
            message = f"The credential has expired (expiration date or validUntil was {value})."
            return _one(probe, message, FATAL)
    except ValueError as exc:
        return _one(probe, f"Error while checking expirationDate or validUntil: {exc}", EXCEPTION)
    return []


def issuance(credential: dict[str, Any], now: datetime) -> list[Finding]:
    """IssuanceProbe: ``validFrom`` (VC 1.1: ``issuanceDate``) in the future is FATAL."""
    probe = "IssuanceProbe"
    field = "validFrom" if version(credential) == "2.0" else "issuanceDate"
    if field not in credential:
        return []
    value = credential[field]
    try:
        if _zoned(value) > now:
            message = f"The credential is not yet issued or valid (validFrom is {value})."
            return _one(probe, message, FATAL)
    except ValueError as exc:
        return _one(probe, f"Error while checking issuanceDate or validFrom: {exc}", EXCEPTION)
    return []


# -- OB 3.0 section 8.2.4.1: the VC-JWT claims (no probe of the validator checks them) ----------
def vc_jwt_claims(token: str, credential: dict[str, Any]) -> list[Finding]:
    """OB 3.0 §8.2.4.1: ``iss`` = issuer id, ``jti`` = id, ``nbf`` = validFrom (seconds),
    ``sub`` = credentialSubject.id, ``exp`` = validUntil when there is one. Named after the
    bank's JwtClaimsProbe: the validator has none (java-jwt checks only the times)."""
    payload = json.loads(_b64(token.split(".")[1]))
    subject = credential.get("credentialSubject")
    expected: dict[str, Any] = {
        "iss": _issuer_id(credential),
        "jti": credential.get("id"),
        "sub": subject.get("id") if isinstance(subject, dict) else None,
    }
    for claim, field in (("nbf", "validFrom"), ("exp", "validUntil")):
        if field in credential:
            expected[claim] = int(_zoned(credential[field]).timestamp())
    return [
        Finding("JwtClaimsProbe", f"{claim} is {payload.get(claim)!r}, not {value!r}")
        for claim, value in expected.items()
        if value is not None and payload.get(claim) != value
    ]


# -- OB30Inspector, CLR20Inspector -------------------------------------------------------------
def ob30(
    credential: dict[str, Any], now: datetime, token: str | None = None, fetch: Fetch = offline
) -> list[Finding]:
    """OB30Inspector.run(resource, parentObjects): an AchievementCredential already parsed
    (standalone from a VC-JWT, or embedded in a CLR), its probes in the validator's order, a
    FATAL or EXCEPTION stopping where the validator checks (``broken``)."""
    proof = (
        (lambda: external_proof(token, credential, now, fetch))
        if token is not None
        else (lambda: embedded_proof(credential, fetch))
    )
    return _run(
        [
            (lambda: jsonld_validation(credential, fetch), True),
            (lambda: context_property(credential, ACHIEVEMENT), True),
            (lambda: type_property(credential, ACHIEVEMENT), True),
            (lambda: json_schemas(credential, ACHIEVEMENT), True),
            (lambda: inline_json_schema(credential, ACHIEVEMENT, fetch), True),
            (lambda: credential_subject(credential, "AchievementSubject"), False),
            (lambda: evidence(credential), True),
            (lambda: issuer(credential, fetch), True),
            (proof, True),
            (lambda: revocation_list(credential, now, fetch), True),
            (lambda: expiration(credential, now), True),
            (lambda: issuance(credential, now), True),
        ]
    )


def inspect_ob30(text: str, now: datetime, fetch: Fetch = offline) -> list[Finding]:
    """OB30Inspector.run(resource): parse (a FATAL stops), then ``ob30``."""
    credential, token, found = credential_parse(text)
    return found if credential is None else ob30(credential, now, token, fetch)


def inspect_clr20(text: str, now: datetime, fetch: Fetch = offline) -> list[Finding]:
    """CLR20Inspector.run: parse; context and type as a ClrCredential; the CLR 2.0 schema;
    inline schemas; ClrSubjectProbe; the proof; revocation, expiration, issuance; then each
    ``credentialSubject.verifiableCredential`` that is an AchievementCredential through
    ``ob30`` as an embedded credential (a JWT string there is not one: not checked)."""
    clr, token, found = credential_parse(text)
    if clr is None:
        return found
    proof = (
        (lambda: external_proof(token, clr, now, fetch))
        if token is not None
        else (lambda: embedded_proof(clr, fetch))
    )
    found = _run(
        [
            (lambda: context_property(clr, CLR), True),
            (lambda: type_property(clr, CLR), True),
            (lambda: json_schemas(clr, CLR), True),
            (lambda: inline_json_schema(clr, CLR, fetch), True),
            (lambda: credential_subject(clr, "ClrSubject", False, True, clr=True), False),
            (proof, True),
            (lambda: revocation_list(clr, now, fetch), True),
            (lambda: expiration(clr, now), True),
            (lambda: issuance(clr, now), True),
        ]
    )
    subject = clr.get("credentialSubject") or {}
    for inner in [] if _stops(found) else _nodes(subject.get("verifiableCredential")):
        if isinstance(inner, dict) and credential_type(inner) == ACHIEVEMENT:
            found += ob30(inner, now, None, fetch)
            if _stops(found):
                break
    return found
