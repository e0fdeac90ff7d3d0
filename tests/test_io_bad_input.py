"""Bad input in every format: nothing lost, nothing leaked, no traceback (issue 10, readers).

Each of the eight formats gets the same small export built from good and bad
records; the tests check what the readers promise for all of them: a strict read
names ``FILE:LINE`` of the first bad record, a lenient one quarantines each bad
record exactly once, verbatim, and ``records_read == records_loaded + skipped``;
a byte-order mark and Windows line ends change nothing; a record over the size
limit is a bad record, never read whole.
"""

from __future__ import annotations

import bz2
import gzip
import io as io_bytes
import json
import lzma
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tests.conftest import consistent
from tribe_analysis import _textscan, io
from tribe_analysis import events as ev
from tribe_analysis.cli import main
from tribe_analysis.errors import RecordError
from tribe_analysis.io import _base, mbox, stackexchange, twitter

BOM = b"\xef\xbb\xbf"
SEP = "From MAILER-DAEMON Mon Jan  1 00:00:00 2024"
XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


@dataclass(frozen=True)
class Export:
    """A written export: what to read, the file holding the records, and each record's line."""

    path: Path
    source: Path
    lines: list[int]
    texts: list[str]


def _good(fmt: str, i: int) -> str:
    """Record ``i`` of a format, well formed (ids: see :func:`_event_id`)."""
    if fmt == "events":
        return f"e{i},2024-01-01T00:{i:02d}:00Z,u{i % 3},post,,,text {i}"
    if fmt == "twitter":
        return json.dumps(
            {
                "id_str": str(100 + i),
                "created_at": f"Wed Oct 22 13:{i:02d}:55 +0000 2014",
                "user": {"id_str": "7", "screen_name": "ann"},
                "text": f"tweet {i}",
            }
        )
    if fmt == "reddit":
        return json.dumps(
            {"name": f"t3_{i}", "author": "op", "created_utc": 1500000000 + i, "title": f"T{i}"}
        )
    if fmt == "mastodon":
        return json.dumps(
            {
                "id": str(i + 1),
                "created_at": f"2024-01-01T00:{i:02d}:00Z",
                "account": {"id": "1", "acct": "ann"},
                "content": f"<p>toot {i}</p>",
            }
        )
    if fmt == "bluesky":
        return json.dumps(
            {
                "uri": f"at://did:plc:ann/app.bsky.feed.post/{i}",
                "value": {
                    "$type": "app.bsky.feed.post",
                    "text": f"post {i}",
                    "createdAt": f"2024-05-01T10:{i:02d}:00Z",
                },
            }
        )
    if fmt == "stackexchange":
        return (
            f'<row Id="{i + 1}" PostTypeId="1" CreationDate="2020-01-01T10:{i:02d}:00.000" '
            f'OwnerUserId="7" Title="Q{i}" Body="why {i}" />'
        )
    if fmt == "mbox":
        return (
            f"From: Ann <ann@example.org>\nDate: Mon, 1 Jan 2024 10:{i:02d}:00 +0000\n"
            f"Subject: Topic {i}\nMessage-ID: <m{i}@x>\n\nhello {i}\n"
        )
    return json.dumps({"ts": f"17000000{i:02d}.000100", "user": "U1", "text": f"message {i}"})


def _bad(fmt: str, i: int) -> tuple[str, str]:
    """Record ``i`` of a format, malformed, and the start of the reason given for it."""
    if fmt == "events":
        return f"e{i},2024-01-01T00:{i:02d}:00Z,u1,like,,,x", "unknown action 'like'"
    if fmt == "twitter":
        tweet = json.loads(_good(fmt, i)) | {"user": "7"}
        return json.dumps(tweet), "user must be an object, got string"
    if fmt == "reddit":
        return json.dumps(json.loads(_good(fmt, i)) | {"author": 5}), "author must be a user name"
    if fmt == "mastodon":
        return json.dumps(json.loads(_good(fmt, i)) | {"content": 5}), "content must be a string"
    if fmt == "bluesky":
        record = json.loads(_good(fmt, i))
        del record["value"]["createdAt"]
        return json.dumps(record), "missing createdAt"
    if fmt == "stackexchange":
        return _good(fmt, i).replace(' PostTypeId="1"', ""), "missing PostTypeId"
    if fmt == "mbox":
        return _good(fmt, i).replace(f"Message-ID: <m{i}@x>\n", ""), "missing Message-ID header"
    return json.dumps(json.loads(_good(fmt, i)) | {"user": 5}), "user must be a string"


