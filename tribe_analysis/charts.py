"""Altair charts of leaders, profiles and tribes; export offline with vl-convert.

Every function takes polars frames and returns an Altair chart; none displays
anything. Data are aggregated in polars first (a chart carries at most a few
thousand rows whatever the input size), rows are sorted and floats rounded so
that the same input gives the same Vega-Lite spec, byte for byte. The registered
``tribe`` theme gives the workshop look: readable fonts and the colour-blind-safe
Okabe-Ito colours for the profiles.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import altair as alt
import networkx as nx
import polars as pl

from tribe_analysis import graph
from tribe_analysis.participation import LEVEL, PARTS
from tribe_analysis.profiles import PARTICIPATOR_THRESHOLD, PROFILES

__all__ = [
    "ACTION_COLORS",
    "COMPARISON_MEASURES",
    "MEASURE_NAMES",
    "NOT_OBSERVED",
    "PROFILE_COLORS",
    "THEME",
    "activity_timeline",
    "ego_network",
    "measure_comparison",
    "profile_map",
    "pseudonym_labels",
    "render",
    "report_card",
    "save_chart",
    "setup_notebook",
    "style_over_time",
    "thread_view",
]

THEME = "tribe"
PROFILE_COLORS: dict[str, str] = {
    "broadcaster": "#D55E00",
    "participator": "#0072B2",
    "undetermined": "#999999",
}
"""Okabe-Ito vermillion and blue for the two styles, grey for a leader left undetermined.

Distinguishable with every common colour-vision deficiency. The report's other
charts and the theme's category palette keep clear of them.
"""
ACTION_COLORS: dict[str, str] = {
    "post": "#0072B2",
    "reply": "#009E73",
    "share": "#E69F00",
    "reaction": "#CC79A7",
}
COMPARISON_MEASURES: tuple[str, ...] = (*PARTS, "broadcast_share")
"""Shares in [0, 1] compared across leaders: the five parts of the index, then broadcasting."""
MEASURE_NAMES: dict[str, str] = {
    **PARTS,
    "broadcast_share": "broadcasting",
    "participation_index": "participation index",
}
"""Readable names of the compared measures (the parts by the way they measure)."""
NOT_OBSERVED = "not observed"
"""Shown where a part is null: its signal is unobservable or the evidence too thin."""

_UNDETERMINED = PROFILES[2]
_SHAPES = ["circle", "square", "triangle-up", "cross", "triangle-down", "triangle-left"]
_UNDETERMINED_SHAPE = "diamond"
"""Undetermined leaders always get the diamond; sub-profiles take the other shapes in turn."""
_LEADER_COLOR = "#000000"
_MEMBER_COLOR = "#56B4E9"
_CATEGORY = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#000000", "#F0E442"]
"""Okabe-Ito colours other than the profile colours: the theme's palette for other categories."""

_DIGITS = 4
_UUID = re.compile(r"altair-viz-[0-9a-f]{32}")


@alt.theme.register(THEME, enable=False)
def _tribe_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": "DejaVu Sans",
            "title": {"fontSize": 16, "anchor": "start", "subtitleFontSize": 12},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 13},
            "header": {"labelFontSize": 12, "titleFontSize": 13},
            "view": {"stroke": None},
            "range": {"category": _CATEGORY},
        }
    }


def _stable_html(spec: dict, **metadata) -> dict[str, str]:
    """Altair's html renderer with the random div id replaced by a hash of the spec."""
    bundle = _html(spec)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]
    return {k: _UUID.sub(f"altair-viz-{digest}", v) for k, v in bundle.items()}


def _html(spec: dict) -> dict[str, str]:
    from altair.vegalite.v6.display import html_renderer

    return html_renderer(spec)


alt.renderers.register("tribe", _stable_html)


def setup_notebook() -> None:
    """Make notebook outputs deterministic; call it in the first cell.

    Enables the ``tribe`` renderer (Altair's HTML output with a div id derived
    from the spec instead of a random one, so nbval compares specs exactly), the
    ``tribe`` theme, and polars' in-memory engine (its float sums do not vary
    run to run).
    """
    alt.renderers.enable("tribe")
    alt.theme.enable(THEME)
    pl.Config.set_engine_affinity("in-memory")


