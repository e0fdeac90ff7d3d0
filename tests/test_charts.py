from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta

import altair as alt
import polars as pl
import pytest
import vl_convert
from hypothesis import given, settings
from hypothesis import strategies as st

from tribe_analysis import charts, features, graph
from tribe_analysis.participation import PARTS
from tribe_analysis.profiles import PARTICIPATOR_THRESHOLD, PROFILES, profile_leaders
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


def _quietest_member(tribe) -> str:
    counts = tribe.events.group_by("actor_id").len().sort("len", "actor_id")
    return counts.filter(~pl.col("actor_id").is_in(tribe.leaders))["actor_id"][0]


@pytest.fixture(scope="module")
def gappy(tribe):
    """A table as from a platform without reactions, with leaders too quiet to place."""
    leaders = [*tribe.leaders, _quietest_member(tribe), "ghost", "nobody"]
    measures = features.leader_measures(
        tribe.events, leaders, observability={"reaction": False}, ego=False
    )
    _, profiles = profile_leaders(measures, random_state=0)
    return profiles


def test_profile_colours_are_three_and_distinct():
    assert charts.PROFILE_COLORS == {
        "broadcaster": "#D55E00",
        "participator": "#0072B2",
        "undetermined": "#999999",
    }
    assert set(charts.PROFILE_COLORS) == set(PROFILES)


