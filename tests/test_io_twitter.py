from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import rows
from tribe_analysis import events as ev
from tribe_analysis.io import _base, _json, twitter

from .conftest import real_data_dir

PHEME = "twitter_pheme_rumoureval2017"


# --------------------------------------------------------------------------- fixtures


def v1(
    tid: str,
    uid: str,
    *,
    when: str = "Wed Oct 22 13:59:55 +0000 2014",
    text: str = "hello",
    name: str | None = None,
    **extra: object,
) -> dict:
    tweet = {
        "created_at": when,
        "id": int(tid),
        "id_str": tid,
        "text": text,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id_str": None,
        "user": {"id_str": uid, "screen_name": name or f"user{uid}"},
        "entities": {"user_mentions": [], "hashtags": []},
    }
    tweet.update(extra)
    return tweet


def mention(uid: str, name: str) -> dict:
    return {"id_str": uid, "id": int(uid), "screen_name": name, "indices": [0, len(name) + 1]}


def write_lines(path: Path, objs: list) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    post = v1("100", "1", text="news", name="BBCBreaking")
    reply = v1(
        "101",
        "2",
        when="Wed Oct 22 14:00:00 +0200 2014",
        text="@BBCBreaking wow",
        in_reply_to_status_id_str="100",
        in_reply_to_user_id_str="1",
        entities={"user_mentions": [mention("1", "BBCBreaking")]},
    )
    retweet = v1(
        "102",
        "3",
        text="RT @BBCBreaking: news",
        retweeted_status=v1("100", "1", text="news", name="BBCBreaking"),
        entities={"user_mentions": [mention("1", "BBCBreaking")]},
    )
    quote = v1(
        "103",
        "4",
        text="look at this",
        is_quote_status=True,
        quoted_status_id_str="900",
        quoted_status=v1("900", "9", name="elsewhere"),
    )
    reply_quote = v1(
        "104",
        "5",
        text="both",
        in_reply_to_status_id_str="101",
        in_reply_to_user_id_str="2",
        is_quote_status=True,
        quoted_status_id_str="900",
    )
    long = v1(
        "105",
        "6",
        text="short…",
        truncated=True,
        extended_tweet={
            "full_text": "the whole long text @user2",
            "entities": {"user_mentions": [mention("2", "user2")]},
        },
    )
    return write_lines(tmp_path / "v1.ndjson", [post, reply, retweet, quote, reply_quote, long])


def page(tweets: list, users: list | None = None, included: list | None = None) -> dict:
    return {
        "data": tweets,
        "includes": {"users": users or [], "tweets": included or []},
        "meta": {"result_count": len(tweets)},
        "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all", "version": "2.14.0"},
    }


def v2(tid: str, author_id: str, *, when: str = "2022-05-01T12:00:00.000Z", **extra) -> dict:
    tweet = {
        "id": tid,
        "author_id": author_id,
        "created_at": when,
        "conversation_id": tid,
        "text": "hi",
        "edit_history_tweet_ids": [tid],
    }
    tweet.update(extra)
    return tweet


@pytest.fixture
def v2_page() -> dict:
    return page(
        [
            v2(
                "200",
                "10",
                text="root @bob",
                entities={"mentions": [{"start": 5, "end": 9, "username": "Bob"}]},
            ),
            v2(
                "201",
                "11",
                when="2022-05-01T12:05:00.000Z",
                conversation_id="200",
                in_reply_to_user_id="10",
                referenced_tweets=[{"type": "replied_to", "id": "200"}],
                entities={
                    "mentions": [
                        {"start": 0, "end": 4, "username": "ann", "id": "10"},
                        {"start": 5, "end": 12, "username": "nobody"},
                    ]
                },
            ),
            v2(
                "202",
                "12",
                text="RT @carol: old",
                conversation_id="202",
                referenced_tweets=[{"type": "retweeted", "id": "800"}],
            ),
            v2("203", "11", text="quoting", referenced_tweets=[{"type": "quoted", "id": "800"}]),
        ],
        users=[
            {"id": "10", "username": "ann"},
            {"id": "11", "username": "Bob"},
            {"id": "12", "username": "cid"},
            {"id": "13", "username": "carol"},
        ],
        included=[v2("800", "13", text="old")],
    )


