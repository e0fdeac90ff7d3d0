"""Time the whole ``tribe-analysis profile --no-report`` command beside two baselines.

Run: ``.venv/bin/python benchmarks/bench_profile.py --sizes 1M 5M [--baselines pandas,polars]
[--demo] [--out-of-core] [--force-pandas] [--repeat N] [--fresh]`` (prints a Markdown table).

Every case is a fresh process, started the way users start it, so start-up
(imports) is included:

- ``tribe-analysis``: ``tribe-analysis profile INPUT --no-report --out DIR``
  (validation, leader choice, every measure, profiles, ``features.parquet``,
  ``profiles.csv``, ``edges.parquet``, the tribe subgraph as GraphML and GEXF;
  out of core by itself when the input would take more than half of the memory);
- with ``--out-of-core``, the same command with ``--out-of-core`` too (events read a
  file at a time and spilled to Parquet beside the output, every stage scanning them);
- ``pandas``: ``benchmarks/naive_pandas.py`` (pandas + networkx: leaders, five
  measures, the whole interaction graph written with ``networkx.write_graphml``);
- ``polars``: ``benchmarks/minimal_polars.py`` (the yardstick: the five measures
  only, one lazy polars query, no validation, no graph).

Inputs are tribes of the independent simulator (``common.FORUM_SIZES``), cached
under benchmarks/.cache; 20M and 100M are folders of 10M-event chunks. The
input is read once before timing, so every case finds it in the page cache.
Wall time is measured around the child; peak RSS is the child's ``ru_maxrss``
from ``os.wait4`` (the largest single process of its tree, not a sum). The
pandas baseline is skipped above 5M events unless ``--force-pandas``.

Rows are merged into ``benchmarks/results/profile.json`` (a size run again
replaces all that size's rows; ``--fresh`` starts the file again) and drawn
by ``benchmarks/plot_profile.py``. After each size the baselines' leaders,
posts and the numerators and denominators of their three rates are compared
with ``features.parquet`` of ``tribe-analysis`` (audience is not in it; the
leader choice depends on it). tribe-analysis also requires enough evidence to
label a leader, so its leaders can differ from the plain top 20 by audience.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import FORUM_SIZES, forum_input, machine  # noqa: E402

RESULTS = HERE / "results" / "profile.json"
BIN = Path(sys.executable).parent
OURS = "tribe-analysis"
OUT_OF_CORE = "tribe-analysis --out-of-core"
LABELS = {
    OURS: "tribe-analysis profile --no-report",
    OUT_OF_CORE: "tribe-analysis profile --no-report --out-of-core",
    "pandas": "pandas + networkx (naive_pandas.py)",
    "polars": "minimal polars (minimal_polars.py)",
    "demo": "tribe-analysis demo",
    "demo --no-report": "tribe-analysis demo --no-report",
}
PANDAS_MAX_EVENTS = 5_000_000
"""Nominal size above which the pandas baseline runs only with ``--force-pandas``."""
COMPARED = [
    "posts",
    *(f"{rate}_{part}" for rate in ("comment_share", "reply_rate", "promotion_share")
      for part in ("num", "den")),
]  # fmt: skip


def nominal(size: str) -> float:
    """Events a size label stands for: ``"200k"`` -> 2e5, ``"5M"`` -> 5e6."""
    scale = {"k": 1e3, "M": 1e6}[size[-1]]
    return float(size[:-1]) * scale


def command(impl: str, inputs: list[Path], out: Path) -> list[str]:
    """The command line of one case."""
    if impl in (OURS, OUT_OF_CORE):
        return [
            str(BIN / "tribe-analysis"),
            "profile",
            *map(str, inputs),
            "--no-report",
            "--out",
            str(out),
            *(["--out-of-core"] if impl == OUT_OF_CORE else []),
        ]
    if impl in ("pandas", "polars"):
        script = HERE / ("naive_pandas.py" if impl == "pandas" else "minimal_polars.py")
        return [sys.executable, str(script), *map(str, inputs), "--out", str(out)]
    if impl.startswith("demo"):
        return [str(BIN / "tribe-analysis"), "demo", "--out", str(out), *impl.split()[1:]]
    raise ValueError(f"unknown implementation {impl!r}")


def run(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` in a fresh process: wall seconds, peak RSS (MB) and exit code.

    Output goes to ``log``. The rusage of ``os.wait4`` is this child's own (and
    its reaped children's), whatever ran before in this session.
    """
    load = os.getloadavg()[0]
    seconds, usage, exit_code = run_child(cmd, log)
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "exit_code": exit_code,
        "load_avg_1m": round(load, 2),
    }


