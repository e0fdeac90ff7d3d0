"""Random canonical events that the property tests of measures, selection and the pipeline share.

Each test file draws its accounts and calls :func:`canonical_events` with the shape it
needs (how many events, which outside parents, who mentions whom, how many ties).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl
from hypothesis import strategies as st

from tribe_analysis import events as ev

ACTIONS = ("post", "reply", "share", "reaction")


def canonical_events(
    draw: st.DrawFn,
    actors: Sequence[str],
    *,
    start: datetime,
    events: int,
    actions: Sequence[str] = ACTIONS,
    outside: Sequence[str] = ("elsewhere",),
    mentioned_by: Sequence[str] = ("post", "reply"),
    mentioned: Sequence[str],
    max_mentions: int,
    hours: int | None,
) -> pl.DataFrame:
    """Completed events ``e0``, ``e1``, ... of ``actors``; the first is a post.

    A reply, share or reaction has an earlier event or one of ``outside`` as parent;
    ``mentioned_by`` actions mention up to ``max_mentions`` of ``mentioned``. Event
    ``i`` is ``start`` plus a drawn 0-``hours`` hours (ties), or ``i`` hours without ``hours``.
    """
    rows: list[dict] = []
    for i in range(draw(st.integers(1, events))):
        action = draw(st.sampled_from(list(actions))) if i else "post"
        parent = None
        if action != "post":
            parent = draw(st.sampled_from([*(f"e{j}" for j in range(i)), *outside]))
        mentions: list[str] = []
        if action in mentioned_by:
            mentions = draw(st.lists(st.sampled_from(list(mentioned)), max_size=max_mentions))
        hour = draw(st.integers(0, hours)) if hours is not None else i
        rows.append(
            {
                "event_id": f"e{i}",
                "timestamp": start + timedelta(hours=hour),
                "actor_id": draw(st.sampled_from(list(actors))),
                "action": action,
                "parent_id": parent,
                "mentions": mentions,
                "platform": "events",
            }
        )
    return ev.complete_events(pl.DataFrame(rows, schema_overrides={"mentions": pl.List(pl.String)}))
