"""Stack Exchange dump reader: the real History meta dump and small hand-made dumps."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import consistent, one_problem, real_data_dir
from tribe_analysis import events as ev
from tribe_analysis.io import stackexchange as se

HEAD = '\ufeff<?xml version="1.0" encoding="utf-8"?>\n'
Q1 = '<row Id="1" PostTypeId="1" CreationDate="2020-01-01T10:00:00.000" OwnerUserId="7" Title="Q" Body="&lt;p&gt;why?&lt;/p&gt;" />'
A2 = '<row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-01T11:00:00.000" OwnerUserId="8" Body="because" />'
A3 = '<row Id="3" PostTypeId="2" ParentId="1" CreationDate="2020-01-01T12:00:00.000" OwnerDisplayName="Gone Guy" />'
W4 = '<row Id="4" PostTypeId="5" CreationDate="2020-01-01T09:00:00.000" OwnerUserId="-1" />'
C1 = '<row Id="1" PostId="2" Text="@8 thanks" CreationDate="2020-01-01T13:00:00.000" UserId="7" />'
C2 = '<row Id="2" PostId="1" Text="hm" CreationDate="2020-01-01T14:00:00.000" UserDisplayName="anon" />'


def write_dump(
    folder: Path, posts: list[str], comments: list[str], *, posts_text: str | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = HEAD + "<posts>\n" + "".join(f"  {r}\n" for r in posts) + "</posts>\n"
    (folder / "Posts.xml").write_text(posts_text if posts_text is not None else text, "utf-8")
    (folder / "Comments.xml").write_text(
        HEAD + "<comments>\n" + "".join(f"  {r}\n" for r in comments) + "</comments>\n", "utf-8"
    )
    return folder


# --------------------------------------------------------------------------- mapping


def test_mapping_of_questions_answers_comments_and_deleted_users(tmp_path):
    dump = write_dump(tmp_path / "site", [Q1, A2, A3, W4], [C1, C2])
    result = se.read([dump])
    assert result.platform == "stackexchange"
    assert result.observability == {
        "post": True,
        "reply": True,
        "share": False,
        "reaction": False,
        "mention": False,
        "reply_chain": False,
    }
    # the tag wiki is neither loaded nor counted
    assert (result.records_read, result.records_loaded, result.skipped) == (5, 5, [])
    rows = {r["event_id"]: r for r in result.events.iter_rows(named=True)}
    assert set(rows) == {"post:1", "post:2", "post:3", "comment:1", "comment:2"}
    assert rows["post:1"]["action"] == "post" and rows["post:1"]["text"].startswith("Q\n\n<p>why?")
    assert rows["post:2"] | {"text": None, "timestamp": None} == {
        "event_id": "post:2",
        "timestamp": None,
        "actor_id": "8",
        "action": "reply",
        "parent_id": "post:1",
        "thread_id": "post:1",
        "target_actor_id": "7",
        "mentions": [],
        "text": None,
        "platform": "stackexchange",
    }
    assert rows["post:3"]["actor_id"] == "deleted:Gone Guy"
    # comments reply to the post they are on; the thread is the question
    assert (rows["comment:1"]["parent_id"], rows["comment:1"]["thread_id"]) == ("post:2", "post:1")
    assert rows["comment:1"]["target_actor_id"] == "8"
    assert rows["comment:1"]["mentions"] == []  # "@name" is text, not a typed mention
    assert rows["comment:2"]["actor_id"] == "deleted:anon"
    assert str(rows["post:2"]["timestamp"]) == "2020-01-01 11:00:00+00:00"  # dumps are UTC


def test_sniff_recognises_a_dump_folder_only(tmp_path):
    dump = write_dump(tmp_path / "site", [Q1], [C1])
    assert se.sniff(dump)
    assert not se.sniff(dump / "Posts.xml")  # the input is the folder
    assert not se.sniff(tmp_path / "missing")
    other = tmp_path / "other"
    other.mkdir()
    (other / "tweets.ndjson").write_text(json.dumps({"id_str": "1", "text": "hi"}) + "\n")
    assert not se.sniff(other)
    (other / "Posts.xml").write_text('{"id_str": "1"}\n')
    (other / "Comments.xml").write_text("\n")
    assert not se.sniff(other)


# --------------------------------------------------------------------------- bad records


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            '<row Id="abc" PostTypeId="1" CreationDate="2020-01-01T10:00:00" OwnerUserId="7" />',
            "malformed Id 'abc' (expected an integer)",
        ),
        (
            '<row PostTypeId="1" CreationDate="2020-01-01T10:00:00" OwnerUserId="7" />',
            "missing Id",
        ),
        (
            '<row Id="9" PostTypeId="2" CreationDate="2020-01-01T10:00:00" OwnerUserId="7" />',
            "answer (PostTypeId 2) without ParentId",
        ),
        (
            '<row Id="9" PostTypeId="1" CreationDate="yesterday" OwnerUserId="7" />',
            "malformed CreationDate 'yesterday'",
        ),
        (
            '<row Id="9" PostTypeId="1" CreationDate="2020-01-01T10:00:00" />',
            "missing OwnerUserId (and no OwnerDisplayName): author unknown",
        ),
        (
            '<row Id="9" PostTypeId="1" CreationDate="2020-01-01T10:00:00" OwnerUserId="{}" />',
            "malformed OwnerUserId '{}' (expected an integer)",
        ),
        (
            '<row Id="9" PostTypeId="1" CreationDate="2020-01-01T10:00:00" OwnerUserId="7"',
            "malformed XML row (not well-formed (invalid token))",
        ),
        ("<question>1</question>", "unexpected element <question>"),
        (  # a valid time that UTC moves before the year 1 (raised OverflowError)
            '<row Id="9" PostTypeId="1" CreationDate="0001-01-01T00:30:00+01:00" OwnerUserId="7" />',
            "CreationDate out of range '0001-01-01T00:30:00+01:00' (years 1 to 9999 in UTC)",
        ),
    ],
)
def test_bad_post_row_strict_and_skip(tmp_path, row, reason):
    dump = write_dump(tmp_path / "site", [Q1, row, A2], [C1])
    posts = dump / "Posts.xml"
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump])
    assert one_problem(excinfo) == f"{posts}:4: {reason}"
    result = se.read([dump], on_error="skip")
    consistent(result)
    assert (result.records_read, result.records_loaded) == (4, 3)
    [skipped] = result.skipped
    assert (skipped.source, skipped.line, skipped.reason, skipped.record) == (
        str(posts),
        4,
        reason,
        row,
    )
    assert set(result.events["event_id"]) == {"post:1", "post:2", "comment:1"}


def test_truncated_row_does_not_swallow_the_next_row(tmp_path):
    cut = '<row Id="5" PostTypeId="1" CreationDate="2020-01-01T10:00:00" OwnerUserId="7" Body="he'
    dump = write_dump(tmp_path / "site", [Q1, cut, A2, A3], [C1])
    result = se.read([dump], on_error="skip")
    consistent(result)
    [skipped] = result.skipped
    assert (skipped.line, skipped.record) == (4, cut)
    assert skipped.reason.startswith("malformed XML row")
    assert set(result.events["event_id"]) == {"post:1", "post:2", "post:3", "comment:1"}


def test_truncated_file_reports_its_last_row(tmp_path):
    dump = write_dump(tmp_path / "site", [], [C1])
    text = HEAD + "<posts>\n  " + Q1 + "\n  " + A2[:40]
    (dump / "Posts.xml").write_text(text, "utf-8")
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump])
    assert one_problem(excinfo).startswith(f"{dump / 'Posts.xml'}:4: malformed XML row")
    result = se.read([dump], on_error="skip")
    consistent(result)
    assert result.records_loaded == 2 and result.skipped[0].record == A2[:40].strip()


def test_bad_comment_rows(tmp_path):
    no_post = '<row Id="5" Text="x" CreationDate="2020-01-01T10:00:00.000" UserId="7" />'
    dump = write_dump(tmp_path / "site", [Q1], [C2, no_post])
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump])
    assert one_problem(excinfo) == f"{dump / 'Comments.xml'}:4: comment without PostId"
    result = se.read([dump], on_error="skip")
    consistent(result)
    assert result.records_loaded == 2


def test_non_utf8_line(tmp_path):
    dump = write_dump(tmp_path / "site", [Q1, "PLACEHOLDER", A2], [C1])
    posts = dump / "Posts.xml"
    bad = b'<row Id="5" PostTypeId="1" CreationDate="2020-01-01T10:00:00" OwnerUserId="7" Body="caf\xe9" />'
    posts.write_bytes(posts.read_bytes().replace(b"PLACEHOLDER", bad))
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump])
    column = (b"  " + bad).index(b"\xe9") + 1
    assert one_problem(excinfo) == f"{posts}:4: not UTF-8: byte 0xe9 at column {column}"
    result = se.read([dump], on_error="skip")
    consistent(result)
    assert result.records_loaded == 3 and "caf\ufffd" in result.skipped[0].record


# --------------------------------------------------------------------------- bad inputs


def test_not_a_dump_file_is_an_error_in_both_modes(tmp_path):
    dump = write_dump(tmp_path / "site", [Q1], [C1], posts_text='{"id_str": "1", "text": "hi"}\n')
    for mode in ("strict", "skip"):
        with pytest.raises(ev.EventsError) as excinfo:
            se.read([dump], on_error=mode)
        assert one_problem(excinfo) == (
            f"{dump / 'Posts.xml'}:1: not an XML file (not well-formed (invalid token))"
        )
    wrong_root = write_dump(tmp_path / "users", [], [C1], posts_text=HEAD + "<users>\n</users>\n")
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([wrong_root], on_error="skip")
    assert "root element <users>, expected <posts>" in one_problem(excinfo)


def test_empty_and_missing_inputs(tmp_path):
    dump = write_dump(tmp_path / "site", [], [])
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump], on_error="skip")
    assert one_problem(excinfo) == f"{dump}: no stackexchange records found"
    (dump / "Posts.xml").write_text("")
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump])
    assert one_problem(excinfo) == f"{dump / 'Posts.xml'}: empty file (no XML)"
    for path, reason in [
        (tmp_path / "nowhere", "no such folder"),
        (dump / "Posts.xml", "is a file: give the dump folder (with Posts.xml and Comments.xml)"),
    ]:
        with pytest.raises(ev.EventsError) as excinfo:
            se.read([path], on_error="skip")
        assert one_problem(excinfo) == f"{path}: {reason}"
    write_dump(dump, [Q1], [])
    (dump / "Comments.xml").unlink()
    with pytest.raises(ev.EventsError) as excinfo:
        se.read([dump], on_error="skip")
    assert one_problem(excinfo) == f"{dump / 'Comments.xml'}: missing (a dump has Comments.xml)"


def test_duplicates_across_two_dumps_are_kept_once_and_reported(tmp_path):
    first = write_dump(tmp_path / "a", [Q1, A2], [C1])
    second = write_dump(tmp_path / "b", [A2, A3], [])
    for mode in ("strict", "skip"):
        result = se.read([first, second], on_error=mode)
        consistent(result)
        assert result.events.height == 4
        [dup] = result.skipped
        assert (dup.source, dup.line, dup.reason) == (
            str(second / "Posts.xml"),
            3,
            f"duplicate id 'post:2' (kept once; first at {first / 'Posts.xml'}:4)",
        )
        assert dup.record == A2


# --------------------------------------------------------------------------- the real dump


@pytest.mark.real
def test_real_history_meta_dump():
    folder = real_data_dir("stackexchange_history_meta")
    assert se.sniff(folder)
    result = se.read([folder])
    # PROVENANCE.md: 1,657 posts (556 questions, 1,095 answers, 6 tag-wiki rows) and 3,454 comments
    assert result.records_read == 556 + 1095 + 3454
    assert result.records_loaded == result.records_read and result.skipped == []
    events = result.events
    counts = dict(events.group_by("action").len().iter_rows())
    assert counts == {"post": 556, "reply": 1095 + 3454}
    assert events.filter(pl.col("event_id").str.starts_with("comment:")).height == 3454
    # every answer and comment resolves to a post of the file
    replies = events.filter(pl.col("action") == "reply")
    assert replies["target_actor_id"].null_count() == 0
    assert replies.join(events, left_on="parent_id", right_on="event_id", how="anti").is_empty()
    # deleted accounts: 46 posts and 142 comments keep only a display name
    assert events.filter(pl.col("actor_id").str.starts_with("deleted:")).height == 46 + 142
    # leaders named in PROVENANCE.md (user ids)
    actors = dict(events.group_by("actor_id").len().iter_rows())
    for leader in ("30", "19", "771", "1401", "4935", "24858", "85", "739", "332"):
        assert actors.get(leader, 0) > 0, leader
    assert actors["771"] == 588 - 2  # T.E.D.: 588 posts+comments, 2 of them tag wikis
    # hand-checked rows
    rows = {r["event_id"]: r for r in events.iter_rows(named=True)}
    assert (rows["post:2"]["actor_id"], rows["post:2"]["parent_id"]) == ("12", "post:1")
    assert rows["post:2"]["target_actor_id"] == "12"  # answered his own question
    assert rows["comment:1"]["parent_id"] == "post:3"
    assert rows["comment:1"]["target_actor_id"] == rows["post:3"]["actor_id"] == "31"
    assert str(rows["post:1"]["timestamp"]) == "2011-10-11 19:42:20.713000+00:00"
    on_answer = events.filter(
        pl.col("event_id").str.starts_with("comment:")
        & pl.col("parent_id").is_in(replies["event_id"].implode())
    ).row(0, named=True)
    assert on_answer["thread_id"] == rows[on_answer["parent_id"]]["parent_id"]


def test_read_collects_the_names_of_users_xml(tmp_path):
    from tribe_analysis import io

    bare = write_dump(tmp_path / "bare", [Q1, A2, A3], [C1, C2])
    named = write_dump(tmp_path / "named", [Q1, A2], [C1])
    (named / "Users.xml").write_text(
        HEAD + "<users>\n"
        '  <row Id="7" DisplayName="Ann" />\n'
        '  <row Id="8" DisplayName="" />\n'
        '  <row Id="9" DisplayName="Cid" />\n'
        '  <row Id="010" DisplayName="Dee" />\n'  # user 10, as the rows' ids are read
        '  <row Id="x" DisplayName="Eve" />\n'
        "</users>\n",
        "utf-8",
    )
    for paths in ([bare], [named]):
        assert io.read(paths, format="stackexchange").names == io.account_names(
            paths, "stackexchange"
        )
    assert io.read([bare]).names == {}
    assert io.read([named]).names == {"7": "Ann", "9": "Cid", "10": "Dee"}


@pytest.mark.real
def test_real_history_meta_names_from_the_read_pass():
    from tribe_analysis import io

    folder = real_data_dir("stackexchange_history_meta")
    names = io.read([folder]).names
    assert names == io.account_names([folder], "stackexchange")
    assert len(names) > 1000 and names["771"]


def test_integer_ids_are_read_as_numbers(tmp_path):
    """``ParentId="01"`` names post 1 (the dump writes ``post:<Id>`` of a number)."""
    answer = A2.replace(
        'Id="2" PostTypeId="2" ParentId="1"', 'Id="002" PostTypeId="2" ParentId="01"'
    )
    comment = C1.replace('PostId="2"', 'PostId="02"').replace('UserId="7"', 'UserId="07"')
    signed = C2.replace('Id="2" PostId="1"', 'Id="3" PostId="+1"')
    result = se.read(
        [write_dump(tmp_path / "site", [Q1, answer], [comment, signed])], on_error="skip"
    )
    assert [s.reason for s in result.skipped] == ["malformed PostId '+1' (expected an integer)"]
    got = result.events.select("event_id", "parent_id", "actor_id", "target_actor_id").rows()
    assert got == [
        ("post:1", None, "7", None),
        ("post:2", "post:1", "8", "7"),
        ("comment:1", "post:2", "7", "8"),
    ]


# --------------------------------------------------------------------------- @name replies

USERS = {"7": "Ann Ray", "8": "Bée Côté", "9": "Cy", "10": "Ann Other"}


def _with_users(folder: Path, users: dict[str, str] = USERS) -> Path:
    rows = "".join(f'  <row Id="{i}" DisplayName="{n}" />\n' for i, n in users.items())
    (folder / "Users.xml").write_text(HEAD + f"<users>\n{rows}</users>\n", "utf-8")
    return folder


def _comment(i: int, post: int, user: str, text: str, minute: int) -> str:
    return (
        f'<row Id="{i}" PostId="{post}" Text="{text}" '
        f'CreationDate="2020-01-02T10:{minute:02d}:00.000" UserId="{user}" />'
    )


def _parents(folder: Path) -> dict[str, tuple[str, str, str]]:
    events = se.read([folder]).events
    return {
        r[0]: r[1:]
        for r in events.select("event_id", "parent_id", "target_actor_id", "thread_id").rows()
    }


def test_a_comment_answers_the_comment_its_at_name_addresses(tmp_path):
    """Stack Exchange's @reply rules: the first @name, case, spaces and accents aside."""
    comments = [
        _comment(1, 2, "9", "why so?", 0),  # Cy on Bée's answer
        _comment(2, 2, "7", "no idea", 1),  # Ann
        _comment(3, 2, "8", "@cy: because", 2),  # Bée answers Cy
        _comment(4, 2, "9", "@BeeCote, thanks @Ann", 3),  # the first @name counts
        _comment(5, 2, "8", "@Cy again", 4),  # the latest comment of Cy
        _comment(6, 2, "7", "@Be hm", 5),  # two letters address no one
        _comment(7, 2, "9", "mail cy@example.org", 6),  # an address is no @name
        _comment(8, 1, "7", "@Cy on the question", 7),  # Cy never commented there
        _comment(9, 2, "8", "@Bée myself", 8),  # never one's own comment
        _comment(10, 2, "9", "@Bée.", 9),  # one final punctuation mark is ignored
    ]
    got = _parents(_with_users(write_dump(tmp_path / "s", [Q1, A2], comments)))
    assert got["comment:1"] == ("post:2", "8", "post:1")
    assert got["comment:3"] == ("comment:1", "9", "post:1")
    assert got["comment:4"] == ("comment:3", "8", "post:1")
    assert got["comment:5"] == ("comment:4", "9", "post:1")
    for kept in ("comment:6", "comment:7", "comment:9"):
        assert got[kept][:2] == ("post:2", "8"), kept
    assert got["comment:8"] == ("post:1", "7", "post:1")
    assert got["comment:10"] == ("comment:9", "8", "post:1")