def test_profile_map_spec(table):
    spec = _spec(charts.profile_map(table))
    rule, bars, points, names, _ = spec["layer"]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["x"]["field"] == "threshold"
    assert spec["title"]["subtitle"][0].startswith(
        f"participator from an index of {PARTICIPATOR_THRESHOLD:.2f}"
    )
    assert len(spec["title"]["subtitle"]) == 1  # every leader placed: nothing left out
    assert bars["mark"]["type"] == "errorbar"
    assert bars["encoding"]["x"]["field"] == "index_low"
    assert bars["encoding"]["x2"]["field"] == "index_high"
    assert bars["encoding"]["y"]["field"] == "give_receive_log_ratio"
    assert points["mark"]["type"] == "point"
    enc = points["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("participation_index", "quantitative")
    assert (enc["y"]["field"], enc["y"]["type"]) == ("give_receive_log_ratio", "quantitative")
    for layer in (bars, points):
        color = layer["encoding"]["color"]
        assert color["field"] == "profile"
        assert color["scale"]["domain"] == ["broadcaster", "participator", "undetermined"]
        assert color["scale"]["range"] == ["#D55E00", "#0072B2", "#999999"]
    assert enc["shape"]["field"] == "sub_profile"
    assert set(enc["shape"]["scale"]["domain"]) == set(table["sub_profile"])
    assert enc["size"]["field"] == "authored"
    assert {t["field"] for t in enc["tooltip"]} >= {
        "leader",
        "reason",
        "probability",
        "sub_profile",
        "parts_observed",
        "index_low",
        "index_high",
    }
    assert names["mark"]["type"] == "text" and names["encoding"]["text"]["field"] == "leader"
    rows = [r for r in _rows(spec) if "leader" in r]
    assert [r["leader"] for r in rows] == sorted(table["leader_id"].to_list())
    by_id = {r["leader_id"]: r for r in table.iter_rows(named=True)}
    for row in rows:
        source = by_id[row["leader"]]
        assert row["index_low"] == pytest.approx(source["index_low"], abs=1e-4)
        assert row["index_high"] == pytest.approx(source["index_high"], abs=1e-4)
        assert row["reason"] == source["reason"]


def test_profile_map_leaves_out_leaders_without_an_index(gappy):
    missing = gappy.filter(pl.col("participation_index").is_null())
    assert missing.height >= 2  # ghost and nobody at least
    assert set(missing["profile"]) == {"undetermined"}
    spec = _spec(charts.profile_map(gappy))
    shown = {r["leader"] for r in _rows(spec) if "leader" in r}
    assert shown == set(gappy.filter(pl.col("participation_index").is_not_null())["leader_id"])
    assert "ghost" not in shown and "nobody" not in shown
    assert spec["title"]["subtitle"][-1] == (
        f"{missing.height} leaders undetermined for lack of evidence are not shown"
    )
    one = gappy.filter(
        pl.col("participation_index").is_not_null() | (pl.col("leader_id") == "ghost")
    )
    subtitle = _spec(charts.profile_map(one))["title"]["subtitle"][-1]
    assert subtitle == "1 leader undetermined for lack of evidence is not shown"


def test_profile_map_undetermined_with_an_index_is_grey_and_placed(table):
    between = table.with_columns(
        pl.when(pl.col("leader_id") == table["leader_id"][0])
        .then(pl.lit("undetermined"))
        .otherwise(pl.col("profile"))
        .alias("profile"),
        pl.when(pl.col("leader_id") == table["leader_id"][0])
        .then(pl.lit("undetermined"))
        .otherwise(pl.col("sub_profile"))
        .alias("sub_profile"),
    )
    spec = _spec(charts.profile_map(between))
    rows = {r["leader"]: r for r in _rows(spec) if "leader" in r}
    assert rows[table["leader_id"][0]]["profile"] == "undetermined"
    shape = spec["layer"][2]["encoding"]["shape"]["scale"]
    assert dict(zip(shape["domain"], shape["range"], strict=True))["undetermined"] == "diamond"


def test_profile_map_prefers_labels_then_leader_name(table):
    named = table.with_columns(("name " + pl.col("leader_id")).alias("leader_name"))
    leaders = {r["leader"] for r in _rows(_spec(charts.profile_map(named))) if "leader" in r}
    assert leaders == {f"name {leader}" for leader in table["leader_id"]}
    labels = charts.pseudonym_labels(table["leader_id"].to_list())
    text = charts.profile_map(named, labels=labels).to_json()
    assert "Leader 1" in text and "name " not in text


def test_profile_map_draws_callout_lines(table):
    spec = _spec(charts.profile_map(table))
    lines = spec["layer"][4]
    assert lines["mark"]["type"] == "rule"
    assert lines["transform"] == [{"filter": "isValid(datum.line_x)"}]
    assert {lines["encoding"][c]["field"] for c in ("x", "y", "x2", "y2")} == {
        "line_x",
        "line_y",
        "line_x2",
        "line_y2",
    }
    rows = [r for r in _rows(spec) if "leader" in r]
    called = [r for r in rows if r.get("line_x") is not None]
    assert called, "the test tribe's crowded participators get names by callouts"
    assert all(r["label_x"] is not None for r in called)


def test_profile_map_gives_outlets_far_from_balance_the_plot(table, monkeypatch):
    # the PHEME export: eight outlets at index 0, each receiving 80-330 times what it gives
    balances = [-4.37, -4.57, -5.16, -5.11, -4.41, -5.43, -5.79, -5.61]
    outlets = table.head(8).with_columns(
        pl.Series("give_receive_log_ratio", balances),
        pl.lit(0.0).alias("participation_index"),
        pl.lit(0.0).alias("index_low"),
        pl.lit(0.08).alias("index_high"),
    )

    def named(spec):
        return sum(r["label_x"] is not None for r in _rows(spec) if "leader" in r)

    spec = _spec(charts.profile_map(outlets))
    assert spec["layer"][2]["encoding"]["y"]["scale"]["domain"] == [-6.0, -4.0]
    with monkeypatch.context() as m:  # as before: 0 always in view, the points squeezed
        m.setattr(charts, "_balance_domain", lambda v: charts._nice_domain([0.0, *v]))
        squeezed = _spec(charts.profile_map(outlets))
    assert squeezed["layer"][2]["encoding"]["y"]["scale"]["domain"] == [-6.0, 0.0]
    assert named(spec) >= 7 > named(squeezed)
    # balances near 0 keep 0 (give = receive) in view
    near = [b + 4 for b in balances]  # -1.79 .. -0.37: 0 is nearer than they spread
    assert charts._balance_domain(near) == (-2.0, 0.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-8, 8, allow_nan=False), min_size=1, max_size=30))
