"""Hypothesis properties of ``pipeline.profile``: the promises of ``docs/methods.md`` (Profiles).

Over small random event sets (a few accounts; posts, replies, shares and reactions with
random parents inside or outside the data, mentions, timestamps with ties and replies
dated before their parent) and small simulated tribes (``synth.simulate_tribe``,
``synth_forum.simulate_forum``):

- a leader's label, reason and probability (and its measures) are the same alone as in
  any larger run, and no label contradicts the leader's index;
- more evidence (every event repeated ten times with new ids) never flips a decided label
  while the same parts are observed;
- a signal the input does not show (shares, reactions, mentions; reply parents; replies
  to replies) makes its measures null, never 0, with the reason;
- row order and event ids change nothing; the out-of-core path (``io.read(spill=...)``)
  gives the run read in memory; ``since``/``until`` give the run of the events inside;
- the same input gives the same bytes of ``profiles.csv`` and ``features.parquet``, under
  any ``PYTHONHASHSEED``;
- degenerate inputs give a documented outcome or one error line, never a traceback.

The Dask engine is held to the same measures by ``tests/test_distributed.py`` (a cluster
takes too long to start for random examples).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.event_strategies import canonical_events
from tribe_analysis import events as ev
from tribe_analysis import io, pipeline
from tribe_analysis.cli import main
from tribe_analysis.features import RATES
from tribe_analysis.features._rates import unobserved_measures
from tribe_analysis.observability import observe
from tribe_analysis.participation import MIN_AUTHORED, MIN_PARTS
from tribe_analysis.profiles import CONFIDENCE, PARTICIPATOR_THRESHOLD
from tribe_analysis.synth import simulate_tribe
from tribe_analysis.synth_forum import simulate_forum

SETTINGS = hypothesis.settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large],
)
START = datetime(2024, 3, 1, tzinfo=UTC)
RAW = ["event_id", "timestamp", "actor_id", "action", "parent_id", "mentions", "platform"]
OWN = ["profile", "reason", "probability", "p_participator", "participation_index"]


@st.composite
def random_events(draw: st.DrawFn) -> pl.DataFrame:
    """Canonical events of 1-5 accounts: any action, parent or mention, timestamps with ties."""
    actors = [f"a{i}" for i in range(draw(st.integers(1, 5)))]
    # few distinct hours: many ties, some replies early
    return canonical_events(
        draw, actors, start=START, events=80, mentioned=[*actors, "zed"], max_mentions=2, hours=30
    )


@st.composite
def simulated(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    """A small simulated tribe of either simulator (and platform variant) and its leaders."""
    n, days, seed = draw(st.integers(1, 4)), draw(st.integers(3, 12)), draw(st.integers(0, 999))
    design = draw(st.sampled_from(["tribe", "forum", "microblog"]))
    if design == "tribe":
        tribe = simulate_tribe(n_leaders=n, days=days, seed=seed)
        return tribe.events, tribe.leaders
    platform = draw(st.sampled_from(["full", "no_reactions", "no_shares", "no_mentions"]))
    forum = simulate_forum(n_leaders=n, days=days, seed=seed, design=design, platform=platform)
    return forum.events, forum.leaders


@st.composite
def event_sets(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    """Random events and up to five of their accounts, or a simulated tribe and its leaders."""
    if draw(st.booleans()):
        return draw(simulated())
    events = draw(random_events())
    return events, sorted(set(events["actor_id"]))[:5]


def _row(run: pipeline.ProfileRun, leader: str, columns: list[str]) -> tuple:
    return run.profiles.filter(pl.col("leader_id") == leader).select(columns).row(0)


def _same_run(a: pipeline.ProfileRun, b: pipeline.ProfileRun) -> None:
    assert a.leaders == b.leaders
    assert_frame_equal(a.measures, b.measures)
    assert_frame_equal(a.profiles, b.profiles)


def _raw(events: pl.DataFrame) -> pl.DataFrame:
    """The columns a reader starts from (``thread_id`` and ``target_actor_id`` derived again)."""
    return events.select(RAW)


def _times_ten(events: pl.DataFrame) -> pl.DataFrame:
    """Every event ten times, each copy with new ids and parents inside its own copy."""
    inside = pl.col("parent_id").is_in(events["event_id"].implode())
    copies = [
        _raw(events).with_columns(
            pl.col("event_id") + f"~{k}",
            pl.when(inside)
            .then(pl.col("parent_id") + f"~{k}")
            .otherwise("parent_id")
            .alias("parent_id"),
        )
        for k in range(10)
    ]
    return ev.complete_events(pl.concat(copies))


def _renamed(events: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The events with new event ids (parents follow), given in another row order."""
    ids = events["event_id"].to_list()
    new = {old: f"n{(k * 7919 + seed) % 100_003:06d}_{k}" for k, old in enumerate(ids)}

    def mapped(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(new, default=pl.col(column), return_dtype=pl.String)

    raw = _raw(events).with_columns(mapped("event_id"), mapped("parent_id"))
    return ev.complete_events(raw.sample(fraction=1.0, shuffle=True, seed=seed))


@SETTINGS
@hypothesis.given(case=event_sets(), data=st.data())
def test_a_label_is_the_leaders_own_and_never_contradicts_its_index(case, data) -> None:
    events, leaders = case
    run = pipeline.profile(events, leaders, seed=0)
    table = run.profiles
    for leader in data.draw(st.lists(st.sampled_from(leaders), min_size=1, max_size=2)):
        alone = pipeline.profile(events, [leader], seed=0)
        assert _row(alone, leader, OWN) == _row(run, leader, OWN)
        mine = run.measures.filter(pl.col("leader_id") == leader)
        assert_frame_equal(alone.measures, mine)
    index = pl.col("participation_index")
    participators = table.filter(pl.col("profile") == "participator")["participation_index"]
    broadcasters = table.filter(pl.col("profile") == "broadcaster")["participation_index"]
    assert (participators > PARTICIPATOR_THRESHOLD).all()
    assert (broadcasters < PARTICIPATOR_THRESHOLD).all()
    few = (pl.col("parts_observed") < MIN_PARTS) | (pl.col("authored") < MIN_AUTHORED)
    assert table.filter(few | index.is_null())["profile"].eq("undetermined").all()
    decided = table.filter(pl.col("profile") != "undetermined")
    assert decided["probability"].is_between(CONFIDENCE, 1).all()


@SETTINGS
@hypothesis.given(case=event_sets())
def test_more_evidence_never_flips_a_decided_label(case) -> None:
    """Ten times the events: a decided label stays, at least as probable.

    Only while the same parts are observed: a part whose denominator reaches the
    minimum with more evidence enters the index and may move it (reported, the rule's).
    """
    events, leaders = case
    before = pipeline.profile(events, leaders, seed=0).profiles
    after = pipeline.profile(_times_ten(events), leaders, seed=0).profiles
    for one, ten in zip(before.iter_rows(named=True), after.iter_rows(named=True), strict=True):
        if one["profile"] == "undetermined" or one["parts_observed"] != ten["parts_observed"]:
            continue
        assert ten["profile"] == one["profile"], (one["reason"], ten["reason"])
        assert ten["probability"] >= one["probability"] - 1e-12


def _hidden(events: pl.DataFrame, how: str) -> pl.DataFrame:
    """``events`` without a signal: shares, reactions and mentions; reply parents; reply chains."""
    raw = _raw(events)
    reply = pl.col("action") == "reply"
    if how == "no_shares_reactions_mentions":
        raw = raw.filter(pl.col("action").is_in(["post", "reply"]))
        raw = raw.with_columns(pl.lit([], pl.List(pl.String)).alias("mentions"))
    elif how == "no_reply_parents":
        outside = pl.lit("gone:") + pl.col("event_id")
        raw = raw.with_columns(
            pl.when(reply).then(outside).otherwise("parent_id").alias("parent_id")
        )
    else:  # flat threads: every reply to its thread's root
        root = pl.col("thread_id")
        raw = events.with_columns(
            pl.when(reply).then(root).otherwise("parent_id").alias("parent_id")
        )
        raw = raw.select(RAW)
    return ev.complete_events(raw)


@SETTINGS
@hypothesis.given(
    case=event_sets(),
    how=st.sampled_from(["no_shares_reactions_mentions", "no_reply_parents", "flat_threads"]),
)
def test_an_unobservable_signal_gives_null_measures_never_zero(case, how) -> None:
    events, leaders = case
    run = pipeline.profile(_hidden(events, how), leaders, seed=0)
    seen = dict(run.observability.select("signal", "observable").iter_rows())
    expected = {
        "no_shares_reactions_mentions": {"shares", "reactions", "mentions"},
        "no_reply_parents": {"reply_parents"},
        "flat_threads": {"reply_answers"},
    }[how]
    has_replies = (run.events["action"] == "reply").any()
    if how != "no_shares_reactions_mentions" and not has_replies:
        expected = set()  # no reply at all: nothing of replies to hide
    assert expected <= set(run.unobservable)
    for signal in expected:
        assert f"{signal}: " in run.measures["unobservable"][0]
    for name in unobserved_measures(seen):
        extra = ["_num", "_den", "_low", "_high"] if name in RATES else []
        for column in [name, *(name + suffix for suffix in extra)]:
            assert run.measures[column].null_count() == run.measures.height, column
            assert run.profiles[column].null_count() == run.profiles.height, column
    for drivers in run.profiles["drivers"]:
        assert not set(filter(None, drivers.split(", "))) & set(unobserved_measures(seen))


@SETTINGS
@hypothesis.given(case=event_sets(), seed=st.integers(0, 10_000), top=st.integers(1, 4))
def test_row_order_and_event_ids_change_nothing(case, seed, top) -> None:
    events, leaders = case
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=seed)  # not sorted again
    _same_run(pipeline.profile(events, leaders), pipeline.profile(shuffled, leaders))
    _same_run(pipeline.profile(events, leaders), pipeline.profile(_renamed(events, seed), leaders))
    try:
        chosen = pipeline.profile(events, top=top)
    except ev.EventsError:  # no account has enough authored actions to be chosen
        with pytest.raises(ev.EventsError):
            pipeline.profile(shuffled, top=top)
        return
    _same_run(chosen, pipeline.profile(shuffled, top=top))
    assert pipeline.profile(_renamed(events, seed), top=top).leaders == chosen.leaders


