r"""A second, independent simulator: forum and microblog tribes with planted leader styles.

This generator is deliberately built apart from :mod:`tribe_analysis.synth` (its author
did not read that simulator nor the project's measures) so that the project's labels can
be checked against data they were not tuned to. It writes canonical events
(:data:`tribe_analysis.events.SCHEMA`, ``platform="synthetic-forum"``) and the planted
truth of every leader.

Leader styles
-------------
A leader either **broadcasts** (posts root content and rarely looks back) or
**participates** (sees, comments, starts conversations, answers, promotes others). Each
leader draws seven behavioural probabilities from Beta distributions with the means of
:data:`STYLE_MEANS` and concentration :data:`STYLE_CONCENTRATION` (a = mean * kappa,
b = (1 - mean) * kappa):

=============  ===================================================  ===========  ============
behaviour      meaning (per opportunity)                            broadcaster  participator
=============  ===================================================  ===========  ============
``see``        reacts to a tribe member's root post it can see      0.015        0.40
``comment``    replies to a tribe member's root post                0.006        0.15
``answer``     answers a reply addressed to it                      0.05         0.55
``share``      shares a tribe member's root post                    0.008        0.12
``mention``    a root post of its mentions other accounts           0.05         0.35
``join``       replies inside member-to-member talk in its threads  0.02         0.20
``question``   a root post of its is a conversation starter         0.08         0.45
=============  ===================================================  ===========  ============

The means are loose readings of studies of politicians', journalists' and brands' accounts
(most accounts broadcast; interactive ones reply to a minority of what they see and
answer a good part of what is addressed to them); they are not taken from this
repository. A share ``mixed_share`` of leaders are *mixed*: ``mix ~ U(mix_range)`` and
every probability is ``(1 - mix) * own + mix * other`` with ``other`` drawn from the other
style's Betas; their truth ``style`` stays the primary one. Posting rate, audience size,
post appeal, self-threading (``p_self_thread ~ Beta(1, 12)``) and all response delays are
drawn independently of style; the world is drawn from a random stream of its own, so a
seed gives the same audiences, posting rates and root posts whatever ``styles`` is.

Designs
-------
``"forum"`` (threaded discussion site, boards)
    Members' activity is Pareto (alpha 1.4, x_min 1, capped at 300). Each leader owns a
    board whose size is log-normal (median 30, log-sd 0.9, at least 6); members join
    boards by weighted sampling without replacement (weight activity^0.5), every member
    joins at least one. Leaders post ``max(3, Poisson(rate * days))`` threads with rate
    log-normal (median 0.5/day, log-sd 1.1); members post Poisson(0.02 * activity)
    threads per day on one of their boards. A thread draws a negative binomial number of
    replies (mean ``c * board^0.5 * appeal``, c 0.5 for leaders and 0.3 for members,
    x2.5 for questions, shape 1.5, appeal log-normal with log-sd 0.6). Replies come in
    *sessions*: 1 + Poisson(0.4 log(1 + replies)) sessions, the first 1.5 h (median)
    after the post, the next ones exponential 12 h apart; within a session replies
    follow each other by exponential 12 min gaps. A reply answers the root (probability
    0.35 in leader questions, 0.65 in other leader threads, 0.5 in member threads) or a
    recent earlier reply (geometric lag), so members discuss with each other; members
    return to reply to whoever replied to them (30%) and original posters answer in
    their threads (20%); 2% of member replies are self-replies. Upvotes are common
    (0.08 x board per leader thread, 0.05 x board per member thread, 0.3 per reply),
    shares rare (0.002 x board, 0.001 x board); replies mention their parent's author
    10% of the time, member threads mention someone 5% of the time.
``"microblog"`` (follow graph)
    Members follow a Geometric number of leaders (1, 2, ...; mean 3.5) chosen by
    preferential attachment with fitness (probability proportional to fitness x
    (followers + 10), fitness log-normal with log-sd 0.5, members arriving in 40
    rounds; every leader gets at least 3 followers), which gives heavy-tailed audiences
    (median about 50, maximum in the thousands at defaults). Every account's daily
    number of root posts is Gamma-Poisson (negative binomial: shape 0.5 for leaders,
    0.3 for members) around a log-normal base rate (leaders: median 0.9/day, log-sd 1.2,
    at least 3 posts in all; members: median 0.05/day, log-sd 1.3), which makes activity
    bursty. A leader's post draws likes (0.035 x followers x appeal), retweet-style
    shares (0.007 x followers x appeal) and replies (0.02 x followers^0.85 x appeal, x3
    for questions); a member's post draws 0.6 likes, 0.08 shares and 0.3 replies times
    its appeal (log-normal, log-sd 1, mean 1) from the followers of one leader it
    follows. Replies cascade level by level (Poisson 0.25, 0.2, 0.15, 0.1 replies per
    reply at depth 1-4, x1.8 in question threads); a responder is the author of the
    parent's parent (40%, back-and-forth), the thread's author (10%) or a follower drawn
    by activity^0.7. Replies mention their parent's author half of the time, member
    posts mention someone 20% of the time.

In both designs a leader's *tribe* is its board (forum) or its followers (microblog): it
looks at its tribe's root posts (at most 30 a day on average, whatever its style: when
the tribe posts more, each post is looked at with probability 30 / posts per day) and
reacts to, comments on or shares a post it looks at with probability ``see``,
``comment`` or ``share`` (x0.25 in forums, where shares are rare); it answers replies
addressed to it for up to three rounds (the member comes back with probability 0.4),
joins member-to-member talk in its own threads and likes comments on its posts with
probability ``0.6 * see``. Members answer a leader's comment with probability 0.5. Every
parent is in the data and strictly precedes its child; events after the period are
dropped (their descendants are later still); duplicate and self reactions/shares are
removed.

Examples
--------
>>> from tribe_analysis.events import SCHEMA, validate_events
>>> tribe = simulate_forum(n_leaders=6, days=10, seed=1)
>>> tribe.events.schema == SCHEMA, validate_events(tribe.events)
(True, [])
>>> tribe.truth.group_by("style").len().sort("style").rows()
[('broadcaster', 3), ('participator', 3)]
>>> micro = simulate_forum(n_leaders=6, days=10, seed=1, design="microblog", platform="no_reactions")
>>> "reaction" in micro.events["action"].to_list()
False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl

from tribe_analysis.events import ACTIONS, conform

__all__ = [
    "BEHAVIOURS",
    "DESIGNS",
    "PLATFORMS",
    "PLATFORM_NAME",
    "START",
    "STYLES",
    "STYLE_CONCENTRATION",
    "STYLE_MEANS",
    "ForumTribe",
    "simulate_forum",
]

STYLES: tuple[str, ...] = ("broadcaster", "participator")
"""Planted leader styles (index 0 and 1 in the internals)."""

DESIGNS: tuple[str, ...] = ("forum", "microblog")
"""Structurally different tribe generators selectable with ``design``."""

PLATFORMS: tuple[str, ...] = ("full", "no_reactions", "no_shares", "no_mentions")
"""Platform variants: what the platform does not expose."""

PLATFORM_NAME = "synthetic-forum"
"""Value of the ``platform`` column."""

START = datetime(2024, 3, 4, tzinfo=UTC)
"""First instant of the simulated period (a Monday, UTC)."""

BEHAVIOURS: tuple[str, ...] = ("see", "comment", "answer", "share", "mention", "join", "question")
"""Per-leader behavioural probabilities (truth columns ``p_<behaviour>``)."""

STYLE_MEANS: dict[str, dict[str, float]] = {
    "broadcaster": {
        "see": 0.015,
        "comment": 0.006,
        "answer": 0.05,
        "share": 0.008,
        "mention": 0.05,
        "join": 0.02,
        "question": 0.08,
    },
    "participator": {
        "see": 0.40,
        "comment": 0.15,
        "answer": 0.55,
        "share": 0.12,
        "mention": 0.35,
        "join": 0.20,
        "question": 0.45,
    },
}
"""Mean of each behaviour's Beta distribution per style."""

