"""Property tests of ``tribe-analysis simulate`` and ``demo``: sizes and what is written.

Oracles: :func:`tribe_analysis.synth.simulate_tribe` called in memory with the same
options, the package's own readers (:func:`tribe_analysis.io.read`: canonical
Parquet and CSV, the Mastodon reader) and the stdlib ``csv`` module for truth.csv.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tribe_analysis.cli import main

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
