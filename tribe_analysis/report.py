"""The offline HTML report: the profile table and every chart in one small file.

``report.html`` holds the table as HTML and each chart as a compact inline SVG
(no script, no stylesheet or font to fetch), so a coach can open it with no
network and no other file, print it or mail it. Hovering a point of the profile
map shows that leader's label, reason and ways (an SVG ``<title>``: no
JavaScript). ``charts/`` keeps the PNG and the full SVG of each chart for slides.

Charts are drawn by vl-convert in two worker processes while this process
builds the next chart, each once as SVG with the PNG rasterised from it. The
same input gives the same bytes, run after run.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path

import altair as alt
import polars as pl
from altair.utils.schemapi import debug_mode

from tribe_analysis import _drawing, charts, graph
from tribe_analysis._labels import closed_bidi, natural_key, visible_name
from tribe_analysis.participation import LEVEL, MIN_PARTS, PARTS
from tribe_analysis.profiles import CONFIDENCE, PARTICIPATOR_THRESHOLD, PROFILES

__all__ = ["CARD_SCALE", "TABLE_COLUMNS", "WORKERS", "card_stems", "start_report", "write_report"]

TABLE_COLUMNS: tuple[str, ...] = (
    "leader",
    "profile",
    "sub_profile",
    "probability",
    "participation_index",
    "parts_observed",
    *PARTS,
    "reason",
    "ways",
    "drivers",
)
"""Columns shown in the report's table, in order (``leader`` is the display name).