def _chart_data(
    frame: pl.DataFrame, sort: Sequence[str], *, descending: bool = False
) -> pl.DataFrame:
    """Sorted, rounded, JSON-friendly rows: datetimes as ISO text, NaN as null."""
    out = frame.sort(list(sort), descending=descending, maintain_order=True)
    exprs = []
    for name, dtype in out.schema.items():
        if dtype.is_float():
            exprs.append(pl.col(name).fill_nan(None).round(_DIGITS))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%SZ"))
        elif isinstance(dtype, pl.Date):
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%d"))
        elif isinstance(dtype, pl.Enum | pl.Categorical):
            exprs.append(pl.col(name).cast(pl.String))
    return out.with_columns(exprs) if exprs else out


def _profile_color(title: str = "profile") -> alt.Color:
    """Colour by ``profile``: the three labels, each with its one colour."""
    return alt.Color(
        "profile:N",
        title=title,
        scale=alt.Scale(domain=list(PROFILE_COLORS), range=list(PROFILE_COLORS.values())),
    )


def pseudonym_labels(ids: Sequence[str], *, prefix: str = "Leader") -> dict[str, str]:
    """Workshop-friendly labels ``Leader 1``, ``Leader 2``... in sorted id order.

    Examples
    --------
    >>> pseudonym_labels(["zoe", "adam"])
    {'adam': 'Leader 1', 'zoe': 'Leader 2'}
    """
    return {leader: f"{prefix} {i}" for i, leader in enumerate(sorted(set(ids)), start=1)}


def _label(frame: pl.DataFrame, labels: Mapping[str, str] | None, column: str = "leader_id"):
    """Add ``leader``: the name from ``labels``, else from ``leader_name``, else the id."""
    name = pl.col(column)
    if labels:
        name = name.replace_strict(dict(labels), default=name, return_dtype=pl.String)
    elif "leader_name" in frame.columns:
        name = pl.col("leader_name").fill_null(name)
    return frame.with_columns(name.alias("leader"))


def _display_name(leader: str, row: Mapping, labels: Mapping[str, str] | None) -> str:
    """The name a chart shows for one leader (same rule as :func:`_label`)."""
    if labels:
        return labels.get(leader, leader)
    return row.get("leader_name") or leader


def _place_labels(
    x: Sequence[float],
    y: Sequence[float],
    text: Sequence[str],
    *,
    width: float,
    height: float,
    char: float = 6.0,
) -> list[tuple[float, float] | None]:
    """Greedy, deterministic label positions (left edge, middle) in data units; None to skip.

    Each label tries right-above, left-above, right-below and left-below its
    point, in that order, and takes the first place that stays inside the plot
    and clear of the labels already placed (boxes estimated from ``char``
    pixels per character). A label with no free place is left out; its point
    keeps its tooltip. ``x`` is on [0, 1], ``y`` spans its data range.
    """
    low, high = (min(y), max(y)) if len(y) else (0.0, 1.0)
    span = (high - low) or 1.0
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float] | None] = []
    for xi, yi, label in zip(x, y, text, strict=True):
        px, py = xi * width, (yi - low) / span * height
        w, h = char * len(label), 12.0
        spot = None
        for dx, dy in ((7, 8), (-7 - w, 8), (7, -8), (-7 - w, -8)):
            box = (px + dx, px + dx + w, py + dy - h / 2, py + dy + h / 2)
            inside = box[0] >= 0 and box[1] <= width
            if inside and not any(
                box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in placed
            ):
                placed.append(box)
                spot = (xi + dx / width, yi + dy / height * span)
                break
        out.append(spot)
    return out


