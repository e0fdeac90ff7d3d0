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

__all__ = ["TABLE_COLUMNS", "write_report"]

TABLE_COLUMNS: tuple[str, ...] = (
    "leader_id",
    "profile",
    "probability",
    "participation_index",
    "sub_profile",
    "stability",
    "label_agreement",
    "drivers",
    "reply_rate",
    "comment_share",
    "see_coverage",
    "broadcast_share",
    "authored",
)

_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.8em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f5f5f5; } td.text, th.text { text-align: left; }
.broadcaster { color: #D55E00; font-weight: bold; } .participator { color: #0072B2; font-weight: bold; }
figure { margin: 1em 0; }
"""


def _table_html(table: pl.DataFrame) -> str:
    cols = [c for c in TABLE_COLUMNS if c in table.columns]
    head = "".join(
        f"<th class='{'text' if table.schema[c] == pl.String else 'num'}'>{html.escape(c)}</th>"
        for c in cols
    )
    rows = []
    for row in table.select(cols).iter_rows(named=True):
        cells = []
        for c in cols:
            value = row[c]
            if value is None:
                text, cls = "–", "num"
            elif isinstance(value, float):
                text, cls = f"{value:.2f}", "num"
            else:
                text, cls = str(value), ("text" if isinstance(value, str) else "num")
            if c == "profile":
                cls = f"text {value}"
            cells.append(f"<td class='{cls}'>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


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
    per leader of ``table``.
    """
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
        name = (labels or {}).get(leader, leader)
        made.append(
            (
                f"card_{_safe(leader)}",
                f"Report card: {name}",
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
    counts = table.group_by("profile").len().sort("profile")
    summary = ", ".join(f"{n} {p}{'s' if n != 1 else ''}" for p, n in counts.iter_rows())
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(summary)}. Profiles are named by the "
        "participation index (docs/methods.md); probability is the membership probability of "
        "the leader's profile, stability the bootstrap stability of its cluster, label_agreement "
        "the share of bootstrap resamples giving the leader the same profile.</p>"
        f"<h2>Profiles</h2>{_table_html(table)}{''.join(sections)}</body></html>\n"
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