The sub-profile shares the profile's cell; ``reason``, ``ways`` and ``drivers``
share the last cell ("why"), so the table fits a laptop screen.
"""

WORKERS = 2
"""Processes drawing charts with vl-convert while this one builds the next charts."""
_IN_PROCESS = 6
"""Plans of at most this many charts are drawn in this process."""

CARD_SCALE = 1.0
"""PNG scale of the report cards in ``charts/`` with ``card_png`` (about 1,000 × 780 px,
a slide's height; a third of the drawing time at scale 2). The profile map and the
comparison keep :func:`tribe_analysis.charts.render`'s 2."""

_STYLE = """
body { font-family: Arial, Helvetica, 'Liberation Sans', sans-serif; margin: 1.5em auto;
  max-width: 1240px; padding: 0 16px; color: #222; line-height: 1.35; }
h1 { font-size: 1.7em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
h1, h2, td:first-child { overflow-wrap: anywhere; } td:first-child { min-width: 9em; }
p.about { color: #555; }
table { border-collapse: collapse; font-size: 0.82em; width: 100%; }
th, td { padding: 4px 5px; border-bottom: 1px solid #e6e6e6; vertical-align: top; }
th { background: #f5f5f5; font-weight: bold; text-align: right; }
td.num { text-align: right; white-space: nowrap; } th.text, td.text { text-align: left; }
td.why { width: 36%; min-width: 16em; } .ways, .rests { color: #555; }
.broadcaster { color: #D55E00; font-weight: bold; } .participator { color: #0072B2; font-weight: bold; }
.undetermined { color: #767676; font-weight: bold; }
.id, .sub { color: #666; font-size: 0.9em; } .missing { color: #666; font-style: italic; }
figure { margin: 1em 0; padding: 0 2.5em; }
figure svg { max-width: 100%; height: auto; overflow: visible; }
figcaption { color: #555; font-size: 0.9em; }
a { color: inherit; }
@media print { section.card { break-before: page; } }
"""
# Grey text is #767676 (4.5:1 on white, WCAG AA); the charts keep the lighter #999999.
# A name or id of 200 characters with no space breaks anywhere: it never widens the table
# past the page (the table fits a laptop screen).
# Text in the charts is laid out for Liberation Sans' widths (Arial's); where a browser has
# neither (a bare Linux: DejaVu Sans, about 10% wider), long labels reach past the SVG's
# edge: they are shown in the figure's padding (overflow: visible), never cut.


def _display_names(table: pl.DataFrame, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Leader id -> the name shown: from ``labels``, else ``leader_name``, else the id.

    Names are written as :func:`tribe_analysis._labels.visible_name` writes them; one
    that shows nothing (white space, zero-width characters) gives way to the id. A
    name two leaders share is followed by each one's id, as in the charts.

    Examples
    --------
    >>> t = pl.DataFrame({"leader_id": ["a1", "a2", "b"], "leader_name": ["Tom", "Tom ", "\u200b"]})
    >>> _display_names(t, None)
    {'a1': 'Tom (a1)', 'a2': 'Tom (a2)', 'b': 'b'}
    """
    ids = table.get_column("leader_id").to_list()
    if labels:
        given = [labels.get(leader) for leader in ids]
    elif "leader_name" in table.columns:
        given = table.get_column("leader_name").to_list()
    else:
        given = [None] * len(ids)
    names = {
        leader: visible_name(name) or closed_bidi(leader)
        for leader, name in zip(ids, given, strict=True)
    }
    shared = {name for name, n in Counter(names.values()).items() if n > 1}
    return {
        leader: f"{name} ({closed_bidi(leader)})" if name in shared else name
        for leader, name in names.items()
    }


def _leader_cell(leader: str, shown: str, row: dict, number: int) -> str:
    """The name (a link to card ``number``), with the id when the name is the account's own."""
    cell = f"<a href='#card-{number}'><bdi>{html.escape(shown)}</bdi></a>"
    if shown != leader and shown == visible_name(row.get("leader_name")):
        cell += f" <span class='id'><bdi>{html.escape(closed_bidi(leader))}</bdi></span>"
    return cell


def _profile_cell(row: dict) -> str:
    """The label in its colour, the sub-profile's noun below it."""
    profile = str(row.get("profile") or "")
    cell = f"<span class='{html.escape(profile)}'>{html.escape(profile)}</span>"
    sub = row.get("sub_profile") or ""
    noun = sub.removeprefix(f"{profile} · ") if sub != profile else ""
    if noun:
        cell += f"<br><span class='sub'>{html.escape(noun)}</span>"
    return cell


def _why_cell(row: dict) -> str:
    """The reason, the ways in words, and the parts the label rests on (readable names)."""
    lines = [html.escape(str(row.get("reason") or ""))]
    if row.get("ways"):
        lines.append(f"<div class='ways'>{html.escape(row['ways'])}</div>")
    drivers = charts.readable_measures(row.get("drivers"))
    if drivers:
        head = html.escape(charts.measure_name("drivers"))
        lines.append(f"<div class='rests'>{head}: {html.escape(drivers)}</div>")
    return "".join(lines)


def _number(column: str, row: dict) -> str:
    """Escaped HTML of one numeric cell."""
    value = row.get(column)
    if column == "participation_index":
        if value is None:
            return "<span class='missing'>n/o</span>"
        low, high = row.get("index_low"), row.get("index_high")
        interval = "" if low is None or high is None else f"<br>({low:.2f}–{high:.2f})"
        return f"{value:.2f}{interval}"
    if value is None:
        return f"<span class='missing'>{'n/o' if column in PARTS else '–'}</span>"
    if isinstance(value, float):
        return f"{value:.2f}"
    return html.escape(str(value))


def _headers() -> list[tuple[str, str]]:
    """(header text, css class) of the table, from the one glossary."""
    name = charts.measure_name
    return [
        ("leader", "text"),
        ("profile", "text"),
        ("probability", "num"),
        (f"{name('participation_index')} ({LEVEL:.0%} interval)", "num"),
        (f"{name('parts_observed')} (of {len(PARTS)})", "num"),
        *[(name(part), "num") for part in PARTS],
        ("why", "text"),
    ]


def _in_name_order(table: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """``table``'s rows by the leaders' shown names in natural order (then by id).

    Examples
    --------
    >>> t = pl.DataFrame({"leader_id": ["3", "1", "2"]})
    >>> _in_name_order(t, {"1": "Leader 10", "2": "leader 2", "3": "Bob"})["leader_id"].to_list()
    ['3', '2', '1']
    """
    ids = table.get_column("leader_id").to_list()
    ordered = sorted(ids, key=lambda leader: (natural_key(names[leader]), leader))
    rank = {leader: i for i, leader in enumerate(ordered)}
    order = pl.col("leader_id").replace_strict(rank, return_dtype=pl.Int64)
    return table.sort(order)


def _table_html(table: pl.DataFrame, names: Mapping[str, str]) -> str:
    head = "".join(f"<th class='{cls}'>{html.escape(text)}</th>" for text, cls in _headers())
    rows = []
    for number, row in enumerate(table.iter_rows(named=True), 1):
        leader = row["leader_id"]
        cells = [
            f"<td class='text'>{_leader_cell(leader, names[leader], row, number)}</td>",
            f"<td class='text'>{_profile_cell(row)}</td>",
            *(
                f"<td class='num'>{_number(c, row)}</td>"
                for c in ("probability", "participation_index", "parts_observed", *PARTS)
            ),
            f"<td class='text why'>{_why_cell(row)}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _unobservable_html(table: pl.DataFrame) -> str:
    """The signals the input does not show (``unobservable`` column), or nothing without it."""
    if "unobservable" not in table.columns:
        return ""
    texts = [
        t
        for t in table.get_column("unobservable").drop_nulls().unique(maintain_order=True)
        if t.strip()
    ]
    head = "<h2>Signals this input does not show</h2>"
    if not texts:
        return head + "<p>Every signal the measures use is observable in this input.</p>"
    items = []
    for text in texts:
        for entry in text.split("; "):
            signal, sep, why = entry.partition(": ")
            items.append(
                f"<li><b>{html.escape(signal)}</b>: {html.escape(why)}</li>"
                if sep
                else f"<li>{html.escape(entry)}</li>"
            )
    return (
        f"{head}<p>A part of the index that needs one of these signals is <i>not observed</i> "
        "(n/o) for every leader, never 0; the index rests on the other parts.</p>"
        f"<ul class='unobservable'>{''.join(items)}</ul>"
    )


def _summary(table: pl.DataFrame) -> str:
    counts = dict(table.group_by("profile").len().iter_rows())
    parts = []
    for profile in (PROFILES[1], PROFILES[0], PROFILES[2], *sorted(set(counts) - set(PROFILES))):
        n = counts.get(profile, 0)
        if n:
            plural = "s" if n != 1 and profile != PROFILES[2] else ""
            parts.append(f"{n} {profile}{plural}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- rendering


def _start_drawing(
    plan: list[tuple[str, Callable[[], dict], float | None]], folder: Path
) -> Callable[[], dict[str, str]]:
    """Make each chart's spec and have it drawn and saved; return the wait for the SVGs.

    The returned function gives ``stem -> compact SVG`` in plan order once every
    chart is drawn. This process makes the specs, one at a time (the theme is a
    global setting); :data:`WORKERS` worker processes draw them meanwhile
    (:class:`tribe_analysis._drawing.Drawers`, started early by
    :func:`tribe_analysis._drawing.start` or now: vl-convert holds the GIL, so
    threads would take turns) and go on drawing while the caller does other
    work. Without workers started early, a plan of a few charts is drawn here
    at once: starting the workers would cost more.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # ids inside the figures are numbered (never a leader id: the page may use pseudonyms)
    if not _drawing.started() and (len(plan) <= _IN_PROCESS or WORKERS < 2):
        done = {
            stem: _drawing.draw(spec(), scale, folder / stem, f"fig{i}")
            for i, (stem, spec, scale) in enumerate(plan, 1)
        }
        return lambda: done
    drawers = _drawing.drawers(WORKERS)
    try:
        jobs = {
            stem: drawers.submit(spec(), scale, folder / stem, f"fig{i}")
            for i, (stem, spec, scale) in enumerate(plan, 1)
        }
    except BaseException:
        drawers.close()
        raise

    def wait() -> dict[str, str]:
        with drawers:
            return {stem: job.result() for stem, job in jobs.items()}

    return wait


def write_report(
    out: Path,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "tribe-analysis report",
    card_png: bool = False,
    about: Sequence[str] = (),
) -> Path:
    """Write ``out/charts/*.svg|png`` and ``out/report.html``; return the report path.

    Charts: the profile map and the leader × measure comparison (SVG and PNG),
    and one report card per leader of ``table`` (SVG; with ``card_png`` also PNG
    at :data:`CARD_SCALE`, which nearly doubles the time to draw a card). Leaders are
    named by ``labels``, else by the table's ``leader_name`` column, else by
    id. With an ``unobservable`` column (same text on every row: ``"signal: why;
    signal: why"``) the report lists the signals the input does not show near
    the top. Measures are named by :data:`tribe_analysis.charts.MEASURE_NAMES`.
    ``about``: lines under the title that say what was profiled (the data, its
    period, the run's notes).

    The page is self-contained: every chart is an inline SVG, with no script,
    font or style from the network.

    Examples
    --------
    >>> import tempfile
    >>> from tribe_analysis import features, graph, profiles
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=2, days=14, seed=1)
    >>> _, table = profiles.profile_leaders(
    ...     features.leader_measures(tribe.events, tribe.leaders, ego=False)
    ... )
    >>> tmp = tempfile.TemporaryDirectory()
    >>> page = write_report(
    ...     Path(tmp.name), table, graph.edge_list(tribe.events), tribe.events,
    ...     about=["a simulated tribe of 2 leaders"],
    ... )
    >>> drawn = sorted(p.name for p in (page.parent / "charts").iterdir())
    >>> page.name, drawn[:2], len(drawn)
    ('report.html', ['card_L001.svg', 'card_L002.svg'], 6)
    >>> "a simulated tribe of 2 leaders" in page.read_text()
    True
    >>> tmp.cleanup()
    """
    return start_report(
        out, table, edges, events, labels=labels, title=title, card_png=card_png, about=about
    )()


def start_report(
    out: Path,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "tribe-analysis report",
    card_png: bool = False,
    about: Sequence[str] = (),
) -> Callable[[], Path]:
    """:func:`write_report` in two steps: start drawing, then (the returned function) finish.

    The charts are made here and drawn by worker processes while the caller
    does other work (``tribe-analysis profile`` writes the graph); calling the
    returned function waits for them and writes ``report.html``.
    The arguments are :func:`write_report`'s, which is
    ``start_report(...)()``.
    """
    names = _display_names(table, labels)
    table = _in_name_order(table, names)  # the table's rows and the cards
    leaders = table.get_column("leader_id").to_list()

    @cache  # made with the first card: the workers get the profile map to draw first
    def shared() -> tuple[dict, charts._CardInputs]:
        # one pass over the edges for every card, each ego network cut to what it shows
        egos = graph.ego_networks(edges, leaders, max_alters=charts.CARD_ALTERS)
        return egos, charts._card_inputs(events, edges, leaders)  # one over the events

    # Altair checks every object it makes against the schema in its debug mode; the
    # tests check these charts, here that would be a third of the time to make a card
    def chart(make: Callable[[], alt.TopLevelMixin]) -> Callable[[], dict]:
        def spec() -> dict:
            with debug_mode(False):
                return charts._render_spec(make(), validate=False)

        return spec

    def card(leader: str) -> Callable[[], dict]:
        def spec() -> dict:
            egos, inputs = shared()
            with debug_mode(False):
                return charts._report_card_spec(
                    leader, table, edges, events, labels=labels, ego=egos[leader], inputs=inputs
                )

        return spec

    card_scale = CARD_SCALE if card_png else None
    stems = card_stems(leaders)
    plan: list[tuple[str, Callable[[], dict], float | None]] = [
        ("profile_map", chart(lambda: charts.profile_map(table, labels=labels)), 2.0),
        ("comparison", chart(lambda: charts.measure_comparison(table, labels=labels)), 2.0),
        *[(f"card_{stems[leader]}", card(leader), card_scale) for leader in leaders],
    ]
    drawn = _start_drawing(plan, out / "charts")

    def finish() -> Path:
        path = out / "report.html"
        path.write_text(_page(table, names, stems, drawn(), title, about), encoding="utf-8")
        return path

    return finish


def _about_html(about: Sequence[str]) -> str:
    """What was profiled, a line each, under the title (nothing without lines).

    Examples
    --------
    >>> _about_html(["5,105 events, Oct 11, 2011 – Aug 30, 2018", "note: a <b> & c"])
    "<p class='about'>5,105 events, Oct 11, 2011 – Aug 30, 2018<br>note: a &lt;b&gt; &amp; c</p>"
    """
    if not about:
        return ""
    return "<p class='about'>" + "<br>".join(html.escape(line) for line in about) + "</p>"


def _page(
    table: pl.DataFrame,
    names: Mapping[str, str],
    stems: Mapping[str, str],
    svgs: Mapping[str, str],
    title: str,
    about: Sequence[str] = (),
) -> str:
    """The report's HTML; ``stems``: :func:`card_stems` of the leaders, in card order."""

    def figure(stem: str, caption: str = "") -> str:
        note = f"<figcaption>{caption}</figcaption>" if caption else ""
        return f"<figure>{svgs[stem]}{note}</figure>"

    cards = "".join(
        f"<section class='card' id='card-{number}'>"
        f"<h2>Report card: <bdi>{html.escape(names[leader])}</bdi></h2>"
        f"{figure(f'card_{stems[leader]}')}"
        "</section>"
        for number, leader in enumerate(stems, 1)
    )
    explain = (
        "Each leader's label comes from its own participation index and its interval "
        "(docs/methods.md): <span class='participator'>participator</span> or "
        "<span class='broadcaster'>broadcaster</span> when the probability of that style, "
        f"around the threshold of {PARTICIPATOR_THRESHOLD:.2f}, is at least {CONFIDENCE:.2f}; "
        "<span class='undetermined'>undetermined</span> when neither style is that likely "
        f"or fewer than {MIN_PARTS} of the {len(PARTS)} parts are observed. "
        "<i>why</i> gives the reason, the ways of participating in words and the parts the "
        "label rests on; <i>probability</i> is that of the label, the sub-profile (under the "
        "label) is the leader's cluster within it, and n/o marks a part that is not observed "
        "(unobservable signal or too little evidence). A leader's name leads to its card."
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{_about_html(about)}"
        f"<p>{html.escape(_summary(table))}.</p><p>{explain}</p>"
        f"{_unobservable_html(table)}"
        f"<h2>Profiles</h2>{_table_html(table, names)}"
        "<h2>Where each leader stands</h2>"
        + figure(
            "profile_map",
            "Point a leader for its label, reason and ways; names are written beside their "
            "points, or at the end of a thin line where leaders crowd.",
        )
        + f"<h2>Leaders measure by measure</h2>{figure('comparison')}{cards}</body></html>\n"
    )


_HASHED = re.compile(r".*-[0-9a-f]{16}")
"""A stem :func:`card_stems` made with a hash (an id left as it is never looks like one)."""


def card_stems(leaders: Sequence[str]) -> dict[str, str]:
    """The file-name stem of each leader's card (``charts/card_<stem>.svg``), one per leader.

    A leader's id itself when it is made of letters, digits, ``-``, ``_`` and ``.``
    only, is at most 100 characters long and no other leader's id gives the same stem,
    case aside (macOS and Windows do not tell such file names apart); else the id with
    every other character as ``_``, then ``-`` and 16 hexadecimal digits of its SHA-256.
    Two leaders never share a file.

    Examples
    --------
    >>> stems = card_stems(["L001", "a/b", "Ann", "ann"])
    >>> stems["L001"], stems["a/b"], stems["Ann"]
    ('L001', 'a_b-c14cddc033f64b9d', 'Ann-17239b6e25011033')
    """
    plain = {
        name: "".join(c if c.isalnum() or c in "-_." else "_" for c in name) for name in leaders
    }
    folded = Counter(stem.casefold() for stem in plain.values())
    stems = {}
    for name, stem in plain.items():
        kept = stem == name and len(name) <= 100 and not _HASHED.fullmatch(name)
        if kept and folded[stem.casefold()] == 1:
            stems[name] = stem
        else:
            digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
            stems[name] = f"{stem[:80]}-{digest}"
    return stems
