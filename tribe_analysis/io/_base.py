"""What every platform reader shares: records in, canonical events out, nothing lost.

A reader turns *records* (one JSON line, one XML row, one e-mail) into canonical
events. Each record either becomes events or, when malformed, is reported:

- ``on_error="strict"`` (default): the first malformed record stops the read with
  :class:`tribe_analysis.events.EventsError` naming ``FILE:LINE: reason``;
- ``on_error="skip"``: the record is kept verbatim in :attr:`ReadResult.skipped`
  with its reason, and reading goes on. ``records_read == records_loaded +
  len(skipped)`` always holds.

Text is read as UTF-8; a byte-order mark at the start of a file is dropped and
Windows line ends (CRLF) are line ends. One record (a line, an array element, an
e-mail, an XML row) holds at most :data:`MAX_RECORD_BYTES`: a longer one is a bad
record, kept in quarantine cut to :data:`KEPT_BYTES` with a note, and never read
into memory whole.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from tribe_analysis import events as ev
from tribe_analysis import threads as th
from tribe_analysis._textscan import KEPT_BYTES, MAX_RECORD_BYTES, too_long, truncated
from tribe_analysis.errors import RecordError, json_reason

__all__ = [
    "KEPT_BYTES",
    "LINE_BUFFER",
    "MAX_RECORD_BYTES",
    "ON_ERROR",
    "ReadResult",
    "RecordError",
    "Skipped",
    "Sink",
    "cycle_members",
    "finish",
    "head_problem",
    "iter_csv_records",
    "iter_json_array",
    "iter_json_lines",
    "iter_lines",
    "too_long",
    "truncated",
    "utc",
    "utc_error",
]

ON_ERROR = ("strict", "skip")

BOM = b"\xef\xbb\xbf"
_HEAD = 65_536
"""Bytes read to recognise a file's layout (or what is wrong with it)."""
_PIECE = 1 << 20
LINE_BUFFER = 1 << 20
"""Buffer of a file read line by line (:func:`iter_lines`): three times faster than the default 8 KB."""
_ID_FIELDS = ("event_id", "actor_id", "parent_id", "thread_id", "target_actor_id")
_ROW_SCHEMA = pl.Schema(
    {
        "event_id": pl.String(),
        "timestamp": pl.Datetime("us", "UTC"),
        "actor_id": pl.String(),
        "action": pl.String(),
        "parent_id": pl.String(),
        "thread_id": pl.String(),
        "target_actor_id": pl.String(),
        "mentions": pl.List(pl.String),
        "text": pl.String(),
        "_source": pl.String(),
        "_line": pl.Int64(),
        "_record": pl.Int64(),
    }
)


def head_problem(path: str | Path, head: bytes) -> ev.Problem | None:
    """A whole-file problem visible in a file's first bytes: UTF-16 text or binary data."""
    return ev.head_problem(str(path), head)


@dataclass(frozen=True)
class Skipped:
    """One record that was not loaded: where it was, why, and its verbatim text."""

    source: str
    line: int | None
    reason: str
    record: str

    @property
    def problem(self) -> ev.Problem:
        """The same as a :class:`tribe_analysis.events.Problem`."""
        return ev.Problem(self.source, self.line, self.reason)


