"""Hypothesis properties of thread derivation (``threads``) against a slow, obvious walk.

Random events whose parents are other events, accounts' own events (self-replies), ids
outside the data, or nothing; so forests of replies, orphans, cycles of any length,
rows feeding into cycles, and single chains near ``max_depth``. For each event the
walk follows ``parent_id`` one link at a time through a dict of ids:

- ``thread_id`` is the root post, or the outermost known parent id when the chain
  leaves the data; ``target_actor_id`` the parent's author (null outside the data);
  ``reply_depths`` the number of links, plus one when the top parent is outside;
- a chain that returns to an event, or is longer than ``max_depth`` links (whatever
  ``max_depth``, a power of two or not), is reported for exactly the rows it holds,
  with its reason, never dropped or cut short;
- none of it depends on the row order;
- a ``parent_id`` naming an ``event_id`` that is not unique is reported, never followed
  to one of them at random (nor a frame of another length returned).
"""

from __future__ import annotations

from datetime import UTC, datetime

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tribe_analysis.errors import EventsError
from tribe_analysis.events import conform
from tribe_analysis.threads import derive_threads, reply_depths

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SETTINGS = hypothesis.settings(max_examples=150, deadline=None)


def walk(ids: list[str], actors: list[str], parents: list[str | None], max_depth: int) -> list:
    """Per row: ("cycle",), ("deep",) or (thread_id, target_actor_id, depth)."""
    row_of = {event: row for row, event in enumerate(ids)}
    out: list[tuple] = []
    for row in range(len(ids)):
        node, links, seen = row, 0, {row}
        while parents[node] in row_of:
            node = row_of[parents[node]]
            links += 1
            if node in seen:
                break
            seen.add(node)
        if parents[node] in row_of:
            out.append(("cycle",))
        elif links > max_depth:
            out.append(("deep",))
        else:
            outside = parents[node] is not None
            target = actors[row_of[parents[row]]] if parents[row] in row_of else None
            out.append((parents[node] if outside else ids[node], target, links + outside))
    return out


def frame_of(ids: list[str], actors: list[str], parents: list[str | None]) -> pl.DataFrame:
    actions = ["post" if p is None else "reply" for p in parents]
    raw = {"event_id": ids, "timestamp": [T0] * len(ids), "actor_id": actors, "action": actions}
    return conform(
        pl.DataFrame({**raw, "parent_id": pl.Series(parents, dtype=pl.String)}), platform="events"
    )


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[str], list[str], list[str | None]]:
    """Events with ids that look alike (numbers, spaces, emoji), any parent links."""
    n = draw(st.integers(1, 14))
    stem = draw(st.sampled_from(["e", "", " ", "0", "1.", "😀", "<&>"]))
    ids = [f"{stem}{i}" for i in range(n)]
    actors = draw(st.lists(st.sampled_from(["ann", "bob", "cid"]), min_size=n, max_size=n))
    parent = st.sampled_from([None, f"{stem}gone", "elsewhere", *ids])
    parents = draw(st.lists(parent, min_size=n, max_size=n))
    return ids, actors, parents


@st.composite
def chains(draw: st.DrawFn) -> tuple[tuple[list[str], list[str], list[str | None]], int]:
    """One chain of replies (its top a post or outside the data) and a max_depth near it."""
    n = draw(st.integers(2, 40))
    top = draw(st.sampled_from([None, "gone"]))
    ids = [f"c{i}" for i in range(n)]
    parents = [top, *ids[:-1]]
    order = draw(st.permutations(range(n)))
    case = ([ids[i] for i in order], ["ann"] * n, [parents[i] for i in order])
    return case, max(1, n - 1 + draw(st.integers(-3, 2)))


