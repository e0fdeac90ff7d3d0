"""Options and option combinations of the command line, generated and hand-picked.

Every invocation ends in exit 0 with its documented output, or exit 2 with one
``error:`` line (or click's usage error) that names the option or path: never an
'unexpected failure' (exit 1) or a traceback. A failed run leaves ``--out`` as it
was and nothing (staging folder, lock) beside it. Runs are in-process
(``CliRunner``) on a small simulated tribe, with ``--no-report``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tribe_analysis.cli import main
from tribe_analysis.events import write_events
from tribe_analysis.synth import simulate_tribe

HUGE = st.integers(2**63, 2**80)
"""Numbers beyond 64 bits: what NumPy and polars take no more."""


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def errors_of(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_handled(result: Result, *, one: bool = True) -> None:
    """Exit 0, or exit 2 with one ``error:`` line or a usage error; never a crash.

    ``one=False``: input with several problems, each one line (``FILE:LINE: reason``).
    """
    assert result.exit_code in (0, 2), result.output
    assert "unexpected failure" not in result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code == 2 and "Usage:" not in result.stderr:
        assert len(errors_of(result)) == 1 or (not one and errors_of(result)), result.stderr


def left_beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated tribe as canonical CSV (about 1,800 events, leaders L001-L005)."""
    tribe = simulate_tribe(n_leaders=5, days=10, seed=1)
    folder = tmp_path_factory.mktemp("tribe")
    (folder / "leaders.txt").write_text("".join(f"{leader}\n" for leader in tribe.leaders))
    return write_events(tribe.events, folder / "events.csv")


@settings(max_examples=6, deadline=None)
@given(top=st.one_of(st.integers(1, 30), HUGE), out_of_core=st.booleans())
def test_top_leaders_of_any_size(
    events_csv: Path, tmp_path_factory: pytest.TempPathFactory, top: int, out_of_core: bool
) -> None:
    """More leaders than accounts is the accounts that qualify, with a note (polars: 64 bits)."""
    out = tmp_path_factory.mktemp("top") / "out"
    how = "--out-of-core" if out_of_core else "--in-memory"
    result = run("profile", events_csv, "--top-leaders", top, "--out", out, "--no-report", how)
    assert result.exit_code == 0, result.output
    assert (out / "profiles.csv").is_file()


SIZES = {
    "--leaders": st.one_of(st.integers(1, 3), HUGE),
    "--members": st.one_of(st.none(), st.integers(2, 60), HUGE),
    "--days": st.one_of(st.integers(1, 3), HUGE),
    "--scale": st.one_of(
        st.floats(0.05, 2), st.sampled_from(["nan", "inf", "-inf", "1e300", "0", "-1"])
    ),
}


@settings(max_examples=25, deadline=None)
@given(sizes=st.fixed_dictionaries(SIZES))
def test_simulate_sizes(tmp_path_factory: pytest.TempPathFactory, sizes: dict) -> None:
    """Sizes NumPy cannot draw, and NaN or infinite scales, are one error line naming them."""
    out = tmp_path_factory.mktemp("sim") / "out"
    args = [x for option, value in sizes.items() if value is not None for x in (option, value)]
    result = run("simulate", "--out", out, *args)
    assert_handled(result)
    if result.exit_code == 0:
        assert (out / "events.parquet").is_file()
    else:
        assert not out.exists() and left_beside(out) == []
    errors = errors_of(result)
    if errors:  # sizes it cannot draw, or a tribe too small for any event
        assert errors[0].startswith(
            ("error: cannot simulate --leaders", "error: simulated no events with --leaders")
        )


@pytest.mark.parametrize(
    ("option", "value"),
    [("--leaders", 2**64), ("--days", 2**64), ("--leaders", 10**20)],
)
def test_demo_sizes_beyond_reach(tmp_path: Path, option: str, value: int) -> None:
    out = tmp_path / "demo"
    result = run("demo", "--out", out, "--no-report", option, value)
    assert_handled(result)
    assert result.exit_code == 2
    assert errors_of(result)[0].startswith("error: cannot simulate")
    assert f"{option} {value}" in errors_of(result)[0]
    assert not out.exists() and left_beside(out) == []


@pytest.mark.parametrize("scale", ["nan", "inf", "-nan"])
def test_a_scale_that_is_no_number_is_a_usage_error(tmp_path: Path, scale: str) -> None:
    result = run("simulate", "--out", tmp_path / "sim", "--scale", scale)
    assert result.exit_code == 2
    assert "Invalid value for '--scale'" in result.stderr
    assert not (tmp_path / "sim").exists()