def test_at_name_of_the_owner_or_of_a_later_commenter_stays_on_the_post(tmp_path):
    comments = [
        _comment(1, 2, "7", "@Bée nice answer", 0),  # Bée owns the answer: the post
        _comment(2, 2, "9", "@Ann Ray who?", 1),  # the first word, and Ann commented
        _comment(3, 2, "10", "@Cy no", 2),  # Cy commented before
        _comment(4, 2, "7", "@AnnO hi", 3),  # Ann Other's... she commented at 2
        _comment(5, 2, "9", "@Dee later", 4),  # no such commenter
    ]
    got = _parents(_with_users(write_dump(tmp_path / "s", [Q1, A2], comments)))
    assert got["comment:1"][:2] == ("post:2", "8")
    assert got["comment:2"][:2] == ("comment:1", "7")
    assert got["comment:3"][:2] == ("comment:2", "9")
    assert got["comment:4"][:2] == ("comment:3", "10")
    assert got["comment:5"][:2] == ("post:2", "8")


def test_the_owner_answers_the_single_other_commenter_without_at_name(tmp_path):
    """The platform notifies the only other commenter of the owner's comment."""
    one = [_comment(1, 2, "9", "why?", 0), _comment(2, 2, "8", "see the link", 1)]
    got = _parents(_with_users(write_dump(tmp_path / "one", [Q1, A2], one)))
    assert got["comment:2"][:2] == ("comment:1", "9")
    two = [*one[:1], _comment(3, 2, "7", "and how?", 1), _comment(2, 2, "8", "see the link", 2)]
    got = _parents(_with_users(write_dump(tmp_path / "two", [Q1, A2], two)))
    assert got["comment:2"][:2] == ("post:2", "8")  # two others: whom it answers is unknown
    mine = [_comment(1, 2, "8", "edit: fixed", 0), _comment(2, 2, "8", "again", 1)]
    got = _parents(_with_users(write_dump(tmp_path / "mine", [Q1, A2], mine)))
    assert got["comment:2"][:2] == ("post:2", "8")


