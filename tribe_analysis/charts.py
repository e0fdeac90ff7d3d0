"""Altair charts of leaders, profiles and tribes; export offline with vl-convert.

Every function takes polars frames and returns an Altair chart; none displays
anything. Data are aggregated in polars first (a chart carries at most a few
thousand rows whatever the input size), rows are sorted and floats rounded so
that the same input gives the same Vega-Lite spec, byte for byte. The registered
``tribe`` theme gives the workshop look: readable fonts and the colour-blind-safe
Okabe-Ito colours for the profiles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, cast

import altair as alt
import networkx as nx
import polars as pl

from tribe_analysis import graph
from tribe_analysis._labels import closed_bidi, natural_key, visible_name
from tribe_analysis._labels import place_labels as _place_labels
from tribe_analysis.participation import LEVEL, PARTS
from tribe_analysis.profiles import PARTICIPATOR_THRESHOLD, PROFILES

__all__ = [
    "ACTION_COLORS",
    "CONVERSATION_COLORS",
    "COMPARISON_MEASURES",
    "MEASURE_NAMES",
    "NOT_OBSERVED",
    "PROFILE_COLORS",
    "RENDER_FONT",
    "THEME",
    "activity_timeline",
    "ego_network",
    "measure_comparison",
    "measure_name",
    "profile_map",
    "pseudonym_labels",
    "readable_measures",
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
CONVERSATION_COLORS: dict[str, str] = {
    "leader answered": "#009E73",
    "left unanswered": "#E69F00",
    "no comments": "#cccccc",
}
"""Colours of a thread in :func:`thread_view`: whether the leader answered anyone in it."""
_COLOR_NAMES = {"#009E73": "green", "#E69F00": "orange", "#cccccc": "grey"}

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
    "participation_index": "participation index",
    "index_low": "index, interval from",
    "index_high": "index, interval to",
    "index_se": "index standard error",
    "parts_observed": "parts observed",
    "sub_profile": "sub-profile",
    "p_participator": "probability of participator",
    "drivers": "label rests on",
    "posts": "posts",
    "replies": "replies",
    "shares": "shares",
    "reactions": "reactions",
    "authored": "authored actions",
    "tribe_size": "tribe size",
    "interactions_out": "interactions given",
    "interactions_in": "interactions received",
    "see_coverage": "seeing coverage (tribe posts)",
    "reply_rate": "reply rate (comments on own posts)",
    "promotion_share": "promotion share (posts and shares)",
    "comment_targets": "comment targets",
    "reply_concentration": "reply concentration",
    "reply_latency_h": "reply latency (hours)",
    "dialogic_loop_share": "dialogic loop share",
    "conversation_posts": "conversation posts",
    "participants": "participants",
    "depth": "thread depth",
    "focus_ratio": "focus ratio",
    "conversation_yield": "conversation yield",
    "promoted_breadth": "promoted breadth",
    "broadcast_share": "broadcasting",
    "unanswered_share": "unanswered share",
    "alter_reciprocity": "alter reciprocity",
    "give_receive_log_ratio": "give / receive balance",
    "ego_size": "ego network size",
    "ego_density": "ego network density",
    "ego_clustering": "ego clustering",
    "ego_effective_size": "ego effective size",
    "ego_constraint": "ego constraint",
}
"""The glossary: column -> the words the report, the cards and the charts show.

The five parts of the index by the way of participating they measure
(:data:`~tribe_analysis.participation.PARTS`, the words of docs/methods.md),
every other measure by its name in docs/methods.md. Use :func:`measure_name`
and :func:`readable_measures` rather than indexing, so that a column missing
here still reads well.
"""
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


_VEGALITE5_MIME = "application/vnd.vegalite.v5+json"
"""The newest Vega-Lite MIME type JupyterLab 4 renders (with its bundled Vega-Lite 5)."""


def _vl_convert_version() -> str:
    """The Vega-Lite version Altair writes (``v6.4.1`` -> ``6.4``), for vl-convert."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def _offline_bundle(spec: dict, **metadata) -> dict | tuple[dict, dict]:
    """The ``tribe`` notebook renderer: the spec for JupyterLab, an SVG for static viewers.

    No script, no CDN: JupyterLab draws the spec with the Vega-Lite 5 renderer it
    bundles; nbconvert, GitHub and nbviewer show the SVG that vl-convert drew
    offline. Both are deterministic, so nbval compares both. Altair's
    ``embed_options`` (``chart.display(actions=False)``) go to JupyterLab as metadata.
    """
    from tribe_analysis._drawing import vl_convert, xml_text

    vlc = vl_convert()
    bundle = {
        _VEGALITE5_MIME: spec,
        "image/svg+xml": vlc.vegalite_to_svg(xml_text(spec), vl_version=_vl_convert_version()),
        "text/plain": "<Altair chart>",
    }
    if embed_options := metadata.get("embed_options"):
        return bundle, {_VEGALITE5_MIME: {"embed_options": embed_options}}
    return bundle


alt.renderers.register("tribe", _offline_bundle)


def setup_notebook() -> None:
    """Make notebook charts offline, safe and deterministic; call it in the first cell.

    Enables the ``tribe`` renderer. Altair's own ``html`` renderer stores a
    script that loads vega, vega-lite and vega-embed from a CDN: its charts are
    blank in a notebook that is not trusted (every fresh clone), fail offline
    and are blank in ``jupyter nbconvert --to html`` without network. The
    ``tribe`` renderer stores no script. Each chart output carries

    - the Vega-Lite spec as ``application/vnd.vegalite.v5+json``, which
      JupyterLab draws interactively (tooltips) with the Vega-Lite 5 it bundles:
      a "safe" renderer, so it works offline and in untrusted notebooks (our
      specs keep to what Vega-Lite 5 draws; docs/notebooks.md);
    - the same chart as ``image/svg+xml``, drawn offline by vl-convert, for
      static viewers (nbconvert HTML, GitHub, nbviewer);
    - ``text/plain`` for consoles.

    nbval compares the spec and the SVG text, so a changed number fails the
    cell. It also enables the ``tribe`` theme and polars' in-memory engine (its
    float sums do not vary run to run).
    """
    alt.renderers.enable("tribe")
    alt.theme.enable(THEME)
    pl.Config.set_engine_affinity("in-memory")


def _frames(**frames: object) -> None:
    """Refuse what is not a polars DataFrame, naming the argument (a chart needs the rows)."""
    for name, frame in frames.items():
        if isinstance(frame, pl.LazyFrame):
            raise TypeError(
                f"{name} must be a polars DataFrame, not a LazyFrame: .collect() it first"
            )
        if not isinstance(frame, pl.DataFrame):
            raise TypeError(f"{name} must be a polars DataFrame, not {type(frame).__name__}")


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


def measure_name(column: str) -> str:
    """The readable name of a measure column, from :data:`MEASURE_NAMES`.

    Examples
    --------
    >>> measure_name("conversation_share"), measure_name("dialogic_loop_share")
    ('starting conversations', 'dialogic loop share')
    >>> measure_name("some_new_rate")
    'some new rate'
    """
    return MEASURE_NAMES.get(column, column.replace("_", " "))


def readable_measures(columns: str | Sequence[str] | None) -> str:
    """Measure columns (a list, or text joined by ``,``) as readable names joined by ``, ``.

    Reads the ``drivers`` column of a profile table.

    Examples
    --------
    >>> readable_measures("conversation_share, answer_rate")
    'starting conversations, answering'
    >>> readable_measures(["see_breadth"]), readable_measures(""), readable_measures(None)
    ('seeing', '', '')
    """
    if columns is None:
        return ""
    if isinstance(columns, str):
        columns = columns.split(",")
    return ", ".join(measure_name(c.strip()) for c in columns if c.strip())


NAME_LIMIT = 40
"""Characters of a leader's name a chart shows (longer ones end in "…"): an institution's
display name would otherwise widen a report card past a slide and cover its ego network."""