@pytest.fixture(scope="module")
def bad_csv(events_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tribe's events and one record ``--on-error skip`` quarantines (a 'like')."""
    path = tmp_path_factory.mktemp("bad") / "events.csv"
    bad = "zz,2024-01-02T00:00:00Z,m00001,like,e000000001,,,,,synthetic\n"
    path.write_text(events_csv.read_text() + bad)
    return path


@settings(max_examples=8, deadline=None)
@given(named=st.sampled_from(["input", "leaders", "key", "input folder"]), pseudo=st.booleans())
def test_quarantine_raw_never_overwrites_what_the_run_reads(
    bad_csv: Path, tmp_path_factory: pytest.TempPathFactory, named: str, pseudo: bool
) -> None:
    """--quarantine-raw naming an input, the leaders or the key file would destroy it."""
    folder = tmp_path_factory.mktemp("reads")
    events, leaders, key = folder / "events.csv", folder / "leaders.txt", folder / "key"
    events.write_bytes(bad_csv.read_bytes())
    leaders.write_text("L001\nL002\n")
    key.write_text("a key that is long enough\n")
    target = {"input": events, "leaders": leaders, "key": key, "input folder": folder / "q"}
    inputs = folder if named == "input folder" else events
    before = {p: p.read_bytes() for p in (events, leaders, key)}
    pseudonymize = ["--pseudonymize", "--key-file", key] if pseudo or named == "key" else []
    result = run("profile", inputs, "--leaders", leaders, "--on-error", "skip", "--no-report",
                 "--quarantine-raw", target[named], "--out", folder.parent / f"{folder.name}-out",
                 *pseudonymize)  # fmt: skip
    assert_handled(result)
    assert result.exit_code == 2
    assert errors_of(result)[0].startswith(f"error: {target[named]}: --quarantine-raw must not be")
    assert {p: p.read_bytes() for p in before} == before
    assert not (folder / "q").exists()


def test_validate_quarantine_never_overwrites_an_input(bad_csv: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_bytes(bad_csv.read_bytes())
    result = run("validate", events, "--on-error", "skip", "--quarantine", events)
    assert_handled(result)
    assert errors_of(result) == [
        f"error: {events}: --quarantine must not be a file the run reads, nor inside one "
        f"({events}): name another file"
    ]
    assert events.read_bytes() == bad_csv.read_bytes()


KNOWN = ["L001", "L002", "L003", "  L004  # with a name", "L005\t# tab then comment"]
WRONG = ["nobody", "name#1234", "@L001", "l002", "[deleted]", "deleted:bob", "L001 L002"]
OTHER = ["", "# a comment", "   # indented comment", "\t"]


@settings(max_examples=10, deadline=None)
@given(
    lines=st.lists(st.sampled_from(KNOWN + WRONG + OTHER), max_size=8),
    bom=st.booleans(),
    crlf=st.booleans(),
)
@example(lines=["L001", "[deleted]"], bom=False, crlf=False)
def test_leaders_files(
    events_csv: Path,
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    bom: bool,
    crlf: bool,
) -> None:
    """Known ids profile; each wrong line is one error line naming it (a pseudo-account too)."""
    folder = tmp_path_factory.mktemp("leaders")
    path = folder / "leaders.txt"
    text = ("\r\n" if crlf else "\n").join(lines)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    result = run("profile", events_csv, "--leaders", path, "--out", folder / "out", "--no-report")
    assert_handled(result, one=False)
    ids = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    wrong = [n for n, line in enumerate(lines, start=1) if line in WRONG]
    errors = errors_of(result)
    if not ids:
        assert errors == [f"error: {path}: no leader ids in the file"]
    elif wrong:
        where = sorted(e.split(": ", 2)[1] for e in errors)  # unknown ids, then pseudo-accounts
        assert where == sorted(f"{path}:{n}" for n in wrong)
    else:
        assert result.exit_code == 0, result.output
        profiled = (folder / "out" / "profiles.csv").read_text().splitlines()[1:]
        assert sorted(row.split(",")[0] for row in profiled) == sorted(set(ids))


def test_demo_leaders_txt_names_only_leaders_with_events(tmp_path: Path) -> None:
    """The simulation's note says leaders.txt leaves out the silent leaders: the run's does too."""
    out = tmp_path / "demo"
    result = run("demo", "--out", out, "--no-report", "--leaders", 3, "--days", 1, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert "for 1 of the leaders (L003): truth.csv lists them, leaders.txt does not" in (
        result.stderr
    )
    listed = [line for line in (out / "leaders.txt").read_text().splitlines() if line[:1] != "#"]
    assert listed == ["L001", "L002"]
    again = run("profile", out / "events.csv", "--leaders", out / "leaders.txt",
                "--out", tmp_path / "again", "--no-report")  # fmt: skip
    assert again.exit_code == 0, again.output


def test_demo_without_a_leader_with_events_is_one_error_line(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run("demo", "--out", out, "--no-report", "--leaders", 1, "--days", 1, "--seed", 0)
    assert_handled(result)
    assert errors_of(result) == [
        "error: no simulated leader has an event of their own in 1 day(s): "
        "give more --days or --leaders"
    ]
    assert not out.exists() and left_beside(out) == []


def test_validate_quarantine_needs_skip(bad_csv: Path, tmp_path: Path) -> None:
    """--quarantine without --on-error skip is a usage error, as profile's --quarantine-raw."""
    result = run("validate", bad_csv, "--quarantine", tmp_path / "q.jsonl")
    assert result.exit_code == 2
    assert "--quarantine needs --on-error skip" in result.stderr
    assert not (tmp_path / "q.jsonl").exists()