def _event_id(fmt: str, i: int) -> str:
    return {
        "events": f"e{i}",
        "twitter": str(100 + i),
        "reddit": f"t3_{i}",
        "mastodon": str(i + 1),
        "bluesky": f"at://did:plc:ann/app.bsky.feed.post/{i}",
        "stackexchange": f"post:{i + 1}",
        "mbox": f"m{i}@x",
        "slack": f"C1:17000000{i:02d}.000100",
    }[fmt]


def write_export(fmt: str, folder: Path, records: list[str]) -> Export:
    """Write ``records`` (texts from :func:`_good`/:func:`_bad`) as an export of ``fmt``."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "events":
        header = "event_id,timestamp,actor_id,action,parent_id,mentions,text\n"
        head, sep, tail, name = header, "\n", "\n", "events.csv"
    elif fmt == "stackexchange":
        head, sep, tail, name = XML_HEAD + "<posts>\n", "\n", "\n</posts>\n", "Posts.xml"
        (folder / "Comments.xml").write_text(XML_HEAD + "<comments>\n</comments>\n")
    elif fmt == "mbox":
        head, sep, tail, name = f"{SEP}\n", f"\n{SEP}\n", "\n", "list.mbox"
    elif fmt == "slack":
        (folder / "users.json").write_text(json.dumps([{"id": "U1", "name": "ann"}]))
        (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
        (folder / "general").mkdir(exist_ok=True)
        head, sep, tail, name = "[\n", ",\n", "\n]\n", "general/2023-11-14.json"
    else:
        head, sep, tail, name = "", "\n", "\n", "export.jsonl"
    source = folder / name
    lines, line = [], head.count("\n") + 1
    for text in records:
        lines.append(line - (1 if fmt == "mbox" else 0))  # mbox: the From line
        line += text.count("\n") + sep.count("\n")
    source.write_text(head + sep.join(records) + tail, encoding="utf-8")
    path = folder if fmt in ("stackexchange", "slack") else source
    return Export(path, source, lines, records)


def _bom_crlf(export: Export) -> None:
    """Give every text file of an export a byte-order mark and Windows line ends."""
    files = [export.path] if export.path.is_file() else sorted(export.path.rglob("*.*"))
    for file in files:
        data = file.read_bytes()
        file.write_bytes(BOM + data.replace(b"\n", b"\r\n"))


FORMATS = list(io.FORMATS)


# --------------------------------------------------------------------------- every format


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_bad_record_is_quarantined_once_verbatim(fmt, tmp_path):
    kinds = ["good", "bad", "good", "bad", "good"]
    made = [_good(fmt, i) if k == "good" else _bad(fmt, i)[0] for i, k in enumerate(kinds)]
    export = write_export(fmt, tmp_path / "x", made)
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(export.path, format=fmt)
    first = excinfo.value.problems[0]
    assert (first.source, first.line) == (str(export.source), export.lines[1])
    assert first.reason.startswith(_bad(fmt, 1)[1])
    result = io.read(export.path, format=fmt, on_error="skip")
    consistent(result)
    assert (result.records_read, result.records_loaded) == (5, 3)
    skipped = {(s.source, s.line): s for s in result.skipped}
    assert len(skipped) == len(result.skipped) == 2  # each bad record once
    for i in (1, 3):
        item = skipped[(str(export.source), export.lines[i])]
        assert item.reason.startswith(_bad(fmt, i)[1])
        assert item.record.rstrip("\n") == made[i].rstrip("\n")  # verbatim
    assert set(result.events["event_id"]) == {_event_id(fmt, i) for i in (0, 2, 4)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_byte_order_mark_and_windows_line_ends_change_nothing(fmt, tmp_path):
    made = [_good(fmt, 0), _bad(fmt, 1)[0], _good(fmt, 2), _good(fmt, 3)]
    plain = write_export(fmt, tmp_path / "plain", made)
    windows = write_export(fmt, tmp_path / "windows", made)
    _bom_crlf(windows)
    assert io.detect(windows.path) == io.detect(plain.path) == fmt
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(windows.path)
    assert str(excinfo.value.problems[0]).startswith(f"{windows.source}:{windows.lines[1]}: ")
    want, got = (io.read(e.path, on_error="skip") for e in (plain, windows))
    consistent(got)
    assert got.events.drop("platform").equals(want.events.drop("platform"))
    assert [(s.line, s.reason) for s in got.skipped] == [(s.line, s.reason) for s in want.skipped]
    assert [s.record.replace("\r\n", "\n") for s in got.skipped] == [s.record for s in want.skipped]
    text = got.events.select(pl.col(pl.String)).unpivot().get_column("value").drop_nulls()
    assert not text.str.contains("\r").any()
    assert not text.str.contains("\ufeff").any()


def test_windows_line_breaks_inside_a_quoted_csv_field_are_line_breaks(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(
        BOM + b"event_id,timestamp,actor_id,action,text\r\n"
        b'a,2024-01-01T00:00:00Z,u,post,"two\r\nlines"\r\n'
        b"b,2024-01-01T00:01:00Z,u,post,x\r\n"
    )
    events = ev.read_events(path)
    assert events["text"].to_list() == ["two\nlines", "x"]


# --------------------------------------------------------------------------- record size


@pytest.fixture
def small_records(monkeypatch):
    """Records of at most 2 KiB (kept: 100 bytes) in every reader, so tests stay small."""
    for module in (_textscan, _base, twitter, mbox, stackexchange):
        if hasattr(module, "MAX_RECORD_BYTES"):
            monkeypatch.setattr(module, "MAX_RECORD_BYTES", 2048)
    monkeypatch.setattr(_textscan, "KEPT_BYTES", 100)
    monkeypatch.setattr(_base, "KEPT_BYTES", 100)
    return 2048


PAYLOAD = {
    "events": "text {i}",
    "twitter": "tweet {i}",
    "reddit": '"T{i}"',
    "mastodon": "toot {i}",
    "bluesky": "post {i}",
    "stackexchange": "why {i}",
    "mbox": "hello {i}",
    "slack": "message {i}",
}
"""The text of each format's good record, replaced to make it long."""


