from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis import io

from .conftest import GOOD_ROWS, HEADER


def test_schema_is_design_v1():
    assert list(ev.SCHEMA) == [
        "event_id",
        "timestamp",
        "actor_id",
        "action",
        "parent_id",
        "thread_id",
        "target_actor_id",
        "mentions",
        "text",
        "platform",
    ]
    assert ev.SCHEMA["timestamp"] == pl.Datetime("us", "UTC")
    assert ev.SCHEMA["action"] == pl.Enum(["post", "reply", "share", "reaction"])
    assert ev.SCHEMA["mentions"] == pl.List(pl.String)
    assert ev.empty_events().schema == ev.SCHEMA


def test_read_someone_elses_csv(write_csv):
    events = ev.read_events(write_csv(GOOD_ROWS))
    assert events.schema == ev.SCHEMA
    assert events.get_column("event_id").to_list() == ["p1", "r1", "r2", "x1", "s1", "o1"]
    rows = {r["event_id"]: r for r in events.iter_rows(named=True)}
    # +02:00 offset converted to UTC
    assert rows["r1"]["timestamp"] == datetime(2024, 3, 1, 10, 5, tzinfo=UTC)
    assert rows["p1"]["mentions"] == ["bob", "cid"]
    assert rows["r1"]["mentions"] == []
    assert rows["p1"]["platform"] == "events"
    # threads and targets
    assert {k: (v["thread_id"], v["target_actor_id"]) for k, v in rows.items()} == {
        "p1": ("p1", None),
        "r1": ("p1", "ann"),
        "r2": ("p1", "bob"),
        "x1": ("p1", "ann"),
        "s1": ("p1", "ann"),
        "o1": ("elsewhere", None),
    }


def test_read_is_order_independent(write_csv):
    a = ev.read_events(write_csv(GOOD_ROWS, name="a.csv"))
    b = ev.read_events(write_csv(list(reversed(GOOD_ROWS)), name="b.csv"))
    assert a.equals(b)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_round_trip_each_format(write_csv, tmp_path, suffix):
    events = ev.read_events(write_csv(GOOD_ROWS))
    path = ev.write_events(events, tmp_path / f"out{suffix}")
    assert ev.read_events(path).equals(events)


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
)
_ID = _TEXT.filter(lambda s: s.strip() != "")
_CSV_MENTION = _ID.filter(lambda s: s == s.strip() and "|" not in s)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    rows=st.lists(
        st.tuples(_ID, _ID, st.lists(_CSV_MENTION, max_size=2), st.none() | _TEXT),
        min_size=1,
        max_size=8,
        unique_by=lambda row: row[0],
    ),
    suffix=st.sampled_from([".csv", ".parquet", ".ndjson"]),
)
def test_any_ids_and_text_come_back_from_each_format(rows, suffix, tmp_path_factory):
    """Commas, quotes, line breaks, any script: what is written is what is read."""
    t = datetime(2024, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "timestamp": [t] * len(rows),
            "actor_id": [r[1] for r in rows],
            "action": ["post"] * len(rows),
            "mentions": [r[2] for r in rows],
            "text": [r[3] for r in rows],
            "platform": ["events"] * len(rows),
        }
    )
    events = ev.complete_events(frame)
    path = ev.write_events(events, tmp_path_factory.mktemp("rt") / f"events{suffix}")
    assert ev.read_events(path).equals(events)


