from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import rows
from tribe_analysis import events as ev
from tribe_analysis.io import mastodon

# Small fixtures shaped like /api/v1/accounts/:id/statuses responses (no real export).


def account(aid: str, acct: str) -> dict:
    return {
        "id": aid,
        "username": acct.split("@")[0],
        "acct": acct,
        "display_name": acct.title(),
        "url": f"https://example.social/@{acct}",
    }


def status(
    sid: str, aid: str, acct: str, *, when: str = "2024-03-01T10:00:00.000Z", **extra
) -> dict:
    item = {
        "id": sid,
        "created_at": when,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://example.social/users/{acct}/statuses/{sid}",
        "url": f"https://example.social/@{acct}/{sid}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": f"<p>status {sid}</p>",
        "reblog": None,
        "account": account(aid, acct),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
    }
    item.update(extra)
    return item


def write_lines(path: Path, objs: list) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


@pytest.fixture
def statuses() -> list[dict]:
    root = status(
        "110",
        "1",
        "ann",
        content='<p>Hello <span class="h-card"><a href="https://example.social/@bob" class="u-url mention">@<span>bob</span></a></span> &amp; all</p><p>second<br />line</p>',
        mentions=[
            {"id": "2", "username": "bob", "acct": "bob", "url": "https://example.social/@bob"}
        ],
    )
    reply = status(
        "111",
        "2",
        "bob",
        when="2024-03-01T12:30:00.000+02:00",
        in_reply_to_id="110",
        in_reply_to_account_id="1",
        content="<p>@ann hi</p>",
        mentions=[
            {"id": "1", "username": "ann", "acct": "ann", "url": "https://example.social/@ann"}
        ],
    )
    boost = status("112", "3", "cid@other.town", content="", reblog=status("110", "1", "ann"))
    remote_boost = status(
        "113", "3", "cid@other.town", content="", reblog=status("900", "9", "zed@far.away")
    )
    quote = status(
        "114",
        "4",
        "dan",
        content="<p>look</p>",
        quote={"state": "accepted", "quoted_status": status("900", "9", "zed@far.away")},
    )
    reply_to_outside = status("115", "2", "bob", in_reply_to_id="901", in_reply_to_account_id="9")
    return [root, reply, boost, remote_boost, quote, reply_to_outside]


def test_mapping(tmp_path: Path, statuses: list[dict]):
    path = write_lines(tmp_path / "statuses.jsonl", statuses)
    assert mastodon.sniff(path)
    result = mastodon.read([path])
    assert result.platform == "mastodon" and result.events.schema == ev.SCHEMA
    assert result.observability == {"post": True, "reply": True, "share": True, "reaction": False}
    assert (result.records_read, result.records_loaded, result.skipped) == (6, 6, [])
    r = rows(result)
    assert (r["110"]["action"], r["110"]["thread_id"], r["110"]["mentions"]) == (
        "post",
        "110",
        ["2"],
    )
    assert r["110"]["text"] == "Hello @bob & all\n\nsecond\nline"
    assert r["111"]["timestamp"] == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert (r["111"]["action"], r["111"]["parent_id"], r["111"]["target_actor_id"]) == (
        "reply",
        "110",
        "1",
    )
    assert r["111"]["mentions"] == ["1"] and r["111"]["thread_id"] == "110"
    # boost: a share by the booster of the boosted status, without text
    assert (r["112"]["action"], r["112"]["actor_id"], r["112"]["parent_id"]) == (
        "share",
        "3",
        "110",
    )
    assert (r["112"]["target_actor_id"], r["112"]["text"], r["112"]["mentions"]) == ("1", None, [])
    # boost of a status outside the data: target from reblog.account
    assert (r["113"]["parent_id"], r["113"]["target_actor_id"], r["113"]["thread_id"]) == (
        "900",
        "9",
        "900",
    )
    # Mastodon 4.5 quote: a share that keeps its text
    assert (r["114"]["action"], r["114"]["parent_id"], r["114"]["target_actor_id"]) == (
        "share",
        "900",
        "9",
    )
    assert r["114"]["text"] == "look"
    # reply whose parent is not exported: platform-given target kept
    assert (r["115"]["target_actor_id"], r["115"]["thread_id"]) == ("9", "901")
    assert mastodon.account_names(path) == {
        "1": "ann",
        "2": "bob",
        "3": "cid@other.town",
        "4": "dan",
        "9": "zed@far.away",
    }


