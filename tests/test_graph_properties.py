"""Hypothesis properties of the interaction graph (``graph``, ``graph_export.tribe_edges``).

Against oracles written from the documented rules, from the raw events (not from the
derived ``target_actor_id``):

- every edge count is the events counted by hand: a reply, reaction or share goes to
  the author of its parent (in the data, else the author the platform gave, else
  nowhere); posts and replies mention each listed account once; shares' and
  reactions' mentions and every self-interaction count nothing;
- the leaders' tribe subgraph is exactly the leaders, every account with an edge to or
  from one of them, and every edge among those (networkx's induced subgraph);
- the edge list does not depend on the row order.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import hypothesis
import networkx as nx
import polars as pl
from hypothesis import strategies as st

from tribe_analysis import graph as gr
from tribe_analysis.events import complete_events
from tribe_analysis.graph_export import tribe_edges

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ACTORS = ["ann", "bob", "cid", "1", " dan", "é<&>"]


@st.composite
def raw_events(draw: st.DrawFn) -> list[dict]:
    """Events whose parents are earlier events or outside ids, with any mentions."""
    rows: list[dict] = []
    for i in range(draw(st.integers(1, 40))):
        action = draw(st.sampled_from(["post", "reply", "share", "reaction"])) if i else "post"
        parent = given = None
        if action != "post":
            parent = draw(st.sampled_from([*(f"e{j}" for j in range(i)), "gone", "away"]))
            given = draw(st.sampled_from([None, *ACTORS]))  # as a platform may name it
        rows.append(
            {
                "event_id": f"e{i}",
                "timestamp": T0 + timedelta(minutes=draw(st.integers(0, 30))),
                "actor_id": draw(st.sampled_from(ACTORS)),
                "action": action,
                "parent_id": parent,
                "target_actor_id": given,
                "mentions": draw(st.lists(st.sampled_from([*ACTORS, "zed"]), max_size=3)),
            }
        )
    return rows


def by_hand(rows: list[dict]) -> dict[tuple[str, str], Counter]:
    author = {row["event_id"]: row["actor_id"] for row in rows}
    counts: dict[tuple[str, str], Counter] = {}
    for row in rows:
        actor, action = row["actor_id"], row["action"]
        hits = []
        if action != "post":
            target = author.get(row["parent_id"], row["target_actor_id"])
            if target is not None:
                hits.append((target, action))
        if action in ("post", "reply"):
            hits += [(account, "mention") for account in set(row["mentions"])]
        for target, kind in hits:
            if target != actor:
                counts.setdefault((actor, target), Counter())[kind] += 1
    return counts


def events_of(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema_overrides={
            "mentions": pl.List(pl.String),
            "parent_id": pl.String,
            "target_actor_id": pl.String,
        },
    )
    return complete_events(frame)


@hypothesis.settings(max_examples=100, deadline=None)
@hypothesis.given(rows=raw_events(), data=st.data())
def test_edge_counts_are_the_events_counted_by_hand(rows, data) -> None:
    edges = gr.edge_list(events_of(rows))
    want = by_hand(rows)
    assert edges.schema == gr.EDGE_SCHEMA
    assert edges.select("source", "target").rows() == sorted(want)
    for row in edges.iter_rows(named=True):
        counts = want[(row["source"], row["target"])]
        assert {k: row[k] for k in gr.INTERACTIONS} == {k: counts[k] for k in gr.INTERACTIONS}
        assert row["weight"] == sum(counts.values())
    shuffled = data.draw(st.permutations(rows))
    assert gr.edge_list(events_of(shuffled)).equals(edges)


@st.composite
def edge_lists(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    accounts = [f"a{i}" for i in range(draw(st.integers(2, 12)))]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(accounts), st.sampled_from(accounts)),
            max_size=40,
            unique=True,
        )
    )
    rows = [(s, t, 1, 0, 0, w, 1 + w) for w, (s, t) in enumerate(pairs) if s != t]
    leaders = draw(st.lists(st.sampled_from([*accounts, "nobody"]), max_size=4, unique=True))
    return pl.DataFrame(rows, schema=gr.EDGE_SCHEMA, orient="row"), leaders


@hypothesis.settings(max_examples=100, deadline=None)
@hypothesis.given(case=edge_lists())
def test_tribe_subgraph_is_the_induced_subgraph_of_leaders_and_alters(case) -> None:
    edges, leaders = case
    whole = nx.DiGraph()
    whole.add_edges_from(
        (s, t, {"w": w}) for s, t, w in edges.select("source", "target", "weight").rows()
    )
    near = set(leaders)
    for leader in leaders:
        if leader in whole:
            near |= set(whole.successors(leader)) | set(whole.predecessors(leader))
    sub = tribe_edges(edges, leaders)
    want = sorted((s, t, d["w"]) for s, t, d in whole.subgraph(near).edges(data=True))
    assert sub.select("source", "target", "weight").rows() == want
    assert sub.schema == edges.schema
