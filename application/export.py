"""Verifiable exports: a learner's record as a CLR 2.0 ClrCredential, single outcomes as OB 3.0
AchievementCredentials, both signed by the bank as VC-JWT (EdDSA), with revocation through a
Bitstring Status List served at a public URL.

An outside verifier needs only the bank's published key (``/.well-known/jwks.json``, the ``kid``
in each credential's header) and, for revocation, the status list credential.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt
from eventsourcing.application import AggregateNotFoundError

from application.bank import CreditBank
from application.signing import BankKeys
from domain.errors import InvalidCredential, InvalidSignature, NotFound
from domain.indexes import CredentialIndex
from domain.records import Outcome
from domain.values import OutcomeStatus

STATUS_LIST_BITS = 131_072  # the minimum length: 16 KiB, so one entry reveals little
CONTEXTS_OB = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CONTEXTS_CLR = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
EXPORTED = (OutcomeStatus.RECOGNIZED, OutcomeStatus.CONVERTED, OutcomeStatus.REDEEMED)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Exporter:
    def __init__(self, bank: CreditBank, keys: BankKeys, public_url: str) -> None:
        self.bank = bank
        self.keys = keys
        self.public_url = public_url.rstrip("/")
        self.issuer_id = self.public_url + "/issuer"
        self.status_list_url = self.public_url + "/status/1"

    # -- building credentials -------------------------------------------------------------------
    def profile(self) -> dict[str, Any]:
        return {
            "id": self.issuer_id,
            "type": ["Profile"],
            "name": "Credit Bank 学分银行",
            "url": self.public_url,
        }

    def _subject_identity(self, learner_id: UUID) -> list[dict[str, Any]]:
        data = self.bank.personal_data(learner_id)
        if data is None:
            return []
        salt = secrets.token_hex(8)
        digest = hashlib.sha256((str(data["identityDocumentNumber"]) + salt).encode()).hexdigest()
        return [
            {
                "type": "IdentityObject",
                "identityHash": "sha256$" + digest,
                "identityType": "nationalIdentityNumber",
                "hashed": True,
                "salt": salt,
            }
        ]

    def _achievement(self, o: Outcome) -> dict[str, Any]:
        achievement: dict[str, Any] = {
            "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'creditbank:/achievements/{o.id}')}",
            "type": ["Achievement"],
            "name": o.title,
            "description": f"{o.title}: recognised by the Credit Bank on the "
            f"{self.bank.framework.name_en}",
            "criteria": {
                "narrative": "Deposited by its issuer as a signed credential, verified "
                "and recognised by the Credit Bank."
            },
            "achievementType": "Course" if o.kind.value == "ACADEMIC_COURSE" else "Certificate",
            "creditsAvailable": float(o.recognized_credits or o.credits_claimed),
        }
        if o.standard_code:
            achievement["humanCode"] = o.standard_code
        level = o.recognized_level or o.level
        if level is not None:
            achievement["alignment"] = [
                {
                    "type": ["Alignment"],
                    "targetType": f"ext:{self.bank.framework.key.upper()}",
                    "targetName": self.bank.framework.get_level(level).name_en,
                    "targetCode": str(level),
                    "targetUrl": self.public_url + "/framework",
                }
            ]
        return achievement

    def _outcome_credential(self, learner_id: UUID, o: Outcome, now: datetime) -> dict[str, Any]:
        return {
            "@context": CONTEXTS_OB,
            "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'creditbank:/exports/{o.id}')}",
            "type": ["VerifiableCredential", "AchievementCredential"],
            "issuer": self.profile(),
            "validFrom": _z(now),
            "name": o.title,
            "credentialSubject": {
                "id": f"urn:uuid:{learner_id}",
                "type": ["AchievementSubject"],
                "identifier": self._subject_identity(learner_id),
                "achievement": self._achievement(o),
                "creditsEarned": float(o.recognized_credits or o.credits_claimed),
            },
            "credentialStatus": self._status_entry(o.id),
        }

    def _status_entry(self, outcome_id: UUID) -> dict[str, Any]:
        index = self.status_index(outcome_id)
        return {
            "id": f"{self.status_list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": self.status_list_url,
        }

    def _sign(self, credential: dict[str, Any]) -> str:
        valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
        claims = {
            "iss": credential["issuer"]["id"],
            "jti": credential["id"],
            "nbf": int(valid_from.timestamp()),
            "sub": credential["credentialSubject"].get("id"),
        }
        return self.keys.sign_jwt({**credential, **claims})

    def transcript_credential(self, learner_id: UUID) -> dict[str, Any]:
        account = self.bank.account(learner_id)
        now = self.bank.now()
        outcomes = [o for o in account.outcomes.values() if o.status in EXPORTED]
        if not outcomes:  # the CLR 2.0 schema requires at least one verifiableCredential
            raise NotFound("the account has no recognised outcomes to export", ("learnerId",))
        inner = [self._outcome_credential(learner_id, o, now) for o in outcomes]
        return {
            "@context": CONTEXTS_CLR,
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "ClrCredential"],
            "issuer": self.profile(),
            "validFrom": _z(now),
            "name": "Credit Bank transcript 学分银行成绩单",
            "description": f"{len(outcomes)} recognised outcome(s); account version "
            f"{account.version}",
            "credentialSubject": {
                "id": f"urn:uuid:{learner_id}",
                "type": ["ClrSubject"],
                "identifier": self._subject_identity(learner_id),
                "verifiableCredential": inner,
                "achievement": [c["credentialSubject"]["achievement"] for c in inner],
            },
        }

    def export_transcript(self, learner_id: UUID) -> str:
        return self._sign(self.transcript_credential(learner_id))

    def export_outcome(self, learner_id: UUID, outcome_id: UUID) -> str:
        o = self.bank.account(learner_id).outcome(outcome_id)
        if o.status not in EXPORTED:
            raise NotFound(
                f"the outcome is {o.status.value}; only recognised outcomes export", ("outcomeId",)
            )
        return self._sign(self._outcome_credential(learner_id, o, self.bank.now()))

    # -- status list ------------------------------------------------------------------------------
    def status_index(self, outcome_id: UUID) -> int:
        with self.bank.database.transaction() as cur:
            cur.execute(
                "INSERT INTO status_list_entries (outcome_id) VALUES (?) "
                "ON CONFLICT (outcome_id) DO NOTHING",
                [str(outcome_id)],
            )
            cur.execute(
                "SELECT status_index FROM status_list_entries WHERE outcome_id = ?",
                [str(outcome_id)],
            )
            return int(cur.fetchone()[0])

    def revoked_indexes(self) -> list[int]:
        """Indexes of exported outcomes that are now revoked (read from the transcript view)."""
        with self.bank.database.transaction(readonly=True) as cur:
            cur.execute(
                "SELECT s.status_index FROM status_list_entries s JOIN transcript_entries t "
                "ON t.outcome_id = s.outcome_id WHERE t.status = 'REVOKED'"
            )
            return [int(r[0]) for r in cur.fetchall()]

    def status_list_credential(self) -> str:
        bits = bytearray(STATUS_LIST_BITS // 8)
        for index in self.revoked_indexes():
            if index < STATUS_LIST_BITS:
                bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the first, leftmost bit
        encoded = "u" + base64.urlsafe_b64encode(
            gzip.compress(bytes(bits), mtime=0)
        ).decode().rstrip("=")
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": self.status_list_url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.profile(),
            "validFrom": _z(self.bank.now()),
            "credentialSubject": {
                "id": self.status_list_url + "#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encoded,
            },
        }
        return self._sign(credential)

    # -- verification -----------------------------------------------------------------------------
    def verify(self, token: str) -> tuple[str, bool]:
        """(issuer id, revoked) of a bank export (a VC-JWT) or of a registered issuer's
        credential (a VC-JWT, or JSON with a Data Integrity proof)."""
        text = token.strip()
        if not text.startswith("{"):
            own = self._verify_own_export(text)
            if own is not None:
                return own
        verified = self.bank.verify_credential(text)
        return verified.issuer.issuer_uri, self._deposit_revoked(
            verified.issuer.id, verified.credential["id"]
        )

    def _verify_own_export(self, token: str) -> tuple[str, bool] | None:
        """The bank's own exports, checked with its key; None for anyone else's credential."""
        try:
            header = jwt.get_unverified_header(token)
            payload = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidCredential(
                "the credential is neither a compact JWS nor JSON", ("credential",)
            ) from None
        credential = payload.get("vc", payload)
        issuer = credential.get("issuer") if isinstance(credential, dict) else None
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer_id != self.issuer_id:
            return None
        if header.get("kid") != self.keys.kid or header.get("alg") != "EdDSA":
            raise InvalidSignature("not signed with the bank's published key")
        try:
            jwt.decode(
                token,
                self.keys.public,
                algorithms=["EdDSA"],
                options={"verify_aud": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise InvalidSignature("the signature does not hold") from None
        status = credential.get("credentialStatus")
        index = int(status["statusListIndex"]) if isinstance(status, dict) else None
        return issuer_id, index is not None and index in set(self.revoked_indexes())

    def _deposit_revoked(self, issuer_id: UUID, credential_id: str) -> bool:
        try:
            index: CredentialIndex = self.bank.repository.get(
                CredentialIndex.create_id(issuer_id, credential_id)
            )
        except AggregateNotFoundError:  # never deposited: not revoked by the bank
            return False
        account = self.bank.credential_account(index)  # where it is now, after any merge
        return bool(account.outcome(index.outcome_id).status is OutcomeStatus.REVOKED)