def profile_map(
    table: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    threshold: float = PARTICIPATOR_THRESHOLD,
    title: str = "Where each leader stands",
) -> alt.LayerChart:
    """Leaders by participation index (x, with its interval) and give/receive balance (y).

    Colour is the label (participator, broadcaster, undetermined), shape the
    sub-profile of the clustering, size the number of authored actions. A
    leader whose index is null (too few observed parts) has no place on x: it
    is left out and counted in the subtitle.

    Parameters
    ----------
    table : polars.DataFrame
        Profile table (``tribe_analysis.profiles.profile_leaders``): needs
        ``leader_id``, ``profile``, ``sub_profile``, ``reason``, ``probability``,
        ``participation_index``, ``index_low``, ``index_high``,
        ``parts_observed``, ``give_receive_log_ratio``, ``authored``; uses
        ``leader_name`` when present and ``labels`` is not given.
    labels : mapping, optional
        Display names per leader id (e.g. :func:`pseudonym_labels`).
    threshold : float
        Drawn as the dashed vertical line between the styles.

    Examples
    --------
    >>> t = pl.DataFrame({"leader_id": ["a", "b", "c"],
    ...     "profile": ["broadcaster", "participator", "undetermined"],
    ...     "sub_profile": ["broadcaster · announcer", "participator · responder", "undetermined"],
    ...     "reason": ["index 0.20 ...", "index 0.60 ...", "insufficient evidence: ..."],
    ...     "probability": [0.95, 1.0, None], "participation_index": [0.2, 0.6, None],
    ...     "index_low": [0.15, 0.55, None], "index_high": [0.25, 0.65, None],
    ...     "parts_observed": [5, 5, 1], "give_receive_log_ratio": [-1.0, 0.3, 0.0],
    ...     "authored": [30, 80, 2]})
    >>> spec = profile_map(t).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['rule', 'errorbar', 'point', 'text']
    >>> spec["title"]["subtitle"][-1]
    '1 leader undetermined for lack of evidence is not shown'
    """
    cols = [
        "leader_id",
        "profile",
        "sub_profile",
        "reason",
        "probability",
        "participation_index",
        "index_low",
        "index_high",
        "parts_observed",
        "give_receive_log_ratio",
        "authored",
    ]
    named = ["leader_name"] if "leader_name" in table.columns else []
    frame = _label(table.select(*cols, *named), labels).drop(named)
    placed = frame.filter(pl.col("participation_index").is_not_null())
    hidden = frame.height - placed.height
    width, height = 460, 320
    placed = placed.sort("leader_id")
    spots = _place_labels(
        placed["participation_index"].to_list(),
        placed["give_receive_log_ratio"].fill_null(0.0).to_list(),
        placed["leader"].to_list(),
        width=width,
        height=height,
    )
    placed = placed.with_columns(
        pl.Series("label_x", [s and s[0] for s in spots], dtype=pl.Float64),
        pl.Series("label_y", [s and s[1] for s in spots], dtype=pl.Float64),
    )
    data = _chart_data(placed, ["leader_id"]).drop("leader_id")
    rank = {p: i for i, p in enumerate(PROFILE_COLORS)}
    subs = [
        sub
        for _, sub in sorted(
            placed.select("profile", "sub_profile").unique().iter_rows(),
            key=lambda ps: (rank.get(ps[0], len(rank)), ps[1] or ""),
        )
    ]
    decided = [sub for sub in subs if sub != _UNDETERMINED]
    shapes = [_SHAPES[i % len(_SHAPES)] for i in range(len(decided))]
    if len(decided) < len(subs):
        shapes.append(_UNDETERMINED_SHAPE)
    subs = [*decided, *(s for s in subs if s == _UNDETERMINED)]

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title="participation index", scale=alt.Scale(domain=[0, 1]))

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", title="give / receive balance, log((out+1)/(in+1))")

    base = alt.Chart(data)
    intervals = base.mark_errorbar(ticks=True, thickness=1.5, opacity=0.7).encode(
        x=x("index_low"), x2="index_high:Q", y=y("give_receive_log_ratio"), color=_profile_color()
    )
    points = base.mark_point(filled=True, opacity=0.9).encode(
        x=x("participation_index"),
        y=y("give_receive_log_ratio"),
        color=_profile_color(),
        shape=alt.Shape(
            "sub_profile:N", title="sub-profile", scale=alt.Scale(domain=subs, range=shapes)
        ),
        size=alt.Size("authored:Q", title="authored actions", scale=alt.Scale(range=[40, 500])),
        tooltip=[
            alt.Tooltip("leader:N"),
            alt.Tooltip("profile:N"),
            alt.Tooltip("sub_profile:N", title="sub-profile"),
            alt.Tooltip("reason:N"),
            alt.Tooltip("probability:Q", format=".2f"),
            alt.Tooltip("participation_index:Q", title="participation index", format=".2f"),
            alt.Tooltip("index_low:Q", title="interval from", format=".2f"),
            alt.Tooltip("index_high:Q", title="interval to", format=".2f"),
            alt.Tooltip("parts_observed:Q", title=f"parts observed (of {len(PARTS)})"),
            alt.Tooltip("authored:Q"),
        ],
    )
    names = (
        base.transform_filter("isValid(datum.label_x)")
        .mark_text(align="left", baseline="middle", fontSize=10, color="#333333")
        .encode(x=x("label_x"), y=y("label_y"), text="leader:N")
    )
    rule = (
        alt.Chart(pl.DataFrame({"threshold": [threshold]}))
        .mark_rule(strokeDash=[4, 4], color="#555555")
        .encode(x="threshold:Q")
    )
    subtitle = [
        f"participator from an index of {threshold:.2f} (dashed line); "
        f"bars: {LEVEL:.0%} interval of each leader's index"
    ]
    if hidden:
        verb = "is" if hidden == 1 else "are"
        subtitle.append(
            f"{hidden} leader{'s' if hidden != 1 else ''} undetermined for lack of evidence "
            f"{verb} not shown"
        )
    return alt.layer(rule, intervals, points, names).properties(
        title=alt.Title(title, subtitle=subtitle), width=width, height=height
    )


