"""Property tests of the Twitter / X reader (``tribe_analysis.io.twitter``).

Generated v1.1 and v2 tweets (posts, replies, retweets, quotes, quoting replies;
ids beyond 2**53 given as ``id_str`` or only as JSON numbers; ``created_at`` in
any offset; mentions) are read back as the documented events:

- each tweet is one event with the id, UTC instant, actor, action, parent,
  target, text and mentions that docs/formats.md maps it to; a retweet's
  embedded original that is also a record of the input is one event;
- JSON lines, a JSON array, v2 response pages (as lines or one document, with
  mentions and referenced authors given inline or only through ``includes``),
  any input order, a byte-order mark and CRLF line ends give the same events;
- a bad record mixed in (a deletion notice, an unparseable or out-of-range
  ``created_at``, an id as a float, a NUL byte, ...) is reported, never a
  traceback: strict names ``FILE:LINE`` on one line, skip keeps it verbatim,
  and ``records_read == records_loaded + len(skipped)``;
- a ``created_at`` whose fields are not the fixed v1.1 format is reported,
  never read as another instant.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import polars as pl
from hypothesis import strategies as st

from tests.conftest import consistent
from tribe_analysis import events as ev
from tribe_analysis.io import twitter

SETTINGS = hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
KINDS = ("post", "reply", "retweet", "quote", "reply_quote")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
COLUMNS = ("event_id", "timestamp", "actor_id", "action", "parent_id", "target_actor_id")


@dataclass
class Tweet:
    """One generated tweet: what it is, and (for a reference) whom it points at."""

    tid: int
    author: int
    kind: str
    when: datetime
    offset: int  # minutes east of UTC in which created_at is written
    mentions: list[int]
    v2: bool
    numeric: bool  # ids given only as JSON numbers
    parent: Tweet | None = None  # None for a post
    parent_id: int = 0
    parent_author: int = 0
    quoted: tuple[int, int] = field(default=(0, 0))  # quoted tweet id and author


# --------------------------------------------------------------------------- rendering


def v1_time(when: datetime, offset: int) -> str:
    local = when + timedelta(minutes=offset)
    sign, minutes = ("-" if offset < 0 else "+"), abs(offset)
    return (
        f"{DAYS[local.weekday()]} {MONTHS[local.month - 1]} {local.day:02d} "
        f"{local:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d} {local.year:04d}"
    )


def v2_time(when: datetime, offset: int) -> str:
    local = when + timedelta(minutes=offset)
    sign, minutes = ("-" if offset < 0 else "+"), abs(offset)
    zone = "Z" if offset == 0 else f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{local:%Y-%m-%dT%H:%M:%S}.000{zone}"


def v1_user(uid: int, numeric: bool) -> dict:
    return {"id": uid} if numeric else {"id_str": str(uid), "id": uid, "screen_name": f"u{uid}"}


def v1_ref(name: str, tid: int, numeric: bool) -> dict:
    return {name: tid} if numeric else {f"{name}_str": str(tid)}


def render_v1(t: Tweet) -> dict:
    obj: dict = {
        "created_at": v1_time(t.when, t.offset),
        "user": v1_user(t.author, t.numeric),
        "text": f"tweet {t.tid}",
        "entities": {"user_mentions": [v1_user(m, t.numeric) for m in t.mentions]},
    } | v1_ref("id", t.tid, t.numeric)
    if t.kind in ("reply", "reply_quote"):
        obj |= v1_ref("in_reply_to_status_id", t.parent_id, t.numeric)
        obj |= v1_ref("in_reply_to_user_id", t.parent_author, t.numeric)
    if t.kind in ("quote", "reply_quote"):
        qid, quser = t.quoted if t.kind == "reply_quote" else (t.parent_id, t.parent_author)
        obj |= v1_ref("quoted_status_id", qid, t.numeric) | {"is_quote_status": True}
        obj["quoted_status"] = {"id_str": str(qid), "user": v1_user(quser, t.numeric)}
    if t.kind == "retweet":
        original = render_v1(t.parent) if t.parent else None
        obj["retweeted_status"] = original or {
            "id_str": str(t.parent_id),
            "user": v1_user(t.parent_author, t.numeric),
        }
        obj["text"] = f"RT @u{t.parent_author}: something"
    return obj


def render_v2(t: Tweet, *, inline: bool = True) -> dict:
    """A v2 tweet; ``inline=False`` leaves mention ids and referenced authors to ``includes``."""
    tid: int | str = t.tid if t.numeric else str(t.tid)
    obj: dict = {
        "id": tid,
        "author_id": t.author if t.numeric else str(t.author),
        "created_at": v2_time(t.when, t.offset),
        "text": f"tweet {t.tid}",
        "edit_history_tweet_ids": [str(t.tid)],
        "entities": {
            "mentions": [
                {"username": f"U{m}"} | ({"id": str(m)} if inline else {}) for m in t.mentions
            ]
        },
    }
    refs = []
    for kind, (rid, author) in v2_refs(t).items():
        refs.append({"type": kind, "id": str(rid)} | ({"author_id": str(author)} if inline else {}))
    if refs:
        obj["referenced_tweets"] = refs
    if t.kind in ("reply", "reply_quote") and inline:
        obj["in_reply_to_user_id"] = str(t.parent_author)
    return obj


def v2_refs(t: Tweet) -> dict[str, tuple[int, int]]:
    parent = (t.parent_id, t.parent_author)
    return {
        "post": {},
        "reply": {"replied_to": parent},
        "retweet": {"retweeted": parent},
        "quote": {"quoted": parent},
        "reply_quote": {"quoted": t.quoted, "replied_to": parent},
    }[t.kind]


def render(t: Tweet) -> dict:
    return render_v2(t) if t.v2 else render_v1(t)


def page_of(tweets: list[Tweet]) -> dict:
    """A v2 response page: mention ids and referenced authors only in ``includes``."""
    users = {a for t in tweets for a in (t.author, *t.mentions)}
    refs = {rid: author for t in tweets for rid, author in v2_refs(t).values()}
    return {
        "data": [render_v2(t, inline=False) for t in tweets],
        "includes": {
            "users": [{"id": str(u), "username": f"u{u}"} for u in sorted(users)],
            "tweets": [{"id": str(r), "author_id": str(a), "text": "x"} for r, a in refs.items()],
        },
        "meta": {"result_count": len(tweets)},
    }


# --------------------------------------------------------------------------- expectations


def expected(t: Tweet) -> dict:
    action = {"post": "post", "reply": "reply", "reply_quote": "reply"}.get(t.kind, "share")
    reference = t.kind != "post"
    retweet = t.kind == "retweet"
    return {
        "event_id": str(t.tid),
        "timestamp": t.when,
        "actor_id": str(t.author),
        "action": action,
        "parent_id": str(t.parent_id) if reference else None,
        "target_actor_id": str(t.parent_author) if reference else None,
        "mentions": [] if retweet else [str(m) for m in t.mentions],
        "text": None if retweet else f"tweet {t.tid}",
    }


def got(result: twitter.ReadResult) -> list[dict]:
    frame = result.events.select(*COLUMNS, "mentions", "text")
    return sorted(frame.to_dicts(), key=lambda row: row["event_id"])


# --------------------------------------------------------------------------- strategies

BOOLS = st.booleans()
IDS = st.integers(1, 2**53 - 1) | st.integers(2**53 + 1, 2**63 - 1)
OFFSETS = st.integers(-14 * 4, 14 * 4).map(lambda quarters: quarters * 15)
WHEN = st.datetimes(datetime(2006, 3, 21), datetime(2030, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)


def author_of(tid: int) -> int:
    """The author of a tweet outside the input (one per id, as in any real export)."""
    return tid * 7919 % (2**63 - 1) + 1


@st.composite
def tweets(draw: st.DrawFn, *, v2: st.SearchStrategy[bool] = BOOLS) -> list[Tweet]:
    """Distinct tweets; a reference points at an earlier tweet of the list or outside it."""
    ids = draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    users = st.integers(1, 2**63 - 1)
    out: list[Tweet] = []
    for tid in ids:
        kind = draw(st.sampled_from(KINDS))
        t = Tweet(tid, draw(users), kind, draw(WHEN), draw(OFFSETS),
                  draw(st.lists(users, max_size=3)), draw(v2), draw(st.booleans()))  # fmt: skip
        if kind != "post":
            parent = draw(st.sampled_from([None, *out]))
            t.parent = parent
            t.parent_id = parent.tid if parent else draw(IDS.filter(lambda i: i not in ids))
            t.parent_author = parent.author if parent else author_of(t.parent_id)
            quoted = draw(IDS.filter(lambda i: i not in ids))
            t.quoted = (quoted, author_of(quoted))
        out.append(t)
    return out


def read(text: str | bytes, mode: str = "strict", name: str = "tweets.json") -> twitter.ReadResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return twitter.read([path], on_error=mode)


def lines(objs: list[dict]) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


# --------------------------------------------------------------------------- properties


@SETTINGS
@hypothesis.given(tweets(), st.randoms(use_true_random=False), st.booleans())
def test_each_tweet_is_the_documented_event(made: list[Tweet], rnd, repeat: bool):
    """Mapping, ids beyond 2**53, offsets; an embedded original also on its own line is one event."""
    objs = [render(t) for t in made]
    rnd.shuffle(objs)
    if repeat:  # an overlapping export: the copy is reported as a duplicate
        objs.append(objs[0])
    result = read(lines(objs))
    consistent(result)
    assert result.records_read == len(made) + repeat
    assert [s.reason.startswith("duplicate id") for s in result.skipped] == [True] * repeat
    assert got(result) == sorted((expected(t) for t in made), key=lambda r: r["event_id"])


LAYOUTS: dict[str, Callable[[list[Tweet]], str]] = {
    "lines": lambda made: lines([render(t) for t in made]),
    "array": lambda made: json.dumps([render(t) for t in made], indent=2),
    "reversed lines": lambda made: lines([render(t) for t in reversed(made)]),
}
V2_LAYOUTS: dict[str, Callable[[list[Tweet]], str]] = {
    "page document": lambda made: json.dumps(page_of(made), indent=2),
    "page per line": lambda made: lines([page_of([t]) for t in made]),
    "array of pages": lambda made: json.dumps([page_of(made[:1]), page_of(made[1:])]),
}


@SETTINGS
@hypothesis.given(tweets(), st.sampled_from(sorted(LAYOUTS)), st.booleans())
def test_layout_order_bom_and_crlf_change_nothing(made: list[Tweet], layout: str, windows: bool):
    want = read(lines([render(t) for t in made])).events
    text = LAYOUTS[layout](made)
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode() if windows else text.encode()
    result = read(data)
    consistent(result)
    assert result.events.equals(want)


@SETTINGS
@hypothesis.given(tweets(v2=st.just(True)), st.sampled_from(sorted(V2_LAYOUTS)))
def test_v2_pages_give_the_flattened_tweets_events(made: list[Tweet], layout: str):
    """Mentions by username and referenced authors through ``includes`` resolve as inline ones."""
    want = read(lines([render(t) for t in made])).events
    result = read(V2_LAYOUTS[layout](made))
    consistent(result)
    assert result.records_read == len(made)
    assert result.events.equals(want)


# --------------------------------------------------------------------------- bad records

V1 = {"id_str": "7", "created_at": "Wed Oct 22 13:59:55 +0000 2014", "user": {"id_str": "3"}}
V2 = {"id": "8", "author_id": "3", "text": "x", "created_at": "2022-05-01T12:00:00Z"}
BAD: dict[str, tuple[dict, str]] = {
    "deletion notice": ({"delete": {"status": {"id_str": "7", "user_id_str": "3"}}}, "not a"),
    "withheld notice": ({"status_withheld": {"id": 7, "user_id": 3}}, "not a Twitter tweet"),
    "id as a float": (V1 | {"id_str": None, "id": 5.249231062895165e17}, "id must be a string"),
    "user as text": (V1 | {"user": "3"}, "user must be an object"),
    "v1 before year 1": (V1 | {"created_at": "Mon Jan 01 00:30:00 +0100 0001"}, "created_at"),
    "v1 after 9999": (V1 | {"created_at": "Fri Dec 31 23:30:00 -0100 9999"}, "created_at"),
    "v1 offset minutes": (V1 | {"created_at": "Wed Oct 22 13:59:55 +0060 2014"}, "unparseable"),
    "v1 two-digit year": (V1 | {"created_at": "Wed Oct 22 13:59:55 +0000 14"}, "unparseable"),
    "v2 before year 1": (V2 | {"created_at": "0001-01-01T00:30:00+01:00"}, "created_at"),
    "v2 after 9999": (V2 | {"created_at": "9999-12-31T23:30:00-01:00"}, "created_at"),
    "v2 no author": (
        {k: v for k, v in V2.items() if k != "author_id"} | {"conversation_id": "8"},
        "missing author_id",
    ),  # fmt: skip
    "NUL in text": (V1 | {"text": "a\x00b"}, "NUL byte in text"),
    "NUL in user id": (V2 | {"author_id": "3\x00"}, "NUL byte in actor_id"),
    "NUL in a mention": (V1 | {"entities": {"user_mentions": [{"id_str": "\x00"}]}}, "NUL byte"),
}


@SETTINGS
@hypothesis.given(
    tweets(), st.lists(st.sampled_from(sorted(BAD)), min_size=1, max_size=4), st.randoms()
)
def test_bad_records_are_reported_never_dropped(made: list[Tweet], bad: list[str], rnd):
    good = [("good", json.dumps(render(t))) for t in made]
    records = good + [(kind, json.dumps(BAD[kind][0])) for kind in bad]
    rnd.shuffle(records)
    text = "".join(f"{raw}\n" for _, raw in records)
    first = next(n for n, (kind, _) in enumerate(records, 1) if kind != "good")
    try:
        read(text, name="t.ndjson")
    except ev.EventsError as exc:
        message = str(exc)
        assert "\n" not in message and f"t.ndjson:{first}: " in message, message
        assert BAD[records[first - 1][0]][1] in message, message
    else:
        raise AssertionError("a strict read loaded a bad record")
    result = read(text, "skip", name="t.ndjson")
    consistent(result)
    assert result.records_read == len(records)
    want = [(n, raw) for n, (kind, raw) in enumerate(records, 1) if kind != "good"]
    assert [(s.line, s.record) for s in result.skipped] == want
    for s in result.skipped:
        assert BAD[records[s.line - 1][0]][1] in s.reason, s.reason
    assert result.events.height == len(made)


# --------------------------------------------------------------------------- created_at


@SETTINGS
@hypothesis.given(
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)
    ),
    OFFSETS,
)
def test_v1_created_at_is_its_instant_or_out_of_range(when: datetime, offset: int):
    """Written in any offset, ``created_at`` is the same UTC instant (or reported, never a crash)."""
    try:
        stamp = v1_time(when, offset)
    except OverflowError:  # the local time is itself outside years 1..9999: not writable
        return
    result = read(lines([V1 | {"created_at": stamp}]), "skip")
    consistent(result)
    assert result.events["timestamp"].to_list() == [when]


CORRUPT = st.sampled_from(["_", "٣", "２", "", "0", "x", "+", " "])


@SETTINGS
@hypothesis.given(WHEN, OFFSETS, st.data())
def test_v1_created_at_off_the_format_is_reported(when: datetime, offset: int, data):
    """One digit replaced by a non-ASCII digit, ``_``, a letter, or a field cut or grown."""
    good = v1_time(when, offset)
    digits = [i for i, ch in enumerate(good) if ch.isdigit()]
    at = data.draw(st.sampled_from(digits))
    change = data.draw(CORRUPT)
    if change in ("0", "+"):  # a field one character longer
        stamp = good[:at] + change + good[at:]
    else:
        stamp = good[:at] + change + good[at + 1 :]
    result = read(lines([V1 | {"created_at": stamp}]), "skip")
    consistent(result)
    [skipped] = result.skipped
    assert skipped.reason.startswith("unparseable created_at"), (stamp, skipped.reason)


def test_offsets_move_the_instant_not_the_wall_clock():
    """A worked example: 13:59:55 at +0530 is 08:29:55 UTC, at -0800 21:59:55 UTC."""
    east = V1 | {"created_at": "Wed Oct 22 13:59:55 +0530 2014"}
    west = V1 | {"id_str": "9", "created_at": "Wed Oct 22 13:59:55 -0800 2014"}
    stamps = read(lines([east, west])).events.sort("event_id")["timestamp"].to_list()
    assert stamps == [datetime(2014, 10, 22, 8, 29, 55, tzinfo=UTC),
                      datetime(2014, 10, 22, 21, 59, 55, tzinfo=UTC)]  # fmt: skip
    assert pl.Series(stamps).dtype == pl.Datetime("us", "UTC")
