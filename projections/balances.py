"""Account balances: total, available, redeemed; by framework level, outcome kind and category."""

from __future__ import annotations

from projections.base import Batch, Cursor, Tables, cc, iso, upsert


class BalancesView:
    name = "balances"
    tables = ("account_balances", "balance_breakdown")

    def apply(self, batch: Batch, cur: Cursor, t: Tables) -> None:
        for learner_id, account in batch.accounts().items():
            b = account.balance()
            upsert(
                cur,
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
            cur.execute(
                f"DELETE FROM {t('balance_breakdown')} WHERE learner_id = ?",  # noqa: S608
                [str(learner_id)],
            )
            buckets = (
                [("level", str(k), v) for k, v in b.by_level.items()]
                + [("kind", k.value, v) for k, v in b.by_kind.items()]
                + [("category", k, v) for k, v in b.by_category.items()]
            )
            for dimension, bucket, credits in buckets:
                cur.execute(
                    f"INSERT INTO {t('balance_breakdown')} "  # noqa: S608
                    "(learner_id, dimension, bucket, credits_cc) VALUES (?, ?, ?, ?)",
                    [str(learner_id), dimension, bucket, cc(credits)],
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
