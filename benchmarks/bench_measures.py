"""Time and peak memory of ``leader_measures`` beside a pandas + networkx baseline.

Run: ``.venv/bin/python benchmarks/bench_measures.py`` (prints a Markdown report).

For each size (about 1M and 10M simulated events, cached under benchmarks/.cache),
in fresh processes:

- tribe-analysis: ``pl.read_parquet`` -> ``graph.edge_list`` ->
  ``features.leader_measures(events, leaders)`` for the simulated leaders;
- the baseline (``benchmarks/baseline_pandas.py``): ``pd.read_parquet`` ->
  ``pandas_measures(events, leaders)``, at 1M only unless ``--baseline-10m``.

Both write their table to a temporary Parquet file; the report then gives, for
each measure, the largest absolute difference over leaders (at 1M, and at 10M
with ``--baseline-10m``) and the number of leaders where exactly one of the two
is null.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import polars as pl  # noqa: E402
from common import SIZES, events_file, machine, run_case  # noqa: E402

from tribe_analysis.features import MEASURES, RATES  # noqa: E402

SLOW_BASELINE_S = 600

POLARS_CASE = """
import time
import polars as pl
from tribe_analysis import features, graph
leaders = pl.read_parquet({truth!r}).get_column("leader_id").to_list()
t0 = time.perf_counter()
events = pl.read_parquet({path!r})
t1 = time.perf_counter()
edges = graph.edge_list(events)
t2 = time.perf_counter()
table = features.leader_measures(events, leaders, edges=edges)
t3 = time.perf_counter()
table.write_parquet({out!r})
RESULT = {{"events": events.height, "leaders": table.height, "edges": edges.height,
          "read_s": t1 - t0, "edges_s": t2 - t1, "measures_s": t3 - t2, "total_s": t3 - t0}}
"""

PANDAS_CASE = """
import sys, time
import pandas as pd
sys.path.insert(0, {here!r})
from baseline_pandas import pandas_measures
leaders = pd.read_parquet({truth!r})["leader_id"].tolist()
t0 = time.perf_counter()
events = pd.read_parquet({path!r})
t1 = time.perf_counter()
table = pandas_measures(events, leaders)
t2 = time.perf_counter()
table.to_parquet({out!r})
RESULT = {{"events": len(events), "leaders": len(table),
          "read_s": t1 - t0, "measures_s": t2 - t1, "total_s": t2 - t0}}