def run_child(
    cmd: list[str], log: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, os.struct_rusage, int]:
    """Wall seconds, ``os.wait4``'s rusage (the child's own) and exit code of ``cmd``; output to ``log``."""
    with log.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
    return seconds, usage, proc.returncode


def count_events(path: Path) -> int:
    """Rows of a Parquet file or folder of Parquet files (from the metadata)."""
    import polars as pl

    return pl.scan_parquet(path).select(pl.len()).collect().item()


def warm(path: Path) -> None:
    """Read every byte of the input once, so that no case pays for a cold disk."""
    for file in sorted(path.glob("*.parquet")) if path.is_dir() else [path]:
        with file.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def same_files(ours: Path, theirs: Path) -> str:
    """Whether two ``profile`` outputs hold the same bytes in every file (the manifest included)."""
    names = sorted(p.name for p in ours.iterdir() if p.is_file())
    if names != sorted(p.name for p in theirs.iterdir() if p.is_file()):
        return "different files written"
    differ = [n for n in names if (ours / n).read_bytes() != (theirs / n).read_bytes()]
    return f"{', '.join(differ)} differ" if differ else f"all {len(names)} files byte-identical"


def agreement(ours: Path, theirs: Path) -> str:
    """Whether a baseline chose our leaders and got our posts and rates' numerators, denominators."""
    import polars as pl

    if not (ours / "features.parquet").exists() or not (theirs / "measures.csv").exists():
        return "not compared (an output is missing)"
    a = pl.read_parquet(ours / "features.parquet").select("leader_id", *COMPARED)
    b = pl.read_csv(theirs / "measures.csv", schema_overrides={"leader_id": pl.String})
    b = b.select("leader_id", *COMPARED)
    shared = a.join(b, on="leader_id", suffix="_b")
    same = sum(
        shared.get_column(c).cast(pl.Int64).equals(shared.get_column(f"{c}_b").cast(pl.Int64))
        for c in COMPARED
    )
    leaders = (
        "same leaders"
        if shared.height == a.height == b.height
        else (f"{shared.height} of {a.height} leaders shared")
    )
    values = "identical" if same == len(COMPARED) else f"{len(COMPARED) - same} columns differ"
    return f"{leaders}; posts and the 3 rates' numerators and denominators {values}"


def run_size(size: str, impls: list[str], repeat: int, tmp: Path) -> list[dict]:
    """Every implementation on the ``size`` input; rows for the JSON file."""
    from tribe_analysis.spill import needs_spill

    path = forum_input(size)
    events = count_events(path)
    warm(path)
    rows, outs = [], {}
    if needs_spill(events):  # the default command goes out of core by itself: one run is enough
        impls = [impl for impl in impls if impl != OUT_OF_CORE]
    for impl in impls:
        runs = []
        for i in range(repeat):
            out = tmp / f"{size}-{impl}-{i}"
            cmd = command(impl, [path], out)
            print(f"{size} {impl} ({i + 1}/{repeat}) ...", file=sys.stderr, flush=True)
            runs.append(run(cmd, tmp / f"{size}-{impl}-{i}.log"))
            if runs[-1]["exit_code"] != 0:
                print((tmp / f"{size}-{impl}-{i}.log").read_text()[-2000:], file=sys.stderr)
                break
        outs[impl] = tmp / f"{size}-{impl}-0"
        best = min(runs, key=lambda r: (r["exit_code"] != 0, r["seconds"]))
        rows.append(
            {
                "size": size,
                "events": events,
                "implementation": impl,
                **best,
                "runs_s": [r["seconds"] for r in runs],
                "command": shlex.join(command(impl, [path], Path("OUT"))),
            }
        )
    for row in rows:
        impl = row["implementation"]
        if impl == OUT_OF_CORE and OURS in outs:
            row["agreement"] = same_files(outs[OURS], outs[impl])
        elif impl != OURS and OURS in outs:
            row["agreement"] = agreement(outs[OURS], outs[impl])
    return rows


