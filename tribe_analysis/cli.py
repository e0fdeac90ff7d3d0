"""The ``tribe-analysis`` command line: a thin layer over the package functions.

Exit codes: 0 success, 2 bad input, bad usage or an output that cannot be
written (one ``error: FILE:LINE: reason`` or ``error: PATH: reason`` line per
problem on stderr, never a traceback), 1 an unexpected failure (one ``error:``
line too; ``TRIBE_ANALYSIS_DEBUG=1`` shows the traceback), 143 stopped by SIGTERM
(its partial files removed, as on Ctrl-C). With
``--pseudonymize`` the values these lines quote are masked
(:func:`tribe_analysis.privacy.mask_reason`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from signal import SIG_DFL, SIGTERM
from signal import signal as _handle
from typing import TYPE_CHECKING, Any, NoReturn

# NumPy's and SciPy's OpenBLAS each start a worker thread per core when loaded, and
# each thread spins for about 0.1 s of CPU waiting for work that never comes: the
# command does no large linear algebra (mixtures of tens of leaders). One thread
# each, unless the user says otherwise; set before polars loads NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:  # the first 0.3 s of every command: Ctrl-C then is click's "Aborted!" too, no traceback
    import click
    import polars as pl

    from tribe_analysis import events as ev
    from tribe_analysis.errors import first_line
except KeyboardInterrupt:
    sys.stderr.write("\nAborted!\n")
    raise SystemExit(1) from None

if TYPE_CHECKING:
    from tribe_analysis.synth import SimulatedTribe

__all__ = ["main"]

SEED = click.IntRange(0, 2**32 - 1)
"""Seeds NumPy and scikit-learn take (a negative one was an 'unexpected failure')."""

MAX_ERRORS_SHOWN = 100
"""Problems printed one per line; the rest are counted (per reason) on one line."""


_MASK = "tribe_analysis.mask"
"""Key of the click context's ``meta``: whether messages are masked (``--pseudonymize``)."""


def _masking() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_MASK))


def _fail(problems: Sequence[ev.Problem], *, mask: bool | None = None) -> NoReturn:
    """Print problems as ``error: FILE:LINE: reason`` lines on stderr and exit 2.

    With ``mask`` (default: the command pseudonymises) the values the reasons
    quote are masked.
    """
    from tribe_analysis.privacy import mask_reason

    masked = _masking() if mask is None else mask
    for problem in problems[:MAX_ERRORS_SHOWN]:
        if masked:
            problem = ev.Problem(
                problem.source, problem.line, mask_reason(problem.reason), problem.unit
            )
        click.echo(f"error: {problem}", err=True)
    rest = len(problems) - MAX_ERRORS_SHOWN
    if rest > 0:
        click.echo(f"error: ... and {rest} more problems ({len(problems)} in all)", err=True)
    sys.exit(2)


def _error(message: str, code: int = 2) -> NoReturn:
    """Print one ``error:`` line on stderr and exit."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _progress_enabled() -> bool:
    return sys.stderr.isatty()


class _steps:  # noqa: N801 - used like a function
    """A progress bar over the pipeline's steps on a terminal (silent otherwise)."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total, desc="profile", disable=not _progress_enabled() or None, leave=False
        )

    def __call__(self, step: str) -> None:
        self._bar.set_postfix_str(step, refresh=False)
        self._bar.update()

    def close(self) -> None:
        self._bar.close()


TERMINATED = 128 + SIGTERM
"""Exit code of a run stopped by SIGTERM (143, as the shell reports a process it ended)."""


def _terminate(signum: int, frame: object) -> NoReturn:
    """SIGTERM (``kill``, ``timeout``, a batch job's time limit) ends the run as Ctrl-C does.

    Python's default ends the process at once: the staging folder beside ``--out`` and
    the out-of-core spill folder (gigabytes) were left behind. Raised as
    ``SystemExit``, the run's folders are removed on the way out.
    """
    click.echo("error: stopped by SIGTERM (the run's partial files are removed)", err=True)
    raise SystemExit(TERMINATED)


@contextlib.contextmanager
def _sigterm_ends_the_run() -> Iterator[None]:
    """:func:`_terminate` handles SIGTERM while a command runs (main thread only), then as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = _handle(SIGTERM, _terminate)
    try:
        yield
    finally:
        _handle(SIGTERM, SIG_DFL if previous is None else previous)


class _Main(click.Group):
    """The command group: a failure of any command is one ``error:`` line, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        with _sigterm_ends_the_run():
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> object:
        from tribe_analysis.pipeline import OutputError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except OutputError as exc:
            _error(str(exc))
        except ev.EventsError as exc:
            _fail(exc.problems)
        except OSError as exc:  # a file the user named cannot be read
            where = exc.filename if exc.filename is not None else "input"
            _error(f"{where}: {exc.strerror or exc}")
        except (Exception, pl.exceptions.PanicException) as exc:  # a polars panic is no Exception
            if os.environ.get("TRIBE_ANALYSIS_DEBUG"):
                raise
            _error(_unexpected(exc), code=1)


def _unexpected(exc: BaseException) -> str:
    """The one line of an unexpected failure (masked when the command pseudonymises)."""
    from tribe_analysis.privacy import mask_reason

    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # "Vega-Lite to SVG conversion failed:" says why on its next line
    text = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else "".join(lines[:1])
    text = mask_reason(text) if _masking() else text
    return (
        f"unexpected failure ({type(exc).__name__}: {text}); "
        "TRIBE_ANALYSIS_DEBUG=1 shows the traceback"
    )


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tribe-analysis")
def main() -> None:
    """Measure how leaders engage with their tribe: broadcast or participate."""


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write events.parquet, truth.csv and leaders.txt into (replaced whole).",
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
    type=click.IntRange(min=2),
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
    callback=lambda ctx, param, value: _finite(value, param),
    help="Multiply every activity volume.",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option("--csv", "write_csv", is_flag=True, help="Also write events.csv (canonical CSV).")