@dataclass
class Sink:
    """Collects event rows and skipped records while a reader walks its input.

    ``add`` takes one canonical row as a dict (``event_id``, ``timestamp`` as an
    aware ``datetime``, ``actor_id``, ``action``, optional ``parent_id``,
    ``thread_id``, ``target_actor_id``, ``mentions``, ``text``) and where its
    record came from (``_source``, ``_line``; ``_raw``, the text given to
    :meth:`record`, is not kept). A value of the wrong type raises
    :class:`RecordError`, so its record is reported, never re-typed.

    A row keeps ``_record`` (the number of its record), not its record's text:
    :meth:`raw_texts` gives that text back for the few records reported after
    reading (duplicates, cycles). A record whose file was registered with
    :meth:`placed` (JSON lines and arrays, Stack Exchange rows) or :meth:`source`
    and :meth:`offer` (mbox messages) is not held at all, only its place in the file, read again on
    demand; and rows are packed into frames every :attr:`batch` records. Reading
    holds the events, not a copy of the input (``docs/performance.md``,
    *Platform exports at scale*).
    """

    on_error: str = "strict"
    rows: list[dict] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    records: int = 0
    batch: int | None = 65_536
    """Rows kept as dicts before they are packed into a frame (None: all, for readers
    that complete rows after reading them, as the mbox reader does)."""
    _frames: list[pl.DataFrame] = field(default_factory=list, repr=False)
    _raws: list[str | None] = field(default_factory=list, repr=False)
    _places: array = field(default_factory=lambda: array("q"), repr=False)
    _sources: list[tuple[Path, Callable[[Path, Sink], Iterator[tuple]]]] = field(
        default_factory=list, repr=False
    )
    _offered: tuple[str, int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise ValueError(
                f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}"
            )

    def add(self, row: Mapping) -> None:
        """Add one event row of the record being read (checked: see the class docstring)."""
        out = _checked(row)
        out["mentions"] = "\x00".join(out["mentions"])  # no mention holds a NUL (checked)
        out.pop("_raw", None)  # the record's text: kept, or its place, by _count
        out["_record"] = self.records
        self.rows.append(out)

    def bad(self, source: str | Path, line: int | None, reason: str, record: str) -> None:
        """Report a malformed record: raise (strict) or quarantine it (skip)."""
        skipped = Skipped(str(source), line, reason, record)
        if self.on_error == "strict":
            raise ev.EventsError([skipped.problem])
        self.skipped.append(skipped)

    def reject(self, source: str | Path, line: int | None, reason: str, record: str) -> None:
        """Count one malformed record and report it (see :meth:`bad`)."""
        self._count(None)
        self.bad(source, line, reason, record)

    def record(
        self, source: str | Path, line: int | None, raw: str, build: Callable[[], None]
    ) -> None:
        """Count one record and run ``build`` (which calls :meth:`add`); a RecordError skips it whole."""
        self._count(raw)
        mark = len(self.rows)
        try:
            build()
        except RecordError as exc:
            del self.rows[mark:]
            self.bad(source, line, str(exc), raw)
        if self.batch is not None and len(self.rows) >= self.batch:
            self._frames.append(_packed(self.rows))
            self.rows = []

    def frame(self) -> pl.DataFrame | None:
        """Every row added, as one frame (None when there is none)."""
        if self.rows:
            self._frames.append(_packed(self.rows))
            self.rows = []
        if not self._frames:
            return None
        frame = pl.concat(self._frames, rechunk=True)
        self._frames = [frame]
        return frame

    def _count(self, raw: str | None) -> None:
        """Count a record; keep its text, or only its place when it can be read again."""
        self.records += 1
        offered = self._offered
        if raw is not None and offered is not None and raw is offered[0]:
            self._raws.append(None)
            self._places.extend((offered[1], hash(raw)))
        else:
            self._raws.append(raw)
            self._places.extend((-1, 0))

    def source(self, path: Path, reread: Callable[[Path, Sink], Iterator[tuple]]) -> int:
        """Register a file whose records ``reread(path, sink)`` yields again, in the same order."""
        self._sources.append((path, reread))
        return len(self._sources) - 1

    def offer(self, source: int, ordinal: int, raw: str) -> None:
        """The next record's text is the ``ordinal``-th item of ``source`` (readable again)."""
        self._offered = (raw, (ordinal << 20) | source) if source < (1 << 20) else None

    def placed(
        self, path: Path, items: Iterator[tuple], reread: Callable[[Path, Sink], Iterator[tuple]]
    ) -> Iterator[tuple]:
        """``items`` (``(line, raw text, value)`` of ``path``), each offered by its place.

        ``reread(path, sink)`` yields the same items again (see :meth:`raw_texts`).
        """
        source = self.source(path, reread)
        for ordinal, item in enumerate(items):
            self.offer(source, ordinal, item[1])
            yield item

    def raw_texts(self, records: Iterable[int]) -> dict[int, str]:
        r"""The verbatim text of each record (numbers as in a row's ``_record``).

        Records held only by their place are read again from their file, each
        file once (its text checked by hash against the one read); a record whose
        text is no longer there (the file changed since) gets a note instead.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
        >>> _ = p.write_text('{"n": 1}\n\n{"n": 2}\n')
        >>> sink = Sink()
        >>> for line, raw, obj in iter_json_lines(p, sink):
        ...     sink.record(p, line, raw, lambda: None)
        >>> sink._raws, sink.raw_texts([2, 1])
        ([None, None], {1: '{"n": 1}', 2: '{"n": 2}'})
        """
        out: dict[int, str] = {}
        wanted: dict[int, dict[int, list[int]]] = {}
        for record in set(records):
            i = record - 1
            if not 0 <= i < len(self._raws):
                out[record] = ""
            elif self._raws[i] is not None or self._places[2 * i] < 0:
                out[record] = self._raws[i] or ""
            else:
                place = self._places[2 * i]
                by_item = wanted.setdefault(place & ((1 << 20) - 1), {})
                by_item.setdefault(place >> 20, []).append(record)
        for source, by_item in wanted.items():
            out.update(self._read_again(source, by_item))
        return out

    def _read_again(self, source: int, by_item: dict[int, list[int]]) -> dict[int, str]:
        path, reread = self._sources[source]
        out: dict[int, str] = {}
        items = reread(path, Sink("skip"))
        try:
            for ordinal, (_, raw, _) in enumerate(items):
                for record in by_item.pop(ordinal, ()):
                    same = hash(raw) == self._places[2 * (record - 1) + 1]
                    out[record] = raw if same else _CHANGED
                if not by_item:
                    break
        except OSError:
            pass
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        for records in by_item.values():
            out.update(dict.fromkeys(records, _CHANGED))
        return out