# --------------------------------------------------------------------------- mapping


def test_v1_mapping(v1_file: Path):
    result = twitter.read([v1_file])
    assert result.platform == "twitter"
    assert result.events.schema == ev.SCHEMA
    assert result.observability == {"post": True, "reply": True, "share": True, "reaction": False}
    assert (result.records_read, result.records_loaded, result.skipped) == (6, 6, [])
    r = rows(result)
    assert r["100"]["action"] == "post" and r["100"]["thread_id"] == "100"
    assert r["100"]["timestamp"] == datetime(2014, 10, 22, 13, 59, 55, tzinfo=UTC)
    # reply: parent, platform-given target, typed mention; +0200 converted to UTC
    assert r["101"]["action"] == "reply"
    assert (r["101"]["parent_id"], r["101"]["thread_id"], r["101"]["target_actor_id"]) == (
        "100",
        "100",
        "1",
    )
    assert r["101"]["timestamp"] == datetime(2014, 10, 22, 12, 0, tzinfo=UTC)
    assert r["101"]["mentions"] == ["1"]
    # retweet: share of the original, no text, no mentions of its own
    assert (r["102"]["action"], r["102"]["parent_id"], r["102"]["target_actor_id"]) == (
        "share",
        "100",
        "1",
    )
    assert r["102"]["text"] is None and r["102"]["mentions"] == []
    # quote: share of the quoted tweet (outside the data) that keeps its text
    assert (r["103"]["action"], r["103"]["parent_id"], r["103"]["target_actor_id"]) == (
        "share",
        "900",
        "9",
    )
    assert r["103"]["text"] == "look at this" and r["103"]["thread_id"] == "900"
    # a reply that also quotes is a reply
    assert (r["104"]["action"], r["104"]["parent_id"], r["104"]["thread_id"]) == (
        "reply",
        "101",
        "100",
    )
    # extended tweets: full text and their own entities
    assert r["105"]["text"] == "the whole long text @user2" and r["105"]["mentions"] == ["2"]
    assert twitter.sniff(v1_file)


def test_v2_page_mapping(tmp_path: Path, v2_page: dict):
    path = write_lines(tmp_path / "search.jsonl", [v2_page])
    assert twitter.sniff(path)
    result = twitter.read([path])
    assert (result.records_read, result.records_loaded) == (4, 4)
    r = rows(result)
    # mention given by username only: resolved through includes.users (case-insensitive)
    assert r["200"]["action"] == "post" and r["200"]["mentions"] == ["11"]
    # unresolvable username left out, never guessed
    assert r["201"]["mentions"] == ["10"]
    assert (r["201"]["action"], r["201"]["parent_id"], r["201"]["thread_id"]) == (
        "reply",
        "200",
        "200",
    )
    assert r["201"]["target_actor_id"] == "10"
    # retweet: target from includes.tweets, its own conversation_id ignored
    assert (r["202"]["action"], r["202"]["parent_id"], r["202"]["target_actor_id"]) == (
        "share",
        "800",
        "13",
    )
    assert r["202"]["thread_id"] == "800" and r["202"]["text"] is None
    assert (r["203"]["action"], r["203"]["text"], r["203"]["target_actor_id"]) == (
        "share",
        "quoting",
        "13",
    )
    assert r["201"]["timestamp"] == datetime(2022, 5, 1, 12, 5, tzinfo=UTC)
    assert twitter.screen_names(path) == {"10": "ann", "11": "Bob", "12": "cid", "13": "carol"}