def test_without_users_xml_comments_stay_flat_and_reply_chains_are_unobservable(tmp_path):
    comments = [_comment(1, 2, "9", "why?", 0), _comment(2, 2, "7", "@Cy because", 1)]
    bare = write_dump(tmp_path / "bare", [Q1, A2], comments)
    result = se.read([bare])
    assert result.observability["reply_chain"] is False
    assert result.notes == [
        f"no readable Users.xml in {bare}: comments stay replies to their post (whom a "
        "comment answers by @name needs the display names; docs/formats.md)"
    ]
    assert _parents(bare)["comment:2"][:2] == ("post:2", "8")
    named = _with_users(write_dump(tmp_path / "named", [Q1, A2], comments))
    assert se.read([named]).observability["reply_chain"] is True
    assert se.read([named]).notes == [
        "1 of 2 comments answer another comment, the one their @name addresses (Stack "
        "Exchange's @reply rules, docs/formats.md); the others reply to their post"
    ]
    assert _parents(named)["comment:2"][:2] == ("comment:1", "9")
    (named / "Users.xml").write_text(HEAD + '<users>\n  <row Id="9" DisplayName="Cy"\n', "utf-8")
    assert se.read([named]).observability["reply_chain"] is False  # a broken Users.xml
    assert _parents(named)["comment:2"][:2] == ("post:2", "8")
    # two folders: every one needs its names
    both = se.read([named.parent / "bare", _with_users(named)])
    assert both.observability["reply_chain"] is False
    assert both.notes[0].startswith(f"no readable Users.xml in {named.parent / 'bare'}: ")


@pytest.mark.real
def test_real_history_meta_at_name_replies():
    """On the History meta dump, 991 of 3,454 comments answer another comment."""
    events = se.read([real_data_dir("stackexchange_history_meta")]).events
    comments = events.filter(pl.col("event_id").str.starts_with("comment:"))
    answering = comments.filter(pl.col("parent_id").str.starts_with("comment:"))
    assert answering.height == 991
    rows = {r["event_id"]: r for r in events.iter_rows(named=True)}
    for row in answering.iter_rows(named=True):
        parent = rows[row["parent_id"]]
        assert parent["timestamp"] <= row["timestamp"] and parent["actor_id"] != row["actor_id"]
        assert row["thread_id"] == parent["thread_id"]
    # hand-checked: Robert Cartaino (30) answers Christopher Rayl (5) on post 13
    cartaino = answering.filter(pl.col("text").str.starts_with("@ChristopherRayl:")).row(
        0, named=True
    )
    assert (cartaino["actor_id"], cartaino["target_actor_id"]) == ("30", "5")
