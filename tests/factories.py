"""Test factories on top of the issuer tooling (application/issuing.py): credentials with the
tests' defaults (issued 30 days ago, EQF level 6, a fixed salt), signed exactly as an issuer's
own tools sign them, so tests exercise the real verification path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from application.issuing import Achievement
from application.issuing import achievement_credential as build


@dataclass
class CredentialSpec:
    issuer_uri: str
    document_number: str
    title: str = "Computer Networks"
    credits: str | float = 3
    achievement_type: str = "Course"
    human_code: str | None = None
    eqf_level: int | None = 6
    credential_id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")
    valid_from: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    )
    valid_until: datetime | None = None
    subject_id: str = "did:example:learner"


def achievement_credential(spec: CredentialSpec) -> dict[str, Any]:
    return build(
        Achievement(
            issuer_uri=spec.issuer_uri,
            issuer_name="Test Issuer",
            document_number=spec.document_number,
            title=spec.title,
            credits=spec.credits,
            achievement_type=spec.achievement_type,
            human_code=spec.human_code,
            eqf_level=spec.eqf_level,
            credential_id=spec.credential_id,
            valid_from=spec.valid_from,
            valid_until=spec.valid_until,
            subject_id=spec.subject_id,
            salt="s4lt",
        )
    )