def _label(frame: pl.DataFrame, labels: Mapping[str, str] | None, column: str = "leader_id"):
    """Add ``leader``: the name from ``labels``, else from ``leader_name``, else the id.

    Names are written as :func:`tribe_analysis._labels.visible_name` writes them (one
    that shows nothing gives way to the id) and cut to :data:`NAME_LIMIT` characters.
    Two leaders never share a label (charts group and place rows by it): where names
    coincide, each is followed by the leader's id.

    Examples
    --------
    >>> f = pl.DataFrame({"leader_id": ["a1", "a2", "b"], "leader_name": ["Tom", " Tom", "  "]})
    >>> _label(f, None)["leader"].to_list()
    ['Tom (a1)', 'Tom (a2)', 'b']
    """
    ids = frame.get_column(column).to_list()
    if labels:
        given = [labels.get(leader) for leader in ids]
    elif "leader_name" in frame.columns:
        given = frame.get_column("leader_name").to_list()
    else:
        given = [None] * len(ids)
    names = [
        _short_text(visible_name(name) or leader) for leader, name in zip(ids, given, strict=True)
    ]
    shown = frame.with_columns(
        pl.Series("leader", names, dtype=pl.String),
        pl.Series("__id", [closed_bidi(leader) for leader in ids], dtype=pl.String),
    )
    shared = pl.col(column).n_unique().over("leader") > 1
    alone = pl.format("{} ({})", pl.col("leader"), pl.col("__id"))
    return shown.with_columns(
        pl.when(shared).then(alone).otherwise(pl.col("leader")).alias("leader")
    ).drop("__id")


def _shown_name(labels: Mapping[str, str] | None, leader: str) -> str:
    """The leader's name in ``labels`` as charts write it (:func:`visible_name`), else its id."""
    return visible_name((labels or {}).get(leader)) or leader


def _short_text(name: str) -> str:
    """``name`` cut to :data:`NAME_LIMIT` characters, the last one "…", where it is longer.

    Direction overrides it opens are closed after the cut (:func:`closed_bidi`), so
    that a name reverses only itself.
    """
    if len(name) > NAME_LIMIT:
        name = name[: NAME_LIMIT - 1].rstrip() + "…"
    return closed_bidi(name)


def _nice_domain(values: Sequence[float], step: float = 0.5) -> tuple[float, float]:
    """The smallest [low, high] on multiples of ``step`` that holds every value."""
    low = math.floor(min(values) / step) * step
    high = math.ceil(max(values) / step) * step
    return (low, high) if high > low else (low - step, high + step)


def _balance_domain(values: Sequence[float]) -> tuple[float, float]:
    """The profile map's y domain: the balances shown, with 0 (give = receive) when it is near.

    0 is kept in view while it is no further from the values than they spread
    (so at most about half the plot is empty); leaders who all receive far more
    than they give (news outlets) get the plot's height to themselves.

    Examples
    --------
    >>> _balance_domain([-0.6, 0.5]), _balance_domain([-1.2, -0.4]), _balance_domain([-5.8, -4.4])
    ((-1.0, 0.5), (-1.5, 0.0), (-6.0, -4.0))
    >>> _balance_domain([])
    (-0.5, 0.5)
    """
    if not values:
        return _nice_domain([0.0])
    low, high = min(values), max(values)
    gap = max(low, 0.0) + max(-high, 0.0)  # from 0 to the nearest value, 0 when between
    return _nice_domain([*values, 0.0] if gap <= high - low else values)


def _tip(row: Mapping) -> str:
    """One leader's tooltip on the profile map: name, label, reason, ways, activity (lines)."""
    label = row.get("sub_profile") or row.get("profile") or ""
    if row.get("probability") is not None:
        label += f" (probability {row['probability']:.2f})"
    lines = [f"{row['leader']}: {label}", row.get("reason"), row.get("ways")]
    lines.append(f"authored actions: {row.get('authored') or 0}")
    return "\n".join(line for line in lines if line)


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
    is left out and counted in the subtitle; a map with no leader to place says
    so in its plot. Names are written beside their point where they fit clear of
    every point, bar and other name, else a little further out at the end of a
    thin grey line from the point (undetermined leaders first, then the most
    active; points on one spot stay unnamed:
    :func:`tribe_analysis._labels.place_labels`); every point carries its leader's
    label, reason and ways as a tooltip and as its ``description`` (the report
    shows it on hover).

    Parameters
    ----------
    table : polars.DataFrame
        Profile table (``tribe_analysis.profiles.profile_leaders``): needs
        ``leader_id``, ``profile``, ``sub_profile``, ``reason``, ``probability``,
        ``participation_index``, ``index_low``, ``index_high``,
        ``parts_observed``, ``give_receive_log_ratio``, ``authored``; uses
        ``leader_name`` when present and ``labels`` is not given, and ``ways``
        when present.
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
    ['rule', 'errorbar', 'point', 'text', 'rule']
    >>> spec["title"]["subtitle"][-1]
    '1 leader undetermined for lack of evidence is not shown'
    """
    _frames(table=table)
    frame, hidden = _map_frame(table, labels)
    width, height = 460, 320
    y_domain = _balance_domain(frame["give_receive_log_ratio"].drop_nulls().to_list())
    most = max(cast(int, frame["authored"].fill_null(0).max()) or 0, 1)
    placed = _with_name_spots(frame, width=width, height=height, y_domain=y_domain, most=most)
    data = _chart_data(placed, ["leader_id"]).drop("leader_id")
    subs, shapes = _sub_profile_shapes(placed)

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title="participation index", scale=alt.Scale(domain=[0, 1]))

    def y(field: str) -> alt.Y:
        return alt.Y(
            f"{field}:Q",
            title="give / receive balance, log((out+1)/(in+1))",
            scale=alt.Scale(domain=list(y_domain), nice=False, zero=False, padding=0),
        )

    base = alt.Chart(data)
    intervals = base.mark_errorbar(ticks=True, thickness=1.5, opacity=0.7).encode(
        x=x("index_low"), x2="index_high:Q", y=y("give_receive_log_ratio"), color=_profile_color()
    )
    points = base.mark_point(filled=True, opacity=0.9, aria=True).encode(
        x=x("participation_index"),
        y=y("give_receive_log_ratio"),
        color=_profile_color(),
        shape=alt.Shape(
            "sub_profile:N",
            title="sub-profile",
            scale=alt.Scale(domain=subs, range=shapes),
            legend=alt.Undefined if frame.height else None,
        ),
        size=alt.Size(
            "authored:Q",
            title="authored actions",
            scale=alt.Scale(domain=[0, most], range=[40, 500], nice=False),
            legend=alt.Legend(format=",d", tickMinStep=1) if frame.height else None,
        ),
        description=alt.Description("tip:N"),
        tooltip=_MAP_TOOLTIP,
    )
    names = (
        base.transform_filter("isValid(datum.label_x)")
        .mark_text(align="left", baseline="middle", fontSize=10, color="#333333")
        .encode(x=x("label_x"), y=y("label_y"), text=alt.Text("leader:N"))
    )
    callouts = (
        base.transform_filter("isValid(datum.line_x)")
        .mark_rule(color="#777777", strokeWidth=0.8)
        .encode(x=x("line_x"), y=y("line_y"), x2="line_x2:Q", y2="line_y2:Q")
    )
    rule = (
        alt.Chart(pl.DataFrame({"threshold": [threshold]}))
        .mark_rule(strokeDash=[4, 4], color="#555555")
        .encode(x="threshold:Q")
    )
    layers = [rule, intervals, points, names, callouts]
    if not frame.height:  # say so in the plot, where the points would be
        layers.append(_empty_map_note(hidden, width, height))
    chart = alt.layer(*layers).properties(
        title=alt.Title(title, subtitle=_map_subtitle(threshold, hidden)),
        width=width,
        height=height,
    )
    return cast(alt.LayerChart, chart)  # properties() is typed as any top-level chart


_MAP_COLUMNS = (
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
)

_MAP_TOOLTIP = [
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
]


def _map_frame(table: pl.DataFrame, labels: Mapping[str, str] | None) -> tuple[pl.DataFrame, int]:
    """Leaders that have an index (sorted, display names in ``leader``), and how many do not."""
    named = ["leader_name"] if "leader_name" in table.columns else []
    ways = ["ways"] if "ways" in table.columns else []
    frame = _label(table.select(*_MAP_COLUMNS, *named, *ways), labels).drop(named)
    placed = frame.filter(pl.col("participation_index").is_not_null())
    placed = placed.sort("leader_id").with_columns(
        pl.col("give_receive_log_ratio").fill_null(0.0).fill_nan(0.0)
    )
    return placed, frame.height - placed.height


def _with_name_spots(
    placed: pl.DataFrame, *, width: int, height: int, y_domain: tuple, most: float
) -> pl.DataFrame:
    """Add where the names go, the callout lines and the ``tip`` text.

    ``label_x``/``label_y``: a name's left middle (null where none fits);
    ``line_x``/``line_y`` to ``line_x2``/``line_y2``: its callout line (null when
    the name is beside its point).
    """
    balance = placed["give_receive_log_ratio"].to_list()
    sizes = [40 + 460 * (a or 0) / most for a in placed["authored"].to_list()]
    # undetermined leaders first (the ones to talk about), then the most active
    order = sorted(
        range(placed.height),
        key=lambda i: (placed["profile"][i] != _UNDETERMINED, -(placed["authored"][i] or 0), i),
    )
    spots = _place_labels(
        placed["participation_index"].to_list(),
        balance,
        placed["leader"].to_list(),
        width=width,
        height=height,
        y_domain=y_domain,
        radius=[size**0.5 / 2 * 1.2 for size in sizes],
        spans=list(zip(placed["index_low"].to_list(), placed["index_high"].to_list(), strict=True)),
        order=order,
        callouts=True,
    )
    ways = ["ways"] if "ways" in placed.columns else []
    lines = [s[2:] if s is not None and len(s) == 6 else (None,) * 4 for s in spots]
    return placed.with_columns(
        pl.Series("label_x", [s and s[0] for s in spots], dtype=pl.Float64),
        pl.Series("label_y", [s and s[1] for s in spots], dtype=pl.Float64),
        *(
            pl.Series(name, [line[k] for line in lines], dtype=pl.Float64)
            for k, name in enumerate(("line_x", "line_y", "line_x2", "line_y2"))
        ),
        pl.Series("tip", [_tip(row) for row in placed.iter_rows(named=True)], dtype=pl.String),
    ).drop(ways)


def _sub_profile_shapes(placed: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Shape domain and range: sub-profiles by label order, undetermined last (a diamond)."""
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
    return [*decided, *(s for s in subs if s == _UNDETERMINED)], shapes


