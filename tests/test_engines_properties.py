"""Property tests: the ways of reading canonical events agree (in memory, out of core, Dask).

``profile`` reads canonical events files in memory (:func:`tribe_analysis.events.read_events`),
out of core (:mod:`tribe_analysis.spill`, ``--out-of-core``) or on a Dask cluster
(``--engine dask``). Whatever the engine: an input one of them refuses is refused by
the others, as one ``error:`` line per problem and exit 2, never a traceback nor an
"unexpected failure"; an input one of them reads gives the same events and files.

Oracles: Python's datetime (which times the outputs can hold), the default engine's
strict read (what Dask must refuse and read alike), the in-memory run (what the
out-of-core run and any row order must write, byte for byte). Dask runs on one local
worker started once for the module; those tests are few and small.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis import io
from tribe_analysis.cli import main

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z in microseconds since the epoch
AFTER_US = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def python_time(micros: int) -> datetime | None:
    """The oracle: the UTC time Python's datetime holds for ``micros``, or None (outside it)."""
    try:
        return EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None


def _posts(times: list[object], leader_rows: int = 6) -> pl.DataFrame:
    """Posts of ``L1`` and ``bob`` at ``times`` (one leader with events of its own)."""
    n = len(times)
    return pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "timestamp": times,
            "actor_id": ["L1" if i < leader_rows else "bob" for i in range(n)],
            "action": ["post"] * n,
        }
    )


# microseconds near the ends of the years 1-9999, and anywhere Parquet can hold
MICROS = st.one_of(
    st.integers(FIRST_US - 3, FIRST_US + 3),
    st.integers(AFTER_US - 3, AFTER_US + 3),
    st.integers(-(2**62), 2**62),
    st.integers(0, 2_000_000_000_000_000),
)


def _text_time(year: int, rest: datetime, offset_minutes: int) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    stamp = rest.strftime("%m-%dT%H:%M:%S.%f")
    year_text = f"+{year}" if year > 9999 else f"{year:04d}"
    return f"{year_text}-{stamp}{sign}{hours:02d}:{minutes:02d}"


@st.composite
def text_times(draw) -> tuple[str, bool]:
    """An ISO-8601 time with an offset, near the ends of the years 1-9999; and whether UTC holds it."""
    year = draw(st.sampled_from([0, 1, 2, 2024, 9998, 9999, 10000]))
    rest = draw(st.datetimes(datetime(2001, 1, 1), datetime(2001, 12, 31, 23, 59, 59)))
    offset = draw(st.integers(-14 * 60, 14 * 60))
    text = _text_time(year, rest, offset)
    if not 1 <= year <= 9999:
        return text, False
    local = rest.replace(year=year, tzinfo=timezone(timedelta(minutes=offset)))
    try:
        local.astimezone(UTC)
    except OverflowError:
        return text, False
    return text, True


def _refused_in_both_modes(path: Path, line: str, shown: str, tmp: Path) -> None:
    """``profile`` in memory and out of core: one line naming the record, exit 2, no output."""
    leaders = tmp / "leaders.txt"
    leaders.write_text("L1\n")
    want = f"error: {path}:{line}: timestamp out of range '{shown}' (years 1 to 9999 in UTC)"
    for mode in ("--in-memory", "--out-of-core"):
        out = tmp / mode
        result = run("profile", path, "--leaders", leaders, "--no-report", "--out", out, mode)
        errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
        assert (result.exit_code, errors) == (2, [want]), (mode, result.output)
        assert not out.exists() and not list(tmp.glob(".tribe-analysis-spill-*"))
    skipped = io.read([path], on_error="skip").skipped  # the record goes to the quarantine
    assert [(s.line, s.reason) for s in skipped] == [
        (int(line.split()[-1]), want[len(f"error: {path}:{line}: ") :])
    ]