@pytest.mark.parametrize("mention", ["a|b", " ann", "bob\t", ""])
def test_csv_refuses_a_mention_it_cannot_hold(tmp_path, mention):
    """Joined with '|' and trimmed when read, it would come back as another mention."""
    t = datetime(2024, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "event_id": ["e1"],
            "timestamp": [t],
            "actor_id": ["u"],
            "action": ["post"],
            "mentions": [["cid", mention]],
            "platform": ["events"],
        }
    )
    events = ev.complete_events(frame)
    said = re.escape(f"mention {mention!r} of event 'e1' cannot be written as CSV")
    with pytest.raises(ValueError, match=said):
        ev.write_events(events, tmp_path / "events.csv")
    assert not (tmp_path / "events.csv").exists()
    for suffix in (".parquet", ".ndjson"):  # the other forms hold it
        path = ev.write_events(events, tmp_path / f"events{suffix}")
        if mention:
            assert ev.read_events(path)["mentions"].to_list() == [["cid", mention]]
        else:  # but an empty mention names no one: the row is bad, in every form
            with pytest.raises(ev.EventsError, match=r":row 1: empty mention|:1: empty mention"):
                ev.read_events(path)


@pytest.mark.parametrize(
    ("suffix", "mentions"),
    [
        (".csv", "m1||m2"),
        (".csv", "m1|"),
        (".csv", "| m1"),
        (".csv", "m1| \t |m2"),
        (".ndjson", ["m1", ""]),
        (".ndjson", ["m1", None]),
        (".ndjson", ["  "]),
        (".parquet", ["m1", None]),
        (".parquet", [""]),
    ],
)
@pytest.mark.parametrize("on_error", ["strict", "skip"])
def test_an_empty_mention_makes_its_row_bad(tmp_path, suffix, mentions, on_error):
    """It named no one but counted as mentioning someone; the other rows still load."""
    path = tmp_path / f"events{suffix}"
    rows = [
        {"event_id": "e1", "timestamp": "2024-01-01T00:00:00Z", "actor_id": "a", "action": "post"},
        {"event_id": "e2", "timestamp": "2024-01-01T00:01:00Z", "actor_id": "b", "action": "post"},
    ]
    if suffix == ".csv":
        header = "event_id,timestamp,actor_id,action,mentions\n"
        lines = [",".join(r.values()) + "," for r in rows]
        lines[1] += mentions.replace("\\t", "\t")
        path.write_text(header + "\n".join(lines) + "\n")
    elif suffix == ".ndjson":
        rows[1]["mentions"] = mentions
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        frame = pl.DataFrame(rows).with_columns(
            pl.col("timestamp").str.to_datetime(time_zone="UTC"),
            pl.Series("mentions", [[], mentions], dtype=pl.List(pl.String)),
        )
        frame.write_parquet(path)
    where = f"{path}:row 2" if suffix == ".parquet" else f"{path}:{3 if suffix == '.csv' else 2}"
    reason = "empty mention (a mention names an account; in CSV, nothing between two '|')"
    if on_error == "strict":
        with pytest.raises(ev.EventsError) as err:
            io.read(path)
        assert str(err.value).splitlines()[0] == f"{where}: {reason}"
    else:
        result = io.read(path, on_error="skip")
        assert result.events["event_id"].to_list() == ["e1"]
        assert [s.reason for s in result.skipped] == [reason]


def test_write_is_byte_identical(write_csv, tmp_path):
    events = ev.read_events(write_csv(GOOD_ROWS))
    for suffix in (".csv", ".parquet", ".ndjson"):
        one = ev.write_events(events, tmp_path / f"one{suffix}").read_bytes()
        two = ev.write_events(
            events.sample(fraction=1, shuffle=True, seed=1).sort("timestamp", "event_id"),
            tmp_path / f"two{suffix}",
        ).read_bytes()
        assert one == two