def _words_in_plot(lines: Sequence[str], x: float, y: float) -> alt.Chart:
    """Grey words at pixel (``x``, ``y``) of a plot: what a chart without data says instead."""
    note = pl.DataFrame({"text": [list(lines)]})
    return (
        alt.Chart(note)
        .mark_text(fontSize=13, color="#555555", lineHeight=18)
        .encode(text="text:N", x=alt.XValue(x), y=alt.YValue(y))
    )


def _empty_map_note(hidden: int, width: int, height: int) -> alt.Chart:
    """The words a map without points shows in the middle of its plot."""
    lines = ["No leader to place"]
    if hidden:
        lines = [
            "No leader to place:",
            "none has enough evidence",
            "for an index (see the reasons)",
        ]
    # right of the threshold's dashed line, which the words would otherwise cross
    return _words_in_plot(lines, 0.675 * width, height / 2)


def _map_subtitle(threshold: float, hidden: int) -> list[str]:
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
    return subtitle


def measure_comparison(
    table: pl.DataFrame,
    *,
    measures: Sequence[str] = COMPARISON_MEASURES,
    leaders: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Leaders measure by measure",
) -> alt.LayerChart:
    """Heatmap of leaders × measures, with the tribe median as the first row.

    ``table`` is a profile table or :func:`tribe_analysis.features.leader_measures`.
    The median is taken over every leader of ``table``; ``leaders`` picks the
    rows shown, by name in natural order (``Leader 2`` before ``Leader 10``).
    Columns are named by :data:`MEASURE_NAMES` (the parts by their way of
    participating); a cell whose measure is null (unobservable signal, too little
    evidence) reads "n/o", not observed.

    Returns
    -------
    altair.LayerChart
        Cells (``rect``) and their values (``text``); the data has one row per
        shown leader (``leader``, ``row``: its place from the top) and measure
        (``measure``, ``name``, ``value``).

    Raises
    ------
    ValueError
        When a leader of ``leaders`` is not in ``table`` (it would be left out of
        the chart), or a measure is not a column of ``table``.
    TypeError
        When ``leaders`` or ``measures`` is a single string.

    Examples
    --------
    >>> from tribe_analysis import features
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    >>> measures = features.leader_measures(tribe.events, tribe.leaders, ego=False)
    >>> spec = measure_comparison(measures, leaders=["L003", "L001"]).to_dict()
    >>> rows = spec["datasets"][next(iter(spec["datasets"]))]
    >>> sorted({row["leader"] for row in rows})
    ['L001', 'L003', 'tribe median']
    >>> next(r for r in rows if r["leader"] == "L001" and r["measure"] == "answer_rate")
    {'leader': 'L001', 'measure': 'answer_rate', 'value': 0.4615, 'name': 'answering', 'row': 1}
    """
    _frames(table=table)
    measures = _known_columns(table, measures)
    chosen = (
        table if leaders is None else table.filter(pl.col("leader_id").is_in(_in(table, leaders)))
    )
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
    shown = {m: measure_name(m) for m in measures}
    data = (
        _chart_data(pl.concat([median, long]), ["leader_id", "measure"])
        .drop("leader_id")
        .with_columns(pl.col("measure").replace_strict(shown, return_dtype=pl.String).alias("name"))
    )
    shown_names = [r for r in data["leader"].unique(maintain_order=True) if r != "tribe median"]
    order = ["tribe median", *sorted(shown_names, key=natural_key)]
    # rows sorted by a number, not by a list of names: Vega compiles a list into one
    # expression, which overflowed its stack at 2,000 leaders (`--top-leaders 2000`)
    rank = pl.DataFrame({"leader": order, "row": range(len(order))})
    data = data.join(rank, on="leader", how="left", maintain_order="left")
    base = alt.Chart(data).encode(
        x=alt.X("name:N", sort=list(shown.values()), title=None, axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("leader:N", sort=alt.EncodingSortField(field="row", op="min"), title=None),
    )
    cells = base.mark_rect().encode(
        # purples: blue is the participator's colour, and a high share of broadcasting is not
        color=alt.Color("value:Q", title="share", scale=alt.Scale(domain=[0, 1], scheme="purples")),
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
            color=alt.condition("datum.value > 0.6", alt.value("white"), alt.value("black")),
        )
    )
    chart = alt.layer(cells, text).properties(
        title=alt.Title(title, subtitle="n/o: not observed (signal unobservable or too few cases)"),
        width=70 * len(measures),
    )
    return cast(alt.LayerChart, chart)


def _known_columns(table: pl.DataFrame, measures: Sequence[str]) -> list[str]:
    """``measures`` as a list, or a ValueError naming those ``table`` lacks."""
    if isinstance(measures, str):
        raise TypeError(f"measures must be a sequence of column names, not the string {measures!r}")
    missing = [m for m in measures if m not in table.columns]
    if missing:
        raise ValueError(
            f"measures {', '.join(map(repr, missing))} are not columns of the table "
            f"(e.g. {', '.join(COMPARISON_MEASURES)})"
        )
    return list(measures)


def _in(table: pl.DataFrame, leaders: Sequence[str]) -> list[str]:
    """``leaders`` as a list, or an error naming those not in ``table`` (none is left out)."""
    if isinstance(leaders, str):
        raise TypeError(f"leaders must be a sequence of leader ids, not the string {leaders!r}")
    wanted = list(leaders)
    have = set(table.get_column("leader_id").to_list())
    missing = [leader for leader in wanted if leader not in have]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(f"leaders not in the table: {shown}")
    return wanted


