"""Thread derivation: who replied to whom, in which thread, how deep.

A reply, share or reaction names the content it acts on (``parent_id``). Following
those links up to a root gives each event its thread (``thread_id``: the root post,
or the outermost known parent when the chain leaves the data), the author it
answers (``target_actor_id``) and its nesting depth. Chains are followed by pointer
jumping (list ranking): each vectorised round doubles the distance followed, so a
chain of depth d costs log2(d) rounds; parents are found by a 64-bit hash join of
the ids, confirmed by a second hash. A chain that forms a cycle or is deeper than
:data:`MAX_THREAD_DEPTH` is an error, located by row (or, for readers, by file and
line).

:func:`derive_threads`, :func:`reply_depths` and :data:`MAX_THREAD_DEPTH` are also
available from :mod:`tribe_analysis.events`.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from tribe_analysis.errors import _LINE, _SOURCE, EventsError, Problem

__all__ = ["MAX_THREAD_DEPTH", "derive_threads", "reply_depths"]

MAX_THREAD_DEPTH = 65_536
"""Longest ``parent_id`` chain followed before it is reported as too deep."""

_HASH_SEED = 0x7472696265  # fixed: ids are compared by hash only where the result is checked


def _derive(frame: pl.DataFrame, max_depth: int) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Fill ``thread_id`` and ``target_actor_id``; return (frame, cycle rows, too-deep rows).

    ``thread_id``: pointer jumping over ``parent_id`` (each round doubles the distance
    followed, so a chain of depth d costs log2(d) vectorised rounds). A chain that ends
    at a post gives that post's id; a chain whose top parent is outside the data gives
    that outside id (the best known root). Values already present (given by the
    platform) are kept. ``target_actor_id``: author of ``parent_id`` when it is in the
    data, else the value given by the platform, else null.
    """
    parent_idx, ptr, stuck, cycle_rows, deep_rows = _links(frame, max_depth)
    return _filled(frame, parent_idx, ptr, stuck, frame), cycle_rows, deep_rows


