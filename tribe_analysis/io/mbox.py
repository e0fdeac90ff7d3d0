r"""Mailing-list archives in mbox format (stdlib :mod:`mailbox` and :mod:`email`).

Each message is a record: ``Message-ID`` (without ``<>``) is the event id, the
address in ``From`` (lower-cased, display name dropped) the actor, ``Date`` the
timestamp. The parent is the first id of ``In-Reply-To``, else the last id of
``References``. A message with neither header whose subject starts with a reply
prefix (``Re:``, ``AW:``, ``SV:``, ...) replies to the earlier message of the same
normalised subject whose own words it quotes, else, as mail clients thread it, to
the earliest earlier message of that subject (:func:`_thread_by_subject`);
when there is none, its parent is unknown and it points at
``unknown-parent-of:<Message-ID>`` (an orphan reply, never a post). All other
messages start threads and are posts. E-mail has no shares, reactions or typed
mentions.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "list.mbox"
>>> _ = path.write_text(
...     "From x Mon Jan  1 00:00:00 2024\nFrom: Ann <Ann@Example.org>\n"
...     "Date: Mon, 1 Jan 2024 10:00:00 +0100\nSubject: Plans\nMessage-ID: <m1@x>\n\nhello\n\n"
...     "From x Mon Jan  1 00:00:00 2024\nFrom: bob@example.org\n"
...     "Date: Mon, 1 Jan 2024 11:00:00 +0000\nSubject: Re: plans\nMessage-ID: <m2@x>\n\nhi\n")
>>> read([path]).events.select("event_id", "actor_id", "action", "parent_id", "target_actor_id").rows()
[('m1@x', 'ann@example.org', 'post', None, None), ('m2@x', 'bob@example.org', 'reply', 'm1@x', 'ann@example.org')]
"""

from __future__ import annotations

import email
import email.utils
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.message import Message
from functools import partial
from pathlib import Path

from tribe_analysis import events as ev
from tribe_analysis.io._base import (
    BOM,
    KEPT_BYTES,
    LINE_BUFFER,
    MAX_RECORD_BYTES,
    ReadResult,
    RecordError,
    Sink,
    finish,
    head_problem,
    iter_lines,
    too_long,
    truncated,
    utc,
)

__all__ = ["NAME", "OBSERVABILITY", "normalise_subject", "read", "sniff"]

NAME = "mbox"
OBSERVABILITY = {"post": True, "reply": True, "share": False, "reaction": False, "mention": False}
"""E-mail has no shares, reactions or typed mentions."""

REPLY_PREFIXES = ("re", "aw", "sv", "antw", "vs", "odp", "ynt")
"""Subject prefixes (before ``:``) that mark a reply in common mail clients."""

FORWARD_PREFIXES = ("fwd", "fw", "wg", "tr")
"""Subject prefixes of forwarded messages (stripped when comparing subjects)."""

UNKNOWN_PARENT = "unknown-parent-of:"
"""Prefix of the parent id given to a reply whose parent is not known."""

SEPARATOR_TOLERANCE = timedelta(days=1)
"""Largest median gap between a file's ``From`` line dates and ``Date`` headers for
the ``From`` lines to date messages that have no other date (writers use local time)."""

_HEADERS = (b"from:", b"date:", b"subject:", b"message-id:", b"to:", b"received:", b"return-path:")