def _problems(path):
    with pytest.raises(ev.EventsError) as info:
        ev.read_events(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "z1,2024-03-01T10:00:00Z,eve,like,p1,,",
            "unknown action 'like' (expected one of post, reply, share, reaction: a like is a reaction)",
        ),
        ("z1,2024-03-01T10:00:00Z,eve,reply,,,", "reply without parent_id"),
        ("z1,2024-03-01T10:00:00Z,eve,share,,,", "share without parent_id"),
        ("z1,2024-03-01T10:00:00Z,eve,reaction,,,", "reaction without parent_id"),
        ("z1,2024-03-01T10:00:00Z,eve,post,p1,,", "post with parent_id 'p1'"),
        ("z1,01/03/2024 10:00,eve,post,,,", "malformed timestamp '01/03/2024 10:00'"),
        (
            "z1,2024-03-01T10:00:00,eve,post,,,",
            "malformed timestamp '2024-03-01T10:00:00' (expected ISO-8601 with an offset or Z",
        ),
        ("z1,2024-02-30T10:00:00Z,eve,post,,,", "malformed timestamp '2024-02-30T10:00:00Z'"),
        ("p1,2024-03-01T10:00:00Z,eve,post,,,", "duplicate event_id 'p1' (first at {path}:3)"),
        (",2024-03-01T10:00:00Z,eve,post,,,", "missing event_id"),
        ("z1,2024-03-01T10:00:00Z,,post,,,", "missing actor_id"),
        ("z1,,eve,post,,,", "missing timestamp"),
    ],
)
def test_each_bad_row_is_reported_with_file_and_line(write_csv, row, reason):
    path = write_csv([*GOOD_ROWS, row])
    problems = _problems(path)
    expected = f"{path}:{len(GOOD_ROWS) + 2}: {reason.format(path=path)}"
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_every_problem_is_collected_one_line_per_row(write_csv):
    rows = [*GOOD_ROWS, "z1,bad,eve,like,,,", "z2,2024-03-01T10:00:00Z,eve,reply,,,"]
    path = write_csv(rows)
    problems = _problems(path)
    line = len(GOOD_ROWS) + 2
    assert [p.split(" (expected")[0] for p in problems] == [
        f"{path}:{line}: malformed timestamp 'bad'",
        f"{path}:{line + 1}: reply without parent_id",
    ]
    assert "; unknown action 'like' (expected one of" in problems[0]  # all its reasons


def test_a_nul_byte_in_a_value_is_a_bad_row(write_csv):
    pad = "x" * 9000  # past the first 8 KiB, where a NUL refuses the whole file as binary
    rows = [*GOOD_ROWS, f"z0,2024-03-01T10:00:00Z,eve,post,,,{pad}"]
    rows += ["z1,2024-03-01T10:01:00Z,e\x00ve,post,,,", "z2,2024-03-01T10:02:00Z,eve,post,,,t\x00"]
    path = write_csv(rows)
    line = len(GOOD_ROWS) + 3
    assert _problems(path) == [
        f"{path}:{line}: NUL byte in actor_id (binary data, not text)",
        f"{path}:{line + 1}: NUL byte in text (binary data, not text)",
    ]
    frame = pl.DataFrame(
        {
            "event_id": ["a", "b"],
            "timestamp": ["2024-01-01T00:00:00Z"] * 2,
            "actor_id": ["u", "v"],
            "action": ["post", "post"],
            "mentions": [["x\x00"], []],
        }
    )
    assert [str(p) for p in ev.validate_events(frame, source="f")] == [
        "f:row 1: NUL byte in mentions (binary data, not text)"
    ]


@pytest.mark.parametrize("missing", ev.REQUIRED_COLUMNS)
def test_missing_required_column(write_csv, missing):
    columns = HEADER.strip().split(",")
    keep = [i for i, c in enumerate(columns) if c != missing]
    header = ",".join(columns[i] for i in keep) + "\n"
    rows = [",".join(r.split(",")[i] for i in keep) for r in GOOD_ROWS]
    path = write_csv(rows, header=header)
    assert _problems(path) == [
        f"{path}:1: missing required column '{missing}' (required: event_id, timestamp, actor_id, action)"
    ]