_CHANGED = "(record text not available: its file changed or went away after it was read)"


_PACKED = pl.Schema({**_ROW_SCHEMA, "mentions": pl.String()})


def _packed(rows: list[dict]) -> pl.DataFrame:
    """Rows added to a :class:`Sink` as a frame of :data:`_ROW_SCHEMA`.

    A row holds its mentions joined by NUL (which no mention holds): one text per
    row makes the frame about twice as fast as a list per row.
    """
    mentions = pl.col("mentions")
    split = mentions.str.split("\x00")
    none = pl.lit([], dtype=pl.List(pl.String))
    return pl.DataFrame(rows, schema=_PACKED).with_columns(
        pl.when(mentions == "").then(none).otherwise(split).alias("mentions")
    )


def _kind(value: object) -> str:
    """JSON-style name of a value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _checked(row: Mapping) -> dict:
    """``row`` with its values checked against the canonical types (RecordError if one is wrong)."""
    out = dict(row)
    for name in (*_ID_FIELDS, "text", "action"):
        value = out.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordError(f"{name} must be text, got {_kind(value)} {value!r:.60}")
    for name in ("event_id", "actor_id", "action"):
        if not out.get(name):
            raise RecordError(f"missing {name}")
    if out["action"] not in ev.ACTIONS:
        raise RecordError(f"unknown action {out['action']!r}")
    stamp = out.get("timestamp")
    if isinstance(stamp, str):
        try:
            stamp = datetime.fromisoformat(stamp)
        except ValueError:
            raise RecordError(f"malformed timestamp {stamp!r}") from None
    if not isinstance(stamp, datetime) or stamp.tzinfo is None:
        raise RecordError(f"timestamp must be a date and time with a time zone, got {stamp!r}")
    out["timestamp"] = utc(stamp, "timestamp", stamp)
    mentions = out.get("mentions")
    if mentions is None:
        out["mentions"] = []
    elif not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
        raise RecordError(f"mentions must be a list of account ids, got {mentions!r:.60}")
    elif not all(m.strip() for m in mentions):  # it would count as mentioning no one
        raise RecordError("empty mention (a mention names an account)")
    _check_nul(out)
    return out


def utc(stamp: datetime, name: str, value: object) -> datetime:
    """``stamp`` (aware) in UTC; a bad record when UTC moves it out of years 1-9999.

    ``0001-01-01T00:30:00+01:00`` is a valid time that :class:`datetime` cannot
    hold in UTC (it raises OverflowError, which would stop the read with a traceback).

    Examples
    --------
    >>> utc(datetime.fromisoformat("2024-05-01T14:00:00+02:00"), "timestamp", "").isoformat()
    '2024-05-01T12:00:00+00:00'
    >>> utc(datetime.fromisoformat("0001-01-01T00:30:00+01:00"), "CreationDate", "0001-01-01T00:30:00+01:00")
    Traceback (most recent call last):
    tribe_analysis.errors.RecordError: CreationDate out of range '0001-01-01T00:30:00+01:00' (years 1 to 9999 in UTC)
    """
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        raise utc_error(name, value) from None


def utc_error(name: str, value: object) -> RecordError:
    """The bad record of a time that UTC moves out of years 1-9999 (see :func:`utc`)."""
    return RecordError(f"{name} out of range {str(value)!r} (years 1 to 9999 in UTC)")


def _check_nul(row: Mapping) -> None:
    r"""A NUL in an id, the text or a mention (JSON ``\u0000``) makes the record bad.

    As in a canonical row: a NUL is binary data, never part of an id or a text. So
    is a lone surrogate (JSON ``\ud800`` without its pair): it is no character, and
    no UTF-8 text can hold it (the events table would refuse it with a traceback).
    """
    values = [(name, row.get(name) or "") for name in (*_ID_FIELDS, "text")]
    values += [("mentions", m) for m in row["mentions"]]
    nul = dict.fromkeys(name for name, value in values if "\x00" in value)
    lone: dict[str, str] = {}
    for name, value in values:
        if name not in lone and (found := _SURROGATE.search(value)) is not None:
            lone[name] = f"\\u{ord(found.group()):04x}"
    reasons = [f"NUL byte in {name} (binary data, not text)" for name in nul]
    reasons += [
        f"lone surrogate {code} in {name} (not Unicode text)" for name, code in lone.items()
    ]
    if reasons:
        raise RecordError("; ".join(reasons))


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A UTF-16 surrogate code point: JSON can escape one alone, UTF-8 cannot hold it."""


