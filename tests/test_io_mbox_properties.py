"""Property tests of the mbox reader, on archives written with :mod:`mailbox`.

Messages are built with :class:`email.message.EmailMessage` (or as raw header
lines, to reach values a mail client would not write) and written with
:class:`mailbox.mbox`, which quotes body lines starting with ``From ``. For any
such archive, in both modes:

- nothing is lost and nothing raises but :class:`EventsError`: every message is
  one event or one reported record (strict: one printable ``FILE:LINE: reason``
  naming its ``From `` line; skip: in ``skipped`` with that line), and
  ``records_read == records_loaded + len(skipped)``, whatever the header values
  (dates at the edge of the calendar, leap seconds, encoded words that do not
  decode, odd charsets, ``In-Reply-To`` without an id);
- a reply's parent is the first id of ``In-Reply-To``, else the last id of
  ``References``; its thread and target author follow from the parent;
- the actor is the lower-cased address and the display name is the decoded
  name (RFC 2047 encoded words, quoted commas and quotes, non-ASCII);
- the timestamp is the ``Date`` header's instant in UTC;
- the events are the same whatever the order of the messages and the line
  ends of the file (LF or CRLF).
"""

from __future__ import annotations

import mailbox
import random
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import hypothesis
import polars as pl
from hypothesis import strategies as st

from tests.conftest import consistent
from tribe_analysis import events as ev
from tribe_analysis import io
from tribe_analysis.io import mbox

SETTINGS = hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
SENT = datetime(2024, 1, 1, tzinfo=UTC)
"""When the generated messages were sent (their ``From `` lines say so too)."""


