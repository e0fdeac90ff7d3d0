"""The canonical reader through tribe_analysis.io, in both error modes."""

from __future__ import annotations

import polars as pl
import pytest

from tribe_analysis import events as ev
from tribe_analysis import io

from .conftest import GOOD_ROWS

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