def sniff(path: Path) -> bool:
    """A file whose first line is an mbox ``From `` separator followed by mail headers."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    lines = head.removeprefix(BOM).split(b"\n")
    if not lines or not lines[0].startswith(b"From "):
        return False
    for line in lines[1:50]:
        if not line.strip():
            break
        if line.lower().startswith(_HEADERS):
            return True
    return False


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    """Read mbox files into canonical events.

    Parameters
    ----------
    paths : sequence of Path
        mbox files (one list, or several lists read together).
    on_error : {"strict", "skip"}
        Stop at the first malformed message, or quarantine it and go on.

    Returns
    -------
    ReadResult
        Events with ``platform="mbox"``; every reported line is the message's
        ``From `` separator line.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("no input given")
    sink = Sink(on_error, batch=None)  # rows are threaded by subject after reading
    for path in files:
        _check_file(path)
    by_subject: list[tuple[dict, str, bool]] = []  # (row, normalised subject, wants subject parent)
    seen: dict[str, Counter] = {}
    for path in files:
        separators = _Separators(path)
        source = sink.source(path, _messages_again)
        for ordinal, (line, data, size) in enumerate(_messages(path)):
            if size > MAX_RECORD_BYTES:
                sink.reject(path, line, too_long(size), truncated(data, size))
                continue
            if b"\x00" in data:  # RFC 5322 (text) and RFC 2045 (8bit) allow no NUL
                at = data.index(b"\x00") + 1
                reason = f"NUL byte in the message (at its byte {at}; e-mail allows none)"
                sink.reject(path, line, reason, data.decode("utf-8", "replace"))
                continue
            raw = data.decode("utf-8", "replace")
            sink.offer(source, ordinal, raw)
            msg = _parse(data)
            _count_name(msg, seen)
            mark = len(sink.rows)
            info: dict = {}
            build = _builder(sink, msg, (path, line, raw), info, partial(separators.date, line))
            sink.record(path, line, raw, build)
            if len(sink.rows) > mark:
                by_subject.append((sink.rows[mark], info["subject"], info["by_subject"]))
    quoting, first, unknown = _thread_by_subject(by_subject)
    names = _most_used(seen)
    notes = []
    if quoting + first + unknown:
        notes.append(
            f"{quoting + first + unknown:,} replies have neither In-Reply-To nor References: "
            f"{quoting:,} answer the earlier message whose words they quote, {first:,} the "
            f"first message of their subject, {unknown:,} no known message (subject "
            "threading, docs/formats.md)"
        )
    return finish(
        sink, NAME, OBSERVABILITY, sources=[str(f) for f in files], names=names, notes=notes
    )


def normalise_subject(subject: str) -> tuple[str, bool]:
    """The subject without reply/forward prefixes and list tags, and whether it had a reply prefix.

    Examples
    --------
    >>> normalise_subject("RE: [everything-list] Re:  Fwd: The  Plan ")
    ('the plan', True)
    >>> normalise_subject("Fwd: news")
    ('news', False)
    """
    text = " ".join(subject.split())
    reply = False
    while True:
        if text.startswith("[") and "]" in text:  # list tag, e.g. [everything-list]
            text = text[text.index("]") + 1 :].lstrip()
            continue
        head, colon, rest = text.partition(":")
        word = head.strip().casefold()
        if colon and word.endswith("]") and "[" in word:  # Re[2]:
            word = word[: word.index("[")]
        if colon and word in REPLY_PREFIXES:
            reply = True
            text = rest.lstrip()
            continue
        if colon and word in FORWARD_PREFIXES:
            text = rest.lstrip()
            continue
        return text.casefold(), reply


# --------------------------------------------------------------------------- one message


def _parse(data: bytes) -> Message:
    """One message's bytes as an :class:`email.message.Message` (CRLF line ends read as LF)."""
    return email.message_from_bytes(data.replace(b"\r\n", b"\n"))


def _builder(
    sink: Sink,
    msg: Message,
    where: tuple[Path, int, str],
    info: dict,
    separator: Callable[[], datetime | str],
):
    path, line, raw = where

    def build() -> None:
        event_id = _first_id(msg, "Message-ID")
        if event_id is None:
            raise RecordError("missing Message-ID header")
        actor = _address(msg)
        stamp = _date(msg, separator)
        parent = _parent(msg)
        if parent == event_id:
            raise RecordError(f"message replies to itself (In-Reply-To/References '{parent}')")
        subject, reply_prefix = normalise_subject(_subject(msg))
        info["subject"] = subject
        info["by_subject"] = parent is None and reply_prefix
        sink.add(
            {
                "event_id": event_id,
                "timestamp": stamp,
                "actor_id": actor,
                "action": "post" if parent is None else "reply",
                "parent_id": parent,
                "text": _body(msg),
                "_source": str(path),
                "_line": line,
                "_raw": raw,
            }
        )

    return build