def ego_network(
    edges: pl.DataFrame,
    leader: str,
    *,
    max_alters: int = 30,
    seed: int = 7,
    labels: Mapping[str, str] | None = None,
    ego: nx.Graph | None = None,
    legends: bool = True,
) -> alt.LayerChart:
    """The leader's ego network: the strongest ties, a seeded spring layout.

    Node size is the tie weight with the leader; an edge from the leader is
    highlighted where the leader replied to that account. ``ego`` is the
    leader's graph from :func:`tribe_analysis.graph.ego_networks` when it is
    made already (one pass for many leaders); by default it is made from ``edges``.
    Without ``legends`` the subtitle says what colour and size mean (a report
    card: legends are most of the time vl-convert takes to draw it).

    Returns
    -------
    altair.LayerChart
        Ties (``rule``), accounts (``circle``) and the leader's name (``text``).

    Examples
    --------
    >>> from tribe_analysis import features, graph, profiles
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    >>> chart = ego_network(graph.edge_list(tribe.events), "L001", max_alters=5)
    >>> chart.to_dict()["title"]
    {'text': 'Ego network of L001', 'subtitle': '5 strongest of 14 ties'}
    """
    _frames(edges=edges)
    links, nodes, title, subtitle = _ego_data(
        edges, leader, max_alters=max_alters, seed=seed, labels=labels, ego=ego
    )
    return _ego_chart(links, nodes, title, subtitle, legends=legends)