@SETTINGS
@given(st.lists(MICROS, min_size=1, max_size=4))
def test_a_parquet_time_outside_the_years_1_to_9999_is_refused_in_both_modes(micros):
    """The oracle is Python's datetime: polars holds ±292,000 years, the outputs' writers do not.

    Such a time was read, then failed as 'unexpected failure (OverflowError: date value
    out of range)', exit 1, in memory and out of core alike.
    """
    tmp = Path(tempfile.mkdtemp())
    base = 1_700_000_000_000_000
    values = [base + i for i in range(12)]
    for k, value in enumerate(micros):  # rows 2, 5, 8, 11 may be out of range
        values[1 + 3 * k] = value
    path = tmp / "events.parquet"
    _posts(pl.Series(values).cast(pl.Datetime("us", "UTC"))).write_parquet(path)
    outside = [k for k, v in enumerate(values) if python_time(v) is None]
    if not outside:
        result = run("profile", path, "--leaders", _leaders(tmp), "--no-report", "--out", tmp / "o")
        assert result.exit_code == 0, result.output
        got = pl.read_parquet(tmp / "o" / "features.parquet")
        assert got.height == 1
        return
    if len(outside) > 1:  # each bad row has its line; the first one is checked in full
        result = run("profile", path, "--leaders", _leaders(tmp), "--no-report", "--out", tmp / "o")
        errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
        assert result.exit_code == 2 and len(errors) == len(outside), result.output
        assert all("timestamp out of range" in e for e in errors)
        return
    row = outside[0]
    shown = pl.Series([values[row]]).cast(pl.Datetime("us", "UTC"))
    text = shown.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ").item()
    _refused_in_both_modes(path, f"row {row + 1}", text, tmp)


def _leaders(tmp: Path) -> Path:
    path = tmp / "leaders.txt"
    path.write_text("L1\n")
    return path


@SETTINGS
@given(text_times(), st.sampled_from(["csv", "ndjson"]))
def test_a_text_time_that_utc_moves_out_of_the_years_1_to_9999_is_refused(case, suffix):
    """``0001-01-01T00:30:00+01:00`` is in year 0 in UTC; ``+10000-...`` after 9999: both refused."""
    text, holds = case
    tmp = Path(tempfile.mkdtemp())
    times = [f"2024-01-01T00:00:{i:02d}Z" for i in range(12)]
    times[4] = text
    path = tmp / f"events.{suffix}"
    frame = _posts(times)
    if suffix == "csv":
        frame.write_csv(path)
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in frame.iter_rows(named=True)))
    if holds:
        result = run("profile", path, "--leaders", _leaders(tmp), "--no-report", "--out", tmp / "o")
        assert result.exit_code == 0, result.output
        return
    line = 6 if suffix == "csv" else 5  # the header is line 1 of a CSV file
    _refused_in_both_modes(path, str(line), text, tmp)


# --------------------------------------------------------------------------- the dask engine


@pytest.fixture(scope="module")
def client():
    """A local Dask cluster of one worker process for the module (skipped without Dask)."""
    from tribe_analysis import distributed as dx

    if dx.available():
        pytest.skip(dx.available())
    with dx.cluster(workers=1) as c:
        yield c


_GOOD_US = 1_700_000_000_000_000


