"""Verifiable exports: a learner's record as a CLR 2.0 ClrCredential, single outcomes as OB 3.0
AchievementCredentials, both signed by the bank as VC-JWT (EdDSA, ES256 or RS256:
``CREDITBANK_EXPORT_ALGORITHM``), with revocation through a Bitstring Status List served at a
public URL. Each AchievementCredential inside a CLR also carries its own eddsa-rdfc-2022 proof:
the CLR 2.0 schema takes embedded credentials as JSON objects only, and a verifier checks each
one as an OB 3.0 credential on its own.

An outside verifier needs only the bank's published keys: the ``kid`` in each header is a DID URL
(``did:web:<host>#<key id>``, resolved at ``/.well-known/did.json``), and the same keys are in
``/.well-known/jwks.json``; for revocation, the status list credential.
"""

from __future__ import annotations

import base64
import gzip
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt
from eventsourcing.application import AggregateNotFoundError

from application import data_integrity
from application.bank import CreditBank
from application.credentials import (
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    WARNING,
    Check,
    Finding,
    Report,
    Verification,
    inspect,
)
from application.signing import BankKeys, did_web
from application.status_lists import Verdict
from domain.credit_account import CreditAccount
from domain.errors import (
    DomainError,
    InvalidCredential,
    InvalidSignature,
    NotFound,
    RuleNotApplicable,
)
from domain.indexes import CredentialIndex
from domain.qualification import Qualification
from domain.records import Conversion, Outcome, Redemption
from domain.values import AwardStatus, OutcomeStatus

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


def _achievement_id(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'creditbank:/achievements/{key}')}"


