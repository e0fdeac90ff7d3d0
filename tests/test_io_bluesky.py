"""Bluesky reader: AT Protocol records and views, and the real @nytimes.com post tables."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import consistent, one_problem, real_data_dir, rows
from tribe_analysis import events as ev
from tribe_analysis.io import bluesky as bs

ANN, BOB, CID = "did:plc:ann", "did:plc:bob", "did:plc:cid"
P1 = f"at://{ANN}/app.bsky.feed.post/p1"
P2 = f"at://{BOB}/app.bsky.feed.post/p2"
P3 = f"at://{BOB}/app.bsky.feed.post/p3"


def record(uri: str, value: dict) -> dict:
    return {"uri": uri, "cid": "bafy", "value": value}


def post(text: str, when: str, **more) -> dict:
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": when, **more}


ROOT = record(P1, post("hello @bob", "2024-05-01T10:00:00.000Z"))
REPLY = record(
    P2,
    post(
        "hi @ann and @cid",
        "2024-05-01T10:05:00.000Z",
        reply={"root": {"uri": P1, "cid": "x"}, "parent": {"uri": P1, "cid": "x"}},
        facets=[
            {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": ANN}]},
            {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": CID}]},
        ],
    ),
)
QUOTE = record(
    f"at://{CID}/app.bsky.feed.post/q",
    post(
        "look",
        "2024-05-01T11:00:00+02:00",
        embed={
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"record": {"uri": P1, "cid": "x"}},
            "media": {},
        },
    ),
)
REPOST = record(
    f"at://{CID}/app.bsky.feed.repost/r",
    {"$type": "app.bsky.feed.repost", "subject": {"uri": P2}, "createdAt": "2024-05-01T12:00:00Z"},
)
LIKE = record(
    f"at://{BOB}/app.bsky.feed.like/l",
    {"$type": "app.bsky.feed.like", "subject": {"uri": P1}, "createdAt": "2024-05-01T12:30:00Z"},
)
FOLLOW = record(
    f"at://{BOB}/app.bsky.graph.follow/f",
    {"$type": "app.bsky.graph.follow", "subject": ANN, "createdAt": "2024-05-01T09:00:00Z"},
)


def lines(path: Path, *objects: object) -> Path:
    path.write_text(
        "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects), "utf-8"
    )
    return path


# --------------------------------------------------------------------------- AT Protocol records


def test_records_map_to_events(tmp_path):
    path = lines(tmp_path / "repo.jsonl", ROOT, REPLY, QUOTE, REPOST, LIKE, FOLLOW)
    result = bs.read([path])
    assert result.platform == "bluesky"
    assert result.observability == {"post": True, "reply": True, "share": True, "reaction": True}
    assert (result.records_read, result.records_loaded) == (5, 5)  # the follow is not counted
    got = rows(result)
    assert got[P1]["action"] == "post" and got[P1]["mentions"] == []  # "@bob" is only text
    assert got[P2] | {"timestamp": None} == {
        "event_id": P2,
        "timestamp": None,
        "actor_id": BOB,
        "action": "reply",
        "parent_id": P1,
        "thread_id": P1,
        "target_actor_id": ANN,
        "mentions": [ANN, CID],
        "text": "hi @ann and @cid",
        "platform": "bluesky",
    }
    quote = got[f"at://{CID}/app.bsky.feed.post/q"]
    assert (quote["action"], quote["parent_id"], quote["target_actor_id"], quote["text"]) == (
        "share",
        P1,
        ANN,
        "look",
    )
    assert str(quote["timestamp"]) == "2024-05-01 09:00:00+00:00"
    repost = got[f"at://{CID}/app.bsky.feed.repost/r"]
    assert (
        repost["actor_id"],
        repost["action"],
        repost["parent_id"],
        repost["target_actor_id"],
    ) == (
        CID,
        "share",
        P2,
        BOB,
    )
    like = got[f"at://{BOB}/app.bsky.feed.like/l"]
    assert (like["action"], like["parent_id"], like["thread_id"]) == ("reaction", P1, P1)


def test_observability_follows_the_records_present(tmp_path):
    result = bs.read([lines(tmp_path / "posts.jsonl", ROOT, REPLY)])
    assert result.observability == {"post": True, "reply": True, "share": True, "reaction": True}


def test_feed_items_post_views_and_jetstream(tmp_path):
    author = {"did": BOB, "handle": "bob.test"}
    feed_reply = {
        "post": {
            "uri": P2,
            "author": author,
            "record": REPLY["value"],
            "indexedAt": "2024-05-01T10:05:01Z",
        },
        "reply": {"parent": {"uri": P1, "author": {"did": ANN}}, "root": {"uri": P1}},
    }
    feed_repost = {
        "post": {"uri": P1, "author": {"did": ANN}, "record": ROOT["value"]},
        "reason": {
            "$type": "app.bsky.feed.defs#reasonRepost",
            "by": {"did": CID, "handle": "cid.test"},
            "indexedAt": "2024-05-02T08:00:00Z",
        },
    }
    view = {"uri": P1, "cid": "x", "author": {"did": ANN}, "record": ROOT["value"]}
    jet_like = {
        "did": CID,
        "time_us": 1714550000000000,
        "kind": "commit",
        "commit": {
            "rev": "r",
            "operation": "create",
            "collection": "app.bsky.feed.like",
            "rkey": "k",
            "record": {"subject": {"uri": P2}, "createdAt": "2024-05-01T13:00:00Z"},
        },
    }
    jet_delete = {
        "did": CID,
        "kind": "commit",
        "commit": {"operation": "delete", "collection": "app.bsky.feed.post", "rkey": "z"},
    }
    jet_identity = {"did": CID, "kind": "identity", "identity": {"handle": "cid.test"}}
    path = lines(
        tmp_path / "feed.jsonl", view, feed_reply, feed_repost, jet_like, jet_delete, jet_identity
    )
    result = bs.read([path])
    assert (result.records_read, result.records_loaded) == (4, 4)
    got = rows(result)
    assert got[P1]["actor_id"] == ANN and got[P1]["action"] == "post"
    assert got[P2]["target_actor_id"] == ANN
    share = got[f"repost:{CID}:{P1}"]
    assert (share["actor_id"], share["action"], share["parent_id"], share["target_actor_id"]) == (
        CID,
        "share",
        P1,
        ANN,
    )
    assert str(share["timestamp"]) == "2024-05-02 08:00:00+00:00"
    like = got[f"at://{CID}/app.bsky.feed.like/k"]
    assert (like["action"], like["target_actor_id"]) == ("reaction", BOB)


def test_flat_rows_in_json_csv_and_parquet(tmp_path):
    flat = [
        {"uri": P1, "created_at": "2024-05-01T10:00:00+00:00", "text": "a", "is_reply": False},
        {
            "uri": P2,
            "author_did": BOB,
            "created_at": "2024-05-01T10:05:00+00:00",
            "text": "b",
            "is_reply": True,
            "mentions": [ANN, ANN],
        },
    ]
    result = bs.read([lines(tmp_path / "flat.ndjson", *flat)])
    assert result.observability == {"post": True, "reply": True, "share": True, "reaction": True}
    got = rows(result)
    assert (got[P1]["actor_id"], got[P1]["action"]) == (ANN, "post")  # DID from the uri
    # the parent of a reply is not in a flat table: an orphan reply, never a guess
    assert got[P2]["parent_id"] == f"unknown-parent-of:{P2}"
    assert got[P2]["target_actor_id"] is None and got[P2]["mentions"] == [ANN]
    parquet = tmp_path / "flat.parquet"
    pl.DataFrame(flat).with_columns(
        pl.col("created_at").str.to_datetime(time_zone="UTC")
    ).write_parquet(parquet)
    assert bs.sniff(parquet)
    assert bs.read([parquet]).events.equals(result.events)
    csv = tmp_path / "flat.csv"
    csv.write_text(
        "uri,author_handle,created_at,is_repost,is_reply\n"
        f"{P1},ann.test,2024-05-01T10:00:00.000Z,False,False\n"
    )
    assert bs.sniff(csv)
    assert rows(bs.read([csv]))[P1]["actor_id"] == ANN


@pytest.mark.parametrize("mentions", [f"{ANN}||{BOB}", f"{ANN}|", f" | {ANN}"])
def test_flat_csv_empty_mention_makes_the_row_bad(tmp_path, mentions):
    """It was dropped without a word; as in the events CSV, the row is bad."""
    csv = tmp_path / "flat.csv"
    csv.write_text(
        "uri,created_at,is_reply,mentions\n"
        f"{P1},2024-05-01T10:00:00.000Z,False,{mentions}\n"
        f"{P2},2024-05-01T10:05:00.000Z,False,{ANN}| {BOB}\n"
    )
    result = bs.read([csv], on_error="skip")
    assert rows(result)[P2]["mentions"] == [ANN, BOB]
    reason = "empty mention (a mention names an account; in CSV, nothing between two '|')"
    assert [(s.line, s.reason) for s in result.skipped] == [(2, reason)]


def _named_feed(display_name: str | None = None) -> list[dict]:
    """A feed reply by bob (to ann.test), a repost of ann's post (as ann.old, by an
    invalid handle) and a Jetstream identity event naming cid."""
    author = {"did": BOB, "handle": "bob.test"}
    if display_name is not None:
        author["displayName"] = display_name
    feed_reply = {
        "post": {"uri": P2, "author": author, "record": REPLY["value"]},
        "reply": {"parent": {"uri": P1, "author": {"did": ANN, "handle": "ann.test"}}},
    }
    feed_repost = {
        "post": {"uri": P1, "author": {"did": ANN, "handle": "ann.old"}, "record": ROOT["value"]},
        "reason": {
            "$type": "app.bsky.feed.defs#reasonRepost",
            "by": {"did": CID, "handle": "handle.invalid"},
            "indexedAt": "2024-05-02T08:00:00Z",
        },
    }
    identity = {"did": CID, "kind": "identity", "identity": {"did": CID, "handle": "cid.test"}}
    return [feed_reply, feed_repost, identity]


def test_account_names_from_views_feeds_flat_tables_and_jetstream(tmp_path):
    feed = lines(tmp_path / "feed.jsonl", *_named_feed(display_name="Bob"), "not json")
    # the author of a record beats a profile seen inside another record (ann.old, not
    # ann.test); handle.invalid is no name; a malformed line is ignored
    assert bs.account_names(feed) == {BOB: "bob.test", ANN: "ann.old", CID: "cid.test"}
    assert bs.account_names([lines(tmp_path / "repo.jsonl", ROOT, REPLY, LIKE)]) == {}
    flat = tmp_path / "flat.csv"
    flat.write_text(
        "uri,author_handle,created_at,is_repost,is_reply\n"
        f"{P1},@ann.test,2024-05-01T10:00:00.000Z,False,False\n"
    )
    ndjson = lines(
        tmp_path / "flat.ndjson",
        {
            "uri": P1,
            "author_did": BOB,
            "author_handle": "bob.test",
            "created_at": "x",
            "is_reply": 0,
        },
    )
    assert bs.account_names([flat, ndjson]) == {ANN: "ann.test", BOB: "bob.test"}
    from tribe_analysis import io

    assert io.account_names(flat, "bluesky") == {ANN: "ann.test"}


def test_account_names_from_collection_metadata_beside_an_author_feed(tmp_path):
    """An author feed saved as a flat table has no author column; its metadata names it."""
    folder = tmp_path / "data"
    folder.mkdir()
    posts = lines(
        folder / "posts.ndjson",
        {"uri": P1, "created_at": "2024-05-01T10:00:00+00:00", "is_reply": False},
    )
    assert bs.account_names(posts) == {}
    (folder / "collection_metadata.json").write_text(
        json.dumps({"account": {"handle": "ann.test", "did": ANN}, "collections": {}}, indent=2)
    )
    (folder / "graph_metadata.json").write_text(json.dumps({"ego_handle": "b", "ego_did": BOB}))
    (folder / "broken_metadata.json").write_text("{")
    assert bs.account_names(posts) == {ANN: "ann.test", BOB: "b"}
    # a handle in the records wins over the metadata
    named = lines(
        folder / "named.ndjson",
        {"uri": P1, "author_handle": "ann.now", "created_at": "x", "is_reply": False},
    )
    assert bs.account_names([posts, named]) == {ANN: "ann.now", BOB: "b"}


def test_sniff_tells_bluesky_from_other_platforms(tmp_path):
    assert bs.sniff(lines(tmp_path / "a.jsonl", ROOT))
    others = {
        "twitter_v1.jsonl": {
            "id_str": "1",
            "created_at": "Wed Oct 10 20:19:24 +0000 2018",
            "text": "hi",
            "user": {"id_str": "9"},
            "in_reply_to_status_id_str": None,
        },
        "twitter_v2.jsonl": {
            "id": "1",
            "author_id": "9",
            "created_at": "2024-05-01T10:00:00.000Z",
            "text": "hi",
            "conversation_id": "1",
        },
        "mastodon.jsonl": {
            "id": "1",
            "uri": "https://mastodon.social/users/ann/statuses/1",
            "created_at": "2024-05-01T10:00:00.000Z",
            "account": {"id": "9", "acct": "ann"},
            "in_reply_to_id": None,
            "content": "<p>hi</p>",
        },
        "reddit.jsonl": {
            "id": "abc",
            "name": "t1_abc",
            "author": "ann",
            "created_utc": 1714550000,
            "link_id": "t3_x",
            "parent_id": "t3_x",
            "subreddit": "test",
        },
        "events.csv": "event_id,timestamp,actor_id,action\n",
    }
    for name, obj in others.items():
        path = lines(tmp_path / name, obj)
        assert not bs.sniff(path), name
    with pytest.raises(ev.EventsError) as excinfo:
        bs.read([tmp_path / "mastodon.jsonl"])
    assert one_problem(excinfo) == (
        f"{tmp_path / 'mastodon.jsonl'}:1: uri is not an at:// URI "
        "'https://mastodon.social/users/ann/statuses/1'"
    )
    with pytest.raises(ev.EventsError) as excinfo:
        bs.read([tmp_path / "reddit.jsonl"], on_error="strict")
    assert "not a Bluesky record, post view or feed item" in one_problem(excinfo)
    with pytest.raises(ev.EventsError) as excinfo:
        bs.read([tmp_path / "events.csv"])
    assert "not a Bluesky post table" in one_problem(excinfo)
    assert not bs.sniff(tmp_path)


# --------------------------------------------------------------------------- bad records


BAD = [
    ('{"uri": "at://did:plc:x/app.bsky.feed.post/1", "value": {"text": "cut', "invalid JSON"),
    (json.dumps({"uri": {"id": 1}, "value": {}}), "uri must be a string, got dict"),
    (json.dumps(record(f"at://{ANN}/app.bsky.feed.post/n", post("x", None))), "missing createdAt"),
    (
        json.dumps(record(f"at://{ANN}/app.bsky.feed.post/n", post("x", "2024-05-01T10:00:00"))),
        "createdAt has no time zone '2024-05-01T10:00:00'",
    ),
    (
        json.dumps(record("at://ann.test/app.bsky.feed.post/n", post("x", "2024-05-01T10:00Z"))),
        "uri has no DID authority 'at://ann.test/app.bsky.feed.post/n'",
    ),
    (
        json.dumps(
            record(
                f"at://{ANN}/app.bsky.feed.like/n",
                {"$type": "app.bsky.feed.like", "createdAt": "2024-05-01T10:00:00Z"},
            )
        ),
        "subject must be an object, got NoneType",
    ),
    (
        json.dumps(
            record(
                f"at://{ANN}/app.bsky.feed.post/n",
                post("x", "2024-05-01T10:00:00Z", reply={"parent": {"cid": "x"}}),
            )
        ),
        "missing reply.parent.uri",
    ),
    (
        json.dumps({"uri": f"at://{ANN}/app.bsky.feed.post/n", "created_at": 5, "is_reply": 0}),
        "is_reply must be true or false, got 0",
    ),
    ('["not", "an", "object"]', "expected a JSON object on each line"),
    (
        json.dumps({"uri": f"at://{ANN}/app.bsky.feed.post/n", "value": {"text": "x"}}),
        "missing value.$type (the record's collection)",
    ),
]


@pytest.mark.parametrize(("bad", "reason"), BAD)
def test_bad_record_strict_and_skip(tmp_path, bad, reason):
    path = lines(tmp_path / "repo.jsonl", ROOT, bad, LIKE)
    with pytest.raises(ev.EventsError) as excinfo:
        bs.read([path])
    assert one_problem(excinfo).startswith(f"{path}:2: {reason}")
    result = bs.read([path], on_error="skip")
    consistent(result)
    assert (result.records_read, result.records_loaded) == (3, 2)
    [skipped] = result.skipped
    assert (skipped.line, skipped.record) == (2, bad)
    assert skipped.reason.startswith(reason)


def test_non_utf8_line(tmp_path):
    path = tmp_path / "repo.jsonl"
    path.write_bytes(
        (json.dumps(ROOT) + "\n").encode()
        + b'{"uri": "at://did:plc:x/app.bsky.feed.post/2", "value": {"text": "caf\xe9"}}\n'
        + (json.dumps(LIKE) + "\n").encode()
    )
    with pytest.raises(ev.EventsError) as excinfo:
        bs.read([path])
    assert one_problem(excinfo) == f"{path}:2: not UTF-8: byte 0xe9 at column 70"
    result = bs.read([path], on_error="skip")
    consistent(result)
    assert result.records_loaded == 2


# --------------------------------------------------------------------------- bad inputs


def test_empty_missing_and_directory_inputs(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    blank = lines(tmp_path / "blank.jsonl", "", "")
    only_follows = lines(tmp_path / "follows.jsonl", FOLLOW)
    cases = [
        (empty, f"{empty}:1: empty file (no records)"),
        (blank, f"{blank}: no bluesky records found"),
        (only_follows, f"{only_follows}: no bluesky records found"),
        (tmp_path / "missing.jsonl", f"{tmp_path / 'missing.jsonl'}: no such file"),
        (tmp_path, f"{tmp_path}: is a directory, not a Bluesky file"),
    ]
    for path, problem in cases:
        for mode in ("strict", "skip"):
            with pytest.raises(ev.EventsError) as excinfo:
                bs.read([path], on_error=mode)
            assert one_problem(excinfo) == problem


def test_duplicates_across_two_files_are_kept_once_and_reported(tmp_path):
    first = lines(tmp_path / "a.jsonl", ROOT, REPLY)
    second = lines(tmp_path / "b.jsonl", LIKE, REPLY)
    for mode in ("strict", "skip"):
        result = bs.read([first, second], on_error=mode)
        consistent(result)
        assert result.events.height == 3
        [dup] = result.skipped
        assert (dup.source, dup.line, dup.reason) == (
            str(second),
            2,
            f"duplicate id '{P2}' (kept once; first at {first}:2)",
        )
        assert json.loads(dup.record) == REPLY


# --------------------------------------------------------------------------- the real export

NYTIMES = "did:plc:eclio37ymobqex2ncko63h4r"
BSKY_APP = "did:plc:z72i7hdynmk6r22z27h6tvur"


@pytest.mark.real
def test_real_nytimes_author_feed_and_snowball_archive():
    folder = real_data_dir("bluesky_nytimes_2026")
    p01 = folder / "p01_nytimes_author_feed_posts.ndjson"
    p02 = folder / "p02_snowball_archive_posts.ndjson"
    for path in (p01, p02, folder / "p04_engagement_summary.csv"):
        assert bs.sniff(path), path
    for path in (
        "p01_nytimes_follows.csv",
        "p04_case_study_likes.csv",
        "p02_archive_metadata.json",
    ):
        assert not bs.sniff(folder / path), path

    feed = bs.read([p01])
    assert (feed.records_read, feed.records_loaded, feed.skipped) == (8959, 8959, [])
    counts = dict(feed.events.group_by("action").len().iter_rows())
    assert counts == {"post": 8936, "reply": 23}  # PROVENANCE: only 23 are replies
    assert set(feed.events["actor_id"]) == {NYTIMES}  # the DID inside the uri
    assert feed.observability == {"post": True, "reply": True, "share": True, "reaction": True}

    # 8,959 + 1,413 rows; the 200 wave-0 @nytimes.com posts are in both files. The first
    # file's copy is kept: p02 first, as its rows also carry mentions
    both = bs.read([p02, p01])
    assert (both.records_read, both.records_loaded) == (8959 + 1413, 8959 + 1413 - 200)
    assert {s.reason.split(" '")[0] for s in both.skipped} == {"duplicate id"}
    assert {s.source for s in both.skipped} == {str(p01)}
    events = both.events
    assert events["actor_id"].n_unique() == 15  # PROVENANCE: 15 accounts crawled
    archive = events.filter(pl.col("actor_id") != NYTIMES)
    assert archive.filter(pl.col("action") == "reply").height == 201  # p02: 0 by @nytimes.com
    assert events.filter(pl.col("action") == "reply").height == 201 + 23
    # 480 mention DIDs in p02; one post names the same account twice
    assert events["mentions"].list.len().sum() == 479
    rows_ = rows(both)
    reply = rows_["at://did:plc:jrin4u344pirosyfjo7qwvsx/app.bsky.feed.post/3lbi62irma224"]
    assert reply["action"] == "reply" and reply["parent_id"].startswith("unknown-parent-of:at://")
    first = rows_["at://did:plc:eclio37ymobqex2ncko63h4r/app.bsky.feed.post/3mbu6hyf5262a"]
    assert str(first["timestamp"]) == "2026-01-07 19:15:01.957049+00:00"

    # the same tables as Parquet give the same events
    parquet = bs.read([folder / "p01_nytimes_author_feed_posts.parquet"])
    assert parquet.events.equals(feed.events)

    # p04 adds the official @bsky.app account (58 posts; its 183 @nytimes.com rows are in p01)
    with_p04 = bs.read([p01, folder / "p04_engagement_summary.csv"])
    assert with_p04.records_read == 8959 + 241 and len(with_p04.skipped) == 183
    leaders = dict(with_p04.events.group_by("actor_id").len().iter_rows())
    assert leaders == {NYTIMES: 8959, BSKY_APP: 58}

    # leaders are shown by handle: the feed's rows carry no author, its collection metadata does
    assert bs.account_names(p01) == {NYTIMES: "nytimes.com"}
    names = bs.account_names([p02])
    assert len(names) == 15 and names[NYTIMES] == "nytimes.com"  # author_handle of each row
    assert bs.account_names([folder / "p04_engagement_summary.csv"])[BSKY_APP] == "bsky.app"


@pytest.mark.real
def test_real_names_from_the_read_pass():
    """The read pass names the same accounts as a second pass with ``account_names``."""
    from tribe_analysis import io

    folder = real_data_dir("bluesky_nytimes_2026")
    p01 = folder / "p01_nytimes_author_feed_posts.ndjson"
    p02 = folder / "p02_snowball_archive_posts.ndjson"
    p04 = folder / "p04_engagement_summary.csv"
    parquet = folder / "p01_nytimes_author_feed_posts.parquet"
    for paths in ([p01], [p02], [p02, p01], [p01, p04], [parquet]):
        names = io.read(paths, format="bluesky", on_error="skip").names
        assert names == io.account_names(paths, "bluesky"), paths
        assert names[NYTIMES] == "nytimes.com"


def test_flat_csv_records_bom_crlf_quotes_and_bad_rows(tmp_path):
    header = "uri,created_at,is_reply,text"
    good = [
        f'{P1},2024-05-01T10:00:00Z,false,"two\nlines, quoted"',
        f"{P2},2024-05-01T10:05:00Z,true,plain",
    ]
    ragged = f"{P3},2024-05-01T10:06:00Z,false"
    stray = f'{P3},2024-05-01T10:06:00Z,false,"a"b'
    unclosed = f'{P3},2024-05-01T10:07:00Z,false,"open'
    text = "\n".join([header, good[0], ragged, stray, good[1], unclosed]) + "\n"
    csv = tmp_path / "flat.csv"
    csv.write_bytes(b"\xef\xbb\xbf" + text.encode().replace(b"\n", b"\r\n"))
    assert bs.sniff(csv)
    with pytest.raises(ev.EventsError) as excinfo:
        bs.read([csv])
    assert one_problem(excinfo) == f"{csv}:4: 3 fields, expected 4"
    result = bs.read([csv], on_error="skip")
    consistent(result)
    assert [(s.line, s.reason.split(" (")[0]) for s in result.skipped] == [
        (4, "3 fields, expected 4"),
        (5, "malformed CSV"),
        (7, "unclosed quote"),
    ]
    assert [s.record for s in result.skipped][:2] == [ragged, stray]
    got = rows(result)
    assert got[P1]["text"] == "two\nlines, quoted"  # no \r from the Windows line ends
    assert set(got) == {P1, P2}


def test_read_collects_the_names_account_names_gives(tmp_path):
    """One read pass gives ``names`` = ``account_names`` (records, then metadata beside them)."""
    from tribe_analysis import io

    folder = tmp_path / "data"
    folder.mkdir()
    feed = lines(folder / "feed.jsonl", *_named_feed(), "not json")
    posts = lines(
        folder / "posts.ndjson",
        {"uri": P1 + "x", "created_at": "2024-05-01T10:00:00+00:00", "is_reply": False},
        {"uri": P1, "author_handle": "ann.now", "created_at": "x", "is_reply": False},
    )
    (folder / "graph_metadata.json").write_text(json.dumps({"ego_handle": "b", "ego_did": BOB}))
    (folder / "broken_metadata.json").write_text("{")
    repo = lines(tmp_path / "repo.jsonl", ROOT, REPLY, LIKE)
    for paths in ([feed], [posts], [feed, posts], [posts, feed], [repo]):
        result = io.read(paths, format="bluesky", on_error="skip")
        assert result.names == io.account_names(paths, "bluesky"), paths
    assert io.read([feed, posts], on_error="skip").names == {
        BOB: "bob.test",
        ANN: "ann.now",
        CID: "cid.test",
    }
    assert io.read([repo]).names == {}
