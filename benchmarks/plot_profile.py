"""Draw benchmarks/results/profile.json: wall time and peak memory against events, log-log.

Run: ``.venv/bin/python benchmarks/plot_profile.py [--results JSON] [--out PNG]``
(default: ``docs/performance_profile.png``). One line per implementation, two
panels side by side; the PNG is rendered offline by vl-convert. Failed cases and
the ``demo`` rows are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import altair as alt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_profile import LABELS, RESULTS  # noqa: E402

OUT = HERE.parent / "docs" / "performance_profile.png"
ORDER = [LABELS[k] for k in ("tribe-analysis", "tribe-analysis --out-of-core", "pandas", "polars")]


def plotted_rows(rows: list[dict]) -> list[dict]:
    """Successful profile rows with the label of their implementation, by events."""
    keep = [
        {**r, "label": LABELS[r["implementation"]]}
        for r in rows
        if r["size"] != "demo" and r["exit_code"] == 0 and r["implementation"] in LABELS
    ]
    return sorted(keep, key=lambda r: (ORDER.index(r["label"]), r["events"]))


def chart(rows: list[dict]) -> alt.HConcatChart:
    """Two log-log panels (wall time, peak RSS) against events, one line per implementation."""
    data = alt.Data(values=plotted_rows(rows))
    log = alt.Scale(type="log")
    base = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("events:Q", scale=log, title="events", axis=alt.Axis(format="~s")),
            color=alt.Color(
                "label:N",
                sort=ORDER,
                title=None,
                legend=alt.Legend(orient="bottom", columns=1, labelLimit=0),
            ),
            tooltip=["size:N", "label:N", "events:Q", "seconds:Q", "peak_rss_mb:Q"],
        )
        .properties(width=320, height=260)
    )
    time = base.encode(y=alt.Y("seconds:Q", scale=log, title="wall time (s)")).properties(
        title="Wall time, start-up included"
    )
    memory = base.encode(y=alt.Y("peak_rss_mb:Q", scale=log, title="peak RSS (MB)")).properties(
        title="Peak memory"
    )
    machines = sorted({r["machine"] for r in rows if "machine" in r})
    return alt.hconcat(time, memory).properties(
        title=alt.Title(
            "tribe-analysis profile --no-report beside a naive pandas and a minimal polars script",
            subtitle=[
                *machines,
                "the default command goes out of core by itself above half of the memory "
                "(here at 100M events)",
            ],
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Read the results, draw the chart, save it as PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="bench_profile.py JSON")
    parser.add_argument("--out", type=Path, default=OUT, help="PNG to write")
    args = parser.parse_args(argv)
    rows = json.loads(args.results.read_text())
    if not plotted_rows(rows):
        parser.error(f"no successful profile rows in {args.results}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    chart(rows).save(args.out, format="png", scale_factor=2)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