# --------------------------------------------------------------------------- paths


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, str | Path):
        paths = [paths]
    out = [Path(p) for p in paths]
    if not out:
        raise ValueError("no input files given")
    return out


def _check_paths(paths: Sequence[Path], what: str) -> None:
    """Raise EventsError for every path that is not a readable, non-empty file (any mode)."""
    problems = []
    for path in paths:
        if not path.exists():
            problems.append(ev.Problem(str(path), None, "no such file"))
            continue
        if path.is_dir():
            problems.append(
                ev.Problem(
                    str(path),
                    None,
                    f"is a directory, not a {what} file (pass the files inside it, e.g. {path}/*)",
                )
            )
            continue
        try:
            with path.open("rb") as fh:
                head = fh.read(_HEAD)
                more = fh.read(1)
        except OSError as exc:
            problems.append(ev.Problem(str(path), None, f"cannot read ({exc.strerror or exc})"))
            continue
        if not more and not head.strip():
            problems.append(ev.Problem(str(path), None, f"empty file (no {what} records)"))
        elif (problem := head_problem(path, head)) is not None:
            problems.append(problem)
    if problems:
        raise ev.EventsError(problems)


# --------------------------------------------------------------------------- reading text


def iter_lines(
    fh: BinaryIO, *, bom: bool = True, keepends: bool = False
) -> Iterator[tuple[int, bytes, int]]:
    r"""Yield ``(line number, line, size)`` for each line of a binary file, in bounded memory.

    ``line`` is without its line break (``\n`` or ``\r\n``) unless ``keepends``;
    ``size`` is the line's length in bytes. A line longer than
    :data:`MAX_RECORD_BYTES` is returned cut to :data:`KEPT_BYTES` (its ``size``
    tells), the rest read in pieces and dropped. With ``bom``, a UTF-8 byte-order
    mark at the start is dropped.

    Examples
    --------
    >>> import io
    >>> list(iter_lines(io.BytesIO(b"\xef\xbb\xbfa\r\nbc\n\nd")))
    [(1, b'a', 3), (2, b'bc', 3), (3, b'', 1), (4, b'd', 1)]
    """
    number = 0
    while True:
        line = fh.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        number += 1
        if number == 1 and bom and line.startswith(BOM):
            line = line[len(BOM) :]
        size = len(line)
        if size > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            line = line[:KEPT_BYTES]
            while True:
                more = fh.readline(_PIECE)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield number, line, size
            continue
        if line.endswith(b"\n") and not keepends:
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        yield number, line, size