def test_v2_page_without_results_is_no_record(tmp_path: Path, v2_page: dict):
    empty_page = {"meta": {"result_count": 0}, "__twarc": {"version": "2.14.0"}}
    path = write_lines(tmp_path / "search.jsonl", [empty_page, v2_page])
    result = twitter.read([path])
    assert (result.records_read, result.events.height) == (4, 4)


def test_v2_lookup_page_of_errors_only_is_no_record(tmp_path: Path, v2_page: dict):
    """twarc2 hydrate of deleted tweets: the page was 'not a Twitter tweet' and stopped the read."""
    gone = {
        "errors": [
            {
                "value": "99",
                "detail": "Could not find tweet with ids: [99].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "99",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
        "__twarc": {"version": "2.14.0"},
    }
    path = write_lines(tmp_path / "hydrated.jsonl", [gone, v2_page])
    assert twitter.sniff(path)
    result = twitter.read([path])
    assert (result.records_read, result.events.height, result.skipped) == (4, 4, [])
    # a v1.1 stream's error line is no API v2 problem: still a bad record
    v1_error = {"errors": [{"message": "Rate limit exceeded", "code": 88}]}
    path = write_lines(tmp_path / "stream.jsonl", [v1_error, v2_page])
    with pytest.raises(ev.EventsError, match=r"stream.jsonl:1: not a Twitter tweet"):
        twitter.read([path])


def test_v2_page_as_one_pretty_json_file_and_as_array(tmp_path: Path, v2_page: dict):
    pretty = tmp_path / "page.json"
    pretty.write_text(json.dumps(v2_page, indent=2), encoding="utf-8")
    assert twitter.sniff(pretty)
    assert twitter.read([pretty]).events.height == 4
    array = tmp_path / "tweets.json"
    array.write_text(json.dumps(v2_page["data"], indent=1), encoding="utf-8")
    assert twitter.sniff(array)
    result = twitter.read([array])
    assert result.events.height == 4
    # without includes the username-only mention cannot be resolved
    assert rows(result)["200"]["mentions"] == []


def test_v2_flattened_tweets(tmp_path: Path):
    flat = [
        v2("300", "20", author={"id": "20", "username": "dee"}),
        v2(
            "301",
            "21",
            conversation_id="300",
            author={"id": "21", "username": "eve"},
            in_reply_to_user_id="20",
            in_reply_to_user={"id": "20", "username": "dee"},
            referenced_tweets=[
                {"type": "replied_to", "id": "300", "author_id": "20", "text": "hi"}
            ],
            entities={"mentions": [{"start": 0, "end": 4, "username": "dee", "id": "20"}]},
        ),
        v2("302", "22", referenced_tweets=[{"type": "retweeted", "id": "300", "author_id": "20"}]),
    ]
    path = write_lines(tmp_path / "flat.jsonl", flat)
    assert twitter.sniff(path)
    r = rows(twitter.read([path]))
    assert r["301"]["mentions"] == ["20"] and r["301"]["target_actor_id"] == "20"
    assert (r["302"]["action"], r["302"]["target_actor_id"], r["302"]["thread_id"]) == (
        "share",
        "20",
        "300",
    )
    assert twitter.screen_names(path) == {"20": "dee", "21": "eve"}


def test_v2_long_post_mentions_come_from_its_note_tweet(tmp_path: Path):
    """A long post's top-level entities cover its first 280 characters; note_tweet its whole text."""
    first = {"mentions": [{"start": 0, "end": 4, "username": "dee", "id": "20"}]}
    whole = {"mentions": [*first["mentions"], {"start": 300, "end": 304, "id": "23"}]}
    tweets = [
        v2(
            "310",
            "21",
            text="@dee ...",
            entities=first,
            note_tweet={"text": "@dee ... @fay", "entities": whole},
        ),
        v2("311", "21", text="@dee", entities=first, note_tweet={"text": "@dee and more"}),
        v2("312", "21", note_tweet={"text": "x", "entities": []}),
    ]
    path = write_lines(tmp_path / "long.jsonl", tweets)
    result = twitter.read([path], on_error="skip")
    r = rows(result)
    assert (r["310"]["mentions"], r["310"]["text"]) == (["20", "23"], "@dee ... @fay")
    assert r["311"]["mentions"] == ["20"]  # no entities of its own: the top-level ones
    [bad] = result.skipped
    assert bad.reason == "note_tweet.entities must be an object, got array"


def test_screen_names_v1(v1_file: Path):
    names = twitter.screen_names([v1_file])
    assert names["1"] == "BBCBreaking" and names["9"] == "elsewhere" and names["2"] == "user2"


# --------------------------------------------------------------------------- bad input

GOOD_A = v1("1", "7", text="first")
GOOD_B = v1("3", "7", text="third")

BAD_CASES = {
    "truncated line": (
        '{"created_at": "Wed Oct 22 13:59:55 +0000 2014", "id_str": "2", "us',
        "invalid JSON (",
    ),
    "id is an object": (
        json.dumps(v1("2", "7") | {"id_str": {"x": 1}}),
        "id_str must be a string id, got object",
    ),
    "missing id": (
        json.dumps({k: v for k, v in v1("2", "7").items() if k not in ("id", "id_str")}),
        "missing id_str",
    ),
    "missing user id": (
        json.dumps(v1("2", "7") | {"user": {"screen_name": "x"}}),
        "missing user.id_str",
    ),
    "user not an object": (
        json.dumps(v1("2", "7") | {"user": "bob"}),
        "user must be an object, got string",
    ),
    "bad date": (
        json.dumps(v1("2", "7", when="22/10/2014")),
        "unparseable created_at '22/10/2014'",
    ),
    "mentions wrong type": (
        json.dumps(v1("2", "7") | {"entities": {"user_mentions": {"a": 1}}}),
        "entities.user_mentions must be an array, got object",
    ),
    "retweet without id": (
        json.dumps(v1("2", "7") | {"retweeted_status": {"text": "x"}}),
        "missing retweeted_status.id_str",
    ),
    "v2 missing created_at": (
        json.dumps({"id": "2", "author_id": "7", "text": "x"}),
        "missing created_at (request tweet.fields=created_at)",
    ),
    "replies to itself": (
        json.dumps(v1("2", "7", in_reply_to_status_id_str="2")),
        "parent '2' is the record's own id",
    ),
    "not an object": ("[1, 2]", "expected a JSON object on each line"),
    "reddit item": (
        json.dumps(
            {"name": "t1_x", "author": "a", "created_utc": 1, "parent_id": "t3_y", "body": "b"}
        ),
        "not a Twitter tweet",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_strict_and_skip(tmp_path: Path, case: str):
    bad, reason = BAD_CASES[case]
    path = tmp_path / "tweets.ndjson"
    path.write_text(f"{json.dumps(GOOD_A)}\n{bad}\n{json.dumps(GOOD_B)}\n", encoding="utf-8")
    with pytest.raises(ev.EventsError) as info:
        twitter.read([path])
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(f"{path}:2: {reason}")
    result = twitter.read([path], on_error="skip")
    assert result.events.get_column("event_id").to_list() == ["1", "3"]
    assert result.records_read == 3 == result.records_loaded + len(result.skipped)
    [skipped] = result.skipped
    assert (skipped.source, skipped.line, skipped.record) == (str(path), 2, bad)
    assert skipped.reason.startswith(reason)


def test_non_utf8_bytes(tmp_path: Path):
    path = tmp_path / "tweets.ndjson"
    bad = (
        json.dumps(v1("2", "7", text="caf\u00e9"), ensure_ascii=False)
        .encode()
        .replace(b"\xc3\xa9", b"\xe9")
    )
    path.write_bytes(json.dumps(GOOD_A).encode() + b"\n" + bad + b"\n")
    with pytest.raises(ev.EventsError, match=r"tweets\.ndjson:2: not UTF-8: byte 0xe9"):
        twitter.read([path])
    result = twitter.read([path], on_error="skip")
    assert result.records_loaded == 1 and result.skipped[0].line == 2


def test_bad_tweet_inside_a_v2_page_skips_only_that_tweet(tmp_path: Path, v2_page: dict):
    v2_page["data"][1]["author_id"] = ["11"]
    path = write_lines(tmp_path / "page.jsonl", [v2_page])
    with pytest.raises(ev.EventsError) as info:
        twitter.read([path])
    assert str(info.value) == f'{path}:1: author_id must be a string id, got array ["11"]'
    result = twitter.read([path], on_error="skip")
    assert result.records_read == 4 and result.records_loaded == 3
    assert json.loads(result.skipped[0].record)["id"] == "201"
    assert sorted(result.events.get_column("event_id")) == ["200", "202", "203"]


def test_truncated_json_array(tmp_path: Path):
    path = tmp_path / "tweets.json"
    text = json.dumps([v2("1", "7"), v2("2", "7"), v2("3", "7")], indent=1)
    path.write_text(text[: text.index('"id": "3"')], encoding="utf-8")
    with pytest.raises(ev.EventsError, match=r"tweets\.json:\d+: invalid JSON"):
        twitter.read([path])
    result = twitter.read([path], on_error="skip")
    assert result.events.get_column("event_id").to_list() == ["1", "2"]
    assert (
        result.records_read == 3 and "the rest of the file is not read" in result.skipped[0].reason
    )


def test_duplicates_across_files_kept_once(tmp_path: Path, v2_page: dict):
    a = write_lines(tmp_path / "a.ndjson", [GOOD_A, GOOD_B])
    b = write_lines(tmp_path / "b.ndjson", [v1("4", "8"), GOOD_B])
    for mode in ("strict", "skip"):
        result = twitter.read([a, b], on_error=mode)
        assert result.events.get_column("event_id").to_list() == ["1", "3", "4"]
        [dup] = result.skipped
        assert (dup.source, dup.line, dup.reason) == (
            str(b),
            2,
            f"duplicate id '3' (kept once; first at {a}:2)",
        )
        assert result.records_read == 4 == result.records_loaded + len(result.skipped)
    # two overlapping v2 pages on two lines of one file: every repeated tweet reported
    path = write_lines(tmp_path / "pages.jsonl", [v2_page, v2_page])
    result = twitter.read([path])
    assert result.events.height == 4 and result.records_read == 8
    assert [(s.line, s.reason) for s in result.skipped] == [
        (2, f"duplicate id '{i}' (kept once; first at {path}:1)")
        for i in ("200", "201", "202", "203")
    ]


def test_other_platform_file(tmp_path: Path):
    reddit = write_lines(
        tmp_path / "rc.jsonl",
        [
            {
                "name": "t1_x",
                "author": "a",
                "created_utc": 1.0,
                "parent_id": "t3_y",
                "link_id": "t3_y",
            }
        ],
    )
    mastodon = write_lines(
        tmp_path / "statuses.jsonl",
        [
            {
                "id": "1",
                "created_at": "2024-01-01T00:00:00.000Z",
                "account": {"id": "1", "acct": "a"},
                "content": "<p>x</p>",
            }
        ],
    )
    for path in (reddit, mastodon):
        assert not twitter.sniff(path)
        with pytest.raises(ev.EventsError, match=r":1: not a Twitter tweet \(expected API v1.1"):
            twitter.read([path])


def test_empty_missing_and_directory_paths(tmp_path: Path):
    empty = tmp_path / "empty.ndjson"
    empty.write_text("")
    blank = tmp_path / "blank.ndjson"
    blank.write_text("\n  \n")
    good = write_lines(tmp_path / "good.ndjson", [GOOD_A])
    for mode in ("strict", "skip"):
        with pytest.raises(ev.EventsError) as info:
            twitter.read([good, empty, blank, tmp_path / "gone.ndjson", tmp_path], on_error=mode)
        assert sorted(str(p) for p in info.value.problems) == sorted(
            [
                f"{empty}: empty file (no Twitter records)",
                f"{blank}: empty file (no Twitter records)",
                f"{tmp_path / 'gone.ndjson'}: no such file",
                f"{tmp_path}: is a directory, not a Twitter file (pass the files inside it, e.g. {tmp_path}/*)",
            ]
        )
    for path in (empty, tmp_path / "gone.ndjson", tmp_path):
        assert not twitter.sniff(path)
    with pytest.raises(ValueError, match="no input files"):
        twitter.read([])


def test_only_bad_records_in_skip_mode_gives_empty_events(tmp_path: Path):
    path = tmp_path / "t.ndjson"
    path.write_text("{nope\n", encoding="utf-8")
    result = twitter.read([path], on_error="skip")
    assert result.events.height == 0 and result.events.schema == ev.SCHEMA
    assert result.records_read == 1 and len(result.skipped) == 1


# --------------------------------------------------------------------------- real export


@pytest.mark.real
def test_pheme_rumoureval_real_export():
    folder = real_data_dir(PHEME)
    path = folder / "tweets.ndjson"
    assert twitter.sniff(path)
    assert not twitter.sniff(folder / "threads.ndjson")
    result = twitter.read([path])
    events = result.events
    # PROVENANCE.md: 4,519 tweets = 297 source tweets + 4,222 replies; 297 threads;
    # 3,085 users; 7,425 mentions; no retweets or quotes; 2014-08-10 -> 2015-04-01
    assert (result.records_read, result.records_loaded, len(result.skipped)) == (4519, 4519, 0)
    counts = dict(events.group_by("action").len().iter_rows())
    assert counts == {"post": 297, "reply": 4222}
    assert events.get_column("thread_id").n_unique() == 297
    assert events.get_column("actor_id").n_unique() == 3085
    assert events.get_column("mentions").list.len().sum() == 7425
    assert events.get_column("timestamp").min().date().isoformat() == "2014-08-10"
    assert events.get_column("timestamp").max().date().isoformat() == "2015-04-01"
    # all replies resolve to a tweet in the file, so every target is known
    replies = events.filter(pl.col("action") == "reply")
    assert replies.get_column("parent_id").is_in(events.get_column("event_id").implode()).all()
    assert replies.get_column("target_actor_id").null_count() == 0
    # threads agree with the dataset's own index (source tweet id) for every tweet
    index = pl.read_csv(
        folder / "tweet_index.csv", schema_overrides={"tweet_id": pl.String, "thread_id": pl.String}
    )
    joined = events.join(index, left_on="event_id", right_on="tweet_id", how="inner")
    assert joined.height == 4519
    assert (joined.get_column("thread_id") == joined.get_column("thread_id_right")).all()
    # the example record of PROVENANCE.md, checked by hand
    row = events.filter(pl.col("event_id") == "524923106289516546").row(0, named=True)
    assert row["action"] == "reply" and row["actor_id"] == "147202533"
    assert (row["parent_id"], row["target_actor_id"], row["mentions"]) == (
        "524922729485848576",
        "44685373",
        ["44685373"],
    )
    assert row["timestamp"] == datetime(2014, 10, 22, 13, 59, 55, tzinfo=UTC)
    # leaders are named by screen name: looked up through the user objects
    names = twitter.screen_names(path)
    ids = {name: uid for uid, name in names.items()}
    posts = events.filter(pl.col("action") == "post")
    for leader in ("BBCBreaking", "cnnbrk", "RT_com", "WSJ", "guardian", "AFP"):
        assert posts.filter(pl.col("actor_id") == ids[leader]).height >= 1, leader
    # 137 replies by the source author inside their own thread (Uber_Sydney 21, Henderburn 8, BBCBreaking 5)
    roots = posts.select(pl.col("event_id").alias("thread_id"), pl.col("actor_id").alias("root"))
    own = replies.join(roots, on="thread_id").filter(pl.col("actor_id") == pl.col("root"))
    assert own.height == 137
    per = dict(own.group_by("actor_id").len().iter_rows())
    assert [per[ids[n]] for n in ("Uber_Sydney", "Henderburn", "BBCBreaking")] == [21, 8, 5]


def test_read_collects_the_names_screen_names_gives(tmp_path: Path, v1_file: Path, v2_page: dict):
    from tribe_analysis import io

    v2_file = tmp_path / "page.json"
    v2_file.write_text(json.dumps(v2_page))
    for paths in ([v1_file], [v2_file], [v1_file, v2_file]):
        assert io.read(paths, format="twitter").names == io.account_names(paths, "twitter")
    assert io.read([v1_file]).names["1"] == "BBCBreaking"


@pytest.mark.real
def test_pheme_names_from_the_read_pass():
    from tribe_analysis import io

    path = real_data_dir(PHEME) / "tweets.ndjson"
    names = io.read([path]).names
    assert names == io.account_names([path], "twitter")
    assert "BBCBreaking" in names.values()


def test_a_reported_copy_keeps_its_text_though_loaded_records_are_not_held(tmp_path: Path):
    # JSON lines, and a JSON array written on one line (two elements start on line 1)
    lines = write_lines(tmp_path / "a.ndjson", [GOOD_A, GOOD_B])
    one_line = tmp_path / "b.json"
    one_line.write_text(json.dumps([v1("5", "7"), GOOD_B, GOOD_A]), encoding="utf-8")
    sink = _base.Sink()
    for path in (lines, one_line):
        for line, raw, _ in _json._json_records(path, sink):
            sink.record(path, line, raw, lambda: None)
    assert sink._raws == [None] * 5  # only their places are kept
    result = twitter.read([lines, one_line])
    assert [(s.line, s.record) for s in result.skipped] == [
        (1, json.dumps(GOOD_B)),
        (1, json.dumps(GOOD_A)),
    ]
    # a file that changed after it was read: a note, never another record's text
    sink = _base.Sink()
    for line, raw, _ in _json._json_records(lines, sink):
        sink.record(lines, line, raw, lambda: None)
    write_lines(lines, [GOOD_B, GOOD_A | {"text": "edited since"}])
    assert sink.raw_texts([1, 2]) == {1: _base._CHANGED, 2: _base._CHANGED}
    assert len(json.dumps(GOOD_A)) == len(json.dumps(GOOD_B))  # the same length, another text


def test_rows_packed_in_batches_read_the_same(tmp_path: Path, monkeypatch):
    # bad records, a repeated tweet and a reply cycle, over rows packed two at a time
    cycle = [
        v1("20", "8", in_reply_to_status_id_str="21"),
        v1("21", "9", in_reply_to_status_id_str="20"),
    ]
    good = [GOOD_A, v1("4", "8", in_reply_to_status_id_str="1"), *cycle, GOOD_B]
    path = tmp_path / "t.ndjson"
    lines = [json.dumps(o) for o in good] + ["{not json", json.dumps(GOOD_A), json.dumps(GOOD_B)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = twitter.read([path], on_error="skip")
    monkeypatch.setattr(twitter, "Sink", lambda on_error: _base.Sink(on_error, batch=2))
    packed = twitter.read([path], on_error="skip")
    assert packed.events.equals(whole.events) and packed.skipped == whole.skipped
    assert [s.line for s in packed.skipped] == [6, 7, 8, 3, 4]  # as they are found
    assert [s.record for s in packed.skipped[1:]] == lines[6:] + lines[2:4]
    assert packed.records_read == 8 == packed.records_loaded + len(packed.skipped)
