"""``tribe-analysis profile --engine dask`` beside the default engine, in one run, as users run it.

Run: ``.venv/bin/python benchmarks/bench_engines.py --sizes 1M 10M [--workers N]``
(prints a Markdown table; rows are saved in ``benchmarks/results/engines.json``).

For each size both commands run in fresh processes on the same Parquet input
(``common.forum_input``: tribes of the independent simulator), ``--no-report``:

- ``polars``: ``tribe-analysis profile INPUT --no-report --out DIR``;
- ``dask``: the same with ``--engine dask``: the command starts a local Dask
  cluster (one worker process per core, one thread each) and stops it.

Wall time includes start-up (and, for dask, starting the cluster). Memory is the
peak of the *sum* of the resident memory of the command and every process it
started (the Dask scheduler and workers are its children), sampled every 50 ms.
After each size the two ``features.parquet`` are compared: every measure,
numerator and denominator equal (floats within 1e-9, the same nulls), and
``profiles.csv`` byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_profile import count_events  # noqa: E402
from common import forum_input, machine  # noqa: E402

RESULTS = HERE / "results" / "engines.json"
BIN = Path(sys.executable).parent


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (0 for any that ended)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(cmd: list[str], log: Path) -> dict:
    """Run ``cmd``; wall seconds and the peak summed RSS of its process tree (MB)."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], tree_rss(watched))
                except psutil.Error:
                    pass
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"{cmd} failed ({code}); see {log}:\n{log.read_text()[-2000:]}")
    return {"seconds": round(wall, 2), "peak_tree_mb": round(peak[0] / 2**20)}


def same_results(a: Path, b: Path) -> str:
    """'yes' when the two runs' measures and profiles agree (see the module doc), else why not."""
    import polars as pl
    from polars.testing import assert_frame_equal

    try:
        assert_frame_equal(
            pl.read_parquet(a / "features.parquet"),
            pl.read_parquet(b / "features.parquet"),
            check_exact=False,
            rel_tol=1e-9,
            abs_tol=1e-12,
        )
    except AssertionError as exc:
        return f"no: {str(exc).splitlines()[0]}"
    if (a / "profiles.csv").read_bytes() != (b / "profiles.csv").read_bytes():
        return "no: profiles.csv differs"
    return "yes"


def run_size(size: str, tmp: Path) -> list[dict]:
    path = forum_input(size)
    events = count_events(path)
    base = [str(BIN / "tribe-analysis"), "profile", str(path), "--no-report"]
    rows, outs = [], {}
    for engine in ("polars", "dask"):
        out = tmp / f"{size}-{engine}"
        outs[engine] = out
        cmd = [*base, "--out", str(out), "--engine", engine]
        got = run(cmd, tmp / f"{size}-{engine}.log")
        rows.append({"size": size, "events": events, "engine": engine, **got})
        print(f"{size} {engine}: {got}", file=sys.stderr, flush=True)
    agree = same_results(outs["polars"], outs["dask"])
    for row in rows:
        row["same_measures"] = agree
        row["ratio_to_polars"] = round(row["seconds"] / rows[0]["seconds"], 2)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| events | engine | time (s) | × polars | peak memory, all processes (MB) | same measures |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['events']:,} | {r['engine']} | {r['seconds']} | {r['ratio_to_polars']} "
            f"| {r['peak_tree_mb']:,} | {r['same_measures']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M"])
    args = parser.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        for size in args.sizes:
            rows += run_size(size, Path(tmp))
    record = {
        "machine": machine(),
        "cores": os.cpu_count(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "rows": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
