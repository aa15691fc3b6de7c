"""The bank's own signing keys: list them, rotate the one that signs exports.

Run on the host of the data directory (the keys live there, owner-only). A running service picks
a rotated key up on its next export or JWKS request, without a restart; earlier keys stay
published in ``/.well-known/jwks.json`` and the did:web document, so what they signed keeps
verifying.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer

from api.cli import note
from application.settings import Settings

keys = typer.Typer(help="The bank's signing keys (exports, audit checkpoints).")
AlgorithmOption = Annotated[
    Literal["EdDSA", "ES256", "RS256"] | None,
    typer.Option(help="EdDSA, ES256 or RS256 (default: CREDITBANK_EXPORT_ALGORITHM)"),
]


@keys.command("rotate")
def rotate(algorithm: AlgorithmOption = None) -> None:
    """Make a new export signing key; print its DID URL (the kid of exports from now on)."""
    from application.signing import BankKeys, did_web

    settings = Settings()
    bank_keys = BankKeys.load_or_create(settings.data_dir, settings.export_algorithm)
    key = bank_keys.rotate(algorithm or settings.export_algorithm)
    if key.algorithm != settings.export_algorithm:
        note(
            f"warning: exports sign with {settings.export_algorithm} (CREDITBANK_EXPORT_ALGORITHM)"
        )
    note(f"new {key.algorithm} key in {settings.data_dir}; earlier keys stay published")
    typer.echo(f"{did_web(settings.base_url)}#{key.key_id}")


@keys.command("list")
def list_keys() -> None:
    """Print the published JWK set (public keys only), as /.well-known/jwks.json serves it."""
    from application.signing import BankKeys, did_web

    settings = Settings()
    bank_keys = BankKeys.load_or_create(settings.data_dir, settings.export_algorithm)
    typer.echo(json.dumps(bank_keys.jwks(did_web(settings.base_url)), indent=2))
