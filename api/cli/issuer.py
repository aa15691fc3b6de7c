"""Issuers' tools: a key pair to register, credentials signed with it, offline verification.

Nothing here needs the bank's database: an institution runs these on its own machine with its
own private key, then deposits the result (``depositCredential``) or hands it to the learner.
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli import note
from domain.errors import DomainError

issuer = typer.Typer(help="An issuing institution's keys.")
credential = typer.Typer(help="Sign and verify Open Badges 3.0 credentials, offline.")


class Algorithm(enum.Enum):
    ED25519 = "Ed25519"
    RSA = "RSA"


class Form(enum.Enum):
    JWT = "jwt"
    DATA_INTEGRITY = "data-integrity"


def _refuse(exc: DomainError) -> typer.Exit:
    typer.echo(f"{exc.code}: {exc.message}", err=True)
    return typer.Exit(1)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {what} {path}: {exc}") from None


@issuer.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option(help="folder for the key files")],
    kid: Annotated[str | None, typer.Option(help="key id (default: <name>-<year>)")] = None,
    name: Annotated[str, typer.Option(help="file name stem")] = "issuer",
    algorithm: Annotated[Algorithm, typer.Option(help="Ed25519 (EdDSA) or RSA (RS256)")] = (
        Algorithm.ED25519
    ),
) -> None:
    """Make a key pair: <name>.pem (private, owner-only) and <name>.jwk.json (the public JWK to
    register as publicKeyJwk). Existing files are never overwritten."""
    from application.issuing import IssuerKey

    kid = kid or f"{name}-{datetime.now(UTC).year}"
    key = IssuerKey.ed25519(kid) if algorithm is Algorithm.ED25519 else IssuerKey.rsa(kid, 3072)
    try:
        pem, public = key.save(out, name)
    except DomainError as exc:
        raise _refuse(exc) from None
    note(f"private key {pem} (keep it secret); public JWK {public} (register it)")
    typer.echo(json.dumps(key.jwk, indent=2))


@credential.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="the achievement's JSON description")],
    key: Annotated[Path, typer.Option(help="the issuer's private key (.pem)")],
    issuer_uri: Annotated[str, typer.Option("--issuer", help="the issuer id at the bank")],
    kid: Annotated[str | None, typer.Option(help="key id (default: <key>.jwk.json's)")] = None,
    form: Annotated[Form, typer.Option("--format", help="VC-JWT or eddsa-rdfc-2022")] = Form.JWT,
) -> None:
    """Print a signed OB 3.0 AchievementCredential.

    The description is a JSON object (see examples/): {"recipient": {"identityNumber": ...},
    "achievement": {"name", "credits", "type", "code", "eqfLevel", "hours"}, "result",
    "validFrom", "validUntil", "id", "issuerName"}; a document with an @context is signed as it
    is, its issuer set to --issuer."""
    from application.issuing import IssuerKey, from_description, sign_data_integrity, sign_vc_jwt
    from application.standards import Standards

    now = datetime.now(UTC)
    try:
        signing_key = IssuerKey.load(key, kid)
        document = from_description(_read_json(file, "the description"), issuer_uri, now)
        if form is Form.JWT:
            typer.echo(sign_vc_jwt(document, signing_key))
        else:
            signed = sign_data_integrity(document, signing_key, Standards(), now)
            typer.echo(json.dumps(signed, indent=2, ensure_ascii=False))
    except DomainError as exc:
        raise _refuse(exc) from None


@credential.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="a VC-JWT, or JSON with a Data Integrity proof")],
    jwk: Annotated[
        Path | None,
        typer.Option(help="the issuer's public JWK (default: the key the credential carries)"),
    ] = None,
) -> None:
    """Verify a credential offline, rule by rule (as verifyCredential reports them): every check,
    warning and error; exit 1 when any error."""
    from application.offline import inspect_offline
    from application.standards import Standards

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc}") from None
    public = _read_json(jwk, "the JWK") if jwk else None
    try:
        report = inspect_offline(text, public, datetime.now(UTC), Standards())
    except DomainError as exc:
        raise _refuse(exc) from None
    for check in report.checks:
        typer.echo(f"{check.outcome:<14} {check.rule}: {check.message}".rstrip(": "), err=True)
    for warning in report.warnings:
        typer.echo(f"warning: {warning.rule}: {warning.message}", err=True)
    if report.errors:
        for rule, error in report.errors:
            typer.echo(f"{error.code}: {error.message} ({rule})", err=True)
        raise typer.Exit(1)
    verified = report.result()
    c = verified.credential
    achievement = c.get("credentialSubject", {}).get("achievement", {})
    typer.echo(f"valid: {achievement.get('name') or c.get('name')!s} ({c.get('id')})")
    typer.echo(f"issuer {verified.issuer.issuer_uri}, key {verified.kid}")
    typer.echo(f"valid from {verified.valid_from.isoformat()}")
    if verified.valid_until:
        typer.echo(f"valid until {verified.valid_until.isoformat()}")
    if report.warnings:
        typer.echo(f"{len(report.warnings)} warning(s): see above")
    if public is None:
        note("checked against the key the credential carries; give --jwk to check the issuer's")