@pytest.mark.parametrize(("separator", "said"), [(";", "';'"), ("\t", "tabs")])
def test_a_spreadsheet_csv_separated_otherwise_is_one_clear_problem(tmp_path, separator, said):
    """A spreadsheet in another locale saves 'CSV' with ';': say so, not four missing columns."""
    path = tmp_path / "events.csv"
    lines = [HEADER.strip(), *GOOD_ROWS]
    path.write_text("\n".join(line.replace(",", separator) for line in lines) + "\n")
    assert _problems(path) == [
        f"{path}:1: the header is one column: its names are separated by {said}, not by commas "
        "(save the file as comma-separated CSV)"
    ]


def test_a_one_column_header_without_the_names_is_still_missing_columns(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("id;when;who\n1;2024;ann\n")
    [problem] = _problems(path)  # the problems of a line are one message
    assert problem.count("missing required column") == len(ev.REQUIRED_COLUMNS)
    assert "separated" not in problem


def test_empty_file(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"")
    assert _problems(path) == [f"{path}:1: empty file (no header, no events)"]


def test_header_only_file(write_csv):
    path = write_csv([])
    assert _problems(path) == [f"{path}: no events (the input has no rows)"]


def test_not_utf8(write_csv):
    path = write_csv(GOOD_ROWS)
    data = path.read_bytes().replace(b"hi ann", b"hi \xe9ann")
    path.write_bytes(data)
    (problem,) = _problems(path)
    assert problem == f"{path}:4: not UTF-8: byte 0xe9 at column 47"


def test_line_numbers_follow_quoted_newlines(write_csv):
    rows = [
        'q1,2024-03-01T09:00:00Z,ann,post,,,"two\nlines"',
        *GOOD_ROWS,
        "z1,2024-03-01T10:00:00Z,eve,like,p1,,",
    ]
    path = write_csv(rows)
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:{len(GOOD_ROWS) + 4}: unknown action 'like'")


def test_duplicates_across_files(write_csv):
    first = write_csv(GOOD_ROWS[:2], name="a.csv")
    second = write_csv(["p1,2024-03-02T10:00:00Z,eve,post,,,"], name="b.csv")
    with pytest.raises(ev.EventsError) as info:
        ev.read_events([first, second])
    assert [str(p) for p in info.value.problems] == [
        f"{second}:2: duplicate event_id 'p1' (first at {first}:3)"
    ]


def test_cycle_is_an_error_not_a_hang(write_csv):
    rows = [
        "p1,2024-03-01T10:00:00Z,ann,post,,,",
        "c1,2024-03-01T10:01:00Z,bob,reply,c2,,",
        "c2,2024-03-01T10:02:00Z,cid,reply,c1,,",
        "c3,2024-03-01T10:03:00Z,dan,reply,c2,,",
        "self,2024-03-01T10:03:00Z,dan,reply,self,,",
    ]
    path = write_csv(rows)
    assert _problems(path) == [
        f"{path}:3: parent_id chain forms a cycle (event 'c1' -> parent 'c2')",
        f"{path}:4: parent_id chain forms a cycle (event 'c2' -> parent 'c1')",
        f"{path}:5: parent_id chain forms a cycle (event 'c3' -> parent 'c2')",
        f"{path}:6: parent_id chain forms a cycle (event 'self' -> parent 'self')",
    ]


def test_over_deep_chain_is_an_error():
    n = 40
    t = datetime(2024, 1, 1, tzinfo=UTC)
    frame = ev.conform(
        pl.DataFrame(
            {
                "event_id": [f"e{i}" for i in range(n)],
                "timestamp": [t] * n,
                "actor_id": ["a", "b"] * (n // 2),
                "action": ["post"] + ["reply"] * (n - 1),
                "parent_id": [None] + [f"e{i - 1}" for i in range(1, n)],
            }
        ),
        platform="events",
    )
    deep = ev.derive_threads(frame, max_depth=64)
    assert deep.get_column("thread_id").unique().to_list() == ["e0"]
    with pytest.raises(ev.EventsError, match=r"row 40: parent_id chain deeper than 16"):
        ev.derive_threads(frame, max_depth=16)


def test_deep_chain_is_vectorised():
    # 200k-deep chain resolves in a handful of rounds (no Python loop per event)
    n = 200_000
    t = datetime(2024, 1, 1, tzinfo=UTC)
    frame = ev.conform(
        pl.DataFrame(
            {
                "event_id": [f"e{i}" for i in range(n)],
                "timestamp": [t] * n,
                "actor_id": "a",
                "action": ["post"] + ["reply"] * (n - 1),
                "parent_id": [None] + [f"e{i - 1}" for i in range(1, n)],
            }
        ),
        platform="events",
    )
    out = ev.derive_threads(frame, max_depth=2**18)
    assert out.get_column("thread_id").n_unique() == 1


def test_platform_values_are_kept():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    frame = ev.conform(
        pl.DataFrame(
            {
                "event_id": ["r"],
                "timestamp": [t],
                "actor_id": ["b"],
                "action": ["reply"],
                "parent_id": ["gone"],
                "thread_id": ["root-from-platform"],
                "target_actor_id": ["ann"],
            }
        ),
        platform="twitter",
    )
    out = ev.derive_threads(frame)
    assert out.row(0, named=True)["thread_id"] == "root-from-platform"
    assert out.row(0, named=True)["target_actor_id"] == "ann"


def test_parquet_wrong_types_and_naive_timestamps(tmp_path):
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "event_id": ["a"],
            "timestamp": [datetime(2024, 1, 1)],
            "actor_id": ["u"],
            "action": ["post"],
            "mentions": [1.5],
        }
    ).write_parquet(path)
    assert _problems(path) == [
        f"{path}: column 'mentions' has type Float64 (expected '|'-joined text or a list of strings)",
        f"{path}: column 'timestamp' has timestamps without a time zone (expected UTC or an offset)",
    ]