@click.option(
    "--mastodon",
    "write_mastodon",
    is_flag=True,
    help="Also write statuses.jsonl: the tribe as a Mastodon API export (reactions dropped).",
)
def simulate(
    out: Path,
    n_leaders: int,
    n_members: int | None,
    days: int,
    activity_scale: float,
    seed: int,
    write_csv: bool,
    write_mastodon: bool,
) -> None:
    """Simulate a tribe with planted broadcaster / participator leaders."""
    from tribe_analysis import pipeline

    options = {
        "leaders": n_leaders,
        "members": n_members,
        "days": days,
        "scale": activity_scale,
        "seed": seed,
        "csv": write_csv,
        "mastodon": write_mastodon,
    }
    with pipeline.OutputFolder(out, command="simulate", options=options) as folder:
        tribe = _simulate(
            n_leaders=n_leaders,
            n_members=n_members,
            days=days,
            activity_scale=activity_scale,
            seed=seed,
        )
        with folder.writing():
            paths = write_simulation(
                tribe, folder.path, write_csv=write_csv, write_mastodon=write_mastodon
            )
        folder.counts.update(events=tribe.events.height, leaders=len(tribe.leaders))
    click.echo(
        f"simulated {tribe.events.height:,} events, {len(tribe.leaders)} leaders (seed {seed})"
    )
    for path in paths:
        click.echo(f"wrote {out / path.name}")


def _finite(value: float, param: click.Parameter) -> float:
    """A float option's value, refused when it is NaN or infinite (FloatRange lets them by)."""
    import math

    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", param=param)
    return value


_SIZE_OPTIONS = {
    "n_leaders": "--leaders",
    "n_members": "--members",
    "days": "--days",
    "activity_scale": "--scale",
}


def _simulate(**sizes: Any) -> SimulatedTribe:
    """:func:`tribe_analysis.synth.simulate_tribe`; sizes beyond its reach are one error line.

    NumPy refuses arrays or Poisson means that large (ValueError, OverflowError),
    a rate overflows, or the memory runs out: the options are named, never an
    'unexpected failure'. A tribe without events is refused too: the events file
    written would be one that ``profile`` and :func:`tribe_analysis.io.read` refuse.
    """
    import numpy as np

    from tribe_analysis.synth import simulate_tribe

    given = ", ".join(
        f"{option} {sizes[name]}"
        for name, option in _SIZE_OPTIONS.items()
        if sizes.get(name) is not None
    )
    try:
        # an overflowing rate is an error here, not a RuntimeWarning printed above the line
        with np.errstate(over="raise"):
            tribe = simulate_tribe(**sizes)
    except (ValueError, OverflowError, FloatingPointError, MemoryError) as exc:
        _error(f"cannot simulate {given}: too large ({first_line(exc)})")
    if tribe.events.height == 0:  # no reader takes an events file without rows
        _error(f"simulated no events with {given}: give more --days, --members or --scale")
    return tribe


def write_simulation(
    tribe: SimulatedTribe, out: Path, *, write_csv: bool = False, write_mastodon: bool = False
) -> list[Path]:
    """Write a simulated tribe's events, truth and leader list into ``out``."""
    import json

    from tribe_analysis.synth import to_mastodon

    out.mkdir(parents=True, exist_ok=True)
    paths = [ev.write_events(tribe.events, out / "events.parquet")]
    if write_csv:
        paths.append(ev.write_events(tribe.events, out / "events.csv"))
    if write_mastodon:
        lines = (json.dumps(s, sort_keys=True) + "\n" for s in to_mastodon(tribe.events))
        (out / "statuses.jsonl").write_text("".join(lines), encoding="utf-8")
        paths.append(out / "statuses.jsonl")
    tribe.truth.write_csv(out / "truth.csv", float_precision=6)
    paths.append(out / "truth.csv")
    silent = _silent_leaders(tribe)
    listed = [leader for leader in tribe.leaders if leader not in silent]
    (out / "leaders.txt").write_text("".join(f"{leader}\n" for leader in listed))
    paths.append(out / "leaders.txt")
    if silent:  # `profile --leaders leaders.txt` would refuse an id that is not in the data
        click.echo(
            f"note: no event of their own in the period for {len(silent)} of the leaders "
            f"({_first_five(silent)}): truth.csv lists them, leaders.txt does not",
            err=True,
        )
    unseen = _reacting_only(tribe, listed) if write_mastodon else []
    if unseen:  # nor would `profile statuses.jsonl --leaders leaders.txt` take these
        click.echo(
            f"note: statuses.jsonl holds no event of {len(unseen)} of the leaders in "
            f"leaders.txt ({_first_five(unseen)}): their only events are reactions, which "
            "a Mastodon export leaves out",
            err=True,
        )
    return paths


def _first_five(ids: list[str]) -> str:
    return ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")


def _reacting_only(tribe: SimulatedTribe, leaders: list[str]) -> list[str]:
    """The ``leaders`` whose every event is a reaction (none in a Mastodon export)."""
    events = tribe.events
    acting = set(events.filter(events["action"] != "reaction").get_column("actor_id").to_list())
    return [leader for leader in leaders if leader not in acting]


