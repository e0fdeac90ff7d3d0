"""The canonical reader through tribe_analysis.io, in both error modes."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tribe_analysis import events as ev
from tribe_analysis import io

from .conftest import GOOD_ROWS, consistent

BAD = {
    "unknown action": "z1,2024-03-01T10:00:00Z,eve,like,p1,,",
    "missing id": ",2024-03-01T10:00:00Z,eve,post,,,",
    "bad timestamp": "z2,yesterday,eve,post,,,",
    "reply without parent": "z3,2024-03-01T10:00:00Z,eve,reply,,,",
}


def test_auto_detects_canonical_files(write_csv, tmp_path):
    path = write_csv(GOOD_ROWS)
    assert io.detect(path) == "events"
    result = io.read(path)
    assert result.platform == "events"
    assert result.records_read == result.records_loaded == 6
    assert result.events.equals(ev.read_events(path))


@pytest.mark.parametrize("kind", sorted(BAD))
def test_strict_stops_at_a_bad_row(write_csv, kind):
    path = write_csv([*GOOD_ROWS, BAD[kind]])
    with pytest.raises(ev.EventsError) as info:
        io.read(path, on_error="strict")
    assert str(info.value.problems[0]).startswith(f"{path}:8: ")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_skip_quarantines_the_bad_row_verbatim(write_csv, kind):
    path = write_csv([GOOD_ROWS[0], BAD[kind], *GOOD_ROWS[1:]])
    result = io.read(path, on_error="skip")
    assert result.records_read == 7
    assert result.records_loaded == 6 == result.events.height
    (skipped,) = result.skipped
    assert (skipped.source, skipped.line, skipped.record) == (str(path), 3, BAD[kind])
    assert result.records_read == result.records_loaded + len(result.skipped)


def test_skip_non_utf8_line(write_csv):
    path = write_csv(GOOD_ROWS)
    path.write_bytes(path.read_bytes() + b"z9,2024-03-01T10:00:00Z,\xe9ve,post,,,\n")
    with pytest.raises(ev.EventsError, match="not UTF-8"):
        io.read(path)
    result = io.read(path, on_error="skip")
    assert result.records_loaded == 6
    assert result.skipped[0].reason == "not UTF-8: byte 0xe9 at column 25"
    assert result.skipped[0].line == 8


def test_skip_truncated_json_line(tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_text(
        '{"event_id": "a", "timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "post"}\n'
        '{"event_id": "b", "timestamp": "2024-01-01T00:01:00Z", "act\n'
    )
    with pytest.raises(ev.EventsError, match=r":2: invalid JSON"):
        io.read(path)
    result = io.read(path, on_error="skip")
    assert result.events["event_id"].to_list() == ["a"]
    assert result.skipped[0].record.startswith('{"event_id": "b"')


def test_duplicates_across_files_kept_once_and_reported(write_csv):
    first = write_csv(GOOD_ROWS, name="a.csv")
    second = write_csv([GOOD_ROWS[1], "n1,2024-03-02T10:00:00Z,eve,post,,,"], name="b.csv")
    result = io.read([first, second], on_error="skip")
    assert result.events.height == 7
    assert [(s.source, s.line) for s in result.skipped] == [(str(second), 2)]
    assert "duplicate event_id 'p1'" in result.skipped[0].reason
    assert result.records_read == 8 == result.records_loaded + len(result.skipped)


@pytest.mark.parametrize("on_error", ["strict", "skip"])
def test_whole_file_problems_stop_in_both_modes(tmp_path, on_error):
    empty = tmp_path / "events.csv"
    empty.write_bytes(b"")
    with pytest.raises(ev.EventsError, match="empty file"):
        io.read(empty, on_error=on_error)
    with pytest.raises(ev.EventsError, match="no such file"):
        io.read(tmp_path / "missing.csv", on_error=on_error)
    header_only = tmp_path / "cols.csv"
    header_only.write_text("event_id,timestamp,action\na,2024-01-01T00:00:00Z,post\n")
    with pytest.raises(ev.EventsError, match="missing required column 'actor_id'"):
        io.read(header_only, on_error=on_error)


def test_unknown_format_and_mixed_inputs(tmp_path, write_csv):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    with pytest.raises(ev.EventsError, match="format not recognised"):
        io.read(odd)
    with pytest.raises(ValueError, match="unknown format 'myspace'"):
        io.read(odd, format="myspace")
    with pytest.raises(ValueError, match="on_error must be one of strict, skip"):
        io.read(write_csv(GOOD_ROWS), on_error="ignore")


def test_parquet_skip_keeps_row_as_json(tmp_path):
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "event_id": ["a", "b"],
            "timestamp": ["2024-01-01T00:00:00Z"] * 2,
            "actor_id": ["u", "v"],
            "action": ["post", "reply"],
        }
    ).write_parquet(path)
    result = io.read(path, on_error="skip")
    assert result.events["event_id"].to_list() == ["a"]
    assert result.skipped[0].reason == "reply without parent_id"
    assert '"event_id": "b"' in result.skipped[0].record


def test_parquet_skip_quotes_each_bad_row_once_even_beside_a_time_python_cannot_hold(tmp_path):
    """The rows of a file are picked together; a time after the year 9999 makes only its own
    row's times text, the others keep Python's form."""
    path = tmp_path / "events.parquet"
    after = 253402300800000000 + 10**6  # +10000-01-01T00:00:01Z in microseconds
    times = [1704067200000000, 1704067200000000, after, 1704067200000000, 1704067200000000]
    pl.DataFrame(
        {
            "event_id": ["a", "b", "c", "d", "e"],
            "timestamp": pl.Series(times).cast(pl.Datetime("us", "UTC")),
            "actor_id": ["u", "v", "w", "x", "y"],
            "action": ["post", "like", "post", "post", "poke"],
        }
    ).write_parquet(path)
    result = io.read(path, on_error="skip")
    assert result.events["event_id"].to_list() == ["a", "d"]
    records = {s.line: json.loads(s.record) for s in result.skipped}
    assert sorted(records) == [2, 3, 5]
    assert records[2] == {
        "action": "like",
        "actor_id": "v",
        "event_id": "b",
        "timestamp": "2024-01-01 00:00:00+00:00",
    }
    assert records[3]["timestamp"] == "+10000-01-01T00:00:01+00:00"
    assert records[5]["event_id"] == "e" and records[5]["action"] == "poke"


def test_skip_after_a_quoted_multiline_field_quarantines_the_bad_row(write_csv):
    multi = 'q1,2024-03-01T09:00:00Z,ann,post,,,"two\nlines"'
    bad = "z1,2024-03-01T10:00:00Z,eve,like,p1,,"
    path = write_csv([multi, *GOOD_ROWS[:3], bad, *GOOD_ROWS[3:]])
    result = io.read(path, on_error="skip")
    consistent(result)
    (skipped,) = result.skipped
    assert (skipped.line, skipped.record) == (7, bad)  # lines 2-3 hold q1, 4-6 good rows
    assert set(result.events["event_id"]) == {"q1"} | {r.split(",")[0] for r in GOOD_ROWS}
    assert result.events.filter(pl.col("event_id") == "q1")["text"].item() == "two\nlines"


def test_a_row_with_several_problems_is_one_skipped_record(write_csv):
    bad = "z1,soon,eve,like,,,"
    path = write_csv([*GOOD_ROWS, bad])
    result = io.read(path, on_error="skip")
    consistent(result)
    (skipped,) = result.skipped
    assert (skipped.line, skipped.record) == (8, bad)
    assert skipped.reason.split("; ") == [
        "malformed timestamp 'soon' (expected ISO-8601 with an offset or Z, e.g. 2024-05-01T12:00:00Z)",
        "unknown action 'like' (expected one of post, reply, share, reaction: a like is a reaction)",
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("z1,2024-03-01T10:00:00Z,eve,post", "4 fields, expected 7 (as in the header)"),
        ("z1,2024-03-01T10:00:00Z,eve,post,,,a,b", "8 fields, expected 7 (as in the header)"),
        ('z1,2024-03-01T10:00:00Z,eve,post,,,"a"b', "stray quote in a field"),
        # one quote in the middle of a field is a letter to csv and polars: the record
        # is bad, the records after it are whole (not one unclosed quote to the end)
        ('z1,2024-03-01T10:00:00Z,eve,post,,,he said "hi', "stray quote in a field"),
        ('z1,2024-03-01T10:00:00Z,eve,post,,,a""b', "stray quote in a field"),
    ],
)
def test_skip_ragged_and_stray_quote_rows(write_csv, row, reason):
    path = write_csv([GOOD_ROWS[0], row, *GOOD_ROWS[1:]])
    result = io.read(path, on_error="skip")
    consistent(result)
    (skipped,) = result.skipped
    assert (skipped.line, skipped.record) == (3, row)
    assert skipped.reason.startswith(reason)
    assert result.events.height == len(GOOD_ROWS)


def test_skip_unclosed_quote_keeps_the_rows_before_it(write_csv):
    path = write_csv([*GOOD_ROWS, 'z1,2024-03-01T10:00:00Z,eve,post,,,"open', "z2,x,y,post,,,"])
    result = io.read(path, on_error="skip")
    consistent(result)
    (skipped,) = result.skipped
    assert skipped.line == 8 and skipped.reason.startswith("unclosed quote")
    assert skipped.record == 'z1,2024-03-01T10:00:00Z,eve,post,,,"open\nz2,x,y,post,,,'
    assert result.events.height == len(GOOD_ROWS)


def test_skip_ndjson_wrong_type_line_alone_the_rest_typed(tmp_path):
    good = {"timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "post"}
    lines = [
        json.dumps({"event_id": "a", "mentions": ["m1", "m2"], **good}),
        json.dumps({"event_id": "b", "mentions": "m1|m2", **good}),
        json.dumps({"event_id": "c", "mentions": [], **good}),
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ev.EventsError, match=r":2: mentions must be a JSON array"):
        io.read(path)
    result = io.read(path, on_error="skip")
    consistent(result)
    (skipped,) = result.skipped
    assert (skipped.line, skipped.record) == (2, lines[1])
    assert result.events.select("event_id", "mentions").rows() == [
        ("a", ["m1", "m2"]),
        ("c", []),
    ]


def test_skip_every_record_bad_keeps_them_all(tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_text('{"event_id": [1]}\nnot json\n')
    result = io.read(path, format="events", on_error="skip")
    consistent(result)
    assert [s.line for s in result.skipped] == [1, 2]
    assert result.events.height == 0 and result.events.columns == list(ev.SCHEMA)


def test_skip_canonical_cycle_quarantines_its_members_only(write_csv):
    rows = [
        "p1,2024-03-01T10:00:00Z,ann,post,,,",
        "c1,2024-03-01T10:01:00Z,bob,reply,c2,,",
        "c2,2024-03-01T10:02:00Z,cid,reply,c1,,",
        "c3,2024-03-01T10:03:00Z,dan,reply,c2,,",
    ]
    result = io.read(write_csv(rows), on_error="skip")
    consistent(result)
    assert [(s.line, s.record) for s in result.skipped] == [(3, rows[1]), (4, rows[2])]
    assert all(s.reason.startswith("parent_id chain forms a cycle") for s in result.skipped)
    assert sorted(result.events["event_id"]) == ["c3", "p1"]


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x1c", "\x0b"])
@pytest.mark.parametrize("suffix", [".ndjson", ".csv"])
def test_a_line_separator_inside_a_value_is_not_a_line_break(tmp_path, char, suffix):
    """Found by Hypothesis: an id holding U+2028 (JSON writes it as it is) made the file
    'format not recognised': sniffing split its first line there, as str.splitlines does."""
    frame = pl.DataFrame(
        {
            "event_id": [f"e{char}1"],
            "timestamp": ["2024-01-01T00:00:00Z"],
            "actor_id": ["a"],
            "action": ["post"],
        }
    )
    path = tmp_path / f"events{suffix}"
    frame.write_csv(path) if suffix == ".csv" else frame.write_ndjson(path)
    result = io.read([path])
    assert result.platform == "events"
    assert result.events["event_id"].to_list() == [f"e{char}1"]
