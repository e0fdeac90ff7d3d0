"""The whole ``profile`` job as two library calls: :func:`profile` and :func:`write_outputs`.

The command line (``tribe-analysis profile``, ``demo``) and the notebooks both call
these, so every way in computes the same things, once each: the observability
of the signals, the leaders, the edge list (reused by the ego networks and the
graph files), the measures and the profiles::

    from tribe_analysis import io, pipeline
    result = io.read("export.ndjson")
    run = pipeline.profile(result.events, top=20, observability=result.observability,
                           platform=result.platform, names=result.names)
    pipeline.write_outputs(run, "results")

:func:`profile` only computes (nothing is written); :func:`write_outputs` only
writes what a :class:`ProfileRun` holds.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis.outputs import (
    MANIFEST,
    QUARANTINE,
    OutputError,
    OutputFolder,
    quarantine_text,
    write_quarantine,
)

if TYPE_CHECKING:
    from distributed import Client

    from tribe_analysis.io import Skipped

__all__ = [
    "FIRST_COLUMNS",
    "LEADERS_COMMENT",
    "MANIFEST",
    "OUTPUTS",
    "QUARANTINE",
    "OutputError",
    "OutputFolder",
    "ProfileRun",
    "choose_leaders",
    "import_in_background",
    "leader_lines",
    "leaders_file",
    "own_threads",
    "profile",
    "profile_distributed",
    "quarantine_text",
    "read_leaders",
    "write_outputs",
    "write_quarantine",
]

FIRST_COLUMNS = (
    "leader_id",
    "profile",
    "reason",
    "probability",
    "participation_index",
    "index_low",
    "index_high",
    "parts_observed",
    "sub_profile",
    "leader_name",
)
"""The first columns of ``profiles.csv``, in order."""

OUTPUTS = (
    "profiles.csv",
    "leaders.txt",
    "features.parquet",
    "edges.parquet",
    "graph.graphml",
    "graph.gexf",
    "manifest.json",
)
"""Files :func:`write_outputs` always writes (``charts/`` and ``report.html`` with a report,
``quarantine.jsonl`` with skipped records); ``manifest.json`` is written last."""


@dataclass(frozen=True)
class ProfileRun:
    """Everything one profiling run computed.

    Attributes
    ----------
    leaders : list of str
        Leader ids, sorted.
    profiles : polars.DataFrame
        One row per leader: :data:`FIRST_COLUMNS`, then ``p_participator``,
        ``cluster``, ``stability``, ``ways``, ``drivers`` and every measure
        (see :func:`tribe_analysis.profiles.profile_leaders`).
    measures : polars.DataFrame
        :func:`tribe_analysis.features.leader_measures` with numerators,
        denominators and intervals, plus an ``unobservable`` column.
    observability : polars.DataFrame
        :func:`tribe_analysis.observability.observe` table of the whole input.
    edges : polars.DataFrame
        :func:`tribe_analysis.graph.edge_list` of the events profiled.
    events : polars.DataFrame
        The events profiled (pseudonymised when a key was given).
    names : dict
        Display names of the leaders that have one.
    notes : tuple of str
        What the user should know about the run (e.g. how leaders were chosen).
    pseudonymized : bool
        Whether accounts but the leaders were pseudonymised (``key`` given): then
        :func:`write_outputs` masks the quarantine too.
    event_count, time_span : optional
        Number of events profiled and their first and last time, when ``events``
        holds only part of them (a distributed run keeps the leaders' threads).
    node_names : dict
        Display names of the accounts, for the nodes' labels in the graph files
        (only the leaders' when pseudonymised: another name would say who it is).
    window : tuple
        ``since`` and ``until`` (UTC) when the measures took a time window, else None.
    """

    leaders: list[str]
    profiles: pl.DataFrame
    measures: pl.DataFrame
    observability: pl.DataFrame
    edges: pl.DataFrame
    events: pl.DataFrame
    names: dict[str, str]
    notes: tuple[str, ...] = ()
    pseudonymized: bool = False
    event_count: int | None = None
    time_span: tuple[datetime | None, datetime | None] | None = None
    node_names: dict[str, str] = field(default_factory=dict)
    window: tuple[datetime | None, datetime | None] = (None, None)

    @property
    def unobservable(self) -> dict[str, str]:
        """Each unobservable signal and why (empty when every signal is observable)."""
        from tribe_analysis.observability import unobservable

        return unobservable(self.observability)


HEAVY_MODULES = ("tribe_analysis.features", "tribe_analysis.graph", "tribe_analysis.profiles")
"""Modules :func:`import_in_background` loads: scikit-learn and SciPy take 1-1.5 s of CPU."""


IMPORT_SWITCH_INTERVAL = 0.0002
"""Seconds between GIL hand-overs while :func:`import_in_background` runs (Python's default: 0.005)."""


def import_in_background(
    modules: Sequence[str] = HEAVY_MODULES, *, report: bool = False, without: Sequence[str] = ()
) -> threading.Thread:
    """Import ``modules`` in a daemon thread while the caller reads its input.

    Reading is polars work that releases the GIL, so the imports cost the command
    little wall time. While they run, Python's thread switch interval is
    :data:`IMPORT_SWITCH_INTERVAL` instead of 5 ms: the caller takes the GIL back after
    each polars call, and with the default it waited up to 5 ms each time (reading
    1M events took 1.1-1.4 s beside the imports instead of 0.6-0.8 s alone). An
    import the caller needs meanwhile waits for the thread's (Python's per-module
    import locks); none of these modules imports the other in a cycle, so the two
    threads cannot deadlock. With ``report``, the report's modules (Altair and
    jsonschema: half a second) are imported last.

    ``without`` names optional imports of ``modules`` to leave out: while ``modules``
    are imported, importing any of them fails (as if not installed) unless it is
    imported already; afterwards it imports as usual. scikit-learn imports pandas,
    when installed, only for a helper that reads ARFF files (a quarter of a second of
    CPU); the command line leaves it out. Only for a process that does not import
    those modules meanwhile in another thread.

    Python's cyclic garbage collector is off while they are imported (if it was on),
    and the objects that exist then are moved to its permanent generation
    (:func:`gc.freeze`) before it is on again: the imports create hundreds of
    thousands of objects, none of them garbage, and the collector went over them
    again and again (0.3-0.4 s of CPU at 1M events, holding the GIL). Objects the
    caller made meanwhile are frozen too: a cycle among them is never collected.
    """
    interval = sys.getswitchinterval()
    left_out = [name for name in without if name not in sys.modules]
    collecting = gc.isenabled()

    def load() -> None:
        try:
            for name in left_out:
                sys.modules[name] = None  # type: ignore[assignment]  # its import fails
            try:
                for name in modules:
                    importlib.import_module(name)
            finally:
                for name in left_out:
                    if name in sys.modules and sys.modules[name] is None:
                        del sys.modules[name]
            if report:
                _import_jsonschema_without_rfc3987_syntax()
                importlib.import_module("tribe_analysis.report")
        finally:
            sys.setswitchinterval(interval)
            if collecting:
                gc.freeze()
                gc.enable()

    sys.setswitchinterval(min(interval, IMPORT_SWITCH_INTERVAL))
    gc.disable()

    thread = threading.Thread(target=load, name="tribe-analysis-imports", daemon=True)
    thread.start()
    return thread


def profile(
    events: pl.DataFrame | pl.LazyFrame,
    leaders: Sequence[str] | None = None,
    *,
    top: int = 20,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    n_profiles: int | str = "auto",
    seed: int = 0,
    observability: Mapping[str, bool] | pl.DataFrame | None = None,
    platform: str | None = None,
    names: Mapping[str, str] | None = None,
    key: bytes | None = None,
    on_step: Callable[[str], None] | None = None,
    notes: Sequence[str] = (),
) -> ProfileRun:
    """Profile leaders of ``events`` as broadcasters or participators.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events (as every reader and :func:`tribe_analysis.events.read_events`
        return them), or a lazy frame over completed events that do not fit in memory
        (:func:`tribe_analysis.spill.spill_events`): every stage then scans it for the
        columns it needs, and the run keeps only the leaders' own events and threads.
    leaders : sequence of str, optional
        Leader ids; by default :func:`choose_leaders` picks ``top``.
    top : int
        How many leaders to choose when ``leaders`` is not given.
    since, until : datetime or ISO-8601 str, optional
        Profile the events with ``since <= timestamp < until`` only (the top leaders
        are chosen from them too).
    n_profiles : int or "auto"
        Sub-profiles per label (:class:`tribe_analysis.profiles.LeaderProfiler`).
    seed : int
        Random seed of the clustering.
    observability : mapping or polars.DataFrame, optional
        The reader's platform facts, or an :func:`~tribe_analysis.observability.observe`
        table; decided from ``events`` by default.
    platform : str, optional
        Platform name, for the reasons given for unobservable signals.
    names : mapping, optional
        Display names by account id (labels of the leaders in tables and charts).
    key : bytes, optional
        Pseudonymise every account but the leaders with this key, and drop text
        (:func:`tribe_analysis.privacy.pseudonymize`), before anything is measured.
    on_step : callable, optional
        Called with a step's name after each of its four steps (for progress bars).
    notes : sequence of str
        What the reader inferred (:attr:`tribe_analysis.io.ReadResult.notes`): the
        run's notes start with them.

    Returns
    -------
    ProfileRun
        With ``since``/``until``, its ``events`` and ``edges`` are the window's (the
        report's cards and the graph files show what was measured). With a lazy
        ``events``, its ``events`` hold the leaders' own events and the events in
        their threads, and ``event_count`` and ``time_span`` describe all (of the window).

    Raises
    ------
    ValueError
        When ``since``/``until`` cannot be read, ``since`` is not before ``until``,
        or the window holds no events; when ``key`` is given with lazy ``events``
        (pseudonymising maps every id in memory); when ``events`` lack a column or
        hold one of a type that cannot be read as the canonical one
        (:func:`tribe_analysis.events.usable_events`).
    tribe_analysis.events.EventsError
        When no account can be chosen as a leader.
    TypeError
        When ``leaders`` is a single string (one leader is ``["ann"]``) or holds
        something that is not an id; when ``top`` is not a whole number (leaders chosen).

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=30, seed=2)
    >>> run = profile(tribe.events, tribe.leaders)
    >>> run.profiles.columns[:3], run.profiles.height
    (['leader_id', 'profile', 'reason'], 4)
    """
    from tribe_analysis.features._scope import COLUMNS
    from tribe_analysis.observability import observe

    if leaders is not None:
        leaders = ev.leader_ids(leaders)
    events = ev.usable_events(events, COLUMNS)
    step = on_step or (lambda _: None)
    lazy = isinstance(events, pl.LazyFrame)
    if lazy and key is not None:
        raise ValueError("pseudonymizing needs the events in memory (a DataFrame, not a LazyFrame)")
    _check_window(events, since, until)
    if not isinstance(observability, pl.DataFrame):
        observability = observe(events, observability, platform_name=platform)
    from tribe_analysis.graph import edge_list

    edges = edge_list(events)
    step("edges")
    notes = [*notes, *_mention_notes(edges)]
    scope, scope_edges = _in_window(events, since, until, edges)  # the events measured
    if leaders is None:  # chosen on the window's events: labels rest on those
        leaders, note = choose_leaders(scope, top, observability, edges=scope_edges)
        notes += [note] if note else []
    leaders = sorted(set(leaders))
    step("leaders")
    if key is not None:
        from tribe_analysis.privacy import pseudonymize

        assert isinstance(events, pl.DataFrame)  # a lazy frame with a key is refused above
        events = pseudonymize(events, key, keep=leaders)
        edges = edge_list(events)
        scope, scope_edges = _in_window(events, since, until, edges)
    measures = _measure(events, leaders, since, until, observability, edges)
    step("measures")
    shown = {leader: names[leader] for leader in leaders if names and leader in names}
    table = _profiles(measures, n_profiles, seed, shown)
    step("profiles")
    # lazy events: the run keeps their count and time span, and the leaders' threads
    kept, count, span = (
        _threads_only(scope, leaders) if isinstance(scope, pl.LazyFrame) else (scope, None, None)
    )
    return ProfileRun(  # with a window, its events and edges: the outputs show what was measured
        leaders,
        table,
        measures,
        observability,
        scope_edges,
        kept,
        shown,
        tuple(notes),
        pseudonymized=key is not None,
        event_count=count,
        time_span=span,
        node_names=shown if key is not None else dict(names or {}),
        window=_window_bounds(since, until),
    )


def _threads_only(
    events: pl.DataFrame | pl.LazyFrame, leaders: Sequence[str]
) -> tuple[pl.DataFrame, int, tuple[datetime | None, datetime | None]]:
    """The leaders' own events and threads (:func:`own_threads`), the count and time span of all."""
    ts = pl.col("timestamp")
    span = events.lazy().select(pl.len(), ts.min().alias("first"), ts.max().alias("last"))
    count, first, last = span.collect().row(0)
    return own_threads(events, leaders), count, (first, last)


def own_threads(events: pl.DataFrame | pl.LazyFrame, leaders: Sequence[str]) -> pl.DataFrame:
    """The leaders' own events and the events in the threads they started (the report cards').

    Sorted by ``timestamp`` then ``event_id``.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=2, days=10, seed=1)
    >>> kept = own_threads(tribe.events.lazy(), tribe.leaders[:1])
    >>> 0 < kept.height < tribe.events.height
    True
    """
    lf = events.lazy()
    own = pl.col("actor_id").is_in(list(leaders))
    roots = lf.filter(own & (pl.col("action") == "post")).select(
        pl.col("event_id").alias("thread_id")
    )
    threads = lf.join(roots, on="thread_id", how="semi")
    kept = pl.concat([lf.filter(own), threads]).unique("event_id", keep="first")
    return kept.sort("timestamp", "event_id").collect(engine="streaming")


def profile_distributed(
    frame: object,
    leaders: Sequence[str] | None = None,
    *,
    client: Client,
    top: int = 20,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    n_profiles: int | str = "auto",
    seed: int = 0,
    observability: Mapping[str, bool] | None = None,
    platform: str | None = None,
    on_step: Callable[[str], None] | None = None,
    threads: bool = True,
) -> ProfileRun:
    """:func:`profile` on a Dask cluster: the same leaders, measures and profiles.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
        Canonical events from :func:`tribe_analysis.distributed.read_parquet`.
    leaders, top, since, until, n_profiles, seed, platform, on_step
        As for :func:`profile`.
    client : distributed.Client
        The cluster's client (:func:`tribe_analysis.distributed.cluster`).
    observability : mapping, optional
        Platform facts (keys ``reaction``, ``share``, ``mention``, ``reply``); the
        data decides the rest, as in :func:`profile`.
    threads : bool
        Keep the leaders' own events and their threads in ``events`` (the report
        cards draw them); without it ``events`` is empty.

    Returns
    -------
    ProfileRun
        Its ``events`` hold the leaders' own events and their threads only (see ``threads``);
        ``event_count`` and ``time_span`` describe all events.

    Raises
    ------
    ValueError
        As for :func:`profile`.
    tribe_analysis.events.EventsError
        When the events are not valid canonical events, or no leader can be chosen.
    """
    from tribe_analysis import distributed as dx

    with dx.settings():
        return _profile_distributed(
            frame,
            leaders,
            client,
            step=on_step or (lambda _: None),
            top=top,
            window=_window_bounds(since, until),
            n_profiles=n_profiles,
            seed=seed,
            observability=observability,
            platform=platform,
            threads=threads,
        )


def _profile_distributed(
    frame: object,
    leaders: Sequence[str] | None,
    client: Client,
    *,
    step: Callable[[str], None],
    top: int,
    window: tuple[datetime | None, datetime | None],
    n_profiles: int | str,
    seed: int,
    observability: Mapping[str, bool] | None,
    platform: str | None,
    threads: bool,
) -> ProfileRun:
    """:func:`profile_distributed` under the engine's Dask settings."""
    from tribe_analysis import distributed as dx
    from tribe_analysis.features import signals_of, with_ego
    from tribe_analysis.graph import ego_measures
    from tribe_analysis.observability import decide

    lo, hi = window
    summary = dx.summarize(frame, lo, hi)
    if summary.in_window == 0:
        raise _empty_window(summary.first, summary.last)
    frame = dx.persist(dx.threads_of(frame, client, unthreaded=summary.unthreaded > 0), client)
    counts, has_audience = dx.signal_counts(frame)
    observed = decide(counts, observability, platform_name=platform)
    edges = dx.edge_list(frame)
    step("edges")
    notes = _mention_notes(edges)
    whole = lo is None and hi is None
    scope = frame if whole else dx.window(frame, lo, hi)
    scope_edges = edges if whole else dx.edge_list(scope)
    if leaders is None:  # chosen on the window's events: labels rest on those
        own = dx.account_counts(scope)
        seen = signals_of(None, observed)
        able = dx.evidence_of(scope, own, seen, 5)
        leaders, note = _choose(own, scope_edges, top, able, lambda: has_audience)
        notes += [note] if note else []
    leaders = sorted(set(leaders))
    step("leaders")
    bare = dx.measures(dx.leader_slices(frame, leaders), leaders, observed, lo, hi)
    ego = ego_measures(scope_edges, leaders)
    measures = _with_unobservable(with_ego(bare, ego), observed)
    step("measures")
    table = _profiles(measures, n_profiles, seed, {})
    step("profiles")
    return ProfileRun(  # with a window, the window's events and edges (as :func:`profile`)
        leaders,
        table,
        measures,
        observed,
        scope_edges,
        dx.own_threads(scope, leaders) if threads else ev.empty_events(),
        {},
        tuple(notes),
        event_count=summary.events if whole else summary.in_window,
        time_span=(summary.first, summary.last) if whole else summary.window_span,
        window=window,
    )


def _mention_notes(edges: pl.DataFrame) -> list[str]:
    """A note when mentions write ids with an ``@`` that ``actor_id`` writes without."""
    from tribe_analysis.graph import prefixed_mentions

    found = prefixed_mentions(edges)
    if not found:
        return []
    return [
        f"{found:,} mentions name an account of the data with a leading '@' that its "
        "actor_id does not have ('@ann' for 'ann'): they count as other accounts (in the "
        "graph, and a leader's mention of itself as promoting someone); write mentions as "
        "actor_id writes ids"
    ]


def _in_window(
    events: pl.DataFrame | pl.LazyFrame,
    since: datetime | str | None,
    until: datetime | str | None,
    edges: pl.DataFrame,
) -> tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame]:
    """The events with ``since <= timestamp < until`` and their edge list (all and ``edges`` without)."""
    if since is None and until is None:
        return events, edges
    from tribe_analysis.graph import edge_list

    scope = events.filter(_inside(*_window_bounds(since, until)))
    return scope, edge_list(scope)


def _check_window(
    events: pl.DataFrame | pl.LazyFrame, since: datetime | str | None, until: datetime | str | None
) -> None:
    """Refuse a window that is reversed or holds no events (it would label nobody)."""
    if since is None and until is None:
        return
    lf = events.lazy()
    if not lf.select(_inside(*_window_bounds(since, until)).any()).collect().item():
        ts = pl.col("timestamp")
        first, last = lf.select(ts.min().alias("a"), ts.max().alias("b")).collect().row(0)
        raise _empty_window(first, last)


def _inside(lo: datetime | None, hi: datetime | None) -> pl.Expr:
    """True for the events with ``lo <= timestamp < hi`` (either bound may be open)."""
    ts = pl.col("timestamp")
    inside = pl.lit(True)
    if lo is not None:
        inside = inside & (ts >= lo)
    if hi is not None:
        inside = inside & (ts < hi)
    return inside


def _empty_window(first: datetime | None, last: datetime | None) -> ValueError:
    span = (
        "the data has no events"
        if first is None
        else f"the data spans {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    )
    return ValueError(f"no events in the window ({span})")


def _window_bounds(
    since: datetime | str | None, until: datetime | str | None
) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` as UTC datetimes; a reversed window is an error."""
    from tribe_analysis.features._scope import _utc

    lo = None if since is None else _utc(since)
    hi = None if until is None else _utc(until)
    if lo is not None and hi is not None and lo >= hi:
        raise ValueError(f"--since {since} is not before --until {until}")
    return lo, hi


def _measure(
    events: pl.DataFrame | pl.LazyFrame,
    leaders: list[str],
    since: datetime | str | None,
    until: datetime | str | None,
    observability: pl.DataFrame,
    edges: pl.DataFrame,
) -> pl.DataFrame:
    """The measures, with the ``unobservable`` column (``edges`` reused for the ego networks)."""
    from tribe_analysis import features

    whole = since is None and until is None
    measures = features.leader_measures(
        events,
        leaders,
        since=since,
        until=until,
        observability=observability,
        edges=edges if whole else None,
    )
    return _with_unobservable(measures, observability)


def _with_unobservable(measures: pl.DataFrame, observability: pl.DataFrame) -> pl.DataFrame:
    """``measures`` with the ``unobservable`` column: each unobservable signal and why."""
    from tribe_analysis.observability import unobservable

    text = "; ".join(f"{signal}: {why}" for signal, why in unobservable(observability).items())
    return measures.with_columns(pl.lit(text).alias("unobservable"))


def _profiles(
    measures: pl.DataFrame, n_profiles: int | str, seed: int, names: Mapping[str, str]
) -> pl.DataFrame:
    """The profile table with ``leader_name``, its first columns in :data:`FIRST_COLUMNS` order."""
    from tribe_analysis.profiles import profile_leaders

    _, table = profile_leaders(measures, n_profiles=n_profiles, random_state=seed)
    named = pl.col("leader_id").replace_strict(
        dict(names), default=pl.col("leader_id"), return_dtype=pl.String
    )
    table = table.with_columns(named.alias("leader_name"))
    return table.select(*FIRST_COLUMNS, pl.exclude(*FIRST_COLUMNS))


def choose_leaders(
    events: pl.DataFrame | pl.LazyFrame,
    top: int,
    observability: pl.DataFrame,
    *,
    edges: pl.DataFrame | None = None,
) -> tuple[list[str], str | None]:
    """The ``top`` accounts by audience that can be labelled, else a fallback and a note.

    ``edges``, the :func:`~tribe_analysis.graph.edge_list` of ``events``, makes
    counting audiences faster (:func:`~tribe_analysis.features.select_leaders`).

    Returns
    -------
    leaders : list of str
        Leader ids, largest audience first.
    note : str or None
        Why there are fewer than ``top``, or how leaders were chosen when no
        account has enough evidence (then expect "undetermined" labels).

    Raises
    ------
    tribe_analysis.events.EventsError
        When no account has 10 authored actions.

    Examples
    --------
    >>> from tribe_analysis.observability import observe
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=30, seed=2)
    >>> choose_leaders(tribe.events, 3, observe(tribe.events))
    (['m00044', 'm00056', 'm00095'], None)
    >>> leaders, note = choose_leaders(tribe.events, 300, observe(tribe.events))
    >>> note
    '19 leaders, not 300: only 19 accounts have enough observable evidence to be labelled'
    """
    from tribe_analysis.features import selection, signals_of

    lf = events.lazy()
    own = selection.account_counts(lf)
    seen = signals_of(events, observability)
    return _choose(
        own,
        edges,
        top,
        selection.evidence_of(lf, own, seen, 5),
        lambda: _has_audience(events),
        lf,
    )


def _choose(
    own: pl.DataFrame,
    edges: pl.DataFrame | None,
    top: int,
    able: Callable[[pl.Series], set[str]],
    has_audience: Callable[[], bool],
    lf: pl.LazyFrame | None = None,
) -> tuple[list[str], str | None]:
    """:func:`choose_leaders` from per-account counts (``selection.account_counts``).

    ``able`` gives the accounts of a batch of candidates with enough evidence
    (:func:`tribe_analysis.features.selection.with_evidence`); ``has_audience``
    says whether any event acts on another's content. Any engine can give these.
    """
    from tribe_analysis.features.selection import ranked_candidates, with_evidence

    top = ev.whole_number(top, "top")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    ranked = ranked_candidates(own, "audience", 1, edges, lf)
    leaders = with_evidence(ranked, top, able)
    if len(leaders) == top:
        return leaders, None
    if leaders:
        n = len(leaders)
        only = "only 1 account has" if n == 1 else f"only {n} accounts have"
        note = (
            f"{n} leader{'s' if n != 1 else ''}, not {top}: {only} enough observable "
            "evidence to be labelled"
        )
        return leaders, note
    for by in ("audience", "activity"):
        leaders = ranked_candidates(own, by, 10, edges, lf).to_list()[:top]
        if leaders and (by == "activity" or has_audience()):
            how = "authored actions" if by == "activity" else "audience"
            note = (
                "no account has enough observable evidence to be labelled: leaders chosen "
                f"by {how} (expect 'undetermined')"
            )
            return leaders, note
    raise ev.EventsError(
        [ev.Problem("<input>", None, "no account has 10 authored actions: name the leaders")]
    )


def _has_audience(events: pl.DataFrame | pl.LazyFrame) -> bool:
    interacted = pl.col("target_actor_id").is_not_null() & (pl.col("action") != "post")
    return bool(events.lazy().select(interacted.any()).collect().item())


def write_outputs(
    run: ProfileRun,
    out: str | Path | OutputFolder,
    *,
    report: bool = True,
    graph: str = "tribe",
    on_step: Callable[[str], None] | None = None,
    skipped: Sequence[Skipped] = (),
    card_png: bool = False,
) -> list[str]:
    """Write a run's files into ``out``, whole or not at all; return their names.

    ``profiles.csv`` (floats rounded to 6 decimals), ``features.parquet`` (every
    measure with numerators, denominators and intervals), ``edges.parquet`` (every
    edge), ``graph.graphml`` and ``graph.gexf`` (``graph="tribe"``: the leaders,
    their alters and the ties among them; ``"full"``: every edge), with
    ``report`` ``charts/`` (SVG, and PNG of the profile map and the comparison)
    and ``report.html``, with ``skipped``
    ``quarantine.jsonl`` (:func:`write_quarantine`; masked for a pseudonymised
    run), and last ``manifest.json`` (:class:`OutputFolder`). ``on_step`` is
    called with a step's name after the tables, the graph and the report.

    Parameters
    ----------
    run : ProfileRun
        What :func:`profile` computed.
    out : str, Path or OutputFolder
        The results folder: a path (a missing, empty or earlier tribe-analysis
        folder, replaced at once when every file is written), or an open
        :class:`OutputFolder` (the command line's, which holds the lock while it
        reads the input too).
    report : bool
        Write ``charts/`` and ``report.html``.
    graph : {"tribe", "full"}
        What ``graph.graphml`` and ``graph.gexf`` hold.
    on_step : callable, optional
        Progress callback.
    skipped : sequence of tribe_analysis.io.Skipped
        Records the reader did not load (:attr:`tribe_analysis.io.ReadResult.skipped`).
    card_png : bool
        With ``report``, also write each leader's report card as PNG
        (``charts/card_<leader>.png``; the SVG is always written).

    Returns
    -------
    list of str
        Names of the files and folders written.

    Raises
    ------
    ValueError
        When ``graph`` is neither ``"tribe"`` nor ``"full"``.
    OutputError
        When ``out`` cannot be written or is not a folder to replace; ``out`` is unchanged.

    Examples
    --------
    >>> import tempfile
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=30, seed=2)
    >>> run = profile(tribe.events, tribe.leaders)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> written = write_outputs(run, Path(tmp.name) / "results", report=False)
    >>> written[:4], written[-1]
    (['profiles.csv', 'leaders.txt', 'features.parquet', 'edges.parquet'], 'manifest.json')
    >>> (Path(tmp.name) / "results" / "leaders.txt").read_text().splitlines()[-4:]
    ['L001', 'L002', 'L003', 'L004']
    >>> tmp.cleanup()
    """
    if graph not in ("tribe", "full"):
        raise ValueError(f"graph must be 'tribe' or 'full', got {graph!r}")
    if not isinstance(out, OutputFolder):
        options = {"report": report, "graph": graph, "card_png": card_png}
        with OutputFolder(out, command="write_outputs", options=options) as folder:
            return write_outputs(
                run,
                folder,
                report=report,
                graph=graph,
                on_step=on_step,
                skipped=skipped,
                card_png=card_png,
            )
    events = run.events.height if run.event_count is None else run.event_count
    out.counts.update(events=events, leaders=len(run.leaders), records_quarantined=len(skipped))
    out.facts.update(
        pseudonymized=run.pseudonymized,
        unobservable=run.unobservable,
        notes=list(run.notes),
        time_span=_time_span(run),
    )
    with out.writing():
        report_as = ("png" if card_png else "svg") if report else None
        step = on_step or (lambda _: None)
        names = _write_files(run, out.path, report_as, graph, step, out.inputs)
        if skipped:
            write_quarantine(skipped, out.path / QUARANTINE, masked=run.pseudonymized)
    return names + ([QUARANTINE] if skipped else [])


def _first_last(run: ProfileRun) -> tuple[datetime | None, datetime | None]:
    """The first and last event time of the events profiled."""
    if run.time_span is not None:
        return run.time_span
    ts = pl.col("timestamp")
    return run.events.select(ts.min().alias("first"), ts.max().alias("last")).row(0)


def _time_span(run: ProfileRun) -> dict[str, str | None]:
    """First and last event time, ISO-8601 UTC.

    This is the manifest's time: the data's, never the clock's, so the same input
    gives the same bytes.
    """
    first, last = _first_last(run)
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    return {
        "first_event": None if first is None else first.strftime(stamp),
        "last_event": None if last is None else last.strftime(stamp),
    }


LEADERS_COMMENT = re.compile(r"(?:^|\s)#")
"""Where a comment starts in a leaders file: ``#`` first on the line or after white space."""

_LEADERS_HEAD = (
    "# The leaders of this run, one id per line ('#' after a space starts a comment).\n"
    "# Profile them again, in another window or another export of the same platform:\n"
    "#   tribe-analysis profile EXPORT --leaders leaders.txt --since ... --until ...\n"
)


def leaders_file(leaders: Sequence[str], names: Mapping[str, str] | None = None) -> str:
    r"""A leaders file of ``leaders`` (``--leaders``), each with its name as a comment.

    An id a leaders file cannot hold as it is (white space around it, a ``#`` first or
    after white space, a line break) is left out, and a comment says how many were.

    Examples
    --------
    >>> print(leaders_file(["771", "a#1", " x"], {"771": "T.E.D.", "a#1": "A\nB"}), end="")
    # The leaders of this run, one id per line ('#' after a space starts a comment).
    # Profile them again, in another window or another export of the same platform:
    #   tribe-analysis profile EXPORT --leaders leaders.txt --since ... --until ...
    771  # T.E.D.
    a#1  # A B
    # 1 leader left out: its id cannot be written in a leaders file as it is
    """
    lines, left = [], 0
    for leader in leaders:
        broken = len(leader.splitlines()) != 1  # a line break, or nothing
        if broken or leader != leader.strip() or LEADERS_COMMENT.search(leader):
            left += 1
            continue
        name = " ".join((names or {}).get(leader, "").split())
        lines.append(f"{leader}  # {name}" if name and name != leader else leader)
    if left:
        noun = "leader" if left == 1 else "leaders"
        lines.append(f"# {left} {noun} left out: {'its id' if left == 1 else 'their ids'} "
                     "cannot be written in a leaders file as it is")  # fmt: skip
    return _LEADERS_HEAD + "".join(f"{line}\n" for line in lines)


def read_leaders(path: str | Path) -> list[str]:
    r"""The leader ids of a leaders file, in file order, each once.

    A leaders file is what ``--leaders`` takes and what every run writes as
    ``leaders.txt`` (:func:`leaders_file`): one id per line; ``#`` first on a line or
    after white space starts a comment, so an id holding ``#`` (``name#1234``) is read
    whole; blank lines, a UTF-8 byte-order mark and Windows line ends are fine.

    Raises
    ------
    tribe_analysis.events.EventsError
        Naming the file and why: missing, unreadable, not UTF-8, or without an id.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "leaders.txt"
    >>> _ = path.write_text(leaders_file(["771", "name#1234"], {"771": "T.E.D."}) + "771\n")
    >>> read_leaders(path)
    ['771', 'name#1234']
    >>> _ = path.write_text("# nobody yet\n")
    >>> read_leaders(path)
    Traceback (most recent call last):
    tribe_analysis.errors.EventsError: ...leaders.txt: no leader ids in the file
    >>> tmp.cleanup()
    """
    return list(dict.fromkeys(leader for _, leader in leader_lines(path)))


def leader_lines(path: str | Path) -> list[tuple[int, str]]:
    """Each id of a leaders file (:func:`read_leaders`) with its line number, as written.

    Raises
    ------
    tribe_analysis.events.EventsError
        As :func:`read_leaders`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ev.EventsError([ev.Problem(str(path), None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ev.EventsError([ev.Problem(str(path), None, f"not UTF-8 ({exc.reason})")]) from None
    except OSError as exc:
        reason = f"cannot read ({exc.strerror})"
        raise ev.EventsError([ev.Problem(str(path), None, reason)]) from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        leader = LEADERS_COMMENT.split(line, maxsplit=1)[0].strip()
        if leader:
            found.append((number, leader))
    if not found:
        raise ev.EventsError([ev.Problem(str(path), None, "no leader ids in the file")])
    return found


def _about(run: ProfileRun, inputs: Sequence[Path] = ()) -> list[str]:
    """The report's lines on what was profiled: the events, their period, the inputs, the notes."""
    from tribe_analysis.charts import _period

    events = run.events.height if run.event_count is None else run.event_count
    period = _period(*_first_last(run))
    line = f"{events:,} events" + (f", {period}" if period else "")
    files = [path.name for path in inputs]
    if files:
        more = f" and {len(files) - 3:,} more" if len(files) > 3 else ""
        line += f" ({', '.join(files[:3])}{more})"
    return [line, *_window_words(*run.window), *(f"note: {note}" for note in run.notes)]


def _window_words(lo: datetime | None, hi: datetime | None) -> list[str]:
    """The report's line on a time window (``--since``/``--until``), if any.

    Examples
    --------
    >>> from datetime import datetime as dt
    >>> _window_words(dt(2015, 1, 1), dt(2016, 6, 30, 12, 30))
    ['window: Jan 01, 2015 to Jun 30, 2016 12:30 (UTC): measured on these events only']
    >>> _window_words(None, None)
    []
    """

    def day(t: datetime) -> str:
        return f"{t:%b %d, %Y}" + (f" {t:%H:%M}" if (t.hour, t.minute) != (0, 0) else "")

    if lo is not None and hi is not None:
        span = f"{day(lo)} to {day(hi)}"
    elif lo is not None:
        span = f"from {day(lo)}"
    elif hi is not None:
        span = f"before {day(hi)}"
    else:
        return []
    return [f"window: {span} (UTC): measured on these events only"]


def _write_files(
    run: ProfileRun,
    folder: Path,
    report: str | None,
    graph: str,
    step: Callable[[str], None],
    inputs: Sequence[Path] = (),
) -> list[str]:
    """Every file of a run but the quarantine and the manifest, into ``folder`` as it is.

    ``report``: None (no report), ``"svg"`` (report cards as SVG) or ``"png"`` (also PNG);
    ``inputs`` are named in the report.
    """
    finish_report: Callable[[], object] | None = None
    if report:
        from tribe_analysis import _drawing

        _drawing.start()  # the drawing processes start while the tables are written
    try:
        run.measures.write_parquet(folder / "features.parquet", statistics=False)
        floats = [c for c, t in run.profiles.schema.items() if t.is_float()]
        run.profiles.with_columns(pl.col(floats).round(6)).write_csv(folder / "profiles.csv")
        (folder / "leaders.txt").write_text(leaders_file(run.leaders, run.names), encoding="utf-8")
        step("tables")
        if report:  # the charts are drawn in other processes while the graph is written
            _import_jsonschema_without_rfc3987_syntax()
            from tribe_analysis.report import start_report

            labels = run.names or None
            finish_report = start_report(
                folder,
                run.profiles,
                run.edges,
                run.events,
                labels=labels,
                card_png=report == "png",
                about=_about(run, inputs),
            )
        _write_graphs(run.edges, run.leaders, folder, graph, run.node_names)
        step("graph")
        if finish_report is not None:
            finish, finish_report = finish_report, None
            finish()
            step("report")
    finally:
        if finish_report is not None:  # failed meanwhile: the drawers stop writing first
            with contextlib.suppress(BaseException):
                finish_report()
    return list(OUTPUTS) + (["charts/", "report.html"] if report else [])


def _write_graphs(
    edges: pl.DataFrame,
    leaders: Sequence[str],
    out: Path,
    scope: str,
    names: Mapping[str, str] | None = None,
) -> None:
    """``edges.parquet`` (whole graph), and ``graph.graphml``/``graph.gexf`` of ``scope``.

    ``names`` label the graph files' nodes (what Gephi shows on them).
    """
    from tribe_analysis.graph_export import tribe_edges, write_edges, write_graph_files

    write_edges(edges, out / "edges.parquet")
    shown = edges if scope == "full" else tribe_edges(edges, leaders)
    paths = [out / "graph.graphml", out / "graph.gexf"]
    write_graph_files(shown, paths, leaders=leaders, names=names)


def _import_jsonschema_without_rfc3987_syntax() -> None:
    """Import jsonschema (Altair needs it) without the 1.5 s import of rfc3987-syntax.

    jsonschema imports rfc3987-syntax, when installed (JupyterLab brings it), only
    to check strings of the "iri" format, which no Vega-Lite spec has; that import
    builds a parser for 1.5 s. Later imports of rfc3987-syntax work as usual.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import fails: skipped
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]
