r"""Where the records of a CSV or JSON-lines file are, found in bounded memory.

:func:`scan` reads a file in pieces and finds, with vectorised byte searches (no
Python loop per line), each record's first physical line and byte offset, and the
records that cannot be parsed: not UTF-8, longer than :data:`MAX_RECORD_BYTES`,
and for CSV (RFC 4180) a wrong number of fields, a stray quote in an unquoted
field or a quote left open at the end of the file. A JSON-lines record is one
line; a CSV record may span lines inside a quoted field. Blank lines are not
records. The canonical-events reader (:mod:`tribe_analysis.events`) then hands
only the well-formed records to polars and keeps every line number right.

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = path.write_bytes(b'\xef\xbb\xbfa,b\r\n"one\r\ntwo",2\r\n\r\n3\r\n4,"5""x",6\r\n')
>>> layout = scan(path, csv=True)
>>> layout.lines.tolist(), layout.blank.tolist(), layout.bad
([1, 2, 4, 5, 6], [2], {3: '1 field, expected 2 (as in the header)', 4: '3 fields, expected 2 (as in the header)'})
>>> record_text(path, layout, 1)
'"one\r\ntwo",2'
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "KEPT_BYTES",
    "MAX_RECORD_BYTES",
    "Layout",
    "head_problem",
    "record_bytes",
    "record_text",
    "scan",
    "too_long",
    "truncated",
]

MAX_RECORD_BYTES = 16 * 2**20
"""Largest record read (a line, a CSV record, an array element, an e-mail, an XML row)."""

KEPT_BYTES = 64 * 1024
"""Bytes of an over-long record kept in quarantine (a note replaces the rest)."""

BOM = b"\xef\xbb\xbf"
_PIECE = 16 * 2**20
_NL, _QUOTE, _COMMA, _CR = 10, 34, 44, 13
_SPACES = (32, 9, 13, 10)
_SPACE_BYTE = 32


_COMPRESSED = {
    b"\x1f\x8b": ("gzip", "gunzip"),
    b"\x28\xb5\x2f\xfd": ("Zstandard", "unzstd"),
    b"\xfd7zXZ\x00": ("xz", "unxz"),
    b"PK\x03\x04": ("a zip archive", "unzip"),
}
"""Magic bytes of compressed files (twarc and Pushshift dumps come compressed), and the tool
that opens each."""


def _compression(head: bytes) -> tuple[str, str] | None:
    """The compression of a file starting with ``head`` and the tool that opens it, or None."""
    for magic, found in _COMPRESSED.items():
        if head.startswith(magic):
            return found
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":  # not "BZh,..."
        return "bzip2", "bunzip2"
    return None


def head_problem(head: bytes) -> str | None:
    r"""Why a file whose first bytes are ``head`` is not UTF-8 text at all (UTF-16, binary), or None.

    Examples
    --------
    >>> head_problem(b"\x00\x00\x00"), head_problem(b"\xff\xfea\x00"), head_problem(b"ok")
    ('binary data, not text (a NUL byte at byte 1)', 'UTF-16 text (save the file as UTF-8)', None)
    >>> head_problem(b"\x1f\x8b\x08\x00")
    'compressed (gzip), not text: decompress it first (gunzip)'
    >>> head_problem(b"a,b\r1,2\r")
    'line breaks are carriage returns only (classic Mac OS): save the file with LF or CRLF line breaks'
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text (save the file as UTF-8)"
    packed = _compression(head)
    if packed is not None:
        return f"compressed ({packed[0]}), not text: decompress it first ({packed[1]})"
    nul = head.find(b"\x00", 0, 8192)
    if nul >= 0:
        return f"binary data, not text (a NUL byte at byte {nul + 1})"
    if b"\n" not in head and (head.count(b"\r") > 1 or head.endswith(b"\r")):
        return (
            "line breaks are carriage returns only (classic Mac OS): "
            "save the file with LF or CRLF line breaks"
        )
    return None


def too_long(size: int, *, complete: bool = True) -> str:
    """The reason given for a record over :data:`MAX_RECORD_BYTES` (``size`` bytes, or more)."""
    how = f"{size:,} bytes" if complete else f"over {size:,} bytes"
    return f"record too long ({how}; at most {MAX_RECORD_BYTES // 2**20} MiB per record)"


def truncated(head: bytes, size: int) -> str:
    """The quarantined text of an over-long record: its first :data:`KEPT_BYTES` and a note."""
    text = head[:KEPT_BYTES].decode("utf-8", "replace")
    return f"{text}\n[... truncated: {size:,} bytes in all, only the first {KEPT_BYTES:,} kept]"


