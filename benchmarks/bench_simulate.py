"""Time and peak memory to simulate about 1M and 10M events.

Run: ``.venv/bin/python benchmarks/bench_simulate.py`` (prints a Markdown table).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SIZES, machine, run_case  # noqa: E402


def main() -> None:
    print(f"machine: {machine()}\n")
    print("| size | simulator arguments | events | time (s) | events/s | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for size, args in SIZES.items():
        result = run_case(
            "import time\n"
            "from tribe_analysis.synth import simulate_tribe\n"
            "t = time.perf_counter()\n"
            f"events = simulate_tribe(**{args!r}).events\n"
            "RESULT = {'seconds': time.perf_counter() - t, 'events': events.height}\n"
        )
        rate = result["events"] / result["seconds"]
        arg_text = ", ".join(f"{k}={v}" for k, v in args.items())
        print(
            f"| {size} | `{arg_text}` | {result['events']:,} | {result['seconds']:.1f} "
            f"| {rate:,.0f} | {result['peak_rss_mb']:,} |"
        )


if __name__ == "__main__":
    main()
