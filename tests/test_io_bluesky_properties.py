"""Property tests of the Bluesky reader (:mod:`tribe_analysis.io.bluesky`).

For generated AT Protocol records, post views, feed items, Jetstream events and
flat post-table rows, mixed with ignored kinds (follows, deletions, identity
events) and bad records:

- every record is loaded as one event or reported: a strict read stops at the
  first bad record's line, a lenient one quarantines each bad record once with its
  line and verbatim text; ignored kinds are not counted, ``records_read ==
  records_loaded + len(skipped)``, and nothing but ``EventsError`` is raised;
- every account id in the events (actor, target, mentions) is a DID, never a handle;
- any AT Protocol datetime (``Z`` or an offset, 0 to 9 fractional digits) gives its
  UTC instant; one outside the years 1-9999 once in UTC is a bad record;
- a reply follows ``reply.parent``/``reply.root``, a like or repost its subject;
- the same flat table as JSON lines, CSV and Parquet gives the same events, and so
  do any order of the records, a byte-order mark and Windows line ends;
- ``handle.invalid`` and empty handles are never names;
- a damaged Parquet file is one whole-file ``EventsError``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tests.conftest import consistent, real_data_dir
from tribe_analysis import events as ev
from tribe_analysis.io import bluesky as bs
from tribe_analysis.io._base import ReadResult

SETTINGS = hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
DIDS = ["did:plc:ann", "did:plc:bob", "did:web:cid.example"]
HANDLES = ["ann.test", "bob.bsky.social", "@cid.example"]
WHEN = "2024-05-01T10:00:00.000Z"
MENTION = "app.bsky.richtext.facet#mention"


def _uri(did: str, i: int, collection: str = "app.bsky.feed.post") -> str:
    return f"at://{did}/{collection}/r{i}"


def _outside(i: int) -> str:
    """A post not in the input (parents and subjects; no cycles)."""
    return f"at://{DIDS[i % 3]}/app.bsky.feed.post/outside{i}"


def _post(i: int, **more: object) -> dict:
    facets = [{"index": {"byteStart": 0, "byteEnd": 4}, "features": [{"$type": MENTION, "did": d}]}
              for d in (DIDS[i % 3], DIDS[(i + 1) % 3], DIDS[i % 3])]  # fmt: skip
    return {"$type": bs.POST, "text": f"post {i} 😀", "createdAt": WHEN, "facets": facets} | more


def _record(i: int, value: dict, collection: str = "app.bsky.feed.post") -> dict:
    return {"uri": _uri(DIDS[i % 3], i, collection), "cid": "bafy", "value": value}


def _reply(i: int) -> dict:
    reply = {"parent": {"uri": _outside(i)}, "root": {"uri": _outside(i + 1)}}
    return _record(i, _post(i, reply=reply))


def _subject(kind: str) -> Callable[[int], dict]:
    def make(i: int) -> dict:
        value = {"$type": kind, "subject": {"uri": _outside(i)}, "createdAt": WHEN}
        return _record(i, value, kind)

    return make


def _view(i: int, author: str | None = None) -> dict:
    author_did = author or DIDS[i % 3]
    return {"uri": _uri(DIDS[i % 3], i), "author": {"did": author_did}, "record": _post(i)}


def _feed_reply(i: int) -> dict:
    """A feed item whose reply context names the parent's author by handle only."""
    reply = {"parent": {"uri": _outside(i)}, "root": {"uri": _outside(i)}}
    post = {"uri": _uri(DIDS[i % 3], i), "author": {"did": DIDS[i % 3]}}
    context = {"parent": {"uri": _outside(i), "author": {"did": HANDLES[i % 3]}}}
    return {"post": post | {"record": _post(i, reply=reply)}, "reply": context}


def _feed_repost(i: int) -> dict:
    """A repost in a feed whose post's author is given by handle only."""
    post = {"uri": _outside(i), "author": {"did": HANDLES[i % 3]}, "record": _post(i)}
    reason = {"$type": "app.bsky.feed.defs#reasonRepost", "by": {"did": DIDS[(i + 1) % 3]},
              "uri": _uri(DIDS[(i + 1) % 3], i, bs.REPOST), "indexedAt": WHEN}  # fmt: skip
    return {"post": post, "reason": reason}


def _jetstream(i: int, **commit: object) -> dict:
    base = {"operation": "create", "collection": bs.LIKE, "rkey": f"r{i}",
            "record": {"subject": {"uri": _outside(i)}, "createdAt": WHEN}}  # fmt: skip
    return {"did": DIDS[i % 3], "kind": "commit", "commit": base | commit}


