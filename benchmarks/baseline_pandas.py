"""A straightforward pandas + networkx implementation of the per-leader measures.

This is the reference the benchmark compares ``tribe_analysis.features.leader_measures``
against: the same definitions (docs/methods.md), written the way a researcher
would write them without the package. Parent authors and thread roots come from
dict lookups, each leader's events from one ``groupby("actor_id")``, tribes are
Python sets, and the interaction graph is a networkx graph built from the edge
list, with ``nx.ego_graph``, ``nx.density``, ``nx.clustering``,
``nx.effective_size`` and ``nx.constraint`` for the ego measures.

It only knows the whole period (no windows) and assumes every outgoing action is
observable. It does not import polars or tribe_analysis, so it is an
independent check: ``tests/test_baseline.py`` holds it to the values computed
by hand in ``tests/test_features.py``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from typing import NamedTuple

import networkx as nx
import pandas as pd

NAN = float("nan")

# Output columns, in leader_measures' order (counts, then each measure; rates with _num/_den).
COUNTS = [
    "posts",
    "replies",
    "shares",
    "reactions",
    "authored",
    "tribe_size",
    "interactions_out",
    "interactions_in",
    "conversation_posts",
]
RATES = [
    "see_coverage",
    "see_breadth",
    "comment_share",
    "reply_concentration",
    "reply_rate",
    "answer_rate",
    "conversation_share",
    "dialogic_loop_share",
    "promotion_share",
    "mention_share",
    "promoted_breadth",
    "broadcast_share",
    "unanswered_share",
    "alter_reciprocity",
]
MEASURES = [
    "participation_index",
    "parts_observed",
    *RATES,
    "comment_targets",
    "reply_latency_h",
    "participants",
    "depth",
    "focus_ratio",
    "conversation_yield",
    "give_receive_log_ratio",
    "ego_size",
    "ego_density",
    "ego_clustering",
    "ego_effective_size",
    "ego_constraint",
]


def pandas_measures(
    events: pd.DataFrame, leaders: Iterable[str], min_denominator: int = 10
) -> pd.DataFrame:
    """Per-leader measures of docs/methods.md over the whole period, one row per leader.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events: ``event_id``, ``timestamp``, ``actor_id``, ``action``,
        ``parent_id``, ``mentions`` (other columns are ignored; thread roots
        and parent authors are derived here again).
    leaders : iterable of str
        Leader ids.
    min_denominator : int
        A rate with a smaller denominator is NaN (null).

    Returns
    -------
    pandas.DataFrame
        ``leader_id``, the counts, then the measures (rates with ``_num`` and
        ``_den``), named as in ``leader_measures``; sorted by leader. NaN
        stands for null.
    """
    m = min_denominator
    ev = _threaded(events)
    directed, undirected = _graphs(ev)
    lookups = _Lookups(**_thread_aggregates(ev))
    leaders = sorted(set(leaders))
    own_groups = ev[ev["actor_id"].isin(leaders)].groupby("actor_id")
    active = set(own_groups.groups)

    rows = []
    for leader in leaders:
        own = _Own(own_groups.get_group(leader) if leader in active else ev.iloc[0:0])
        row = {"leader_id": leader}
        tribe, a_out, a_in = _activity_and_tribe(row, leader, own, directed)
        _seeing(row, leader, own, tribe, a_in, lookups, m)
        _commenting(row, leader, own, m)
        _responsiveness(row, leader, own, lookups, m)
        _conversations(row, own, lookups, m)
        _promoting(row, leader, own, tribe, m)
        _rate(row, "alter_reciprocity", len(a_out & a_in), len(tribe), m)
        n_out, n_in = row["interactions_out"], row["interactions_in"]
        row["give_receive_log_ratio"] = math.log((n_out + 1) / (n_in + 1))
        _index(row)
        row.update(_ego(undirected, leader))
        rows.append(row)

    columns = ["leader_id", *COUNTS]
    for name in MEASURES:
        columns.append(name)
        if name in RATES:
            columns += [f"{name}_num", f"{name}_den"]
    return pd.DataFrame(rows, columns=columns)


def _threaded(events: pd.DataFrame) -> pd.DataFrame:
    """The events with ``target``, ``thread``, ``depth`` and ``root_actor``, by dict lookups."""
    ev = events[["event_id", "timestamp", "actor_id", "action", "parent_id", "mentions"]].copy()
    ev["action"] = ev["action"].astype(str)
    author = dict(zip(ev["event_id"], ev["actor_id"], strict=True))
    parent = dict(zip(ev["event_id"], ev["parent_id"], strict=True))
    root, depth = _roots_and_depths(parent)
    ev["target"] = ev["parent_id"].map(author)  # author of the parent; NaN when not in the data
    ev["thread"] = ev["event_id"].map(root)
    ev["depth"] = ev["event_id"].map(depth)
    posts = ev[ev["action"] == "post"]
    post_author = dict(zip(posts["event_id"], posts["actor_id"], strict=True))
    ev["root_actor"] = ev["thread"].map(post_author)  # NaN when the root is outside the data
    return ev


def _graphs(ev: pd.DataFrame) -> tuple[nx.DiGraph, nx.Graph]:
    """The directed interaction graph (weights: counts) and its undirected sum."""
    acted = ev[ev["action"].isin(["reply", "share", "reaction"]) & ev["target"].notna()]
    acted = acted[["actor_id", "target"]].rename(columns={"actor_id": "source"})
    mentioning = ev[ev["action"].isin(["post", "reply"])][["actor_id", "mentions"]]
    mentioning = mentioning.assign(target=mentioning["mentions"].map(_mentioned))
    mentioned = (
        mentioning[mentioning["target"].map(len) > 0][["actor_id", "target"]]
        .rename(columns={"actor_id": "source"})
        .explode("target")
    )
    interactions = pd.concat([acted, mentioned], ignore_index=True)
    interactions = interactions[interactions["source"] != interactions["target"]]
    edges = interactions.groupby(["source", "target"]).size().reset_index(name="weight")
    directed = nx.from_pandas_edgelist(
        edges, "source", "target", edge_attr="weight", create_using=nx.DiGraph
    )
    undirected = nx.Graph()  # tie weight = interactions in both directions
    for u, v, w in directed.edges(data="weight"):
        if undirected.has_edge(u, v):
            undirected[u][v]["weight"] += w
        else:
            undirected.add_edge(u, v, weight=w)
    return directed, undirected


class _Lookups(NamedTuple):
    """What every leader's row reads besides the graph: thread-level aggregates and lookups."""

    participants_of: dict
    yield_of: dict
    depth_of: dict
    loop_threads: set
    first_level: pd.DataFrame
    comments_by_author: object
    commented: set
    addressed: pd.DataFrame
    addressed_to: object
    addressees: set
    posts_by_actor: dict