@SETTINGS
@hypothesis.given(case=event_sets(), seed=st.integers(0, 10_000))
def test_out_of_core_gives_the_in_memory_run(tmp_path_factory, case, seed) -> None:
    events, leaders = case
    folder = tmp_path_factory.mktemp("spill")
    path = ev.write_events(events.sample(fraction=1.0, shuffle=True, seed=seed), folder / "e.csv")
    eager, lazy = io.read(path), io.read(path, spill=folder)
    assert isinstance(lazy.events, pl.LazyFrame)
    runs = [
        pipeline.profile(read.events, leaders, observability=read.observability)
        for read in (eager, lazy)
    ]
    _same_run(*runs)


@SETTINGS
@hypothesis.given(case=event_sets(), data=st.data())
def test_a_window_is_the_run_of_the_events_inside_it(case, data) -> None:
    """``since``/``until`` equal profiling the events inside (observability: the whole input's).

    Reply ``depth`` is left out: it is counted over the whole input (a reply dated inside
    the window under a parent dated after it keeps its depth; ``features._scope.Scope``).
    """
    events, leaders = case
    times = events["timestamp"].unique().sort().to_list()
    lo = data.draw(st.sampled_from([None, *times]))
    hi = data.draw(st.sampled_from([None, *(t for t in times if lo is None or t > lo)]))
    hypothesis.assume(lo is not None or hi is not None)
    inside = events.filter(pipeline._inside(lo, hi))
    hypothesis.assume(inside.height > 0)
    window = pipeline.profile(events, leaders, since=lo, until=hi)
    before = pipeline.profile(inside, leaders, observability=observe(events))
    assert_frame_equal(window.measures.drop("depth"), before.measures.drop("depth"))
    assert_frame_equal(window.profiles.drop("depth"), before.profiles.drop("depth"))
    assert_frame_equal(window.edges, before.edges)