@dataclass
class Layout:
    r"""The records of one text file.

    Attributes
    ----------
    lines : numpy.ndarray
        First physical line (1-based) of each record, increasing.
    starts : numpy.ndarray
        Byte offset where each record starts; ``size`` ends the last one.
    size : int
        Bytes read (the file's size when the scan ran to the end).
    blank : numpy.ndarray
        Indices of records that are blank lines (not records of the data).
    bad : dict
        Record index -> why it cannot be parsed.
    bom : int
        Length of the byte-order mark the file starts with (0 or 3).
    crlf : bool
        Whether records end with Windows line breaks (``\r\n``).
    complete : bool
        False when a ``stop_early`` scan stopped at a problem before the end.
    """

    lines: np.ndarray
    starts: np.ndarray
    size: int
    blank: np.ndarray
    bad: dict[int, str] = field(default_factory=dict)
    bom: int = 0
    crlf: bool = False
    complete: bool = True


@dataclass
class _State:
    """What a scan carries from one piece of the file to the next."""

    csv: bool
    offset: int = 0
    line: int = 1
    quotes: int = 0
    commas: int = 0
    start: int = 0
    start_line: int = 1
    last: int = _NL
    pending_close: int = -1
    last_literal: bool = False
    complete: bool = True
    crlf: bool = False
    lines: list[np.ndarray] = field(default_factory=list)
    starts: list[np.ndarray] = field(default_factory=list)
    fields: list[np.ndarray] = field(default_factory=list)
    blank: list[np.ndarray] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    strays: list[np.ndarray] = field(default_factory=list)
    maybe_blank: list[int] = field(default_factory=list)
    tail: bytes = b""


def scan(path: Path, *, csv: bool, stop_early: bool = False) -> Layout:
    """Find the records of a CSV (``csv=True``) or JSON-lines file; see the module docstring.

    With ``stop_early`` the scan stops after the first piece holding a problem (a
    strict read fails fast on a file that is one giant line).
    """
    with path.open("rb") as fh:
        bom = len(BOM) if fh.read(len(BOM)) == BOM else 0
        fh.seek(bom)
        state = _State(csv=csv, offset=bom, start=bom)
        while piece := fh.read(_PIECE):
            _scan_piece(state, piece)
            found = state.errors or any(s.size for s in state.strays)
            if stop_early and (found or state.offset - state.start > MAX_RECORD_BYTES):
                state.complete = not fh.read(1)  # stopped before the end?
                break
        return _layout(state, fh, bom)


def _scan_piece(state: _State, piece: bytes) -> None:
    """Record ends, line numbers, field counts, blank lines and problems in one piece."""
    data = np.frombuffer(piece, np.uint8)
    base = state.offset
    newlines = np.flatnonzero(data == _NL)
    if state.csv:  # only quotes, commas and line breaks matter: a cumulative count over those
        special = np.flatnonzero((data == _QUOTE) | (data == _COMMA) | (data == _NL))
        kind = data[special]
        is_quote = kind == _QUOTE
        quotes = special[is_quote]
        toggles = _toggling(state, data, quotes)
        flips = np.zeros(special.size, dtype=np.int64)
        flips[is_quote] = toggles
        inside = (np.cumsum(flips) + state.quotes) % 2 == 1  # after each special byte
        _stray_quotes(state, data, quotes, inside[is_quote], ~toggles)
        ends = special[(kind == _NL) & ~inside]
        counts = _commas(state, special[(kind == _COMMA) & ~inside], ends)
        state.fields.append(counts + 1)
        state.quotes += int(toggles.sum())
        state.last_literal = bool(quotes.size and not toggles[-1] and quotes[-1] == data.size - 1)
    else:
        ends = newlines
    if ends.size:
        starts = np.concatenate([[state.start], base + ends[:-1] + 1])
        next_lines = state.line + np.searchsorted(newlines, ends, side="right")
        length = base + ends - starts
        cr = np.where(ends > 0, data[np.maximum(ends - 1, 0)], state.last) == _CR
        state.crlf = state.crlf or bool(cr.any())
        if state.csv:
            state.blank.append((length == 0) | ((length == 1) & cr))
        else:  # a line is blank when it is empty or white space only (checked where it starts so)
            first = starts - base
            head = np.where(first >= 0, data[np.clip(first, 0, data.size - 1)], _SPACE_BYTE)
            maybe = (length == 0) | np.isin(head, _SPACES)
            state.blank.append(maybe)
            state.maybe_blank += starts[maybe].tolist()
        state.lines.append(np.concatenate([[state.start_line], next_lines[:-1]]))
        state.starts.append(starts)
        state.start, state.start_line = base + int(ends[-1]) + 1, int(next_lines[-1])
    _check_utf8(state, piece)
    state.line += newlines.size
    state.offset += len(piece)
    state.last = int(data[-1])