def _flat(i: int, **more: object) -> dict:
    return {"uri": _uri(DIDS[i % 3], i), "created_at": WHEN, "is_reply": bool(i % 2),
            "text": f"flat {i}", "mentions": [DIDS[(i + 2) % 3]]} | more  # fmt: skip


def _event_id(i: int, line: dict) -> str:
    if "reason" in line:
        return line["reason"]["uri"]
    if line.get("kind") == "commit":
        return _uri(line["did"], i, line["commit"]["collection"])
    return (line.get("post") or line)["uri"]


GOOD: dict[str, Callable[[int], dict]] = {
    "post": lambda i: _record(i, _post(i)),
    "reply": _reply,
    "quote": lambda i: _record(
        i, _post(i, embed={"$type": "app.bsky.embed.record", "record": {"uri": _outside(i)}})
    ),
    "like": _subject(bs.LIKE),
    "repost": _subject(bs.REPOST),
    "view": _view,
    "feed reply": _feed_reply,
    "feed repost": _feed_repost,
    "jetstream like": _jetstream,
    "flat": _flat,
}
IGNORED: dict[str, Callable[[int], dict]] = {
    "follow": lambda i: _record(
        i, {"$type": "app.bsky.graph.follow", "subject": DIDS[0], "createdAt": WHEN}
    ),
    "jetstream delete": lambda i: _jetstream(i, operation="delete", record=None),
    "identity": lambda i: {"did": DIDS[i % 3], "kind": "identity", "identity": {"handle": "x"}},
}
BAD: dict[str, Callable[[int], object]] = {
    "invalid JSON": lambda i: json.dumps(_record(i, _post(i)))[:-7],
    "not an object": lambda i: [i],
    "no zone": lambda i: _record(i, _post(i, createdAt="2024-05-01T10:00:00")),
    "before year 1 in UTC": lambda i: _record(i, _post(i, createdAt="0001-01-01T00:30:00+01:00")),
    "after 9999 in UTC": lambda i: _flat(i, created_at="9999-12-31T23:59:59.999-00:01"),
    "handle authority": lambda i: _record(i, _post(i)) | {"uri": f"at://ann.test/x/{i}"},
    "like without subject": lambda i: _record(i, {"$type": bs.LIKE, "createdAt": WHEN}, bs.LIKE),
    "mention by handle": lambda i: _record(
        i, _post(i, facets=[{"features": [{"$type": MENTION, "did": "ann.test"}]}])
    ),
    "flat mention by handle": lambda i: _flat(i, mentions=[DIDS[0], "@bob.bsky.social"]),
    "view author by handle": lambda i: _view(i, author=HANDLES[0]),
    "jetstream commit not an object": lambda i: {"did": DIDS[0], "kind": "commit", "commit": i},
    "jetstream commit without collection": lambda i: _jetstream(i, collection=None),
}
KINDS = [*GOOD, *GOOD, "blank", *IGNORED, *BAD]


def _line(kind: str, i: int) -> str:
    if kind == "blank":
        return "  "
    make = GOOD.get(kind) or IGNORED.get(kind) or BAD[kind]
    value = make(i)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _write(folder: Path, name: str, texts: list[str], *, bom: bool = False, crlf: bool = False):
    data = "".join(f"{t}\n" for t in texts).encode()
    path = folder / name
    path.write_bytes(
        (b"\xef\xbb\xbf" if bom else b"") + (data.replace(b"\n", b"\r\n") if crlf else data)
    )
    return path


def _frame(result: ReadResult) -> pl.DataFrame:
    """The events of a read (always a DataFrame here: nothing is spilled)."""
    assert isinstance(result.events, pl.DataFrame)
    return result.events


def _only_dids(events: pl.DataFrame) -> None:
    """Every account id in the events is a DID (handles are names, never ids)."""
    for name in ("actor_id", "target_actor_id"):
        ids = events[name].drop_nulls().to_list()
        assert all(i.startswith("did:") for i in ids), (name, ids)
    mentioned = events["mentions"].explode().drop_nulls().to_list()
    assert all(m.startswith("did:") for m in mentioned), mentioned