def run_demo(tmp: Path, repeat: int = 1) -> list[dict]:
    """``tribe-analysis demo`` with and without the report, the two in turn ``repeat`` times.

    Taking turns spreads the machine's changing speed over both; each row keeps
    its fastest run and lists them all (``runs_s``).
    """
    impls = ("demo", "demo --no-report")
    runs: dict[str, list[dict]] = {impl: [] for impl in impls}
    for i in range(repeat):
        for impl in impls:
            out = tmp / f"{impl.replace(' ', '')}-{i}"
            print(f"{impl} ({i + 1}/{repeat}) ...", file=sys.stderr, flush=True)
            runs[impl].append(run(command(impl, [], out), tmp / f"{out.name}.log"))
    rows = []
    for impl in impls:
        out = tmp / f"{impl.replace(' ', '')}-0"
        events = count_events(out / "events.parquet") if (out / "events.parquet").exists() else 0
        best = min(runs[impl], key=lambda r: (r["exit_code"] != 0, r["seconds"]))
        rows.append(
            {
                "size": "demo",
                "events": events,
                "implementation": impl,
                **best,
                "runs_s": [r["seconds"] for r in runs[impl]],
                "command": shlex.join(command(impl, [], Path("OUT"))),
            }
        )
    return rows


def demo_ratio(rows: list[dict]) -> str | None:
    """The line that compares ``demo`` with ``demo --no-report`` (fastest and median runs)."""
    by = {r["implementation"]: r for r in rows if r["size"] == "demo"}
    if set(by) != {"demo", "demo --no-report"}:
        return None
    report, bare = by["demo"], by["demo --no-report"]
    fastest = report["seconds"] / bare["seconds"]
    median = statistics.median(report["runs_s"]) / statistics.median(bare["runs_s"])
    pairs = [a / b for a, b in zip(report["runs_s"], bare["runs_s"], strict=True)]
    return (
        f"- demo with the report ÷ without: {fastest:.2f}× (fastest runs), {median:.2f}× "
        f"(medians); run by run: {', '.join(f'{r:.2f}×' for r in pairs)}"
    )


def markdown(rows: list[dict]) -> str:
    """The table: one line per case, ratios to ``tribe-analysis`` on the same input."""
    ours = {r["size"]: r for r in rows if r["implementation"] == OURS and r["exit_code"] == 0}
    lines = [
        "| size | events | implementation | wall (s) | peak RSS (MB) | time ÷ ours | RSS ÷ ours |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = ours.get(r["size"])
        failed = r["exit_code"] != 0
        time_ratio = rss_ratio = "–"
        if base and not failed and r["implementation"] != OURS:
            time_ratio = f"{r['seconds'] / base['seconds']:.2f}×"
            rss_ratio = f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}×"
        seconds = (
            f"failed (exit {r['exit_code']}) after {r['seconds']:.1f}"
            if failed
            else f"{r['seconds']:.1f}"
        )
        lines.append(
            f"| {r['size']} | {r['events']:,} | {LABELS[r['implementation']]} | {seconds} "
            f"| {r['peak_rss_mb']:,} | {time_ratio} | {rss_ratio} |"
        )
    return "\n".join(lines)