def _long(fmt: str, i: int) -> str:
    """Record ``i`` with 5,000 bytes of text (over the small limit; short lines in an e-mail)."""
    filler = "\n".join(["x" * 99] * 50) if fmt == "mbox" else "x" * 5000
    payload = PAYLOAD[fmt].format(i=i)
    return _good(fmt, i).replace(payload, f'"{filler}"' if payload[0] == '"' else filler, 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_record_over_the_size_limit_is_one_bad_record(fmt, tmp_path, small_records):
    made = [_good(fmt, 0), _long(fmt, 1), _good(fmt, 2)]
    export = write_export(fmt, tmp_path / "x", made)
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(export.path, format=fmt)
    first = excinfo.value.problems[0]
    assert (first.source, first.line) == (str(export.source), export.lines[1])
    assert first.reason.startswith("record too long (")
    result = io.read(export.path, format=fmt, on_error="skip")
    consistent(result)
    [item] = result.skipped
    assert item.line == export.lines[1]
    assert item.reason.startswith("record too long (")
    assert "[... truncated:" in item.record and len(item.record) < 300
    if fmt != "slack":  # a JSON array cannot resume after an element it did not read
        assert set(result.events["event_id"]) == {_event_id(fmt, 0), _event_id(fmt, 2)}


@pytest.mark.parametrize("fmt", ["events", "mastodon", "twitter", "bluesky", "mbox"])
def test_one_giant_line_fails_fast_and_bounded(fmt, tmp_path):
    path = tmp_path / ("giant.ndjson" if fmt != "mbox" else "giant.mbox")
    head = f"{SEP}\n".encode() if fmt == "mbox" else b'{"text": "'
    with path.open("wb") as fh:
        fh.write(head)
        for _ in range(18):
            fh.write(b"x" * 2**20)
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(path, format=fmt)
    assert "record too long (" in str(excinfo.value)
    result = io.read(path, format=fmt, on_error="skip")
    consistent(result)
    assert len(result.skipped[0].record) < _textscan.KEPT_BYTES + 200


@pytest.mark.parametrize("fmt", ["auto", "twitter", "reddit", "mastodon", "bluesky", "mbox"])
@pytest.mark.parametrize("on_error", ["strict", "skip"])
def test_dev_zero_is_refused_at_once(fmt, on_error):
    result = CliRunner().invoke(
        main, ["validate", "--format", fmt, "--on-error", on_error, "/dev/zero"]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: /dev/zero: binary data, not text (a NUL byte at byte 1)"
    )
    assert "Traceback" not in result.output


def _zipped(data: bytes) -> bytes:
    buffer = io_bytes.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tweets.jsonl", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("pack", "said"),
    [
        (gzip.compress, "compressed (gzip), not text: decompress it first (gunzip)"),
        (bz2.compress, "compressed (bzip2), not text: decompress it first (bunzip2)"),
        (lzma.compress, "compressed (xz), not text: decompress it first (unxz)"),
        (_zipped, "compressed (a zip archive), not text: decompress it first (unzip)"),
    ],
)
@pytest.mark.parametrize("fmt", ["auto", "twitter", "reddit", "mbox"])
def test_a_compressed_export_is_named_so(tmp_path, pack, said, fmt):
    """twarc and Pushshift dumps come compressed: say so, not 'a NUL byte at byte 9'."""
    path = tmp_path / "tweets.jsonl.gz"
    path.write_bytes(pack((_good("twitter", 0) + "\n").encode()))
    result = CliRunner().invoke(main, ["validate", "--format", fmt, str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"error: {path}: {said}"


def test_a_csv_whose_header_starts_like_bzip2_is_still_text(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("BZh,event_id\n")
    assert _textscan.head_problem(path.read_bytes()) is None


def test_utf16_file_is_named(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(_good("reddit", 0).encode("utf-16"))
    with pytest.raises(ev.EventsError, match="UTF-16 text"):
        io.read(path, format="reddit", on_error="skip")


# --------------------------------------------------------------------------- derived problems


def _reply(fmt: str, i: int, parent: int) -> str:
    if fmt == "twitter":
        tweet = json.loads(_good(fmt, i)) | {"in_reply_to_status_id_str": str(100 + parent)}
        return json.dumps(tweet)
    comment = {
        "name": f"t1_{i}",
        "author": "bob",
        "created_utc": 1500000000 + i,
        "parent_id": f"t1_{parent}",
        "link_id": "t3_0",
        "body": "yes",
    }
    return json.dumps(comment)


@pytest.mark.parametrize("fmt", ["twitter", "reddit"])
def test_reply_cycle_is_located_and_quarantined(fmt, tmp_path):
    # records 1 and 2 reply to each other; 3 replies into the cycle
    made = [_good(fmt, 0), _reply(fmt, 1, 2), _reply(fmt, 2, 1), _reply(fmt, 3, 2), _good(fmt, 4)]
    export = write_export(fmt, tmp_path / "x", made)
    reply_ids = [str(100 + i) if fmt == "twitter" else f"t1_{i}" for i in (1, 2, 3)]
    ids = [_event_id(fmt, 0), *reply_ids, _event_id(fmt, 4)]
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(export.path)
    shown = [str(p) for p in excinfo.value.problems]
    assert shown[0] == (
        f"{export.source}:2: parent_id chain forms a cycle (event '{ids[1]}' -> parent '{ids[2]}')"
    )
    assert "<frame>" not in str(excinfo.value)
    result = io.read(export.path, on_error="skip")
    consistent(result)
    assert [(s.line, s.reason.split(" (")[0]) for s in result.skipped] == [
        (2, "parent_id chain forms a cycle"),
        (3, "parent_id chain forms a cycle"),
    ]
    assert [s.record for s in result.skipped] == made[1:3]
    # the reply into the cycle loads, as a reply whose parent is not in the data
    got = {r["event_id"]: r for r in result.events.iter_rows(named=True)}
    assert set(got) == {ids[0], ids[3], ids[4]}
    assert got[ids[3]]["parent_id"] == ids[2]


def test_duplicate_ids_name_the_first_occurrence(tmp_path):
    a = write_export("reddit", tmp_path / "a", [_good("reddit", 0), _good("reddit", 1)])
    b = write_export("reddit", tmp_path / "b", [_good("reddit", 2), _good("reddit", 1)])
    for mode in ("strict", "skip"):
        result = io.read([a.path, b.path], format="reddit", on_error=mode)
        consistent(result)
        [dup] = result.skipped
        assert (dup.source, dup.line) == (str(b.source), 2)
        assert dup.reason == f"duplicate id 't3_1' (kept once; first at {a.source}:2)"


# --------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    ("fmt", "change", "reason"),
    [
        ("twitter", {"text": 5}, "text must be a string, got number"),
        ("twitter", {"id_str": {"a": 1}}, "id_str must be a string id, got object"),
        ("reddit", {"title": ["a"]}, "title must be a string, got array"),
        ("mastodon", {"id": [1]}, "id must be a string id, got array"),
        ("bluesky", {"uri": 5}, "uri must be a string, got int"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_bad_record(fmt, change, reason, tmp_path):
    bad = json.dumps(json.loads(_good(fmt, 1)) | change)
    export = write_export(fmt, tmp_path / "x", [_good(fmt, 0), bad, _good(fmt, 2)])
    with pytest.raises(ev.EventsError) as excinfo:
        io.read(export.path, format=fmt)
    assert str(excinfo.value).startswith(f"{export.source}:2: {reason}")
    result = io.read(export.path, format=fmt, on_error="skip")
    consistent(result)
    assert [s.record for s in result.skipped] == [bad]
    assert result.events.schema == ev.SCHEMA


def test_bluesky_flat_text_of_the_wrong_type_is_a_bad_record(tmp_path):
    rows = [
        {"uri": "at://did:plc:a/app.bsky.feed.post/1", "created_at": "2024-01-01T00:00:00Z",
         "is_reply": False, "text": "fine"},
        {"uri": "at://did:plc:a/app.bsky.feed.post/2", "created_at": "2024-01-01T00:00:00Z",
         "is_reply": False, "text": 5},
    ]  # fmt: skip
    path = tmp_path / "flat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = io.read(path, format="bluesky", on_error="skip")
    assert [(s.line, s.reason) for s in result.skipped] == [(2, "text must be a string, got int")]


@pytest.mark.parametrize("index", [True, False])
def test_a_dataset_folder_with_its_exports_in_a_subfolder_names_the_subfolder(tmp_path, index):
    """As the r/ChangeMyView sample is laid out: an index file beside ``branches/``."""
    dataset = tmp_path / "cmv"
    write_export("reddit", dataset / "branches", [_good("reddit", i) for i in range(3)])
    if index:
        (dataset / "branch_index.csv").write_text("file,n_items\nexport.json,3\n")
    (dataset / "PROVENANCE.md").write_text("notes\n")
    with pytest.raises(ev.EventsError) as caught:
        io.read(dataset)
    message = str(caught.value)
    assert message.count("\n") == 0 and "its subfolders (branches/) are not read" in message
    assert str(dataset / "branches") in message
    assert ("its one file is not an export" if index else "it has no files") in message
    result = CliRunner().invoke(main, ["validate", str(dataset)])
    assert result.exit_code == 2 and "branches" in result.output
    assert io.read(dataset / "branches").records_loaded == 3  # the folder the error names


def test_a_folder_with_an_export_file_and_subfolders_reads_the_file(tmp_path):
    export = write_export("reddit", tmp_path / "data", [_good("reddit", i) for i in range(2)])
    (tmp_path / "data" / "old").mkdir()
    assert io.read(tmp_path / "data").records_loaded == 2
    assert export.path.parent == tmp_path / "data"


def test_a_dataset_folder_with_other_files_lists_them_by_format(tmp_path):
    """As PHEME's folder holds its tweets beside stance labels and an index."""
    write_export("twitter", tmp_path, [_good("twitter", i) for i in range(2)])
    (tmp_path / "stance_labels.json").write_text(json.dumps({"100": "support"}))
    (tmp_path / "tweet_index.csv").write_text("tweet_id,thread\n100,1\n")
    with pytest.raises(ev.EventsError) as caught:
        io.read(tmp_path)
    (problem,) = caught.value.problems
    assert problem.source == str(tmp_path) and problem.line is None
    assert problem.reason == (
        "only some of its files are a twitter export (twitter: export.jsonl; not recognised: "
        "stance_labels.json, tweet_index.csv): name the export's files"
    )
    write_export("mbox", tmp_path, [_good("mbox", 0)])
    with pytest.raises(ev.EventsError, match=r"different formats \(mbox: list.mbox; twitter"):
        io.read(tmp_path)
    assert io.read(tmp_path / "export.jsonl").records_loaded == 2


def test_a_folder_of_unrecognised_files_gets_the_first_ones_reason(tmp_path):
    (tmp_path / "a.csv").write_text("event_id,timestamp,actor\ne1,2024-01-01T00:00:00Z,ann\n")
    with pytest.raises(ev.EventsError, match=r"a.csv:1: column 'actor' is not read: did you mean"):
        io.read(tmp_path)


def test_an_input_named_twice_is_one_error(tmp_path):
    """Read twice, each record would be reported as a duplicate of itself."""
    export = write_export("reddit", tmp_path / "data", [_good("reddit", i) for i in range(3)])
    (tmp_path / "link.jsonl").symlink_to(export.path)
    for twice in (
        [export.path, export.path],
        [export.path, tmp_path / "link.jsonl"],
        [tmp_path / "data", export.path],
    ):
        with pytest.raises(ev.EventsError) as caught:
            io.read(twice)
        (problem,) = caught.value.problems
        assert problem.reason.startswith("named twice (also as ") and problem.line is None
    result = CliRunner().invoke(main, ["validate", str(export.path), str(export.path)])
    assert result.exit_code == 2 and result.output.count("error:") == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("on_error", ["strict", "skip"])
def test_carriage_return_line_breaks_are_named(fmt, on_error, tmp_path):
    """A text file saved with classic Mac OS line breaks: one reason for the whole file
    (CSV said 'no events (the input has no rows)', JSON lines 'invalid JSON')."""
    export = write_export(fmt, tmp_path / "x", [_good(fmt, i) for i in range(3)])
    export.source.write_bytes(export.source.read_bytes().replace(b"\n", b"\r"))
    with pytest.raises(ev.EventsError) as caught:
        io.read(export.path, format=fmt, on_error=on_error)
    (problem,) = caught.value.problems
    assert problem.source == str(export.source) and problem.line is None
    assert problem.reason.startswith("line breaks are carriage returns only")


@pytest.mark.parametrize("mentions", [["m1", ""], ["  "], ["\t", "m2"]])
def test_reader_rows_with_an_empty_mention_are_bad(mentions):
    """Every platform reader's rows pass one check: an empty mention names no one."""
    row = {
        "event_id": "e1",
        "timestamp": datetime(2024, 1, 1, tzinfo=UTC),
        "actor_id": "a",
        "action": "post",
        "mentions": mentions,
    }
    with pytest.raises(RecordError, match=r"^empty mention \(a mention names an account\)$"):
        _base._checked(row)
    assert _base._checked(row | {"mentions": ["m1"]})["mentions"] == ["m1"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_repeated_record_is_quarantined_verbatim(fmt, tmp_path):
    # the readers hold a loaded record's place, not its text: the text comes back from the file
    a = write_export(fmt, tmp_path / "a", [_good(fmt, 0), _good(fmt, 1)])
    b = write_export(fmt, tmp_path / "b", [_good(fmt, 2), _good(fmt, 1)])
    result = io.read([a.path, b.path], format=fmt, on_error="skip")
    consistent(result)
    [dup] = result.skipped
    assert (dup.source, dup.line, dup.record) == (str(b.source), b.lines[1], b.texts[1])