@SETTINGS
@hypothesis.given(
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=14), st.booleans(), st.booleans()
)
def test_every_record_is_loaded_once_or_reported(kinds: list[str], bom: bool, crlf: bool):
    texts = [_line(kind, i) for i, kind in enumerate(kinds)]
    bad = [i for i, kind in enumerate(kinds) if kind in BAD]
    good = [i for i, kind in enumerate(kinds) if kind in GOOD]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "mix.jsonl", texts, bom=bom, crlf=crlf)
        if not bad and not good:
            with pytest.raises(ev.EventsError, match="no bluesky records found"):
                bs.read([path])
            return
        try:
            strict = bs.read([path])
        except ev.EventsError as exc:
            assert bad, f"a good file was refused: {exc}"
            [problem] = exc.problems
            assert (problem.source, problem.line) == (str(path), bad[0] + 1)
            assert "\n" not in str(problem)
        else:
            assert not bad
            consistent(strict)
        result = bs.read([path], on_error="skip")
        backwards = _write(Path(folder), "back.jsonl", texts[::-1], bom=bom, crlf=crlf)
        assert _frame(bs.read([backwards], on_error="skip")).equals(_frame(result))
    consistent(result)
    assert (
        result.records_read == len(good) + len(bad) == result.records_loaded + len(result.skipped)
    )
    assert sorted((s.line, s.record) for s in result.skipped) == [(i + 1, texts[i]) for i in bad]
    want = sorted(_event_id(i, json.loads(texts[i])) for i in good)
    assert sorted(_frame(result)["event_id"]) == want
    _only_dids(_frame(result))


# --------------------------------------------------------------------------- timestamps

OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59)


def _stamp(when: datetime, offset: int, digits: str, zulu: bool) -> str:
    """``when`` (naive, local to ``offset`` minutes) written as an AT Protocol datetime."""
    sign, minutes = "-" if offset < 0 else "+", abs(offset)
    zone = "Z" if zulu and offset == 0 else f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return when.isoformat() + (f".{digits}" if digits else "") + zone


@SETTINGS
@hypothesis.given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))
    | st.sampled_from([datetime(1, 1, 1, 0, 30), datetime(9999, 12, 31, 23, 30)]),  # the ends
    OFFSETS | st.just(0),
    st.text("0123456789", max_size=9),
    st.booleans(),
)
def test_any_atproto_datetime_is_its_instant_or_reported(when, offset, digits, zulu):
    when = when.replace(microsecond=0)
    text = _stamp(when, offset, digits, zulu)
    micro = int(digits[:6].ljust(6, "0")) if digits else 0
    try:
        want: datetime | None = (when - timedelta(minutes=offset)).replace(
            tzinfo=UTC, microsecond=micro
        )
    except OverflowError:
        want = None
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "t.jsonl", [json.dumps(_record(0, _post(0, createdAt=text)))])
        if want is None:
            with pytest.raises(ev.EventsError) as excinfo:
                bs.read([path])
            assert (
                str(excinfo.value)
                == f"{path}:1: createdAt out of range '{text}' (years 1 to 9999 in UTC)"
            )
            assert len(bs.read([path], on_error="skip").skipped) == 1
            return
        events = _frame(bs.read([path]))
    assert events["timestamp"].to_list() == [want]


# --------------------------------------------------------------------------- structure


@SETTINGS
@hypothesis.given(st.lists(st.sampled_from(["reply", "like", "repost", "quote"]), min_size=1))
def test_replies_follow_parent_and_root_likes_and_reposts_their_subject(kinds: list[str]):
    objs = [GOOD[kind](i) for i, kind in enumerate(kinds)]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "r.jsonl", [json.dumps(o) for o in objs])
        got = {r["event_id"]: r for r in _frame(bs.read([path])).iter_rows(named=True)}
    for i, obj in enumerate(objs):
        row, value = got[obj["uri"]], obj["value"]
        reply = value.get("reply")
        subject = reply["parent"] if reply else value.get("subject") or value["embed"]["record"]
        assert row["parent_id"] == subject["uri"]
        assert row["target_actor_id"] == subject["uri"].split("/")[2]
        if reply:
            assert row["thread_id"] == reply["root"]["uri"]
        if "facets" in value:  # mention facets, each DID once, in order
            assert row["mentions"] == [DIDS[i % 3], DIDS[(i + 1) % 3]]


# --------------------------------------------------------------------------- flat tables

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\x00"), max_size=20)
FLAT_ROW = st.fixed_dictionaries(
    {
        "author": st.sampled_from([None, *DIDS]),
        "created_at": st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01T12:00:00.5+02:00"]),
        "is_reply": st.booleans(),
        "text": TEXT,
        "mentions": st.lists(st.sampled_from(DIDS), max_size=4),
    }
)