def _commas(state: _State, commas: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Commas outside quotes in each record ending in this piece (carried over pieces)."""
    before = np.searchsorted(commas, ends)
    counts = np.diff(before, prepend=0)
    if counts.size:
        counts[0] += state.commas
        state.commas = commas.size - int(before[-1])
    else:
        state.commas += commas.size
    return counts


def _toggling(state: _State, data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """Which quotes of a piece open or close a quoted field (the others are literal).

    A quote outside a quoted field opens one only at the start of a field (after a
    separator, a line break, or the quote that just closed the field: ``""``);
    elsewhere it is a stray quote and, as :mod:`csv` and polars read it, a literal
    character. So one stray quote makes its own record bad, not every record after
    it. Parity alone (every quote toggles) is right until the first stray quote: it
    is found, made literal, and the parity taken again from there.
    """
    toggles = np.ones(quotes.size, dtype=bool)
    if not quotes.size:
        return toggles
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], state.last)
    may_open = (before == _COMMA) | (before == _NL) | (before == _QUOTE)
    if state.last_literal and quotes[0] == 0:
        may_open[0] = False  # the quote before it (the last byte of the last piece) was literal
    start, parity = 0, state.quotes % 2
    for _ in range(64):  # vectorised rounds, one per stray quote
        rest = toggles[start:]
        outside = (np.cumsum(rest) - rest + parity) % 2 == 0  # before each quote
        stray = outside & ~may_open[start:]
        if not stray.any():
            return toggles
        k = start + int(np.argmax(stray))
        _make_literal(toggles, may_open, quotes, k)
        parity = (parity + int(toggles[start:k].sum())) % 2
        start = k + 1
    inside = parity == 1  # many stray quotes: the rest one at a time
    for k in range(start, quotes.size):
        if not inside and not may_open[k]:
            _make_literal(toggles, may_open, quotes, k)
        else:
            inside = not inside
    return toggles


def _make_literal(toggles: np.ndarray, may_open: np.ndarray, quotes: np.ndarray, k: int) -> None:
    """Quote ``k`` is literal; a quote right after it cannot open a field either."""
    toggles[k] = False
    if k + 1 < quotes.size and quotes[k + 1] == quotes[k] + 1:
        may_open[k + 1] = False


def _stray_quotes(
    state: _State, data: np.ndarray, quotes: np.ndarray, opening: np.ndarray, literal: np.ndarray
) -> None:
    """Literal quotes (in the middle of a field), and quotes closing a field not followed by a separator."""
    base = state.offset
    if state.pending_close >= 0 and data[0] not in (_COMMA, _NL, _CR, _QUOTE):
        state.strays.append(np.array([state.pending_close], dtype=np.int64))
    state.pending_close = -1
    if not quotes.size:
        return
    inside = quotes + 1 < data.size
    after = data[np.minimum(quotes + 1, data.size - 1)]
    follows = (after == _COMMA) | (after == _NL) | (after == _CR) | (after == _QUOTE)
    bad_close = ~opening & ~literal & inside & ~follows
    state.strays.append(base + quotes[literal | bad_close].astype(np.int64))
    if not opening[-1] and not literal[-1] and not inside[-1]:
        state.pending_close = base + int(quotes[-1])


_STRAY = 'stray quote in a field (quote the whole field and double inner quotes: "a ""b""")'


def _check_utf8(state: _State, piece: bytes) -> None:
    """Report each byte that is not UTF-8 (a Python loop over bad bytes only)."""
    data = memoryview(state.tail + piece)
    first = state.offset - len(state.tail)
    at = 0
    while True:
        try:
            _, consumed = codecs.utf_8_decode(data[at:], "strict", False)
        except UnicodeDecodeError as exc:
            start = at + exc.start
            state.errors.append((first + start, f"not UTF-8: byte 0x{data[start]:02x}"))
            at += exc.end
            continue
        state.tail = bytes(data[at + consumed :])
        return