STYLE_CONCENTRATION: dict[str, float] = {"broadcaster": 30.0, "participator": 12.0}
"""Beta concentration ``a + b`` per style (larger: leaders of the style are more alike)."""

_SEC = 1_000_000
_MIN = 60 * _SEC
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
# Relative activity per UTC hour: quiet nights, a midday plateau, an evening peak.
_DIURNAL = np.array(
    [3, 2, 1.5, 1, 1, 1.5, 3, 5, 7, 8, 8, 8, 8.5, 8, 7.5, 7.5, 8, 8.5, 9, 10, 10.5, 10, 8, 5]
)
_POST, _REPLY, _SHARE, _REACTION = range(4)
_ATTENTION = 30.0  # tribe posts a leader can look at per day (style-independent)


@dataclass(frozen=True)
class _Design:
    """Numbers that differ between the designs (see the module docstring)."""

    members_per_leader: int
    reply_delay: tuple[float, float]  # median seconds, log-sd
    react_delay: tuple[float, float]
    leader_delay: tuple[float, float]
    self_delay: tuple[float, float]
    share_scale: float  # multiplies a leader's p_share
    member_question: float
    member_mention: float
    reply_mention: float
    reply_like: float  # mean likes/upvotes per reply


_PARAMS: dict[str, _Design] = {
    "forum": _Design(
        members_per_leader=25,
        reply_delay=(2 * 3600.0, 1.2),
        react_delay=(3 * 3600.0, 1.3),
        leader_delay=(4 * 3600.0, 1.2),
        self_delay=(20 * 60.0, 1.0),
        share_scale=0.25,
        member_question=0.3,
        member_mention=0.05,
        reply_mention=0.1,
        reply_like=0.3,
    ),
    "microblog": _Design(
        members_per_leader=40,
        reply_delay=(20 * 60.0, 1.6),
        react_delay=(10 * 60.0, 1.8),
        leader_delay=(60 * 60.0, 1.4),
        self_delay=(2 * 60.0, 1.0),
        share_scale=1.0,
        member_question=0.1,
        member_mention=0.2,
        reply_mention=0.5,
        reply_like=0.4,
    ),
}


@dataclass
class ForumTribe:
    """A simulated tribe: canonical events and the planted truth.

    Attributes
    ----------
    events : polars.DataFrame
        Canonical events (:data:`tribe_analysis.events.SCHEMA`), sorted by
        ``timestamp`` then ``event_id``.
    truth : polars.DataFrame
        One row per leader: ``leader_id``, ``style``, ``mix``, ``p_<behaviour>`` for
        each of :data:`BEHAVIOURS`, ``p_self_thread``, ``posts_per_day`` (drawn
        rate) and ``audience`` (board members or followers).
    leaders : list of str
        Leader account ids, in truth order.
    design : str
        ``"forum"`` or ``"microblog"``.
    platform : tuple of str
        Platform variants applied.
    evidence : polars.DataFrame or None
        One row per leader, in truth order: for each of :data:`BEHAVIOURS`, the
        opportunities it had (``n_<behaviour>``: its tribe's root posts for
        ``see``, ``comment`` and ``share``, whether it looked at them or not;
        replies addressed to it, over the answer rounds, for ``answer``;
        member-to-member replies in its threads for ``join``; its root posts for
        ``mention`` and ``question``) and how many it took (``k_<behaviour>``),
        as the simulator drew them, before any platform variant hides a signal
        and before events after the period are dropped: what a perfect
        measurement of each behaviour could estimate ``p_<behaviour>`` from
        (``benchmarks/index_ceiling.py``). The likes a leader gives to comments
        on its own posts (``0.6 * see``) are not tallied.
    """

    events: pl.DataFrame
    truth: pl.DataFrame
    leaders: list[str]
    design: str = "forum"
    platform: tuple[str, ...] = field(default=("full",))
    evidence: pl.DataFrame | None = None


# --------------------------------------------------------------------------- helpers


def _lognormal_us(rng: np.random.Generator, n: int, spec: tuple[float, float]) -> np.ndarray:
    """Delays in microseconds: 1 s + log-normal with the given median (s) and log-sd."""
    median, sigma = spec
    return (_SEC * (1.0 + median * np.exp(sigma * rng.standard_normal(n)))).astype(np.int64)