def measure_comparison(
    table: pl.DataFrame,
    *,
    measures: Sequence[str] = COMPARISON_MEASURES,
    leaders: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Leaders measure by measure",
) -> alt.LayerChart:
    """Heatmap of leaders × measures, with the tribe median as the first row.

    The median is taken over every leader of ``table``; ``leaders`` picks the
    rows shown. Columns are named by :data:`MEASURE_NAMES` (the parts by their
    way of participating); a cell whose measure is null (unobservable signal,
    too little evidence) reads "n/o", not observed.
    """
    measures = list(measures)
    chosen = table if leaders is None else table.filter(pl.col("leader_id").is_in(list(leaders)))
    named = ["leader_name"] if "leader_name" in chosen.columns else []
    long = (
        _label(chosen.select("leader_id", *named, *measures), labels)
        .drop(named)
        .unpivot(index=["leader_id", "leader"], on=measures, variable_name="measure")
        .with_columns(pl.col("value").cast(pl.Float64))
    )
    median = table.select(pl.col(measures).cast(pl.Float64).median()).unpivot(
        variable_name="measure"
    )
    median = median.with_columns(
        pl.lit("").alias("leader_id"), pl.lit("tribe median").alias("leader")
    ).select(long.columns)
    shown = {m: MEASURE_NAMES.get(m, m) for m in measures}
    data = (
        _chart_data(pl.concat([median, long]), ["leader_id", "measure"])
        .drop("leader_id")
        .with_columns(pl.col("measure").replace_strict(shown, return_dtype=pl.String).alias("name"))
    )
    order = [
        "tribe median",
        *[r for r in data["leader"].unique(maintain_order=True) if r != "tribe median"],
    ]
    base = alt.Chart(data).encode(
        x=alt.X("name:N", sort=list(shown.values()), title=None, axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("leader:N", sort=order, title=None),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("value:Q", title="share", scale=alt.Scale(domain=[0, 1], scheme="blues")),
        tooltip=[
            "leader:N",
            alt.Tooltip("name:N", title="measure"),
            alt.Tooltip("measure:N", title="column"),
            alt.Tooltip("value:Q", format=".2f"),
        ],
    )
    text = (
        base.transform_calculate(text="isValid(datum.value) ? format(datum.value, '.2f') : 'n/o'")
        .mark_text(fontSize=10)
        .encode(
            text=alt.Text("text:N"),
            color=alt.condition("datum.value > 0.55", alt.value("white"), alt.value("black")),
        )
    )
    return alt.layer(cells, text).properties(
        title=alt.Title(title, subtitle="n/o: not observed (signal unobservable or too few cases)"),
        width=70 * len(measures),
    )


def ego_network(
    edges: pl.DataFrame,
    leader: str,
    *,
    max_alters: int = 30,
    seed: int = 7,
    labels: Mapping[str, str] | None = None,
) -> alt.LayerChart:
    """The leader's ego network: the strongest ties, a seeded spring layout.

    Node size is the tie weight with the leader; an edge from the leader is
    highlighted where the leader replied to that account.
    """
    ego = graph.ego_networks(edges, [leader])[leader]
    ties = sorted(
        ((ego[leader][a].get("weight", 1), a) for a in ego.neighbors(leader)),
        key=lambda t: (-t[0], t[1]),
    )[:max_alters]
    keep = [leader] + sorted(a for _, a in ties)
    sub = ego.subgraph(keep).copy()
    pos = (
        nx.spring_layout(sub, seed=seed, weight=None)
        if sub.number_of_nodes() > 1
        else {leader: (0.0, 0.0)}
    )
    replied = set(
        edges.filter((pl.col("source") == leader) & (pl.col("reply") > 0))["target"].to_list()
    )
    show = dict(labels or {})
    nodes = pl.DataFrame(
        {
            "node": list(keep),
            "label": [show.get(n, n) if n == leader else "" for n in keep],
            "role": ["leader" if n == leader else "tribe member" for n in keep],
            "x": [float(pos[n][0]) for n in keep],
            "y": [float(pos[n][1]) for n in keep],
            "weight": [
                max((w for w, _ in ties), default=1)
                if n == leader
                else int(ego[leader][n].get("weight", 1))
                for n in keep
            ],
        }
    )
    links = pl.DataFrame(
        [
            {
                "x": float(pos[u][0]),
                "y": float(pos[u][1]),
                "x2": float(pos[v][0]),
                "y2": float(pos[v][1]),
                "kind": (
                    "leader replied"
                    if leader in (u, v) and ({u, v} - {leader}) <= replied
                    else "tie"
                ),
                "pair": f"{min(u, v)}|{max(u, v)}",
            }
            for u, v in sub.edges()
        ],
        schema={
            "x": pl.Float64,
            "y": pl.Float64,
            "x2": pl.Float64,
            "y2": pl.Float64,
            "kind": pl.String,
            "pair": pl.String,
        },
    )
    node_data = (
        _chart_data(nodes, ["node"])
        .with_columns(
            pl.when(pl.col("role") == "leader")
            .then(pl.lit(None))
            .otherwise(pl.col("node"))
            .alias("account")
        )
        .drop("node")
    )
    if labels:
        node_data = node_data.with_columns(pl.lit(None, pl.String).alias("account"))
    edge_layer = (
        alt.Chart(_chart_data(links, ["pair"]).drop("pair"))
        .mark_rule()
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            x2="x2:Q",
            y2="y2:Q",
            color=alt.Color(
                "kind:N",
                title="tie",
                scale=alt.Scale(domain=["leader replied", "tie"], range=["#009E73", "#cccccc"]),
            ),
            strokeWidth=alt.condition("datum.kind == 'leader replied'", alt.value(2), alt.value(1)),
        )
    )
    node_layer = (
        alt.Chart(node_data)
        .mark_circle(stroke="white")
        .encode(
            x="x:Q",
            y="y:Q",
            size=alt.Size(
                "weight:Q", title="interactions with leader", scale=alt.Scale(range=[30, 400])
            ),
            color=alt.Color(
                "role:N",
                title="role",
                scale=alt.Scale(
                    domain=["leader", "tribe member"], range=[_LEADER_COLOR, _MEMBER_COLOR]
                ),
            ),
            tooltip=["role:N", "account:N", "weight:Q"],
        )
    )
    name = (
        alt.Chart(node_data)
        .mark_text(dy=-14, fontWeight="bold")
        .encode(x="x:Q", y="y:Q", text="label:N")
    )
    title = f"Ego network of {show.get(leader, leader)}"
    return (
        alt.layer(edge_layer, node_layer, name)
        .resolve_scale(color="independent")
        .properties(
            title=alt.Title(
                title,
                subtitle=(
                    f"{len(ties)} strongest of {ego.degree(leader)} ties"
                    if ties
                    else "no ties in the input"
                ),
            ),
            width=360,
            height=360,
        )
    )


