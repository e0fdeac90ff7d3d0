from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import rows
from tribe_analysis import events as ev
from tribe_analysis.io import reddit

from .conftest import real_data_dir

CMV = "reddit_cmv_branches_2017"


def comment(
    cid: str, author: str, parent: str, link: str = "t3_s1", *, t: float = 1_500_000_100.0, **extra
) -> dict:
    item = {
        "id": cid,
        "name": f"t1_{cid}",
        "author": author,
        "body": f"comment {cid}",
        "created_utc": t,
        "parent_id": parent,
        "link_id": link,
        "subreddit": "changemyview",
    }
    item.update(extra)
    return item


def submission(sid: str, author: str, *, t: float = 1_500_000_000.0, **extra) -> dict:
    item = {
        "id": sid,
        "name": f"t3_{sid}",
        "author": author,
        "title": "CMV: a title",
        "selftext": "the argument",
        "created_utc": t,
        "subreddit": "changemyview",
        "num_comments": 2,
    }
    item.update(extra)
    return item


def write_lines(path: Path, objs: list) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def test_mapping_api_and_pushshift_fields(tmp_path: Path):
    items = [
        submission("s1", "op"),
        comment("c1", "ann", "t3_s1", t=1_500_000_060),
        comment("c2", "op", "t1_c1", t="1500000120"),  # Pushshift sometimes gives text
        comment("c3", "[deleted]", "t1_c2", body="[deleted]"),
        # no name: kind from the fields; id without prefix
        {k: v for k, v in comment("c4", "bob", "t1_c3").items() if k != "name"},
        {k: v for k, v in submission("s2", "cid").items() if k != "name"},
        # thing wrapper, and a comment on a submission outside the data (no link_id)
        {"kind": "t1", "data": comment("c5", "dan", "t3_zz", link="")},
        submission("s3", "eve", crosspost_parent="t3_s1"),
    ]
    path = write_lines(tmp_path / "rc.jsonl", items)
    assert reddit.sniff(path)
    result = reddit.read([path])
    assert result.platform == "reddit" and result.events.schema == ev.SCHEMA
    assert result.observability == {
        "post": True,
        "reply": True,
        "share": False,
        "reaction": False,
        "mention": False,
    }
    assert (result.records_read, result.records_loaded) == (8, 8)
    r = rows(result)
    assert (r["t3_s1"]["action"], r["t3_s1"]["thread_id"]) == ("post", "t3_s1")
    assert r["t3_s1"]["text"] == "CMV: a title\n\nthe argument"
    assert r["t3_s1"]["timestamp"] == datetime.fromtimestamp(1_500_000_000, UTC)
    assert (r["t1_c1"]["action"], r["t1_c1"]["parent_id"], r["t1_c1"]["thread_id"]) == (
        "reply",
        "t3_s1",
        "t3_s1",
    )
    assert r["t1_c1"]["target_actor_id"] == "op"
    assert r["t1_c2"]["target_actor_id"] == "ann"
    assert r["t1_c2"]["timestamp"] == datetime.fromtimestamp(1_500_000_120, UTC)
    assert r["t1_c3"]["actor_id"] == reddit.DELETED == "[deleted]"
    assert r["t1_c4"]["target_actor_id"] == "[deleted]" and r["t1_c4"]["thread_id"] == "t3_s1"
    assert r["t3_s2"]["action"] == "post"
    assert (r["t1_c5"]["thread_id"], r["t1_c5"]["target_actor_id"]) == ("t3_zz", None)
    assert (r["t3_s3"]["action"], r["t3_s3"]["parent_id"], r["t3_s3"]["target_actor_id"]) == (
        "share",
        "t3_s1",
        "op",
    )
    assert all(m == [] for m in result.events.get_column("mentions").to_list())


def test_cmv_style_author_name_and_empty_author(tmp_path: Path):
    sub = submission("s1", "", author_name="op", parent_id="", link_id="", body="why") | {
        "selftext": None
    }
    del sub["author"]
    reply = comment("c1", "", "t3_s1", author_name="")
    del reply["author"]
    path = write_lines(tmp_path / "0_ah_t1_c1.json", [sub, reply])
    r = rows(reddit.read([path]))
    assert (r["t3_s1"]["actor_id"], r["t3_s1"]["text"]) == ("op", "CMV: a title\n\nwhy")
    assert r["t1_c1"]["actor_id"] == "[deleted]"


