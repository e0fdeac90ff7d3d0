"""Out-of-core reading (tribe_analysis.spill): the same events, problems and outputs as in memory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis import pipeline, spill
from tribe_analysis.cli import main
from tribe_analysis.errors import EventsError
from tribe_analysis.synth import simulate_tribe

from .conftest import real_data_dir
from .test_cli import _can_mount_tmpfs

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv"
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def spilled(paths, folder: Path) -> pl.DataFrame:
    """:func:`spill.spill_events` collected, in the in-memory reader's row order."""
    return spill.spill_events(paths, folder).frame.collect().sort("timestamp", "event_id")


def problems_of(call) -> list[str] | None:
    try:
        call()
    except EventsError as exc:
        return [str(p) for p in exc.problems]
    return None


def split_files(
    events: pl.DataFrame, cuts: list[int], folder: Path, kinds: list[str]
) -> list[Path]:
    """``events`` cut at ``cuts`` into files of ``kinds`` (parquet or csv), in order."""
    paths = []
    bounds = [0, *cuts, events.height]
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        part = events.slice(lo, hi - lo)
        path = folder / f"part-{k}.{kinds[k % len(kinds)]}"
        if path.suffix == ".csv":
            ev.write_events(part, path)
        else:
            part.write_parquet(path)
        paths.append(path)
    return paths


def test_spilled_events_are_the_events_read_in_memory(tmp_path):
    events = simulate_tribe(n_leaders=4, days=20, seed=3).events
    events = events.sample(fraction=1.0, shuffle=True, seed=1)  # parents in other files
    events = events.with_columns(  # a platform that names some threads keeps them
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.col("thread_id")).alias("thread_id"),
        pl.lit(None, dtype=pl.String).alias("target_actor_id"),
    )
    paths = split_files(
        events, [events.height // 3, events.height // 2], tmp_path, ["parquet", "csv"]
    )
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    done = spill.spill_events(paths, spill_dir)
    assert done.height == events.height
    assert [p.name for p in done.files] == [
        "events-0.parquet",
        "events-1.parquet",
        "events-2.parquet",
    ]
    assert sorted(p.name for p in spill_dir.iterdir()) == [p.name for p in done.files]
    expected = ev.read_events(paths)
    assert done.frame.collect_schema() == ev.SCHEMA
    assert done.frame.collect().sort("timestamp", "event_id").equals(expected)
    assert (done.first, done.last) == (expected["timestamp"].min(), expected["timestamp"].max())


def test_problems_name_the_file_and_line_as_in_memory(tmp_path, write_csv):
    first = write_csv(
        ["p1,2024-03-01T10:00:00Z,ann,post,,,", "c1,2024-03-01T10:01:00Z,bob,reply,c2,,"],
        name="a.csv",
    )
    second = write_csv(
        ["p1,2024-03-01T10:02:00Z,cid,post,,,", "c2,2024-03-01T10:03:00Z,dan,reply,c1,,"],
        name="b.csv",
    )
    dup = problems_of(lambda: spill.spill_events([first, second], tmp_path))
    assert dup == problems_of(lambda: ev.read_events([first, second]))
    assert dup == [f"{second}:2: duplicate event_id 'p1' (first at {first}:2)"]
    second.write_text(second.read_text().replace("p1,", "p2,"))
    cycle = problems_of(lambda: spill.spill_events([first, second], tmp_path))
    assert cycle == problems_of(lambda: ev.read_events([first, second]))
    assert cycle == [
        f"{first}:3: parent_id chain forms a cycle (event 'c1' -> parent 'c2')",
        f"{second}:3: parent_id chain forms a cycle (event 'c2' -> parent 'c1')",
    ]
    assert not list(tmp_path.glob("*.parquet"))  # a failed read leaves nothing behind


_ID = st.integers(0, 14).map(lambda i: f"e{i}")


@st.composite
def event_files(draw):
    """Small inputs: repeated ids, parents outside the data, cycles, bad rows, 1-4 files."""
    n = draw(st.integers(1, 14))
    rows = []
    for i in range(n):
        eid = draw(st.one_of(st.just(f"e{i}"), _ID)) if draw(st.booleans()) else f"e{i}"
        parent = draw(st.one_of(st.none(), _ID))
        action = "post" if parent is None else draw(st.sampled_from(["reply", "share", "reaction"]))
        if draw(st.integers(0, 20)) == 0:
            action = "reply" if parent is None else "post"  # a row problem
        rows.append(
            {
                "event_id": eid,
                "timestamp": T0 + timedelta(minutes=draw(st.integers(0, 5))),
                "actor_id": draw(st.sampled_from(["ann", "bob", "cid"])),
                "action": action,
                "parent_id": parent,
                "mentions": draw(st.lists(st.sampled_from(["ann", "bob"]), max_size=2)),
            }
        )
    cuts = sorted(set(draw(st.lists(st.integers(1, n), max_size=3)) if n > 1 else []))
    cuts = [c for c in cuts if c < n]
    kinds = draw(st.lists(st.sampled_from(["parquet", "csv"]), min_size=1, max_size=2))
    return pl.DataFrame(rows), cuts, kinds


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event_files())
def test_spill_reads_what_read_events_reads(tmp_path_factory, case):
    frame, cuts, kinds = case
    folder = tmp_path_factory.mktemp("in")
    frame = frame.with_columns(pl.col("action").cast(pl.String))
    paths = split_files(frame, cuts, folder, kinds)
    expected = problems_of(lambda: ev.read_events(paths))
    out = tmp_path_factory.mktemp("spill")
    assert problems_of(lambda: spill.spill_events(paths, out)) == expected
    if expected is None:
        assert spilled(paths, tmp_path_factory.mktemp("again")).equals(ev.read_events(paths))


