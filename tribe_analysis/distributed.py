"""The ``dask`` engine: the same measures, computed on a Dask cluster where the events are.

Dask (``dask.distributed``) reads canonical events from Parquet files, folders or
object-store URLs and does every pass over *all* events: validation, threads and
reply targets, the signal counts, the edge list, the per-account counts that
choose leaders, and, for each leader, the events its measures read (its
*slice*: its own events, the events in its threads and under its posts, the
events that act on or mention it, the root posts of the threads it acted in and
the posts of its alters). The measures themselves are the package's one polars
definition (:func:`tribe_analysis.features.leader_measures`), run by the workers
on the slices, a partition of leaders at a time. A leader's measures read
nothing outside its slice, so they equal the default engine's on the whole input
(``tests/test_distributed.py``). The client only receives aggregates: the edge
list, per-account counts, one row of measures per leader, and the leaders' own
threads (for the report cards). Design and measurements: ``docs/scaling.md``.

Dask is an optional extra (``pip install 'tribe-analysis[dask]'``); this module
imports it only inside its functions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from tribe_analysis.errors import EventsError, Problem, first_line
from tribe_analysis.events import (
    _FIRST_TIME,
    _LAST_TIME,
    ACTIONS,
    REQUIRED_COLUMNS,
    SCHEMA,
    _blank,
    _column_exprs,
    _header_reasons,
)
from tribe_analysis.features._scope import COLUMNS
from tribe_analysis.threads import MAX_THREAD_DEPTH

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "COLUMNS",
    "ENGINES",
    "SETTINGS",
    "Summary",
    "account_counts",
    "available",
    "cluster",
    "edge_list",
    "evidence_of",
    "leader_slices",
    "measures",
    "own_threads",
    "persist",
    "present_actors",
    "read_parquet",
    "settings",
    "signal_counts",
    "summarize",
    "threads_of",
]

ENGINES: tuple[str, ...] = ("polars", "dask")
"""Engines of ``tribe-analysis profile --engine``: ``polars`` (default, one process) and ``dask``."""

_HASH_SEED = 0x7472696265

INSTALL = "pip install 'tribe-analysis[dask]'"

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler named by ``--cluster`` before giving up."""


def available() -> str | None:
    """None when Dask and ``distributed`` can be imported, else why not (with the install command)."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        return f"the dask engine needs Dask ({exc.name} is not installed): {INSTALL}"
    return None


@contextlib.contextmanager
def cluster(address: str | None = None, *, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: of the scheduler at ``address``, else of a local cluster started here.

    Without ``address`` the ``DASK_SCHEDULER_ADDRESS`` environment variable (Dask's
    own ``scheduler-address`` setting) is used; a scheduler that does not answer
    within :data:`CONNECT_TIMEOUT` seconds is an ``OSError``. Without either, a
    :class:`distributed.LocalCluster` of ``workers`` processes (default: one per
    core, at most 4) with one thread each and :data:`LOCAL_WORKERS_SHARE` of the
    memory between them is started and stopped on exit.
    """
    import dask
    from distributed import Client, LocalCluster

    address = (
        address
        or os.environ.get("DASK_SCHEDULER_ADDRESS")
        or dask.config.get("scheduler-address", None)
    )
    if address:
        with Client(address, timeout=CONNECT_TIMEOUT) as client:
            yield client
        return
    n = workers or max(1, min(os.cpu_count() or 1, 4))
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=_worker_memory(n),
            # its web server on a free port: on 8787 (Dask's default, even without a
            # dashboard) a second cluster or a notebook's got a warning, and fell back
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as local,
        Client(local) as client,
    ):
        yield client


LOCAL_WORKERS_SHARE = 0.7
"""Share of this machine's memory a local cluster's workers get, together; the rest is left
to the command (it holds the edge list and the per-account counts). A worker that
reaches its share spills to disk (Dask's own memory management)."""