def _header(msg: Message, name: str) -> str | None:
    """A header's text; raw 8-bit bytes must be UTF-8 (else the record is malformed)."""
    value = msg.get(name)
    if value is None:
        return None
    if isinstance(value, Header):  # raw 8-bit bytes in the header
        parts = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                try:
                    chunk = chunk.decode("utf-8" if charset in (None, "unknown-8bit") else charset)
                except (UnicodeDecodeError, LookupError) as exc:
                    bad = f" (byte 0x{chunk[exc.start]:02x})" if hasattr(exc, "start") else ""
                    raise RecordError(f"{name} header is not UTF-8{bad}") from None
            parts.append(chunk)
        value = "".join(parts)
    return str(value).strip()


def _ids(value: str) -> list[str]:
    """Message ids in a header (``<a@b> <c@d>``).

    A bare id without ``<>`` is accepted alone, and so is a last ``<id`` whose
    ``>`` is missing.

    Examples
    --------
    >>> _ids("<a@b> (comment) <c@d>"), _ids("a@b"), _ids("<a@b> <c-AT-")
    (['a@b', 'c@d'], ['a@b'], ['a@b', 'c-AT-'])
    """
    out = []
    start = value.find("<")
    while start >= 0:  # one pass over the value (a References header can be long)
        end = value.find(">", start + 1)
        if end < 0:  # unterminated (seen in real archives): the rest, if one word
            rest = value[start + 1 :]
            if len(rest.split()) == 1 and "<" not in rest:
                out.append(rest.strip())
            break
        inner = value[start + 1 : end].strip()
        if inner:
            out.append(inner)
        start = value.find("<", end + 1)
    if not out and value.strip() and len(value.split()) == 1 and "<" not in value:
        out.append(value.strip())
    return out


def _first_id(msg: Message, name: str) -> str | None:
    value = _header(msg, name)
    if not value:
        return None
    ids = _ids(value)
    if not ids:
        raise RecordError(f"malformed {name} header '{value}'")
    return ids[0]


def _parent(msg: Message) -> str | None:
    """The first id of ``In-Reply-To``, else the last id of ``References``.

    An ``In-Reply-To`` without an id (RFC 5322 4.5.4 allows an obsolete phrase
    such as ``Ann's message of Monday``) gives way to ``References``; when that
    has no id either, the message is malformed (its parent is unknown).
    """
    value = _header(msg, "In-Reply-To")
    replied = _ids(value or "")
    if replied:
        return replied[0]
    references = _ids(_header(msg, "References") or "")
    if references:
        return references[-1]
    if value:
        raise RecordError(f"malformed In-Reply-To header '{value}'")
    return None


def _address(msg: Message) -> str:
    value = _header(msg, "From")
    if not value:
        raise RecordError("missing From header")
    _, address = email.utils.parseaddr(value)
    address = address.strip().lower()
    bare = "<" not in value and len(value.split("(", 1)[0].split()) != 1  # "Ann Smith": no address
    if bare or not address or len(address.split()) != 1:
        raise RecordError(f"no address in From header '{value}'")
    return address


