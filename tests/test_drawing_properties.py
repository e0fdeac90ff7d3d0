"""Drawings are the same bytes whatever the process drew before (Hypothesis); a failed
drawing says why; Ctrl-C is quiet.

Vega numbers the clip paths and gradients of its SVG from counts kept for the
whole process: a chart drawn a second time in one session (a notebook saving the
comparison again, ``write_outputs`` for a second window) came out with other ids
(``gradient_1`` for ``gradient_0``), so other bytes. The oracle is a fresh Python
process drawing the chart first.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tribe_analysis import _drawing, charts, features
from tribe_analysis.cli import main
from tribe_analysis.profiles import profile_leaders
from tribe_analysis.synth import simulate_tribe

ROOT = Path(__file__).resolve().parents[1]

MAKE_TABLE = """
from tribe_analysis import features
from tribe_analysis.profiles import profile_leaders
from tribe_analysis.synth import simulate_tribe

tribe = simulate_tribe(n_leaders=3, days=14, seed=2)
_, table = profile_leaders(features.leader_measures(tribe.events, tribe.leaders, ego=False))
"""

FRESH = (
    MAKE_TABLE
    + """
import sys
from tribe_analysis import charts
charts.save_chart(charts.measure_comparison(table), sys.argv[1])
"""
)


def _clipped(domain: int) -> dict:
    """A small spec with a clipped mark and a gradient legend (both numbered by Vega)."""
    return {
        "data": {"values": [{"a": i, "b": i * i, "c": i} for i in range(4)]},
        "mark": {"type": "point", "clip": True},
        "encoding": {
            "x": {"field": "a", "type": "quantitative", "scale": {"domain": [0, domain]}},
            "y": {"field": "b", "type": "quantitative"},
            "color": {"field": "c", "type": "quantitative"},
        },
    }


@pytest.fixture(scope="module")
def specs() -> list[dict]:
    tribe = simulate_tribe(n_leaders=3, days=14, seed=2)
    _, table = profile_leaders(features.leader_measures(tribe.events, tribe.leaders, ego=False))
    return [
        charts._render_spec(charts.measure_comparison(table)),
        charts._render_spec(charts.profile_map(table)),
        _clipped(2),
        _clipped(3),
    ]


def test_save_chart_draws_the_bytes_of_a_fresh_process(tmp_path: Path) -> None:
    exec(compile(MAKE_TABLE, "make_table", "exec"), scope := {})  # the table the script makes
    chart = charts.measure_comparison(scope["table"])
    here = [charts.save_chart(chart, tmp_path / f"here{i}.svg").read_bytes() for i in range(2)]
    fresh = tmp_path / "fresh.svg"
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(fresh)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"gradient_" in here[0]  # the chart holds a numbered id
    assert here[0] == here[1] == fresh.read_bytes()


@settings(max_examples=12, deadline=None)
@given(order=st.lists(st.integers(0, 3), min_size=2, max_size=5))
def test_a_chart_draws_the_same_whatever_was_drawn_before(specs: list[dict], order: list[int]):
    drawn = [_drawing.svg(specs[i]) for i in order]
    again = {i: _drawing.svg(specs[i]) for i in set(order)}
    for i, svg in zip(order, drawn, strict=True):
        assert svg == again[i]


def test_ctrl_c_stops_a_drawing_worker_without_a_traceback(
    tmp_path: Path, specs: list[dict], capfd: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C at a terminal reaches the drawing processes too (one process group)."""
    drawers = _drawing.Drawers(1)
    worker = drawers._workers[0]
    try:
        assert drawers.submit(specs[2], None, tmp_path / "a", "a").result(timeout=60)
        worker.proc.send_signal(signal.SIGINT)  # waiting for its next job
        assert worker.proc.wait(timeout=60) == -signal.SIGINT
    finally:
        drawers.kill()
    said = capfd.readouterr().err
    assert "Traceback" not in said and "KeyboardInterrupt" not in said


def test_a_drawing_that_fails_says_why_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vl-convert says what failed on its message's second line: the error line shows it.

    It said ``unexpected failure (RuntimeError: drawing failed:)`` (a drawing process) or
    ``(ValueError: Vega-Lite to SVG conversion failed:)`` (drawn here): no reason.
    """
    with _drawing.Drawers(1) as drawers:
        failed = drawers.submit({"mark": "no-such-mark"}, None, tmp_path / "x", "x").exception()
    assert (
        str(failed)
        .splitlines()[0]
        .startswith("drawing failed (ValueError: Vega-Lite to SVG conversion failed: TypeError: ")
    )

    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("Vega-Lite to SVG conversion failed:\nTypeError: no 'filled'\n  at Ye")

    # drawn here (3 charts), never by workers an earlier test started
    monkeypatch.setattr(_drawing, "start", lambda workers=2: None)
    monkeypatch.setattr(_drawing, "started", lambda: False)
    monkeypatch.setattr(_drawing.vl_convert(), "vegalite_to_svg", broken)
    sample = ROOT / "data" / "sample" / "events.csv"
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["profile", str(sample), "--top-leaders", "1", "--out", str(out)]
    )
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: unexpected failure (ValueError: Vega-Lite to SVG conversion failed: "
        "TypeError: no 'filled'); TRIBE_ANALYSIS_DEBUG=1 shows the traceback"
    )
    assert not out.exists()
