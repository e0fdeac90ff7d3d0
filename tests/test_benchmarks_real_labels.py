"""benchmarks/real_labels.py: the table of label changes between two runs on the real exports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
_spec = importlib.util.spec_from_file_location("real_labels", BENCHMARKS / "real_labels.py")
real_labels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real_labels)


def _write(folder: Path, name: str, labels: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    pl.DataFrame({"leader_id": list(labels), "profile": list(labels.values())}).write_csv(
        folder / f"{name}.csv"
    )


def test_compare_counts_labels_and_changes(tmp_path: Path):
    before, after = tmp_path / "before", tmp_path / "after"
    twitter = "twitter_pheme_rumoureval2017"
    _write(
        before, f"{twitter}-top20", {"a": "participator", "b": "broadcaster", "c": "broadcaster"}
    )
    _write(
        after, f"{twitter}-top20", {"a": "undetermined", "b": "broadcaster", "d": "participator"}
    )
    _write(after, "mailinglist_everything_list-top20", {"x": "participator"})  # no run before
    lines = real_labels.compare(before, after).splitlines()
    assert lines[2] == (
        f"| {twitter} | top20 | 3 → 3 (2 in both) | 1 / 2 / 0 | 1 / 1 / 1 | "
        "1: participator→undetermined 1 |"
    )
    assert lines[3] == "| mailinglist_everything_list | top20 | no run → 1 | – | 1 / 0 / 0 | – |"
    assert len(lines) == 4  # exports without an "after" file are left out


def test_every_export_with_known_roles_is_run_by_name():
    roles = {role for role, _, _ in real_labels.EXPORTS.values() if role is not None}
    assert roles == set(real_labels.ROLES)
