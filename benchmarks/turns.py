"""Time two versions of tribe-analysis taking turns on one command: before and after a change.

Run: ``.venv/bin/python benchmarks/turns.py BEFORE AFTER [--turns 8] -- profile INPUT --no-report``

``BEFORE`` and ``AFTER`` are git revisions of this repository (each checked out
into a temporary worktree, removed afterwards) or folders holding a checkout.
Each turn runs ``python -m tribe_analysis.cli ARGS --out DIR`` once per version,
the two in turn (which one goes first alternates), so that the slow minutes of a
shared machine fall on both. Paths in ``ARGS`` are made absolute.

Every child starts in an empty temporary folder with ``PYTHONPATH`` on its
version's checkout: ``python -m`` puts the working folder first on ``sys.path``,
so a child started inside a checkout imports that checkout's code whatever
``PYTHONPATH`` says (a trap that voided earlier comparisons: docs/performance.md).
Before timing, each version is asked which package it imports, and the run stops
when it is not its own. Both are compiled to bytecode first, as a first start
leaves them.

Prints, per version, the wall time (median and range), the CPU time (user +
system, median) and the peak RSS of the process, the median of the per-turn ratios
after ÷ before, and whether the two wrote the same bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_profile import run_child, same_files  # noqa: E402


def which_package(checkout: Path, cwd: Path) -> Path:
    """The ``tribe_analysis/__init__.py`` a child started as the turns start it imports."""
    done = subprocess.run(
        [sys.executable, "-c", "import tribe_analysis; print(tribe_analysis.__file__)"],
        cwd=cwd,
        env=_env(checkout),
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip()).resolve()


def _env(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout)}


@contextlib.contextmanager
def checkout(version: str, into: Path) -> Iterator[Path]:
    """A folder holding ``version``: the folder itself, or a temporary worktree of a revision."""
    folder = Path(version)
    if (folder / "tribe_analysis" / "__init__.py").is_file():
        yield folder.resolve()
        return
    into.mkdir(parents=True)
    tree = into / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), version],
        check=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
        )


def time_once(checkout: Path, args: Sequence[str], out: Path, cwd: Path) -> dict[str, float]:
    """One run of ``python -m tribe_analysis.cli ARGS --out OUT``: wall, CPU, peak RSS."""
    cmd = [sys.executable, "-m", "tribe_analysis.cli", *args, "--out", str(out)]
    wall, usage, exit_code = run_child(cmd, cwd / "log.txt", cwd=cwd, env=_env(checkout))
    if exit_code != 0:
        raise SystemExit(f"error: {checkout}: the command failed:\n{(cwd / 'log.txt').read_text()}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
    }


def absolute(args: Sequence[str]) -> list[str]:
    """``args`` with every argument naming an existing path made absolute."""
    return [
        str(Path(a).resolve()) if not a.startswith("-") and Path(a).exists() else a for a in args
    ]


def take_turns(
    before: Path, after: Path, args: Sequence[str], turns: int, tmp: Path
) -> dict[str, list[dict[str, float]]]:
    """Time both versions ``turns`` times each, alternating which goes first."""
    cwd = tmp / "cwd"
    cwd.mkdir()
    for label, folder in (("before", before), ("after", after)):
        found = which_package(folder, cwd)
        if not found.is_relative_to(folder.resolve()):
            raise SystemExit(f"error: {label} ({folder}) imports {found}, not its own package")
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(folder / "tribe_analysis")], check=True
        )
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for turn in range(turns):
        order = [("before", before), ("after", after)]
        for label, folder in order if turn % 2 == 0 else order[::-1]:
            runs[label].append(time_once(folder, args, tmp / label, cwd))
    return runs


def summary(runs: dict[str, list[dict[str, float]]], same: str) -> str:
    """Markdown lines: each version's times, and the median ratio after ÷ before."""
    lines = [
        "| version | wall, median (range) | CPU, median | peak RSS (MB) |",
        "|---|---|---|---|",
    ]
    for label, rows in runs.items():
        wall = [r["wall"] for r in rows]
        rss = [r["rss_mb"] for r in rows]
        lines.append(
            f"| {label} | {statistics.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f}) "
            f"| {statistics.median(r['cpu'] for r in rows):.2f} s | {min(rss):,.0f}-{max(rss):,.0f} |"
        )
    ratios = [a["wall"] / b["wall"] for a, b in zip(runs["after"], runs["before"], strict=True)]
    lines += [
        "",
        f"median ratio after ÷ before (per turn): {statistics.median(ratios):.2f} "
        f"over {len(ratios)} turns; outputs: {same}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse ``BEFORE AFTER [--turns N] -- ARGS``, take the turns, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="git revision or folder of a checkout")
    parser.add_argument("after", help="git revision or folder of a checkout")
    parser.add_argument("--turns", type=int, default=8, help="runs of each version")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    ns = parser.parse_args(argv[:split])
    args = absolute(argv[split + 1 :])
    if not args or ns.turns < 1:
        parser.error("give at least one turn and, after --, the command's arguments")
    with tempfile.TemporaryDirectory(prefix="turns-") as name:
        tmp = Path(name)
        with checkout(ns.before, tmp / "b") as before, checkout(ns.after, tmp / "a") as after:
            runs = take_turns(before, after, args, ns.turns, tmp)
        print(summary(runs, same_files(tmp / "before", tmp / "after")))


if __name__ == "__main__":
    main()