def _two_events_parquet(tmp_path, action, **more):
    """``events.parquet`` of events a (by u) and b (by v), with ``action`` and ``more`` columns."""
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "event_id": ["a", "b"],
            "timestamp": ["2024-01-01T00:00:00Z"] * 2,
            "actor_id": ["u", "v"],
            "action": action,
            **more,
        }
    ).write_parquet(path)
    return path


def test_parquet_rows_are_named(tmp_path):
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "event_id": [1, 2],
            "timestamp": ["2024-01-01T00:00:00Z"] * 2,
            "actor_id": ["u", "v"],
            "action": ["post", "reply"],
        }
    ).write_parquet(path)
    assert _problems(path) == [f"{path}:row 2: reply without parent_id"]


@pytest.mark.parametrize(
    ("categories", "second", "expected"),
    [
        (["post", "reply", "share", "reaction"], "reply", "reply without parent_id"),  # ours
        (["reply", "post"], "reply", "reply without parent_id"),  # fewer actions, other order
        (
            ["post", "reply", "like"],
            "like",
            "unknown action 'like' (expected one of post, reply, share, reaction: a like is a reaction)",
        ),
    ],
)
def test_parquet_action_enum_is_checked(tmp_path, categories, second, expected):
    path = _two_events_parquet(tmp_path, pl.Series(["post", second], dtype=pl.Enum(categories)))
    assert _problems(path) == [f"{path}:row 2: {expected}"]


def test_parquet_action_enum_reads_as_actions(tmp_path):
    action = pl.Series(["post", "reply"], dtype=pl.Enum(["reply", "post"]))
    path = _two_events_parquet(tmp_path, action, parent_id=[None, "a"])
    events = ev.read_events(path)
    assert events.schema["action"] == ev.ACTION_DTYPE
    assert events.select("action", "target_actor_id").rows() == [("post", None), ("reply", "u")]


