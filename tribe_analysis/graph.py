"""The interaction graph: directed edge list, networkx views, ego networks, export.

Who acted on whom, aggregated from canonical events (DESIGN.md sections 4, 5, 10).
An edge ``source -> target`` counts the interactions ``source`` directed at
``target``:

============ ====================================================================
column       counts
============ ====================================================================
``reply``    replies by ``source`` to content authored by ``target``
``reaction`` reactions by ``source`` to content authored by ``target``
``share``    shares by ``source`` of content authored by ``target``
``mention``  posts and replies by ``source`` that mention ``target``
``weight``   all of the above: ``reply + reaction + share + mention``
============ ====================================================================

Self-interactions (self-replies, sharing or mentioning oneself) never count as
engagement and make no edge. The edge list is pure polars over a lazy frame; the
ego-network measures work on the ties near each leader only (DESIGN.md section
10) and build no networkx graph; :func:`to_networkx` and :func:`ego_networks`
build graphs for export, drawing and exploration.

Examples
--------
>>> from datetime import datetime, timezone
>>> from tribe_analysis.events import conform, derive_threads
>>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> ev = derive_threads(conform(pl.DataFrame({
...     "event_id": ["p", "r", "x", "q"], "timestamp": [t] * 4,
...     "actor_id": ["ann", "bob", "cid", "bob"],
...     "action": ["post", "reply", "reaction", "post"],
...     "parent_id": [None, "p", "r", None],
...     "mentions": [[], [], [], ["cid"]]}), platform="events"))
>>> edge_list(ev).rows()
[('bob', 'ann', 1, 0, 0, 0, 1), ('bob', 'cid', 0, 0, 0, 1, 1), ('cid', 'bob', 0, 1, 0, 0, 1)]
>>> ego_measures(edge_list(ev), ["bob"]).row(0)
('bob', 2, 0.0, 0.0, 2.0, 0.5555555555555556)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:  # networkx is imported where a graph is built (0.8 s at start-up)
    import networkx as nx

from tribe_analysis.events import ACTION_DTYPE, ACTIONS

__all__ = [
    "EDGE_SCHEMA",
    "GRAPH_FORMATS",
    "INTERACTIONS",
    "INTERACTION_DTYPE",
    "MEASURE_SCHEMA",
    "edge_list",
    "ego_measures",
    "ego_networks",
    "interactions",
    "prefixed_mentions",
    "to_networkx",
    "write_graph",
]

INTERACTIONS: tuple[str, ...] = ("reply", "reaction", "share", "mention")
"""The interaction counts kept on each edge (``weight`` is their sum)."""

INTERACTION_DTYPE = pl.Enum(list(INTERACTIONS))
"""Dtype of the ``kind`` column of :func:`interactions`."""

EDGE_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "target": pl.String,
        "reply": pl.Int64,
        "reaction": pl.Int64,
        "share": pl.Int64,
        "mention": pl.Int64,
        "weight": pl.Int64,
    }
)
"""Columns and dtypes of :func:`edge_list`."""

MEASURE_SCHEMA = pl.Schema(
    {
        "leader_id": pl.String,
        "ego_size": pl.Int64,
        "ego_density": pl.Float64,
        "ego_clustering": pl.Float64,
        "ego_effective_size": pl.Float64,
        "ego_constraint": pl.Float64,
    }
)
"""Columns and dtypes of :func:`ego_measures`."""

GRAPH_FORMATS: dict[str, str] = {".graphml": "graphml", ".gexf": "gexf"}
"""File suffix -> graph export format of :func:`write_graph`."""

_ATTRS: tuple[str, ...] = (*INTERACTIONS, "weight")
_XML_IDS: dict[int, str] = {
    c: f"\ufffd{c:04X}" for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)
}
"""Each character XML 1.0 forbids (a :meth:`str.translate` table) -> how graph files write
it in an id: U+FFFD and its code point, so two ids that differ there stay apart."""
_CODE = {name: ACTIONS.index(name) for name in ("reply", "reaction", "share")}
# Mention rows reuse the physical code of ``post``, which never makes an edge itself.
_CODE["mention"] = ACTIONS.index("post")
_SCAN_CELLS = 1 << 22  # neighbour entries scanned at once by ego_measures
_GEXF_DATE = re.compile(rb' lastmodifieddate="[^"]*"')


# --------------------------------------------------------------------------- edge list


def interactions(events: pl.DataFrame | pl.LazyFrame, *, keep: Sequence[str] = ()) -> pl.LazyFrame:
    """One row per interaction between two accounts, before aggregation (lazy).

    The rows :func:`edge_list` counts:

    - a reply, reaction or share is an interaction ``actor_id ->
      target_actor_id`` (the author of the parent); rows whose target is null
      (parent outside the data) are none;
    - a post or reply is a ``mention`` interaction from its actor to each
      account in ``mentions``, once per event however often the account is
      listed;
    - mentions inside a share belong to the original author and are none
      (the original post, when it is in the data, already counts them once);
      mentions on reactions are ignored too;
    - self-interactions (``source == target``) are excluded.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events with ``target_actor_id`` derived (see
        :func:`tribe_analysis.events.derive_threads`).
    keep : sequence of str
        Event columns carried along (e.g. ``timestamp`` or a window key).

    Returns
    -------
    polars.LazyFrame
        Columns ``source``, ``target``, ``kind`` (:data:`INTERACTION_DTYPE`)
        and the ``keep`` columns, in no particular row order.

    Raises
    ------
    ValueError
        When a needed column is missing.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from tribe_analysis.events import conform, derive_threads
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = derive_threads(conform(pl.DataFrame({
    ...     "event_id": ["p", "r", "s"], "timestamp": [t] * 3,
    ...     "actor_id": ["ann", "bob", "cid"], "action": ["post", "reply", "share"],
    ...     "parent_id": [None, "p", "p"], "mentions": [["bob", "bob"], ["ann"], ["dan"]]}),
    ...     platform="events"))
    >>> for row in interactions(ev, keep=["event_id"]).sort("event_id", "kind").collect().rows():
    ...     print(row)
    ('ann', 'bob', 'mention', 'p')
    ('bob', 'ann', 'reply', 'r')
    ('bob', 'ann', 'mention', 'r')
    ('cid', 'ann', 'share', 's')
    """
    codes = [_CODE[name] for name in INTERACTIONS]
    return _interaction_rows(events, keep).with_columns(
        pl.col("kind").replace_strict(codes, INTERACTIONS, return_dtype=INTERACTION_DTYPE)
    )


def _interaction_rows(events: pl.DataFrame | pl.LazyFrame, keep: Sequence[str]) -> pl.LazyFrame:
    """:func:`interactions` with ``kind`` as the UInt8 codes of ``_CODE``."""
    lf = events.lazy()
    keep = list(keep)
    _require(lf, ("actor_id", "action", "target_actor_id", "mentions", *keep), "events")
    action = pl.col("action").cast(ACTION_DTYPE)
    acted = lf.filter(
        action.is_in(["reply", "reaction", "share"]),
        pl.col("target_actor_id").is_not_null(),
    ).select(
        pl.col("actor_id").alias("source"),
        pl.col("target_actor_id").alias("target"),
        action.to_physical().alias("kind"),
        *keep,
    )
    mentioned = (
        lf.filter(action.is_in(["post", "reply"]), pl.col("mentions").list.len() > 0)
        .select(
            pl.col("actor_id").alias("source"),
            pl.col("mentions").list.unique().alias("target"),
            pl.lit(_CODE["mention"], dtype=pl.UInt8).alias("kind"),
            *keep,
        )
        .explode("target")
        .filter(pl.col("target").is_not_null())
    )
    return pl.concat([acted, mentioned]).filter(
        pl.col("source").is_not_null(), pl.col("source") != pl.col("target")
    )


def edge_list(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Aggregate events into the directed, weighted interaction edge list.

    Counts the rows of :func:`interactions` per ordered pair of accounts:
    replies, reactions and shares go to the author of the parent (none when
    the parent is outside the data); mentions count from posts and replies
    only, once per event (mentions inside a share belong to the original
    author); self-interactions are excluded.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events with ``target_actor_id`` derived (see
        :func:`tribe_analysis.events.derive_threads`). Only ``actor_id``,
        ``action``, ``target_actor_id`` and ``mentions`` are read.

    Returns
    -------
    polars.DataFrame
        Columns of :data:`EDGE_SCHEMA`: ``source``, ``target``, the counts
        ``reply``, ``reaction``, ``share``, ``mention`` and their sum
        ``weight``; one row per ordered pair that interacted, sorted by
        ``source`` then ``target``.

    Raises
    ------
    ValueError
        When a needed column is missing.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from tribe_analysis.events import conform, derive_threads
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = derive_threads(conform(pl.DataFrame({
    ...     "event_id": ["p", "r", "s", "self"], "timestamp": [t] * 4,
    ...     "actor_id": ["ann", "bob", "bob", "ann"],
    ...     "action": ["post", "reply", "share", "reply"],
    ...     "parent_id": [None, "p", "p", "p"],
    ...     "mentions": [["bob"], [], ["cid"], []]}), platform="events"))
    >>> edge_list(ev)
    shape: (2, 7)
    ┌────────┬────────┬───────┬──────────┬───────┬─────────┬────────┐
    │ source ┆ target ┆ reply ┆ reaction ┆ share ┆ mention ┆ weight │
    │ ---    ┆ ---    ┆ ---   ┆ ---      ┆ ---   ┆ ---     ┆ ---    │
    │ str    ┆ str    ┆ i64   ┆ i64      ┆ i64   ┆ i64     ┆ i64    │
    ╞════════╪════════╪═══════╪══════════╪═══════╪═════════╪════════╡
    │ ann    ┆ bob    ┆ 0     ┆ 0        ┆ 0     ┆ 1       ┆ 1      │
    │ bob    ┆ ann    ┆ 1     ┆ 0        ┆ 1     ┆ 0       ┆ 2      │
    └────────┴────────┴───────┴──────────┴───────┴─────────┴────────┘
    """
    counts = [
        (pl.col("kind") == _CODE[name]).sum().cast(pl.Int64).alias(name) for name in INTERACTIONS
    ]
    return (
        _interaction_rows(events, ())
        .group_by("source", "target")
        .agg(counts)
        .with_columns(pl.sum_horizontal(INTERACTIONS).alias("weight"))
        .sort("source", "target")
        .collect(engine="streaming")  # exact integer counts: the fast engine is safe here
        .cast(dict(EDGE_SCHEMA))  # type: ignore[arg-type]  # polars types the keys narrowly
    )