def test_balance_domain_holds_every_leader_and_keeps_zero_when_near(values):
    low, high = charts._balance_domain(values)
    assert low <= min(values) and max(values) <= high and low < high
    assert low / 0.5 == round(low / 0.5) and high / 0.5 == round(high / 0.5)  # ticks at 0.5
    gap = max(min(values), 0) + max(-max(values), 0)
    if gap <= max(values) - min(values):
        assert low <= 0 <= high  # 0 (give = receive) is in view when it is this near
    else:  # far from 0: the plot is the leaders', at most one step beyond them either side
        assert high - low <= max(values) - min(values) + 1.0 + 1e-9


def test_profile_map_without_an_index_says_why_in_the_plot(table):
    # the real Reddit sample: every chosen leader is undetermined for lack of evidence
    empty = table.with_columns(
        pl.lit(None, dtype=pl.Float64).alias(c)
        for c in ("participation_index", "index_low", "index_high")
    )
    spec = _spec(charts.profile_map(empty))
    note = spec["layer"][-1]
    assert note["mark"]["type"] == "text"
    words = [r for r in _rows(spec) if "text" in r and isinstance(r["text"], list)]
    assert words and words[0]["text"][0] == "No leader to place:"
    assert spec["title"]["subtitle"][-1].startswith(f"{table.height} leaders undetermined")
    points = spec["layer"][2]["encoding"]
    assert points["size"]["legend"] is None and points["shape"]["legend"] is None
    # with points: no words over them, and the legend counts whole actions
    full = _spec(charts.profile_map(table))
    assert full["layer"][-1]["mark"]["type"] == "rule"
    legend = full["layer"][2]["encoding"]["size"]["legend"]
    assert legend == {"format": ",d", "tickMinStep": 1}


def test_labels_do_not_overlap():
    def boxes(x, y, text, spots, y_domain, char=6.0):
        """Pixel boxes (left, right, bottom, top) of the points (4 px) and the placed labels."""
        low, span = y_domain[0], y_domain[1] - y_domain[0]
        points, labels = [], []
        for xi, yi, spot, label in zip(x, y, spots, text, strict=True):
            px, py = xi * 460, (yi - low) / span * 320
            points.append((px - 4, px + 4, py - 4, py + 4))
            if spot is not None:
                left, middle = spot[0] * 460, (spot[1] - low) / span * 320
                labels.append((left, left + char * len(label), middle - 6, middle + 6))
        return points, labels

    def overlap(a, b):
        return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]

    # a row of close points: labels clear of every point and of each other
    x = [0.3 + 0.012 * i for i in range(15)]
    y = [0.1 * (i % 3) for i in range(15)]
    text = [f"L{i:03d}" for i in range(15)]
    spots = charts._place_labels(x, y, text, width=460, height=320, y_domain=(-1, 1))
    points, labels = boxes(x, y, text, spots, (-1, 1))
    assert 3 <= len(labels) < 15  # some fit, some are left to the tooltips
    for i, label in enumerate(labels):
        assert not any(overlap(label, p) for p in points)
        assert not any(overlap(label, other) for other in labels[i + 1 :])
    # five leaders on one spot: a label there would name any of them
    same = charts._place_labels([0.5] * 5, [0.0] * 5, ["L1"] * 5, width=460, height=320)
    assert same == [None] * 5
    # the right edge sends the label left
    far = charts._place_labels(
        [0.1, 0.99], [0.0, 1.0], ["abc", "abc"], width=460, height=320, y_domain=(-1, 2)
    )
    assert far[0][0] > 0.1 and far[1][0] < 0.99