def thread_view(
    events: pl.DataFrame, leader: str, *, labels: Mapping[str, str] | None = None, limit: int = 200
) -> alt.Chart:
    """The leader's threads: when each root post was made, who joined, whether the leader answered."""
    posts = events.filter((pl.col("actor_id") == leader) & (pl.col("action") == "post")).select(
        pl.col("event_id").alias("thread_id"), "timestamp"
    )
    replies = events.filter(
        (pl.col("action") == "reply") & pl.col("thread_id").is_in(posts["thread_id"].implode())
    )
    per_thread = replies.group_by("thread_id").agg(
        pl.col("actor_id").filter(pl.col("actor_id") != leader).n_unique().alias("joined"),
        (pl.col("actor_id") != leader).sum().alias("comments"),
        ((pl.col("actor_id") == leader) & (pl.col("target_actor_id") != leader))
        .any()
        .alias("answered"),
    )
    data = (
        posts.join(per_thread, on="thread_id", how="left")
        .with_columns(
            pl.col("joined", "comments").fill_null(0),
            pl.when(pl.col("answered").fill_null(False))
            .then(pl.lit("leader answered"))
            .when(pl.col("comments").fill_null(0) > 0)
            .then(pl.lit("left unanswered"))
            .otherwise(pl.lit("no comments"))
            .alias("conversation"),
        )
        .sort("timestamp", "thread_id")
        .tail(limit)
        .drop("answered")
    )
    name = (labels or {}).get(leader, leader)
    return (
        alt.Chart(_chart_data(data, ["timestamp", "thread_id"]).drop("thread_id"))
        .mark_circle(opacity=0.8)
        .encode(
            x=alt.X("timestamp:T", title="root post"),
            y=alt.Y("joined:Q", title="others who joined"),
            size=alt.Size("comments:Q", title="comments", scale=alt.Scale(range=[20, 300])),
            color=alt.Color(
                "conversation:N",
                title=None,
                scale=alt.Scale(
                    domain=["leader answered", "left unanswered", "no comments"],
                    range=["#009E73", "#E69F00", "#cccccc"],
                ),
            ),
            tooltip=[
                alt.Tooltip("timestamp:T", format="%Y-%m-%d %H:%M"),
                "joined:Q",
                "comments:Q",
                "conversation:N",
            ],
        )
        .properties(title=f"Threads started by {name}", width=460, height=220)
    )