def prefixed_mentions(edges: pl.DataFrame) -> int:
    """Mentions of an id that is an account of ``edges`` once its leading ``@`` is removed.

    A canonical file that writes mentions as ``@ann`` where ``actor_id`` says
    ``ann`` makes ``@ann`` another account: the mention never reaches ``ann`` in
    the graph, and a leader's mention of itself counts as promoting someone else.

    Examples
    --------
    >>> edges = pl.DataFrame({"source": ["ann", "bob"], "target": ["@bob", "ann"],
    ...     "reply": [0, 1], "reaction": [0, 0], "share": [0, 0], "mention": [2, 0], "weight": [2, 1]})
    >>> prefixed_mentions(edges)
    2
    """
    named = edges.filter(pl.col("target").str.starts_with("@") & (pl.col("mention") > 0))
    if named.is_empty():  # the usual case, and the only pass over every edge
        return 0
    bare = named.select(pl.col("target").str.slice(1).alias("id"), "mention")
    accounts = pl.concat([edges.select(pl.col(c).alias("id")) for c in ("source", "target")])
    found = bare.join(accounts.unique(), on="id", how="semi")
    return int(found.get_column("mention").sum())


def to_networkx(edges: pl.DataFrame, *, actors: Iterable[str] | None = None) -> nx.DiGraph:
    """Build the directed interaction graph from an edge list.

    Parameters
    ----------
    edges : polars.DataFrame
        Output of :func:`edge_list`.
    actors : iterable of str, optional
        Extra accounts to include as nodes even without edges (e.g. every
        ``actor_id`` of the events, so that silent accounts appear).

    Returns
    -------
    networkx.DiGraph
        Nodes are the actors, added in sorted order; edges are added in
        ``(source, target)`` order, each with the attributes ``reply``,
        ``reaction``, ``share``, ``mention`` and ``weight`` as Python ints.

    Raises
    ------
    ValueError
        When a column of :data:`EDGE_SCHEMA` is missing.

    Examples
    --------
    >>> edges = pl.DataFrame({"source": ["a", "b"], "target": ["b", "a"], "reply": [2, 0],
    ...                       "reaction": [1, 0], "share": [0, 0], "mention": [0, 1], "weight": [3, 1]})
    >>> g = to_networkx(edges, actors=["c"])
    >>> list(g.nodes), g.edges["a", "b"]
    (['a', 'b', 'c'], {'reply': 2, 'reaction': 1, 'share': 0, 'mention': 0, 'weight': 3})
    """
    import networkx as nx

    frame = edges.lazy()
    _require(frame, tuple(EDGE_SCHEMA), "edges")
    rows = frame.select(EDGE_SCHEMA.names()).sort("source", "target").collect()
    nodes = set(rows.get_column("source")) | set(rows.get_column("target"))
    nodes.update(actors or ())
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_edges_from(
        (row[0], row[1], dict(zip(_ATTRS, row[2:], strict=True))) for row in rows.iter_rows()
    )
    return graph