def _worker_memory(workers: int) -> int:
    """Bytes of memory per local worker: :data:`LOCAL_WORKERS_SHARE` of the machine's, shared."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(total * LOCAL_WORKERS_SHARE / workers)


SETTINGS: dict[str, Any] = {"dataframe.shuffle.method": "tasks"}
"""Dask settings of the engine. Dask's peer-to-peer shuffle cannot move pyarrow list
columns (``mentions``): it fails with "data type 'large_list<...>' not understood"."""


def settings() -> contextlib.AbstractContextManager:
    """A context in which Dask uses :data:`SETTINGS`."""
    import dask

    return dask.config.set(SETTINGS)


def read_parquet(paths: Sequence[str], storage_options: Mapping[str, Any] | None = None):
    """Canonical events from Parquet ``paths`` (files, folders, globs or URLs) as a Dask frame.

    One partition per row group of each file, read by the workers (fsspec opens
    the URLs: ``s3://`` needs ``s3fs``, ``gs://`` ``gcsfs``; ``storage_options`` go
    to it). Columns :data:`COLUMNS` with pyarrow types; ``parent_id``,
    ``thread_id``, ``target_actor_id`` and ``mentions`` are null where a file has
    none. Only the footers are read here, to check each file's columns.

    Raises
    ------
    EventsError
        When a path does not exist, a file is not Parquet, a required column is
        missing or a column has the wrong type (one problem per file).
    """
    import dask.dataframe as dd
    import pandas as pd

    options = dict(storage_options or {})
    pieces: list[tuple[str, int]] = []
    problems: list[Problem] = []
    for path in _parquet_files(paths, options):
        try:
            groups = _check_file(path, options)
        except EventsError as exc:
            problems += exc.problems
            continue
        pieces += [(path, group) for group in range(groups)]
    if problems:
        raise EventsError(problems)
    meta = _arrow_schema().empty_table().to_pandas(types_mapper=pd.ArrowDtype)
    if not pieces:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(
        _read_piece, pieces, meta=meta, options=options, enforce_metadata=False, label="events"
    )


def _arrow_schema():
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            ("event_id", text),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("actor_id", text),
            ("action", text),
            ("parent_id", text),
            ("thread_id", text),
            ("target_actor_id", text),
            ("mentions", pa.list_(text)),
        ]
    )


def _parquet_files(paths: Sequence[str], options: dict[str, Any]) -> list[str]:
    """The Parquet files of ``paths``: files as given, folders searched (hidden files left out)."""
    import fsspec

    files: list[str] = []
    for path in map(str, paths):
        fs, root = fsspec.core.url_to_fs(path, **options)
        if any(ch in root for ch in "*?["):
            found = sorted(fs.glob(root))
        elif fs.isdir(root):
            found = sorted(
                f
                for f in fs.find(root)
                if f.endswith((".parquet", ".pq"))
                and not any(part.startswith((".", "_")) for part in f[len(root) :].split("/"))
            )
        elif fs.exists(root):
            found = [root]
        else:
            raise EventsError([Problem(path, None, "no such file")])
        if not found:
            raise EventsError([Problem(path, None, "no Parquet files (*.parquet, *.pq) in it")])
        files += [fs.unstrip_protocol(f) if "://" in path else f for f in found]
    return files


def _check_file(path: str, options: dict[str, Any]) -> int:
    """Check one file's columns against the canonical schema; return its number of row groups."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with fsspec.open(path, "rb", **options) as handle:
            info = pq.ParquetFile(handle)
            schema, groups = info.schema_arrow, info.metadata.num_row_groups
    except (OSError, pa.ArrowException) as exc:
        reason = f"not readable as Parquet ({first_line(exc)})"
        raise EventsError([Problem(path, None, reason)]) from None
    near_misses, _ = _header_reasons(schema.names)  # a column that would be lost unread
    if near_misses:
        raise EventsError([Problem(path, None, near_misses[0])])
    missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
    if missing:
        raise EventsError([Problem(path, None, f"missing column {', '.join(missing)}")])
    for name in SCHEMA:  # text and platform too: not read, but refused as the default engine does
        if name in schema.names:
            why = _type_problem(name, schema.field(name).type)
            if why:
                raise EventsError([Problem(path, None, why)])
    return groups


