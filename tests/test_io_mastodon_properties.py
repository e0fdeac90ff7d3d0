"""Property tests of the Mastodon reader (:mod:`tribe_analysis.io.mastodon`).

For generated API statuses (posts, replies, boosts; account and mention ids as
strings or integers; local ``acct`` and ``user@instance``), mixed with bad records:

- every record is loaded as one event or reported: a strict read stops with one
  ``EventsError`` line naming the first bad record's file and line, a lenient one
  quarantines each bad record once with its line and verbatim text; nothing but
  ``EventsError`` is raised and ``records_read == records_loaded + len(skipped)``;
- ``created_at`` with ``Z`` or any offset gives its UTC instant; one that UTC moves
  outside the years 1-9999 is a bad record;
- authors and mentions are account ids (``account.id``, ``mentions[].id``: a string
  and an integer id are the same account), never handles; a boost is a ``share`` of
  ``reblog.id`` by the booster aimed at its author, without text or mentions; a
  reply answers ``in_reply_to_id``; ``names`` maps ids to ``acct``, authors first;
- JSON lines and a JSON array (an API page) give the same events, and so do any
  order of the statuses, a byte-order mark and CRLF line ends;
- a page appended after a JSON array's closing ``]`` is reported, never dropped unseen.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import hypothesis
from hypothesis import strategies as st

from tests.json_records import (
    checked,
    frame,
    loaded_or_reported,
    reported_after_array,
    text,
    write,
)
from tribe_analysis.io import mastodon
from tribe_analysis.io._base import ReadResult

SETTINGS = hypothesis.settings(
    max_examples=50, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
ACCOUNTS = [(1, "ann"), (2, "bob"), (3, "cid@other.town"), (4, "dan@far.away")]
WHEN = "2024-03-01T10:00:00.000Z"


def _account(k: int, *, as_int: bool) -> dict:
    aid, acct = ACCOUNTS[k]
    return {"id": aid if as_int else str(aid), "acct": acct, "username": acct.split("@")[0]}


def _status(sid: int, author: int, *, as_int: bool = False, **extra: object) -> dict:
    item: dict = {
        "id": str(sid),
        "created_at": WHEN,
        "account": _account(author, as_int=as_int),
        "content": f"<p>status {sid}</p>",
        "reblog": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "mentions": [],
    }
    return item | extra


@st.composite
def timelines(draw: st.DrawFn) -> list[dict]:
    """Posts, replies and boosts; a reply or boost points at an earlier status or outside."""
    items: list[dict] = []
    for k in range(draw(st.integers(1, 8))):
        sid, author, as_int = 100 + k, draw(st.integers(0, 3)), draw(st.booleans())
        kind = "post" if not items else draw(st.sampled_from(["post", "reply", "boost"]))
        earlier = [(int(i["id"]), _author(i)) for i in items if i["reblog"] is None]
        target = draw(st.sampled_from([*earlier, (900, 3)]))
        told = [_account(m, as_int=draw(st.booleans())) for m in draw(st.sets(st.integers(0, 3)))]
        if kind == "boost":
            inner = _status(target[0], target[1], as_int=draw(st.booleans()), mentions=told)
            items.append(_status(sid, author, as_int=as_int, content="", reblog=inner))
            continue
        extra: dict = {"mentions": told}
        if kind == "reply":
            extra |= {"in_reply_to_id": str(target[0]), "in_reply_to_account_id": target[1] + 1}
        items.append(_status(sid, author, as_int=as_int, **extra))
    return items


def _author(item: dict) -> int:
    return int(item["account"]["id"]) - 1


BAD_RECORDS: dict[str, Callable[[int], dict | str]] = {
    "invalid JSON": lambda k: json.dumps(_status(k, 0))[:-2],
    "not an object": lambda k: json.dumps([k]),
    "no time zone": lambda k: _status(k, 0, created_at="2024-03-01T10:00:00"),
    "unparseable time": lambda k: _status(k, 0, created_at="yesterday"),
    "time before year 1 in UTC": lambda k: _status(k, 0, created_at="0001-01-01T00:30:00+01:00"),
    "time after 9999 in UTC": lambda k: _status(k, 0, created_at="9999-12-31T23:30:00-01:00"),
    "numeric time": lambda k: _status(k, 0, created_at=1_700_000_000),
    "no account": lambda k: _status(k, 0, account=None),
    "account id a float": lambda k: _status(k, 0) | {"account": {"id": 1.5, "acct": "x"}},
    "id a boolean": lambda k: _status(k, 0) | {"id": True},
    "reblog a string": lambda k: _status(k, 0, reblog="110"),
    "mention without id": lambda k: _status(k, 0, mentions=[{"acct": "bob"}]),
    "content an array": lambda k: _status(k, 0, content=["x"]),
    "a Reddit item": lambda k: {"id": "x", "created_utc": 1, "author": "a", "body": "b"},
}


def _read(paths: list[Path], on_error: str = "strict") -> ReadResult:
    return checked(mastodon.read(paths, on_error=on_error))


@SETTINGS
@hypothesis.given(
    timelines(),
    st.lists(st.sampled_from(sorted(BAD_RECORDS)), max_size=4),
    st.randoms(use_true_random=False),
    st.sampled_from(["lines", "array"]),
    st.booleans(),
)
def test_every_status_loaded_once_or_reported(items, bad, rnd, layout, windows):
    records = [("good", json.dumps(i)) for i in items]
    records += [(b, text(BAD_RECORDS[b](k))) for k, b in enumerate(bad)]
    result = loaded_or_reported(_read, "statuses.json", records, layout, windows, rnd)
    assert sorted(frame(result)["event_id"]) == sorted(i["id"] for i in items)


@SETTINGS
@hypothesis.given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(-(24 * 60) + 1, 24 * 60 - 1),
    st.sampled_from(["Z", "offset", "compact"]),
    st.sampled_from(["auto", "milliseconds", "seconds"]),
)
def test_created_at_with_any_offset_gives_its_utc_instant(when, minutes, zone, spec):
    offset = timezone(timedelta(minutes=0 if zone == "Z" else minutes))
    local = when.replace(tzinfo=offset, microsecond=0 if spec == "seconds" else when.microsecond)
    if spec == "milliseconds":
        local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    text = local.isoformat(timespec=spec)
    text = text.replace("+00:00", "Z") if zone == "Z" else text
    text = text[:-3] + text[-2:] if zone == "compact" else text  # +0130
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statuses.jsonl"
        write(path, [json.dumps(_status(1, 0, created_at=text))], "lines")
        [stamp] = frame(_read([path]))["timestamp"]
    assert stamp == local.astimezone(UTC)


@SETTINGS
@hypothesis.given(st.integers(1, 24 * 60 - 1), st.booleans())
def test_created_at_outside_years_1_to_9999_in_utc_is_a_bad_record(minutes, early):
    sign, day = ("+", "0001-01-01T00:00:00") if early else ("-", "9999-12-31T23:59:59")
    text = f"{day}{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statuses.jsonl"
        write(path, [json.dumps(_status(1, 0, created_at=text))], "lines")
        result = _read([path], on_error="skip")
    [skipped] = result.skipped
    assert skipped.reason == f"created_at out of range '{text}' (years 1 to 9999 in UTC)"


def _check_row(row: dict, item: dict, authors: dict[str, str]) -> None:
    assert row["actor_id"] == str(item["account"]["id"])
    boost = item["reblog"]
    if boost is not None:
        target = str(boost["account"]["id"])
        assert (row["action"], row["parent_id"], row["target_actor_id"]) == (
            "share",
            boost["id"],
            target,
        )
        assert (row["text"], row["mentions"]) == (None, [])
        return
    assert row["mentions"] == [str(m["id"]) for m in item["mentions"]]
    assert row["text"] == f"status {item['id']}"
    parent = item["in_reply_to_id"]
    if parent is None:
        assert (row["action"], row["parent_id"]) == ("post", None)
        return
    assert (row["action"], row["parent_id"]) == ("reply", parent)
    assert row["target_actor_id"] == authors.get(parent, str(item["in_reply_to_account_id"]))


@SETTINGS
@hypothesis.given(timelines())
def test_authors_mentions_boosts_and_replies_map_as_documented(items):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statuses.jsonl"
        write(path, [json.dumps(i) for i in items], "lines")
        result = _read([path])
        assert result.names == mastodon.account_names([path])
    got = {r["event_id"]: r for r in frame(result).iter_rows(named=True)}
    authors = {i["id"]: str(i["account"]["id"]) for i in items}
    for item in items:
        _check_row(got[item["id"]], item, authors)
    ids = {str(aid): acct for aid, acct in ACCOUNTS}
    assert set(result.names.items()) <= set(ids.items())
    assert set(result.names) >= set(authors.values())


@SETTINGS
@hypothesis.given(timelines(), st.randoms(use_true_random=False))
def test_layouts_order_bom_and_crlf_change_nothing(items, rnd):
    shuffled = rnd.sample(items, len(items))
    variants = [
        ([json.dumps(i) for i in items], "lines", False),
        ([json.dumps(i) for i in shuffled], "lines", True),
        ([json.dumps(i, indent=2) for i in shuffled], "array", True),
        ([json.dumps(i) for i in items], "array", False),
    ]
    frames = []
    with tempfile.TemporaryDirectory() as folder:
        for k, (texts, layout, windows) in enumerate(variants):
            path = Path(folder) / f"{k}.json"
            write(path, texts, layout, windows=windows)
            frames.append(frame(_read([path])))
        if len(items) == 1:  # one pretty-printed status
            path = Path(folder) / "one.json"
            path.write_text(json.dumps(items[0], indent=2))
            frames.append(frame(_read([path])))
    for other in frames[1:]:
        assert other.equals(frames[0])


@SETTINGS
@hypothesis.given(timelines(), timelines())
def test_a_page_appended_after_an_array_is_reported(first, second):
    page = json.dumps([_status(500 + int(i["id"]), 0) for i in second])
    result = reported_after_array(_read, [json.dumps(i) for i in first], page)
    assert sorted(frame(result)["event_id"]) == sorted(i["id"] for i in first)