def _date(msg: Message, separator: Callable[[], datetime | str]) -> datetime:
    """The message's date, from the first of these that has one; never a guess.

    1. the ``Date`` header;
    2. the earliest ``Received:`` header with a date;
    3. the date on the mbox ``From `` line (RFC 4155: UTC), unless the file's other
       messages show its ``From`` lines do not carry delivery dates (``separator``
       gives the date, or why it is not used);
    4. an archive's receipt line ending the body (Hypermail: ``Received on Thu Dec 31
       1998 - 16:20:44 PST``), in a time zone RFC 5322 names.
    """
    try:
        return _date_header(msg)
    except RecordError as exc:
        received = _received_date(msg)
        if received is not None:
            return received
        stamp = separator()
        if isinstance(stamp, datetime):
            return stamp
        archived = _archive_receipt(msg)
        if archived is not None:
            return archived
        raise RecordError(
            f"{exc}, no Received: header with a date, {stamp}, and no archive receipt line "
            "(a date is never guessed)"
        ) from None


def _date_header(msg: Message) -> datetime:
    value = _header(msg, "Date")
    if not value:
        raise RecordError("missing Date header" if value is None else "empty Date header")
    try:
        stamp = _parse_date(value)
    except (ValueError, TypeError, OverflowError):
        raise RecordError(f"malformed Date header '{value}'") from None
    if stamp.tzinfo is None:
        # RFC 5322 3.3: "-0000" is a UTC time whose local zone is unknown; no zone at all is naive
        if "-0000" not in value.replace("(", " ").split():
            raise RecordError(f"Date header has no time zone '{value}'")
        return stamp.replace(tzinfo=UTC)
    return utc(stamp, "Date header", value)  # e.g. 31 Dec 9999 23:00 -0100: out of range


def _parse_date(value: str) -> datetime:
    """An RFC 5322 date (naive without a zone); a leap second (``23:59:60``) is the next second.

    RFC 5322 3.3 lets seconds run to 60; like POSIX time, the instant is read as
    the start of the next second, which :class:`datetime` can hold.

    Examples
    --------
    >>> str(_parse_date("Sat, 31 Dec 2016 23:59:60 +0000"))
    '2017-01-01 00:00:00+00:00'
    """
    try:
        return email.utils.parsedate_to_datetime(value)
    except ValueError:
        leap = re.sub(r"(?<=\d:\d\d):60(?=\s|$)", ":59", value, count=1)
        if leap == value:
            raise
        return email.utils.parsedate_to_datetime(leap) + timedelta(seconds=1)


def _received_date(msg: Message) -> datetime | None:
    """The date of the earliest ``Received:`` header that has one (RFC 5322: after its last ``;``).

    Each mail server adds its ``Received:`` header on top, so the last one in the
    message is the first server's, the closest to when the message was sent.
    """
    for value in reversed(msg.get_all("Received") or []):
        when = str(value).rpartition(";")[2].strip()
        try:
            stamp = _parse_date(when)
            if stamp.tzinfo is not None:
                return stamp.astimezone(UTC)
        except (ValueError, TypeError, OverflowError, IndexError):
            continue
    return None


