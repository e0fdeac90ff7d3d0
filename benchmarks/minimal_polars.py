"""The yardstick: a minimal polars script computing the five measures of naive_pandas.py.

Run: ``.venv/bin/python benchmarks/minimal_polars.py INPUT [INPUT ...] --out DIR``
(INPUT: canonical events as Parquet files, or folders of them).

Read + measures only, as a competent polars user would write it to be fast: lazy
queries over ``scan_parquet`` (only the columns they need) run by the streaming
engine, collected three times (the leaders, their own events, the replies to
their posts), no validation, no thread derivation, no graph, no profiles. It
writes ``DIR/measures.csv`` (one row per leader). Definitions: see
``benchmarks/naive_pandas.py``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

LEADERS = 20
MIN_DENOMINATOR = 5
COLUMNS = [
    "event_id",
    "actor_id",
    "action",
    "parent_id",
    "thread_id",
    "target_actor_id",
    "mentions",
]

ACTION = pl.col("action")
POST, REPLY, SHARE = ACTION == "post", ACTION == "reply", ACTION == "share"
TO_SELF = (pl.col("target_actor_id") == pl.col("leader_id")).fill_null(False)


def top_leaders(lf: pl.LazyFrame, n: int = LEADERS) -> pl.LazyFrame:
    """The ``n`` accounts with the largest distinct audience (then authored actions, then id)."""
    audience = (
        lf.filter(ACTION.is_in(["reply", "share", "reaction"]))
        .filter(pl.col("target_actor_id") != pl.col("actor_id"))  # drops null targets too
        .group_by(pl.col("target_actor_id").alias("leader_id"))
        .agg(pl.col("actor_id").n_unique().alias("audience"))
    )
    authored = (
        lf.filter(ACTION.is_in(["post", "reply", "share"]))
        .group_by(pl.col("actor_id").alias("leader_id"))
        .agg(pl.len().alias("authored"))
    )
    return (
        audience.join(authored, on="leader_id")
        .sort(["audience", "authored", "leader_id"], descending=[True, True, False])
        .head(n)
    )


def leader_measures(lf: pl.LazyFrame, n: int = LEADERS) -> pl.DataFrame:
    """The five measures of the top ``n`` leaders of ``lf``, one row per leader by rank."""
    lf = lf.select(COLUMNS)
    leaders = top_leaders(lf, n).collect(engine="streaming").lazy()
    own = lf.join(
        leaders.select("leader_id"), left_on="actor_id", right_on="leader_id"
    ).with_columns(pl.col("actor_id").alias("leader_id"))
    roots = lf.filter(POST).select(
        pl.col("event_id").alias("thread_id"), pl.col("actor_id").alias("root_actor")
    )
    own = own.join(roots, on="thread_id", how="left").collect(engine="streaming").lazy()
    counts = own.group_by("leader_id").agg(
        POST.sum().alias("posts"),
        (
            REPLY
            & (pl.col("root_actor").is_null() | (pl.col("root_actor") != pl.col("leader_id")))
            & ~TO_SELF
        )
        .sum()
        .alias("comment_share_num"),
        ((SHARE & ~TO_SELF) | (POST & _mentions_others())).sum().alias("promotion_share_num"),
        (POST | SHARE).sum().alias("promotion_share_den"),
    )
    own_posts = own.filter(POST).select("leader_id", pl.col("event_id").alias("parent_id"))
    answers = own.filter(REPLY).select("leader_id", pl.col("parent_id").alias("event_id")).unique()
    replies = (
        lf.filter(REPLY)
        .select("event_id", "actor_id", "parent_id")
        .join(own_posts, on="parent_id")
        .filter(pl.col("actor_id") != pl.col("leader_id"))
        .join(
            answers.with_columns(pl.lit(True).alias("answered")),
            on=["leader_id", "event_id"],
            how="left",
        )
        .group_by("leader_id")
        .agg(
            pl.col("answered").count().alias("reply_rate_num"),
            pl.len().alias("reply_rate_den"),
        )
    )
    table = (
        leaders.join(counts, on="leader_id", how="left", maintain_order="left")
        .join(replies, on="leader_id", how="left", maintain_order="left")
        .with_columns(pl.col("authored").alias("comment_share_den"))
        .fill_null(0)
        .collect(engine="streaming")
    )
    return table.select(
        "leader_id",
        "audience",
        "authored",
        "posts",
        *_rate("comment_share"),
        *_rate("reply_rate"),
        *_rate("promotion_share"),
    )


def _mentions_others() -> pl.Expr:
    """True where the mentions list holds an account other than the leader."""
    others = pl.col("mentions").list.set_difference(pl.concat_list("leader_id"))
    return (others.list.len() > 0).fill_null(False)


def _rate(name: str) -> list[pl.Expr]:
    num, den = pl.col(f"{name}_num"), pl.col(f"{name}_den")
    rate = pl.when(den >= MIN_DENOMINATOR).then(num / den).otherwise(None).alias(name)
    return [rate, num.cast(pl.Int64), den.cast(pl.Int64)]


def main(argv: Sequence[str] | None = None) -> None:
    """Scan the inputs, measure the top leaders, write ``measures.csv`` into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="Parquet files or folders")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--leaders", type=int, default=LEADERS, help="how many leaders")
    args = parser.parse_args(argv)
    table = leader_measures(pl.scan_parquet(args.inputs), args.leaders)
    args.out.mkdir(parents=True, exist_ok=True)
    table.write_csv(args.out / "measures.csv")
    print(f"{table.height} leaders -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