def test_profile_of_a_lazy_frame_equals_the_in_memory_run(tmp_path):
    tribe = simulate_tribe(n_leaders=5, days=30, seed=4)
    shuffled = tribe.events.sample(fraction=1.0, shuffle=True, seed=2)
    path = tmp_path / "events.parquet"
    shuffled.write_parquet(path)
    eager = pipeline.profile(tribe.events, top=4)
    lazy = pipeline.profile(pl.scan_parquet(path), top=4)
    assert lazy.leaders == eager.leaders
    assert lazy.profiles.equals(eager.profiles) and lazy.measures.equals(eager.measures)
    assert lazy.edges.equals(eager.edges)
    assert lazy.event_count == tribe.events.height
    assert lazy.time_span == (tribe.events["timestamp"].min(), tribe.events["timestamp"].max())
    assert lazy.events.equals(pipeline.own_threads(tribe.events, lazy.leaders))
    for kept in (eager, lazy):
        pipeline.write_outputs(kept, tmp_path / ("lazy" if kept is lazy else "eager"))
    for name in [
        "profiles.csv",
        "features.parquet",
        "edges.parquet",
        "graph.graphml",
        "report.html",
    ]:
        assert (tmp_path / "lazy" / name).read_bytes() == (tmp_path / "eager" / name).read_bytes()
    with pytest.raises(ValueError, match="pseudonymizing needs the events in memory"):
        pipeline.profile(pl.scan_parquet(path), top=4, key=b"k" * 32)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def spill_folders(where: Path) -> list[str]:
    return [p.name for p in where.iterdir() if p.name.startswith(".tribe-analysis-spill-")]


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "extra",
    [
        ["--top-leaders", "3"],
        ["--leaders", SAMPLE.with_name("leaders.txt")],
        ["--top-leaders", "3", "--since", "2024-01-05", "--until", "2024-01-15"],
    ],
    ids=["top", "leaders-file", "window"],
)
def test_cli_out_of_core_writes_the_same_files(tmp_path, monkeypatch, extra):
    base = ["profile", SAMPLE, "--no-report", *extra, "--out"]
    memory = run(*base, tmp_path / "memory", "--in-memory")
    assert memory.exit_code == 0, memory.output
    calls = []
    real = spill.spill_events
    monkeypatch.setattr(spill, "spill_events", lambda *a, **k: calls.append(a) or real(*a, **k))
    core = run(*base, tmp_path / "core", "--out-of-core")
    assert core.exit_code == 0, core.output
    assert len(calls) == 1 and Path(calls[0][1]).parent == tmp_path.resolve()  # beside --out
    assert files_of(tmp_path / "core") == files_of(tmp_path / "memory")
    assert core.stdout == memory.stdout.replace("memory", "core")
    assert spill_folders(tmp_path) == []  # the spilled files go with the run


def test_cli_out_of_core_failure_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text() + "zz,yesterday,ann,post,,,\n")  # too few fields
    failed = run("profile", bad, "--out", tmp_path / "bad", "--out-of-core")
    assert failed.exit_code == 2 and failed.stderr.startswith(f"error: {bad}:")
    assert spill_folders(tmp_path) == [] and not (tmp_path / "bad").exists()
    empty = run(
        "profile", SAMPLE, "--out", tmp_path / "w", "--out-of-core", "--since", "2030-01-01"
    )
    assert empty.exit_code == 2 and "no events" in empty.stderr, empty.output
    assert spill_folders(tmp_path) == [] and not (tmp_path / "w").exists()