@pytest.mark.parametrize("author", ["", None, "[deleted]"])
def test_empty_author_falls_back_to_author_name(tmp_path: Path, author):
    """An empty ``author`` beside a named ``author_name`` made the named author '[deleted]'."""
    reply = comment("c1", "ann", "t3_s1", author_name="bob") | {"author": author}
    path = write_lines(tmp_path / "items.json", [submission("s1", "op"), reply])
    assert rows(reddit.read([path]))["t1_c1"]["actor_id"] == "bob"


def test_json_array_file(tmp_path: Path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([submission("s1", "op"), comment("c1", "ann", "t3_s1")], indent=2))
    assert reddit.sniff(path)
    result = reddit.read([path])
    assert result.events.height == 2
    assert rows(result)["t1_c1"]["thread_id"] == "t3_s1"


def listing(*children: dict) -> dict:
    return {"kind": "Listing", "data": {"after": None, "children": list(children)}}


def thing(kind: str, item: dict, *replies: dict) -> dict:
    return {"kind": kind, "data": item | {"replies": listing(*replies) if replies else ""}}


def test_an_api_thread_page_reads_every_nested_comment(tmp_path: Path):
    """``reddit.com/r/…/comments/….json``: the submission's Listing, then the comments'
    Listing, each comment's replies a Listing nested in it, ``more`` stubs for the rest."""
    more = {"kind": "more", "data": {"count": 7, "children": ["x1", "x2"]}}
    page = [
        listing(thing("t3", submission("s1", "op"))),
        listing(
            thing(
                "t1",
                comment("c1", "ann", "t3_s1", t=1_500_000_100),
                thing("t1", comment("c2", "op", "t1_c1", t=1_500_000_200),
                      thing("t1", comment("c3", "ann", "t1_c2", t=1_500_000_300))),
                more,
            ),
            thing("t1", comment("c4", "bob", "t3_s1", t=1_500_000_400)),
            more,
        ),
    ]  # fmt: skip
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(page, indent=2), encoding="utf-8")
    assert reddit.sniff(path)
    result = reddit.read([path])
    assert (result.records_read, result.records_loaded, result.skipped) == (5, 5, [])
    r = rows(result)
    assert sorted(r) == ["t1_c1", "t1_c2", "t1_c3", "t1_c4", "t3_s1"]
    assert (r["t1_c3"]["parent_id"], r["t1_c3"]["target_actor_id"]) == ("t1_c2", "op")
    assert {row["thread_id"] for row in r.values()} == {"t3_s1"}
    # one API Listing per line reads the same
    lines = write_lines(tmp_path / "pages.jsonl", page)
    assert reddit.read([lines]).events.equals(result.events)


def test_a_malformed_listing_or_replies_is_a_bad_record(tmp_path: Path):
    bad_replies = thing("t1", comment("c1", "ann", "t3_s1"))
    bad_replies["data"]["replies"] = {"kind": "Listing", "data": {"children": "none"}}
    records = [
        submission("s1", "op"),
        {"kind": "Listing", "data": {"children": [1, 2]}},
        bad_replies,
        thing("t1", comment("c2", "bob", "t3_s1")),
    ]
    path = write_lines(tmp_path / "bad.jsonl", records)
    result = reddit.read([path], on_error="skip")
    assert [(s.line, s.reason) for s in result.skipped] == [
        (2, "Listing whose data.children is not an array of objects"),
        (3, "replies must be a Listing of comments, got object"),
    ]
    assert sorted(result.events["event_id"]) == ["t1_c2", "t3_s1"]
    assert result.records_read == 4


GOOD_A = submission("a", "op")
GOOD_B = comment("b", "ann", "t3_a", link="t3_a")