def _silent_leaders(tribe: SimulatedTribe) -> list[str]:
    """The simulated leaders with no event of their own (a short period, little activity)."""
    actors = set(tribe.events.get_column("actor_id").unique().to_list())
    return [leader for leader in tribe.leaders if leader not in actors]


def _report_options(command: Callable) -> Callable:
    """``--report/--no-report`` and ``--card-png``, shared by ``profile`` and ``demo``."""
    command = click.option(
        "--card-png",
        is_flag=True,
        help="Also write each leader's report card as PNG (charts/card_*.png) for slides; "
        "about 0.1 s more per leader.",
    )(command)
    return click.option(
        "--report/--no-report",
        default=True,
        show_default=True,
        help="Write charts/ (SVG; PNG of the profile map and the comparison) and report.html "
        "(a few seconds for 40 leaders).",
    )(command)


def _input_options(func):
    """The options every command that reads exports shares: --format and --on-error."""
    from tribe_analysis.io import FORMATS

    func = click.option(
        "--on-error",
        "on_error",
        default="strict",
        show_default=True,
        type=click.Choice(["strict", "skip"]),
        help="strict: stop at the first malformed record; skip: quarantine malformed records.",
    )(func)
    return click.option(
        "--format",
        "fmt",
        default="auto",
        show_default=True,
        type=click.Choice(["auto", *FORMATS, "csv", "parquet", "ndjson"]),
        help="Input format; auto recognises it from the content and says which it chose.",
    )(func)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@_input_options
@click.option(
    "--quarantine",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --on-error skip: write the skipped records here (JSON lines).",
)
def validate(inputs: tuple[Path, ...], fmt: str, on_error: str, quarantine: Path | None) -> None:
    """Check an export (any supported format) and print a summary; exit 2 on bad input.

    The summary ends with the signals the input cannot show (as ``profile`` prints them).
    """
    from tribe_analysis import pipeline

    if quarantine is not None and on_error != "skip":  # as profile's --quarantine-raw
        raise click.UsageError("--quarantine needs --on-error skip")
    if quarantine is not None:
        _refuse_overwriting_inputs(quarantine, "--quarantine", inputs)
    result = _load(inputs, fmt, on_error)
    if quarantine is not None:  # empty when nothing was skipped: never another run's records
        pipeline.write_quarantine(result.skipped, quarantine)
    _report_skipped(result, f" (written to {quarantine})" if quarantine else "")
    from tribe_analysis.observability import observe, unobservable

    # a count of 0 where the platform or the data cannot show the signal is unknown, not 0
    seen = observe(result.events, result.observability, platform_name=result.platform)
    hidden = unobservable(seen)
    click.echo(format_summary(ev.summarize_events(result.events), unobservable=hidden))
    for signal, reason in hidden.items():
        click.echo(f"unobservable      {signal} — {reason}")
    for note in result.notes:
        click.echo(f"note              {note}")


def _load(inputs: Sequence[Path], fmt: str, on_error: str, spill: str | None = None):
    """Read inputs with the io readers; say which format was recognised.

    ``spill``: a folder where canonical events files are read out of core.
    """
    from tribe_analysis import io

    name = "events" if fmt in ("csv", "parquet", "ndjson") else fmt
    try:
        result = io.read(list(inputs), format=name, on_error=on_error, spill=spill)
    except ev.EventsError as exc:
        _fail(exc.problems)
    if fmt == "auto":
        click.echo(f"format: {result.platform} (recognised from content)", err=True)
    return result


def _report_skipped(result, where: str) -> None:
    """Print the counts of records read, loaded and skipped, and the skipped ones per reason."""
    if not result.skipped:
        return
    click.echo(
        f"read {result.records_read:,} records: loaded {result.records_loaded:,}, "
        f"skipped {len(result.skipped):,}{where}",
        err=True,
    )
    for reason, n in _reason_counts(result.skipped):
        click.echo(f"  {n:>6,}  {reason}", err=True)