@contextmanager
def archive(messages: list[EmailMessage | bytes], *, crlf: bool = False) -> Iterator[Path]:
    """A temporary mbox file holding ``messages``, each with a ``From `` line dated :data:`SENT`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.mbox"
        box = mailbox.mbox(path)
        for message in messages:
            entry = mailbox.mboxMessage(message)
            entry.set_from("MAILER-DAEMON", time.gmtime(SENT.timestamp()))
            box.add(entry)
        box.close()
        if crlf:
            path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
        yield path


def from_lines(path: Path) -> list[int]:
    """Line numbers of the ``From `` separators (mailbox quotes body lines that would look so)."""
    with path.open("rb") as fh:
        return [n for n, line in enumerate(fh, 1) if line.startswith(b"From ")]


def email_message(i: int, **headers: str) -> EmailMessage:
    """Message ``m{i}@x`` from ``u{i % 3}@example.org`` at :data:`SENT` + i minutes."""
    msg = EmailMessage()
    msg["From"] = f"User {i % 3} <u{i % 3}@example.org>"
    msg["Date"] = format_datetime(SENT + timedelta(minutes=i))
    msg["Subject"] = f"topic {i}"
    msg["Message-ID"] = f"<m{i}@x>"
    for name, value in headers.items():
        del msg[name.replace("_", "-")]
        msg[name.replace("_", "-")] = value
    msg.set_content(f"message {i}\n")
    return msg


def check_nothing_lost(path: Path, count: int) -> pl.DataFrame:
    """Both modes: every message loaded or reported at its From line; no other exception."""
    lines = from_lines(path)
    assert len(lines) == count
    result = io.read(path, on_error="skip")
    consistent(result)
    assert result.records_read == count
    assert all(s.line in lines and s.source == str(path) for s in result.skipped)
    assert len({s.line for s in result.skipped}) == len(result.skipped)
    assert result.events.height + len(result.skipped) == count  # Message-IDs are distinct
    assert result.names == io.account_names(path, "mbox")  # the same names, in one pass
    try:
        strict = io.read(path)
    except ev.EventsError as exc:
        [problem] = exc.problems
        assert (problem.source, problem.line) == (str(path), result.skipped[0].line)
        assert "\n" not in str(problem) and problem.reason == result.skipped[0].reason
    else:
        assert not result.skipped and strict.events.equals(result.events)
    return result.events


# --------------------------------------------------------------------------- header values

YEARS = st.sampled_from([1970, 2024, 9999])
DAYS = st.sampled_from([(1, 1), (2, 29), (6, 30), (12, 31)])
CLOCKS = st.sampled_from(["00:00:00", "12:30:15", "23:59:59", "23:59:60", "23:00"])
ZONES = st.sampled_from(["+0000", "-0000", "-0100", "+0100", "-1200", "+1400", "GMT", "EST"])


@st.composite
def dates(draw: st.DrawFn) -> str:
    """RFC 5322 dates near the ends of the calendar and of the day (leap seconds too)."""
    month, day = draw(DAYS)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    weekday = draw(st.sampled_from(["", "Mon, "]))
    return f"{weekday}{day} {months[month - 1]} {draw(YEARS)} {draw(CLOCKS)} {draw(ZONES)}"


CHARSETS = st.sampled_from(["utf-8", "iso-8859-1", "idna", "undefined", "x-nonsense", "utf-16"])


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    """RFC 2047 encoded words, some of which do not decode (bad base64, odd charsets)."""
    payload = draw(st.text(alphabet="AZaz09+/=_", min_size=1, max_size=6))
    return f"=?{draw(CHARSETS)}?{draw(st.sampled_from('bqBQ'))}?{payload}?="


def raw_message(headers: dict[str, str], body: str = "hello") -> bytes:
    """A message as bytes: the given header lines, a blank line, the body."""
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return ("\n".join(lines) + f"\n\n{body}\n").encode()


@st.composite
def odd_messages(draw: st.DrawFn, i: int) -> bytes:
    """A message whose headers take odd but possible values (or are missing)."""
    headers = {"From": f"Ann <ann{i}@example.org>", "Message-ID": f"<m{i}@x>"}
    headers["Date"] = draw(dates())
    if draw(st.booleans()):
        headers["Received"] = f"from a by b; {draw(dates())}"
    if draw(st.booleans()):
        headers["Subject"] = f"{draw(st.sampled_from(['', 'Re: ']))}{draw(encoded_words())} x"
    if draw(st.booleans()):
        headers["From"] = f"{draw(encoded_words())} <ann{i}@example.org>"
    if draw(st.booleans()):
        headers["Content-Type"] = f"text/plain; charset={draw(CHARSETS)}"
    reply = draw(st.sampled_from(["", "<m0@x>", "your message of Monday", "<>"]))
    if reply:
        headers["In-Reply-To"] = reply
    for name in draw(st.sets(st.sampled_from(["From", "Date", "Message-ID"]), max_size=1)):
        del headers[name]
    return raw_message(headers, draw(st.sampled_from(["hello", "hel\x00lo"])))


FILLER = raw_message(
    {"From": "Filler <f@x>", "Date": "Mon, 1 Jan 2024 00:00:00 +0000", "Message-ID": "<f@x>"},
    "\n".join(["x" * 99] * 90),
)
"""A first message of 9 KB: a NUL byte in the first 8 KiB refuses the whole file as binary."""


@SETTINGS
@hypothesis.given(st.integers(1, 5).flatmap(lambda n: st.tuples(*map(odd_messages, range(n)))))
def test_every_message_is_loaded_or_reported(messages: tuple[bytes, ...]) -> None:
    """Whatever its header values, a message is one event or one located bad record."""
    with archive([FILLER, *messages]) as path:
        check_nothing_lost(path, 1 + len(messages))


@SETTINGS
@hypothesis.given(
    st.lists(st.tuples(dates(), st.one_of(st.none(), dates())), min_size=1, max_size=6)
)
def test_any_date_is_loaded_or_reported(stamps: list[tuple[str, str | None]]) -> None:
    """Dates at the ends of the calendar (Date and Received headers) never raise."""
    messages = []
    for i, (date, received) in enumerate(stamps):
        headers = {"From": "ann@x", "Date": date, "Message-ID": f"<m{i}@x>"}
        if received is not None:
            headers["Received"] = f"from a by b; {received}"
        messages.append(raw_message(headers))
    with archive(messages) as path:
        check_nothing_lost(path, len(messages))


# --------------------------------------------------------------------------- replies

REPLY_KINDS = ["post", "in-reply-to", "references", "both", "phrase+references", "outside"]


@st.composite
def threads(draw: st.DrawFn) -> list[tuple[str, list[int]]]:
    """For each message, how it names its parents (indexes of earlier messages)."""
    count = draw(st.integers(1, 8))
    out: list[tuple[str, list[int]]] = [("post", [])]
    for i in range(1, count):
        kind = draw(st.sampled_from(REPLY_KINDS))
        earlier = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=3))
        out.append((kind, earlier))
    return out


def reply_headers(kind: str, earlier: list[int]) -> tuple[dict[str, str], str | None]:
    """The headers of one kind of reply, and the parent id they name."""
    refs = " ".join(f"<m{j}@x>" for j in earlier)
    if kind == "in-reply-to":
        return {"In_Reply_To": f"<m{earlier[0]}@x> (Ann's message)"}, f"m{earlier[0]}@x"
    if kind == "references":
        return {"References": refs}, f"m{earlier[-1]}@x"
    if kind == "both":
        return {"In_Reply_To": f"<m{earlier[0]}@x>", "References": refs}, f"m{earlier[0]}@x"
    if kind == "phrase+references":  # RFC 5322 4.5.4: obsolete In-Reply-To may be a phrase
        return {"In_Reply_To": "Ann's message of Monday", "References": refs}, f"m{earlier[-1]}@x"
    if kind == "outside":
        return {"In_Reply_To": "<gone@elsewhere>"}, "gone@elsewhere"
    return {}, None


@SETTINGS
@hypothesis.given(threads())
def test_reply_parent_thread_and_target_follow_the_headers(
    spec: list[tuple[str, list[int]]],
) -> None:
    """parent = first In-Reply-To id, else last References id; thread and target follow."""
    messages, parents = [], {}
    for i, (kind, earlier) in enumerate(spec):
        headers, parents[f"m{i}@x"] = reply_headers(kind, earlier)
        messages.append(email_message(i, **headers))
    with archive(messages) as path:
        events = check_nothing_lost(path, len(messages))
    got = {r["event_id"]: r for r in events.iter_rows(named=True)}
    assert set(got) == set(parents)
    for eid, parent in parents.items():
        row = got[eid]
        assert (row["parent_id"], row["action"]) == (parent, "post" if parent is None else "reply")
        root = eid
        while parents.get(root) is not None:
            root = parents[root]
        assert row["thread_id"] == root  # the root post, or the outside parent
        target = got[parent]["actor_id"] if parent in got else None
        assert row["target_actor_id"] == target


# --------------------------------------------------------------------------- senders

NAMES = st.text(
    alphabet=st.sampled_from(list("AnnZoëŁukaszMüller 李,.\"'()<>@;:\\-")), min_size=1, max_size=16
).filter(lambda s: any(c.isalpha() for c in s) and " ".join(s.split()) == s)
LOCAL = st.text(alphabet="abcXYZ019._", min_size=1, max_size=8).filter(
    lambda s: s[0] not in "." and s[-1] != "." and ".." not in s
)
DOMAIN = st.sampled_from(["example.org", "Example.ORG", "mail.example.NET"])


@SETTINGS
@hypothesis.given(st.lists(st.tuples(NAMES, LOCAL, DOMAIN, st.booleans()), min_size=1, max_size=5))
def test_actor_is_the_address_and_the_name_is_decoded(
    senders: list[tuple[str, str, str, bool]],
) -> None:
    """Actor: the lower-cased address; ``names``: the display name, decoded and unfolded."""
    messages: list[EmailMessage | bytes] = []
    want: dict[str, str] = {}
    for i, (name, local, domain, encoded) in enumerate(senders):
        address = f"{local}@{domain}"
        if encoded:  # RFC 2047 encoded words where the name is not ASCII (as mail clients write)
            sender = formataddr((name, address))
        else:  # raw UTF-8 in a quoted string (RFC 6532), folded at its first space
            quoted = name.replace("\\", "\\\\").replace('"', '\\"').replace(" ", "\n ", 1)
            sender = f'"{quoted}" <{address}>'
        date = format_datetime(SENT + timedelta(minutes=i))
        messages.append(raw_message({"From": sender, "Date": date, "Message-ID": f"<m{i}@x>"}))
        want.setdefault(address.lower(), name)
    hypothesis.assume(len(want) == len(senders))  # one name per address
    with archive(messages) as path:
        result = io.read(path)
    consistent(result)
    assert set(result.events["actor_id"]) == set(want)
    assert result.names == dict(sorted(want.items()))


# --------------------------------------------------------------------------- dates


@SETTINGS
@hypothesis.given(
    st.datetimes(datetime(1970, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(-14 * 60, 14 * 60),
    st.sampled_from(["{}", "{} (UTC)", "  {}", "{}", "leap second"]),
)
def test_the_timestamp_is_the_date_headers_instant(when: datetime, minutes: int, form: str) -> None:
    """Any RFC 5322 form of a date gives its instant in UTC (23:59:60 as POSIX time: 00:00:00)."""
    zone = timezone(timedelta(minutes=minutes))
    local = when.replace(microsecond=0).astimezone(zone)
    text = format_datetime(local)
    if form == "leap second":  # RFC 5322 3.3: seconds run to 60
        local = local.replace(hour=23, minute=59, second=59)
        text = format_datetime(local).replace(":59:59 ", ":59:60 ")
        local += timedelta(seconds=1)
    else:
        text = form.format(text)
    message = raw_message({"From": "ann@x", "Date": text, "Message-ID": "<m0@x>"})
    with archive([message]) as path:  # raw: EmailMessage empties a Date it cannot parse
        [stamp] = io.read(path).events["timestamp"]
    assert stamp == local.astimezone(UTC)


# --------------------------------------------------------------------------- files


@st.composite
def mixed_archives(draw: st.DrawFn) -> list[EmailMessage]:
    """Posts, replies by header and by subject, bodies with ``From `` lines, distinct times."""
    count = draw(st.integers(1, 7))
    out = []
    for i in range(count):
        subject = draw(st.sampled_from(["Plans", "Re: plans", "RE: [list] Plans", "Other"]))
        msg = email_message(i, Subject=subject)
        if i and draw(st.booleans()):
            msg["In-Reply-To"] = f"<m{draw(st.integers(0, i - 1))}@x>"
        body = draw(st.lists(st.sampled_from(["From here on", ">From there", "", "x"]), max_size=4))
        msg.set_content("\n".join(body) + "\n")
        out.append(msg)
    return out


@SETTINGS
@hypothesis.given(mixed_archives(), st.randoms(use_true_random=False))
def test_the_same_events_whatever_the_order_and_line_ends(
    messages: list[EmailMessage], rnd: random.Random
) -> None:
    """Shuffling the messages or writing CRLF changes nothing; ``From `` in a body splits nothing."""
    with archive(messages) as path:
        first = check_nothing_lost(path, len(messages))
    assert first.height == len(messages)
    shuffled = list(messages)
    rnd.shuffle(shuffled)
    with archive(shuffled, crlf=True) as path:
        again = check_nothing_lost(path, len(messages))
    assert again.equals(first)
    assert not any("\r" in (t or "") for t in again["text"])


def _ids_by_expression(value: str) -> list[str]:
    """What ``mbox._ids`` documents, by regular expressions (a reference, not the reader)."""
    out = [inner.strip() for inner in re.findall(r"<([^>]*)>", value) if inner.strip()]
    tail = value[value.rfind(">") + 1 :] if ">" in value else value
    if "<" in tail:  # an unterminated last id, when one word
        rest = tail[tail.index("<") + 1 :]
        if len(rest.split()) == 1 and "<" not in rest:
            out.append(rest.strip())
    if not out and value.strip() and len(value.split()) == 1 and "<" not in value:
        out.append(value.strip())
    return out


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(st.lists(st.sampled_from(["<", ">", "a@b", " ", "<x>", "(c)", "-AT-", "é"])))
def test_message_ids_in_any_header_value(pieces: list[str]) -> None:
    """Ids of In-Reply-To/References in one pass over the value, as documented."""
    value = "".join(pieces)
    assert mbox._ids(value) == _ids_by_expression(value)


# --------------------------------------------------------------------------- quoted text

WORDS = [f"w{i:03d}" for i in range(600)]
"""Words used by one message each: its text is its own, quoted text names its source."""


@st.composite
def quoting_threads(draw: st.DrawFn) -> tuple[list[EmailMessage], dict[str, str]]:
    """One subject: a root, then replies without reply headers, each quoting an earlier
    message's words (enough or too few of them, as a first- or second-level quote) or
    nothing; returns the messages and the parent each reply must get."""
    count = draw(st.integers(2, 8))
    senders = draw(st.lists(st.integers(0, 2), min_size=count, max_size=count))
    own = [WORDS[i * 60 : i * 60 + draw(st.integers(3, 20))] for i in range(count)]
    messages, want = [], {}
    for i in range(count):
        msg = email_message(i, Subject="Plans" if i == 0 else "Re: Plans")
        del msg["From"]
        msg["From"] = f"u{senders[i]}@example.org"
        text = " ".join(own[i])
        if i:
            source = draw(st.integers(0, i - 1))
            words = own[source][: draw(st.integers(1, 12))]
            mark = draw(st.sampled_from(["> ", ">", "> > ", ">> ", None]))
            if mark is not None:
                text = f"{mark}{' '.join(words)}\n\n{text}"
            evidence = (
                mark in ("> ", ">")
                and len(words) - mbox.QUOTE_WORDS + 1 >= mbox.MIN_QUOTED_RUNS
                and senders[source] != senders[i]
            )
            want[f"m{i}@x"] = f"m{source if evidence else 0}@x"
        msg.set_content(text + "\n")
        messages.append(msg)
    return messages, want


@SETTINGS
@hypothesis.given(quoting_threads(), st.randoms(use_true_random=False))
def test_a_reply_without_headers_answers_the_message_whose_words_it_quotes(
    thread: tuple[list[EmailMessage], dict[str, str]], rnd: random.Random
) -> None:
    """Enough first-level quoted words of an earlier message by another sender make it the
    parent; anything less leaves the subject's first message, whatever the file's order."""
    messages, want = thread
    rnd.shuffle(messages)
    with archive(messages) as path:
        events = io.read(path).events
    parents = dict(zip(events["event_id"], events["parent_id"], strict=True))
    assert {k: parents[k] for k in want} == want