def test_cli_goes_out_of_core_when_the_input_would_not_fit(tmp_path, monkeypatch):
    calls = []
    real = spill.spill_events
    monkeypatch.setattr(spill, "spill_events", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(spill, "needs_spill", lambda events, memory=None: events > 10)
    base = ["profile", SAMPLE, "--top-leaders", 3, "--no-report"]
    assert run(*base, "--out", tmp_path / "a").exit_code == 0
    assert len(calls) == 1  # the sample's rows, estimated from its size, are over 10
    assert (
        run(*base, "--out", tmp_path / "b", "--pseudonymize", "--key-file", key(tmp_path)).exit_code
        == 0
    )
    assert run(*base, "--out", tmp_path / "c", "--on-error", "skip").exit_code == 0
    assert run(*base, "--out", tmp_path / "d", "--in-memory").exit_code == 0
    assert len(calls) == 1  # these three read in memory
    monkeypatch.setattr(spill, "needs_spill", lambda events, memory=None: False)
    assert run(*base, "--out", tmp_path / "e").exit_code == 0 and len(calls) == 1


def key(folder: Path) -> Path:
    path = folder / "key"
    path.write_bytes(b"0123456789abcdef0123456789abcdef")
    return path


@pytest.mark.parametrize("option", [["--on-error", "skip"], ["--pseudonymize"]])
def test_out_of_core_refuses_what_needs_memory(tmp_path, option):
    result = run("profile", SAMPLE, "--out", tmp_path / "o", "--out-of-core", *option)
    assert result.exit_code == 2 and "--out-of-core reads in strict mode" in result.stderr
    assert "Traceback" not in result.output


def test_cli_full_disk_while_spilling_is_one_line(tmp_path, monkeypatch):
    def full(self, *args, **kwargs):  # how polars reports it
        raise pl.exceptions.ComputeError("parquet: underlying IO error: (os error 28)")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    out = tmp_path / "out"
    result = run("profile", SAMPLE, "--out", out, "--out-of-core", "--no-report")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    pattern = (
        rf"error: {re.escape(str(tmp_path))}/\.tribe-analysis-spill-\w+/typed-0\.parquet: "
        r"cannot write the events read out of core \(No space left on device\)"
    )
    assert re.fullmatch(pattern, errors[0]), errors[0]
    assert not out.exists() and spill_folders(tmp_path) == []


def test_needs_spill_counts_half_the_memory():
    assert not spill.needs_spill(4, memory=2000)
    assert spill.needs_spill(5, memory=2000)  # 5 x 250 bytes > 1000


def test_memory_limit_is_the_containers_when_lower(tmp_path, monkeypatch):
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    v2, v1 = tmp_path / "memory.max", tmp_path / "limit_in_bytes"
    monkeypatch.setattr(spill, "CGROUP_LIMITS", (str(v2), str(v1)))
    assert spill.memory_limit() == machine  # no cgroup files
    v2.write_text("max\n")  # cgroup v2 without a limit
    v1.write_text("9223372036854771712\n")  # cgroup v1 without a limit
    assert spill.memory_limit() == machine
    v1.write_text(f"{4 * 2**30}\n")
    assert spill.memory_limit() == 4 * 2**30
    assert spill.needs_spill(9_000_000) and not spill.needs_spill(8_000_000)


def test_real_full_disk_while_spilling(tmp_path):
    """A real tmpfs of 64 kB (in a private mount namespace): the spill cannot be written."""
    if shutil.which("unshare") is None or not _can_mount_tmpfs(tmp_path):
        pytest.skip("cannot mount a tmpfs here (needs unshare and user namespaces)")
    exe = Path(sys.executable).with_name("tribe-analysis")
    disk, log = tmp_path / "disk", tmp_path / "log"
    disk.mkdir()
    script = f"""
        mount -t tmpfs -o size=64k tmpfs '{disk}'
        '{exe}' profile '{SAMPLE}' --out '{disk}/res' --out-of-core --no-report \
            >/dev/null 2>'{log}.err'; echo $? >'{log}.rc'
        ls -A '{disk}' >'{log}.ls'
    """
    subprocess.run(["unshare", "-rm", "sh", "-c", script], check=True, timeout=300)
    err = Path(f"{log}.err").read_text()
    assert Path(f"{log}.rc").read_text().strip() == "2", err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    pattern = (
        rf"error: {re.escape(str(disk))}/\.tribe-analysis-spill-\w+/typed-0\.parquet: "
        r"cannot write the events read out of core \(No space left on device\)"
    )
    assert re.fullmatch(pattern, err.strip()), err
    assert Path(f"{log}.ls").read_text() == ""  # no spill folder, no results, no lock


def test_out_of_core_with_a_platform_export_says_it_reads_in_memory(tmp_path):
    mbox = real_data_dir("mailinglist_everything_list") / "everything-list-1998-1999.mbox"
    result = run("profile", mbox, "--out", tmp_path / "o", "--no-report", "--out-of-core")
    assert result.exit_code == 0, result.output
    assert (
        "note: --out-of-core reads canonical events files; this mbox export is read in memory"
        in result.stderr
    )
    assert spill_folders(tmp_path) == []