def _thread_aggregates(ev: pd.DataFrame) -> dict:
    """Per thread (others = accounts other than the root's author), comments and addressees."""
    replies = ev[ev["action"] == "reply"]
    posts = ev[ev["action"] == "post"]
    by_others = replies[replies["actor_id"] != replies["root_actor"]]
    author_answers = replies[
        (replies["actor_id"] == replies["root_actor"])
        & (replies["target"] != replies["root_actor"])
    ]
    # first-level comments on root posts, by the post's author
    first_level = replies[replies["parent_id"].isin(set(posts["event_id"]))]
    first_level = first_level[first_level["actor_id"] != first_level["target"]]
    comments_by_author = first_level.groupby("target")
    # every reply by another account addressed to an account, anywhere
    addressed = replies[replies["target"].notna() & (replies["actor_id"] != replies["target"])]
    addressed_to = addressed.groupby("target")
    return {
        "participants_of": by_others.groupby("thread")["actor_id"].nunique().to_dict(),
        "yield_of": by_others.groupby("thread").size().to_dict(),
        "depth_of": replies.groupby("thread")["depth"].max().to_dict(),
        "loop_threads": set(author_answers["thread"]),
        "first_level": first_level,
        "comments_by_author": comments_by_author,
        "commented": set(comments_by_author.groups),
        "addressed": addressed,
        "addressed_to": addressed_to,
        "addressees": set(addressed_to.groups),
        "posts_by_actor": posts.groupby("actor_id")["event_id"].apply(list).to_dict(),
    }


class _Own:
    """A leader's own events, and its posts, replies and shares."""

    def __init__(self, own: pd.DataFrame) -> None:
        self.all = own
        self.action = own["action"]
        self.posts = own[self.action == "post"]
        self.replies = own[self.action == "reply"]
        self.shares = own[self.action == "share"]
        self.authored = len(self.posts) + len(self.replies) + len(self.shares)


