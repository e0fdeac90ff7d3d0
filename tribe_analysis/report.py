"""The offline HTML report: charts (PNG and SVG) and the profile table in one file.

``report.html`` inlines every chart as SVG and the table as HTML, so a coach can
open it with no network and no other file; ``charts/`` keeps the PNG and SVG of
each chart for slides.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from tribe_analysis import charts
from tribe_analysis.participation import LEVEL, MIN_PARTS, PARTS
from tribe_analysis.profiles import CONFIDENCE, PARTICIPATOR_THRESHOLD, PROFILES

__all__ = ["TABLE_COLUMNS", "write_report"]

TABLE_COLUMNS: tuple[str, ...] = (
    "leader",
    "profile",
    "reason",
    "probability",
    "participation_index",
    "parts_observed",
    "sub_profile",
    "ways",
    *PARTS,
)
"""Columns of the report's table, in order (``leader`` is the display name)."""

_HEADERS: dict[str, str] = {
    "participation_index": f"participation index ({LEVEL:.0%} interval)",
    "parts_observed": f"parts observed (of {len(PARTS)})",
    "sub_profile": "sub-profile",
    **PARTS,
}
_TEXT = {"leader", "profile", "reason", "sub_profile", "ways"}

_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.8em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; }
th { background: #f5f5f5; } td.text, th.text { text-align: left; }
.broadcaster { color: #D55E00; font-weight: bold; } .participator { color: #0072B2; font-weight: bold; }
.undetermined { color: #999999; font-weight: bold; }
.id { color: #666; font-size: 0.85em; } .missing { color: #666; font-style: italic; }
figure { margin: 1em 0; }
"""


def _display_names(table: pl.DataFrame, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Leader id -> the name shown: from ``labels``, else ``leader_name``, else the id."""
    ids = table.get_column("leader_id").to_list()
    if labels:
        return {leader: labels.get(leader, leader) for leader in ids}
    if "leader_name" in table.columns:
        names = table.get_column("leader_name").to_list()
        return {leader: name or leader for leader, name in zip(ids, names, strict=True)}
    return {leader: leader for leader in ids}


def _leader_cell(leader: str, shown: str, row: dict) -> str:
    """The name, with the id beside it when the name is the account's own (not a pseudonym)."""
    cell = html.escape(shown)
    if shown != leader and shown == row.get("leader_name"):
        cell += f" <span class='id'>{html.escape(leader)}</span>"
    return cell


def _cell(column: str, row: dict) -> tuple[str, str]:
    """(escaped HTML, css class) of one table cell."""
    value = row.get(column)
    if column == "participation_index":
        if value is None:
            return "<span class='missing'>n/o</span>", "num"
        low, high = row.get("index_low"), row.get("index_high")
        interval = "" if low is None or high is None else f" ({low:.2f}–{high:.2f})"
        return html.escape(f"{value:.2f}{interval}"), "num"
    if value is None:
        missing = "n/o" if column in PARTS else "–"
        return f"<span class='missing'>{missing}</span>", "num"
    if column == "profile":
        return html.escape(str(value)), f"text {html.escape(str(value))}"
    if isinstance(value, float):
        return f"{value:.2f}", "num"
    return html.escape(str(value)), ("text" if column in _TEXT else "num")


def _table_html(table: pl.DataFrame, names: Mapping[str, str]) -> str:
    cols = [c for c in TABLE_COLUMNS if c == "leader" or c in table.columns]
    head = "".join(
        f"<th class='{'text' if c in _TEXT else 'num'}'>{html.escape(_HEADERS.get(c, c))}</th>"
        for c in cols
    )
    rows = []
    for row in table.iter_rows(named=True):
        cells = []
        for c in cols:
            if c == "leader":
                leader = row["leader_id"]
                text, cls = _leader_cell(leader, names[leader], row), "text"
            else:
                text, cls = _cell(c, row)
            cells.append(f"<td class='{cls}'>{text}</td>")
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


def write_report(
    out: Path,
    table: pl.DataFrame,
    edges: pl.DataFrame,
    events: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "tribe-analysis report",
) -> Path:
    """Write ``out/charts/*.png|svg`` and ``out/report.html``; return the report path.

    Charts: the profile map, the leader × measure comparison and one report card
    per leader of ``table``. Leaders are named by ``labels``, else by the
    table's ``leader_name`` column, else by id. With an ``unobservable``
    column (same text on every row: ``"signal: why; signal: why"``) the report
    lists the signals the input does not show near the top.
    """
    names = _display_names(table, labels)
    folder = out / "charts"
    made: list[tuple[str, str, object]] = [
        ("profile_map", "Where each leader stands", charts.profile_map(table, labels=labels)),
        (
            "comparison",
            "Leaders measure by measure",
            charts.measure_comparison(table, labels=labels),
        ),
    ]
    for leader in table.get_column("leader_id").to_list():
        made.append(
            (
                f"card_{_safe(leader)}",
                f"Report card: {names[leader]}",
                charts.report_card(leader, table, edges, events, labels=labels),
            )
        )
    sections = []
    folder.mkdir(parents=True, exist_ok=True)
    for stem, heading, chart in made:
        images = charts.render(chart)
        (folder / f"{stem}.png").write_bytes(images["png"])
        (folder / f"{stem}.svg").write_bytes(images["svg"])
        svg = images["svg"].decode("utf-8")
        sections.append(f"<h2>{html.escape(heading)}</h2><figure>{svg}</figure>")
    explain = (
        "Each leader's label comes from its own participation index and its interval "
        "(docs/methods.md): <span class='participator'>participator</span> or "
        "<span class='broadcaster'>broadcaster</span> when the probability of that style, "
        f"around the threshold of {PARTICIPATOR_THRESHOLD:.2f}, is at least {CONFIDENCE:.2f}; "
        "<span class='undetermined'>undetermined</span> when neither style is that likely "
        f"or fewer than {MIN_PARTS} of the {len(PARTS)} parts are observed. "
        "<i>reason</i> says why, <i>probability</i> is that of the label, the sub-profile is "
        "the leader's cluster within its label, and n/o marks a part that is not observed "
        "(unobservable signal or too little evidence)."
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(_summary(table))}.</p><p>{explain}</p>"
        f"{_unobservable_html(table)}"
        f"<h2>Profiles</h2>{_table_html(table, names)}{''.join(sections)}</body></html>\n"
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
