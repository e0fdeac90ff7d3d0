"""Shared benchmark helpers: the standard simulated sizes and peak-memory measurement.

Each case runs in a fresh Python process so that its peak resident memory
(``ru_maxrss``) is its own.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

# Simulator arguments for the benchmark sizes (about 1M and 10M events).
SIZES: dict[str, dict[str, float]] = {
    "1M": {"n_leaders": 100, "n_members": 10_000, "activity_scale": 1.3, "seed": 0},
    "10M": {"n_leaders": 200, "n_members": 100_000, "activity_scale": 2.56, "seed": 0},
}

CACHE = Path(__file__).resolve().parent / ".cache"


def run_case(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object as its last line.

    The child's peak resident memory is added as ``peak_rss_mb``.
    """
    wrapper = (
        "import json, resource\n"
        + code
        + "\nRESULT['peak_rss_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
        + "\nprint(json.dumps(RESULT))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    """One line describing this machine (cores, memory, CPU, Python)."""
    import os

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {mem_gb:.0f} GiB, {cpu}, Python {platform.python_version()}"


def events_file(size: str) -> Path:
    """Simulate the ``size`` tribe once and cache it as Parquet under benchmarks/.cache."""
    path = CACHE / f"events_{size}.parquet"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        args = SIZES[size]
        run_case(
            "from tribe_analysis.synth import simulate_tribe\n"
            f"tribe = simulate_tribe(**{args!r})\n"
            f"tribe.events.write_parquet({str(path)!r})\n"
            f"tribe.truth.write_parquet({str(path.with_name(f'truth_{size}.parquet'))!r})\n"
            "RESULT = {}\n"
        )
    return path


# --------------------------------------------------------------------------- profile inputs

# Tribes of the independent simulator (tribe_analysis.synth_forum, design "microblog",
# 45 days) for bench_profile.py: size -> (leaders per chunk, chunks). One chunk is about
# 1,600 events per leader (600 -> 0.93M, 3400 -> 5.4M, 6800 -> 10.0M events). Larger
# sizes are K chunks of about 10M events with seeds 1..K, written as one Parquet file
# each into a folder: every id carries a ``c{k}:`` prefix, so the chunks are separate
# communities.
FORUM_SIZES: dict[str, tuple[int, int]] = {
    "200k": (120, 1),
    "1M": (600, 1),
    "5M": (3400, 1),
    "10M": (6800, 1),
    "20M": (6800, 2),
    "100M": (6800, 10),
}
FORUM_DAYS = 45
ID_COLUMNS = ("event_id", "actor_id", "parent_id", "thread_id", "target_actor_id")


def prefix_ids(events, prefix: str):
    """``events`` (a polars frame) with ``prefix`` before every id and mentioned account."""
    import polars as pl

    return events.with_columns(
        *((pl.lit(prefix) + pl.col(c)).alias(c) for c in ID_COLUMNS),
        pl.col("mentions").list.eval(pl.lit(prefix) + pl.element()),
    )


def forum_input(size: str) -> Path:
    """The cached ``size`` tribe: one Parquet file, or a folder of Parquet chunks (generated once).

    Each chunk is simulated in a fresh process, so memory is freed between chunks.
    """
    n_leaders, chunks = FORUM_SIZES[size]
    CACHE.mkdir(exist_ok=True)
    if chunks == 1:
        path = CACHE / f"forum_{size}.parquet"
        if not path.exists():
            _simulate_chunk(n_leaders, seed=1, prefix=None, path=path)
        return path
    folder = CACHE / f"forum_{size}"
    folder.mkdir(exist_ok=True)
    for k in range(1, chunks + 1):
        path = folder / f"chunk-{k:03d}.parquet"
        if not path.exists():
            _simulate_chunk(n_leaders, seed=k, prefix=f"c{k}:", path=path)
    return folder


def _simulate_chunk(n_leaders: int, seed: int, prefix: str | None, path: Path) -> None:
    """Simulate one microblog tribe in a fresh process and write it to ``path`` (atomically)."""
    tmp = path.with_name(f".{path.name}.tmp")  # hidden: no reader takes it
    code = [
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})",
        "from common import prefix_ids",
        "from tribe_analysis.synth_forum import simulate_forum",
        f"events = simulate_forum(n_leaders={n_leaders}, days={FORUM_DAYS}, seed={seed}, "
        "design='microblog').events",
        "" if prefix is None else f"events = prefix_ids(events, {prefix!r})",
        f"events.write_parquet({str(tmp)!r})",
        "RESULT = {'events': events.height}",
    ]
    run_case("import sys\n" + "\n".join(code))
    tmp.replace(path)