def _activity_and_tribe(
    row: dict, leader: str, own: _Own, directed: nx.DiGraph
) -> tuple[set, set, set]:
    """Counts by action; the tribe from the directed graph (accounts L acted on, that acted on L)."""
    row["posts"] = len(own.posts)
    row["replies"] = len(own.replies)
    row["shares"] = len(own.shares)
    row["reactions"] = int((own.action == "reaction").sum())
    row["authored"] = own.authored
    if leader in directed:
        a_out = set(directed.successors(leader))
        a_in = set(directed.predecessors(leader))
        n_out = directed.out_degree(leader, weight="weight")
        n_in = directed.in_degree(leader, weight="weight")
    else:
        a_out, a_in, n_out, n_in = set(), set(), 0, 0
    tribe = a_out | a_in
    row["tribe_size"] = len(tribe)
    row["interactions_out"] = n_out
    row["interactions_in"] = n_in
    return tribe, a_out, a_in


def _seeing(
    row: dict, leader: str, own: _Own, tribe: set, a_in: set, lookups: _Lookups, m: int
) -> None:
    """Tribe posts engaged (coverage); of the members who acted on L, those it engaged (breadth)."""
    engaging = own.all[own.action.isin(["reply", "share", "reaction"])]
    engaged = set(engaging["parent_id"].dropna())
    tribe_posts = [p for alter in tribe for p in lookups.posts_by_actor.get(alter, [])]
    seen_posts = sum(p in engaged for p in tribe_posts)
    _rate(row, "see_coverage", seen_posts, len(tribe_posts), m)
    seen_alters = engaging["target"][engaging["target"].notna() & (engaging["target"] != leader)]
    _rate(row, "see_breadth", len(set(seen_alters) & a_in), len(a_in), m)


def _commenting(row: dict, leader: str, own: _Own, m: int) -> None:
    """Comments in others' threads (an unknown root or target counts as someone else's)."""
    replies = own.replies
    comment_n = int(((replies["root_actor"] != leader) & (replies["target"] != leader)).sum())
    _rate(row, "comment_share", comment_n, own.authored, m)
    to_others = replies["target"][replies["target"].notna() & (replies["target"] != leader)]
    row["comment_targets"] = to_others.nunique()
    top5 = int(to_others.value_counts().head(5).sum())
    _rate(row, "reply_concentration", top5, len(to_others), m)


def _responsiveness(row: dict, leader: str, own: _Own, lookups: _Lookups, m: int) -> None:
    """First-level comments by others on L's posts and L's first direct answer; every reply to L."""
    lk = lookups
    comments = (
        lk.comments_by_author.get_group(leader)
        if leader in lk.commented
        else lk.first_level.iloc[0:0]
    )
    first_answer = own.replies.groupby("parent_id")["timestamp"].min().to_dict()
    answered_at = pd.to_datetime(comments["event_id"].map(first_answer), utc=True)
    latency_h = (answered_at - comments["timestamp"]).dt.total_seconds() / 3600
    _rate(row, "reply_rate", int(answered_at.notna().sum()), len(comments), m)
    row["reply_latency_h"] = latency_h.median() if len(comments) >= m else NAN
    to_leader = (
        lk.addressed_to.get_group(leader) if leader in lk.addressees else lk.addressed.iloc[0:0]
    )
    answered = to_leader["event_id"].isin(set(own.replies["parent_id"].dropna()))
    _rate(row, "answer_rate", int(answered.sum()), len(to_leader), m)


def _conversations(row: dict, own: _Own, lookups: _Lookups, m: int) -> None:
    """Conversations on L's root posts."""
    lk = lookups
    participants, depths, focus, yields, drew, loops = [], [], [], [], 0, 0
    discussions = started = 0
    for post in own.posts["event_id"]:
        n_part = lk.participants_of.get(post, 0)
        n_yield = lk.yield_of.get(post, 0)
        participants.append(n_part)
        yields.append(n_yield)
        depths.append(lk.depth_of.get(post, 0))
        if n_part > 0:
            focus.append(n_yield / n_part)
        if n_yield > 0:
            drew += 1
            loops += post in lk.loop_threads
        if n_part >= 2:
            discussions += 1
            started += post in lk.loop_threads
    n_posts = len(own.posts)
    row["conversation_posts"] = n_posts
    enough = n_posts >= m and n_posts > 0
    row["participants"] = float(statistics.median(participants)) if enough else NAN
    row["depth"] = float(statistics.median(depths)) if enough else NAN
    row["focus_ratio"] = float(statistics.median(focus)) if enough and focus else NAN
    row["conversation_yield"] = float(statistics.median(yields)) if enough else NAN
    _rate(row, "conversation_share", started, discussions, m)
    _rate(row, "dialogic_loop_share", loops, drew, m)
    _rate(row, "unanswered_share", drew - loops, drew, m)