def _association(kind: str, source: str, target: str) -> dict[str, str]:
    return {"type": "Association", "associationType": kind, "sourceId": source, "targetId": target}


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Exporter:
    def __init__(self, bank: CreditBank, keys: BankKeys, public_url: str) -> None:
        self.bank = bank
        self.keys = keys
        self.public_url = public_url.rstrip("/")
        self.issuer_id = self.public_url + "/issuer"
        self.did = did_web(self.public_url)  # the controller of the keys that sign exports
        self.status_list_url = self.status_list(1)  # the first list

    def status_list(self, number: int) -> str:
        """The URL of status list ``number`` (from 1): a list holds STATUS_LIST_BITS entries,
        and a new one starts when one fills."""
        return f"{self.public_url}/status/{number}"

    # -- building credentials -------------------------------------------------------------------
    def profile(self) -> dict[str, Any]:
        return {
            "id": self.issuer_id,
            "type": ["Profile"],
            "name": "Credit Bank 学分银行",
            # A page the bank serves (its profile, api/app.py): verifiers fetch ``url`` and
            # warn when it does not answer, as the bare public URL does not.
            "url": self.issuer_id,
        }

    def _subject_identity(self, learner_id: UUID) -> list[dict[str, Any]]:
        """The learner as the bank knows them: the account's own identifier, issued by the bank.
        Never a hash of the identity document: a national number has so little entropy (a birth
        date, a district, a serial) that a salted hash beside its salt gives it away."""
        return [
            {
                "type": "IdentityObject",
                "identityType": "identifier",
                "hashed": False,
                "identityHash": f"urn:uuid:{learner_id}",
            }
        ]

    def _achievement(self, o: Outcome) -> dict[str, Any]:
        achievement: dict[str, Any] = {
            "id": _achievement_id(str(o.id)),
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

    def _status_entry(self, subject_id: UUID) -> dict[str, Any]:
        number, index = divmod(self.status_index(subject_id), STATUS_LIST_BITS)
        url = self.status_list(number + 1)
        return {
            "id": f"{url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": url,
        }

    def _sign(self, credential: dict[str, Any]) -> str:
        valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
        issuer = credential["issuer"]
        claims = {
            "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
            "jti": credential["id"],
            "nbf": int(valid_from.timestamp()),
            "sub": credential["credentialSubject"].get("id"),
        }
        return self.keys.sign_jwt({**credential, **claims}, self.did)

    def _prove(self, credential: dict[str, Any]) -> dict[str, Any]:
        """The credential with an eddsa-rdfc-2022 proof by the bank's current Ed25519 key (the
        Data Integrity suite OB 3.0 names, whatever algorithm signs the enclosing VC-JWT).

        The verification method is ``<issuer id>#<Multikey>``: its controller is the issuer, as
        verifiers require (the 1EdTech validator's EmbeddedProofProbe refuses a key whose
        controller is not ``issuer.id``), and the key is in the URI itself."""
        key = self.keys.current("EdDSA")
        return data_integrity.sign(
            credential,
            key.private,  # type: ignore[arg-type]  # an EdDSA key is Ed25519
            f"{self.issuer_id}#{key.multikey}",
            credential["validFrom"],
            self.bank.standards_material,
        )

    # -- publishing the keys ----------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks(self.did)

    def did_document(self) -> dict[str, Any]:
        """The did:web document of ``self.did``: every key the bank has signed exports with,
        and the issuer URL its exports name as ``alsoKnownAs``."""
        return self.keys.did_document(self.did, [self.issuer_id])

    # -- conversions and awards -------------------------------------------------------------------
    def _conversion_achievement(self, c: Conversion) -> dict[str, Any]:
        target = self.bank.institution(c.target_institution_id)
        achievement: dict[str, Any] = {
            "id": _achievement_id(f"conversions/{c.id}"),
            "type": ["Achievement"],
            "name": f"{c.target_code} ({target.name})",
            "description": f"Credits converted into {target.name}'s {c.target_code} under "
            f"conversion rule {c.rule_id} version {c.rule_version}",
            "criteria": {"narrative": "Converted by the Credit Bank from recognised credits."},
            "achievementType": "Course",
            "humanCode": c.target_code,
            "creditsAvailable": float(c.credits),
        }
        return achievement

    def _conversion_credential(
        self, learner_id: UUID, c: Conversion, now: datetime
    ) -> dict[str, Any]:
        achievement = self._conversion_achievement(c)
        return {
            "@context": CONTEXTS_OB,
            "id": _achievement_id(f"exports/conversions/{c.id}"),
            "type": ["VerifiableCredential", "AchievementCredential"],
            "issuer": self.profile(),
            "validFrom": _z(now),
            "name": achievement["name"],
            "credentialSubject": {
                "id": f"urn:uuid:{learner_id}",
                "type": ["AchievementSubject"],
                "identifier": self._subject_identity(learner_id),
                "achievement": achievement,
                "creditsEarned": float(c.credits),
            },
        }

    def _award_achievement(self, qualification: Qualification) -> dict[str, Any]:
        awarding = self.bank.institution(qualification.awarding_institution_id)
        level = self.bank.framework.get_level(qualification.level)
        return {
            "id": _achievement_id(f"qualifications/{qualification.id}"),
            "type": ["Achievement"],
            "name": qualification.name,
            "description": f"{qualification.name}, awarded by {awarding.name} through the Credit "
            f"Bank ({level.name_en})",
            "criteria": {
                "narrative": f"{qualification.requirements.total_credits} credits meeting the "
                "qualification's requirements, counted by the Credit Bank"
            },
            "achievementType": "Diploma" if qualification.level >= 5 else "Certificate",
            "creditsAvailable": float(qualification.requirements.total_credits),
            "alignment": [
                {
                    "type": ["Alignment"],
                    "targetType": f"ext:{self.bank.framework.key.upper()}",
                    "targetName": level.name_en,
                    "targetCode": str(qualification.level),
                    "targetUrl": self.public_url + "/framework",
                }
            ],
        }

    def _award_credential(
        self, learner_id: UUID, award: Redemption, qualification: Qualification, now: datetime
    ) -> dict[str, Any]:
        return {
            "@context": CONTEXTS_OB,
            "id": _achievement_id(f"exports/awards/{award.id}"),
            "type": ["VerifiableCredential", "AchievementCredential"],
            "issuer": self.profile(),
            "validFrom": _z(now),
            "awardedDate": _z(award.redeemed_at),
            "name": qualification.name,
            "credentialSubject": {
                "id": f"urn:uuid:{learner_id}",
                "type": ["AchievementSubject"],
                "identifier": self._subject_identity(learner_id),
                "achievement": self._award_achievement(qualification),
                "creditsEarned": float(award.credits_counted),
            },
            "credentialStatus": self._status_entry(award.id),
        }

    def export_award(self, learner_id: UUID, award_id: UUID) -> str:
        """A standing award as an OB 3.0 AchievementCredential for its qualification, signed by
        the bank; its status list bit is set if the award is rescinded."""
        award = self.bank.account(learner_id).award(award_id)
        if award.status is not AwardStatus.STANDING:
            raise RuleNotApplicable(
                f"the award is {award.status.value}: only a standing award exports", ("awardId",)
            )
        qualification = self.bank.awarded_qualification(award)  # the terms it met
        return self._sign(self._award_credential(learner_id, award, qualification, self.bank.now()))

    def _holding_achievements(self, account: CreditAccount) -> dict[str, str]:
        """Holding id -> the id of the achievement it is part of (an outcome's, or a
        conversion's for each of its parts)."""
        found = {str(o.id): _achievement_id(str(o.id)) for o in account.outcomes.values()}
        for c in account.conversions.values():
            for h in c.holding_ids:
                found[str(h)] = _achievement_id(f"conversions/{c.id}")
        return found

    def transcript_credential(self, learner_id: UUID) -> dict[str, Any]:
        """The record as a CLR: recognised outcomes, active conversions and standing awards,
        each an AchievementCredential, linked by associations (a converted source is
        ``replacedBy`` the conversion; what an award counted ``isPartOf`` it)."""
        account = self.bank.account(learner_id)
        now = self.bank.now()
        outcomes = [o for o in account.outcomes.values() if o.status in EXPORTED]
        if not outcomes:  # the CLR 2.0 schema requires at least one verifiableCredential
            raise NotFound("the account has no recognised outcomes to export", ("learnerId",))
        inner = [self._outcome_credential(learner_id, o, now) for o in outcomes]
        conversions = [c for c in account.conversions.values() if c.active]
        inner += [self._conversion_credential(learner_id, c, now) for c in conversions]
        awards = [r for r in account.redemptions.values() if r.status is AwardStatus.STANDING]
        for award in awards:
            qualification = self.bank.awarded_qualification(award)
            inner.append(self._award_credential(learner_id, award, qualification, now))
        associations = [
            _association(
                "replacedBy", _achievement_id(str(source)), _achievement_id(f"conversions/{c.id}")
            )
            for c in conversions
            for source in c.consumed_from
        ]
        achievement_of = self._holding_achievements(account)
        for award in awards:
            target = _achievement_id(f"qualifications/{award.qualification_id}")
            parts = dict.fromkeys(
                achievement_of[h] for h in award.allocations if h in achievement_of
            )
            associations += [_association("isPartOf", part, target) for part in parts]
        subject: dict[str, Any] = {
            "id": f"urn:uuid:{learner_id}",
            "type": ["ClrSubject"],
            "identifier": self._subject_identity(learner_id),
            "verifiableCredential": [self._prove(c) for c in inner],
            "achievement": list(
                {
                    c["credentialSubject"]["achievement"]["id"]: c["credentialSubject"][
                        "achievement"
                    ]
                    for c in inner
                }.values()
            ),
        }
        if associations:
            subject["association"] = associations
        return {
            "@context": CONTEXTS_CLR,
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "ClrCredential"],
            "issuer": self.profile(),
            "validFrom": _z(now),
            "name": "Credit Bank transcript 学分银行成绩单",
            "description": f"{len(outcomes)} recognised outcome(s), {len(conversions)} "
            f"conversion(s), {len(awards)} award(s); account version {account.version}",
            "credentialSubject": subject,
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
        """Indexes of exported outcomes now revoked and exported awards now rescinded (read
        from the views; an entry's ``outcome_id`` is the exported outcome's or award's id)."""
        with self.bank.database.transaction(readonly=True) as cur:
            cur.execute(
                "SELECT s.status_index FROM status_list_entries s JOIN transcript_entries t "
                "ON t.outcome_id = s.outcome_id WHERE t.status = 'REVOKED' "
                "UNION SELECT s.status_index FROM status_list_entries s JOIN account_awards a "
                "ON a.award_id = s.outcome_id WHERE a.status = 'RESCINDED'"
            )
            return [int(r[0]) for r in cur.fetchall()]

    def status_lists(self) -> int:
        """How many status lists are in use (at least one)."""
        with self.bank.database.transaction(readonly=True) as cur:
            cur.execute("SELECT max(status_index) FROM status_list_entries")
            highest = cur.fetchone()[0]
        return 1 + int(highest or 0) // STATUS_LIST_BITS

    def status_list_credential(self, number: int = 1) -> str:
        """Status list ``number``: the bits of its entries whose subject is revoked (an
        outcome) or rescinded (an award)."""
        if not 1 <= number <= self.status_lists():
            raise NotFound(f"no status list {number}", ("number",))
        first = (number - 1) * STATUS_LIST_BITS
        url = self.status_list(number)
        bits = bytearray(STATUS_LIST_BITS // 8)
        for revoked in self.revoked_indexes():
            index = revoked - first
            if 0 <= index < STATUS_LIST_BITS:
                bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the first, leftmost bit
        encoded = "u" + base64.urlsafe_b64encode(
            gzip.compress(bytes(bits), mtime=0)
        ).decode().rstrip("=")
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            # A plain URL: the only context here (VC 2.0) does not define OB's Profile, and a
            # JSON-LD processor in safe mode refuses the undefined type.
            "issuer": self.issuer_id,
            "validFrom": _z(self.bank.now()),
            "credentialSubject": {
                "id": url + "#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encoded,
            },
        }
        return self._sign(credential)

    # -- verification -----------------------------------------------------------------------------
    def verify(self, token: str) -> tuple[str, bool]:
        """(issuer id, revoked) of a bank export (a VC-JWT) or of a registered issuer's
        credential (a VC-JWT, or JSON with a Data Integrity proof); raises the first error."""
        verification = self.inspect(token)
        if verification.report.errors:
            raise verification.report.errors[0][1]
        return str(verification.issuer), verification.revoked

    def inspect(self, token: str) -> Verification:
        """Every finding on a credential (application/credentials.inspect), with revocation: the
        bank's own status lists for its exports; for a registered issuer's credential, whether
        the bank revoked its deposit, and what the issuer's own status list says."""
        text = token.strip() if isinstance(token, str) else ""
        if not text:
            report = Report()
            report.errors.append(
                (
                    "CredentialParseProbe",
                    InvalidCredential("the credential is empty", ("credential",)),
                )
            )
            report.checks.append(Check("CredentialParseProbe", FAILED, "the credential is empty"))
            return Verification(report)
        if not text.startswith("{"):
            own = self._inspect_own_export(text)
            if own is not None:
                return own
        report = inspect(
            text, self.bank.institution_by_issuer, self.bank.now(), self.bank.standards_material
        )
        verified = report.verified
        if verified is None:
            return Verification(report)
        revoked = self._deposit_revoked(verified.issuer.id, verified.credential["id"])
        status = self.bank.status_lists.check(verified.issuer, verified.credential)
        if revoked:
            outcome, message = FAILED, "the bank revoked its deposit"
        elif status.verdict is Verdict.REVOKED:
            revoked, outcome, message = True, FAILED, f"revoked by its issuer: {status.reason}"
        elif status.verdict is Verdict.UNKNOWN and not status.transient:
            # What a deposit refuses (a list that cannot be trusted: another signer, another
            # host, too short, an unsupported method) is an error here too: one verdict.
            error = InvalidCredential(f"the credential's status cannot be trusted: {status.reason}")
            report.errors.append(("RevocationListProbe", error))
            outcome, message = FAILED, error.message
        elif status.verdict is Verdict.UNKNOWN:  # never taken as active: said, not hidden
            outcome, message = WARNING, f"status unknown: {status.reason}"
            report.warnings.append(Finding("RevocationListProbe", "WARNING", message))
        elif status.verdict is Verdict.NOT_APPLICABLE:
            outcome, message = NOT_APPLICABLE, status.reason
        else:
            outcome, message = PASSED, status.reason
        report.checks.append(Check("RevocationListProbe", outcome, message))
        return Verification(report, verified.issuer.issuer_uri, revoked)

    def _inspect_own_export(self, token: str) -> Verification | None:
        """The bank's own export, as a report; None for anyone else's credential."""
        report = Report()
        try:
            own = self._verify_own_export(token)
        except DomainError as exc:
            rule = (
                "CredentialParseProbe" if exc.code == "INVALID_CREDENTIAL" else "ExternalProofProbe"
            )
            report.errors.append((rule, exc))
            report.checks.append(Check(rule, FAILED, exc.message))
            return Verification(report)
        if own is None:
            return None
        issuer, revoked = own
        report.checks.extend(
            [
                Check("CredentialParseProbe", PASSED, "a compact JWS"),
                Check("IssuerProbe", PASSED, "issued by the bank itself"),
                Check("ExternalProofProbe", PASSED, "signed with the bank's published key"),
                Check(
                    "RevocationListProbe",
                    FAILED if revoked else PASSED,
                    "set in the bank's status list" if revoked else "not revoked",
                ),
            ]
        )
        return Verification(report, issuer, revoked)

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
        key = self.keys.find(str(header.get("kid", "")), self.did)
        if key is None or header.get("alg") != key.algorithm:
            raise InvalidSignature("not signed with the bank's published key")
        try:
            jwt.decode(
                token,
                key.public,
                algorithms=[key.algorithm],
                options={"verify_aud": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise InvalidSignature("the signature does not hold") from None
        return issuer_id, self._revoked_entry(credential.get("credentialStatus"))

    def _revoked_entry(self, status: Any) -> bool:
        """Whether a status entry of one of the bank's lists marks its subject revoked."""
        if not isinstance(status, dict):
            return False
        prefix = self.public_url + "/status/"
        url = str(status.get("statusListCredential", ""))
        if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
            return False
        number, index = int(url[len(prefix) :]), int(status["statusListIndex"])
        return (number - 1) * STATUS_LIST_BITS + index in set(self.revoked_indexes())

    def _deposit_revoked(self, issuer_id: UUID, credential_id: str) -> bool:
        try:
            index: CredentialIndex = self.bank.repository.get(
                CredentialIndex.create_id(issuer_id, credential_id)
            )
        except AggregateNotFoundError:  # never deposited: not revoked by the bank
            return False
        account = self.bank.credential_account(index)  # where it is now, after any merge
        return bool(account.outcome(index.outcome_id).status is OutcomeStatus.REVOKED)
