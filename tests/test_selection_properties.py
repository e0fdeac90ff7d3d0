"""Hypothesis properties of leader selection (``docs/methods.md``, *Leader selection*).

Over small random event sets whose accounts include pseudo-accounts (Reddit's
``[deleted]``, Stack Exchange's Community user, list robots as mail archives write them):

- ``select_leaders`` is the documented rule counted again here one account at a time:
  distinct audience, then authored actions, then id, among non-pseudo accounts with
  enough evidence (5 authored actions, three parts with their minimum denominator);
- every account it chooses can be labelled: ``leader_measures`` observes at least three
  parts of its index;
- no pseudo-account is ever chosen, by ``select_leaders`` or by ``pipeline.profile``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tests.event_strategies import canonical_events
from tribe_analysis import events as ev
from tribe_analysis import features as ft
from tribe_analysis import graph, pipeline
from tribe_analysis.observability import observe
from tribe_analysis.participation import MIN_AUTHORED, MIN_PARTS

SETTINGS = hypothesis.settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large],
)
START = datetime(2024, 3, 1, tzinfo=UTC)
M = 2
PSEUDO = [
    "[deleted]",
    "AutoModerator",
    "-1",
    "deleted:Bob",
    "MAILER-DAEMON@mail.example.org",
    "python-list-request@python.org",
    "python-list-bounces+ann=example.org@python.org",
    "everything-list-owner.domain.name.hidden",
]
"""Pseudo-accounts of ``docs/formats.md`` as the readers write them (mail: the ``From`` address)."""


@st.composite
def random_events(draw: st.DrawFn) -> pl.DataFrame:
    """Events of 2-6 accounts, some of them pseudo-accounts, with parents and mentions."""
    people = [f"a{i}" for i in range(draw(st.integers(1, 4)))]
    actors = people + draw(st.lists(st.sampled_from(PSEUDO), min_size=1, max_size=2, unique=True))
    return canonical_events(
        draw,
        actors,
        start=START,
        events=90,
        actions=("post", "reply", "reply", "share", "reaction"),
        mentioned=actors,
        max_mentions=1,
        hours=None,
    )


def _documented(events: pl.DataFrame, top: int, seen: dict[str, bool]) -> list[str]:
    """The rule of ``docs/methods.md``, one account at a time."""
    rows = events.to_dicts()
    ranked = []
    for account in set(events["actor_id"]) - set(PSEUDO):
        own = [r for r in rows if r["actor_id"] == account]
        posts = [r["event_id"] for r in own if r["action"] == "post"]
        authored = sum(r["action"] in ("post", "reply", "share") for r in own)
        audience = {
            r["actor_id"]
            for r in rows
            if r["action"] in ("reply", "share", "reaction")
            and r["actor_id"] != account
            and r["target_actor_id"] == account
        }
        others = [r for r in rows if r["action"] == "reply" and r["actor_id"] != account]
        comments = sum(r["parent_id"] in posts for r in others)
        discussions = sum(
            len({r["actor_id"] for r in others if r["thread_id"] == p}) >= 2 for p in posts
        )
        threads = seen["reply_parents"]
        answers = threads and seen["reply_answers"]
        parts = (
            (authored >= M) * threads
            + (discussions >= M) * answers
            + (comments >= M) * answers
            + (len(posts) >= M) * seen["mentions"]
        )
        if audience and authored >= MIN_AUTHORED and parts >= MIN_PARTS:
            ranked.append((-len(audience), -authored, account))
    return [account for *_, account in sorted(ranked)][:top]


@SETTINGS
@hypothesis.given(events=random_events(), top=st.integers(1, 4))
def test_select_leaders_is_the_documented_rule_and_chooses_labellable_accounts(events, top) -> None:
    seen = dict(observe(events).select("signal", "observable").iter_rows())
    chosen = ft.select_leaders(events, top=top, min_denominator=M)
    assert chosen == _documented(events, top, seen)
    edges = graph.edge_list(events)  # "faster; the same result"
    assert ft.select_leaders(events, top=top, min_denominator=M, edges=edges) == chosen
    if chosen:
        measures = ft.leader_measures(events, chosen, min_denominator=M, ego=False)
        assert (measures["parts_observed"] >= MIN_PARTS).all()
        assert (measures["authored"] >= MIN_AUTHORED).all()


@SETTINGS
@hypothesis.given(events=random_events(), top=st.integers(1, 6))
def test_a_pseudo_account_is_never_a_leader(events, top) -> None:
    """Nor in the fallback by audience or activity when no account has enough evidence."""
    assert not set(ft.select_leaders(events, top=top)) & set(PSEUDO)
    assert not set(ft.select_leaders(events, top=top, by="activity", evidence=False)) & set(PSEUDO)
    try:
        run = pipeline.profile(events, top=top)
    except ev.EventsError as exc:  # no account with 10 authored actions: one error line
        assert len(str(exc).splitlines()) == 1
        return
    assert run.leaders and not set(run.leaders) & set(PSEUDO)


@pytest.mark.parametrize("account", PSEUDO)
def test_every_pseudo_account_of_the_docs_is_recognised(account) -> None:
    """Mail robots as a real archive writes them (``name-request@host``, Mailman's VERP
    ``name-bounces+user=host@host``), not only the anonymised ``name-request.domain``."""
    frame = pl.DataFrame({"a": [account, "ann@example.org", "bob.request@example.org"]})
    assert frame.select(ft.is_pseudo_account("a")).to_series().to_list() == [True, False, False]
