"""The dask engine: the same leaders, measures, edges and profiles as the default engine.

Runs on a local Dask cluster (two worker processes) started once for the module,
and through the command line against that cluster's scheduler address, as a
user would against a cluster of their own. Skipped with a reason where Dask is
not installed; a failure under CI=true (``make test`` installs it).
"""

from __future__ import annotations

import contextlib
import os
import socket
from datetime import UTC, datetime

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from tribe_analysis import distributed as dx
from tribe_analysis import events as ev
from tribe_analysis import pipeline
from tribe_analysis.cli import main
from tribe_analysis.synth import simulate_tribe
from tribe_analysis.synth_forum import simulate_forum

from .conftest import real_data_dir

if dx.available():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{dx.available()} (under CI=true the extra must be installed)")
    pytest.skip(dx.available(), allow_module_level=True)


@pytest.fixture(scope="module")
def client():
    with dx.cluster(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def tribe_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask") / "tribe.parquet"
    ev.write_events(simulate_tribe(n_leaders=6, days=30, seed=2).events, path)
    return path


def _both(path, client, **kwargs):
    by_polars = pipeline.profile(ev.read_events(path), **kwargs)
    by_dask = pipeline.profile_distributed(dx.read_parquet([str(path)]), client=client, **kwargs)
    return by_polars, by_dask


def _assert_same_run(a: pipeline.ProfileRun, b: pipeline.ProfileRun) -> None:
    assert a.leaders == b.leaders
    assert a.notes == b.notes
    assert_frame_equal(a.observability, b.observability)
    assert_frame_equal(a.edges, b.edges)
    # every measure, numerator and denominator; floats within 1e-9, the same nulls
    assert_frame_equal(a.measures, b.measures, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    assert_frame_equal(a.profiles, b.profiles, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    assert b.event_count == a.events.height


def test_same_leaders_measures_and_profiles_as_the_default_engine(tribe_file, client):
    a, b = _both(tribe_file, client, top=5)
    _assert_same_run(a, b)
    assert a.measures["participation_index"].null_count() < a.measures.height  # not all null
    ts = pl.col("timestamp")
    assert b.time_span == a.events.select(ts.min().alias("first"), ts.max().alias("last")).row(0)


def test_named_leaders_in_a_window(tribe_file, client):
    leaders = ["L001", "L004", "m00076"]
    a, b = _both(tribe_file, client, leaders=leaders, since="2024-01-05", until="2024-01-20")
    _assert_same_run(a, b)
    assert a.measures["ego_size"].sum() > 0


def test_leaders_chosen_in_a_window(tribe_file, client):
    """Both engines choose the leaders from the window's events, as they measure them."""
    a, b = _both(tribe_file, client, top=5, since="2024-01-10", until="2024-01-14")
    _assert_same_run(a, b)
    # both runs hold the window's events and edges: the outputs show what was measured
    ts = pl.col("timestamp")
    assert b.time_span == a.events.select(ts.min(), ts.max().alias("last")).row(0)
    assert b.edges.sort("source", "target").equals(a.edges.sort("source", "target"))


def test_independent_simulator_with_unobservable_signals(tmp_path, client):
    """A tribe simulated without this project's measures in mind, sharing and reacting unseen."""
    forum = simulate_forum(design="microblog", n_leaders=8, days=20, seed=5)
    events = forum.events.with_columns(pl.lit(None, pl.String).alias("thread_id"))
    events = events.filter(~pl.col("action").is_in(["share", "reaction"]))
    path = tmp_path / "forum.parquet"
    events.drop("target_actor_id").write_parquet(path)
    a, b = _both(path, client, top=6)
    _assert_same_run(a, b)
    assert not dict(b.observability.select("signal", "observable").iter_rows())["shares"]


def test_threads_are_derived_when_the_parquet_has_none(tmp_path, client):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    rows = {
        "event_id": ["p", "r1", "r2", "r3", "x", "q"],
        "timestamp": [t] * 6,
        "actor_id": ["ann", "bob", "ann", "cid", "dan", "bob"],
        "action": ["post", "reply", "reply", "reply", "reply", "post"],
        "parent_id": [None, "p", "r1", "r2", "gone", None],
        "mentions": [["bob"], [], [], ["ann"], [], []],
    }
    path = tmp_path / "plain.parquet"
    pl.DataFrame(rows).write_parquet(path)
    frame = dx.threads_of(dx.read_parquet([str(path)]), client).compute()
    derived = dx._to_polars(frame).sort("event_id")
    expected = ev.read_events(path).sort("event_id")
    assert derived["thread_id"].to_list() == expected["thread_id"].to_list()
    assert derived["target_actor_id"].to_list() == expected["target_actor_id"].to_list()
    assert derived.filter(pl.col("event_id") == "r3")["thread_id"].item() == "p"
    assert derived.filter(pl.col("event_id") == "x")["thread_id"].item() == "gone"


def test_a_cycle_of_parents_is_an_error(tmp_path, client):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    rows = {
        "event_id": ["a", "b", "c"],
        "timestamp": [t] * 3,
        "actor_id": ["x", "y", "z"],
        "action": ["reply"] * 3,
        "parent_id": ["b", "c", "a"],
    }
    path = tmp_path / "cycle.parquet"
    pl.DataFrame(rows).write_parquet(path)
    with pytest.raises(ev.EventsError, match="cycle"):
        dx.threads_of(dx.read_parquet([str(path)]), client)


def test_a_chain_deeper_than_the_limit_is_an_error_as_on_one_machine(tmp_path, client):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    n = 30  # the rounds for a limit of 16 see a chain of up to 32 end: this one is followed
    ids = ["p", *(f"r{i}" for i in range(1, n + 1))]
    rows = {
        "event_id": ids,
        "timestamp": [t] * (n + 1),
        "actor_id": ["ann", "bob"] * (n // 2) + ["ann"],
        "action": ["post", *["reply"] * n],
        "parent_id": [None, *ids[:-1]],
    }
    path = tmp_path / "chain.parquet"
    pl.DataFrame(rows).write_parquet(path)
    with pytest.raises(ev.EventsError, match="deeper than 16"):
        ev.read_events(path, max_depth=16)
    with pytest.raises(ev.EventsError, match=r"parent_id chain deeper than 16 \(event 'r"):
        dx.threads_of(dx.read_parquet([str(path)]), client, max_depth=16)
    frame = dx.threads_of(dx.read_parquet([str(path)]), client, max_depth=n).compute()
    assert set(dx._to_polars(frame)["thread_id"]) == {"p"}  # exactly the limit: accepted


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("actor_id"), "missing column actor_id"),
        (
            lambda f: f.rename({"parent_id": "Parent ID"}),
            "column 'Parent ID' is not read: did you mean 'parent_id'\\?",
        ),
        (
            lambda f: f.with_columns(pl.lit("e1").alias("event_id")),
            "event ids repeat \\(e.g. 'e1'\\)",
        ),
        (
            lambda f: f.with_columns(pl.lit("like").alias("action")),
            "unknown action \\(e.g. 'like'",
        ),
        (
            lambda f: f.with_columns(pl.lit(None, pl.String).alias("actor_id")),
            "events have no actor_id \\(e.g. event 'e1'\\)",
        ),
        (  # it names no one, and the default engine refuses its row
            lambda f: f.with_columns(
                pl.Series("mentions", [["u", ""], []], dtype=pl.List(pl.String))
            ),
            "1 events have an empty mention \\(a mention names an account\\) \\(e.g. event 'e1'\\)",
        ),
        (  # not read, but a number is not text: refused as the default engine refuses it
            lambda f: f.with_columns(pl.lit(5).alias("text")),
            "column 'text' has type Int32 \\(expected text\\)",
        ),
    ],
)
def test_bad_input_is_one_clear_problem(tmp_path, client, change, message):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    good = pl.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "timestamp": [t, t],
            "actor_id": ["a", "b"],
            "action": ["post", "reply"],
            "parent_id": [None, "e1"],
        }
    )
    path = tmp_path / "bad.parquet"
    change(good).write_parquet(path)
    with pytest.raises(ev.EventsError, match=message):
        dx.summarize(dx.read_parquet([str(path)]))


