from __future__ import annotations

import polars as pl
import pytest

from tribe_analysis import features as ft
from tribe_analysis import graph
from tribe_analysis.privacy import KeyError_, load_key, pseudonymize
from tribe_analysis.synth import simulate_tribe

KEY = b"a-test-key-of-enough-length"


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=6, days=20, seed=9)


def test_ids_replaced_except_leaders_and_text_dropped(tribe):
    events = tribe.events.with_columns(pl.lit("secret words").alias("text"))
    out = pseudonymize(events, KEY, keep=tribe.leaders)
    actors = set(out["actor_id"])
    assert set(tribe.leaders) <= actors
    others = actors - set(tribe.leaders)
    assert others and all(a.startswith("u_") and len(a) == 18 for a in others)
    assert out["text"].null_count() == out.height
    assert all(e.startswith("e_") for e in out["event_id"])
    assert not set(out["event_id"]) & set(events["event_id"])


def test_stable_for_a_key_and_different_for_another(tribe):
    a = pseudonymize(tribe.events, KEY)
    b = pseudonymize(tribe.events, KEY)
    c = pseudonymize(tribe.events, KEY + b"!")
    assert a.equals(b)
    assert set(a["actor_id"]).isdisjoint(set(c["actor_id"]))


def test_graph_structure_and_measures_unchanged(tribe):
    out = pseudonymize(tribe.events, KEY, keep=tribe.leaders)
    before = graph.to_networkx(graph.edge_list(tribe.events))
    after = graph.to_networkx(graph.edge_list(out))
    assert sorted(d for _, d in before.degree()) == sorted(d for _, d in after.degree())
    assert before.number_of_edges() == after.number_of_edges()
    assert sorted(w for *_, w in before.edges(data="weight")) == sorted(
        w for *_, w in after.edges(data="weight")
    )
    m_before = ft.leader_measures(tribe.events, tribe.leaders)
    m_after = ft.leader_measures(out, tribe.leaders)
    from polars.testing import assert_frame_equal

    # equal up to float summation order (constraint sums over alters in id order)
    assert_frame_equal(m_before, m_after, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)


def test_key_required_and_strong(tmp_path, monkeypatch):
    monkeypatch.delenv("TRIBE_ANALYSIS_KEY", raising=False)
    with pytest.raises(KeyError_, match="no pseudonymisation key"):
        load_key()
    short = tmp_path / "key"
    short.write_text("abc\n")
    with pytest.raises(KeyError_, match="key too short"):
        load_key(short)
    with pytest.raises(KeyError_, match="cannot read key file"):
        load_key(tmp_path / "none")
    good = tmp_path / "good"
    good.write_bytes(KEY + b"\n")
    assert load_key(good) == KEY
    monkeypatch.setenv("TRIBE_ANALYSIS_KEY", KEY.decode())
    assert load_key() == KEY