def _reason_counts(skipped) -> list[tuple[str, int]]:
    """Skipped records counted per kind of reason (the reason up to its first value).

    Values are masked (:func:`tribe_analysis.privacy.mask_reason`) before the kind is
    cut, so a bare value (``got number 1234567``) neither splits a kind nor is shown.
    """
    from tribe_analysis.privacy import mask_reason

    counts: dict[str, int] = {}
    for item in skipped:
        kind = mask_reason(item.reason).split("'", 1)[0].split('"', 1)[0].split(" (", 1)[0]
        kind = kind.strip()
        counts[kind] = counts.get(kind, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


_ACTION_SIGNALS = {"share": "shares", "reaction": "reactions"}
"""The signal (:mod:`tribe_analysis.observability`) each action's count stands for."""


def format_summary(
    summary: dict[str, Any], *, unobservable: Mapping[str, str] | None = None
) -> str:
    """Render :func:`tribe_analysis.events.summarize_events` as aligned text lines.

    The count of an action whose signal is in ``unobservable`` is shown as unknown
    (``-``), not as 0: the platform or the data cannot show it.

    Examples
    --------
    >>> print(format_summary({"rows": 3, "actions": {"post": 1, "reply": 2, "share": 0, "reaction": 0},
    ...     "actors": 2, "first": None, "last": None, "orphan_reply_share": 0.5, "early_replies": 1,
    ...     "platforms": ["events"]}))
    events            3
      post            1
      reply           2
      share           0
      reaction        0
    actors            2
    time span         - .. -
    orphan replies    50.0% (parent not in the data)
    early replies     1 (dated before their parent: the senders' clocks)
    platforms         events
    """
    orphan = summary["orphan_reply_share"]

    def stamp(value: Any) -> str:
        return "-" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")

    rows = [("events", f"{summary['rows']:,}")]
    for name, count in summary["actions"].items():
        hidden = _ACTION_SIGNALS.get(name) in (unobservable or {}) and not count
        rows.append((f"  {name}", "- (unobservable, below)" if hidden else f"{count:,}"))
    rows += [
        ("actors", f"{summary['actors']:,}"),
        ("time span", f"{stamp(summary['first'])} .. {stamp(summary['last'])}"),
        ("orphan replies", "-" if orphan is None else f"{orphan:.1%} (parent not in the data)"),
    ]
    early = summary.get("early_replies") or 0
    if early:
        rows.append(
            ("early replies", f"{early:,} (dated before their parent: the senders' clocks)")
        )
    rows += _mention_rows(summary)
    rows.append(("platforms", ", ".join(summary["platforms"])))
    lines = [f"{label:<18}{value}" for label, value in rows]
    return "\n".join(lines)


def _mention_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary's line about mentions: how many, how many name an account of the data.

    Examples
    --------
    >>> _mention_rows({"mentions": 8, "known_mention_share": 0.25, "prefixed_mentions": 6})
    [('mentions', "8 (25.0% name an account of the data; 6 more do without their leading '@')")]
    """
    count, known = summary.get("mentions") or 0, summary.get("known_mention_share")
    if not count or known is None:
        return []
    prefixed = summary.get("prefixed_mentions") or 0
    more = f"; {prefixed:,} more do without their leading '@'" if prefixed else ""
    return [("mentions", f"{count:,} ({known:.1%} name an account of the data{more})")]


DEFAULT_TOP = 20
"""Leaders ``profile`` chooses without ``--leaders`` or ``--top-leaders`` (as its manifest says)."""


def _read_leader_file(
    path: Path,
    present: Callable[[list[str]], set[str]],
    resemble: Callable[[list[str]], dict[str, str]] | None = None,
) -> list[str]:
    """Leader ids from a file (:func:`tribe_analysis.pipeline.leader_lines`); unknown ids are errors.

    ``present`` says which of some ids are accounts of the data; ``resemble`` gives,
    for unknown ids, the account each likely means (:func:`_resemblances`).

    A comment starts with ``#`` at the start of a line or after white space, so an id
    holding ``#`` (``name#1234``, ``a#b@example.org``) is read whole, never cut to an
    account it is not.
    """
    from tribe_analysis.pipeline import leader_lines

    try:
        wanted = leader_lines(path)
    except ev.EventsError as exc:
        _fail(exc.problems)
    from tribe_analysis.features import is_pseudo_account

    named = sorted({leader for _, leader in wanted})
    actors = present(named)
    ids = pl.DataFrame({"id": [leader for _, leader in wanted]}, schema={"id": pl.String})
    pseudo = set(ids.filter(is_pseudo_account("id"))["id"].to_list())
    accounted_for = actors | pseudo  # a pseudo-account is refused as one, in the data or not
    unknown = sorted({leader for _, leader in wanted if leader not in accounted_for})
    hints = resemble(unknown) if resemble is not None and unknown else {}
    problems = [
        ev.Problem(
            str(path), number, f"leader '{leader}' is not in the data{hints.get(leader, '')}"
        )
        for number, leader in wanted
        if leader not in accounted_for
    ] + [
        ev.Problem(str(path), number, f"'{leader}' is a pseudo-account, not one person")
        for number, leader in wanted
        if leader in pseudo
    ]
    if problems:
        _fail(problems)
    return named


def _actors_of(events: pl.DataFrame | pl.LazyFrame) -> Callable[[list[str]], set[str]]:
    """Which of some ids are accounts (``actor_id``) of ``events``."""

    def present(ids: list[str]) -> set[str]:
        found = events.lazy().filter(pl.col("actor_id").is_in(ids)).select("actor_id").unique()
        return set(found.collect().get_column("actor_id").to_list())

    return present


def _resemblances(
    events: pl.DataFrame | pl.LazyFrame, names: Mapping[str, str] | None
) -> Callable[[list[str]], dict[str, str]]:
    """For ids that are not accounts of ``events``: the account each likely means, in words.

    An id that is an account once its leading ``@`` is removed or its case ignored
    (``@ann``, ``Ann`` for ``ann``), or that is an account's display name.
    """

    def resemble(ids: list[str]) -> dict[str, str]:
        keys = {i: i.removeprefix("@").lower() for i in ids}
        named = {a: n for a, n in (names or {}).items() if n.lower() in set(keys.values())}
        found = (
            events.lazy()
            .select(pl.col("actor_id").unique())
            .filter(
                pl.col("actor_id").str.to_lowercase().is_in(sorted(set(keys.values())))
                | pl.col("actor_id").is_in(sorted(named))
            )
            .collect()
            .get_column("actor_id")
            .sort()
            .to_list()
        )
        by_key: dict[str, str] = {}
        by_name: dict[str, list[str]] = {}
        for account in found:
            by_key.setdefault(account.lower(), account)
            if account in named:
                by_name.setdefault(named[account].lower(), []).append(account)
        return {i: hint for i in ids if (hint := _hint(keys[i], by_key, by_name, named))}

    return resemble


def _hint(
    key: str, by_key: dict[str, str], by_name: dict[str, list[str]], named: dict[str, str]
) -> str:
    """The words :func:`_resemblances` adds to an unknown leader id (empty: no likely account)."""
    if key in by_key:
        return f" (did you mean '{by_key[key]}'? write ids as actor_id does)"
    accounts = by_name.get(key, [])
    if len(accounts) == 1:
        name = named[accounts[0]]
        return f" (did you mean '{accounts[0]}'? its display name is '{name}'; name leaders by id)"
    if accounts:
        shown = ", ".join(f"'{a}'" for a in accounts[:3]) + (", ..." if len(accounts) > 3 else "")
        return f" ({len(accounts)} accounts have this display name: {shown}; name leaders by id)"
    return ""


def _shown(row: dict) -> str:
    """The leader as the summary names it: its visible name and id, safe for a terminal."""
    from tribe_analysis._labels import terminal_text, visible_name

    name = visible_name(row.get("leader_name"))
    leader = row["leader_id"]
    text = terminal_text(leader if not name or name == leader else f"{name} ({leader})")
    return text if len(text) <= 21 else text[:20] + "…"


def _name_order(row: dict) -> tuple:
    """Rows by the leader's shown name in natural order ("Leader 2" before "Leader 10")."""
    from tribe_analysis._labels import natural_key, visible_name

    return natural_key(visible_name(row.get("leader_name")) or row["leader_id"]), row["leader_id"]


def format_profiles(table: pl.DataFrame) -> str:
    """The terminal summary: one line per leader (by name), then counts per profile and sub-profile."""
    header = (
        f"{'leader':<22}{'profile':<14}{'prob':>6}  {'index (interval)':<18}  sub-profile / reason"
    )
    lines = [header, "-" * len(header)]
    for row in sorted(table.iter_rows(named=True), key=_name_order):
        index, prob = row["participation_index"], row["probability"]
        shown = (
            "n/a"
            if index is None
            else f"{index:.2f} ({row['index_low']:.2f}–{row['index_high']:.2f})"
        )
        why = row["sub_profile"] if row["profile"] != "undetermined" else row["reason"]
        lines.append(
            f"{_shown(row):<22}{row['profile']:<14}{'-' if prob is None else f'{prob:.2f}':>6}"
            f"  {shown:<18}  {why}"
        )
    counts = dict(table.group_by("profile").len().iter_rows())
    parts = [
        f"{counts[p]} {p}{'s' if counts[p] != 1 and p != 'undetermined' else ''}"
        for p in ("participator", "broadcaster", "undetermined")
        if p in counts
    ]
    subs = (  # one line per cluster: its own size and stability
        table.filter(pl.col("profile") != "undetermined")
        .group_by("sub_profile", "cluster")
        .agg(pl.len(), pl.col("stability").first())
        .sort("sub_profile", "cluster")
    )
    twice = set(subs.filter(pl.col("sub_profile").is_duplicated())["sub_profile"])
    lines += ["", "; ".join(parts)]
    for sub, cluster, n, stab in subs.iter_rows():
        verdict = "" if stab is None else f", stability {stab:.2f}"
        which = f" (cluster {cluster})" if sub in twice else ""
        lines.append(f"  {sub}{which}: {n}{verdict}")
    return "\n".join(lines)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@_input_options
@click.option(
    "--leaders",
    "leaders_file",
    type=click.Path(path_type=Path),
    default=None,
    help="File of leader ids, one per line (# after a space starts a comment).",
)
@click.option(
    "--top-leaders",
    "top",
    type=click.IntRange(min=1),
    default=None,
    help=f"Choose the N accounts with the largest distinct audience [default: {DEFAULT_TOP}].",
)
@click.option("--since", default=None, help="Keep events at or after this date (ISO-8601, UTC).")
@click.option("--until", default=None, help="Keep events before this date (ISO-8601, UTC).")
@click.option(
    "--profiles",
    "n_profiles",
    default="auto",
    show_default=True,
    help="Sub-profiles per label (clusters of the decided leaders), or 'auto' (BIC).",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option(
    "--out",
    "out",
    default=Path("results/profile"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the results: written whole, replacing an earlier tribe-analysis output "
    "(never another folder with files).",
)
@click.option(
    "--pseudonymize",
    is_flag=True,
    help="Replace every account id but the leaders by a keyed HMAC-SHA256 pseudonym; drop text "
    "(in every output, the quarantine and the console).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Secret key for --pseudonymize (default: the TRIBE_ANALYSIS_KEY variable).",
)
@click.option(
    "--quarantine-raw",
    "quarantine_raw",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --on-error skip: also write the skipped records verbatim here (JSON lines). "
    "This file holds RAW data (ids, handles, text), even with --pseudonymize; it must be "
    "outside --out.",
)
@_report_options
@click.option(
    "--graph",
    "graph_scope",
    default="tribe",
    show_default=True,
    type=click.Choice(["tribe", "full"]),
    help="What graph.graphml and graph.gexf hold: the leaders' tribe subgraph, or every edge "
    "(edges.parquet always holds every edge).",
)
@click.option(
    "--engine",
    default="polars",
    show_default=True,
    type=click.Choice(["polars", "dask"]),
    help="polars: one process (any input format). dask: a Dask cluster (canonical Parquet files, "
    "folders or URLs; needs pip install 'tribe-analysis[dask]'); see docs/scaling.md.",
)
@click.option(
    "--cluster",
    "cluster_address",
    default=None,
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use (e.g. tcp://host:8786; default: "
    "DASK_SCHEDULER_ADDRESS, else a local cluster started for the run).",
)
@click.option(
    "--out-of-core/--in-memory",
    "out_of_core",
    default=None,
    help="Read canonical events files a file at a time into Parquet beside --out, and scan "
    "them in every stage (for inputs larger than memory), or hold them in memory (faster). "
    "Default: out of core when the events (about 250 bytes each) would take more than half "
    "of the memory (the machine's, or its container's limit); see docs/performance.md.",
)
def profile(
    inputs: tuple[str, ...],
    fmt: str,
    leaders_file: Path | None,
    top: int | None,
    since: str | None,
    until: str | None,
    n_profiles: str,
    seed: int,
    out: Path,
    on_error: str,
    pseudonymize: bool,
    key_file: Path | None,
    quarantine_raw: Path | None,
    report: bool,
    card_png: bool,
    graph_scope: str,
    engine: str,
    cluster_address: str | None,
    out_of_core: bool | None,
) -> None:
    """Profile leaders as broadcasters or participators; write results into OUT."""
    from tribe_analysis import pipeline

    ctx = click.get_current_context()
    ctx.meta[_MASK] = pseudonymize
    _check_profile_options(ctx.params)
    if engine == "dask":
        _profile_on_dask(ctx.params)
        return
    _start_background_work(report)
    paths = tuple(Path(p) for p in inputs)
    k = _profiles_option(n_profiles)
    key = _key(key_file) if pseudonymize else None
    options = {
        "format": fmt,
        "on_error": on_error,
        "leaders": None if leaders_file is None else str(leaders_file),
        "top_leaders": top if top is not None or leaders_file is not None else DEFAULT_TOP,
        "since": since,
        "until": until,
        "profiles": n_profiles,
        "seed": seed,
        "pseudonymize": pseudonymize,
        "quarantine_raw": quarantine_raw is not None,
        "report": report,
        "card_png": card_png,
        "graph": graph_scope,
    }
    # the spill folder is made beside --out once the output folder made its parents and
    # holds the lock: a failed run removes both, and the parents it made
    with (
        pipeline.OutputFolder(out, command="profile", options=options, inputs=paths) as folder,
        _spill_folder(ctx.params, paths) as spill_to,
    ):
        result = _load(paths, fmt, on_error, spill_to)
        if out_of_core and not isinstance(result.events, pl.LazyFrame):
            click.echo(
                f"note: --out-of-core reads canonical events files; this {result.platform} "
                "export is read in memory",
                err=True,
            )
        _keep_skipped(result, folder, quarantine_raw, pseudonymize)
        leaders = None
        if leaders_file is not None:
            leaders = _read_leader_file(
                leaders_file,
                _actors_of(result.events),
                None if pseudonymize else _resemblances(result.events, result.names),
            )
        bar = _steps(7 if report else 6)
        try:
            run = _profile_run(
                result, leaders, paths, bar, top or DEFAULT_TOP, since, until, k, seed, key
            )
            _say_what_is_unknown(run)
            folder.counts.update(
                records_read=result.records_read, records_loaded=result.records_loaded
            )
            written = pipeline.write_outputs(
                run,
                folder,
                report=report,
                graph=graph_scope,
                on_step=bar,
                skipped=result.skipped,
                card_png=card_png,
            )
        finally:
            bar.close()
    click.echo(format_profiles(run.profiles))
    click.echo(f"\nresults in {out}/: " + ", ".join(written))
    _missing_glyphs_note()


def _missing_glyphs_note() -> None:
    """Say once which characters of the names no font here draws (vl-convert said it per drawing)."""
    from tribe_analysis._drawing import missing_glyphs

    chars = missing_glyphs()
    if chars:
        shown = " ".join(chars[:12]) + (" …" if len(chars) > 12 else "")
        click.echo(
            f"note: no font on this machine draws {len(chars)} character(s) of the names "
            f"({shown}): the PNG charts show empty boxes for them (install fonts that have "
            "them, e.g. Debian's fonts-noto-core and fonts-noto-color-emoji)",
            err=True,
        )


def _spill_folder(params: dict, inputs: Sequence[Path]) -> contextlib.AbstractContextManager:
    """A temporary folder beside ``--out`` to read out of core in, or a null context (None).

    ``--out-of-core`` asks for it; by default it is used when the canonical events
    would take more than half of the memory (:func:`tribe_analysis.spill.needs_spill`),
    but never with ``--on-error skip`` or ``--pseudonymize`` (both need every event in
    memory; asked for with them, :func:`_check_profile_options` refuses it). The
    folder goes with the run.
    """
    wanted = params["out_of_core"]
    if wanted is False:
        return contextlib.nullcontext()
    if wanted is None:
        from tribe_analysis import io
        from tribe_analysis.spill import estimated_events, needs_spill

        fmt = params["fmt"]
        able = params["on_error"] == "strict" and not params["pseudonymize"]
        if not able or fmt not in ("auto", "csv", "parquet", "ndjson"):
            return contextlib.nullcontext()
        try:
            files = io._expand(list(inputs), "events" if fmt != "auto" else fmt)
        except ev.EventsError:
            return contextlib.nullcontext()  # the reader says what is wrong
        if not needs_spill(estimated_events(files, None if fmt == "auto" else fmt)):
            return contextlib.nullcontext()
    parent = Path(os.path.realpath(params["out"])).parent  # made by the OutputFolder
    return tempfile.TemporaryDirectory(prefix=".tribe-analysis-spill-", dir=parent)


def _say_what_is_unknown(run) -> None:
    """Print each unobservable signal and why, and the run's notes, on stderr."""
    for signal, reason in run.unobservable.items():
        click.echo(f"unobservable: {signal} — {reason}", err=True)
    for note in run.notes:
        click.echo(f"note: {note}", err=True)


def _check_profile_options(params: dict) -> None:
    """Refuse options that contradict each other, or files that ``--out`` would replace."""
    _check_engine_options(params)
    if params["leaders_file"] is not None and params["top"] is not None:
        raise click.UsageError("give --leaders FILE or --top-leaders N, not both")
    if params["out_of_core"] and (params["on_error"] != "strict" or params["pseudonymize"]):
        raise click.UsageError(
            "--out-of-core reads in strict mode and cannot pseudonymize: drop --on-error skip "
            "and --pseudonymize, or use --in-memory"
        )
    if params["key_file"] is not None and not params["pseudonymize"]:
        raise click.UsageError("--key-file is the key of --pseudonymize: give both or neither")
    _check_card_png(params)
    raw = params["quarantine_raw"]
    if raw is not None and params["on_error"] != "skip":
        raise click.UsageError("--quarantine-raw needs --on-error skip")
    out = Path(os.path.realpath(params["out"]))
    if raw is not None and Path(os.path.realpath(raw)).is_relative_to(out):
        _error(f"{raw}: --quarantine-raw must be outside --out (the results hold no raw records)")
    local = [p for p in params["inputs"] if "://" not in p]
    named = [*local, params["leaders_file"], params["key_file"]]
    if raw is not None:
        _refuse_overwriting_inputs(raw, "--quarantine-raw", named)
    for path in (p for p in named if p is not None):
        if Path(os.path.realpath(path)).is_relative_to(out):
            _error(
                f"{params['out']}: holds {path}, which a run replaces with its results: "
                "name another --out"
            )


def _refuse_overwriting_inputs(
    target: Path, option: str, named: Sequence[str | Path | None]
) -> None:
    """Refuse a file to write that is a file the run reads, or inside a folder it reads."""
    where = Path(os.path.realpath(target))
    for path in (p for p in named if p is not None and "://" not in str(p)):
        if where.is_relative_to(os.path.realpath(path)):
            _error(
                f"{target}: {option} must not be a file the run reads, nor inside one "
                f"({path}): name another file"
            )


def _start_background_work(report: bool) -> None:
    """Start what the run needs later while this process reads and profiles.

    The heavy imports (and the report's, with a report) in a background thread; with
    a report, the drawing processes too: each takes a moment to get ready, which
    started at the end would add to the run.
    """
    from tribe_analysis import pipeline

    pipeline.import_in_background(report=report, without=("pandas",))
    if report:
        from tribe_analysis import _drawing

        _drawing.start()


def _check_card_png(params: dict) -> None:
    if params["card_png"] and not params["report"]:
        raise click.UsageError("--card-png draws the report's cards: it cannot go with --no-report")


def _check_engine_options(params: dict) -> None:
    """Options the dask engine cannot honour are usage errors, never silently ignored."""
    if params["engine"] != "dask":
        if params["cluster_address"] is not None:
            raise click.UsageError("--cluster is the scheduler of --engine dask: give both")
        return
    refused = {
        "--pseudonymize": params["pseudonymize"],
        "--on-error skip": params["on_error"] == "skip",
        f"--format {params['fmt']}": params["fmt"] not in ("auto", "parquet"),
        "--out-of-core/--in-memory (the engine reads on its workers)": params["out_of_core"]
        is not None,
    }
    for option, given in refused.items():
        if given:
            raise click.UsageError(
                f"--engine dask reads canonical Parquet strictly and does not support {option} "
                "(use the default --engine polars)"
            )


def _profile_on_dask(params: dict) -> None:
    """``profile --engine dask``: the same job, on a Dask cluster (:func:`pipeline.profile_distributed`)."""
    from tribe_analysis import distributed as dx
    from tribe_analysis import pipeline

    missing = dx.available()
    if missing:
        _error(missing)
    inputs, out = params["inputs"], params["out"]
    options = {k: params[k] for k in ("since", "until", "seed", "report", "card_png", "engine")}
    options |= {"leaders": params["leaders_file"] and str(params["leaders_file"])}
    top = params["top"] or (None if params["leaders_file"] else DEFAULT_TOP)
    options |= {"top_leaders": top, "profiles": params["n_profiles"]}
    options |= {"graph": params["graph_scope"], "cluster": params["cluster_address"] is not None}
    local = [p for p in inputs if "://" not in p]
    with pipeline.OutputFolder(out, command="profile", options=options, inputs=local) as folder:
        try:
            with dx.cluster(params["cluster_address"]) as client:
                run = _dask_run(dx, pipeline, client, params)
        except ev.EventsError as exc:
            _fail(exc.problems)
        except ValueError as exc:
            _error(str(exc))
        except OSError as exc:  # the scheduler cannot be reached
            _error(f"dask: {exc}")
        _say_what_is_unknown(run)
        folder.counts.update(records_read=run.event_count, records_loaded=run.event_count)
        bar = _steps(3 if params["report"] else 2)
        try:
            written = pipeline.write_outputs(
                run,
                folder,
                report=params["report"],
                graph=params["graph_scope"],
                on_step=bar,
                card_png=params["card_png"],
            )
        finally:
            bar.close()
    click.echo(format_profiles(run.profiles))
    click.echo(f"\nresults in {out}/: " + ", ".join(written))
    _missing_glyphs_note()


def _dask_run(dx, pipeline, client, params: dict):
    """Read the inputs with Dask, check the leaders file, and profile on ``client``."""
    frame = dx.read_parquet(list(params["inputs"]))
    leaders = None
    if params["leaders_file"] is not None:
        leaders = _read_leader_file(
            params["leaders_file"], lambda ids: dx.present_actors(frame, ids)
        )
    bar = _steps(4)
    try:
        return pipeline.profile_distributed(
            frame,
            leaders,
            client=client,
            top=params["top"] or DEFAULT_TOP,
            since=params["since"],
            until=params["until"],
            n_profiles=_profiles_option(params["n_profiles"]),
            seed=params["seed"],
            on_step=bar,
            threads=params["report"],
        )
    finally:
        bar.close()


def _key(key_file: Path | None) -> bytes:
    from tribe_analysis.privacy import KeyError_, load_key

    try:
        return load_key(key_file)
    except KeyError_ as exc:
        _error(str(exc))


def _keep_skipped(result, folder, raw: Path | None, pseudonymize: bool) -> None:
    """Have the raw quarantine written where the user asked; say where the skipped records are.

    The raw file goes in place with the results (:meth:`OutputFolder.write_beside`):
    a failed run leaves it as it was; a run that skipped nothing leaves it empty, so
    it never holds the records of another run.
    """
    from tribe_analysis import pipeline

    if raw is not None:
        folder.write_beside(raw, pipeline.quarantine_text(result.skipped))
    if not result.skipped:
        return
    out = folder.out
    where = out / pipeline.QUARANTINE
    # said before the run, written with its results: a run that fails writes neither
    if not pseudonymize:
        also = f" and {raw}" if raw is not None else ""
        _report_skipped(result, f" (kept with the results in {where}{also})")
        return
    kept = (
        f"raw records in {raw} (it holds ids, handles and text)"
        if raw is not None
        else "record text left out: pseudonymised run; --quarantine-raw FILE keeps it"
    )
    _report_skipped(result, f" (reasons kept with the results in {where}; {kept})")


def _profile_run(result, leaders, inputs, bar, top, since, until, k, seed, key):
    """:func:`tribe_analysis.pipeline.profile` of a read input; a bad window is one error line."""
    from tribe_analysis import pipeline

    try:
        return pipeline.profile(
            result.events,
            leaders,
            top=top,
            since=since,
            until=until,
            n_profiles=k,
            seed=seed,
            observability=result.observability,
            platform=result.platform,
            names=result.names,
            key=key,
            on_step=bar,
            notes=result.notes,
        )
    except ev.EventsError as exc:
        where = ", ".join(map(str, inputs))
        _fail([ev.Problem(where, None, f"{p.reason} with --leaders FILE") for p in exc.problems])
    except ValueError as exc:  # --since/--until unreadable, reversed, or no events inside
        _error(str(exc))


def _profiles_option(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        k = 0
    if k < 1:
        raise click.BadParameter(
            f"expected a positive integer or 'auto', got {value!r}", param_hint="'--profiles'"
        )
    return k


@main.command()
@click.option(
    "--out",
    "out",
    default=Path("results/demo"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for all results (written whole, replacing an earlier tribe-analysis output).",
)
@click.option("--leaders", "n_leaders", default=40, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=60, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@_report_options
def demo(out: Path, n_leaders: int, days: int, seed: int, report: bool, card_png: bool) -> None:
    """Simulate a tribe, profile it, compare with the planted styles; write all into OUT."""
    from tribe_analysis import pipeline

    _check_card_png(click.get_current_context().params)
    _start_background_work(report)
    options = {"leaders": n_leaders, "days": days, "seed": seed, "report": report}
    options["card_png"] = card_png
    with pipeline.OutputFolder(out, command="demo", options=options) as folder:
        tribe = _simulate(n_leaders=n_leaders, days=days, seed=seed)
        # the leaders write_simulation lists: the run's leaders.txt replaces its list
        leaders = _demo_leaders(tribe, days)  # before its note on the silent leaders
        with folder.writing():
            paths = write_simulation(tribe, folder.path, write_csv=True)
        result = _load([folder.path / "events.csv"], "events", "strict")
        click.echo(format_summary(ev.summarize_events(result.events)))
        run = pipeline.profile(result.events, leaders, seed=seed, n_profiles=2)
        folder.counts.update(records_read=result.records_read, records_loaded=result.records_loaded)
        written = pipeline.write_outputs(run, folder, report=report, card_png=card_png)
    click.echo("")
    click.echo(format_profiles(run.profiles))
    joined = run.profiles.join(tribe.truth.select("leader_id", "style"), on="leader_id")
    decided = joined.filter(pl.col("profile") != "undetermined")
    agree = int((decided["profile"] == decided["style"]).sum())
    click.echo(
        f"\nagreement with the planted styles: {agree}/{decided.height} decided leaders "
        f"({agree / max(decided.height, 1):.0%}); "
        f"{joined.height - decided.height} undetermined"
    )
    names = list(dict.fromkeys([p.name for p in paths] + written))  # leaders.txt: the run's
    click.echo(f"results in {out}/: " + ", ".join(names))


def _demo_leaders(tribe: SimulatedTribe, days: int) -> list[str]:
    """The simulated leaders with events of their own; none is one error line."""
    silent = set(_silent_leaders(tribe))
    leaders = [leader for leader in tribe.leaders if leader not in silent]
    if not leaders:
        _error(
            f"no simulated leader has an event of their own in {days} day(s): "
            "give more --days or --leaders"
        )
    return leaders


if __name__ == "__main__":  # pragma: no cover
    main()