def _flat_rows(drawn: list[dict]) -> list[dict]:
    return [
        {"uri": _uri(DIDS[i % 3], i), "author_did": row["author"] or ""}
        | {k: row[k] for k in ("created_at", "is_reply", "text", "mentions")}
        for i, row in enumerate(drawn)
    ]


def _flat_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow(["|".join(v) if isinstance(v, list) else v for v in row.values()])
    return out.getvalue()


@SETTINGS
@hypothesis.given(st.lists(FLAT_ROW, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_a_flat_table_gives_the_same_events_in_every_format_and_order(drawn, rnd: random.Random):
    rows = _flat_rows(drawn)
    shuffled = rnd.sample(rows, len(rows))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        ndjson = _write(folder, "t.ndjson", [json.dumps(r) for r in rows])
        backwards = _write(
            folder, "s.ndjson", [json.dumps(r) for r in shuffled], bom=True, crlf=True
        )
        (folder / "t.csv").write_text(_flat_csv(rows), encoding="utf-8", newline="")
        pl.DataFrame(rows, schema_overrides={"mentions": pl.List(pl.String)}).write_parquet(
            folder / "t.parquet"
        )
        want = _frame(bs.read([ndjson]))
        for other in (backwards, folder / "t.csv", folder / "t.parquet"):
            result = bs.read([other])
            assert (result.records_read, result.skipped) == (len(rows), [])
            assert _frame(result).equals(want), other.name
    mentions = {r["uri"]: list(dict.fromkeys(r["mentions"])) for r in rows}
    assert dict(want.select("event_id", "mentions").iter_rows()) == mentions


# --------------------------------------------------------------------------- names

HANDLE = st.sampled_from(["handle.invalid", "@handle.invalid", " handle.invalid ", "@", " @ ",
                          "HANDLE.INVALID", "", "ann.test", "@ann.test "]) | TEXT  # fmt: skip


@SETTINGS
@hypothesis.given(st.lists(HANDLE, min_size=1, max_size=6))
def test_names_are_never_empty_nor_handle_invalid(handles: list[str]):
    rows = [_flat(i) | {"author_handle": h} for i, h in enumerate(handles)]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "n.jsonl", [json.dumps(r) for r in rows])
        names = bs.account_names(path)
        assert bs.read([path]).names == names
    for name in names.values():
        assert name and name == name.strip() and not name.startswith("@"), names
        assert name.lower() != bs.INVALID_HANDLE, names


# --------------------------------------------------------------------------- Parquet


@SETTINGS
@hypothesis.given(st.integers(4, 1 << 16), st.binary(min_size=1, max_size=8))
@hypothesis.example(237, b"\xb8\xe0")  # made polars panic while sniffing (polars 2.1)
@hypothesis.example(1820, b"\x8d")
def test_a_damaged_parquet_file_is_one_whole_file_error(start: int, noise: bytes):
    rows = [_flat(i) for i in range(6)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posts.parquet"
        pl.DataFrame(rows).write_parquet(path)
        damaged = bytearray(path.read_bytes())
        start = max(4, start % len(damaged))  # never the leading magic bytes
        damaged[start : start + len(noise)] = noise
        path.write_bytes(bytes(damaged))
        assert isinstance(bs.sniff(path), bool)  # sniffing never fails
        assert isinstance(bs.account_names(path), dict)  # nor does naming
        for mode in ("strict", "skip"):
            try:
                bs.read([path], on_error=mode)
            except ev.EventsError as exc:
                assert str(exc).startswith(f"{path}") and "\n" not in str(exc)


# --------------------------------------------------------------------------- the real export


@pytest.mark.real
def test_real_snowball_archive_as_csv_gives_the_same_events(tmp_path: Path):
    """p02 (the only table with mentions) as a CSV with '|'-joined DIDs: same events, all DIDs."""
    folder = real_data_dir("bluesky_nytimes_2026")
    ndjson = bs.read([folder / "p02_snowball_archive_posts.ndjson"])
    table = pl.read_ndjson(folder / "p02_snowball_archive_posts.ndjson")
    columns = ["uri", "author_did", "created_at", "is_reply", "text", "mentions"]
    flat = table.select(columns).with_columns(pl.col("mentions").list.join("|"))
    flat.write_csv(tmp_path / "p02.csv")  # in the test's folder, never the repository
    result = bs.read([tmp_path / "p02.csv"])
    assert (result.records_loaded, result.skipped) == (1413, [])
    assert _frame(result).equals(_frame(ndjson))
    assert _frame(result)["mentions"].list.len().sum() == 479
    _only_dids(_frame(result))