def _type_problem(name: str, given) -> str | None:
    """Why a column of Arrow type ``given`` cannot be read as canonical ``name``, or None.

    As the default engine reads Parquet (:func:`_canonical`), but for ``timestamp``:
    the workers do not parse text, so it must be a time-zone-aware timestamp.
    """
    import pyarrow as pa
    import pyarrow.types as t

    if name == "timestamp":
        if t.is_timestamp(given) and given.tz is not None:
            return None
        return (
            f"column timestamp is {given}: the dask engine needs time-zone-aware timestamps "
            "(the default engine also reads ISO-8601 text)"
        )
    try:
        empty = cast(pl.DataFrame, pl.from_arrow(pa.schema([(name, given)]).empty_table()))
        dtype = empty.schema[name]
    except Exception:  # noqa: BLE001 - a type polars cannot hold is no canonical column
        return f"column {name!r} has type {given} (expected text)"
    return _column_exprs(name, dtype)[1]


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """A row group's columns with the canonical types, as the default engine types them.

    :func:`tribe_analysis.events._column_exprs` is the one definition: integer ids
    become text, an ``action`` is stripped of white space, ``mentions`` may be
    ``|``-joined text, a time is truncated to microseconds as polars does.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        typed, _ = _column_exprs(name, dtype)
        exprs.append(typed[0].alias(name) if typed else pl.col(name))
    return frame.select(exprs)


def _read_piece(piece: tuple[str, int], options: dict[str, Any]):
    """One row group of one file as a pandas frame of :data:`COLUMNS` (pyarrow types)."""
    import fsspec
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, group = piece
    with fsspec.open(path, "rb", **options) as handle:
        info = pq.ParquetFile(handle)
        names = [c for c in COLUMNS if c in info.schema_arrow.names]
        table = info.read_row_group(group, columns=names)
    table = _canonical(cast(pl.DataFrame, pl.from_arrow(table))).to_arrow()
    schema = _arrow_schema()
    columns = []
    for field in schema:
        if field.name in names:
            column = table.column(field.name)
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
            columns.append(column.cast(field.type))
        elif field.name == "mentions":  # none, as the default engine reads a file without it
            offsets = pa.array(np.zeros(table.num_rows + 1, dtype=np.int32))
            columns.append(pa.ListArray.from_arrays(offsets, pa.array([], pa.string())))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    out = pa.Table.from_arrays(columns, schema=schema)
    return out.to_pandas(types_mapper=pd.ArrowDtype)


@dataclass(frozen=True)
class Summary:
    """What one pass over all events tells: their number and time span.

    Attributes
    ----------
    events : int
        Number of events.
    first, last : datetime or None
        Time of the first and last event.
    in_window : int or None
        Events in the ``since``/``until`` window, when one was given.
    window_span : tuple
        Time of the window's first and last event (None, None without events in it).
    unthreaded : int
        Events without a ``thread_id`` (:func:`threads_of` derives theirs).
    """

    events: int
    first: datetime | None
    last: datetime | None
    in_window: int | None
    unthreaded: int = 0
    window_span: tuple[datetime | None, datetime | None] = (None, None)


def summarize(frame, since: datetime | None = None, until: datetime | None = None) -> Summary:
    """Validate ``frame`` (:func:`read_parquet`) and count what :class:`Summary` holds, in one pass.

    Raises
    ------
    EventsError
        When a row holds what the default engine refuses (:func:`_row_checks`: a
        required value missing, an unknown action, ...) or an event id repeats (one
        problem per kind, naming an example event).
    """
    import dask

    checks = _reduce(frame, _partition_checks, _combine_checks, since, until)
    hashes = frame["event_id"].map_partitions(_id_hashes, meta=("event_id", "uint64"))
    checks["ids"] = int(dask.compute(hashes.nunique())[0]) + int(checks["null_event_id"] > 0)
    _raise_problems(frame, checks)
    return Summary(
        events=checks["events"],
        first=checks["first"],
        last=checks["last"],
        in_window=None if since is None and until is None else checks["in_window"],
        unthreaded=checks["no_thread"],
        window_span=(checks["window_first"], checks["window_last"]),
    )


def _reduce(frame, per_part: Callable, combine: Callable, *args: Any, fan_in: int = 8) -> Any:
    """``per_part`` of every partition (as polars), combined by ``combine`` in a tree of tasks.

    The package's polars functions run on the workers; only ``combine``'s last
    result comes back. ``combine`` takes any number of partial results.
    """
    import dask

    task = dask.delayed(per_part, pure=True)
    join = dask.delayed(combine, pure=True)
    parts = [task(part, *args) for part in frame.to_delayed()]
    while len(parts) > 1:
        parts = [join(*parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    return parts[0].compute()


def _partition_checks(part, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """Counts of one partition: events, bad values (:func:`_row_checks`), time span, window.

    Each kind of bad value is counted, with an example: the first event id that has
    it (the value itself for an unknown action).
    """
    events = pl.from_pandas(part.reset_index(drop=True))
    ts = pl.col("timestamp")
    held = ts.is_between(_FIRST_TIME, _LAST_TIME)  # Python (the outputs) holds no other time
    inside = held
    if since is not None:
        inside = inside & (ts >= since)
    if until is not None:
        inside = inside & (ts < until)
    checks = {key: bad.fill_null(False) for key, bad in _row_checks().items()}
    eid = pl.col("event_id")
    named = ~_blank(eid).fill_null(True)  # an event that can be named as an example
    return events.select(
        pl.len().alias("events"),
        *[bad.sum().alias(key) for key, bad in checks.items()],
        *[
            eid.filter(bad & named).first().alias(f"eg_{key}")
            for key, bad in checks.items()
            if key != "bad_action"
        ],
        pl.col("action").filter(checks["bad_action"]).first().alias("eg_bad_action"),
        ts.filter(held).min().alias("first"),
        ts.filter(held).max().alias("last"),
        ts.filter(inside).min().alias("window_first"),
        ts.filter(inside).max().alias("window_last"),
        inside.sum().alias("in_window"),
        pl.col("thread_id").null_count().alias("no_thread"),
    ).row(0, named=True)


def _row_checks() -> dict[str, pl.Expr]:
    """Kind of bad value -> whether a row has it: what the default engine refuses in a row.

    As :func:`tribe_analysis.events.read_events`: a required value null or blank, an
    unknown action, a time outside the years 1-9999 in UTC, a reply, share or
    reaction without ``parent_id``, a post with one, a NUL byte in a text value, an
    empty mention.
    """
    action, parent = pl.col("action"), pl.col("parent_id")
    no_parent = parent.is_null() | _blank(parent)
    texts = [c for c in COLUMNS if c not in ("timestamp", "mentions")]
    nul = [pl.col(c).cast(pl.Binary).bin.contains(b"\x00") for c in texts]
    nul.append(
        pl.col("mentions").list.eval(pl.element().str.contains("\x00", literal=True)).list.any()
    )
    missing = {f"null_{c}": pl.col(c).is_null() | _blank(pl.col(c)) for c in REQUIRED_COLUMNS}
    missing["null_timestamp"] = pl.col("timestamp").is_null()
    return {
        **missing,
        "bad_action": ~action.is_in(list(ACTIONS)) & ~_blank(action),
        "out_of_range": ~pl.col("timestamp").is_between(_FIRST_TIME, _LAST_TIME),
        "no_parent": action.is_in(["reply", "share", "reaction"]) & no_parent,
        "post_parent": (action == "post") & ~no_parent,
        "nul": pl.any_horizontal(nul),
        "empty_mention": pl.col("mentions")
        .list.eval(pl.element().is_null() | _blank(pl.element()))
        .list.any(),
    }


_ROW_REASONS = {
    "out_of_range": "a timestamp out of range (years 1 to 9999 in UTC)",
    "no_parent": "no parent_id (a reply, share or reaction acts on one)",
    "post_parent": "a parent_id but are posts (a post starts a thread; use reply or share)",
    "nul": "a NUL byte in an id, the action or a mention (binary data, not text)",
    "empty_mention": "an empty mention (a mention names an account)",
}
"""Kinds of bad value of :func:`_row_checks` worded alike by :func:`_raise_problems`."""


def _combine_checks(*parts: dict[str, Any]) -> dict[str, Any]:
    """Partitions' :func:`_partition_checks` as one: sums, first examples, earliest and latest times."""
    times = ("first", "last", "window_first", "window_last")
    examples = [k for k in parts[0] if k.startswith("eg_")]
    out: dict[str, Any] = {
        k: sum(int(p[k]) for p in parts) for k in parts[0] if k not in times and k not in examples
    }
    for key, pick in zip(times, (min, max, min, max), strict=True):
        out[key] = pick((p[key] for p in parts if p[key] is not None), default=None)
    for key in examples:
        out[key] = next((p[key] for p in parts if p[key] is not None), None)
    return out