"""


def compare(ours: pl.DataFrame, base: pl.DataFrame) -> tuple[list[dict], list[str], int]:
    """Per measure: values, null mismatches and the largest absolute difference over leaders.

    Also returns the count, ``_num`` and ``_den`` columns that differ anywhere.
    NaN in the baseline stands for null.
    """
    base = base.with_columns(pl.selectors.float().fill_nan(None))
    ours = ours.with_columns(pl.selectors.float().fill_nan(None))
    if ours.get_column("leader_id").to_list() != base.get_column("leader_id").to_list():
        raise ValueError("the two tables have different leaders")
    rows = []
    for name in MEASURES:
        a = ours.get_column(name).cast(pl.Float64)
        b = base.get_column(name).cast(pl.Float64)
        both = a.is_not_null() & b.is_not_null()
        diff = (a - b).abs().filter(both)
        rows.append(
            {
                "measure": name,
                "values": int(both.sum()),
                "null_mismatches": int((a.is_null() != b.is_null()).sum()),
                "max_abs_diff": diff.max() if diff.len() else None,
                "max_rel_diff": (diff / b.abs().filter(both).clip(lower_bound=1e-300)).max()
                if diff.len()
                else None,
            }
        )
    exact = [
        c
        for c in ours.columns
        if c in base.columns and (c.endswith(("_num", "_den")) or c not in MEASURES)
    ]
    exact = [c for c in exact if c != "leader_id"]
    differing = [
        c
        for c in exact
        if not ours.get_column(c).cast(pl.Int64).equals(base.get_column(c).cast(pl.Int64))
    ]
    return rows, differing, len(exact)


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return "0" if x == 0 else f"{x:.1e}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument(
        "--baseline-10m", action="store_true", help="also run the pandas baseline at 10M (slow)"
    )
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    timings, comparisons = _run(args.sizes, args.baseline_10m)

    command = shlex.join([".venv/bin/python", "benchmarks/bench_measures.py", *sys.argv[1:]])
    print("## Per-leader measures: tribe-analysis (polars) beside a pandas + networkx baseline\n")
    print(f"machine: {machine()}  ")
    print(f"command: `{command}`  ")
    print(f"1-minute load average at the start: {load:.1f} (single runs; other jobs add noise)\n")
    _print_timings(timings)
    _print_notes(timings, args.sizes)
    for size, (rows, differing, n_exact) in comparisons.items():
        _print_agreement(size, rows, differing, n_exact)


def _run(sizes: list[str], baseline_10m: bool) -> tuple[list[dict], dict]:
    """Each implementation at each size in a fresh process; the agreement of their outputs."""
    timings = []
    outputs: dict[tuple[str, str], Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = events_file(size)
            truth = path.with_name(f"truth_{size}.parquet")
            for impl, template in (
                ("tribe-analysis", POLARS_CASE),
                ("pandas baseline", PANDAS_CASE),
            ):
                if impl == "pandas baseline" and size != "1M" and not baseline_10m:
                    continue
                out = Path(tmp) / f"{impl.split()[0]}_{size}.parquet"
                print(f"running {impl} at {size} ...", file=sys.stderr, flush=True)
                result = run_case(
                    template.format(path=str(path), truth=str(truth), out=str(out), here=str(HERE))
                )
                timings.append({"size": size, "impl": impl, **result})
                outputs[(impl, size)] = out
        comparisons = {
            size: compare(
                pl.read_parquet(outputs[("tribe-analysis", size)]),
                pl.read_parquet(outputs[("pandas baseline", size)]),
            )
            for size in sizes
            if ("tribe-analysis", size) in outputs and ("pandas baseline", size) in outputs
        }
    return timings, comparisons


def _print_timings(timings: list[dict]) -> None:
    print(
        "Each cell runs in a fresh process (peak RSS is its own). tribe-analysis: "
        "`pl.read_parquet` → `graph.edge_list` → `features.leader_measures(..., edges=edges)` "
        "(all measures; the edge list is computed once and reused for the ego networks); "
        "baseline: "
        "`pd.read_parquet` → `pandas_measures` (benchmarks/baseline_pandas.py: dict lookups, "
        "groupby per actor, networkx graph from the edge list). Simulated leaders; "
        "events/s = events ÷ total.\n"
    )
    print(
        "| size | implementation | events | leaders | read (s) | edge list (s) | measures (s) "
        "| total (s) | events/s | peak RSS (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in timings:
        edges_s = f"{r['edges_s']:.1f}" if "edges_s" in r else "–"
        print(
            f"| {r['size']} | {r['impl']} | {r['events']:,} | {r['leaders']} | {r['read_s']:.1f} "
            f"| {edges_s} | {r['measures_s']:.1f} | {r['total_s']:.1f} "
            f"| {r['events'] / r['total_s']:,.0f} | {r['peak_rss_mb']:,} |"
        )


def _print_notes(timings: list[dict], sizes: list[str]) -> None:
    by = {(r["impl"], r["size"]): r for r in timings}
    notes = []
    for size in sizes:
        ours, base = by.get(("tribe-analysis", size)), by.get(("pandas baseline", size))
        if ours and base:
            notes.append(
                f"At {size}, tribe-analysis is {base['total_s'] / ours['total_s']:.1f}× faster "
                f"and uses {base['peak_rss_mb'] / ours['peak_rss_mb']:.1f}× "
                f"{'less' if base['peak_rss_mb'] >= ours['peak_rss_mb'] else 'more'} peak memory "
                "than the baseline."
            )
        if base and base["total_s"] > SLOW_BASELINE_S:
            notes.append(f"The baseline at {size} took over {SLOW_BASELINE_S // 60} minutes.")
        if ours and not base:
            notes.append(
                f"The baseline was not run at {size} (`--baseline-10m` runs it; it is slow)."
            )
    if notes:
        print("\n" + "  \n".join(notes))


def _print_agreement(size: str, rows: list[dict], differing: list[str], n_exact: int) -> None:
    print(f"\n### Agreement at {size} (same events, same leaders)\n")
    print(
        "Largest absolute (and relative) difference over leaders per measure; a null "
        "mismatch is a leader where exactly one of the two is null.\n"
    )
    print("| measure | leaders with both values | null mismatches | max abs diff | max rel diff |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['measure']} | {row['values']} | {row['null_mismatches']} "
            f"| {_fmt(row['max_abs_diff'])} | {_fmt(row['max_rel_diff'])} |"
        )
    if differing:
        print(f"\nCounts, numerators and denominators that differ: {', '.join(differing)}.")
    else:
        print(
            f"\nAll {n_exact} counts, numerators and denominators (`_num`, `_den` of the "
            f"{len(RATES)} rates, counts) are identical."
        )


if __name__ == "__main__":
    main()
