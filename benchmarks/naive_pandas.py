"""What a researcher would write with pandas + networkx instead of ``tribe-analysis profile``.

Run: ``.venv/bin/python benchmarks/naive_pandas.py INPUT [INPUT ...] --out DIR``
(INPUT: canonical events as Parquet files, or folders of them).

It reads the events with pandas, picks the leaders (the top 20 accounts by
distinct audience), computes five per-leader measures, builds the directed
weighted interaction graph with networkx, writes it with
``networkx.write_graphml`` (``DIR/graph.graphml``) and writes the measures as
``DIR/measures.csv``. No validation, no thread derivation: the canonical
``thread_id`` and ``target_actor_id`` columns are used as given. The style is
that of ``benchmarks/baseline_pandas.py`` (dict lookups, one ``groupby`` per
actor, a networkx graph from the pandas edge list).

The measures follow the package's definitions (docs/methods.md; a rate is NaN
below :data:`MIN_DENOMINATOR`), so the numbers can be checked against
``tribe_analysis.features.leader_measures`` and ``benchmarks/minimal_polars.py``:

- ``posts``: the leader's posts.
- ``comment_share``: the leader's replies in threads rooted by another account
  (or of unknown root) that do not answer the leader itself, ÷ authored
  (posts + replies + shares).
- ``reply_rate``: first-level replies by others on the leader's posts that the
  leader answered with a reply, ÷ those replies.
- ``promotion_share``: shares of content not the leader's own + posts that
  mention another account, ÷ posts + shares.
- ``audience``: distinct other accounts that replied to, shared or reacted to
  the leader.

Leaders are ranked by audience, then authored actions, then id (as
``tribe_analysis.features.select_leaders(..., evidence=False)``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import pandas as pd

LEADERS = 20
MIN_DENOMINATOR = 5
ENGAGE = ["reply", "share", "reaction"]
AUTHORED = ["post", "reply", "share"]
COLUMNS = [
    "leader_id",
    "audience",
    "authored",
    "posts",
    *(f"{rate}{part}" for rate in ("comment_share", "reply_rate", "promotion_share")
      for part in ("", "_num", "_den")),
]  # fmt: skip


def read_events(inputs: Sequence[Path]) -> pd.DataFrame:
    """All events of the Parquet files (pandas reads a folder as one dataset)."""
    frames = [pd.read_parquet(path) for path in inputs]
    events = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    events["action"] = events["action"].astype(str)
    return events


def top_leaders(events: pd.DataFrame, n: int = LEADERS) -> pd.DataFrame:
    """The ``n`` accounts with the largest distinct audience: ``leader_id``, ``audience``, ``authored``."""
    target, actor = events["target_actor_id"], events["actor_id"]
    engaged = events[events["action"].isin(ENGAGE) & target.notna() & (target != actor)]
    audience = engaged.groupby("target_actor_id")["actor_id"].nunique().rename("audience")
    authored = events[events["action"].isin(AUTHORED)].groupby("actor_id").size()
    table = pd.concat([audience, authored.rename("authored")], axis=1, join="inner")
    table = table.rename_axis("leader_id").reset_index()
    table = table.sort_values(
        ["audience", "authored", "leader_id"], ascending=[False, False, True], kind="stable"
    )
    return table.head(n).reset_index(drop=True)


def leader_measures(events: pd.DataFrame, leaders: pd.DataFrame) -> pd.DataFrame:
    """The five measures of each leader (one row per leader, in the order of ``leaders``)."""
    posts = events[events["action"] == "post"]
    post_author = dict(zip(posts["event_id"], posts["actor_id"], strict=True))
    replies = events[events["action"] == "reply"]
    # first-level replies by others, keyed by the author of the post they reply to
    on_posts = replies.assign(post_author=replies["parent_id"].map(post_author))
    on_posts = on_posts[
        on_posts["post_author"].notna() & (on_posts["post_author"] != on_posts["actor_id"])
    ]
    comments_to = dict(list(on_posts.groupby("post_author")["event_id"]))
    own_events = dict(
        list(events[events["actor_id"].isin(leaders["leader_id"])].groupby("actor_id"))
    )

    rows = []
    for leader, audience, authored in leaders[["leader_id", "audience", "authored"]].itertuples(
        index=False
    ):
        own = own_events[leader]
        own_posts = own[own["action"] == "post"]
        own_replies = own[own["action"] == "reply"]
        own_shares = own[own["action"] == "share"]
        row = {"leader_id": leader, "audience": audience, "authored": authored}
        row["posts"] = len(own_posts)

        root = own_replies["thread_id"].map(post_author)
        to_self = own_replies["target_actor_id"].notna() & (
            own_replies["target_actor_id"] == leader
        )
        comment_n = ((root.isna() | (root != leader)) & ~to_self).sum()
        _rate(row, "comment_share", comment_n, authored)

        comments = comments_to.get(leader, pd.Series(dtype=object))
        answered = set(own_replies["parent_id"].dropna())
        _rate(row, "reply_rate", comments.isin(answered).sum(), len(comments))

        shared_own = own_shares["target_actor_id"].notna() & (
            own_shares["target_actor_id"] == leader
        )
        mentioning = sum(bool(_others(names, leader)) for names in own_posts["mentions"])
        _rate(
            row,
            "promotion_share",
            (~shared_own).sum() + mentioning,
            len(own_posts) + len(own_shares),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _others(names: object, leader: str) -> set[str]:
    """Accounts of a mentions list other than ``leader``."""
    return set() if names is None else {name for name in names if name != leader}


def _rate(row: dict, name: str, num: int, den: int) -> None:
    row[f"{name}_num"], row[f"{name}_den"] = int(num), int(den)
    row[name] = num / den if den >= MIN_DENOMINATOR else float("nan")


def interaction_graph(events: pd.DataFrame) -> nx.DiGraph:
    """Directed graph actor → target, weighted by replies, shares, reactions and mentions.

    Replies, shares and reactions go to the author of the parent; posts and
    replies count each account they mention once; self-interactions are dropped.
    """
    acted = events[events["action"].isin(ENGAGE) & events["target_actor_id"].notna()]
    acted = acted[["actor_id", "target_actor_id"]].set_axis(["source", "target"], axis=1)
    mentioning = events[events["action"].isin(["post", "reply"])]
    mentioned = mentioning[["event_id", "actor_id", "mentions"]].explode("mentions").dropna()
    mentioned = mentioned.drop_duplicates(["event_id", "mentions"])
    mentioned = mentioned[["actor_id", "mentions"]].set_axis(["source", "target"], axis=1)
    pairs = pd.concat([acted, mentioned], ignore_index=True)
    pairs = pairs[pairs["source"] != pairs["target"]]
    edges = pairs.groupby(["source", "target"]).size().reset_index(name="weight")
    return nx.from_pandas_edgelist(
        edges, "source", "target", edge_attr="weight", create_using=nx.DiGraph
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Read, choose leaders, measure, write ``measures.csv`` and ``graph.graphml`` into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="Parquet files or folders")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--leaders", type=int, default=LEADERS, help="how many leaders")
    args = parser.parse_args(argv)
    events = read_events(args.inputs)
    leaders = top_leaders(events, args.leaders)
    table = leader_measures(events, leaders)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "measures.csv", index=False)
    nx.write_graphml(interaction_graph(events), args.out / "graph.graphml")
    print(f"{len(events):,} events, {len(table)} leaders -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