def _id_hashes(ids):
    """64-bit hashes of a partition's event ids (nulls left out).

    Fewer distinct hashes than ids means a repeated id or, rarely, two ids with one
    hash: :func:`_raise_problems` then counts the repeats exactly, so a collision
    never reports a repeat and never hides one.
    """
    import pandas as pd

    column = cast(pl.Series, pl.from_pandas(ids.reset_index(drop=True)))  # a Series for a Series
    hashed = column.drop_nulls().hash(_HASH_SEED)
    return pd.Series(hashed.to_numpy(), dtype="uint64", name=ids.name)


def signal_counts(frame) -> tuple[dict[str, int], bool]:
    """Signal counts (:func:`tribe_analysis.observability.signal_counts`) and whether any event has an audience.

    ``frame`` has its threads derived (:func:`threads_of`). Each partition is
    counted by the package's own function (the counts add up); the second value
    says whether any event acts on another's content (leader choice).
    """
    got = _reduce(frame, _partition_signals, _sum_counts)
    return {k: v for k, v in got.items() if k != "audience"}, bool(got["audience"])


def _partition_signals(part) -> dict[str, int]:
    from tribe_analysis.observability import signal_counts

    events = _to_polars(part)
    acted = pl.col("target_actor_id").is_not_null() & (pl.col("action") != "post")
    return signal_counts(events) | {"audience": int(events.select(acted.sum()).item())}