def test_profile_map_labels_the_undetermined_first_and_tells_each_point(table):
    spec = _spec(charts.profile_map(table))
    points = spec["layer"][2]
    assert points["mark"]["aria"] is True
    assert points["encoding"]["description"]["field"] == "tip"
    rows = [r for r in _rows(spec) if "tip" in r]
    by_id = {r["leader_id"]: r for r in table.iter_rows(named=True)}
    for row in rows:
        source = by_id[row["leader"]]
        assert row["tip"].split("\n")[:3] == [
            f"{row['leader']}: {source['sub_profile']}"
            + (f" (probability {source['probability']:.2f})" if source["probability"] else ""),
            source["reason"],
            source["ways"],
        ]
    y = spec["layer"][2]["encoding"]["y"]["scale"]
    assert y["nice"] is False and y["domain"][0] <= min(table["give_receive_log_ratio"])


def test_report_card_parts_with_intervals_and_not_observed(tribe, gappy, edges):
    decided = gappy.filter(pl.col("profile") != "undetermined")
    leader = next(x for x in tribe.leaders if x in decided["leader_id"])
    row = gappy.filter(pl.col("leader_id") == leader).row(0, named=True)
    assert row["see_breadth"] is None  # reactions unobservable: seeing is not observed
    spec = _spec(charts.report_card(leader, gappy, edges, tribe.events))
    assert row["profile"] in spec["title"]["text"]
    rests = "label rests on: " + charts.readable_measures(row["drivers"])
    assert row["drivers"] and spec["title"]["subtitle"] == [row["reason"], row["ways"], rests]
    panel = spec["vconcat"][0]["hconcat"][0]
    median, bars, points, notes = panel["layer"]
    assert [median["mark"]["type"], bars["mark"]["type"], points["mark"]["type"]] == [
        "tick",
        "errorbar",
        "point",
    ]
    assert (bars["encoding"]["x"]["field"], bars["encoding"]["x2"]["field"]) == ("low", "high")
    assert points["mark"]["color"] == charts.PROFILE_COLORS[row["profile"]]
    assert notes["mark"]["type"] == "text" and notes["encoding"]["text"]["field"] == "note"
    parts = {r["way"]: r for r in _rows(spec) if "way" in r}
    assert list(parts) == list(PARTS.values())
    assert parts["seeing"]["value"] is None and parts["seeing"]["note"] == "not observed"
    for part, way in PARTS.items():
        shown = parts[way]
        if row[part] is None:
            assert shown["note"] == "not observed"
            continue
        assert shown["note"] is None
        assert shown["value"] == pytest.approx(row[part], abs=1e-4)
        assert shown["low"] == pytest.approx(row[f"{part}_low"], abs=1e-4)
        assert shown["high"] == pytest.approx(row[f"{part}_high"], abs=1e-4)
        assert shown["low"] <= shown["value"] <= shown["high"]
        assert shown["median"] == pytest.approx(gappy[part].median(), abs=1e-4)


def test_report_card_without_evidence(tribe, gappy, edges):
    spec = _spec(charts.report_card("ghost", gappy, edges, tribe.events))
    assert "undetermined" in spec["title"]["text"]
    assert spec["title"]["subtitle"][0].startswith("insufficient evidence")
    notes = [r["note"] for r in _rows(spec) if "way" in r]
    assert notes == ["not observed"] * len(PARTS)