def _promoting(row: dict, leader: str, own: _Own, tribe: set, m: int) -> None:
    """Promoting and broadcasting (a share of unknown content counts as promoting another)."""
    posts, shares = own.posts, own.shares
    mentioned_others = [set(_mentioned(names)) - {leader} for names in posts["mentions"]]
    posts_mentioning = sum(bool(names) for names in mentioned_others)
    shares_of_others = int((shares["target"] != leader).sum())
    promote_den = len(posts) + len(shares)
    _rate(row, "promotion_share", shares_of_others + posts_mentioning, promote_den, m)
    _rate(row, "mention_share", posts_mentioning, len(posts), m)
    shared = shares["target"][shares["target"].notna() & (shares["target"] != leader)]
    promoted = set(shared).union(*mentioned_others)
    _rate(row, "promoted_breadth", len(promoted), len(tribe), m)
    _rate(row, "broadcast_share", len(posts) - posts_mentioning, own.authored, m)


def _index(row: dict) -> None:
    """Participation index: the mean of the observed parts, given three or more."""
    parts = [
        row["see_breadth"],
        row["comment_share"],
        row["conversation_share"],
        row["answer_rate"],
        row["mention_share"],
    ]
    parts = [x for x in parts if not math.isnan(x)]
    row["parts_observed"] = len(parts)
    row["participation_index"] = sum(parts) / len(parts) if len(parts) >= 3 else NAN


def _mentioned(names) -> list[str]:
    """Distinct accounts of a mentions list, sorted (an event mentions an account once)."""
    if names is None:
        return []
    return sorted({name for name in names if isinstance(name, str)})


def _roots_and_depths(parent: dict) -> tuple[dict, dict]:
    """Thread root and depth of every event by walking up ``parent`` (memoised).

    A post is its own root (depth 0). A chain whose top parent is outside the
    data takes that parent as its root: the top known reply has depth 1.
    """
    root: dict = {}
    depth: dict = {}
    for event in parent:
        path = []
        node = event
        while node not in depth:
            up = parent[node]
            if not isinstance(up, str):  # a root post
                root[node], depth[node] = node, 0
                break
            if up not in parent:  # parent outside the data: it is the root
                root[node], depth[node] = up, 1
                break
            path.append(node)
            node = up
        for node in reversed(path):
            root[node] = root[parent[node]]
            depth[node] = depth[parent[node]] + 1
    return root, depth


def _rate(row: dict, name: str, num: int, den: int, m: int) -> None:
    row[f"{name}_num"] = int(num)
    row[f"{name}_den"] = int(den)
    row[name] = num / den if den >= m and den > 0 else NAN


def _ego(graph: nx.Graph, leader: str) -> dict:
    """Ego measures of ``leader`` on the undirected weighted interaction graph."""
    if leader not in graph or graph.degree(leader) == 0:
        return {
            "ego_size": 0,
            "ego_density": NAN,
            "ego_clustering": NAN,
            "ego_effective_size": NAN,
            "ego_constraint": NAN,
        }
    ego = nx.ego_graph(graph, leader)
    k = ego.number_of_nodes() - 1
    alters = ego.subgraph(node for node in ego if node != leader)
    return {
        "ego_size": k,
        "ego_density": nx.density(alters) if k >= 2 else NAN,
        "ego_clustering": nx.clustering(graph, leader) if k >= 2 else NAN,
        "ego_effective_size": nx.effective_size(ego, nodes=[leader])[leader],
        # Burt's constraint within the ego network, tie strength = interaction counts
        # (as tribe_analysis.graph.ego_measures). nodes=None takes networkx's sparse-matrix
        # path; nodes=[leader] is pure Python and cubic in the ego size.
        "ego_constraint": nx.constraint(ego, weight="weight")[leader],
    }
