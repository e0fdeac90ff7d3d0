"""The ``tribe-analysis`` command line: a thin layer over the package functions.

Exit codes: 0 success, 2 bad input or bad usage (one ``error: FILE:LINE: reason``
line per problem on stderr, never a traceback), 1 an unexpected failure.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
import polars as pl

from tribe_analysis import events as ev

__all__ = ["main"]

MAX_ERRORS_SHOWN = 100
"""Problems printed one per line; the rest are counted (per reason) on one line."""


def _fail(problems: Sequence[ev.Problem]) -> None:
    """Print problems as ``error: FILE:LINE: reason`` lines on stderr and exit 2."""
    for problem in problems[:MAX_ERRORS_SHOWN]:
        click.echo(f"error: {problem}", err=True)
    rest = len(problems) - MAX_ERRORS_SHOWN
    if rest > 0:
        click.echo(f"error: ... and {rest} more problems ({len(problems)} in all)", err=True)
    sys.exit(2)


def _progress_enabled() -> bool:
    return sys.stderr.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tribe-analysis")
def main() -> None:
    """Measure how leaders engage with their tribe: broadcast or participate."""


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write events.parquet, truth.csv and leaders.txt into.",
)
@click.option(
    "--leaders",
    "n_leaders",
    default=40,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of leaders.",
)
@click.option(
    "--members",
    "n_members",
    default=None,
    type=click.IntRange(min=1),
    help="Number of tribe members (default: scales with leaders).",
)
@click.option(
    "--days",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Length of the simulated period in days.",
)
@click.option(
    "--scale",
    "activity_scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Multiply every activity volume.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--csv", "write_csv", is_flag=True, help="Also write events.csv (canonical CSV).")
def simulate(
    out: Path,
    n_leaders: int,
    n_members: int | None,
    days: int,
    activity_scale: float,
    seed: int,
    write_csv: bool,
) -> None:
    """Simulate a tribe with planted broadcaster / participator leaders."""
    from tribe_analysis.synth import simulate_tribe

    tribe = simulate_tribe(
        n_leaders=n_leaders,
        n_members=n_members,
        days=days,
        activity_scale=activity_scale,
        seed=seed,
    )
    paths = write_simulation(tribe, out, write_csv=write_csv)
    click.echo(
        f"simulated {tribe.events.height:,} events, {len(tribe.leaders)} leaders (seed {seed})"
    )
    for path in paths:
        click.echo(f"wrote {path}")


def write_simulation(tribe: object, out: Path, *, write_csv: bool = False) -> list[Path]:
    """Write a simulated tribe's events, truth and leader list into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [ev.write_events(tribe.events, out / "events.parquet")]
    if write_csv:
        paths.append(ev.write_events(tribe.events, out / "events.csv"))
    tribe.truth.write_csv(out / "truth.csv", float_precision=6)
    paths.append(out / "truth.csv")
    (out / "leaders.txt").write_text("".join(f"{leader}\n" for leader in tribe.leaders))
    paths.append(out / "leaders.txt")
    return paths


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "events", "csv", "parquet", "ndjson"]),
    help="Input format; 'events'/'auto' pick canonical CSV/Parquet/NDJSON by suffix.",
)
def validate(inputs: tuple[Path, ...], fmt: str) -> None:
    """Check canonical events files and print a summary; exit 2 on bad input."""
    events = _read(inputs, fmt)
    click.echo(format_summary(ev.summarize_events(events)))


def _read(inputs: Sequence[Path], fmt: str) -> pl.DataFrame:
    try:
        return ev.read_events(
            list(inputs),
            format=None if fmt in ("auto", "events") else fmt,
            progress=_progress_enabled(),
        )
    except ev.EventsError as exc:
        _fail(exc.problems)
        raise  # unreachable: _fail exits


def format_summary(summary: dict[str, object]) -> str:
    """Render :func:`tribe_analysis.events.summarize_events` as aligned text lines.

    Examples
    --------
    >>> print(format_summary({"rows": 3, "actions": {"post": 1, "reply": 2, "share": 0, "reaction": 0},
    ...     "actors": 2, "first": None, "last": None, "orphan_reply_share": 0.5, "platforms": ["events"]}))
    events            3
      post            1
      reply           2
      share           0
      reaction        0
    actors            2
    time span         - .. -
    orphan replies    50.0% (parent not in the data)
    platforms         events
    """
    orphan = summary["orphan_reply_share"]

    def stamp(value: object) -> str:
        return "-" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")

    rows = [("events", f"{summary['rows']:,}")]
    rows += [(f"  {name}", f"{count:,}") for name, count in summary["actions"].items()]
    rows += [
        ("actors", f"{summary['actors']:,}"),
        ("time span", f"{stamp(summary['first'])} .. {stamp(summary['last'])}"),
        ("orphan replies", "-" if orphan is None else f"{orphan:.1%} (parent not in the data)"),
        ("platforms", ", ".join(summary["platforms"])),
    ]
    lines = [f"{label:<18}{value}" for label, value in rows]
    return "\n".join(lines)


@main.command()
@click.option(
    "--out",
    "out",
    default=Path("results"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for all results.",
)
@click.option("--leaders", "n_leaders", default=40, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=60, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
def demo(out: Path, n_leaders: int, days: int, seed: int) -> None:
    """Simulate a tribe, validate it, and write everything into OUT."""
    from tribe_analysis.synth import simulate_tribe

    tribe = simulate_tribe(n_leaders=n_leaders, days=days, seed=seed)
    paths = write_simulation(tribe, out, write_csv=True)
    events = _read([out / "events.csv"], "auto")
    click.echo(format_summary(ev.summarize_events(events)))
    styles = tribe.truth.group_by("style").len().sort("style")
    planted = ", ".join(f"{n} {style}s" for style, n in styles.iter_rows())
    click.echo(f"\nplanted leader styles: {planted}")
    click.echo(f"results in {out}/: " + ", ".join(p.name for p in paths))


if __name__ == "__main__":  # pragma: no cover
    main()