@st.composite
def rows_to_check(draw) -> pl.DataFrame:
    """Parquet rows as a user might give them: blank, null or NUL values, empty mentions, odd
    actions and times."""
    n = draw(st.integers(1, 6))

    def column(values):
        return draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))

    times = column([_GOOD_US, _GOOD_US + 1, None, AFTER_US, FIRST_US - 1])
    return pl.DataFrame(
        {
            "event_id": column(["a", "b", "c", "d", "e", "", " ", "a\x00", None]),
            "timestamp": pl.Series(times, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "actor_id": column(["u", "v", "", " \t", "u\x00", None]),
            "action": column(["post", "reply", "share", "reaction", "like", "Post", "", None]),
            "parent_id": column(["a", "b", "zz", "", " ", None]),
            "mentions": column([[], ["u"], ["v\x00"], None, [""], ["u", " "], [None]]),
        },
        schema_overrides={"mentions": pl.List(pl.String)},
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows_to_check())
def test_the_dask_engine_refuses_every_row_the_default_engine_refuses(client, frame):
    """The default engine's strict read is the oracle: Dask accepted replies without a parent,
    posts with one, blank ids and actors, NUL bytes, an event that is its own parent (and
    crashed on a time after 9999)."""
    from tribe_analysis import distributed as dx

    path = Path(tempfile.mkdtemp()) / "events.parquet"
    frame.write_parquet(path)
    try:
        ev.read_events(path)
        refused = None
    except ev.EventsError as exc:
        refused = exc
    try:
        with dx.settings():
            dask_frame = dx.read_parquet([str(path)])
            dx.summarize(dask_frame)
            dx.threads_of(dask_frame, client).compute()
    except ev.EventsError as exc:
        assert refused is not None, f"dask refused what polars reads: {exc}"
        assert all(p.source in ("<parquet>", str(path)) for p in exc.problems)
        lines = {p.line for p in refused.problems}
        for problem in exc.problems:  # an example event is one the default engine refuses
            if "(e.g. event '" in problem.reason and None not in lines:
                eid = problem.reason.split("(e.g. event '")[1].split("')")[0]
                rows = frame.with_row_index("row", 1).filter(pl.col("event_id") == eid)
                assert lines & set(rows["row"]), (eid, str(refused))
        return
    assert refused is None, f"dask read what polars refuses: {refused}"


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from([1, 2, 4, 8]))  # a ring of 3 is tests/test_distributed.py's
def test_a_cycle_of_parents_of_any_length_is_refused_by_every_engine(client, length):
    """Dask followed parents by pointer jumping, which stops moving on a cycle whose length is
    a power of two: an event that was its own parent, or 2, 4, 8 events in a ring, were read."""
    from tribe_analysis import distributed as dx
    from tribe_analysis.spill import spill_events

    ring = [f"c{k}" for k in range(length)]
    frame = pl.DataFrame(
        {
            "event_id": [*ring, "p", "r"],
            "timestamp": [datetime(2024, 1, 1, tzinfo=UTC)] * (length + 2),
            "actor_id": [("ann", "bob", "cid")[k % 3] for k in range(length + 2)],
            "action": ["reply"] * length + ["post", "reply"],
            "parent_id": [ring[(k + 1) % length] for k in range(length)] + [None, "c0"],
        }
    )
    path = Path(tempfile.mkdtemp()) / "events.parquet"
    frame.write_parquet(path)
    with pytest.raises(ev.EventsError, match="cycle") as in_memory:
        ev.read_events(path)
    with pytest.raises(ev.EventsError, match="cycle") as out_of_core:
        spill_events([path], tempfile.mkdtemp())
    assert str(out_of_core.value) == str(in_memory.value)
    with dx.settings(), pytest.raises(ev.EventsError, match="parent_id chain forms a cycle"):
        dask_frame = dx.read_parquet([str(path)])
        dx.summarize(dask_frame)
        dx.threads_of(dask_frame, client).compute()


@st.composite
def parquet_forms(draw) -> pl.DataFrame:
    """Valid events as other tools write Parquet: integer ids, padded or categorical actions,
    nanosecond times in any zone, mentions as a list, as '|'-joined text or absent."""
    n = draw(st.integers(1, 6))
    integer_ids = draw(st.booleans())
    rows = []
    for k in range(n):
        parent = draw(st.sampled_from([None, 99, *range(k)])) if k else None
        rows.append(
            {
                "event_id": k,
                "timestamp": draw(st.integers(-(10**18), 10**18)) // 7 * 7,  # nanoseconds
                "actor_id": draw(st.integers(0, 3)),
                "action": draw(st.sampled_from(["reply", "share", "reaction"]))
                if parent is not None
                else "post",
                "parent_id": parent,
                "mentions": draw(st.lists(st.sampled_from(["0", "1", "x"]), max_size=2)),
            }
        )
    frame = pl.DataFrame(
        rows, schema_overrides={"parent_id": pl.Int64, "mentions": pl.List(pl.String)}
    )
    if not integer_ids:
        frame = frame.with_columns(pl.col("event_id", "actor_id", "parent_id").cast(pl.String))
    zone = draw(st.sampled_from(["UTC", "Europe/Paris", "America/St_Johns"]))
    stamps = pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).dt.convert_time_zone(zone)
    pad = draw(st.sampled_from(["", " ", "\t"]))
    action = draw(st.sampled_from(["text", "categorical"]))
    actions = pl.col("action") + pad if action == "text" else pl.col("action").cast(pl.Categorical)
    mentions = draw(st.sampled_from(["list", "text", "absent"]))
    frame = frame.with_columns(stamps, actions)
    if mentions == "text":
        return frame.with_columns(pl.col("mentions").list.join("|"))
    return frame.drop("mentions") if mentions == "absent" else frame


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(parquet_forms())
def test_the_dask_engine_reads_the_parquet_forms_the_default_engine_reads(client, frame):
    """Dask refused integer ids ('column event_id is int64, expected string'), '|'-joined
    mentions and ' post '; a nanosecond time was 'Casting from timestamp[ns, tz=UTC] to
    timestamp[us, tz=UTC] would lose data', naming no file."""
    from tribe_analysis import distributed as dx
    from tribe_analysis.features._scope import COLUMNS

    path = Path(tempfile.mkdtemp()) / "events.parquet"
    frame.write_parquet(path)
    want = ev.read_events(path).select(COLUMNS).sort("event_id")
    with dx.settings():
        dask_frame = dx.read_parquet([str(path)])
        dx.summarize(dask_frame)
        got = dx._to_polars(dx.threads_of(dask_frame, client).compute())
    assert got.select(COLUMNS).sort("event_id").equals(want)