# --------------------------------------------------------------------------- ego networks


def ego_networks(
    edges: pl.DataFrame | pl.LazyFrame,
    leaders: Sequence[str],
    *,
    radius: int = 1,
    max_alters: int | None = None,
) -> dict[str, nx.Graph]:
    """Undirected ego network of each leader, built from the edges near it only.

    The ego network of a leader is the subgraph of the undirected interaction
    graph induced by the leader and every account within ``radius`` steps of
    it (as :func:`networkx.ego_graph`). The edge list is filtered in polars
    first; the full graph is never built. With ``max_alters`` (radius 1 only),
    only the leader's ``max_alters`` strongest alters are kept (the highest
    tie ``weight``, then the first names) with the ties among them, and the
    graph attribute ``"alters"`` holds how many alters the leader has in all:
    what a drawing of the ego network needs, without building the whole of a
    large one.

    Parameters
    ----------
    edges : polars.DataFrame or polars.LazyFrame
        Output of :func:`edge_list`.
    leaders : sequence of str
        Leader actor ids; duplicates are dropped.
    radius : int
        Steps from the leader; 1 gives the leader, its alters and the ties
        among them.

    Returns
    -------
    dict of str to networkx.Graph
        One graph per leader, in the given order. Nodes are added in sorted
        order, edges in sorted ``(u, v)`` order with ``u < v``; each edge
        carries ``reply``, ``reaction``, ``share``, ``mention`` and
        ``weight`` summed over both directions. A leader without edges gets
        a graph with itself only.

    Raises
    ------
    ValueError
        When ``radius`` is negative, ``max_alters`` is negative or given with a
        radius other than 1, or a needed column is missing.
    TypeError
        When ``leaders`` is a single string.

    Examples
    --------
    >>> edges = pl.DataFrame({"source": ["a", "b", "c", "d"], "target": ["b", "a", "b", "c"],
    ...                       "reply": [2, 1, 1, 1], "reaction": [0, 0, 0, 0], "share": [0, 0, 0, 0],
    ...                       "mention": [0, 0, 0, 0], "weight": [2, 1, 1, 1]})
    >>> ego = ego_networks(edges, ["b"])["b"]
    >>> sorted(ego.edges(data="weight"))
    [('a', 'b', 3), ('b', 'c', 1)]
    >>> top = ego_networks(edges, ["b"], max_alters=1)["b"]
    >>> sorted(top.edges(data="weight")), top.graph["alters"]
    ([('a', 'b', 3)], 2)
    """
    import networkx as nx

    if radius < 0:
        raise ValueError(f"radius must be 0 or more, got {radius!r}")
    if max_alters is not None and (radius != 1 or max_alters < 0):
        raise ValueError(f"max_alters needs radius 1 and 0 or more, got {max_alters!r}")
    names = _leader_list(leaders)
    und = _undirected(edges, attrs=_ATTRS, weight=None).drop("w").collect().lazy()
    leader_frame = pl.LazyFrame({"leader": names}, schema={"leader": pl.String})
    members = leader_frame.select("leader", pl.col("leader").alias("node"))
    alters: dict[str, int] = {}
    if max_alters is not None:
        strongest, counts = _strongest_alters(und, leader_frame, max_alters)
        alters = dict(counts.iter_rows())
        members = pl.concat([members, strongest])
    elif radius:
        adjacency = pl.concat(
            [
                und.select(pl.col("u").alias("node"), pl.col("v").alias("next")),
                und.select(pl.col("v").alias("node"), pl.col("u").alias("next")),
            ]
        )
        frontier = members
        for _ in range(radius):
            frontier = (
                frontier.join(adjacency, on="node")
                .select("leader", pl.col("next").alias("node"))
                .unique()
                .join(members, on=["leader", "node"], how="anti")
            )
            members = pl.concat([members, frontier])
    induced = _induced(und, members)
    members_df, induced_df = pl.collect_all([members.sort("leader", "node"), induced])
    graphs: dict[str, nx.Graph] = {name: nx.Graph() for name in names}
    if max_alters is not None:
        for name, graph in graphs.items():
            graph.graph["alters"] = alters.get(name, 0)
    for leader, node in members_df.iter_rows():
        graphs[leader].add_node(node)
    for row in induced_df.sort("leader", "u", "v").iter_rows():
        graphs[row[0]].add_edge(row[1], row[2], **dict(zip(_ATTRS, row[3:], strict=True)))
    return graphs


