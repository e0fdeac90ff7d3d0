"""benchmarks/turns.py times the version it is given, whatever folder it is started from."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tribe_analysis import pipeline

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def turns():
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("turns", BENCHMARKS / "turns.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def other_checkout(tmp_path) -> Path:
    """A folder with a package of the same name that is not this checkout's."""
    package = tmp_path / "other" / "tribe_analysis"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    return tmp_path / "other"


def test_a_child_started_in_a_checkout_imports_that_checkout(turns, other_checkout):
    """The trap: from this checkout's folder, PYTHONPATH on another checkout is not obeyed."""
    assert turns.which_package(other_checkout, ROOT) == ROOT / "tribe_analysis" / "__init__.py"


def test_turns_start_children_where_they_import_their_own_version(turns, other_checkout, tmp_path):
    empty = tmp_path / "cwd"
    empty.mkdir()
    found = turns.which_package(other_checkout, empty)
    assert found == (other_checkout / "tribe_analysis" / "__init__.py").resolve()


def test_two_versions_timed_in_turns_with_their_outputs_compared(turns, capsys):
    sample = ROOT / "data" / "sample"
    turns.main(
        [str(ROOT), str(ROOT), "--turns", "1", "--", "profile", str(sample / "events.csv"),
         "--leaders", str(sample / "leaders.txt"), "--no-report"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "| before | " in out and "| after | " in out
    written = len(pipeline.OUTPUTS)  # without a report: the tables, graph files, manifest
    assert f"over 1 turns; outputs: all {written} files byte-identical" in out