def test_ndjson_bad_json_line(tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_text(
        '{"event_id": "a", "timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "post"}\n'
        '{"event_id": "b", "timestamp": \n'
    )
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:2: invalid JSON")


def test_ndjson_lines_skip_blank_lines(tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_text(
        '{"event_id": "a", "timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "post"}\n'
        "\n"
        '{"event_id": "b", "timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "boost", '
        '"parent_id": "a", "mentions": ["v"]}\n'
    )
    assert _problems(path) == [
        f"{path}:3: unknown action 'boost' (expected one of post, reply, share, reaction: a boost is a share)"
    ]


def test_unknown_suffix_and_missing_file(tmp_path):
    odd = tmp_path / "events.xlsx"
    odd.write_text("x")
    assert _problems(odd)[0].startswith(f"{odd}: unknown file type '.xlsx'")
    assert _problems(tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: no such file"]


def test_validate_events_on_frame():
    frame = pl.DataFrame(
        {
            "event_id": ["a"],
            "timestamp": ["2024-01-01T00:00:00Z"],
            "actor_id": ["u"],
            "action": ["post"],
        }
    )
    assert ev.validate_events(frame) == []


def test_summary(write_csv):
    summary = ev.summarize_events(ev.read_events(write_csv(GOOD_ROWS)))
    assert summary["rows"] == 6
    assert summary["actions"] == {"post": 1, "reply": 3, "share": 1, "reaction": 1}
    assert summary["actors"] == 4
    assert summary["orphan_reply_share"] == pytest.approx(1 / 3)
    assert summary["first"] == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert summary["last"] == datetime(2024, 3, 1, 11, 30, tzinfo=UTC)


def test_ndjson_value_of_the_wrong_type_is_a_bad_line_not_a_retyped_column(tmp_path):
    good = {"timestamp": "2024-01-01T00:00:00Z", "actor_id": "u", "action": "post"}
    lines = [
        {"event_id": "a", "mentions": ["m1", "m2"], **good},
        {"event_id": "b", "mentions": "m1|m2", **good},
        {"event_id": {"id": 1}, **good},
        {"event_id": "d", **good, "actor_id": ["u"]},
        {"event_id": "e", "text": 5, **good},
        {"event_id": 6, "mentions": [7], **good},
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert _problems(path) == [
        f"{path}:2: mentions must be a JSON array of account ids, got string 'm1|m2'",
        f"{path}:3: event_id must be a string id, got object {{'id': 1}}",
        f"{path}:4: actor_id must be a string id, got array ['u']",
        f"{path}:5: text must be a string, got number 5",
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines[:1] + lines[5:]))
    events = ev.read_events(path)  # integer ids and mentions are ids
    assert events.select("event_id", "mentions").rows() == [("6", ["7"]), ("a", ["m1", "m2"])]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("z1,2024-03-01T10:00:00Z,eve,post", "4 fields, expected 7 (as in the header)"),
        ("z1,2024-03-01T10:00:00Z,eve,post,,,x,y", "8 fields, expected 7 (as in the header)"),
        ('z1,2024-03-01T10:00:00Z,eve,post,,,say "hi"', "stray quote in a field"),
        ('z1,2024-03-01T10:00:00Z,eve,post,,,"open', "unclosed quote (the field runs to the end"),
    ],
)
def test_malformed_csv_records_are_located_never_a_traceback(write_csv, row, reason):
    rows = ['q1,2024-03-01T09:00:00Z,ann,post,,,"two\nlines"', *GOOD_ROWS, row]
    path = write_csv(rows)
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:{len(GOOD_ROWS) + 4}: {reason}")


def test_blank_csv_lines_are_not_records(write_csv):
    path = write_csv([GOOD_ROWS[0], "", *GOOD_ROWS[1:], ""])
    assert ev.read_events(path).height == len(GOOD_ROWS)
    path = write_csv([*GOOD_ROWS, "", "z1,2024-03-01T10:00:00Z,eve,like,p1,,"])
    assert _problems(path)[0].startswith(f"{path}:{len(GOOD_ROWS) + 3}: unknown action 'like'")


def test_bom_and_windows_line_ends_in_canonical_files(write_csv, tmp_path):
    plain = ev.read_events(write_csv(GOOD_ROWS))
    csv = write_csv(GOOD_ROWS, name="windows.csv")
    csv.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes().replace(b"\n", b"\r\n"))
    assert ev.read_events(csv).equals(plain)
    ndjson = ev.write_events(plain, tmp_path / "events.ndjson")
    ndjson.write_bytes(b"\xef\xbb\xbf" + ndjson.read_bytes().replace(b"\n", b"\r\n"))
    assert ev.read_events(ndjson).equals(plain)


