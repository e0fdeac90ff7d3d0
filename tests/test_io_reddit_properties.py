"""Property tests of the Reddit reader (:mod:`tribe_analysis.io.reddit`).

For generated comments and submissions (``name`` or bare ``id``, ``author`` or the
CMV sample's ``author_name``, deleted authors, ``created_utc`` as int, float or
text), mixed with bad records:

- every record is loaded as one event or reported: a strict read stops with one
  ``EventsError`` line naming the first bad record's file and line, a lenient one
  quarantines each bad record once with its line and verbatim text; nothing but
  ``EventsError`` is raised and ``records_read == records_loaded + len(skipped)``;
- ``created_utc`` as an integer, a float or numeric text gives the same instant; a
  boolean, NaN, an infinity or a value outside the years 1-9999 (however many
  digits) is a bad record;
- ids are fullnames (``t1_``/``t3_`` added to a bare ``id``), a comment's parent is
  its ``parent_id``, its thread its ``link_id`` (else a ``t3_`` parent), a
  submission is its own thread; ``""``/``null``/``[deleted]`` authors are ``[deleted]``;
- JSON lines, a JSON array and ``{"kind", "data"}`` thing wrappers give the same
  events, and so do any order of the records, a byte-order mark and CRLF line ends;
- an item in several files is loaded once, each later copy reported;
- anything after a JSON array's closing ``]`` is reported, never dropped unseen.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
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
from tribe_analysis.io import reddit
from tribe_analysis.io._base import ReadResult

SETTINGS = hypothesis.settings(
    max_examples=50, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
T0 = 1_500_000_000
AUTHORS = ["ann", "bob", "AutoModerator", "", None, "[deleted]"]


def _submission(k: int, author: str | None, *, bare: bool, cmv: bool) -> dict:
    item: dict = {"id": f"s{k}", "created_utc": T0 + k, "title": f"CMV {k}", "selftext": "why"}
    item["author_name" if cmv else "author"] = author
    return item if bare else item | {"name": f"t3_s{k}"}


def _comment(k: int, author: str | None, parent: str, link: str, *, bare: bool, cmv: bool) -> dict:
    item: dict = {"id": f"c{k}", "created_utc": T0 + k, "parent_id": parent, "body": f"c {k}"}
    item["author_name" if cmv else "author"] = author
    item["link_id"] = link
    return item if bare else item | {"name": f"t1_c{k}"}


@st.composite
def forests(draw: st.DrawFn) -> list[dict]:
    """Submissions and comments; a comment answers an earlier item (or one outside the data)."""
    n = draw(st.integers(1, 8))
    items: list[dict] = []
    for k in range(n):
        author = draw(st.sampled_from(AUTHORS))
        bare, cmv = draw(st.booleans()), draw(st.booleans())
        if k == 0 or draw(st.integers(0, 3)) == 0:
            items.append(_submission(k, author, bare=bare, cmv=cmv))
            continue
        parent = draw(st.sampled_from([*(_fullname(i) for i in items), "t3_out", "t1_out"]))
        link = _thread_of(items, parent)
        if link is not None and draw(st.booleans()) and parent.startswith("t3_"):
            link = ""  # no link_id: the t3_ parent is the thread
        items.append(_comment(k, author, parent, link or "", bare=bare, cmv=cmv))
    return items


def _fullname(item: dict) -> str:
    return item.get("name") or ("t3_" if "title" in item else "t1_") + item["id"]


def _thread_of(items: list[dict], parent: str) -> str | None:
    """The submission a comment under ``parent`` belongs to (None: unknown)."""
    if parent.startswith("t3_"):
        return parent
    for item in items:
        if _fullname(item) == parent:
            up = item["parent_id"]
            return item["link_id"] or (up if up.startswith("t3_") else None)
    return None


def _actor(item: dict) -> str:
    author = item.get("author", item.get("author_name"))
    return author if author else reddit.DELETED


BAD_RECORDS: dict[str, Callable[[int], dict | str]] = {
    "invalid JSON": lambda k: json.dumps(_bad_time(k, T0))[:-2],
    "not an object": lambda k: json.dumps([k]),
    "huge integer time": lambda k: _bad_time(k, 10**400),
    "huge negative time": lambda k: _bad_time(k, -(10**30)),
    "time past 9999": lambda k: _bad_time(k, 253_402_300_800),
    "NaN time": lambda k: _bad_time(k, float("nan")),
    "infinite time": lambda k: _bad_time(k, float("inf")),
    "infinite text time": lambda k: _bad_time(k, "-1e999"),
    "boolean time": lambda k: _bad_time(k, True),
    "text time": lambda k: _bad_time(k, "yesterday"),
    "bare prefix id": lambda k: {
        "id": "t1_",
        "author": "a",
        "created_utc": T0,
        "parent_id": "t3_x",
    },
    "bare prefix name": lambda k: _bad_time(k, T0) | {"name": "t3_"},
    "parent not a fullname": lambda k: _comment(k, "a", "x", "t3_x", bare=False, cmv=False),
    "link_id a comment": lambda k: _comment(k, "a", "t1_x", "t1_x", bare=False, cmv=False),
    "author a number": lambda k: _bad_time(k, T0) | {"author": 5},
    "a message": lambda k: {"kind": "t4", "data": {"id": "m", "author": "a", "created_utc": T0}},
}


def _bad_time(k: int, value: object) -> dict:
    return _comment(k, "a", "t3_x", "t3_x", bare=False, cmv=False) | {"created_utc": value}


def _read(paths: list[Path], on_error: str = "strict") -> ReadResult:
    return checked(reddit.read(paths, on_error=on_error))


@SETTINGS
@hypothesis.given(
    forests(),
    st.lists(st.sampled_from(sorted(BAD_RECORDS)), max_size=4),
    st.randoms(use_true_random=False),
    st.sampled_from(["lines", "array"]),
    st.booleans(),
)
def test_every_record_loaded_once_or_reported(items, bad, rnd, layout, windows):
    records = [("good", json.dumps(i)) for i in items]
    records += [(b, text(BAD_RECORDS[b](k))) for k, b in enumerate(bad)]
    result = loaded_or_reported(_read, "rc.json", records, layout, windows, rnd)
    assert sorted(frame(result)["event_id"]) == sorted(_fullname(i) for i in items)


def _time_variants(seconds: int, micros: int) -> list[object]:
    value = seconds + micros / 1_000_000
    out: list[object] = [value, repr(value), f" {value!r} "]
    return out + [seconds, str(seconds), float(seconds)] if micros == 0 else out


@SETTINGS
@hypothesis.given(
    st.integers(-2_000_000_000, 4_000_000_000),
    st.sampled_from([0, 0, 500_000, 250_000, 1]),
)
def test_created_utc_of_every_type_gives_the_same_instant(seconds, micros):
    variants = _time_variants(seconds, micros)
    items = [
        _comment(k, "a", "t3_x", "t3_x", bare=False, cmv=False) | {"created_utc": v}
        for k, v in enumerate(variants)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rc.jsonl"
        write(path, [json.dumps(i) for i in items], "lines")
        stamps = set(frame(_read([path]))["timestamp"])
    assert stamps == {datetime.fromtimestamp(seconds + micros / 1_000_000, UTC)}


@SETTINGS
@hypothesis.given(
    st.one_of(
        st.integers(min_value=253_402_300_800, max_value=10**500),
        st.integers(max_value=-62_135_596_801, min_value=-(10**500)),
        st.sampled_from([float("nan"), float("inf"), -float("inf"), True, False, "nan", "1e999"]),
        st.floats(min_value=2.6e11, allow_infinity=False),
    )
)
def test_times_outside_years_1_to_9999_are_bad_records(value):
    item = _bad_time(0, value)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rc.jsonl"
        write(path, [json.dumps(item)], "lines")
        result = _read([path], on_error="skip")
    [skipped] = result.skipped
    assert skipped.line == 1 and skipped.reason.startswith("created_utc")
    assert frame(result).height == 0


@SETTINGS
@hypothesis.given(forests())
def test_documented_mapping_of_ids_parents_threads_and_authors(items):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rc.jsonl"
        write(path, [json.dumps(i) for i in items], "lines")
        got = {r["event_id"]: r for r in frame(_read([path])).iter_rows(named=True)}
    actors = {_fullname(i): _actor(i) for i in items}
    for item in items:
        row = got[_fullname(item)]
        assert row["actor_id"] == _actor(item)
        assert row["timestamp"] == datetime.fromtimestamp(item["created_utc"], UTC)
        assert row["mentions"] == []
        if "title" in item:
            assert (row["action"], row["parent_id"], row["thread_id"]) == (
                "post",
                None,
                row["event_id"],
            )
            continue
        assert (row["action"], row["parent_id"]) == ("reply", item["parent_id"])
        assert row["target_actor_id"] == actors.get(item["parent_id"])
        want = item["link_id"] or (
            item["parent_id"] if item["parent_id"].startswith("t3_") else None
        )
        if want is not None:
            assert row["thread_id"] == want


def _wrapped(item: dict) -> dict:
    return {"kind": "t3" if "title" in item else "t1", "data": item}


@SETTINGS
@hypothesis.given(forests(), st.randoms(use_true_random=False))
def test_layouts_wrappers_order_bom_and_crlf_change_nothing(items, rnd):
    shuffled = rnd.sample(items, len(items))
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        variants = [
            ([json.dumps(i) for i in items], "lines", False),
            ([json.dumps(i) for i in shuffled], "array", True),
            ([json.dumps(_wrapped(i)) for i in shuffled], "lines", True),
            ([json.dumps(_wrapped(i), indent=1) for i in items], "array", False),
        ]
        frames = []
        for k, (texts, layout, windows) in enumerate(variants):
            path = base / f"{k}.json"
            write(path, texts, layout, windows=windows)
            frames.append(frame(_read([path])))
    for other in frames[1:]:
        assert other.equals(frames[0])


@SETTINGS
@hypothesis.given(forests(), st.data())
def test_an_item_in_several_files_is_loaded_once(items, data):
    n = len(items)
    cut = data.draw(st.integers(1, n))
    back = data.draw(st.integers(0, min(cut, n - 1)))  # the second file repeats items[back:cut]
    with tempfile.TemporaryDirectory() as folder:
        a, b = Path(folder) / "a.jsonl", Path(folder) / "b.jsonl"
        a.write_text("".join(json.dumps(i) + "\n" for i in items[:cut]))
        b.write_text("".join(json.dumps(i) + "\n" for i in items[back:]))
        for mode in ("strict", "skip"):
            result = _read([a, b], on_error=mode)
            assert sorted(frame(result)["event_id"]) == sorted(_fullname(i) for i in items)
            assert [s.line for s in result.skipped] == list(range(1, cut - back + 1))
            assert all(s.source == str(b) and "duplicate id" in s.reason for s in result.skipped)


@SETTINGS
@hypothesis.given(
    forests(),
    st.sampled_from(["{}", "[]", '{"name": "t1_z"}', "x", "]"]),
    st.integers(0, 2),
)
def test_anything_after_the_closing_bracket_of_an_array_is_reported(items, extra, blank):
    result = reported_after_array(_read, [json.dumps(i) for i in items], extra, blank)
    assert sorted(frame(result)["event_id"]) == sorted(_fullname(i) for i in items)
