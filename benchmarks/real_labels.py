"""Labels on the five real exports: one run per export and leader choice, and the changes.

``tests/test_real_roles.py`` holds the roles of named accounts; this script shows every
label, so that a change of the measures or the rule can be read as label changes on
real data (``docs/validation.md``, *Label changes on the five real exports*).

Run once per checkout to measure (``--command``: its ``tribe-analysis``, after ``make
.venv/.installed`` there), then compare two runs::

    .venv/bin/python benchmarks/real_labels.py --out /tmp/after
    .venv/bin/python benchmarks/real_labels.py --out /tmp/before \\
        --command /path/to/old/checkout/.venv/bin/tribe-analysis
    .venv/bin/python benchmarks/real_labels.py --compare /tmp/before /tmp/after

Each run writes ``<export>-<named|top20>.csv`` (leader, label, index, interval, parts);
the named runs profile the accounts with known roles of ``tests/test_real_roles.py``
(none on Reddit). Reads ``../shared/data/real`` (about 1 min).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"

sys.path.insert(0, str(ROOT))

from tests.test_real_roles import ROLES  # noqa: E402

EXPORTS: dict[str, tuple[str | None, list[str], list[str]]] = {
    folder: (role, files, extra) for role, (folder, files, extra, _) in ROLES.items()
} | {"reddit_cmv_branches_2017": (None, ["branches"], [])}
"""Export folder -> (its name in ``ROLES``, or None without known roles; inputs; options)."""
COLUMNS = ["leader_id", "profile", "participation_index", "index_low", "index_high"]


def _profile(
    command: str,
    folder: str,
    files: list[str],
    extra: list[str],
    leaders: list[str] | None,
    work: Path,
) -> pl.DataFrame:
    work.mkdir(parents=True)
    out = work / "out"
    args = [
        command,
        "profile",
        *(str(REAL / folder / f) for f in files),
        "--no-report",
        "--out",
        str(out),
        *extra,
    ]
    if leaders is None:
        args += ["--top-leaders", "20"]
    else:
        (work / "leaders.txt").write_text("".join(f"{x}\n" for x in leaders))
        args += ["--leaders", str(work / "leaders.txt")]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{folder}: {result.stderr}")
    table = pl.read_csv(out / "profiles.csv", schema_overrides={"leader_id": pl.String})
    parts = ["parts_observed"] if "parts_observed" in table.columns else []
    return table.select(*(c for c in COLUMNS if c in table.columns), *parts)


def run(out: Path, command: str) -> None:
    """Profile every export twice (named accounts, top 20) with ``command`` (a
    ``tribe-analysis`` executable) and write the tables to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for folder, (role, files, extra) in EXPORTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            top = _profile(command, folder, files, extra, None, Path(tmp) / "top")
            top.write_csv(out / f"{folder}-top20.csv")
            if role is not None:
                roles = list(ROLES[role][3])
                named = _profile(command, folder, files, extra, roles, Path(tmp) / "named")
                named.write_csv(out / f"{folder}-named.csv")
        print(f"{folder}: done", file=sys.stderr)


def _changes(before: pl.DataFrame, after: pl.DataFrame) -> str:
    both = before.join(after, on="leader_id", suffix="_after")
    moved = both.filter(pl.col("profile") != pl.col("profile_after"))
    counts = (
        moved.group_by("profile", "profile_after").len().sort("len", "profile", descending=True)
    )
    words = ", ".join(f"{a}→{b} {n}" for a, b, n in counts.iter_rows())
    return f"{moved.height}" + (f": {words}" if words else "")


def compare(before_dir: Path, after_dir: Path) -> str:
    """Markdown table of label counts and changes between two runs of :func:`run`."""
    lines = [
        "| export | run | leaders before → after | before: participator / broadcaster / "
        "undetermined | after: participator / broadcaster / undetermined | same leader, "
        "label changed |",
        "|---|---|---|---|---|---|",
    ]

    def counts(t: pl.DataFrame) -> str:
        return " / ".join(
            str((t["profile"] == p).sum()) for p in ("participator", "broadcaster", "undetermined")
        )

    for folder in EXPORTS:
        for kind in ("top20", "named"):
            if not (after_dir / f"{folder}-{kind}.csv").exists():
                continue
            after = pl.read_csv(
                after_dir / f"{folder}-{kind}.csv", schema_overrides={"leader_id": pl.String}
            )
            if not (before_dir / f"{folder}-{kind}.csv").exists():
                lines.append(
                    f"| {folder} | {kind} | no run → {after.height} | – | {counts(after)} | – |"
                )
                continue
            before = pl.read_csv(
                before_dir / f"{folder}-{kind}.csv", schema_overrides={"leader_id": pl.String}
            )
            common = before.join(after, on="leader_id", how="semi").height
            lines.append(
                f"| {folder} | {kind} | {before.height} → {after.height} ({common} in both) | "
                f"{counts(before)} | {counts(after)} | {_changes(before, after)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write this checkout's labels here")
    parser.add_argument(
        "--command",
        default=str(Path(sys.executable).with_name("tribe-analysis")),
        help="the tribe-analysis executable to measure (default: this environment's)",
    )
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.out:
        run(args.out, args.command)
    if args.compare:
        print(compare(*args.compare))


if __name__ == "__main__":
    main()