def _sum_counts(*parts: dict[str, int]) -> dict[str, int]:
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def _raise_problems(frame, got: Mapping[str, Any]) -> None:
    """One problem per kind of bad value, each naming an example event."""
    import dask

    problems = []

    def example(key: str) -> str:
        eid = got[f"eg_{key}"]
        return f" (e.g. event '{eid}')" if eid is not None else ""

    for column in REQUIRED_COLUMNS:
        n = int(got[f"null_{column}"])
        if n:
            problems.append(f"{n:,} events have no {column}{example(f'null_{column}')}")
    if int(got["bad_action"]):
        problems.append(
            f"{int(got['bad_action']):,} events have an unknown action "
            f"(e.g. {got['eg_bad_action']!r}; expected one of {', '.join(ACTIONS)})"
        )
    problems += [
        f"{int(got[key]):,} events have {reason}{example(key)}"
        for key, reason in _ROW_REASONS.items()
        if int(got[key])
    ]
    if int(got["events"]) > int(got["ids"]):  # equal hashes: count the repeats exactly
        counts = frame["event_id"].value_counts()
        repeated = counts[counts > 1]
        extra, dup = dask.compute((repeated - 1).sum(), repeated.head(1, npartitions=-1))
        if int(extra):
            problems.append(f"{int(extra):,} event ids repeat (e.g. '{dup.index[0]}')")
    if problems:
        raise EventsError([Problem("<parquet>", None, p) for p in problems])


def threads_of(
    frame, client: Client, *, unthreaded: bool = True, max_depth: int = MAX_THREAD_DEPTH
):
    """``frame`` with ``target_actor_id`` (author of the parent) and ``thread_id`` derived.

    As :func:`tribe_analysis.threads.derive_threads`: a ``target_actor_id`` is the
    parent's author when the parent is in the data, else the value given; a
    ``thread_id`` given is kept, the others are the root post of the chain of
    parents (the outermost known parent id when the chain leaves the data),
    followed by pointer jumping: each round is one distributed join and doubles
    the distance followed. ``unthreaded=False`` says every ``thread_id`` is given
    (:attr:`Summary.unthreaded`), so no chain is followed.

    Raises
    ------
    EventsError
        When a chain of parents forms a cycle or is deeper than ``max_depth``
        (:data:`tribe_analysis.threads.MAX_THREAD_DEPTH`, as the default engine).
    """
    authors = frame[["event_id", "actor_id"]].rename(
        columns={"event_id": "parent_id", "actor_id": "_parent_actor"}
    )
    out = frame.merge(authors, on="parent_id", how="left")
    out["target_actor_id"] = out["_parent_actor"].fillna(out["target_actor_id"])
    out = out.drop(columns="_parent_actor")
    if not unthreaded:  # every thread_id is given (Summary.unthreaded is 0)
        return out[list(COLUMNS)]
    roots = _roots(out[["event_id", "parent_id"]], client, max_depth)
    out = out.merge(roots, on="event_id", how="left")
    out["thread_id"] = out["thread_id"].fillna(out["_root"])
    return out.drop(columns="_root")[list(COLUMNS)]


