"""Account balances: total, available, redeemed; by framework level, outcome kind and category."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from projections.base import Batch, Cursor, Tables, Writes, cc, credits, iso


class BalancesView:
    name = "balances"
    tables = ("account_balances", "balance_breakdown")
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        for learner_id, account in batch.accounts().items():
            b = account.balance()
            cur.upsert(
                t("account_balances"),
                ("learner_id",),
                {
                    "learner_id": learner_id,
                    "account_version": account.version,
                    "total_cc": cc(b.total),
                    "available_cc": cc(b.available),
                    "redeemed_cc": cc(b.redeemed),
                    "updated_at": iso(account.modified_on),
                },
            )
            buckets = (
                [("level", str(k), v) for k, v in b.by_level.items()]
                + [("kind", k.value, v) for k, v in b.by_kind.items()]
                + [("category", k, v) for k, v in b.by_category.items()]
            )
            cur.replace(
                t("balance_breakdown"),
                "learner_id",
                learner_id,
                [
                    {
                        "learner_id": learner_id,
                        "dimension": dimension,
                        "bucket": bucket,
                        "credits_cc": cc(credits),
                    }
                    for dimension, bucket, credits in buckets
                ],
            )


@dataclass(frozen=True, kw_only=True)
class BalanceRow:
    version: int  # the account's version the row reflects
    total: Decimal
    available: Decimal
    redeemed: Decimal
    by_level: dict[int, Decimal] = field(default_factory=dict)
    by_kind: dict[str, Decimal] = field(default_factory=dict)
    by_category: dict[str, Decimal] = field(default_factory=dict)


def read_balances(cur: Cursor, learner_ids: list[str]) -> dict[str, BalanceRow]:
    if not learner_ids:
        return {}
    marks = ", ".join("?" for _ in learner_ids)
    cur.execute(
        "SELECT learner_id, account_version, total_cc, available_cc, redeemed_cc "  # noqa: S608
        f"FROM account_balances WHERE learner_id IN ({marks})",
        learner_ids,
    )
    found = {
        str(r[0]): BalanceRow(
            version=int(r[1]), total=credits(r[2]), available=credits(r[3]), redeemed=credits(r[4])
        )
        for r in cur.fetchall()
    }
    cur.execute(
        "SELECT learner_id, dimension, bucket, credits_cc FROM balance_breakdown "  # noqa: S608
        f"WHERE learner_id IN ({marks}) ORDER BY learner_id, dimension, bucket",
        learner_ids,
    )
    for learner_id, dimension, bucket, amount in cur.fetchall():
        row = found[str(learner_id)]
        if dimension == "level":
            row.by_level[int(bucket)] = credits(amount)
        elif dimension == "kind":
            row.by_kind[str(bucket)] = credits(amount)
        else:
            row.by_category[str(bucket)] = credits(amount)
    return found
