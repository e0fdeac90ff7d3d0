"""Simulated tribes with planted leader styles.

:func:`simulate_tribe` makes a tribe of *members* and *leaders* whose engagement
style is known, as canonical events (:data:`tribe_analysis.events.SCHEMA`) plus a
``truth`` table of the planted parameters. Tests, the demo, workshops and the
1M/10M-event benchmarks use it. Everything is vectorised with numpy; the only
Python loops run over leaders, action kinds and reply levels, never over events
or members.

Model
-----
Accounts are leaders ``L001, L002, ...`` and members ``m00001, m00002, ...``
(zero-padded to the width of the largest number). Timestamps are uniform over
``days`` days from ``start`` (UTC); a response comes after its parent by an
exponential latency plus one second, and events that would fall after the
window are dropped (with all their descendants, which come later still).

Members
    Member activity is lognormal (sigma 1.2, mean 1) and so is popularity
    (sigma 0.8, mean 1): a few members do and draw most of the traffic.
    A member writes ``0.15 * activity * activity_scale`` root posts a day; 4% of
    them mention one other member. Each member root post draws, per unit of its
    author's popularity, Poisson(1.5) reactions, Poisson(0.5) comments and
    Poisson(0.08) shares from other members chosen in proportion to activity
    (mean latency 3 h, 4 h and 8 h).

Leaders
    Each leader has an *activity* (root posts a day, lognormal with median 1.2
    and sigma 0.5, times ``activity_scale``) and an *audience* (a random subset
    of members, lognormal size with median ``min(0.12 * n_members, 400)`` and
    sigma 0.5), both drawn independently of style, so raw volume does not
    reveal style. Each root post of a leader draws Poisson(0.06 * audience)
    reactions, Poisson(0.006 * audience) shares and Poisson(``thread_draw``)
    first-level comments from its audience (chosen in proportion to activity).

Leader behaviour (the planted rates, see :func:`planted_rates`)
    ``p_see``, ``p_comment``, ``p_share``
        probability that the leader reacts to / comments on / shares each root
        post of an audience member (three independent draws).
    ``p_answer``
        probability that each first-level comment by another account on the
        leader's root post gets a direct reply from the leader.
    ``p_mention``
        probability that a leader root post mentions 1-3 distinct audience
        members (otherwise it mentions no one).
    ``thread_draw``
        expected first-level comments from the audience per leader root post.
    ``p_thread_reply``
        probability that a member's reply in the leader's thread draws a
        reply from another audience member (repeated level by level, which
        gives deep threads).
    ``latency_h``
        mean hours (exponential) before the leader reacts, comments, shares
        or answers.

    ============== =========== ============
    rate           broadcaster participator
    ============== =========== ============
    p_see          0.03        0.35
    p_comment      0.01        0.15
    p_answer       0.05        0.70
    p_share        0.005       0.06
    p_mention      0.02        0.55
    thread_draw    2.0         4.5
    p_thread_reply 0.10        0.35
    latency_h      18.0        1.5
    ============== =========== ============

    A *mixed* leader (a share ``mixed_share`` of leaders) has ``mix`` drawn
    uniformly in [0.2, 0.45] and rates ``(1 - mix) * own + mix * other``;
    its ``style`` in the truth table stays its primary style. Pure leaders
    have ``mix = 0``.

Conversations
    A member addressed by a leader's reply (a leader comment on their post, or
    a leader answer to their comment) replies back with probability 0.35. A
    member reply draws a reply from another member with probability
    ``p_thread_reply`` in a leader's thread and 0.15 in a member's thread.
    Every reply draws Poisson(0.25) reactions. Threads stop at depth 12.

Noise the measures must ignore
    3% of leader root posts get a self-reply and 2% a self-share. About 0.5%
    as many replies as the data holds are replies by members to a parent
    outside the data (``parent_id`` and ``thread_id`` ``x000000001``,
    ``x000000002``, ...; ``target_actor_id`` null), as in a partial export.

Output
    ``platform`` is ``"synthetic"``, ``text`` is null, ``thread_id`` and
    ``target_actor_id`` are filled, ``mentions`` is an empty list when no one
    is mentioned. Events are sorted by time and get ids ``e000000001, ...`` in
    that order, so they are sorted by ``(timestamp, event_id)`` and every
    parent comes before its children.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

from tribe_analysis.events import ACTION_DTYPE, ACTIONS, conform

__all__ = [
    "to_mastodon",
    "MIX_RANGE",
    "RATE_NAMES",
    "STYLES",
    "SimulatedTribe",
    "estimate_events",
    "planted_rates",
    "simulate_tribe",
]

STYLES: tuple[str, ...] = ("broadcaster", "participator")
"""Planted leader styles."""

_RATE_TABLE: dict[str, dict[str, float]] = {
    "broadcaster": {
        "p_see": 0.03,
        "p_comment": 0.01,
        "p_answer": 0.05,
        "p_share": 0.005,
        "p_mention": 0.02,
        "thread_draw": 2.0,
        "p_thread_reply": 0.10,
        "latency_h": 18.0,
    },
    "participator": {
        "p_see": 0.35,
        "p_comment": 0.15,
        "p_answer": 0.70,
        "p_share": 0.06,
        "p_mention": 0.55,
        "thread_draw": 4.5,
        "p_thread_reply": 0.35,
        "latency_h": 1.5,
    },
}

RATE_NAMES: tuple[str, ...] = tuple(_RATE_TABLE["broadcaster"])
"""Names of the planted rates, in the order of the ``truth`` columns."""

MIX_RANGE: tuple[float, float] = (0.2, 0.45)
"""Range of the uniform ``mix`` of mixed leaders."""

# Member behaviour (documented in the module docstring).
_MEMBER_POSTS_PER_DAY = 0.15
_MEMBER_ACTIVITY_SIGMA = 1.2
_MEMBER_POPULARITY_SIGMA = 0.8
_MEMBER_REACT = 1.5
_MEMBER_COMMENT = 0.5
_MEMBER_SHARE = 0.08
_MEMBER_MENTION = 0.04
_MEMBER_FOLLOW_UP = 0.15
_BACK_REPLY = 0.35
_REPLY_REACT = 0.25
_LATENCY_REACT_H = 3.0
_LATENCY_COMMENT_H = 4.0
_LATENCY_SHARE_H = 8.0
# Leaders and audiences.
_LEADER_POSTS_MEDIAN = 1.2
_LEADER_ACTIVITY_SIGMA = 0.5
_AUDIENCE_FRACTION = 0.12
_AUDIENCE_CAP = 400.0
_AUDIENCE_SIGMA = 0.5
_AUDIENCE_MIN = 5
_AUDIENCE_REACT = 0.06
_AUDIENCE_SHARE = 0.006
_MENTION_EXTRA = 0.3  # mentions per mentioning post: 1 + Binomial(2, 0.3)
# Noise.
_SELF_REPLY = 0.03
_SELF_SHARE = 0.02
_ORPHAN_RATE = 0.005
_LATENCY_SELF_H = 2.0
_MAX_DEPTH = 12

_US_PER_HOUR = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_US = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - _EPOCH) // timedelta(
    microseconds=1
)
_US_PER_DAY = 24 * _US_PER_HOUR
_MIN_LATENCY_US = 1_000_000
_POST, _REPLY, _SHARE, _REACTION = (
    ACTIONS.index(a) for a in ("post", "reply", "share", "reaction")
)
_R = {name: i for i, name in enumerate(RATE_NAMES)}


@dataclass(frozen=True)
class SimulatedTribe:
    """A simulated tribe: canonical events and the planted truth.

    Attributes
    ----------
    events : polars.DataFrame
        Canonical events (exactly :data:`tribe_analysis.events.SCHEMA`),
        ``platform="synthetic"``, sorted by ``(timestamp, event_id)``.
    truth : polars.DataFrame
        One row per leader, sorted by ``leader_id``: ``leader_id``, ``style``
        (primary planted style), ``mix`` (share of behaviour borrowed from the
        other style, 0 for pure leaders), ``activity`` (root posts a day),
        ``audience`` (members in the leader's audience) and the planted rates
        (:data:`RATE_NAMES`).

    Examples
    --------
    >>> tribe = simulate_tribe(n_leaders=3, n_members=60, days=5, seed=1)
    >>> tribe.leaders
    ['L001', 'L002', 'L003']
    """

    events: pl.DataFrame
    truth: pl.DataFrame

    @property
    def leaders(self) -> list[str]:
        """Leader ids, sorted."""
        return self.truth.get_column("leader_id").to_list()


def planted_rates(style: str, mix: float = 0.0) -> dict[str, float]:
    """The planted rates of a leader of ``style`` borrowing ``mix`` from the other style.

    Parameters
    ----------
    style : str
        ``"broadcaster"`` or ``"participator"``: the primary style.
    mix : float, default 0.0
        Share in ``[0, 0.5)`` of behaviour borrowed from the other style.

    Returns
    -------
    dict of str to float
        ``(1 - mix) * own + mix * other`` for every rate in :data:`RATE_NAMES`
        (see the table in the module docstring).

    Raises
    ------
    ValueError
        If ``style`` is unknown or ``mix`` is outside ``[0, 0.5)``.

    Examples
    --------
    >>> planted_rates("participator")["p_answer"]
    0.7
    >>> round(planted_rates("broadcaster", mix=0.25)["p_answer"], 4)
    0.2125
    """
    problems = _check_style(style)
    if not _is_real(mix) or not 0.0 <= float(mix) < 0.5:
        problems.append(f"mix must be a number in [0, 0.5), got {mix!r}")
    if problems:
        raise ValueError("; ".join(problems))
    own = _RATE_TABLE[style]
    other = _RATE_TABLE[STYLES[1 - STYLES.index(style)]]
    mix = float(mix)
    return {name: (1.0 - mix) * own[name] + mix * other[name] for name in RATE_NAMES}


def simulate_tribe(
    *,
    n_leaders: int = 40,
    n_members: int | None = None,
    days: float = 60,
    participator_share: float = 0.5,
    mixed_share: float = 0.3,
    styles: Sequence[str] | None = None,
    activity_scale: float = 1.0,
    seed: int = 0,
    start: str = "2024-01-01",
) -> SimulatedTribe:
    """Simulate a tribe of members and leaders with planted styles.

    Parameters
    ----------
    n_leaders : int, default 40
        Number of leaders (``L001``, ...).
    n_members : int, optional
        Number of members (``m00001``, ...); default ``max(50, 25 * n_leaders)``.
    days : float, default 60
        Length of the window in days.
    participator_share : float, default 0.5
        Share of leaders whose primary style is participator (rounded to a
        whole number of leaders, assigned at random).
    mixed_share : float, default 0.3
        Share of leaders who borrow ``mix`` in [0.2, 0.45] of their behaviour
        from the other style.
    styles : sequence of str, optional
        Explicit primary style per leader (overrides ``participator_share``).
    activity_scale : float, default 1.0
        Multiplies every posting rate and so every event volume; use it (or
        ``n_members``) to reach a target size, see :func:`estimate_events`.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same arguments give
        identical frames.
    start : str, default "2024-01-01"
        ISO-8601 start of the window (UTC when no offset is given).

    Returns
    -------
    SimulatedTribe
        Canonical ``events`` and the planted ``truth``.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names every bad value.

    Examples
    --------
    >>> from tribe_analysis.events import SCHEMA
    >>> tribe = simulate_tribe(n_leaders=4, n_members=100, days=7, seed=1)
    >>> tribe.events.schema == SCHEMA
    True
    >>> tribe.truth.columns[:5]
    ['leader_id', 'style', 'mix', 'activity', 'audience']
    >>> tribe.truth.get_column("style").sort().to_list()
    ['broadcaster', 'broadcaster', 'participator', 'participator']
    """
    plan, rng = _make_plan(
        n_leaders=n_leaders,
        n_members=n_members,
        days=days,
        participator_share=participator_share,
        mixed_share=mixed_share,
        styles=styles,
        activity_scale=activity_scale,
        seed=seed,
        start=start,
    )
    events = _generate(rng, plan)
    return SimulatedTribe(events=events, truth=_truth(plan))


def estimate_events(
    *,
    n_leaders: int = 40,
    n_members: int | None = None,
    days: float = 60,
    participator_share: float = 0.5,
    mixed_share: float = 0.3,
    styles: Sequence[str] | None = None,
    activity_scale: float = 1.0,
    seed: int = 0,
    start: str = "2024-01-01",
) -> int:
    """Expected number of events :func:`simulate_tribe` makes with these arguments.

    Draws the same leaders and audiences as :func:`simulate_tribe` (cheap: no
    events) and adds up the expected volumes. It ignores the few events lost
    at the end of the window and the outside-the-data replies, so it is a
    rough (typically within 10%) guide for choosing ``activity_scale`` or
    ``n_members`` for a target size; volume is linear in ``activity_scale``.

    Parameters
    ----------
    n_leaders, n_members, days, participator_share, mixed_share, styles, activity_scale, seed, start
        As for :func:`simulate_tribe`.

    Returns
    -------
    int
        Expected number of events.

    Raises
    ------
    ValueError
        If an argument is out of range.

    Examples
    --------
    >>> n = estimate_events(n_leaders=4, n_members=100, days=7, seed=1)
    >>> n2 = estimate_events(n_leaders=4, n_members=100, days=7, seed=1, activity_scale=2)
    >>> abs(n2 - 2 * n) <= 1
    True
    """
    plan, _ = _make_plan(
        n_leaders=n_leaders,
        n_members=n_members,
        days=days,
        participator_share=participator_share,
        mixed_share=mixed_share,
        styles=styles,
        activity_scale=activity_scale,
        seed=seed,
        start=start,
    )
    return round(_expected(plan))


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class _Plan:
    """Everything drawn before the events: leaders, audiences, members."""

    n_leaders: int
    n_members: int
    span_us: int
    start_us: int
    participator: np.ndarray  # bool (L,)
    mix: np.ndarray  # float (L,)
    activity: np.ndarray  # leader root posts a day (L,), includes activity_scale
    rates: np.ndarray  # (L, len(RATE_NAMES))
    aud_ptr: np.ndarray  # (L + 1,) offsets into aud_members
    aud_members: np.ndarray  # member indices (0-based), random order within a leader
    aud_cum: np.ndarray  # cumulative member activity over aud_members, 0 first
    member_rate: np.ndarray  # member root posts a day (M,), includes activity_scale
    member_pop: np.ndarray  # member popularity (M,), mean 1
    member_cum: np.ndarray  # cumulative member activity (M,)

    @property
    def days(self) -> float:
        return self.span_us / _US_PER_DAY

    @property
    def aud_size(self) -> np.ndarray:
        return np.diff(self.aud_ptr)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_style(style: object, where: str = "") -> list[str]:
    if isinstance(style, str) and style in STYLES:
        return []
    return [f"unknown style {style!r}{where}; valid styles are {', '.join(map(repr, STYLES))}"]


def _parse_start(start: object) -> int | None:
    """Microseconds since the epoch of ``start``, or None when it does not parse."""
    if not isinstance(start, str):
        return None
    try:
        moment = datetime.fromisoformat(start)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: before the year 1 in UTC
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _make_plan(
    *,
    n_leaders: int,
    n_members: int | None,
    days: float,
    participator_share: float,
    mixed_share: float,
    styles: Sequence[str] | None,
    activity_scale: float,
    seed: int,
    start: str,
) -> tuple[_Plan, np.random.Generator]:
    """Check the arguments, then draw leaders, audiences and members.

    Returns the plan and the generator, ready to draw the events.
    """
    problems: list[str] = []
    if not _is_int(n_leaders) or n_leaders < 1:
        problems.append(f"n_leaders must be an integer >= 1, got {n_leaders!r}")
    if n_members is not None and (not _is_int(n_members) or n_members < 2):
        problems.append(f"n_members must be an integer >= 2 or None, got {n_members!r}")
    if not _is_real(days) or days <= 0:
        problems.append(f"days must be a positive number, got {days!r}")
    for name, share in (("participator_share", participator_share), ("mixed_share", mixed_share)):
        if not _is_real(share) or not 0.0 <= share <= 1.0:
            problems.append(f"{name} must be a number in [0, 1], got {share!r}")
    if not _is_real(activity_scale) or activity_scale <= 0:
        problems.append(f"activity_scale must be a positive number, got {activity_scale!r}")
    if not _is_int(seed) or seed < 0:
        problems.append(f"seed must be a non-negative integer, got {seed!r}")
    start_us = _parse_start(start)
    if start_us is None:
        problems.append(
            f"start must be an ISO-8601 date or datetime string in the years 1 to 9999 in UTC, "
            f"got {start!r}"
        )
    elif _is_real(days) and float(days) > (_LAST_US + 1 - start_us) / _US_PER_DAY:
        problems.append(
            f"start {start!r} and days {days!r} end the period after the year 9999 "
            "(no time can be written there)"
        )
    if styles is not None:
        if isinstance(styles, str) or not isinstance(styles, Sequence):
            problems.append(f"styles must be a sequence of style names, got {styles!r}")
        else:
            if _is_int(n_leaders) and len(styles) != n_leaders:
                problems.append(
                    f"styles has {len(styles)} entries but n_leaders is {n_leaders}; "
                    "give one style per leader"
                )
            for i, style in enumerate(styles):
                problems.extend(_check_style(style, f" at styles[{i}]"))
    if problems:
        raise ValueError("; ".join(problems))
    assert start_us is not None

    rng = np.random.default_rng(seed)
    n_l = int(n_leaders)
    n_m = int(n_members) if n_members is not None else max(50, 25 * n_l)
    scale = float(activity_scale)

    if styles is None:
        n_part = math.floor(float(participator_share) * n_l + 0.5)
        participator = np.zeros(n_l, dtype=bool)
        participator[rng.permutation(n_l)[:n_part]] = True
    else:
        participator = np.array([s == "participator" for s in styles], dtype=bool)
    n_mixed = math.floor(float(mixed_share) * n_l + 0.5)
    mix = np.zeros(n_l)
    mix[rng.permutation(n_l)[:n_mixed]] = rng.uniform(*MIX_RANGE, size=n_mixed)

    # Activity and audience are drawn independently of style.
    activity = rng.lognormal(math.log(_LEADER_POSTS_MEDIAN), _LEADER_ACTIVITY_SIGMA, n_l) * scale
    aud_ptr, aud_members = _audiences(rng, n_l, n_m)
    member_activity = rng.lognormal(0.0, _MEMBER_ACTIVITY_SIGMA, n_m)
    member_activity /= member_activity.mean()
    member_pop = rng.lognormal(0.0, _MEMBER_POPULARITY_SIGMA, n_m)
    member_pop /= member_pop.mean()
    rates = _mixed_rates(participator, mix)

    plan = _Plan(
        n_leaders=n_l,
        n_members=n_m,
        span_us=round(float(days) * _US_PER_DAY),
        start_us=start_us,
        participator=participator,
        mix=mix,
        activity=activity,
        rates=rates,
        aud_ptr=aud_ptr,
        aud_members=aud_members,
        aud_cum=np.concatenate([[0.0], np.cumsum(member_activity[aud_members])]),
        member_rate=_MEMBER_POSTS_PER_DAY * member_activity * scale,
        member_pop=member_pop,
        member_cum=np.cumsum(member_activity),
    )
    return plan, rng


def _audiences(rng: np.random.Generator, n_l: int, n_m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each leader's audience: (start of each leader's slice and the end, member of each slot)."""
    median = max(min(_AUDIENCE_FRACTION * n_m, _AUDIENCE_CAP), 1.0)
    aud_size = np.rint(rng.lognormal(math.log(median), _AUDIENCE_SIGMA, n_l)).astype(np.int64)
    aud_size = np.clip(aud_size, min(_AUDIENCE_MIN, n_m), n_m)
    aud_ptr = np.concatenate([[0], np.cumsum(aud_size)])
    aud_members = np.concatenate([rng.choice(n_m, size=k, replace=False) for k in aud_size])
    return aud_ptr, aud_members


def _mixed_rates(participator: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Each leader's behaviour rates: its style's, ``mix`` of them borrowed from the other."""
    n_l = participator.size
    own = np.array([[_RATE_TABLE[STYLES[int(p)]][r] for r in RATE_NAMES] for p in participator])
    other = np.array(
        [[_RATE_TABLE[STYLES[1 - int(p)]][r] for r in RATE_NAMES] for p in participator]
    )
    return (1.0 - mix)[:, None] * own.reshape(n_l, -1) + mix[:, None] * other.reshape(n_l, -1)


def _truth(plan: _Plan) -> pl.DataFrame:
    width = max(3, len(str(plan.n_leaders)))
    columns: dict[str, pl.Series] = {
        "leader_id": pl.Series([f"L{i:0{width}d}" for i in range(1, plan.n_leaders + 1)]),
        "style": pl.Series([STYLES[int(p)] for p in plan.participator], dtype=pl.String),
        "mix": pl.Series(plan.mix, dtype=pl.Float64),
        "activity": pl.Series(plan.activity, dtype=pl.Float64),
        "audience": pl.Series(plan.aud_size, dtype=pl.Int64),
    }
    for j, name in enumerate(RATE_NAMES):
        columns[name] = pl.Series(plan.rates[:, j], dtype=pl.Float64)
    return pl.DataFrame(columns).sort("leader_id")


def _expected(plan: _Plan) -> float:
    """Expected event count of a plan (no end-of-window losses, no orphans)."""
    n_l = plan.n_leaders
    days = plan.days
    r = plan.rates
    node = 1.0 + _REPLY_REACT  # a reply and its reactions
    # Member threads.
    member_reply = node / (1.0 - _MEMBER_FOLLOW_UP)
    leader_comment = node + _BACK_REPLY * member_reply
    posts_m = plan.member_rate * days
    total = float(
        np.sum(
            posts_m
            * (
                1.0
                + plan.member_pop * (_MEMBER_REACT + _MEMBER_SHARE + _MEMBER_COMMENT * member_reply)
            )
        )
    )
    # Leader threads.
    q = r[:, _R["p_thread_reply"]]
    thread_reply = node / (1.0 - q)
    answer = node + _BACK_REPLY * thread_reply
    first = node + r[:, _R["p_answer"]] * answer + q * thread_reply
    aud = plan.aud_size.astype(float)
    per_post = (
        1.0
        + (_AUDIENCE_REACT + _AUDIENCE_SHARE) * aud
        + r[:, _R["thread_draw"]] * first
        + _SELF_SHARE
        + _SELF_REPLY * node
    )
    total += float(np.sum(plan.activity * days * per_post))
    # Leaders engaging with their audience's root posts.
    for i in range(n_l):
        members = plan.aud_members[plan.aud_ptr[i] : plan.aud_ptr[i + 1]]
        seen = float(posts_m[members].sum())
        total += seen * (
            r[i, _R["p_see"]] + r[i, _R["p_share"]] + r[i, _R["p_comment"]] * leader_comment
        )
    return total


# ----------------------------------------------------------------------- generate


class _Events:
    """Accumulates event blocks with internal integer ids."""

    def __init__(self) -> None:
        self.n = 0
        self.actor: list[np.ndarray] = []
        self.action: list[np.ndarray] = []
        self.parent: list[np.ndarray] = []
        self.root: list[np.ndarray] = []
        self.time: list[np.ndarray] = []
        self.mention_event: list[np.ndarray] = []
        self.mention_account: list[np.ndarray] = []

    def add(
        self,
        actor: np.ndarray,
        action: int,
        time: np.ndarray,
        parent: np.ndarray | None = None,
        root: np.ndarray | None = None,
    ) -> np.ndarray:
        k = len(time)
        idx = np.arange(self.n, self.n + k, dtype=np.int64)
        self.n += k
        self.actor.append(np.asarray(actor, dtype=np.int64))
        self.action.append(np.full(k, action, dtype=np.int8))
        self.time.append(np.asarray(time, dtype=np.int64))
        self.parent.append(np.full(k, -1, np.int64) if parent is None else np.asarray(parent))
        self.root.append(idx if root is None else np.asarray(root, dtype=np.int64))
        return idx

    def mention(self, event: np.ndarray, account: np.ndarray) -> None:
        self.mention_event.append(np.asarray(event, dtype=np.int64))
        self.mention_account.append(np.asarray(account, dtype=np.int64))


@dataclass
class _Replies:
    """Replies of one level of the conversation cascade."""

    idx: np.ndarray  # internal event ids
    actor: np.ndarray  # account of the reply's author
    parent_actor: np.ndarray  # account of the parent's author
    root: np.ndarray  # internal id of the root post
    time: np.ndarray
    leader: np.ndarray  # leader whose root post starts the thread, -1 for a member thread

    @staticmethod
    def concat(parts: list[_Replies]) -> _Replies:
        names = [f.name for f in fields(_Replies)]
        return _Replies(*(np.concatenate([getattr(p, f) for p in parts]) for f in names))

    def take(self, rows: np.ndarray) -> _Replies:
        return _Replies(*(getattr(self, f.name)[rows] for f in fields(_Replies)))


def _delay(rng: np.random.Generator, mean_h: float | np.ndarray, n: int) -> np.ndarray:
    """Latencies in microseconds: exponential with mean ``mean_h`` hours, plus 1 s."""
    hours = rng.exponential(1.0, n) * mean_h
    return (hours * _US_PER_HOUR).astype(np.int64) + _MIN_LATENCY_US


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each start and count."""
    total = int(counts.sum())
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return shift + np.arange(total, dtype=np.int64)


def _pick_members(rng: np.random.Generator, plan: _Plan, exclude: np.ndarray) -> np.ndarray:
    """Member accounts in proportion to activity, never the account ``exclude``."""
    n_l, n_m = plan.n_leaders, plan.n_members
    cum = plan.member_cum
    m = np.searchsorted(cum, rng.random(len(exclude)) * cum[-1], side="right")
    m = np.minimum(m, n_m - 1)
    clash = np.flatnonzero(m + n_l == exclude)
    m[clash] = (m[clash] + 1 + rng.integers(0, n_m - 1, clash.size)) % n_m
    return m + n_l


def _pick_audience(
    rng: np.random.Generator, plan: _Plan, leader: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Accounts from each leader's audience in proportion to activity, never ``exclude``."""
    lo_pos, hi_pos = plan.aud_ptr[leader], plan.aud_ptr[leader + 1]
    lo, hi = plan.aud_cum[lo_pos], plan.aud_cum[hi_pos]
    target = lo + rng.random(len(leader)) * (hi - lo)
    pos = np.searchsorted(plan.aud_cum, target, side="right") - 1
    pos = np.clip(pos, lo_pos, hi_pos - 1)
    if exclude is not None:
        clash = np.flatnonzero(plan.aud_members[pos] + plan.n_leaders == exclude)
        size = hi_pos[clash] - lo_pos[clash]
        pos[clash] = lo_pos[clash] + (pos[clash] - lo_pos[clash] + 1) % size
    return plan.aud_members[pos] + plan.n_leaders


def _respond(
    rng: np.random.Generator, counts: np.ndarray, parent_time: np.ndarray, mean_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Parent positions repeated ``counts`` times and the responses' timestamps."""
    par = np.repeat(np.arange(counts.size), counts)
    return par, parent_time[par] + _delay(rng, mean_h, par.size)


class _Roots(NamedTuple):
    """Root posts of members (``mp``, grouped by author) and of leaders (``lp``)."""

    mp: np.ndarray  # event positions
    mp_author: np.ndarray
    mp_time: np.ndarray
    mp_ptr: np.ndarray  # first post of each member, and the end
    n_mp: np.ndarray  # posts per member
    lp: np.ndarray
    lp_leader: np.ndarray
    lp_time: np.ndarray


def _generate(rng: np.random.Generator, plan: _Plan) -> pl.DataFrame:
    """Every event of the tribe, phase by phase (the random draws in this order)."""
    ev = _Events()
    roots = _root_posts(rng, plan, ev)
    level1 = _first_responses(rng, plan, ev, roots)
    level1 += _leaders_engage(rng, plan, ev, roots)
    replies = [_self_noise(rng, ev, roots)]

    # Conversation cascade, one level at a time.
    frontier = _Replies.concat(level1)
    replies.append(frontier)
    for depth in range(1, _MAX_DEPTH):
        frontier = _next_level(rng, plan, ev, frontier, depth)
        if frontier.idx.size == 0:
            break
        replies.append(frontier)
    _reactions_and_orphans(rng, plan, ev, _Replies.concat(replies))
    return _assemble(plan, ev)


def _root_posts(rng: np.random.Generator, plan: _Plan, ev: _Events) -> _Roots:
    """Members' and leaders' root posts, with the mentions in them."""
    n_l, n_m, span, days = plan.n_leaders, plan.n_members, plan.span_us, plan.days
    # Member root posts, grouped by author.
    n_mp = rng.poisson(plan.member_rate * days)
    mp_author = np.repeat(np.arange(n_m), n_mp) + n_l
    mp_ptr = np.concatenate([[0], np.cumsum(n_mp)])
    mp_time = rng.integers(0, span, mp_author.size)
    mp = ev.add(mp_author, _POST, mp_time)
    sel = np.flatnonzero(rng.random(mp.size) < _MEMBER_MENTION)
    ev.mention(mp[sel], _pick_members(rng, plan, mp_author[sel]))

    # Leader root posts.
    lp_leader = np.repeat(np.arange(n_l), rng.poisson(plan.activity * days))
    lp_time = rng.integers(0, span, lp_leader.size)
    lp = ev.add(lp_leader, _POST, lp_time)
    sel = np.flatnonzero(rng.random(lp.size) < plan.rates[lp_leader, _R["p_mention"]])
    leader = lp_leader[sel]
    size = plan.aud_size[leader]
    k = np.minimum(1 + rng.binomial(2, _MENTION_EXTRA, sel.size), size)
    first = rng.integers(0, size)
    for j in range(3):  # consecutive slots of a shuffled audience: distinct members
        has = np.flatnonzero(k > j)
        slot = plan.aud_ptr[leader[has]] + (first[has] + j) % size[has]
        ev.mention(lp[sel[has]], plan.aud_members[slot] + n_l)
    return _Roots(mp, mp_author, mp_time, mp_ptr, n_mp, lp, lp_leader, lp_time)


def _first_responses(
    rng: np.random.Generator, plan: _Plan, ev: _Events, roots: _Roots
) -> list[_Replies]:
    """Members respond to members' root posts, audiences to leaders'; the comments made."""
    level1: list[_Replies] = []
    mp, mp_author, mp_time = roots.mp, roots.mp_author, roots.mp_time
    pop = plan.member_pop[mp_author - plan.n_leaders]
    for action, rate, mean_h in (
        (_REACTION, _MEMBER_REACT, _LATENCY_REACT_H),
        (_SHARE, _MEMBER_SHARE, _LATENCY_SHARE_H),
        (_REPLY, _MEMBER_COMMENT, _LATENCY_COMMENT_H),
    ):
        par, time = _respond(rng, rng.poisson(rate * pop), mp_time, mean_h)
        who = _pick_members(rng, plan, mp_author[par])
        idx = ev.add(who, action, time, mp[par], mp[par])
        if action == _REPLY:
            level1.append(_Replies(idx, who, mp_author[par], mp[par], time, np.full(idx.size, -1)))

    lp, lp_leader = roots.lp, roots.lp_leader
    size = plan.aud_size[lp_leader].astype(float)
    for action, mean, mean_h in (
        (_REACTION, _AUDIENCE_REACT * size, _LATENCY_REACT_H),
        (_SHARE, _AUDIENCE_SHARE * size, _LATENCY_SHARE_H),
        (_REPLY, plan.rates[lp_leader, _R["thread_draw"]], _LATENCY_COMMENT_H),
    ):
        par, time = _respond(rng, rng.poisson(mean), roots.lp_time, mean_h)
        who = _pick_audience(rng, plan, lp_leader[par])
        idx = ev.add(who, action, time, lp[par], lp[par])
        if action == _REPLY:
            level1.append(_Replies(idx, who, lp_leader[par], lp[par], time, lp_leader[par]))
    return level1


def _leaders_engage(
    rng: np.random.Generator, plan: _Plan, ev: _Events, roots: _Roots
) -> list[_Replies]:
    """Leaders see, comment on and share their audience's root posts; the comments made."""
    rates, mp = plan.rates, roots.mp
    picked: dict[int, list[tuple[int, np.ndarray]]] = {_REACTION: [], _SHARE: [], _REPLY: []}
    for i in range(plan.n_leaders):
        members = plan.aud_members[plan.aud_ptr[i] : plan.aud_ptr[i + 1]]
        pos = _ranges(roots.mp_ptr[members], roots.n_mp[members])
        for action, rate in ((_REACTION, "p_see"), (_REPLY, "p_comment"), (_SHARE, "p_share")):
            picked[action].append((i, pos[rng.random(pos.size) < rates[i, _R[rate]]]))
    level1: list[_Replies] = []
    for action, parts in picked.items():
        pos = np.concatenate([p for _, p in parts])
        who = np.repeat([i for i, _ in parts], [p.size for _, p in parts]).astype(np.int64)
        time = roots.mp_time[pos] + _delay(rng, rates[who, _R["latency_h"]], pos.size)
        idx = ev.add(who, action, time, mp[pos], mp[pos])
        if action == _REPLY:
            author = roots.mp_author[pos]
            level1.append(_Replies(idx, who, author, mp[pos], time, np.full(idx.size, -1)))
    return level1


def _self_noise(rng: np.random.Generator, ev: _Events, roots: _Roots) -> _Replies:
    """Noise: leaders' self-shares and self-replies; the self-replies made."""
    lp, lp_leader, lp_time = roots.lp, roots.lp_leader, roots.lp_time
    sel = np.flatnonzero(rng.random(lp.size) < _SELF_SHARE)
    ev.add(
        lp_leader[sel],
        _SHARE,
        lp_time[sel] + _delay(rng, _LATENCY_SELF_H, sel.size),
        lp[sel],
        lp[sel],
    )
    sel = np.flatnonzero(rng.random(lp.size) < _SELF_REPLY)
    time = lp_time[sel] + _delay(rng, _LATENCY_SELF_H, sel.size)
    idx = ev.add(lp_leader[sel], _REPLY, time, lp[sel], lp[sel])
    return _Replies(idx, lp_leader[sel], lp_leader[sel], lp[sel], time, lp_leader[sel])


def _reactions_and_orphans(
    rng: np.random.Generator, plan: _Plan, ev: _Events, every: _Replies
) -> None:
    """Reactions to replies, and replies to parents outside the data (a partial export).

    A reply's reactions come from its thread leader's audience, or from any member.
    """
    par, time = _respond(
        rng, rng.poisson(_REPLY_REACT, every.idx.size), every.time, _LATENCY_REACT_H
    )
    in_leader = every.leader[par] >= 0
    who = np.empty(par.size, dtype=np.int64)
    who[in_leader] = _pick_audience(
        rng, plan, every.leader[par[in_leader]], every.actor[par[in_leader]]
    )
    who[~in_leader] = _pick_members(rng, plan, every.actor[par[~in_leader]])
    ev.add(who, _REACTION, time, every.idx[par], every.root[par])

    n_orphans = int(rng.poisson(_ORPHAN_RATE * every.idx.size))
    who = _pick_members(rng, plan, np.full(n_orphans, -1))
    ev.add(
        who,
        _REPLY,
        rng.integers(0, plan.span_us, n_orphans),
        np.full(n_orphans, -2),
        np.full(n_orphans, -2),
    )


def _next_level(
    rng: np.random.Generator, plan: _Plan, ev: _Events, r: _Replies, depth: int
) -> _Replies:
    """Replies to the replies ``r`` (at ``depth``), added to ``ev``."""
    n_l = plan.n_leaders
    kids: list[_Replies] = []
    is_member = r.actor >= n_l

    # The thread's leader answers first-level comments by others.
    if depth == 1:
        cand = np.flatnonzero((r.leader >= 0) & is_member)
        leader = r.leader[cand]
        sel = cand[rng.random(cand.size) < plan.rates[leader, _R["p_answer"]]]
        leader = r.leader[sel]
        time = r.time[sel] + _delay(rng, plan.rates[leader, _R["latency_h"]], sel.size)
        idx = ev.add(leader, _REPLY, time, r.idx[sel], r.root[sel])
        kids.append(_Replies(idx, leader, r.actor[sel], r.root[sel], time, leader))

    # A member addressed by a leader replies back.
    cand = np.flatnonzero(~is_member & (r.parent_actor >= n_l))
    sel = cand[rng.random(cand.size) < _BACK_REPLY]
    who = r.parent_actor[sel]
    time = r.time[sel] + _delay(rng, _LATENCY_COMMENT_H, sel.size)
    idx = ev.add(who, _REPLY, time, r.idx[sel], r.root[sel])
    kids.append(_Replies(idx, who, r.actor[sel], r.root[sel], time, r.leader[sel]))

    # Another member follows up on a member's reply.
    cand = np.flatnonzero(is_member)
    in_leader = r.leader[cand] >= 0
    q = np.where(
        in_leader,
        plan.rates[np.maximum(r.leader[cand], 0), _R["p_thread_reply"]],
        _MEMBER_FOLLOW_UP,
    )
    sel = cand[rng.random(cand.size) < q]
    in_leader = r.leader[sel] >= 0
    who = np.empty(sel.size, dtype=np.int64)
    who[in_leader] = _pick_audience(rng, plan, r.leader[sel[in_leader]], r.actor[sel[in_leader]])
    who[~in_leader] = _pick_members(rng, plan, r.actor[sel[~in_leader]])
    time = r.time[sel] + _delay(rng, _LATENCY_COMMENT_H, sel.size)
    idx = ev.add(who, _REPLY, time, r.idx[sel], r.root[sel])
    kids.append(_Replies(idx, who, r.actor[sel], r.root[sel], time, r.leader[sel]))

    nxt = _Replies.concat(kids)
    keep = nxt.time < plan.span_us  # later levels would fall outside the window too
    return nxt.take(keep)


def _assemble(plan: _Plan, ev: _Events) -> pl.DataFrame:
    """Sort the events by time, give them ids and build the canonical frame."""
    time = np.concatenate(ev.time)
    # Drop what falls after the window; descendants come later, so go too.
    kept = np.flatnonzero(time < plan.span_us)
    order = kept[np.argsort(time[kept], kind="stable")]
    time = time[order]
    del kept
    n = order.size
    rank = np.full(ev.n, -1, dtype=np.int64)  # internal id -> row in the output
    rank[order] = np.arange(n)

    actor_all = np.concatenate(ev.actor)
    parent = np.concatenate(ev.parent)
    orphan_no = np.cumsum(parent == -2) - 1  # numbers the outside-the-data parents
    n_orphans = int(orphan_no[-1]) + 1 if orphan_no.size else 0
    parent = parent[order]
    inside = parent >= 0
    outside = parent == -2
    safe = np.maximum(parent, 0)
    target = np.where(inside, actor_all[safe], -1)
    # Rows of the id table (event ids, then outside ids) that parent_id and thread_id take.
    parent_row = np.where(inside, rank[safe], -1)
    parent_row[outside] = n + orphan_no[order[outside]]
    if (parent_row[inside] < 0).any():  # pragma: no cover - a parent after the window
        raise AssertionError("a kept event has a dropped parent")
    del safe
    root = np.concatenate(ev.root)[order]
    thread_row = np.where(root >= 0, rank[np.maximum(root, 0)], -1)
    thread_row[outside] = parent_row[outside]
    actor = actor_all[order]
    del actor_all, root
    action = np.concatenate(ev.action)[order]
    del order

    n_l, n_m = plan.n_leaders, plan.n_members
    names = pl.concat(
        [
            _number_ids("L", np.arange(1, n_l + 1), max(3, len(str(n_l)))),
            _number_ids("m", np.arange(1, n_m + 1), max(5, len(str(n_m)))),
        ]
    )
    width = max(9, len(str(n)), len(str(n_orphans)))
    event_id = _number_ids("e", np.arange(1, n + 1), width)
    id_table = pl.concat([event_id, _number_ids("x", np.arange(1, n_orphans + 1), width)])

    def lookup(table: pl.Series, rows: np.ndarray) -> pl.Expr:
        index = pl.lit(pl.Series(rows))
        return pl.lit(table).gather(pl.when(index >= 0).then(index))

    frame = pl.select(
        pl.lit(event_id).alias("event_id"),
        (pl.lit(pl.Series(time)) + plan.start_us).cast(pl.Datetime("us", "UTC")).alias("timestamp"),
        pl.lit(names).gather(pl.lit(pl.Series(actor))).alias("actor_id"),
        pl.lit(pl.Series(ACTIONS, dtype=ACTION_DTYPE))
        .gather(pl.lit(pl.Series(action)))
        .alias("action"),
        lookup(id_table, parent_row).alias("parent_id"),
        lookup(id_table, thread_row).alias("thread_id"),
        lookup(names, target).alias("target_actor_id"),
    )
    del time, actor, action, parent_row, thread_row, target

    return conform(_with_mentions(frame, ev, rank, names), platform="synthetic")


def _with_mentions(
    frame: pl.DataFrame, ev: _Events, rank: np.ndarray, names: pl.Series
) -> pl.DataFrame:
    """``frame`` with ``mentions``: one list per event, in the order they were drawn.

    ``rank`` maps an internal event id to its row of ``frame`` (-1: dropped).
    """
    m_row = rank[np.concatenate(ev.mention_event)]  # _generate always adds mention blocks
    m_account = np.concatenate(ev.mention_account)
    keep = m_row >= 0
    m_row, m_account = m_row[keep], m_account[keep]
    m_order = np.lexsort((np.arange(m_row.size), m_row))
    mentions = (
        pl.DataFrame({"row": m_row[m_order], "mentions": names.gather(m_account[m_order])})
        .group_by("row", maintain_order=True)
        .agg(pl.col("mentions"))
    )
    return (
        frame.with_columns(row=pl.int_range(frame.height, dtype=pl.Int64))
        .join(mentions, on="row", how="left", maintain_order="left")
        .drop("row")
    )


def _number_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Strings ``prefix`` + zero-padded ``numbers`` (non-negative), built without Python loops."""
    n = numbers.size
    size = len(prefix.encode()) + width
    wide = n > 0 and int(numbers.max()) >= 2**32
    rest: np.ndarray = numbers.astype(np.uint64 if wide else np.uint32)
    chars = np.empty((size, n), dtype=np.uint8)
    chars[: size - width] = np.frombuffer(prefix.encode(), dtype=np.uint8)[:, None]
    for k in range(size - 1, size - width - 1, -1):
        quotient = rest // 10
        chars[k] = (rest - quotient * 10).astype(np.uint8) + ord("0")
        rest = quotient
    data = pa.py_buffer(np.ascontiguousarray(chars.T))
    if n * size < 2**31:
        offsets = pa.py_buffer(np.arange(0, (n + 1) * size, size, dtype=np.int32))
        array = pa.StringArray.from_buffers(n, offsets, data)
    else:
        offsets = pa.py_buffer(np.arange(0, (n + 1) * size, size, dtype=np.int64))
        array = pa.LargeStringArray.from_buffers(n, offsets, data)
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series


def to_mastodon(events: pl.DataFrame) -> list[dict]:
    """Simulated events as Mastodon API status objects (what a real export looks like).

    Posts and replies become statuses (``in_reply_to_id``,
    ``in_reply_to_account_id``, ``mentions``), shares become boosts (``reblog``);
    reactions are dropped, as favourites given are not part of status objects.
    Reading the result with :mod:`tribe_analysis.io.mastodon` gives back the
    posts, replies and shares.

    Examples
    --------
    >>> tribe = simulate_tribe(n_leaders=2, n_members=20, days=3, seed=1)
    >>> statuses = to_mastodon(tribe.events)
    >>> sorted(statuses[0])[:4]
    ['account', 'content', 'created_at', 'id']
    """
    rows = (
        events.filter(pl.col("action") != "reaction")
        .sort("timestamp", "event_id")
        .with_columns(pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.3fZ").alias("stamp"))
        .select(
            "event_id", "stamp", "actor_id", "action", "parent_id", "target_actor_id", "mentions"
        )
    )
    statuses = []
    for event_id, stamp, actor, action, parent, target, mentions in rows.iter_rows():
        status: dict = {
            "id": event_id,
            "created_at": stamp,
            "account": {"id": actor, "acct": actor},
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog": None,
            "mentions": [],
            "content": "",
        }
        if action == "share":
            status["reblog"] = {"id": parent, "account": {"id": target, "acct": target}}
        else:
            status["content"] = f"<p>simulated {action} by {actor}</p>"
            status["mentions"] = [{"id": m, "acct": m} for m in mentions]
            if action == "reply":
                status["in_reply_to_id"] = parent
                status["in_reply_to_account_id"] = target
        statuses.append(status)
    return statuses