def _strongest_alters(
    und: pl.LazyFrame, leader_frame: pl.LazyFrame, max_alters: int
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Each leader's ``max_alters`` strongest alters ``(leader, node)``; each one's alter count."""
    ties = pl.concat(
        [
            und.select(pl.col("u").alias("leader"), pl.col("v").alias("node"), "weight"),
            und.select(pl.col("v").alias("leader"), pl.col("u").alias("node"), "weight"),
        ]
    ).join(leader_frame, on="leader", how="semi")
    # a rank, not group_by().head(): head(0) gives a row of nulls per group
    strongest = (
        ties.sort(["leader", "weight", "node"], descending=[False, True, False])
        .filter(pl.int_range(pl.len()).over("leader") < max_alters)
        .select("leader", "node")
    )
    chosen, counts = pl.collect_all([strongest, ties.group_by("leader").len()])
    return chosen.lazy(), counts


def ego_measures(
    edges: pl.DataFrame | pl.LazyFrame, leaders: Sequence[str], *, weight: str | None = "weight"
) -> pl.DataFrame:
    """Ego-network measures of each leader in the undirected interaction graph.

    The ego network of a leader is the leader, its alters (accounts it
    interacted with in either direction) and the ties among them; the
    undirected tie weight is the sum of both directions. Measures:

    - ``ego_size``: number of alters ``k``;
    - ``ego_density``: ties among the alters (the ego excluded) ÷
      ``k (k - 1) / 2``; null when ``k < 2``;
    - ``ego_clustering``: the leader's (unweighted) clustering coefficient,
      as :func:`networkx.clustering`; null when ``k < 2``. In an undirected
      simple graph it equals ``ego_density`` by definition: both are kept
      because both are standard names for it;
    - ``ego_effective_size``: Burt's effective size, unweighted, as
      :func:`networkx.effective_size` (``k - 2 t / k`` for ``t`` ties among
      alters); null when ``k = 0``;
    - ``ego_constraint``: Burt's constraint, as :func:`networkx.constraint`
      on the ego network with tie strength ``weight`` (interaction counts by
      default; ``None`` for unweighted ties). The proportions ``p_qj`` of an
      alter's ties are taken within the ego network (Burt's ego-network form),
      so the value differs from ``networkx.constraint`` on the full graph
      when alters have ties outside it. Null when ``k = 0``.

    No graph is built: one polars pass numbers the accounts and makes the
    ties undirected; the ties among each leader's alters are then listed from
    their end of lower degree (as in triangle counting) and summed with
    numpy, so beyond that pass the time grows with the ties inside the ego
    networks, not with the whole graph. Sizes, densities, clustering and
    effective sizes are exact. Constraint sums run in an order fixed by the
    account names: a leader's value is the same run after run and whichever
    other leaders are measured with it.

    Parameters
    ----------
    edges : polars.DataFrame or polars.LazyFrame
        Output of :func:`edge_list`.
    leaders : sequence of str
        Leader actor ids; duplicates are dropped.
    weight : str or None
        Edge column used as tie strength by ``ego_constraint``; None treats
        every tie as 1.

    Returns
    -------
    polars.DataFrame
        Columns of :data:`MEASURE_SCHEMA`, one row per leader in the given
        order. A leader without edges has ``ego_size`` 0 and null measures.

    Raises
    ------
    ValueError
        When a needed column is missing.
    TypeError
        When ``leaders`` is a single string.

    Examples
    --------
    >>> edges = pl.DataFrame({"source": ["a", "a", "b"], "target": ["b", "c", "c"],
    ...                       "reply": [1, 1, 1], "reaction": [0, 0, 0], "share": [0, 0, 0],
    ...                       "mention": [0, 0, 0], "weight": [1, 1, 1]})
    >>> ego_measures(edges, ["a", "z"])
    shape: (2, 6)
    ┌───────────┬──────────┬─────────────┬────────────────┬────────────────────┬────────────────┐
    │ leader_id ┆ ego_size ┆ ego_density ┆ ego_clustering ┆ ego_effective_size ┆ ego_constraint │
    │ ---       ┆ ---      ┆ ---         ┆ ---            ┆ ---                ┆ ---            │
    │ str       ┆ i64      ┆ f64         ┆ f64            ┆ f64                ┆ f64            │
    ╞═══════════╪══════════╪═════════════╪════════════════╪════════════════════╪════════════════╡
    │ a         ┆ 2        ┆ 1.0         ┆ 1.0            ┆ 1.0                ┆ 1.125          │
    │ z         ┆ 0        ┆ null        ┆ null           ┆ null               ┆ null           │
    └───────────┴──────────┴─────────────┴────────────────┴────────────────────┴────────────────┘
    """
    names = _leader_list(leaders)
    alters, ties, n_nodes = _ego_inputs(edges, names, weight)
    k, t, constraint = _ego_sums(alters, ties, n_nodes, len(names))
    pairs = np.maximum(k * (k - 1) // 2, 1)
    density = np.where(k >= 2, t / pairs, np.nan)
    return (
        pl.DataFrame(
            {
                "leader_id": pl.Series(names, dtype=pl.String),
                "ego_size": k,
                "ego_density": density,
                "ego_clustering": density,
                "ego_effective_size": np.where(k >= 1, k - 2 * t / np.maximum(k, 1), np.nan),
                "ego_constraint": np.where(k >= 1, constraint, np.nan),
            }
        )
        .with_columns(pl.selectors.float().fill_nan(None))
        .cast(dict(MEASURE_SCHEMA))  # type: ignore[arg-type]  # as in edge_list
    )


# --------------------------------------------------------------------------- export


def write_graph(graph: nx.Graph, path: str | Path) -> Path:
    """Write a graph as GraphML or GEXF, chosen by the file suffix.

    Edge counts stay numeric attributes (GraphML ``long``; in GEXF ``weight``
    is the edge weight, a float when read back, and the other counts are
    ``long`` attributes). The output is byte-identical for the same graph:
    the date networkx writes in the GEXF ``<meta lastmodifieddate=...>`` is
    removed (the attribute is optional in GEXF 1.2). A character XML 1.0
    forbids in a node id is written as U+FFFD and its code point (as
    :mod:`tribe_analysis.graph_export` does), so the file parses.

    Parameters
    ----------
    graph : networkx.Graph
        Usually from :func:`to_networkx` or :func:`ego_networks`.
    path : str or pathlib.Path
        Output file ending in ``.graphml`` or ``.gexf``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        When the suffix is not one of :data:`GRAPH_FORMATS`, or two node ids
        would be written alike.

    Examples
    --------
    >>> import tempfile, pathlib, networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_edge("a", "b", reply=1, reaction=0, share=0, mention=0, weight=1)
    >>> out = write_graph(g, pathlib.Path(tempfile.mkdtemp()) / "tribe.graphml")
    >>> nx.read_graphml(out).edges["a", "b"]["weight"]
    1
    """
    import networkx as nx

    path = Path(path)
    fmt = GRAPH_FORMATS.get(path.suffix.lower())
    if fmt is None:
        valid = ", ".join(GRAPH_FORMATS)
        raise ValueError(
            f"unknown graph file type {path.suffix or '(none)'!r} for {path.name!r} "
            f"(expected one of {valid})"
        )
    graph = _xml_safe(graph)
    buffer = BytesIO()
    if fmt == "graphml":
        nx.write_graphml(graph, buffer)
        data = buffer.getvalue()
    else:
        nx.write_gexf(graph, buffer)
        data = _GEXF_DATE.sub(b"", buffer.getvalue(), count=1)
    path.write_bytes(data)
    return path


def _xml_safe(graph: nx.Graph) -> nx.Graph:
    """``graph`` with each character XML 1.0 forbids in a node id written as :data:`_XML_IDS`.

    Raises ValueError when two ids would then be the same (an id holding, as such, the
    text another id's character is written as).
    """
    import networkx as nx

    mapping = {
        node: node.translate(_XML_IDS)
        for node in graph
        if isinstance(node, str) and node.translate(_XML_IDS) != node
    }
    if not mapping:
        return graph
    taken: dict[object, object] = {}
    for node in graph:
        other = taken.setdefault(mapping.get(node, node), node)
        if other != node:
            raise ValueError(
                f"the ids {other!r} and {node!r} cannot be told apart in a GraphML or GEXF "
                "file (XML 1.0 has no control characters)"
            )
    return nx.relabel_nodes(graph, mapping, copy=True)


# --------------------------------------------------------------------------- helpers


def _require(frame: pl.LazyFrame, columns: Sequence[str], what: str) -> None:
    """Raise ValueError naming every missing column."""
    have = frame.collect_schema().names()
    missing = [c for c in columns if c not in have]
    if missing:
        raise ValueError(
            f"{what} lack column(s) {', '.join(missing)} (have: {', '.join(have) or 'none'})"
        )


def _leader_list(leaders: Sequence[str]) -> list[str]:
    """Leader ids as a list of str in the given order, duplicates dropped."""
    if isinstance(leaders, str):
        raise TypeError(f"leaders must be a sequence of actor ids, not the string {leaders!r}")
    return list(dict.fromkeys(str(name) for name in leaders))


def _undirected(
    edges: pl.DataFrame | pl.LazyFrame, *, attrs: Sequence[str], weight: str | None
) -> pl.LazyFrame:
    """Undirected ties ``u < v`` with ``attrs`` summed over both directions.

    Also column ``w``, the tie strength: column ``weight`` summed over both
    directions, or 1 per tie when ``weight`` is None. Self-loops are dropped.
    """
    frame = edges.lazy()
    summed = list(dict.fromkeys([*attrs, *([weight] if weight else [])]))
    _require(frame, ["source", "target", *summed], "edges")
    lo = pl.min_horizontal("source", "target")
    hi = pl.max_horizontal("source", "target")
    ties = (
        frame.filter(pl.col("source") != pl.col("target"))
        .select(lo.alias("u"), hi.alias("v"), *summed)
        .group_by("u", "v")
        .agg(pl.col(summed).sum() if summed else [])
    )
    strength = pl.lit(1, dtype=pl.Int64) if weight is None else pl.col(weight)
    return ties.select("u", "v", *attrs, strength.alias("w"))


def _pair_key(high: str, low: str) -> pl.Expr:
    """One UInt64 sort key for two non-negative int columns below 2**32 (faster than two keys)."""
    return pl.col(high).cast(pl.UInt64) * (1 << 32) + pl.col(low).cast(pl.UInt64)


def _ego_inputs(
    edges: pl.DataFrame | pl.LazyFrame, leaders: list[str], weight: str | None
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Integer inputs of :func:`_ego_sums`: alters of the leaders, ties between alters, node count.

    Accounts are numbered in name order. Ties are undirected, with strength
    ``weight`` summed over both directions (1 when ``weight`` is None); each
    tie between two alters is kept once, from its end of lower
    ``(degree, number)`` rank, degrees counted in the whole graph.
    """
    frame = edges.lazy()
    _require(frame, ["source", "target", *([weight] if weight else [])], "edges")
    pairs = frame.filter(
        pl.col("source").is_not_null(),
        pl.col("target").is_not_null(),
        pl.col("source") != pl.col("target"),
    ).select("source", "target", (pl.col(weight) if weight else pl.lit(1)).alias("w"))
    names = (
        pl.concat(
            [pairs.select(pl.col("source").alias("n")), pairs.select(pl.col("target").alias("n"))]
        )
        .unique()
        .sort("n")
        .collect(engine="streaming")
        .get_column("n")
    )
    n_nodes = names.len()
    number = pl.Enum(names)
    ids = pairs.select(
        pl.col("source").cast(number).to_physical().cast(pl.Int64).alias("s"),
        pl.col("target").cast(number).to_physical().cast(pl.Int64).alias("t"),
        "w",
    )
    und = (
        ids.select(
            (pl.min_horizontal("s", "t") * n_nodes + pl.max_horizontal("s", "t")).alias("key"), "w"
        )
        .group_by("key")
        .agg(pl.col("w").sum() if weight else pl.lit(1, dtype=pl.Int64).alias("w"))
        .collect(engine="streaming")
    )
    key = und.get_column("key").to_numpy()
    u, v = key // max(n_nodes, 1), key % max(n_nodes, 1)
    w = und.get_column("w").to_numpy()
    # leader columns by account number (-1: not a leader)
    found = pl.DataFrame({"leader": leaders}, schema={"leader": pl.String}).with_row_index("col")
    found = found.join(
        pl.DataFrame({"leader": names}).with_row_index("id"), on="leader", how="inner"
    )
    column = np.full(n_nodes, -1, dtype=np.int64)
    column[found.get_column("id").to_numpy()] = found.get_column("col").to_numpy()
    from_u, from_v = column[u] >= 0, column[v] >= 0
    alters = pl.DataFrame(
        {
            "col": np.concatenate([column[u[from_u]], column[v[from_v]]]),
            "i": np.concatenate([v[from_u], u[from_v]]),
            "w": np.concatenate([w[from_u], w[from_v]]),
        }
    ).sort(_pair_key("col", "i"))
    inside = np.zeros(n_nodes, dtype=bool)
    inside[alters.get_column("i").to_numpy()] = True
    degree = np.bincount(u, minlength=n_nodes) + np.bincount(v, minlength=n_nodes)
    between = inside[u] & inside[v]
    u, v, w = u[between], v[between], w[between]
    lower = (degree[u] < degree[v]) | ((degree[u] == degree[v]) & (u < v))
    ties = pl.DataFrame({"a": np.where(lower, u, v), "b": np.where(lower, v, u), "w": w}).sort(
        _pair_key("a", "b")
    )
    return alters, ties, n_nodes


def _ego_sums(
    alters: pl.DataFrame, ties: pl.DataFrame, n_nodes: int, n_leaders: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alters ``k``, ties among alters ``t`` and Burt's constraint of each leader.

    ``alters`` holds ``(col, i, w)``: leader column, alter index, tie strength
    ``w_Lq``, sorted by ``(col, i)``. ``ties`` holds ``(a, b, w)``: each tie
    between two alter indices once, from its end of lower (degree, name) rank,
    sorted by ``(a, b)``. For each leader, the ties among its alters are found
    by scanning the higher-ranked neighbours of each alter (as in triangle
    counting, hubs have few of those), then with ``s_q = w_Lq + sum_y w_qy``
    the strength of alter ``q`` inside the ego network:

    ``constraint = sum_j (w_Lj + sum_q w_Lq w_qj / s_q) ** 2 / (sum_j w_Lj) ** 2``

    Each leader's ties are visited in an order fixed by the names, so a
    leader's values do not depend on the other leaders or the run.
    """
    col = alters.get_column("col").to_numpy()
    node = alters.get_column("i").to_numpy().astype(np.int64)
    w_ego = alters.get_column("w").to_numpy().astype(np.float64)
    a = ties.get_column("a").to_numpy().astype(np.int64)
    higher = ties.get_column("b").to_numpy().astype(np.int64)
    w_tie = ties.get_column("w").to_numpy().astype(np.float64)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n_nodes), out=indptr[1:])
    starts = np.searchsorted(col, np.arange(n_leaders + 1))
    k = np.diff(starts).astype(np.int64)
    t = np.zeros(n_leaders, dtype=np.int64)
    constraint = np.full(n_leaders, np.nan)
    inside = np.zeros(n_nodes, dtype=bool)
    position = np.zeros(n_nodes, dtype=np.int64)
    for j in np.flatnonzero(k):
        alters_j = node[starts[j] : starts[j + 1]]
        e = w_ego[starts[j] : starts[j + 1]]
        inside[alters_j] = True
        position[alters_j] = np.arange(alters_j.size)
        rows, cols, weights = _ego_ties(alters_j, indptr, higher, w_tie, inside, position)
        inside[alters_j] = False
        n = alters_j.size
        t[j] = rows.size
        strength = e + np.bincount(rows, weights, n) + np.bincount(cols, weights, n)
        share = np.divide(e, strength, out=np.zeros(n), where=strength > 0)
        local = e + np.bincount(rows, weights * share[cols], n)
        local += np.bincount(cols, weights * share[rows], n)
        total = e.sum()
        if total > 0:
            constraint[j] = float((local**2).sum() / total**2)
    return k, t, constraint


def _ego_ties(
    alters: np.ndarray,
    indptr: np.ndarray,
    higher: np.ndarray,
    weight: np.ndarray,
    inside: np.ndarray,
    position: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ties among ``alters`` as local (row, col, weight) arrays, scanning in bounded slices."""
    lengths = indptr[alters + 1] - indptr[alters]
    ends = np.cumsum(lengths)
    parts = []
    lo = 0
    while lo < alters.size:
        # slices of about _SCAN_CELLS neighbour entries keep the temporaries small
        base = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, base + _SCAN_CELLS, side="right")), lo + 1)
        span = lengths[lo:hi]
        offsets = np.repeat(indptr[alters[lo:hi]] - (np.cumsum(span) - span), span)
        offsets += np.arange(offsets.size)
        keep = inside[higher[offsets]]
        offsets = offsets[keep]
        rows = np.repeat(np.arange(lo, hi), span)[keep]
        parts.append((rows, position[higher[offsets]], weight[offsets]))
        lo = hi
    if len(parts) == 1:
        return parts[0]
    rows, cols, weights = zip(*parts, strict=True)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)


def _induced(ties: pl.LazyFrame, members: pl.LazyFrame) -> pl.LazyFrame:
    """Ties ``(u, v)`` with both ends in a leader's member set, one row per leader and tie.

    ``members`` holds unique ``(leader, node)`` rows. Each tie is joined from the
    end that belongs to fewer leaders' sets and checked at the other end, so
    that hubs shared by many leaders do not blow up the intermediate join.
    """
    load = members.group_by("node").agg(pl.len().alias("n"))
    return (
        ties.join(load.select(pl.col("node").alias("u"), pl.col("n").alias("n_u")), on="u")
        .join(load.select(pl.col("node").alias("v"), pl.col("n").alias("n_v")), on="v")
        .with_columns(
            pl.when(pl.col("n_u") <= pl.col("n_v")).then("u").otherwise("v").alias("a"),
            pl.when(pl.col("n_u") <= pl.col("n_v")).then("v").otherwise("u").alias("b"),
        )
        .join(members.select("leader", pl.col("node").alias("a")), on="a")
        .join(members.select("leader", pl.col("node").alias("b")), on=["leader", "b"], how="semi")
        .drop("n_u", "n_v", "a", "b")
        .select("leader", pl.all().exclude("leader"))
    )