def _ego_data(
    edges: pl.DataFrame,
    leader: str,
    *,
    max_alters: int,
    seed: int,
    labels: Mapping[str, str] | None,
    ego: nx.Graph | None,
    replied: set[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, str, str]:
    """The ties, the accounts, the title and the subtitle of :func:`ego_network`.

    ``replied``: the accounts the leader replied to (:func:`_replied_of`), when known.
    """
    if ego is None:
        ego = graph.ego_networks(edges, [leader], max_alters=max_alters)[leader]
    ties, keep, sub, pos = _ego_layout(ego, leader, max_alters=max_alters, seed=seed)
    if replied is None:
        replied = _replied_of(edges, [leader])[leader]
    name = _short_text(_shown_name(labels, leader))
    nodes = pl.DataFrame(
        {
            "node": list(keep),
            "label": [name if n == leader else "" for n in keep],
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
    links = _ego_links(sub, pos, leader, replied)
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
    title = f"Ego network of {name}"
    subtitle = (
        f"{len(ties)} strongest of {ego.graph.get('alters', ego.degree(leader))} ties"
        if ties
        else "no ties in the input"
    )
    return _chart_data(links, ["pair"]).drop("pair"), node_data, title, subtitle


def _ego_layout(
    ego: nx.Graph, leader: str, *, max_alters: int, seed: int
) -> tuple[list[tuple[int, str]], list[str], nx.Graph, dict]:
    """The leader's strongest ties (weight, alter), the accounts kept, their graph and layout."""
    ties = sorted(
        ((ego[leader][a].get("weight", 1), a) for a in ego.neighbors(leader)),
        key=lambda t: (-t[0], t[1]),
    )[:max_alters]
    keep = [leader] + sorted(a for _, a in ties)
    # built in ``keep`` order: ``ego.subgraph`` orders nodes by string hash, which
    # changes run to run and moves the seeded layout with it
    kept = set(keep)
    sub = nx.Graph()
    sub.add_nodes_from(keep)
    sub.add_edges_from((u, v) for u, v in ego.edges(keep) if u in kept and v in kept)
    pos = (
        nx.spring_layout(sub, seed=seed, weight=None)
        if sub.number_of_nodes() > 1
        else {leader: (0.0, 0.0)}
    )
    return ties, keep, sub, pos


def _ego_links(sub: nx.Graph, pos: Mapping, leader: str, replied: set[str]) -> pl.DataFrame:
    """One row per tie drawn: its ends' positions, its ``kind`` and its ``pair`` (the sort key)."""
    return pl.DataFrame(
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


def _replied_of(edges: pl.DataFrame, leaders: Sequence[str]) -> dict[str, set[str]]:
    """The accounts each leader replied to, from the edge list, in one pass."""
    mine = (
        edges.filter(pl.col("source").is_in(list(leaders)) & (pl.col("reply") > 0))
        .group_by("source")
        .agg("target")
    )
    replied = dict(mine.iter_rows())
    return {name: set(replied.get(name, ())) for name in leaders}


def _ego_chart(
    links: pl.DataFrame, node_data: pl.DataFrame, title: str, subtitle: str, *, legends: bool
) -> alt.LayerChart:
    """:func:`ego_network` of the data from :func:`_ego_data`."""
    legend = alt.Undefined if legends else None
    edge_layer = (
        alt.Chart(links)
        .mark_rule()
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            x2=alt.X2("x2:Q"),
            y2=alt.Y2("y2:Q"),
            color=alt.Color(
                "kind:N",
                title="tie",
                scale=alt.Scale(domain=["leader replied", "tie"], range=["#009E73", "#cccccc"]),
                legend=legend,
            ),
            strokeWidth=alt.StrokeWidthValue(
                1, condition={"test": "datum.kind == 'leader replied'", "value": 2}
            ),
        )
    )
    node_layer = (
        alt.Chart(node_data)
        .mark_circle(stroke="white")
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            size=alt.Size(
                "weight:Q",
                title="interactions with leader",
                scale=alt.Scale(range=[30, 400]),
                legend=legend,
            ),
            color=alt.Color(
                "role:N",
                title="role",
                scale=alt.Scale(
                    domain=["leader", "tribe member"], range=[_LEADER_COLOR, _MEMBER_COLOR]
                ),
                legend=legend,
            ),
            tooltip=[alt.Tooltip("role:N"), alt.Tooltip("account:N"), alt.Tooltip("weight:Q")],
        )
    )
    name = (
        alt.Chart(node_data)
        .mark_text(dy=-14, fontWeight="bold")
        .encode(x=alt.X("x:Q"), y=alt.Y("y:Q"), text=alt.Text("label:N"))
    )
    # no ties: no layer of them (an empty layer's scales would have no extent)
    layers = [node_layer, name] if links.is_empty() else [edge_layer, node_layer, name]
    # resolve and title given to the constructor: each later call would copy every layer
    chart = alt.layer(
        *layers,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")),
        title=_ego_title(title, subtitle, legends=legends),
        width=360,
        height=360,
    )
    return cast(alt.LayerChart, chart)


def thread_view(
    events: pl.DataFrame,
    leader: str,
    *,
    labels: Mapping[str, str] | None = None,
    limit: int = 200,
    legends: bool = True,
) -> alt.Chart:
    """The leader's threads: when each root post was made, who joined, whether the leader answered.

    Without ``legends`` the size legend gives way to a subtitle (a report card).

    Returns
    -------
    altair.Chart
        One point per root post of the leader, the ``limit`` latest; the title
        gives their period and, when cut, how many there are in all.

    Examples
    --------
    >>> from tribe_analysis import features, graph, profiles
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    >>> thread_view(tribe.events, "L003", limit=5).to_dict()["title"]
    'Threads started by L003, Jan 09 – Jan 14, 2024 (latest 5 of 20)'
    """
    _frames(events=events)
    name = _short_text(_shown_name(labels, leader))
    threads = _thread_data(events, leader, limit)
    rows = _with_message(threads.rows, name)
    return _thread_chart(rows, _threads_title(name, threads), legends=legends)


def _ego_title(title: str, subtitle: str, *, legends: bool) -> alt.Title:
    """Without legends, the subtitle says what colour and size mean."""
    if legends:
        return alt.Title(title, subtitle=subtitle)
    meaning = "green: the leader replied · dot size: interactions with the leader"
    return alt.Title(title, subtitle=[subtitle, meaning])


def _thread_title(title: str, *, legends: bool) -> str | alt.Title:
    """Without legends, the subtitle says what colour and size mean."""
    if legends:
        return title
    colours = " · ".join(f"{_COLOR_NAMES[c]}: {k}" for k, c in CONVERSATION_COLORS.items())
    return alt.Title(title, subtitle=[colours, "dot size: comments by others"])


def _axis(legends: bool, **kwargs: Any) -> alt.Axis | alt.UndefinedType:
    """A report card's axes (``legends`` false): labels never cut with an ellipsis.

    Its labels are short (the five ways, dates, counts): an axis' 180 px limit never
    cuts them, but measuring every label against it is a tenth of the time to draw a
    card (vl-convert measures text slowly). ``kwargs`` go to :class:`altair.Axis`
    in both cases.
    """
    if legends:
        return alt.Axis(**kwargs) if kwargs else alt.Undefined
    return alt.Axis(labelLimit=0, **kwargs)


_TIME_FORMAT = {
    "year": "%Y",
    "quarter": "%b %Y",
    "month": "%b %Y",
    "week": "%b %d",
    "date": "%b %d",
    "hours": "%H:%M",
    "minutes": "%H:%M",
    "seconds": "%H:%M:%S",
    "milliseconds": "%H:%M:%S.%L",
}
"""Dates on a time axis, by what each tick falls on (Vega's multi-format): a year's first
tick "2014", a month's "Apr 2014", a week's or a day's "Jan 07" (Vega's default mixes
"Wed 03", "Jan 07" and "Thu 11" on one axis; "Jan 07" alone gave an axis of five years
"Apr 01, Oct 01, Apr 01, ..." without a year). Periods within a year say their year in
the chart's title (:func:`_period`)."""

_UTC = alt.Scale(type="utc")
"""Every time scale is UTC, as the events are: drawn in the viewer's time zone, a chart
would move its points and dates with the machine that draws it (and its bytes change)."""


def _when(field: str, unit: str, fmt: str) -> alt.Tooltip:
    """A time in a tooltip, in UTC (``unit``: a ``utc…`` time unit as fine as ``fmt``)."""
    return alt.Tooltip(field, timeUnit=cast(Any, unit), format=fmt)


def _day_axis(legends: bool = True) -> alt.Axis | alt.UndefinedType:
    """A time axis labelled by :data:`_TIME_FORMAT` (in UTC: its scale is :data:`_UTC`)."""
    return _axis(legends, format=_TIME_FORMAT)


def _period(first: datetime | None, last: datetime | None) -> str:
    """A period in words, with its year(s): "Jun 13 – Aug 15, 1998".

    Examples
    --------
    >>> from datetime import datetime as dt
    >>> _period(dt(1998, 6, 13), dt(1998, 8, 15)), _period(dt(2013, 4, 2), dt(2017, 10, 1))
    ('Jun 13 – Aug 15, 1998', 'Apr 02, 2013 – Oct 01, 2017')
    >>> _period(dt(2024, 3, 1, 9), dt(2024, 3, 1, 17)), _period(None, None)
    ('Mar 01, 2024', '')
    """
    if first is None or last is None:
        return ""
    if first.date() == last.date():
        return f"{first:%b %d, %Y}"
    if first.year == last.year:
        return f"{first:%b %d} – {last:%b %d, %Y}"
    return f"{first:%b %d, %Y} – {last:%b %d, %Y}"


class _Threads(NamedTuple):
    """The rows of :func:`thread_view` (the latest ``limit`` root posts) and their words."""

    rows: pl.DataFrame
    period: str  # of the rows shown
    total: int  # root posts of the leader, shown or not


def _thread_data(events: pl.DataFrame, leader: str, limit: int) -> _Threads:
    """The rows of :func:`thread_view`: the leader's latest ``limit`` root posts."""
    return _threads_of(events, [leader], limit)[leader]


def _threads_of(events: pl.DataFrame, leaders: Sequence[str], limit: int) -> dict[str, _Threads]:
    """:func:`_thread_data` of each leader, in one pass over the events."""
    leader = pl.col("_leader")
    posts = events.filter(pl.col("actor_id").is_in(list(leaders)) & (pl.col("action") == "post"))
    posts = posts.select(
        pl.col("actor_id").alias("_leader"), pl.col("event_id").alias("thread_id"), "timestamp"
    )
    replies = events.filter(
        (pl.col("action") == "reply") & pl.col("thread_id").is_in(posts["thread_id"].implode())
    ).join(posts.select("thread_id", "_leader"), on="thread_id")
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
        .drop("answered")
    )
    parts = data.partition_by("_leader", as_dict=True, include_key=False)
    empty = data.clear().drop("_leader")
    out = {}
    for name in leaders:
        every = parts.get((name,), empty)
        rows = every.sort("timestamp", "thread_id").tail(limit)
        stamps = rows.get_column("timestamp")
        out[name] = _Threads(
            _chart_data(rows, ["timestamp", "thread_id"]).drop("thread_id"),
            _period(cast(datetime | None, stamps.min()), cast(datetime | None, stamps.max())),
            every.height,
        )
    return out


def _threads_title(name: str, threads: _Threads) -> str:
    """The threads panel's title: name, period of the threads shown, and how many if cut."""
    title = f"Threads started by {name}"
    if threads.period:
        title += f", {threads.period}"
    shown = threads.rows.height
    return title + (f" (latest {shown} of {threads.total})" if shown < threads.total else "")


def _with_message(threads: pl.DataFrame, name: str) -> pl.DataFrame:
    """``threads``, or where there is none, the one row of the panel's message (a ``message``)."""
    if not threads.is_empty():
        return threads
    return pl.DataFrame({"message": [f"{name} started no thread in the data (no root posts)"]})


def _thread_chart(data: pl.DataFrame, title: str, *, legends: bool) -> alt.Chart:
    """:func:`thread_view` of rows from :func:`_thread_data` (:func:`_with_message`).

    Without threads, the panel says so in words instead of drawing empty axes.
    """
    if "message" in data.columns:
        return (
            alt.Chart(data)
            .mark_text(fontSize=13, fontStyle="italic", color="#555555")
            .encode(text=alt.Text("message:N"), x=alt.XValue(230), y=alt.YValue(20))
            .properties(title=title, width=460, height=40)
        )
    return (
        alt.Chart(data)
        .mark_circle(opacity=0.8)
        .encode(
            x=alt.X("timestamp:T", title="root post", axis=_day_axis(legends), scale=_UTC),
            y=alt.Y(  # a count: whole numbers on its axis
                "joined:Q",
                title="others who joined",
                axis=_axis(legends, tickMinStep=1, format="d"),
            ),
            size=alt.Size(
                "comments:Q",
                title="comments",
                scale=alt.Scale(range=[20, 300]),
                legend=alt.Undefined if legends else None,
            ),
            color=alt.Color(
                "conversation:N",
                title=None,
                scale=alt.Scale(
                    domain=list(CONVERSATION_COLORS), range=list(CONVERSATION_COLORS.values())
                ),
                legend=alt.Undefined if legends else None,
            ),
            tooltip=[
                _when("timestamp:T", "utcyearmonthdatehoursminutes", "%Y-%m-%d %H:%M"),
                alt.Tooltip("joined:Q"),
                alt.Tooltip("comments:Q"),
                alt.Tooltip("conversation:N"),
            ],
        )
        .properties(
            title=_thread_title(title, legends=legends),
            width=460,
            height=220,
        )
    )


_EVERY = {"1h": "hour", "1d": "day", "1w": "week", "1mo": "month", "1q": "quarter", "1y": "year"}
"""Polars durations said in words on an axis ("events per week")."""


def activity_timeline(
    events: pl.DataFrame,
    *,
    actors: Sequence[str] | None = None,
    every: str = "1w",
    title: str = "Activity by action",
) -> alt.Chart:
    """Counts of each action per period (stacked bars), for all or some actors.

    Each bar spans its period (``every``, a polars duration such as ``"1w"``),
    from its start to the next period's, on a time axis labelled as "Jan 07" (or
    "Apr 2014", "2014" where ticks fall on a month or a year); the subtitle gives
    the events' first and last day, with the year. The legend lists the actions
    the events hold (an action a platform cannot show is not drawn as a colour).

    Returns
    -------
    altair.Chart
        Stacked bars, one per period and action (``period``, ``period_end``,
        ``action``, ``events``); without events (none of ``actors``), words saying so.

    Examples
    --------
    >>> from tribe_analysis import features, graph, profiles
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    >>> spec = activity_timeline(tribe.events, every="1w").to_dict()
    >>> spec["title"], spec["encoding"]["y"]["title"]
    ({'text': 'Activity by action', 'subtitle': 'Jan 01 – Jan 14, 2024'}, 'events per week')
    >>> spec["encoding"]["color"]["scale"]["domain"]
    ['post', 'reply', 'share', 'reaction']
    """
    _frames(events=events)
    chosen = events if actors is None else events.filter(pl.col("actor_id").is_in(list(actors)))
    if chosen.is_empty():  # no bar: no time axis to draw (Vega warned "Infinite extent")
        whose = "" if actors is None else " of these accounts"
        return _words_in_plot([f"No events{whose}"], 230, 100).properties(
            title=title, width=460, height=200
        )
    span = chosen.select(pl.col("timestamp").min().alias("a"), pl.col("timestamp").max().alias("b"))
    held = set(chosen.get_column("action").cast(pl.String).unique().to_list())
    present = [action for action in ACTION_COLORS if action in held]
    counts = (
        chosen.group_by(pl.col("timestamp").dt.truncate(every).alias("period"), "action")
        .len()
        .with_columns(
            pl.col("period").dt.offset_by(every).alias("period_end"),
            pl.col("action").cast(pl.String),
            pl.col("len").cast(pl.Int64).alias("events"),
        )
        .drop("len")
        .with_columns(  # stacked from the bottom in the legend's order
            pl.col("action")
            .replace_strict(list(ACTION_COLORS), range(len(ACTION_COLORS)), default=None)
            .alias("stack")
        )
    )
    return (
        alt.Chart(_chart_data(counts, ["period", "action"]))
        .mark_bar(orient="vertical", stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("period:T", title=None, axis=_day_axis(), scale=_UTC),
            x2="period_end:T",
            y=alt.Y("events:Q", title=f"events per {_EVERY.get(every, every)}", stack="zero"),
            color=alt.Color(
                "action:N",
                scale=alt.Scale(domain=present, range=[ACTION_COLORS[a] for a in present]),
            ),
            order=alt.Order("stack:Q"),
            tooltip=[_when("period:T", "utcyearmonthdate", "%Y-%m-%d"), "action:N", "events:Q"],
        )
        .properties(title=alt.Title(title, subtitle=_period(*span.row(0)) or alt.Undefined))
        .properties(width=460, height=200)
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
    Each mean spans its windows, to the last one's end (``window_end``). Leaders
    with no index in any window (too few parts observed) are named in the subtitle;
    when no leader has one, the plot says so.

    Returns
    -------
    altair.LayerChart
        The threshold (dashed ``rule``), each leader's index per window
        (``line`` and ``point``), and with ``split`` the means (``rule``).

    Examples
    --------
    >>> from tribe_analysis import features, graph, profiles
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    >>> weekly = features.leader_measures(tribe.events, tribe.leaders, every="1w", ego=False)
    >>> spec = style_over_time(weekly).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['rule', 'line', 'point']
    """
    _frames(windowed=windowed)
    ends = ["window_end"] if "window_end" in windowed.columns else []
    data = _label(
        windowed.select("leader_id", "window_start", *ends, "participation_index"), labels
    )
    rule = (
        alt.Chart(pl.DataFrame({"threshold": [threshold]}))
        .mark_rule(strokeDash=[4, 4], color="#555555")
        .encode(y="threshold:Q")
    )
    subtitle = []
    if data.get_column("participation_index").is_null().all():  # say so, not empty axes
        axis = alt.Y("threshold:Q", title="participation index", scale=alt.Scale(domain=[0, 1]))
        words = ["No window has an index", "(too few parts observed)"]
        layers = [rule.encode(y=axis), _words_in_plot(words, 230, 120)]
    else:
        layers = [rule, *_window_layers(data.drop(ends))]
        if split is not None:
            layers += _split_layers(data, ends[0] if ends else "window_start", split)
            subtitle.append(f"thick lines: mean before / after {split:%Y-%m-%d}")
    missing = (
        data.group_by("leader")
        .agg(pl.col("participation_index").is_not_null().any().alias("seen"))
        .filter(~pl.col("seen"))
        .get_column("leader")
        .to_list()
    )
    missing = sorted(missing, key=natural_key)
    if missing:
        subtitle.append(f"no index in any window (too few parts observed): {', '.join(missing)}")
    chart = alt.layer(*layers).properties(
        title=alt.Title(title, subtitle=subtitle) if subtitle else title, width=460, height=240
    )
    return cast(alt.LayerChart, chart)


def _window_layers(data: pl.DataFrame) -> list[alt.Chart]:
    """:func:`style_over_time`'s lines (leaders with an index in two windows or more) and points.

    A line through one point is no line (vl-convert's PNG says "path stroking
    failed"), and a layer without rows warns of an infinite extent.
    """
    rows = _chart_data(data, ["leader_id", "window_start"])
    seen = pl.col("participation_index").is_not_null().sum().over("leader_id")
    joined = rows.filter(seen >= 2).drop("leader_id")

    def chart(frame: pl.DataFrame) -> alt.Chart:
        return alt.Chart(frame).encode(
            x=alt.X("window_start:T", title=None, axis=_day_axis(), scale=_UTC),
            y=alt.Y(
                "participation_index:Q",
                title="participation index",
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("leader:N", title="leader"),
        )

    points = (
        chart(rows.drop("leader_id"))
        .mark_point(filled=True, opacity=1)
        .encode(
            tooltip=[
                "leader:N",
                _when("window_start:T", "utcyearmonthdate", "%Y-%m-%d"),
                alt.Tooltip("participation_index:Q", format=".2f"),
            ]
        )
    )
    return [*([chart(joined).mark_line()] if joined.height else []), points]


def _split_layers(data: pl.DataFrame, end: str, split: datetime) -> list[alt.Chart]:
    """:func:`style_over_time`'s means before and after ``split``, and the split's line."""
    side = pl.when(pl.col("window_start") < split).then(pl.lit("before")).otherwise(pl.lit("after"))
    spans = (
        data.with_columns(side.alias("period"))
        .group_by("leader_id", "leader", "period")
        .agg(
            pl.col("participation_index").mean().alias("mean_index"),
            pl.col("window_start").min().alias("start"),
            pl.col(end).max().alias("end"),
        )
    )
    means = (
        alt.Chart(_chart_data(spans, ["leader_id", "period"]).drop("leader_id"))
        .mark_rule(strokeWidth=4, opacity=0.45)
        .encode(
            x=alt.X("start:T", scale=_UTC),
            x2="end:T",
            y="mean_index:Q",
            color="leader:N",
            tooltip=["leader:N", "period:N", alt.Tooltip("mean_index:Q", format=".2f")],
        )
    )
    line = (
        alt.Chart(pl.DataFrame({"split": [split.strftime("%Y-%m-%dT%H:%M:%SZ")]}))
        .mark_rule(color="black")
        .encode(x=alt.X("split:T", scale=_UTC))
    )
    return [means, line]


def _parts_panel(row: Mapping, table: pl.DataFrame, color: str) -> alt.LayerChart:
    """The five parts of the index for one leader: value, interval, tribe median, or "not observed"."""
    return _parts_chart(_parts_data(row, table), color)


def _parts_data(row: Mapping, table: pl.DataFrame) -> pl.DataFrame:
    """The rows of :func:`_parts_panel`: one per part, in index order."""
    records = []
    for order, part in enumerate(PARTS):
        way = measure_name(part)
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
    return _chart_data(pl.DataFrame(records, schema=schema), ["order"]).drop("order")


def _parts_chart(data: pl.DataFrame, color: str) -> alt.LayerChart:
    """:func:`_parts_panel` of rows from :func:`_parts_data`."""
    ways = [measure_name(part) for part in PARTS]
    base = alt.Chart(data).encode(
        y=alt.Y("way:N", sort=ways, title=None, axis=alt.Axis(labelLimit=0))
    )

    def x(field: str) -> alt.X:
        return alt.X(
            f"{field}:Q",
            title="rate",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(tickCount=5, labelLimit=0),
        )

    tooltip = [
        alt.Tooltip("way:N"),
        alt.Tooltip("value:Q", format=".2f"),
        alt.Tooltip("low:Q", title="interval from", format=".2f"),
        alt.Tooltip("high:Q", title="interval to", format=".2f"),
        alt.Tooltip("evidence:N"),
        alt.Tooltip("median:Q", title="tribe median", format=".2f"),
    ]
    chart = alt.layer(
        base.transform_filter("isValid(datum.value)")
        .mark_tick(color="black", thickness=2, size=20)
        .encode(x=x("median")),
        base.mark_errorbar(ticks=True, color=color, thickness=2).encode(
            x=x("low"), x2=alt.X2("high:Q"), tooltip=tooltip
        ),
        base.mark_point(filled=True, size=110, color=color, opacity=1).encode(
            x=x("value"), tooltip=tooltip
        ),
        base.transform_filter("isValid(datum.note)")
        .mark_text(align="left", x=6, fontStyle="italic", color="#555555")
        .encode(text=alt.Text("note:N")),
        # given to the constructor: .properties() would copy every layer again
        title=alt.Title(
            "Ways of participating",
            subtitle=f"dot: this leader · bar: {LEVEL:.0%} interval · tick: tribe median",
        ),
        width=300,
        height=200,
    )
    return cast(alt.LayerChart, chart)


CARD_ALTERS = 15
"""Alters a report card's ego network shows (the strongest ties)."""


def report_card(
    leader: str,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    seed: int = 7,
    max_alters: int = CARD_ALTERS,
    ego: nx.Graph | None = None,
) -> alt.VConcatChart:
    """One page for a workshop: the leader's label and why, its ways of participating, ties, threads.

    The title gives the label (the sub-profile and the probability of the
    label when decided), the subtitle the ``reason``, the ``ways`` sentence and
    the parts the label rests on (``drivers``, by their readable names). The
    first panel shows each of the five parts of the index by its way (seeing,
    commenting, ...): the leader's rate with its Jeffreys interval and the tribe
    median, or "not observed" where the part is null. The ego network shows the
    ``max_alters`` strongest ties (and the ties among them): a readable
    picture, and a small one to print or mail. ``ego`` as in :func:`ego_network`.

    Returns
    -------
    altair.VConcatChart
        The parts, then the ego network beside the threads (when the leader
        started any).

    Examples
    --------
    >>> from tribe_analysis import features, graph, profiles
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    >>> measures = features.leader_measures(tribe.events, tribe.leaders, ego=False)
    >>> _, table = profiles.profile_leaders(measures)
    >>> card = report_card("L001", table, graph.edge_list(tribe.events), tribe.events)
    >>> card.to_dict()["title"]["text"]
    'Report card — L001: participator · reciprocator (probability 0.98)'
    """
    _frames(table=table, edges=edges, events=events)
    return _card_chart(
        _card_data(
            leader, table, edges, events, labels=labels, seed=seed, max_alters=max_alters, ego=ego
        )
    )


_CARD_THREADS = 200
"""Root posts a report card's threads panel shows (the latest)."""


class _CardInputs(NamedTuple):
    """What the cards of many leaders take from the events and the edges, in one pass each."""

    threads: dict[str, _Threads]
    replied: dict[str, set[str]]


def _card_inputs(events: pl.DataFrame, edges: pl.DataFrame, leaders: Sequence[str]) -> _CardInputs:
    """:class:`_CardInputs` of ``leaders`` (for :func:`_report_card_spec`)."""
    return _CardInputs(_threads_of(events, leaders, _CARD_THREADS), _replied_of(edges, leaders))


class _Card(NamedTuple):
    """What changes from one report card to the next: its data and its words."""

    color: str
    title: str
    subtitle: list[str]
    parts: pl.DataFrame
    ties: pl.DataFrame
    accounts: pl.DataFrame
    ego_title: str
    ego_subtitle: str
    threads: pl.DataFrame
    thread_title: str


def _card_data(
    leader: str,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None,
    seed: int,
    max_alters: int,
    ego: nx.Graph | None,
    inputs: _CardInputs | None = None,
) -> _Card:
    """The data and the words of one :func:`report_card` (``inputs``: :func:`_card_inputs`)."""
    rows = table.filter(pl.col("leader_id") == leader)
    if rows.is_empty():
        raise ValueError(f"leader {leader!r} is not in the profile table")
    row = rows.row(0, named=True)
    named = ["leader_name"] if "leader_name" in table.columns else []
    names = _label(table.select("leader_id", *named), labels)  # as the other charts name it
    name = names.filter(pl.col("leader_id") == leader).get_column("leader").item()
    shown = {**(labels or {}), leader: name}
    profile = row["profile"]
    label = row.get("sub_profile") or profile
    if row.get("probability") is not None:
        label += f" (probability {row['probability']:.2f})"
    drivers = readable_measures(row.get("drivers"))
    rests = f"{measure_name('drivers')}: {drivers}" if drivers else None
    replied = None if inputs is None else inputs.replied[leader]
    threads = (
        _thread_data(events, leader, _CARD_THREADS) if inputs is None else inputs.threads[leader]
    )
    ties, accounts, ego_title, ego_subtitle = _ego_data(
        edges, leader, max_alters=max_alters, seed=seed, labels=shown, ego=ego, replied=replied
    )
    return _Card(
        color=PROFILE_COLORS.get(profile, "#777777"),
        title=f"Report card — {name}: {label}",
        subtitle=[text for text in (row.get("reason"), row.get("ways"), rests) if text],
        parts=_parts_data(row, table),
        ties=ties,
        accounts=accounts,
        ego_title=ego_title,
        ego_subtitle=ego_subtitle,
        threads=_with_message(threads.rows, shown.get(leader, leader)),
        thread_title=_threads_title(shown.get(leader, leader), threads),
    )


def _card_title(card: _Card) -> alt.Title:
    return alt.Title(card.title, subtitle=card.subtitle or alt.Undefined, fontSize=20)


def _card_chart(card: _Card) -> alt.VConcatChart:
    """:func:`report_card` of the data and words of :func:`_card_data`."""
    apart = alt.Resolve(scale=alt.ScaleResolveMap(color="independent", size="independent"))
    # resolve and title given to the constructors: each later call would copy the whole card
    return alt.vconcat(
        alt.hconcat(
            _parts_chart(card.parts, card.color),
            _ego_chart(card.ties, card.accounts, card.ego_title, card.ego_subtitle, legends=False),
            resolve=apart,
        ),
        _thread_chart(card.threads, card.thread_title, legends=False),
        resolve=apart,
        title=_card_title(card),
    )


def _has_threads(card: _Card) -> bool:
    """Whether the card's threads panel draws threads (else it says there are none)."""
    return "message" not in card.threads.columns


def _card_data_paths(card: _Card) -> tuple[tuple[str, tuple], ...]:
    """Each data set of a report card's spec, and where the spec refers to it.

    A card without ties has no layer of them in its ego network: its two layers
    then share the accounts, which Altair gives to the ego network as a whole.
    """
    ego = ("vconcat", 0, "hconcat", 1)
    if card.ties.is_empty():
        network: tuple[tuple[str, tuple], ...] = (("accounts", ego),)
    else:
        layer = (*ego, "layer")
        network = (("ties", (*layer, 0)), ("accounts", (*layer, 1)), ("accounts", (*layer, 2)))
    return (("parts", ("vconcat", 0, "hconcat", 0)), *network, ("threads", ("vconcat", 1)))


_EGO, _THREADS = ("vconcat", 0, "hconcat", 1), ("vconcat", 1)
_TITLES = ((), _EGO, _THREADS)
"""Where a report card's spec has its titles: the card's, the ego network's, the threads'."""
_CARD_TEMPLATES: dict[str, str] = {}
"""Report card templates (Vega-Lite JSON) by the shape of their titles: data sets named
by role and empty, titles' texts and the label colour as markers, no tooltips."""
_COLOR = "@@card-color@@"
"""The label colour's marker in a report card template."""


def _at(spec: dict, path: tuple) -> dict:
    for key in path:
        spec = spec[key]
    return spec


def _report_card_spec(
    leader: str,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    seed: int = 7,
    max_alters: int = CARD_ALTERS,
    ego: nx.Graph | None = None,
    inputs: _CardInputs | None = None,
) -> dict:
    """What the report draws of :func:`report_card`: a template job, in a fraction of the time.

    Every card has the same spec but for its data, its titles' texts and the
    colour of its label. The first card is made by Altair and kept as a template
    (:data:`_CARD_TEMPLATES`): its data sets named by role and emptied, its
    titles' texts and its colour replaced by markers, its tooltips dropped (an
    SVG has none). ``inputs`` (:func:`_card_inputs`) are the threads and replies
    of every leader, found in one pass. A card is then ``{"template", "datasets", "texts"}``, which
    :func:`tribe_analysis._drawing.svg` draws: the drawing process compiles each
    template to Vega once and fills in the data and the texts (Altair would take
    most of the time to make a card, Vega-Lite's compiler a fifth of the time to
    draw it). The SVG is the one of :func:`report_card`'s spec. A card whose
    titles have another shape than its template's (a missing subtitle) is a
    Vega-Lite spec, drawn as any other.
    """
    card = _card_data(
        leader,
        table,
        edges,
        events,
        labels=labels,
        seed=seed,
        max_alters=max_alters,
        ego=ego,
        inputs=inputs,
    )
    titles = [
        _card_title(card).to_dict(validate=False),
        _ego_title(card.ego_title, card.ego_subtitle, legends=False).to_dict(validate=False),
        _as_title(
            _thread_title(card.thread_title, legends=False)
            if _has_threads(card)
            else card.thread_title
        ),
    ]
    shapes = [sorted((k, v if k not in _TEXTS else None) for k, v in t.items()) for t in titles]
    key = json.dumps([shapes, card.ties.is_empty(), _has_threads(card)])
    template = _CARD_TEMPLATES.get(key)
    if template is None:
        template = _CARD_TEMPLATES[key] = _card_template(card)
        if template == "":  # data sets alike by chance (empty ones): not a template
            del _CARD_TEMPLATES[key]
    if not template:
        return _render_spec(_card_chart(card), validate=False)
    texts = {_COLOR: card.color}
    for i, title in enumerate(titles):
        for name in _TEXTS:
            if name in title:
                texts[_marker(i, name)] = title[name]
    return {
        "template": template,
        "datasets": {
            "parts": card.parts.to_dicts(),
            "ties": card.ties.to_dicts(),
            "accounts": card.accounts.to_dicts(),
            "threads": card.threads.to_dicts(),
        },
        "texts": texts,
    }


_TEXTS = ("text", "subtitle")
"""The parts of a title that change from card to card."""


def _marker(title: int, name: str) -> str:
    return f"@@card-title-{title}-{name}@@"


def _as_title(title: str | alt.Title) -> dict:
    return {"text": title} if isinstance(title, str) else title.to_dict()


def _card_template(card: _Card) -> str:
    """The template of :func:`_report_card_spec` made from ``card`` (JSON); "" if it cannot be."""
    spec = _render_spec(_card_chart(card._replace(color=_COLOR)), validate=False)
    names: dict[str, set] = {}
    for role, path in _card_data_paths(card):
        names.setdefault(role, set()).add(_at(spec, path)["data"]["name"])
        _at(spec, path)["data"] = {"name": role}
    if [len(n) for n in names.values()] != [1] * len(names) or len(
        set.union(*names.values())
    ) != len(names):
        return ""
    spec["datasets"] = {role: [] for role in names}
    for i, path in enumerate(_TITLES):
        view = _at(spec, path)
        title = view["title"] = (
            {"text": view["title"]} if isinstance(view["title"], str) else view["title"]
        )
        for name in _TEXTS:
            if name in title:
                title[name] = _marker(i, name)
    _drop_tooltips(spec)
    return json.dumps(spec, sort_keys=True)


def _drop_tooltips(spec: dict | list) -> None:
    """Remove every ``tooltip`` encoding (in place): vl-convert's SVG has no tooltips."""
    if isinstance(spec, dict):
        if isinstance(spec.get("encoding"), dict):
            spec["encoding"].pop("tooltip", None)
        for value in spec.values():
            _drop_tooltips(value)
    elif isinstance(spec, list):
        for value in spec:
            _drop_tooltips(value)


RENDER_FONT = "sans-serif"
"""Font of rendered SVG and PNG: vl-convert draws ``sans-serif`` in Liberation Sans.

It ships that font (a system copy, when installed, is used instead), so no
other font is needed; its widths are Arial's, so text fits when a browser or a
slide shows the SVG in Arial or Helvetica (the report's SVGs ask for them); and
vl-convert draws it twice as fast as a named system font such as DejaVu Sans.
"""


def _render_spec(chart: alt.TopLevelMixin, *, validate: bool = True) -> dict:
    """The chart's Vega-Lite spec for vl-convert: ``tribe`` theme, :data:`RENDER_FONT`.

    ARIA labels are off (they repeat every datum's fields in the SVG: a third of
    its bytes) except on marks that ask for them with ``aria=True`` and a
    ``description`` (the profile map's points: the report turns them into tooltips).
    Altair's limit of 5,000 rows, which keeps notebooks from embedding huge data,
    is lifted here: the spec is drawn to SVG or PNG, and a report of 1,000 leaders
    has a comparison of 6,006 cells. Call it in one thread at a time: the theme
    and the data transformer are global settings.
    """
    with alt.theme.enable(THEME), alt.data_transformers.disable_max_rows():
        spec = chart.to_dict(validate=validate)
    return _for_vl_convert(spec)


def _for_vl_convert(spec: dict) -> dict:
    """Set :data:`RENDER_FONT` and ARIA labels off in a spec's config (see :func:`_render_spec`)."""
    config = spec.setdefault("config", {})
    config["font"] = RENDER_FONT
    config["aria"] = False
    return spec


def render(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> dict[str, bytes]:
    """The chart as SVG and PNG bytes, rendered once offline by vl-convert.

    The PNG is rasterised from the SVG, so the two always show the same picture;
    text is in :data:`RENDER_FONT`.

    Examples
    --------
    >>> chart = alt.Chart(pl.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
    >>> images = render(chart)
    >>> images["svg"][:4], images["png"][1:4]
    (b'<svg', b'PNG')
    """
    from tribe_analysis._drawing import images

    return images(_render_spec(chart), scale=scale)


class _ScriptSafeJSON(json.JSONEncoder):
    r"""JSON that can stand inside an HTML ``<script>``: ``<``, ``>`` and ``&`` as ``\uXXXX``.

    A chart's data holds names from the export: ``</script>`` in one would end the
    page's script there and run what follows. JSON has these characters in strings
    only, where the escapes mean the same text.

    Examples
    --------
    >>> json.dumps({"name": "</script>&"}, cls=_ScriptSafeJSON)
    '{"name": "\\u003c/script\\u003e\\u0026"}'
    """

    def iterencode(self, o: object, _one_shot: bool = False) -> Iterator[str]:
        for chunk in super().iterencode(o, _one_shot):
            yield chunk.translate(_SCRIPT_ESCAPES)


_SCRIPT_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>&"}


def save_chart(chart: alt.TopLevelMixin, path: str | Path, *, scale: float = 2.0) -> Path:
    """Save a chart offline as PNG, SVG or self-contained HTML (by suffix).

    PNG and SVG are rendered by vl-convert (no browser, no network) with the
    ``tribe`` theme; HTML embeds the JavaScript so it opens offline.

    Returns
    -------
    pathlib.Path
        ``path``; its folder is made when missing.

    Examples
    --------
    >>> import tempfile
    >>> chart = alt.Chart(pl.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_chart(chart, Path(folder) / "slides" / "x.svg").read_text()[:4]
    '<svg'
    >>> save_chart(chart, "x.pdf")
    Traceback (most recent call last):
    ValueError: cannot save a chart as '.pdf' (expected .png, .svg or .html)
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
            chart.save(path, inline=True, json_kwds={"cls": _ScriptSafeJSON})
    else:
        path.write_bytes(render(chart, scale=scale)[suffix[1:]])
    return path
