from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime

import altair as alt
import polars as pl
import pytest

from tribe_analysis import charts, features, graph
from tribe_analysis.profiles import profile_leaders
from tribe_analysis.synth import simulate_tribe


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=8, days=30, seed=4)


@pytest.fixture(scope="module")
def table(tribe):
    _, profiles = profile_leaders(
        features.leader_measures(tribe.events, tribe.leaders), random_state=0
    )
    return profiles


@pytest.fixture(scope="module")
def edges(tribe):
    return graph.edge_list(tribe.events)


def _spec(chart) -> dict:
    spec = chart.to_dict()
    assert json.loads(json.dumps(spec)) == spec  # JSON round trip
    return spec


def _rows(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_profile_map_spec(table):
    spec = _spec(charts.profile_map(table))
    rule, points, names = spec["layer"]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["x"]["field"] == "threshold"
    assert points["mark"]["type"] == "circle"
    enc = points["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("participation_index", "quantitative")
    assert (enc["y"]["field"], enc["y"]["type"]) == ("give_receive_log_ratio", "quantitative")
    assert enc["color"]["field"] == "profile"
    assert enc["color"]["scale"]["range"] == list(charts.PROFILE_COLORS.values())
    assert enc["size"]["field"] == "authored"
    assert {t["field"] for t in enc["tooltip"]} >= {"leader", "probability", "reply_rate"}
    assert names["mark"]["type"] == "text"
    leaders = [r["leader"] for r in _rows(spec) if "leader" in r]
    assert leaders == sorted(table["leader_id"].to_list())


def test_charts_are_deterministic(tribe, table, edges):
    def build():
        return [
            charts.profile_map(table),
            charts.measure_comparison(table),
            charts.ego_network(edges, tribe.leaders[0]),
            charts.thread_view(tribe.events, tribe.leaders[0]),
            charts.activity_timeline(tribe.events),
            charts.report_card(tribe.leaders[0], table, edges, tribe.events),
        ]

    first = [c.to_json() for c in build()]
    second = [c.to_json() for c in build()]
    assert first == second
    shuffled = tribe.events.sample(fraction=1.0, shuffle=True, seed=1)
    assert charts.activity_timeline(shuffled).to_json() == first[4]


def test_measure_comparison_has_median_row(table):
    spec = _spec(charts.measure_comparison(table, leaders=table["leader_id"][:3].to_list()))
    rows = _rows(spec)
    assert {r["leader"] for r in rows} == {"tribe median", *table["leader_id"][:3].to_list()}
    median = {r["measure"]: r["value"] for r in rows if r["leader"] == "tribe median"}
    expected = table["reply_rate"].median()
    assert median["reply_rate"] == pytest.approx(expected, abs=1e-4)
    cells = spec["layer"][0]
    assert cells["mark"]["type"] == "rect" and cells["encoding"]["color"]["field"] == "value"


def test_ego_network_spec(tribe, edges):
    leader = tribe.leaders[0]
    spec = _spec(charts.ego_network(edges, leader, max_alters=10, seed=3))
    ties, nodes, label = spec["layer"]
    assert ties["mark"]["type"] == "rule" and nodes["mark"]["type"] == "circle"
    rows = _rows(spec)
    node_rows = [r for r in rows if "role" in r]
    assert sum(r["role"] == "leader" for r in node_rows) == 1
    assert len(node_rows) == 11
    assert {r["kind"] for r in rows if "kind" in r} <= {"leader replied", "tie"}
    assert _spec(charts.ego_network(edges, leader, max_alters=10, seed=3)) == spec


def test_pseudonymised_labels_hide_ids(tribe, table, edges):
    labels = charts.pseudonym_labels(tribe.leaders)
    for chart in (
        charts.profile_map(table, labels=labels),
        charts.report_card(tribe.leaders[0], table, edges, tribe.events, labels=labels),
    ):
        text = chart.to_json()
        assert "Leader 1" in text
        assert not any(leader in text for leader in tribe.leaders)


def test_thread_view_and_timeline(tribe):
    leader = tribe.leaders[0]
    spec = _spec(charts.thread_view(tribe.events, leader))
    rows = _rows(spec)
    posts = tribe.events.filter((pl.col("actor_id") == leader) & (pl.col("action") == "post"))
    assert len(rows) == posts.height
    assert {r["conversation"] for r in rows} <= {
        "leader answered",
        "left unanswered",
        "no comments",
    }
    assert spec["encoding"]["x"]["type"] == "temporal"
    timeline = _spec(charts.activity_timeline(tribe.events, every="1w"))
    assert sum(r["events"] for r in _rows(timeline)) == tribe.events.height


def test_style_over_time_before_after(tribe):
    windowed = features.leader_measures(tribe.events, tribe.leaders[:2], every="1w", ego=False)
    split = datetime(2024, 1, 15, tzinfo=UTC)
    spec = _spec(charts.style_over_time(windowed, split=split))
    periods = {(r["leader"], r["period"]) for r in _rows(spec) if "period" in r}
    assert periods == {(leader, p) for leader in tribe.leaders[:2] for p in ("before", "after")}


def test_no_max_rows_error_on_large_input():
    big = simulate_tribe(n_leaders=30, n_members=3000, days=60, seed=1, activity_scale=2).events
    assert big.height > 100_000
    spec = charts.activity_timeline(big, every="1d").to_dict()
    assert len(_rows(spec)) <= 60 * 4


def _png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return width, height, len(set(raw))


def test_save_png_svg_html(tmp_path, table):
    chart = charts.profile_map(table)
    png = charts.save_chart(chart, tmp_path / "map.png", scale=1)
    width, height, distinct = _png_size_and_colours(png.read_bytes())
    assert 500 < width < 900 and 300 < height < 600
    assert distinct > 20  # a real picture, not a blank canvas
    again = charts.save_chart(chart, tmp_path / "again.png", scale=1)
    assert again.read_bytes() == png.read_bytes()
    svg = charts.save_chart(chart, tmp_path / "map.svg").read_text()
    assert svg.startswith("<svg") and "participation index" in svg
    html = charts.save_chart(chart, tmp_path / "map.html").read_text()
    assert "vega-embed" in html and "https://cdn" not in html
    with pytest.raises(ValueError, match=r"cannot save a chart as '\.pdf'"):
        charts.save_chart(chart, tmp_path / "map.pdf")


def test_stable_renderer_ids(table):
    charts.setup_notebook()
    try:
        chart = charts.profile_map(table)
        one = chart._repr_mimebundle_()
        two = chart._repr_mimebundle_()
        html = one[0]["text/html"] if isinstance(one, tuple) else one["text/html"]
        assert html == (two[0]["text/html"] if isinstance(two, tuple) else two["text/html"])
        assert "altair-viz-" in html
        assert alt.theme.active == charts.THEME
    finally:
        alt.renderers.enable("default")
        alt.theme.enable("default")
        pl.Config.set_engine_affinity("auto")