def save(rows: list[dict], path: Path, fresh: bool) -> None:
    """Merge ``rows`` into the JSON list at ``path``: the rows of a size run again are replaced.

    So the rows of one size always come from one session (ratios compare like with like).
    """
    old = [] if fresh or not path.exists() else json.loads(path.read_text())
    sizes = {r["size"] for r in rows}
    kept = [r for r in old if r["size"] not in sizes]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept + rows, indent=1) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="*", default=["1M"], choices=list(FORUM_SIZES), help="none: --demo only"
    )
    parser.add_argument(
        "--baselines",
        default="pandas,polars",
        help="comma-separated: pandas, polars (empty string: none)",
    )
    parser.add_argument(
        "--force-pandas",
        action="store_true",
        help=f"run the pandas baseline above {PANDAS_MAX_EVENTS / 1e6:.0f}M events too (slow)",
    )
    parser.add_argument("--demo", action="store_true", help="also time tribe-analysis demo")
    parser.add_argument(
        "--out-of-core",
        action="store_true",
        help="also time tribe-analysis profile --out-of-core (by default it goes out of core "
        "only when the input would take more than half of the memory)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest is kept")
    parser.add_argument("--fresh", action="store_true", help=f"overwrite {RESULTS.name}")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON file of results")
    args = parser.parse_args(argv)
    args.baselines = [b for b in args.baselines.split(",") if b]
    unknown = set(args.baselines) - {"pandas", "polars"}
    if unknown:
        parser.error(f"unknown baselines: {', '.join(sorted(unknown))}")
    return args


def compile_package() -> None:
    """Compile tribe_analysis's modules to bytecode once, as its first start leaves them.

    Python caches compiled modules (``__pycache__``) at their first import, unless
    ``PYTHONDONTWRITEBYTECODE`` is set (as in some sandboxes and containers); the
    commands are timed as users run them after their first start, not compiling
    every module from source each time (0.1-0.3 s). Installed libraries (pandas,
    scikit-learn) come compiled by pip.
    """
    import tribe_analysis

    package = Path(tribe_analysis.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def main(argv: list[str] | None = None) -> None:
    """Run the cases, print the Markdown report, save the JSON rows."""
    args = parse_args(argv)
    compile_package()
    session = {
        "session": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    load = os.getloadavg()[0]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench_profile_") as tmp:
        for size in sorted(args.sizes, key=nominal):
            impls = (
                [OURS]
                + ([OUT_OF_CORE] if args.out_of_core else [])
                + [
                    b
                    for b in args.baselines
                    if b != "pandas" or nominal(size) <= PANDAS_MAX_EVENTS or args.force_pandas
                ]
            )
            rows += run_size(size, impls, args.repeat, Path(tmp))
        if args.demo:
            rows += run_demo(Path(tmp), args.repeat)
    rows = [{**row, **session} for row in rows]
    save(rows, args.results, args.fresh)

    cmd = shlex.join([".venv/bin/python", "benchmarks/bench_profile.py", *sys.argv[1:]])
    print("## `tribe-analysis profile` beside a naive pandas script and a minimal polars script\n")
    print(f"machine: {session['machine']}  ")
    print(f"command: `{cmd}`  ")
    print(f"1-minute load average at the start: {load:.1f} (other jobs add noise)\n")
    print(markdown(rows))
    notes = [
        f"- {LABELS[r['implementation']]} at {r['size']}: {r['agreement']}"
        for r in rows
        if "agreement" in r
    ]
    ratio = demo_ratio(rows)
    if ratio:
        notes.append(ratio)
    skipped = [
        s for s in args.sizes if nominal(s) > PANDAS_MAX_EVENTS and "pandas" in args.baselines
    ]
    if skipped and not args.force_pandas:
        notes.append(
            f"- pandas baseline not run at {', '.join(skipped)} (`--force-pandas` runs it)"
        )
    if notes:
        print("\n" + "\n".join(notes))
    print(f"\nrows saved to {args.results}", file=sys.stderr)


if __name__ == "__main__":
    main()