def iter_json_lines(path: Path, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    """Yield ``(line number, raw line, object)`` for each JSON object line of ``path``.

    Blank lines are ignored. Lines that are not UTF-8, not JSON, not a JSON
    object, or longer than :data:`MAX_RECORD_BYTES` are counted as records and
    reported to ``sink``.
    """
    return sink.placed(path, _json_lines(path, sink), iter_json_lines)


def _json_lines(path: Path, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    with path.open("rb", buffering=LINE_BUFFER) as fh:
        for number, data, size in iter_lines(fh):
            if size > MAX_RECORD_BYTES:
                sink.reject(path, number, too_long(size), truncated(data, size))
                continue
            if not data.strip():
                continue
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = ev.not_utf8(data, exc)[1]
                sink.reject(path, number, reason, data.decode("utf-8", "replace"))
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                sink.reject(path, number, json_reason(exc.msg, f"column {exc.colno}"), raw)
                continue
            except (ValueError, RecursionError) as exc:  # over-long numbers, deep nesting
                sink.reject(path, number, f"invalid JSON ({_short(exc)})", raw)
                continue
            if not isinstance(obj, dict):
                sink.reject(path, number, "expected a JSON object on each line", raw)
                continue
            yield number, raw, obj


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Window:
    """A window of decoded text over a binary file, read in pieces (for JSON arrays).

    Text after a byte that is not UTF-8 is never decoded: the window ends there
    and :attr:`bad` says why.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.bad: str | None = None

    def more(self, at_least: int = _PIECE) -> bool:
        """Drop what was read and decode the next piece; False at the end (or a bad byte)."""
        if self.eof:
            return False
        data = self.fh.read(max(at_least, _PIECE))
        self.eof = not data
        rest = self.text[self.pos :]
        self.pos = 0
        try:
            self.text = rest + self.decoder.decode(data, final=self.eof)
        except UnicodeDecodeError as exc:
            self.text = rest + exc.object[: exc.start].decode("utf-8")
            column = len(self.text) - self.text.rfind("\n")
            self.bad = f"not UTF-8: byte 0x{exc.object[exc.start]:02x} at column {column}"
            self.eof = True
        return True

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.pos, to)
        self.pos = to

    def skip_space(self) -> str:
        """The next character after white space ('' at the end of the readable text)."""
        while True:
            stripped = len(self.text) - len(self.text[self.pos :].lstrip(" \t\r\n\ufeff"))
            self.advance(stripped)
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos : self.pos + 1]

    def stop(self, sink: Sink, path: Path, reason: str) -> None:
        """Report the rest of the file as one bad record (JSON cannot resume)."""
        reason = self.bad or reason
        note = "the rest of the file is not read"
        reason = f"{reason[:-1]}; {note})" if reason.endswith(")") else f"{reason} ({note})"
        rest = self.text[self.pos : self.pos + KEPT_BYTES].rstrip()
        sink.reject(path, self.line, reason, rest)


def iter_json_array(path: Path, sink: Sink, what: str) -> Iterator[tuple[int, str, object]]:
    """Yield ``(line, raw text, value)`` for each element of a file holding one JSON array.

    The file is read in pieces, so its size is not bounded; one element's is (at
    most :data:`MAX_RECORD_BYTES`). A file that is not a JSON array is one bad
    record. An element that is not UTF-8, not JSON, too long or not followed by
    ``,`` or ``]`` is one bad record holding the rest of the file (JSON cannot
    resume there), and so is anything after the array's closing ``]``. ``what`` names the elements in messages (``"messages"``).
    """
    with path.open("rb") as fh:
        window = _Window(fh)
        first = window.skip_space()
        if first != "[" and not window.bad:
            found = "empty file" if not first else "not a JSON array"
            text = window.text[window.pos : window.pos + KEPT_BYTES].rstrip()
            sink.reject(path, window.line, f"{found} (expected a JSON array of {what})", text)
            return
        if first != "[":
            window.stop(sink, path, "")
            return
        window.advance(window.pos + 1)
        if window.skip_space() == "]":
            _after_array(window, path, sink)
            return
        reread = partial(iter_json_array, what=what)
        yield from sink.placed(path, _elements(window, path, sink, what), reread)


def _after_array(window: _Window, path: Path, sink: Sink) -> None:
    """After the closing ``]`` (at ``window.pos``): anything but white space is one bad record.

    A second array or JSON lines appended to the file are reported, never dropped unseen.
    """
    window.advance(window.pos + 1)
    if window.skip_space() or window.bad:
        window.stop(sink, path, "invalid JSON (extra data after the closing ']' of the array)")


def _elements(window: _Window, path: Path, sink: Sink, what: str) -> Iterator[tuple]:
    """The elements of an array whose ``[`` was read (see :func:`iter_json_array`)."""
    decoder = json.JSONDecoder()
    while True:
        start = window.pos
        try:
            value, end = decoder.raw_decode(window.text, start)
            error = None
        except (ValueError, RecursionError) as exc:
            value, end, error = None, len(window.text), exc
        if end == len(window.text) and not window.eof:  # maybe cut by the end of the piece
            if len(window.text) - start <= MAX_RECORD_BYTES and window.more(len(window.text)):
                continue
        size = end - start
        if size > MAX_RECORD_BYTES:
            text = truncated(window.text[start : start + KEPT_BYTES].encode(), size)
            sink.reject(
                path, window.line, f"{too_long(size)}; the rest of the file is not read", text
            )
            return
        if error is not None:
            msg = getattr(error, "msg", None) or _short(error)
            at = window.line + window.text.count("\n", start, getattr(error, "pos", start))
            window.stop(sink, path, json_reason(msg, f"line {at}"))
            return
        yield window.line, window.text[start:end], value
        window.advance(end)
        following = window.skip_space()
        if following == ",":
            window.advance(window.pos + 1)
            window.skip_space()
            continue
        if following == "]":
            _after_array(window, path, sink)
            return
        window.stop(sink, path, f"invalid JSON (expected ',' or ']' after one of the {what})")
        return


def iter_csv_records(path: Path, sink: Sink) -> Iterator[tuple[int, str, list[str]]]:
    """Yield ``(first line, raw text, fields)`` for each record of a CSV file, header first.

    Quoted fields may hold line breaks and commas (RFC 4180, read with :mod:`csv`).
    A record that is not UTF-8, too long, or malformed (an unclosed quote, a
    stray quote) is counted and reported to ``sink``; blank lines are ignored. A
    malformed header stops the read (no record of the file can be understood).
    """
    if csv.field_size_limit() < MAX_RECORD_BYTES:
        csv.field_size_limit(MAX_RECORD_BYTES)
    lines: list[tuple[int, bytes, int]] = []

    def source() -> Iterator[str]:
        with path.open("rb") as fh:
            for number, data, size in iter_lines(fh):
                lines.append((number, data, size))
                yield data.decode("utf-8", "surrogateescape") + "\n"

    reader = csv.reader(source(), strict=True)
    while True:
        try:
            fields = next(reader)
            error = None
        except StopIteration:
            if lines:  # an unclosed quote ran to the end of the file
                _bad_csv(
                    sink, path, lines, "unclosed quote (the field runs to the end of the file)"
                )
            return
        except csv.Error as exc:
            fields, error = [], f"malformed CSV ({exc})"
            if str(exc) == "unexpected end of data":
                error = _UNCLOSED
        taken, lines[:] = list(lines), []
        if not taken or (error is None and not fields):
            continue  # a blank line
        if error is None:
            error = _csv_record_problem(taken)
        if error is not None and taken[0][0] == 1:
            raise ev.EventsError([ev.Problem(str(path), 1, f"unreadable CSV header ({error})")])
        if error is not None:
            _bad_csv(sink, path, taken, error)
            continue
        yield taken[0][0], "\n".join(d.decode("utf-8") for _, d, _ in taken), fields


_UNCLOSED = "unclosed quote (the field runs to the end of the file)"


def _csv_record_problem(lines: list[tuple[int, bytes, int]]) -> str | None:
    size = sum(s for _, _, s in lines)
    if size > MAX_RECORD_BYTES:
        return too_long(size)
    for _, data, _ in lines:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return ev.not_utf8(data, exc)[1]
    return None


def _bad_csv(sink: Sink, path: Path, lines: list[tuple[int, bytes, int]], reason: str) -> None:
    size = sum(s for _, _, s in lines)
    data = b"\n".join(d for _, d, _ in lines)
    text = truncated(data, size) if size > MAX_RECORD_BYTES else data.decode("utf-8", "replace")
    sink.reject(path, lines[0][0], reason, text)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class ReadResult:
    """A reader's output.

    Attributes
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events (:data:`tribe_analysis.events.SCHEMA`), threads and targets
        derived; a lazy frame over spilled files when read out of core
        (:func:`tribe_analysis.io.read` with ``spill``).
    platform : str
        Platform name (``twitter``, ``reddit``, ...).
    observability : dict
        Outgoing actions the platform exposes (``post``, ``reply``, ``share``,
        ``reaction`` -> bool); a measure built on a hidden signal is null.
    records_read, records_loaded : int
        Input records seen and loaded (``records_read == records_loaded + len(skipped)``).
    skipped : list of Skipped
        Records not loaded (``on_error="skip"``), with reasons and verbatim text.
    names : dict
        Display names by account id, collected in the read pass; empty for
        formats whose ids are already names (the same mapping as the reader's
        ``account_names(paths)``, used to label leaders in reports).
    notes : list of str
        What the reader inferred that the records do not say outright (e.g. the
        comment a Stack Exchange comment answers by ``@name``), with counts:
        ``profile`` prints them and keeps them in ``manifest.json``.
    """

    events: pl.DataFrame | pl.LazyFrame
    platform: str
    observability: dict[str, bool]
    records_read: int
    records_loaded: int
    skipped: list[Skipped]
    names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def finish(
    sink: Sink,
    platform: str,
    observability: Mapping[str, bool],
    *,
    sources: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
    links: Callable[[pl.DataFrame], tuple[pl.DataFrame, list[str]]] | None = None,
    notes: Sequence[str] = (),
) -> ReadResult:
    """Turn collected rows into canonical events, locating every derived problem.

    ``names`` are the display names the reader collected (:attr:`ReadResult.names`).
    ``links`` completes the rows' ``parent_id`` where the platform shows it only
    across records (Stack Exchange's ``@name`` replies between comments); it
    runs on the rows of distinct ids, before threads are derived, and returns them
    with notes on what it inferred. ``notes`` and those are
    :attr:`ReadResult.notes`.

    Rows carry ``_source``, ``_line`` and ``_record`` (where their record came
    from; :meth:`Sink.raw_texts` gives a record's text).
    An ``event_id`` seen twice (overlapping exports) is kept once, in both modes;
    a later record all of whose rows are such copies is reported in ``skipped``
    as ``duplicate id`` naming the first occurrence. Records whose ``parent_id``
    chain forms a cycle (or is too deep) stop a strict read at ``FILE:LINE``; in
    skip mode they are quarantined, each once, and the rest is loaded.
    """
    frame = sink.frame()
    if frame is None and not sink.skipped:
        where = ", ".join(sources) or "input"
        raise ev.EventsError([ev.Problem(where, None, f"no {platform} records found")])
    if frame is not None:
        frame = _drop_duplicates(frame, sink)
        if links is not None:
            frame, linked = links(frame)
            notes = [*notes, *linked]
    events = _derive_located(frame, sink, platform) if frame is not None else ev.empty_events()
    return ReadResult(
        events=events.with_columns(pl.lit(platform).alias("platform")),
        platform=platform,
        observability=dict(observability),
        records_read=sink.records,
        records_loaded=sink.records - len(sink.skipped),
        skipped=sink.skipped,
        names=dict(names or {}),
        notes=list(notes),
    )


def _drop_duplicates(frame: pl.DataFrame, sink: Sink) -> pl.DataFrame:
    """Keep the first row of each ``event_id``; report records that were copies only."""
    copy = pl.int_range(pl.len()).over("event_id") > 0
    if not frame.select(copy.any()).item():
        return frame
    frame = frame.with_columns(
        copy.alias("_copy"),
        pl.format(
            "{}:{}",
            pl.col("_source").first().over("event_id"),
            pl.col("_line").first().over("event_id"),
        ).alias("_first"),
    )
    copies = (
        frame.group_by("_record", maintain_order=True)
        .agg(pl.all().filter(pl.col("_copy")).first(), pl.col("_copy").all().alias("_all"))
        .filter(pl.col("_all"))
    )
    raws = sink.raw_texts(copies.get_column("_record"))
    for source, line, eid, where, record in copies.select(
        "_source", "_line", "event_id", "_first", "_record"
    ).iter_rows():
        reason = f"duplicate id '{eid}' (kept once; first at {where})"
        sink.skipped.append(Skipped(source, line, reason, raws[record]))
    return frame.filter(~pl.col("_copy")).drop("_copy", "_first")


def _derive_located(frame: pl.DataFrame, sink: Sink, platform: str) -> pl.DataFrame:
    """Threads and targets; cycles and too-deep chains are located by file and line.

    Strict: raise naming every record concerned. Skip: quarantine those records
    (each once, all its reasons) and derive again without them.
    """
    while True:
        events = ev.conform(frame, platform=platform)
        derived, cycle, deep = th._derive(events, th.MAX_THREAD_DEPTH)
        if not cycle.size and not deep.size:
            return ev.sort_events(derived)
        where = frame.select(
            pl.col("_source").alias("__source"),
            pl.col("_line").alias("__line"),
            pl.lit("line").alias("__unit"),
        )
        problems = th._derivation_problems(events, cycle, deep, th.MAX_THREAD_DEPTH, where)
        if sink.on_error == "strict":
            raise ev.EventsError(problems)
        order = np.concatenate([cycle, deep]).tolist()  # the order of ``problems``
        bad = frame[order].with_columns(pl.Series("_reason", [p.reason for p in problems]))
        links = dict(frame[cycle.tolist()].select("event_id", "parent_id").iter_rows())
        members = cycle_members(links)  # replies into a cycle load as orphans once it is gone
        bad = bad.filter(
            pl.col("event_id").is_in(list(members)) | ~pl.col("_reason").str.contains("cycle")
        )
        by_record = bad.group_by("_record", maintain_order=True).agg(
            pl.col("_source", "_line").first(), pl.col("_reason")
        )
        raws = sink.raw_texts(by_record.get_column("_record"))
        for source, line, record, reasons in by_record.select(
            "_source", "_line", "_record", "_reason"
        ).iter_rows():
            reason = "; ".join(dict.fromkeys(reasons))
            sink.skipped.append(Skipped(source, line, reason, raws[record]))
        frame = frame.filter(~pl.col("_record").is_in(by_record.get_column("_record").implode()))


def cycle_members(links: Mapping[str, str]) -> set[str]:
    """The ids on a cycle of ``links`` (id -> parent id), not those that only lead into one.

    Examples
    --------
    >>> sorted(cycle_members({"a": "b", "b": "a", "c": "a", "d": "d", "e": "x"}))
    ['a', 'b', 'd']
    """
    members: set[str] = set()
    done: set[str] = set()
    for start in links:
        path: dict[str, int] = {}
        node = start
        while node in links and node not in done and node not in path:
            path[node] = len(path)
            node = links[node]
        if node in path:  # the walk came back to itself: from there on is a cycle
            members.update(list(path)[path[node] :])
        done.update(path)
    return members
