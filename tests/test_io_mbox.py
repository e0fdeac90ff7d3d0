"""mbox reader: the real everything-list archive and small hand-made mailboxes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import consistent, one_problem, real_data_dir, rows
from tribe_analysis import events as ev
from tribe_analysis.errors import RecordError
from tribe_analysis.io import mbox

SEP = "From MAILER-DAEMON Mon Jan  1 00:00:00 2024"
NO_DATE = "From MAILER-DAEMON"  # a From line without a date


def message(
    mid: str | None,
    *,
    sender: str = "Ann <ann@example.org>",
    date: str | None = "Mon, 1 Jan 2024 10:00:00 +0000",
    subject: str = "Plans",
    extra: str = "",
    body: str = "hello",
    sep: str = SEP,
) -> str:
    headers = [f"From: {sender}"]
    if date is not None:
        headers.append(f"Date: {date}")
    headers.append(f"Subject: {subject}")
    if mid is not None:
        headers.append(f"Message-ID: {mid}")
    if extra:
        headers.append(extra)
    return sep + "\n" + "\n".join(headers) + "\n\n" + body + "\n\n"


def one_bad_message(path: Path, line: int, reason: str, *, kept: set[str]) -> None:
    """A strict read stops at the message; a skip read quarantines it alone and loads ``kept``."""
    with pytest.raises(ev.EventsError) as excinfo:
        mbox.read([path])
    assert one_problem(excinfo) == f"{path}:{line}: {reason}"
    result = mbox.read([path], on_error="skip")
    consistent(result)
    assert [(s.line, s.reason) for s in result.skipped] == [(line, reason)]
    assert set(result.events["event_id"]) == kept


def write(path: Path, *messages: str) -> Path:
    path.write_text("".join(messages), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- mapping


def test_headers_map_to_events(tmp_path):
    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>", sender='"Ann A." <Ann@Example.ORG>'),
        message(
            "<m2@x>",
            sender="bob@example.org",
            date="Mon, 1 Jan 2024 12:30:00 +0200",
            subject="Re: Plans",
            extra="In-Reply-To: <m1@x>\nReferences: <m0@x> <zz@x>",
        ),
        message(
            "<m3@x>",
            sender="Cid <cid@example.org>",
            date="Mon, 1 Jan 2024 11:00:00 -0000",  # RFC 5322: UTC, local zone unknown
            subject="other",
            extra="References: <m0@x>\n <m2@x>",
        ),
    )
    result = mbox.read([path])
    assert result.platform == "mbox"
    assert result.observability == {
        "post": True,
        "reply": True,
        "share": False,
        "reaction": False,
        "mention": False,
    }
    got = rows(result)
    assert got["m1@x"]["actor_id"] == "ann@example.org"  # address, lower-cased
    assert got["m1@x"]["action"] == "post" and got["m1@x"]["text"].strip() == "hello"
    # In-Reply-To wins over References
    assert (got["m2@x"]["parent_id"], got["m2@x"]["target_actor_id"]) == ("m1@x", "ann@example.org")
    assert str(got["m2@x"]["timestamp"]) == "2024-01-01 10:30:00+00:00"
    # without In-Reply-To the last References id is the parent
    assert (got["m3@x"]["parent_id"], got["m3@x"]["thread_id"]) == ("m2@x", "m1@x")
    assert str(got["m3@x"]["timestamp"]) == "2024-01-01 11:00:00+00:00"
    assert all(r["mentions"] == [] for r in got.values())


def test_subject_threading(tmp_path):
    path = write(
        tmp_path / "list.mbox",
        message("<late@x>", subject="Re: Plans", date="Mon, 1 Jan 2024 12:00:00 +0000"),
        message("<first@x>", subject="[list] Plans", date="Mon, 1 Jan 2024 10:00:00 +0000"),
        message("<second@x>", subject="RE: re: plans", date="Mon, 1 Jan 2024 11:00:00 +0000"),
        message("<orphan@x>", subject="Re: Something else", date="Mon, 1 Jan 2024 09:00:00 +0000"),
        message("<fwd@x>", subject="Fwd: Something else", date="Mon, 1 Jan 2024 13:00:00 +0000"),
    )
    result = mbox.read([path])
    got = rows(result)
    assert result.notes[0].startswith("3 replies have neither In-Reply-To nor References:")
    assert mbox.read([write(tmp_path / "posts.mbox", message("<p@x>"))]).notes == []
    # "Re: X" replies to the earliest earlier message whose normalised subject is X
    assert got["first@x"]["action"] == "post"
    assert got["second@x"]["parent_id"] == "first@x"
    assert got["late@x"]["parent_id"] == "first@x"
    # nothing earlier: a reply whose parent is unknown (never a post)
    assert got["orphan@x"]["action"] == "reply"
    assert got["orphan@x"]["parent_id"] == "unknown-parent-of:orphan@x"
    assert got["orphan@x"]["target_actor_id"] is None
    # a forward starts a thread
    assert got["fwd@x"]["action"] == "post"


def test_sniff(tmp_path):
    path = write(tmp_path / "list.mbox", message("<m1@x>"))
    assert mbox.sniff(path)
    assert not mbox.sniff(tmp_path)
    assert not mbox.sniff(tmp_path / "missing.mbox")
    other = tmp_path / "tweets.ndjson"
    other.write_text(json.dumps({"id_str": "1", "text": "From here"}) + "\n")
    assert not mbox.sniff(other)
    prose = tmp_path / "notes.txt"
    prose.write_text("From the start we knew.\nIt was late.\n")
    assert not mbox.sniff(prose)


# --------------------------------------------------------------------------- bad records


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (message(None), "missing Message-ID header"),
        (message("<broken@x", date=None, sep=NO_DATE), "missing Date header"),
        (
            message("<m9@x>", date="sometime soon", sep=NO_DATE),
            "malformed Date header 'sometime soon'",
        ),
        (
            message("<m9@x>", date="Mon, 1 Jan 2024 10:00:00", sep=NO_DATE),
            "Date header has no time zone 'Mon, 1 Jan 2024 10:00:00'",
        ),
        (message("<m9@x>", sender="Ann Smith"), "no address in From header 'Ann Smith'"),
        (message("<m9@x>", sender="Ann <>"), "no address in From header 'Ann <>'"),
        (message("<m9@x>", sender=""), "missing From header"),
        (message("two words"), "malformed Message-ID header 'two words'"),
        (message("<m9@x>", extra="In-Reply-To: <m9@x>"), "message replies to itself"),
    ],
)
def test_bad_message_strict_and_skip(tmp_path, bad, reason):
    path = write(tmp_path / "list.mbox", message("<m1@x>"), bad, message("<m3@x>"))
    with pytest.raises(ev.EventsError) as excinfo:
        mbox.read([path])
    line = 1 + message("<m1@x>").count("\n")
    assert one_problem(excinfo).startswith(f"{path}:{line}: {reason}")
    result = mbox.read([path], on_error="skip")
    consistent(result)
    assert (result.records_read, result.records_loaded) == (3, 2)
    [skipped] = result.skipped
    assert (skipped.line, skipped.reason.startswith(reason)) == (line, True)
    assert skipped.record == bad.split("\n", 1)[1].rstrip("\n") + "\n"  # the message verbatim
    assert set(result.events["event_id"]) == {"m1@x", "m3@x"}


def test_non_utf8_header(tmp_path):
    path = tmp_path / "list.mbox"
    path.write_bytes(
        message("<m1@x>").encode()
        + message("<m2@x>", sender="Ann \udcff <ann@x>").encode("utf-8", "surrogateescape")
        + message("<m3@x>", sender="Zoë <zoe@x>").encode()
    )
    with pytest.raises(ev.EventsError) as excinfo:
        mbox.read([path])
    assert one_problem(excinfo) == f"{path}:9: From header is not UTF-8 (byte 0xff)"
    result = mbox.read([path], on_error="skip")
    consistent(result)
    assert set(result.events["actor_id"]) == {"ann@example.org", "zoe@x"}  # UTF-8 names are fine


# --------------------------------------------------------------------------- dates


RECEIVED = (
    "Received: from relay.example.net by mx.example.org; Tue, 2 Jan 2024 09:00:05 +0100\n"
    "Received: from ann-pc (ann-pc [10.0.0.2])\n"
    "  by relay.example.net; Tue, 2 Jan 2024 08:59:58 +0100\n"
    "Received: from nowhere (no date in this one)"
)


@pytest.mark.parametrize("date", [None, "", "Thu, 31 Dec 1998 16:18:56 +875200"])
def test_date_from_the_earliest_received_header_when_date_is_unusable(tmp_path, date):
    # the From separator carries another date (an archive rebuilt later): it is never used
    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>"),
        message("<m2@x>", date=date, extra=RECEIVED),
    )
    got = rows(mbox.read([path]))
    # the last Received: header with a date is the first server's: 08:59:58 +0100
    assert str(got["m2@x"]["timestamp"]) == "2024-01-02 07:59:58+00:00"


def test_no_usable_date_is_one_bad_message_never_a_guess(tmp_path):
    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>"),
        message("<m2@x>", date="", extra="Received: from nowhere (no date)", sep=NO_DATE),
        message("<m3@x>"),
    )
    line = 1 + message("<m1@x>").count("\n")
    reason = (
        "empty Date header, no Received: header with a date, no date on its From line, "
        "and no archive receipt line (a date is never guessed)"
    )
    one_bad_message(path, line, reason, kept={"m1@x", "m3@x"})


@pytest.mark.parametrize("date", [None, "", "Thu, 31 Dec 1998 16:18:56 +875200"])
def test_date_from_the_from_line_when_no_header_has_one(tmp_path, date):
    # RFC 4155: the From line's date is the UTC time the message was received
    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>"),  # Date 10:00 +0000, From line 00:00: the same day
        message("<m2@x>", date=date, sep="From ann@example.org Tue Jan  2 09:15:00 2024"),
    )
    got = rows(mbox.read([path]))
    assert str(got["m2@x"]["timestamp"]) == "2024-01-02 09:15:00+00:00"
    # a Received: header comes first (it has a zone)
    path = write(
        tmp_path / "list.mbox",
        message("<m2@x>", date=date, extra=RECEIVED, sep="From x Tue Jan  2 09:15:00 2024"),
    )
    assert str(rows(mbox.read([path]))["m2@x"]["timestamp"]) == "2024-01-02 07:59:58+00:00"


def test_from_lines_of_a_rebuilt_archive_are_not_used(tmp_path):
    rebuilt = "From MAILER-DAEMON Fri Nov 27 06:11:29 2026"  # the rebuild date, not delivery
    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>", sep=rebuilt),
        message("<m2@x>", sep=rebuilt, date="Tue, 2 Jan 2024 10:00:00 +0000"),
        message("<m3@x>", sep=rebuilt, date=""),
    )
    line = 1 + 2 * message("<m1@x>").count("\n")
    reason = (
        "empty Date header, no Received: header with a date, its From line's date is not "
        "used (in this file From lines differ from Date headers by a median of 1,061 days), "
        "and no archive receipt line (a date is never guessed)"
    )
    with pytest.raises(ev.EventsError) as excinfo:
        mbox.read([path])
    assert one_problem(excinfo) == f"{path}:{line}: {reason}"


def test_date_from_an_archive_receipt_line(tmp_path):
    # Hypermail ends each archived message with the time the archive received it
    rebuilt = "From MAILER-DAEMON Fri Nov 27 06:11:29 2026"
    receipt = "I agree.\n\nReceived on Thu Dec 31 1998 - 16:20:44 PST"
    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>", sep=rebuilt, date="Wed, 30 Dec 1998 10:00:00 -0800"),
        message("<m2@x>", sep=rebuilt, date="", body=receipt),
    )
    got = rows(mbox.read([path]))
    assert str(got["m2@x"]["timestamp"]) == "1999-01-01 00:20:44+00:00"  # PST is -0800
    # the line must end the body, in a zone RFC 5322 names
    for body in (receipt + "\nmore text", receipt.replace("PST", "XYZ")):
        path = write(
            tmp_path / "list.mbox",
            message("<m1@x>", sep=rebuilt, date="Wed, 30 Dec 1998 10:00:00 -0800"),
            message("<m2@x>", sep=rebuilt, date="", body=body),
        )
        with pytest.raises(ev.EventsError, match="no archive receipt line"):
            mbox.read([path])


def test_a_nul_byte_makes_its_message_bad(tmp_path):
    # RFC 5322 text and RFC 2045 8bit data allow no NUL; past the first 8 KiB (where a NUL
    # refuses the whole file as binary) it makes its message a bad record
    path = tmp_path / "list.mbox"
    bad = message("<m2@x>", body="he\x00llo")
    path.write_text(message("<m1@x>", body="x" * 9000) + bad + message("<m3@x>"))
    line = 1 + message("<m1@x>", body="x" * 9000).count("\n")
    at = bad.split("\n", 1)[1].index("\x00") + 1
    reason = f"NUL byte in the message (at its byte {at}; e-mail allows none)"
    one_bad_message(path, line, reason, kept={"m1@x", "m3@x"})


def test_windows_line_ends_and_bom_in_an_mbox(tmp_path):
    path = tmp_path / "list.mbox"
    text = message("<m1@x>", body="first line\nsecond") + message(
        "<m2@x>", extra="In-Reply-To: <m1@x>"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode().replace(b"\n", b"\r\n"))
    assert mbox.sniff(path)
    got = rows(mbox.read([path]))
    assert got["m1@x"]["text"] == "first line\nsecond\n"
    assert (got["m2@x"]["parent_id"], got["m2@x"]["actor_id"]) == ("m1@x", "ann@example.org")


# --------------------------------------------------------------------------- bad inputs


def test_other_files_are_errors_in_both_modes(tmp_path):
    tweets = tmp_path / "tweets.ndjson"
    tweets.write_text(json.dumps({"id_str": "1", "text": "hi"}) + "\n")
    empty = tmp_path / "empty.mbox"
    empty.write_text("")
    cases = [
        (tweets, "1: not an mbox file (the first line is not a 'From ' line)"),
        (empty, " empty file (no messages)"),
        (tmp_path / "missing.mbox", " no such file"),
        (tmp_path, " is a directory, not an mbox file"),
    ]
    for path, reason in cases:
        for mode in ("strict", "skip"):
            with pytest.raises(ev.EventsError) as excinfo:
                mbox.read([path], on_error=mode)
            assert one_problem(excinfo) == f"{path}:{reason}"


def test_duplicates_across_two_files_are_kept_once_and_reported(tmp_path):
    first = write(tmp_path / "a.mbox", message("<m1@x>"), message("<m2@x>", subject="Re: Plans"))
    second = write(tmp_path / "b.mbox", message("<m2@x>", subject="Re: Plans"), message("<m3@x>"))
    for mode in ("strict", "skip"):
        result = mbox.read([first, second], on_error=mode)
        consistent(result)
        assert result.events.height == 3
        [dup] = result.skipped
        assert (dup.source, dup.line, dup.reason) == (
            str(second),
            1,
            f"duplicate id 'm2@x' (kept once; first at {first}:{1 + message('<m1@x>').count(chr(10))})",
        )


# --------------------------------------------------------------------------- the real archive


WEI = "the measure of a world is the weight of its shortest program and nothing more"
HAL = "then every observer should expect to find itself in a simple world most of the time"


def test_a_subject_threaded_reply_answers_the_message_it_quotes(tmp_path):
    """Quoted text ties a reply without reply headers to the message it answers."""

    def at(hour: int) -> str:
        return f"Mon, 1 Jan 2024 {hour:02d}:00:00 +0000"

    path = write(
        tmp_path / "list.mbox",
        message("<root@x>", subject="Plans", date=at(9), body="what decides the measure?"),
        message("<wei@x>", sender="weidai@x", subject="Re: Plans", date=at(10), body=WEI),
        message("<hal@x>", sender="hal@x", subject="Re: Plans", date=at(11),
                body=f"Wei Dai wrote:\n> {WEI}\n\n{HAL}"),
        # quoted twice (the quoted message's own quote): not evidence of what it answers
        message("<nested@x>", sender="bob@x", subject="Re: Plans", date=at(12),
                body=f"> > {WEI}\n\nsure"),
        # a few words only: a common phrase, not evidence
        message("<short@x>", sender="bob@x", subject="Re: Plans", date=at(13),
                body="> the weight of its shortest program and\n\nok"),
        # one's own earlier words are not whom one answers
        message("<self@x>", sender="weidai@x", subject="Re: Plans", date=at(14),
                body=f"> {WEI}\n\nas I said"),
        # the text of a later message cannot be what it answers; another subject neither
        message("<early@x>", sender="eve@x", subject="Re: Plans", date="Mon, 1 Jan 2024 10:30:00 +0000",
                body=f"> {HAL}"),
        message("<other@x>", sender="eve@x", subject="Re: Other", date=at(15), body=f"> {HAL}"),
        message("<other0@x>", sender="ann@x", subject="Other", date=at(8), body="x"),
    )  # fmt: skip
    got = rows(mbox.read([path]))
    assert got["wei@x"]["parent_id"] == "root@x"  # quotes nothing: the subject's first
    assert (got["hal@x"]["parent_id"], got["hal@x"]["target_actor_id"]) == ("wei@x", "weidai@x")
    for earliest in ("nested@x", "short@x", "self@x", "early@x"):
        assert got[earliest]["parent_id"] == "root@x", earliest
    assert got["other@x"]["parent_id"] == "other0@x"


def test_the_message_quoted_most_and_latest_wins(tmp_path):
    more = WEI + " " + HAL

    def at(hour: int) -> str:
        return f"Mon, 1 Jan 2024 {hour:02d}:00:00 +0000"

    path = write(
        tmp_path / "list.mbox",
        message("<root@x>", subject="Plans", date=at(9)),
        message("<a@x>", sender="a@x", subject="Re: Plans", date=at(10), body=WEI),
        message("<b@x>", sender="b@x", subject="Re: Plans", date=at(11), body=more),
        message("<c@x>", sender="c@x", subject="Re: Plans", date=at(12), body=WEI),
        message("<most@x>", sender="d@x", subject="Re: Plans", date=at(13), body=f"> {more}\n\nyes"),
        message("<tie@x>", sender="d@x", subject="Re: Plans", date=at(14), body=f"> {WEI}\n\nyes"),
    )  # fmt: skip
    result = mbox.read([path])
    got = rows(result)
    assert result.notes == [
        "5 replies have neither In-Reply-To nor References: 2 answer the earlier message "
        "whose words they quote, 3 the first message of their subject, 0 no known message "
        "(subject threading, docs/formats.md)"
    ]
    assert got["most@x"]["parent_id"] == "b@x"  # quotes all of b, half of a and c
    assert got["tie@x"]["parent_id"] == "c@x"  # a, b and c wrote all of it: the latest


@pytest.mark.real
def test_real_everything_list():
    path = real_data_dir("mailinglist_everything_list") / "everything-list-1998-1999.mbox"
    assert mbox.sniff(path)
    # one message has an empty Date header (its original offset was "+875200"), no
    # Received: header, and the 2026 rebuild date on its From line (not used): Hypermail's
    # receipt line ending its body dates it
    result = mbox.read([path])
    consistent(result)
    assert (result.records_read, result.records_loaded) == (1585, 1585)  # PROVENANCE: 1,585
    assert result.skipped == []
    [undated] = result.events.filter(
        pl.col("event_id") == "19981231161856.A4701.domain.name.hidden"
    ).rows(named=True)
    assert str(undated["timestamp"]) == "1999-01-01 00:20:44+00:00"  # 16:20:44 PST
    assert undated["actor_id"] == "weidai.domain.name.hidden"
    events = result.events
    assert events["event_id"].n_unique() == 1585
    assert events["actor_id"].n_unique() == 53  # 61 sender names, fewer addresses
    # 722 messages have In-Reply-To; the rest thread by subject
    counts = dict(events.group_by("action").len().iter_rows())
    assert counts == {"post": 174, "reply": 1411}
    unknown = events.filter(pl.col("parent_id").str.starts_with("unknown-parent-of:"))
    assert unknown.height == 48
    # leaders (PROVENANCE.md): Wei Dai, founder: 151 messages as "Wei Dai" + 2 under his
    # address alone; 127 + 2 replies
    wei = events.filter(pl.col("actor_id") == "weidai.domain.name.hidden")
    assert wei.height == 153
    assert wei.filter(pl.col("action") == "reply").height == 129
    actors = set(events["actor_id"])
    for leader in (
        "hal.domain.name.hidden",
        "bostrom.domain.name.hidden",
        "hpm.domain.name.hidden",
        "juergen.domain.name.hidden",
        "r.standish.domain.name.hidden",
        "marchal.domain.name.hidden",
        "jqm1584.domain.name.hidden",
    ):
        assert leader in actors, leader
    # hand-checked: the first message starts a thread; a reply with In-Reply-To
    got = rows(result)
    first = got["199801170101.RAA12815.domain.name.hidden"]
    assert (first["actor_id"], first["action"]) == ("hal.domain.name.hidden", "post")
    assert str(first["timestamp"]) == "1998-01-17 01:01:56+00:00"  # -0800 in the header
    # an unterminated Message-ID ("<id" without ">") is kept as its text
    gilles = got["l03130303b27aea920148-AT_SYMBOL-"]
    assert gilles["actor_id"] == "gilles.henri.domain.name.hidden"
    assert gilles["parent_id"] == "199811192339.KAA00985.domain.name.hidden"
    assert gilles["target_actor_id"] is not None


def test_read_collects_the_names_account_names_gives(tmp_path):
    """The name most used by each address (ties: the first seen), also from bad messages."""
    from tribe_analysis import io

    path = write(
        tmp_path / "list.mbox",
        message("<m1@x>", sender='"Ann A." <Ann@Example.ORG>'),
        message("<m2@x>", sender="Ann <ann@example.org>"),
        message("<m3@x>", sender="Ann <ann@example.org>", subject="Re: Plans"),
        message("<m4@x>", sender="bob@example.org"),
        message(None, sender="Cid <cid@example.org>"),  # no Message-ID: skipped, still named
    )
    result = io.read([path], format="mbox", on_error="skip")
    assert len(result.skipped) == 1
    assert result.names == io.account_names([path], "mbox")
    assert result.names == {"ann@example.org": "Ann", "cid@example.org": "Cid"}


@pytest.mark.real
def test_real_everything_list_quoted_text(monkeypatch):
    """641 replies have no reply headers and an earlier message of their subject; the
    text 496 of them quote names the message they answer."""
    path = real_data_dir("mailinglist_everything_list") / "everything-list-1998-1999.mbox"
    found: list[int | None] = []
    source = mbox._quoted_source

    def spy(*args):
        found.append(source(*args))
        return found[-1]

    monkeypatch.setattr(mbox, "_quoted_source", spy)
    got = rows(mbox.read([path]))
    assert (len(found), sum(f is not None for f in found)) == (641, 496)
    # hand-checked: Hal Finney quotes Wei Dai's answer of Jan 21, not the subject's first
    # message (Jan 19), which it was threaded under before the quotes were read
    hal = got["199801211833.KAA12279.domain.name.hidden"]
    assert hal["parent_id"] == "19980121012555.07540.domain.name.hidden"
    assert hal["target_actor_id"] == "weidai.domain.name.hidden"


@pytest.mark.real
def test_real_everything_list_names_from_the_read_pass():
    from tribe_analysis import io

    path = real_data_dir("mailinglist_everything_list") / "everything-list-1998-1999.mbox"
    names = io.read([path], on_error="skip").names
    assert names == io.account_names([path], "mbox")
    assert names["weidai.domain.name.hidden"] == "Wei Dai"


def test_a_date_header_utc_moves_out_of_range_says_so():
    """As every reader says it (a year below 100 is read as 19xx or 20xx: RFC 5322 4.3)."""
    date = "Fri, 31 Dec 9999 23:30:00 -0100"
    msg = mbox._parse(f"From: a@b\nDate: {date}\n\nbody\n".encode())
    with pytest.raises(RecordError) as err:
        mbox._date_header(msg)
    assert str(err.value) == f"Date header out of range '{date}' (years 1 to 9999 in UTC)"