def _neg_binomial(rng: np.random.Generator, mean: np.ndarray, shape: float) -> np.ndarray:
    """Gamma-Poisson counts with the given means and Gamma shape."""
    return rng.poisson(rng.gamma(shape, np.asarray(mean, dtype=float) / shape))


def _times_in_days(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """Microsecond offsets within the given days, hours following the diurnal profile."""
    hour = rng.choice(24, size=day.size, p=_DIURNAL / _DIURNAL.sum())
    return (
        day.astype(np.int64) * _DAY + hour * _HOUR + (rng.random(day.size) * _HOUR).astype(np.int64)
    )


def _grouped_cumsum(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``x`` restarting at each new value of the sorted ``group``."""
    if x.size == 0:
        return x.copy()
    cs = np.cumsum(x)
    first = np.r_[True, group[1:] != group[:-1]]
    before = (cs - x)[first]
    return cs - before[np.cumsum(first) - 1]


def _position_in_group(group: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of the sorted ``group``."""
    if group.size == 0:
        return group.astype(np.int64)
    first = np.r_[True, group[1:] != group[:-1]]
    starts = np.flatnonzero(first)
    return np.arange(group.size) - starts[np.cumsum(first) - 1]


class _Audience:
    """Weighted sampling of members from each leader's audience (board or followers)."""

    def __init__(self, leader: np.ndarray, member: np.ndarray, weight: np.ndarray, n: int):
        order = np.lexsort((member, leader))
        self.leader = leader[order]
        self.member = member[order]
        self.cw = np.cumsum(weight[order])
        self.start = np.searchsorted(self.leader, np.arange(n), side="left")
        self.end = np.searchsorted(self.leader, np.arange(n), side="right")
        self.size = self.end - self.start
        cw0 = np.r_[0.0, self.cw]
        self.base = cw0[self.start]
        self.total = cw0[self.end] - self.base

    def sample(self, rng: np.random.Generator, boards: np.ndarray) -> np.ndarray:
        """One member (account index) per entry of ``boards``, drawn by weight."""
        u = self.base[boards] + rng.random(boards.size) * self.total[boards]
        i = np.searchsorted(self.cw, u, side="right")
        return self.member[np.clip(i, self.start[boards], self.end[boards] - 1)]


class _Log:
    """Growing columnar store of events, addressed by a global integer index."""

    _COLS = ("ts", "actor", "action", "parent", "thread", "board", "question")

    def __init__(self) -> None:
        self.n = 0
        self._parts: dict[str, list[np.ndarray]] = {c: [] for c in self._COLS}
        self._cache: dict[str, np.ndarray] = {}
        self.mention_event: list[np.ndarray] = []
        self.mention_account: list[np.ndarray] = []

    def col(self, name: str) -> np.ndarray:
        """One column over every event added so far."""
        if name not in self._cache:
            self._cache[name] = np.concatenate(self._parts[name])
        return self._cache[name]

    def add(self, **cols: np.ndarray) -> np.ndarray:
        """Append events (one array per column); return their global indices."""
        n = len(cols["ts"])
        idx = np.arange(self.n, self.n + n, dtype=np.int64)
        if "thread" not in cols:  # roots
            cols["thread"] = idx
            cols["parent"] = np.full(n, -1, dtype=np.int64)
        for name in self._COLS:
            self._parts[name].append(np.asarray(cols[name]))
        self.n += n
        self._cache.clear()
        return idx

    def respond(
        self,
        rng: np.random.Generator,
        parents: np.ndarray,
        actors: np.ndarray,
        action: int,
        delay: tuple[float, float],
    ) -> np.ndarray:
        """Add one event per parent, after it by a log-normal delay, in the parent's thread."""
        return self.add(
            ts=self.col("ts")[parents] + _lognormal_us(rng, parents.size, delay),
            actor=actors,
            action=np.full(parents.size, action, dtype=np.int8),
            parent=parents,
            thread=self.col("thread")[parents],
            board=self.col("board")[parents],
            question=self.col("question")[parents],
        )

    def mention(self, events: np.ndarray, accounts: np.ndarray) -> None:
        """Record that ``events[i]`` mentions ``accounts[i]``."""
        self.mention_event.append(np.asarray(events, dtype=np.int64))
        self.mention_account.append(np.asarray(accounts, dtype=np.int64))


# --------------------------------------------------------------------------- leaders


def _style_codes(
    rng: np.random.Generator, n: int, styles: str | Sequence[str] | None
) -> np.ndarray:
    """0 (broadcaster) / 1 (participator) per leader."""
    if styles is None:
        return rng.permutation(np.arange(n) % 2)
    if isinstance(styles, str):
        if styles not in STYLES:
            raise ValueError(f"unknown style {styles!r} (expected one of {', '.join(STYLES)})")
        return np.full(n, STYLES.index(styles))
    styles = list(styles)
    if len(styles) != n or any(s not in STYLES for s in styles):
        raise ValueError(f"styles must be None, a style name, or {n} names among {STYLES}")
    return np.array([STYLES.index(s) for s in styles])


def _draw_leaders(
    rng: np.random.Generator,
    n: int,
    styles: str | Sequence[str] | None,
    mixed_share: float,
    mix_range: tuple[float, float],
) -> dict[str, np.ndarray]:
    """Style, mix and behavioural probabilities of every leader."""
    code = _style_codes(rng, n, styles)
    mixed = np.zeros(n, dtype=bool)
    mixed[rng.choice(n, size=round(mixed_share * n), replace=False)] = True
    mix = np.where(mixed, rng.uniform(mix_range[0], mix_range[1], n), 0.0)
    kappa = np.array([STYLE_CONCENTRATION[s] for s in STYLES])
    out: dict[str, np.ndarray] = {"code": code, "mix": mix}
    for b in BEHAVIOURS:
        mean = np.array([STYLE_MEANS[s][b] for s in STYLES])
        own = rng.beta(mean[code] * kappa[code], (1 - mean[code]) * kappa[code])
        oth = rng.beta(mean[1 - code] * kappa[1 - code], (1 - mean[1 - code]) * kappa[1 - code])
        out[b] = (1.0 - mix) * own + mix * oth
    out["self_thread"] = rng.beta(1.0, 12.0, n)
    return out


# --------------------------------------------------------------------------- networks and roots


def _forum_network(rng: np.random.Generator, n_l: int, n_m: int) -> tuple[np.ndarray, ...]:
    """Board memberships (leader, member account) and member activity."""
    act = np.minimum(rng.pareto(1.4, n_m) + 1.0, 300.0)
    size = np.clip(np.rint(rng.lognormal(np.log(30.0), 0.9, n_l)), 6, max(6, n_m // 3))
    size = np.minimum(size, n_m).astype(np.int64)
    w = np.sqrt(act)
    lead, mem = [], []
    for leader in range(n_l):  # Efraimidis-Spirakis weighted sampling without replacement
        keys = np.log(rng.random(n_m)) / w
        pick = np.sort(np.argpartition(-keys, size[leader] - 1)[: size[leader]])
        lead.append(np.full(pick.size, leader))
        mem.append(pick)
    lead_a, mem_a = np.concatenate(lead), np.concatenate(mem)
    lonely = np.setdiff1d(np.arange(n_m), mem_a)
    if lonely.size:
        lead_a = np.r_[lead_a, rng.choice(n_l, size=lonely.size, p=size / size.sum())]
        mem_a = np.r_[mem_a, lonely]
    return lead_a, mem_a + n_l, act


def _microblog_network(rng: np.random.Generator, n_l: int, n_m: int) -> tuple[np.ndarray, ...]:
    """Follow edges (leader, member account) by preferential attachment; member base rates."""
    rate = rng.lognormal(np.log(0.05), 1.3, n_m)
    fitness = rng.lognormal(0.0, 0.5, n_l)
    n_follow = np.minimum(rng.geometric(1 / 3.5, n_m), n_l)  # 1, 2, ... with mean 3.5
    followers = np.zeros(n_l)
    keys = []
    for batch in np.array_split(rng.permutation(n_m), 40):
        need = n_follow[batch]
        p = fitness * (followers + 10.0)
        picks = rng.choice(n_l, size=int(need.sum()), p=p / p.sum())
        key = np.unique(np.repeat(batch, need).astype(np.int64) * n_l + picks)
        keys.append(key)
        followers += np.bincount(key % n_l, minlength=n_l)
    for leader in np.flatnonzero(followers < 3):
        keys.append(rng.choice(n_m, size=3, replace=False).astype(np.int64) * n_l + leader)
    key = np.unique(np.concatenate(keys))
    return key % n_l, key // n_l + n_l, rate / np.median(rate)


def _member_boards(
    rng: np.random.Generator, lead: np.ndarray, mem: np.ndarray, authors: np.ndarray, n_acc: int
) -> np.ndarray:
    """One board (leader) per member post, uniform among its author's memberships."""
    order = np.argsort(mem, kind="stable")
    m_sorted, l_sorted = mem[order], lead[order]
    start = np.searchsorted(m_sorted, np.arange(n_acc), side="left")
    deg = np.searchsorted(m_sorted, np.arange(n_acc), side="right") - start
    pick = start[authors] + (rng.random(authors.size) * deg[authors]).astype(np.int64)
    return l_sorted[pick]


def _forum_roots(
    rng: np.random.Generator, days: int, n_l: int, act: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Root posts (author, time) and leader rates: Poisson counts over the period."""
    rate = rng.lognormal(np.log(0.5), 1.1, n_l)
    n_lead = np.maximum(3, rng.poisson(rate * days))
    n_mem = rng.poisson(act * 0.02 * days)
    author = np.r_[np.repeat(np.arange(n_l), n_lead), np.repeat(np.arange(act.size) + n_l, n_mem)]
    ts = _times_in_days(rng, rng.integers(0, days, author.size))
    return author, ts, rate


def _microblog_roots(
    rng: np.random.Generator, days: int, n_l: int, act: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Root posts (author, time) and leader rates: bursty Gamma-Poisson counts per day."""
    rate = rng.lognormal(np.log(0.9), 1.2, n_l)
    lead_daily = _neg_binomial(rng, np.repeat(rate[:, None], days, axis=1), 0.5)
    short = np.maximum(0, 3 - lead_daily.sum(axis=1))
    for leader in np.flatnonzero(short):
        np.add.at(lead_daily[leader], rng.integers(0, days, short[leader]), 1)
    mem_daily = _neg_binomial(rng, np.repeat(0.05 * act[:, None], days, axis=1), 0.3)
    daily = np.vstack([lead_daily, mem_daily])
    acc, day = np.nonzero(daily)
    counts = daily[acc, day]
    author, day = np.repeat(acc, counts), np.repeat(day, counts)
    return author, _times_in_days(rng, day), rate


# --------------------------------------------------------------------------- discussion


def _pick_actors(
    rng: np.random.Generator,
    log: _Log,
    aud: _Audience,
    parents: np.ndarray,
    n_l: int,
    back: float,
    op: float,
) -> np.ndarray:
    """Members replying to ``parents``: audience draws, some back-and-forth and OP answers."""
    actor_col, parent_col = log.col("actor"), log.col("parent")
    boards = log.col("board")[parents]
    actors = aud.sample(rng, boards)
    thread = log.col("thread")[parents]
    root_author = actor_col[thread]
    use_op = (rng.random(parents.size) < op) & (root_author >= n_l) & (parents != thread)
    actors = np.where(use_op, root_author, actors)
    grand = parent_col[parents]
    grand_author = actor_col[np.maximum(grand, 0)]
    use_back = (grand >= 0) & (grand_author >= n_l) & (rng.random(parents.size) < back)
    actors = np.where(use_back, grand_author, actors)
    return _few_self_replies(rng, aud, actors, actor_col[parents], boards, n_l)


def _few_self_replies(
    rng: np.random.Generator,
    aud: _Audience,
    actors: np.ndarray,
    parent_author: np.ndarray,
    boards: np.ndarray,
    n_l: int,
) -> np.ndarray:
    """Redraw accidental self-replies once, then make 2% of member replies self-replies."""
    same = actors == parent_author
    actors = actors.copy()
    actors[same] = aud.sample(rng, boards[same])
    noise = (rng.random(actors.size) < 0.02) & (parent_author >= n_l)
    return np.where(noise, parent_author, actors)


def _forum_discussion(
    rng: np.random.Generator, log: _Log, aud: _Audience, roots: np.ndarray, n_l: int
) -> None:
    """Threads whose replies come in sessions; replies answer the root or recent replies."""
    author, question = log.col("actor")[roots], log.col("question")[roots]
    is_leader = author < n_l
    board_size = aud.size[log.col("board")[roots]]
    appeal = rng.lognormal(-0.18, 0.6, roots.size)
    mean = (
        np.where(is_leader, 0.5, 0.3) * np.sqrt(board_size) * appeal * np.where(question, 2.5, 1.0)
    )
    n_rep = _neg_binomial(rng, mean, 1.5)
    n_sess = np.minimum(1 + rng.poisson(0.4 * np.log1p(n_rep)), np.maximum(n_rep, 1))
    # session start times
    sess_root = np.repeat(np.arange(roots.size), n_sess)
    first = _position_in_group(sess_root) == 0
    gap = np.where(
        first,
        _lognormal_us(rng, sess_root.size, (1.5 * 3600.0, 1.0)),
        (rng.exponential(12 * 3600.0, sess_root.size) * _SEC).astype(np.int64),
    )
    sess_start = log.col("ts")[roots][sess_root] + _grouped_cumsum(gap, sess_root)
    sess_offset = np.cumsum(n_sess) - n_sess
    # replies: assigned to sessions, then follow each other inside a session
    rep_root = np.repeat(np.arange(roots.size), n_rep)
    rep_sess = sess_offset[rep_root] + (rng.random(rep_root.size) * n_sess[rep_root]).astype(
        np.int64
    )
    rep_sess.sort()  # rep_root is sorted and sessions are numbered within roots
    rep_root = sess_root[rep_sess]
    within = ((1.0 + rng.exponential(12 * 60.0, rep_sess.size)) * _SEC).astype(np.int64)
    ts = sess_start[rep_sess] + _grouped_cumsum(within, rep_sess)
    order = np.lexsort((ts, rep_root))
    rep_root, ts = rep_root[order], ts[order]
    pos = _position_in_group(rep_root)
    ts = ts + pos  # strictly increasing inside a thread (1 us per position)
    q_root = np.where(is_leader, np.where(question, 0.35, 0.65), 0.5)[rep_root]
    to_root = (pos == 0) | (rng.random(pos.size) < q_root)
    lag = np.minimum(rng.geometric(0.5, pos.size), np.maximum(pos, 1))
    base = log.n
    k = np.arange(pos.size)
    parent = np.where(to_root, roots[rep_root], base + k - lag)
    # actors: parents known (roots or earlier rows of this block) -> draw in one pass
    board = log.col("board")[roots][rep_root]
    actors = aud.sample(rng, board)
    thread_author = author[rep_root]
    use_op = (rng.random(pos.size) < 0.2) & (thread_author >= n_l) & ~to_root
    actors = np.where(use_op, thread_author, actors)
    parent_local = np.where(to_root, -1, k - lag)  # row of the parent in this block, -1: root
    grand_local = np.where(parent_local >= 0, parent_local[np.maximum(parent_local, 0)], -1)
    grand_author = np.where(grand_local >= 0, actors[np.maximum(grand_local, 0)], thread_author)
    use_back = (parent_local >= 0) & (grand_author >= n_l) & (rng.random(pos.size) < 0.3)
    actors = np.where(use_back, grand_author, actors)
    parent_author = np.where(to_root, thread_author, actors[np.maximum(parent_local, 0)])
    actors = _few_self_replies(rng, aud, actors, parent_author, board, n_l)
    log.add(
        ts=ts,
        actor=actors,
        action=np.full(pos.size, _REPLY, dtype=np.int8),
        parent=parent,
        thread=roots[rep_root],
        board=board,
        question=question[rep_root],
    )


def _microblog_discussion(
    rng: np.random.Generator, log: _Log, aud: _Audience, roots: np.ndarray, n_l: int
) -> None:
    """Reply cascades built level by level from the roots."""
    author, question = log.col("actor")[roots], log.col("question")[roots]
    is_leader = author < n_l
    followers = aud.size[log.col("board")[roots]]
    appeal = rng.lognormal(-0.5, 1.0, roots.size)
    mean = (
        np.where(is_leader, 0.02 * followers**0.85, 0.3)
        * appeal
        * np.where(question, np.where(is_leader, 3.0, 2.0), 1.0)
    )
    frontier = np.repeat(roots, _neg_binomial(rng, mean, 1.0))
    delay = _PARAMS["microblog"].reply_delay
    for rate in (0.25, 0.2, 0.15, 0.1, 0.0):
        if frontier.size == 0:
            break
        actors = _pick_actors(rng, log, aud, frontier, n_l, back=0.4, op=0.1)
        made = log.respond(rng, frontier, actors, _REPLY, delay)
        boost = np.where(log.col("question")[made], 1.8, 1.0)
        frontier = np.repeat(made, rng.poisson(rate * boost))


def _crowd_reactions(
    rng: np.random.Generator, log: _Log, aud: _Audience, design: str, n_l: int
) -> None:
    """Members' likes/upvotes and shares of roots, likes of replies."""
    p = _PARAMS[design]
    action, actor = log.col("action"), log.col("actor")
    roots = np.flatnonzero(action == _POST)
    replies = np.flatnonzero(action == _REPLY)
    size = aud.size[log.col("board")[roots]]
    leader_root = actor[roots] < n_l
    if design == "forum":
        appeal = rng.lognormal(-0.18, 0.6, roots.size)
        like_mean = np.where(leader_root, 0.08, 0.05) * size * appeal
        share_mean = np.where(leader_root, 0.002, 0.001) * size * appeal
    else:
        appeal = rng.lognormal(-0.5, 1.0, roots.size)
        like_mean = np.where(leader_root, 0.035 * size, 0.6) * appeal
        share_mean = np.where(leader_root, 0.007 * size, 0.08) * appeal
    likes = np.r_[
        np.repeat(roots, _neg_binomial(rng, like_mean, 1.0)),
        np.repeat(replies, rng.poisson(p.reply_like, replies.size)),
    ]
    shares = np.repeat(roots, _neg_binomial(rng, share_mean, 1.0))
    board = log.col("board")
    log.respond(rng, likes, aud.sample(rng, board[likes]), _REACTION, p.react_delay)
    log.respond(rng, shares, aud.sample(rng, board[shares]), _SHARE, p.reply_delay)


# --------------------------------------------------------------------------- leaders at work


class _Counts:
    """Per-leader opportunities and takes of each behaviour (:attr:`ForumTribe.evidence`)."""

    def __init__(self, n_l: int) -> None:
        self.n_l = n_l
        self.n = {b: np.zeros(n_l, dtype=np.int64) for b in BEHAVIOURS}
        self.k = {b: np.zeros(n_l, dtype=np.int64) for b in BEHAVIOURS}

    def add(self, name: str, leader: np.ndarray, taken: np.ndarray) -> None:
        """Each of ``leader`` had one opportunity of ``name``; ``taken`` says which it took."""
        self.n[name] += np.bincount(leader, minlength=self.n_l)[: self.n_l]
        self.k[name] += np.bincount(leader[taken], minlength=self.n_l)[: self.n_l]

    def columns(self) -> dict[str, np.ndarray]:
        return {f"{c}_{b}": getattr(self, c)[b] for b in BEHAVIOURS for c in ("n", "k")}


def _leader_work(
    rng: np.random.Generator,
    log: _Log,
    aud: _Audience,
    lead: dict[str, np.ndarray],
    tribe: tuple[np.ndarray, np.ndarray],
    design: str,
    n_l: int,
    days: int,
    counts: _Counts,
) -> None:
    """Everything leaders do beyond posting, by their drawn probabilities (tallied in ``counts``)."""
    p = _PARAMS[design]
    actor, action = log.col("actor"), log.col("action")
    # self-threads (style-independent noise): a reply to one's own post, sometimes two
    own_roots = np.flatnonzero((action == _POST) & (actor < n_l))
    cont = own_roots[rng.random(own_roots.size) < lead["self_thread"][actor[own_roots]]]
    first = log.respond(rng, cont, actor[cont], _REPLY, p.self_delay)
    more = first[rng.random(first.size) < 0.4]
    log.respond(rng, more, log.col("actor")[more], _REPLY, p.self_delay)
    # seeing the tribe's posts: (member root, leader) candidate pairs
    posts, leaders = tribe
    volume = np.bincount(leaders, minlength=n_l) / days  # tribe posts per day
    attention = np.minimum(1.0, _ATTENTION / np.maximum(volume, 1e-9))[leaders]
    for name, kind, scale in (("see", _REACTION, 1.0), ("share", _SHARE, p.share_scale)):
        take = rng.random(posts.size) < scale * attention * lead[name][leaders]
        counts.add(name, leaders, take)
        log.respond(rng, posts[take], leaders[take], kind, p.leader_delay)
    take = rng.random(posts.size) < attention * lead["comment"][leaders]
    counts.add("comment", leaders, take)
    comments = log.respond(rng, posts[take], leaders[take], _REPLY, p.leader_delay)
    # joining member-to-member talk in its own threads; liking comments on its posts
    actor, parent, thread = log.col("actor"), log.col("parent"), log.col("thread")
    owner = actor[thread]
    is_member_reply = (log.col("action") == _REPLY) & (actor >= n_l) & (owner < n_l)
    talk = np.flatnonzero(is_member_reply & (actor[np.maximum(parent, 0)] >= n_l))
    take = rng.random(talk.size) < lead["join"][owner[talk]]
    counts.add("join", owner[talk], take)
    talk = talk[take]
    direct = np.flatnonzero(is_member_reply & (parent == thread))
    joins = log.respond(rng, talk, owner[talk], _REPLY, p.leader_delay)
    direct = direct[rng.random(direct.size) < 0.6 * lead["see"][owner[direct]]]
    log.respond(rng, direct, owner[direct], _REACTION, p.react_delay)
    # members answer the leader's comments and joins (mostly the member addressed)
    said = np.r_[comments, joins]
    said = said[rng.random(said.size) < 0.5]
    addressed = log.col("actor")[log.col("parent")[said]]
    other = aud.sample(rng, log.col("board")[said])
    who = np.where(rng.random(said.size) < 0.7, addressed, other)
    log.respond(rng, said, who, _REPLY, p.reply_delay)
    # answer rounds: replies addressed to a leader, the member may come back
    actor, parent = log.col("actor"), log.col("parent")
    to_leader = np.flatnonzero(
        (log.col("action") == _REPLY)
        & (actor >= n_l)
        & (actor[np.maximum(parent, 0)] < n_l)
        & (parent >= 0)
    )
    for _ in range(3):
        target = log.col("actor")[log.col("parent")[to_leader]]
        keep = rng.random(to_leader.size) < lead["answer"][target]
        counts.add("answer", target, keep)
        answers = log.respond(rng, to_leader[keep], target[keep], _REPLY, p.leader_delay)
        back = answers[rng.random(answers.size) < 0.4]
        to_leader = log.respond(
            rng, back, log.col("actor")[log.col("parent")[back]], _REPLY, p.reply_delay
        )


def _mentions(
    rng: np.random.Generator,
    log: _Log,
    aud: _Audience,
    lead: dict[str, np.ndarray],
    design: str,
    n_l: int,
    counts: _Counts,
) -> None:
    """Mentions in leaders' posts (p_mention), members' posts and replies (parent author)."""
    p = _PARAMS[design]
    actor, action, board = log.col("actor"), log.col("action"), log.col("board")
    roots = np.flatnonzero(action == _POST)
    leader_roots = roots[actor[roots] < n_l]
    take = rng.random(leader_roots.size) < lead["mention"][actor[leader_roots]]
    counts.add("mention", actor[leader_roots], take)
    counts.add("question", actor[leader_roots], log.col("question")[leader_roots])
    tagging = leader_roots[take]
    tagging = np.repeat(tagging, 1 + rng.poisson(0.4, tagging.size))
    named = aud.sample(rng, board[tagging])
    other_leader = (actor[tagging] + rng.integers(1, max(n_l, 2), tagging.size)) % n_l
    use_leader = (rng.random(tagging.size) < 0.2) & (n_l > 1)
    log.mention(tagging, np.where(use_leader, other_leader, named))
    member_roots = roots[actor[roots] >= n_l]
    tagging = member_roots[rng.random(member_roots.size) < p.member_mention]
    named = np.where(
        rng.random(tagging.size) < 0.5, board[tagging], aud.sample(rng, board[tagging])
    )
    log.mention(tagging, named)
    replies = np.flatnonzero(action == _REPLY)
    replies = replies[rng.random(replies.size) < p.reply_mention]
    log.mention(replies, actor[log.col("parent")[replies]])


# --------------------------------------------------------------------------- assembly


def _check_arguments(
    design: str, n_leaders: int, days: float, mixed_share: float, mix_range: tuple[float, float]
) -> None:
    """Raise ValueError, naming the argument, for what :func:`simulate_forum` cannot simulate."""
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r} (expected one of {', '.join(DESIGNS)})")
    if n_leaders < 1 or days < 1:
        raise ValueError("n_leaders and days must be at least 1")
    if not 0.0 <= mixed_share <= 1.0 or not 0.0 <= mix_range[0] <= mix_range[1] <= 1.0:
        raise ValueError("mixed_share and mix_range must lie in [0, 1] (mix_range ordered)")


def _followed_roots(
    m_lead: np.ndarray, m_acc: np.ndarray, member_roots: np.ndarray, authors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(root, leader) for each member root post and each leader following its author."""
    order = np.argsort(m_acc, kind="stable")
    f_acc, f_lead = m_acc[order], m_lead[order]
    lo = np.searchsorted(f_acc, authors, side="left")
    hi = np.searchsorted(f_acc, authors, side="right")
    reps = hi - lo
    rows = np.repeat(lo, reps) + _position_in_group(np.repeat(np.arange(reps.size), reps))
    return np.repeat(member_roots, reps), f_lead[rows]


def _truth(
    leaders: list[str], lead: dict[str, np.ndarray], rate: np.ndarray, aud: _Audience
) -> pl.DataFrame:
    """The planted truth: each leader's style, mix, behaviour probabilities and audience."""
    return pl.DataFrame(
        {
            "leader_id": leaders,
            "style": [STYLES[c] for c in lead["code"]],
            "mix": lead["mix"],
            **{f"p_{b}": lead[b] for b in BEHAVIOURS},
            "p_self_thread": lead["self_thread"],
            "posts_per_day": rate,
            "audience": aud.size.astype(np.int64),
        }
    )


def _platform_variants(platform: str | Sequence[str]) -> tuple[str, ...]:
    names = (platform,) if isinstance(platform, str) else tuple(platform)
    bad = [n for n in names if n not in PLATFORMS]
    if bad or not names:
        raise ValueError(
            f"unknown platform variant {bad or names!r} (expected {', '.join(PLATFORMS)})"
        )
    return names


def _names(prefix: str, n: int) -> list[str]:
    width = len(str(max(n - 1, 0)))
    return [f"{prefix}{i:0{width}d}" for i in range(n)]


def _assemble(log: _Log, names: list[str], end_us: int, variants: tuple[str, ...]) -> pl.DataFrame:
    """Drop late and duplicate events, give ids in (timestamp, id) order, build the frame."""
    ts, actor, action, parent = (log.col(c) for c in ("ts", "actor", "action", "parent"))
    keep = ts < end_us
    leaf = (action == _SHARE) | (action == _REACTION)
    keep &= ~(leaf & (actor == actor[np.maximum(parent, 0)]))  # no self-likes or self-shares
    # one like (share) per account and content: keep the earliest
    cand = np.flatnonzero(keep & leaf)
    cand = cand[np.lexsort((cand, ts[cand]))]
    key = (parent[cand] * len(names) + actor[cand]) * 4 + action[cand]
    _, first = np.unique(key, return_index=True)
    dup = np.ones(cand.size, dtype=bool)
    dup[first] = False
    keep[cand[dup]] = False
    kept = np.flatnonzero(keep)
    kept = kept[np.lexsort((kept, ts[kept]))]
    rank = np.full(log.n, -1, dtype=np.int64)
    rank[kept] = np.arange(kept.size)
    new_parent = np.where(parent[kept] >= 0, rank[np.maximum(parent[kept], 0)], -1)
    if np.any((parent[kept] >= 0) & (new_parent < 0)) or np.any(
        (new_parent >= 0) & (new_parent >= np.arange(kept.size))
    ):
        raise AssertionError("internal error: a parent is missing or does not precede its child")
    # mentions: (rank, account), no self-mentions, unique, grouped per event
    m_ev = np.concatenate(log.mention_event) if log.mention_event else np.zeros(0, np.int64)
    m_acc = np.concatenate(log.mention_account) if log.mention_account else np.zeros(0, np.int64)
    ok = (rank[m_ev] >= 0) & (m_acc != actor[m_ev])
    if "no_mentions" in variants:
        ok[:] = False
    pairs = np.unique(np.c_[rank[m_ev[ok]], m_acc[ok]], axis=0).reshape(-1, 2)
    name = pl.Series("name", names)
    width = max(7, len(str(kept.size)))
    frame = pl.DataFrame(
        {
            "rank": np.arange(kept.size),
            "timestamp": ts[kept] + int(START.timestamp()) * _SEC,
            "actor_id": name.gather(actor[kept]),
            "action": pl.Series(np.asarray(action[kept], dtype=np.int64)),
            "parent_rank": new_parent,
            "thread_rank": rank[log.col("thread")[kept]],
            "target_actor_id": name.gather(actor[np.maximum(parent[kept], 0)]),
        }
    )
    ids = pl.format("e{}", pl.col("rank").cast(pl.String).str.zfill(width))
    mentions = (
        pl.DataFrame({"rank": pairs[:, 0], "who": name.gather(pairs[:, 1])})
        .group_by("rank", maintain_order=True)
        .agg(pl.col("who").alias("mentions"))
    )
    frame = frame.with_columns(
        ids.alias("event_id"),
        pl.when(pl.col("parent_rank") >= 0)
        .then(pl.format("e{}", pl.col("parent_rank").cast(pl.String).str.zfill(width)))
        .alias("parent_id"),
        pl.format("e{}", pl.col("thread_rank").cast(pl.String).str.zfill(width)).alias("thread_id"),
        pl.from_epoch(pl.col("timestamp"), time_unit="us").dt.replace_time_zone("UTC"),
        pl.col("action").replace_strict(dict(enumerate(ACTIONS)), return_dtype=pl.String),
        pl.when(pl.col("parent_rank") >= 0).then(pl.col("target_actor_id")),
        pl.lit(None, dtype=pl.String).alias("text"),
        pl.lit(PLATFORM_NAME).alias("platform"),
    ).join(mentions, on="rank", how="left", maintain_order="left")
    drop = [a for v, a in (("no_reactions", "reaction"), ("no_shares", "share")) if v in variants]
    if drop:
        frame = frame.filter(~pl.col("action").is_in(drop))
    return conform(frame, platform=PLATFORM_NAME)


# --------------------------------------------------------------------------- public API


def simulate_forum(
    n_leaders: int = 130,
    n_members: int | None = None,
    days: int = 45,
    seed: int = 0,
    design: str = "forum",
    mixed_share: float = 0.4,
    mix_range: tuple[float, float] = (0.2, 0.45),
    styles: str | Sequence[str] | None = None,
    platform: str | Sequence[str] = "full",
) -> ForumTribe:
    """Simulate a tribe with planted broadcaster / participator leaders.

    Parameters
    ----------
    n_leaders : int
        Number of leaders (accounts ``L0``, ``L1``, ...).
    n_members : int, optional
        Number of members (``m0``, ...); default 25 per leader (forum) or 40 per
        leader (microblog).
    days : int
        Length of the period, from :data:`START`; later events are dropped.
    seed : int
        Seed of two :class:`numpy.random.Generator` streams, one for the leaders'
        styles and probabilities and one for the world; equal seeds give equal frames,
        and audiences, posting rates and root posts do not depend on ``styles``.
    design : {"forum", "microblog"}
        Threaded discussion site or follow-graph microblog (module docstring).
    mixed_share : float
        Share of leaders whose probabilities blend in the other style.
    mix_range : tuple of float
        ``mix`` of mixed leaders is uniform in this range.
    styles : {None, "broadcaster", "participator"} or sequence of str
        None: half of each, shuffled; a style name: every leader of that style; a
        sequence: one style per leader.
    platform : str or sequence of str
        Any of :data:`PLATFORMS`: ``"no_reactions"``, ``"no_shares"`` drop those
        events, ``"no_mentions"`` empties every ``mentions`` list.

    Returns
    -------
    ForumTribe
        Events, truth and leader ids.

    Examples
    --------
    >>> t = simulate_forum(n_leaders=4, days=7, seed=3, styles="participator")
    >>> t.truth["style"].unique().to_list(), t.leaders
    (['participator'], ['L0', 'L1', 'L2', 'L3'])
    """
    _check_arguments(design, n_leaders, days, mixed_share, mix_range)
    variants = _platform_variants(platform)
    # Leaders' styles and probabilities come from their own stream, so that the world
    # (audiences, activity, roots) is the same for a seed whatever the styles.
    leader_seed, world_seed = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(world_seed)
    par = _PARAMS[design]
    n_l = n_leaders
    n_m = par.members_per_leader * n_l if n_members is None else n_members
    if n_m < 6:
        raise ValueError("n_members must be at least 6")
    lead = _draw_leaders(np.random.default_rng(leader_seed), n_l, styles, mixed_share, mix_range)
    if design == "forum":
        m_lead, m_acc, act = _forum_network(rng, n_l, n_m)
        author, ts, rate = _forum_roots(rng, days, n_l, act)
    else:
        m_lead, m_acc, act = _microblog_network(rng, n_l, n_m)
        author, ts, rate = _microblog_roots(rng, days, n_l, act)
    n_acc = n_l + n_m
    aud = _Audience(m_lead, m_acc, np.r_[np.zeros(n_l), act][m_acc] ** 0.7, n_l)
    # roots
    order = np.lexsort((author, ts))
    author, ts = author[order], ts[order]
    is_leader = author < n_l
    board = np.where(is_leader, author, 0)
    board[~is_leader] = _member_boards(rng, m_lead, m_acc, author[~is_leader], n_acc)
    q_prob = np.where(is_leader, lead["question"][np.minimum(author, n_l - 1)], par.member_question)
    log = _Log()
    roots = log.add(
        ts=ts,
        actor=author,
        action=np.full(ts.size, _POST, dtype=np.int8),
        board=board,
        question=rng.random(ts.size) < q_prob,
    )
    # the tribe's posts each leader can see: its board (forum) or its followers (microblog)
    member_roots = roots[~is_leader]
    if design == "forum":
        tribe = (member_roots, board[~is_leader])
        _forum_discussion(rng, log, aud, roots, n_l)
    else:
        tribe = _followed_roots(m_lead, m_acc, member_roots, author[~is_leader])
        _microblog_discussion(rng, log, aud, roots, n_l)
    _crowd_reactions(rng, log, aud, design, n_l)
    counts = _Counts(n_l)
    _leader_work(rng, log, aud, lead, tribe, design, n_l, days, counts)
    _mentions(rng, log, aud, lead, design, n_l, counts)
    names = _names("L", n_l) + _names("m", n_m)
    events = _assemble(log, names, days * _DAY, variants)
    evidence = pl.DataFrame({"leader_id": names[:n_l], **counts.columns()})
    return ForumTribe(
        events=events,
        truth=_truth(names[:n_l], lead, rate, aud),
        leaders=names[:n_l],
        design=design,
        platform=variants,
        evidence=evidence,
    )