def test_command_line_on_an_existing_cluster(tribe_file, client, tmp_path):
    """``--cluster ADDRESS`` uses the scheduler given; the files, report included, equal the default engine's."""
    runner = CliRunner()
    common = ["profile", str(tribe_file), "--top-leaders", "5"]  # with the report
    polars_out, dask_out = tmp_path / "polars", tmp_path / "dask"
    first = runner.invoke(main, [*common, "--out", str(polars_out)])
    assert first.exit_code == 0, first.output
    address = client.scheduler.address
    second = runner.invoke(
        main, [*common, "--out", str(dask_out), "--engine", "dask", "--cluster", address]
    )
    assert second.exit_code == 0, second.output
    # the report cards draw the leaders' threads: the same on both engines
    for name in ("profiles.csv", "graph.graphml", "graph.gexf", "report.html"):
        assert (polars_out / name).read_bytes() == (dask_out / name).read_bytes(), name
    for name in ("features.parquet", "edges.parquet"):
        assert_frame_equal(pl.read_parquet(polars_out / name), pl.read_parquet(dask_out / name))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cluster", "tcp://127.0.0.1:1"], "--cluster is the scheduler of --engine dask"),
        (["--engine", "dask", "--pseudonymize"], "does not support --pseudonymize"),
        (["--engine", "dask", "--on-error", "skip"], "does not support --on-error skip"),
        (["--engine", "dask", "--format", "csv"], "does not support --format csv"),
    ],
)
def test_options_the_dask_engine_cannot_honour_are_usage_errors(
    tribe_file, tmp_path, extra, message
):
    result = CliRunner().invoke(
        main, ["profile", str(tribe_file), "--out", str(tmp_path / "o"), *extra]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreachable_scheduler_is_one_error_line(tribe_file, tmp_path, monkeypatch):
    monkeypatch.setattr(dx, "CONNECT_TIMEOUT", 2.0)
    result = CliRunner().invoke(
        main,
        ["profile", str(tribe_file), "--out", str(tmp_path / "o"), "--engine", "dask"]
        + ["--cluster", "tcp://127.0.0.1:9", "--no-report"],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: dask: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.real
def test_real_twitter_export_same_on_both_engines(tmp_path, client):
    from tribe_analysis import io

    root = real_data_dir("twitter_pheme_rumoureval2017")
    result = io.read([root / "tweets.ndjson"])
    path = tmp_path / "twitter.parquet"
    ev.write_events(result.events, path)
    a = pipeline.profile(
        ev.read_events(path), top=10, observability=result.observability, platform="twitter"
    )
    b = pipeline.profile_distributed(
        dx.read_parquet([str(path)]),
        client=client,
        top=10,
        observability=result.observability,
        platform="twitter",
    )
    _assert_same_run(a, b)


def test_evidence_of_every_candidate_as_on_one_machine(tribe_file, client):
    """Leader choice: the workers' evidence rule keeps exactly the accounts the local one keeps."""
    from tribe_analysis.features import selection, signals_of
    from tribe_analysis.observability import observe

    events = ev.read_events(tribe_file)
    own = selection.account_counts(events.lazy())
    seen = signals_of(events, observe(events))
    everyone = own.get_column("actor_id").sort()
    local = selection.evidence_of(events.lazy(), own, seen, 5)(everyone)
    with dx.settings():
        frame = dx.threads_of(dx.read_parquet([str(tribe_file)]), client)
        remote = dx.evidence_of(frame, dx.account_counts(frame), seen, 5)(everyone)
    assert remote == local
    assert 0 < len(local) < everyone.len()


def test_a_folder_of_parquet_files_and_a_url(tribe_file, tmp_path, client):
    events = ev.read_events(tribe_file)
    folder = tmp_path / "parts"
    folder.mkdir()
    half = events.height // 2
    events[:half].write_parquet(folder / "part-0.parquet")
    events[half:].write_parquet(folder / "part-1.parquet")
    a = pipeline.profile(events, top=4)
    for source in (str(folder), folder.as_uri()):
        b = pipeline.profile_distributed(dx.read_parquet([source]), client=client, top=4)
        _assert_same_run(a, b)


def test_unreadable_inputs_are_one_problem_per_file(tmp_path):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    good = {"event_id": ["e1"], "timestamp": [t], "actor_id": ["a"], "action": ["post"]}
    pl.DataFrame(good).with_columns(pl.lit(3).alias("mentions")).write_parquet(
        tmp_path / "typed.parquet"
    )
    pl.DataFrame(good).with_columns(pl.col("timestamp").dt.replace_time_zone(None)).write_parquet(
        tmp_path / "naive.parquet"
    )
    (tmp_path / "text.parquet").write_text("event_id,timestamp\n")
    with pytest.raises(ev.EventsError) as raised:
        dx.read_parquet([str(tmp_path)])
    shown = sorted(str(p) for p in raised.value.problems)
    assert shown == [
        f"{tmp_path / 'naive.parquet'}: column timestamp is timestamp[us]: the dask engine needs "
        "time-zone-aware timestamps (the default engine also reads ISO-8601 text)",
        f"{tmp_path / 'text.parquet'}: not readable as Parquet "
        "(Parquet magic bytes not found in footer. Either the file is corrupted or this is not a "
        "parquet file.)",
        f"{tmp_path / 'typed.parquet'}: column 'mentions' has type Int32 (expected '|'-joined "
        "text or a list of strings)",
    ]
    with pytest.raises(ev.EventsError, match="no such file"):
        dx.read_parquet([str(tmp_path / "absent.parquet")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ev.EventsError, match="no Parquet files"):
        dx.read_parquet([str(tmp_path / "empty")])


def test_worked_example_of_docs_scaling(tribe_file, tmp_path):
    """docs/scaling.md's commands: a scheduler and workers started by hand, then ``--cluster``
    (and ``DASK_SCHEDULER_ADDRESS``) point ``profile --engine dask`` at them."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from distributed import Client

    bin_dir = Path(sys.executable).parent
    info = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0"]
        + ["--no-dashboard", "--scheduler-file", str(info)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = None
    try:
        deadline = time.monotonic() + 60
        while not (info.exists() and info.stat().st_size):
            assert scheduler.poll() is None, "dask scheduler exited"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.1)
        workers = subprocess.Popen(
            [str(bin_dir / "dask"), "worker", "--scheduler-file", str(info)]
            + ["--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with Client(scheduler_file=str(info)) as c:
            c.wait_for_workers(2, timeout=60)
            address = c.scheduler.address
        common = ["profile", str(tribe_file), "--top-leaders", "5", "--no-report"]
        runner = CliRunner()
        by_polars = runner.invoke(main, [*common, "--out", str(tmp_path / "polars")])
        by_flag = runner.invoke(
            main,
            [*common, "--out", str(tmp_path / "flag"), "--engine", "dask", "--cluster", address],
        )
        by_env = runner.invoke(
            main,
            [*common, "--out", str(tmp_path / "env"), "--engine", "dask"],
            env={"DASK_SCHEDULER_ADDRESS": address},
        )
        for result in (by_polars, by_flag, by_env):
            assert result.exit_code == 0, result.output
        expected = (tmp_path / "polars" / "profiles.csv").read_bytes()
        assert (tmp_path / "flag" / "profiles.csv").read_bytes() == expected
        assert (tmp_path / "env" / "profiles.csv").read_bytes() == expected
    finally:
        for proc in (workers, scheduler):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def test_a_local_cluster_starts_quietly_when_dasks_default_port_is_taken():
    """Another cluster or a notebook on port 8787: no warning (an error under pytest), no fallback."""
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(OSError):  # taken already: the same case
            held.bind(("", 8787))
            held.listen()
        with dx.cluster(workers=1) as c:
            assert c.submit(sum, [1, 2]).result() == 3