def activity_timeline(
    events: pl.DataFrame,
    *,
    actors: Sequence[str] | None = None,
    every: str = "1w",
    title: str = "Activity by action",
) -> alt.Chart:
    """Counts of each action per period (stacked bars), for all or some actors."""
    chosen = events if actors is None else events.filter(pl.col("actor_id").is_in(list(actors)))
    counts = (
        chosen.group_by(pl.col("timestamp").dt.truncate(every).alias("period"), "action")
        .len()
        .with_columns(
            pl.col("action").cast(pl.String), pl.col("len").cast(pl.Int64).alias("events")
        )
        .drop("len")
    )
    return (
        alt.Chart(_chart_data(counts, ["period", "action"]))
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("events:Q", title=f"events per {every}"),
            color=alt.Color(
                "action:N",
                scale=alt.Scale(domain=list(ACTION_COLORS), range=list(ACTION_COLORS.values())),
            ),
            order=alt.Order("action:N"),
            tooltip=[alt.Tooltip("period:T", format="%Y-%m-%d"), "action:N", "events:Q"],
        )
        .properties(title=title, width=460, height=200)
    )


def style_over_time(
    windowed: pl.DataFrame,
    *,
    split: datetime | None = None,
    labels: Mapping[str, str] | None = None,
    threshold: float = PARTICIPATOR_THRESHOLD,
    title: str = "Participation over time",
) -> alt.LayerChart:
    """Each leader's participation index per window; with ``split``, mean before vs after.

    ``windowed`` is :func:`tribe_analysis.features.leader_measures` with ``every``.
    """
    data = _label(windowed.select("leader_id", "window_start", "participation_index"), labels)
    lines = (
        alt.Chart(_chart_data(data, ["leader_id", "window_start"]).drop("leader_id"))
        .mark_line(point=True)
        .encode(
            x=alt.X("window_start:T", title=None),
            y=alt.Y(
                "participation_index:Q", title="participation index", scale=alt.Scale(domain=[0, 1])
            ),
            color=alt.Color("leader:N", title="leader"),
            tooltip=[
                "leader:N",
                alt.Tooltip("window_start:T", format="%Y-%m-%d"),
                alt.Tooltip("participation_index:Q", format=".2f"),
            ],
        )
    )
    rule = (
        alt.Chart(pl.DataFrame({"threshold": [threshold]}))
        .mark_rule(strokeDash=[4, 4], color="#555555")
        .encode(y="threshold:Q")
    )
    layers = [rule, lines]
    subtitle = None
    if split is not None:
        side = (
            pl.when(pl.col("window_start") < split)
            .then(pl.lit("before"))
            .otherwise(pl.lit("after"))
        )
        spans = (
            data.with_columns(side.alias("period"))
            .group_by("leader_id", "leader", "period")
            .agg(
                pl.col("participation_index").mean().alias("mean_index"),
                pl.col("window_start").min().alias("start"),
                pl.col("window_start").max().alias("end"),
            )
        )
        layers.append(
            alt.Chart(_chart_data(spans, ["leader_id", "period"]).drop("leader_id"))
            .mark_rule(strokeWidth=4, opacity=0.45)
            .encode(
                x="start:T",
                x2="end:T",
                y="mean_index:Q",
                color="leader:N",
                tooltip=["leader:N", "period:N", alt.Tooltip("mean_index:Q", format=".2f")],
            )
        )
        layers.append(
            alt.Chart(pl.DataFrame({"split": [split.strftime("%Y-%m-%dT%H:%M:%SZ")]}))
            .mark_rule(color="black")
            .encode(x="split:T")
        )
        subtitle = f"thick lines: mean before / after {split:%Y-%m-%d}"
    return alt.layer(*layers).properties(
        title=alt.Title(title, subtitle=subtitle) if subtitle else title, width=460, height=240
    )


