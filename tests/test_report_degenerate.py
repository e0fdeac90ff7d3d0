"""Charts and the report of degenerate runs (Hypothesis): valid specs, drawn offline, nothing odd shown.

Over small random event sets (``tests/test_pipeline_properties.random_events``: one to
five accounts, any action, parents inside or outside the data), one to three leaders
(so often every one undetermined), platforms that show every signal or none (every
part of the index unobserved), and leaders' names as exports give them (none, empty,
only combining marks, 400 characters, control characters such as ``\\x04``):

- the profile map, the comparison and every report card are valid Vega-Lite
  (Altair's ``to_dict(validate=True)``);
- vl-convert draws every chart offline (``write_report``): each SVG is XML, the PNGs
  are PNGs, and ``report.html`` loads nothing (no script, no URL but the SVG namespace);
- no ``NaN``, ``Infinity``, ``None``, ``null`` or ``undefined`` is shown to the user
  (text of the page and of the drawings), unless a name holds it.

A name holding a control character made vl-convert fail ("a non-XML character"), and
``profile`` with it: one 'unexpected failure' line and no results. In the report's table
it was written as it is (an escape, a bell); it is now ``�``, as on the console.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribe_analysis import _drawing, charts, pipeline, report
from tribe_analysis.cli import main

from .test_pipeline_properties import random_events

NAMES = st.one_of(
    st.none(),
    st.text(max_size=4),  # any character: control characters, marks, surrogates aside
    st.text(alphabet=st.characters(categories=["Mn", "Me"]), min_size=1, max_size=6),
    st.sampled_from(["", "W" * 400, "Ann\x04Lee", "\x1b[2J", "N\u0301o\u0308"]),
)
NOTHING = {
    "reaction": False,
    "share": False,
    "mention": False,
    "reply": False,
    "reply_answer": False,
    "reply_chain": False,
}
"""A platform that shows no signal: every part of the index is unobserved."""
ODD = re.compile(r"\b(NaN|nan|Infinity|inf|None|null|undefined)\b")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters but tab, line feed and carriage return (the page's own white space)."""


def _shown(texts: list[str], names: list[str], where: str) -> None:
    for text in texts:
        found = ODD.search(text)
        assert not found or any(name and found[0] in name for name in names), (where, text)


def _svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.fixture(autouse=True)
def _drawn_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Few charts a run: drawn in this process (no workers to start)."""
    monkeypatch.setattr(report, "WORKERS", 1)
    monkeypatch.setattr(_drawing, "started", lambda: False)  # nor workers an earlier test started


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    events=random_events(),
    n=st.integers(1, 3),
    given_names=st.lists(NAMES, min_size=3, max_size=3),
    observable=st.booleans(),
)
def test_charts_and_report_of_degenerate_runs(
    tmp_path_factory: pytest.TempPathFactory,
    events: pl.DataFrame,
    n: int,
    given_names: list[str | None],
    observable: bool,
) -> None:
    leaders = sorted(set(events["actor_id"]))[:n]
    pairs = zip(leaders, given_names[: len(leaders)], strict=True)
    names = {leader: name for leader, name in pairs if name is not None}
    run = pipeline.profile(
        events, leaders, names=names, observability=None if observable else NOTHING
    )
    table, labels = run.profiles, names or None
    if not observable:
        assert table["parts_observed"].to_list() == [0] * len(leaders)
    made = [
        charts.profile_map(table, labels=labels),
        charts.measure_comparison(table, labels=labels),
    ]
    made += [charts.report_card(x, table, run.edges, run.events, labels=labels) for x in leaders]
    for chart in made:
        chart.to_dict(validate=True)
    out = tmp_path_factory.mktemp("report")
    page = report.write_report(out, table, run.edges, run.events, labels=labels).read_text()
    shown_names = list(names.values())
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert set(re.findall(r"https?://[^\s\"'<>)]*", page)) <= {"http://www.w3.org/2000/svg"}
    outside = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    _shown([html.unescape(t) for t in re.findall(r">([^<]+)<", outside)], shown_names, "page")
    # a control character of a name is shown as the console and the drawings show it (U+FFFD)
    assert not CONTROL.search(html.unescape(page)), CONTROL.search(html.unescape(page))
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        _shown(_svg_texts(svg), shown_names, "report figure")
    drawn = sorted((out / "charts").iterdir())
    assert len([p for p in drawn if p.suffix == ".svg"]) == 2 + len(leaders)
    for path in drawn:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            ET.fromstring(path.read_text(encoding="utf-8"))
            _shown(_svg_texts(path.read_text(encoding="utf-8")), shown_names, path.name)


def test_an_account_id_holding_a_control_character_is_drawn(tmp_path: Path) -> None:
    """The id is the name shown where the export gives none: the report is written."""
    actors = ["ann\x04lee", "bob", "cid"]
    rows = ["event_id,timestamp,actor_id,action,parent_id,mentions,text"]
    for day in range(1, 8):
        for i, actor in enumerate(actors):
            post = f"p{day}{i}"
            rows.append(f"{post},2024-03-0{day}T10:00:00Z,{actor},post,,,hi")
            for j, other in enumerate(actors):
                if other != actor:
                    rows.append(f"r{day}{i}{j},2024-03-0{day}T11:00:00Z,{other},reply,{post},,yo")
    export = tmp_path / "events.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["profile", str(export), "--top-leaders", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and (out / "charts" / "profile_map.png").exists()
    cards = [p.read_text() for p in (out / "charts").glob("card_*.svg")]
    assert len(cards) == 3 and any("ann\ufffdlee" in card for card in cards)  # its card
    # a notebook shows the chart as SVG too (the tribe renderer)
    chart = charts.measure_comparison(pl.read_csv(out / "profiles.csv"))
    bundle = charts._offline_bundle(chart.to_dict())
    assert isinstance(bundle, dict) and "ann\ufffdlee" in bundle["image/svg+xml"]


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    events=random_events(),
    actors=st.one_of(st.none(), st.lists(st.sampled_from(["a0", "a1", "a2", "nobody"]))),
    every=st.sampled_from(["1d", "1w"]),
)
def test_activity_timeline_counts_every_event_and_draws_quietly(
    events: pl.DataFrame, actors: list[str] | None, every: str, vega_warnings: list[str]
) -> None:
    """Its bars add up to the events of the accounts; none (a window or accounts without
    events) is said in words: Vega warned 'Infinite extent for field "period"' four times."""
    chart = charts.activity_timeline(events, actors=actors, every=every)
    spec = chart.to_dict(validate=True)
    chosen = events if actors is None else events.filter(pl.col("actor_id").is_in(actors))
    bars = [row for rows in spec.get("datasets", {}).values() for row in rows if "events" in row]
    assert sum(row["events"] for row in bars) == chosen.height
    drawn = _drawing.svg(charts._render_spec(chart))
    assert vega_warnings == []
    if chosen.is_empty():
        assert "No events" in drawn
