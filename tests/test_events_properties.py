"""Property tests of canonical events files: every form of the same events reads the same.

For any events (ids with commas, quotes, line breaks, spaces at either end,
non-ASCII; text with ``\\r\\n``; empty text and null text; any microsecond; ties):
what :func:`~tribe_analysis.events.write_events` writes as CSV, Parquet or NDJSON
reads back as the same frame, in memory and out of core; a file with only some of
the optional columns, in any order, with extra ones, reads the same both ways;
a strict read fails exactly when :func:`~tribe_analysis.events.validate_events`
reports a problem, at the same rows; a Parquet column of the wrong type is
refused, never turned into text; and an escaped lone surrogate in canonical
NDJSON makes its line bad with its own reason, never a crash; a key given twice on a
line reads with its first value whichever way the file is read.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis import io
from tribe_analysis.spill import spill_events

SETTINGS = hypothesis.settings(
    max_examples=30, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)

_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
IDS = st.one_of(
    st.text(_CHARS, min_size=1, max_size=8),
    st.sampled_from(["a,b", 'say "hi"', "x\ny", "r\r\nn", " pad ", "é€😀", "1", "01"]),
).filter(lambda s: s.strip() != "")
TEXTS = st.one_of(st.none(), st.just(""), st.just("one\r\ntwo"), st.text(_CHARS, max_size=10))
MENTIONS = st.lists(
    st.text(
        st.characters(codec="utf-8", exclude_characters="\x00|"), min_size=1, max_size=5
    ).filter(lambda s: s.strip() == s),
    max_size=3,
)
TIMES = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
OPTIONAL = ("parent_id", "mentions", "text", "platform")


@st.composite
def events(draw) -> pl.DataFrame:
    """Valid events: unique ids, replies to earlier events, times with ties."""
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
    times = draw(st.lists(TIMES, min_size=1, max_size=3))
    rows = []
    for k, event_id in enumerate(ids):
        parent = draw(st.sampled_from(ids[:k])) if k and draw(st.booleans()) else None
        rows.append(
            {
                "event_id": event_id,
                "timestamp": draw(st.sampled_from(times)),
                "actor_id": draw(IDS),
                "action": draw(st.sampled_from(["reply", "share", "reaction"]))
                if parent
                else "post",
                "parent_id": parent,
                "mentions": draw(MENTIONS),
                "text": draw(TEXTS),
            }
        )
    return ev.conform(pl.DataFrame(rows), platform="events")


def _spilled(paths: list[Path]) -> pl.DataFrame:
    return ev.sort_events(spill_events(paths, tempfile.mkdtemp()).frame.collect())


def _error(read, paths) -> str:
    with pytest.raises(ev.EventsError) as caught:
        read(paths)
    return str(caught.value)


@SETTINGS
@hypothesis.given(events())
def test_written_events_read_back_equal_in_every_form(frame):
    folder = Path(tempfile.mkdtemp())
    want = ev.complete_events(frame)
    for suffix in ("csv", "parquet", "ndjson"):
        path = ev.write_events(frame, folder / f"events.{suffix}")
        assert ev.read_events(path).equals(want), suffix
        assert _spilled([path]).equals(want), suffix


@SETTINGS
@hypothesis.given(
    events(),
    st.sets(st.sampled_from(OPTIONAL)),
    st.randoms(use_true_random=False),
    st.sampled_from(["csv", "parquet", "ndjson"]),
)
def test_any_optional_columns_in_any_order_read_the_same_in_memory_and_out_of_core(
    frame, kept, random, suffix
):
    """A file without ``parent_id`` (posts only) used to crash the out-of-core read."""
    if "parent_id" not in kept:
        frame = frame.filter(pl.col("action") == "post")
    columns = [*ev.REQUIRED_COLUMNS, *sorted(kept), "extra"]
    random.shuffle(columns)
    frame = frame.with_columns(pl.lit("not read").alias("extra")).select(columns)
    path = Path(tempfile.mkdtemp()) / f"events.{suffix}"
    if suffix == "parquet":
        frame.write_parquet(path)
    else:
        stamps = pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        text = frame.with_columns(stamps)
        if suffix == "csv":
            text = (
                text.with_columns(pl.col("mentions").list.join("|")) if "mentions" in kept else text
            )
            text.write_csv(path)
        else:
            text.write_ndjson(path)
    in_memory = ev.read_events(path)
    assert in_memory.equals(ev.complete_events(ev.conform(frame, platform="events")))
    assert _spilled([path]).equals(in_memory)
    assert io.read([path], spill=tempfile.mkdtemp()).records_loaded == frame.height


@st.composite
def checked_rows(draw) -> pl.DataFrame:
    """Rows as a user might give them: some missing values, unknown actions, stray parents."""
    n = draw(st.integers(1, 6))
    return pl.DataFrame(
        {
            "event_id": draw(
                st.lists(
                    st.sampled_from(["a", "b", "c", "d", "e", "f", ""]), min_size=n, max_size=n
                )
            ),
            "timestamp": draw(
                st.lists(
                    st.sampled_from(
                        [
                            "2024-01-01T00:00:00Z",
                            "2024-01-01 01:00:00+0200",
                            "2024-01-01T00:00:00",
                            "",
                            None,
                        ]
                    ),
                    min_size=n,
                    max_size=n,
                )
            ),
            "actor_id": draw(
                st.lists(st.sampled_from(["u", "v", " ", None]), min_size=n, max_size=n)
            ),
            "action": draw(
                st.lists(
                    st.sampled_from(["post", "reply", "like", "Post", None]), min_size=n, max_size=n
                )
            ),
            "parent_id": draw(
                st.lists(st.sampled_from(["a", "b", "zz", None]), min_size=n, max_size=n)
            ),
        },
        schema={c: pl.String for c in ("event_id", "timestamp", "actor_id", "action", "parent_id")},
    )


@SETTINGS
@hypothesis.given(checked_rows())
def test_strict_read_fails_exactly_where_validate_events_reports(frame):
    path = Path(tempfile.mkdtemp()) / "events.parquet"
    frame.write_parquet(path)
    problems = ev.validate_events(frame, source=str(path))
    if not problems:
        assert ev.read_events(path).height == frame.height
        assert _spilled([path]).height == frame.height
        return
    message = _error(ev.read_events, [path])
    assert message.splitlines() == [str(problem) for problem in problems]
    assert _error(lambda p: spill_events(p, tempfile.mkdtemp()), [path]) == message
    assert "Traceback" not in message


@pytest.mark.parametrize("column", ["text", "platform"])
def test_a_parquet_column_of_numbers_for_text_is_refused_not_turned_into_text(tmp_path, column):
    """As an NDJSON number in ``text`` is a bad line: a number is not text (ids may be numbers)."""
    frame = pl.DataFrame(
        {
            "event_id": [1],
            "timestamp": [datetime(2024, 1, 1, tzinfo=UTC)],
            "actor_id": [2],
            "action": ["post"],
            column: [5],
        }
    )
    path = tmp_path / "events.parquet"
    frame.write_parquet(path)
    want = f"{path}: column {column!r} has type Int64 (expected text)"
    assert _error(ev.read_events, [path]) == want
    assert _error(lambda p: spill_events(p, tmp_path), [path]) == want
    ids_only = tmp_path / "ids.parquet"
    frame.select(ev.REQUIRED_COLUMNS).write_parquet(ids_only)
    assert ev.read_events(ids_only).select("event_id", "actor_id").row(0) == ("1", "2")


_GOOD = {"timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "post"}
SURROGATE_LINES = {
    "good": lambda i: json.dumps({"event_id": f"e{i}", **_GOOD}),
    "lone surrogate in text": lambda i: json.dumps(
        {"event_id": f"e{i}", "text": "\ud800", **_GOOD}
    ),
    "lone surrogate in a mention": lambda i: json.dumps(
        {"event_id": f"e{i}", "mentions": ["ok", "\udc01"], **_GOOD}
    ),
    "number as text": lambda i: json.dumps({"event_id": f"e{i}", "text": 5, **_GOOD}),
}


@SETTINGS
@hypothesis.given(st.lists(st.sampled_from(sorted(SURROGATE_LINES)), min_size=1, max_size=6))
def test_escaped_lone_surrogates_in_ndjson_are_bad_lines_with_their_reason(kinds):
    """polars reads ``\\ud800`` as a NUL (the reason was a NUL byte), json keeps it (a crash)."""
    path = Path(tempfile.mkdtemp()) / "events.ndjson"
    path.write_text("".join(SURROGATE_LINES[k](i) + "\n" for i, k in enumerate(kinds)))
    bad = {i + 1: k for i, k in enumerate(kinds) if k != "good"}
    result = io.read([path], on_error="skip")
    assert result.records_read == result.records_loaded + len(result.skipped) == len(kinds)
    assert [s.line for s in result.skipped] == sorted(bad)
    for skipped in result.skipped:
        assert skipped.record == path.read_text().splitlines()[skipped.line - 1]
        if "surrogate" in bad[skipped.line]:
            where = "text" if "text" in bad[skipped.line] else "mentions"
            assert skipped.reason.startswith("lone surrogate \\u"), skipped.reason
            assert skipped.reason.endswith(f" in {where} (not Unicode text)")
    if not bad:
        assert ev.read_events(path).height == len(kinds)
        return
    message = _error(ev.read_events, [path])
    assert [line.split(": ")[0] for line in message.splitlines()] == [f"{path}:{n}" for n in bad]
    assert "NUL" not in message


CANONICAL_TEXT_KEYS = ["event_id", "actor_id", "text", "platform", "parent_id"]


@SETTINGS
@hypothesis.given(
    repeats=st.lists(
        st.tuples(st.sampled_from(CANONICAL_TEXT_KEYS), st.text(_CHARS, min_size=1, max_size=4)),
        min_size=1,
        max_size=3,
    ),
)
def test_a_key_given_twice_reads_the_same_whatever_else_is_in_the_file(repeats):
    """polars kept a repeated key's first value and json its last: the value of a line
    depended on whether another line sent the whole file through json."""
    first = {"event_id": "e1", "actor_id": "a1", "timestamp": "2024-01-01T00:00:00Z"}
    first |= {"action": "post", "text": "t", "platform": "p"}
    pairs = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in first.items()]
    pairs += [f"{json.dumps(k)}: {json.dumps(v.strip() or 'x')}" for k, v in repeats]
    if any(k == "parent_id" for k, _ in repeats):  # a post has no parent: make it a reply
        pairs.insert(0, '"parent_id": "p0"')
        pairs = [p.replace('"post"', '"reply"') for p in pairs]
    line = "{" + ", ".join(pairs) + "}\n"
    folder = Path(tempfile.mkdtemp())
    alone = folder / "alone.ndjson"
    alone.write_text(line)
    mixed = folder / "mixed.ndjson"  # a number as text is a bad line, read with json
    mixed.write_text(line + json.dumps({"event_id": "e2", "text": 5, **_GOOD}) + "\n")
    want = io.read([alone]).events
    got = io.read([mixed], on_error="skip").events
    assert got.filter(pl.col("event_id") == "e1").equals(want)
    assert want.row(0, named=True)["actor_id"] == "a1"  # the first value