def check(case: tuple[list[str], list[str], list[str | None]], max_depth: int) -> None:
    ids, actors, parents = case
    want = walk(ids, actors, parents, max_depth)
    frame = frame_of(ids, actors, parents)
    bad = {row + 1: w[0] for row, w in enumerate(want) if w[0] in ("cycle", "deep")}
    if bad:
        with pytest.raises(EventsError) as info:
            derive_threads(frame, max_depth=max_depth)
        got = {p.line: "cycle" if "cycle" in p.reason else "deep" for p in info.value.problems}
        assert got == bad
        for problem in info.value.problems:
            if "deeper" in problem.reason:
                assert f"deeper than {max_depth} " in problem.reason
        with pytest.raises(EventsError):
            reply_depths(frame, max_depth=max_depth)
        return
    out = derive_threads(frame, max_depth=max_depth)
    assert out.select("thread_id", "target_actor_id").rows() == [w[:2] for w in want]
    assert reply_depths(frame, max_depth=max_depth).to_list() == [w[2] for w in want]


@SETTINGS
@hypothesis.given(case=forests(), max_depth=st.sampled_from([1, 2, 3, 5, 6, 8, 65_536]))
def test_threads_targets_and_depths_are_the_walks(case, max_depth) -> None:
    check(case, max_depth)


@SETTINGS
@hypothesis.given(chain=chains())
def test_a_chain_longer_than_max_depth_is_reported_whatever_max_depth(chain) -> None:
    check(*chain)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(case=forests(), data=st.data())
def test_row_order_changes_nothing(case, data) -> None:
    ids, actors, parents = case
    order = data.draw(st.permutations(range(len(ids))))
    frame = frame_of(ids, actors, parents)
    shuffled = frame[list(order)]
    try:
        first = derive_threads(frame)
    except EventsError as exc:
        rows = {frame["event_id"][p.line - 1]: p.reason for p in exc.problems}
        with pytest.raises(EventsError) as info:
            derive_threads(shuffled)
        assert {shuffled["event_id"][p.line - 1]: p.reason for p in info.value.problems} == rows
        return
    assert derive_threads(shuffled).equals(first[list(order)])
    assert reply_depths(shuffled).to_list() == reply_depths(frame).gather(list(order)).to_list()


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(case=forests(), data=st.data())
def test_a_parent_naming_a_repeated_event_id_is_reported(case, data) -> None:
    ids, actors, parents = case
    copied = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
    frame = frame_of(ids + copied, actors + ["dan"] * len(copied), parents + [None] * len(copied))
    named = [i for i in copied if i in parents]
    if not named:  # repeated, but no one's parent: each row's links are still the walk's
        hypothesis.assume(
            not any(w[0] in ("cycle", "deep") for w in walk(ids, actors, parents, 64))
        )
        assert reply_depths(frame).len() == frame.height
        assert derive_threads(frame).height == frame.height
        return
    for derive in (derive_threads, reply_depths):
        with pytest.raises(EventsError, match="duplicate event_id .* named as a parent") as info:
            derive(frame)
        (problem,) = info.value.problems
        assert frame["event_id"][problem.line - 1] in named
        assert problem.line > ids.index(frame["event_id"][problem.line - 1]) + 1


@hypothesis.settings(max_examples=80, deadline=None)
@hypothesis.given(case=forests(), data=st.data())
def test_values_the_platform_gave_are_kept_where_documented(case, data) -> None:
    """A given ``thread_id`` is kept; a given ``target_actor_id`` only when the parent is outside."""
    ids, actors, parents = case
    want = walk(ids, actors, parents, 64)
    hypothesis.assume(not any(w[0] in ("cycle", "deep") for w in want))
    n = len(ids)
    threads = data.draw(st.lists(st.sampled_from([None, "T1", "T2"]), min_size=n, max_size=n))
    targets = data.draw(st.lists(st.sampled_from([None, "zed", "ann"]), min_size=n, max_size=n))
    frame = frame_of(ids, actors, parents).with_columns(
        pl.Series("thread_id", threads, dtype=pl.String),
        pl.Series("target_actor_id", targets, dtype=pl.String),
    )
    out = derive_threads(frame)
    inside = set(ids)
    assert out["thread_id"].to_list() == [
        given if given is not None else w[0] for given, w in zip(threads, want, strict=True)
    ]
    assert out["target_actor_id"].to_list() == [
        w[1] if parent in inside else given
        for parent, given, w in zip(parents, targets, want, strict=True)
    ]