def _archive_receipt(msg: Message) -> datetime | None:
    r"""The date of a Hypermail receipt line (``Received on <date> - <time> <zone>``) ending the body.

    Examples
    --------
    >>> msg = _parse(b"Subject: x\n\nhello\n\nReceived on Thu Dec 31 1998 - 16:20:44 PST\n\n")
    >>> str(_archive_receipt(msg))
    '1999-01-01 00:20:44+00:00'
    """
    body = _body(msg) or ""
    last = body.rstrip().rpartition("\n")[2].split()
    if len(last) != 9 or last[:2] != ["Received", "on"] or last[6] != "-":
        return None
    weekday, month, day, year, _, clock, zone = last[2:]
    try:
        stamp = _parse_date(f"{weekday}, {day} {month} {year} {clock} {zone}")
        return stamp.astimezone(UTC) if stamp.tzinfo is not None else None
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def _separator_date(line: bytes) -> datetime | None:
    """The date of an mbox ``From `` line (``From sender Fri Nov 27 06:11:29 2026``), in UTC.

    RFC 4155 gives it as the UTC time the message was received, in ``ctime`` form
    without a zone.

    Examples
    --------
    >>> str(_separator_date(b"From ann@x Mon Jan  1 10:00:00 2024"))
    '2024-01-01 10:00:00+00:00'
    >>> _separator_date(b"From ann@x") is None
    True
    """
    words = line.decode("ascii", "replace").split()
    try:
        return datetime.strptime(" ".join(words[-5:]), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


class _Separators:
    """The dates on one mbox file's ``From `` lines, and whether the file's messages trust them.

    They are not used when the messages that also have a ``Date`` header show a
    median gap of more than :data:`SEPARATOR_TOLERANCE` between the two (an archive
    rebuilt later, such as the everything-list one, carries the rebuild date there).
    The file is scanned once, on first use (only when a message has no other date).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dates: dict[int, datetime | None] | None = None
        self.problem: str | None = None

    def date(self, line: int) -> datetime | str:
        """The date of the ``From`` line at ``line``, or why it is not used."""
        if self.dates is None:
            self._scan()
        assert self.dates is not None  # _scan found them
        stamp = self.dates.get(line)
        if stamp is None:
            return "no date on its From line"
        return self.problem or stamp

    def _scan(self) -> None:
        self.dates, gaps = {}, []
        start, stamp, in_head = 0, None, False
        with self.path.open("rb", buffering=LINE_BUFFER) as fh:
            for number, line, _ in iter_lines(fh):
                if line.startswith(b"From "):
                    start, stamp, in_head = number, _separator_date(line), True
                    self.dates[start] = stamp
                elif in_head and not line.strip():
                    in_head = False
                elif in_head and stamp is not None and line[:5].lower() == b"date:":
                    try:
                        sent = _date_header(_parse(line + b"\n\n"))
                    except RecordError:
                        continue
                    gaps.append(abs((stamp - sent).total_seconds()))
        if gaps:
            median = sorted(gaps)[len(gaps) // 2]
            if median > SEPARATOR_TOLERANCE.total_seconds():
                days = median / 86400
                self.problem = (
                    "its From line's date is not used (in this file From lines differ from "
                    f"Date headers by a median of {days:,.0f} days)"
                )


def _subject(msg: Message) -> str:
    return _decoded(_header(msg, "Subject") or "")


def _decoded(value: str) -> str:
    """Text with its RFC 2047 encoded words decoded; kept as written when one does not decode.

    Examples
    --------
    >>> _decoded("=?utf-8?q?Zo=C3=AB?= Smith"), _decoded("=?utf-8?b?x?= (bad base64)")
    ('Zoë Smith', '=?utf-8?b?x?= (bad base64)')
    """
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, ValueError, HeaderParseError):  # bad base64, unknown charset, ...
        return value


def _body(msg: Message) -> str | None:
    """The first text/plain part, decoded with its declared charset (lossy when it lies)."""
    part = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), None)
    if part is None:
        return None
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except (LookupError, UnicodeError):  # unknown, or no "replace" (idna, undefined): as UTF-8
        return payload.decode("utf-8", "replace")


# --------------------------------------------------------------------------- files and threads


def _check_file(path: Path) -> None:
    """Raise for a path that is missing, a folder, not text, or not an mbox file (both modes)."""
    where = str(path)
    if not path.exists():
        raise ev.EventsError([ev.Problem(where, None, "no such file")])
    if path.is_dir():
        raise ev.EventsError([ev.Problem(where, None, "is a directory, not an mbox file")])
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise ev.EventsError([ev.Problem(where, None, f"unreadable ({exc.strerror})")]) from None
    if not head.strip():
        raise ev.EventsError([ev.Problem(where, None, "empty file (no messages)")])
    problem = head_problem(path, head)
    if problem is not None:
        raise ev.EventsError([problem])
    if not head.removeprefix(BOM).startswith(b"From "):
        reason = "not an mbox file (the first line is not a 'From ' line)"
        raise ev.EventsError([ev.Problem(where, 1, reason)])


def _messages(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """Yield ``(line of its From line, bytes, size)`` for each message of an mbox file.

    A message starts at a line beginning with ``From `` (the rule of :mod:`mailbox`);
    its bytes are the lines after that one, without the blank line that separates
    it from the next message. The file is read line by line: a message over
    :data:`MAX_RECORD_BYTES` is returned cut to :data:`KEPT_BYTES` (its size tells).
    """
    start, size = 0, 0
    parts: list[bytes] = []
    with path.open("rb", buffering=LINE_BUFFER) as fh:
        for number, line, length in iter_lines(fh, keepends=True):
            if line.startswith(b"From "):
                if start:
                    yield start, *_message_bytes(parts, size)
                start, parts, size = number, [], 0
                continue
            size += length
            if size <= MAX_RECORD_BYTES:
                parts.append(line)
            elif size - length <= MAX_RECORD_BYTES:  # this line crosses the limit: keep the head
                parts = [b"".join([*parts, line])[:KEPT_BYTES]]
    if start:
        yield start, *_message_bytes(parts, size)


def _messages_again(path: Path, sink: Sink) -> Iterator[tuple[int, str, None]]:
    """:func:`_messages` as the reader decodes them, for :meth:`Sink.raw_texts`."""
    for line, data, _ in _messages(path):
        yield line, data.decode("utf-8", "replace"), None


def _message_bytes(parts: list[bytes], size: int) -> tuple[bytes, int]:
    if size <= MAX_RECORD_BYTES and parts and parts[-1] in (b"\n", b"\r\n"):
        size -= len(parts[-1])
        parts = parts[:-1]  # the blank line before the next From line separates messages
    return b"".join(parts), size


QUOTE_WORDS = 6
"""Words in each run of quoted text looked for in earlier messages (a shingle)."""

MIN_QUOTED_RUNS = 3
"""Fewest runs of a reply's quoted text an earlier message must have written itself to be
the message it answers (one or two runs of six words can be a common phrase)."""

_WORD = re.compile(r"\w+")

Runs = set[str]
"""Runs of :data:`QUOTE_WORDS` words (shingles), each as its words joined by spaces."""


def _runs(lines: list[str]) -> Runs:
    """Every run of :data:`QUOTE_WORDS` words within one block of lines (a shingle)."""
    words = _WORD.findall(" ".join(lines).lower())
    return {" ".join(words[i : i + QUOTE_WORDS]) for i in range(len(words) - QUOTE_WORDS + 1)}


def _text_runs(text: str | None, kind: str) -> Runs:
    r"""The runs of a message's ``"quoted"`` (first-level, ``> ``) or ``"own"`` lines.

    Each block of consecutive lines of one kind (blank lines aside) gives its runs
    of :data:`QUOTE_WORDS` words; lines quoted twice (``>>``, ``> >``) are neither:
    they are the quoted message's own quotes.

    Examples
    --------
    >>> text = "Wei wrote:\n> the measure problem is not solved by this\nI agree with that point entirely"
    >>> sorted(_text_runs(text, "quoted"))[:1], len(_text_runs(text, "own"))
    (['measure problem is not solved by'], 1)
    """
    runs: Runs = set()
    block: list[str] = []
    current = None
    for line in (text or "").splitlines():
        stripped = line.lstrip()
        if not stripped:  # blank lines part paragraphs, not quotes from own text
            continue
        if not stripped.startswith(">"):
            this, body = "own", stripped
        else:
            body = stripped[1:].lstrip()
            this = "nested" if body.startswith(">") else "quoted"
        if this != current:
            if current == kind:
                runs |= _runs(block)
            block, current = [], this
        if this == kind:
            block.append(body)
    if current == kind:
        runs |= _runs(block)
    return runs


def _thread_by_subject(rows: list[tuple[dict, str, bool]]) -> tuple[int, int, int]:
    """Give subject-threaded replies their parent, from the text they quote or the subject.

    A reply without reply headers answers the earlier message of the same subject,
    by another sender, that wrote most of the text it quotes (at least
    :data:`MIN_QUOTED_RUNS` runs of :data:`QUOTE_WORDS` words; the latest on a tie):
    quoted text identifies the message answered (Yeh & Harnly 2006). A reply that
    quotes no such message answers the earliest earlier message of its subject, as
    mail clients thread it. Only the runs some reply of a subject quotes are looked
    for in that subject's messages. Returns how many replies answer the message they
    quote, their subject's first message, and no known message.
    """
    counts = [0, 0, 0]
    quotes = {i: _text_runs(row["text"], "quoted") for i, (row, _, w) in enumerate(rows) if w}
    sought: dict[str, Runs] = {}  # subject -> the runs its replies quote
    for i in quotes:
        sought.setdefault(rows[i][1], set()).update(quotes[i])
    earlier: dict[str, int] = {}  # subject -> its first row
    written: dict[str, dict[str, list[int]]] = {}  # subject -> run -> rows that wrote it
    for i in sorted(range(len(rows)), key=lambda i: (rows[i][0]["timestamp"], i)):
        row, subject, wants = rows[i]
        if wants:
            row["action"] = "reply"
            if subject and subject in earlier:
                parent = _quoted_source(quotes[i], written.get(subject, {}), rows, row["actor_id"])
                counts[parent is None] += 1
                row["parent_id"] = rows[earlier[subject] if parent is None else parent][0][
                    "event_id"
                ]
            else:
                counts[2] += 1
                row["parent_id"] = UNKNOWN_PARENT + row["event_id"]
        earlier.setdefault(subject, i)
        if sought.get(subject):
            index = written.setdefault(subject, {})
            for run in _text_runs(row["text"], "own") & sought[subject]:
                index.setdefault(run, []).append(i)
    return counts[0], counts[1], counts[2]


def _quoted_source(
    quoted: Runs, written: dict[str, list[int]], rows: list[tuple[dict, str, bool]], actor: str
) -> int | None:
    """The row (of those in ``written``) by another sender that wrote most of ``quoted``."""
    shared: Counter[int] = Counter()
    for run in quoted:
        shared.update(written.get(run, ()))  # each row wrote a run at most once
    best = [
        (count, rows[i][0]["timestamp"], i)
        for i, count in shared.items()
        if count >= MIN_QUOTED_RUNS and rows[i][0]["actor_id"] != actor
    ]
    return max(best)[2] if best else None


def account_names(paths: str | Path | Sequence[str | Path]) -> dict[str, str]:
    """Map sender address -> the display name it used most often (ties: the first seen).

    Messages without a usable ``From`` are ignored here: :func:`read` reports them.
    :func:`read` collects the same mapping in :attr:`ReadResult.names`.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    seen: dict[str, Counter] = {}
    for path in map(Path, paths):
        for _, data, size in _messages(path):
            if size <= MAX_RECORD_BYTES and b"\x00" not in data:  # as read() does
                _count_name(_parse(data), seen)
    return _most_used(seen)


def _count_name(msg: Message, seen: dict[str, Counter]) -> None:
    """Count the display name the ``From`` header gives its address (if both are there)."""
    try:
        value = _header(msg, "From")
    except Exception:  # noqa: BLE001 - undecodable header: read() reports it
        return
    if not value:
        return
    name, address = email.utils.parseaddr(value)
    address = address.strip().lower()
    name = _decoded(re.sub(r"\r?\n(?=[ \t])", "", name)).strip()  # unfolded, RFC 2047 decoded
    if address and name:
        seen.setdefault(address, Counter())[name] += 1


def _most_used(seen: dict[str, Counter]) -> dict[str, str]:
    """Address -> its most used display name (ties: the first seen), by address."""
    return {a: c.most_common(1)[0][0] for a, c in sorted(seen.items())}