def _roots(links, client: Client, max_depth: int = MAX_THREAD_DEPTH):
    """``event_id`` -> ``_root``: the root id of each event's chain of parents.

    Pointer jumping: each round points every event at its pointer's pointer, and adds
    the pointer's distance to its own, until none moves. A chain that leaves the data
    ends at an event whose parent is unknown (or none); a cycle whose length is a
    power of two (an event that is its own parent, two events each other's) also
    stops moving, at an event whose parent is known: that is a cycle, as one that
    never stops moving is. A chain longer than ``max_depth`` is refused as the default
    engine refuses it, though the rounds (up to the power of two above ``max_depth``,
    doubled) may have followed it to its end.
    """
    known = links[["event_id"]].assign(_known=True).rename(columns={"event_id": "parent_id"})
    up = links.merge(known, on="parent_id", how="left")
    up["_known"] = up["_known"].fillna(False).astype(bool)
    up["up"] = up["parent_id"].where(up["_known"], up["event_id"])
    up["dist"] = up["_known"].astype("int64")  # a top event is 0 from itself
    up = client.persist(up[["event_id", "parent_id", "up", "_known", "dist"]])
    for _ in range(max(max_depth, 2).bit_length() + 1):
        step = up[["event_id", "up", "dist"]].rename(
            columns={"event_id": "up", "up": "up2", "dist": "dist2"}
        )
        nxt = up.merge(step, on="up", how="left")
        nxt["moved"] = nxt["up2"] != nxt["up"]
        nxt["dist"] = nxt["dist"] + nxt["dist2"]  # a top adds 0: the final ones stay
        nxt = client.persist(nxt)
        if not int(nxt["moved"].sum().compute()):
            looped = up[(up["up"] == up["event_id"]) & up["_known"]]
            _raise_cycle(looped[["event_id", "parent_id"]].head(1, npartitions=-1), "")
            deep = up[up["dist"] > max_depth][["event_id", "parent_id"]]
            _raise_deep(deep.head(1, npartitions=-1), max_depth)
            top = links.rename(columns={"event_id": "up", "parent_id": "_top_parent"})
            rooted = up[["event_id", "up"]].merge(top, on="up", how="left")
            rooted["_root"] = rooted["_top_parent"].fillna(rooted["up"])
            return rooted[["event_id", "_root"]]
        up = client.persist(
            nxt[["event_id", "parent_id", "up2", "_known", "dist"]].rename(columns={"up2": "up"})
        )
    stuck = nxt[nxt["moved"]][["event_id", "parent_id"]].head(1, npartitions=-1)
    _raise_cycle(stuck, f" or is deeper than {max_depth}")


def _raise_deep(example, max_depth: int) -> None:
    """Raise the problem of a chain deeper than ``max_depth``, naming an event of it, if any."""
    if len(example):
        eid, pid = example.iloc[0]
        reason = f"parent_id chain deeper than {max_depth} (event '{eid}' -> parent '{pid}')"
        raise EventsError([Problem("<parquet>", None, reason)])


def _raise_cycle(example, deeper: str) -> None:
    """Raise the problem of a cycle of parents, naming its first event, if ``example`` has one."""
    if len(example):
        eid, pid = example.iloc[0]
        reason = f"parent_id chain forms a cycle{deeper} (event '{eid}' -> parent '{pid}')"
        raise EventsError([Problem("<parquet>", None, reason)])


def persist(frame, client: Client):
    """``frame`` computed and kept in the cluster's memory, under keys of its own.

    The keys are new for every call: Dask names a computation by its graph, so two
    runs over the same input would otherwise share keys, and the first run's
    release of them can cancel the second run's work ("lost dependencies").
    """
    fresh = frame.map_partitions(_same, token=f"tribe-events-{uuid.uuid4().hex}", meta=frame._meta)
    return client.persist(fresh)


def _same(part):
    return part


def window(frame, since: datetime | None, until: datetime | None):
    """The events with ``since <= timestamp < until``."""
    if since is not None:
        frame = frame[frame["timestamp"] >= since]
    if until is not None:
        frame = frame[frame["timestamp"] < until]
    return frame


def edge_list(frame) -> pl.DataFrame:
    """:func:`tribe_analysis.graph.edge_list` computed by Dask; the (aggregated) result is local.

    Each partition's edges are counted by the package's own ``edge_list`` (counts
    add up); a tree of Dask tasks sums the partial edge lists per pair.
    """
    from tribe_analysis.graph import EDGE_SCHEMA, INTERACTIONS

    edges = _reduce(frame, _partition_edges, _sum_edges)
    return (
        edges.with_columns(pl.sum_horizontal(INTERACTIONS).alias("weight"))
        .select(EDGE_SCHEMA.names())
        .cast(dict(EDGE_SCHEMA))
        .sort("source", "target")
    )


def _partition_edges(part) -> pl.DataFrame:
    from tribe_analysis import graph

    return graph.edge_list(_to_polars(part)).drop("weight")


def _sum_edges(*parts: pl.DataFrame) -> pl.DataFrame:
    from tribe_analysis.graph import INTERACTIONS

    return pl.concat(parts).group_by("source", "target").agg(pl.col(INTERACTIONS).sum())


def _concat(frames):
    import dask.dataframe as dd

    return dd.concat(frames)