def test_a_leader_without_threads_or_ties_gets_words_not_empty_panels(
    tribe, gappy, edges, vega_warnings
):
    card = charts.report_card("ghost", gappy, edges, tribe.events, labels={"ghost": "Gus"})
    spec = _spec(card)
    threads = spec["vconcat"][1]
    assert threads["mark"]["type"] == "text" and threads["title"] == "Threads started by Gus"
    assert spec["datasets"][threads["data"]["name"]] == [
        {"message": "Gus started no thread in the data (no root posts)"}
    ]
    ego = spec["vconcat"][0]["hconcat"][1]
    assert [layer["mark"]["type"] for layer in ego["layer"]] == ["circle", "text"]
    assert ego["title"]["subtitle"][0] == "no ties in the input"
    svg = charts.render(card, scale=1)["svg"].decode("utf-8")
    assert "Gus started no thread in the data" in svg
    assert ">root post<" not in svg and ">others who joined<" not in svg  # no empty axes
    alone = charts.thread_view(tribe.events, "ghost")
    assert _spec(alone)["mark"]["type"] == "text"
    charts.render(alone, scale=1)
    charts.render(charts.ego_network(edges, "ghost"), scale=1)
    assert not vega_warnings  # an empty panel made Vega warn "Infinite extent" on the console


def test_leaders_sharing_a_name_keep_a_row_each(tribe, table, edges):
    """Two 'Tom's were one row of the comparison: their cells drawn over each other."""
    labels = dict.fromkeys(table["leader_id"], "Tom")
    leader = table["leader_id"][0]
    card = _spec(charts.report_card(leader, table, edges, tribe.events, labels=labels))
    assert card["title"]["text"].startswith(f"Report card — Tom ({leader}): ")
    spec = _spec(charts.measure_comparison(table, labels=labels))
    shown = {r["leader"] for r in _rows(spec)} - {"tribe median"}
    assert shown == {f"Tom ({leader})" for leader in table["leader_id"]}
    placed = _spec(charts.profile_map(table, labels=labels))
    names = {r["leader"] for r in _rows(placed) if "leader" in r}
    assert len(names) == table.filter(pl.col("participation_index").is_not_null()).height


def test_a_long_name_is_cut_so_the_card_keeps_its_width(tribe, table, edges):
    leader = table["leader_id"][0]
    long = "Ministry of Very Long Official Names and Departmental Communications (Official)"
    card = charts.report_card(leader, table, edges, tribe.events, labels={leader: long})
    spec = _spec(card)
    cut = long[: charts.NAME_LIMIT - 1].rstrip() + "…"
    assert spec["title"]["text"].startswith(f"Report card — {cut}: ")
    assert long not in json.dumps(spec)
    plain = charts.render(charts.report_card(leader, table, edges, tribe.events), scale=1)
    wide = charts.render(card, scale=1)
    width = [int(re.search(rb'width="(\d+)"', c["svg"])[1]) for c in (plain, wide)]
    assert width[1] < 1.4 * width[0]  # the whole name made it 1.8 times as wide


def test_ego_leader_is_not_in_a_profile_colour(tribe, edges):
    spec = _spec(charts.ego_network(edges, tribe.leaders[0]))
    roles = spec["layer"][1]["encoding"]["color"]["scale"]
    colours = dict(zip(roles["domain"], roles["range"], strict=True))
    assert not set(colours.values()) & set(charts.PROFILE_COLORS.values())


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
    assert charts.COMPARISON_MEASURES == (*PARTS, "broadcast_share")
    spec = _spec(charts.measure_comparison(table, leaders=table["leader_id"][:3].to_list()))
    rows = _rows(spec)
    assert {r["leader"] for r in rows} == {"tribe median", *table["leader_id"][:3].to_list()}
    median = {r["measure"]: r["value"] for r in rows if r["leader"] == "tribe median"}
    assert set(median) == set(charts.COMPARISON_MEASURES)
    expected = table["answer_rate"].median()
    assert median["answer_rate"] == pytest.approx(expected, abs=1e-4)
    cells = spec["layer"][0]
    assert cells["mark"]["type"] == "rect" and cells["encoding"]["color"]["field"] == "value"
    x = cells["encoding"]["x"]
    assert x["field"] == "name"
    assert x["sort"] == [*PARTS.values(), "broadcasting"]
    assert {r["name"] for r in rows} == set(x["sort"])


