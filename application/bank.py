"""The CreditBank application: one eventsourcing Application (one log, one set of transactions,
``application.base``) whose commands are grouped by area in ``application.commands`` and whose
event-computed reads are in ``application.reads``."""

from __future__ import annotations

from application.base import Listed, Saved
from application.reads import AccountEvent, AccountReads

__all__ = ["AccountEvent", "CreditBank", "Listed", "Saved"]


class CreditBank(AccountReads):
    """Institutions, learners, the catalogue and accounts, in one application."""