def _mention_rows(frame, among: Sequence[str] | None = None):
    """``event_id``, ``actor_id``, ``mentioned``: each account a record mentions, once per record.

    With ``among``, only the mentions of those accounts.
    """
    rows = frame[["event_id", "actor_id", "mentions"]].explode("mentions")
    rows = rows[rows["mentions"].notnull()].rename(columns={"mentions": "mentioned"})
    if among is not None:
        rows = rows[rows["mentioned"].isin(list(among))]
    # a record's rows are all in its partition: repeats are dropped where they are
    return rows.map_partitions(_unique_mentions, meta=rows._meta)


def _unique_mentions(rows):
    return rows.drop_duplicates(subset=["event_id", "mentioned"])


def account_counts(frame) -> pl.DataFrame:
    """:func:`tribe_analysis.features.selection.account_counts` computed by Dask.

    Each partition is counted by the package's own function; a tree of Dask tasks
    sums the counts per account.
    """
    return _reduce(frame, _partition_accounts, _sum_accounts)


def _partition_accounts(part) -> pl.DataFrame:
    from tribe_analysis.features.selection import account_counts

    return account_counts(_to_polars(part).lazy())


def _sum_accounts(*parts: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(parts).group_by("actor_id").agg(pl.col("authored", "posts").sum())


def present_actors(frame, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are accounts (``actor_id``) of ``frame``."""
    ids = list(ids)
    found = frame[frame["actor_id"].isin(ids)]["actor_id"].unique().compute()
    return set(found.tolist())


def evidence_of(
    frame, own: pl.DataFrame, seen: Mapping[str, bool], min_denominator: int
) -> Callable[[pl.Series], set[str]]:
    """:func:`tribe_analysis.features.selection.evidence_of`, computed on the workers.

    For a batch of candidates, each candidate's posts and the replies to and under
    them are shuffled by candidate, and the workers apply the package's evidence
    rule to their partitions; only the ids of the able candidates come back.
    """
    import dask

    from tribe_analysis.events import empty_events
    from tribe_analysis.features import selection

    def able(batch: pl.Series) -> set[str]:
        ids = batch.to_list()
        posts = frame[(frame["action"] == "post") & frame["actor_id"].isin(ids)]
        posts = posts.assign(leader_id=posts["actor_id"])
        roots = _small(posts[["event_id", "leader_id"]])
        replies = frame[frame["action"] == "reply"]
        under = replies.merge(roots.rename(columns={"event_id": "thread_id"}), on="thread_id")
        answers = replies.merge(roots.rename(columns={"event_id": "parent_id"}), on="parent_id")
        rows = _concat([p[["leader_id", *COLUMNS]] for p in (posts, under, answers)])
        n = max(1, min(len(ids), rows.npartitions))
        parts = rows.shuffle(on="leader_id", npartitions=n).to_delayed()
        mine = own.filter(pl.col("actor_id").is_in(ids))
        task = dask.delayed(_able_part, pure=True)
        done = dask.compute(*[task(p, mine, dict(seen), min_denominator) for p in parts])
        present = set().union(*(have for have, _ in done))
        found = set().union(*(good for _, good in done))
        rest = pl.Series([actor for actor in ids if actor not in present], dtype=pl.String)
        if rest.len():  # no posts: their evidence is in their counts alone
            nothing = empty_events().lazy()
            found |= selection.evidence_of(nothing, mine, seen, min_denominator)(rest)
        return found

    return able


def _able_part(part, own: pl.DataFrame, seen: dict[str, bool], m: int) -> tuple[set[str], set[str]]:
    """The candidates of ``part`` (their posts and the replies), and those with enough evidence."""
    from tribe_analysis.features.selection import evidence_of

    if not len(part):
        return set(), set()
    frame = _to_polars(part)
    among = frame.get_column("leader_id").unique()
    events = frame.drop("leader_id").unique("event_id", keep="first")
    return set(among.to_list()), evidence_of(events.lazy(), own, seen, m)(among)


def leader_slices(frame, leaders: Sequence[str]):
    """Each leader's slice: ``leader_id`` and the events its measures read (see the module doc).

    An event can be in several leaders' slices; the rows are not de-duplicated here
    (the workers drop repeats once a partition holds whole slices). The small sides
    of the joins (the leaders' posts, threads, mentions and alters) are one
    partition each, so the events are joined with them where they lie, unshuffled.
    """
    leaders = list(leaders)
    posts_only = frame[frame["action"] == "post"]
    own = frame[frame["actor_id"].isin(leaders)]
    own = own.assign(leader_id=own["actor_id"])
    roots = _small(own[own["action"] == "post"][["event_id", "leader_id"]])
    in_threads = frame.merge(roots.rename(columns={"event_id": "thread_id"}), on="thread_id")
    answers = frame.merge(roots.rename(columns={"event_id": "parent_id"}), on="parent_id")
    acted_on = frame[frame["target_actor_id"].isin(leaders)]
    acted_on = acted_on.assign(leader_id=acted_on["target_actor_id"])
    said = _small(_mention_rows(frame, among=leaders)[["event_id", "mentioned"]])
    mentioning = frame.merge(said.rename(columns={"mentioned": "leader_id"}), on="event_id")
    acted_in = _small(own[["thread_id", "leader_id"]].dropna())
    acted_in = acted_in.drop_duplicates(subset=["thread_id", "leader_id"])
    thread_roots = posts_only.merge(
        acted_in.rename(columns={"thread_id": "event_id"}), on="event_id"
    )
    own_said = _mention_rows(own)[["actor_id", "mentioned"]]
    alters = _concat(
        [
            own[["leader_id", "target_actor_id"]].rename(columns={"target_actor_id": "alter"}),
            own_said.rename(columns={"actor_id": "leader_id", "mentioned": "alter"}),
            acted_on[["leader_id", "actor_id"]].rename(columns={"actor_id": "alter"}),
            mentioning[["leader_id", "actor_id"]].rename(columns={"actor_id": "alter"}),
        ]
    )
    alters = _small(alters[alters["alter"].notnull()]).drop_duplicates(
        subset=["leader_id", "alter"]
    )
    alter_posts = posts_only.merge(alters.rename(columns={"alter": "actor_id"}), on="actor_id")
    parts = [own, in_threads, answers, acted_on, mentioning, thread_roots, alter_posts]
    return _concat([p[["leader_id", *COLUMNS]] for p in parts])


def _small(frame):
    """``frame`` as one partition: joined with the events without shuffling them."""
    return frame.repartition(npartitions=1)


def measures(
    slices,
    leaders: Sequence[str],
    observability: pl.DataFrame,
    since: datetime | None,
    until: datetime | None,
) -> pl.DataFrame:
    """:func:`tribe_analysis.features.leader_measures` (``ego=False``) of every leader, on the workers.

    The slices are shuffled so that each leader's rows are in one partition; each
    worker measures the leaders of its partitions on their events.
    """
    import dask

    from tribe_analysis.events import empty_events
    from tribe_analysis.features import leader_measures

    n = max(1, min(len(leaders), slices.npartitions))
    parts = slices.shuffle(on="leader_id", npartitions=n).to_delayed()
    task = dask.delayed(_measure_part, pure=True)
    frames = [
        f
        for f in dask.compute(*[task(p, observability, since, until) for p in parts])
        if f is not None
    ]
    done = set().union(*(set(f["leader_id"]) for f in frames)) if frames else set()
    rest = [leader for leader in leaders if leader not in done]
    if rest:
        frames.append(
            leader_measures(
                empty_events(),
                rest,
                since=since,
                until=until,
                observability=observability,
                ego=False,
            )
        )
    return pl.concat(frames).sort("leader_id")


def _measure_part(part, observability: pl.DataFrame, since, until) -> pl.DataFrame | None:
    """The measures of the leaders whose slices are in ``part`` (a pandas frame), in polars."""
    from tribe_analysis.features import leader_measures

    if not len(part):
        return None
    frame = _to_polars(part)
    leaders = frame.get_column("leader_id").unique().to_list()
    events = frame.drop("leader_id").unique("event_id", keep="first").sort("timestamp", "event_id")
    return leader_measures(
        events, leaders, since=since, until=until, observability=observability, ego=False
    )


def _to_polars(frame) -> pl.DataFrame:
    """A pandas partition of events as polars with the canonical types."""
    out = pl.from_pandas(frame.reset_index(drop=True))
    types = {c: SCHEMA[c] for c in COLUMNS if c in out.columns}
    return out.cast(types)  # type: ignore[arg-type]  # polars types the keys narrowly


def own_threads(frame, leaders: Sequence[str]) -> pl.DataFrame:
    """The leaders' own events and the events in their threads (local: the report cards draw them)."""
    leaders = list(leaders)
    own = frame[frame["actor_id"].isin(leaders)]
    roots = _small(own[own["action"] == "post"][["event_id"]])
    threads = frame.merge(roots.rename(columns={"event_id": "thread_id"}), on="thread_id")
    rows = _concat([own, threads]).drop_duplicates(subset=["event_id"])
    return _to_polars(rows.compute()).sort("timestamp", "event_id")