def test_report_charts_of_two_thousand_leaders_are_drawn(table):
    """`profile --top-leaders 2000` failed in the report: Altair's MaxRowsError (5,000 rows),
    then Vega's stack, which a sort by a list of 2,001 names overflowed."""
    big = pl.concat(
        [table.with_columns(pl.col("leader_id") + f"-{k}") for k in range(-(-2000 // table.height))]
    ).head(2000)
    comparison = charts.measure_comparison(big)
    with pytest.raises(alt.MaxRowsError):  # Altair's own limit, for notebooks, is left alone
        comparison.to_dict()
    spec = charts._render_spec(comparison)
    assert len(_rows(spec)) == 2001 * len(charts.COMPARISON_MEASURES)
    assert len(_rows(charts._render_spec(charts.profile_map(big)))) >= 2000
    assert vl_convert.vegalite_to_svg(spec).startswith("<svg")
    with pytest.raises(alt.MaxRowsError):  # and the limit is back after drawing
        comparison.to_dict()


def test_measure_comparison_rows_by_name_in_natural_order(table):
    ids = table["leader_id"][:4].to_list()
    names = dict(zip(ids, ["Leader 10", "leader 2", "bob", "Alice"], strict=True))
    spec = _spec(charts.measure_comparison(table, leaders=ids, labels=names))
    y = spec["layer"][0]["encoding"]["y"]
    assert y["sort"] == {"field": "row", "op": "min"}
    rows = {r["leader"]: r["row"] for r in _rows(spec)}
    assert sorted(rows, key=rows.get) == ["tribe median", "Alice", "bob", "leader 2", "Leader 10"]


def test_measure_comparison_marks_not_observed(gappy):
    spec = _spec(charts.measure_comparison(gappy))
    ghost = {r["measure"]: r["value"] for r in _rows(spec) if r["leader"] == "ghost"}
    assert set(ghost) == set(charts.COMPARISON_MEASURES) and set(ghost.values()) == {None}
    text = spec["layer"][1]
    assert "'n/o'" in text["transform"][0]["calculate"]


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


def test_ego_network_is_the_same_from_the_whole_or_the_cut_ego_network(tribe, edges):
    leader = tribe.leaders[0]
    whole = graph.ego_networks(edges, [leader])[leader]
    cut = graph.ego_networks(edges, [leader], max_alters=10)[leader]
    assert cut.number_of_nodes() == 11 < whole.number_of_nodes()
    specs = [
        _spec(charts.ego_network(edges, leader, max_alters=10, ego=ego))
        for ego in (whole, cut, None)
    ]
    assert specs[0] == specs[1] == specs[2]
    assert f"10 strongest of {whole.degree(leader)} ties" in json.dumps(specs[0]["title"])


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
    assert spec["encoding"]["x"]["axis"]["format"] == charts._TIME_FORMAT
    y_axis = spec["encoding"]["y"]["axis"]  # a count: "1, 2, 3", never "0.5, 1.5"
    assert y_axis["tickMinStep"] == 1 and y_axis["format"] == "d"
    first, last = posts["timestamp"].min(), posts["timestamp"].max()
    assert spec["title"] == f"Threads started by {leader}, {charts._period(first, last)}"
    assert str(last.year) in spec["title"]
    svg = charts.render(charts.thread_view(tribe.events, leader, limit=8), scale=1)["svg"]
    days = re.findall(r">((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d)<", svg.decode("utf-8"))
    assert not days and re.search(r">[A-Z][a-z]{2} \d\d<", svg.decode("utf-8"))  # "Jan 07"
    cut = _spec(charts.thread_view(tribe.events, leader, limit=8))
    assert cut["title"].endswith(f" (latest 8 of {posts.height})")
    timeline = _spec(charts.activity_timeline(tribe.events, every="1w"))
    assert sum(r["events"] for r in _rows(timeline)) == tribe.events.height
    assert timeline["encoding"]["x"]["axis"]["format"] == charts._TIME_FORMAT
    span = charts._period(tribe.events["timestamp"].min(), tribe.events["timestamp"].max())
    assert timeline["title"]["subtitle"] == span
    assert timeline["encoding"]["y"]["title"] == "events per week"
    talk = tribe.events.filter(pl.col("action").is_in(["post", "reply"]))  # Stack Exchange-like
    colour = _spec(charts.activity_timeline(talk))["encoding"]["color"]["scale"]
    assert colour["domain"] == ["post", "reply"]  # no colour for what the data cannot show
    assert colour["range"] == [charts.ACTION_COLORS["post"], charts.ACTION_COLORS["reply"]]
    week = 7 * 24 * 3600
    for row in _rows(timeline):  # each bar spans its week, not a hairline at its start
        start, end = (datetime.fromisoformat(row[k]) for k in ("period", "period_end"))
        assert (end - start).total_seconds() == week
    assert timeline["encoding"]["x2"]["field"] == "period_end"
    stacks = {r["action"]: r["stack"] for r in _rows(timeline)}  # the legend's order
    assert sorted(stacks, key=stacks.get) == [a for a in charts.ACTION_COLORS if a in stacks]


def test_time_axes_over_years_say_the_years():
    """Five years of threads (Stack Exchange) read "Apr 01, Oct 01, Apr 01, ..." before."""
    stamps = [datetime(2013, 3, 5, tzinfo=UTC) + timedelta(days=61 * i) for i in range(28)]
    events = pl.DataFrame(
        {
            "event_id": [f"p{i}" for i in range(28)],
            "timestamp": stamps,
            "actor_id": ["ann"] * 28,
            "action": ["post"] * 28,
            "thread_id": [f"p{i}" for i in range(28)],
            "target_actor_id": [None] * 28,
        },
        schema_overrides={"target_actor_id": pl.String},
    )
    svg = charts.render(charts.thread_view(events, "ann"), scale=1)["svg"].decode("utf-8")
    ticks = re.findall(r">((?:[A-Z][a-z]{2} )?\d{4})<", svg)
    assert {"2014", "2015", "2016", "2017"} <= set(ticks)
    labels = re.findall(r">([A-Z][a-z]{2} \d\d)<", svg)  # "Apr 01" without a year: none
    assert not labels, labels
    assert "Mar 05, 2013 – " in svg


def test_style_over_time_before_after(tribe):
    windowed = features.leader_measures(tribe.events, tribe.leaders[:2], every="1w", ego=False)
    split = datetime(2024, 1, 15, tzinfo=UTC)
    spec = _spec(charts.style_over_time(windowed, split=split))
    periods = {(r["leader"], r["period"]) for r in _rows(spec) if "period" in r}
    assert periods == {(leader, p) for leader in tribe.leaders[:2] for p in ("before", "after")}
    last_end = f"{windowed.get_column('window_end').max():%Y-%m-%dT%H:%M:%SZ}"
    for row in (r for r in _rows(spec) if "period" in r):  # each mean spans whole windows
        assert row["end"] > row["start"]
        assert row["period"] == "before" or row["end"] == last_end
    assert "no index" not in json.dumps(spec["title"])
    hidden = windowed.with_columns(
        pl.when(pl.col("leader_id") == tribe.leaders[1])
        .then(None)
        .otherwise(pl.col("participation_index"))
        .alias("participation_index")
    )
    title = json.dumps(_spec(charts.style_over_time(hidden, split=split))["title"])
    assert f"no index in any window (too few parts observed): {tribe.leaders[1]}" in title
    svg = charts.render(charts.style_over_time(windowed, split=split), scale=1)["svg"]
    days = re.findall(r">((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d)<", svg.decode("utf-8"))
    assert not days and re.search(r">[A-Z][a-z]{2} \d\d<", svg.decode("utf-8"))  # "Jan 07"


def test_style_over_time_draws_no_line_through_one_point(tribe, capfd):
    """A leader with an index in one window only (a 1999 mailing list by quarter)."""
    windowed = features.leader_measures(tribe.events, tribe.leaders[:2], every="1w", ego=False)
    first = windowed.get_column("window_start").min()
    one = windowed.with_columns(
        pl.when((pl.col("leader_id") == tribe.leaders[1]) & (pl.col("window_start") != first))
        .then(None)
        .otherwise(pl.col("participation_index"))
        .alias("participation_index")
    )
    spec = _spec(charts.style_over_time(one))
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "line", "point"]
    line_rows = spec["datasets"][spec["layer"][1]["data"]["name"]]
    assert {r["leader"] for r in line_rows} == {tribe.leaders[0]}
    capfd.readouterr()
    charts.render(charts.style_over_time(one), scale=1)
    assert "path stroking failed" not in capfd.readouterr().err
    # no leader with an index anywhere: the plot says so, on the index's axis
    none = windowed.with_columns(pl.lit(None, dtype=pl.Float64).alias("participation_index"))
    empty = _spec(charts.style_over_time(none, split=datetime(2024, 1, 15, tzinfo=UTC)))
    assert [layer["mark"]["type"] for layer in empty["layer"]] == ["rule", "text"]
    assert empty["layer"][0]["encoding"]["y"]["title"] == "participation index"
    assert "No window has an index" in json.dumps(empty)
    charts.render(charts.style_over_time(none), scale=1)
    assert "Infinite extent" not in capfd.readouterr().err


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


def test_notebook_renderer_is_offline_and_stable(table):
    charts.setup_notebook()
    try:
        chart = charts.profile_map(table)
        one = chart._repr_mimebundle_()
        two = chart._repr_mimebundle_()
        assert one == two  # spec and SVG: nbval compares both
        assert set(one) == {"application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"}
        assert one["application/vnd.vegalite.v5+json"] == chart.to_dict()
        assert (
            one["image/svg+xml"].startswith("<svg")
            and "participation index" in one["image/svg+xml"]
        )
        assert "<script" not in json.dumps(one) and "cdn.jsdelivr" not in json.dumps(one)
        with alt.renderers.enable("tribe", embed_options={"actions": False}):
            bundle, metadata = chart._repr_mimebundle_()
        assert bundle == one
        assert metadata == {
            "application/vnd.vegalite.v5+json": {"embed_options": {"actions": False}}
        }
        assert alt.theme.active == charts.THEME
    finally:
        alt.renderers.enable("default")
        alt.theme.enable("default")
        pl.Config.set_engine_affinity("auto")


_DRAW_IN_A_ZONE = """
import hashlib
from datetime import UTC, datetime
from tribe_analysis import charts, features
from tribe_analysis.synth import simulate_tribe
t = simulate_tribe(n_leaders=4, days=20, seed=1)
w = features.leader_measures(t.events, t.leaders, every="1w")
for chart in (charts.thread_view(t.events, t.leaders[0]), charts.activity_timeline(t.events),
              charts.style_over_time(w, split=datetime(2024, 1, 10, tzinfo=UTC))):
    print(hashlib.sha256(charts.render(chart, scale=1)["svg"]).hexdigest())
"""


def test_time_charts_are_the_same_in_every_time_zone():
    """Events are UTC; drawn in the machine's zone, points and dates moved with it."""
    drawn = {}
    for zone in ("UTC", "Asia/Tokyo", "America/New_York"):
        env = {**os.environ, "TZ": zone}
        out = subprocess.run(
            [sys.executable, "-c", _DRAW_IN_A_ZONE], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0 and not out.stderr, out.stderr
        drawn[zone] = out.stdout.split()
    assert len(drawn["UTC"]) == 3
    assert drawn["Asia/Tokyo"] == drawn["UTC"] == drawn["America/New_York"]
