"""Account balances: total, available, redeemed; by framework level, outcome kind and category."""

from __future__ import annotations

from projections.base import Batch, Cursor, Tables, Writes, cc, iso


class BalancesView:
    name = "balances"
    tables = ("account_balances", "balance_breakdown")

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


def read_balances(
    cur: Cursor, learner_ids: list[str]
) -> dict[str, tuple[int, int, int, int, list[tuple[str, str, int]]]]:
    """learner id -> (account version, total, available, redeemed, [(dimension, bucket, cc)])."""
    if not learner_ids:
        return {}
    marks = ", ".join("?" for _ in learner_ids)
    cur.execute(
        "SELECT learner_id, account_version, total_cc, available_cc, redeemed_cc "  # noqa: S608
        f"FROM account_balances WHERE learner_id IN ({marks})",
        learner_ids,
    )
    found: dict[str, tuple[int, int, int, int, list[tuple[str, str, int]]]] = {
        r[0]: (r[1], r[2], r[3], r[4], []) for r in cur.fetchall()
    }
    cur.execute(
        "SELECT learner_id, dimension, bucket, credits_cc FROM balance_breakdown "  # noqa: S608
        f"WHERE learner_id IN ({marks}) ORDER BY learner_id, dimension, bucket",
        learner_ids,
    )
    for learner_id, dimension, bucket, credits in cur.fetchall():
        found[learner_id][4].append((dimension, bucket, credits))
    return found
