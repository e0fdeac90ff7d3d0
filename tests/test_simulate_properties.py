"""Property tests of ``tribe-analysis simulate`` and ``demo``: sizes and what is written.

Oracles: :func:`tribe_analysis.synth.simulate_tribe` called in memory with the same
options, the package's own readers (:func:`tribe_analysis.io.read`: canonical
Parquet and CSV, the Mastodon reader) and the stdlib ``csv`` module for truth.csv.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tribe_analysis import io
from tribe_analysis.cli import main
from tribe_analysis.synth import simulate_tribe

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    "events.csv",
    "events.parquet",
    "leaders.txt",
    "manifest.json",
    "statuses.jsonl",
    "truth.csv",
]
CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _invoke(*args: object):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, [str(a) for a in args])
    # a warning that escapes is printed on the user's console, above the error line
    assert [str(w.message) for w in caught] == []
    return result


def _fresh(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    assert not out.exists()
    return out


_counter = iter(range(10**9))


@settings(max_examples=20, deadline=None, suppress_health_check=CHECKS)
@given(
    n_leaders=st.integers(1, 3),
    n_members=st.none() | st.integers(2, 40),
    days=st.integers(1, 3),
    scale=st.floats(0.005, 2.0),
    seed=st.integers(0, 2**32 - 1),
)
@example(n_leaders=1, n_members=2, days=1, scale=0.01, seed=0)  # a tribe without events
@example(n_leaders=3, n_members=None, days=1, scale=1.0, seed=8)  # L002 only reacts
def test_what_simulate_writes_reads_back_as_the_tribe(
    tmp_path: Path, n_leaders: int, n_members: int | None, days: int, scale: float, seed: int
) -> None:
    out = _fresh(tmp_path, f"sim{next(_counter)}")
    sizes = ["--leaders", n_leaders, "--days", days, "--scale", repr(scale), "--seed", seed]
    sizes += [] if n_members is None else ["--members", n_members]
    result = _invoke("simulate", "--out", out, *sizes, "--csv", "--mastodon")
    tribe = simulate_tribe(
        n_leaders=n_leaders, n_members=n_members, days=days, activity_scale=scale, seed=seed
    )
    events = tribe.events
    if events.height == 0:  # profile and io.read refuse an events file without rows
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: simulated no events with --leaders ")
        assert len(result.stderr.splitlines()) == 1 and not out.exists()
        return
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == FILES
    for name in ("events.parquet", "events.csv"):
        read = io.read(out / name)
        assert read.skipped == [] and read.events.equals(events), name

    statuses = io.read(out / "statuses.jsonl")
    assert statuses.platform == "mastodon"
    columns = ["event_id", "actor_id", "action", "parent_id", "target_actor_id", "mentions"]
    shown = events.filter(pl.col("action") != "reaction").sort("event_id")
    back = statuses.events.sort("event_id")
    assert back.select(columns).equals(shown.select(columns))
    lag = (shown["timestamp"] - back["timestamp"]).to_list()  # the API's milliseconds
    assert all(timedelta(0) <= d < timedelta(milliseconds=1) for d in lag)

    with (out / "truth.csv").open(newline="") as handle:
        truth = list(csv.DictReader(handle))
    assert [row["leader_id"] for row in truth] == tribe.leaders
    assert [row["style"] for row in truth] == tribe.truth["style"].to_list()
    actors = set(events["actor_id"])
    listed = (out / "leaders.txt").read_text().splitlines()
    assert listed == [leader for leader in tribe.leaders if leader in actors]
    # `profile statuses.jsonl --leaders leaders.txt` refuses a leader it does not hold: said
    unseen = [leader for leader in listed if leader not in set(back["actor_id"])]
    said = [line for line in result.stderr.splitlines() if "statuses.jsonl holds" in line]
    if unseen:
        assert len(said) == 1 and f"({', '.join(unseen)})" in said[0]
    else:
        assert said == []


BAD = {
    "--leaders": st.integers(max_value=0) | st.integers(10**10, 10**15),
    "--days": st.integers(max_value=0) | st.integers(10**11, 10**15),
    "--members": st.integers(max_value=1) | st.integers(10**13, 10**16),
    "--scale": st.floats(max_value=0.0)
    | st.floats(1e20, 1.7e308)
    | st.sampled_from(["nan", "inf", "-inf", "1e309"]),
    "--seed": st.integers(max_value=-1) | st.integers(min_value=2**32),
}
NOT_A_NUMBER = st.sampled_from(["", "1.5", "two", "1e3", "0x10", " "])


CASES = st.one_of(
    [
        st.tuples(st.just(command), st.just(option), BAD[option] | NOT_A_NUMBER)
        if option != "--scale"
        else st.tuples(st.just(command), st.just(option), BAD[option] | st.just("two"))
        for command in ("simulate", "demo")
        for option in BAD
        if command == "simulate" or option not in ("--members", "--scale")
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=CHECKS)
@given(case=CASES)
@example(case=("simulate", "--scale", 1.7e308))  # the Poisson rates overflow
def test_bad_sizes_are_one_line_and_write_nothing(
    tmp_path: Path, case: tuple[str, str, object]
) -> None:
    command, option, bad = case
    out = _fresh(tmp_path, f"out{next(_counter)}")
    extra = "--no-report" if command == "demo" else "--csv"
    result = _invoke(command, "--out", out, option, bad, extra)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr and not out.exists()
    if "Usage:" in result.stderr:
        assert f"Invalid value for '{option}'" in result.stderr
    else:
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: cannot simulate ") and option in result.stderr


def _run(out: Path, seed: int, hash_seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    args = ["simulate", "--out", str(out), "--leaders", "3", "--days", "2", "--seed", str(seed)]
    code = "from tribe_analysis.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args, "--csv", "--mastodon"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_same_seed_same_bytes_in_fresh_processes_and_other_seeds_differ(tmp_path: Path) -> None:
    runs = [(tmp_path / "a", 11, "1"), (tmp_path / "b", 11, "2"), (tmp_path / "c", 12, "1")]
    for out, seed, hash_seed in runs:
        done = _run(out, seed, hash_seed)
        assert done.returncode == 0, done.stderr
    a, b, c = (out for out, _, _ in runs)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("events.csv", "events.parquet", "statuses.jsonl", "truth.csv"):
        assert (a / name).read_bytes() != (c / name).read_bytes(), name


def test_an_overflowing_scale_is_one_line_on_the_console(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = "from tribe_analysis.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "simulate", "--out", str(out), "--scale", "1.7e308"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: cannot simulate --leaders 40, --days 60, --scale 1.7e+308: too large "
        "(overflow encountered in multiply)"
    ]
    assert not out.exists()


def test_demo_without_a_leader_with_events_is_one_line(tmp_path: Path) -> None:
    tribe = simulate_tribe(n_leaders=1, days=1, seed=0)
    assert tribe.leaders[0] not in set(tribe.events["actor_id"])  # the oracle: a silent leader
    out = tmp_path / "demo"
    result = _invoke("demo", "--out", out, "--leaders", 1, "--days", 1, "--seed", 0)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: no simulated leader has an event of their own in 1 day(s): "
        "give more --days or --leaders"
    ]
    assert not out.exists()