# --------------------------------------------------------------------------- faults out of core

_STOPPED_SCRIPT = """
import pathlib, sys, time
from tribe_analysis import pipeline

mark = pathlib.Path(sys.argv[1])

def measuring(*args, **kwargs):  # the run is under way: its folders exist
    mark.touch()
    time.sleep(120)

pipeline._measure = measuring
from tribe_analysis.cli import main
sys.argv = ["tribe-analysis", "profile", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize("mode", ["--out-of-core", "--in-memory"])
def test_a_run_stopped_by_sigterm_leaves_nothing_beside_out(tmp_path, mode):
    """``kill``, ``timeout`` or a batch job's time limit: Python's default ended the process at
    once, leaving the spill folder (gigabytes at scale), the staging folder and the lock."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    work = tmp_path / "work"
    work.mkdir()
    mark = tmp_path / "measuring"
    args = [root / "data" / "sample" / "events.csv", "--no-report", "--out", work / "res", mode]
    proc = subprocess.Popen(
        [sys.executable, "-c", _STOPPED_SCRIPT, mark, *args],
        cwd=root,  # the package of this checkout
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the run did not reach its measures"
            time.sleep(0.05)
        under_way = sorted(p.name for p in work.iterdir())
        assert ".res.lock" in under_way, under_way
        if mode == "--out-of-core":
            assert any(n.startswith(".tribe-analysis-spill-") for n in under_way), under_way
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.splitlines()[-1] == "error: stopped by SIGTERM (the run's partial files are removed)"
    assert "Traceback" not in err
    assert list(work.iterdir()) == []


# --------------------------------------------------------------------------- in memory = out of core

_ACTORS = ["L1", "L2", "ann", "bob"]


@st.composite
def event_sets(draw) -> tuple[pl.DataFrame, list[int], list[str], tuple[int, int] | None]:
    """Small events: parents inside and outside the data, given threads and targets, null
    optional values, ties in time, now and then an id repeated (in another file or not);
    cut into 1-3 files of any of the three forms, and a window at two events' times."""
    n = draw(st.integers(2, 16))
    rows = []
    for k in range(n):
        parent = None
        if k and draw(st.booleans()):
            parent = draw(st.sampled_from([*(f"e{j}" for j in range(k)), "gone"]))
        rows.append(
            {
                "event_id": f"e{draw(st.integers(0, k))}"
                if draw(st.integers(0, 9)) == 0
                else f"e{k}",
                "timestamp": T0 + timedelta(minutes=draw(st.integers(0, 6))),
                "actor_id": draw(st.sampled_from(_ACTORS)),
                "action": draw(st.sampled_from(["reply", "share", "reaction"]))
                if parent
                else "post",
                "parent_id": parent,
                "thread_id": draw(st.sampled_from([None, None, "t"])),
                "target_actor_id": draw(st.sampled_from([None, None, "ann", "zed"])),
                "mentions": draw(
                    st.one_of(st.none(), st.lists(st.sampled_from([*_ACTORS, "zed"]), max_size=2))
                ),
                "text": draw(st.sampled_from([None, "", 'hi, "you"\nthere'])),
            }
        )
    frame = pl.DataFrame(rows, schema_overrides={"mentions": pl.List(pl.String)})
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=2))))
    kinds = draw(st.lists(st.sampled_from(["parquet", "csv", "ndjson"]), min_size=3, max_size=3))
    window = draw(st.none() | st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))
    return frame, cuts, kinds, window