def _parts_panel(row: Mapping, table: pl.DataFrame, color: str) -> alt.LayerChart:
    """The five parts of the index for one leader: value, interval, tribe median, or "not observed"."""
    records = []
    for order, (part, way) in enumerate(PARTS.items()):
        value = row.get(part)
        num, den = row.get(f"{part}_num"), row.get(f"{part}_den")
        records.append(
            {
                "order": order,
                "way": way,
                "value": value,
                "low": row.get(f"{part}_low"),
                "high": row.get(f"{part}_high"),
                "evidence": None if value is None or den is None else f"{num:g} of {den:g}",
                "median": (
                    table.get_column(part).cast(pl.Float64).median()
                    if part in table.columns
                    else None
                ),
                "note": NOT_OBSERVED if value is None else None,
            }
        )
    schema = {
        "order": pl.Int64,
        "way": pl.String,
        "value": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "evidence": pl.String,
        "median": pl.Float64,
        "note": pl.String,
    }
    data = _chart_data(pl.DataFrame(records, schema=schema), ["order"]).drop("order")
    base = alt.Chart(data).encode(y=alt.Y("way:N", sort=list(PARTS.values()), title=None))

    def x(field: str) -> alt.X:
        return alt.X(
            f"{field}:Q", title="rate", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(tickCount=5)
        )

    tooltip = [
        alt.Tooltip("way:N"),
        alt.Tooltip("value:Q", format=".2f"),
        alt.Tooltip("low:Q", title="interval from", format=".2f"),
        alt.Tooltip("high:Q", title="interval to", format=".2f"),
        alt.Tooltip("evidence:N"),
        alt.Tooltip("median:Q", title="tribe median", format=".2f"),
    ]
    return alt.layer(
        base.transform_filter("isValid(datum.value)")
        .mark_tick(color="black", thickness=2, size=20)
        .encode(x=x("median")),
        base.mark_errorbar(ticks=True, color=color, thickness=2).encode(
            x=x("low"), x2="high:Q", tooltip=tooltip
        ),
        base.mark_point(filled=True, size=110, color=color, opacity=1).encode(
            x=x("value"), tooltip=tooltip
        ),
        base.transform_filter("isValid(datum.note)")
        .mark_text(align="left", x=6, fontStyle="italic", color="#555555")
        .encode(text="note:N"),
    ).properties(
        title=alt.Title(
            "Ways of participating",
            subtitle=f"dot: this leader · bar: {LEVEL:.0%} interval · tick: tribe median",
        ),
        width=300,
        height=200,
    )


