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