DETERMINISM = """
import sys
from tribe_analysis import pipeline
from tribe_analysis.synth_forum import simulate_forum
tribe = simulate_forum(n_leaders=5, days=10, seed=7, design="microblog")
pipeline.write_outputs(pipeline.profile(tribe.events, top=4), sys.argv[1], report=False)
"""


def test_same_input_same_bytes_under_any_hash_seed(tmp_path) -> None:
    root = Path(__file__).resolve().parents[1]
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        out = tmp_path / hash_seed
        subprocess.run([sys.executable, "-c", DETERMINISM, str(out)], check=True, env=env)
    for name in ("profiles.csv", "features.parquet", "leaders.txt", "manifest.json"):
        first = (tmp_path / "1" / name).read_bytes()
        assert all((tmp_path / h / name).read_bytes() == first for h in ("2", "3")), name


Row = tuple[str, int, str, str, str | None]


def _degenerate(rows: list[Row]) -> pl.DataFrame:
    frame = pl.DataFrame(
        [(e, START + timedelta(hours=h), a, act, p) for e, h, a, act, p in rows],
        schema=["event_id", "timestamp", "actor_id", "action", "parent_id"],
        orient="row",
    )
    return ev.complete_events(frame)


DEGENERATE: dict[str, list[Row]] = {
    "one event": [("e0", 0, "ann", "post", None)],
    "no replies": [(f"e{i}", i, ["ann", "bob"][i % 2], "post", None) for i in range(12)],
    "one account": [
        (f"e{i}", 0, "ann", "post", None) if i < 4 else (f"e{i}", 0, "ann", "reply", "e0")
        for i in range(20)
    ],
    "reactions only": [(f"e{i}", i, "ann", "reaction", "elsewhere") for i in range(12)],
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
@pytest.mark.parametrize(
    "how",
    [
        {"top": 3},
        {"leaders": ["ann"]},
        {"leaders": ["nobody"]},
        {"leaders": ["ann"], "since": "2030-01-01"},
    ],
    ids=["top", "leader", "not-in-data", "empty-window"],
)
def test_degenerate_input_is_a_documented_outcome(name, how) -> None:
    events = _degenerate(DEGENERATE[name])
    try:
        run = pipeline.profile(events, **how)
    except (ev.EventsError, ValueError) as exc:
        assert len(str(exc).splitlines()) == 1
        return
    assert run.profiles["profile"].eq("undetermined").all() or name == "one account"
    assert (
        run.profiles.filter(pl.col("authored") < MIN_AUTHORED)["reason"]
        .str.starts_with("insufficient evidence")
        .all()
    )


@pytest.mark.parametrize("name", sorted(DEGENERATE))
@pytest.mark.parametrize("extra", [[], ["--since", "2030-01-01"], ["--out-of-core"]])
def test_degenerate_input_on_the_command_line_is_never_a_traceback(tmp_path, name, extra) -> None:
    path = ev.write_events(_degenerate(DEGENERATE[name]), tmp_path / "events.csv")
    result = CliRunner().invoke(
        main, ["profile", str(path), "--no-report", "--out", str(tmp_path / "out"), *extra]
    )
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 0 or len(errors) == 1, result.output