def _links(
    frame: pl.DataFrame, max_depth: int
) -> tuple[pl.Series, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parent row, top row and stuck mask of each row, and the cycle and too-deep rows.

    Reads ``event_id`` and ``parent_id`` only (the ids of all events, whatever else
    ``frame`` holds).
    """
    parent_idx = _parent_index(frame)
    has_parent = parent_idx.is_not_null().to_numpy()
    ptr, _, stuck = _jump(parent_idx.fill_null(-1).to_numpy(), max_depth, distances=False)
    cycle_rows = np.empty(0, dtype=np.int64)
    deep_rows = np.empty(0, dtype=np.int64)
    if stuck.any():
        cycle_rows, deep_rows = _classify_stuck(np.flatnonzero(stuck), has_parent, parent_idx)
    return parent_idx, ptr, stuck, cycle_rows, deep_rows


def _filled(
    part: pl.DataFrame,
    parent_idx: pl.Series,
    ptr: np.ndarray,
    stuck: np.ndarray,
    ids: pl.DataFrame,
) -> pl.DataFrame:
    """``part`` with ``target_actor_id`` and ``thread_id`` filled from its rows' links.

    ``parent_idx``, ``ptr`` and ``stuck`` are :func:`_links` of ``part``'s rows,
    pointing at rows of ``ids`` (``event_id``, ``parent_id``, ``actor_id`` of all
    events): ``part`` is ``ids`` itself, or one file's rows of it when the events
    are completed a file at a time (:mod:`tribe_analysis.spill`).
    """
    target = ids.get_column("actor_id").gather(parent_idx)
    out = part.with_columns(pl.coalesce(target, pl.col("target_actor_id")).alias("target_actor_id"))
    missing = part.get_column("thread_id").is_null()
    if missing.any():  # platforms that name the thread keep their value; derive the others
        rows = missing.arg_true()
        root = pl.Series("__root", ptr).gather(rows)
        # the top row's parent_id, when set, is outside the data: the best known root
        derived = pl.select(
            pl.coalesce(
                ids.get_column("parent_id").gather(root),
                ids.get_column("event_id").gather(root),
            )
        ).to_series()
        thread = part.get_column("thread_id").scatter(rows, derived)
        out = out.with_columns(thread.alias("thread_id"))
    if stuck.any():
        out = out.with_columns(
            pl.when(pl.Series(stuck)).then(None).otherwise(pl.col("thread_id")).alias("thread_id")
        )
    return out


def _parent_index(frame: pl.DataFrame) -> pl.Series:
    """Row index of each row's parent (null when it has none in the frame).

    Ids are matched by a 64-bit hash (an unordered join of integers, several times
    faster than joining the strings in order), and every match is confirmed by a
    second, independent 64-bit hash of both ids; any doubt (an id hash matching
    twice, or a second hash differing) falls back to joining the strings.
    """
    n = frame.height
    lf = frame.lazy()
    wanted = (
        lf.select(pl.col("parent_id"), pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"))
        .filter(pl.col("parent_id").is_not_null())
        .select(pl.col("parent_id").hash(_HASH_SEED).alias("__h"), "__row")
    )
    ids = lf.select(
        pl.col("event_id").hash(_HASH_SEED).alias("__h"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__idx"),
    )
    pairs = wanted.join(ids, on="__h", how="inner").collect()
    rows, idx = pairs.get_column("__row"), pairs.get_column("__idx")
    if rows.n_unique() == pairs.height:
        check = _HASH_SEED + 1
        same = frame.get_column("event_id").hash(check).gather(idx) == frame.get_column(
            "parent_id"
        ).hash(check).gather(rows)
        if same.all():
            found = np.full(n, -1, dtype=np.int64)
            found[rows.to_numpy()] = idx.to_numpy()
            series = pl.Series("__idx", found)
            return pl.select(pl.when(series >= 0).then(series)).to_series().alias("__idx")
    return _parent_index_exact(frame)


def _parent_index_exact(frame: pl.DataFrame) -> pl.Series:
    """:func:`_parent_index` by joining the id strings themselves.

    Raises :class:`EventsError` when a ``parent_id`` names more than one event
    (a repeated ``event_id``: which is the parent cannot be told).
    """
    ids = frame.select(
        pl.col("event_id"), pl.int_range(frame.height, dtype=pl.Int64).alias("__idx")
    )
    found = frame.select(pl.col("parent_id").alias("event_id")).join(
        ids, on="event_id", how="left", maintain_order="left"
    )
    if found.height == frame.height:
        return found.get_column("__idx")
    named = ids.filter(
        pl.col("event_id").is_duplicated(), pl.col("event_id").is_in(frame["parent_id"].implode())
    )
    event_id, first = named.row(0)
    again = int(named.filter(pl.col("event_id") == event_id)["__idx"][1])
    reason = f"duplicate event_id '{event_id}' (first at row {first + 1}) named as a parent"
    raise EventsError([Problem("<frame>", again + 1, reason, "row")])


def _jump(
    parent: np.ndarray, max_depth: int, *, distances: bool = True
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Pointer jumping (list ranking) over a parent array (``-1`` = no parent in the data).

    Returns the top row reached, the distance to it (None without ``distances``),
    and a mask of rows whose chain does not end within ``max_depth`` steps (cycles,
    over-deep chains). Each round doubles the distance followed, so a chain of depth
    d costs log2(d) vectorised rounds. The rounds follow up to the next power of two
    at or above ``max_depth`` (and at least 2) steps; when that is more, the distances
    tell the chains between the two apart.
    """
    has = parent >= 0
    ptr = parent.copy()
    top = np.flatnonzero(~has)
    ptr[top] = top  # a row without a parent points at itself
    rounds = max(1, math.ceil(math.log2(max(max_depth, 2))))
    overshoot = 2**rounds > max_depth
    dist = has.astype(np.int64) if distances or overshoot else None
    # only rows whose pointer still has a parent move; the others are final (most
    # events hang right below a root, so the rounds shrink fast)
    active = np.flatnonzero(has[ptr])
    for _ in range(rounds):
        if not active.size:
            break
        up = ptr[active]  # read before writing: every row jumps from the same round
        if dist is not None:
            dist[active] += dist[up]
        ptr[active] = ptr[up]
        active = active[has[ptr[active]]]
    stuck = has[ptr]
    if overshoot and dist is not None:
        stuck |= dist > max_depth
    return ptr, dist if distances else None, stuck


def reply_depths(events: pl.DataFrame, *, max_depth: int = MAX_THREAD_DEPTH) -> pl.Series:
    """Nesting depth of every event below its thread's root (post = 0, direct reply = 1).

    A chain whose top parent is outside the data counts that parent as the root,
    so its top known reply has depth 1.

    Raises
    ------
    EventsError
        As :func:`derive_threads`: a cycle, a chain deeper than ``max_depth``, or a
        ``parent_id`` naming an ``event_id`` that is not unique.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from tribe_analysis.events import conform
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = conform(pl.DataFrame({"event_id": ["p", "r1", "r2", "x"], "timestamp": [t] * 4,
    ...     "actor_id": ["a", "b", "a", "c"], "action": ["post", "reply", "reply", "reply"],
    ...     "parent_id": [None, "p", "r1", "gone"]}), platform="events")
    >>> reply_depths(ev).to_list()
    [0, 1, 2, 1]
    """
    ptr, dist, stuck = _jump(_parent_index(events).fill_null(-1).to_numpy(), max_depth)
    if stuck.any():
        raise EventsError(
            [
                Problem(
                    "<frame>",
                    int(np.flatnonzero(stuck)[0]) + 1,
                    "parent_id chain forms a cycle or is too deep",
                    "row",
                )
            ]
        )
    orphan_top = events.get_column("parent_id").is_not_null().to_numpy()[ptr]
    return pl.Series("depth", dist + orphan_top.astype(np.int64))


def _classify_stuck(
    rows: np.ndarray, has_parent: np.ndarray, parent_idx: pl.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Split rows whose chain never reached a root into cycle members/feeders and too-deep chains."""
    parent = parent_idx.fill_null(-1).to_numpy()
    state = np.zeros(parent.shape[0], dtype=np.int8)  # 0 unknown, 1 reaches a cycle, 2 too deep
    for start in rows:
        if state[start]:
            continue
        path: list[int] = []
        seen: dict[int, int] = {}
        node = int(start)
        verdict = 2
        while node >= 0 and has_parent[node] and len(path) <= MAX_THREAD_DEPTH * 2:
            if state[node]:
                verdict = int(state[node])
                break
            if node in seen:
                verdict = 1
                break
            seen[node] = len(path)
            path.append(node)
            node = int(parent[node])
        state[path] = verdict
    cyc = rows[state[rows] == 1]
    deep = rows[state[rows] == 2]
    return cyc, deep


def derive_threads(events: pl.DataFrame, *, max_depth: int = MAX_THREAD_DEPTH) -> pl.DataFrame:
    """Fill ``thread_id`` (root post of each thread) and ``target_actor_id`` (author of the parent).

    Parameters
    ----------
    events : polars.DataFrame
        Canonical events (see :data:`tribe_analysis.events.SCHEMA`);
        ``thread_id``/``target_actor_id`` values already present are kept.
    max_depth : int
        Longest parent chain followed.

    Returns
    -------
    polars.DataFrame
        The events with both columns filled where derivable. ``thread_id`` of a
        reply whose chain leaves the data is the outermost known parent id;
        ``target_actor_id`` of such a reply is null.

    Raises
    ------
    EventsError
        When a ``parent_id`` chain forms a cycle or is deeper than ``max_depth``,
        or a ``parent_id`` names an ``event_id`` that is not unique.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from tribe_analysis.events import conform
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = conform(pl.DataFrame({
    ...     "event_id": ["p", "r1", "r2", "x"], "timestamp": [t] * 4,
    ...     "actor_id": ["ann", "bob", "ann", "cid"],
    ...     "action": ["post", "reply", "reply", "reply"],
    ...     "parent_id": [None, "p", "r1", "gone"]}), platform="events")
    >>> derive_threads(ev).select("event_id", "thread_id", "target_actor_id").rows()
    [('p', 'p', None), ('r1', 'p', 'ann'), ('r2', 'p', 'bob'), ('x', 'gone', None)]
    """
    derived, cyc, deep = _derive(events, max_depth)
    if cyc.size or deep.size:
        where = pl.DataFrame(
            {_SOURCE: "<frame>", _LINE: np.arange(1, events.height + 1), "__unit": "row"}
        )
        raise EventsError(_derivation_problems(events, cyc, deep, max_depth, where))
    return derived


def _derivation_problems(
    frame: pl.DataFrame, cyc: np.ndarray, deep: np.ndarray, max_depth: int, where: pl.DataFrame
) -> list[Problem]:
    """Problems for rows whose parent chain is a cycle or too deep; ``where`` locates rows."""
    out = []
    for rows, reason in (
        (cyc, "parent_id chain forms a cycle"),
        (deep, f"parent_id chain deeper than {max_depth}"),
    ):
        if not rows.size:
            continue
        located = pl.concat(
            [where[rows.tolist()], frame.select("event_id", "parent_id")[rows.tolist()]],
            how="horizontal",
        )
        for src, line, unit, eid, pid in located.select(
            _SOURCE, _LINE, "__unit", "event_id", "parent_id"
        ).iter_rows():
            out.append(Problem(src, int(line), f"{reason} (event '{eid}' -> parent '{pid}')", unit))
    return out