def report_card(
    leader: str,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    seed: int = 7,
) -> alt.VConcatChart:
    """One page for a workshop: the leader's label and why, its ways of participating, ties, threads.

    The title gives the label (the sub-profile and the probability of the
    label when decided), the subtitle the ``reason`` and the ``ways``
    sentence. The first panel shows each of the five parts of the index by its
    way (seeing, commenting, ...): the leader's rate with its Jeffreys interval
    and the tribe median, or "not observed" where the part is null.
    """
    rows = table.filter(pl.col("leader_id") == leader)
    if rows.is_empty():
        raise ValueError(f"leader {leader!r} is not in the profile table")
    row = rows.row(0, named=True)
    name = _display_name(leader, row, labels)
    shown = dict(labels) if labels else {leader: name}
    profile = row["profile"]
    label = row.get("sub_profile") or profile
    if row.get("probability") is not None:
        label += f" (probability {row['probability']:.2f})"
    subtitle = [text for text in (row.get("reason"), row.get("ways")) if text]
    parts = _parts_panel(row, table, PROFILE_COLORS.get(profile, "#777777"))
    top = alt.hconcat(parts, ego_network(edges, leader, seed=seed, labels=shown)).resolve_scale(
        color="independent", size="independent"
    )
    card = alt.vconcat(top, thread_view(events, leader, labels=shown))
    return card.resolve_scale(color="independent", size="independent").properties(
        title=alt.Title(f"Report card — {name}: {label}", subtitle=subtitle or None, fontSize=20)
    )


def render(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> dict[str, bytes]:
    """The chart as SVG and PNG bytes, rendered once offline by vl-convert.

    The PNG is rasterised from the SVG, so the two always show the same picture.
    """
    import vl_convert as vlc

    with alt.theme.enable(THEME):
        spec = chart.to_dict()
    svg = vlc.vegalite_to_svg(spec)
    return {"svg": svg.encode("utf-8"), "png": bytes(vlc.svg_to_png(svg, scale=scale))}


def save_chart(chart: alt.TopLevelMixin, path: str | Path, *, scale: float = 2.0) -> Path:
    """Save a chart offline as PNG, SVG or self-contained HTML (by suffix).

    PNG and SVG are rendered by vl-convert (no browser, no network) with the
    ``tribe`` theme; HTML embeds the JavaScript so it opens offline.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg", ".html"):
        raise ValueError(
            f"cannot save a chart as {suffix or '(no suffix)'!r} (expected .png, .svg or .html)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        with alt.theme.enable(THEME):
            chart.save(path, inline=True)
    else:
        path.write_bytes(render(chart, scale=scale)[suffix[1:]])
    return path