BAD_CASES = {
    "truncated line": ('{"name": "t1_x", "author": "a", "created_u', "invalid JSON ("),
    "id is an object": (
        json.dumps(
            {k: v for k, v in comment("x", "a", "t3_a").items() if k != "name"} | {"id": {"v": 1}}
        ),
        "id must be a string, got object",
    ),
    "name is a number": (
        json.dumps(comment("x", "a", "t3_a") | {"name": 5}),
        "name must be a t1_/t3_ fullname string, got number",
    ),
    "missing ids": (
        json.dumps({k: v for k, v in comment("x", "a", "t3_a").items() if k not in ("name", "id")}),
        "missing id (and no name)",
    ),
    "missing author": (
        json.dumps({k: v for k, v in comment("x", "a", "t3_a").items() if k != "author"}),
        "missing author (or author_name)",
    ),
    "author wrong type": (
        json.dumps(comment("x", ["a"], "t3_a")),
        "author must be a user name string, got array",
    ),
    "bad created_utc": (
        json.dumps(comment("x", "a", "t3_a", t="yesterday")),
        "unparseable created_utc 'yesterday'",
    ),
    "created_utc boolean": (
        json.dumps(comment("x", "a", "t3_a", t=True)),
        "created_utc must be epoch seconds, got boolean",
    ),
    "missing created_utc": (
        json.dumps({k: v for k, v in comment("x", "a", "t3_a").items() if k != "created_utc"}),
        "missing created_utc",
    ),
    "parent not a fullname": (
        json.dumps(comment("x", "a", "abc")),
        "parent_id 'abc' is not a t1_ (comment) or t3_ (submission) fullname",
    ),
    "link_id a comment": (
        json.dumps(comment("x", "a", "t1_b", link="t1_b")),
        "link_id 't1_b' is not a t3_ (submission) fullname",
    ),
    "replies to itself": (
        json.dumps(comment("x", "a", "t1_x")),
        "parent 't1_x' is the record's own id",
    ),
    "a message": (
        json.dumps({"kind": "t4", "data": {"id": "m", "author": "a", "created_utc": 1}}),
        "not a comment or submission (kind 't4')",
    ),
    "a tweet": (
        json.dumps(
            {
                "id_str": "1",
                "created_at": "Wed Oct 22 13:59:55 +0000 2014",
                "user": {"id_str": "2"},
                "text": "x",
            }
        ),
        "not a Reddit comment or submission",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_strict_and_skip(tmp_path: Path, case: str):
    bad, reason = BAD_CASES[case]
    path = tmp_path / "rc.jsonl"
    path.write_text(f"{json.dumps(GOOD_A)}\n{bad}\n{json.dumps(GOOD_B)}\n", encoding="utf-8")
    with pytest.raises(ev.EventsError) as info:
        reddit.read([path])
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(f"{path}:2: {reason}")
    result = reddit.read([path], on_error="skip")
    assert result.events.get_column("event_id").to_list() == ["t3_a", "t1_b"]
    assert result.records_read == 3 == result.records_loaded + len(result.skipped)
    [skipped] = result.skipped
    assert (skipped.source, skipped.line, skipped.record) == (str(path), 2, bad)
    assert skipped.reason.startswith(reason)


def test_non_utf8_bytes(tmp_path: Path):
    path = tmp_path / "rc.jsonl"
    bad = json.dumps(comment("x", "jos\u00e9", "t3_a"), ensure_ascii=False).encode("latin-1")
    path.write_bytes(json.dumps(GOOD_A).encode() + b"\n" + bad + b"\n")
    with pytest.raises(ev.EventsError, match=r"rc\.jsonl:2: not UTF-8: byte 0xe9"):
        reddit.read([path])
    result = reddit.read([path], on_error="skip")
    assert result.records_loaded == 1 and result.skipped[0].line == 2


def test_duplicates_across_files_kept_once(tmp_path: Path):
    a = write_lines(tmp_path / "1_ah.json", [GOOD_A, GOOD_B])
    b = write_lines(tmp_path / "2_delta.json", [GOOD_B, comment("c", "bob", "t1_b", link="t3_a")])
    for mode in ("strict", "skip"):
        result = reddit.read([a, b], on_error=mode)
        assert result.events.get_column("event_id").to_list() == ["t3_a", "t1_b", "t1_c"]
        [dup] = result.skipped
        assert (dup.source, dup.line, dup.reason) == (
            str(b),
            1,
            f"duplicate id 't1_b' (kept once; first at {a}:2)",
        )
        assert dup.record == json.dumps(GOOD_B)
        assert result.records_read == 4 == result.records_loaded + len(result.skipped)


def test_other_platform_empty_missing_and_directory(tmp_path: Path):
    tweet = write_lines(
        tmp_path / "tweets.ndjson",
        [
            {
                "id_str": "1",
                "created_at": "Wed Oct 22 13:59:55 +0000 2014",
                "user": {"id_str": "2"},
                "text": "x",
            }
        ],
    )
    toot = write_lines(
        tmp_path / "statuses.jsonl",
        [
            {
                "id": "1",
                "created_at": "2024-01-01T00:00:00.000Z",
                "account": {"id": "1", "acct": "a"},
                "content": "x",
            }
        ],
    )
    for path in (tweet, toot):
        assert not reddit.sniff(path)
        with pytest.raises(ev.EventsError, match=r":1: not a Reddit comment or submission"):
            reddit.read([path])
    empty = tmp_path / "empty.json"
    empty.write_text("")
    for mode in ("strict", "skip"):
        with pytest.raises(ev.EventsError) as info:
            reddit.read([empty, tmp_path / "gone.json", tmp_path], on_error=mode)
        assert sorted(str(p) for p in info.value.problems) == sorted(
            [
                f"{empty}: empty file (no Reddit records)",
                f"{tmp_path / 'gone.json'}: no such file",
                f"{tmp_path}: is a directory, not a Reddit file (pass the files inside it, e.g. {tmp_path}/*)",
            ]
        )
    assert not reddit.sniff(tmp_path) and not reddit.sniff(empty)


@pytest.mark.real
def test_cmv_branches_real_export():
    folder = real_data_dir(CMV)
    files = sorted((folder / "branches").glob("*.json"))
    assert len(files) == 907
    assert reddit.sniff(files[0])
    result = reddit.read(files)
    events = result.events
    # PROVENANCE.md: 3,196 items (3,181 comments + 15 submissions) in 907 files, 700 threads
    # (link_id), 1,211 author names + 96 deleted (empty author_name), 2016-12-31 -> 2017-09-21.
    # Branches of one thread share comments: 18 comments appear in two files, kept once.
    assert result.records_read == 3196
    assert len(result.skipped) == 18
    assert all(s.reason.startswith("duplicate id 't1_") for s in result.skipped)
    assert result.records_loaded == events.height == 3178
    assert dict(events.group_by("action").len().iter_rows()) == {"post": 15, "reply": 3163}
    assert events.get_column("thread_id").n_unique() == 700
    actors = events.get_column("actor_id")
    assert (actors == reddit.DELETED).sum() == 96
    assert actors.filter(actors != reddit.DELETED).n_unique() == 1211
    assert events.get_column("timestamp").min().date().isoformat() == "2016-12-31"
    assert events.get_column("timestamp").max().date().isoformat() == "2017-09-21"
    # frequent debaters named by PROVENANCE (items counted with repeats: 38, 34, 25)
    per = dict(events.group_by("actor_id").len().iter_rows())
    assert (per["Iswallowedafly"], per["Mitoza"], per["PreacherJudge"]) == (37, 34, 25)
    # threads: every comment's thread is its link_id, every submission is its own thread
    index = pl.read_csv(folder / "branch_index.csv")
    assert set(events.get_column("thread_id")) == set(index.get_column("link_id"))
    # the example line of PROVENANCE.md (file 0_ah_t1_dggp3q9.json, line 1), by hand
    row = events.filter(pl.col("event_id") == "t1_dgg02vk").row(0, named=True)
    assert (row["actor_id"], row["action"], row["parent_id"], row["thread_id"]) == (
        "qwertx0815",
        "reply",
        "t1_dgfqi15",
        "t3_6609dn",
    )
    assert row["timestamp"] == datetime.fromtimestamp(1492558603, UTC)
    # the next line replies to it: its target is derived from the data
    nxt = events.filter(pl.col("parent_id") == "t1_dgg02vk").row(0, named=True)
    assert (nxt["actor_id"], nxt["target_actor_id"]) == ("bunchanumbersandshit", "qwertx0815")
    # in all 15 chains that start at the submission the OP replies again inside the chain
    posts = events.filter(pl.col("action") == "post").select(
        pl.col("event_id").alias("thread_id"), pl.col("actor_id").alias("op")
    )
    op_replies = events.filter(pl.col("action") == "reply").join(posts, on="thread_id")
    assert (
        op_replies.filter(pl.col("actor_id") == pl.col("op")).get_column("thread_id").n_unique()
        == 15
    )