def test_a_giant_line_fails_fast(tmp_path, monkeypatch):
    from tribe_analysis import _textscan

    monkeypatch.setattr(_textscan, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(_textscan, "_PIECE", 4096)
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"event_id": "' + b"x" * 100_000)
    (problem,) = _problems(path)
    assert problem == f"{path}:1: record too long (over 4,096 bytes; at most 0 MiB per record)"


def test_parquet_rows_are_numbered_across_row_groups(tmp_path):
    """Line numbers come from the same query as the columns: right in every row group."""
    path = tmp_path / "events.parquet"
    n = 7
    pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "timestamp": ["2024-01-01T00:00:00Z"] * n,
            "actor_id": ["u"] * n,
            "action": ["post"] * 5 + ["reply", "post"],
        }
    ).write_parquet(path, row_group_size=2)
    assert _problems(path) == [f"{path}:row 6: reply without parent_id"]


def test_check_parts_lets_go_of_the_parts_it_consumes(tmp_path):
    path = _two_events_parquet(tmp_path, ["post", "reply"], parent_id=[None, "a"])
    raw, unit = ev._read_raw(path, "parquet")
    parts = [(raw, str(path), unit)]
    kept = list(parts)
    events, problems = ev._check_parts(parts, ev.MAX_THREAD_DEPTH, consume=True)
    assert parts == [] and problems == []
    again, _ = ev._check_parts(kept, ev.MAX_THREAD_DEPTH)
    assert kept and events.equals(again)


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2024-03-01 12:05:00.25+02", datetime(2024, 3, 1, 10, 5, 0, 250000, tzinfo=UTC)),
        ("2024-03-01 10:05:00+00", datetime(2024, 3, 1, 10, 5, tzinfo=UTC)),
        ("2024-03-01T05:05:00-05", datetime(2024, 3, 1, 10, 5, tzinfo=UTC)),
        ("2024-03-01T12:05:00+0200", datetime(2024, 3, 1, 10, 5, tzinfo=UTC)),
        ("2024-03-01 10:05:00z", datetime(2024, 3, 1, 10, 5, tzinfo=UTC)),
    ],
)
def test_timestamps_as_databases_write_them(write_csv, stamp, utc):
    """PostgreSQL's text output (space, hour-only offset) and other ISO-8601 spellings."""
    events = ev.read_events(write_csv([f"p1,{stamp},ann,post,,,"]))
    assert events.get_column("timestamp").to_list() == [utc]