def test_json_array_page_and_single_status(tmp_path: Path, statuses: list[dict]):
    page = tmp_path / "statuses.json"
    page.write_text(json.dumps(statuses, indent=2), encoding="utf-8")
    assert mastodon.sniff(page)
    assert mastodon.read([page]).events.height == 6
    one = tmp_path / "one.json"
    one.write_text(json.dumps(statuses[0], indent=2), encoding="utf-8")
    assert mastodon.sniff(one)
    result = mastodon.read([one])
    assert result.events.get_column("event_id").to_list() == ["110"]
    assert result.records_read == 1
    compact = tmp_path / "compact.json"  # a one-line array is an array too
    compact.write_text(json.dumps(statuses[:2]), encoding="utf-8")
    assert mastodon.read([compact]).events.height == 2


GOOD_A = status("1", "1", "ann")
GOOD_B = status("3", "1", "ann", when="2024-03-01T11:00:00Z")

BAD_CASES = {
    "truncated line": (
        '{"id": "2", "created_at": "2024-03-01T10:00:00.000Z", "acc',
        "invalid JSON (",
    ),
    "id is an object": (
        json.dumps(status("2", "1", "ann") | {"id": {"x": "2"}}),
        "id must be a string id, got object",
    ),
    "missing id": (
        json.dumps({k: v for k, v in status("2", "1", "ann").items() if k != "id"}),
        "missing id",
    ),
    "missing account": (
        json.dumps({k: v for k, v in status("2", "1", "ann").items() if k != "account"}),
        "missing account",
    ),
    "account without id": (
        json.dumps(status("2", "1", "ann") | {"account": {"acct": "ann"}}),
        "missing account.id",
    ),
    "no time zone": (
        json.dumps(status("2", "1", "ann", when="2024-03-01T10:00:00")),
        "created_at '2024-03-01T10:00:00' has no time zone",
    ),
    "bad date": (
        json.dumps(status("2", "1", "ann", when="yesterday")),
        "unparseable created_at 'yesterday'",
    ),
    "reblog not an object": (
        json.dumps(status("2", "1", "ann", reblog="110")),
        "reblog must be an object, got string",
    ),
    "mention without id": (
        json.dumps(status("2", "1", "ann", mentions=[{"acct": "bob"}])),
        "missing mentions[].id",
    ),
    "content not text": (
        json.dumps(status("2", "1", "ann", content=["<p>x</p>"])),
        "content must be a string, got array",
    ),
    "a reddit item": (
        json.dumps(
            {"id": "x", "name": "t1_x", "author": "a", "created_utc": 1.0, "parent_id": "t3_y"}
        ),
        "not a Mastodon status (looks like a Reddit item",
    ),
    "a tweet": (
        json.dumps(
            {
                "id_str": "1",
                "id": 1,
                "created_at": "Wed Oct 22 13:59:55 +0000 2014",
                "user": {"id_str": "2"},
            }
        ),
        "not a Mastodon status (looks like a tweet",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_strict_and_skip(tmp_path: Path, case: str):
    bad, reason = BAD_CASES[case]
    path = tmp_path / "statuses.jsonl"
    path.write_text(f"{json.dumps(GOOD_A)}\n{bad}\n{json.dumps(GOOD_B)}\n", encoding="utf-8")
    with pytest.raises(ev.EventsError) as info:
        mastodon.read([path])
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(f"{path}:2: {reason}")
    result = mastodon.read([path], on_error="skip")
    assert result.events.get_column("event_id").to_list() == ["1", "3"]
    assert result.records_read == 3 == result.records_loaded + len(result.skipped)
    [skipped] = result.skipped
    assert (skipped.source, skipped.line, skipped.record) == (str(path), 2, bad)
    assert skipped.reason.startswith(reason)


def test_bad_element_in_json_array(tmp_path: Path):
    path = tmp_path / "statuses.json"
    items = [GOOD_A, status("2", "1", "ann", when="never"), 7, GOOD_B]
    path.write_text(json.dumps(items, indent=1), encoding="utf-8")
    lines = path.read_text().splitlines()
    where = [n for n, text in enumerate(lines, start=1) if text == " {" or text == " 7,"]
    with pytest.raises(ev.EventsError) as info:
        mastodon.read([path])
    assert (
        str(info.value)
        == f"{path}:{where[1]}: unparseable created_at 'never' (expected ISO-8601, e.g. 2024-05-01T12:00:00.000Z)"
    )
    result = mastodon.read([path], on_error="skip")
    assert result.events.get_column("event_id").to_list() == ["1", "3"]
    assert [(s.line, s.reason) for s in result.skipped] == [
        (
            where[1],
            "unparseable created_at 'never' (expected ISO-8601, e.g. 2024-05-01T12:00:00.000Z)",
        ),
        (where[2], "expected a JSON object in the array"),
    ]
    assert json.loads(result.skipped[0].record)["id"] == "2"
    assert result.records_read == 4 == result.records_loaded + len(result.skipped)


def test_truncated_pretty_status(tmp_path: Path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(GOOD_A, indent=2)[:-20], encoding="utf-8")
    with pytest.raises(ev.EventsError, match=r"one\.json:\d+: invalid JSON"):
        mastodon.read([path])
    result = mastodon.read([path], on_error="skip")
    assert result.events.height == 0 and result.records_read == 1 and len(result.skipped) == 1


def test_non_utf8_bytes(tmp_path: Path):
    path = tmp_path / "statuses.jsonl"
    bad = json.dumps(status("2", "1", "ann", content="<p>caf\u00e9</p>"), ensure_ascii=False)
    path.write_bytes(json.dumps(GOOD_A).encode() + b"\n" + bad.encode("latin-1") + b"\n")
    with pytest.raises(ev.EventsError, match=r"statuses\.jsonl:2: not UTF-8: byte 0xe9"):
        mastodon.read([path])
    result = mastodon.read([path], on_error="skip")
    assert result.records_loaded == 1 and result.skipped[0].line == 2
    # in an array file the whole document is one unreadable record
    array = tmp_path / "statuses.json"
    array.write_bytes(
        b"[\n" + json.dumps(GOOD_A).encode() + b",\n" + bad.encode("latin-1") + b"\n]\n"
    )
    with pytest.raises(ev.EventsError, match=r"statuses\.json:3: not UTF-8: byte 0xe9"):
        mastodon.read([array])


def test_duplicates_across_files_kept_once(tmp_path: Path):
    a = write_lines(tmp_path / "page1.jsonl", [GOOD_A, GOOD_B])
    b = tmp_path / "page2.json"
    b.write_text(json.dumps([status("4", "2", "bob"), GOOD_B], indent=2), encoding="utf-8")
    for mode in ("strict", "skip"):
        result = mastodon.read([a, b], on_error=mode)
        assert result.events.get_column("event_id").to_list() == ["1", "4", "3"]
        [dup] = result.skipped
        assert (dup.source, dup.reason) == (str(b), f"duplicate id '3' (kept once; first at {a}:2)")
        assert json.loads(dup.record) == GOOD_B and dup.line > 1
        assert result.records_read == 4 == result.records_loaded + len(result.skipped)


def test_other_platform_empty_missing_and_directory(tmp_path: Path):
    tweet = write_lines(
        tmp_path / "tweets.ndjson",
        [
            {
                "id_str": "1",
                "id": 1,
                "created_at": "Wed Oct 22 13:59:55 +0000 2014",
                "user": {"id_str": "2"},
                "text": "x",
            }
        ],
    )
    reddit = write_lines(
        tmp_path / "rc.jsonl", [{"name": "t1_x", "id": "x", "author": "a", "created_utc": 1.0}]
    )
    for path in (tweet, reddit):
        assert not mastodon.sniff(path)
        with pytest.raises(ev.EventsError, match=r":1: not a Mastodon status"):
            mastodon.read([path])
    empty = tmp_path / "empty.json"
    empty.write_text(" \n")
    for mode in ("strict", "skip"):
        with pytest.raises(ev.EventsError) as info:
            mastodon.read([empty, tmp_path / "gone.json", tmp_path], on_error=mode)
        assert sorted(str(p) for p in info.value.problems) == sorted(
            [
                f"{empty}: empty file (no Mastodon records)",
                f"{tmp_path / 'gone.json'}: no such file",
                f"{tmp_path}: is a directory, not a Mastodon file (pass the files inside it, e.g. {tmp_path}/*)",
            ]
        )
    assert not mastodon.sniff(tmp_path) and not mastodon.sniff(empty)
    empty_array = tmp_path / "none.json"
    empty_array.write_text("[]")
    with pytest.raises(ev.EventsError, match="no mastodon records found"):
        mastodon.read([empty_array])


def test_read_collects_the_names_account_names_gives(tmp_path: Path, statuses: list[dict]):
    from tribe_analysis import io

    path = write_lines(tmp_path / "statuses.jsonl", statuses)
    page = tmp_path / "page.json"
    page.write_text(json.dumps([statuses[1], {"id": "7", "account": {"id": "5"}}]))
    for paths in ([path], [page], [path, page]):
        result = io.read(paths, format="mastodon", on_error="skip")
        assert result.names == io.account_names(paths, "mastodon"), paths
    assert io.read([path]).names["3"] == "cid@other.town"