def _layout(state: _State, fh, bom: int) -> Layout:
    """Close the last record and gather lines, starts, blank lines and problems."""
    size = state.offset
    lines = np.concatenate([*state.lines, np.empty(0, np.int64)]).astype(np.int64)
    starts = np.concatenate([*state.starts, np.empty(0, np.int64)]).astype(np.int64)
    fields = np.concatenate([*state.fields, np.empty(0, np.int64)]) if state.csv else None
    blank = np.concatenate([*state.blank, np.empty(0, bool)])
    if state.start < size:  # the last record has no line break
        lines = np.append(lines, state.start_line)
        starts = np.append(starts, state.start)
        if fields is not None:
            fields = np.append(fields, state.commas + 1)
        fh.seek(state.start)
        rest = fh.read(min(size - state.start, 2))
        blank = np.append(blank, rest == b"\r" if state.csv else True)
        if not state.csv:
            state.maybe_blank.append(state.start)
    if state.tail and state.complete:  # a multi-byte character cut by the end of the file
        state.errors.append((size - len(state.tail), f"not UTF-8: byte 0x{state.tail[0]:02x}"))
    if not state.csv and state.maybe_blank:  # white space only? (a Python check of a few lines)
        for start in state.maybe_blank:
            index = int(np.searchsorted(starts, start))
            end = int(starts[index + 1]) if index + 1 < starts.size else size
            fh.seek(start)
            blank[index] = end - start <= MAX_RECORD_BYTES and not fh.read(end - start).strip()
    layout = Layout(lines, starts, size, np.flatnonzero(blank), bom=bom, crlf=state.crlf)
    layout.complete = state.complete
    strays = np.concatenate([*state.strays, np.empty(0, np.int64)])
    at = np.maximum(np.searchsorted(starts, strays, side="right") - 1, 0)
    for index in np.unique(at).tolist():  # every record with a stray quote (vectorised)
        layout.bad[index] = _STRAY
    for position, reason in state.errors:  # bytes that are not UTF-8
        index = max(int(np.searchsorted(starts, position, side="right")) - 1, 0)
        column = position - _line_start(fh, position, int(starts[index])) + 1
        layout.bad.setdefault(index, f"{reason} at column {column}")
    spans = np.diff(np.append(starts, size))  # bytes of each record with its line break
    for index in np.flatnonzero(spans > MAX_RECORD_BYTES + 1).tolist():
        layout.bad.setdefault(index, too_long(int(spans[index]), complete=state.complete))
    if state.complete and state.csv and state.quotes % 2:
        reason = "unclosed quote (the field runs to the end of the file)"
        layout.bad.setdefault(lines.size - 1, reason)
    if fields is not None and fields.size:  # (a scan stopped early does not judge its last record)
        _ragged(layout, fields if state.complete or state.start >= size else fields[:-1])
    return layout


def _line_start(fh, position: int, floor: int) -> int:
    """Offset of the start of the physical line holding ``position`` (error path)."""
    low = max(floor, position - 65536)
    fh.seek(low)
    cut = fh.read(position - low).rfind(b"\n")
    return low + cut + 1 if cut >= 0 else low


def _ragged(layout: Layout, fields: np.ndarray) -> None:
    """Records whose number of fields differs from the header's."""
    expected = int(fields[0])
    wrong = np.flatnonzero(fields != expected)
    for index in np.setdiff1d(wrong, layout.blank).tolist():
        n = int(fields[index])
        noun = "field" if n == 1 else "fields"
        layout.bad.setdefault(index, f"{n} {noun}, expected {expected} (as in the header)")


def record_bytes(path: Path, layout: Layout, index: int) -> tuple[bytes, int]:
    """The bytes of record ``index`` without its line break (cut to :data:`KEPT_BYTES` when over the limit), and its size."""
    start = int(layout.starts[index])
    end = int(layout.starts[index + 1]) if index + 1 < layout.starts.size else layout.size
    size = end - start
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read(min(size, KEPT_BYTES) if size > MAX_RECORD_BYTES else size)
    if size <= MAX_RECORD_BYTES:
        data = data.removesuffix(b"\n").removesuffix(b"\r")
    return data, size


def record_text(path: Path, layout: Layout, index: int) -> str:
    """Record ``index`` as text for quarantine (verbatim; an over-long one cut, with a note)."""
    data, size = record_bytes(path, layout, index)
    if size > MAX_RECORD_BYTES:
        return truncated(data, size)
    return data.decode("utf-8", "replace")