@pytest.mark.parametrize("stamp", ["2024-03-01", "2024-03-01T10:05+02", "2024-03-01T10:05:00+2"])
def test_timestamps_without_seconds_or_with_a_short_offset_are_refused(write_csv, stamp):
    with pytest.raises(ev.EventsError, match="malformed timestamp"):
        ev.read_events(write_csv([f"p1,{stamp},ann,post,,,"]))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (
            "event_id,timestamp,actor_id,action,parent_id,mention,text",
            "column 'mention' is not read: did you mean 'mentions'? (rename it, or remove it)",
        ),
        (
            "event_id,timestamp,actor_id,action,Parent ID,mentions,text",
            "column 'Parent ID' is not read: did you mean 'parent_id'? (rename it, or remove it)",
        ),
        (
            "Event_ID,timestamp,actor_id,action,parent_id,mentions,text",
            "column 'Event_ID' is not read: did you mean 'event_id'? (rename it, or remove it)",
        ),
        (
            "event_id,timestamp,actor_id,action,parent_id,actor_id,text",
            "column 'actor_id' appears more than once in the header",
        ),
    ],
)
def test_a_header_naming_a_column_twice_or_nearly_is_refused(tmp_path, header, reason):
    """Values of a near-miss column would be lost without a word; a repeated one is ambiguous."""
    path = tmp_path / "events.csv"
    path.write_text(f"{header}\np1,2024-03-01T10:00:00Z,ann,post,,bob,hi\n")
    with pytest.raises(ev.EventsError) as caught:
        ev.read_events(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:1: {reason}"]


def test_other_columns_are_not_read(tmp_path):
    """Near misses of derived columns lose nothing (the columns are derived): not refused."""
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,timestamp,actor_id,action,likes,url,thread,target_actor_name\n"
        "p1,2024-03-01T10:00:00Z,ann,post,3,http://x,Hello,\n"
    )
    assert ev.read_events(path).columns == list(ev.SCHEMA)


def test_a_key_or_parquet_column_named_nearly_like_a_canonical_one_is_refused(tmp_path):
    """NDJSON keys (polars' reading and json's) and Parquet columns, as CSV headers."""
    polars_read = tmp_path / "a.ndjson"
    polars_read.write_text(
        '{"event_id": "p1", "timestamp": "2024-03-01T10:00:00Z", "actor_id": "ann", '
        '"action": "post", "mention": ["bob"]}\n'
    )
    json_read = tmp_path / "b.ndjson"  # a line of the wrong type: every line read with json
    json_read.write_text(
        polars_read.read_text()
        + '{"event_id": {"x": 1}, "timestamp": "2024-03-01T10:00:00Z", "actor_id": "bob", '
        '"action": "post"}\n'
    )
    parquet = tmp_path / "c.parquet"
    pl.DataFrame(
        {"event_id": ["p1"], "timestamp": ["2024-03-01T10:00:00Z"], "actor_id": ["ann"],
         "action": ["post"], "Mentions": [["bob"]]}
    ).write_parquet(parquet)  # fmt: skip
    said = "is not read: did you mean 'mentions'? (rename it, or remove it)"
    for path, first in [(polars_read, "key 'mention'"), (json_read, "key 'mention'"),
                        (parquet, "column 'Mentions'")]:  # fmt: skip
        with pytest.raises(ev.EventsError) as caught:
            ev.read_events(path)
        assert str(caught.value.problems[0]) == f"{path}: {first} {said}"


@pytest.mark.parametrize(
    ("action", "hint"),
    [
        ("Post", ": in lower case"),
        ("retweet", ": a retweet is a share"),
        (" Like ", ": a like is a reaction"),
        ("comment", ": a comment is a reply"),
        ("zap", ""),
    ],
)
def test_an_unknown_action_says_what_it_likely_is(write_csv, action, hint):
    with pytest.raises(ev.EventsError) as caught:
        ev.read_events(write_csv([f"p1,2024-03-01T10:00:00Z,ann,{action},,,"]))
    expected = "(expected one of post, reply, share, reaction" + hint + ")"
    assert str(caught.value.problems[0]).endswith(expected)


def test_a_parquet_file_polars_panics_on_is_one_error(tmp_path, monkeypatch):
    """A polars panic (a BaseException, not an Exception) on a damaged file names the file."""
    path = tmp_path / "events.parquet"
    ev.write_events(ev.empty_events(), path)

    def panics(*args, **kwargs):
        raise pl.exceptions.PanicException("index out of bounds\nat src/parquet.rs")

    monkeypatch.setattr(pl, "scan_parquet", panics)
    with pytest.raises(ev.EventsError) as caught:
        ev.read_events(path)
    assert str(caught.value) == f"{path}: not a readable Parquet file (index out of bounds)"
