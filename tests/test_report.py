from __future__ import annotations

import re

import polars as pl
import pytest

from tribe_analysis import features, graph
from tribe_analysis.participation import PARTS
from tribe_analysis.profiles import profile_leaders
from tribe_analysis.report import TABLE_COLUMNS, _table_html, _unobservable_html, write_report
from tribe_analysis.synth import simulate_tribe

UNOBSERVABLE = (
    "reactions: the platform (twitter) does not expose reactions given (likes, favourites, "
    "votes); shares: no share in any record of the input"
)


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=6, days=30, seed=4)


@pytest.fixture(scope="module")
def table(tribe):
    measures = features.leader_measures(
        tribe.events, [*tribe.leaders, "ghost"], observability={"reaction": False}, ego=False
    )
    _, profiles = profile_leaders(measures, random_state=0)
    return profiles


def _chosen(table: pl.DataFrame) -> pl.DataFrame:
    """A participator, a broadcaster and the leader without evidence (keeps rendering short)."""
    picks = [
        table.filter(pl.col("profile") == p)["leader_id"][0]
        for p in ("participator", "broadcaster")
    ]
    return table.filter(pl.col("leader_id").is_in([*picks, "ghost"]))


def test_table_columns():
    assert "label_agreement" not in TABLE_COLUMNS
    assert TABLE_COLUMNS[:8] == (
        "leader",
        "profile",
        "reason",
        "probability",
        "participation_index",
        "parts_observed",
        "sub_profile",
        "ways",
    )
    assert set(PARTS) <= set(TABLE_COLUMNS)


def test_write_report_with_names_and_unobservable(tmp_path, tribe, table):
    chosen = _chosen(table).with_columns(
        pl.when(pl.col("leader_id") == "ghost")
        .then(pl.lit("Ghost Writer"))
        .otherwise(pl.col("leader_id"))
        .alias("leader_name"),
        pl.lit(UNOBSERVABLE).alias("unobservable"),
    )
    path = write_report(tmp_path, chosen, graph.edge_list(tribe.events), tribe.events)
    page = path.read_text()
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    assert page.count("<svg") == 2 + chosen.height
    for row in chosen.iter_rows(named=True):
        assert row["reason"] in text
        assert row["ways"] in text
    assert "Ghost Writer <span class='id'>ghost</span>" in text
    assert "Report card: Ghost Writer" in text
    assert "<b>reactions</b>: the platform (twitter) does not expose" in text
    assert "<b>shares</b>: no share in any record of the input" in text
    # the signals come before the table, the table before the charts
    assert text.index("does not expose") < text.index("<table>") < page.index("<svg")
    assert ".undetermined { color: #999999" in text
    assert "<td class='text undetermined'>undetermined</td>" in text
    assert "label_agreement" not in text
    assert "1 participator, 1 broadcaster, 1 undetermined." in text
    participator = chosen.filter(pl.col("profile") == "participator").row(0, named=True)
    interval = (
        f"{participator['participation_index']:.2f} "
        f"({participator['index_low']:.2f}–{participator['index_high']:.2f})"
    )
    assert interval in text
    assert "<span class='missing'>n/o</span>" in text  # seeing is not observed
    assert {p.stem for p in (tmp_path / "charts").glob("*.png")} == {
        "profile_map",
        "comparison",
        *[f"card_{leader}" for leader in chosen["leader_id"]],
    }


def test_report_parts_without_optional_columns(table):
    chosen = _chosen(table)
    assert _unobservable_html(chosen) == ""
    names = {leader: leader for leader in chosen["leader_id"]}
    html = _table_html(chosen, names)
    assert html.count("<tr>") == chosen.height + 1
    assert "<span class='id'>" not in html
    assert all(f"<td class='text'>{leader}</td>" in html for leader in chosen["leader_id"])


def test_unobservable_section_when_everything_is_observable(table):
    html = _unobservable_html(table.with_columns(pl.lit("").alias("unobservable")))
    assert "Every signal the measures use is observable" in html


def test_pseudonyms_hide_ids_and_names_in_the_table(table):
    chosen = _chosen(table).with_columns(pl.lit("Real Name").alias("leader_name"))
    labels = {leader: f"Leader {i}" for i, leader in enumerate(chosen["leader_id"], 1)}
    html = _table_html(chosen, labels)
    assert "Leader 1" in html and "Real Name" not in html
    assert not any(leader in html for leader in chosen["leader_id"])