T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _write_parts(
    frame: pl.DataFrame, cuts: list[int], kinds: list[str], folder: Path
) -> list[Path]:
    """``frame`` cut at ``cuts`` into files, the k-th of form ``kinds[k]``."""
    folder.mkdir()
    bounds = [0, *cuts, frame.height]
    paths = []
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        part = frame.slice(lo, hi - lo)
        path = folder / f"part-{k}.{kinds[k]}"
        stamps = pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")
        if kinds[k] == "parquet":
            part.write_parquet(path)
        elif kinds[k] == "csv":
            part.with_columns(stamps, pl.col("mentions").list.join("|")).write_csv(path)
        else:
            part.with_columns(stamps).write_ndjson(path)
        paths.append(path)
    return paths


def _outputs(folder: Path) -> dict[str, bytes] | None:
    """Every file of an output folder (the manifest without its inputs' names and hashes)."""
    if not folder.exists():
        return None
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    manifest = json.loads(files.pop("manifest.json"))
    manifest.pop("inputs")
    return files | {"manifest.json": json.dumps(manifest, sort_keys=True).encode()}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.randoms(use_true_random=False))
def test_in_memory_out_of_core_and_any_row_order_write_the_same_files(case, random):
    """docs/performance.md: 'the same checks, the same error lines and byte-identical results';
    README: the same events give the same bytes whatever their input order."""
    frame, cuts, kinds, window = case
    tmp = Path(tempfile.mkdtemp())
    order = list(range(frame.height))
    random.shuffle(order)
    inputs = {
        "given": _write_parts(frame, cuts, kinds, tmp / "given"),
        "shuffled": _write_parts(frame[order], cuts, kinds, tmp / "shuffled"),
    }
    (tmp / "leaders.txt").write_text("\n".join(sorted(set(frame["actor_id"]))[:2]) + "\n")
    extra = []
    if window is not None:  # exactly at two events' times: since is in, until is out
        lo, hi = sorted(frame["timestamp"].gather(list(window)).to_list())
        extra = ["--since", lo.isoformat()] + (["--until", hi.isoformat()] if hi > lo else [])
    got = {}
    for name, paths in inputs.items():
        for mode in ("--in-memory", "--out-of-core"):
            out = tmp / f"{name}{mode}"
            result = run(
                "profile",
                *paths,
                "--leaders",
                tmp / "leaders.txt",
                "--no-report",
                "--out",
                out,
                mode,
                *extra,
            )
            assert "Traceback" not in result.output and "unexpected" not in result.output
            assert not list(tmp.glob(".tribe-analysis-spill-*"))
            got[name, mode] = (result.exit_code, result.stderr.replace(str(tmp), ""), _outputs(out))
    first = got["given", "--in-memory"]
    assert got["given", "--out-of-core"] == first  # the same lines, even for refusals
    for mode in ("--in-memory", "--out-of-core"):
        code, _, files = got["shuffled", mode]
        assert code == first[0]
        assert files == first[2]  # refused: no folder; read: the same bytes


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text_times(),
    st.sampled_from(["--since", "--until"]),
    st.sampled_from(["--in-memory", "--out-of-core"]),
)
def test_a_window_bound_outside_the_years_1_to_9999_is_one_error_line(case, option, mode):
    """``--since 9999-12-31T23:59:59-01:00`` was 'unexpected failure (OverflowError: date value
    out of range)', exit 1; ``0001-01-01T00:30:00+01:00`` 'year 0 is out of range'."""
    text, holds = case
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "events.csv"
    _posts([f"2024-01-01T00:00:{i:02d}Z" for i in range(12)]).write_csv(path)
    result = run(
        "profile",
        path,
        "--leaders",
        _leaders(tmp),
        "--no-report",
        "--out",
        tmp / "o",
        mode,
        f"{option}={text}",
    )
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    if holds:  # a window that holds no event, or all of them
        assert result.exit_code == 0 or errors[0].startswith("error: no events in the window")
        return
    assert result.exit_code == 2, result.output
    assert errors in (
        [f"error: date {text!r} is out of range (years 1 to 9999 in UTC)"],
        [f"error: cannot parse date {text!r} (expected ISO-8601, e.g. 2024-05-01)"],  # +10000
    )
